"""Range analysis: warnings for operations that may overflow (file:line:col, the range, the
type to use), --strict, and the shipped examples at the sizes the docs invite."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.circuit import Op
from yaogc.compiler import CompileError, compile_source, interpret
from yaogc.compiler.overflow import _scan
from yaogc.compiler.pipeline import elaborate, range_warnings
from yaogc.runtime.cli import main

from test_compiler_property import programs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

SUM = """party a, b
const N = 1000
def main(x: fix32_16[N] @a, y: fix32_16[N] @b) -> fix32_16 @b:
    total: fix32_16 = 0
    for i in range(N):
        total += x[i]
        total += y[i]
    return total / (2 * N)
"""


def _warnings(src: str, defines=None, filename="p.yao") -> list[str]:
    return [str(w) for w in range_warnings(elaborate(src, filename, defines), src, filename)]


def test_a_long_sum_warns_with_the_range_and_the_type_to_use():
    (w,) = _warnings(SUM)
    # where the chain first may pass the type (x[0] + y[0]), with the whole chain's range
    assert w.startswith("p.yao:7:15: warning: sum of 2000 values of fix32_16 may reach "
                        "+-6.6e7; fix32_16 holds +-32768; use fix48_16\n")
    assert w.endswith("        total += y[i]\n              ^")
    wide = SUM.replace("total: fix32_16", "total: fix48_16").replace(
        "return total / (2 * N)", "return fix32_16(total / (2 * N))")
    assert _warnings(wide) == []             # the suggested type holds it, the mean fits


@pytest.mark.parametrize("body,msg", [
    ("a + b", "p.yao:3:14: warning: '+' on u8 may reach 510; u8 holds 0..255; use u16"),
    ("a - b", "p.yao:3:14: warning: '-' on u8 may reach -255; u8 holds 0..255; use i16"),
    ("a * b", "p.yao:3:14: warning: '*' on u8 may reach 65025; u8 holds 0..255; use u16"),
    ("u8(c)", "p.yao:3:12: warning: converting to u8: the value may reach 65535; u8 holds "
              "0..255; use u16"),
    ("u8(f * f)", "p.yao:3:17: warning: '*' on fix16_8 may reach 16384; fix16_8 holds +-128; "
                  "use fix24_8"),
    # an integer cast to fixed point: x * 2^8 wraps in 16 bits (no warning from u8 or u16,
    # and a narrower integer type named for a wider source)
    ("u8(fix16_8(a))", "p.yao:3:15: warning: converting to fix16_8: the value may reach 255; "
                       "fix16_8 holds +-128; use fix24_8"),
    ("u8(fix16_8(c))", "p.yao:3:15: warning: converting to fix16_8: the value may reach 65535; "
                       "fix16_8 holds +-128; use fix32_8"),
    # abs(MIN) is MIN (128 passes i8; fix16_8's -128.0 likewise), as -x is
    ("u8(abs(bitcast(a, i8)))", "p.yao:3:15: warning: abs() on i8 may reach 128; i8 holds "
                                "-128..127; use i16"),
    ("u8(abs(f))", "p.yao:3:15: warning: abs() on fix16_8 may reach 128; fix16_8 holds +-128; "
                   "use fix24_8"),
    # a fixed-point product or quotient by a power of two is a shift, named as written
    ("u8(f / 0.5)", "p.yao:3:17: warning: '/' on fix16_8 may reach +-256; fix16_8 holds +-128; "
                    "use fix24_8"),
    ("u8(f * 4.0)", "p.yao:3:17: warning: '*' on fix16_8 may reach +-512; fix16_8 holds +-128; "
                    "use fix24_8"),
    # a constant divisor that is 0 (0.001 rounds to 0 in fix16_8): x / 0, silently before
    ("u8(f / 0.001)", "p.yao:3:17: warning: '/' on fix16_8 divides by the constant 0: x / 0 is "
                      "-0.00390625 where x >= 0, 0 where x < 0 (a constant of magnitude 2^-9 or "
                      "less is 0 in fix16_8), not a quotient"),
    ("a / 0", "p.yao:3:14: warning: '/' on u8 divides by the constant 0: x / 0 is 255, not a "
              "quotient"),
    ("a % (b - b)", "p.yao:3:14: warning: '%' on u8 divides by the constant 0: x % 0 is x, not "
                    "a quotient"),
    ("u8(fix16_8(i32(c) - 70000))", "p.yao:3:15: warning: converting to fix16_8: the value "
                                    "may reach -70000; fix16_8 holds +-128; use fix32_8"),
])
def test_each_arithmetic_operation(body, msg):
    src = f"party a, b\ndef main(a: u8 @a, b: u8 @b, c: u16 @a, f: fix16_8 @a) -> u8 @b:\n" \
          f"    return {body}\n"
    assert any(w.startswith(msg) for w in _warnings(src)), _warnings(src)


def test_no_warning_where_nothing_can_wrap():
    src = """party a, b
def main(a: u8 @a, b: u8 @b, i: u8 @a) -> (s: u16 @b, m: u8 @b, k: u8 @b, d: u8 @b):
    s: u16 = u16(a) + u16(b)
    k = i & 15
    return s, max(a, b), k + 16, (a / 2) + (b / 2)
"""
    assert _warnings(src) == []


@pytest.mark.parametrize("t,body", [
    ("i16", "x / 4"), ("i16", "x / 2"), ("i32", "x / 8 + x / 2"), ("i16", "x / 4 / 2"),
    ("i8", "x / 64"), ("i16", "x / 2 - x % 2"), ("i16", "x % 8 + 32760"),
    ("i16", "x % 8 - 32761"),
])
def test_a_signed_quotient_by_a_power_of_two_cannot_wrap(t, body):
    # made as its floor (a shift) plus a rounding bit at w-k bits: that addition alone would
    # look as if it could pass its narrow type, but the bit is 1 only where the floor is
    # negative; checked mode adds no gate for it either. The remainder, made of x's low bits
    # and a fill, lies within +-(2**k - 1)
    src = f"party a, b\ndef main(x: {t} @a) -> (r: {t} @both):\n    return {body}\n"
    assert _warnings(src) == []
    assert compile_source(src, checked=True).count(Op.AND) == compile_source(src).count(Op.AND)


def test_a_quotient_of_a_wrapped_sum_warns_only_at_the_sum():
    src = "party a, b\ndef main(x: i16 @a, s: i16[4] @a) -> (r: i16 @both, m: i16 @both):\n" \
          "    return (x + x) / 2 + (x + x) % 4 + 32764, sum(s) / 4\n"
    got = _warnings(src)
    # the quotient and remainder are of the wrapped sum, and the last '+' may pass the type
    assert [w.split(": warning: ")[1].split(";")[0] for w in got] == [
        "'+' on i16 may reach +-65536", "sum of 3 values of i16 may reach 49150",
        "sum of 4 values of i16 may reach +-131072"], got


def test_a_sum_after_an_early_return_is_warned_where_it_is_written():
    # the branches' merge rebuilds x + 1 as x + (c ? 0 : 1): made at the merge, the warning
    # named the 'return' statement
    src = "party a, b\ndef main(x: u8 @a, c: bool @b) -> u8 @b:\n    if c:\n        return x\n" \
          "    return x + 1\n"
    (w,) = _warnings(src)
    assert w.startswith("p.yao:5:14: warning: '+' on u8 may reach 256"), w


def test_warnings_reach_the_api():
    c = compile_source(SUM, "p.yao")
    assert len(c.warnings) == 1 and "sum of 2000 values" in str(c.warnings[0])
    w = c.warnings[0]
    assert (w.filename, w.line, w.col) == ("p.yao", 7, 15)


def test_strict_makes_the_warning_an_error(tmp_path, capsys):
    p = tmp_path / "sum.yao"
    p.write_text(SUM)
    with pytest.raises(CompileError) as ei:
        compile_source(SUM, "p.yao", strict=True)
    assert str(ei.value).startswith("p.yao:7:15: sum of 2000 values of fix32_16 may reach")
    assert main(["compile", str(p), "--strict", "-o", str(tmp_path / "s.ygc")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{p}:7:15: sum of 2000 values") and "--strict" in err
    wide = tmp_path / "wide.yao"
    wide.write_text(SUM.replace("total: fix32_16", "total: fix48_16").replace(
        "return total / (2 * N)", "return fix32_16(total / (2 * N))"))
    assert main(["eval", str(wide), "-D", "N=1", "--strict", "--input", "x=[1]",
                 "--input", "y=[2]"]) == 0
    assert "1.5" in capsys.readouterr().out
    # without --strict: the warning on stderr, from a compile and from the cache alike
    for _ in range(2):
        assert main(["compile", str(p), "-o", str(tmp_path / "s.ygc")]) == 0
        err = capsys.readouterr().err
        assert f"{p}:7:15: warning: sum of 2000 values of fix32_16" in err


def test_a_warning_in_a_module_names_the_module(tmp_path):
    (tmp_path / "acc.yao").write_text("def add_all(x: any) -> any:\n    t = x[0]\n"
                                      "    for i in range(1, len(x)):\n        t += x[i]\n"
                                      "    return t\n")
    p = tmp_path / "p.yao"
    p.write_text("from acc import add_all\nparty a\ndef main(x: u8[4] @a) -> u8 @a:\n"
                 "    return add_all(x)\n")
    (w,) = _warnings(p.read_text(), filename=str(p))
    assert w.startswith(f"{tmp_path / 'acc.yao'}:4:11: warning: sum of 4 values of u8 may "
                        f"reach 1020; u8 holds 0..255; use u16")


# --- the shipped examples at the sizes the docs invite -------------------------------------
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yao")), ids=lambda p: p.stem)
def test_examples_have_no_warnings(path):
    text = path.read_text()
    assert _warnings(text, filename=str(path)) == []


def test_hospital_stats_is_right_at_n_1000():
    """The issue's case: -D N=1000 printed mean 0.7377 and variance -11.39."""
    path = EXAMPLES / "hospital_stats.yao"
    assert _warnings(path.read_text(), {"N": "1000"}, str(path)) == []
    rng = np.random.default_rng(20)
    north = [round(float(v) * 65536) / 65536 for v in rng.normal(131.8, 8.8, 1000)]
    south = [round(float(v) * 65536) / 65536 for v in rng.normal(131.8, 8.8, 1000)]
    o = interpret(path, {"north_values": north, "south_values": south}, {"N": "1000"})
    vals = north + south
    mean = sum(vals) / 2000
    var = sum((v - mean) ** 2 for v in vals) / 2000
    assert abs(o["mean"] - mean) <= 2 ** -16
    assert abs(o["variance"] - var) <= 1e-3
    assert 120 < o["mean"] < 140 and 40 < o["variance"] < 120


def test_readme_seniors_counts_2000_seniors(tmp_path, capsys):
    readme = (ROOT / "README.md").read_text()
    start = readme.index("# Two clinics count their patients over 65")
    prog = readme[start:readme.index("```", start)]
    p = tmp_path / "seniors.yao"
    p.write_text(prog)
    ages = "[" + ",".join(["70"] * 1000) + "]"
    assert main(["eval", str(p), "-D", "N=1000", "--strict", "--input", f"ages_a={ages}",
                 "--input", f"ages_b={ages}", "--json"]) == 0
    assert '"seniors": 2000' in capsys.readouterr().out
    # with a u8 counter, the compiler says so from N = 128
    assert "use u16" in _warnings(prog.replace("u16", "u8"), {"N": "128"})[0]


def test_logistic_score_holds_any_feature_size():
    path = EXAMPLES / "logistic_score.yao"
    assert _warnings(path.read_text(), {"F": "100"}, str(path)) == []
    o = interpret(path, {"features": [30000.0] * 8, "weights": [0.001] * 8, "bias": -240.0})
    z = -240 + 8 * math.floor(30000 * round(0.001 * 65536)) / 65536
    assert abs(o["risk"] - 1 / (1 + math.exp(-z))) <= 2 ** -16


def test_ranges_past_a_float_and_a_modulo_by_zero_are_analysed():
    # a repeated square reaches far past a float's range; x % 0 is x (so a / (b % 0) is a / b)
    src = ("party a, b\ndef main(x: u32 @a, y: u32 @b) -> (r: u32 @b):\n    v: u32 = x\n"
           "    for j in range(6):\n        v *= v\n    return v\n")
    (w,) = _warnings(src)
    assert "'*' on u32 may reach 3.2e616" in w and "no type of 256 bits holds it" in w
    from yaogc.circuits.evaluate import evaluate_one
    for checked in (False, True):
        c = compile_source(src, "p.yao", checked=checked)
        assert evaluate_one(c, x=3, y=0)["r"] == 3 ** 64 % 2 ** 32
        src2 = "party a, b\ndef main(x: u8 @a, y: u8 @b) -> (r: u8 @b):\n    return x / (y % 0)\n"
        c = compile_source(src2, "p.yao", checked=checked)
        assert evaluate_one(c, x=100, y=7)["r"] == 14
        assert evaluate_one(c, x=100, y=0)["r"] == 255      # x / 0 is the all-ones word


def test_a_subtraction_of_a_constant_is_reported_as_written():
    # x - c is made as x + (2^n - c) on unsigned words: its warning is the subtraction's
    # range, and an addition the program wrote is reported as an addition
    def first(e):
        ws = _warnings(f"party a, b\ndef main(x: u8 @a) -> (r: u8 @a):\n    return {e}\n")
        return ws[0].split("\n")[0] if ws else None
    assert first("x - 7") == "p.yao:3:14: warning: '-' on u8 may reach -7; u8 holds 0..255; use i16"
    assert first("x + 249") == ("p.yao:3:14: warning: '+' on u8 may reach 504; u8 holds 0..255; "
                                "use u16")
    assert first("(x | 16) - 7") is None
    # x * c made as a shift, or a negated one: the product's range
    assert first("x * 2") == "p.yao:3:14: warning: '*' on u8 may reach 510; u8 holds 0..255; use u16"
    assert first("x * 255") == ("p.yao:3:14: warning: '*' on u8 may reach 65025; u8 holds "
                                "0..255; use u16")
    assert first("(x & 7) * 16") is None and first("x << 1") is None
    assert first("(x & 15) + 250") == ("p.yao:3:21: warning: '+' on u8 may reach 265; u8 holds "
                                       "0..255; use u16")


def test_arithmetic_on_typed_constants_that_wraps_warns():
    """A typed constant is computed when compiling (it is no node of the circuit) but wraps
    like any value: const A: u8 = 200 then A + 100 is 44, and H + H for H: fix16_8 = 100.0 is
    -56.0; neither warned (nor did a chain of them, i32(A + B)), since only operations left
    in the circuit were analysed."""
    src = ("party a, b\nconst A: u8 = 200\nconst B: u8 = 100\nconst H: fix16_8 = 100.0\n"
           "def main(x: u8 @a) -> (r: i32 @b, s: fix16_8 @b, t: u16 @b, u: i8 @b):\n"
           "    return i32(A + B), H + H, u16(A) + B, i8(A - 150)\n")
    ws = _warnings(src)
    assert ws[0].startswith("p.yao:6:18: warning: '+' on u8 is 300 (constants, computed when "
                            "compiling); u8 holds 0..255; use u16\n")
    assert ws[1].startswith("p.yao:6:26: warning: '+' on fix16_8 is 200 (constants, computed "
                            "when compiling); fix16_8 holds +-128; use fix24_8\n")
    assert len(ws) == 2     # u16(A) + B is 300 in u16; A - 150 is 50, which i8 holds
    # an operation in an untaken branch of a compile-time if, or dead, is not reported
    quiet = ("party a, b\nconst A: u8 = 200\nconst D = 0\n"
             "def main(x: u8 @a) -> (r: u8 @b):\n    if D == 1:\n        return A + A\n"
             "    return x\n")
    assert _warnings(quiet) == []


@settings(deadline=None, max_examples=60)
@given(data=st.data())
def test_the_scans_shortcuts_give_the_general_rules_results(data):
    """_scan's shortcuts for the commonest operations (add, mux, min, max, resize; chains of
    + and -) find the same operations, intervals, term counts and places as the general
    interval rules, on random programs of mixed widths and nested expressions (with a sum
    loop that overflows, so that the warned chains are reached too)."""
    t, src = data.draw(programs())
    n = data.draw(st.integers(1, 40))
    src = src.replace("    return acc,",
                      f"    for j in range({n}):\n        acc += x * arr[j % 5]\n"
                      "        acc = min(acc, y) if c else max(acc, z)\n    return acc,")
    e = elaborate(src, "random.yao")
    roots = e.roots()
    fast, general = [], []
    got = _scan(e.graph, roots, fast)
    want = _scan(e.graph, roots, general, fast=False)
    assert [(k, r, m, loc and (loc.line, loc.col)) for k, r, m, loc in got] == \
        [(k, r, m, loc and (loc.line, loc.col)) for k, r, m, loc in want], src
    assert fast == general


def test_each_branch_of_a_merged_secret_if_is_warned_of_with_its_own_range():
    # c ? x + 1 : x - 1 is made as x + (c ? 1 : -1), whose range is the hull of both
    for body in ("    y: i8 = 0\n    if c:\n        y = x + 1\n    else:\n        y = x - 1\n"
                 "    return y\n",
                 "    if c:\n        y = x + 1\n    else:\n        y = x - 1\n    return y\n"):
        src = "party a, b\ndef main(x: i8 @a, c: bool @b) -> i8 @b:\n" + body
        got = [w.split("\n")[0] for w in _warnings(src)]
        line = 4 if body.startswith("    if") else 5
        assert got == [f"p.yao:{line}:15: warning: '+' on i8 may reach 128; i8 holds -128..127; use i16",
                       f"p.yao:{line + 2}:15: warning: '-' on i8 may reach -129; i8 holds -128..127; "
                       f"use i16"], got


@pytest.mark.parametrize("expr,col,what", [
    ("-(-x)", 14, "'-' on u8 may reach -255"), ("(x + y) - y", 15, "'+' on u8 may reach 510"),
    ("(x - y) + y", 15, "'-' on u8 may reach -255"), ("y + (x - y)", 19, "'-' on u8 may reach -255"),
    ("(x * y) * 0", 15, "'*' on u8 may reach 65025"), ("(x + y) & 0", 15, "'+' on u8 may reach 510"),
    ("(x + y) | 255", 15, "'+' on u8 may reach 510"), ("u8(x + y == y + x)", 17, "'+' on u8 may reach 510"),
])
def test_operations_a_fold_or_cancellation_drops_are_still_warned_of(expr, col, what):
    # the result is right (mod 2^8) but the program wrote an operation that passes its type:
    # --strict refuses it, as checked mode flags it
    src = f"party a, b\ndef main(x: u8 @a, y: u8 @b) -> (r: u8 @b):\n    return {expr}\n"
    got = [w.split("\n")[0] for w in _warnings(src)]
    assert len(got) == 1 and got[0].startswith(f"p.yao:3:{col}: warning: {what};"), got
    with pytest.raises(CompileError, match="strict"):
        compile_source(src, strict=True)


def test_repeated_squaring_warns_within_bounded_numbers():
    # each squaring doubles the digits of the ideal value: printing it hit Python's digit
    # limit (an internal ValueError), and 40 squarings would need 2^40-bit numbers
    for n, t in ((10, "u32"), (12, "u8"), (40, "u64")):
        src = (f"party a, b\ndef main(x: {t} @a) -> (r: {t} @b):\n    v: {t} = x\n"
               f"    for i in range({n}):\n        v *= v\n    return v\n")
        c = compile_source(src, "p.yao")
        assert len(c.warnings) == 1 and "may reach more than 1.0e2466" in str(c.warnings[0])
        from yaogc.circuits.evaluate import evaluate_one
        assert evaluate_one(c, x=3)["r"] == pow(3, 2 ** n, 2 ** int(t[1:]))
