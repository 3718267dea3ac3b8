"""The Circuit: an immutable Boolean netlist in SSA form, the contract between all stages.

Wires ``0 .. n_inputs-1`` are the input bits in port order; gate ``k`` writes wire
``n_inputs + k``, so the gate arrays are already in topological order. Gates are held in three
numpy arrays ``op``, ``in0``, ``in1`` (unused operands are -1). Ops: XOR, AND (two operands),
NOT (one), CONST0 and CONST1 (none).

Input ports ``(party, name, type, wires)`` cover the input wires contiguously and in order;
output ports ``(recipients, name, type, wires)`` name any wires, in the type's bit order.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property
from typing import Sequence

import numpy as np

from . import jit
from .errors import InputError
from .jit import kernel
from .types import ValueType, uint


class Op(IntEnum):
    XOR = 0
    AND = 1
    NOT = 2
    CONST0 = 3
    CONST1 = 4


# gates Circuit.check looks at a time, and from how many gates it runs compiled
_CHECK_BLOCK = 1 << 20
CHECK_COMPILED_FROM = 1 << 22


class CircuitError(InputError):
    """A malformed circuit; the message names the gate or port."""


def _frozen(a: Sequence[int] | np.ndarray, dtype=np.int64) -> np.ndarray:
    arr = np.array(a, dtype=dtype)
    if arr.ndim != 1:
        arr = arr.reshape(-1).copy()    # an array of its own, not a view (see _owned)
    arr.flags.writeable = False
    return arr


def _owned(a: np.ndarray, dtype=np.int64) -> np.ndarray:
    """``a`` itself, made read-only, where it is a 1-D array of ``dtype`` that owns its
    memory (no other array views it); else a copy (:func:`_frozen`)."""
    if isinstance(a, np.ndarray) and a.dtype == dtype and a.ndim == 1 and a.base is None \
            and a.flags.c_contiguous:
        a.flags.writeable = False
        return a
    return _frozen(a, dtype)


@dataclass(frozen=True)
class InputPort:
    party: str
    name: str
    type: ValueType
    wires: np.ndarray = field(compare=False)

    def __post_init__(self):
        object.__setattr__(self, "wires", _frozen(self.wires))

    @property
    def width(self) -> int:
        return int(self.wires.size)


@dataclass(frozen=True)
class OutputPort:
    recipients: tuple[str, ...]
    name: str
    type: ValueType
    wires: np.ndarray = field(compare=False)

    def __post_init__(self):
        object.__setattr__(self, "recipients", tuple(self.recipients))
        object.__setattr__(self, "wires", _frozen(self.wires))

    @property
    def width(self) -> int:
        return int(self.wires.size)


@kernel
def _first_bad_operand(op, arr, n_in, last_op):
    """The first gate whose operand in ``arr`` is wrong, else -1: one its op reads (op <=
    last_op) that is no wire set before the gate, or one it does not read that is not -1."""
    for k in range(op.size):
        v = arr[k]
        if op[k] <= last_op:
            if v < 0 or v >= n_in + k:
                return k
        elif v != -1:
            return k
    return -1


def load_check_kernel() -> None:
    """Start loading :meth:`Circuit.check`'s compiled pass on another thread (a large
    circuit is about to be read, and checked)."""
    def first_call():
        op, arr = np.zeros(1, dtype=np.uint8), np.full(1, -1, dtype=np.int64)
        op.flags.writeable = arr.flags.writeable = False    # as a Circuit's arrays are
        _first_bad_operand(op, arr, 1, int(Op.AND))
    jit.load_in_background(__name__, first_call)


class Circuit:
    """An immutable netlist. Build one with :class:`yaogc.circuits.Builder` or a reader."""

    def __init__(self, n_inputs: int, op, in0, in1,
                 inputs: Sequence[InputPort], outputs: Sequence[OutputPort],
                 name: str = "circuit", parties: Sequence[str] | None = None):
        self._take(n_inputs, _frozen(op, np.uint8), _frozen(in0), _frozen(in1), inputs,
                   outputs, name, parties)

    def _take(self, n_inputs, op, in0, in1, inputs, outputs, name, parties) -> None:
        self.n_inputs = int(n_inputs)
        self.op, self.in0, self.in1 = op, in0, in1
        self.inputs = tuple(inputs)
        self.outputs = tuple(outputs)
        self.name = name
        self._declared_parties = tuple(parties) if parties else None

    @classmethod
    def adopt(cls, n_inputs: int, op: np.ndarray, in0: np.ndarray, in1: np.ndarray,
              inputs: Sequence[InputPort], outputs: Sequence[OutputPort],
              name: str = "circuit", parties: Sequence[str] | None = None) -> "Circuit":
        """A Circuit that keeps the gate arrays it is given (made read-only) instead of
        copies, for a reader or pass that made them for it and keeps no other reference to
        them (a netlist of 40M gates is 700 MB to copy). An array that does not own its
        memory, or of another type, is copied as the constructor does."""
        c = cls.__new__(cls)
        c._take(n_inputs, _owned(op, np.uint8), _owned(in0), _owned(in1), inputs, outputs,
                name, parties)
        return c

    @property
    def n_gates(self) -> int:
        return int(self.op.size)

    @property
    def n_wires(self) -> int:
        return self.n_inputs + self.n_gates

    @property
    def parties(self) -> tuple[str, ...]:
        """The parties in declaration order (a program's ``party`` line), else in the order
        ports first name them. The runtime lets the first one garble by default."""
        seen: dict[str, None] = dict.fromkeys(self._declared_parties or ())
        for p in self.inputs:
            seen[p.party] = None
        for o in self.outputs:
            for r in o.recipients:
                seen[r] = None
        return tuple(seen)

    def input(self, name: str) -> InputPort:
        for p in self.inputs:
            if p.name == name:
                return p
        raise KeyError(name)

    def output(self, name: str) -> OutputPort:
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(name)

    def count(self, op: Op) -> int:
        return int(np.count_nonzero(self.op == op))

    @cached_property
    def and_depth(self) -> int:
        """Largest number of AND gates on any input-to-output path."""
        return int(self.and_levels.max(initial=0))

    @cached_property
    def and_levels(self) -> np.ndarray:
        """AND-depth of every wire (inputs and constants 0)."""
        from .levels import and_levels
        return and_levels(self)

    @cached_property
    def content_hash(self) -> str:
        """Hex SHA-256 of the canonical encoding both parties compare before a run (see
        :mod:`yaogc.circuits.native`)."""
        from .native import content_hash
        return content_hash(self)

    def hash_in_background(self) -> None:
        """Start computing :attr:`content_hash` on another thread (hashing a large circuit
        releases the interpreter lock, so it runs on another core while the caller goes on;
        whoever asks for the hash meanwhile gets the same value)."""
        if "content_hash" in self.__dict__ or self in _HASHING:
            return
        t = threading.Thread(target=lambda: self.content_hash, name="yaogc-hash", daemon=True)
        _HASHING[self] = t
        t.start()

    @property
    def hash_pending(self) -> bool:
        """Whether :attr:`content_hash` is being computed on another thread right now: work
        that does not need it can run meanwhile (a schedule's layout, before the name of
        its cache entry is asked for)."""
        t = _HASHING.get(self)
        return t is not None and t.is_alive() and "content_hash" not in self.__dict__

    def check(self) -> "Circuit":
        """Reject a malformed circuit with a message naming the gate or port; return self."""
        n_in, n = self.n_inputs, self.n_gates
        if not (self.in0.size == self.in1.size == n):
            raise CircuitError(f"gate arrays differ in length: op {n}, in0 {self.in0.size}, "
                               f"in1 {self.in1.size}")
        bad = np.flatnonzero(self.op > Op.CONST1)
        if bad.size:
            k = int(bad[0])
            raise CircuitError(f"gate {k} (wire {n_in + k}): unknown op {int(self.op[k])}")
        # an operand must be written before the gate that reads it. XOR, AND, NOT (0, 1, 2)
        # read in0; XOR and AND read in1
        # compiled for millions of gates (a cached circuit of 40M gates: 0.6 s as numpy),
        # where it pays for loading numba's kernels (0.4 s in a process that loads no other)
        fast = n >= CHECK_COMPILED_FROM and jit.use_compiled(n, __name__)
        for name, arr, last_op in (("in0", self.in0, Op.NOT), ("in1", self.in1, Op.AND)):
            if fast:
                k = _first_bad_operand(self.op, arr, n_in, int(last_op))
                k = k if k >= 0 else None
            else:
                def bad(s, e):
                    reads, a = self.op[s:e] <= last_op, arr[s:e]
                    return np.where(reads, (a < 0) | (a >= n_in + np.arange(s, e)), a != -1)
                k = self._first_bad(bad)
            if k is not None and self.op[k] <= last_op:
                raise CircuitError(f"gate {k} (wire {n_in + k}, {Op(self.op[k]).name}): operand "
                                   f"{name}={int(arr[k])} is not a wire set before it")
            if k is not None:
                raise CircuitError(f"gate {k} (wire {n_in + k}, {Op(self.op[k]).name}): unused "
                                   f"operand {name} must be -1, got {int(arr[k])}")
        pos = 0
        names: set[str] = set()
        for p in self.inputs:
            if p.name in names:
                raise CircuitError(f"input port '{p.name}' is declared twice")
            names.add(p.name)
            if p.width != p.type.width:
                raise CircuitError(f"input port '{p.name}': type {p.type} has {p.type.width} bits "
                                   f"but the port has {p.width} wires")
            if not np.array_equal(p.wires, np.arange(pos, pos + p.width)):
                raise CircuitError(f"input port '{p.name}': wires must be {pos}..{pos + p.width - 1} "
                                   f"(inputs are numbered first, in port order)")
            pos += p.width
        if pos != n_in:
            raise CircuitError(f"input ports cover {pos} wires but the circuit has {n_in} inputs")
        names = set()
        for o in self.outputs:
            if o.name in names:
                raise CircuitError(f"output port '{o.name}' is declared twice")
            names.add(o.name)
            if not o.recipients:
                raise CircuitError(f"output port '{o.name}' has no recipient")
            if o.width != o.type.width:
                raise CircuitError(f"output port '{o.name}': type {o.type} has {o.type.width} bits "
                                   f"but the port has {o.width} wires")
            if o.width and (o.wires.min() < 0 or o.wires.max() >= self.n_wires):
                raise CircuitError(f"output port '{o.name}' names a wire outside 0..{self.n_wires - 1}")
        return self

    def _first_bad(self, bad) -> int | None:
        """The first gate where ``bad(s, e)`` (a mask of gates s..e-1) holds, looked at a
        block of gates at a time (temporaries of a block, not of 40M gates), or None."""
        n = self.n_gates
        for s in range(0, n, _CHECK_BLOCK):
            got = bad(s, min(n, s + _CHECK_BLOCK))
            if got.any():
                return s + int(np.flatnonzero(got)[0])
        return None

    def and_layer_widths(self) -> np.ndarray:
        """AND gates per AND layer (layer k holds the ANDs at AND-depth k+1): the widths the
        garbling engine works through, one vectorized step per layer."""
        ands = self.n_inputs + np.flatnonzero(self.op == Op.AND)
        return np.bincount(self.and_levels[ands] - 1, minlength=self.and_depth)

    def stats(self) -> dict:
        """Gate counts and port layout: the keys of ``yaogc stats --json``."""
        return {
            "and": self.count(Op.AND),
            "xor": self.count(Op.XOR),
            "not": self.count(Op.NOT),
            "wires": self.n_wires,
            "and_depth": self.and_depth,
            "and_layer_widths": self.and_layer_widths().tolist(),
            "inputs": [{"name": p.name, "party": p.party, "width": p.width, "type": str(p.type)}
                       for p in self.inputs],
            "outputs": [{"name": o.name, "recipients": list(o.recipients), "width": o.width,
                         "type": str(o.type)} for o in self.outputs],
        }

    def describe(self) -> str:
        """``stats()`` as the lines ``yaogc stats`` prints for people."""
        st = self.stats()
        lines = [f"{self.name}: {st['and']} AND, {st['xor']} XOR, {st['not']} NOT, "
                 f"{st['wires']} wires, AND-depth {st['and_depth']}"]
        widths = st["and_layer_widths"]
        if widths:
            lines.append(f"  AND layers: {len(widths)}, widest {max(widths)}, "
                         f"mean width {st['and'] / len(widths):.1f}")
        lines += [f"  input  {p['name']}: {p['type']} ({p['width']} bits) from {p['party']}"
                  for p in st["inputs"]]
        lines += [f"  output {o['name']}: {o['type']} ({o['width']} bits) to "
                  f"{', '.join(o['recipients'])}" for o in st["outputs"]]
        return "\n".join(lines)

    def with_parties(self, party_of: dict[str, str]) -> "Circuit":
        """The same circuit with some input ports handed to other parties (sharing the
        gate arrays: both circuits are immutable)."""
        ins = [InputPort(party_of.get(p.name, p.party), p.name, p.type, p.wires) for p in self.inputs]
        return Circuit.adopt(self.n_inputs, self.op, self.in0, self.in1, ins, self.outputs,
                             self.name, self._declared_parties)

    def __repr__(self) -> str:
        return (f"<Circuit {self.name}: {self.n_inputs} inputs, {self.count(Op.AND)} AND, "
                f"{self.count(Op.XOR)} XOR, {self.count(Op.NOT)} NOT>")


def bits_port_type(width: int) -> ValueType:
    """The type of an unnamed bit-vector port (Bristol files): an unsigned integer."""
    return uint(width)


# circuits whose hash a thread is computing (hash_in_background): kept beside them, not in
# them, so that a circuit stays what it was to copy and pickle
_HASHING: "weakref.WeakKeyDictionary[Circuit, threading.Thread]" = weakref.WeakKeyDictionary()
