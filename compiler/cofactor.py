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
that die with it). It gives up past MAX_LEAVES leaves, when the read's cone passes MAX_CONE
nodes, or where the index depends on anything but booleans and constants. Copies that lose
stay unused in the graph and are never lowered. A program gets at most BUDGET expansions (its
first reads in program order): that bounds the compile time of thousands of walks, where
each expansion costs tens of microseconds for a few percent of ANDs.

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
MAX_CONE = 16384        # nodes summarised per expansion (the read's cone)
BUDGET = 4096           # expansions per program (see above)


class _GiveUp(Exception):
    """An expansion past its limits: the read stays as it was."""


def cofactor(e: Elaborated) -> Elaborated:
    """A copy of ``e`` where reads through an index made of booleans are expanded over those
    booleans, when the estimate says that has fewer ANDs; ``e`` when none is."""
    src = e.graph
    if "index" not in src._op:      # no array read at all (a scan at C speed)
        return e
    roots = e.roots()
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
    cands -= _inner_reads(src, cands, live, roots)
    new = WordGraph(noting=False)
    m: dict[int, int] = {}
    made: set[int] = set()      # the new graph's nodes some source node became
    changed = False
    budget = [BUDGET]
    for n in live:
        y = new.copy_of(src, n, m)
        if n in cands and budget[0] > 0:
            got = _try(src, new, m, made, n, y, uses, budget)
            if got is not None:
                y = got
                changed = True
        m[n] = y
        made.add(y)
    if not changed:
        return e
    return e.rebuilt(new, m)


def _inner_reads(src: WordGraph, cands: set[int], live, roots) -> set[int]:
    """The boolean reads among ``cands`` that only feed other candidates' indices (a tree's
    choice of a level's test): expanding the outer read folds them anyway, so expanding
    them first as well would only cost compile time."""
    sargs, stype = src._args, src._type
    path: set[int] = set()
    for n in cands:
        stack = [sargs[n][0]]
        while stack:
            x = stack.pop()
            if x in path:
                continue
            path.add(x)
            if type(stype[x]) is not BoolType:
                stack.extend(sargs[x])
    inner = {n for n in cands if type(stype[n]) is BoolType and n in path}
    if not inner:
        return inner
    outside = set(roots) & inner
    for x in live:
        if x not in path:
            for a in sargs[x]:
                if a in inner:
                    outside.add(a)
    return inner - outside


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


def _try(src, new: WordGraph, m, made, r: int, y: int, uses, budget) -> int | None:
    """The expansion of read r (y in the new graph), or None where it is not estimated to
    cost fewer ANDs than the nodes that die with r. ``budget[0]``: expansions left."""
    dying = _fanout_free_cone(src, r, uses)
    mapped = {m[x] for x in dying if x != r} | {y}
    before = sum(_ands(new, x) for x in mapped)
    start = len(new._op)
    ex = _Expansion(new)
    try:
        got = ex.go(y)
    except _GiveUp:
        return None
    finally:
        budget[0] -= max(1, len(ex.done))
    if got == y:
        return None

    def kept(x: int) -> bool:       # computed whatever becomes of r
        return x < start and x not in mapped and x in made
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
    index, down to reads through constant indices (which fold to items).

    A rebuild for ``v := c`` visits only the nodes that depend on v: each node's cone is
    summarised once as a bit set of the booleans (and of ``extra``, the other nodes that
    may be replaced) in it, at or above ``floor`` (nothing below the earliest replaced node
    can depend on it), so a tree's many tests are not walked again at every level."""

    def __init__(self, g: WordGraph, extra=()):
        self.g = g
        self.done: dict[int, int] = {}
        self.support: dict[int, frozenset | None] = {}
        self.leaves = 0
        self.extra = frozenset(extra)
        self.bit: dict[int, int] = {}
        self.dep: dict[int, int] = {}
        self.floor: int | None = None

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
        one = self._rebuild(x, v, g.true())
        zero = self._rebuild(x, v, g.false())
        if one == x or zero == x:      # x did not depend on v after all: never expand again
            raise _GiveUp
        got = g.make("mux", g._type[x], (v, self.go(one), self.go(zero)))
        self.done[x] = got
        return got

    def _deps(self, x: int) -> int:
        """The bit set of the replaceable nodes x depends on (x included)."""
        dep, floor = self.dep, self.floor
        if x < floor:
            return 0
        got = dep.get(x)
        if got is not None:
            return got
        g = self.g
        args, types = g._args, g._type
        stack = [x]
        while stack:
            y = stack[-1]
            if y in dep:
                stack.pop()
                continue
            todo = [a for a in args[y] if a >= floor and a not in dep]
            if todo:
                stack.extend(todo)
                continue
            m = 0
            for a in args[y]:
                if a >= floor:
                    m |= dep[a]
            if type(types[y]) is BoolType or y in self.extra:
                b = self.bit.get(y)
                if b is None:
                    b = self.bit[y] = len(self.bit)
                m |= 1 << b
            dep[y] = m
            stack.pop()
            if len(dep) > MAX_CONE:
                raise _GiveUp
        return dep[x]

    def _rebuild(self, root: int, v: int, c: int) -> int:
        """root with node v replaced by the constant c (the nodes between them rebuilt)."""
        if self.floor is None or v < self.floor:
            self.floor = v          # a node below the floor may now be replaced
            self.dep.clear()
        g = self.g
        self._deps(v)
        vb = 1 << self.bit[v]
        if not self._deps(root) & vb:
            return root
        # _deps(root) summarised every node of root's cone at or above the floor; those
        # below it cannot depend on v
        args, dep = g._args, self.dep.get
        out = {v: c}
        stack = [root]
        while stack:
            y = stack[-1]
            if y in out:
                stack.pop()
                continue
            todo = [a for a in args[y] if dep(a, 0) & vb and a not in out]
            if todo:
                stack.extend(todo)
                continue
            na = tuple([out.get(a, a) for a in args[y]])
            op, t = g._op[y], g._type[y]
            k = g.const_value(na[0]) if op == "index" else None
            if k is not None:
                out[y] = na[1 + k] if 0 <= k < len(na) - 1 else g.const(t, 0)
            else:
                out[y] = g.make(op, t, na, g._attr[y])
            stack.pop()
        return out[root]


def fold_guarded_reads(e: Elaborated) -> Elaborated:
    """A copy of ``e`` where the branch of a multiplexer that runs only when a secret index s
    equals a constant K reads through s as through K (module docstring), where the ANDs
    estimate is lower; ``e`` when it is nowhere."""
    src = e.graph
    if "index" not in src._op or "mux" not in src._op:
        return e
    roots = e.roots()
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
    new = WordGraph(noting=False)
    m: dict[int, int] = {}
    changed = False
    own: dict[int, int] = {}
    # per index: one expansion for all the multiplexers it guards (the K elements a write
    # through it makes), which summarises the nodes that depend on it once
    shared: dict[int, _Expansion] = {}
    for n in live:
        y = new.copy_of(src, n, m)
        g = guards.get(n)
        if g is not None:
            t, args = stype[n], tuple([m[a] for a in sargs[n]])
            s_, k, side = g
            branch = sargs[n][side]
            start = len(new._op)
            folded = _fold_through(new, shared, args[side], m[s_], new.const(stype[s_], k))
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


def _fold_through(g: WordGraph, shared: dict, root: int, v: int, c: int) -> int:
    """``root`` with node v replaced by the constant c, or root itself past the expansion's
    limits. The expansion of v that earlier folds made is used again: its summaries hold
    for every later node too (a node's cone never changes). Past MAX_CONE summarised nodes
    it gives up; the fold then runs with an expansion of its own, which gives up exactly
    where a fresh one would (a node it summarises is one the shared one summarised)."""
    ex = shared.get(v)
    if ex is None:
        ex = shared[v] = _Expansion(g, (v,))
    try:
        return ex._rebuild(root, v, c)
    except _GiveUp:
        del shared[v]       # its summaries are many: the next fold starts a new one
    try:
        return _Expansion(g, (v,))._rebuild(root, v, c)
    except _GiveUp:
        return root


__all__ = ["cofactor", "fold_guarded_reads"]
