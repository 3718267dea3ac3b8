"""AND-aware rewriting of XOR and OR chains of AND terms (a word-level pass of the optimizer).

A chain of ``^`` (or ``|``) whose terms are ``&`` nodes that nothing else uses is rewritten
with fewer ANDs, since each ``&`` costs one AND per bit and ``^`` none:

* majority ``(a & b) ^ (a & c) ^ (b & c)`` (or with ``|``) is ``a ^ ((a ^ b) & (a ^ c))``:
  3n ANDs (5n with ``|``) become n;
* choose ``(e & f) ^ (~e & g)`` (or with ``|``: the two terms never overlap) is
  ``g ^ (e & (f ^ g))``: 2n become n;
* distributivity ``(a & b) ^ (a & c)`` is ``a & (b ^ c)``, ``(a & b) | (a & c)`` is
  ``a & (b | c)``, repeated while two terms share an operand;
* a term XORed twice cancels.

Terms used elsewhere are left alone: rewriting them would add ANDs, not remove them.
"""

from __future__ import annotations

_PAIRWISE = 48


def rewrite_chain(g, op: str, t, items: list[int], private: list[bool]) -> list[int]:
    """The terms of an ``op`` chain ('xor' or 'or') on type ``t`` after the rewrites; a term
    may be factored only if ``private`` says nothing but the chain uses it."""
    terms = list(items)
    free = [p and g.op(x) == "and" and g.type(x) == t for x, p in zip(terms, private)]
    if op == "xor":
        terms, free = _cancel(terms, free)
    if sum(free) > _PAIRWISE:
        terms, free = _distribute_many(g, op, t, terms, free)
    changed = True
    while changed and sum(free) >= 2:
        # the pairwise searches are quadratic: only on chains of a few dozen AND terms
        small = sum(free) <= _PAIRWISE
        changed = (small and (_majority(g, op, t, terms, free) or _choose(g, t, terms, free))
                   or _distribute(g, op, t, terms, free))
    return terms


def _cancel(terms, free):
    """x ^ x is 0: drop the terms that occur an even number of times."""
    count: dict[int, int] = {}
    for x in terms:
        count[x] = count.get(x, 0) + 1
    keep, keep_free, seen = [], [], set()
    for x, f in zip(terms, free):
        if count[x] % 2 and x not in seen:
            seen.add(x)
            keep.append(x)
            keep_free.append(f and count[x] == 1)
    return keep, keep_free


def _ands(g, terms, free):
    return [(i, tuple(g.args(x))) for i, x in enumerate(terms) if free[i]]


def _replace(terms, free, drop, add):
    """Remove the terms at indices ``drop``, append ``add`` ((node, free) pairs)."""
    for i in sorted(drop, reverse=True):
        del terms[i]
        del free[i]
    for x, f in add:
        terms.append(x)
        free.append(f)


def _majority(g, op, t, terms, free) -> bool:
    ands = _ands(g, terms, free)
    pair = {frozenset(ab): i for i, ab in ands if ab[0] != ab[1]}
    for i, (a1, b1) in ands:
        for j, (a2, b2) in ands:
            if j <= i:
                continue
            common = {a1, b1} & {a2, b2}
            if len(common) != 1 or a1 == b1 or a2 == b2:
                continue
            (a,) = common
            b = b1 if a1 == a else a1
            c = b2 if a2 == a else a2
            k = pair.get(frozenset((b, c)))
            if k is None or k in (i, j) or b == c:
                continue
            m = g.make("and", t, (g.make("xor", t, (a, b)), g.make("xor", t, (a, c))))
            _replace(terms, free, (i, j, k), [(g.make("xor", t, (a, m)), False)])
            return True
    return False


def _choose(g, t, terms, free) -> bool:
    ands = _ands(g, terms, free)
    for i, (p, q) in ands:
        for j, (r, s) in ands:
            if j == i:
                continue
            for e, f in ((p, q), (q, p)):
                for ne, h in ((r, s), (s, r)):
                    if g.op(ne) == "not" and g.args(ne)[0] == e:
                        # e & f and ~e & h never overlap: their | is their ^
                        m = g.make("and", t, (e, g.make("xor", t, (f, h))))
                        _replace(terms, free, (i, j), [(g.make("xor", t, (h, m)), False)])
                        return True
    return False


def _distribute(g, op, t, terms, free) -> bool:
    """The operand shared by the most terms, a, factored out of all of them at once:
    (a & b1) op (a & b2) op ... is a & (b1 op b2 op ...)."""
    by_operand: dict[int, list[int]] = {}
    for i, (p, q) in _ands(g, terms, free):
        by_operand.setdefault(p, []).append(i)
        if q != p:
            by_operand.setdefault(q, []).append(i)
    best = max(by_operand.items(), key=lambda kv: len(kv[1]), default=None)
    if best is None or len(best[1]) < 2:
        return False
    a, idx = best
    rest = []
    for i in idx:
        p, q = g.args(terms[i])
        rest.append(q if p == a else p)
    m = g.make("and", t, (a, _balanced(g, op, t, rest)))
    _replace(terms, free, idx, [(m, g.op(m) == "and")])
    return True


def _balanced(g, op: str, t, rest: list[int]) -> int:
    """The ``op`` of ``rest`` as a balanced tree, as the chain's other terms get."""
    while len(rest) > 1:
        nxt = [g.make(op, t, (rest[k], rest[k + 1])) for k in range(0, len(rest) - 1, 2)]
        if len(rest) % 2:
            nxt.append(rest[-1])
        rest = nxt
    return rest[0]


def _distribute_many(g, op, t, terms, free):
    """:func:`_distribute` repeated while more than ``_PAIRWISE`` terms are free, in
    O(n log n) rather than a scan of every term per factoring (cubic on a sum of n x m
    products): the same factorings in the same order, so the same nodes. The operand chosen
    is the one most terms share, the first met in term order among equals (as ``max`` over
    the scan's dict picks); a heap holds each operand's (count, first term), re-pushed
    whenever a term is added, and checked when popped, since removals only lower it."""
    import heapq
    alive = [True] * len(terms)
    ops: list = [None] * len(terms)
    members: dict[int, list[int]] = {}   # operand -> its terms, ascending (added in order)
    ptr: dict[int, int] = {}             # operand -> index of its first live member
    count: dict[int, int] = {}
    heap: list = []

    def first(a: int):
        m, k = members[a], ptr[a]
        while not alive[m[k]]:
            k += 1
        ptr[a] = k
        i = m[k]
        return (i, 0 if ops[i][0] == a else 1)

    def add(i: int) -> None:
        p, q = ops[i] = tuple(g.args(terms[i]))
        for a in (p, q) if q != p else (p,):
            if a not in members:
                members[a], ptr[a], count[a] = [], 0, 0
            members[a].append(i)
            count[a] += 1
            heapq.heappush(heap, (-count[a], first(a), a))

    n_free = 0
    for i, f in enumerate(free):
        if f:
            add(i)
            n_free += 1
    while n_free > _PAIRWISE and heap:
        neg, key, a = heapq.heappop(heap)
        if count[a] < 2:
            continue
        now = (-count[a], first(a))
        if now != (neg, key):
            heapq.heappush(heap, (*now, a))
            continue
        idx = [i for i in members[a][ptr[a]:] if alive[i]]
        rest = []
        for i in idx:
            p, q = ops[i]
            rest.append(q if p == a else p)
            alive[i] = False
            for b in (p, q) if q != p else (p,):
                count[b] -= 1
        n_free -= len(idx)
        m = g.make("and", t, (a, _balanced(g, op, t, rest)))
        terms.append(m)
        alive.append(True)
        ops.append(None)
        free.append(g.op(m) == "and")
        if free[-1]:
            add(len(terms) - 1)
            n_free += 1
    keep = [i for i in range(len(terms)) if alive[i]]
    return [terms[i] for i in keep], [free[i] for i in keep]
