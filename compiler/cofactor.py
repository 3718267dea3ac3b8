"""Shannon expansion of a secret-index read over the booleans its index is made of.

A read ``items[s]`` whose index s is computed from booleans only (the ``node = 2 * node + 1 +
u8(test)`` of a tree walked level by level) lowers to a multiplexer tree on the bits of s, and
those bits cost the additions that make them; a boolean of a later level is itself a read,
among that level's tests, through the index so far. Expanding the read over the earliest of
the booleans, b,

    items[s]  =  b ? items[s | b=1] : items[s | b=0]

(``s | b=c``: the nodes between b and the read rebuilt with b the constant c, which folds the
arithmetic and turns a read of tests through a now constant index into one test) and again
on both sides until the index is a constant selects among the items by the booleans
themselves. A decision tree of depth d whose every node's test is computed first
(:mod:`.speculate`) then costs its 2^d - 1 tests and 2^d - 1 multiplexers of the label width,
the bottom-up selection, and nothing for the walk.

The expansion replaces the read where its estimated ANDs (the multiplexers and the nodes it
needs that nothing else keeps) are fewer than those of the read's fanout-free cone (the nodes
that die with it). It gives up past MAX_LEAVES leaves, when a rebuilt cone passes MAX_WALK
nodes, or where the index depends on anything but booleans and constants. Copies that lose
stay unused in the graph and are never lowered.

The same rebuild serves a multiplexer whose condition fixes an index:
:func:`fold_guarded_reads` rewrites ``(s == K) ? x : y`` with every read through s in x
folded to item K (``x | s=K``), and ``(s != K) ? x : y`` likewise in y. A write through a
secret index, ``h[s] += 1``, is such a multiplexer per element (``h[K] = (s == K) ? h[s] + 1
: h[K]``): each element becomes ``h[K] + (s == K)``, a sum of booleans over the loop, not a
read of all elements and a multiplexer per element.
"""

from __future__ import annotations

from yaogc.circuits.types import BoolType

from .check import Elaborated
from .ir import WordGraph
from .speculate import _ands, _new_nodes

MAX_VARS = 8            # booleans an index may be made of directly
MAX_LEAVES = 64         # items an expansion may select among
MAX_WALK = 4096         # nodes between a boolean and the read, per rebuild


class _GiveUp(Exception):
    pass


def cofactor(e: Elaborated) -> Elaborated:
    """A copy of ``e`` where reads through an index made of booleans are expanded over those
    booleans, when the estimate says that has fewer ANDs; ``e`` when none is."""
    src = e.graph
    if "index" not in src._op:      # no array read at all (a scan at C speed)
        return e
    roots = [n for out in e.outputs for n in out[3]]
    live = src.live(roots)
    sop, stype, sargs = src._op, src._type, src._args
    reads = [n for n in live if sop[n] == "index" and sop[sargs[n][0]] != "const"
             and type(stype[sargs[n][0]]) is not BoolType]
    if not reads:
        return e
    memo: dict[int, frozenset | None] = {}
    cands = {n for n in reads if _support(src, sargs[n][0], memo)}
    if not cands:
        return e
    uses, _ = src.use_counts(live, roots)
    new = WordGraph()
    m: dict[int, int] = {}
    inv: dict[int, list[int]] = {}
    changed = False
    for n in live:
        y = new.copy_of(src, n, m)
        if n in cands:
            got = _try(src, new, m, inv, n, y, uses)
            if got is not None:
                y = got
                changed = True
        m[n] = y
        inv.setdefault(y, []).append(n)
    if not changed:
        return e
    return e.rebuilt(new, m)


def _support(g: WordGraph, s: int, memo) -> frozenset | None:
    """The booleans s is computed from (through operations on other types and constants), or
    None when it also depends on an input of another type or on more than MAX_VARS of them."""
    ops, types, args = g._op, g._type, g._args
    stack = [s]
    while stack:
        x = stack[-1]
        if x in memo:
            stack.pop()
            continue
        if ops[x] == "const":
            memo[x] = frozenset()
        elif type(types[x]) is BoolType and x != s:
            memo[x] = frozenset((x,))
        elif ops[x] == "input":
            memo[x] = None
        else:
            todo = [a for a in args[x] if a not in memo]
            if todo:
                stack.extend(todo)
                continue
            got: frozenset | None = frozenset()
            for a in args[x]:
                sub = memo[a]
                if sub is None:
                    got = None
                    break
                got = got | sub
            if got is not None and len(got) > MAX_VARS:
                got = None
            memo[x] = got
        stack.pop()
    return memo[s]


def _try(src, new: WordGraph, m, inv, r: int, y: int, uses) -> int | None:
    """The expansion of read r (y in the new graph), or None where it is not estimated to
    cost fewer ANDs than the nodes that die with r."""
    dying = _fanout_free_cone(src, r, uses)
    mapped = {m[x] for x in dying if x != r} | {y}
    before = sum(_ands(new, x) for x in mapped)
    start = len(new._op)
    try:
        got = _Expansion(new).go(y)
    except _GiveUp:
        return None
    if got == y:
        return None

    def kept(x: int) -> bool:       # computed whatever becomes of r
        return x < start and x not in mapped and x in inv
    after, seen, stack = 0, {got}, [got]
    while stack:
        x = stack.pop()
        if kept(x):
            continue
        after += _ands(new, x)
        for a in new._args[x]:
            if a not in seen:
                seen.add(a)
                stack.append(a)
    return got if after < before else None


def _fanout_free_cone(src, r: int, uses) -> set[int]:
    """r and the nodes every use of which is inside this set (they die with r)."""
    inside, stack, seen = {r}, [r], {}
    args, ops = src._args, src._op
    while stack:
        x = stack.pop()
        for a in args[x]:
            k = seen.get(a, 0) + 1
            seen[a] = k
            if k == uses[a] and a not in inside and ops[a] not in ("input", "const"):
                inside.add(a)
                stack.append(a)
    return inside


class _Expansion:
    """One read expanded in graph g: ``go(x)`` is x as multiplexers on the booleans of its
    index, down to reads through constant indices (which fold to items)."""

    def __init__(self, g: WordGraph):
        self.g = g
        self.done: dict[int, int] = {}
        self.support: dict[int, frozenset | None] = {}
        self.leaves = 0

    def go(self, x: int) -> int:
        got = self.done.get(x)
        if got is not None:
            return got
        g = self.g
        vs = None
        if g._op[x] == "index" and g._op[g._args[x][0]] != "const":
            vs = _support(g, g._args[x][0], self.support)
        if not vs:
            self.leaves += 1
            if self.leaves > MAX_LEAVES:
                raise _GiveUp
            self.done[x] = x
            return x
        v = min(vs)
        one = self.go(self._rebuild(x, v, g.true()))
        zero = self.go(self._rebuild(x, v, g.false()))
        got = g.make("mux", g._type[x], (v, one, zero))
        self.done[x] = got
        return got

    def _rebuild(self, root: int, v: int, c: int) -> int:
        """root with node v replaced by the constant c (the nodes between them rebuilt)."""
        g = self.g
        args = g._args
        seen, stack = {root}, [root]
        while stack:
            for a in args[stack.pop()]:
                if a > v and a not in seen:
                    seen.add(a)
                    stack.append(a)
                    if len(seen) > MAX_WALK:
                        raise _GiveUp
        mv = {v: c}
        for x in sorted(seen):
            xa = args[x]
            if not any(a in mv for a in xa):
                continue
            na = tuple([mv.get(a, a) for a in xa])
            op, t = g._op[x], g._type[x]
            k = g.const_value(na[0]) if op == "index" else None
            if k is not None:
                mv[x] = na[1 + k] if 0 <= k < len(na) - 1 else g.const(t, 0)
            else:
                mv[x] = g.make(op, t, na, g._attr[x])
        return mv.get(root, root)


def fold_guarded_reads(e: Elaborated) -> Elaborated:
    """A copy of ``e`` where the branch of a multiplexer that runs only when a secret index s
    equals a constant K reads through s as through K (module docstring), where the ANDs
    estimate is lower; ``e`` when it is nowhere."""
    src = e.graph
    if "index" not in src._op or "mux" not in src._op:
        return e
    roots = [n for out in e.outputs for n in out[3]]
    live = src.live(roots)
    sop, stype, sargs, sattr = src._op, src._type, src._args, src._attr
    selectors = {sargs[n][0] for n in live if sop[n] == "index"}
    guards = {}
    for n in live:
        if sop[n] != "mux":
            continue
        c = sargs[n][0]
        if sop[c] not in ("eq", "ne"):
            continue
        a, b = sargs[c]
        s_, k = (a, b) if sop[b] == "const" else (b, a)
        if s_ in selectors and sop[k] == "const" and sop[s_] != "const" and \
                stype[s_]._k == stype[k]._k:
            guards[n] = (s_, sattr[k], 1 if sop[c] == "eq" else 2)
    if not guards:
        return e
    uses, _ = src.use_counts(live, roots)
    new = WordGraph()
    m: dict[int, int] = {}
    changed = False
    own: dict[int, int] = {}
    for n in live:
        y = new.copy_of(src, n, m)
        g = guards.get(n)
        if g is not None:
            t, args = stype[n], tuple([m[a] for a in sargs[n]])
            s_, k, side = g
            branch = sargs[n][side]
            start = len(new._op)
            try:
                folded = _Expansion(new)._rebuild(args[side], m[s_], new.const(stype[s_], k))
            except _GiveUp:
                folded = args[side]
            if folded != args[side]:
                parts = list(args)
                parts[side] = folded
                y2 = new.make("mux", t, tuple(parts))
                if branch not in own:
                    own[branch] = sum(_ands(new, m[x])
                                      for x in _fanout_free_cone(src, branch, uses))
                # the branch dies when every multiplexer reading it folds: each pays its share
                before = _ands(new, y) + own[branch] / max(1, uses[branch])
                after = sum(_ands(new, x) for x in _new_nodes(new, [y2], start))
                if after < before:
                    y = y2
                    changed = True
        m[n] = y
    if not changed:
        return e
    return e.rebuilt(new, m)


__all__ = ["cofactor", "fold_guarded_reads"]
