"""Fewer AND gates for the natural way of writing: merged multiplexers (an early return, ifs
on one condition), AND-aware Boolean rewriting (majority, choose, distributivity, cancelled
sums) and constant tables read by a secret index through their algebraic normal form. Each
is checked for its AND count and, on random inputs, for its values against plain Python."""

from __future__ import annotations

import contextlib
import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.builder import Builder
from yaogc.circuits.circuit import Op
from yaogc.circuits.evaluate import evaluate
from yaogc.circuits.lookup import lookup_const, lookup_cost
from yaogc.circuits.types import uint
from yaogc.compiler import compile_source
from yaogc.compiler import optimize as optimize_module

from test_compiler_helpers import interpret_without_rules

H = "party alice, bob\n"
M32 = (1 << 32) - 1


def ands(src: str) -> int:
    return compile_source(H + src).count(Op.AND)


def outputs(src: str, rows):
    return evaluate(compile_source(H + src), rows)


def rows32(n: int, names: str, seed: int):
    rng = random.Random(seed)
    edge = [0, 1, M32, 1 << 31, 12345]
    return [{k: rng.choice(edge) if rng.random() < 0.3 else rng.getrandbits(32) for k in names}
            for _ in range(n)]


@contextlib.contextmanager
def no_shared_terms():
    """The optimizer offering no shared AND terms to the rewrites (as it did before)."""
    saved = optimize_module._shared_and_terms
    optimize_module._shared_and_terms = lambda e, multi: set()
    try:
        yield
    finally:
        optimize_module._shared_and_terms = saved


CAS = ("def cas(a: u32, b: u32) -> (u32, u32):\n"
       "    if a > b:\n"
       "        return b, a\n"
       "    return a, b\n")


def test_an_early_return_costs_one_multiplexer():
    src = CAS + ("def main(x: u32 @alice, y: u32 @bob) -> (lo: u32 @both, hi: u32 @both):\n"
                 "    return cas(x, y)\n")
    assert ands(src) == 64          # a comparison (32) and min/max sharing it (32): was 160
    rows = rows32(20, "xy", 1)
    for r, o in zip(rows, outputs(src, rows)):
        assert (o["lo"], o["hi"]) == (min(r["x"], r["y"]), max(r["x"], r["y"]))


def test_several_early_returns_and_nested_ifs_on_one_condition():
    src = ("def pick(a: u32, b: u32, c: bool, d: bool) -> u32:\n"
           "    if c:\n"
           "        return a\n"
           "    if d:\n"
           "        return b\n"
           "    return a ^ b\n"
           "def main(x: u32 @alice, y: u32 @bob, c: bool @alice, d: bool @bob) -> (\n"
           "        r: u32 @both, s: u32 @both, t: u32 @both):\n"
           "    s = x\n"
           "    if c:\n"
           "        if c:\n"
           "            s = y\n"
           "    return pick(x, y, c, d), s, x if c else (x if c else y)\n")
    assert ands(src) <= 4 * 32       # s and t: one multiplexer each; pick: two (was 129)
    rng = random.Random(2)
    rows = [dict(r, c=rng.random() < 0.5, d=rng.random() < 0.5) for r in rows32(24, "xy", 2)]
    for r, o in zip(rows, outputs(src, rows)):
        x, y, c, d = r["x"], r["y"], r["c"], r["d"]
        assert o == {"r": x if c else y if d else x ^ y, "s": y if c else x, "t": x if c else y}


def test_majority_choose_and_distributivity_cost_one_and_per_bit():
    forms = {
        "(e & f) ^ (~e & g)": lambda e, f, g: (e & f) ^ (~e & g & M32),
        "(e & f) | (~e & g)": lambda e, f, g: (e & f) | (~e & g & M32),
        "(e & f) ^ (e & g) ^ (f & g)": lambda e, f, g: (e & f) ^ (e & g) ^ (f & g),
        "(e & f) | (f & g) | (g & e)": lambda e, f, g: (e & f) | (f & g) | (g & e),
        "(e & f) ^ (e & g)": lambda e, f, g: (e & f) ^ (e & g),
        "(f & e) ^ (g & e) ^ (e & e)": lambda e, f, g: (f & e) ^ (g & e) ^ e,
    }
    for text, fn in forms.items():
        src = (f"def main(e: u32 @alice, f: u32 @bob, g: u32 @bob) -> (r: u32 @both):\n"
               f"    return {text}\n")
        assert ands(src) == 32, text
        rows = rows32(16, "efg", 3)
        for r, o in zip(rows, outputs(src, rows)):
            assert o["r"] == fn(r["e"], r["f"], r["g"]), text
    src = ("def main(a: bool @alice, b: bool @bob, c: bool @bob) -> (r: bool @both):\n"
           "    return (a and b) or (a and c)\n")
    assert ands(src) == 2
    # a term used elsewhere is not factored: it would cost more, not less
    shared = ("def main(a: u8 @alice, b: u8 @bob, c: u8 @bob) -> (r: u8 @both, s: u8 @both):\n"
              "    ab = a & b\n    return ab ^ (a & c), ab\n")
    assert ands(shared) <= 16


def test_an_added_and_subtracted_term_cancels():
    src = ("def main(a: u32 @alice, b: u32 @bob, c: u32 @bob) -> (r: u32 @both, s: u32 @both):\n"
           "    t = a + b\n"
           "    return t - b, (a - c) + c\n")
    assert ands(src) == 0
    rows = rows32(8, "abc", 4)
    for r, o in zip(rows, outputs(src, rows)):
        assert o == {"r": r["a"], "s": r["a"]}


@settings(deadline=None, max_examples=25)
@given(n=st.integers(2, 300), w=st.sampled_from([1, 3, 8, 13]),
       it=st.sampled_from(["u8", "u3", "i6", "u10", "u2"]), seed=st.integers(0, 1 << 30))
def test_constant_tables_read_by_a_secret_index(n, w, it, seed):
    rng = random.Random(seed)
    signed = rng.random() < 0.3
    t = f"{'i' if signed else 'u'}{w}" if w > 1 else "u1"
    lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed and w > 1 else (0, (1 << w) - 1)
    table = [rng.randint(lo, hi) for _ in range(n)]
    src = (f"const T: {t}[{n}] = [{', '.join(map(str, table))}]\n"
           f"def main(x: {it} @alice) -> (r: {t} @both):\n    return T[x]\n")
    bits, sgn = int(it[1:]), it[0] == "i"
    xs = range(-(1 << (bits - 1)), 1 << (bits - 1)) if sgn else range(1 << bits)
    rows = [{"x": x} for x in xs]
    for r, o in zip(rows, outputs(src, rows)):
        assert o["r"] == (table[r["x"]] if 0 <= r["x"] < n else 0)


def test_a_byte_table_costs_82_ands():
    rng = random.Random(5)
    table = [rng.randrange(256) for _ in range(256)]
    assert lookup_cost(table, 8, 8) == (82, 2)
    b = Builder()
    x = b.input("a", "x", uint(8))
    b.output("a", "r", uint(8), lookup_const(b, x, table, 8))
    c = b.build()
    assert c.count(Op.AND) == 82 and c.and_depth <= 6
    assert [o["r"] for o in evaluate(c, [{"x": i} for i in range(256)])] == table
    src = (f"const T: u8[256] = [{', '.join(map(str, table))}]\n"
           "def main(x: u8 @alice, y: u16 @bob) -> (r: u8 @both, s: u8 @both):\n"
           "    return T[x], T[y]\n")
    # T[y] with a 16-bit index: the same lookup, zeroed unless the high byte is 0
    assert ands(src) <= 82 + 82 + 8 + 7


def _bool_exprs():
    leaf = st.sampled_from(["a", "b", "c", "d", "~a", "~b"])

    def extend(sub):
        return st.tuples(sub, st.sampled_from(["&", "^", "|"]), sub).map(
            lambda x: f"({x[0]} {x[1]} {x[2]})")
    return st.recursive(leaf, extend, max_leaves=9)


@settings(deadline=None, max_examples=40)
@given(text=_bool_exprs(), other=_bool_exprs(), seed=st.integers(0, 1 << 30))
def test_rewritten_xor_and_or_chains_keep_their_values(text, other, seed):
    """Random AND/XOR/OR forms (with shared subterms, so that some terms are used twice)
    against Python's bitwise operators on u8 values."""
    src = ("def main(a: u8 @alice, b: u8 @bob, c: u8 @alice, d: u8 @bob) -> (r: u8 @both,\n"
           "        s: u8 @both):\n"
           f"    return {text}, {other} ^ {text}\n")
    rng = random.Random(seed)
    rows = [{k: rng.randrange(256) for k in "abcd"} for _ in range(12)]
    for row, out in zip(rows, outputs(src, rows)):
        env = {k: v for k, v in row.items()}
        py = {"~a": "(255 ^ a)", "~b": "(255 ^ b)"}
        r = eval(_sub(text, py), {}, env) & 255
        s = (eval(_sub(other, py), {}, env) ^ r) & 255
        assert out == {"r": r, "s": s}, src


def test_and_terms_shared_by_chains_that_all_rewrite_them_are_factored():
    # consecutive SHA-256 rounds: round 2's majority (a2, a, b) and round 1's (a, b, c) share
    # a & b; both rewrite it away, so each costs one AND per bit
    src = ("def main(a: u32 @alice, b: u32 @bob, c: u32 @bob, p: u32 @alice) -> (r: u32 @both,\n"
           "        s: u32 @both):\n"
           "    a2 = ((a & b) ^ (a & c) ^ (b & c)) + p\n"
           "    return a2, (a2 & a) ^ (a2 & b) ^ (a & b)\n")
    assert ands(src) == 32 + 31 + 32
    rows = rows32(16, "abcp", 5)
    for r, o in zip(rows, outputs(src, rows)):
        a, b, c = r["a"], r["b"], r["c"]
        a2 = (((a & b) ^ (a & c) ^ (b & c)) + r["p"]) & M32
        assert o == {"r": a2, "s": (a2 & a) ^ (a2 & b) ^ (a & b)}


@settings(deadline=None, max_examples=40)
@given(text=_bool_exprs(), other=_bool_exprs(), third=_bool_exprs())
def test_factoring_shared_terms_never_costs_ands(text, other, third):
    """Chains sharing AND terms in every way: offering the shared terms never gives more ANDs
    than keeping them (the optimizer keeps the cheaper of the two)."""
    src = ("def main(a: u8 @alice, b: u8 @bob, c: u8 @alice, d: u8 @bob) -> (r: u8 @both,\n"
           "        s: u8 @both, t: u8 @both):\n"
           f"    return {text} ^ {other}, {other} | {third}, {third} ^ {text}\n")
    with_shared = ands(src)
    with no_shared_terms():
        without = ands(src)
    assert with_shared <= without, src


def _sub(text: str, table: dict) -> str:
    for k, v in table.items():
        text = text.replace(k, v)
    return text


def test_a_running_argmax_shares_its_comparison_and_becomes_a_tournament():
    src = ("def main(a: u32[16] @alice, b: u32[16] @bob) -> (m: u32 @both, k: u8 @both):\n"
           "    m = a[0]\n    k: u8 = 0\n"
           "    for i in range(32):\n"
           "        v = a[i] if i < 16 else b[i - 16]\n"
           "        if v > m:\n            m = v\n            k = i\n"
           "    return m, k\n")
    c = compile_source(H + src)
    # was 3068 at depth 1023: max(m, v) compared a second time, in a chain of 31 steps; then
    # 2101 at depth 198 while the first step (k = 0 or 1, a widened bool) stood outside the
    # tournament: now 31 matches in 5 rounds of a 32-bit comparison and a multiplexer
    assert c.count(Op.AND) <= 2010 and c.and_depth <= 5 * 33
    rng = random.Random(6)
    rows = [{"a": [rng.randrange(5) for _ in range(16)], "b": [rng.randrange(6) for _ in range(16)]}
            for _ in range(20)]
    for r, o in zip(rows, outputs(src, rows)):
        vals = r["a"] + r["b"]
        assert o == {"m": max(vals), "k": vals.index(max(vals))}    # the first maximum


def test_an_argmax_read_for_its_index_alone_is_a_tournament_too():
    # the last maximum is then never read: the chain stopped a link short (2015 ANDs at
    # depth 198, more than with the maximum read)
    src = ("def main(a: u32[32] @alice) -> u8 @both:\n    m = a[0]\n    k: u8 = 0\n"
           "    for i in range(32):\n        if a[i] > m:\n            m = a[i]\n"
           "            k = i\n    return k\n")
    c = compile_source(H + src)
    assert c.count(Op.AND) <= 1978 and c.and_depth <= 5 * 33


@settings(deadline=None, max_examples=30)
@given(n=st.integers(2, 20), op=st.sampled_from([">", ">=", "<", "<="]),
       t=st.sampled_from(["u8", "i6", "u3"]), seed=st.integers(0, 1 << 30),
       index_only=st.booleans())
def test_running_extrema_with_their_index_as_tournaments(n, op, t, seed, index_only):
    """Ties keep the first element for > and <, the last for >= and <=, as the loop does;
    with the maximum read or the index alone."""
    outs = "(k: u8 @both, j: u8 @both)" if index_only else \
        f"(m: {t} @both, k: u8 @both, j: u8 @both)"
    src = (f"def main(a: {t}[{n}] @alice) -> {outs}:\n"
           "    m = a[0]\n    k: u8 = 0\n    j: u8 = 0\n"
           f"    for i in range(1, {n}):\n"
           f"        if a[i] {op} m:\n            m = a[i]\n            k = i\n"
           "        j += 1\n"
           f"    return {'k, j' if index_only else 'm, k, j'}\n")
    rng = random.Random(seed)
    bits = int(t[1:])
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if t[0] == "i" else (0, (1 << bits) - 1)
    rows = [{"a": [rng.randint(lo, min(hi, lo + 3)) for _ in range(n)]} for _ in range(6)]
    better = {">": lambda x, y: x > y, ">=": lambda x, y: x >= y,
              "<": lambda x, y: x < y, "<=": lambda x, y: x <= y}[op]
    for row, out in zip(rows, outputs(src, rows)):
        a = row["a"]
        m, k = a[0], 0
        for i in range(1, n):
            if better(a[i], m):
                m, k = a[i], i
        assert out == ({} if index_only else {"m": m}) | {"k": k, "j": n - 1}, src


@settings(max_examples=40, deadline=None)
@given(t=st.sampled_from(["u16", "i16", "fix24_8", "i32"]), a=st.integers(1, 40),
       b=st.integers(1, 40), shared=st.booleans(), data=st.data())
def test_chained_constant_divisions_are_one(t, a, b, shared, data):
    """(x / a) / b by positive constants is x / (a b) (floors and truncations compose): one
    division, as cheap as writing x / (a b), whatever the signs of x (neither a power of two,
    whose division is a shift); when the inner
    quotient is used elsewhere too it stays, and both results are still right."""
    from test_compiler_helpers import program, run_many
    from yaogc.compiler import compile_source
    if t.startswith("fix"):
        lo, hi = -(2 ** 23), 2 ** 23 - 1
    else:
        bits = int(t[1:])
        lo, hi = (0, 2 ** bits - 1) if t[0] == "u" else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if a * b > (hi if not t.startswith("fix") else 2 ** 15 - 1):
        return
    outs = f"q: {t} @bob" + (f", p: {t} @bob" if shared else "")
    body = f"p = x / {a}\nreturn p / {b}" + (", p" if shared else "")
    src = program(f"x: {t} @alice", outs, body)
    xs = data.draw(st.lists(st.integers(lo, hi), min_size=1, max_size=6))
    scale = 256 if t.startswith("fix") else 1
    run_many(src, [{"x": v / scale if scale > 1 else v} for v in xs])
    # (a division by a power of two is a shift, not a division, and is left as it is)
    if not shared and a & (a - 1) and b & (b - 1):
        one = program(f"x: {t} @alice", f"q: {t} @bob", f"return x / {a * b}")
        assert compile_source(src).count(Op.AND) == compile_source(one).count(Op.AND)


BOUNDS = {"u8": (0, 255), "i8": (-128, 127), "u16": (0, 65535), "i5": (-16, 15),
          "u32": (0, M32), "fix8_4": (-8, 7.9375)}


def agrees_with_interpreter(t: str, src: str, seed: int, names=("x", "y", "z"),
                            cond: bool = False) -> None:
    """The compiled program of ``src`` (inputs ``names`` and ``a`` of type ``t``, ``i: u2``,
    with ``cond`` also ``c: bool``) gives on 16 rows what the interpreter gives on IR made
    without the algebraic rules. Values are drawn from the type's edges (lowest, highest,
    0, 1, -1 or 2) and from anywhere in it."""
    c = compile_source(src)
    rng = random.Random(seed)
    lo, hi = BOUNDS[t]

    def v():
        if t.startswith("fix"):
            return rng.choice([lo, hi, 0, 1, rng.randint(-128, 127) / 16])
        return rng.choice([lo, hi, 0, 1, -1 if lo else 2, rng.randint(lo, hi)])
    rows = []
    for _ in range(16):
        row = {n: v() for n in names}
        row.update(a=[v(), v(), v()], i=rng.randrange(4))
        if cond:
            row["c"] = rng.random() < 0.5
        rows.append(row)
    for r, o in zip(rows, evaluate(c, rows)):
        assert o == interpret_without_rules(src, r), (src, r)


@st.composite
def _mux_shapes(draw):
    """Conditionals whose branches share a term, differ by operand order, or widen the same
    type: the shapes the multiplexer rules rewrite, in every operand order."""
    t = draw(st.sampled_from(["u8", "i8", "u16", "i5"]))
    narrow = "u4" if t[0] == "u" else "i4"
    leaf = st.sampled_from(["x", "y", "z", "a[i]", f"{t}(3)", f"{t}({narrow}(x))"])
    p, d, e = draw(leaf), draw(leaf), draw(leaf)
    a, b = draw(leaf), draw(leaf)
    cmp = draw(st.sampled_from(["<", "<=", ">", ">="]))
    cond = draw(st.sampled_from([f"{a} {cmp} {b}", f"{b} {cmp} {a}", "c", f"{p} == {d}"]))
    form = draw(st.integers(0, 6))
    body = [f"({a} - {b} if {cond} else {b} - {a})",
            f"({p} + {d} if {cond} else {p} + {e})",
            f"({d} + {p} if {cond} else {p} + {e})",
            f"({p} - {d} if {cond} else {p} - {e})",
            f"({d} - {p} if {cond} else {e} - {p})",
            f"{t}({narrow}({d}) if {cond} else {narrow}({e}))",
            f"abs({t}({a} - {b}))" if t[0] == "i" else f"({a} - {b} if {a} > {b} else {b} - {a})",
            ][form]
    return t, (H + f"def main(x: {t} @alice, y: {t} @bob, z: {t} @bob, a: {t}[3] @alice,"
               f" i: u2 @bob, c: bool @alice) -> (r: {t} @both, s: i32 @both):\n"
               f"    r = {body}\n"
               f"    s: i32 = 0\n"
               f"    if {cond}:\n        s += i32({a}) - i32({b})\n"
               f"    else:\n        s += i32({b}) - i32({a})\n"
               "    return r, s\n")


@settings(deadline=None, max_examples=80)
@given(_mux_shapes(), st.integers(0, 1 << 30))
def test_multiplexer_rules_keep_values(shape, seed):
    agrees_with_interpreter(*shape, seed, cond=True)


def test_an_absolute_difference_costs_a_subtraction_and_a_negation():
    # was 61 (a comparison, two subtractions, a multiplexer); now a 17-bit subtraction and
    # a conditional negation
    src = ("def main(a: u16 @alice, b: u16 @bob) -> (d: u16 @both):\n"
           "    if a > b:\n        d = a - b\n    else:\n        d = b - a\n    return d\n")
    assert ands(src) <= 32
    src_sum = ("def main(a: u16[32] @alice, b: u16[32] @bob) -> (s: u32 @both):\n"
               "    s: u32 = 0\n    for i in range(32):\n"
               "        if a[i] > b[i]:\n            s += a[i] - b[i]\n"
               "        else:\n            s += b[i] - a[i]\n    return s\n")
    # was 3238: per element the difference and an addition, not two of each
    assert ands(src_sum) <= 1500


@st.composite
def _extrema_of_sums(draw):
    """min/max chains whose terms share an addend (a constant or a node) or not, in types
    where the sums may wrap and where ranges show they cannot, in every operand order."""
    t = draw(st.sampled_from(["u8", "i8", "u16", "fix8_4"]))
    small = "u3" if t[0] in "uf" else "i3"
    leaf = st.sampled_from(["x", "y", "z", f"{t}(3)", f"{t}({small}(x))", f"{t}({small}(y))",
                            f"{t}({small}(z))", "a[i]"])
    common = draw(leaf)
    terms = []
    for _ in range(draw(st.integers(2, 5))):
        d = draw(leaf)
        if draw(st.booleans()):
            terms.append(draw(st.sampled_from([f"{common} + {d}", f"{d} + {common}"])))
        else:
            terms.append(draw(st.sampled_from([d, f"{d} + {draw(leaf)}"])))
    op = draw(st.sampled_from(["min", "max"]))
    src = (H + f"def main(x: {t} @alice, y: {t} @bob, z: {t} @bob, a: {t}[3] @alice,"
           f" i: u2 @bob) -> (r: {t} @both):\n"
           f"    return {op}({', '.join(terms)})\n")
    return t, src


@settings(deadline=None, max_examples=80)
@given(_extrema_of_sums(), st.integers(0, 1 << 30))
def test_extrema_with_a_common_addend_keep_values(shape, seed):
    agrees_with_interpreter(*shape, seed)


def test_a_common_addend_of_extrema_is_added_once():
    # min(x + 1, y + 1) is min(x, y) + 1 only where neither sum wraps: here they cannot
    narrow = ("def main(x: u8 @alice, y: u8 @bob, z: u8 @bob) -> (r: u16 @both):\n"
              "    return min(u16(x) + 1, u16(y) + 1, u16(z) + 3)\n")
    wrapping = ("def main(x: u8 @alice, y: u8 @bob, z: u8 @bob) -> (r: u8 @both):\n"
                "    return min(x + 1, y + 1, z + 3)\n")
    assert ands(narrow) < ands(wrapping)
    rows = [{"x": x, "y": y, "z": z} for x in (0, 254, 255) for y in (0, 255) for z in (1, 253)]
    for src in (narrow, wrapping):
        for r, o in zip(rows, outputs(src, rows)):
            assert o == interpret_without_rules(H + src, r)
    edit = ("def main(a: u8[8] @alice, b: u8[8] @bob) -> (d: u8 @both):\n"
            "    prev = [u8(j) for j in range(9)]\n"
            "    for i in range(1, 9):\n"
            "        cur = [u8(i) for j in range(9)]\n"
            "        for j in range(1, 9):\n"
            "            cost = u8(a[i - 1] != b[j - 1])\n"
            "            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)\n"
            "        prev = cur\n"
            "    return prev[8]\n")
    assert ands(edit) <= 1276         # was 1304 with the + 1 done per term


@st.composite
def _compare_and_subtract(draw):
    """A comparison and a subtraction of the same operands, in every order and direction,
    in types where ranges narrow them and where they do not, signed and unsigned."""
    t = draw(st.sampled_from(["u8", "i8", "u16", "i5", "u32"]))
    small = "u3" if t[0] == "u" else "i3"
    leaf = st.sampled_from(["x", "y", "a[i]", f"{t}(3)", f"{t}({small}(x))", "x + y"])
    p, q = draw(leaf), draw(leaf)
    cmp = draw(st.sampled_from([f"{p} >= {q}", f"{q} <= {p}", f"{p} < {q}", f"{q} > {p}",
                                f"{p} > {q}", f"{p} <= {q}"]))
    form = draw(st.integers(0, 3))
    body = [f"    r = {p} - {q} if {cmp} else {p}\n",
            f"    r = {p}\n    if {cmp}:\n        r -= {q}\n",
            f"    d = {p} - {q}\n    r = d if {cmp} else d + {q}\n",
            f"    r = {p} - {q}\n    b = {cmp}\n",
            ][form]
    return t, (H + f"def main(x: {t} @alice, y: {t} @bob, a: {t}[3] @alice, i: u2 @bob)"
               f" -> (r: {t} @both, b: bool @both):\n"
               f"    b = {cmp}\n" + body + "    return r, b\n")


@settings(deadline=None, max_examples=80)
@given(_compare_and_subtract(), st.integers(0, 1 << 30))
def test_a_comparison_read_off_a_subtraction_keeps_values(shape, seed):
    agrees_with_interpreter(*shape, seed, names=("x", "y"))


def test_a_conditional_subtraction_shares_its_comparison():
    # x >= m is the borrow of x - m: one 33-bit subtraction and a multiplexer (was 95)
    for body in ("    if x >= m:\n        x -= m\n    return x\n",
                 "    return x if x < m else x - m\n",
                 "    d = x - m\n    return d if m <= x else x\n"):
        src = "def main(x: u32 @alice, m: u32 @bob) -> (r: u32 @both):\n" + body
        assert ands(src) == 64
        for t in ("i16", "u16"):
            assert ands(src.replace("u32", t)) == 32
    # the digit-by-digit (restoring) square root: each step compares and subtracts
    root = ("def main(x: u32 @alice) -> (r: u32 @both):\n"
            "    num = x\n    res: u32 = 0\n    bit: u32 = 1 << 30\n"
            "    for k in range(16):\n"
            "        if num >= res + bit:\n"
            "            num -= res + bit\n"
            "            res = (res >> 1) + bit\n"
            "        else:\n"
            "            res = res >> 1\n"
            "        bit = bit >> 2\n"
            "    return res\n")
    assert ands(root) <= 481         # was 691
    xs = [0, 1, 2, 3, 15, 16, 17, M32, 1 << 31, 123456789]
    assert [o["r"] for o in outputs(root, [{"x": x} for x in xs])] == [math.isqrt(x) for x in xs]


ELIF_COUNTS = """const N = {n}
def main(x: u8[N] @alice, t1: u8 @bob, t2: u8 @bob, t3: u8 @bob) -> (a: {t} @both,
        b: {t} @both, c: {t} @both, d: {t} @both):
    a: {t} = 0
    b: {t} = 0
    c: {t} = 0
    d: {t} = 0
    for i in range(N):
        if x[i] < t1:
            a += 1
        elif x[i] < t2:
            b += 1
        elif x[i] < t3:
            c += 1
        else:
            d += 1
    return a, b, c, d
"""


@settings(deadline=None, max_examples=15)
@given(n=st.integers(1, 12), t=st.sampled_from(["u4", "u8", "u32", "i16"]),
       seed=st.integers(0, 1 << 30))
def test_counts_of_an_elif_chain_add_their_conditions_at_one_bit(n, t, seed):
    """A count that only a later branch of an elif chain increases merges as c ? 0 : 1 and
    c ? 0 : widen(b): both become a widened one-bit value (not c, c ? 0 : b), so no
    multiplexer of the count's width is ever made (for an unsigned count); the counts are
    Python's."""
    from yaogc.compiler.pipeline import elaborate
    src = H + ELIF_COUNTS.format(n=n, t=t)
    g = elaborate(src).graph
    if t != "i16":
        assert all(g.type(k).width == 1 for k in range(len(g)) if g.op(k) == "mux")
    rng = random.Random(seed)
    rows = [{"x": [rng.choice([0, 9, 10, 11, 255, rng.getrandbits(8)]) for _ in range(n)],
             "t1": rng.getrandbits(8) // 2, "t2": 10 + rng.getrandbits(6), "t3": rng.getrandbits(8)}
            for _ in range(3)]
    circuit = compile_source(src)
    for row, out in zip(rows, evaluate(circuit, rows)):
        x, t1, t2, t3 = row["x"], row["t1"], row["t2"], row["t3"]
        want = [sum(v < t1 for v in x), sum(t1 <= v < t2 for v in x),
                sum(max(t1, t2) <= v < t3 for v in x), sum(v >= max(t1, t2, t3) for v in x)]
        assert [out[k] for k in "abcd"] == want


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 14), st.lists(st.tuples(st.integers(0, 13), st.integers(0, 13)),
                                    min_size=49, max_size=160),
       st.sampled_from(["xor", "or"]), st.randoms(use_true_random=False))
def test_factoring_a_long_chain_at_once_makes_the_nodes_repeated_factoring_makes(
        n_ops, pairs, op, rng):
    # a long chain's factorings run on a heap (a sum of n x m products took cubic time),
    # and must choose what the scan chooses, in the same order, making the same nodes
    from yaogc.circuits.types import uint as _uint
    from yaogc.compiler import boolrw
    from yaogc.compiler.ir import WordGraph
    t = _uint(4)

    def chain():
        g = WordGraph()
        leaves = [g.input(t, (k, 0)) for k in range(n_ops)]
        terms = [g.make("and", t, (leaves[a % n_ops], leaves[b % n_ops])) for a, b in pairs]
        shared = {x for x in terms if rng.random() < 0.1}      # used elsewhere: not free
        free = [g.op(x) == "and" and x not in shared for x in terms]
        return g, terms, free
    rng.seed(0)
    g1, terms1, free1 = chain()
    rng.seed(0)
    g2, terms2, free2 = chain()
    assert terms1 == terms2 and free1 == free2
    fast = boolrw._distribute_many(g1, op, t, list(terms1), list(free1))
    terms, free = list(terms2), list(free2)
    while sum(free) > boolrw._PAIRWISE and boolrw._distribute(g2, op, t, terms, free):
        pass
    assert fast == (terms, free)
    assert len(g1) == len(g2) and all(g1.op(n) == g2.op(n) and g1.args(n) == g2.args(n)
                                      for n in range(len(g1)))
