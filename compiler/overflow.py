"""Overflow warnings: which arithmetic operations of a program may wrap, and by how much.

Built on :mod:`.ranges` (value ranges of every IR node): here every node gets the interval of
values it could take if every operation were computed exactly (its *ideal* range: a sum keeps
growing past its type instead of becoming the whole type), so a warning can say what a chain
of additions reaches and which type would hold it. Ring operations use the exact ranges of
:func:`.ranges.exact_range`, the other operations :func:`.ranges.node_range`, except those this
module knows more precisely: fixed-point products and quotients, divisions, casts between
integers and fixed point, the math functions.

An arithmetic operation (``+ - *``, a sum, a fixed-point product or quotient, a numeric cast
that narrows) whose ideal interval leaves its type's range may wrap: that is a warning, placed
at the source position of the operation (``file:line:col``, the module's file for library
code), naming the range it may reach and the smallest type (in whole bytes) that holds it.
Warnings cost no gates: nothing here changes the graph.

A quotient whose divisor may be 0 is not bounded (None), nor is anything computed from it,
and such values raise no warning; bitwise results and the saturating math functions are
bounded by their type.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isqrt

from yaogc.circuits.types import BoolType, FixedType, IntType

from . import ops
from .errors import Source, caret, shown_line
from .ranges import SELECTS, exact_range, node_range, select_range, type_range

_WARN_OPS = {"add", "sub", "mul", "neg", "abs", "sum", "fmul", "fdiv", "div", "shl", "resize"}


@dataclass
class RangeWarning:
    filename: str
    line: int
    col: int
    message: str
    source_line: str
    # the caret's column in source_line, which holds only the part of a long line around
    # the column (5,000 warnings on a 108 KB line printed, and cached, 540 MB); 0: not yet
    shown_col: int = 0

    def __post_init__(self):
        if not self.shown_col:
            self.source_line, self.shown_col = shown_line(self.source_line, self.col)

    def __str__(self) -> str:
        return (f"{self.filename}:{self.line}:{self.col}: warning: {self.message}\n"
                f"{self.source_line}\n{caret(self.source_line, self.shown_col)}")


def _hull(*ivs):
    ivs = [i for i in ivs]
    if any(i is None for i in ivs):
        return None
    return min(i[0] for i in ivs), max(i[1] for i in ivs)


def _mul(a, b):
    ps = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]]
    return min(ps), max(ps)


def _square(a):
    lo, hi = a
    top = max(lo * lo, hi * hi)
    return (0 if lo <= 0 <= hi else min(lo * lo, hi * hi)), top


def _floor_div_iv(a, b):
    """floor(x / y) over x in a, y in b (b not containing 0)."""
    qs = [x // y for x in a for y in b]
    return min(qs), max(qs)


def _trunc_div_iv(a, b):
    qs = [int(x / y) if abs(x) < 1 << 52 and abs(y) < 1 << 52 else
          (abs(x) // abs(y)) * (1 if (x < 0) == (y < 0) else -1) for x in a for y in b]
    return min(qs), max(qs)


_BITS = frozenset(("eq", "ne", "lt", "le", "bit"))


def interval(g, n: int, iv: list):
    """The exact-value interval of node n, from its operands' (None: unbounded)."""
    op = g._op[n]
    if op in _BITS:
        return 0, 1
    if op == "const":
        v = g._attr[n]
        return v, v
    t = g._type[n]
    full = type_range(t)
    if op == "input":
        return full
    args = g._args[n]
    a = [iv[x] for x in args]
    if n in g.product:          # x * c made as a shift or a negated shift: the product's range
        x, c = g.product[n]
        return None if iv[x] is None else _mul(iv[x], (c, c))
    if n in g.by_pow2:
        # x / 2**k and x % 2**k made of shifts, bits and an addition (simplify._div, _mod):
        # each part computed on x as it is, wrapped into its type if it has wrapped (which
        # was warned where it did)
        what, x, d = g.by_pow2[n]
        if iv[x] is None:
            return None
        lo, hi = type_range(g._type[x])
        r = max(lo, min(hi, iv[x][0])), max(lo, min(hi, iv[x][1]))
        if what == "floor":
            return _floor_div_iv(r, (d, d))
        if what == "div":
            return _trunc_div_iv(r, (d, d))
        return (0 if r[0] >= 0 else -(d - 1)), (d - 1 if r[1] >= 0 else 0)
    if op == "popcount":
        return 0, sum(g.type(x).width if len(args) == 1 else 1 for x in args)
    if op == "mux":
        return _hull(a[1], a[2])
    if op == "index":
        return _hull((0, 0), *a[1:])
    if any(x is None for x in a):
        return None
    if op == "add":
        if n in g.minus and not ops.signed(t):
            # x - c, built as x + (2^n - c) on unsigned words: read the constant as -c
            k = 0 if g.op(args[0]) == "const" else 1
            c = a[k][0] - (1 << t.width)
            return a[1 - k][0] + c, a[1 - k][1] + c
        return exact_range(g, n, iv)
    if op in ("sub", "neg", "sum", "shl"):
        return exact_range(g, n, iv)
    if op == "mul":
        return _square(a[0]) if args[0] == args[1] else exact_range(g, n, iv)
    if op == "abs":             # abs(MIN) is MIN: the magnitude passes the type by one
        lo, hi = a[0]
        return (0 if lo <= 0 <= hi else min(abs(lo), abs(hi))), max(abs(lo), abs(hi))
    if op == "fmul":
        lo, hi = _square(a[0]) if args[0] == args[1] else _mul(a[0], a[1])
        return lo >> g.attr(n), hi >> g.attr(n)
    if op in ("fdiv", "div"):
        b = a[1]
        if b[0] <= 0 <= b[1] or b[0] > b[1]:
            return None
        if op == "fdiv":
            return _floor_div_iv((a[0][0] << t.frac, a[0][1] << t.frac), b)
        return _trunc_div_iv(a[0], b)
    if op == "mod":
        m = max(abs(a[1][0]), abs(a[1][1]))
        if m == 0:
            return a[0]         # x % 0 is x
        lo = 0 if a[0][0] >= 0 else -(m - 1)
        r = max(lo, full[0]), min(m - 1, full[1]) if a[0][1] >= 0 else 0
        return _hull(r, a[0]) if a[1][0] <= 0 <= a[1][1] else r
    if op == "shr":
        return a[0][0] >> g.attr(n), a[0][1] >> g.attr(n)
    if op == "resize":
        return a[0]
    if op == "reinterp":
        # the same raw value when the signedness is the same (fixed point is signed)
        lo, hi = a[0]
        same = ops.signed(g.type(args[0])) == ops.signed(t)
        return (lo, hi) if (same or lo >= 0) and full[0] <= lo and hi <= full[1] else full
    if op == "math":
        fn = g.attr(n)
        hi = max(a[0][1], 0)
        if fn == "isqrt":
            return 0, isqrt(hi)
        if fn == "sqrt":
            return 0, min(isqrt(hi << t.frac) + 1, full[1])
        if fn == "exp":
            return 0, full[1]
        if fn == "sigmoid":
            return 0, min(1 << t.frac, full[1])
        return full
    # everything else within its type, as the value ranges have it
    return node_range(g, n, iv)


# ideal ranges are held within +-2^8192 (a warning then says "more than" that): far past
# every type (at most 256 bits), and numbers Python prints within its digit limit
_CAP = 1 << 8192


def _fmt(v: float | int) -> str:
    if isinstance(v, int) and abs(v) >= _CAP:
        return f"{'-' if v < 0 else ''}more than {_fmt(_CAP - 1)}"
    if isinstance(v, int) and abs(v) >= 10 ** 15:      # past what a float holds exactly
        digits = str(abs(v))
        return f"{'-' if v < 0 else ''}{digits[0]}.{digits[1]}e{len(digits) - 1}"
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    if abs(v) < 1e5:
        return f"{v:.6g}"
    m, e = f"{v:.1e}".split("e")
    return f"{m}e{int(e)}"


def _holds(t) -> str:
    if isinstance(t, FixedType):
        return f"+-{_fmt(2.0 ** (t.bits - t.frac - 1))}"
    return f"{t.min}..{t.max}"


def smallest_type(t, lo: int, hi: int) -> str | None:
    """The smallest type of t's kind (and fraction bits), in whole bytes, holding [lo, hi]."""
    if isinstance(t, FixedType) or (isinstance(t, IntType) and (t.signed or lo < 0)):
        w = max((-lo - 1).bit_length() if lo < 0 else 0, hi.bit_length()) + 1
    else:
        w = hi.bit_length()
    w = max(w, t.width + 1)
    w = (w + 7) // 8 * 8
    if w > 256:
        return None
    if isinstance(t, FixedType):
        return f"fix{w}_{t.frac}"
    return f"{'i' if (t.signed or lo < 0) else 'u'}{w}"


def _value(t, raw: int) -> float | int:
    """The number a raw value stands for; past a float's range, its integer part."""
    frac = t.frac if isinstance(t, FixedType) else 0
    if abs(raw) >> frac >= 1 << 1000:
        return raw >> frac
    return raw / (1 << frac) if frac else float(raw)


def _scan(g, roots, divisions: list | None = None, fast: bool = True,
          unbounded: list | None = None):
    """(node, interval, terms, location) of every operation the outputs depend on that may
    overflow, in node order; location is where its chain of + and - first may overflow.
    ``divisions`` (a list) gets the '/' and '%' nodes among them; ``unbounded`` (a list) the
    operations it would check whose range is unknown (a quotient by a divisor that may be 0,
    and what is computed from one). ``fast=False`` takes :func:`interval` for every
    operation, without the shortcuts for the commonest (the tests compare the two)."""
    iv: list = [None] * len(g)
    terms = [1] * len(g)
    head: dict[int, object] = {}
    out = []
    gop, gtype, gargs, gattr = g._op, g._type, g._args, g._attr
    product, minus, by_pow2 = g.product, g.minus, g.by_pow2
    full: dict = {}       # per type object: most nodes share a few
    narrowing: dict = {}  # per pair of type objects (the graph keeps them alive)
    for n in g.live(roots):
        op = gop[n]
        # the commonest nodes without the general rules (same results as interval())
        if op in _BITS:
            iv[n] = (0, 1)
            continue
        if op == "const":
            v = gattr[n]
            iv[n] = (v, v)
            continue
        if op == "input":
            t = gtype[n]
            r = full.get(id(t))
            if r is None:
                r = full[id(t)] = type_range(t)
            iv[n] = r
            continue
        if op in ops.DIVISIONS and divisions is not None:
            divisions.append(n)
        if not fast:
            r = interval(g, n, iv)
        elif op == "add" and n not in product and n not in minus and n not in by_pow2:
            a, b = gargs[n]
            ra, rb = iv[a], iv[b]
            r = None if ra is None or rb is None else (ra[0] + rb[0], ra[1] + rb[1])
        elif op in SELECTS and n not in product and n not in by_pow2:
            a, b = gargs[n][-2:]
            ra, rb = iv[a], iv[b]
            iv[n] = None if ra is None or rb is None else select_range(op, ra, rb)
            continue        # not a warned operation
        elif op == "resize" and n not in product:
            r = iv[gargs[n][0]]
        else:
            r = interval(g, n, iv)
        if r is not None and (r[0] < -_CAP or r[1] > _CAP):
            # an ideal value that no type comes near (a u32 squared over and over doubles its
            # digits each time): held at the cap, so that ranges stay small numbers
            r = (max(r[0], -_CAP), min(r[1], _CAP))
        iv[n] = r
        if op not in _WARN_OPS:
            continue
        t = gtype[n]
        chain_head = None
        if op == "add" or op == "sub":
            tk = t._k
            k = 0
            for x in gargs[n]:
                if (gop[x] == "add" or gop[x] == "sub") and gtype[x]._k == tk:
                    k += terms[x] - 1       # a link's terms, for its one argument
                    if chain_head is None:
                        chain_head = head.get(x)
            terms[n] = len(gargs[n]) + k
        if type(t) is BoolType or r is None and unbounded is None:
            continue
        if op == "shl" and type(t) is not FixedType and n not in product:
            continue
        if op == "resize":
            pair = (id(gtype[gargs[n][0]]), id(t))
            narrows = narrowing.get(pair)
            if narrows is None:
                narrows = narrowing[pair] = _narrows(g, n)
            if not narrows:
                continue
        if r is None:
            unbounded.append(n)
            continue
        tr = full.get(id(t))
        if tr is None:
            tr = full[id(t)] = type_range(t)
        lo, hi = tr
        if lo <= r[0] and r[1] <= hi:
            continue
        loc = chain_head if chain_head is not None else g.loc_of(n)
        if op in ("add", "sub") and loc is not None:
            head[n] = loc
        out.append((n, r, terms[n], loc))
    return out


def overflowing(g, roots, unknown: bool = False) -> list[int]:
    """The nodes (that the outputs depend on) whose exact value may leave their type; with
    ``unknown``, also those whose range the analysis does not know (a quotient by a divisor
    that may be 0, and what is computed from one), in node order."""
    rest: list[int] | None = [] if unknown else None
    found = [n for n, _, _, _ in _scan(g, roots, unbounded=rest)]
    return sorted(found + rest) if rest else found


def analyze(g, roots, src: Source) -> list[RangeWarning]:
    """The warnings of the nodes the outputs depend on, one per source position (the widest
    range found there), in source order."""
    found: dict[tuple, tuple] = {}
    divisions: list[int] = []
    merged = g.merged
    for n, r, k, loc in _scan(g, roots, divisions):
        if loc is None or n in merged:
            continue        # a merge's own range: its branches' operations are warned of
        key = (id(getattr(loc, "src", None)), loc.line, loc.col)
        old = found.get(key)
        if old is None or max(-r[0], r[1]) > max(-old[2][0], old[2][1]):
            found[key] = (loc, n, r, k)
    out = []
    for loc, n, r, k in found.values():
        out.append((loc, _warning(g, n, r, k, loc, getattr(loc, "src", src))))
    taken = set(found)
    out += _zero_divisors(g, divisions, src, taken)
    out += _folded(g, roots, src, taken)
    out.sort(key=lambda f: (getattr(getattr(f[0], "src", None), "filename", ""), f[0].line,
                            f[0].col))
    return [w for _, w in out]


# how a warning names an operation (a resize is named by the type it converts to)
_WHAT = {"add": "'+'", "sub": "'-'", "mul": "'*'", "neg": "'-'", "abs": "abs()",
         "sum": "the sum", "fmul": "'*'", "fdiv": "'/'", "div": "'/'", "shl": "the shift"}


def _use(t, lo: int, hi: int) -> str:
    """The end of a warning: the smallest type holding lo..hi, or that none does."""
    better = smallest_type(t, lo, hi)
    return f"; use {better}" if better else "; no type of 256 bits holds it"


def folded_wraps(g, roots) -> list:
    """The operations on constants that wrapped when folded (:attr:`WordGraph.folded`) and
    that the outputs depend on: (location, op, type, exact value)."""
    if not g.folded:
        return []
    into = g.folded_into
    used = set(g.consumed)
    for n in g.live(roots):
        used |= into.get(n, frozenset())
    return [g.folded[i] for i in sorted(used)]


def _folded(g, roots, src: Source, taken: set) -> list:
    """(location, warning) of each operation on typed constants whose value passed its type
    (const A: u8 = 200, then A + A): computed at compile time, it is no node of the
    circuit, but it wrapped all the same."""
    out = []
    for loc, op, t, exact in folded_wraps(g, roots):
        key = (id(getattr(loc, "src", None)), loc.line, loc.col)
        if key in taken:
            continue
        taken.add(key)
        what = f"converting to {t}: the value" if op == "resize" else f"{_WHAT[op]} on {t}"
        s = getattr(loc, "src", src)
        out.append((loc, RangeWarning(
            s.filename, loc.line, loc.col,
            f"{what} is {_fmt(_value(t, exact))} (constants, computed when compiling); "
            f"{t} holds {_holds(t)}{_use(t, exact, exact)}", s.line_text(loc.line))))
    return out


def _zero_divisors(g, divisions: list[int], src: Source, taken: set) -> list:
    """(location, warning) of each '/' or '%' whose divisor is the constant 0 (a literal 0,
    or a decimal that rounds to 0 in a fixed-point type: x / 0.001 in fix16_8): the result
    is the documented x / 0, never a quotient, which no range warning reports (the range
    analysis leaves quotients by a divisor that may be 0 unbounded)."""
    out = []
    by_zero = [(g.loc_of(n), g.op(n), g.type(n)) for n in divisions
               if g.op(g.args(n)[1]) == "const" and g.attr(g.args(n)[1]) == 0]
    # and those of constants, folded when compiling (their results are constants: no node
    # of the circuit reads them, but the program computed them)
    for loc, op, t in by_zero + g.zero_folds:
        key = None if loc is None else (id(getattr(loc, "src", None)), loc.line, loc.col)
        if key is None or key in taken:
            continue
        taken.add(key)
        if op == "mod":
            what, value = f"'%' on {t}", "x % 0 is x"
        elif isinstance(t, FixedType):
            what = f"'/' on {t}"
            value = (f"x / 0 is {_fmt(_value(t, -1))} where x >= 0, 0 where x < 0 (a constant "
                     f"of magnitude 2^-{t.frac + 1} or less is 0 in {t})")
        elif ops.signed(t):
            what, value = f"'/' on {t}", "x / 0 is -1 where x >= 0, 1 where x < 0"
        else:
            what, value = f"'/' on {t}", f"x / 0 is {t.max}"
        w = RangeWarning(getattr(loc, "src", src).filename, loc.line, loc.col,
                         f"{what} divides by the constant 0: {value}, not a quotient",
                         getattr(loc, "src", src).line_text(loc.line))
        out.append((loc, w))
    return out


def _narrows(g, n: int) -> bool:
    src_t, t = g.type(g.args(n)[0]), g.type(n)
    if isinstance(src_t, BoolType):
        return False
    lo, hi = type_range(src_t)
    tl, th = type_range(t)
    return lo < tl or hi > th


def _shown_type(g, n: int):
    """The type a user wrote: a fixed-point cast narrows the raw integer between two
    reinterpretations, and is reported as the fixed-point type."""
    t = g.type(n)
    if g.op(n) == "resize":
        # the raw word becomes fixed point again where some node reinterprets it
        for m in range(n + 1, len(g)):
            if g.op(m) == "reinterp" and g.args(m)[0] == n and isinstance(g.type(m), FixedType):
                return g.type(m)
    return t


def _warning(g, n, r, k, loc, src: Source) -> RangeWarning:
    t = _shown_type(g, n)
    op = g.op(n)
    lo, hi = r
    tlo, thi = type_range(t)
    if lo < tlo and hi > thi:
        reach = "+-" + _fmt(_value(t, max(-lo, hi)))
    else:
        reach = _fmt(_value(t, lo if lo < tlo else hi))
    if op in ("add", "sub") and k > 2:
        what = f"sum of {k} values of {t}"
    elif op == "resize":
        what = f"converting to {t}: the value"
    elif n in g.minus:
        what = f"'-' on {t}"
    elif n in g.product:
        what = f"'*' on {t}"
    elif n in g.written:
        what = f"{g.written[n]} on {t}"
    else:
        what = f"{_WHAT[op]} on {t}"
    msg = f"{what} may reach {reach}; {t} holds {_holds(t)}{_use(t, lo, hi)}"
    return RangeWarning(src.filename, loc.line, loc.col, msg, src.line_text(loc.line))


__all__ = ["analyze", "overflowing", "RangeWarning", "interval", "smallest_type", "type_range"]
