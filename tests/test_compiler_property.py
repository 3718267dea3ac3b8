"""Random well-typed programs on random inputs: reference interpreter == compiled circuit.

The interpreter evaluates the checked word-level IR with plain integers; the circuit went
through word-level optimization (chain rebalancing, bit-heap sums), lowering to the word
library and the circuit passes. Any difference is a bug in one of those stages.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.evaluate import evaluate
from yaogc.circuits.types import FixedType, parse_type
from yaogc.compiler import compile_source, interpret

from test_compiler_helpers import interpret_without_rules

INT_TYPES = ["u8", "i8", "u13", "i16", "u32", "i5"]
FIX_TYPES = ["fix16_8", "fix12_4"]
OTHER = ["u4", "i12", "u16", "i7", "bool"]


def literal(t: str):
    """A constant of type t, written as a cast so constant subexpressions stay typed."""
    ty = parse_type(t)
    if isinstance(ty, FixedType):
        return st.sampled_from(["0.5", "1.25", "3.0", "-2.75", "0.0625", "7"]).map(
            lambda v: f"{t}({v})")
    return st.integers(ty.min, ty.max).map(lambda v: f"{t}({_base(v)})")


def _base(v: int) -> str:
    if v < 0:
        return str(v)
    return hex(v) if v % 3 == 0 else (bin(v) if v % 3 == 1 else str(v))


def expr(t: str, names=("x", "y", "z", "arr[idx]", "arr[2]", "arr[k4]"), amount="idx"):
    fixed = t.startswith("fix")
    signed = t.startswith(("i", "fix"))
    leaves = st.one_of(st.sampled_from(list(names)), literal(t))

    def extend(sub):
        ops = ["+", "-", "*", "/"] + ([] if fixed else ["%", "&", "|", "^"])
        binary = st.tuples(sub, st.sampled_from(ops), sub).map(lambda a: f"({a[0]} {a[1]} {a[2]})")
        cmp = st.tuples(sub, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), sub).map(
            lambda a: f"{a[0]} {a[1]} {a[2]}")
        sel = st.tuples(cmp, sub, sub).map(lambda a: f"select({a[0]}, {a[1]}, {a[2]})")
        tern = st.tuples(cmp, sub, sub).map(lambda a: f"({a[1]} if {a[0]} else {a[2]})")
        mm = st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(lambda a: f"{a[0]}({a[1]}, {a[2]})")
        cast = st.tuples(st.sampled_from(OTHER), sub).map(lambda a: f"{t}({a[0]}({a[1]}))")
        neg = sub.map(lambda a: f"(-{a})")
        options = [binary, binary, cmp.map(lambda c: f"{t}({c})"), sel, tern, mm, cast, neg]
        if signed:
            options.append(sub.map(lambda a: f"abs({a})"))
        if not fixed:
            shift = st.tuples(sub, st.sampled_from(["<<", ">>"]), st.integers(0, 9)).map(
                lambda a: f"({a[0]} {a[1]} {a[2]})")
            vshift = st.tuples(sub, st.sampled_from(["<<", ">>"])).map(lambda a: f"({a[0]} {a[1]} {amount})")
            options += [shift, vshift, sub.map(lambda a: f"(~{a})"),
                        sub.map(lambda a: f"rotl({a}, {amount})")]
        return st.one_of(options)

    return st.recursive(leaves, extend, max_leaves=6)


@st.composite
def programs(draw):
    t = draw(st.sampled_from(INT_TYPES + FIX_TYPES))
    e = expr(t)
    cond = st.tuples(e, st.sampled_from(["<", ">=", "!="]), e).map(lambda a: f"{a[0]} {a[1]} {a[2]}")
    src = (
        "party alice, bob\n"
        f"def helper(p: {t}, q: {t}) -> {t}:\n"
        "    if p < q:\n"
        "        return p - q\n"
        f"    return {draw(expr(t, ('p', 'q'), 'q'))}\n"
        f"def main(x: {t} @alice, y: {t} @bob, z: {t} @alice, arr: {t}[5] @bob, idx: u3 @alice,"
        f" c: bool @bob) -> (r: {t} @both, s: {t} @alice, t: {t}[5] @bob):\n"
        "    k4 = 4\n"
        f"    acc: {t} = {draw(e)}\n"
        f"    if {draw(cond)}:\n"
        f"        acc = {draw(e)}\n"
        "    elif c:\n"
        f"        acc += {draw(e)}\n"
        "    for k in range(3):\n"
        f"        acc = max(acc, {draw(e)}) - arr[k]\n"
        f"    arr[idx] = {draw(e)}\n"
        f"    return acc, helper({draw(e)}, {draw(e)}), arr\n"
    )
    return t, src


def inputs(t: str):
    ty = parse_type(t)
    if isinstance(ty, FixedType):
        lo, hi = ty.raw_type.min, ty.raw_type.max
        val = st.integers(lo, hi).map(lambda r: r / (1 << ty.frac))
    else:
        val = st.integers(ty.min, ty.max)
    return st.fixed_dictionaries({"x": val, "y": val, "z": val, "arr": st.lists(val, min_size=5, max_size=5),
                                  "idx": st.integers(0, 7), "c": st.booleans()})


@settings(deadline=None, max_examples=40)
@given(data=st.data())
def test_random_programs_interpreter_equals_circuit(data):
    t, src = data.draw(programs())
    rows = data.draw(st.lists(inputs(t), min_size=1, max_size=4))
    circuit = compile_source(src, "random.yao")
    got = evaluate(circuit, rows)
    for row, out in zip(rows, got):
        assert interpret(src, row) == out, src


@settings(deadline=None, max_examples=30)
@given(n=st.integers(1, 40), w=st.sampled_from([3, 8, 17]), signed=st.booleans(), data=st.data())
def test_random_sums_and_running_extrema(n, w, signed, data):
    t = f"{'i' if signed else 'u'}{w}"
    src = ("party alice, bob\n"
           f"def main(a: {t}[{n}] @alice, b: bool[{n}] @bob) -> (s: {t} @both, m: {t} @both, "
           f"lo: {t} @both, cnt: u8 @both, d: {t} @both):\n"
           f"    s: {t} = 0\n    m: {t} = a[0]\n    cnt: u8 = 0\n    d: {t} = 0\n"
           f"    for i in range({n}):\n"
           "        s += a[i]\n"
           "        if a[i] > m:\n"
           "            m = a[i]\n"
           "        if b[i]:\n"
           "            cnt += 1\n"
           "            d -= a[i]\n"
           "    return s, m, min(a), cnt, d\n")
    ty = parse_type(t)
    row = {"a": data.draw(st.lists(st.integers(ty.min, ty.max), min_size=n, max_size=n)),
           "b": data.draw(st.lists(st.booleans(), min_size=n, max_size=n))}
    out = evaluate(compile_source(src), [row])[0]
    assert out == interpret(src, row)
    a, b = row["a"], row["b"]
    assert out["m"] == max(a) and out["lo"] == min(a) and out["cnt"] == sum(b)
    assert out["s"] == ty.wrap(sum(a)) and out["d"] == ty.wrap(-sum(x for x, f in zip(a, b) if f))


@settings(deadline=None, max_examples=40)
@given(data=st.data())
def test_random_programs_equal_the_unsimplified_reference(data):
    """The same random programs against the reference interpreter run on IR made without the
    algebraic rules of compiler/simplify.py, which the plain reference shares with the
    compiler: a rule that changes a value shows here."""
    t, src = data.draw(programs())
    rows = data.draw(st.lists(inputs(t), min_size=1, max_size=4))
    got = evaluate(compile_source(src, "random.yao"), rows)
    for row, out in zip(rows, got):
        assert interpret_without_rules(src, row) == out, src
