"""Word operations emitted as gate templates: build one instance gate by gate, stamp out many.

A word operation of given widths on inputs with a given *pattern* (which input bits are
constants, which are the same wire or its negation, and, for operations that choose their
structure by AND-depth, the inputs' relative depths) always emits the same gates. The
:class:`GateBuffer` therefore runs a word-library function once on a scratch
:class:`~yaogc.circuits.builder.Builder`, keeps the gates it emitted as a :class:`Template`,
and instantiates it for every row of an input matrix with array arithmetic: M instances of a
G-gate template cost one compiled loop over G x M gates instead of G x M Python calls.

Templates fold constants and hash-cons within one instance, exactly as the Builder would;
sharing between instances (the same gate computed twice) is left to the
:func:`~yaogc.circuits.rehash.rehash` pass over the whole buffer (a
:class:`~yaogc.circuits.rehash.Rehasher`, which starts on the gates emitted so far on another
core while the lowering goes on), which applies the Builder's rules again, so the result
matches emitting every gate through one Builder.

The buffer keeps the gates in *builder space* (wire 0 and 1 are the constants, input bits are
``INPUT`` nodes) together with every wire's AND-depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable, Sequence

import numpy as np

from .builder import ONE, ZERO, Builder, assemble
from .circuit import Circuit, Op
from . import freemem, jit
from .jit import kernel
from .rehash import INPUT, MAX_WIRES, Rehasher, live_mask

_XOR, _AND, _NOT = int(Op.XOR), int(Op.AND), int(Op.NOT)


class TooLarge(Exception):
    """The circuit outgrew the gate budget; ``gates`` is how many it had reached. ``at``: the
    source node of the operation being emitted, where the caller knows it."""

    def __init__(self, gates: int, limit: int):
        super().__init__(gates, limit)
        self.gates, self.limit = gates, limit
        self.at = None


@dataclass(frozen=True, eq=False)
class Template:
    """The gates of one instance. Operand and output references: 0 and 1 the constants,
    ``2 .. 2+leaves-1`` the distinct input wires, ``2+leaves+j`` the template's gate j."""
    leaves: int
    op: np.ndarray        # (G,) uint8
    a: np.ndarray         # (G,) int64
    b: np.ndarray         # (G,) int64
    outs: np.ndarray      # (n_out,) int64
    sensitive: bool       # the function read the inputs' AND-depths

    @property
    def n_gates(self) -> int:
        return int(self.op.size)


class _Scratch(Builder):
    """A Builder whose leaves are anonymous input bits at given AND-depths, and which notes
    whether the function it serves looked at any AND-depth."""

    def __init__(self):
        super().__init__("template")
        self.read_levels = False

    def leaves(self, levels: Sequence[int]) -> list[int]:
        start = len(self._op)
        n = len(levels)
        self._op.extend([255] * n)
        self._a.extend([-1] * n)
        self._b.extend([-1] * n)
        self._lev.extend(int(x) for x in levels)
        return list(range(start, start + n))

    def and_level(self, w: int) -> int:
        self.read_levels = True
        return self._lev[w]


def make_template(fn: Callable[[Builder, list[int]], Sequence[int]], code: Sequence[int],
                  levels: Sequence[int]) -> Template:
    """Run ``fn`` on a scratch builder. ``code`` per input bit: ``-1``/``-2`` the constant
    0/1, else ``2 * leaf + inverted``; ``levels`` per leaf, its AND-depth. A function with a
    ``native(code, levels)`` attribute builds its gates itself (a compiled kernel returning
    builder-space arrays whose wires 2.. are the leaves, and its outputs)."""
    native = getattr(fn, "native", None)
    if native is not None:
        op, a, b, outs = native(np.asarray(code, dtype=np.int64),
                                np.asarray(levels, dtype=np.int64))
        return _extract(op, a, b, len(levels), np.asarray(outs, dtype=np.int64), True)
    s = _Scratch()
    leaf_w = s.leaves(levels)
    bits = []
    for c in code:
        if c < 0:
            bits.append(ZERO if c == -1 else ONE)
        else:
            w = leaf_w[c >> 1]
            bits.append(s.not_(w) if c & 1 else w)
    outs = [int(w) for w in fn(s, bits)]
    return _extract(np.array(s._op, dtype=np.uint8), np.array(s._a, dtype=np.int64),
                    np.array(s._b, dtype=np.int64), len(leaf_w),
                    np.array(outs, dtype=np.int64), s.read_levels)


def _extract(op, a, b, n_leaves: int, outs: np.ndarray, sensitive: bool) -> Template:
    """The live gates of builder-space arrays (wires 2 .. 2+n_leaves-1 the leaves) as a
    Template, in emission order."""
    live = live_mask(op, a, b, outs)
    first_gate = 2 + n_leaves
    gates = first_gate + np.flatnonzero(live[first_gate:])
    ref = np.full(op.size, -1, dtype=np.int64)
    ref[0], ref[1] = 0, 1
    ref[2:first_gate] = 2 + np.arange(n_leaves)
    ref[gates] = first_gate + np.arange(gates.size)
    ta, tb = a[gates], b[gates]
    ta = np.where(ta >= 0, ref[np.maximum(ta, 0)], -1)
    tb = np.where(tb >= 0, ref[np.maximum(tb, 0)], -1)
    return Template(n_leaves, op[gates], ta, tb, ref[outs], sensitive)


@kernel(inline=True)
def _wire_of(r, first, X, m, start):
    """The wire a template reference stands for in instance m (gates from ``start``)."""
    if r < 2:
        return r
    if r < first:
        return X[m, r - 2]
    return start + (r - first)


@kernel
def _instantiate(top, ta, tb, n_leaves, X, base, op, a, b, lev):
    # instance after instance, each one's gates contiguous: a template's gates read gates
    # of their own instance, so the rehash pass that follows finds its operands in cache
    G = top.size
    M = X.shape[0]
    first = 2 + n_leaves
    for m in range(M):
        start = base + m * G
        for j in range(G):
            o = top[j]
            ra = ta[j]
            rb = tb[j]
            w = start + j
            x = _wire_of(ra, first, X, m, start)
            op[w] = o
            a[w] = x
            if o == 2:
                b[w] = -1
                lev[w] = lev[x]
            else:
                y = _wire_of(rb, first, X, m, start)
                b[w] = y
                la = lev[x]
                lb = lev[y]
                lev[w] = (la if la > lb else lb) + (1 if o == 1 else 0)


@kernel
def _leaf_codes(X, op, a, lev, base, code, rel):
    """Per row of the wire matrix X: each input bit's base wire (a NOT's operand), its code
    for the template (``-1``/``-2`` a constant 0/1, else ``2 * first + inverted``, where
    ``first`` is the first column of the row holding the same base wire: aliases share a
    leaf) and its AND-depth relative to the row's shallowest non-constant input."""
    M, k = X.shape
    size = 16
    while size < 2 * k:
        size *= 2
    slot_wire = np.empty(size, dtype=np.int64)
    slot_col = np.empty(size, dtype=np.int64)
    mask = size - 1
    for m in range(M):
        slot_wire[:] = -1
        low = 2147483647
        for j in range(k):
            x = X[m, j]
            inv = 0
            if op[x] == 2:
                x = a[x]
                inv = 1
            base[m, j] = x
            if x <= 1:
                code[m, j] = -1 - x
                continue
            i = (x * 0x9E3779B1) & mask
            while slot_wire[i] >= 0 and slot_wire[i] != x:
                i = (i + 1) & mask
            if slot_wire[i] < 0:
                slot_wire[i] = x
                slot_col[i] = j
            code[m, j] = 2 * slot_col[i] + inv
            d = lev[x]
            if d < low:
                low = d
        for j in range(k):
            if base[m, j] <= 1:
                rel[m, j] = 0
            else:
                rel[m, j] = lev[base[m, j]] - low


def leaf_codes_numpy(X, op, a, lev):
    """:func:`_leaf_codes` with whole-array operations: (base, code, rel)."""
    M, k = X.shape
    isnot = op[X] == _NOT
    base = np.where(isnot, a[X], X)
    const = base <= ONE
    # per row, the first column holding the same base wire (a stable sort puts it first)
    order = np.argsort(base, axis=1, kind="stable")
    srt = np.take_along_axis(base, order, 1)
    start = np.ones(srt.shape, dtype=bool)
    start[:, 1:] = srt[:, 1:] != srt[:, :-1]
    pos = np.maximum.accumulate(np.where(start, np.arange(k), 0), axis=1)
    first = np.empty_like(order)
    np.put_along_axis(first, order, np.take_along_axis(order, pos, 1), 1)
    code = np.where(const, -1 - base, 2 * first + isnot)
    levels = np.where(const, 0, lev[base]).astype(np.int64)
    big = np.iinfo(np.int32).max
    low = np.where(const, big, levels).min(axis=1, initial=big)
    rel = np.where(const, 0, levels - low[:, None])
    return base, code, rel


def _group_rows(key: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(row, indices of the rows equal to it) per distinct row, in order of first
    occurrence. Rows are hashed to one word first (np.unique over whole rows sorts them as
    records, which is slow); a collision falls back to the exact method."""
    M, k = key.shape
    weights = _WEIGHTS[:k] if k <= _WEIGHTS.size else \
        np.resize(_WEIGHTS, k) * np.uint64(k | 1)
    with np.errstate(over="ignore"):
        h = (key.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if not (key == key[first[inverse]]).all():
        _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
    rows = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[rows], np.arange(first.size + 1))
    groups = [(key[first[g]], rows[bounds[g]:bounds[g + 1]]) for g in range(first.size)]
    groups.sort(key=lambda t: int(t[1][0]))
    return groups


def _splitmix(n: int) -> np.ndarray:
    out, x = [], 0x9E3779B97F4A7C15
    for _ in range(n):
        x = (x + 0x9E3779B97F4A7C15) & (2**64 - 1)
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
        out.append((z ^ (z >> 31)) | 1)
    return np.array(out, dtype=np.uint64)


_WEIGHTS = _splitmix(4096)


class GateBuffer:
    """Gates in builder space, in growable arrays, emitted a template at a time."""

    def __init__(self, name: str = "circuit", parties: Sequence[str] = (),
                 max_gates: int | None = None, expect: int = 0,
                 soft_limit: int | None = None):
        """``expect``: about how many gates will be emitted (see :class:`Rehasher`);
        ``soft_limit``: wires past which ``passed`` is set."""
        self.name = name
        self.expect = expect
        self.parties = tuple(parties)
        self.max_gates = max_gates
        # past this many wires emitted, ``passed`` is set; the caller notes where it was
        # (``passed_at``, and the first operation's place, ``first_at``), to name it should
        # the circuit made stay over the limit once gates are merged
        self.soft_limit = soft_limit
        self.passed = False
        self.passed_at = self.first_at = None
        cap = 1 << 16
        self.op = np.empty(cap, dtype=np.uint8)
        # wire numbers stay below MAX_WIRES (_reserve): 4 bytes each, half the memory the
        # lowering writes (and faults in) for its operands
        self.a = np.empty(cap, dtype=np.int32)
        self.b = np.empty(cap, dtype=np.int32)
        self.lev = np.empty(cap, dtype=np.int32)
        self.op[:2] = (int(Op.CONST0), int(Op.CONST1))
        self.a[:2] = self.b[:2] = -1
        self.lev[:2] = 0
        self.n = 2
        self._templates: dict = {}
        self._sensitive: dict = {}
        self._inputs: list = []
        self._outputs: list = []
        # folds and hash-conses the gates emitted so far on another core, while more come
        self._rehasher = Rehasher(push_not=True, expect=expect)

    # --- storage ------------------------------------------------------------------------
    def _reserve(self, k: int) -> int:
        need = self.n + k
        if self.soft_limit is not None and need > self.soft_limit:
            self.passed = True
        if self.max_gates is not None and need > self.max_gates:
            raise TooLarge(need, self.max_gates)
        if need >= MAX_WIRES:       # the passes after number wires in 30 bits
            raise TooLarge(need, MAX_WIRES - 1)
        cap = self.op.size
        if need > cap:
            while cap < need:
                cap *= 2
            for name in ("op", "a", "b", "lev"):
                old = getattr(self, name)
                new = np.empty(cap, dtype=old.dtype)
                new[:self.n] = old[:self.n]
                setattr(self, name, new)
        start = self.n
        self.n = need
        return start

    def input(self, party: str, name: str, type) -> np.ndarray:
        """Declare an input port; returns its wires, bit 0 first."""
        k = type.width
        s = self._reserve(k)
        self.op[s:s + k] = INPUT
        self.a[s:s + k] = -1
        self.b[s:s + k] = -1
        self.lev[s:s + k] = 0
        wires = np.arange(s, s + k, dtype=np.int64)
        self._inputs.append((party, name, type, wires))
        return wires

    def output(self, recipients, name: str, type, wires) -> None:
        if isinstance(recipients, str):
            recipients = (recipients,)
        self._outputs.append((tuple(recipients), name, type, np.asarray(wires, dtype=np.int64)))

    # --- templates -------------------------------------------------------------------------
    def apply(self, sig: Hashable, fn: Callable[[Builder, list[int]], Sequence[int]],
              X: np.ndarray) -> np.ndarray:
        """``fn`` applied to every row of the (M, k) wire matrix ``X``: an (M, n_out) wire
        matrix. ``sig`` must determine ``fn`` (equal signatures, equal functions)."""
        X = np.ascontiguousarray(X, dtype=np.int64)
        M, k = X.shape
        if jit.use_compiled(M * k, __name__):
            base = np.empty((M, k), dtype=np.int64)
            code = np.empty((M, k), dtype=np.int64)
            rel = np.empty((M, k), dtype=np.int64)
            _leaf_codes(X, self.op, self.a, self.lev, base, code, rel)
        else:    # as plain Python, whole-array numpy is the faster
            base, code, rel = leaf_codes_numpy(X, self.op, self.a, self.lev)
        sensitive = self._sensitive.get(sig, True)
        if M == 1 or ((code == code[0]).all() and (not sensitive or (rel == rel[0]).all())):
            # one pattern for every row (the common case): no key matrix to build
            first = np.concatenate([code[0], rel[0]]) if sensitive else code[0]
            groups = [(first, np.arange(M))]
        else:
            groups = _group_rows(np.concatenate([code, rel], axis=1) if sensitive else code)
        out = None
        for krow, rows in groups:
            c = krow[:k]
            leafcols = np.flatnonzero((c >= 0) & ((c >> 1) == np.arange(k)))
            remap = np.full(k, -1, dtype=np.int64)
            remap[leafcols] = np.arange(leafcols.size)
            tcode = np.where(c >= 0, 2 * remap[np.maximum(c >> 1, 0)] + (c & 1), c)
            tkey = (sig, krow.tobytes())
            t = self._templates.get(tkey)
            if t is None:
                r0 = int(rows[0])
                t = make_template(fn, tcode.tolist(), rel[r0, leafcols].tolist())
                if sig not in self._sensitive:
                    self._sensitive[sig] = t.sensitive
                    if not t.sensitive:   # later calls key on the pattern alone
                        tkey = (sig, c.tobytes())
                self._templates[tkey] = t
            if rows.size != M:
                leaves = base[rows][:, leafcols]
            elif leafcols.size == k:       # every column its own leaf: all of them, in order
                leaves = base
            else:
                leaves = base[:, leafcols]
            o = self._stamp(t, np.ascontiguousarray(leaves))
            if out is None:
                if len(groups) == 1:
                    return o
                out = np.empty((M, o.shape[1]), dtype=np.int64)
            out[rows] = o
        if out is None:
            out = np.zeros((M, 0), dtype=np.int64)
        return out

    def _stamp(self, t: Template, leaves: np.ndarray) -> np.ndarray:
        M = leaves.shape[0]
        G = t.n_gates
        base = self._reserve(G * M)
        if G:
            jit.use_compiled(G * M, __name__)
            _instantiate(t.op, t.a, t.b, t.leaves, leaves, base, self.op, self.a, self.b,
                         self.lev)
            # the gates below n are written: fold and hash-cons them on another core
            self._rehasher.feed(self.op, self.a, self.b, self.n)
        outs = t.outs
        first = 2 + t.leaves
        res = np.empty((M, outs.size), dtype=np.int64)
        rng = np.arange(M, dtype=np.int64)
        for i, r in enumerate(outs.tolist()):
            if r < 2:
                res[:, i] = r
            elif r < first:
                res[:, i] = leaves[:, r - 2]
            else:
                res[:, i] = base + rng * G + (r - first)
        return res

    # --- finishing -------------------------------------------------------------------------
    @property
    def n_emitted(self) -> int:
        return self.n - 2

    def build(self) -> Circuit:
        """Fold, hash-cons and drop dead gates over everything emitted; the Circuit."""
        from .passes import compact
        n = self.n
        op, a, b = self.op[:n], self.a[:n], self.b[:n]
        self.op = self.a = self.b = self.lev = None   # the raw arrays are no longer needed
        freemem.release()     # what the lowering freed, before the passes' large arrays
        nop, na, nb, m = self._rehasher.finish(op, a, b)
        del op, a, b
        inputs = [(p, nm, t, m[w]) for (p, nm, t, w) in self._inputs]
        outputs = [(r, nm, t, m[w]) for (r, nm, t, w) in self._outputs]
        circuit = compact(self.name, self.parties, nop, na, nb, inputs, outputs, by_level=True)
        del nop, na, nb, m
        freemem.release()     # and what the passes freed, before the schedule's arrays
        return circuit
