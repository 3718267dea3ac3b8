"""Narrowing: integer operations whose values provably fit in fewer bits use fewer bits.

The ranges come from :mod:`.ranges` (declared types, constants, unrolled loop bounds). An
``add``, ``sub``, ``mul``, ``neg`` or ``sum`` whose exact result lies in [0, 2^k), k below its
type's width, is computed modulo 2^k on the operands' low k bits (exact for these ring
operations) and zero-extended: an addition costs k-1 ANDs instead of n-1, and the constant
upper bits fold away in whatever reads them. A comparison, ``min``, ``max`` or multiplexer
whose operands all lie in [0, 2^k) works on k bits. A counter of at most 8 events declared
``u8`` so adds in 4 bits.

The same rebuild (the last over the word graph) lowers ``max(a, b)`` as a multiplexer on a
comparison of a and b that the program makes anyway (a running argmax compares once for the
maximum and its index): n ANDs instead of 2n. Both ``min(a, b)`` and ``max(a, b)`` of one
pair (a compare-exchange of a sorting network) are left as they are: the lowering makes the
two with one template and one comparison (:mod:`.lower`). A subtraction x - y whose
operands are also compared as x < y (or y <= x) is one subtraction a bit wider, whose top
bit is the comparison (:func:`_borrow_pairs`).
"""

from __future__ import annotations

from yaogc.circuits.types import BOOL, IntType

from .check import Elaborated
from .ir import WordGraph
from .lower import adds_own_bits
from .ranges import ranges, type_range
from .values import int_type

_RING = frozenset(("add", "sub", "mul", "neg", "sum"))
_SAME = frozenset(("min", "max", "mux"))
_CMP = frozenset(("lt", "le", "eq", "ne"))


def narrow(e: Elaborated) -> Elaborated:
    """A copy of ``e`` with every provably narrow integer operation done in fewer bits."""
    src = e.graph
    roots = e.roots()
    live = src.live(roots)
    rng = ranges(src, live)
    sop, stype, sargs, sattr = src._op, src._type, src._args, src._attr
    widths, decided, picks = {}, {}, {}
    full = {}       # per type object, its whole range: operands spanning it decide nothing
    compares = False    # some lt or le a min or max might select on
    seen: dict = {}     # (op, operand type, ranges) of a comparison -> (decided, width)
    for n in live:
        op = sop[n]
        if op in _CMP:
            compares = compares or op in ("lt", "le")
            a, b = sargs[n]
            ra, rb = rng[a], rng[b]
            t = stype[a]
            whole = full.get(id(t))
            if whole is None:
                whole = full[id(t)] = type_range(t)
            if ra == whole and rb == whole:
                continue    # neither decided nor narrower (as _decide and _width find)
            # a comparison's outcome and width depend on these alone, and an unrolled loop
            # compares the same ranges over and over (a histogram: every code to each bin)
            key = (op, id(t), ra, rb)
            got = seen.get(key)
            if got is None:
                v = _decide(op, ra, rb)
                got = seen[key] = (v, None if v is not None else
                                   _width(op, BOOL, n, (a, b), stype, rng))
            if got[0] is not None:
                decided[n] = got[0]
            elif got[1] is not None:
                widths[n] = got[1]
            continue
        if op in _RING or op in _SAME:
            k = _width(op, stype[n], n, sargs[n], stype, rng)
            if k is not None and not (op == "sum" and _heap_fits(src, n, k)):
                widths[n] = k
        elif op == "index":
            p = _pick(rng[sargs[n][0]], len(sargs[n]) - 1)
            if p is not None:
                picks[n] = p
    borrow = _borrow_pairs(src, live, widths, decided)
    if not widths and not decided and not picks and not borrow and not (
            compares and any(sop[n] in ("min", "max") and _select_by_existing_compare(
                src, sop[n], stype[n], *sargs[n], probe=True) is not None for n in live)):
        return e            # nothing to narrow or to share: no rebuild
    new = WordGraph(noting=False)
    make = new.make
    m: dict[int, int] = {}
    sloc = src._loc
    for n in live:
        op, t = sop[n], stype[n]
        new.origin = sloc[n]       # where an error names the operation
        if op == "input":
            m[n] = new.input(t, sattr[n])
            continue
        if op == "const":
            m[n] = new.const(t, sattr[n])
            continue
        args = tuple([m[a] for a in sargs[n]])
        if n in decided:
            m[n] = new.const(BOOL, decided[n])
            continue
        if n in picks:
            m[n] = _reindex(new, t, args, *picks[n])
            continue
        if n in borrow:
            m[n] = _from_wide_difference(new, borrow, n, op, t, sargs[n], m)
            continue
        k = widths.get(n)
        if k is None:
            shared = None
            if op in ("min", "max") and compares:
                shared = _select_by_existing_compare(new, op, t, *args)
            m[n] = make(op, t, args, sattr[n]) if shared is None else shared
            continue
        uk = int_type(k, False)      # one type object per width (a node each)
        if op in _CMP:
            m[n] = make(op, BOOL, tuple(make("resize", uk, (a,)) for a in args))
            continue
        if op == "mux":
            narrow_args = (args[0],) + tuple(make("resize", uk, (a,)) for a in args[1:])
        else:
            narrow_args = tuple(make("resize", uk, (a,)) for a in args)
        m[n] = make("resize", t, (make(op, uk, narrow_args, sattr[n]),))
    return e.rebuilt(new, m)


def _borrow_pairs(src, live, widths, decided) -> dict:
    """Subtractions x - y whose operands the program also compares as x < y (or y <= x, its
    negation): node -> [x, y, wide difference or None]. Both are read off one subtraction a
    bit wider: its low bits are x - y, its top bit the borrow, which is x < y (for signed
    operands the sign of the exact difference). The comparison's w ANDs and the subtraction's
    w - 1 become w; ``if r >= d: r -= d`` (a reduction, a hand-written division or square
    root) costs a third less."""
    sop, stype, sargs = src._op, src._type, src._args
    subs, cmps = {}, []
    for n in live:
        op = sop[n]
        if op == "sub" and n not in widths and type(stype[n]) is IntType:
            x, y = sargs[n]
            if stype[x] == stype[n] and stype[y] == stype[n]:
                subs.setdefault((x, y), []).append(n)
        elif (op == "lt" or op == "le") and n not in widths and n not in decided:
            cmps.append(n)
    if not subs:
        return {}
    out = {}
    for c in cmps:
        a, b = sargs[c]
        xy = (a, b) if sop[c] == "lt" else (b, a)
        got = subs.get(xy)
        if got:
            cell = out.get(got[0]) or [xy[0], xy[1], None]
            for s in got:
                out[s] = cell
            out[c] = cell
    return out


def _from_wide_difference(new: WordGraph, borrow: dict, n: int, op: str, t, args, m) -> int:
    """Node n (a subtraction or comparison of :func:`_borrow_pairs`) read off the shared
    wide difference, made by the first of them."""
    cell = borrow[n]
    x, y = cell[0], cell[1]
    xt = new.type(m[x])
    w = xt.width
    if cell[2] is None:
        wt = IntType(w + 1, xt.signed)
        cell[2] = new.make("sub", wt, (new.make("resize", wt, (m[x],)),
                                       new.make("resize", wt, (m[y],))))
    d = cell[2]
    if op == "sub":
        return new.make("resize", t, (d,))
    lt = new.make("bit", BOOL, (d,), w)
    return lt if op == "lt" else new.make("not", BOOL, (lt,))


def _select_by_existing_compare(new: WordGraph, op: str, t, a: int, b: int,
                                probe: bool = False) -> int | None:
    """max(a, b) as a multiplexer on a comparison of a and b the program already makes (a
    running argmax compares, then updates both the maximum and its index): n ANDs, not the
    2n of a comparison of its own."""
    for cmp in ("lt", "le"):
        for x, y in ((a, b), (b, a)):
            c = new.find(cmp, BOOL, (x, y))
            if c is not None:
                # c says x is below y (or equal: either is then right)
                if probe:
                    return c
                hi, lo = (y, x) if op == "max" else (x, y)
                return new._add("mux", t, (c, hi, lo), None)
    return None


def _decide(op: str, a, b) -> int | None:
    """A comparison the operands' ranges decide, else None."""
    if op in ("eq", "ne"):
        if a[1] < b[0] or b[1] < a[0]:
            return int(op == "ne")
        if a[0] == a[1] == b[0] == b[1]:
            return int(op == "eq")
        return None
    if op == "lt":
        return 1 if a[1] < b[0] else 0 if a[0] >= b[1] else None
    return 1 if a[1] <= b[0] else 0 if a[0] > b[1] else None


def _pick(r, m: int):
    """(lo, b) when an index in range r = [lo, hi] selects among m items by its low b bits
    alone (hi - lo + 1 consecutive values have distinct residues mod 2^b) with fewer
    candidates than m, or without the out-of-range check; else None."""
    lo, hi = r
    b = (hi - lo).bit_length()
    if (1 << b) < m or ((1 << b) <= m and (lo < 0 or hi >= m)):
        return lo, b
    return None


def _reindex(new: WordGraph, t, args, lo: int, b: int) -> int:
    """items[idx] as a selection by idx's low b bits among the values idx can take: a node
    index whose range at depth L of a tree is [2^L - 1, 2^(L+1) - 2] picks among 2^L items,
    not all of them; items outside the array read 0, as the index rule says."""
    idx, items = args[0], args[1:]
    zero = new.const(t, 0)
    if b == 0:
        return items[lo] if 0 <= lo < len(items) else zero
    table = []
    for res in range(1 << b):
        v = lo + ((res - lo) % (1 << b))
        table.append(items[v] if 0 <= v < len(items) else zero)
    low = new.make("resize", IntType(b, False), (idx,))
    return new.make("index", t, (low,) + tuple(table))


def _bits(hi: int) -> int:
    return max(1, hi.bit_length())


def _heap_fits(src, n: int, k: int) -> bool:
    """Whether sum node n, narrowed to k bits, would lower to the same gates: every term is
    added (none negated) and is an unsigned word zero-extended to the sum's type, whose own
    bits are all the lowering's bit heap adds (:meth:`.lower._Planner._sum_terms`), and the
    largest total of those bits fits in k bits, so the heap has no column at k or above
    either way. A count of bools over many records is such a sum: narrowing it rebuilt the
    whole graph for nothing."""
    sop, sargs, stype = src._op, src._args, src._type
    if any(src._attr[n]):
        return False
    w = stype[n].width
    most = 0
    for a in sargs[n]:
        if sop[a] != "resize":
            return False
        it = stype[sargs[a][0]]
        if not adds_own_bits(it, w):
            return False
        most += (1 << it.width) - 1
    return most < (1 << k)


def _width(op, t, n, args, stype, rng) -> int | None:
    """The narrower width node n can be computed in, or None."""
    if op in _RING:
        if type(t) is not IntType:
            return None
        lo, hi = rng[n]
        k = _bits(hi)
        return k if lo >= 0 and k < t.bits else None
    if op in _SAME or op in _CMP:
        vals = args[1:] if op == "mux" else args
        at = stype[vals[0]]
        if type(at) is not IntType or (op in _SAME and type(t) is not IntType):
            return None
        rs = [rng[a] for a in vals]
        if any(r[0] < 0 for r in rs):
            return None
        k = _bits(max(r[1] for r in rs))
        return k if k < at.bits else None
    return None
