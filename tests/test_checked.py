"""Checked mode: overflow flags inside the circuit, one hidden bit, results withheld."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from yaogc.circuits.circuit import Op
from yaogc.circuits.evaluate import evaluate, evaluate_one
from yaogc.compiler import compile_source
from yaogc.compiler.checked import EXIT_OVERFLOW, OVERFLOW_PORT
from yaogc.runtime.cli import main

from test_run_cli import start_listener

ROOT = Path(__file__).resolve().parent.parent

CLI = [sys.executable, "-m", "yaogc.runtime.cli"]
SUM = """party a, b
const N = 4
def main(x: u8[N] @a, y: u8[N] @b) -> (s: u8 @both, m: u8 @a):
    s: u8 = 0
    for i in range(N):
        s += x[i] + y[i]
    return s, max(x)
"""
FIX = """party a, b
def main(x: fix16_8 @a, y: fix16_8 @b) -> (p: fix16_8 @b, q: fix16_8 @b, c: i8 @b):
    return x * y, x - y, i8(x)
"""


def _prefix_overflows(x, y) -> bool:
    s = 0
    for a, b in zip(x, y):
        if a + b > 255 or s + a + b > 255:
            return True
        s += a + b
    return False


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=4, max_size=4),
       st.lists(st.integers(0, 255), min_size=4, max_size=4))
def test_the_bit_is_set_exactly_when_a_value_passed_its_type(x, y):
    c = compile_source(SUM, "s.yao", checked=True)
    o = evaluate_one(c, x=x, y=y)
    assert o[OVERFLOW_PORT] == _prefix_overflows(x, y)
    assert o["s"] == sum(x + y) % 256 and o["m"] == max(x)



# (expression, its exact value, the intermediate values it passes through): forms the
# algebraic rules rewrite (x - c as x + (2^n - c), x * 2^k as a shift, x * -1 as a negation,
# cancellations) are checked as written
REWRITTEN = [
    ("a - 7", lambda a: a - 7, lambda a: []), ("a * 2", lambda a: 2 * a, lambda a: []),
    ("a * 4", lambda a: 4 * a, lambda a: []), ("0 - a", lambda a: -a, lambda a: []),
    ("(a + 100) - 100", lambda a: a, lambda a: [a + 100]),
    ("a + 1 - 1", lambda a: a, lambda a: [a + 1]), ("-(-a)", lambda a: a, lambda a: [-a]),
]
CASES = [("u8", *r) for r in REWRITTEN + [("a * 255", lambda a: 255 * a, lambda a: [])]] + \
    [("i8", *r) for r in REWRITTEN + [("a * (-2)", lambda a: -2 * a, lambda a: []),
                                       ("a * (-1)", lambda a: -a, lambda a: [])]]


@pytest.mark.parametrize("t,expr,exact,inner", CASES)
def test_rewritten_forms_are_checked_as_written(t, expr, exact, inner):
    lo, hi = (-128, 127) if t == "i8" else (0, 255)
    src = f"party alice, bob\ndef main(a: {t} @alice) -> (r: {t} @both):\n    return {expr}\n"
    c = compile_source(src, "p.yao", checked=True)
    rows = [{"a": a} for a in range(lo, hi + 1)]
    for row, got in zip(rows, evaluate(c, rows)):
        a = row["a"]
        v = exact(a)
        over = any(not lo <= x <= hi for x in [v] + inner(a))
        assert got[OVERFLOW_PORT] == over, (expr, a, got)
        assert got["r"] == (v - lo) % 256 + lo, (expr, a, got)


def test_a_quotient_by_a_secret_divisor_and_what_is_computed_from_it_are_checked():
    # the divisor may be 0, so the range of a / b is unknown: checked all the same, except
    # x / 0, which is a documented value, not a wrapped quotient
    src = "party p, q\ndef main(a: i8 @p, b: i8 @q) -> (r: i8 @both):\n    return a / b + 100\n"
    c = compile_source(src, "d.yao", checked=True)
    rows = [{"a": a, "b": b} for a in range(-128, 128) for b in range(-128, 128)]
    for row, got in zip(rows, evaluate(c, rows)):
        a, b = row["a"], row["b"]
        if b == 0:
            over, q = False, -1 if a >= 0 else 1
        else:
            q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
            over = q > 127 or q + 100 > 127
            q = (q + 128) % 256 - 128
        assert got[OVERFLOW_PORT] == over, (row, got)
        assert got["r"] == (q + 100 + 128) % 256 - 128, (row, got)


@settings(max_examples=80, deadline=None)
@given(st.integers(-32768, 32767), st.integers(-32768, 32767) | st.sampled_from([0, 1, -1, 2]))
def test_a_fixed_point_quotient_by_a_secret_divisor_is_checked(rx, ry):
    src = "party p, q\ndef main(f: fix16_8 @p, g: fix16_8 @q) -> (r: fix16_8 @both):\n" \
          "    return f / g\n"
    o = evaluate_one(compile_source(src, "f.yao", checked=True), f=rx / 256, g=ry / 256)
    assert o[OVERFLOW_PORT] == (ry != 0 and not -32768 <= (rx * 256) // ry <= 32767)


@settings(max_examples=60, deadline=None)
@given(st.integers(-32768, 32767), st.integers(-32768, 32767))
def test_fixed_point_products_differences_and_casts(rx, ry):
    c = compile_source(FIX, "f.yao", checked=True)
    x, y = rx / 256, ry / 256
    o = evaluate_one(c, x=x, y=y)
    import math
    fits = (lambda v: -128 <= v < 128)
    exact_p = math.floor(rx * ry / 256) / 256
    want = not (fits(exact_p) and fits(x - y) and -128 <= math.floor(x) <= 127)
    assert o[OVERFLOW_PORT] == want


def test_the_bit_goes_to_every_recipient_and_costs_ands():
    plain = compile_source(SUM, "s.yao")
    c = compile_source(SUM, "s.yao", checked=True)
    port = c.output(OVERFLOW_PORT)
    assert set(port.recipients) == {"a", "b"} and port.width == 1
    assert c.count(Op.AND) > plain.count(Op.AND)
    # a program that cannot overflow gets a constant bit: no gates
    safe = SUM.replace("s: u8", "s: u16").replace("x[i] + y[i]", "u16(x[i]) + y[i]")
    assert compile_source(safe, checked=True).count(Op.AND) == \
        compile_source(safe).count(Op.AND)


def test_eval_withholds_results(tmp_path, capsys):
    p = tmp_path / "s.yao"
    p.write_text(SUM)
    assert main(["eval", str(p), "--checked", "--input", "x=[1,2,3,4]",
                 "--input", "y=[1,1,1,1]"]) == 0
    assert capsys.readouterr().out == "s = 14\nm = 4\n"
    assert main(["eval", str(p), "--checked", "--input", "x=[200,200,3,4]",
                 "--input", "y=[1,1,1,1]"]) == EXIT_OVERFLOW == 4
    cap = capsys.readouterr()
    assert cap.out == ""
    assert "overflow: results withheld" in cap.err
    # unchecked: the wrapped value, with the compile-time warning
    assert main(["eval", str(p), "--input", "x=[200,200,3,4]", "--input", "y=[1,1,1,1]"]) == 0
    cap = capsys.readouterr()
    assert "s = 155" in cap.out and "warning: sum of 8 values of u8" in cap.err


def test_run_withholds_results_on_both_sides(tmp_path):
    p = tmp_path / "s.yao"
    p.write_text(SUM)
    for xs, rc_want in (("[1,2,3,4]", 0), ("[200,200,3,4]", EXIT_OVERFLOW)):
        lp, port, seen = start_listener(["run", str(p), "--as", "a", "--checked", "--quiet",
                                  "--input", f"x={xs}"])
        assert port is not None, seen
        cp = subprocess.run(CLI + ["run", str(p), "--as", "b", "--checked", "--quiet",
                                   "--input", "y=[1,1,1,1]", "--connect", f"127.0.0.1:{port}"],
                            capture_output=True, text=True, timeout=120)
        out, err = lp.communicate(timeout=120)
        assert (lp.returncode, cp.returncode) == (rc_want, rc_want), (seen + err, cp.stderr)
        if rc_want:
            assert out == "" and cp.stdout == ""
            assert "overflow: results withheld" in err and "overflow: results withheld" in cp.stderr
        else:
            assert "s = 14" in out and "m = 4" in out and cp.stdout == "s = 14\n"


def test_both_parties_must_agree_on_checked_mode(tmp_path):
    p = tmp_path / "s.yao"
    p.write_text(SUM)
    lp, port, seen = start_listener(["run", str(p), "--as", "a", "--checked", "--quiet",
                              "--input", "x=[1,2,3,4]"])
    assert port is not None, seen
    cp = subprocess.run(CLI + ["run", str(p), "--as", "b", "--quiet", "--input", "y=[1,1,1,1]",
                               "--connect", f"127.0.0.1:{port}"],
                        capture_output=True, text=True, timeout=120)
    lp.communicate(timeout=120)
    assert lp.returncode == 3 and cp.returncode == 3, cp.stderr


INT_TO_FIX = """party a, b
def main(u: u8 @a, i: i8 @a, w: i32 @b) -> (p: fix16_8 @b, q: fix12_8 @b, r: fix16_8 @b):
    return fix16_8(u), fix12_8(i), fix16_8(w)
"""


@pytest.mark.parametrize("u,i,w,wraps", [
    (127, 7, -128, False), (0, -8, 127, False),
    (128, 0, 0, True),        # fix16_8(u8 128) was -128.0, unflagged
    (200, 0, 0, True),        # was -56.0
    (0, 8, 0, True),          # fix12_8(i8 8) was -8.0
    (0, -9, 0, True),
    (0, 0, 1000, True), (0, 0, -129, True),
])
def test_integer_to_fixed_point_casts_are_checked(tmp_path, capsys, u, i, w, wraps):
    """fix16_8(x) of an integer is x * 2^8 wrapped to 16 bits: a value outside fix16_8's
    range wraps, which checked mode flags (it checked only a source wider than the raw
    word, and the shift within the fixed type's width not at all)."""
    p = tmp_path / "c.yao"
    p.write_text(INT_TO_FIX)
    rc = main(["eval", str(p), "--checked", "--json", "--input", f"u={u}", "--input", f"i={i}",
               "--input", f"w={w}"])
    cap = capsys.readouterr()
    assert rc == (EXIT_OVERFLOW if wraps else 0), cap
    if not wraps:
        assert json.loads(cap.out)["outputs"] == {"p": u, "q": i, "r": w, OVERFLOW_PORT: False}


ABS = """party a, b
def main(i: i8 @a, f: fix16_8 @a, w: i8 @b) -> (p: i8 @b, q: fix16_8 @b, r: i16 @b):
    return abs(i), abs(f), abs(i16(w))
"""


@pytest.mark.parametrize("i,f,wraps", [
    (-127, -127.99609375, False), (127, 0.5, False), (0, 0, False),
    (-128, 0, True),          # abs(i8 -128) is -128 (documented), which passed i8: unflagged
    (0, -128, True),          # abs(fix16_8 -128.0) likewise
])
def test_abs_of_the_minimum_is_checked(tmp_path, capsys, i, f, wraps):
    p = tmp_path / "a.yao"
    p.write_text(ABS)
    rc = main(["eval", str(p), "--checked", "--json", "--input", f"i={i}", "--input", f"f={f}",
               "--input", "w=-128"])
    cap = capsys.readouterr()
    assert rc == (EXIT_OVERFLOW if wraps else 0), cap
    if not wraps:     # abs(i16(-128)) = 128 fits i16: no flag from it
        assert json.loads(cap.out)["outputs"] == {"p": abs(i), "q": abs(f), "r": 128,
                                                   OVERFLOW_PORT: False}


def test_typed_constant_arithmetic_that_wraps_sets_the_bit(tmp_path, capsys):
    """H + H for H: fix16_8 = 100.0 is -56.0, computed when compiling: checked mode
    returned it with _overflow false (the bit came only from operations in the circuit)."""
    p = tmp_path / "k.yao"
    p.write_text("party a, b\nconst H: fix16_8 = 100.0\n"
                 "def main(x: fix16_8 @a) -> (r: fix16_8 @b):\n    return x * 0.5 + (H + H)\n")
    assert main(["eval", str(p), "--checked", "--input", "x=1"]) == EXIT_OVERFLOW
    assert "overflow: results withheld" in capsys.readouterr().err
    p.write_text("party a, b\nconst H: fix16_8 = 60.0\n"
                 "def main(x: fix16_8 @a) -> (r: fix16_8 @b):\n    return x * 0.5 + (H + H)\n")
    assert main(["eval", str(p), "--checked", "--json", "--input", "x=1"]) == 0
    assert json.loads(capsys.readouterr().out)["outputs"] == {"r": 120.5, OVERFLOW_PORT: False}


@pytest.mark.parametrize("expr", ["(x * y) * (x - x)", "(x * y) - (x * y) + x",
                                  "abs(y) - abs(y) + x", "x + (y * y) * 0.0"])
def test_an_operation_a_fold_drops_is_still_checked(tmp_path, capsys, expr):
    """Each operation is checked as written: x * y in (x * y) * (x - x) passed fix16_8 for
    x = y = 100 but the bit stayed clear, since x - x folds to 0, the product by 0 to 0, and
    x * y was no longer computed (likewise (x * y) - (x * y), and abs(-128) - abs(-128))."""
    p = tmp_path / "d.yao"
    p.write_text("party a, b\ndef main(x: fix16_8 @a, y: fix16_8 @b) -> (r: fix16_8 @b):\n"
                 f"    return {expr}\n")
    assert main(["eval", str(p), "--checked", "--input", "x=100", "--input", "y=-128"]) == \
        EXIT_OVERFLOW
    capsys.readouterr()
    assert main(["eval", str(p), "--checked", "--json", "--input", "x=1",
                 "--input", "y=1.5"]) == 0
    assert json.loads(capsys.readouterr().out)["outputs"][OVERFLOW_PORT] is False


@pytest.mark.parametrize("expr", ["(y + z) % 1", "min(y + z, 0)", "max(y + z, 255)",
                                  "max(255, y + z)", "u8(y + z >= 0)", "u8(0 <= y + z)",
                                  "u8(y + z <= 255)", "u8(255 < y + z)", "u8(y + z < 0)",
                                  "u8(i8(y) < (-128))", "select(True, y, y + z)",
                                  "select(False, y + z, y)", "select(z < 0, y + z, y)"])
def test_an_operand_a_comparison_or_bound_folds_away_is_still_checked(tmp_path, capsys, expr):
    """Folds against the type's own bounds (y + z >= 0 on u8 is true), by 1 (% 1) and of a
    constant selection dropped their operand unchecked and unwarned: y + z passed u8 for
    y = 200, z = 100 and the results were printed with the bit clear."""
    p = tmp_path / "b.yao"
    p.write_text("party a, b\ndef main(y: u8 @a, z: u8 @b) -> (r: u8 @b):\n"
                 f"    return {expr}\n")
    assert main(["eval", str(p), "--checked", "--input", "y=200", "--input", "z=100"]) == \
        EXIT_OVERFLOW
    err = capsys.readouterr().err
    assert "warning:" in err and "may reach" in err
    assert main(["eval", str(p), "--strict", "--input", "y=1", "--input", "z=1"]) == 2
    capsys.readouterr()
    assert main(["eval", str(p), "--checked", "--json", "--input", "y=20",
                 "--input", "z=10"]) == 0
    assert json.loads(capsys.readouterr().out)["outputs"][OVERFLOW_PORT] is False


UNREAD = ["t: u8 = (y + y) * 0", "t: u8 = (y + y) & 0", "t: u8 = (y + y) * (z - z)",
          "t: u8 = select(c, z, y + y)", "t: u8 = z if c else y + y",
          "t: u8 = z\n    if c:\n        t = y + y",
          "v: i32 = 0\n    v = select(c, v, i32(u8(y + y)))",
          "if y + y > 3:\n        s: u8 = 1\n    else:\n        s: u8 = 1",
          "t: u8 = (y + y) * 0\n    s: u8 = t + 1"]


@pytest.mark.parametrize("unread", UNREAD)
def test_what_nothing_reads_is_not_checked_even_where_a_fold_or_merge_dropped_it(
        tmp_path, capsys, unread):
    """LANGUAGE.md: a computation nothing reads is not computed, so neither warned of nor
    checked. An operand a fold dropped, or a branch a merge replaced, was checked whether or
    not anything read the fold or the merge: 't: u8 = (y + y) * 0' with t never read
    withheld every result for y = 200."""
    p = tmp_path / "u.yao"
    p.write_text("party a, b\ndef main(x: i8 @a, y: u8 @b, z: u8 @b, c: bool @b) -> "
                 f"(r: i8 @both):\n    {unread}\n    return x\n")
    for c in ("0", "1"):
        assert main(["eval", str(p), "--checked", "--json", "--input", "x=-1", "--input",
                     "y=200", "--input", "z=1", "--input", f"c={c}"]) == 0, unread
        got = capsys.readouterr()
        assert json.loads(got.out)["outputs"] == {"r": -1, OVERFLOW_PORT: False}
        assert "warning" not in got.err, got.err


@pytest.mark.parametrize("read", ["t: u8 = (y + y) * 0\n    return x + i8(t)",
                                  "t: u8 = (y + y) * 0\n    return x >> t",
                                  "t: u8 = (y + y) * 0\n    return x * i8(t)",
                                  "t: u8 = z if c else y + y\n    return i8(t)",
                                  "if y + y > 3:\n        s: i8 = 1\n    else:\n"
                                  "        s: i8 = 1\n    return s",
                                  # the if assigns t the value it had: t still reads it
                                  "t: u8 = z\n    if y + y >= 150:\n        t = z\n"
                                  "    else:\n        t = z\n    return i8(t)",
                                  "t: u8 = z\n    if y + y >= 150:\n        t = z\n"
                                  "    return i8(t)",
                                  # a second multiplexer on the condition drops the first's
                                  # other branch: it was computed as written
                                  "v: u8 = z if c else y + y\n    if c:\n"
                                  "        return i8(v)\n    return x"])
def test_what_an_output_reads_through_a_fold_or_merge_is_still_checked(tmp_path, capsys, read):
    """The same folds and merges where an output reads their result (through a further
    fold, a shift amount read when compiling, a multiplexer, an if's condition)."""
    p = tmp_path / "r.yao"
    p.write_text("party a, b\ndef main(x: i8 @a, y: u8 @b, z: u8 @b, c: bool @b) -> "
                 f"(r: i8 @both):\n    {read}\n")
    assert main(["eval", str(p), "--checked", "--input", "x=-1", "--input", "y=200",
                 "--input", "z=1", "--input", "c=0"]) == EXIT_OVERFLOW, read
    capsys.readouterr()
    assert main(["eval", str(p), "--checked", "--json", "--input", "x=-1", "--input", "y=20",
                 "--input", "z=1", "--input", "c=0"]) == 0
    assert json.loads(capsys.readouterr().out)["outputs"][OVERFLOW_PORT] is False


@pytest.mark.parametrize("t, div", [("u32", "0"), ("u8", "((y % 1) | 0)"), ("i16", "0"),
                                    ("u16", "z")])
def test_a_quotient_by_zero_is_never_flagged(tmp_path, capsys, t, div):
    """x / 0 is a documented value (all ones unsigned): an unsigned quotient by the constant
    0 set the bit on every input, so its results were always withheld."""
    p = tmp_path / "q.yao"
    p.write_text(f"party a, b\ndef main(y: {t} @a, z: {t} @b) -> (r: {t} @b):\n"
                 f"    return (y / {div}) ^ z\n")
    assert main(["eval", str(p), "--checked", "--json", "--input", "y=5",
                 "--input", "z=0"]) == 0
    out = json.loads(capsys.readouterr().out)["outputs"]
    assert out[OVERFLOW_PORT] is False
    assert out["r"] == (-1 if t.startswith("i") else (1 << int(t[1:])) - 1)


BRANCHES = {
    "if": "    s: u8 = x\n    if c:\n        s = s + y\n    return s\n",
    "if-else": "    s: u8 = x\n    if c:\n        s = s + y\n    else:\n        s = s + 1\n"
               "    return s\n",
    "differences": "    s: u8 = x\n    if c:\n        s = s - y\n    else:\n        s = s - 1\n"
                   "    return s\n",
    "ternary": "    return x + y if c else x\n",
    "absolute difference": "    return y - x if x < y else x - y\n",
}


@pytest.mark.parametrize("name", list(BRANCHES))
def test_the_branch_not_taken_is_checked_where_the_branches_share_a_term(tmp_path, capsys,
                                                                          name):
    """c ? x + d : x is compiled x + (c ? d : 0), and c ? p + d : p + e as p + (c ? d : e):
    where c was false the addition made added 0, so the branch's own x + d, which passed
    u8, was checked nowhere and the results were printed with the bit clear."""
    p = tmp_path / "b.yao"
    p.write_text("party a, b\ndef main(x: u8 @a, y: u8 @b, c: bool @a) -> (r: u8 @b):\n" +
                 BRANCHES[name])
    x, y = (5, 10) if name in ("differences", "absolute difference") else (200, 100)
    assert main(["eval", str(p), "--checked", "--input", f"x={x}", "--input", f"y={y}",
                 "--input", "c=false"]) == EXIT_OVERFLOW
    capsys.readouterr()
    ok = ("x=20", "y=10") if name in ("differences", "absolute difference") else ("x=20",
                                                                                  "y=100")
    if name == "absolute difference":   # one difference wraps whichever is larger
        return
    assert main(["eval", str(p), "--checked", "--json", "--input", ok[0], "--input", ok[1],
                 "--input", "c=false"]) == 0
    assert json.loads(capsys.readouterr().out)["outputs"][OVERFLOW_PORT] is False


def test_a_program_without_warnings_gets_no_extra_gates(tmp_path):
    # counts under secret ifs: the checked circuit is the plain one (its rewrites are kept)
    src = (ROOT / "examples" / "count_above.yao").read_text()
    plain = compile_source(src, "c.yao", {"N": "16"})
    checked = compile_source(src, "c.yao", {"N": "16"}, checked=True)
    assert not checked.warnings
    assert checked.count(Op.AND) == plain.count(Op.AND)


@pytest.mark.parametrize("use", ["x / (A + 10)", "x % (A + 10)", "x << (A + 10)",
                                 "x >> (A + 10)", "rotl(x, A + 10)", "v[A + 10]",
                                 "x + v[A + 12] if A + 10 > 5 else x",
                                 "x * u8((A + 10) == 4)"])
def test_a_wrapped_constant_read_as_an_amount_or_index_is_flagged(tmp_path, capsys, use):
    """A + 10 wraps to 4 in u8: as a divisor (a shift once it is a power of two), a shift or
    rotation amount, an index or a condition, the constant was gone and so was its wrap:
    no warning, --strict accepted it, and checked mode printed the result."""
    p = tmp_path / "w.yao"
    p.write_text("party a, b\nconst A: u8 = 250\n"
                 "def main(x: u8 @a, v: u8[8] @b) -> (r: u8 @both):\n"
                 f"    return {use}\n")
    args = ["--input", "x=7", "--input", "v=[1,2,3,4,5,6,7,8]"]
    assert main(["eval", str(p), "--checked"] + args) == EXIT_OVERFLOW
    assert "'+' on u8 is 260 (constants, computed when compiling)" in capsys.readouterr().err
    assert main(["eval", str(p), "--strict"] + args) == 2
    capsys.readouterr()


@pytest.mark.parametrize("src, where", [
    ("party a, b\ndef main(x: u8 @a) -> (r: u8 @both):\n    return (x - x) / 0\n", "3:20"),
    ("from stats import variance\nparty a, b\n"
     "def main(x: i8[1] @a) -> (r: fix56_16 @both):\n    return variance(x)\n", "stats.yao"),
])
def test_a_folded_division_by_zero_is_warned_of(tmp_path, capsys, src, where):
    """(x - x) / 0 folds whole when compiling: the division by the constant 0 was warned of
    only where a node of the circuit divides (so the variance of one value said nothing)."""
    p = tmp_path / "z.yao"
    p.write_text(src)
    assert main(["eval", str(p), "--input", "x=[5]" if "variance" in src else "x=5"]) == 0
    err = capsys.readouterr().err
    assert "divides by the constant 0" in err and where in err


def test_a_condition_is_checked_whatever_its_branches_assign(tmp_path, capsys):
    p = tmp_path / "c.yao"
    p.write_text("party a, b\ndef main(x: u8 @a, y: u8 @b) -> (r: u8 @both):\n"
                 "    s: u8 = x\n    if x + y > 10:\n        s = 5\n    else:\n        s = 5\n"
                 "    return select(x + y > 20, s, s)\n")
    assert main(["eval", str(p), "--checked", "--input", "x=200", "--input", "y=100"]) == \
        EXIT_OVERFLOW
    assert "'+' on u8 may reach 510" in capsys.readouterr().err


@pytest.mark.parametrize("ret, wraps", [("x & y", False), ("(x & y) + t", True)])
def test_a_wrapped_constant_fold_flags_only_what_reads_it(tmp_path, capsys, ret, wraps):
    """A wrapped fold (A + 100 is 44 in u8) is reported where the outputs read it, not where
    they read the same value written elsewhere (y = 44): constants are shared nodes, so the
    wrap was carried to every use of 44 and results that never read t were withheld."""
    p = tmp_path / "w.yao"
    p.write_text("party a, b\nconst A: u8 = 200\ndef main(x: u8 @a) -> (r: u8 @both):\n"
                 f"    t = A + u8(100)\n    y: u8 = 44\n    return {ret}\n")
    got = main(["eval", str(p), "--checked", "--json", "--input", "x=255"])
    cap = capsys.readouterr()
    assert (got == EXIT_OVERFLOW) == wraps
    assert ("'+' on u8 is 300" in cap.err) == wraps
    if not wraps:
        assert json.loads(cap.out)["outputs"] == {"r": 44, OVERFLOW_PORT: False}


CASTS = [("i16", "u16"), ("u16", "i16"), ("u32", "i16"), ("i8", "u32"), ("u8", "i8"),
         ("i16", "u8"), ("fix16_8", "u32"), ("fix16_8", "u8"), ("u8", "i16"), ("i8", "i16")]


def _fits(value, t: str) -> bool:
    bits = int(t[1:])
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if t[0] == "i" else (0, (1 << bits) - 1)
    return lo <= value <= hi


@pytest.mark.parametrize("src,dst", CASTS)
def test_a_cast_that_changes_signedness_is_checked(src, dst):
    # a negative value cast to an unsigned type (and a large unsigned one to a signed type)
    # round-trips unchanged, so it is also checked by its sign
    c = compile_source(f"party a, b\ndef main(x: {src} @a) -> (r: {dst} @b):\n"
                       f"    return {dst}(x)\n", "c.yao", checked=True)
    if src.startswith("fix"):
        values = [-128.0, -0.5, -0.00390625, 0.0, 0.5, 3.75, 127.99609375]
    else:
        bits = int(src[1:])
        values = [-(1 << (bits - 1)), -1, 0, 1, 127, 128, 255, (1 << (bits - 1)) - 1] \
            if src[0] == "i" else [0, 1, 127, 128, 255, 256, (1 << (bits - 1)), (1 << bits) - 1]
        values = [v for v in values if _fits(v, src)]
    for v in values:
        exact = int(v // 1)     # the cast of fixed point to an integer floors
        assert evaluate_one(c, x=v)[OVERFLOW_PORT] == (not _fits(exact, dst)), (src, dst, v)


@pytest.mark.parametrize("prog,inputs,wraps", [
    ("x: u256 @a, y: u256 @b) -> (r: u256 @b):\n    return x + y", dict(x=2**256 - 1, y=1), True),
    ("x: u256 @a, y: u256 @b) -> (r: u256 @b):\n    return x + y", dict(x=2**255, y=2**254), False),
    ("x: u130 @a, y: u130 @b) -> (r: u130 @b):\n    return x * y", dict(x=2**68, y=2**68), True),
    ("x: u130 @a, y: u130 @b) -> (r: u130 @b):\n    return x * y", dict(x=2**64, y=2**65), False),
    ("x: i256 @a, y: i256 @b) -> (r: i256 @b):\n    return -x", dict(x=-2**255, y=0), True),
    ("x: fix200_100 @a, y: fix200_100 @b) -> (r: fix200_100 @b):\n    return x * y",
     dict(x=2.0**50, y=2.0**50), True),
    ("x: fix200_100 @a, y: fix200_100 @b) -> (r: fix200_100 @b):\n    return x * y",
     dict(x=1.5, y=-2.25), False),
    ("x: fix200_100 @a, y: fix200_100 @b) -> (r: fix200_100 @b):\n    return x / y",
     dict(x=2.0**90, y=2.0**-90), True),
])
def test_operations_wider_than_128_bits_are_checked(prog, inputs, wraps):
    # the exact result of such an operation needs more than 256 bits
    c = compile_source("party a, b\ndef main(" + prog + "\n", "w.yao", checked=True)
    assert evaluate_one(c, **inputs)[OVERFLOW_PORT] == wraps


def test_repeated_folds_of_the_same_anchored_constant_stay_linear():
    # a secret-index write of a constant array, repeated, folds into the median's constants
    # again and again: each fold doubled the entries it carried (four writes: minutes)
    from yaogc.compiler import compile_source
    src = ("party a, b\nfrom stats import median\ndef main(s: u3 @a) -> i16 @both:\n"
           "    w: i16[8] = [i16(32767) for i in range(8)]\n    for i in range(8):\n"
           "        w[s] = i16(u16(w[0]))\n    return median(w)\n")
    from yaogc.compiler import interpret
    want = interpret(src, {"s": 3})
    for checked in (False, True):
        c = compile_source(src, "m.yao", checked=checked)
        got = evaluate(c, [{"s": 3}])[0]
        assert {k: got[k] for k in want} == want == {c.outputs[0].name: 32767}
