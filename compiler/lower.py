"""Lowering: word-level IR -> Boolean circuit, through the word library as gate templates.

Every IR operation maps onto one function of :mod:`yaogc.circuits.words`, so each costs what
the word library costs. Fixed-point values are signed words of their raw bits; a fixed-point
product takes bits F..F+W-1 of the full signed product, a quotient is a signed division of the
dividend shifted left by F, corrected toward negative infinity.

Operations are lowered in *waves*: a node's wave is one more than the deepest wave among its
operands (pure rewiring adds none), so the nodes of one wave are independent. Within a wave,
nodes with the same *signature* (operation, types, attribute, constant operands) are one call
of :meth:`~yaogc.circuits.templates.GateBuffer.apply`, which builds the gates of one instance
with the word library and stamps out the rest with array arithmetic: an unrolled loop over
thousands of records costs a handful of template builds, not thousands of Python-level
gate emissions. The buffer's final rehash merges gates that several operations share.
"""

from __future__ import annotations

import time

import numpy as np

from yaogc.circuits import fixmath
from yaogc.circuits import words as W
from yaogc.circuits.builder import ONE, ZERO, Builder
from yaogc.circuits.circuit import Circuit
from yaogc.circuits.heapkernel import heap_gates
from yaogc.circuits.lookup import MAX_BITS as LOOKUP_BITS, lookup_const
from yaogc.circuits.templates import GateBuffer
from yaogc.circuits.types import BoolType, uint

from . import ops
from .check import Elaborated

# operations that only rearrange their operands' wires (no gates)
_WIRING = frozenset(("const", "input", "shl", "shr", "rotl", "rotr", "resize", "reinterp",
                     "bit"))


def lower(e: Elaborated, progress=None, max_gates: int | None = None) -> Circuit:
    """The circuit of ``e``. ``progress(phase, gates, seconds)`` is called now and then;
    ``max_gates`` bounds the gates emitted (:class:`~yaogc.circuits.templates.TooLarge`)."""
    return emit(e, progress, max_gates).build()


def emit(e: Elaborated, progress=None, max_gates: int | None = None) -> GateBuffer:
    """The gates of ``e`` in a buffer, before the passes over the whole buffer
    (:meth:`~yaogc.circuits.templates.GateBuffer.build` runs them): a caller that drops
    ``e`` first has its memory back for those passes."""
    buf = GateBuffer(e.name, e.parties, max_gates)
    ports = [buf.input(party, name, t) for party, name, t in e.inputs]
    g = e.graph
    roots = e.roots()
    live = g.live(roots)
    words: dict[int, np.ndarray] = {}
    waves: dict[int, list[int]] = {}
    wave: dict[int, int] = {}
    plans: dict[int, tuple] = {}
    planner = _Planner(g)
    needed = set(roots)       # nodes whose wires something reads (pure wiring is made lazily)
    for n in live:
        plan = planner(n)
        plans[n] = plan
        args = plan[1]
        needed.update(args)
        if args:
            d = max([wave[a] for a in args]) + (plan[0] is not None)
        else:
            d = plan[0] is not None
        wave[n] = d
        waves.setdefault(d, []).append(n)
    t0 = time.perf_counter()
    last = t0
    for d in sorted(waves):
        groups: dict = {}
        wiring = []
        for n in waves[d]:
            key = plans[n][0]
            if key is None:
                if n in needed:
                    wiring.append(n)
            else:
                groups.setdefault(key, []).append(n)
        for key, members in groups.items():
            sig = planner.sigs[key]
            if len(members) == 1:   # one row (a long sum): its operands side by side
                X = np.concatenate([words[a] for a in plans[members[0]][1]])[None, :]
            else:                # operand k of every member stacked at once, then side by side
                argl = [plans[n][1] for n in members]
                cols = [np.stack([words[a[k]] for a in argl]) for k in range(len(argl[0]))]
                X = cols[0] if len(cols) == 1 else np.concatenate(cols, axis=1)
            out = buf.apply(sig, _gate_fn(sig), X)
            words.update(zip(members, out))
        for n in wiring:
            words[n] = _wire(g, n, plans[n][1], words, ports)
        if progress is not None:
            now = time.perf_counter()
            if now - last > 0.5:
                progress("lowering", buf.n_emitted, now - t0)
                last = now
    for rec, name, t, ns in e.outputs:
        out = [words[x] for x in ns]
        buf.output(rec, name, t, np.concatenate(out) if out else np.zeros(0, dtype=np.int64))
    if progress is not None:
        progress("lowered", buf.n_emitted, time.perf_counter() - t0)
    return buf


class _Planner:
    """Plans nodes: (group key or None for pure wiring, operand nodes whose wires the lowering
    reads). Nodes of one key share a signature (operation, type, attribute, operand types and
    constant values): the key is a tuple of small ints interned per distinct part, which
    hashes in C, where a signature of frozen dataclasses hashed per node cost more than the
    rest of planning a large program. ``sigs[key]`` is the signature itself."""

    def __init__(self, g):
        self.g = g
        self.ids: dict = {}           # hashable part -> small int
        self.type_by_fields: dict = {}  # a type's _k -> its small int
        self.canon: list = []         # small int of a type -> its canonical type
        self.sigs: dict = {}          # key -> _Sig
        self.argkey: dict = {}        # node -> what it contributes to its users' keys

    def _id(self, x) -> int:
        got = self.ids.get(x)
        if got is None:
            got = self.ids[x] = len(self.ids)
        return got

    def _type(self, t) -> int:
        tid = self.type_by_fields.get(t._k)     # equal types have equal _k, hashed in C
        if tid is None:
            tid = self.type_by_fields[t._k] = len(self.canon)
            self.canon.append(t)
        return tid

    def __call__(self, n: int) -> tuple:
        """Plan node n; every operand must have been planned (ascending order does that)."""
        g = self.g
        op = g._op[n]
        args = g._args[n]
        ak = self.argkey
        if op in _WIRING:
            ak[n] = self._argkey(n)
            return None, args
        if op == "sum":
            # zero-extended terms add only their own bits
            w = g._type[n].width
            eff = []
            for x in args:
                if g._op[x] == "resize":
                    inner = g._args[x][0]
                    it = g._type[inner]
                    if not ops.signed(it) and it.width < w:
                        x = inner
                eff.append(x)
            args = tuple(eff)
        ids = self.ids
        attr = g._attr[n]
        aid = ids.get(attr)
        if aid is None:
            aid = self._id(attr)
        mine = ak[n] = self._argkey(n)
        key = (ids.get(op) if op in ids else self._id(op), mine >> 32, aid,
               *[ak[a] for a in args])
        if key not in self.sigs:
            canon = self.canon
            argsig = tuple([(canon[ak[a] >> 32], g.const_value(a)) for a in args])
            self.sigs[key] = _Sig(op, canon[mine >> 32], attr, argsig)
        return key, args

    def _argkey(self, n: int) -> int:
        """Node n as an operand: its type's small int and its constant value's."""
        g = self.g
        c = g._attr[n] if g._op[n] == "const" else None
        cid = self.ids.get(c)
        if cid is None:
            cid = self._id(c)
        return (self._type(g._type[n]) << 32) | cid


class _Sig(tuple):
    """A signature whose hash (by the identity of its canonical types) is computed once: a
    long sum's signature has an operand entry per term."""

    def __new__(cls, *items):
        return tuple.__new__(cls, items)

    def __hash__(self):
        h = self.__dict__.get("h")
        if h is None:
            h = self.__dict__["h"] = hash((self[0], id(self[1]), self[2],
                                           tuple([(id(t), c) for t, c in self[3]])))
        return h

    def __eq__(self, other):
        return tuple.__eq__(self, other)

    def __ne__(self, other):
        return tuple.__ne__(self, other)


def _wire(g, n: int, args, words, ports) -> np.ndarray:
    op, t = g.op(n), g.type(n)
    w = t.width
    attr = g.attr(n)
    if op == "const":
        return np.array(W.const_word(attr, w), dtype=np.int64)
    if op == "input":
        port, off = attr
        return ports[port][off:off + w]
    x = words[args[0]]
    if op == "shl":
        return np.array(W.shl(x.tolist(), attr), dtype=np.int64)
    if op == "shr":
        return np.array(W.shr(x.tolist(), attr, ops.signed(t)), dtype=np.int64)
    if op == "rotl":
        return np.array(W.rotl(x.tolist(), attr), dtype=np.int64)
    if op == "rotr":
        return np.array(W.rotr(x.tolist(), attr), dtype=np.int64)
    if op == "resize":   # W.extend on arrays
        if w <= x.size:
            return x[:w]
        fill = x[-1] if (ops.signed(g.type(args[0])) and x.size) else ZERO
        return np.concatenate([x, np.full(w - x.size, fill, dtype=np.int64)])
    if op == "reinterp":
        return x
    if op == "bit":
        return x[attr:attr + 1]
    raise KeyError(op)


_FNS: dict = {}


def _gate_fn(sig):
    """The function a template of this signature runs: split the input bits into the
    operand words, emit the operation through the word library."""
    fn = _FNS.get(sig)
    if fn is None:
        op, t, attr, argsig = sig
        widths = [at.width for at, _ in argsig]

        def fn(b: Builder, bits: list[int]) -> list[int]:
            words, pos = [], 0
            for k in widths:
                words.append(bits[pos:pos + k])
                pos += k
            return _gates(b, op, t, attr, argsig, words)
        if op == "sum":
            fn.native = lambda code, levels: heap_gates(code, levels, widths, list(attr),
                                                        t.width)
        if len(_FNS) > 4096:
            _FNS.clear()
        _FNS[sig] = fn
    return fn


def _gates(b: Builder, op: str, t, attr, argsig, args: list[list[int]]) -> list[int]:
    w = t.width
    sgn = ops.signed(t)
    consts = [c for _, c in argsig]
    if op == "add":
        return W.add(b, *args)
    if op == "sub":
        return W.sub(b, *args)
    if op == "sum":
        heap = W.BitHeap(b, w)
        for word, neg in zip(args, attr):
            heap.add_word(word, 0, neg)
        return heap.result()
    if op == "neg":
        return W.neg(b, args[0])
    if op == "mul":
        if consts[1] is not None:
            return W.mul_const(b, args[0], consts[1])
        if consts[0] is not None:
            return W.mul_const(b, args[1], consts[0])
        return W.mul(b, *args)
    if op == "fmul":
        return _fixed_mul(b, consts, args, w, attr)
    if op == "fdiv":
        return _fixed_div(b, args, w, attr, consts[1])
    if op in ("div", "mod"):
        if consts[1] is not None:
            q, r = (W.divmod_const_s if sgn else W.divmod_const_u)(b, args[0], consts[1])
        else:
            q, r = (W.divmod_s if sgn else W.divmod_u)(b, *args)
        return list(q if op == "div" else r)
    if op == "not":
        return W.not_w(b, args[0])
    if op == "and":
        return W.and_w(b, *args)
    if op == "or":
        return W.or_w(b, *args)
    if op == "xor":
        return W.xor_w(b, *args)
    if op == "shlv":
        return W.shl_var(b, args[0], args[1])
    if op == "shrv":
        return W.shr_var(b, args[0], args[1], sgn)
    if op == "rotlv":
        return W.rotl_var(b, args[0], args[1])
    if op == "rotrv":
        return W.rotr_var(b, args[0], args[1])
    if op in ("eq", "ne", "lt", "le"):
        if op == "eq":
            return [W.eq(b, *args)]
        if op == "ne":
            return [W.ne(b, *args)]
        at = argsig[0][0]
        return [(W.lt if op == "lt" else W.le)(b, args[0], args[1], ops.signed(at))]
    if op == "mux":
        return W.mux(b, args[0][0], args[1], args[2])
    if op == "popcount":
        bits = args[0] if len(args) == 1 and not isinstance(argsig[0][0], BoolType) \
            else [a[0] for a in args]
        return W.extend(W.popcount(b, bits), w, False)
    if op == "index":
        if all(c is not None for c in consts[1:]):
            return _index_const(b, args[0], args[1:], consts[1:], w, ops.signed(argsig[0][0]))
        return _index(b, args[0], args[1:], w, ops.signed(argsig[0][0]))
    if op == "min":
        return W.min_(b, args[0], args[1], sgn)
    if op == "max":
        return W.max_(b, args[0], args[1], sgn)
    if op == "abs":
        return W.abs_(b, args[0])
    if op == "math":
        return fixmath.build(b, attr, args[0], getattr(t, "frac", None), sgn)
    raise KeyError(op)


def _fixed_mul(b: Builder, consts, args, w: int, frac: int) -> list[int]:
    c = None
    if consts[1] is not None:
        c = consts[1], args[0]
    elif consts[0] is not None:
        c = consts[0], args[1]
    if c is not None:
        k, x = c
        # only bits below F + W of the product matter: multiply at that width
        prod = W.mul_const(b, W.extend(x, w + frac, True), k)
    else:
        prod = W.mul_full(b, args[0], args[1], True, width=frac + w)
    return list(prod[frac:frac + w])


def _fixed_div(b: Builder, args, w: int, frac: int, const_divisor: int | None) -> list[int]:
    x = W.shl(W.extend(args[0], w + frac, True), frac)
    y = W.extend(args[1], w + frac, True)
    if const_divisor is not None:
        q, r = W.divmod_const_s(b, x, const_divisor)
    else:
        q, r = W.divmod_s(b, x, y)
    # truncation -> floor: subtract one when the remainder is nonzero and its sign differs
    # from the divisor's (the remainder has the dividend's sign)
    adjust = b.and_(W.ne(b, r, W.const_word(0, len(r))), b.xor(r[-1], y[-1]))
    return W.not_w(b, W.inc_by(b, W.not_w(b, q[:w]), adjust))


def _index_const(b: Builder, idx, items, table, w: int, signed: bool) -> list[int]:
    """A constant table read by a secret index: the table's algebraic normal form
    (:mod:`yaogc.circuits.lookup`) or the multiplexer tree over the constants, whichever has
    fewer ANDs (both are built on a scratch circuit of the same index width, once per table)."""
    low, high = _index_bits(idx, len(items), signed)
    if not low or len(low) > LOOKUP_BITS:
        return _index(b, idx, items, w, signed)
    counts = []
    for build in (_index, _index_anf):
        scratch = Builder()
        sidx = scratch.input("p", "i", uint(len(idx)))
        build(scratch, sidx, items if build is _index else table, w, signed)
        counts.append(scratch.n_and)
    if counts[1] < counts[0]:
        return _index_anf(b, idx, table, w, signed)
    return _index(b, idx, items, w, signed)


def _index_anf(b: Builder, idx, table, w: int, signed: bool) -> list[int]:
    low, high = _index_bits(idx, len(table), signed)
    out = lookup_const(b, low, table, w)
    if high:
        inside = b.not_(W.or_tree(b, high))
        out = [b.and_(inside, o) for o in out]
    return out


def _index_bits(idx: list[int], n: int, signed: bool) -> tuple[list[int], list[int]]:
    """The index bits that select among n items, and the ones above them (an index with any
    of those set, or negative, is out of range)."""
    levels = (n - 1).bit_length()
    usable = len(idx) - 1 if signed else len(idx)
    low = idx[:min(levels, usable)]
    return low, idx[len(low):]


def _index(b: Builder, idx: list[int], items: list[list[int]], w: int, signed: bool) -> list[int]:
    """items[idx] by a multiplexer tree on the index bits; out of range gives zero.

    With m items, not a power of two, the tree either pads with zero words (a mux against
    zero still costs w ANDs, on every level where a layer is odd) or lets the odd item pass
    up unmuxed and zeroes the result unless idx < m (w ANDs and a comparison with m, once);
    whichever costs fewer ANDs."""
    low, high = _index_bits(idx, len(items), signed)
    layer = [list(x) for x in items[:1 << len(low)]]
    m = len(layer)
    padded = w * sum(-(-m >> lv) for lv in range(1, len(low) + 1))
    passing = w * (m - 1) + (0 if high else w) + len(low)
    checked = m < (1 << len(low)) and passing < padded
    zero = [ZERO] * w
    for s in low:
        odd = layer[-1] if len(layer) % 2 else None
        if odd is not None:
            layer = layer[:-1] if checked else layer + [zero]
        layer = [W.mux(b, s, layer[i + 1], layer[i]) for i in range(0, len(layer), 2)]
        if odd is not None and checked:
            layer.append(odd)
    out = layer[0]
    inside = W.lt(b, low, W.const_word(m, len(low))) if checked else None
    if high:
        outside_high = b.not_(W.or_tree(b, high))
        inside = outside_high if inside is None else b.and_(inside, outside_high)
    if inside is not None:
        out = [b.and_(inside, o) for o in out]
    return out


__all__ = ["lower", "ONE"]
