"""The statistics library's sums of squares and products are exact (exact products, the
floored mean's remainder corrected), for unsigned, signed and fixed-point data, and the width
builtins it rests on (`signed`, `exact_mul`, `widen` of an integer with fraction bits)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.evaluate import evaluate_one
from yaogc.compiler import CompileError, compile_source



def test_signed_exact_mul_and_widen_of_integers():
    src = """party a, b
def main(x: u8 @a, y: u8 @b, p: fix16_8 @a, q: fix16_8 @b) -> (d: i9 @b, w: fix25_16 @b,
        e: fix32_16 @b, m: u16 @b, n: i2 @b):
    return signed(x) - signed(y), widen(x, 0, 16), exact_mul(p, q), exact_mul(x, y), signed(x < y)
"""
    c = compile_source(src)
    for x, y, p, q in [(3, 200, -1.5, 2.25), (255, 0, -128.0, -128.0), (7, 7, 127.99609375, -0.00390625)]:
        got = evaluate_one(c, x=x, y=y, p=p, q=q)
        assert got == {"d": x - y, "w": x, "e": p * q, "m": x * y, "n": int(x < y)}


def _stats_program(t: str, n: int) -> str:
    return f"""from stats import pvariance, variance, pcovariance, stdev, pearson, t_statistic
party a, b
def main(x: {t}[{n}] @a, y: {t}[{n}] @b) -> (pv: fix80_24 @b, v: fix80_24 @b, pc: fix80_24 @b,
        sd: fix64_24 @b, r: fix32_24 @b, t: fix48_24 @b):
    return (fix80_24(pvariance(x)), fix80_24(variance(x)), fix80_24(pcovariance(x, y)),
            fix64_24(stdev(y)), fix32_24(pearson(x, y)), fix48_24(t_statistic(x, y)))
"""


def _reference(x, y):
    n = len(x)
    mx, my = Fraction(sum(x), n), Fraction(sum(y), n)
    sxx = sum((v - mx) ** 2 for v in x)
    syy = sum((v - my) ** 2 for v in y)
    sxy = sum((p - mx) * (q - my) for p, q in zip(x, y))
    vx, vy = sxx / (n - 1), syy / (n - 1)
    return {"pv": sxx / n, "v": vx, "pc": sxy / n, "sd": math.sqrt(vy),
            "r": sxy / math.sqrt(sxx * syy) if sxx and syy else None,
            "t": (mx - my) / math.sqrt(vx / n + vy / n) if vx or vy else None}


@settings(max_examples=12, deadline=None)
@given(t=st.sampled_from(["u8", "i8", "u16", "fix16_8"]), n=st.integers(2, 5), data=st.data())
def test_variances_covariances_and_r_are_exact_for_any_data(t, n, data):
    """Unsigned data (whose deviations are negative too), integers (whose mean is floored) and
    fixed point: the sums are exact, so only the final rounding is left (at 16 more fraction
    bits than the data: 2^-16 for integers, 2^-24 for fix16_8)."""
    lo, hi, scale = {"u8": (0, 255, 1), "i8": (-128, 127, 1), "u16": (0, 65535, 1),
                     "fix16_8": (-32768, 32767, 256)}[t]
    raw = st.lists(st.integers(lo, hi), min_size=n, max_size=n)
    xs, ys = data.draw(raw), data.draw(raw)
    x = [Fraction(v, scale) for v in xs]
    y = [Fraction(v, scale) for v in ys]
    val = (lambda v: float(v)) if scale > 1 else (lambda v: int(v))
    got = evaluate_one(compile_source(_stats_program(t, n)), x=[val(v) for v in x],
                       y=[val(v) for v in y])
    want = _reference(x, y)
    for k in ("pv", "v", "pc"):
        assert abs(Fraction(got[k]) - want[k]) <= Fraction(1, 1 << (16 if scale == 1 else 24)), \
            (k, got[k], float(want[k]))
    assert abs(got["sd"] - want["sd"]) <= 2 ** -15 * max(1, want["sd"]), (got["sd"], want["sd"])
    if want["r"] is not None:
        assert abs(got["r"] - want["r"]) <= 2 ** -14, (got["r"], want["r"])
    if want["t"] is not None and abs(want["t"]) < 1e6:
        assert abs(got["t"] - want["t"]) <= 2 ** -14 * max(1, abs(want["t"])), (got["t"], want["t"])


_FLOORED = """from stats import mean, median, quantile
party a, b
def main(x: {t}[{n}] @a, y: {t}[{n}] @b) -> (m: {t} @b, md: {t} @b, q1: {t} @b, q3: {t} @b):
    v = concat(x, y)
    return mean(v), median(v), quantile(v, 1, 4), quantile(v, 3, 4)
"""


def _floored_reference(v):
    s, n = sorted(v), len(v)

    def q(num, den):
        pos = Fraction(num * (n - 1), den)
        i = math.floor(pos)
        val = s[i] + (s[i + 1] - s[i]) * (pos - i) if i + 1 < n else s[i]
        return math.floor(val)
    return {"m": math.floor(Fraction(sum(v), n)), "md": math.floor(Fraction(s[n // 2 - 1] + s[n // 2], 2)),
            "q1": q(1, 4), "q3": q(3, 4)}


@settings(max_examples=25, deadline=None)
@given(t=st.sampled_from(["i8", "i16", "u8", "fix16_0", "fix12_0"]), n=st.sampled_from([3, 4, 5]),
       data=st.data())
def test_means_medians_and_quantiles_of_integers_are_floored(t, n, data):
    """The documented rule (integer means and medians floored, results rounded toward
    negative infinity): a signed integer mean was truncated toward zero, -16502 for
    [-29408]*4 + [1344, 2850, -7415, -11165] (sum -132018 / 8 = -16502.25, floor -16503),
    as were the median of an even count and the interpolated quantiles."""
    lo, hi = {"i8": (-128, 127), "i16": (-32768, 32767), "u8": (0, 255),
              "fix16_0": (-32768, 32767), "fix12_0": (-2048, 2047)}[t]
    vals = st.lists(st.integers(lo, hi), min_size=n, max_size=n)
    x, y = data.draw(vals), data.draw(vals)
    got = evaluate_one(compile_source(_FLOORED.format(t=t, n=n)), x=x, y=y)
    assert got == _floored_reference(x + y)


def test_the_documented_signed_mean():
    src = _FLOORED.format(t="i16", n=4)
    got = evaluate_one(compile_source(src), x=[-29408] * 4, y=[1344, 2850, -7415, -11165])
    assert got == {"m": -16503, "md": -20287, "q1": -29408, "q3": -5226}
    # fixed point without fraction bits floors by its own '/' (taken for a signed integer
    # type, the mean of six values summing to -3 was the floor of (-3 - 5) / 6, -2)
    got = evaluate_one(compile_source(_FLOORED.format(t="fix16_0", n=3)), x=[-3, 0, 0],
                       y=[0, 0, 0])
    assert got["m"] == -1 and got["q1"] == 0
    # -3 and -4 in the middle: the median is -3.5, floored to -4 (truncated it was -3)
    got = evaluate_one(compile_source(_FLOORED.format(t="i8", n=2)), x=[-3, -4], y=[9, -9])
    assert got["md"] == -4 and got["m"] == -2     # sum -7 / 4 = -1.75


@pytest.mark.parametrize("t,x,y", [
    ("fix16_8", [100] * 7 + [100.00390625], [-100] * 8),
    ("fix16_8", [-128] * 7 + [-127.99609375], [127.99609375] * 8),
    ("i8", [127] * 7 + [126], [-128] * 8),
    ("u8", [0] * 7 + [1], [255] * 8),
])
def test_t_statistic_does_not_wrap_where_the_variances_are_tiny(t, x, y):
    # the standard error can be one unit of its last bit: t is then the difference of the
    # means times 2^(its fraction bits), which its type holds
    src = (f"from stats import t_statistic\nparty a, b\n"
           f"def main(x: {t}[8] @a, y: {t}[8] @b) -> (t: fix128_32 @b):\n"
           f"    return fix128_32(t_statistic(x, y))\n")
    c = compile_source(src)
    assert not c.warnings
    got = evaluate_one(c, x=x, y=y)["t"]
    want = _reference([Fraction(v) for v in x], [Fraction(v) for v in y])["t"]
    assert (got > 0) == (want > 0) and abs(got - float(want)) <= 1e-6 * abs(float(want)), (got, float(want))


def test_frac_bits_is_a_compile_time_constant():
    src = ("party a, b\n"
           "def main(x: fix16_8 @a, y: u8[3] @b, z: fix32_20[2] @a) -> (r: u8 @b, s: u8 @b, "
           "w: fix40_8 @b):\n"
           "    return u8(frac_bits(x) + frac_bits(y)), u8(frac_bits(z) + frac_bits(y[0] < 3)), "
           "widen(x, frac_bits(x) + 16)\n")
    assert evaluate_one(compile_source(src), x=-1.5, y=[1, 2, 3], z=[0.0, 0.0]) == \
        {"r": 8, "s": 20, "w": -1.5}
    with pytest.raises(CompileError, match="frac_bits.. takes a typed value"):
        compile_source("party a, b\ndef main(x: u8 @a) -> (r: u8 @b):\n    return frac_bits(3)\n")


@pytest.mark.parametrize("f", ["pearson", "covariance", "pcovariance"])
@pytest.mark.parametrize("nx,ny", [(2, 3), (3, 2)])
def test_paired_statistics_refuse_arrays_of_different_lengths(f, nx, ny):
    # pearson of u8[2] and u8[3] printed r = -2.63 (the extra y was summed, not paired)
    src = (f"from stats import {f}\nparty a, b\n"
           f"def main(x: u8[{nx}] @a, y: u8[{ny}] @b) -> (r: fix64_32 @b):\n"
           f"    return fix64_32({f}(x, y))\n")
    with pytest.raises(CompileError) as e:
        compile_source(src, "p.yao")
    # the first line says what is wrong: the lengths, not an index
    first = str(e.value).splitlines()[0]
    assert first.endswith("x and y must have the same length (in a call at p.yao:4:21)"), first
