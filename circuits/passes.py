"""Circuit passes: plain functions Circuit -> Circuit that keep ports, parties and semantics.

- :func:`simplify` re-emits every gate in order through the Builder (with NOT gates left in
  place), which folds constants (``x ^ 0``, ``x ^ 1``, ``x & 0``, ``x & 1``, ``x ^ x``,
  ``x & x``, ``x & ~x``, ``~~x``) and hash-conses, so constant folding and deduplication
  happen in one compiled pass (:mod:`.rehash`); :func:`fold_constants`
  and :func:`deduplicate` are that pass under the names callers look for.
- :func:`remove_dead` drops gates that reach no output (a compiled reverse sweep, then
  vectorized renumbering).
- :func:`optimize` runs both to a fixpoint.
"""

from __future__ import annotations

import numpy as np

from .builder import assemble
from .circuit import Circuit, OutputPort, Op
from .rehash import INPUT, live_mask, rehash

_MAX_ROUNDS = 8


def simplify(circuit: Circuit) -> Circuit:
    """Constant folding and deduplication in one compiled pass (the Builder's rules, NOT
    gates left in place); dead gates are removed too."""
    op, a, b = to_builder_space(circuit)
    nop, na, nb, m = rehash(op, a, b, push_not=False)
    n_in = circuit.n_inputs
    inputs = [(p.party, p.name, p.type, m[p.wires + 2]) for p in circuit.inputs]
    outputs = [(o.recipients, o.name, o.type, m[o.wires + 2]) for o in circuit.outputs]
    return compact(circuit.name, circuit._declared_parties or (), nop, na, nb, inputs, outputs)


def to_builder_space(circuit: Circuit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gate arrays with the two constant wires in front and the inputs as INPUT nodes:
    circuit wire w is builder-space wire w + 2."""
    n_in = circuit.n_inputs
    head = np.full(2 + n_in, -1, dtype=np.int64)
    op = np.concatenate([np.array([_C0, _C1], dtype=np.uint8),
                         np.full(n_in, INPUT, dtype=np.uint8), circuit.op])
    a = np.concatenate([head, np.where(circuit.in0 >= 0, circuit.in0 + 2, -1)])
    b = np.concatenate([head, np.where(circuit.in1 >= 0, circuit.in1 + 2, -1)])
    return op, a, b


def compact(name: str, parties, op: np.ndarray, a: np.ndarray, b: np.ndarray,
            inputs: list, outputs: list, by_level: bool = False) -> Circuit:
    """Assemble a Circuit from builder-space arrays without the gates no output reads (by
    AND-depth if ``by_level``: see :func:`~.builder.assemble`)."""
    roots = [np.asarray(ws, dtype=np.int64) for (_, _, _, ws) in outputs]
    roots = np.concatenate(roots) if roots else np.zeros(0, dtype=np.int64)
    return assemble(name, parties, op, a, b, inputs, outputs, keep=live_mask(op, a, b, roots),
                    by_level=by_level)


_XOR, _AND, _NOT = int(Op.XOR), int(Op.AND), int(Op.NOT)
_C0, _C1 = int(Op.CONST0), int(Op.CONST1)


fold_constants = simplify
deduplicate = simplify


def live_gates(circuit: Circuit) -> np.ndarray:
    """Boolean mask over the gates: True where the gate reaches some output."""
    n_in = circuit.n_inputs
    roots = [o.wires for o in circuit.outputs]
    roots = np.concatenate(roots) if roots else np.zeros(0, dtype=np.int64)
    op = np.concatenate([np.full(n_in, INPUT, dtype=np.uint8), circuit.op])
    a = np.concatenate([np.full(n_in, -1, dtype=np.int64), circuit.in0])
    b = np.concatenate([np.full(n_in, -1, dtype=np.int64), circuit.in1])
    return live_mask(op, a, b, roots)[n_in:]


def remove_dead(circuit: Circuit) -> Circuit:
    """The circuit without the gates that reach no output."""
    keep = live_gates(circuit)
    if keep.all():
        return circuit
    n_in = circuit.n_inputs
    kept = np.flatnonzero(keep)
    new = np.full(circuit.n_wires, -1, dtype=np.int64)
    new[:n_in] = np.arange(n_in)
    new[n_in + kept] = n_in + np.arange(kept.size)
    in0, in1 = circuit.in0[kept], circuit.in1[kept]
    in0 = np.where(in0 >= 0, new[np.maximum(in0, 0)], -1)
    in1 = np.where(in1 >= 0, new[np.maximum(in1, 0)], -1)
    outputs = [OutputPort(o.recipients, o.name, o.type, new[o.wires]) for o in circuit.outputs]
    return Circuit(n_in, circuit.op[kept], in0, in1, circuit.inputs, outputs, circuit.name,
                   circuit._declared_parties)


def optimize(circuit: Circuit) -> Circuit:
    """Simplify and remove dead gates until neither the AND count nor the gate count shrinks."""
    best = remove_dead(circuit)
    for _ in range(_MAX_ROUNDS):
        c = simplify(best)
        before, after = (best.count(Op.AND), best.n_gates), (c.count(Op.AND), c.n_gates)
        if after > before:
            break
        best = c
        if after == before:
            break
    return best
