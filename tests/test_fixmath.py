"""The math builtins: circuits against their integer model (any width), accuracy against
``math`` (every fix16_8 input, a dense sweep of fix32_16), and the language and CLI around them."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from yaogc.circuits import fixmath
from yaogc.compiler import CompileError, compile_source, interpret
from yaogc.runtime.cli import main

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import mathfuncs  # noqa: E402

# the bounds LANGUAGE.md states, in units of 2^-F (exp: half a unit plus a relative error)
BOUND_ULP = {"sqrt": 0.5, "log": 0.53, "sigmoid": 0.52, "reciprocal": 0.5}
BOUND_REL_EXP = {16: 2 ** -13, 32: 2 ** -21}


def _within_bounds(r: dict, width: int) -> None:
    if r["fn"] == "exp":
        assert r["max_rel_err"] <= BOUND_REL_EXP[width], r
    else:
        assert r["max_err_ulp"] <= BOUND_ULP[r["fn"]] + 1e-9, r


@pytest.mark.parametrize("fn", sorted(BOUND_ULP) + ["exp"])
def test_every_fix16_8_input_is_within_the_documented_error(fn):
    r = mathfuncs.measure(fn, 16, 8)
    assert r["inputs"] == 65536
    _within_bounds(r, 16)


@pytest.mark.parametrize("fn", sorted(BOUND_ULP) + ["exp"])
def test_fix32_16_dense_sweep_is_within_the_documented_error(fn):
    r = mathfuncs.measure(fn, 32, 16, quick=True)
    _within_bounds(r, 32)
    if fn == "sigmoid":
        assert r["max_err_ulp"] * 2 ** -16 < 2 ** -10


@pytest.mark.parametrize("t", ["u16", "i16", "u32", "u64"])
def test_isqrt_is_exact(t):
    assert mathfuncs.measure_isqrt(t, quick=True)["exact"]


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(fixmath.FUNCTIONS), st.integers(2, 40), st.data())
def test_circuit_equals_the_integer_model_at_any_width(fn, w, data):
    if fn == "isqrt":
        signed = data.draw(st.booleans())
        tname, frac = f"{'i' if signed else 'u'}{w}", None
    else:
        frac = data.draw(st.integers(0, w - 1))
        tname, signed = f"fix{w}_{frac}", True
    c = compile_source(mathfuncs.program(fn, tname))
    lo = -(1 << (w - 1)) if signed else 0
    hi = (1 << (w - 1)) if signed else (1 << w)
    raws = [lo, hi - 1, 0, 1, -1 if signed else 2] + data.draw(
        st.lists(st.integers(lo, hi - 1), min_size=20, max_size=20))
    raws = np.array([r for r in raws if lo <= r < hi], dtype=object)
    got = mathfuncs.run_raw(c, raws.astype(np.int64) if w < 63 else raws, w, signed)
    want = [fixmath.evaluate(fn, int(r), w, frac, signed) for r in raws]
    assert list(got) == want


def test_interpreter_and_circuit_agree_and_are_close():
    src = """party a, b
def main(x: fix32_16 @a, n: u32 @b) -> (r: fix32_16 @b, e: fix32_16 @b, l: fix32_16 @b,
        s: fix32_16 @b, q: fix32_16 @b, i: u32 @b):
    return sqrt(x), exp(x / 4), log(x), sigmoid(x), reciprocal(x), isqrt(n)
"""
    c = compile_source(src)
    from yaogc.circuits.evaluate import evaluate_one
    for x, n in [(2.0, 17), (0.5, 1 << 31), (7.25, 99), (30.0, 0)]:
        o = interpret(src, {"x": x, "n": n})
        assert o == evaluate_one(c, x=x, n=n)
        assert abs(o["r"] - math.sqrt(x)) < 2 ** -16
        assert abs(o["e"] - math.exp(x / 4)) < 1e-4 * math.exp(x / 4) + 2 ** -16
        assert abs(o["l"] - math.log(x)) < 2 ** -16
        assert abs(o["s"] - 1 / (1 + math.exp(-x))) < 2 ** -16
        assert abs(o["q"] - 1 / x) < 2 ** -16
        assert o["i"] == math.isqrt(n)


def test_edge_values_saturate_as_documented():
    src = """party a, b
def main(x: fix16_8 @a) -> (r: fix16_8 @b, e: fix16_8 @b, l: fix16_8 @b, q: fix16_8 @b):
    return sqrt(x), exp(x), log(x), reciprocal(x)
"""
    top, bottom = (2 ** 15 - 1) / 256, -128.0
    assert interpret(src, {"x": -4.0}) == {"r": 0.0, "e": 5 / 256, "l": bottom, "q": -0.25}
    o = interpret(src, {"x": 0.0})
    assert (o["r"], o["e"], o["l"], o["q"]) == (0.0, 1.0, bottom, top)
    o = interpret(src, {"x": 10.0})
    assert o["e"] == top
    assert interpret(src, {"x": -1 / 256})["q"] == bottom


def test_constants_and_user_functions():
    src = """party a, b
def sigmoid(z: fix16_8) -> fix16_8:
    return z
def main(x: fix16_8 @a) -> (s: fix16_8 @b, r: fix16_8 @b, i: u8 @b):
    return sigmoid(x), sqrt(fix16_8(2)) + x, isqrt(99)
"""
    assert interpret(src, {"x": 3.0}) == {"s": 3.0, "r": 4.4140625, "i": 9}


@pytest.mark.parametrize("body,message", [
    ("sqrt(n)", "sqrt() takes a fixed-point number, got u16; for integers use isqrt()"),
    ("isqrt(x)", "isqrt() takes an integer, got fix16_8; for fixed point use sqrt()"),
    ("exp(2)", "exp() of a constant needs a fixed-point type"),
    ("log(x, x)", "log() takes 1 argument, got 2"),
])
def test_errors_name_the_call(body, message):
    src = f"party a, b\ndef main(x: fix16_8 @a, n: u16 @b) -> u16 @b:\n    y = {body}\n    return n\n"
    with pytest.raises(CompileError) as ei:
        compile_source(src, "m.yao")
    assert str(ei.value).startswith("m.yao:3:9: " + message), str(ei.value)


def test_cli_eval_prints_the_builtins(tmp_path, capsys):
    p = tmp_path / "s.yao"
    p.write_text("party a, b\ndef main(x: fix32_16 @a) -> fix32_16 @b:\n    return sqrt(x)\n")
    assert main(["eval", str(p), "--input", "x=2"]) == 0
    assert "1.4142" in capsys.readouterr().out
    p.write_text("party a, b\ndef main(x: u8 @a) -> fix32_16 @b:\n    return sqrt(x)\n")
    assert main(["eval", str(p), "--input", "x=2"]) == 2
    assert "s.yao:3:12: sqrt() takes a fixed-point number" in capsys.readouterr().err


@pytest.mark.parametrize("fn,tname,ands", [
    ("sqrt", "fix16_8", 112), ("exp", "fix16_8", 926), ("log", "fix16_8", 1343),
    ("sigmoid", "fix16_8", 1080), ("reciprocal", "fix16_8", 380),
    ("sqrt", "fix32_16", 370), ("exp", "fix32_16", 3096), ("log", "fix32_16", 2969),
    ("sigmoid", "fix32_16", 3526), ("reciprocal", "fix32_16", 1276),
    ("isqrt", "u16", 43), ("isqrt", "i16", 49), ("isqrt", "u32", 151), ("isqrt", "u64", 559),
])
def test_quoted_and_costs_hold(fn, tname, ands):
    """LANGUAGE.md's table of AND gates (an optimization may lower them, never raise them)."""
    assert compile_source(mathfuncs.program(fn, tname)).count(1) <= ands


def test_isqrt_of_the_narrowest_types():
    from yaogc.circuits.evaluate import evaluate_one as ev
    from yaogc.compiler import compile_source as cs
    for t, values in (("i1", (0, -1)), ("u1", (0, 1)), ("i2", (-2, -1, 0, 1))):
        c = cs(f"party a, b\ndef main(x: {t} @a) -> (r: {t} @b):\n    return isqrt(x)\n")
        for v in values:
            assert ev(c, x=v)["r"] == (math.isqrt(v) if v >= 0 else 0), (t, v)


def test_math_functions_name_the_most_fraction_bits_they_take():
    # fix200_199 was an internal error: no polynomial plan at that precision
    from yaogc.circuits import polyfit
    from yaogc.circuits.fixmath import GUARD, max_frac
    from yaogc.compiler import CompileError, compile_source
    for fn, poly in (("exp", "exp2"), ("sigmoid", "exp2"), ("log", "log2_1p")):
        most = max_frac(fn)
        polyfit.plan(poly, most + GUARD, most + GUARD + 3)
        with pytest.raises(ValueError):
            polyfit.plan(poly, most + 1 + GUARD, most + 1 + GUARD + 3)
        with pytest.raises(CompileError) as e:
            compile_source(f"party a, b\ndef main(x: fix200_{most + 1} @a) -> fix200_{most + 1} "
                           f"@a:\n    return {fn}(x)\n", "p.yao")
        assert (e.value.line, e.value.col) == (3, 12)
        assert e.value.message.startswith(f"{fn}() takes at most {most} fraction bits, "
                                          f"fix200_{most + 1} has {most + 1}")
    assert max_frac("sqrt") is None and max_frac("reciprocal") is None
