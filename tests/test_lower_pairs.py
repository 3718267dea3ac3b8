"""Compare-exchanges in the lowering: a comparison ``x < y`` with the multiplexers
``c ? x : y`` and ``c ? y : x`` it selects, two such multiplexers, or ``min(x, y)`` with
``max(x, y)``, are lowered by one template. The circuit must compute what the program says
with the gates separate templates give once the hash-consing has merged them, while fewer
gates are emitted before it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.circuit import Op
from yaogc.circuits.evaluate import evaluate
from yaogc.compiler import compile_source, interpret, lower
from yaogc.compiler.optimize import optimize
from yaogc.compiler.pipeline import elaborate

from test_compiler_helpers import program

TYPES = ["u8", "i8", "u16", "i32", "u1"]

# (first, second) statements over a, b (of one type) and the condition c; each a pair the
# lowering may make in one template, in either order and nested
PAIRS = [
    ("lo = min(a, b)", "hi = max(a, b)"),
    ("hi = max(a, b)", "lo = min(a, b)"),
    ("lo = min(b, a)", "hi = max(a, b)"),
    ("lo = a if c else b", "hi = b if c else a"),
    ("hi = b if c else a", "lo = a if c else b"),
    ("lo = a if a < b else b", "hi = b if a < b else a"),
    ("lo = min(a, b) if c else b", "hi = b if c else min(a, b)"),
]


def _source(t: str, first: str, second: str) -> str:
    return program(f"a: {t} @alice, b: {t} @bob, c: bool @alice",
                   f"lo: {t} @both, hi: {t} @both", f"{first}\n{second}\nreturn lo, hi")


def _emitted(src: str) -> int:
    e = optimize(elaborate(src, "<test>"))
    return lower.emit(e).n_emitted


def _values(t: str):
    bits = int(t[1:])
    if t.startswith("i"):
        return [-(1 << (bits - 1)), -1, 0, 1, (1 << (bits - 1)) - 1]
    return [0, 1, (1 << bits) - 1, 1 << (bits - 1)]


@pytest.mark.parametrize("t", TYPES)
@pytest.mark.parametrize("first,second", PAIRS)
def test_pairs_compute_what_the_program_says(t, first, second):
    src = _source(t, first, second)
    circuit = compile_source(src, "<test>")
    rows = [{"a": a, "b": b, "c": c} for a in _values(t) for b in _values(t)
            for c in (False, True)]
    for row, got in zip(rows, evaluate(circuit, rows)):
        assert got == interpret(src, row), (row, got)


@pytest.mark.parametrize("first,second", PAIRS)
def test_pairs_cost_what_two_merged_multiplexers_cost(first, second, monkeypatch):
    src = _source("u16", first, second)
    paired = compile_source(src, "<test>")
    n_paired = _emitted(src)
    monkeypatch.setattr(lower, "_FUSABLE", frozenset())
    apart = compile_source(src, "<test>")
    for op in (Op.AND, Op.XOR, Op.NOT):
        assert paired.count(op) == apart.count(op)
    assert paired.and_depth == apart.and_depth
    assert paired.content_hash == apart.content_hash
    assert n_paired < _emitted(src)


def test_a_sorting_network_emits_fewer_gates_and_sorts():
    src = (Path(__file__).resolve().parents[1] / "examples" / "sort.yao").read_text()
    rng = random.Random(7)
    a = [rng.randrange(1 << 32) for _ in range(8)]
    b = [rng.randrange(1 << 32) for _ in range(8)]
    got = evaluate(compile_source(src, "sort.yao", {"N": "8"}), [{"a": a, "b": b}])[0]
    assert got["ranked"] == sorted(a + b)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(TYPES[:4]), st.lists(st.integers(0, 3), min_size=2, max_size=6),
       st.data())
def test_chains_of_pairs_on_shared_operands(t, picks, data):
    """Pairs whose operands are the results of earlier pairs (a network), with swapped
    operand orders and mixed min/max/multiplexer forms: the values the program says, and the
    gates the lowering gives without fusing anything. (Not always in the same order: a fused
    template's multiplexers come before the other operations of its comparator's wave, so
    where several pairs share operands the wires may be numbered otherwise.)"""
    forms = ["min({x}, {y})", "max({x}, {y})", "{x} if c else {y}", "{y} if c else {x}"]
    names = ["a", "b"]
    body = []
    for i, k in enumerate(picks):
        x, y = data.draw(st.sampled_from(names)), data.draw(st.sampled_from(names))
        body.append(f"v{i} = " + forms[k].format(x=x, y=y))
        body.append(f"w{i} = " + forms[k ^ 1].format(x=x, y=y))
        names += [f"v{i}", f"w{i}"]
    src = program(f"a: {t} @alice, b: {t} @bob, c: bool @alice", f"r: {t}[{len(names)}] @both",
                  "\n".join(body) + f"\nr = [{', '.join(names)}]\nreturn r")
    circuit = compile_source(src, "<test>")
    saved = lower._FUSABLE
    lower._FUSABLE = frozenset()
    try:
        apart = compile_source(src, "<test>")
    finally:
        lower._FUSABLE = saved
    for op in (Op.AND, Op.XOR, Op.NOT):
        assert apart.count(op) == circuit.count(op)
    assert apart.and_depth == circuit.and_depth
    vals = _values(t)
    rows = [{"a": data.draw(st.sampled_from(vals)), "b": data.draw(st.sampled_from(vals)),
             "c": data.draw(st.booleans())} for _ in range(4)]
    for row, got in zip(rows, evaluate(circuit, rows)):
        assert got == interpret(src, row), (row, got)
