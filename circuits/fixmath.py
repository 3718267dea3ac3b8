"""Math functions on fixed-point (and integer) words of any width: sqrt, exp, log, sigmoid,
reciprocal and the integer square root.

Every function is one algorithm written against :mod:`.fixarith`, so :func:`build` (gates)
and :func:`evaluate` (plain integers, the language's reference semantics) give the same bits.
A ``fixW_F`` value is a signed W-bit raw integer r meaning r * 2^-F; I = W - F - 1 integer
bits. Internally the transcendental functions keep P = F + 6 fraction bits.

- ``isqrt``: non-restoring square root (one add-or-subtract per result bit, chosen by the
  sign of the partial remainder, so no multiplexer): floor(sqrt(x)); negative x gives 0.
- ``sqrt``: isqrt(r * 2^(F+2)) then halved with rounding: the correctly rounded square root
  (to nearest); negative x gives 0; saturates at the type's maximum where rounding would pass it.
- ``exp``: y = x log2(e) (a multiplication by a constant), split into the integer k and the
  fraction f; 2^f from a piecewise polynomial (:mod:`.polyfit`, Horner steps at P bits);
  shifted by k (a barrel shifter) and rounded; saturates at the maximum, 0 below the smallest
  value.
- ``log``: the leading one found by normalisation (halving shift stages), log2 of the mantissa
  from a piecewise polynomial, (exponent + log2 mantissa) * ln 2 rounded; x <= 0 gives the
  type's minimum, as do results below it.
- ``sigmoid``: e = exp(-|x|) at P bits, 1 / (1 + e) by a non-restoring division with a constant
  dividend (F + 2 quotient bits), mirrored as 1 - s for negative x.
- ``reciprocal``: 2^(2F) / |x| by the same non-restoring division, rounded, with the sign of x;
  saturates at the type's maximum and minimum (1/0 gives the maximum).
"""

from __future__ import annotations

import decimal
from fractions import Fraction
from functools import lru_cache

from .fixarith import GateArith, IntArith
from .polyfit import coefficients, plan

GUARD = 6
FUNCTIONS = ("sqrt", "exp", "log", "sigmoid", "reciprocal", "isqrt")


class MathError(ValueError):
    """A math function applied to a type it does not take."""


@lru_cache(maxsize=None)
def _const(name: str, bits: int) -> int:
    """round(c * 2^bits) for c = log2(e) or ln(2), exactly enough for any width."""
    with decimal.localcontext(decimal.Context(prec=bits // 3 + 30)):
        ln2 = decimal.Decimal(2).ln()
        c = 1 / ln2 if name == "log2e" else ln2
        return round(Fraction(c) * (1 << bits))


# --- building blocks -------------------------------------------------------------------------
def isqrt_word(A, x):
    """floor(sqrt(x)) of an unsigned word, ceil(n/2) bits (non-restoring: step k adds or
    subtracts a (k+3)-bit word; the sign of the remainder picks which, for free)."""
    n = A.width(x)
    m = n + (n & 1)
    x = A.ext(x, m, False)
    h = m // 2
    r = A.const(0, 3)
    q = None
    for k in range(1, h + 1):
        i = h - k
        w = k + 3
        s = A.bit(r, A.width(r) - 1)          # remainder negative
        ns = A.not_(s)
        r4 = A.ext(A.cat(A.cut(x, 2 * i, 2 * i + 2), r), w, True)
        qx = A.ext(q, w - 2, False) if q is not None else A.const(0, w - 2)
        # r >= 0: r4 - (4q + 1) = r4 + ~(4q | 1) + 1; r < 0: r4 + (4q | 3)
        t = A.cat(s, 1, A.xor_bit(qx, ns))
        r, _ = A.add_carry(r4, t, ns)
        nb = A.not_(A.bit(r, w - 1))
        q = A.cat(nb, q) if q is not None else A.cat(nb)
    return q


def udiv_const(A, num: int, d, qbits: int):
    """(num // d mod 2^qbits, overflow = [num // d >= 2^qbits]) for a public numerator and an
    unsigned word d; d = 0 overflows. Non-restoring division: the remainder, in [-d, d) when
    there is no overflow, is kept in len(d) + 1 bits and each quotient bit adds or subtracts
    d as its sign says (len(d) ANDs per quotient bit, against 2 len(d) + 1 restoring). On
    overflow the quotient bits are not num // d: callers replace the result."""
    dw = A.width(d)
    r0 = num >> qbits
    if r0 >> dw:
        over = 1
        r0 = 0
    else:
        over = A.not_(A.lt(A.const(r0, dw), d, False))
    rem = A.const(r0, dw + 1)
    dd = A.ext(d, dw + 1, False)
    qs = []
    for i in range(qbits - 1, -1, -1):
        pos = A.not_(A.bit(rem, dw))           # remainder >= 0: subtract d, else add it
        r2 = A.cat((num >> i) & 1, A.cut(rem, 0, dw))
        rem, _ = A.add_carry(r2, A.xor_bit(dd, pos), pos)
        qs.append(A.not_(A.bit(rem, dw)))
    return A.cat(*reversed(qs)), over


def _rshift_round(A, x, k: int):
    """round(x / 2^k) of an unsigned word (ties up), one bit wider than needed then cut."""
    n = A.width(x)
    x = A.ext(x, n + 1, False)
    if k == 0:
        return x
    x = A.add(x, A.const(1 << (k - 1), n + 1))
    return A.cut(x, k, n + 1)


def _clamp_u(A, x, hi: int, w: int):
    """min(x, hi) for an unsigned word, as a w-bit word (no gates when x cannot pass hi)."""
    n = A.width(x)
    if n <= w and (1 << n) - 1 <= hi:
        return A.ext(x, w, False)
    n2 = max(n, hi.bit_length())
    x2 = A.ext(x, n2, False)
    over = A.lt(A.const(hi, n2), x2, False)
    return A.cut(A.ext(A.mux(over, A.const(hi, n2), x2), max(n2, w), False), 0, w)


def _clamp_s(A, x, lo: int, hi: int, w: int, bounds: tuple[int, int] | None = None):
    """x clamped to [lo, hi] as a w-bit word; only the comparisons the static bounds
    (min, max the word can hold) need are built."""
    n = A.width(x)
    bmin, bmax = bounds if bounds is not None else (-(1 << (n - 1)), (1 << (n - 1)) - 1)
    if bmax > hi:
        over = A.lt(A.const(hi, n), x, True)
        x = A.mux(over, A.const(hi, n), x)
    if bmin < lo:
        under = A.lt(x, A.const(lo, n), True)
        x = A.mux(under, A.const(lo, n), x)
    return A.ext(x, w, True)


def poly(A, fn: str, xf, p: int):
    """g(x) for x = xf * 2^-p in [0, 1) (xf an unsigned p-bit word), as a signed word of
    p + 3 bits with p fraction bits: piecewise polynomial, Horner steps at p bits."""
    cw = p + 3
    t, d = plan(fn, p, cw)
    table = coefficients(fn, p, t, d)
    lim = 1 << (cw - 1)
    if any(not -lim <= c < lim for row in table for c in row):
        raise MathError(f"{fn}: coefficients do not fit {cw} bits")
    seg = A.cut(xf, p - t, p) if t else None
    u = A.ext(A.cut(xf, 0, p - t), p - t + 1, False)
    acc = A.table(seg, [c & ((1 << cw) - 1) for c in table[d]], cw)
    for k in range(d - 1, -1, -1):
        prod = A.mul(acc, u, True, p + cw)
        acc = A.add(A.cut(prod, p, p + cw),
                    A.table(seg, [c & ((1 << cw) - 1) for c in table[k]], cw))
    return acc


def exp_core(A, x, w: int, f: int, p: int):
    """(2^frac at p fraction bits as a signed (p+3)-bit word, k as a signed word) with
    x * log2(e) = k + frac, frac in [0, 1)."""
    i = w - f - 1
    s = w + 2
    c = _const("log2e", p - f + s)
    yw = i + 3 + p
    prod = A.mul_const(A.ext(x, yw + s, True), c)
    y = A.cut(prod, s, s + yw)            # floor(x log2(e) 2^p)
    frac = A.cut(y, 0, p)
    k = A.cut(y, p, yw)
    return poly(A, "exp2", frac, p), k


def _shift_amount(A, k, offset: int, top: int):
    """(k + offset as an unsigned word of bit_length(top) bits, [k + offset < 0],
    [k + offset > top]) for a signed word k."""
    sw = max(1, top.bit_length())
    kw = max(A.width(k), sw + 1, offset.bit_length() + 2, top.bit_length() + 2)
    kk = A.add(A.ext(k, kw, True), A.const(offset, kw))
    below = A.bit(kk, kw - 1)
    above = A.lt(A.const(top, kw), kk, True)
    return A.cut(kk, 0, sw), below, above


# --- the functions ---------------------------------------------------------------------------
def f_sqrt(A, x, w: int, f: int):
    neg = A.bit(x, w - 1)
    r = A.cut(x, 0, w - 1)
    d = A.cat(A.const(0, f + 2), r)
    q = isqrt_word(A, d)
    qr = _rshift_round(A, q, 1)
    out = _clamp_u(A, qr, (1 << (w - 1)) - 1, w)
    return A.mux(neg, A.const(0, w), out)


def f_isqrt(A, x, w: int, signed: bool):
    if not signed:
        return A.ext(isqrt_word(A, x), w, False)
    if w == 1:      # i1 holds 0 and -1, and both give 0
        return A.const(0, w)
    q = A.ext(isqrt_word(A, A.cut(x, 0, w - 1)), w, False)
    return A.mux(A.bit(x, w - 1), A.const(0, w), q)


def f_exp(A, x, w: int, f: int):
    p = f + GUARD
    i = w - f - 1
    e, k = exp_core(A, x, w, f, p)
    # out = round(e * 2^(k + f - p)) = round((e << s) / 2^(p+1)), s = k + f + 1 in [0, i + f]
    s, low, high = _shift_amount(A, k, f + 1, i + f)
    vw = p + 2 + i + f
    v = A.shl_var(A.ext(e, vw, True), s)
    out = _rshift_round(A, v, p + 1)
    out = A.cut(out, 0, w)
    over = A.or_(high, A.bit(out, w - 1))
    out = A.mux(over, A.const((1 << (w - 1)) - 1, w), out)
    return A.mux(low, A.const(0, w), out)


def f_sigmoid(A, x, w: int, f: int):
    p = f + GUARD
    neg = A.bit(x, w - 1)
    z = A.cond_neg(x, A.not_(neg))        # -|x| (never overflows)
    e, k = exp_core(A, z, w, f, p)
    # e * 2^k at p fraction bits: (e << (k + p + 1)) >> (p + 1), 0 below
    s, tiny, _ = _shift_amount(A, k, p + 1, p + 1)
    ew = 2 * p + 4
    ek = A.cut(A.shl_var(A.ext(e, ew, True), s), p + 1, 2 * p + 3)
    ek = A.mux(tiny, A.const(0, p + 2), ek)
    den = A.add(ek, A.const(1 << p, p + 2))           # 1 + e, in [1, 2]
    q, _ = udiv_const(A, 1 << (f + p + 1), den, f + 2)  # 2^(f+1) / (1 + e)
    sp = _rshift_round(A, q, 1)                        # round(2^f / (1 + e)), f + 2 bits
    sw = A.width(sp)
    lo = A.add(A.const(1 << f, sw), A.cond_neg(sp, 1))  # 2^f - sp
    out = A.mux(neg, lo, sp)
    return _clamp_u(A, out, (1 << (w - 1)) - 1, w)


def f_reciprocal(A, x, w: int, f: int):
    neg = A.bit(x, w - 1)
    a = A.cond_neg(x, neg)                 # |x| as unsigned (|MIN| = 2^(w-1) fits)
    q, over = udiv_const(A, 1 << (2 * f + 1), a, w + 1)
    rq = _rshift_round(A, q, 1)
    # saturate |1/x| at 2^(w-1): the minimum for negative x, one less for positive x
    top = 1 << (w - 1)
    m = _clamp_u(A, rq, top, w)
    m = A.mux(over, A.const(top, w), m)
    m = A.xor_bit(m, A.and_(A.bit(m, w - 1), A.not_(neg)))   # 100..0 -> 011..1
    return A.cond_neg(m, neg)


def f_log(A, x, w: int, f: int):
    p = f + GUARD
    lo_raw, hi_raw = -(1 << (w - 1)), (1 << (w - 1)) - 1
    neg = A.bit(x, w - 1)
    n = w - 1
    m = A.cut(x, 0, n)
    if n == 0:
        return A.const(lo_raw, w)
    bad = A.or_(neg, A.is_zero(m))
    # normalise: shift the leading one to bit n-1, counting the shift
    cnt = []
    k = 1 << max(0, (n - 1).bit_length() - 1)
    while k >= 1:
        if k < n:
            z = A.is_zero(A.cut(m, n - k, n))
            m = A.mux(z, A.shl(m, k), m)
            cnt.append(z)
        else:
            cnt.append(0)
        k //= 2
    cnt = A.cat(*reversed(cnt))
    # log2 x = (n - 1 - f - cnt) + log2(1 + mantissa)
    mw = n - 1
    mant = A.cut(m, 0, mw)
    if mw >= p:
        mp = A.cut(mant, mw - p, mw)
    else:
        mp = A.shl(A.ext(mant, p, False), p - mw)
    l2 = poly(A, "log2_1p", mp, p)
    top = n - 1 - f
    ew = max(abs(top).bit_length(), f.bit_length(), A.width(cnt)) + 2
    e = A.add(A.const(top, ew), A.cond_neg(A.ext(cnt, ew, False), 1))
    tw = ew + p + 1
    total = A.add(A.shl(A.ext(e, tw, True), p), A.ext(l2, tw, True))
    s = tw + 2
    c = _const("ln2", s)
    prod = A.mul_const(A.ext(total, tw + s, True), c)
    sh = s + p - f
    prod = A.add(prod, A.const(1 << (sh - 1), tw + s))
    out = A.cut(prod, sh, tw + s)
    ow = A.width(out)
    # static range of ln x: x in [2^-f, 2^(w-1-f)), so ln x in (-f ln2, (w-1-f) ln2)
    lo_b = -int(f * 0.6932 * (1 << f)) - 2
    hi_b = int((w - 1 - f) * 0.6932 * (1 << f)) + 2
    if ow < w:
        out = A.ext(out, w, True)
        ow = w
    out = _clamp_s(A, out, lo_raw, hi_raw, w, (lo_b, hi_b))
    return A.mux(bad, A.const(lo_raw, w), out)


_FIXED = {"sqrt": f_sqrt, "exp": f_exp, "log": f_log, "sigmoid": f_sigmoid,
          "reciprocal": f_reciprocal}


def _dispatch(A, fn: str, x, w: int, frac: int | None, signed: bool):
    if fn == "isqrt":
        if frac is not None:
            raise MathError("isqrt takes an integer; use sqrt for fixed point")
        return f_isqrt(A, x, w, signed)
    if fn not in _FIXED:
        raise MathError(f"unknown math function {fn!r}")
    if frac is None:
        raise MathError(f"{fn} takes a fixed-point value")
    return _FIXED[fn](A, x, w, frac)


# the functions computed by a piecewise polynomial at frac + GUARD bits: their precision is
# bounded by the polynomial plans polyfit searches
_POLY_OF = {"exp": "exp2", "sigmoid": "exp2", "log": "log2_1p"}


@lru_cache(maxsize=None)
def max_frac(fn: str) -> int | None:
    """The most fraction bits ``fn`` takes (None: any): past them no polynomial plan reaches
    the precision. Whether one does grows with the precision alone."""
    poly_fn = _POLY_OF.get(fn)
    if poly_fn is None:
        return None
    lo, hi = 0, 1024      # plan(lo + GUARD) exists; plan(hi + GUARD) does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            plan(poly_fn, mid + GUARD, mid + GUARD + 3)
            lo = mid
        except ValueError:
            hi = mid
    return lo


def build(b, fn: str, x: list[int], frac: int | None, signed: bool = True) -> list[int]:
    """The gates of ``fn`` on the word x (fixed point with ``frac`` fraction bits, or an
    integer when frac is None); the result has x's width."""
    return _dispatch(GateArith(b), fn, list(x), len(x), frac, signed)


def evaluate(fn: str, raw: int, w: int, frac: int | None, signed: bool = True) -> int:
    """The same function on a raw value (signed for fixed point), as the circuit computes it;
    returns the raw result (signed when the type is)."""
    v, _ = _dispatch(IntArith(), fn, (raw & ((1 << w) - 1), w), w, frac, signed)
    if (frac is not None or signed) and v >> (w - 1):
        v -= 1 << w
    return v


__all__ = ["build", "evaluate", "FUNCTIONS", "MathError", "isqrt_word", "max_frac", "udiv_const",
           "poly"]
