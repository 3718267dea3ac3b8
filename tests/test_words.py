"""The word library against Python integers, and its AND counts.

Each circuit is built once per operation and width (cached) and evaluated on batches of rows
with the plaintext evaluator; hypothesis picks widths, signedness and the rows, mixed with the
edge values (0, 1, -1, INT_MIN, INT_MAX). AND counts and AND-depth are those of the circuit after
dead-code removal.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from yaogc.circuits import Builder, Op, YaogcError, uint
from yaogc.circuits import mulplan, words as W
from yaogc.circuits.builder import ZERO
from yaogc.circuits.division import divide
from yaogc.circuits.evaluate import evaluate_bits
from yaogc.circuits.levels import and_levels
from yaogc.circuits.passes import remove_dead

WIDTHS = [1, 2, 3, 7, 8, 16, 31, 32, 33, 64]
WIDE = WIDTHS + [100, 128, 255, 256]
ARITH_WIDTHS = [1, 2, 3, 7, 8, 13, 16, 31, 32, 33, 64]


# --- harness -------------------------------------------------------------------------------
def _words(res) -> list[list[int]]:
    if isinstance(res, int):
        return [[res]]
    if res and isinstance(res[0], int):
        return [list(res)]
    return [[r] if isinstance(r, int) else list(r) for r in res]


class Built:
    def __init__(self, fn: Callable, widths: Sequence[int]):
        b = Builder("t")
        ins = [b.input("p", f"i{k}", uint(w)) for k, w in enumerate(widths)]
        outs = _words(fn(b, *ins))
        for k, o in enumerate(outs):
            b.output("p", f"o{k}", uint(len(o)), o)
        self.widths = list(widths)
        self.out_widths = [len(o) for o in outs]
        self.circuit = remove_dead(b.build())
        self.ands = int(np.count_nonzero(self.circuit.op == Op.AND))
        out_wires = np.concatenate([o.wires for o in self.circuit.outputs] + [[]]).astype(int)
        self.depth = int(and_levels(self.circuit)[out_wires].max(initial=0))

    def run(self, rows: Sequence[Sequence[int]]) -> list[list[int]]:
        """Unsigned input values per row -> unsigned output values per row."""
        bits = np.zeros((len(rows), sum(self.widths)), dtype=np.uint8)
        for r, row in enumerate(rows):
            pos = 0
            for v, w in zip(row, self.widths):
                v &= (1 << w) - 1
                bits[r, pos:pos + w] = [(v >> i) & 1 for i in range(w)]
                pos += w
        out = evaluate_bits(self.circuit, bits)
        res = []
        for r in range(len(rows)):
            vals, pos = [], 0
            for w in self.out_widths:
                vals.append(sum(int(out[r, pos + i]) << i for i in range(w)))
                pos += w
            res.append(vals)
        return res


@lru_cache(maxsize=None)
def built(name: str, widths: tuple[int, ...], *params) -> Built:
    return Built(lambda b, *ins: BUILDERS[name](b, *ins, *params), widths)


def s(v: int, n: int) -> int:
    """Unsigned n-bit encoding -> signed value."""
    v &= (1 << n) - 1
    return v - (1 << n) if n and v >> (n - 1) else v


def val(v: int, n: int, signed: bool) -> int:
    return s(v, n) if signed else v & ((1 << n) - 1)


def edges(n: int) -> list[int]:
    m = (1 << n) - 1
    return sorted({0, 1 & m, m, 1 << (n - 1), (1 << (n - 1)) - 1, 2 & m, m - 1 & m})


@st.composite
def operands(draw, n: int, k: int = 2, size: int = 24) -> list[tuple[int, ...]]:
    """A batch of k-tuples of n-bit unsigned values, edge values mixed in."""
    one = st.one_of(st.sampled_from(edges(n)), st.integers(0, (1 << n) - 1))
    rows = draw(st.lists(st.tuples(*[one] * k), min_size=1, max_size=size))
    e = edges(n)
    rows += [tuple(e[(i + j) % len(e)] for j in range(k)) for i in range(len(e))]
    return rows


BUILDERS: dict[str, Callable] = {
    "add": W.add, "sub": W.sub, "add_carry": W.add_carry, "sub_borrow": W.sub_borrow,
    "and": W.and_w, "or": W.or_w, "xor": W.xor_w, "not": W.not_w,
    "inc": W.inc, "dec": W.dec, "neg": W.neg, "abs": W.abs_,
    "lt": W.lt, "le": W.le, "gt": W.gt, "ge": W.ge, "eq": W.eq, "ne": W.ne,
    "min": W.min_, "max": W.max_,
    "mux": lambda b, c, x, y: W.mux(b, c[0], x, y),
    "cond_neg": lambda b, c, x: W.cond_neg(b, x, c[0]),
    "mul": W.mul, "mul_full": W.mul_full, "divmod_u": W.divmod_u, "divmod_s": W.divmod_s,
    "mul_shallow": lambda b, x, y: W.mul(b, x, y, shallow=True),
    "mul_full_shallow": lambda b, x, y, sg: W.mul_full(b, x, y, sg, shallow=True),
    "sum_shallow": lambda b, *ws: W.sum_words(b, ws, shallow=True),
    "divmod_u_shallow": lambda b, x, y: W.divmod_u(b, x, y, shallow=True),
    "divmod_s_shallow": lambda b, x, y: W.divmod_s(b, x, y, shallow=True),
    "mul_const": W.mul_const,
    "square": lambda b, x, sg, width: W.mul_full(b, x, x, sg, width),
    "square_ext": lambda b, x, n, sg: W.mul(b, W.extend(x, n, sg), W.extend(x, n, sg)),
    "div_ext": lambda b, x, y, n, sg: (W.divmod_s if sg else W.divmod_u)(
        b, W.extend(x, n, sg), W.extend(y, n, sg)),
    "mul_ext": lambda b, x, y, n, sg: W.mul(b, W.extend(x, n, sg), W.extend(y, n, sg)),
    "div_const_u": lambda b, x, d: W.divmod_u(b, x, W.const_word(d, len(x))),
    "div_const_s": lambda b, x, d: W.divmod_s(b, x, W.const_word(d, len(x))),
    "popcount": W.popcount,
    # a divisor word whose bits from L up are constant zeros (a zero-extended divisor)
    "divide": lambda b, a, d, L: divide(b, a, list(d[:L]) + [ZERO] * (len(d) - L))[:2],
    "sum": lambda b, *ws: W.sum_words(b, ws),
    "min_words": lambda b, *ws_signed: W.min_words(b, ws_signed[:-1], ws_signed[-1]),
    "add_shallow": W.add_shallow, "sub_shallow": W.sub_shallow, "lt_shallow": W.lt_shallow,
    "mod_small": W.mod_small, "shl_var": W.shl_var, "shr_var": W.shr_var,
    "rotl_var": W.rotl_var, "rotr_var": W.rotr_var,
    "shl": lambda b, x, k: W.shl(x, k), "shr": lambda b, x, k, sg: W.shr(x, k, sg),
    "rotl": lambda b, x, k: W.rotl(x, k), "rotr": lambda b, x, k: W.rotr(x, k),
}


def check(name: str, widths: Sequence[int], rows, ref: Callable, *params) -> None:
    c = built(name, tuple(widths), *params)
    got = c.run(rows)
    for row, g in zip(rows, got):
        want = [v & ((1 << w) - 1) for v, w in zip(ref(*row), c.out_widths)]
        assert g == want, f"{name}{params} widths {widths} on {row}: got {g}, want {want}"


# --- semantics -----------------------------------------------------------------------------
SETTINGS = settings(deadline=None, max_examples=25)


@SETTINGS
@given(st.data(), st.sampled_from(WIDE))
def test_add_sub_bitwise(data, n):
    rows = data.draw(operands(n))
    m = 1 << n
    check("add", [n, n], rows, lambda x, y: [x + y])
    check("sub", [n, n], rows, lambda x, y: [x - y])
    check("add_carry", [n, n], rows, lambda x, y: [x + y, (x + y) >> n])
    check("sub_borrow", [n, n], rows, lambda x, y: [x - y, int(x < y)])
    check("add_shallow", [n, n], rows, lambda x, y: [x + y])
    check("sub_shallow", [n, n], rows, lambda x, y: [x - y])
    check("and", [n, n], rows, lambda x, y: [x & y])
    check("or", [n, n], rows, lambda x, y: [x | y])
    check("xor", [n, n], rows, lambda x, y: [x ^ y])
    check("not", [n], [r[:1] for r in rows], lambda x: [~x])
    check("inc", [n], [r[:1] for r in rows], lambda x: [x + 1])
    check("dec", [n], [r[:1] for r in rows], lambda x: [x - 1])
    check("neg", [n], [r[:1] for r in rows], lambda x: [m - x])
    check("abs", [n], [r[:1] for r in rows], lambda x: [abs(s(x, n))])
    check("cond_neg", [1, n], [(r[1] & 1, r[0]) for r in rows], lambda c, x: [-x if c else x])


@SETTINGS
@given(st.data(), st.sampled_from(WIDE), st.booleans())
def test_compare_mux_minmax(data, n, signed):
    rows = data.draw(operands(n))
    rows += [(x, x) for x, _ in rows[:4]]
    v = lambda x: val(x, n, signed)
    check("lt", [n, n], rows, lambda x, y: [int(v(x) < v(y))], signed)
    check("lt_shallow", [n, n], rows, lambda x, y: [int(v(x) < v(y))], signed)
    check("le", [n, n], rows, lambda x, y: [int(v(x) <= v(y))], signed)
    check("gt", [n, n], rows, lambda x, y: [int(v(x) > v(y))], signed)
    check("ge", [n, n], rows, lambda x, y: [int(v(x) >= v(y))], signed)
    check("eq", [n, n], rows, lambda x, y: [int(x == y)])
    check("ne", [n, n], rows, lambda x, y: [int(x != y)])
    check("min", [n, n], rows, lambda x, y: [min(v(x), v(y))], signed)
    check("max", [n, n], rows, lambda x, y: [max(v(x), v(y))], signed)
    check("mux", [1, n, n], [(x & 1, x, y) for x, y in rows], lambda c, x, y: [x if c else y])


@SETTINGS
@given(st.data(), st.sampled_from(ARITH_WIDTHS), st.booleans())
def test_mul(data, n, signed):
    rows = data.draw(operands(n))
    v = lambda x: val(x, n, signed)
    check("mul", [n, n], rows, lambda x, y: [x * y])
    check("mul_full", [n, n], rows, lambda x, y: [v(x) * v(y)], signed)
    check("mul_shallow", [n, n], rows, lambda x, y: [x * y])
    check("mul_full_shallow", [n, n], rows, lambda x, y: [v(x) * v(y)], signed)
    width = data.draw(st.integers(1, 2 * n))
    check("mul_full", [n, n], rows, lambda x, y: [v(x) * v(y) % (1 << width)], signed, width)


@SETTINGS
@given(st.data(), st.sampled_from([(2, 1, 1), (8, 3, 8), (16, 8, 8), (32, 13, 32), (64, 16, 16),
                                   (64, 32, 64), (64, 5, 40), (40, 20, 20)]), st.booleans())
def test_mul_of_extended_words(data, widths, signed):
    """Widened operands (a run of copies of the top wire) are multiplied at their own width."""
    n, p, q = widths
    rows = data.draw(st.lists(st.tuples(st.integers(0, (1 << p) - 1),
                                        st.integers(0, (1 << q) - 1)), min_size=1, max_size=24))
    rows += [((1 << p) - 1, (1 << q) - 1), (1 << (p - 1), 1 << (q - 1)), (0, (1 << q) - 1)]
    check("mul_ext", [p, q], rows, lambda x, y: [val(x, p, signed) * val(y, q, signed)],
          n, signed)


@SETTINGS
@given(st.data(), st.sampled_from(ARITH_WIDTHS), st.booleans())
def test_square(data, n, signed):
    """x * x of one word: each cross product x_i x_j once, one column up; about half the
    ANDs of a product of two words (exact, truncated, and of a widened word)."""
    rows = [(x,) for x, _ in data.draw(operands(n))]
    v = lambda x: val(x, n, signed)
    for width in (2 * n, data.draw(st.integers(1, 2 * n))):
        check("square", [n], rows, lambda x: [v(x) * v(x)], signed, width)
    check("square_ext", [n], rows, lambda x: [v(x) * v(x)], 2 * n + 3, signed)
    if n >= 8:
        assert ands("square", [n], signed, 2 * n) <= n * (n - 1)


@pytest.mark.parametrize("n, m", [(32, 8), (64, 16)])
def test_division_of_extended_words_costs_their_width(n, m):
    """A narrow divisor keeps the remainder narrow; a narrow dividend needs fewer steps."""
    assert ands("div_ext", [m, m], n, False) <= ands("divmod_u", [m, m]) + 2 * n
    assert ands("div_ext", [m, m], n, True) <= ands("divmod_s", [m, m]) + 6 * n
    assert ands("div_ext", [n, m], n, False) <= n * (2 * m + 3)


@SETTINGS
@given(st.data(), st.sampled_from([(8, 3, 8), (16, 8, 5), (32, 32, 8), (32, 8, 32), (33, 9, 9)]),
       st.booleans())
def test_division_of_extended_words(data, widths, signed):
    n, p, q = widths
    rows = data.draw(st.lists(st.tuples(st.integers(0, (1 << p) - 1),
                                        st.integers(0, (1 << q) - 1)), min_size=1, max_size=24))
    rows += [((1 << p) - 1, (1 << q) - 1), (1 << (p - 1), (1 << q) - 1), (5, 0)]
    ref = W.ref_divmod_s if signed else W.ref_divmod_u
    check("div_ext", [p, q], rows,
          lambda x, y: list(ref(val(x, p, signed), val(y, q, signed), n)), n, signed)


@pytest.mark.parametrize("n, m", [(64, 8), (64, 32), (32, 16)])
def test_mul_of_extended_words_costs_their_width(n, m):
    for signed in (False, True):
        assert ands("mul_ext", [m, m], n, signed) <= ands("mul_full", [m, m], signed)


@SETTINGS
@given(st.data(), st.sampled_from([1, 2, 3, 5, 8, 16, 32, 33, 64]),
       st.integers(-(1 << 70), 1 << 70))
def test_mul_const(data, n, k):
    rows = data.draw(operands(n, 1))
    k = data.draw(st.sampled_from([k, k & 0xFF, -(k & 0xFF), 0, 1, -1, (1 << n) - 3, 0b1110111]))
    check("mul_const", [n], rows, lambda x: [x * k], k)


@SETTINGS
@given(st.data(), st.sampled_from(ARITH_WIDTHS))
def test_divmod(data, n):
    rows = data.draw(operands(n))
    rows += [(x, 0) for x, _ in rows[:3]] + [(1 << (n - 1), (1 << n) - 1)]
    for shallow in ("", "_shallow"):
        check("divmod_u" + shallow, [n, n], rows, lambda x, y: list(W.ref_divmod_u(x, y, n)))
        check("divmod_s" + shallow, [n, n], rows, lambda x, y: list(W.ref_divmod_s(x, y, n)))


@SETTINGS
@given(st.data(), st.integers(1, 40), st.integers(1, 40))
def test_restoring_then_nonrestoring_division(data, m, n):
    """divide() on its own, every mix of dividend width m, divisor width n and a divisor
    narrower than its word (the switch point and the (L+1)-bit remainder move with L):
    a // d, a % d, and a // 0 = all ones, a % 0 = a."""
    m = min(m, n)
    width = data.draw(st.integers(1, n))
    vals = st.one_of(st.integers(0, min(3, (1 << width) - 1)), st.sampled_from(edges(width)),
                     st.integers(0, (1 << width) - 1))
    rows = data.draw(st.lists(st.tuples(st.integers(0, (1 << m) - 1), vals), min_size=1,
                              max_size=24))
    rows += [((1 << m) - 1, 0), ((1 << m) - 1, 1), (0, 0), ((1 << m) - 1, (1 << width) - 1)]
    check("divide", [m, n], rows,
          lambda x, y: [x // y, x % y] if y else [(1 << m) - 1, x], width)


@SETTINGS
@given(st.data(), st.sampled_from([1, 2, 3, 5, 8, 16, 32, 33, 64]),
       st.integers(-(1 << 64), 1 << 64))
def test_divmod_by_constant(data, n, d):
    d = data.draw(st.sampled_from([d, d % 1000, -(d % 1000), 0, 1, -1, 3, 10, 7, (1 << n) - 1,
                                   1 << (n - 1), (1 << (n - 1)) + 1]))
    rows = data.draw(operands(n, 1))
    check("div_const_u", [n], rows, lambda x: list(W.ref_divmod_u(x, d, n)), d)
    check("div_const_s", [n], rows, lambda x: list(W.ref_divmod_s(x, d, n)), d)


@pytest.mark.parametrize("n", [6, 8])
def test_divmod_by_constant_exhaustive(n):
    xs = [(x,) for x in range(1 << n)]
    for d in list(range(0, 1 << n, 5)) + [(1 << n) - 1, 1 << (n - 1)]:
        check("div_const_u", [n], xs, lambda x: list(W.ref_divmod_u(x, d, n)), d)
        check("div_const_s", [n], xs, lambda x: list(W.ref_divmod_s(x, d, n)), d)


MIXED = {
    "mul": (lambda b, x, y, sg: W.mul(b, x, y), lambda x, y, n, sg: [x * y]),
    "mul_full": (lambda b, x, y, sg: W.mul_full(b, x, y, sg),
                 lambda x, y, n, sg: [val(x, n, sg) * val(y, n, sg)]),
    "divmod": (lambda b, x, y, sg: (W.divmod_s if sg else W.divmod_u)(b, x, y),
               lambda x, y, n, sg: list((W.ref_divmod_s if sg else W.ref_divmod_u)(x, y, n))),
    "lt": (lambda b, x, y, sg: W.lt(b, x, y, sg),
           lambda x, y, n, sg: [int(val(x, n, sg) < val(y, n, sg))]),
    "sum": (lambda b, x, y, sg: W.sum_words(b, [x, y, x]), lambda x, y, n, sg: [2 * x + y]),
}
BUILDERS["mixed"] = lambda b, x, y, op, mask, value, sg: MIXED[op][0](
    b, x, [(1 if (value >> i) & 1 else 0) if (mask >> i) & 1 else w for i, w in enumerate(y)], sg)


@SETTINGS
@given(st.data(), st.sampled_from([2, 3, 8, 16, 33]), st.sampled_from(sorted(MIXED)),
       st.booleans())
def test_operands_with_constant_bits(data, n, op, signed):
    """Words mixing input and constant wires, as the compiler's folding produces them."""
    mask = data.draw(st.integers(0, (1 << n) - 1))
    value = data.draw(st.integers(0, (1 << n) - 1)) & mask
    rows = data.draw(operands(n, 2, 12))
    check("mixed", [n, n], rows,
          lambda x, y: MIXED[op][1](x, (y & ~mask) | value, n, signed), op, mask, value, signed)


def test_division_reference_semantics():
    assert W.ref_divmod_u(7, 0, 8) == (255, 7)
    assert W.ref_divmod_u(200, 7, 8) == (28, 4)
    assert W.ref_divmod_s(-7, 2, 8) == (-3, -1)
    assert W.ref_divmod_s(7, -2, 8) == (-3, 1)
    assert W.ref_divmod_s(-7, -2, 8) == (3, -1)
    assert W.ref_divmod_s(5, 0, 8) == (-1, 5)
    assert W.ref_divmod_s(-5, 0, 8) == (1, -5)
    assert W.ref_divmod_s(-128, -1, 8) == (-128, 0)
    assert W.ref_divmod_s(-1, 0, 1) == (-1, -1)   # 1 wraps to -1 in one signed bit
    assert W.ref_divmod_s(0, 0, 1) == (-1, 0)


@SETTINGS
@given(st.data(), st.sampled_from([1, 2, 3, 7, 8, 15, 16, 17, 31, 64, 100, 255, 256]))
def test_popcount(data, n):
    rows = data.draw(operands(n, 1))
    check("popcount", [n], rows, lambda x: [bin(x).count("1")])


@SETTINGS
@given(st.data(), st.sampled_from([1, 2, 8, 32, 64]), st.integers(1, 9))
def test_sum_and_min_of_many(data, n, m):
    rows = data.draw(operands(n, m, 12))
    check("sum", [n] * m, rows, lambda *xs: [sum(xs)])
    check("sum_shallow", [n] * m, rows, lambda *xs: [sum(xs)])
    for signed in (False, True):
        check("min_words", [n] * m, rows, lambda *xs: [min(val(x, n, signed) for x in xs)],
              signed)


@SETTINGS
@given(st.data(), st.sampled_from(WIDE), st.integers(0, 300), st.booleans())
def test_constant_shifts(data, n, k, signed):
    rows = data.draw(operands(n, 1))
    m = (1 << n) - 1
    check("shl", [n], rows, lambda x: [x << k], k)
    check("shr", [n], rows, lambda x: [val(x, n, signed) >> k], k, signed)
    check("rotl", [n], rows, lambda x: [(x << k % n | x >> (n - k % n)) & m], k)
    check("rotr", [n], rows, lambda x: [(x >> k % n | x << (n - k % n)) & m], k)


@SETTINGS
@given(st.data(), st.sampled_from([1, 2, 3, 5, 7, 8, 16, 31, 32, 33, 64]), st.booleans())
def test_variable_shifts(data, n, signed):
    k = (n - 1).bit_length()
    w = data.draw(st.sampled_from(sorted({1, max(k, 1), k + 1, k + 3, 8})))
    rows = data.draw(operands(n, 1))
    amounts = data.draw(st.lists(st.integers(0, (1 << w) - 1), min_size=len(rows),
                                 max_size=len(rows)))
    rows = [(x, a) for (x,), a in zip(rows, amounts)]
    m = (1 << n) - 1
    check("shl_var", [n, w], rows, lambda x, a: [x << a if a < n else 0])
    check("shr_var", [n, w], rows,
          lambda x, a: [val(x, n, signed) >> min(a, n)], signed)
    check("rotl_var", [n, w], rows, lambda x, a: [(x << a % n | x >> (n - a % n)) & m])
    check("rotr_var", [n, w], rows, lambda x, a: [(x >> a % n | x << (n - a % n)) & m])


@SETTINGS
@given(st.data(), st.sampled_from([1, 4, 8, 13, 40]), st.integers(1, 70))
def test_mod_small(data, w, d):
    rows = data.draw(operands(w, 1))
    check("mod_small", [w], rows, lambda x: [x % d], d)


def test_widths_and_constants():
    b = Builder("t")
    x = b.input("p", "x", uint(4))
    assert W.const_word(-3, 4) == [1, 0, 1, 1]
    assert W.const_value(W.const_word(11, 4)) == 11 and W.const_value(x) is None
    assert W.extend(x, 6, True) == x + [x[3], x[3]]
    assert W.extend(x, 6, False) == x + [0, 0]
    assert W.truncate(x, 2) == x[:2]
    with pytest.raises(W.WordError, match="widths differ"):
        W.add(b, x, x[:3])
    with pytest.raises(W.WordError, match="negative shift"):
        W.shl(x, -1)
    with pytest.raises(W.WordError, match="cannot take 5 bits"):
        W.truncate(x, 5)
    with pytest.raises(W.WordError, match="negative width"):
        W.extend(x, -1, False)
    with pytest.raises(W.WordError, match="width 9 is not within 0..8"):
        W.mul_full(b, x, x, width=9)
    with pytest.raises(W.WordError, match="divisor 0 must be positive"):
        W.mod_small(b, x, 0)
    with pytest.raises(W.WordError, match="no words"):
        W.sum_words(b, [])
    assert issubclass(W.WordError, YaogcError)


# --- AND counts ----------------------------------------------------------------------------
def ands(name: str, widths, *params) -> int:
    return built(name, tuple(widths), *params).ands


def popcount_of(n: int) -> int:
    return bin(n).count("1")


@pytest.mark.parametrize("n", [1, 2, 3, 8, 16, 32, 64, 256])
def test_and_counts_linear(n):
    assert ands("add", [n, n]) == n - 1
    assert ands("sub", [n, n]) == n - 1
    assert ands("add_carry", [n, n]) == n
    assert ands("sub_borrow", [n, n]) == n
    assert ands("neg", [n]) == max(n - 2, 0)
    assert ands("inc", [n]) == max(n - 2, 0)
    assert ands("abs", [n]) == n - 1
    assert ands("mux", [1, n, n]) == n
    for signed in (False, True):
        for op in ("lt", "le", "gt", "ge"):
            assert ands(op, [n, n], signed) == n
        assert ands("min", [n, n], signed) == 2 * n
        assert ands("max", [n, n], signed) == 2 * n
    assert ands("eq", [n, n]) == n - 1
    assert ands("ne", [n, n]) == n - 1
    assert built("eq", (n, n)).depth == (n - 1).bit_length()
    assert ands("popcount", [n]) == n - popcount_of(n)


@pytest.mark.parametrize("n", [2, 3, 8, 17, 32, 64, 200])
def test_shallow_variants_depth(n):
    lg = (n - 1).bit_length()
    assert built("add_shallow", (n, n)).depth == (n - 2).bit_length() + 1
    assert built("sub_shallow", (n, n)).depth <= lg + 1
    for signed in (False, True):
        c = built("lt_shallow", (n, n), signed)
        assert c.depth == lg + 1 and c.ands < 3 * n
    assert built("add", (n, n)).depth == n - 1 and built("lt", (n, n), False).depth == n


@pytest.mark.parametrize("n, m", [(8, 2), (8, 5), (32, 8), (64, 3)])
def test_and_counts_of_many_words(n, m):
    assert ands("sum", [n] * m) <= (m - 1) * (n - 1)
    for signed in (False, True):
        c = built("min_words", (n,) * m, signed)
        assert c.ands == 2 * n * (m - 1)
        assert c.depth <= (n + 1) * (m - 1).bit_length()


@pytest.mark.parametrize("n", [1, 2, 3, 5, 6, 7, 9, 12, 15, 17, 24, 100, 255])
def test_popcount_is_optimal(n):
    assert ands("popcount", [n]) == n - popcount_of(n)


@pytest.mark.parametrize("n", [5, 8, 16, 24, 32, 33, 64])
def test_and_counts_shifts(n):
    k = (n - 1).bit_length()
    for w in (1, k, k + 1, k + 4, 32):
        bound = n * min(w, k) + (n + w - k - 1 if w > k else 0)
        assert ands("shl_var", [n, w]) <= bound
        assert ands("shr_var", [n, w], False) <= bound
        assert ands("shr_var", [n, w], True) <= bound
        if w <= k or n & (n - 1) == 0:
            assert ands("rotl_var", [n, w]) <= n * k
            assert ands("rotr_var", [n, w]) <= n * k
        else:
            assert ands("rotl_var", [n, w]) <= n * w
            assert ands("rotr_var", [n, w]) <= n * w
    if n == 24:
        assert ands("rotl_var", [n, 32]) < n * 32 // 3
    assert ands("shl_var", [n, k]) == n * k
    assert ands("shl", [n], 3) == 0 and ands("rotr", [n], 5) == 0


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 13, 14, 16, 25, 27, 31, 32, 33, 64])
def test_and_counts_mul(n):
    school = n * n - n + 1
    assert ands("mul", [n, n]) <= school
    assert ands("mul_full", [n, n], False) <= 2 * n * n - n
    assert ands("mul_full", [n, n], True) <= 2 * n * n - n
    if mulplan.mod_split(n) is None:
        assert ands("mul", [n, n]) == school
    else:
        assert ands("mul", [n, n]) <= mulplan.mod_cost(n)
    if not mulplan.use_karatsuba(n):
        assert ands("mul_full", [n, n], False) == 2 * n * n - n
    else:
        assert ands("mul_full", [n, n], False) == mulplan.full_cost(n)
    if n >= 27:
        # Karatsuba pays from here on
        assert ands("mul", [n, n]) < school
        assert ands("mul_full", [n, n], False) < 2 * n * n - n


@pytest.mark.parametrize("signed", [False, True])
def test_mul_full_narrow_width_is_cheaper(signed):
    full = ands("mul_full", [32, 32], signed)
    q16 = ands("mul_full", [32, 32], signed, 48)   # a Q16.16 product needs bits below 48
    assert q16 < full
    assert ands("mul_full", [32, 32], signed, 32) == ands("mul", [32, 32])


def test_mul_64_beats_reference_circuits():
    assert ands("mul", [64, 64]) < 4006           # a peer compiler; mult64.txt has 4033
    assert ands("mul_full", [64, 64], False) < 8128  # mult2_64.txt
    assert built("mul", (64, 64)).depth <= 64


def test_mul_const_shares_repeated_digit_pairs():
    # 0x55..55 = 5 * 0x11 * 0x101 * ...: 32 rows of x, or a few rows of shared subterms
    assert ands("mul_const", [64], int("01" * 32, 2)) < 300


@pytest.mark.parametrize("k", [3, 10, 255, 0x5555, 0xF0F0F0F, -1, -7, (1 << 31) - 1])
def test_mul_const_is_cheaper(k):
    n = 32
    assert ands("mul_const", [n], k) < ands("mul", [n, n])
    assert ands("mul_const", [n], k) <= (n - 1) * bin(k % (1 << n)).count("1")
    assert ands("mul_const", [n], 1 << 5) == 0


@pytest.mark.parametrize("n", [1, 2, 3, 8, 16, 32, 64])
def test_and_counts_div(n):
    assert ands("divmod_u", [n, n]) <= n * n + 3 * n - 1
    assert ands("divmod_s", [n, n]) <= n * n + 6 * n - 4
    if n >= 2:
        # restoring division's counts bound both constructions
        assert ands("divmod_u", [n, n]) <= n * n + 3 * n - 3
        assert ands("divmod_s", [n, n]) <= n * n + 6 * n - 6
    if n >= 8:
        # K restoring steps (2k+1 ANDs each, while 2k+1 <= n), the [d < 2^k] chain, n-K
        # non-restoring steps (n ANDs and an OR with [d == 0] each), the remainder's correction
        k = (n - 1) // 2
        assert ands("divmod_u", [n, n]) == k * k + 2 * k + (n - 1) + (n - k) * (n + 1) + 2 * n - 1
    if n >= 16:
        assert ands("divmod_s", [n, n]) < n * n + 6 * n - 6


@pytest.mark.parametrize("n,d,q_and_r", [(32, 3, 32), (32, 10, 62), (64, 10, 126),
                                           (16, 1000, 67)])
def test_division_by_constant_steps_add_or_subtract_it(n, d, q_and_r):
    """Non-restoring steps folded around d: a remainder one bit wider than d, plus or minus d
    by the sign, about one AND per bit of d per step (restoring: 2 per bit)."""
    assert ands("div_const_u", [n], d) <= q_and_r


@pytest.mark.parametrize("d", [3, 10, 1000])
def test_division_by_constant_is_cheaper(d):
    for n in (16, 32):
        assert ands("div_const_u", [n], d) < ands("divmod_u", [n, n]) // 2
        assert ands("div_const_s", [n], d) < ands("divmod_s", [n, n]) // 2
        assert built("div_const_u", (n,), d).depth < built("divmod_u", (n, n)).depth


@pytest.mark.parametrize("n", [16, 32, 64])
def test_shallow_multiplication_and_sums(n):
    lg = n.bit_length()
    assert built("mul_shallow", (n, n)).depth <= 2 * lg + 2
    assert built("mul_full_shallow", (n, n), True).depth <= 2 * lg + 3
    assert built("sum_shallow", (n,) * 8).depth <= lg + 5
    assert ands("mul_shallow", [n, n]) <= n * n - n + 1 + n * lg
    assert ands("mul_full_shallow", [n, n], False) <= 2 * n * n - n + 2 * n * lg


@pytest.mark.parametrize("n", [16, 32])
def test_shallow_division_trades_ands_for_depth(n):
    for name in ("divmod_u", "divmod_s"):
        plain, shallow = built(name, (n, n)), built(name + "_shallow", (n, n))
        assert 3 * shallow.depth < 2 * plain.depth
        assert plain.ands < shallow.ands < 4 * plain.ands


def test_constant_operands_fold():
    b = Builder("t")
    x = b.input("p", "x", uint(16))
    before = b.n_and
    W.add(b, x, W.const_word(0, 16))
    W.mul(b, x, W.const_word(1, 16))
    assert b.n_and == before
    y = W.mul(b, W.const_word(6, 16), x)
    assert W.live_and_count(b, y) == ands("mul_const", [16], 6)
