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
gate emissions. The buffer's final rehash merges gates that several operations share; a
comparison and the multiplexers it selects between its own operands (a compare-exchange),
or two multiplexers (min and max) on one pair, are one template, whose builder merges what
they share before anything is emitted (:meth:`_Planner._fuse`).
"""

from __future__ import annotations

import bisect
import time

import numpy as np

from yaogc.circuits import fixmath, jit
from yaogc.circuits import words as W
from yaogc.circuits.builder import ONE, ZERO, Builder
from yaogc.circuits.circuit import Circuit
from yaogc.circuits.heapkernel import heap_gates
from yaogc.circuits.lookup import MAX_BITS as LOOKUP_BITS, lookup_const
from yaogc.circuits.templates import GateBuffer, TooLarge
from yaogc.circuits.types import BoolType, uint

from . import ops
from .check import Elaborated
from .ir import gate_estimate


def adds_own_bits(inner, w: int) -> bool:
    """Whether a term of a sum of width ``w`` that zero-extends a word of type ``inner`` adds
    only that word's bits to the sum's bit heap (the other bits are constant zeros)."""
    return not ops.signed(inner) and inner.width < w


# operations that only rearrange their operands' wires (no gates)
_WIRING = frozenset(("const", "input", "shl", "shr", "rotl", "rotr", "resize", "reinterp",
                     "bit"))


def lower(e: Elaborated, progress=None, max_gates: int | None = None) -> Circuit:
    """The circuit of ``e``. ``progress(phase, gates, seconds)`` is called now and then;
    ``max_gates`` bounds the gates emitted (:class:`~yaogc.circuits.templates.TooLarge`)."""
    return emit(e, progress, max_gates).build()


def emit(e: Elaborated, progress=None, max_gates: int | None = None,
         soft_limit: int | None = None) -> GateBuffer:
    """The gates of ``e`` in a buffer, before the passes over the whole buffer
    (:meth:`~yaogc.circuits.templates.GateBuffer.build` runs them): a caller that drops
    ``e`` first has its memory back for those passes. The buffer's ``passed_at`` is the
    source node of the operation whose gates first took it past ``soft_limit`` wires (or
    None), its ``first_at`` the first operation's."""
    g = e.graph
    roots = e.roots()
    planner = _Planner(g)
    waves = planner.plan(g.live(roots))
    buf = GateBuffer(e.name, e.parties, max_gates, expect=_estimate(planner, waves),
                     soft_limit=soft_limit)
    ports = [buf.input(party, name, t) for party, name, t in e.inputs]
    needed = planner.needed     # pure wiring is made only where something reads its wires
    for r in roots:
        needed[r] = 1
    words: dict[int, np.ndarray] = {}
    t0 = time.perf_counter()
    with jit.part_of(buf.expect):
        _emit_waves(g, planner, waves, buf, ports, needed, words, progress, t0)
    for rec, name, t, ns in e.outputs:
        out = [words[x] for x in ns]
        buf.output(rec, name, t, np.concatenate(out) if out else np.zeros(0, dtype=np.int64))
    if progress is not None:
        progress("lowered", buf.n_emitted, time.perf_counter() - t0)
    return buf


def _emit_waves(g, planner, waves, buf, ports, needed, words, progress, t0) -> None:
    """The planned groups' gates, wave by wave, into ``buf``; each operation's word into
    ``words``."""
    last = t0
    for groups, wiring in waves:
        for key, (members, operands) in groups.items():
            sig = planner.sigs[key]
            X = _gather(words, operands, planner.widths[key])
            fn = _gate_fn(sig)
            try:
                out = buf.apply(sig, fn, X)
            except TooLarge as big:     # named by a statement that makes these operations
                big.at = g.loc_of(members[0])
                raise
            if buf.passed_at is None and (buf.passed or not buf.first_at):
                # past the limit here (or, until then, the first operation: a circuit that
                # ends up over it by its constant gates alone is named there)
                at = g.loc_of(members[0])
                if buf.passed:
                    buf.passed_at = at
                buf.first_at = buf.first_at or at
            if type(sig[0]) is tuple:   # fused: the member's word, then the others' in turn
                cuts = fn.cuts
                words.update(zip(members, out[:, :cuts[1]]))
                others = [planner.fused[m] for m in members]
                for j in range(1, len(cuts) - 1):
                    words.update(zip([o[j - 1] for o in others], out[:, cuts[j]:cuts[j + 1]]))
            else:
                words.update(zip(members, out))
        for n in wiring:
            if needed[n]:
                words[n] = _wire(g, n, words, ports)
        if progress is not None:
            now = time.perf_counter()
            if now - last > 0.5:
                progress("lowering", buf.n_emitted, now - t0)
                last = now


def _estimate(planner, waves) -> int:
    """About how many gates the planned groups emit (the word library's costs per
    operation, as the gate budget counts them: about 1-4 times what they make)."""
    total = 0
    for groups, _ in waves:
        for key, (members, _) in groups.items():
            op, t, _, operands = planner.sigs[key]
            # a constant operand (a table's entry) costs by its significant bits: the zero
            # bits above them make no gates
            total += len(members) * gate_estimate(op, t, [
                u.width if c is None else min(u.width, ops.unsigned_bits(u, c).bit_length())
                for u, c in operands])
    return total


def _gather(words, operands, width: int) -> np.ndarray:
    """The input matrix of a group: per member (one row each), its operands' wires side by
    side. Every word in one concatenate, reshaped (np.stack per operand position takes a
    Python-level step per word inside numpy)."""
    if not width:
        return np.zeros((len(operands), 0), dtype=np.int64)
    flat = np.concatenate([words[a] for args in operands for a in args])
    return flat.reshape(len(operands), width)


class _Planner:
    """Plans nodes into waves: per wave, its groups (nodes of one key, with the operand
    nodes whose wires the lowering reads) and its pure wiring. Nodes of one key share a
    signature (operation, type, attribute, operand types and constant values): the key is a
    tuple of small ints interned per distinct part, which hashes in C, where a signature of
    frozen dataclasses hashed per node cost more than the rest of planning a large program.
    ``sigs[key]`` is the signature itself, ``widths[key]`` its operands' total width."""

    def __init__(self, g):
        self.g = g
        self.ids: dict = {}           # hashable part -> small int
        self.type_by_fields: dict = {}  # a type's _k -> its small int
        self.type_by_id: dict = {}    # id() of a type object of the graph -> its small int
        self.canon: list = []         # small int of a type -> its canonical type
        self.sigs: dict = {}          # key -> _Sig
        self.widths: dict = {}        # key -> total width of the operands
        self.entries: dict = {}       # operand key -> (canonical type, constant value)
        self.entry_width: dict = {}   # operand key -> its width
        self.entry_hashed: dict = {}  # operand key -> what _Sig's hash takes of its entry
        self.argkey = [0] * len(g)    # node -> what it contributes to its users' keys
        self.plain_key: dict = {}     # id() of a type object -> operand key of a non-constant
        self.needed = bytearray(len(g))   # node -> whether some planned node reads it
        self.fused: dict = {}         # node lowered with others (_fuse) -> those others

    def _id(self, x) -> int:
        got = self.ids.get(x)
        if got is None:
            got = self.ids[x] = len(self.ids)
        return got

    def _type(self, t) -> int:
        # the graph keeps its type objects alive, so their id() is a stable first key; equal
        # types that are distinct objects meet in the _k table (hashed in C)
        tid = self.type_by_id.get(id(t))
        if tid is None:
            tid = self.type_by_fields.get(t._k)
            if tid is None:
                tid = self.type_by_fields[t._k] = len(self.canon)
                self.canon.append(t)
            self.type_by_id[id(t)] = tid
        return tid

    def _plain_key(self, t) -> int:
        """The operand key of a node of type t that is not a constant."""
        k = self.plain_key[id(t)] = (self._type(t) << 32) | self._id(None)
        return k

    def _const_key(self, t, value) -> int:
        cid = self.ids.get(value)
        if cid is None:
            cid = self._id(value)
        return (self._type(t) << 32) | cid

    def plan(self, live) -> list[tuple[dict, list]]:
        """Per wave: {key: (member nodes, their operand tuples)} and the wiring nodes. A
        node's wave is one more than its operands' deepest (pure wiring adds none); nodes
        come in ascending (topological) order, so operands are planned before their users.
        One loop over locals, as it runs once per IR node of a program that may have
        millions."""
        g = self.g
        gop, gtype, gargs, gattr = g._op, g._type, g._args, g._attr
        ids, sigs, ak, need = self.ids, self.sigs, self.argkey, self.needed
        akget = ak.__getitem__
        plain = self.plain_key
        later = {}       # a node lowered with an earlier one (_fuse) -> that one
        # a comparison is fused only with multiplexers: none in the graph, none looked for
        fusable = _FUSABLE if not _SELECTS.isdisjoint(gop) else ()
        wave = [0] * len(gop)
        waves: list[tuple[dict, list]] = []
        for n in live:
            op = gop[n]
            if op == "const":
                mine = self._const_key(gtype[n], gattr[n])
            else:
                t = gtype[n]
                mine = plain.get(id(t))
                if mine is None:
                    mine = self._plain_key(t)
            ak[n] = mine
            args = gargs[n]
            if op == "sum":
                args = self._sum_terms(n, args)
            elif op in fusable:
                if n in later:      # lowered with the node it was fused with, in its wave
                    wave[n] = wave[later[n]]
                    continue
                got = self._fuse(n, op, args, live)
                if got is not None:
                    op, nodes = got
                    for m in nodes:
                        later[m] = n
                    self.fused[n] = nodes
            d = 0
            for a in args:
                need[a] = 1
                if wave[a] > d:
                    d = wave[a]
            wiring = op in _WIRING
            if not wiring:
                d += 1
            wave[n] = d
            while len(waves) <= d:
                waves.append(({}, []))
            if wiring:
                waves[d][1].append(n)
                continue
            attr = gattr[n]
            aid = ids.get(attr)
            if aid is None:
                aid = self._id(attr)
            opid = ids.get(op)
            if opid is None:
                opid = self._id(op)
            key = (opid, mine >> 32, aid, *map(akget, args))
            groups = waves[d][0]
            grp = groups.get(key)
            if grp is None:
                if key not in sigs:
                    self._sign(key, op, mine >> 32, attr, args)
                groups[key] = ([n], [args])
            else:
                grp[0].append(n)
                grp[1].append(args)
        return waves

    def _fuse(self, n: int, op: str, args: tuple, live: list[int]):
        """(fused operation, the later nodes it also makes) when node n and later nodes of
        the graph on the same operands are lowered by one template (see _FUSABLE), else
        None. The fused operation lists its parts: (op, type, attr, inputs), an input i >= 0
        the template's operand i, i < 0 the word of part -i - 1; part 0 is node n."""
        g = self.g
        find, gtype = g.find, g._type
        # the lookups first, the common outcome being that there is nothing to fuse
        if op == "lt" or op == "le":
            x, y = args
            t = gtype[x]
            cands = [(m, ins) for m, ins in ((find("mux", t, (n, x, y)), (-1, 0, 1)),
                                            (find("mux", t, (n, y, x)), (-1, 1, 0)))
                     if m is not None and m > n and _has(live, m)]
            if not cands:
                return None
            cands.sort()        # in the order the nodes were made, as apart
            parts = [("mux", gtype[m], None, ins) for m, ins in cands]
            nodes = [m for m, _ in cands]
        else:
            other, ins = _TWIN[op]
            t, attr = gtype[n], g._attr[n]
            m = find(other, t, tuple(map(args.__getitem__, ins)), attr)
            if m is None or m < n or not _has(live, m):
                return None
            parts, nodes = [(other, t, attr, ins)], [m]
        own = (op, gtype[n], g._attr[n], tuple(range(len(args))))
        return ("fused", (own, *parts)), tuple(nodes)

    def _sum_terms(self, n: int, args) -> tuple:
        """A sum's operands, zero-extended terms by their inner word: they add only their
        own bits."""
        g = self.g
        gop, gargs, gtype = g._op, g._args, g._type
        w = gtype[n].width
        narrower: dict = {}      # id() of an inner type -> whether its terms add their own bits
        eff = list(args)
        for i, x in enumerate(args):
            if gop[x] == "resize":
                inner = gargs[x][0]
                it = gtype[inner]
                own = narrower.get(id(it))
                if own is None:
                    own = narrower[id(it)] = adds_own_bits(it, w)
                if own:
                    eff[i] = inner
        return tuple(eff)

    def _sign(self, key, op: str, tid: int, attr, args) -> None:
        """Make the signature of a new key. A long sum has thousands of operands but few
        distinct operand keys: each distinct one is looked at once."""
        g, entries = self.g, self.entries
        keys = key[3:]
        for k, a in dict(zip(keys, args)).items():
            if k not in entries:
                t = self.canon[k >> 32]
                c = g.const_value(a)
                entries[k] = (t, c)
                self.entry_width[k] = t.width
                self.entry_hashed[k] = (id(t), c)
        t = self.canon[tid]
        sig = _Sig(op, t, attr, tuple(map(entries.__getitem__, keys)))
        sig.__dict__["h"] = hash((op, id(t), attr,
                                  tuple(map(self.entry_hashed.__getitem__, keys))))
        self.sigs[key] = sig
        self.widths[key] = sum(map(self.entry_width.__getitem__, keys))


# Nodes on the same operands lowered by one template, whose builder merges what they share,
# where separate templates would each emit it for the hash-consing to merge afterwards (the
# gates kept are the same): a comparison x < y (or <=) with the multiplexers c ? x : y and
# c ? y : x that it selects (a compare-exchange: the comparator and the multiplexers share
# x ^ y, the multiplexers its AND with c), else c ? x : y with c ? y : x, min(x, y) with
# max(x, y). _TWIN: op -> (its twin's op, the twin's operands as indices of this node's)
_TWIN = {"min": ("max", (0, 1)), "max": ("min", (0, 1)), "mux": ("mux", (0, 2, 1))}
_FUSABLE = frozenset(("lt", "le", *_TWIN))
_SELECTS = frozenset(_TWIN)


def _has(ascending: list[int], n: int) -> bool:
    i = bisect.bisect_left(ascending, n)
    return i < len(ascending) and ascending[i] == n


class _Sig(tuple):
    """A signature whose hash (by the identity of its canonical types) is computed once: a
    long sum's signature has an operand entry per term."""

    def __new__(cls, *items):
        return tuple.__new__(cls, items)

    def __hash__(self):
        h = self.__dict__.get("h")     # the planner sets it from its per-operand parts
        if h is None:
            h = self.__dict__["h"] = hash((self[0], id(self[1]), self[2],
                                           tuple([(id(t), c) for t, c in self[3]])))
        return h

    def __eq__(self, other):
        return tuple.__eq__(self, other)

    def __ne__(self, other):
        return tuple.__ne__(self, other)


def _wire(g, n: int, words, ports) -> np.ndarray:
    op, t, attr = g._op[n], g._type[n], g._attr[n]
    w = t.width
    if op == "input":
        port, off = attr
        return ports[port][off:off + w]
    if op == "const":
        return np.array(W.const_word(attr, w), dtype=np.int64)
    args = g._args[n]
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


def _cuts(parts, widths) -> list[int]:
    """Where each part's word starts in a fused template's output, and where the last ends:
    a comparison is one bit, a multiplexer as wide as its choices, min and max as their
    operands."""
    cuts = [0]
    for op, _, _, ins in parts:
        if op in ("lt", "le"):
            w = 1
        else:
            i = ins[1] if op == "mux" else ins[0]
            w = widths[i] if i >= 0 else cuts[-i] - cuts[-i - 1]
        cuts.append(cuts[-1] + w)
    return cuts


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
            if type(op) is not tuple:
                return _gates(b, op, t, attr, argsig, words)
            outs = []
            for pop, pt, pattr, ins in op[1]:
                outs.append(list(_gates(b, pop, pt, pattr,
                                        tuple([argsig[i] if i >= 0 else (op[1][-i - 1][1], None)
                                               for i in ins]),
                                        [words[i] if i >= 0 else outs[-i - 1] for i in ins])))
            return [w for o in outs for w in o]
        if type(op) is tuple:
            fn.cuts = _cuts(op[1], widths)
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
