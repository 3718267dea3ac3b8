"""The language's semantics: circuit == reference interpreter == the documented Python meaning."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest

from yaogc.compiler import compile_source

from test_compiler_helpers import program, run, run_many


def trunc_div(a, b):
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def wrap(v, bits, signed):
    v &= (1 << bits) - 1
    return v - (1 << bits) if signed and v >> (bits - 1) else v


ARITH = program("x: {t} @alice, y: {t} @bob",
                "s: {t} @both, d: {t} @both, p: {t} @both, q: {t} @both, r: {t} @both, "
                "a: {t} @both, o: {t} @both, e: {t} @both",
                "return x + y, x - y, x * y, x / y, x % y, x & y, x | y, x ^ y")


@pytest.mark.parametrize("t,bits,signed", [("u8", 8, False), ("i8", 8, True), ("u5", 5, False),
                                           ("i6", 6, True)])
def test_integer_arithmetic_wraps_and_divides_as_documented(t, bits, signed):
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    vals = sorted({lo, hi, 0, 1, -1 if signed else 2, lo + 1, hi - 1, 3, 5 % (hi + 1)})
    rows = [{"x": x, "y": y} for x, y in itertools.product(vals, vals)]
    outs = run_many(ARITH.format(t=t), rows)
    for row, o in zip(rows, outs):
        x, y = row["x"], row["y"]
        assert o["s"] == wrap(x + y, bits, signed)
        assert o["d"] == wrap(x - y, bits, signed)
        assert o["p"] == wrap(x * y, bits, signed)
        if y == 0:
            q, r = ((-1 if x >= 0 else 1), x) if signed else ((1 << bits) - 1, x)
        else:
            q = trunc_div(x, y) if signed else x // y
            r = x - q * y
        assert o["q"] == wrap(q, bits, signed)
        assert o["r"] == wrap(r, bits, signed)
        assert o["a"] == wrap(x & y, bits, signed)
        assert o["o"] == wrap(x | y, bits, signed)
        assert o["e"] == wrap(x ^ y, bits, signed)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 8, 6, 7])
def test_division_by_constants_matches_division(k):
    src = program("x: i8 @alice, y: u8 @bob",
                  "q: i8 @both, r: i8 @both, uq: u8 @both, ur: u8 @both, m: i8 @both",
                  f"return x / {k}, x % {k}, y / {k}, y % {k}, x * {k}")
    rows = [{"x": x, "y": y % 256} for x, y in zip(range(-128, 128, 3), range(0, 256, 3))]
    for row, o in zip(rows, run_many(src, rows)):
        x, y = row["x"], row["y"]
        assert o["q"] == trunc_div(x, k) and o["r"] == x - trunc_div(x, k) * k
        assert o["uq"] == y // k and o["ur"] == y % k
        assert o["m"] == wrap(x * k, 8, True)


def test_power_of_two_division_is_free():
    src = program("x: u32 @alice", "q: u32 @both", "return x / 64")
    assert compile_source(src).count(1) == 0


def test_shifts_rotates_and_comparisons():
    src = program("x: i8 @alice, u: u8 @bob, s: u3 @alice, big: u8 @bob",
                  "a: i8 @both, b: i8 @both, c: u8 @both, d: u8 @both, e: u8 @both, "
                  "f: u8 @both, g: i8 @both, h: u8 @both, l: bool @both, m: bool @both",
                  "return x << 2, x >> 3, u >> 3, rotl(u, 3), rotr(u, s), u << s, x >> big, "
                  "u >> big, x < -3, u >= 200")
    rows = [{"x": x, "u": u, "s": s, "big": bg} for x, u, s, bg in
            zip(range(-128, 128, 7), range(0, 256, 7), itertools.cycle(range(8)),
                itertools.cycle([0, 1, 5, 7, 8, 9, 200]))]
    for row, o in zip(rows, run_many(src, rows)):
        x, u, s, bg = row["x"], row["u"], row["s"], row["big"]
        assert o["a"] == wrap(x << 2, 8, True)
        assert o["b"] == x >> 3
        assert o["c"] == u >> 3
        assert o["d"] == ((u << 3) | (u >> 5)) & 255
        assert o["e"] == ((u >> s) | (u << (8 - s))) & 255
        assert o["f"] == (u << s) & 255
        assert o["g"] == x >> min(bg, 8)
        assert o["h"] == (u >> bg if bg < 8 else 0)
        assert o["l"] == (x < -3) and o["m"] == (u >= 200)


def test_operand_width_and_implicit_widening():
    # an operation's type comes from its operands, never from the declared type it is
    # assigned to: a + b wraps in u8, then widens; widening one operand widens the sum
    src = program("a: u8 @alice, b: u8 @bob, s: i8 @alice",
                  "wide: u16 @both, wraps: u16 @both, narrow: u8 @both, mixed: i16 @both, "
                  "cast: u16 @both",
                  "wide: u16 = u16(a) + b\nnarrow = a + b\nwraps: u16 = a + b\n"
                  "return wide, wraps, narrow, i16(s) + a, u16(a + b)")
    o = run(src, a=200, b=100, s=-5)
    assert o == {"wide": 300, "wraps": 44, "narrow": 44, "mixed": 195, "cast": 44}


def test_literals_in_every_base():
    src = program("x: u16 @alice", "r: u16 @both",
                  "return x + 0x10 + 0b101 + 1_000 + 0XfF")
    assert run(src, x=1)["r"] == 1 + 16 + 5 + 1000 + 255


def fix(x, frac=8):
    return Fraction(round(Fraction(x) * (1 << frac)), 1 << frac)


def floor_fix(q, frac=8, bits=16):
    """q rounded toward negative infinity to the fixed-point grid, wrapped to its width."""
    return Fraction(wrap(math.floor(q * (1 << frac)), bits, True), 1 << frac)


def test_fixed_point_rounding():
    src = program("x: fix16_8 @alice, y: fix16_8 @bob",
                  "p: fix16_8 @both, q: fix16_8 @both, s: fix16_8 @both, k: fix16_8 @both, "
                  "i: i16 @both, c: fix16_8 @both, h: fix16_8 @both",
                  "return x * y, x / y, x - y, x * 0.3, i16(x), fix16_8(i8(y)), x / 3")
    vals = [-3.75, -1.5, -0.00390625, 0, 0.5, 1.25, 7.1, -100.2]
    rows = [{"x": x, "y": y} for x, y in itertools.product(vals, vals)]
    for row, o in zip(rows, run_many(src, rows)):
        x, y = fix(row["x"]), fix(row["y"])
        assert Fraction(o["p"]) == floor_fix(x * y)
        if y != 0 and abs(x / y) < 128:
            assert Fraction(o["q"]) == floor_fix(x / y)
        assert Fraction(o["s"]) == x - y
        assert Fraction(o["k"]) == floor_fix(x * fix(0.3))
        assert o["i"] == math.floor(x)
        assert Fraction(o["c"]) == wrap(math.floor(y), 8, True)
        assert Fraction(o["h"]) == floor_fix(x / 3)


def test_fixed_division_by_zero_is_defined():
    src = program("x: fix16_8 @alice, y: fix16_8 @bob", "q: fix16_8 @both", "return x / y")
    assert run(src, x=2.5, y=0)["q"] == -1 / 256
    assert run(src, x=-2.5, y=0)["q"] == 0.0


def test_casts():
    src = program("w: u16 @alice, s: i8 @bob, u: u8 @alice",
                  "t: u8 @both, n: i8 @both, e: u16 @both, b: bool @both, z: bool @both, "
                  "f: fix16_4 @both",
                  "return u8(w), i8(u), u16(s), bool(w), bool(0), fix16_4(s)")
    o = run(src, w=0x1234, s=-3, u=200)
    assert o == {"t": 0x34, "n": -56, "e": 65533, "b": True, "z": False, "f": -3.0}


def test_public_and_secret_indexing():
    src = program("a: u8[5] @alice, i: u8 @bob, j: u2 @bob, m: u4[3][2] @alice",
                  "pub: u8 @both, sec: u8 @both, small: u8 @both, row: u4[2] @both, "
                  "cell: u4 @both",
                  "return a[4], a[i], a[j], m[j], m[j][1]")
    a = [10, 20, 30, 40, 50]
    m = [[1, 2], [3, 4], [5, 6]]
    for i in range(0, 260, 1):
        if i >= 256:
            break
        j = i % 4
        o = run(src, a=a, i=i, j=j, m=m) if i < 8 or i % 37 == 0 else None
        if o is None:
            continue
        assert o["pub"] == 50
        assert o["sec"] == (a[i] if i < 5 else 0)
        assert o["small"] == a[j]
        assert o["row"] == (m[j] if j < 3 else [0, 0])
        assert o["cell"] == (m[j][1] if j < 3 else 0)


def test_signed_secret_index_out_of_range_is_zero():
    src = program("a: u8[4] @alice, i: i3 @bob", "r: u8 @both", "return a[i]")
    for i in range(-4, 4):
        assert run(src, a=[1, 2, 3, 4], i=i)["r"] == ([1, 2, 3, 4][i] if i >= 0 else 0)


def test_secret_index_assignment_and_bits():
    src = program("a: u8[4] @alice, i: u8 @bob, v: u8 @bob, x: u8 @alice",
                  "out: u8[4] @both, bit: bool @both, sbit: bool @both",
                  "a[i] = v\nreturn a, x[3], x[i]")
    for i in (0, 2, 3, 4, 200):
        o = run(src, a=[1, 2, 3, 4], i=i, v=99, x=0b1010_1000)
        exp = [1, 2, 3, 4]
        if i < 4:
            exp[i] = 99
        assert o["out"] == exp
        assert o["bit"] is True
        assert o["sbit"] == (bool((0b1010_1000 >> i) & 1) if i < 8 else False)


def test_element_writes_under_a_secret_if():
    # one statement under a secret 'if' writing elements (public, secret and nested indices,
    # '=' and '+=', arrays and a tuple): only the elements written change, and only where
    # the condition holds
    src = program("a: u8[4] @alice, b: u8[4] @bob, k: u8 @bob, m: u4[2][3] @alice",
                  "found: bool[4] @both, v: u8[4] @both, w: u8[4] @both, n: u4[2][3] @both, "
                  "t: u8 @both, u: u8 @both",
                  "found = [False for i in range(4)]\nv = a\nw = a\nn = m\n"
                  "p = (a[0], a[1])\n"
                  "for i in range(4):\n"
                  "    for j in range(4):\n"
                  "        if a[i] == b[j]:\n"
                  "            found[i] = True\n"
                  "    if a[i] > b[i]:\n"
                  "        v[i] += b[i]\n"
                  "    if b[i] > 7:\n"
                  "        w[k] = b[i]\n"
                  "    if a[i] < 3:\n"
                  "        n[i % 2][k] = 9\n"
                  "if k > 1:\n"
                  "    p[1] = k\n"
                  "t, u = p\n"
                  "return found, v, w, n, t, u")
    rows = [{"a": [1, 5, 9, 2], "b": [9, 3, 1, 8], "k": 2, "m": [[1, 2, 3], [4, 5, 6]]},
            {"a": [7, 7, 0, 250], "b": [0, 7, 9, 200], "k": 0, "m": [[0, 0, 0], [15, 15, 15]]},
            {"a": [4, 3, 2, 1], "b": [10, 20, 30, 40], "k": 9, "m": [[1, 1, 1], [2, 2, 2]]}]
    for row, o in zip(rows, run_many(src, rows)):
        a, b, k = row["a"], row["b"], row["k"]
        assert o["found"] == [x in b for x in a]
        assert o["v"] == [(x + y) % 256 if x > y else x for x, y in zip(a, b)]
        w = list(a)
        for y in b:
            if y > 7 and k < 4:
                w[k] = y
        assert o["w"] == w
        n = [list(r) for r in row["m"]]
        for i, x in enumerate(a):
            if x < 3 and k < 3:
                n[i % 2][k] = 9
        assert o["n"] == n
        assert (o["t"], o["u"]) == (a[0], k if k > 1 else a[1])


def test_secret_if_elif_else_and_early_return():
    extra = ("def classify(x: i16) -> u8:\n"
             "    if x < 0:\n"
             "        return 0\n"
             "    elif x < 10:\n"
             "        return 1\n"
             "    if x == 10:\n"
             "        return 2\n"
             "    return 3\n")
    src = program("x: i16 @alice", "c: u8 @both, y: i16 @both",
                  "y: i16 = x\nif x > 100:\n    y = 100\nelif x < -100:\n    y = -100\n"
                  "else:\n    y = y * 2\nreturn classify(x), y", extra)
    for x in (-500, -101, -100, -1, 0, 9, 10, 11, 100, 101, 3000):
        o = run(src, x=x)
        assert o["c"] == (0 if x < 0 else 1 if x < 10 else 2 if x == 10 else 3)
        assert o["y"] == (100 if x > 100 else -100 if x < -100 else 2 * x)


def test_public_if_compiles_only_the_taken_branch():
    src = program("a: u32[4] @alice, b: u32[4] @bob", "r: u32 @both",
                  "r: u32 = 0\nfor i in range(4):\n    if i < 3:\n        r += a[i + 1] * b[i]\n"
                  "    else:\n        r += a[0]\nreturn r")
    o = run(src, a=[1, 2, 3, 4], b=[5, 6, 7, 8])
    assert o["r"] == 2 * 5 + 3 * 6 + 4 * 7 + 1


def test_loops_comprehensions_and_builtins():
    src = program("a: i16[6] @alice, b: i16[6] @bob, c: bool @alice",
                  "s: i32 @both, lo: i16 @both, hi: i16 @both, m2: i16 @both, ab: i16 @both, "
                  "pc: u5 @both, sel: i16 @both, dot: i32 @both, n: u8 @both, ew: i16[6] @both",
                  "dot: i32 = sum(a[i] * b[i] for i in range(len(a)))\n"
                  "n: u8 = 0\nfor x in a:\n    n += x > 0\n"
                  "return sum(a), min(a), max([a[i] - b[i] for i in range(6)]), max(a[0], b[0], 7), "
                  "abs(a[1]), popcount(a[2]), select(c, a[3], b[3]), dot, n, a + b")
    a, b = [3, -7, 12, -300, 5, 0], [-1, 4, 9, 2, -2, 8]
    for c in (False, True):
        o = run(src, a=a, b=b, c=c)
        assert o["s"] == sum(a) and o["lo"] == min(a)
        assert o["hi"] == max(x - y for x, y in zip(a, b)) and o["m2"] == max(a[0], b[0], 7)
        assert o["ab"] == 7 and o["pc"] == bin(12).count("1")
        assert o["sel"] == (a[3] if c else b[3])
        assert o["dot"] == sum(x * y for x, y in zip(a, b))
        assert o["n"] == sum(x > 0 for x in a)
        assert o["ew"] == [x + y for x, y in zip(a, b)]


def test_tuples_functions_and_unpacking():
    extra = ("def divmod10(x: u16) -> (u16, u16):\n"
             "    return x / 10, x % 10\n"
             "def swap(p: (u8, bool)) -> (bool, u8):\n"
             "    return p[1], p[0]\n")
    src = program("x: u16 @alice, f: bool @bob", "q: u16 @both, r: u16 @alice, t: (bool, u8) @bob",
                  "q, r = divmod10(x)\nreturn q, r, swap((u8(r), f))", extra)
    o = run(src, x=1234, f=True)
    assert o == {"q": 123, "r": 4, "t": [True, 4]}


def test_bool_logic_and_public_short_circuit():
    src = program("a: u8[3] @alice, p: bool @alice, q: bool @bob",
                  "r: bool @both, s: bool @both, t: u8 @both",
                  "t: u8 = 0\nfor i in range(4):\n    if i < 3 and a[i] > 5:\n        t += 1\n"
                  "return (p and not q) or (q and not p), p ^ q != (p != q), t")
    for p, q in itertools.product([False, True], repeat=2):
        o = run(src, a=[1, 9, 6], p=p, q=q)
        assert o == {"r": p != q, "s": False, "t": 2}


def test_defines_override_consts():
    src = ("party alice, bob\nconst N = 3\nconst SCALE: u8 = 2\n"
           "def main(a: u8[N] @alice) -> (r: u16 @both):\n"
           "    return sum(a) * SCALE\n")
    assert run(src, a=[1, 2, 3])["r"] == 12
    assert run(src, {"N": "5", "SCALE": "0x3"}, a=[1, 2, 3, 4, 5])["r"] == 45


def test_unused_inputs_and_computations_cost_nothing():
    src = program("x: u32 @alice, y: u32 @bob, z: u64 @alice", "r: u32 @both",
                  "waste = z * z\nw2 = x / y\nreturn x + y")
    c = compile_source(src)
    assert c.count(1) == 31
    assert [p.name for p in c.inputs] == ["x", "y", "z"]


def test_counting_under_secret_conditions_is_a_popcount():
    src = program("a: u16[10] @alice, t: u16 @bob", "n: u8 @both",
                  "n: u8 = 0\nfor i in range(10):\n    if a[i] > t:\n        n += 1\nreturn n")
    c = compile_source(src)
    assert c.count(1) == 10 * 16 + 10 - 2
    assert run(src, a=list(range(0, 1000, 100)), t=350)["n"] == 6


def test_running_maximum_is_a_balanced_tree():
    src = program("a: u32[16] @alice", "m: u32 @both",
                  "m: u32 = 0\nfor i in range(16):\n    if a[i] > m:\n        m = a[i]\nreturn m")
    c = compile_source(src)
    assert c.count(1) == 15 * 64
    assert c.and_depth <= 4 * 33 + 1
    assert run(src, a=[5, 1, 99, 3] * 4)["m"] == 99


def test_tuple_assignment_swaps_and_a_sorting_network():
    src = program("a: u16[6] @alice", "s: u16[6] @both",
                  "x = a\nfor i in range(6):\n    for j in range(5 - i):\n"
                  "        if x[j] > x[j + 1]:\n            x[j], x[j + 1] = x[j + 1], x[j]\nreturn x")
    c = compile_source(src)
    # compare-and-swap: one comparison and one shared multiplexer per pair
    assert c.count(1) == 15 * 32
    for a in ([5, 3, 9, 1, 1, 0], [65535, 0, 7, 7, 2, 40000]):
        assert run(src, a=a)["s"] == sorted(a)


def test_constant_lookup_table():
    src = ("party alice, bob\nconst SBOX: u8[8] = [3, 1, 4, 1, 5, 9, 2, 6]\n"
           "def main(i: u3 @alice) -> (r: u8 @bob):\n    return SBOX[i]\n")
    assert compile_source(src).count(1) <= 8
    assert [run(src, i=i)["r"] for i in range(8)] == [3, 1, 4, 1, 5, 9, 2, 6]
