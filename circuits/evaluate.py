"""Plaintext evaluation of a Circuit over a batch of input rows: the reference semantics.

Rows are bit-sliced: bit k of word w of a wire holds that wire's value in row 64*w + k, so one
XOR/AND evaluates a gate for 64 rows per machine word. Two engines compute the same thing:

- few rows: a loop over the gates on Python integers, each integer holding a wire's bits for
  all rows (no set-up cost, about 0.1 µs per gate);
- many rows: a level plan, computed once per circuit and cached, that groups the gates by
  gate depth and op and renumbers the wires so each group writes one contiguous block; a level
  is then two ``np.take`` gathers and one ufunc call over all its gates and all the words.
  Rows are processed in chunks so the working array stays around 32 MB.

:func:`evaluate_packed_outputs` picks the cheaper engine from the circuit's size, its number of
groups and the number of words.
"""

from __future__ import annotations

import weakref
from typing import Any, Mapping, Sequence

import numpy as np

from .circuit import Circuit, CircuitError, Op

_CHUNK_BYTES = 32 << 20
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
# measured on the project's machines: a Python-int gate costs about 0.14 µs plus about 3 ns
# per word; a level group about 5.5 µs plus about 2.5 ns per gate-word
_INT_GATE, _INT_WORD, _GROUP, _LEVEL_WORD = 0.14e-6, 3e-9, 5.5e-6, 2.5e-9


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
    """Gates grouped by (gate depth, op), each group writing one contiguous block of slots.

    Slots: the inputs, a constant-0 and a constant-1 slot, then the groups' blocks. NOT is an
    XOR with the constant-1 slot and constant gates are the constant slots. With ``reuse`` a
    block is recycled once its last reader has run (blocks are sized in powers of two and kept
    in one free list per size), so the working array holds only the live wires and a batch of
    100,000 rows of SHA-256 fits in one pass; without it every wire keeps its own slot.
    """

    def __init__(self, circuit: Circuit, reuse: bool = True):
        n_in, n = circuit.n_inputs, circuit.n_gates
        op = circuit.op.astype(np.int64)
        self.n_inputs = n_in
        self.zero, self.one = n_in, n_in + 1
        depth = _gate_depths(circuit)
        key = depth * 2 + (op == int(Op.AND))
        computed = np.flatnonzero(op <= int(Op.NOT))
        order = computed[np.argsort(key[computed], kind="stable")]   # position -> gate
        k = key[order]
        cut = np.unique(np.concatenate([[0], np.flatnonzero(np.diff(k)) + 1, [order.size]])
                        ).astype(np.int64)
        starts, sizes = cut[:-1], np.diff(cut)
        n_groups = starts.size
        group_of = np.repeat(np.arange(n_groups), sizes)               # position -> group
        pos_of = np.full(n_in + n, -1, dtype=np.int64)                 # wire -> position
        pos_of[n_in + order] = np.arange(order.size)

        bases = self._allocate(circuit, starts, sizes, group_of, pos_of, reuse)
        slot_of = np.empty(n_in + n, dtype=np.int64)
        slot_of[:n_in] = np.arange(n_in)
        slot_of[n_in + order] = np.repeat(bases, sizes) + (np.arange(order.size)
                                                            - np.repeat(starts, sizes))
        slot_of[n_in + np.flatnonzero(op == int(Op.CONST0))] = self.zero
        slot_of[n_in + np.flatnonzero(op == int(Op.CONST1))] = self.one
        self.slot_of = slot_of
        self.n_slots = int(max(n_in + 2, (bases + sizes).max(initial=0)))
        a = slot_of[circuit.in0[order]]
        b_wire = circuit.in1[order]
        b = np.where(b_wire >= 0, slot_of[np.maximum(b_wire, 0)], self.one)
        self.groups = []
        for g, (s, size) in enumerate(zip(starts.tolist(), sizes.tolist())):
            fn = np.bitwise_and if k[s] & 1 else np.bitwise_xor
            base = int(bases[g])
            self.groups.append((base, base + size, fn, np.ascontiguousarray(a[s:s + size]),
                                np.ascontiguousarray(b[s:s + size])))
        self.widest = int(sizes.max(initial=0))

    def _allocate(self, circuit, starts, sizes, group_of, pos_of, reuse) -> np.ndarray:
        """The first slot of every group's block."""
        first = self.n_inputs + 2
        n_groups = starts.size
        if not reuse:
            return first + starts
        # the last group that reads any wire of each group (outputs are read "at the end")
        last = np.full(group_of.size, -1, dtype=np.int64)
        for operand in (circuit.in0, circuit.in1):
            src = pos_of[np.maximum(operand, 0)]
            ok = (operand >= 0) & (src >= 0)
            reader = np.full(operand.size, -1, dtype=np.int64)
            reader_pos = pos_of[self.n_inputs:]
            has = ok & (reader_pos >= 0)
            reader[has] = group_of[reader_pos[has]]
            np.maximum.at(last, src[has], reader[has])
        if circuit.outputs:
            out = np.concatenate([o.wires for o in circuit.outputs])
            out_pos = pos_of[out]
            last[out_pos[out_pos >= 0]] = n_groups
        life = np.maximum.reduceat(last, starts) if n_groups else last[:0]
        free: dict[int, list[int]] = {}
        release: dict[int, list[tuple[int, int]]] = {}
        bases = np.empty(n_groups, dtype=np.int64)
        top = first
        for g, (size, end) in enumerate(zip(sizes.tolist(), life.tolist())):
            for base, cls in release.pop(g, ()):
                free.setdefault(cls, []).append(base)
            cls = (size - 1).bit_length()
            stack = free.get(cls)
            if stack:
                bases[g] = stack.pop()
            else:
                bases[g] = top
                top += 1 << cls
            if end < n_groups:
                # a group reads its operands before it writes, so its block may reuse its inputs'
                release.setdefault(end if end > g else g + 1, []).append((int(bases[g]), cls))
        return bases

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
            ta = np.empty((self.widest, c1 - c0), dtype=np.uint64)
            tb = np.empty_like(ta)
            for s, e, fn, a, b in self.groups:
                g = e - s
                np.take(val, a, axis=0, out=ta[:g])
                np.take(val, b, axis=0, out=tb[:g])
                fn(ta[:g], tb[:g], out=val[s:e])
            if result is None:
                return val
            result[:, c0:c1] = val[out_slots]
        return result


def _gate_depths(circuit: Circuit) -> np.ndarray:
    """Per gate, the longest path (in gates) from an input; constants are depth 0."""
    n_in = circuit.n_inputs
    lev = [0] * circuit.n_wires
    XOR, AND, NOT = int(Op.XOR), int(Op.AND), int(Op.NOT)
    for k, (o, a, b) in enumerate(zip(circuit.op.tolist(), circuit.in0.tolist(),
                                      circuit.in1.tolist()), n_in):
        if o == XOR or o == AND:
            la, lb = lev[a], lev[b]
            lev[k] = (la if la > lb else lb) + 1
        elif o == NOT:
            lev[k] = lev[a] + 1
    return np.array(lev[n_in:], dtype=np.int64)


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
        if words <= 2:
            return False  # building a plan costs more than a pass of the integer loop
        plan = level_plan(circuit)
    levels = len(plan.groups) * _GROUP + n * words * _LEVEL_WORD
    return levels < n * (_INT_GATE + _INT_WORD * words)


def evaluate_packed(circuit: Circuit, packed_inputs: np.ndarray) -> np.ndarray:
    """Evaluate on bit-sliced inputs (n_inputs, W) uint64; returns every wire, (n_wires, W)."""
    packed_inputs = _check_inputs(circuit, packed_inputs)
    if not _use_levels(circuit, packed_inputs.shape[1]):
        return _run_ints(circuit, packed_inputs, None)
    plan = level_plan(circuit, reuse=False)
    return plan.run(packed_inputs, None)[plan.slot_of]


def evaluate_packed_outputs(circuit: Circuit, packed_inputs: np.ndarray,
                            engine: str = "auto") -> np.ndarray:
    """Evaluate on bit-sliced inputs (n_inputs, W); returns the output bits (total width, W) in
    port order. ``engine`` is "auto", "ints" or "levels" (the results are identical)."""
    packed_inputs = _check_inputs(circuit, packed_inputs)
    wires = (np.concatenate([o.wires for o in circuit.outputs])
             if circuit.outputs else np.zeros(0, dtype=np.int64))
    if engine not in ("auto", "ints", "levels"):
        raise CircuitError(f"unknown evaluation engine '{engine}' (auto, ints or levels)")
    if engine == "ints" or (engine == "auto" and not _use_levels(circuit, packed_inputs.shape[1])):
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
    out = np.zeros((len(rows), circuit.n_inputs), dtype=np.uint8)
    names = {p.name for p in circuit.inputs}
    for r, row in enumerate(rows):
        unknown = set(row) - names
        if unknown:
            raise CircuitError(f"unknown input '{sorted(unknown)[0]}' (the circuit has: "
                               f"{', '.join(p.name for p in circuit.inputs)})")
        for p in circuit.inputs:
            if p.name not in row:
                raise CircuitError(f"missing input '{p.name}' ({p.type}, party {p.party})")
            p.type._encode_into(row[p.name], out[r, p.wires[0]:p.wires[0] + p.width], p.name)
    return out


def decode_outputs(circuit: Circuit, out_bits: np.ndarray) -> list[dict[str, Any]]:
    """(K, total output width) bits -> one {output name: value} per row."""
    res = []
    for row in np.atleast_2d(out_bits):
        d, pos = {}, 0
        for o in circuit.outputs:
            d[o.name] = o.type.decode(row[pos:pos + o.width])
            pos += o.width
        res.append(d)
    return res


def evaluate(circuit: Circuit, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Evaluate on K rows of named input values; returns K dicts of named outputs."""
    return decode_outputs(circuit, evaluate_bits(circuit, encode_inputs(circuit, rows)))


def evaluate_one(circuit: Circuit, **values: Any) -> dict[str, Any]:
    return evaluate(circuit, [values])[0]
