"""Piecewise polynomial approximations with exact coefficients, for the fixed-point math library.

A function g on [0, 1) is split into 2^t segments of width h = 2^-t; on each segment it is
replaced by the polynomial of degree d interpolating g at the d + 1 Chebyshev nodes of that
segment, written in the offset u = x - (segment start). Interpolation at Chebyshev nodes is
within a factor of about 2 of the best (minimax) polynomial, with the classical bound

    |g(x) - p(x)| <= max|g^(d+1)| / (d+1)! * (h/2)^(d+1) / 2^d.

Everything is computed with :mod:`decimal` at a precision chosen from the target (no floats),
so coefficients are right for fixed-point types of any width; they are cached per
(function, precision, t, d). :func:`plan` picks (t, d) with the fewest estimated AND gates
whose bound stays below 2^-(P+2), P being the fraction bits the circuit computes with.
"""

from __future__ import annotations

import decimal
from fractions import Fraction
from functools import lru_cache
from math import factorial, log2

# functions on [0, 1): name -> (value at a Decimal x, a bound on |g^(n)| over [0, 1])
_LN2_BOUND = 0.6931471805599454


def _exp2(x: decimal.Decimal) -> decimal.Decimal:
    return (x * _ln2()).exp()


def _log2_1p(x: decimal.Decimal) -> decimal.Decimal:
    return (1 + x).ln() / _ln2()


def _ln2() -> decimal.Decimal:
    return decimal.Decimal(2).ln()


FUNCTIONS = {
    # 2^x: the n-th derivative is ln2^n 2^x <= 2 ln2^n
    "exp2": (_exp2, lambda n: 2 * _LN2_BOUND ** n),
    # log2(1 + x): the n-th derivative is (-1)^(n-1) (n-1)! / (ln2 (1+x)^n) <= (n-1)!/ln2
    "log2_1p": (_log2_1p, lambda n: factorial(n - 1) / _LN2_BOUND),
}


def _pi() -> decimal.Decimal:
    """pi at the context's precision (the recipe of the decimal module's documentation)."""
    decimal.getcontext().prec += 2
    three = decimal.Decimal(3)
    lasts, t, s, n, na, d, da = 0, three, 3, 1, 0, 0, 24
    while s != lasts:
        lasts = s
        n, na = n + na, na + 8
        d, da = d + da, da + 32
        t = (t * n) / d
        s += t
    decimal.getcontext().prec -= 2
    return +s


def _cos(x: decimal.Decimal) -> decimal.Decimal:
    decimal.getcontext().prec += 2
    i, lasts, s, fact, num, sign = 0, 0, decimal.Decimal(1), 1, 1, 1
    while s != lasts:
        lasts = s
        i += 2
        fact *= i * (i - 1)
        num *= x * x
        sign *= -1
        s += num / fact * sign
    decimal.getcontext().prec -= 2
    return +s


def bound(fn: str, t: int, d: int) -> float:
    """The interpolation error bound on one segment (all segments alike)."""
    h = 2.0 ** -t
    return FUNCTIONS[fn][1](d + 1) / factorial(d + 1) * (h / 2) ** (d + 1) / 2 ** d


def plan(fn: str, p: int, cw: int) -> tuple[int, int]:
    """(t, d): segments 2^t and degree d, fewest estimated ANDs with error below 2^-(p+2).

    A Horner step multiplies a cw-bit coefficient by the (p-t)-bit offset; each of the d+1
    coefficient tables is a multiplexer tree over 2^t constants (about 2^(t-1) cw ANDs)."""
    best = None
    for t in range(0, 8):
        for d in range(1, 16):
            if bound(fn, t, d) > 2.0 ** -(p + 2):
                continue
            cost = d * cw * max(1, p - t) + (d + 1) * cw * max(0, (1 << t) // 2 - 1)
            if best is None or cost < best[0]:
                best = (cost, t, d)
            break
    if best is None:
        raise ValueError(f"no polynomial plan for {fn} at {p} bits")
    return best[1], best[2]


@lru_cache(maxsize=64)
def coefficients(fn: str, p: int, t: int, d: int) -> tuple[tuple[int, ...], ...]:
    """coefficients(...)[k][j]: the degree-k coefficient on segment j, rounded to p fraction
    bits (the polynomial is in the offset u from the segment's start, in units of 1)."""
    g = FUNCTIONS[fn][0]
    ctx = decimal.Context(prec=int(p / log2(10)) + 30)
    with decimal.localcontext(ctx):
        pi = _pi()
        h = Fraction(1, 1 << t)
        n = d + 1
        # Chebyshev nodes of [0, h], as exact fractions of their decimal values
        nodes = [h * (1 - Fraction(_cos(pi * (2 * i + 1) / (2 * n)))) / 2 for i in range(n)]
        table: list[list[int]] = [[] for _ in range(n)]
        for j in range(1 << t):
            start = j * h
            ys = [Fraction(g(decimal.Decimal(start.numerator) / start.denominator
                             + decimal.Decimal(u.numerator) / u.denominator)) for u in nodes]
            for k, c in enumerate(_solve_vandermonde(nodes, ys)):
                table[k].append(round(c * (1 << p)))
    return tuple(tuple(row) for row in table)


def _solve_vandermonde(xs: list[Fraction], ys: list[Fraction]) -> list[Fraction]:
    """The monomial coefficients of the polynomial through (xs, ys), exactly (Newton form,
    then expanded)."""
    n = len(xs)
    coef = list(ys)
    for j in range(1, n):
        for i in range(n - 1, j - 1, -1):
            coef[i] = (coef[i] - coef[i - 1]) / (xs[i] - xs[i - j])
    poly = [Fraction(0)] * n
    for i in range(n - 1, -1, -1):
        # poly = poly * (x - xs[i]) + coef[i]
        new = [Fraction(0)] * n
        for k in range(n - 1):
            new[k + 1] += poly[k]
        for k in range(n):
            new[k] -= poly[k] * xs[i]
        new[0] += coef[i]
        poly = new
    return poly


__all__ = ["plan", "coefficients", "bound", "FUNCTIONS"]
