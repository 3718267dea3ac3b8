"""No input makes the compiler fail with anything but its own CompileError."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yaogc.circuits.evaluate import evaluate_one
from yaogc.compiler import CompileError, compile_source
from yaogc.compiler import ir, stmts

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yao"))
TEXTS = [p.read_text() for p in EXAMPLES]
TOKENS = ["(", ")", "[", "]", ":", ",", "=", "+", "*", "/", "<<", "==", "if", "else", "for",
          "return", "def", "u8", "i256", "fix8_4", "bool", "@both", "\n", "    ", "0x", "1.5",
          "-", "not", "and", "select", "sum", "min", "range", "True", "#", "\t", "const", "party"]


def _compile_bounded(text):
    try:
        compile_source(text, "fuzz.yao")
    except CompileError as e:
        first = str(e).split("\n", 1)[0]
        assert first.startswith(("fuzz.yao:", "-D:")), first


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 3))
        pos = draw(st.integers(0, len(text)))
        if kind == 0:
            end = min(len(text), pos + draw(st.integers(1, 12)))
            text = text[:pos] + text[end:]
        elif kind == 1:
            text = text[:pos] + draw(st.sampled_from(TOKENS)) + text[pos:]
        elif kind == 2:
            text = text[:pos] + draw(st.text(max_size=4)) + text[pos + 1:]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


def _limits(monkeypatch):
    # mutations can turn a loop bound into a huge number: keep each run small and fast
    monkeypatch.setattr(stmts, "MAX_ITERATIONS", 5000)
    monkeypatch.setattr(ir, "MAX_NODES", 60000)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated())
def test_mutated_examples_compile_or_raise_compile_error(monkeypatch, text):
    _limits(monkeypatch)
    _compile_bounded(text)


@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_random_bytes_compile_or_raise_compile_error(monkeypatch, data):
    _limits(monkeypatch)
    try:
        compile_source(data, "fuzz.yao")
    except CompileError:
        pass


@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(st.sampled_from(TOKENS + ["a", "b", "x", " ", "1", "2", "N"]),
                     max_size=40).map(lambda s: "party alice, bob\n" + "".join(s)))
def test_token_soup_compiles_or_raises(monkeypatch, text):
    _limits(monkeypatch)
    _compile_bounded(text)


def test_deep_nesting_compiles():
    # parentheses 3,000 deep, and 3,000 nested operators, are within the compiler's room
    # (past it, test_compiler_programs' absurd nesting is an error naming the expression)
    head = "party a, b\ndef main(x: i8 @a) -> (r: i8 @a):\n    return "
    c = compile_source(head + "(" * 3000 + "x" + ")" * 3000 + "\n", "fuzz.yao")
    assert evaluate_one(c, x=-101) == {"r": -101}
    c = compile_source(head + "-(" * 2999 + "x" + ")" * 2999 + "\n", "fuzz.yao")
    assert evaluate_one(c, x=-101) == {"r": 101}
