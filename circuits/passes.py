"""Circuit passes: plain functions Circuit -> Circuit that keep ports, parties and semantics.

- :func:`simplify` re-emits every gate in order through a small emitter that folds constants
  (``x ^ 0``, ``x ^ 1``, ``x & 0``, ``x & 1``, ``x ^ x``, ``x & x``, ``x & ~x``, ``~~x``) and
  hash-conses (one gate per distinct (op, operands), XOR/AND operands ordered), so constant
  folding and deduplication happen in one pass of about 1 µs per gate; :func:`fold_constants`
  and :func:`deduplicate` are that pass under the names callers look for.
- :func:`remove_dead` drops gates that reach no output (a reverse sweep, then vectorized
  renumbering).
- :func:`optimize` runs both to a fixpoint.
"""

from __future__ import annotations

import numpy as np

from .builder import ONE, ZERO
from .circuit import Circuit, OutputPort, Op

_MAX_ROUNDS = 8


class _Emitter:
    """Gate emission with folding and hash-consing that leaves NOT gates where they are.

    (The Builder moves NOT outside XOR, which is right for fresh code but can multiply the
    NOT gates of an existing circuit: one INV feeding many XORs would become one NOT per XOR.)
    Nodes 0 and 1 are the constants; inputs and gates follow, each gate after its operands.
    """

    def __init__(self, n_inputs: int):
        self.op = [int(Op.CONST0), int(Op.CONST1)] + [-1] * n_inputs
        self.a = [-1] * (n_inputs + 2)
        self.b = [-1] * (n_inputs + 2)
        self.memo: dict[tuple[int, int, int], int] = {}

    def emit(self, o: int, x: int, y: int) -> int:
        key = (o, x, y)
        w = self.memo.get(key)
        if w is None:
            w = self.memo[key] = len(self.op)
            self.op.append(o)
            self.a.append(x)
            self.b.append(y)
        return w

    def is_not_of(self, x: int, y: int) -> bool:
        return (self.op[x] == _NOT and self.a[x] == y) or (self.op[y] == _NOT and self.a[y] == x)

    def not_(self, x: int) -> int:
        if x <= ONE:
            return ONE - x
        if self.op[x] == _NOT:
            return self.a[x]
        return self.emit(_NOT, x, -1)

    def xor(self, x: int, y: int) -> int:
        if x <= ONE or y <= ONE:
            c, other = (x, y) if x <= ONE else (y, x)
            return self.not_(other) if c == ONE else other
        if x == y:
            return ZERO
        if self.is_not_of(x, y):
            return ONE
        return self.emit(_XOR, min(x, y), max(x, y))

    def and_(self, x: int, y: int) -> int:
        if x <= ONE or y <= ONE:
            c, other = (x, y) if x <= ONE else (y, x)
            return other if c == ONE else ZERO
        if x == y:
            return x
        if self.is_not_of(x, y):
            return ZERO
        return self.emit(_AND, min(x, y), max(x, y))


_XOR, _AND, _NOT = int(Op.XOR), int(Op.AND), int(Op.NOT)


def simplify(circuit: Circuit) -> Circuit:
    """Constant folding and deduplication in one rebuild; dead gates are removed too."""
    n_in = circuit.n_inputs
    e = _Emitter(n_in)
    m = list(range(2, n_in + 2))
    push = m.append
    xor, and_, not_ = e.xor, e.and_, e.not_
    for o, x, y in zip(circuit.op.tolist(), circuit.in0.tolist(), circuit.in1.tolist()):
        if o == _XOR:
            push(xor(m[x], m[y]))
        elif o == _AND:
            push(and_(m[x], m[y]))
        elif o == _NOT:
            push(not_(m[x]))
        else:
            push(ZERO if o == Op.CONST0 else ONE)
    # node -> new wire: inputs first, then gates in emission order, then the constants used
    op = np.array(e.op, dtype=np.int64)
    is_gate = op.copy()
    is_gate[:n_in + 2] = -1
    gates = np.flatnonzero(is_gate >= 0)
    out_nodes = np.array([m[w] for o in circuit.outputs for w in o.wires.tolist()], dtype=np.int64)
    consts = [c for c in (ZERO, ONE) if (out_nodes == c).any()]
    new = np.full(op.size, -1, dtype=np.int64)
    new[2:n_in + 2] = np.arange(n_in)
    new[gates] = n_in + np.arange(gates.size)
    for k, c in enumerate(consts):
        new[c] = n_in + gates.size + k
    a = np.array(e.a, dtype=np.int64)[gates]
    b = np.array(e.b, dtype=np.int64)[gates]
    g_op = np.concatenate([op[gates], np.array(consts, dtype=np.int64)
                           + int(Op.CONST0)]).astype(np.uint8)
    in0 = np.concatenate([np.where(a >= 0, new[np.maximum(a, 0)], -1), -np.ones(len(consts))])
    in1 = np.concatenate([np.where(b >= 0, new[np.maximum(b, 0)], -1), -np.ones(len(consts))])
    outputs, pos = [], 0
    for o in circuit.outputs:
        outputs.append(OutputPort(o.recipients, o.name, o.type, new[out_nodes[pos:pos + o.width]]))
        pos += o.width
    return remove_dead(Circuit(n_in, g_op, in0, in1, circuit.inputs, outputs, circuit.name,
                               circuit._declared_parties))


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
