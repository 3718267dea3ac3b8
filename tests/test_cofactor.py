"""Tests on reads through an index made of booleans, expanded over those booleans
(compiler/cofactor.py): the program's values (out-of-range and negative indices read 0) on
random index expressions of mixed widths and signedness, and the ANDs it saves."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.circuit import Op
from yaogc.circuits.evaluate import evaluate
from yaogc.compiler import compile_source
from yaogc.compiler import optimize as optimize_module

from test_compiler_helpers import run_many
from test_speculate import tree_program, walk

H = "party alice, bob\n"


@st.composite
def index_expr(draw, signed: bool, depth: int = 3) -> str:
    """An index computed from the tests c0..c3 and constants: sums, products and shifts by
    constants, conditionals, casts to other widths of one signedness, in either operand
    order."""
    types = ["i8", "i4", "i16"] if signed else ["u8", "u3", "u16", "u1"]
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        leaf = draw(st.sampled_from(["c", "k"]))
        if leaf == "k":
            return f"{types[0]}({draw(st.integers(0, 9))})"
        t = draw(st.sampled_from(types))
        return f"{t}(c{draw(st.integers(0, 3))})"
    a = draw(index_expr(signed, depth - 1))
    b = draw(index_expr(signed, depth - 1))
    form = draw(st.integers(0, 6))
    if form == 0:
        return f"({a} + {b})"
    if form == 1:
        return f"({a} - {b})"
    if form == 2:
        return f"({types[0]}({draw(st.integers(1, 3))}) * {a})"
    if form == 3:
        return f"({a} << {draw(st.integers(0, 2))})"
    if form == 4:
        return f"({a} if c{draw(st.integers(0, 3))} else {b})"
    if form == 5:
        k = types[0]
        return f"({k}(2) * {a} + {k}(1) + {k}(c{draw(st.integers(0, 3))}))"
    return f"{draw(st.sampled_from(types))}({a})"


@settings(deadline=None, max_examples=60)
@given(st.booleans().flatmap(index_expr), st.integers(1, 20), st.sampled_from(["u8", "i8", "u3", "bool"]),
       st.booleans(), st.integers(0, 1 << 30))
def test_reads_through_an_index_made_of_tests_keep_their_values(expr, n, t, public, seed):
    if "c" not in expr:     # a public index out of range is a compile error, not a read of 0
        expr = f"({expr} + {'i' if 'i' in expr else 'u'}8(c0))"
    table = ""
    if public:
        rng = random.Random(seed)
        vals = [str(rng.choice([True, False])) if t == "bool" else str(rng.randrange(4))
                for _ in range(n)]
        table = f"const T: {t}[{n}] = [{', '.join(vals)}]\n"
    src = (H + table +
           f"def main(x: u8[4] @alice, y: u8[4] @bob, items: {t}[{n}] @bob) -> (r: {t} @both):\n"
           + "".join(f"    c{j} = x[{j}] > y[{j}]\n" for j in range(4)) +
           f"    return {'T' if public else 'items'}[{expr}]\n")
    rng = random.Random(seed + 1)
    rows = [{"x": [rng.randrange(4) for _ in range(4)], "y": [rng.randrange(4) for _ in range(4)],
             "items": [rng.choice([True, False]) if t == "bool" else rng.randrange(4)
                       for _ in range(n)]} for _ in range(12)]
    run_many(src, rows)


def _tree(depth: int) -> str:
    return tree_program(depth, [(5 * j + 1) % 8 for j in range((1 << depth) - 1)])


def test_a_walked_tree_selects_its_leaf_bottom_up():
    # every node's test (16 ANDs), one 8-bit multiplexer per inner node, nothing for the walk
    for depth in (3, 5, 6):
        inner = (1 << depth) - 1
        assert compile_source(_tree(depth)).count(Op.AND) == inner * 16 + inner * 8


def test_without_the_expansion_the_walk_costs_more(monkeypatch):
    monkeypatch.setattr(optimize_module, "cofactor", lambda e: e)
    assert compile_source(_tree(6)).count(Op.AND) > 63 * 16 + 63 * 8


def test_an_index_from_an_input_is_left_to_the_multiplexer_tree():
    # the index is not made of booleans only: a plain read, as before
    src = (H + "def main(a: u8[8] @alice, i: u3 @bob, x: u8 @alice, y: u8 @bob)"
           " -> (r: u8 @both):\n"
           "    return a[i + u3(x > y)]\n")
    c = compile_source(src)
    assert c.count(Op.AND) <= 7 * 8 + 8 + 2


def test_a_histogram_through_a_secret_index_is_a_sum_per_bucket():
    """``h[s] += 1`` writes every bucket through a multiplexer on s == K whose value reads
    h[s]; under s == K that read is h[K], so each bucket becomes h[K] + (s == K) and the
    loop a sum of booleans per bucket."""
    src = (H + "def main(x: u8[16] @alice, y: u8[16] @bob) -> (h: u8[4] @both):\n"
           "    h = [u8(0) for i in range(4)]\n"
           "    for i in range(16):\n"
           "        h[x[i] % 4] += 1\n"
           "        h[y[i] % 4] += 1\n"
           "    return h\n")
    # was 1123: a read of all four buckets, an increment and four multiplexers per sample
    assert compile_source(src).count(Op.AND) <= 260
    rng = random.Random(5)
    rows = [{"x": [rng.randrange(256) for _ in range(16)],
             "y": [rng.randrange(256) for _ in range(16)]} for _ in range(8)]
    for r, o in zip(rows, run_many(src, rows)):
        want = [0] * 4
        for v in r["x"] + r["y"]:
            want[v % 4] += 1
        assert o["h"] == want


@st.composite
def guarded_program(draw):
    """A read-modify-write through a secret index (one or two dimensions, in or out of
    range, signed or not), or an explicit test of the index against a constant."""
    t = draw(st.sampled_from(["u8", "i8", "u4"]))
    it = draw(st.sampled_from(["u3", "u8", "i4"]))
    n = draw(st.integers(1, 6))
    op = draw(st.sampled_from(["+=", "-=", "^=", "*="]))
    two = draw(st.booleans())
    k = draw(st.integers(-2, 7))
    shape = f"{t}[{n}][2]" if two else f"{t}[{n}]"
    at = "a[s][u1(c)]" if two else "a[s]"
    body = draw(st.sampled_from([
        f"    {at} {op} v\n",
        f"    {at} = max({at}, v) if c else {at}\n",
        f"    if s == {it}({k}):\n        {at} {op} b[s]\n",
        f"    if s != {it}({k}):\n        r = b[s]\n    else:\n        r = {t}(b[s] + {at})\n",
    ]))
    return (H + f"def main(a: {shape} @alice, b: {t}[{n}] @alice, s: {it} @bob, v: {t} @bob,"
            f" c: bool @bob) -> (a2: {shape} @both, r2: {t} @both):\n"
            f"    r: {t} = v\n" + body + "    return a, r\n"), t, n, two, it


@settings(deadline=None, max_examples=60)
@given(guarded_program(), st.integers(0, 1 << 30))
def test_reads_under_a_test_of_their_index_keep_their_values(prog, seed):
    src, t, n, two, it = prog
    if "if s == " in src and it == "u3" and "(-" in src:
        src = src.replace("u3(-", "u3(")    # a u3 constant cannot be negative
    rng = random.Random(seed)
    lo, hi = {"u8": (0, 255), "i8": (-128, 127), "u4": (0, 15)}[t]
    slo, shi = {"u3": (0, 7), "u8": (0, 12), "i4": (-3, 7)}[it]

    def val():
        return rng.randint(lo, hi)
    rows = [{"a": [[val(), val()] if two else val() for _ in range(n)],
             "b": [val() for _ in range(n)], "s": rng.randint(slo, shi), "v": val(),
             "c": rng.random() < 0.5} for _ in range(12)]
    run_many(src, rows)


def test_the_expansions_of_a_program_are_bounded(monkeypatch):
    """Many walks in one program: the expansions stop at the budget (the later reads stay
    multiplexer trees), and every record's leaf is still right."""
    from yaogc.compiler import cofactor as cofactor_module
    depth, inner, n = 3, 7, 6
    feats = [(5 * j + 1) % 8 for j in range(inner)]
    src = (H + f"const F: u8[{inner}] = [{', '.join(map(str, feats))}]\n"
           f"def main(record: u16[{n}][8] @alice, threshold: u16[{inner}] @bob,\n"
           f"         label: u8[{inner + 1}] @bob) -> (d: u8[{n}] @alice):\n"
           f"    d = [u8(0) for r in range({n})]\n"
           f"    for r in range({n}):\n"
           "        node: u8 = 0\n"
           f"        for level in range({depth}):\n"
           "            node = 2 * node + 1 + u8(record[r][F[node]] > threshold[node])\n"
           f"        d[r] = label[node - {inner}]\n"
           "    return d\n")
    full = compile_source(src).count(Op.AND)
    monkeypatch.setattr(cofactor_module, "BUDGET", 2 * (2 * inner + 1))   # two walks' worth
    c = compile_source(src)
    monkeypatch.setattr(cofactor_module, "BUDGET", 0)
    none = compile_source(src).count(Op.AND)
    assert full < c.count(Op.AND) < none
    rng = random.Random(9)
    rows = [{"record": [[rng.randrange(1 << 16) for _ in range(8)] for _ in range(n)],
             "threshold": [rng.randrange(1 << 16) for _ in range(inner)],
             "label": [rng.randrange(256) for _ in range(inner + 1)]} for _ in range(6)]
    for r, o in zip(rows, evaluate(c, rows)):
        assert o["d"] == [walk(depth, feats, rec, r["threshold"], r["label"])
                          for rec in r["record"]]


@settings(deadline=None, max_examples=25)
@given(guarded_program(), st.sampled_from([2, 12, 30, 60, 16384]))
def test_folds_sharing_an_expansion_give_the_circuit_of_one_expansion_each(prog, cone):
    """The guarded reads of one index fold with one shared expansion (_fold_through); where
    its summaries pass MAX_CONE (made small here, so that both the shared and the fresh
    expansion give up on some folds) the circuit is still the one a fresh expansion per fold
    gives, gate for gate."""
    from yaogc.compiler import cofactor as cofactor_module
    src = prog[0].replace("u3(-", "u3(")
    src = src.replace("    return a, r\n", "    for j in range(3):\n        a[s] += v\n"
                      "    return a, r\n")

    def fresh(g, shared, root, v, c):
        try:
            return cofactor_module._Expansion(g, (v,))._rebuild(root, v, c)
        except cofactor_module._GiveUp:
            return root
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cofactor_module, "MAX_CONE", cone)
        shared = compile_source(src)
        mp.setattr(cofactor_module, "_fold_through", fresh)
        alone = compile_source(src)
    assert shared.content_hash == alone.content_hash
