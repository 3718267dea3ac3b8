"""Plaintext evaluation of a Circuit over a batch of input rows: the reference semantics.

Rows are bit-sliced: bit k of word w of a wire holds that wire's value in row 64*w + k, so one
XOR/AND evaluates a gate for 64 rows per machine word. Three engines compute the same thing:

- few rows: a loop over the gates on Python integers, each integer holding a wire's bits for
  all rows (no set-up cost, about 0.15 µs per gate);
- few rows on a large circuit: the same loop compiled with numba (:mod:`.evalplan`), a few
  nanoseconds per gate once numba is loaded;
- many rows, or a circuit evaluated often: a level plan, computed once per circuit and cached
  (:class:`LevelPlan`), that groups the gates by level and op and renumbers the wires into
  recycled slots so each group writes one contiguous block; a group is then two gathers and
  one ufunc call over all its gates and all the words. Rows are processed in chunks so the
  working array stays around 64 MB. The plan is built by compiled passes over the gate arrays
  (:mod:`.evalplan`), so millions of gates take about a second.

:func:`evaluate_packed_outputs` picks the cheaper engine from the circuit's size, its number of
groups and the number of words.
"""

from __future__ import annotations

import sys
import weakref
from typing import Any, Mapping, Sequence

import numpy as np

from . import evalplan as P
from . import jit
from .circuit import Circuit, CircuitError, Op
from .types import BoolType, IntType

_CHUNK_BYTES = 64 << 20
_NARROW = 32
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
# measured on the project's machines: a Python-int gate costs about 0.14 µs plus about 3 ns
# per word; a level group about 1.2 µs with one word per wire, 4 µs with more, plus about
# 1.5 ns per gate-word; building a plan about 1.3 µs per gate
_INT_GATE, _INT_WORD, _GROUP_FLAT, _GROUP, _LEVEL_WORD = 0.14e-6, 3e-9, 1.2e-6, 4e-6, 1.5e-9
_KERNELS = ("yaogc.circuits.evalplan",)
_PLAN_WORDS = 16   # without a cached plan, batches up to this many words run gate by gate
# from this many gates, loading numba (about half a second) pays for the compiled gate loop
# even when nothing else has loaded it (the integer loop costs about 0.15 µs per gate)
_LOAD_GATES = 4_000_000


def pack_rows(bits: np.ndarray) -> np.ndarray:
    """(K, n) 0/1 uint8 -> (n, ceil(K/64)) uint64, row k in bit k%64 of word k//64."""
    bits = np.asarray(bits, dtype=np.uint8)
    k, n = bits.shape
    words = (k + 63) // 64
    if k % 8:
        bits = np.concatenate([bits, np.zeros((8 - k % 8, n), dtype=np.uint8)])
    # OR eight rows into one byte first, so only an eighth of the data is transposed
    rows8 = bits.reshape(bits.shape[0] // 8, 8, n)
    packed = rows8[:, 0] & np.uint8(1)
    for j in range(1, 8):
        packed |= (rows8[:, j] & np.uint8(1)) << np.uint8(j)
    out = np.zeros((n, words * 8), dtype=np.uint8)
    out[:, :packed.shape[0]] = packed.T
    return out.view(np.uint64)


def unpack_rows(words: np.ndarray, k: int) -> np.ndarray:
    """Inverse of :func:`pack_rows`: (n, W) uint64 -> (k, n) uint8."""
    n, w = words.shape
    by = np.ascontiguousarray(np.ascontiguousarray(words, dtype=np.uint64).view(np.uint8)
                              .reshape(n, 8 * w).T)
    out = np.empty((by.shape[0], 8, n), dtype=np.uint8)
    for j in range(8):
        np.bitwise_and(by >> np.uint8(j), np.uint8(1), out=out[:, j])
    return out.reshape(by.shape[0] * 8, n)[:k]


class LevelPlan:
    """Gates grouped by (level, op), each group writing one contiguous block of slots.

    A gate's level is as late as possible (the circuit's depth minus its longest path to an
    output), which keeps values alive for a short time. Slots: the inputs, a constant-0 and a
    constant-1 slot, then the groups' blocks. NOT is an XOR with the constant-1 slot; constant
    gates are the constant slots. With ``reuse`` a block returns to a best-fit, coalescing free
    list once its last reader has run, so the working array stays a small multiple of the live
    wires (SHA-256: about 7,000 slots for 135,000 gates, with at most about 1,200 wires live
    at once; blocks must be contiguous, hence the gap); without it every wire keeps its slot.
    """

    def __init__(self, circuit: Circuit, reuse: bool = True):
        n_in, n = circuit.n_inputs, circuit.n_gates
        op = np.ascontiguousarray(circuit.op, dtype=np.uint8)
        in0 = np.ascontiguousarray(circuit.in0, dtype=np.int64)
        in1 = np.ascontiguousarray(circuit.in1, dtype=np.int64)
        self.n_inputs = n_in
        self.zero, self.one = n_in, n_in + 1
        # every pass below looks at each gate once: compiled for large circuits (from a few
        # thousand gates: as plain Python the slot arena costs tens of µs per run of gates)
        jit.use_compiled(20 * n, *_KERNELS)
        level = _gate_levels(circuit)
        # groups: the distinct (level, is AND) keys in ascending order, numbered densely
        group_of = np.full(n, -1, dtype=np.int64)
        n_groups = int(P.group_numbers(op, level, group_of))
        del level
        last = np.full(n, -1, dtype=np.int64)
        P.last_readers(op, in0, in1, n_in, group_of, last)
        if circuit.outputs:
            out = np.concatenate([o.wires for o in circuit.outputs])
            last[out[out >= n_in] - n_in] = n_groups
        # within a group the wires that die first come first, so its block is freed piecewise
        n_computed = int(np.count_nonzero(op <= int(Op.NOT)))
        order = np.empty(n_computed, dtype=np.int64)     # position -> gate
        P.order_gates(group_of, last, n_groups, order)
        sizes = np.bincount(group_of[group_of >= 0], minlength=n_groups)
        del group_of
        starts = np.cumsum(sizes) - sizes
        is_and = op[order[starts]] == int(Op.AND) if n_groups else np.zeros(0, dtype=bool)
        slot_at = np.empty(order.size, dtype=np.int64)
        if reuse:
            self.n_slots = int(P.allocate(n_in + 2, n_in + 2 + order.size, order, last,
                                          starts, sizes, n_groups, slot_at))
        else:
            slot_at[:] = n_in + 2 + np.arange(order.size)
            self.n_slots = n_in + 2 + order.size
        del last
        self.slot_of = np.empty(n_in + n, dtype=np.int64)
        # operands in position order: each group's are a contiguous slice (no copies)
        a = np.empty(order.size, dtype=np.int64)
        b = np.empty(order.size, dtype=np.int64)
        P.operands(op, in0, in1, n_in, order, slot_at, self.zero, self.one, self.slot_of, a, b)
        del order
        is_and = is_and.tolist()
        bases = slot_at[np.minimum(starts, max(slot_at.size - 1, 0))].tolist() \
            if slot_at.size else [0] * n_groups
        self.groups = []
        for g, (s, size) in enumerate(zip(starts.tolist(), sizes.tolist())):
            fn = np.bitwise_and if is_and[g] else np.bitwise_xor
            base = bases[g]
            self.groups.append((base, base + size, fn, a[s:s + size], b[s:s + size]))
        self.widest = int(sizes.max(initial=0))

    def run(self, packed_inputs: np.ndarray, out_slots: np.ndarray | None) -> np.ndarray:
        """Evaluate; returns the rows ``out_slots`` of the slot array (all slots if None)."""
        w = packed_inputs.shape[1]
        if out_slots is None:
            chunk = max(w, 1)
            result = None
        else:
            chunk = max(1, _CHUNK_BYTES // (8 * self.n_slots))
            result = np.empty((out_slots.size, w), dtype=np.uint64)
        for c0 in range(0, max(w, 1), chunk):
            c1 = min(w, c0 + chunk)
            val = np.empty((self.n_slots, c1 - c0), dtype=np.uint64)
            val[:self.n_inputs] = packed_inputs[:, c0:c1]
            val[self.zero] = 0
            val[self.one] = _ALL
            if c1 - c0 == 1:
                self._run_flat(val.reshape(-1))
            elif c1 > c0:
                self._run_rows(val)
            if result is None:
                return val
            result[:, c0:c1] = val[out_slots]
        return result

    def _run_flat(self, v: np.ndarray) -> None:
        # one word per wire: plain fancy indexing on a flat array has the least overhead
        for s, e, fn, a, b in self.groups:
            fn(v[a], v[b], out=v[s:e])

    def _run_rows(self, val: np.ndarray) -> None:
        # wide groups gather whole rows through a void view into reused buffers (several times
        # faster than np.take along axis 0); narrow ones index directly
        w = val.shape[1]
        rows = val.view(np.dtype((np.void, 8 * w))).reshape(-1)
        ta = np.empty((self.widest, w), dtype=np.uint64)
        tb = np.empty_like(ta)
        ra = ta.view(rows.dtype).reshape(-1)
        rb = tb.view(rows.dtype).reshape(-1)
        for s, e, fn, a, b in self.groups:
            g = e - s
            if g <= _NARROW:
                fn(val[a], val[b], out=val[s:e])
            else:
                np.take(rows, a, out=ra[:g], mode="clip")
                np.take(rows, b, out=rb[:g], mode="clip")
                fn(ta[:g], tb[:g], out=val[s:e])


def _gate_levels(circuit: Circuit) -> np.ndarray:
    """Per gate, its level as late as possible: gates that feed nothing sit at the last level,
    every operand at least one level before its reader; constants are level 0."""
    n_in, n = circuit.n_inputs, circuit.n_gates
    op = np.ascontiguousarray(circuit.op, dtype=np.uint8)
    tail = np.zeros(n_in + n, dtype=np.int64)   # longest path, in gates, from a wire to the end
    P.gate_tails(op, np.ascontiguousarray(circuit.in0, dtype=np.int64),
                 np.ascontiguousarray(circuit.in1, dtype=np.int64), n_in, tail)
    tails = tail[n_in:]
    return np.where(op <= int(Op.NOT), tails.max(initial=0) - tails + 1, 0)


_plans: "weakref.WeakKeyDictionary[Circuit, dict[bool, LevelPlan]]" = weakref.WeakKeyDictionary()


def level_plan(circuit: Circuit, reuse: bool = True) -> LevelPlan:
    """The cached level plan of a circuit (built on first use); see :class:`LevelPlan`."""
    plans = _plans.setdefault(circuit, {})
    plan = plans.get(reuse)
    if plan is None:
        plan = plans[reuse] = LevelPlan(circuit, reuse)
    return plan


def _run_ints(circuit: Circuit, packed_inputs: np.ndarray, wanted: np.ndarray | None) -> np.ndarray:
    """The gate loop on Python integers; returns the rows ``wanted`` of the wire array."""
    w = packed_inputs.shape[1]
    nbytes = 8 * w
    ones = (1 << (64 * w)) - 1
    raw = np.ascontiguousarray(packed_inputs).tobytes()
    val = [int.from_bytes(raw[i * nbytes:(i + 1) * nbytes], "little")
           for i in range(circuit.n_inputs)]
    push = val.append
    for o, a, b in zip(circuit.op.tolist(), circuit.in0.tolist(), circuit.in1.tolist()):
        if o == 0:
            push(val[a] ^ val[b])
        elif o == 1:
            push(val[a] & val[b])
        elif o == 2:
            push(val[a] ^ ones)
        else:
            push(0 if o == 3 else ones)
    rows = val if wanted is None else [val[i] for i in wanted.tolist()]
    out = b"".join(v.to_bytes(nbytes, "little") for v in rows)
    return np.frombuffer(out, dtype=np.uint64).reshape(len(rows), w).copy()


def _compiled_loop(circuit: Circuit) -> bool:
    """Whether the compiled gate loop should run: numba is available, the circuit is large,
    and numba is loaded already or the circuit so large that loading it pays."""
    n = circuit.n_gates
    if not jit.ENABLED or n < jit.SMALL:
        return False
    if "numba" not in sys.modules and n < _LOAD_GATES:
        return False
    return jit.compiled(*_KERNELS)


def _run_gates(circuit: Circuit, packed_inputs: np.ndarray, wanted: np.ndarray | None
               ) -> np.ndarray:
    """The gate loop compiled (or as plain Python where numba is missing); returns the rows
    ``wanted`` of the wire array (all wires if None). Words are taken in chunks so the wire
    array stays around 64 MB (one word per wire at least)."""
    w = packed_inputs.shape[1]
    n_in, n_w = circuit.n_inputs, circuit.n_wires
    op = np.ascontiguousarray(circuit.op, dtype=np.uint8)
    in0 = np.ascontiguousarray(circuit.in0, dtype=np.int64)
    in1 = np.ascontiguousarray(circuit.in1, dtype=np.int64)
    rows = n_w if wanted is None else wanted.size
    result = np.empty((rows, w), dtype=np.uint64)
    chunk = max(1, _CHUNK_BYTES // (8 * max(n_w, 1)))
    for c0 in range(0, w, chunk):
        c1 = min(w, c0 + chunk)
        val = np.empty((n_w, c1 - c0), dtype=np.uint64)
        val[:n_in] = packed_inputs[:, c0:c1]
        P.run_gates(op, in0, in1, n_in, val)
        result[:, c0:c1] = val if wanted is None else val[wanted]
    return result


def _check_inputs(circuit: Circuit, packed_inputs: np.ndarray) -> np.ndarray:
    packed_inputs = np.asarray(packed_inputs, dtype=np.uint64)
    if packed_inputs.ndim != 2 or packed_inputs.shape[0] != circuit.n_inputs:
        raise CircuitError(f"expected packed inputs of shape ({circuit.n_inputs}, words), "
                           f"got {packed_inputs.shape}")
    return packed_inputs


def _use_levels(circuit: Circuit, words: int) -> bool:
    """Whether the level plan beats the integer loop for this many words per wire."""
    n = circuit.n_gates
    plan = _plans.get(circuit, {}).get(True)
    if plan is None:
        if words <= _PLAN_WORDS:
            return False  # building a plan costs about ten passes of the integer loop
        plan = level_plan(circuit)
    per_group = _GROUP_FLAT if words == 1 else _GROUP
    levels = len(plan.groups) * per_group + n * words * _LEVEL_WORD
    return levels < n * (_INT_GATE + _INT_WORD * words)


def evaluate_packed(circuit: Circuit, packed_inputs: np.ndarray) -> np.ndarray:
    """Evaluate on bit-sliced inputs (n_inputs, W) uint64; returns every wire, (n_wires, W)."""
    packed_inputs = _check_inputs(circuit, packed_inputs)
    if packed_inputs.shape[1] <= _PLAN_WORDS and (True not in _plans.get(circuit, {})):
        if _compiled_loop(circuit):
            return _run_gates(circuit, packed_inputs, None)
        return _run_ints(circuit, packed_inputs, None)
    plan = level_plan(circuit, reuse=False)
    return plan.run(packed_inputs, None)[plan.slot_of]


def evaluate_packed_outputs(circuit: Circuit, packed_inputs: np.ndarray,
                            engine: str = "auto") -> np.ndarray:
    """Evaluate on bit-sliced inputs (n_inputs, W); returns the output bits (total width, W) in
    port order. ``engine`` is "auto", "ints", "gates" (the compiled gate loop, plain Python
    where numba is missing) or "levels"; the results are identical."""
    packed_inputs = _check_inputs(circuit, packed_inputs)
    wires = (np.concatenate([o.wires for o in circuit.outputs])
             if circuit.outputs else np.zeros(0, dtype=np.int64))
    if engine not in ("auto", "ints", "gates", "levels"):
        raise CircuitError(f"unknown evaluation engine '{engine}' (auto, ints, gates or levels)")
    if engine == "gates":
        jit.use_compiled(circuit.n_gates, *_KERNELS)
        return _run_gates(circuit, packed_inputs, wires)
    if engine == "ints" or (engine == "auto" and not _use_levels(circuit, packed_inputs.shape[1])):
        if engine == "auto" and _compiled_loop(circuit):
            return _run_gates(circuit, packed_inputs, wires)
        return _run_ints(circuit, packed_inputs, wires)
    plan = level_plan(circuit)
    return plan.run(packed_inputs, plan.slot_of[wires])


def evaluate_bits(circuit: Circuit, in_bits: np.ndarray) -> np.ndarray:
    """(K, n_inputs) 0/1 -> (K, total output width) 0/1, outputs concatenated in port order."""
    in_bits = np.asarray(in_bits, dtype=np.uint8)
    if in_bits.ndim == 1:
        in_bits = in_bits[None, :]
    if in_bits.ndim != 2 or in_bits.shape[1] != circuit.n_inputs:
        raise CircuitError(f"expected input bits of shape (rows, {circuit.n_inputs}), "
                           f"got {in_bits.shape}")
    k = in_bits.shape[0]
    return unpack_rows(evaluate_packed_outputs(circuit, pack_rows(in_bits)), k)


def encode_inputs(circuit: Circuit, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Named input values per row -> (K, n_inputs) bits; a missing or unknown name is an error."""
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence):
        raise CircuitError(f"rows are a list of mappings of input name to value (one per row), "
                           f"not {type(rows).__name__}" +
                           (" (one row: [row], or evaluate_one)" if isinstance(rows, Mapping)
                            else ""))
    odd = [type(r).__name__ for r in rows if not isinstance(r, Mapping)]
    if odd:
        raise CircuitError(f"rows are a list of mappings of input name to value (one per row); "
                           f"a row is {odd[0]}")
    out = np.zeros((len(rows), circuit.n_inputs), dtype=np.uint8)
    names = {p.name for p in circuit.inputs}
    for row in rows:
        if len(row) != len(names) or not names.issuperset(row):
            unknown = set(row) - names
            if unknown:
                raise CircuitError(f"unknown input '{sorted(unknown)[0]}' (the circuit has: "
                                   f"{', '.join(p.name for p in circuit.inputs)})")
            p = next(p for p in circuit.inputs if p.name not in row)
            raise CircuitError(f"missing input '{p.name}' ({p.type}, party {p.party})")
    for p in circuit.inputs:
        cols = out[:, p.wires[0]:p.wires[0] + p.width]
        values = [row[p.name] for row in rows]
        if not _encode_column(p.type, values, cols):
            for r, v in enumerate(values):
                p.type._encode_into(v, cols[r], p.name)
    return out


def _encode_column(t, values: list, cols: np.ndarray) -> bool:
    """Encode a column of plain integers or bools in one go; False if it needs the per-value
    path (other types, other values, or a value out of range, which that path reports)."""
    if not isinstance(t, (IntType, BoolType)) or t.width > 64 or not values:
        return False
    if not all(type(v) in (int, bool) for v in values):
        return False
    lo, hi = (0, 1) if isinstance(t, BoolType) else (t.min, t.max)
    if min(values) < lo or max(values) > hi:
        return False
    arr = np.array(values, dtype=np.int64 if lo < 0 else np.uint64).astype(np.uint64)
    cols[:] = (arr[:, None] >> np.arange(t.width, dtype=np.uint64)) & np.uint64(1)
    return True


def decode_outputs(circuit: Circuit, out_bits: np.ndarray) -> list[dict[str, Any]]:
    """(K, total output width) bits -> one {output name: value} per row."""
    out_bits = np.atleast_2d(np.asarray(out_bits, dtype=np.uint8))
    columns, pos = [], 0
    for o in circuit.outputs:
        columns.append(_decode_column(o.type, out_bits[:, pos:pos + o.width]))
        pos += o.width
    names = [o.name for o in circuit.outputs]
    return [dict(zip(names, vals)) for vals in zip(*columns)] if names else [{} for _ in out_bits]


def _decode_column(t, bits: np.ndarray) -> list:
    if isinstance(t, BoolType):
        return [bool(b) for b in bits[:, 0].tolist()]
    if isinstance(t, IntType) and t.width <= 64:
        raw = np.zeros((bits.shape[0], 8), dtype=np.uint8)
        packed = np.packbits(bits, axis=1, bitorder="little")
        raw[:, :packed.shape[1]] = packed
        u = raw.view(np.uint64).reshape(-1)
        if t.signed:
            return [t.wrap(v) for v in u.tolist()]
        return u.tolist()
    return [t.decode(row) for row in bits]


def evaluate(circuit: Circuit, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Evaluate on K rows of named input values; returns K dicts of named outputs."""
    return decode_outputs(circuit, evaluate_bits(circuit, encode_inputs(circuit, rows)))


def evaluate_one(circuit: Circuit, **values: Any) -> dict[str, Any]:
    return evaluate(circuit, [values])[0]
