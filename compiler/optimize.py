"""Word-level passes: dead-code elimination and rebalancing of associative chains.

The graph is rebuilt from the outputs, so only operations some output depends on survive
(an unused input or computation costs nothing) and every node is re-simplified and
hash-consed in the new graph. A chain is a run of the same associative operation on one type
where each inner link has no other user, e.g. the ``count = count + x[i]`` of an unrolled loop:

* chains of ``+`` and ``-`` become one n-ary ``sum`` node, lowered to a single bit heap
  (carry-save columns: AND-depth logarithmic in the number of terms, narrow terms such as bools
  cost only their own bits, a sum of bools is a popcount);
* chains of ``*``, ``&``, ``|``, ``^``, ``min``, ``max`` become balanced binary trees, so a
  running maximum over N values has comparator depth log2 N instead of N; terms of a ``min``
  or ``max`` chain with a common addend that cannot wrap share one addition.
"""

from __future__ import annotations

from .argmax import emit_tournament, find_chains
from .boolrw import rewrite_chain
from .check import Elaborated
from .cofactor import cofactor, fold_guarded_reads
from .deep import run_deep
from .ir import WordGraph
from .narrow import narrow
from .ranges import may_wrap, ranges
from .speculate import speculate

_SUM = ("add", "sub")
_TREE = ("mul", "and", "or", "xor", "min", "max")


def _family(op: str) -> str | None:
    if op in _SUM:
        return "sum"
    if op in _TREE:
        return op
    return None


def optimize(e: Elaborated, consume: bool = False) -> Elaborated:
    """The optimized copy of ``e`` (run as a compiler stage: see :mod:`.deep`).
    ``consume``: the caller has no further use for ``e``, whose graph is emptied
    (:meth:`~.ir.WordGraph.release`) as soon as the first pass has rebuilt it, so that the
    passes after it do not hold the program's whole elaborated IR besides their own (for a
    program of many small operations, most of the compile's peak memory)."""
    return run_deep(_optimize_and_narrow, e, consume)


def _optimize_and_narrow(e: Elaborated, consume: bool = False) -> Elaborated:
    folded = fold_guarded_reads(e)
    rebuilt = _optimize_shared(folded)
    if consume:
        folded.graph.release()
        e.graph.release()
    del folded
    return cofactor(speculate(narrow(rebuilt)))


def _optimize_shared(e: Elaborated) -> Elaborated:
    """:func:`_optimize`, letting the XOR/OR rewrites factor AND terms that several chains
    share where that pays. The same ``a & b`` in two chains is one node (hash-consing), so
    each chain alone must keep it; but when every chain that uses it rewrites it away (SHA-256's
    majority of round t and of round t+1 share ``a & b``), it dies. So: offer the shared terms
    whose every user is an XOR/OR chain, take back those some chain kept, repeat; keep the
    result only if it has fewer AND bits than leaving shared terms alone."""
    base, _, multi = _optimize(e)
    offered = _shared_and_terms(e, multi) if multi else set()
    if not offered:
        return base
    for _ in range(8):
        got, m, _ = _optimize(e, offered)
        live = set(got.graph.live(got.roots()))
        kept = {n for n in offered if m[n] in live}
        if not kept:
            break
        offered -= kept
        if not offered:
            return base
    else:
        return base
    return got if _and_bits(got) < _and_bits(base) else base


def _shared_and_terms(e: Elaborated, multi: list[int]) -> set[int]:
    """Of the AND nodes ``multi`` (several users each), those whose every user is an XOR or
    OR of the same type."""
    src = e.graph
    roots = e.roots()
    live = src.live(roots)
    sop, stype, sargs = src._op, src._type, src._args
    cand = set(multi)
    bad = set(roots) & cand
    for n in live:
        for a in sargs[n]:
            if a in cand and (sop[n] not in ("xor", "or") or stype[n] != stype[a]):
                bad.add(a)
    return cand - bad


def _and_bits(e: Elaborated) -> int:
    g = e.graph
    live = g.live(e.roots())
    return sum(g._type[n].width for n in live if g._op[n] == "and")


_FAMILY = {op: "sum" for op in _SUM} | {op: op for op in _TREE}


def _optimize(e: Elaborated, free_shared: frozenset | set = frozenset()
              ) -> tuple[Elaborated, dict[int, int], list[int]]:
    """The rebuilt graph, the map from ``e``'s nodes to its nodes and ``e``'s AND nodes with
    several users; ``free_shared``: such nodes the XOR/OR rewrites may factor all the same."""
    src = e.graph
    roots = e.roots()
    live = src.live(roots)
    uses, user = src.use_counts(live, roots)
    sop, stype, sargs, sattr = src._op, src._type, src._args, src._attr
    fam = [_FAMILY.get(op) for op in sop]
    # absorbed[n]: n is an inner link of a chain (its only user continues the chain)
    absorbed = bytearray(len(sop))
    for n in live:
        f = fam[n]
        if f is not None and uses[n] == 1:
            u = user[n]
            if u >= 0 and fam[u] == f and (stype[u] is stype[n] or stype[u] == stype[n]):
                absorbed[n] = 1

    # running maxima (minima) that carry an index: emitted as tournaments where the first of
    # their two final nodes stands, the chain's inner nodes not at all
    skip, at = set(), {}
    for ch in find_chains(src, live, uses):
        # a maximum nothing reads (the program reads the index alone) is not live: the
        # tournament then stands where the index does
        first = min(ch.best, ch.carried) if uses[ch.best] else ch.carried
        needed = [x for item in [ch.first] + ch.items for x in item if type(x) is not tuple]
        if all(x < first for x in needed) and not absorbed[ch.best]:
            skip.update(ch.inner)
            if uses[ch.best]:
                skip.add(max(ch.best, ch.carried))
            at[first] = ch

    new = WordGraph(noting=False)
    # per source node, its node in the new graph (None: not made there); a list, where a
    # dict of as many entries took a third of this pass's memory on a program of many
    # small operations
    m: list = [None] * len(sop)
    make, input_, const = new.make, new.input, new.const
    rng = _LazyRanges(src, live)
    sloc = src._loc
    for n in live:
        op = sop[n]
        new.origin = sloc[n]       # where an error names the operation
        if n in skip:
            continue
        if n in at:
            ch = at[n]
            m[ch.best], m[ch.carried] = emit_tournament(new, ch, m, stype[ch.best],
                                                        stype[ch.carried])
            continue
        if op == "input":
            m[n] = input_(stype[n], sattr[n])
        elif op == "const":
            m[n] = const(stype[n], sattr[n])
        elif absorbed[n]:
            continue
        elif fam[n] == "sum":
            m[n] = _emit_sum(new, src, n, absorbed, m)
        elif op in _TREE:
            m[n] = _emit_tree(new, src, n, absorbed, m, uses, free_shared, rng)
        elif op in _DIVS and (fused := _chained_division(src, n, uses)) is not None:
            x, k = fused
            m[n] = make(op, stype[n], (m[x], const(stype[n], k)), sattr[n])
        else:
            m[n] = make(op, stype[n], tuple([m[a] for a in sargs[n]]), sattr[n])
    outputs = [(rec, name, t, [m[x] for x in ns]) for rec, name, t, ns in e.outputs]
    multi = [n for n in live if uses[n] > 1 and sop[n] == "and"]
    return Elaborated(e.name, e.parties, new, list(e.inputs), outputs), m, multi


_DIVS = ("div", "fdiv")


def _chained_division(src, n: int, uses) -> tuple[int, int] | None:
    """(x, c) when node n is (x / a) / b by positive whole constants a and b and the inner
    quotient has no other user: x / (a b), one division instead of two, is the same value,
    because floors (and truncations toward zero) of quotients by positive integers compose:
    floor(floor(x / a) / b) = floor(x / (a b)). ``c`` is a b as a constant of n's type
    (for fixed point, its raw value), None where it does not fit."""
    op, t = src._op[n], src._type[n]
    inner, b = src._args[n]
    if src._op[inner] != op or uses[inner] != 1 or src._type[inner]._k != t._k or \
            src._attr[inner] != src._attr[n]:
        return None
    x, a = src._args[inner]
    va, vb = src.const_value(a), src.const_value(b)
    if va is None or vb is None or va <= 0 or vb <= 0:
        return None
    if op == "fdiv":            # raw values: whole numbers are multiples of 2^F
        one = 1 << t.frac
        if va % one or vb % one:
            return None
        c, top = (va // one) * (vb // one) * one, t.raw_type.max
    else:
        c, top = va * vb, t.max
    return (x, c) if c <= top else None


def _leaves(src, root: int, absorbed, signed_terms: bool) -> list[tuple[int, bool]]:
    """Leaves of the chain under ``root``, left to right, with their sign (for sums)."""
    out = []
    stack = [(root, False)]
    sop, sargs = src._op, src._args
    while stack:
        n, neg = stack.pop()
        if n != root and not absorbed[n]:
            out.append((n, neg))
            continue
        a, b = sargs[n]
        b_neg = neg ^ (signed_terms and sop[n] == "sub")
        stack.append((b, b_neg))
        stack.append((a, neg))
    return out


def _emit_sum(new: WordGraph, src, root: int, absorbed, m) -> int:
    t = src.type(root)
    terms = _leaves(src, root, absorbed, True)
    const = 0
    args, signs = [], []
    for n, neg in terms:
        x = m[n]
        c = new.const_value(x)
        if c is not None:
            const += -c if neg else c
            continue
        args.append(x)
        signs.append(neg)
    args, signs = _cancel(args, signs)
    if const % (1 << t.width):
        args.append(new.const(t, const))
        signs.append(False)
    if not args:
        return new.const(t, 0)
    if len(args) == 1:
        return new.make("neg", t, (args[0],)) if signs[0] else args[0]
    if len(args) == 2:
        if not signs[0] and not signs[1]:
            return new.make("add", t, args)
        if not signs[0] and signs[1]:
            return new.make("sub", t, args)
        if signs[0] and not signs[1]:
            return new.make("sub", t, (args[1], args[0]))
    return new._add("sum", t, tuple(args), tuple(signs))


def _cancel(args: list[int], signs: list[bool]) -> tuple[list[int], list[bool]]:
    """A term added and subtracted cancels: (a + b) - b is a."""
    if not any(signs) or all(signs):
        return args, signs      # one sign: nothing cancels (a running sum's common case)
    pending: dict[tuple[int, bool], list[int]] = {}
    dropped = set()
    for i, (x, neg) in enumerate(zip(args, signs)):
        match = pending.get((x, not neg))
        if match:
            dropped.add(match.pop())
            dropped.add(i)
        else:
            pending.setdefault((x, neg), []).append(i)
    if not dropped:
        return args, signs
    keep = [i for i in range(len(args)) if i not in dropped]
    return [args[i] for i in keep], [signs[i] for i in keep]


def _emit_tree(new: WordGraph, src, root: int, absorbed, m, uses, free_shared, rng) -> int:
    op, t = src.op(root), src.type(root)
    leaves = _leaves(src, root, absorbed, False)
    items = [m[n] for n, _ in leaves]
    if op in ("xor", "or"):
        # AND terms only this chain uses may be factored (majority, choose, distributivity)
        items = rewrite_chain(new, op, t, items,
                              [uses[n] == 1 or n in free_shared for n, _ in leaves])
        if not items:
            return new.const(t, 0)
    elif op in ("min", "max"):
        items = _take_out_common_addends(new, src, op, t, leaves, items, absorbed, m, rng)
    return _balanced(new, op, t, items)


def _balanced(new: WordGraph, op: str, t, items: list[int]) -> int:
    while len(items) > 1:
        nxt = [new.make(op, t, (items[i], items[i + 1])) for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]


class _LazyRanges:
    """The source graph's value ranges, computed on first use (most programs have no chain
    of extrema that needs them)."""

    def __init__(self, src, live):
        self._src, self._live, self._r = src, live, None

    def get(self) -> list:
        if self._r is None:
            self._r = ranges(self._src, self._live)
        return self._r


def _take_out_common_addends(new: WordGraph, src, op: str, t, leaves, items: list[int],
                             absorbed, m, rng: _LazyRanges) -> list[int]:
    """min(p + a, p + b, c) is min(min(a, b) + p, c) when neither sum wraps (exact integer
    values then order the same way after adding p): the addition is done once for the group
    instead of once per term. ``p`` is whichever operand most terms of the chain share, a
    constant or a node; the edit distance's min(up + 1, left + 1, diag + cost) is one such
    chain. Terms are read in the source graph, where the range analysis can tell a wrap."""
    sop, sargs, stype = src._op, src._args, src._type
    cands = []                  # per leaf: {common-term key: (other operand in new)} or None
    for n, _ in leaves:
        if sop[n] != "add" or stype[n] != t:
            cands.append(None)
            continue
        a, b = sargs[n]
        keys = {}
        for x, y in ((a, b), (b, a)):
            if absorbed[y] or m[y] is None or stype[x] != t or stype[y] != t:
                continue
            c = src.const_value(x)
            if c is None and (absorbed[x] or m[x] is None):
                continue
            keys[("c", c) if c is not None else ("n", x)] = (x, m[y])
        cands.append(keys or None)
    if sum(c is not None for c in cands) < 2:
        return items
    r = rng.get()
    for i, (n, _) in enumerate(leaves):
        if cands[i] is not None and may_wrap(src, n, r):
            cands[i] = None
    out_items = list(items)
    while True:
        count: dict = {}
        for c in cands:
            for k in (c or ()):
                count[k] = count.get(k, 0) + 1
        if not count:
            break
        key = max(count, key=lambda k: (count[k], k[0] == "c"))
        if count[key] < 2:
            break
        group = [i for i, c in enumerate(cands) if c and key in c]
        x = cands[group[0]][key][0]
        inner = _balanced(new, op, t, [cands[i][key][1] for i in group])
        common = new.const(t, src.const_value(x)) if key[0] == "c" else m[x]
        for i in group:
            out_items[i] = None
            cands[i] = None
        out_items.append(new.make("add", t, (inner, common)))
    return [x for x in out_items if x is not None]
