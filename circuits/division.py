"""Division and remainder of words: restoring division, and division by public constants.

- ``divmod_u``: :func:`divide`, restoring steps (step k compares a k-bit partial remainder
  and a precomputed "divisor < 2^k" bit decides the rest, as in EMP-toolkit: 2k+1 ANDs)
  while they are cheaper than non-restoring ones (one add-or-subtract of the divisor's width,
  no multiplexer), non-restoring steps after: 32 bits 910 ANDs for both results against
  restoring's n^2+3n-3 = 1117; plain restoring division where that is no dearer (below 8
  bits) or ``shallow`` is asked for.
- ``divmod_s``: at most n^2+6n-6 ANDs (32 bits: 1033), C semantics (truncation toward zero),
  see :func:`divmod_s`.
- A public divisor d (a constant word): for 0 <= x < 2^n, d >= 2, l = ceil(log2 d) and
  m = floor((2^(n+l) + 2^l) / d), which has at most n+1 bits, floor(x / d) =
  floor(x m / 2^(n+l)) (Granlund, Montgomery, "Division by invariant integers using
  multiplication", PLDI 1994, Theorem 4.2): one constant multiplication, then x - q d. The
  restoring division folded around the constant keeps its remainder as narrow as d (u32 / 10:
  144 ANDs against 463), and :func:`divide` folded around it is cheaper still: its
  non-restoring steps add or subtract the constant to a remainder one bit wider than d, about
  one AND per bit of d (u32 / 10: 60, u32 / 3: 31). All are built once on a scratch builder
  per (width, divisor) and the cheapest is used.

Division by zero and overflow never fail; :func:`ref_divmod_u` and :func:`ref_divmod_s` are
the same semantics on Python integers, for interpreters and tests.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from .constmul import mul_const
from .shallow import inc_by_shallow, sub_borrow_shallow
from .bitheap import live_and_count
from .builder import ONE, ZERO, Builder
from .types import uint
from .wordops import (Word, abs_, add, cond_neg, const_value, const_word, eq, extend, inc_by,
                      mux, restoring, same_width, shr, sub, sub_borrow)


def divide(b: Builder, a: Sequence[int], d: Sequence[int]) -> tuple[Word, Word, int]:
    """Unsigned a // d and a % d of secret words (len(a) <= len(d)), and [d == 0].

    Restoring steps while they are cheap, non-restoring steps after. A restoring step k
    (k-bit partial remainder) costs 2k+1 ANDs (borrow chain, the AND with [d < 2^k], a k-bit
    multiplexer, see :func:`.wordops.restoring`); a non-restoring step adds or subtracts d to
    an (L+1)-bit signed remainder in [-d, d) (L the width of d without its constant-zero top
    bits), the choice made by the remainder's sign with XORs only, so it costs L ANDs
    whatever k is. The switch is at the first k with 2k+1 > L; a remainder left negative by
    the last non-restoring step gets d added back (2L-1 ANDs, gone when only the quotient is
    used). n-bit words: with K = floor((n-1)/2) restoring steps, K^2+2K + (n-1) + (n-K)(n+1)
    + 2n-1 ANDs for both results (32 bits: 910 against 1117), at more AND-depth (each
    non-restoring step waits for the whole carry chain of the one before: 32 bits 740
    against 589).

    Division by zero keeps the semantics of :func:`.wordops.restoring` (a // 0 = all ones,
    a % 0 = a): adding or subtracting 0 leaves the remainder at a mod 2^(L+1), and the
    non-restoring quotient bits are ORed with [d == 0].
    """
    m, n = len(a), len(d)
    width = n
    while width and d[width - 1] == ZERO:
        width -= 1
    small = [ONE] * (n + 1)
    for k in range(n - 1, -1, -1):
        small[k] = b.and_(small[k + 1], b.not_(d[k]))
    zero = small[0]
    q = [ZERO] * m
    r: Word = []
    i = m - 1
    while i >= 0 and 2 * (len(r) + 1) + 1 <= width:     # restoring steps
        rp = [a[i]] + r
        k = len(rp)
        diff, borrow = sub_borrow(b, rp, d[:k])
        q[i] = b.and_(b.not_(borrow), small[k])
        r = mux(b, q[i], diff, rp)
        i -= 1
    if i < 0:
        r = r[:width]
        return q, r + [b.and_(ai, zero) for ai in a[len(r):]], zero
    # non-restoring steps on an (L+1)-bit two's-complement remainder in [-d, d)
    dd = list(d[:width]) + [ZERO]
    r = extend(r, width + 1, False)
    for i in range(i, -1, -1):
        pos = b.not_(r[-1])                 # r >= 0: subtract d, else add it
        r = add(b, [a[i]] + r[:width], [b.xor(dj, pos) for dj in dd], pos)
        q[i] = b.or_(b.not_(r[-1]), zero)
    neg_ = r[-1]
    rem = add(b, r[:width], [b.and_(dj, neg_) for dj in d[:width]])
    return q, rem + [b.and_(ai, zero) for ai in a[width:]], zero


def divmod_u(b: Builder, x: Sequence[int], y: Sequence[int],
             shallow: bool = False) -> tuple[Word, Word]:
    """Unsigned (x // y, x % y); x // 0 = 2^n - 1 and x % 0 = x. At most n^2+3n-3 ANDs.

    A constant word y
    goes to :func:`divmod_const_u`. ``shallow`` trades ANDs for AND-depth (see
    :func:`.wordops.restoring`).
    """
    same_width("divmod_u", x, y)
    d = const_value(y)
    if d is not None:
        return divmod_const_u(b, x, d)
    # a zero-extended dividend needs a step per bit of its own width only; the quotient
    # bits above it are set only when dividing by zero
    n, m = len(x), len(x)
    while m and x[m - 1] == ZERO:
        m -= 1
    q, r, zero = _divide(b, x[:m], y, shallow)
    return q + [zero] * (n - m), extend(r, n, False)


def divmod_s(b: Builder, x: Sequence[int], y: Sequence[int],
             shallow: bool = False) -> tuple[Word, Word]:
    """Signed (x / y, x % y) truncating toward zero (C): at most n^2+6n-6 ANDs.

    x / 0 = -1 if x >= 0 else 1 and x % 0 = x; INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0
    (the wrap-around of the exact quotient 2^(n-1)).

    Rather than |x| (n-1 ANDs) this divides a' = x ^ sign(x), which is |x| - 1 for negative
    x and has only n-1 bits, saving the division's widest step. With a' = q'|y| + r' the
    true |x| = a' + 1 gives q = q' + e, r = e ? 0 : r' + 1 where e = [r' + 1 == |y|]; and the
    negated results become ~q' + (1 - e) and ~r', so no second negation is needed. A
    constant word y goes to :func:`divmod_const_s`. ``shallow`` as for :func:`divmod_u`, with
    parallel-prefix increments for the sign fix-ups too.
    """
    n = same_width("divmod_s", x, y)
    if n == 0:
        return [], []
    d = const_value(y)
    if d is not None:
        return divmod_const_s(b, x, d)
    increment = inc_by_shallow if shallow else inc_by
    sx, sy = x[-1], y[-1]
    ap = [b.xor(xi, sx) for xi in x[:-1]]
    m = n - 1
    while m and ap[m - 1] == ZERO:  # a sign-extended x leaves zeros on top of a'
        m -= 1
    ay = increment(b, [b.xor(yi, sy) for yi in y], sy)  # |y|
    q1, r1, zero = _divide(b, ap[:m], ay, shallow)
    # a' < 2^m, so the quotient's bits from m up are set only when dividing by zero
    q1 = q1 + [zero] * (n - m)
    r1 = extend(r1, n, False)
    e = b.and_(sx, eq(b, increment(b, r1, ONE), ay))
    t = b.xor(sx, sy)
    q = increment(b, [b.xor(qi, t) for qi in q1], b.xor(t, e))
    ne_ = b.not_(e)
    r = [b.and_(b.xor(ri, sx), ne_) for ri in r1]
    return q, r


def _by_restoring_secret(b: Builder, a: Sequence[int], d: Sequence[int],
                         subtract=None) -> tuple[Word, Word, int]:
    q, r, small = restoring(b, a, d, subtract)
    return q, r, small[0]


@lru_cache(maxsize=None)
def _use_divide(m: int, n: int, width: int) -> bool:
    """Whether :func:`divide` has no more ANDs than restoring division for its quotient, its
    remainder and both (small words: the non-restoring remainder's correction can cost more
    than it saves), counted on fresh words of these widths."""
    counts = []
    for method in (_by_restoring_secret, divide):
        scratch = Builder("plan")
        a = scratch.input("p", "a", uint(m))
        d = list(scratch.input("p", "d", uint(width))) + [ZERO] * (n - width)
        q, r, _ = method(scratch, a, d)
        counts.append([live_and_count(scratch, w) for w in (q, r, q + r)])
    return all(new <= old for old, new in zip(*counts))


def _divide(b: Builder, a: Sequence[int], d: Sequence[int],
            shallow: bool) -> tuple[Word, Word, int]:
    """Quotient, remainder and [d == 0] by :func:`divide` where it has fewer ANDs than
    restoring division, else (and always when ``shallow``) by restoring division."""
    if shallow:
        return _by_restoring_secret(b, a, d, sub_borrow_shallow)
    width = len(d)
    while width and d[width - 1] == ZERO:
        width -= 1
    if len(a) and width > 2 and _use_divide(len(a), len(d), width):
        return divide(b, a, d)
    return _by_restoring_secret(b, a, d)


def _wrap_s(v: int, n: int) -> int:
    v &= (1 << n) - 1
    return v - (1 << n) if v >> (n - 1) else v


def ref_divmod_u(x: int, y: int, n: int) -> tuple[int, int]:
    """Unsigned n-bit (x // y, x % y) with x // 0 = 2^n - 1, x % 0 = x (operands taken mod 2^n)."""
    mask = (1 << n) - 1
    x, y = x & mask, y & mask
    if y == 0:
        return mask, x
    return x // y, x % y


def ref_divmod_s(x: int, y: int, n: int) -> tuple[int, int]:
    """Signed n-bit (x / y, x % y) truncating toward zero, x / 0 = -1 if x >= 0 else 1,
    x % 0 = x, results wrapped to n bits (INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0)."""
    x, y = _wrap_s(x, n), _wrap_s(y, n)
    if y == 0:
        return _wrap_s(-1 if x >= 0 else 1, n), x
    q = abs(x) // abs(y)
    if (x < 0) != (y < 0):
        q = -q
    return _wrap_s(q, n), _wrap_s(x - q * y, n)


# --- public divisors -----------------------------------------------------------------------
def _reciprocal(b: Builder, x: Word, d: int) -> tuple[Word, Word]:
    n = len(x)
    l = (d - 1).bit_length()
    m = ((1 << (n + l)) + (1 << l)) // d
    prod = mul_const(b, extend(x, 2 * n + 1, False), m)
    q = extend(prod[n + l:], n, False)
    return q, sub(b, x, mul_const(b, q, d))


def _by_restoring(b: Builder, x: Word, d: int) -> tuple[Word, Word]:
    q, r, _ = restoring(b, x, const_word(d, len(x)))
    return q, r


def _by_divide(b: Builder, x: Word, d: int) -> tuple[Word, Word]:
    q, r, _ = divide(b, x, const_word(d, len(x)))
    return q, r


@lru_cache(maxsize=None)
def _const_method(n: int, d: int):
    """The construction for a public divisor d at n bits: the reciprocal multiplication when
    its quotient and remainder together cost fewer ANDs than restoring division, and
    :func:`divide` (its non-restoring steps add or subtract a constant, about one AND per
    bit of d per step) when none of its quotient, remainder and both costs more than that."""
    costs = []
    for method in (_by_restoring, _reciprocal, _by_divide):
        scratch = Builder("plan")
        q, r = method(scratch, scratch.input("p", "x", uint(n)), d)
        costs.append([live_and_count(scratch, w) for w in (q, r, q + r)])
    pick = 1 if costs[1][2] < costs[0][2] else 0
    if all(c <= p for c, p in zip(costs[2], costs[pick])):
        pick = 2
    return (_by_restoring, _reciprocal, _by_divide)[pick]


def divmod_const_u(b: Builder, x: Word, d: int) -> tuple[Word, Word]:
    """Unsigned (x // d, x % d) for a public d (taken mod 2^n); d = 0 gives (2^n - 1, x)."""
    n = len(x)
    d %= 1 << n
    if d == 0:
        return [ONE] * n, list(x)
    if d & (d - 1) == 0:
        k = d.bit_length() - 1
        return shr(x, k), list(x[:k]) + [ZERO] * (n - k)
    return _const_method(n, d)(b, list(x), d)


def divmod_const_s(b: Builder, x: Word, d: int) -> tuple[Word, Word]:
    """Signed (x / d, x % d) truncating toward zero for a public d, with the semantics of
    :func:`divmod_s` (x / 0 = -1 or 1 by the sign of x, x % 0 = x, INT_MIN / -1 wraps)."""
    n = len(x)
    if n == 0:
        return [], []
    d = _wrap_s(d, n)
    sx = x[-1]
    if d == 0:
        return [ONE] + [b.not_(sx)] * (n - 1), list(x)
    uq, ur = divmod_const_u(b, abs_(b, x), abs(d))
    q = cond_neg(b, uq, b.xor(sx, ONE if d < 0 else ZERO))
    return q, cond_neg(b, ur, sx)
