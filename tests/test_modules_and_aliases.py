"""Type aliases and -D types, bitcast, concat, generic ('any') functions, imports across files,
and the statistics library (compiler/lib/stats.yao) against plain-Python reference code."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from yaogc.circuits.evaluate import evaluate_one
from yaogc.compiler import CompileError, compile_file, compile_source, interpret
from yaogc.compiler.pipeline import compile_cached
from yaogc.runtime.cli import main


def _err(src: str, defines=None, filename="p.yao") -> str:
    with pytest.raises(CompileError) as ei:
        compile_source(src, filename, defines)
    return str(ei.value)


ALIAS = """type Fix = fix16_8
type Row = Fix[2]
party a, b
def main(x: Row @a) -> (s: Fix @b, c: i8 @b):
    return x[0] + x[1], i8(Fix(3))
"""


def test_type_alias_and_its_command_line_override():
    assert interpret(ALIAS, {"x": [1.5, 2.25]}) == {"s": 3.75, "c": 3}
    c = compile_source(ALIAS, "p.yao", {"Fix": "fix24_12"})
    assert c.input("x").width == 48
    assert evaluate_one(c, x=[1 / 4096, 1000.5]) == {"s": 1000.5 + 1 / 4096, "c": 3}


@pytest.mark.parametrize("defines,msg", [
    ({"Fix": "fix24"}, "-D:1:5: 'fix24' is not a type"),
    ({"Fix": "fix8_9"}, "-D:1:5: fixed-point fix8_9 needs"),
    ({"Fox": "u8"}, "-D:1:1: -D Fox: the program has no 'const Fox' (nor 'type Fox')"),
])
def test_bad_type_defines_are_named(defines, msg):
    assert _err(ALIAS, defines).startswith(msg)


def test_alias_errors_name_the_place():
    assert _err("type A = B\ntype B = A\nparty a\ndef main(x: A @a) -> A @a:\n    return x\n") \
        .startswith("p.yao:2:10: type 'A' is defined in terms of itself")
    assert _err("type u8 = u16\n").startswith("p.yao:1:6: 'u8' is reserved")
    assert _err("party a\ndef main(x: any @a) -> u8 @a:\n    return 1\n").startswith(
        "p.yao:2:13: 'any' is only for the parameters and result of a function")


def test_cli_define_sets_a_type(tmp_path, capsys):
    p = tmp_path / "fix.yao"
    p.write_text(ALIAS)
    assert main(["eval", str(p), "-D", "Fix=fix24_12", "--input", "x=[0.000244140625,1]",
                 "--json"]) == 0
    assert '"s": 1.000244140625' in capsys.readouterr().out


def test_bitcast_reinterprets_the_bits():
    src = """party a, b
def main(x: u8 @a, f: fix16_8 @a, i: i16 @b) -> (s: i8 @b, raw: i16 @b, back: fix16_8 @b,
        arr: i8[2] @b):
    return bitcast(x, i8), bitcast(f, i16), bitcast(i, fix16_8), bitcast([x, x], i8)
"""
    o = interpret(src, {"x": 200, "f": -1.5, "i": 384})
    assert o == {"s": -56, "raw": -384, "back": 1.5, "arr": [-56, -56]}
    assert evaluate_one(compile_source(src), x=200, f=-1.5, i=384) == o
    assert "bitcast() keeps the bits: u8 has 8, i16 has 16" in _err(
        "party a\ndef main(x: u8 @a) -> i16 @a:\n    return bitcast(x, i16)\n")


def test_concat_joins_arrays_and_plus_says_so():
    src = """party a, b
def main(x: u8[2] @a, y: u16[3] @b) -> (z: u16[5] @b, n: u8 @b):
    z = concat(x, y)
    return z, u8(len(z))
"""
    assert interpret(src, {"x": [1, 2], "y": [3, 4, 5]}) == {"z": [1, 2, 3, 4, 5], "n": 5}
    msg = _err("party a\ndef main(x: u8[2] @a, y: u8[3] @a) -> u8 @a:\n    z = x + y\n"
               "    return z[0]\n")
    assert "'+' on arrays of different lengths (3 and 2); to join arrays write concat(a, b)" in msg


def test_generic_functions_take_any_arguments():
    src = """party a, b
def twice(v: any) -> any:
    return v + v
def main(x: u8 @a, f: fix16_8 @b) -> (p: u8 @b, q: fix16_8 @b):
    return twice(x), twice(f)
"""
    assert interpret(src, {"x": 20, "f": 1.25}) == {"p": 40, "q": 2.5}


# --- imports ---------------------------------------------------------------------------------
def _write(d, name, text):
    p = d / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_import_from_the_programs_folder_and_a_package(tmp_path):
    _write(tmp_path, "helpers.yao", "const K = 3\ndef _scale(x: any) -> any:\n    return x * K\n"
           "def scaled(x: any) -> any:\n    return _scale(x)\n")
    _write(tmp_path, "pkg/more.yao", "def inc(x: u8) -> u8:\n    return x + 1\n")
    prog = _write(tmp_path, "p.yao", "from helpers import scaled\nfrom pkg.more import inc\n"
                  "party a\ndef _scale(x: u8) -> u8:\n    return x\n"
                  "def main(x: u8 @a) -> u8 @a:\n    return inc(scaled(x)) + _scale(x)\n")
    assert interpret(prog, {"x": 5}) == {"result": 21}
    assert evaluate_one(compile_file(prog), x=5) == {"result": 21}


def test_modules_that_import_modules(tmp_path):
    # a module's own imports: their declarations enter once, renamed once, whichever
    # module imports them first (by whichever name); the module's local names stay its own
    # (inner's local g is not the g the program imports from util)
    _write(tmp_path, "pkg/inner.yao", "const K = 3\ndef h(x: u8) -> u8:\n    g: u8 = x + K\n"
           "    return g\n")
    _write(tmp_path, "pkg/util.yao", "from inner import h, K\ndef g(x: u8) -> u8:\n"
           "    t: u8 = h(x) * 2\n    return t + K\n")
    body = "party a, b\ndef main(x: u8 @a, y: u8 @b) -> (z: u8 @both):\n"
    for head, ret, want in (("from pkg.util import g\n", "g(x)", 2 * (12 + 3) + 3),
                            ("from pkg.inner import h\nfrom pkg.util import g\n", "g(x) + h(y)",
                             33 + 10 + 3),
                            ("from pkg.util import g\nfrom pkg.inner import h\n", "h(y) + g(x)",
                             33 + 10 + 3)):
        prog = _write(tmp_path, "p.yao", head + body + f"    return {ret}\n")
        assert interpret(prog, {"x": 12, "y": 10}) == {"z": want}
        assert evaluate_one(compile_file(prog), x=12, y=10) == {"z": want}
    # an error in the inner module's import names the module that has it
    _write(tmp_path, "pkg/util.yao", "from inner import h, L\ndef g(x: u8) -> u8:\n"
           "    return h(x)\n")
    prog = _write(tmp_path, "p.yao", "from pkg.util import g\n" + body + "    return g(x)\n")
    with pytest.raises(CompileError) as ei:
        compile_file(prog)
    assert str(ei.value).startswith(f"{tmp_path / 'pkg' / 'util.yao'}:1:22: module 'inner' "
                                    "has no 'L' (it has: K, h)")


def test_an_error_inside_a_library_function_names_the_programs_call(tmp_path):
    # quantile(x, 2, 1) asks for the 2nd of 1 parts: the library's own check fails, and the
    # program's line that led there is named too
    prog = _write(tmp_path, "q.yao", "party a, b\nfrom stats import quantile\n"
                  "def main(x: i16[5] @a) -> i16 @b:\n    return quantile(x, 2, 1)\n")
    with pytest.raises(CompileError) as ei:
        compile_file(prog)
    first = str(ei.value).splitlines()[0]
    assert "stats.yao:" in first and "needs 0 <= num <= den" in first, first
    assert first.endswith(f"(in a call at {prog}:4:12)"), first


def test_a_module_does_not_see_the_names_of_the_program_importing_it(tmp_path):
    # a module's code reaches its own declarations and its own imports; a name only the
    # importing program declares is not defined there (a const, a function, a type)
    body = ("party a, b\nconst N = 5\ntype Fix = fix16_8\ndef helper(x: u8) -> u8:\n"
            "    return x\ndef main(x: u8 @a, y: u8 @b) -> (z: u8 @both):\n    return h(x)\n")
    for code, col, msg in (("    return x + N\n", 16, "name 'N' is not defined"),
                           ("    for i in range(N):\n        x += 1\n    return x\n", 20,
                            "name 'N' is not defined"),
                           ("    return helper(x)\n", 12, "unknown function 'helper'"),
                           ("    y: Fix = 1\n    return x\n", 8, "unknown type 'Fix'")):
        m = _write(tmp_path, "m.yao", "def h(x: u8) -> u8:\n" + code)
        prog = _write(tmp_path, "p.yao", "from m import h\n" + body)
        with pytest.raises(CompileError) as ei:
            compile_file(prog)
        assert str(ei.value).startswith(f"{m}:2:{col}: {msg}"), str(ei.value)


def test_a_modules_locals_shadow_its_consts_as_a_programs_do(tmp_path):
    # a parameter or loop variable named like the module's const is that local, in a module
    # as in a program (the module's const read there was the const: 3 instead of 100)
    mod = ("const K = 3\ndef h(K: u8) -> u8:\n    return K\n"
           "def s(x: u8) -> u8:\n    t: u8 = 0\n    for K in range(4):\n        t += x + K\n"
           "    return t + K\n")
    main_ = "def main(x: u8 @a, y: u8 @b) -> (z: u8 @both, w: u8 @both):\n    return h(x), s(y)\n"
    _write(tmp_path, "m.yao", mod)
    prog = _write(tmp_path, "p.yao", "from m import h, s\nparty a, b\n" + main_)
    alone = _write(tmp_path, "q.yao", "party a, b\n" + mod + main_)
    want = {"z": 100, "w": (4 * 10 + 6 + 3) % 256}
    for p in (prog, alone):
        assert evaluate_one(compile_file(p), x=100, y=10) == want


def test_a_module_assigning_its_own_const_or_function_is_refused_as_a_program_is(tmp_path):
    # the same code is refused in a program and in a module, at the same line and column
    # (in a module it made a local of the const's name: h(100) was 104, not an error)
    main_ = "def main(x: u8 @a) -> (z: u8 @both):\n    return h(x)\n"
    for code, col, msg in (("    K = 4\n    return x + K\n", 5, "'K' is a const and cannot be "
                            "assigned"),
                           ("    K += 1\n    return x\n", 5, "'K' is a const and cannot be "
                            "assigned"),
                           ("    K: u8 = 4\n    return x\n", 5, "'K' is a const and cannot be "
                            "assigned"),
                           ("    g = x\n    return x\n", 5, "'g' is a function and cannot be "
                            "assigned")):
        mod = "const K = 3\ndef g(x: u8) -> u8:\n    return x\ndef h(x: u8) -> u8:\n" + code
        m = _write(tmp_path, "m.yao", mod)
        prog = _write(tmp_path, "p.yao", "from m import h\nparty a, b\n" + main_)
        alone = _write(tmp_path, "q.yao", "party a, b\n" + mod + main_)
        for p, line in ((m, 5), (alone, 6)):
            with pytest.raises(CompileError) as ei:
                compile_file(prog if p == m else alone)
            assert str(ei.value).startswith(f"{p}:{line}:{col}: {msg}"), str(ei.value)
    # a name the importing program declares is still a plain local in the module
    _write(tmp_path, "m.yao", "def h(x: u8) -> u8:\n    N = x + 1\n    return N\n")
    prog = _write(tmp_path, "p.yao", "from m import h\nparty a, b\nconst N = 5\n" + main_)
    assert evaluate_one(compile_file(prog), x=100) == {"z": 101}


def test_import_errors_name_file_line_and_column(tmp_path):
    _write(tmp_path, "bad.yao", "def f(x: u8) -> u8:\n    return x + y\n")
    _write(tmp_path, "loop1.yao", "from loop2 import g\ndef f(x: u8) -> u8:\n    return x\n")
    _write(tmp_path, "loop2.yao", "from loop1 import f\ndef g(x: u8) -> u8:\n    return x\n")
    body = "party a\ndef main(x: u8 @a) -> u8 @a:\n    return f(x)\n"
    p = _write(tmp_path, "p1.yao", "from nowhere import f\n" + body)
    with pytest.raises(CompileError) as ei:
        compile_file(p)
    assert str(ei.value).startswith(f"{p}:1:1: no module 'nowhere' (looked for nowhere.yao in:")
    p = _write(tmp_path, "p2.yao", "from bad import g\n" + body)
    with pytest.raises(CompileError) as ei:
        compile_file(p)
    assert str(ei.value).startswith(f"{p}:1:17: module 'bad' has no 'g' (it has: f)")
    p = _write(tmp_path, "p3.yao", "from bad import f\n" + body)
    with pytest.raises(CompileError) as ei:
        compile_file(p)
    assert str(ei.value).startswith(f"{tmp_path / 'bad.yao'}:2:16: ")
    assert "return x + y" in str(ei.value)
    p = _write(tmp_path, "p4.yao", "from loop1 import f\n" + body)
    with pytest.raises(CompileError) as ei:
        compile_file(p)
    assert "import cycle" in str(ei.value)
    p = _write(tmp_path, "p5.yao", "from bad import f\nparty a\ndef f(x: u8) -> u8:\n"
               "    return x\ndef main(x: u8 @a) -> u8 @a:\n    return f(x)\n")
    with pytest.raises(CompileError) as ei:
        compile_file(p)
    assert "'f' is imported from bad and also defined in this program (line 3)" in str(ei.value)
    assert str(ei.value).startswith(f"{p}:1:17: ")      # at the from line, as documented


def test_cli_reports_an_import_error_with_status_2(tmp_path, capsys):
    p = _write(tmp_path, "p.yao", "from stats import meen\nparty a\n"
               "def main(x: u8[2] @a) -> u8 @a:\n    return x[0]\n")
    assert main(["compile", str(p)]) == 2
    err = capsys.readouterr().err
    assert f"{p}:1:19: module 'stats' has no 'meen' (it has: " in err and "mean" in err


def test_search_path_env_and_cache_follow_the_module(tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    _write(lib, "k.yao", "def k(x: u8) -> u8:\n    return x + 1\n")
    p = _write(tmp_path / "prog", "p.yao", "from k import k\nparty a\n"
               "def main(x: u8 @a) -> u8 @a:\n    return k(x)\n")
    monkeypatch.setenv("YAOGC_PATH", str(lib))
    c, info = compile_cached(p)
    assert evaluate_one(c, x=1) == {"result": 2}
    _write(lib, "k.yao", "def k(x: u8) -> u8:\n    return x + 2\n")
    c, info = compile_cached(p)
    assert not info["cached"] and evaluate_one(c, x=1) == {"result": 3}


# --- the statistics library ------------------------------------------------------------------
STATS = """from stats import total, mean, variance, pvariance, stdev, pstdev, covariance, pcovariance
from stats import pearson, argmax, argmin, median, quantile, histogram, count_above, count_between
from stats import chi_square_2x2, t_statistic
party north, south
const N = 5
const M = 4
def main(a: fix32_16[N] @north, b: fix32_16[M] @south, c: u16[4] @north,
         e: fix32_16[4] @south) -> (
        s: fix48_16 @both, m: fix32_16 @both, v: fix64_16 @both, pv: fix64_16 @both,
        sd: fix48_16 @both, psd: fix48_16 @both, cov: fix64_16 @both, pcov: fix64_16 @both,
        r: fix32_24 @both, amax: u32 @both, amin: u32 @both, med: fix32_16 @both,
        q1: fix32_16 @both, h: u32[3] @both, above: u8 @both, between: u8 @both,
        chi: fix64_32 @both, t: fix64_32 @both):
    z = concat(a, b)
    bb = concat(b, [b[0]])
    return (fix48_16(total(z)), mean(z), fix64_16(variance(z)), fix64_16(pvariance(z)),
            fix48_16(stdev(z)), fix48_16(pstdev(z)), fix64_16(covariance(a, bb)),
            fix64_16(pcovariance(a, bb)), fix32_24(pearson(a, bb)), argmax(z), argmin(z),
            median(z), quantile(z, 1, 4), histogram(z, e, 2), u8(count_above(z, 0.0)),
            u8(count_between(z, -1.0, 1.0)), fix64_32(chi_square_2x2(c[0], c[1], c[2], c[3])),
            fix64_32(t_statistic(a, b)))
"""


def _q(v: float) -> Fraction:
    return Fraction(round(Fraction(v) * 65536), 65536)


def _reference(a, b, c, e):
    """Plain-Python statistics (no numpy, no statistics module)."""
    z = a + b
    bb = b + [b[0]]

    def mean(x):
        return sum(x) / len(x)

    def ss(x, y):
        mx, my = mean(x), mean(y)
        return sum((p - mx) * (q - my) for p, q in zip(x, y))
    s = sorted(z)
    n = len(z)
    pos = Fraction(n - 1, 4)
    lo = int(pos)
    q1 = s[lo] + (s[lo + 1] - s[lo]) * (pos - lo) if lo + 1 < n else s[lo]
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    counts = [sum(e[i] <= v < e[i + 1] for v in z) for i in range(3)]
    ca, cb, cc, cd = c
    den = (ca + cb) * (cc + cd) * (ca + cc) * (cb + cd)
    chi = Fraction(sum(c) * (ca * cd - cb * cc) ** 2, den) if den else 0
    vx, vy = ss(a, a) / (len(a) - 1), ss(b, b) / (len(b) - 1)
    return {"s": sum(z), "m": mean(z), "v": ss(z, z) / (n - 1), "pv": ss(z, z) / n,
            "sd": math.sqrt(ss(z, z) / (n - 1)), "psd": math.sqrt(ss(z, z) / n),
            "cov": ss(a, bb) / (len(a) - 1), "pcov": ss(a, bb) / len(a),
            "r": ss(a, bb) / math.sqrt(ss(a, a) * ss(bb, bb)),
            "amax": z.index(max(z)), "amin": z.index(min(z)), "med": med, "q1": q1,
            "h": [x if x >= 2 else 0 for x in counts], "above": sum(v > 0 for v in z),
            "between": sum(-1 <= v < 1 for v in z), "chi": chi,
            "t": (mean(a) - mean(b)) / math.sqrt(vx / len(a) + vy / len(b))}


def test_statistics_library_matches_plain_python():
    c = compile_source(STATS, "stats_test.yao")
    rng = random.Random(13)
    for trial in range(4):
        a = [_q(rng.uniform(-50, 50)) for _ in range(5)]
        b = [_q(rng.uniform(-50, 50)) for _ in range(4)]
        cnt = [rng.randrange(0, 200) for _ in range(4)]
        e = [_q(x) for x in (-40.0, -5.0, 5.0, 40.0)]
        ins = {"a": a, "b": b, "c": cnt, "e": e}
        got = evaluate_one(c, **ins)
        assert got == interpret(STATS, ins)
        want = _reference(a, b, cnt, e)
        for k in ("amax", "amin", "h", "above", "between"):
            assert got[k] == want[k], k
        for k, tol in (("s", 0), ("m", 2 ** -16), ("med", 2 ** -16), ("q1", 2 ** -16),
                       ("v", 2 ** -15), ("pv", 2 ** -15), ("cov", 2 ** -15), ("pcov", 2 ** -15),
                       ("sd", 2 ** -14), ("psd", 2 ** -14), ("r", 2 ** -14), ("chi", 1e-6),
                       ("t", 1e-4)):
            assert abs(float(got[k]) - float(want[k])) <= tol + 1e-12, (k, got[k], want[k])


def test_wide_accumulators_do_not_wrap():
    """2,000 values near fix32_16's top: a fix32_16 sum would wrap, the library's does not."""
    src = """from stats import mean, total
party north, south
const N = 1000
def main(a: fix32_16[N] @north, b: fix32_16[N] @south) -> (m: fix32_16 @both, s: fix48_16 @both):
    z = concat(a, b)
    return mean(z), fix48_16(total(z))
"""
    a = [30000.5] * 1000
    b = [-10000.25] * 999 + [20000.0]
    o = interpret(src, {"a": a, "b": b})
    assert o["s"] == sum(a) + sum(b)
    assert o["m"] == math.floor((sum(a) + sum(b)) / 2000 * 65536) / 65536


@pytest.mark.parametrize("head", ["from \\\nlib1 import f\n", "\ufefffrom lib1 import f\n",
                                  "from\flib1 import f\n", "from sub . lib1 import f\n",
                                  "from lib1 \\\n    import f\n",
                                  "from lib1 \\  \n    import f\n",
                                  "from lib1 \\\t\f\r\n    import f\n",
                                  "CR:from lib1 \\ \n    import f\n"])
def test_the_cache_follows_a_module_however_its_import_is_spelled(tmp_path, head):
    # the cache key reads the imports without parsing: a form it missed kept a stale circuit
    where = tmp_path / "sub" if "sub" in head else tmp_path
    _write(where, "lib1.yao", "def f(x: u8) -> u8:\n    return x + 1\n")
    p = tmp_path / "p.yao"
    text = head.removeprefix("CR:") + "party a\ndef main(x: u8 @a) -> u8 @a:\n    return f(x)\n"
    if head.startswith("CR:"):      # every line ended by a lone CR
        text = text.replace("\n", "\r")
    p.write_bytes(text.encode("utf-8"))
    c, info = compile_cached(p)
    assert evaluate_one(c, x=1) == {"result": 2}
    _write(where, "lib1.yao", "def f(x: u8) -> u8:\n    return x + 100\n")
    c, info = compile_cached(p)
    assert not info["cached"] and evaluate_one(c, x=1) == {"result": 101}


@pytest.mark.parametrize("name,defn", [
    ("max", "def max(a: u8, b: u8) -> u8:\n    return a\n"),
    ("popcount", "def popcount(a: u8) -> u8:\n    return a\n"),
    ("u9", "type u9 = u8\n"), ("both", "const both = 3\n")])
def test_a_reserved_name_cannot_be_imported(tmp_path, capsys, name, defn):
    # the module may use it, but the program's calls went to the builtin, silently
    _write(tmp_path, "mylib.yao", defn)
    p = _write(tmp_path, "p.yao", f"from mylib import {name}\nparty a\n"
               "def main(x: u8 @a) -> u8 @a:\n    return x\n")
    assert main(["compile", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{p}:1:19: '{name}' is reserved (") and "cannot be imported" in err, err


def test_a_const_may_be_computed_from_an_imported_const(tmp_path, capsys):
    _write(tmp_path, "base.yao", "const M = 4\nconst K: u8 = 7\n")
    p = _write(tmp_path, "p.yao", "from base import M, K\nparty a\nconst N = M * 3\n"
               "const L: u16 = K + 1\ndef main(x: u8[N] @a) -> u16 @a:\n"
               "    return u16(x[N - 1]) + L\n")
    c = compile_source(p.read_text(), str(p))
    assert evaluate_one(c, x=list(range(1, 13))) == {"result": 20}
    q = _write(tmp_path, "q.yao", "from base import M\nparty a\nconst M = 3\n"
               "def main(x: u8 @a) -> u8 @a:\n    return x\n")
    assert main(["compile", str(q)]) == 2
    assert f"{q}:1:18: 'M' is imported from base and also defined in this program (line 3)" \
        in capsys.readouterr().err


def test_minus_d_of_an_imported_name_is_refused(tmp_path, capsys):
    # -D Fix=... changed the program's Fix but not the module's, which then disagreed
    _write(tmp_path, "tb.yao", "type Fix = fix16_8\nconst M = 4\ndef half(x: Fix) -> Fix:\n"
                               "    return x / 2\n")
    p = _write(tmp_path, "p.yao", "from tb import Fix, M, half\nparty a\n"
               "def main(x: Fix @a) -> Fix @a:\n    return half(x)\n")
    for d in ("Fix=fix24_12", "M=5"):
        assert main(["eval", str(p), "-D", d, "--input", "x=3"]) == 2
        name = d.split("=")[0]
        assert f"-D {name}: '{name}' is imported from tb" in capsys.readouterr().err


COUNTS = """from stats import count_below, count_equal, sorted_values
party north, south
def main(a: i16[5] @north, b: i16[3] @south, t: i16 @south, cs: u8[2] @north) -> (
        below: u8 @both, equal: u8 @both, s: i16[8] @both, cast: u8 @both,
        elem: u8 @both):
    z = concat(a, b)
    return (u8(count_below(z, t)), u8(count_equal(z, t)), sorted_values(z),
            like(a[0], cs[0]) + cs[0], like(b[1], cs))
"""


def test_counts_sorting_and_like_match_plain_python():
    """count_below and count_equal at and around the threshold (values equal to it are
    drawn often), sorted_values on repeated values, like() casting (and wrapping) to a
    scalar's type and to an array's element type."""
    c = compile_source(COUNTS, "counts.yao")
    rng = random.Random(29)
    for trial in range(40):
        t = rng.randint(-40, 40)
        pool = [t, t, t - 1, t + 1, -32768, 32767, rng.randint(-32768, 32767)]
        a = [rng.choice(pool) for _ in range(5)]
        b = [rng.choice(pool) for _ in range(3)]
        cs = [rng.randint(0, 255) for _ in range(2)]
        z = a + b
        want = {"below": sum(v < t for v in z), "equal": sum(v == t for v in z),
                "s": sorted(z), "cast": (a[0] % 256 + cs[0]) % 256, "elem": b[1] % 256}
        assert evaluate_one(c, a=a, b=b, t=t, cs=cs) == want, (a, b, t, cs)


@pytest.mark.parametrize("num, den", [(5, 4), (-1, 4), (1, 0)])
def test_quantile_outside_zero_to_one_is_named_at_the_call(num, den):
    # 5/4 read past the sorted values ("index 4 is out of range"), -1/4 said "-3 does not
    # fit in u25"
    src = ("from stats import quantile\nparty a, b\ndef main(x: u8[4] @a) -> (z: u8 @a):\n"
           f"    return quantile(x, {num}, {den})\n")
    with pytest.raises(CompileError) as e:
        compile_source(src, "q.yao")
    assert e.value.message == ("quantile(x, num, den) needs 0 <= num <= den "
                               "(in a call at q.yao:4:12)"), e.value.message


def test_a_module_s_aliases_are_checked_when_it_is_imported(tmp_path):
    # a module's bad alias passed unless a program used it, even when imported by name,
    # where a program's own unused alias (and a module's bad const) is an error
    _write(tmp_path, "brokenmod.yao", "type T = u300\ndef f(v: u8) -> u8:\n    return v\n")
    prog = _write(tmp_path, "p.yao", "from brokenmod import f\nparty a, b\n"
                  "def main(x: u8 @a) -> (r: u8 @a):\n    return f(x)\n")
    with pytest.raises(CompileError) as e:
        compile_file(prog)
    assert str(e.value).startswith(f"{tmp_path / 'brokenmod.yao'}:1:10: integer width 300 is "
                                   f"outside 1..256"), str(e.value)
