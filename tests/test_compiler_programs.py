"""Whole programs as a user writes them from docs/LANGUAGE.md, checked against plain Python.

Each program runs three ways (circuit in the plaintext evaluator, reference interpreter, and
the value computed here by hand in Python); the error cases check the message, the position
and that nothing but a CompileError escapes.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from yaogc.circuits.evaluate import evaluate
from yaogc.circuits.types import uint
from yaogc.compiler import CompileError, compile_source, interpret

from test_compiler_helpers import run

H = "party alice, bob\n"


def wrap(v, bits, signed):
    v &= (1 << bits) - 1
    return v - (1 << bits) if signed and v >> (bits - 1) else v


def trunc_divmod(a, b):
    q = abs(a) // abs(b)
    q = q if (a < 0) == (b < 0) else -q
    return q, a - q * b


def ands(src: str, defines=None) -> int:
    return compile_source(src, "<test>", defines).count(1)


# ---- arrays, tuples, functions -------------------------------------------------------------

def test_multidimensional_arrays_public_and_secret_indices():
    src = H + """
def main(a: u8[3][2] @alice, i: u8 @bob, j: u8 @bob) -> (r: u8 @both, s: u8 @both,
                                                         row: u8[2] @both, w: u8[3][2] @both):
    r = a[i][j]
    row = a[i]
    a[i][j] = 99
    return r, a[2][1], row, a
"""
    a = [[1, 2], [3, 4], [5, 6]]
    for i, j in [(0, 0), (1, 1), (2, 0), (3, 0), (1, 2), (255, 255)]:
        inside = i < 3 and j < 2
        w = [list(r) for r in a]
        if inside:
            w[i][j] = 99
        got = run(src, a=a, i=i, j=j)
        assert got == {"r": a[i][j] if inside else 0, "s": 6,
                       "row": a[i] if i < 3 else [0, 0], "w": w}


def test_tuples_unpacking_and_functions_returning_tuples_and_arrays():
    src = H + """
def both_ways(x: u8, y: u8) -> (u8, u8):
    return x + y, x - y
def bumped(v: u8[3]) -> u8[3]:
    v[0] = 1
    return v
def main(a: u8 @alice, b: u8 @bob, v: u8[3] @alice) -> (s: u8 @both, d: u8 @both,
                                                         t0: u8 @alice, w: u8[3] @both,
                                                         v2: u8[3] @both, p: (u8, i8) @bob):
    s, d = both_ways(a, b)
    t = both_ways(a, b)
    s, d = d, s
    return s, d, t[0], bumped(v), v, (a, -1)
"""
    got = run(src, a=3, b=5, v=[9, 2, 3])
    assert got == {"s": 254, "d": 8, "t0": 8, "w": [1, 2, 3], "v2": [9, 2, 3], "p": [3, -1]}


def test_nested_functions_and_early_returns_in_loops():
    src = H + """
const N = 5
def clamp(x: i16, lo: i16, hi: i16) -> i16:
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
def find(a: i16[N], v: i16) -> (bool, u8):
    for i in range(N):
        if clamp(a[i], -10, 10) == v:
            return True, u8(i)
    return False, 255
def main(a: i16[N] @alice, v: i16 @bob) -> (found: bool @both, at: u8 @both):
    return find(a, v)
"""
    a = [-100, 3, 50, 3, 7]
    for v in [-10, 3, 10, 7, 0]:
        c = [max(-10, min(10, x)) for x in a]
        exp = {"found": True, "at": c.index(v)} if v in c else {"found": False, "at": 255}
        assert run(src, a=a, v=v) == exp


def test_returning_one_value_where_a_tuple_is_declared_says_so():
    src = H + "def main(a: u8 @alice) -> (r: u8 @both, s: u8 @bob):\n    return a\n"
    with pytest.raises(CompileError) as e:
        compile_source(src, "p.yao")
    assert e.value.message == "returns 1 value, but the result type is (u8, u8) (2 values)"
    assert (e.value.line, e.value.col) == (3, 5)
    # a tuple-valued variable is one value that is a tuple, and fine
    ok = H + "def main(a: u8 @alice) -> (r: u8 @both, s: u8 @bob):\n    t = (a, u8(1))\n    return t\n"
    assert run(ok, a=4) == {"r": 4, "s": 1}


# ---- secret and public control flow ----------------------------------------------------------

SECRET_IF = H + """
def main(a: u8[4] @alice, x: u8 @bob, k: u8 @bob) -> (r: u8[4] @both, p: (u8, u8) @both,
                                                       m: u8 @both):
    p = (x, k)
    m: u8 = 0
    if x > 10:
        a[0] = x
        a[k] = 1
        p = (k, x)
        m = 1
    elif x > 5:
        a[1] += 1
        p, m = (0, 0), 2
    else:
        a[2] = x
        m = 3
        if k == 3:
            a[3] = 99
            m = 4
    return a, p, m
"""


@pytest.mark.parametrize("x,k", [(11, 2), (11, 7), (7, 0), (3, 3), (3, 1)])
def test_secret_if_elif_else_assigns_array_elements_and_tuples(x, k):
    a = [1, 2, 3, 4]
    p = (x, k)
    if x > 10:
        a[0] = x
        if k < 4:
            a[k] = 1
        p, m = (k, x), 1
    elif x > 5:
        a[1] += 1
        p, m = (0, 0), 2
    else:
        a[2], m = x, 3
        if k == 3:
            a[3], m = 99, 4
    assert run(SECRET_IF, a=[1, 2, 3, 4], x=x, k=k) == {"r": a, "p": list(p), "m": m}


def test_loops_with_steps_nested_ranges_and_array_iteration():
    src = H + """
def main(a: u8[10] @alice) -> (r: u16 @both, s: u16 @both, q: u16 @both, e: u8 @both):
    r: u16 = 0
    for i in range(1, 10, 3):
        r += a[i]
    s: u16 = 0
    for i in range(9, -1, -2):
        for j in range(i, 10, 4):
            s += a[j] * u16(i)
    q: u16 = 0
    for x in a:
        q += x
    e: u8 = 0
    for i in range(10):
        if i % 2 == 0:
            e += a[i]
        elif i == 1:
            e -= a[i]
        else:
            e ^= a[i]
    return r, s, q, e
"""
    a = [3, 250, 7, 11, 0, 9, 200, 1, 5, 77]
    e = 0
    for i in range(10):
        e = (e + a[i]) if i % 2 == 0 else (e - a[i]) if i == 1 else (e ^ a[i])
        e &= 255
    assert run(src, a=a) == {
        "r": sum(a[i] for i in range(1, 10, 3)),
        "s": sum(a[j] * i for i in range(9, -1, -2) for j in range(i, 10, 4)) & 0xFFFF,
        "q": sum(a), "e": e}


# ---- arithmetic edge cases --------------------------------------------------------------------

def test_signed_division_by_zero_and_min_by_minus_one():
    src = H + """
const Z = 0
def main(a: i8 @alice, b: i8 @bob) -> (q: i8 @both, r: i8 @both, qz: i8 @both, rz: i8 @both,
                                       qm: i8 @both, rm: i8 @both):
    return a / b, a % b, a / Z, a % Z, a / -1, a % -1
"""
    for a, b in [(-128, -1), (-7, 0), (7, 0), (0, 0), (-7, 3), (7, -3), (-128, 3)]:
        if b == 0:
            q, r = (-1 if a >= 0 else 1), a
        else:
            q, r = trunc_divmod(a, b)
        got = run(src, a=a, b=b)
        assert got == {"q": wrap(q, 8, True), "r": wrap(r, 8, True),
                       "qz": -1 if a >= 0 else 1, "rz": a,
                       "qm": wrap(-a, 8, True), "rm": 0}


@pytest.mark.parametrize("n", [3, 5, 8])
def test_signed_modulo_by_powers_of_two_costs_k_ands(n):
    for k in range(1, n - 1):
        src = H + f"def main(x: i{n} @alice) -> (r: i{n} @both, q: i{n} @both):\n" \
                  f"    return x % {1 << k}, x / {1 << k}\n"
        rows = [{"x": x} for x in range(-(1 << (n - 1)), 1 << (n - 1))]
        for row, got in zip(rows, evaluate(compile_source(src), rows)):
            q, r = trunc_divmod(row["x"], 1 << k)
            assert got == {"r": r, "q": q} == interpret(src, row)
        mod_only = H + f"def main(x: i{n} @alice) -> (r: i{n} @both):\n    return x % {1 << k}\n"
        assert ands(mod_only) == k
        assert ands(src) == n - 1       # the quotient reuses the remainder's condition


def test_shifts_by_public_and_secret_amounts():
    src = H + """
def main(a: i8 @alice, s: u8 @bob) -> (l: i8 @both, r: i8 @both, ul: u8 @both, ur: u8 @both,
                                       c1: i8 @both, c2: i8 @both, c3: i8 @both, c4: i8 @both):
    u = u8(a)
    return a << s, a >> s, u << s, u >> s, a << 3, a >> 3, a >> 9, a << 9
"""
    for a, s in [(-100, 3), (-100, 8), (-100, 200), (100, 7), (-1, 0), (77, 255)]:
        u = a & 0xFF
        assert run(src, a=a, s=s) == {
            "l": wrap(a << s, 8, True) if s < 8 else 0, "r": a >> min(s, 7),
            "ul": (u << s) & 0xFF if s < 8 else 0, "ur": u >> s if s < 8 else 0,
            "c1": wrap(a << 3, 8, True), "c2": a >> 3, "c3": a >> 7, "c4": 0}


def test_casts_between_widths_signedness_and_fixed_point():
    src = H + """
def main(a: i8 @alice, b: u8 @bob, f: fix16_8 @alice, g: fix32_16 @bob) -> (
        r1: u16 @both, r2: i16 @both, r3: u4 @both, r4: i4 @both, r5: bool @both,
        r6: fix16_8 @both, r7: i8 @both, r8: u8 @both, f1: i16 @both, f2: i8 @both,
        f3: fix8_4 @both, f4: fix32_16 @both, f5: u8 @both, f6: fix16_8 @both):
    return (u16(a), i16(a), u4(b), i4(b), bool(a), fix16_8(a), i8(b), u8(a),
            i16(f), i8(g), fix8_4(f), fix32_16(f), u8(f), fix16_8(g))
"""
    a, b, f, g = -3, 236, -2.3, -3.00001
    rf = round(f * 256)             # inputs round to the nearest grid point
    rg = round(g * 65536)
    got = run(src, a=a, b=b, f=f, g=g)
    assert got == {
        "r1": 65533, "r2": -3, "r3": 236 & 15, "r4": wrap(236, 4, True), "r5": True,
        "r6": -3.0, "r7": wrap(236, 8, True), "r8": 253,
        "f1": math.floor(Fraction(rf, 256)), "f2": math.floor(Fraction(rg, 65536)),
        "f3": math.floor(Fraction(rf, 16)) / 16, "f4": rf / 256,
        "f5": wrap(math.floor(Fraction(rf, 256)), 8, False), "f6": (rg >> 8) / 256}


def test_fixed_point_arithmetic_with_negative_values_rounds_down():
    src = H + """
def main(a: fix16_8 @alice, b: fix16_8 @bob) -> (p: fix16_8 @both, q: fix16_8 @both,
                                                 s: fix16_8 @both, n: fix16_8 @both,
                                                 c: fix16_8 @both, d: fix16_8 @both,
                                                 e: fix16_8 @both, lit: fix16_8 @both):
    return a * b, a / b, a - b, -a, a * 0.3, a / 3, a / 4, a + 0.005859375
"""
    ra, rb = -384, 77            # -1.5 and 0.30078125 (0.3 rounded to the grid)
    got = run(src, a=-1.5, b=0.3)
    assert got == {"p": math.floor(Fraction(ra * rb, 256)) / 256,
                   "q": math.floor(Fraction(ra * 256, rb)) / 256,
                   "s": (ra - rb) / 256, "n": 1.5,
                   "c": math.floor(Fraction(ra * rb, 256)) / 256,
                   "d": math.floor(Fraction(ra, 3)) / 256, "e": -0.375,
                   "lit": (ra + 2) / 256}     # 1.5 ulp rounds to 2 ulp (ties to even)


# ---- secret indexing --------------------------------------------------------------------------

@pytest.mark.parametrize("m", [1, 2, 3, 5, 6, 7, 9, 12])
def test_secret_index_of_every_length_and_index_type(m):
    x = [(3 * j + 5) % 16 or 1 for j in range(m)]
    for it in ["u2", "u3", "u4", "i3", "i4"]:
        src = H + f"def main(x: u4[{m}] @alice, i: {it} @bob) -> (r: u4 @alice):\n" \
                  f"    return x[i]\n"
        bits, signed = int(it[1:]), it[0] == "i"
        rng = range(-(1 << (bits - 1)), 1 << (bits - 1)) if signed else range(1 << bits)
        rows = [{"x": x, "i": i} for i in rng]
        for row, got in zip(rows, evaluate(compile_source(src), rows)):
            assert got["r"] == (x[row["i"]] if 0 <= row["i"] < m else 0), (m, it, row)
            assert got == interpret(src, row)


def test_secret_index_of_odd_length_does_not_pay_for_zero_padding():
    # 5 words of 16 bits by a 3-bit index: 4 muxes, one masking of the result, a comparison
    src = H + "def main(x: u16[5] @alice, i: u3 @bob) -> (r: u16 @alice):\n    return x[i]\n"
    assert ands(src) <= 4 * 16 + 16 + 2
    # a power-of-two length still costs exactly its mux tree
    src = H + "def main(x: u8[8] @alice, i: u3 @bob) -> (r: u8 @alice):\n    return x[i]\n"
    assert ands(src) == 7 * 8


# ---- builtins and constants -----------------------------------------------------------------

def test_builtins_over_scalars_arrays_and_generators():
    src = H + """
def main(a: u8[4] @alice, b: i8[4] @bob, x: u8 @alice, y: i8 @bob) -> (
        r1: u8 @both, r2: u8 @both, r3: i8 @both, r4: i8 @both, r5: u8 @both, r6: u16 @both,
        r7: i8 @both, r8: u4 @both, r9: i8 @both, r10: i8 @both, r11: u8 @both,
        r12: u8 @both, r13: i8 @both, r14: u8 @both, r15: u3 @both, r16: u32 @both, r17: u32 @both):
    bits = [a[i] > 10 for i in range(4)]
    return (min(a), max(a), min(b), max(b), sum(a), sum(a), sum(b), popcount(x), abs(y),
            abs(b[2]), select(x > 3, x, a[0]), min(x, a[1], a[2]), max(y, b[0], -100),
            max(a[i] + 1 for i in range(4)), popcount(bits), sum(a[i] * a[i] for i in range(4)),
            sum(u32(a[i]) * a[i] for i in range(4)))
"""
    a, b = [5, 200, 17, 0], [-3, 100, -128, 7]
    got = run(src, a=a, b=b, x=0xFF, y=-7)
    assert got == {"r1": 0, "r2": 200, "r3": -128, "r4": 100, "r5": sum(a) & 255,
                   "r6": sum(a), "r7": sum(b), "r8": 8, "r9": 7, "r10": -128, "r11": 255,
                   "r12": 17, "r13": -3, "r14": 201, "r15": 2,
                   # a sum's type is its elements' (u8 products wrap), whatever it is assigned to
                   "r16": sum(v * v & 255 for v in a) & 255, "r17": sum(v * v for v in a)}


CONSTS = H + """
const N = 3
const T: u8 = 10
const F = 0.5
const B = True
const G: fix16_8 = 0.25
const S: i8 = -3
def main(a: u8[N] @alice, f: fix16_8 @bob) -> (c: u8 @both, g: fix16_8 @both, h: i8 @both):
    c: u8 = 0
    for i in range(N):
        if B:
            c += a[i] > T
    return c, f * F + G, S
"""


@pytest.mark.parametrize("defines,a,exp", [
    (None, [1, 20, 3], {"c": 1, "g": 0.75, "h": -3}),
    ({"T": "2", "F": "1", "G": "0.25", "S": "5"}, [1, 20, 3], {"c": 2, "g": 1.25, "h": 5}),
    ({"B": "False", "F": "0.25"}, [1, 20, 3], {"c": 0, "g": 0.5, "h": -3}),
    ({"N": "4", "T": "0x10", "S": "-0x10"}, [1, 20, 3, 30], {"c": 2, "g": 0.75, "h": -16}),
    ({"B": "true", "F": "-0.5", "T": "1_0"}, [1, 20, 3], {"c": 1, "g": -0.25, "h": -3}),
    # decimals with an exponent, as the language writes them
    ({"F": "2.5E-1", "G": "1e-2"}, [1, 20, 3], {"c": 1, "g": 0.25 + 0.01171875, "h": -3}),
    ({"F": "1e1", "G": "-1_0.0e-1"}, [1, 20, 3], {"c": 1, "g": 9.0, "h": -3}),
])
def test_defines_override_every_kind_of_constant(defines, a, exp):
    assert run(CONSTS, defines, a=a, f=1.0) == exp


@pytest.mark.parametrize("defines,msg", [
    ({"T": "300"}, "300 does not fit in u8"),
    ({"T": "-1"}, "-1 does not fit in u8"),
    ({"T": "True"}, "'T' is declared u8"),
    ({"G": "1000.0"}, "does not fit in fix16_8"),
    ({"G": "abc"}, "is not a number or bool"),
    ({"G": ".5"}, "is not a number or bool"),
    ({"G": "1e"}, "is not a number or bool"),
    ({"F": "1e2000"}, "the exponent is out of range"),
    ({"T": "1" * 1200}, "1200 digits is too long"),
    ({"ZZ": "3"}, "the program has no 'const ZZ'"),
    ({"N": "0"}, "an array length must be at least 1"),
    ({"N": "2.5"}, "an array length must be an integer"),
])
def test_bad_defines_are_compile_errors(defines, msg):
    with pytest.raises(CompileError) as e:
        compile_source(CONSTS, "c.yao", defines)
    assert msg in e.value.message


# ---- mistakes users bring from Python and C --------------------------------------------------

BODY = "party alice, bob\ndef main(a: u8 @alice, b: u8 @bob) -> (r: u8 @both):\n"


@pytest.mark.parametrize("stmt,col,msg", [
    ("    x: u8\n    return a\n", 10, "a declaration needs a value: 'x: u8 = 0'"),
    ("    if a in [1, 2]:\n        return a\n    return b\n", 10, "'in' only appears in 'for"),
    ("    return min(a, b=3)\n", 20, "keyword arguments are not supported"),
    ("    if a > 1 && b > 1:\n        return a\n    return b\n", 15, "'&&' is not an operator"),
    ("    if a > 1 || b > 1:\n        return a\n    return b\n", 15, "'||' is not an operator"),
    ("    if !(a > 1):\n        return a\n    return b\n", 8, "'!' is not an operator"),
    ("    return a ** 2\n", 15, "'**' is not an operator"),
    ("    return a // b\n", 15, "'//' is not an operator: write '/' (on integers it truncates "
                              "toward zero, on fixed point it rounds down)"),
    ("    a++\n    return a\n", 6, "'++' is not an operator: write x += 1"),
    ("    a--\n    return a\n", 6, "'--' is not an operator: write x -= 1"),
    ('    """Doc."""\n    return a\n', 5, "the language has no strings but an assert's message"),
    ("    x = 'a'\n    return a\n", 9, "the language has no strings but"),
    ('    x = "a"\n    return a\n', 9, "the language has no strings but"),
    ("    x = a; return x\n", 10, "one statement per line"),
    ("    def g(x: u8) -> u8:\n        return x\n    return g(a)\n", 5,
     "functions are defined at the top level"),
    ("    return a if a > b\n", 22, "unexpected end of the line; expected 'else' or 'or'"),
    ("    print(a)\n    return a\n", 10, "a call is not a statement"),
    ("    a //= 2\n    return a\n", 7, "'//' is not an operator"),
    ("    a **= 2\n    return a\n", 7, "'**' is not an operator"),
    ("    x = y = 0\n    return a\n", 11, "one assignment per statement"),
    ("    x = min(a, b=3)\n    return a\n", 17, "keyword arguments are not supported"),
    ("    return sum(a for i in range(3) if a > b)\n", 36, "a comprehension has no 'if' filter"),
])
def test_habits_from_other_languages_get_a_specific_message(stmt, col, msg):
    with pytest.raises(CompileError) as e:
        compile_source(BODY + stmt, "p.yao")
    assert msg in e.value.message, str(e.value)
    assert (e.value.line, e.value.col) == (3, col), str(e.value)
    assert str(e.value).split("\n")[2] == " " * (col - 1) + "^"


def test_a_multiline_function_header_without_colon_is_not_a_declaration():
    src = "party alice, bob\ndef main(a: u8 @alice,\n         b: u8 @bob) -> u8 @bob\n" \
          "    return a\n"
    with pytest.raises(CompileError) as e:
        compile_source(src, "p.yao")
    assert e.value.message == "expected ':' after the function header"


# ---- constant expressions in fixed-point contexts --------------------------------------------

def test_constant_division_in_a_fixed_point_context_is_exact():
    src = H + """
const HALF: fix16_8 = 1 / 2
const K = 7 / 2
def main(i: fix16_8 @alice, n: u8 @bob) -> (
        a: fix16_8 @both, b: fix16_8 @both, c: fix16_8 @both, d: fix16_8 @both,
        e: bool @both, f: bool @both, g: fix16_8 @both, h: fix16_8 @both, k: fix16_8 @both,
        m: fix16_8 @both, u: u8 @both, v: fix16_8 @both):
    d: fix16_8 = 1.0 / 3
    return (HALF, i * (1 / 3), (1 / 3) * i, d, 1 / 2 < i, i > 1 / 2, min(1 / 2, i),
            select(i > 0, 1 / 2, i), (1 / 2 if i > 0 else i), i * K, n / 2 + 7 / 2, -1 / 2 + i)
"""
    third = round(Fraction(256, 3))            # 1/3 to the nearest multiple of 2^-8
    for i in [0.25, 1.0]:
        got = run(src, i=i, n=7)
        assert got == {"a": 0.5, "b": math.floor(Fraction(int(i * 256) * third, 256)) / 256,
                       "c": math.floor(Fraction(int(i * 256) * third, 256)) / 256,
                       "d": third / 256, "e": i > 0.5, "f": i > 0.5, "g": min(0.5, i),
                       "h": 0.5, "k": 0.5, "m": i * 3, "u": 6, "v": i - 0.5}


def test_integer_constants_still_divide_as_integers():
    src = H + """
const K = 7 / 2
def main(x: u8 @alice) -> (k: u8 @both, r: u8 @both):
    y = x
    for i in range(10 / 3):
        y += 1
    return K, y
"""
    assert run(src, x=0) == {"k": 3, "r": 3}
    with pytest.raises(CompileError) as e:
        compile_source(src.replace("range(10 / 3)", "range(10.0 / 4)"))
    assert "must be an integer, not a decimal" in e.value.message


# ---- size of programs ------------------------------------------------------------------------

def test_long_expressions_and_deep_call_chains_compile():
    src = H + "def main(a: u8 @alice) -> (r: u8 @both):\n    return " + \
        " + ".join(["a"] * 3000) + "\n"
    assert run(src, a=3) == {"r": 3000 * 3 % 256}
    calls = "".join(f"def f{i}(x: u8) -> u8:\n    return f{i + 1}(x) + 1\n" for i in range(400))
    src = H + calls + "def f400(x: u8) -> u8:\n    return x\n" + \
        "def main(a: u8 @alice) -> (r: u8 @both):\n    return f0(a)\n"
    assert run(src, a=3) == {"r": 403 % 256}


def test_absurd_nesting_is_a_compile_error_not_a_crash():
    src = H + "def main(a: u8 @alice) -> (r: u8 @both):\n    return " + "-" * 40000 + "a\n"
    with pytest.raises(CompileError) as e:
        compile_source(src)
    assert "nested too deeply" in e.value.message
    # the error points at the expression, not at the program's first line
    assert (e.value.line, e.value.col) == (3, 12)
    src = H + "def main(a: u8 @alice) -> (r: u8 @both):\n    y: u8 = 1\n    return y + " + \
        " + ".join(["a"] * 20000) + "\n"
    with pytest.raises(CompileError) as e:
        compile_source(src)
    assert "nested too deeply" in e.value.message and (e.value.line, e.value.col) == (4, 12)


def test_too_many_operations_names_the_statement(monkeypatch):
    from yaogc.compiler import ir
    monkeypatch.setattr(ir, "MAX_NODES", 5000)
    src = H + ("def main(a: u8[8] @alice) -> (r: u8 @both):\n    r: u8 = 0\n"
               "    for i in range(100000):\n        r += a[i % 8] ^ u8(i)\n    return r\n")
    with pytest.raises(CompileError) as e:
        compile_source(src, "p.yao")
    first = str(e.value).split("\n")[0]
    assert first.startswith("p.yao:5:11: the program is too large: it unrolls into too many "
                            "operations (more than 5,000, about 0.0 GB to compile at 800 bytes "
                            "each"), first
    assert str(e.value).split("\n")[1] == "        r += a[i % 8] ^ u8(i)"


def test_operation_limit_follows_the_memory_available(monkeypatch):
    """A program may unroll to as many word operations as the machine's available memory
    holds (at least ir.FEW_NODES); a long elaboration reports progress meanwhile."""
    from yaogc.compiler import ir, pipeline
    src = H + ("def main(a: bool[3000] @alice, b: bool[3000] @bob) -> (d: u16 @both):\n"
               "    return sum(a[i] != b[i] for i in range(3000))\n")
    monkeypatch.setattr(ir, "FEW_NODES", 1000)
    monkeypatch.setattr(pipeline, "available_memory", lambda: 2000 * pipeline.BYTES_PER_NODE)
    with pytest.raises(CompileError) as e:
        compile_source(src, "p.yao")
    assert "too many operations (more than 2,000, about" in str(e.value).split("\n")[0]
    monkeypatch.setattr(pipeline, "available_memory", lambda: 10**5 * pipeline.BYTES_PER_NODE)
    monkeypatch.setattr(ir, "PROGRESS_NODES", 2000)
    heard = []
    c = compile_source(src, "p.yao", progress=lambda phase, gates, s: heard.append(phase))
    assert heard.count("elaborating") >= 4, heard      # 12,000 operations, one per 2,000
    assert heard.index("elaborating") < heard.index("checked")
    a = [i % 2 == 0 for i in range(3000)]
    b = [i % 3 == 0 for i in range(3000)]
    assert evaluate(c, [{"a": a, "b": b}])[0]["d"] == sum(x != y for x, y in zip(a, b))


def test_arithmetic_on_a_tuple_is_a_compile_error():
    src = H + """
def f(x: u8) -> (u8, u8):
    return x, x
def main(a: u8 @alice) -> (r: u8 @both):
    x = f(a) + 1
    return x
"""
    with pytest.raises(CompileError) as e:
        compile_source(src, "p.yao")
    assert e.value.message == "'+' does not apply to the tuple (u8, u8)"
    assert (e.value.line, e.value.col) == (6, 14)


def test_a_helper_function_result_has_no_party():
    src = H + """
def f(x: u8) -> (r: u8 @both):
    return x
def main(a: u8 @alice) -> (r: u8 @both):
    return f(a)
"""
    with pytest.raises(CompileError) as e:
        compile_source(src, "p.yao")
    assert e.value.message == "only main's results have parties"
    assert (e.value.line, e.value.col) == (3, 25)


# ---- secret branches with loops, and random control flow against Python ---------------------

def test_loops_over_the_same_variable_in_both_branches_of_a_secret_if():
    src = H + """
def main(a: u8[4] @alice, x: u8 @bob) -> (s: u8 @both):
    s: u8 = 0
    if x > 3:
        for i in range(4):
            s += a[i]
    else:
        for i in range(2):
            s += a[i]
    return s
"""
    assert run(src, a=[1, 2, 3, 4], x=5) == {"s": 10}
    assert run(src, a=[1, 2, 3, 4], x=2) == {"s": 3}
    # reading such a name afterwards is the error, with the line of the 'if'
    bad = src.replace("    return s\n", "    return u8(i)\n")
    with pytest.raises(CompileError) as e:
        compile_source(bad, "p.yao")
    assert "'i' has a different compile-time value in each branch of the secret 'if' on line 5" \
        in e.value.message


def _rand_expr(r, d):
    if d <= 0 or r.random() < 0.3:
        return r.choice(["x", "y", "a[0]", "b[3]", "a[y % 4]", "b[x % 4]", "LV",
                         str(r.randrange(256))])
    k = r.randrange(8)
    a, b = _rand_expr(r, d - 1), _rand_expr(r, d - 1)
    if k < 5:      # +, -, *, ^, &, | commute with reduction mod 256, so Python agrees
        return f"({a} {r.choice(['+', '-', '*', '^', '&', '|'])} {b})"
    if k == 5:
        return f"{r.choice(['min', 'max'])}(u8({a}), u8({b}))"
    if k == 6:
        return f"(u8({a}) if {_rand_cond(r, d - 1)} else u8({b}))"
    return f"u8(u8({a}) >> {r.randrange(8)})"


def _rand_cond(r, d):
    k = r.randrange(4)
    if k == 0 and d > 0:
        return f"({_rand_cond(r, d - 1)} {r.choice(['and', 'or'])} {_rand_cond(r, d - 1)})"
    if k == 1 and d > 0:
        return f"(not {_rand_cond(r, d - 1)})"
    op = r.choice(["<", "<=", "==", "!=", ">", ">="])
    return f"(u8({_rand_expr(r, d - 1)}) {op} u8({_rand_expr(r, d - 1)}))"


def _rand_block(r, depth, ind, lv):
    out, p = [], "    " * ind
    for _ in range(r.randint(1, 3)):
        k = r.randrange(10)
        e = _rand_expr(r, 2).replace("LV", lv or "3")
        c = _rand_cond(r, 1).replace("LV", lv or "3")
        if k < 4 or depth >= 2:
            tgt = r.choice(["x", "y", "a[1]", "b[2]", "a[x % 4]", "b[y % 4]"])
            out.append(f"{p}{tgt} = u8({e})")
        elif k < 6:
            out.append(f"{p}if {c}:")
            out += _rand_block(r, depth + 1, ind + 1, lv)
            if r.random() < 0.5:
                out.append(f"{p}elif {_rand_cond(r, 1).replace('LV', lv or '3')}:")
                out += _rand_block(r, depth + 1, ind + 1, lv)
            if r.random() < 0.6:
                out.append(f"{p}else:")
                out += _rand_block(r, depth + 1, ind + 1, lv)
        elif k < 8 and lv is None:
            out.append(f"{p}for j in range({r.randrange(4)}, {r.randrange(4, 8)}, "
                       f"{r.choice([1, 2, 3])}):")
            out += _rand_block(r, depth + 1, ind + 1, "j")
        elif k == 8:
            out.append(f"{p}if {c}:")
            out.append(f"{p}    return u8({e}), y, a")
        else:
            out.append(f"{p}x, y = y, x")
    return out


RANDOM_HEAD = H + ("def main(a: u8[4] @alice, b: u8[4] @bob, x: u8 @alice, y: u8 @bob) -> "
                   "(r: u8 @both, s: u8 @both, t: u8[4] @both):\n")


def test_random_control_flow_matches_python():
    """Secret ifs, elifs, loops, secret-index writes and early returns; the same text runs
    as Python (u8 reduces mod 256), so Python is the oracle for the statement semantics."""
    import random
    checked = 0
    for seed in range(40):
        r = random.Random(seed)
        body = "\n".join(_rand_block(r, 0, 1, None)) + "\n    return x, y, a\n"
        try:
            circuit = compile_source(RANDOM_HEAD + body)
        except CompileError as e:
            assert "does not fit" in e.message     # a constant subexpression out of u8's range
            continue
        ns: dict = {}
        exec("def u8(v):\n    return int(v) & 255\ndef main(a, b, x, y):\n" + body, ns)
        rows = [{"a": [r.randrange(256) for _ in range(4)], "b": [r.randrange(256) for _ in range(4)],
                 "x": r.randrange(256), "y": r.randrange(256)} for _ in range(6)]
        for row, got in zip(rows, evaluate(circuit, rows)):
            res = ns["main"](list(row["a"]), list(row["b"]), row["x"], row["y"])
            assert got == {"r": res[0], "s": res[1], "t": list(res[2])}, (seed, row, body)
            assert interpret(RANDOM_HEAD + body, row) == got
        checked += 1
    assert checked >= 30


def test_compiles_when_no_large_stack_thread_can_start(monkeypatch):
    import sys
    import threading

    def refuse(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    limit = sys.getrecursionlimit()
    src = H + "def main(a: u8 @alice) -> (r: u8 @both):\n    return a + 1\n"
    assert run(src, a=3) == {"r": 4}
    assert sys.getrecursionlimit() == limit


def test_interpret_reads_a_program_file_of_any_suffix(tmp_path):
    prog = tmp_path / "rich.txt"
    prog.write_text(H + "def main(x: u8 @alice, y: u8 @bob) -> (r: bool @both):\n"
                        "    return x > y\n")
    assert interpret(str(prog), {"x": 3, "y": 2}) == {"r": True}


def test_chained_comparisons_mean_what_they_mean_in_python():
    import itertools
    src = H + """
def main(a: u8 @alice, b: u8 @bob) -> (r: bool @both, s: bool @both, q: bool @both):
    return 3 < a <= b, a == b != 7, not 1 < a < 5 or b > 200
"""
    for a, b in itertools.product([0, 3, 4, 5, 7, 250], [3, 4, 7, 201]):
        assert run(src, a=a, b=b) == {"r": 3 < a <= b, "s": a == b != 7,
                                      "q": (not 1 < a < 5) or b > 200}
    one = H + "def main(a: u8 @alice, b: u8 @bob) -> (r: bool @both):\n    return 3 < a <= b\n"
    assert ands(one) <= 8 + 8 + 1     # a comparison with the constant 3 is cheaper still


def test_a_file_that_is_not_utf8_shows_the_line_and_a_caret(tmp_path):
    from yaogc.compiler import compile_file
    prog = tmp_path / "latin.yao"
    prog.write_bytes(H.encode() + "# café ".encode() + b"\xff\n")
    with pytest.raises(CompileError) as e:
        compile_file(prog)
    lines = str(e.value).split("\n")
    assert lines[0].endswith(":2:8: the program is not UTF-8 text")
    assert lines[1] == "# café \ufffd" and lines[2] == " " * 7 + "^"


@pytest.mark.parametrize("written, plain", [
    ("1e-3", "0.001"), ("2.5E+2", "250.0"), ("1_0e-1", "1.0"), ("3E0", "3.0"),
    ("0.125e1", "1.25"), ("7e2", "700.0")])
def test_decimal_literals_with_an_exponent_are_the_same_decimals(written, plain):
    """``1e-3`` is the decimal 0.001, as in Python: the same circuit as the plain decimal,
    in a fixed-point product and in an integer sum (where a whole value is an integer)."""
    src = ("party a, b\n\ndef main(x: fix32_16 @a, n: u16 @b) -> (y: fix32_16 @b, m: u16 @b):\n"
           "    return x * {0}, n + {1}\n")
    whole = written if Fraction(plain).denominator == 1 else "1"
    got = compile_source(src.format(written, whole))
    want = compile_source(src.format(plain, plain if whole != "1" else "1"))
    assert got.content_hash == want.content_hash
    out = interpret(src.format(written, whole), {"x": 2, "n": 5})
    # the decimal becomes the nearest fix32_16 value (ties to even), then doubles exactly
    assert out["y"] == 2 * round(Fraction(plain) * 2**16) / 2**16
    assert out["m"] == 5 + (int(Fraction(plain)) if whole != "1" else 1)


def test_word_passes_report_progress_and_hold_the_operation_limit(monkeypatch):
    """The graphs the word passes rebuild report progress as the elaborated one does, and
    one that outgrows the limit is a clear error, not a traceback."""
    from yaogc.compiler import ir, pipeline
    src = H + ("def main(a: u8[2000] @alice, t: u8 @bob) -> (c: u32 @both):\n"
               "    c: u32 = 0\n    for i in range(2000):\n        if a[i] > t:\n"
               "            c += 1\n    return c\n")
    monkeypatch.setattr(ir, "PROGRESS_NODES", 1000)
    heard = []
    compile_source(src, "p.yao", progress=lambda phase, gates, s: heard.append(phase))
    assert heard.index("elaborating") < heard.index("checked") < heard.index("optimizing") \
        < heard.index("optimized"), heard
    # said as the phase starts, then by the rebuilt graphs as they grow
    assert heard.count("optimizing") >= 2, heard
    # a limit the elaborated graph stays within but the rebuilt one does not
    elaborated = len(pipeline.elaborate(src, "p.yao").graph)
    monkeypatch.setattr(pipeline, "available_memory", lambda: 0)
    from yaogc.compiler import optimize as O
    real = O._optimize_shared

    def bigger(e):          # the rebuilt graph grows past what the elaborated one took
        got = real(e)
        for i in range(elaborated + 10):
            got.graph.const(uint(16), i)
        return got
    monkeypatch.setattr(O, "_optimize_shared", bigger)
    monkeypatch.setattr(ir, "FEW_NODES", elaborated + 5)
    with pytest.raises(CompileError) as e:
        compile_source(src, "p.yao")
    assert "too many operations once optimized" in str(e.value).split("\n")[0]
