"""Speculation over a small secret index: a test computed for every value the index can take,
then selected.

A secret index that can take only 2^b values (the low bits that :mod:`.narrow` leaves to
select among the nodes of one level of a tree) makes every array read it does a multiplexer
tree over 2^b items. When a boolean computed from those reads (``x > threshold[node]``) is
cheap for each fixed value of the index, because the reads then fold to array elements and
what they index becomes a constant (``record[F[node]]`` with a constant table F), it is
cheaper to compute that boolean for every value and select one bit among 2^b (2^b - 1 ANDs)
than to select whole words and compute it once. A decision tree walked with a secret node
index then costs about what it costs when every node's test is computed first.

For each boolean node r that depends on such an index s (the latest one when several), the
nodes between s and r (the cone) are rebuilt once per value of s, with the reads folded; the
rebuilt copies replace r when their estimated AND gates, plus the selection, are fewer than
those of the cone's nodes that only r uses. The estimate counts the word library's AND costs
(a comparison n, an addition n-1, a multiplexer n, a read of m secret items (m-1)n). The
copies that lose stay unused in the graph and are never lowered.
"""

from __future__ import annotations

from yaogc.circuits.types import BOOL, BoolType, IntType

from .check import Elaborated
from .ir import WordGraph, gate_estimate

MAX_BITS = 6            # an index of at most 64 values
MAX_CONE = 64           # nodes between the index and the test
BUDGET = 200_000        # copied nodes per program, at most (bounds the compile time)
_FREE = frozenset(("const", "input", "resize", "reinterp", "shl", "shr", "rotl", "rotr",
                   "xor", "not"))


def speculate(e: Elaborated) -> Elaborated:
    """A copy of ``e`` where tests on a small secret index are computed for each of its
    values and selected, when the estimate says that has fewer ANDs; ``e`` when none does."""
    src = e.graph
    if "index" not in src._op:      # no array read at all (a scan at C speed)
        return e
    roots = e.roots()
    live = src.live(roots)
    sop, stype, sargs = src._op, src._type, src._args
    selectors = {}
    for n in live:
        if sop[n] == "index":
            s = sargs[n][0]
            t = stype[s]
            if s not in selectors and type(t) is IntType and not t.signed \
                    and t.bits <= MAX_BITS and sop[s] != "const":
                selectors[s] = len(selectors)
    if not selectors:
        return e
    dep = {}
    for n in live:
        d = 0
        for a in sargs[n]:
            d |= dep.get(a, 0)
        if n in selectors:
            d |= 1 << selectors[n]
        if d:
            dep[n] = d
    uses, _ = src.use_counts(live, roots)
    users: dict[int, list[int]] = {}
    for n in live:
        for a in sargs[n]:
            if a in dep:
                users.setdefault(a, []).append(n)
    by_bit = {i: s for s, i in selectors.items()}
    plans = {}
    for n in live:
        if n in selectors or n not in dep or type(stype[n]) is not BoolType:
            continue
        if all(type(stype[u]) is BoolType for u in users.get(n, ())) and uses[n] > 0 \
                and n not in roots:
            continue        # a larger boolean above it is the candidate
        s = by_bit[dep[n].bit_length() - 1]
        cone = _cone(src, n, s, selectors[s], dep)
        if cone is not None:
            plans[n] = (s, cone)
    if not plans:
        return e
    new = WordGraph(noting=False)
    m: dict[int, int] = {}
    changed = False
    budget = BUDGET
    for n in live:
        m[n] = new.copy_of(src, n, m)
        plan = plans.get(n)
        if plan is not None and budget > 0:
            budget -= len(plan[1]) << src._type[plan[0]].bits
            got = _try(src, new, m, n, *plan, uses)
            if got is not None:
                m[n] = got
                changed = True
    if not changed:
        return e
    return e.rebuilt(new, m)


def _cone(src, r: int, s: int, bit: int, dep) -> list[int] | None:
    """The nodes r depends on that depend on s (s excluded, r included), ascending; None
    when there are too many."""
    seen, stack = {r}, [r]
    mask = 1 << bit
    while stack:
        n = stack.pop()
        for a in src._args[n]:
            if a != s and a not in seen and dep.get(a, 0) & mask:
                seen.add(a)
                stack.append(a)
                if len(seen) > MAX_CONE:
                    return None
    return sorted(seen)


def _try(src, new: WordGraph, m, r: int, s: int, cone: list[int], uses) -> int | None:
    """r's replacement, the selection among its copies for each value of s, or None when
    that is estimated to cost as many ANDs as the cone's nodes only r uses."""
    inside = set(cone)
    users_inside: dict[int, int] = {}
    for n in cone:
        for a in src._args[n]:
            if a in inside:
                users_inside[a] = users_inside.get(a, 0) + 1
    # a cone node used outside the cone is computed anyway
    own = [n for n in cone if n == r or users_inside.get(n, 0) == uses[n]]
    before = sum(_ands(src, n) for n in own)
    st = src._type[s]
    copies = []
    start = len(new._op)
    for v in range(1 << st.bits):
        mv = {s: new.const(st, v)}
        for n in cone:
            args = tuple([mv.get(a, m.get(a)) for a in src._args[n]])
            op, t = src._op[n], src._type[n]
            if op == "index" and new.const_value(args[0]) is not None:
                k = new.const_value(args[0])
                mv[n] = args[1 + k] if 0 <= k < len(args) - 1 else new.const(t, 0)
            else:
                mv[n] = new.make(op, t, args, src._attr[n])
        copies.append(mv[r])
    after = (len(copies) - 1) * src._type[r].width
    after += sum(_ands(new, n) for n in _new_nodes(new, copies, start))
    if after >= before:
        return None
    return new.make("index", src._type[r], (m[s],) + tuple(copies))


def _new_nodes(new: WordGraph, tops, start: int) -> set[int]:
    """The nodes under ``tops`` made from node id ``start`` on (by the copies)."""
    seen, stack = set(), [x for x in tops if x >= start]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(a for a in new._args[n] if a >= start and a not in seen)
    return seen


def _ands(g: WordGraph, n: int) -> int:
    """About how many ANDs node n lowers to (the word library's costs)."""
    op, t, args = g._op[n], g._type[n], g._args[n]
    if op in _FREE:
        return 0
    w = t.width
    aw = max([g._type[a].width for a in args] + [w])
    if op in ("and", "or", "mux", "lt", "le"):
        return aw
    if op in ("add", "sub", "eq", "ne", "neg"):
        return aw - 1
    if op in ("min", "max"):
        return 2 * aw
    if op == "index":
        if g._op[args[0]] == "const":
            return 0
        items = args[1:]
        if all(g._op[a] == "const" for a in items):
            return len(items)           # a decoder shared by the bits (a lower bound)
        k = g._type[args[0]].width
        return (len(items) - 1) * w + (w + k if len(items) < (1 << k) else 0)
    return gate_estimate(op, t, [g._type[a].width for a in args])


__all__ = ["speculate"]
