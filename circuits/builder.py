"""Builder: emits gates into a new Circuit, folding constants and hash-consing as it goes.

Every wire the builder hands out is an int. ``ZERO`` and ``ONE`` are the constant wires. The
builder never emits the same gate twice (operands of XOR and AND are ordered before lookup),
folds XOR/AND with a constant, ``x ^ x``, ``x & x``, ``x & ~x`` and double negation, and keeps
NOT on the outside of XOR (``~a ^ b`` becomes ``~(a ^ b)``) so that equal functions of the same
wires meet in the hash table.

``build()`` numbers the input bits first in port order and the gates after them in emission
order; gates that reach no output stay until :func:`yaogc.circuits.passes.remove_dead` runs.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .circuit import Circuit, CircuitError, InputPort, Op, OutputPort
from .types import ValueType

ZERO = 0
ONE = 1
_INPUT = 255
_XOR, _AND, _NOT = int(Op.XOR), int(Op.AND), int(Op.NOT)


class Builder:
    """``push_not=False`` leaves NOT gates where they are (``~a ^ b`` stays as written): right
    when re-emitting an existing circuit, where one NOT feeding many XORs would otherwise
    become one NOT per XOR."""

    def __init__(self, name: str = "circuit", parties: Sequence[str] = (),
                 push_not: bool = True):
        self.name = name
        self.parties = tuple(parties)
        self._push_not = push_not
        self._op: list[int] = [int(Op.CONST0), int(Op.CONST1)]
        self._a: list[int] = [-1, -1]
        self._b: list[int] = [-1, -1]
        # AND-depth of every wire, kept as gates are emitted: the word library picks operands
        # by depth, and walking the graph for it each time dominated compile time
        self._lev: list[int] = [0, 0]
        self._memo: dict[int, int] = {}
        self._inputs: list[tuple[str, str, ValueType, list[int]]] = []
        self._outputs: list[tuple[tuple[str, ...], str, ValueType, list[int]]] = []
        self._names: set[str] = set()
        self._out_names: set[str] = set()

    # --- inputs and outputs -------------------------------------------------------------
    def input(self, party: str, name: str, type: ValueType) -> list[int]:
        """Declare an input port; returns its wires, bit 0 first."""
        if name in self._names:
            raise CircuitError(f"input port '{name}' is declared twice")
        self._names.add(name)
        start = len(self._op)
        n = type.width
        self._op.extend([_INPUT] * n)
        self._a.extend([-1] * n)
        self._b.extend([-1] * n)
        self._lev.extend([0] * n)
        wires = list(range(start, start + n))
        self._inputs.append((party, name, type, wires))
        return wires

    def output(self, recipients: str | Iterable[str], name: str, type: ValueType,
               wires: Sequence[int]) -> None:
        if isinstance(recipients, str):
            recipients = (recipients,)
        if name in self._out_names:
            raise CircuitError(f"output port '{name}' is declared twice")
        if len(wires) != type.width:
            raise CircuitError(f"output port '{name}': type {type} has {type.width} bits, "
                               f"got {len(wires)} wires")
        self._out_names.add(name)
        self._outputs.append((tuple(recipients), name, type, list(wires)))

    # --- gates ---------------------------------------------------------------------------
    def _emit(self, op: int, a: int, b: int) -> int:
        # one int per gate as the hash key: a tuple per gate cost more memory than the gate
        key = (((a << 32) | (b + 1)) << 2) | op
        w = self._memo.get(key)
        if w is None:
            w = len(self._op)
            self._op.append(op)
            self._a.append(a)
            self._b.append(b)
            lev = self._lev
            if op == _NOT:
                lev.append(lev[a])
            else:
                la, lb = lev[a], lev[b]
                lev.append((la if la > lb else lb) + (op == _AND))
            self._memo[key] = w
        return w

    def const(self, bit: int | bool) -> int:
        return ONE if bit else ZERO

    def not_(self, a: int) -> int:
        if a <= ONE:
            return ONE - a
        if self._op[a] == _NOT:
            return self._a[a]
        return self._emit(_NOT, a, -1)

    def xor(self, a: int, b: int) -> int:
        if a <= ONE:
            return self.not_(b) if a else b
        if b <= ONE:
            return self.not_(a) if b else a
        op = self._op
        inv = 0
        if not self._push_not:
            if a == b:
                return ZERO
            if (op[a] == _NOT and self._a[a] == b) or (op[b] == _NOT and self._a[b] == a):
                return ONE
        else:
            if op[a] == _NOT:
                a = self._a[a]
                inv = 1
            if op[b] == _NOT:
                b = self._a[b]
                inv ^= 1
            if a == b:
                return ONE if inv else ZERO
        if a > b:
            a, b = b, a
        w = self._emit(_XOR, a, b)
        return self.not_(w) if inv else w

    def and_(self, a: int, b: int) -> int:
        if a <= ONE:
            return b if a else ZERO
        if b <= ONE:
            return a if b else ZERO
        if a == b:
            return a
        op = self._op
        if (op[a] == _NOT and self._a[a] == b) or (op[b] == _NOT and self._a[b] == a):
            return ZERO
        if a > b:
            a, b = b, a
        return self._emit(_AND, a, b)

    def or_(self, a: int, b: int) -> int:
        """a | b with one AND: ~(~a & ~b)."""
        return self.not_(self.and_(self.not_(a), self.not_(b)))

    def mux(self, c: int, x: int, y: int) -> int:
        """c ? x : y with one AND: y ^ (c & (x ^ y))."""
        return self.xor(y, self.and_(c, self.xor(x, y)))

    def is_const(self, w: int) -> bool:
        return w <= ONE

    def gate(self, w: int) -> tuple[Op | None, int, int]:
        """(op, in0, in1) of a builder wire; op is None for an input bit."""
        o = self._op[w]
        return (None if o == _INPUT else Op(o)), self._a[w], self._b[w]

    def and_level(self, w: int) -> int:
        """AND-depth of a builder wire (inputs and constants are 0)."""
        return self._lev[w]

    @property
    def n_and(self) -> int:
        """AND gates emitted so far (including any that may later turn out dead)."""
        return sum(1 for o in self._op if o == _AND)

    # --- finishing -------------------------------------------------------------------------
    def gate_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(op, a, b) of every wire so far, in builder space (see :func:`assemble`)."""
        return (np.array(self._op, dtype=np.uint8), np.array(self._a, dtype=np.int64),
                np.array(self._b, dtype=np.int64))

    def build(self) -> Circuit:
        return assemble(self.name, self.parties, *self.gate_arrays(), self._inputs,
                        self._outputs)


def assemble(name: str, parties: Sequence[str], op: np.ndarray, a: np.ndarray, b: np.ndarray,
             inputs: Sequence[tuple], outputs: Sequence[tuple],
             keep: np.ndarray | None = None, by_level: bool = False) -> Circuit:
    """A Circuit from builder-space gate arrays (wire 0 and 1 the constants, input bits with
    op ``INPUT``): input bits first in port order, then the gates in array order (only those
    ``keep`` marks, if given), then a constant gate for each constant an output names.
    ``inputs`` are ``(party, name, type, wires)`` and ``outputs`` ``(recipients, name, type,
    wires)`` in builder space.

    ``by_level``: the gates by AND-depth instead, in array order within a depth. The
    Schedule and the engines walk a circuit depth by depth; a circuit numbered so reads the
    gates of a depth, and the wires they read, from neighbouring memory rather than from all
    over the arrays (a large compiled program's gates come template by template): measured on
    hospital_stats N=5000 (41M gates), the Schedule took 6.1-7.9 s instead of 8.0-8.9 s, on
    count_above N=20000 0.33 s instead of 0.46-0.51 s."""
    from . import jit
    from .rehash import number_gates, wire_array, write_gates
    n_nodes = op.size
    in_nodes = np.concatenate([np.asarray(ws, dtype=np.int64) for (_, _, _, ws) in inputs]) \
        if inputs else np.zeros(0, dtype=np.int64)
    n_in = in_nodes.size
    used_consts = sorted({int(w) for (_, _, _, ws) in outputs
                          for w in np.asarray(ws, dtype=np.int64).tolist() if w <= ONE})
    op = np.ascontiguousarray(op, dtype=np.uint8)
    a, b = wire_array(a), wire_array(b)
    keep = np.ones(n_nodes, dtype=np.bool_) if keep is None else keep
    new = np.full(n_nodes, -1, dtype=np.int64)
    new[in_nodes] = np.arange(n_in)
    jit.use_compiled(n_nodes, "yaogc.circuits.rehash")
    if by_level:
        from .rehash import number_by_level
        n_g = number_by_level(op, a, b, keep, np.empty(n_nodes, dtype=np.int32), new, n_in)
    else:
        n_g = number_gates(op, keep, new, n_in)
    g_op = np.empty(n_g + len(used_consts), dtype=np.uint8)
    out_a = np.full(n_g + len(used_consts), -1, dtype=np.int64)
    out_b = np.full(n_g + len(used_consts), -1, dtype=np.int64)
    for i, c in enumerate(used_consts):
        new[c] = n_in + n_g + i
        g_op[n_g + i] = int(Op.CONST0) if c == ZERO else int(Op.CONST1)
    write_gates(op, a, b, keep, new, n_in, g_op, out_a, out_b)
    ins, pos = [], 0
    for party, pname, t, ws in inputs:
        k = len(ws)
        ins.append(InputPort(party, pname, t, np.arange(pos, pos + k)))
        pos += k
    outs = [OutputPort(r, oname, t, new[np.asarray(ws, dtype=np.int64)])
            for r, oname, t, ws in outputs]
    return Circuit.adopt(n_in, g_op, out_a, out_b, ins, outs, name, parties)
