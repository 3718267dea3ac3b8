"""Circuit passes: plain functions Circuit -> Circuit that keep ports, parties and semantics.

- :func:`simplify` re-emits every gate in order through the Builder (with NOT gates left in
  place), which folds constants (``x ^ 0``, ``x ^ 1``, ``x & 0``, ``x & 1``, ``x ^ x``,
  ``x & x``, ``x & ~x``, ``~~x``) and hash-conses, so constant folding and deduplication
  happen in one pass of about 1 µs per gate; :func:`fold_constants`
  and :func:`deduplicate` are that pass under the names callers look for.
- :func:`remove_dead` drops gates that reach no output (a reverse sweep, then vectorized
  renumbering).
- :func:`optimize` runs both to a fixpoint.
"""

from __future__ import annotations

import numpy as np

from .builder import ONE, ZERO, Builder
from .circuit import Circuit, OutputPort, Op

_MAX_ROUNDS = 8


def simplify(circuit: Circuit) -> Circuit:
    """Constant folding and deduplication in one rebuild; dead gates are removed too."""
    b = Builder(circuit.name, circuit._declared_parties or (), push_not=False)
    m: list[int] = []
    for p in circuit.inputs:
        m += b.input(p.party, p.name, p.type)
    push = m.append
    xor, and_, not_ = b.xor, b.and_, b.not_
    for o, x, y in zip(circuit.op.tolist(), circuit.in0.tolist(), circuit.in1.tolist()):
        if o == _XOR:
            push(xor(m[x], m[y]))
        elif o == _AND:
            push(and_(m[x], m[y]))
        elif o == _NOT:
            push(not_(m[x]))
        else:
            push(ZERO if o == Op.CONST0 else ONE)
    for o in circuit.outputs:
        b.output(o.recipients, o.name, o.type, [m[w] for w in o.wires.tolist()])
    return remove_dead(b.build())


_XOR, _AND, _NOT = int(Op.XOR), int(Op.AND), int(Op.NOT)


fold_constants = simplify
deduplicate = simplify


def live_gates(circuit: Circuit) -> np.ndarray:
    """Boolean mask over the gates: True where the gate reaches some output."""
    n_in, n = circuit.n_inputs, circuit.n_gates
    live = bytearray(n_in + n)
    for o in circuit.outputs:
        for w in o.wires.tolist():
            live[w] = 1
    a, b = circuit.in0.tolist(), circuit.in1.tolist()
    for k in range(n - 1, -1, -1):
        if live[n_in + k]:
            if a[k] >= 0:
                live[a[k]] = 1
            if b[k] >= 0:
                live[b[k]] = 1
    return np.frombuffer(bytes(live), dtype=np.uint8)[n_in:].astype(bool)


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
