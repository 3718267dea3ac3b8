"""Rebalancing of reductions that carry an index: a running maximum (or minimum) updated
together with the index (or any value) of the element it came from.

``if v > m: m = v; k = i`` over N elements unrolls into a chain: each step compares the maximum
so far with the next element (``c = m < v``), and both the maximum (``max(m, v)``) and the
index (``c ? i : k``) follow that one comparison. The chain is N-1 comparisons deep. As a
tournament (pairs, then pairs of pairs) the same comparisons and multiplexers give the same
result, first maximum first (``>`` keeps the earlier of equal values, ``>=`` the later, and
so does each match of the tournament), at a depth of log2 N comparisons.

:func:`find_chains` finds these chains in a word graph (every inner link used only by the
chain); :func:`emit_tournament` builds one in the optimizer's new graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from yaogc.circuits.types import BOOL, IntType

MIN_LINKS = 3


@dataclass
class Chain:
    kind: str               # "max" or "min"
    cmp: str                # "lt" or "le"
    first: tuple        # (value, carried) before the first link
    items: list[tuple]  # (element, its carried value), in order; a carried value is a node
    #                     or ("const", type, value)
    best: int               # the final maximum node
    carried: int            # the final carried node
    inner: list[int]        # nodes only the chain uses (not emitted)


def _link(src, k: int, uses):
    """(c, x, kp, mp, v, M, kind, cmp) when k = c ? x : kp is a step of a running max/min."""
    if src._op[k] != "mux":
        return None
    c, x, kp = src._args[k]
    cmp = src._op[c]
    if cmp not in ("lt", "le") or uses[c] != 1:
        return None
    a, b = src._args[c]
    t = src._type[a]
    key = (min(a, b), max(a, b))
    for kind, mp, v in (("max", a, b), ("min", b, a)):
        big = src.find(kind, t, key)
        if big is not None:
            return c, x, kp, mp, v, big, kind, cmp
    return None


def find_chains(src, live, uses) -> list[Chain]:
    links = {}
    for n in live:
        if src._op[n] == "mux":
            got = _link(src, n, uses)
            if got is not None:
                links[n] = got
    prev_of = {}
    for k, (c, x, kp, mp, v, big, kind, cmp) in links.items():
        p = links.get(kp)
        # the maximum so far feeds the next comparison and the next maximum; at the last
        # link only the comparison when the program reads the index alone (its maximum is
        # then made by the merge but never read)
        if p is not None and uses[kp] == 1 and p[5] == mp \
                and (uses[mp] == 2 or uses[mp] == 1 and not uses[big]) \
                and p[6] == kind and p[7] == cmp and src._type[kp] == src._type[k]:
            prev_of[k] = kp
    has_next = set(prev_of.values())
    chains = []
    for k in links:
        if k in has_next:
            continue
        seq = [k]
        while seq[-1] in prev_of:
            seq.append(prev_of[seq[-1]])
        if len(seq) < MIN_LINKS:
            continue
        seq.reverse()
        first_link = links[seq[0]]
        items, inner = [], []
        for j, kk in enumerate(seq):
            c, x, kp, mp, v, big, kind, cmp = links[kk]
            items.append((v, x))
            inner.append(c)
            if j < len(seq) - 1:
                inner += [kk, big]
        last = links[seq[-1]]
        first = (first_link[3], first_link[2])
        opened = _opening(src, first, last[6], last[7], uses)
        if opened is not None:
            first, item, more = opened
            items.insert(0, item)
            inner += more
        chains.append(Chain(last[6], last[7], first, items, last[5], seq[-1], inner))
    return chains


def _opening(src, first, kind: str, cmp: str, uses):
    """The chain's first step when the optimizer has already folded it out of multiplexer
    form: from ``k = 0`` the first update ``c ? 1 : 0`` became the bool c widened
    (``resize``), so the chain seemed to start one element late and the tournament ran a
    round more. Returns (first, item, inner nodes) with the carried values 0 and 1 as
    ("const", type, value) entries, or None."""
    mp, kp = first
    if src._op[kp] != "resize" or uses[kp] != 1 or uses[mp] != 2:
        return None
    tk = src._type[kp]
    if type(tk) is not IntType or tk.signed:
        return None
    (c,) = src._args[kp]
    if src._op[c] != cmp or uses[c] != 1:
        return None
    a, b = src._args[c]
    t = src._type[a]
    if src.find(kind, t, (min(a, b), max(a, b))) != mp:
        return None
    # c = a < b: the maximum so far is b when c else a, the minimum a when c else b
    start, nxt = (a, b) if kind == "max" else (b, a)
    return (start, ("const", tk, 0)), (nxt, ("const", tk, 1)), [c, kp, mp]


def emit_tournament(new, chain: Chain, m, t_best, t_carried) -> tuple[int, int]:
    """(best, carried) of the chain as a balanced tournament in ``new`` (``m`` maps the
    source's nodes to ``new``'s)."""
    def get(x):
        return new.const(x[1], x[2]) if type(x) is tuple else m[x]

    items = [(get(v), get(x)) for v, x in [chain.first] + chain.items]
    while len(items) > 1:
        nxt = []
        for j in range(0, len(items) - 1, 2):
            (ma, ka), (mb, kb) = items[j], items[j + 1]
            # the later element wins when it is strictly better (lt) or at least as good (le)
            c = new.make(chain.cmp, BOOL, (ma, mb) if chain.kind == "max" else (mb, ma))
            nxt.append((new._add("mux", t_best, (c, mb, ma), None),
                        new.make("mux", t_carried, (c, kb, ka))))
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]
