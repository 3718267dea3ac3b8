"""The typing rule (docs/LANGUAGE.md, "The type of an expression"): an expression's type comes
from its operands only, so swapping the operands of a commutative operator, mirroring a
comparison or the branches of a conditional, or assigning to a wider variable never changes a
value. Random mixed-width programs are checked against an independent Python model of the
rule; the defects this rule fixed are pinned one by one."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from yaogc.circuits.evaluate import evaluate
from yaogc.compiler import CompileError, compile_source

from test_compiler_helpers import program, run

# the variables of the random programs: name -> (bits, signed)
VARS = {"p": (4, False), "q": (8, False), "r": (16, False), "s": (5, True), "t": (12, True),
        "w": (32, True)}
CASTS = [(8, False), (16, False), (5, True), (12, True), (4, False)]


def tname(t) -> str:
    return f"{'i' if t[1] else 'u'}{t[0]}"


def wrap(v: int, t) -> int:
    bits, signed = t
    v &= (1 << bits) - 1
    return v - (1 << bits) if signed and v >> (bits - 1) else v


def join(a, b):
    """The documented promotion, or None where the program would need a cast."""
    if a[1] == b[1]:
        return (max(a[0], b[0]), a[1])
    s, u = (a, b) if a[1] else (b, a)
    return s if s[0] > u[0] else None


# --- random expression trees: tuples, typed by a Python model of the rule --------------------
OPS = ["+", "*", "&", "|", "^", "-", "/", "%"]
ORDERED = ("-", "/", "%")      # operators whose operands are never swapped when mirroring


def trees():
    leaf = st.sampled_from(sorted(VARS)).map(lambda n: ("var", n))

    def extend(sub):
        return st.one_of(
            st.tuples(st.sampled_from(OPS), sub, sub).map(lambda a: ("bin",) + a),
            st.tuples(sub, st.integers(-15, 15), st.sampled_from(OPS),
                      st.booleans()).map(lambda a: ("lit", a[2], a[0], a[1], a[3])),
            st.tuples(st.sampled_from(["<", "<=", "==", "!="]), sub, sub, st.sampled_from(CASTS))
            .map(lambda a: ("cmp",) + a),
            st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(lambda a: ("call",) + a),
            st.tuples(st.sampled_from(["<", "<=", "==", "!="]), sub, sub, sub, sub)
            .map(lambda a: ("if",) + a),
            st.tuples(st.sampled_from(["-", "~"]), sub).map(lambda a: ("un",) + a),
            st.tuples(st.sampled_from(["<<", ">>"]), sub, st.integers(0, 6))
            .map(lambda a: ("shift",) + a),
            st.tuples(st.sampled_from(CASTS), sub).map(lambda a: ("cast",) + a),
            st.tuples(sub, sub, sub).map(lambda a: ("sum",) + a),
        )
    return st.recursive(leaf, extend, max_leaves=8)


def fit(tree):
    """The tree with a cast inserted wherever two operands do not meet (u8 with i8), and
    literals limited to the other operand's range; returns (tree, type)."""
    kind = tree[0]
    if kind == "var":
        return tree, VARS[tree[1]]
    if kind in ("bin", "call"):
        a, ta = fit(tree[2])
        b, tb = fit(tree[3])
        if join(ta, tb) is None:
            b, tb = ("cast", ta, b), ta
        return (kind, tree[1], a, b), join(ta, tb)
    if kind == "lit":
        a, ta = fit(tree[2])
        k = tree[3] if ta[1] else abs(tree[3]) % (1 << ta[0])
        k = max(min(k, (1 << (ta[0] - 1)) - 1), -(1 << (ta[0] - 1))) if ta[1] else k
        return ("lit", tree[1], a, k, tree[4]), ta
    if kind == "cmp":      # a comparison's bool, cast to a number
        x, tx = fit(tree[2])
        y, ty = fit(tree[3])
        if join(tx, ty) is None:
            y, ty = ("cast", tx, y), tx
        return ("cmp", tree[1], x, y, tree[4]), tree[4]
    if kind == "if":
        x, tx = fit(tree[2])
        y, ty = fit(tree[3])
        if join(tx, ty) is None:
            y, ty = ("cast", tx, y), tx
        a, ta = fit(tree[4])
        b, tb = fit(tree[5])
        if join(ta, tb) is None:
            b, tb = ("cast", ta, b), ta
        return ("if", tree[1], x, y, a, b), join(ta, tb)
    if kind == "un":
        a, ta = fit(tree[2])
        return ("un", tree[1], a), ta
    if kind == "shift":
        a, ta = fit(tree[2])
        return ("shift", tree[1], a, tree[3]), ta
    if kind == "cast":
        a, _ = fit(tree[2])
        return ("cast", tree[1], a), tree[1]
    a, ta = fit(tree[1])
    parts, t = [a], ta
    for sub in tree[2:]:
        b, tb = fit(sub)
        if join(t, tb) is None:
            b, tb = ("cast", t, b), t
        parts.append(b)
        t = join(t, tb)
    return ("sum",) + tuple(parts), t


def value(tree, env):
    """(value, type) of a fitted tree under the documented semantics."""
    kind = tree[0]
    if kind == "var":
        return env[tree[1]], VARS[tree[1]]
    if kind == "cast":
        v, _ = value(tree[2], env)
        return wrap(v, tree[1]), tree[1]
    if kind == "un":
        v, t = value(tree[2], env)
        return wrap(-v if tree[1] == "-" else ~v, t), t
    if kind == "shift":
        v, t = value(tree[2], env)
        return wrap(v << tree[3] if tree[1] == "<<" else v >> tree[3], t), t
    if kind == "sum":
        vals = [value(x, env) for x in tree[1:]]
        t = vals[0][1]
        for _, tb in vals[1:]:
            t = join(t, tb)
        return wrap(sum(v for v, _ in vals), t), t
    if kind == "lit":
        v, t = value(tree[2], env)
        return wrap(_arith(tree[1], v, tree[3], t), t), t
    if kind == "cmp":
        x, _ = value(tree[2], env)
        y, _ = value(tree[3], env)
        return int({"<": x < y, "<=": x <= y, "==": x == y, "!=": x != y}[tree[1]]), tree[4]
    if kind == "if":
        x, _ = value(tree[2], env)
        y, _ = value(tree[3], env)
        c = {"<": x < y, "<=": x <= y, "==": x == y, "!=": x != y}[tree[1]]
        a, ta = value(tree[4], env)
        b, tb = value(tree[5], env)
        return (a if c else b), join(ta, tb)
    a, ta = value(tree[2], env)
    b, tb = value(tree[3], env)
    t = join(ta, tb)
    if kind == "call":
        return (min(a, b) if tree[1] == "min" else max(a, b)), t
    return wrap(_arith(tree[1], a, b, t), t), t


def _arith(op, a, b, t):
    if op in ("/", "%"):
        return _divide(op, a, b, t)
    return {"+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b}[op]


def _divide(op, a, b, t):
    """LANGUAGE.md's division: truncating toward zero (C); a / 0 is 2^n - 1 unsigned, -1 for
    a >= 0 and 1 for a < 0 signed; a % 0 = a (MIN / -1 wraps to MIN)."""
    if b == 0:
        return a if op == "%" else (-1 if a >= 0 else 1) if t[1] else (1 << t[0]) - 1
    q = abs(a) // abs(b)
    q = q if (a < 0) == (b < 0) else -q
    return q if op == "/" else a - q * b


MIRROR_CMP = {"<": ">", "<=": ">=", "==": "==", "!=": "!="}


def render(tree, mirror: bool) -> str:
    """Source text; mirrored: commutative operands swapped, comparisons mirrored, a
    conditional's branches exchanged under a negated condition, constants on the other side."""
    kind = tree[0]
    r = lambda x: render(x, mirror)  # noqa: E731
    if kind == "var":
        return tree[1]
    if kind == "cast":
        return f"{tname(tree[1])}({r(tree[2])})"
    if kind == "un":
        return f"({tree[1]}{r(tree[2])})"
    if kind == "shift":
        return f"({r(tree[2])} {tree[1]} {tree[3]})"
    if kind == "sum":
        parts = [r(x) for x in tree[1:]]
        return f"sum([{', '.join(reversed(parts) if mirror else parts)}])"
    if kind == "lit":
        op, a, k = tree[1], r(tree[2]), tree[3]
        lit = f"({k})" if k < 0 else str(k)
        if op not in ORDERED and (mirror != tree[4]):
            return f"({lit} {op} {a})"
        return f"({a} {op} {lit})"
    if kind == "cmp":
        x, y = r(tree[2]), r(tree[3])
        cmp = f"{y} {MIRROR_CMP[tree[1]]} {x}" if mirror else f"{x} {tree[1]} {y}"
        return f"{tname(tree[4])}({cmp})"
    if kind == "if":
        x, y, a, b = (r(z) for z in tree[2:])
        if mirror:
            return f"({b} if not ({y} {MIRROR_CMP[tree[1]]} {x}) else {a})"
        return f"({a} if {x} {tree[1]} {y} else {b})"
    a, b = r(tree[2]), r(tree[3])
    if kind == "call":
        return f"{tree[1]}({b}, {a})" if mirror else f"{tree[1]}({a}, {b})"
    if mirror and tree[1] not in ORDERED:
        a, b = b, a
    return f"({a} {tree[1]} {b})"


def env_strategy():
    return st.fixed_dictionaries({
        n: st.integers(-(1 << (b - 1)), (1 << (b - 1)) - 1) if s else st.integers(0, (1 << b) - 1)
        for n, (b, s) in VARS.items()})


ZEROS = [{"p": 0, "q": 0, "r": 0, "s": 0, "t": 0, "w": 0},
         {"p": 15, "q": 200, "r": 65535, "s": -16, "t": -2048, "w": -2**31},
         {"p": 3, "q": 7, "r": 9, "s": -1, "t": -1, "w": -1}]


@settings(deadline=None, max_examples=60)
@given(tree=trees(), rows=st.lists(env_strategy(), min_size=1, max_size=6))
# division and remainder by 0 (a variable, a constant), of the signed minimum by -1, and
# between mixed signedness
@example(tree=("sum", ("lit", "/", ("var", "q"), 0, False), ("lit", "%", ("var", "t"), 0, True),
               ("bin", "/", ("var", "w"), ("var", "s"))), rows=ZEROS)
@example(tree=("bin", "%", ("bin", "/", ("var", "t"), ("var", "p")), ("var", "s")), rows=ZEROS)
@example(tree=("cmp", "<", ("var", "s"), ("var", "q"), (8, False)), rows=ZEROS)
def test_swapped_mirrored_and_widened_expressions_agree_with_the_rule(tree, rows):
    tree, t = fit(tree)
    params = ", ".join(f"{n}: {tname(ty)} @{'alice' if i % 2 else 'bob'}"
                       for i, (n, ty) in enumerate(VARS.items()))
    src = program(params, f"a: {tname(t)} @both, b: {tname(t)} @both, wide: i64 @both",
                  f"wide: i64 = {render(tree, False)}\n"
                  f"return {render(tree, False)}, {render(tree, True)}, wide")
    circuit = compile_source(src, "typing.yao")
    for row, out in zip(rows, evaluate(circuit, rows)):
        want = value(tree, row)[0]
        assert out == {"a": want, "b": want, "wide": want}, src


# --- the defects, one by one -------------------------------------------------------------------
MIX = "x: u16 @alice, y: u8 @bob, z: u8 @alice, c: bool @bob, a: u8[2] @alice"


def mix(outs: str, body: str, **vals):
    inputs = {"x": 0, "y": 200, "z": 100, "c": True, "a": [200, 100]}
    inputs.update(vals)
    return run(program(MIX, outs, body), **inputs)


def test_addition_is_symmetric_across_widths():
    o = mix("l: u16 @both, r: u16 @both", "return x + (y + z), (y + z) + x")
    assert o == {"l": 44, "r": 44}


def test_comparisons_mirror():
    o = mix("l: bool @both, r: bool @both", "return x < y + z, y + z > x", x=100)
    assert o == {"l": False, "r": False}


def test_conditionals_mirror():
    o = mix("l: u16 @both, r: u16 @both", "return x if c else y + z, y + z if not c else x",
            c=False)
    assert o == {"l": 44, "r": 44}


def test_max_of_values_and_of_a_generator_agree_in_a_wider_context():
    o = mix("l: u16 @both, r: u16 @both",
            "l: u16 = max(a[0] + a[0], a[1] + a[1])\n"
            "return l, max(a[i] + a[i] for i in range(2))")
    assert o == {"l": 200, "r": 200}     # max(400 mod 256 = 144, 200) in u8


def test_negation_and_shift_keep_their_operand_type_on_either_side():
    o = mix("n1: u16 @both, n2: u16 @both, s1: u16 @both, s2: u16 @both",
            "return x + (-y), (-y) + x, x + (y << 4), (y << 4) + x", x=1)
    assert o == {"n1": 57, "n2": 57, "s1": 129, "s2": 129}


def test_a_cast_keeps_the_low_bits_of_its_operand():
    o = mix("w: u16 @both, k: u16 @both", "return u16(y + z), u16(y) + z")
    assert o == {"w": 44, "k": 300}


def test_constants_take_the_type_of_the_other_operand_on_either_side():
    o = mix("l: u8 @both, r: u8 @both, h: fix16_8 @both, k: fix16_8 @both, n: u8 @both",
            "f = fix16_8(z)\nreturn ~0x0F & y, y & ~0x0F, (1 / 4) * f, f * (1 / 4), ~0x0F",
            y=0xAB)
    assert o == {"l": 0xA0, "r": 0xA0, "h": 25, "k": 25, "n": 0xF0}


def test_declared_context_does_not_widen_and_bools_need_an_integer_operand():
    o = mix("s: u32 @both, t: u32 @both, n: u8 @both",
            "s: u32 = sum(a)\nt: u32 = sum(u32(v) for v in a)\n"
            "n: u8 = sum(a[i] > 150 for i in range(2))\nreturn s, t, n")
    assert o == {"s": 44, "t": 300, "n": 1}
    with pytest.raises(CompileError, match=r"on bools needs an integer type"):
        mix("r: u8 @both", "return (y > 3) + (z > 3)")
    with pytest.raises(CompileError, match=r"cannot mix unsigned u8 and signed i8"):
        compile_source(program("x: u8 @alice, s: i8 @bob", "r: i16 @both", "return s + x"))


def test_a_typed_index_folded_out_of_range_reads_zero_and_writes_nothing():
    src = program("a: u8[4] @alice, x: u8 @bob",
                  "r: u8 @both, b: bool @both, w: u8[4] @both, k: u8 @both",
                  "i = x - x + 9\nw = a\nw[i] = 7\n"
                  "return a[i], x[u8(12)], w, a[u8(2)]")
    assert run(src, a=[1, 2, 3, 4], x=0xFF) == {"r": 0, "b": False, "w": [1, 2, 3, 4], "k": 3}
    with pytest.raises(CompileError, match="index 9 is out of range"):
        compile_source(program("a: u8[4] @alice", "r: u8 @both", "return a[9]"))


def test_a_conditional_on_a_compile_time_condition_has_both_branches_type():
    # only the taken branch is compiled, but (y if ... else x) is u16 whatever the condition
    o = mix("a: u16 @both, b: u16 @both",
            "return (y if 1 < 2 else x) - 1, (x if 2 < 1 else y) - 1", y=0)
    assert o == {"a": 65535, "b": 65535}


def test_a_bool_compares_with_an_integer_as_that_integer():
    # the lossless widening of the one rule, as in c + x: c == x is u8(c) == x, both ways
    for c in (False, True):
        for y in (0, 1, 2, 200):
            o = mix("e: bool @both, f: bool @both, l: bool @both, g: bool @both, "
                    "n: bool @both, m: bool @both",
                    "return c == y, y == c, c < y, y > c, c != y, y != c", c=c, y=y)
            assert o == {"e": int(c) == y, "f": int(c) == y, "l": int(c) < y, "g": y > int(c),
                         "n": int(c) != y, "m": y != int(c)}, (c, y, o)
