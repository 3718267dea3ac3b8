"""Value ranges of word-level IR nodes: the interval [lo, hi] every node's value lies in.

A node's range follows from its operands' by interval arithmetic on exact integers, starting
from what is known without running the program: an input spans its declared type, a constant
is itself (loop variables are constants once unrolled), a comparison is 0 or 1, a mask
``x & c`` is at most c, a popcount at most the number of bits. When the exact result of an
operation may leave its type's range (the hardware wraps), the range is the whole type. Values
are the :mod:`.ops` ones: the number for integers, 0/1 for bools, the raw count of 2^-F units
for fixed point.

API: :func:`ranges` gives the range of every node of a graph (a list indexed by node id);
:func:`node_range` computes one node's range from its operands' ranges. Users: the optimizer
narrows operations whose results provably fit in fewer bits (:mod:`.narrow`); diagnostics can
tell which operations may wrap (:func:`may_wrap`).
"""

from __future__ import annotations

from yaogc.circuits.types import BoolType, FixedType, IntType, ValueType

Range = tuple[int, int]


def type_range(t: ValueType) -> Range:
    """Every value type ``t`` can hold."""
    r = _TYPE_RANGES.get(t._k)
    if r is None:
        tt = type(t)
        r = (0, 1) if tt is BoolType else \
            (t.raw_type.min, t.raw_type.max) if tt is FixedType else (t.min, t.max)
        _TYPE_RANGES[t._k] = r
    return r


_TYPE_RANGES: dict = {}     # by a type's key: asked once per node of every program


def ranges(g, nodes=None) -> list[Range | None]:
    """The range of each node of ``g`` (of each of ``nodes``, ascending ids, if given; None
    for the others)."""
    out: list[Range | None] = [None] * len(g)
    ops, types = g._op, g._type
    full: dict[int, Range] = {}     # by type identity: most nodes share a few type objects
    args = g._args
    for n in (range(len(g)) if nodes is None else nodes):
        op = ops[n]
        if op == "input":           # the common nodes, without the general rules
            t = types[n]
            r = full.get(id(t))
            if r is None:
                r = full[id(t)] = type_range(t)
            out[n] = r
        elif op in _BITS:
            out[n] = _BIT
        elif op in SELECTS:
            a, b = args[n][-2:]
            ra, rb = out[a], out[b]
            # an operand not asked for counts as its whole type: the general rule
            out[n] = node_range(g, n, out) if ra is None or rb is None else \
                select_range(op, ra, rb)
        else:
            out[n] = node_range(g, n, out)
    return out


_BIT = (0, 1)


# the operations whose result is one of two operands (select_range)
SELECTS = frozenset(("mux", "min", "max"))


def select_range(op: str, ra: Range, rb: Range) -> Range:
    """The range of a multiplexer between values of ranges ra and rb (``op`` 'mux'), or of
    their minimum or maximum: what node_range gives, without its general dispatch (the
    multiplexers of secret ifs are most of an unrolled loop's nodes)."""
    if op == "min":
        return (ra[0] if ra[0] < rb[0] else rb[0]), (ra[1] if ra[1] < rb[1] else rb[1])
    if op == "max":
        return (ra[0] if ra[0] > rb[0] else rb[0]), (ra[1] if ra[1] > rb[1] else rb[1])
    return (ra[0] if ra[0] < rb[0] else rb[0]), (ra[1] if ra[1] > rb[1] else rb[1])


def may_wrap(g, n: int, rng: list) -> bool:
    """Whether node n's exact result (add, sub, mul, neg, sum, shl) can leave its type, so that
    it wraps; ``rng`` holds the operands' ranges."""
    r = _exact(g, n, rng)
    if r is None:
        return False
    lo, hi = type_range(g.type(n))
    return r[0] < lo or r[1] > hi


def node_range(g, n: int, rng) -> Range:
    """Node n's range from its operands' ranges in ``rng`` (indexed by node id; a missing
    operand range counts as its whole type)."""
    op = g._op[n]
    if op in _BITS:
        return 0, 1
    t = g._type[n]
    full = type_range(t)
    if op == "const":
        v = g._attr[n]
        return (v, v) if v is not None else full
    if op in _RING:
        exact = _exact(g, n, rng)
        if exact is not None:
            return _within(exact, full)
    args = g._args[n]
    r = [_get(g, a, rng) for a in args]
    if op == "mux":
        return _hull(r[1], r[2])
    if op == "index":
        items = r[1:]
        lo = min(x[0] for x in items)
        hi = max(x[1] for x in items)
        # an index that can leave 0..m-1 reads 0
        ir = r[0]
        if ir[0] < 0 or ir[1] >= len(items):
            lo, hi = min(lo, 0), max(hi, 0)
        return lo, hi
    if op == "min":
        return min(r[0][0], r[1][0]), min(r[0][1], r[1][1])
    if op == "max":
        return max(r[0][0], r[1][0]), max(r[0][1], r[1][1])
    if op == "popcount":
        bits = sum(g.type(a).width for a in args)
        return _within((0, bits), full)
    if op == "resize":
        src = g.type(args[0])
        if r[0][0] >= full[0] and r[0][1] <= full[1] and _extends(src, t):
            return r[0]
        return full
    if op == "and" and type(t) is IntType and not t.signed:
        # a mask bounds the result; so does each operand
        return 0, min(r[0][1] if r[0][0] >= 0 else full[1], r[1][1] if r[1][0] >= 0 else full[1])
    if op == "or" and type(t) is IntType and r[0][0] >= 0 and r[1][0] >= 0:
        hi = (1 << max(r[0][1], r[1][1]).bit_length()) - 1
        return _within((max(r[0][0], r[1][0]), hi), full)
    if op == "xor" and type(t) is IntType and r[0][0] >= 0 and r[1][0] >= 0:
        return _within((0, (1 << max(r[0][1], r[1][1]).bit_length()) - 1), full)
    if op == "shr" and r[0][0] >= 0:
        k = g.attr(n)
        return r[0][0] >> k, r[0][1] >> k
    if op in ("div", "mod") and type(t) is IntType and not t.signed:
        if r[1][0] <= 0:
            return full             # x / 0 and x % 0 have values of their own
        if op == "mod":
            return 0, min(r[0][1], r[1][1] - 1)
        return r[0][0] // r[1][1], r[0][1] // r[1][0]
    if op == "abs" and r[0][0] > full[0]:
        lo, hi = r[0]
        return (0 if lo <= 0 <= hi else min(abs(lo), abs(hi))), max(abs(lo), abs(hi))
    return full


def exact_range(g, n: int, rng) -> Range | None:
    """The exact (unwrapped) range of a ring operation (add, sub, mul, neg, sum, shl; not
    fixed-point products), None for other operations: what :mod:`.overflow` reports."""
    return _exact(g, n, rng)


_BITS = frozenset(("eq", "ne", "lt", "le", "bit"))
_RING = frozenset(("add", "sub", "mul", "neg", "sum", "shl"))


def _exact(g, n: int, rng) -> Range | None:
    """The exact (unwrapped) range of a ring operation, None for other operations."""
    op = g._op[n]
    if op not in _RING:
        return None
    args = g._args[n]
    r = [_get(g, a, rng) for a in args]
    if op == "add":
        return r[0][0] + r[1][0], r[0][1] + r[1][1]
    if op == "sub":
        return r[0][0] - r[1][1], r[0][1] - r[1][0]
    if op == "neg":
        return -r[0][1], -r[0][0]
    if op == "shl":
        k = g.attr(n)
        return r[0][0] << k, r[0][1] << k
    if op == "sum":
        lo = hi = 0
        for (a, b), neg in zip(r, g.attr(n)):
            lo, hi = (lo - b, hi - a) if neg else (lo + a, hi + b)
        return lo, hi
    if type(g.type(n)) is FixedType:
        return None      # fmul is a separate op; mul on fixed point does not occur
    p = [x * y for x in r[0] for y in r[1]]
    return min(p), max(p)


def _get(g, a: int, rng) -> Range:
    got = rng[a] if a < len(rng) else None
    return got if got is not None else type_range(g._type[a])


def _within(r: Range, full: Range) -> Range:
    return r if full[0] <= r[0] and r[1] <= full[1] else full


def _hull(a: Range, b: Range) -> Range:
    return min(a[0], b[0]), max(a[1], b[1])


def _extends(src: ValueType, t: ValueType) -> bool:
    """Whether resize from src to t keeps every value of src that t can hold (a widening, or
    a narrowing of a value that fits: both keep the number)."""
    return type(src) in (IntType, BoolType) and type(t) is IntType
