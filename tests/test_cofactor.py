"""Tests on reads through an index made of booleans, expanded over those booleans
(compiler/cofactor.py): the program's values (out-of-range and negative indices read 0) on
random index expressions of mixed widths and signedness, and the ANDs it saves."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.circuit import Op
from yaogc.compiler import compile_source
from yaogc.compiler import optimize as optimize_module

from test_compiler_helpers import run_many
from test_speculate import tree_program

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
