"""Division and remainder of words: restoring division, and division by public constants.

- ``divmod_u``: n^2+3n-3 ANDs, restoring division where step k compares a k-bit partial
  remainder and a precomputed "divisor < 2^k" bit decides the rest (as in EMP-toolkit).
- ``divmod_s``: n^2+6n-6 ANDs, C semantics (truncation toward zero), see :func:`divmod_s`.
- A public divisor d (a constant word): for 0 <= x < 2^n, d >= 2, l = ceil(log2 d) and
  m = floor((2^(n+l) + 2^l) / d), which has at most n+1 bits, floor(x / d) =
  floor(x m / 2^(n+l)) (Granlund, Montgomery, "Division by invariant integers using
  multiplication", PLDI 1994, Theorem 4.2): one constant multiplication, then x - q d. The
  restoring division folded around the constant keeps its remainder as narrow as d and is
  usually cheaper (u32 / 10: 144 ANDs against 463); both are built once on a scratch
  builder per (width, divisor) and the cheaper one is used.

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
from .wordops import (Word, abs_, cond_neg, const_value, const_word, eq, extend, inc_by,
                      restoring, same_width, shr, sub)


def divmod_u(b: Builder, x: Sequence[int], y: Sequence[int],
             shallow: bool = False) -> tuple[Word, Word]:
    """Unsigned (x // y, x % y); x // 0 = 2^n - 1 and x % 0 = x. n^2+3n-3 ANDs.

    Division by zero needs no special case: no step ever finds r' < 0. A constant word y
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
    q, r, small = restoring(b, x[:m], y, sub_borrow_shallow if shallow else None)
    return q + [small[0]] * (n - m), extend(r, n, False)


def divmod_s(b: Builder, x: Sequence[int], y: Sequence[int],
             shallow: bool = False) -> tuple[Word, Word]:
    """Signed (x / y, x % y) truncating toward zero (C): n^2+6n-6 ANDs.

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
    q1, r1, small = restoring(b, ap[:m], ay, sub_borrow_shallow if shallow else None)
    # a' < 2^m, so the quotient's bits from m up are set only when dividing by zero
    q1 = q1 + [small[0]] * (n - m)
    r1 = extend(r1, n, False)
    e = b.and_(sx, eq(b, increment(b, r1, ONE), ay))
    t = b.xor(sx, sy)
    q = increment(b, [b.xor(qi, t) for qi in q1], b.xor(t, e))
    ne_ = b.not_(e)
    r = [b.and_(b.xor(ri, sx), ne_) for ri in r1]
    return q, r


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


@lru_cache(maxsize=None)
def _use_reciprocal(n: int, d: int) -> bool:
    costs = []
    for method in (_by_restoring, _reciprocal):
        scratch = Builder("plan")
        q, r = method(scratch, scratch.input("p", "x", uint(n)), d)
        costs.append(live_and_count(scratch, q + r))
    return costs[1] < costs[0]


def divmod_const_u(b: Builder, x: Word, d: int) -> tuple[Word, Word]:
    """Unsigned (x // d, x % d) for a public d (taken mod 2^n); d = 0 gives (2^n - 1, x)."""
    n = len(x)
    d %= 1 << n
    if d == 0:
        return [ONE] * n, list(x)
    if d & (d - 1) == 0:
        k = d.bit_length() - 1
        return shr(x, k), list(x[:k]) + [ZERO] * (n - k)
    if _use_reciprocal(n, d):
        return _reciprocal(b, list(x), d)
    return _by_restoring(b, list(x), d)


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
