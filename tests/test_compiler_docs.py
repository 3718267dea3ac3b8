"""The complete programs shown in docs/LANGUAGE.md compile, and the costs it quotes hold."""

from __future__ import annotations

import random
import re
from pathlib import Path

from yaogc.circuits.evaluate import evaluate
from yaogc.compiler import compile_source, interpret

from test_compiler_helpers import random_value

DOC = Path(__file__).resolve().parent.parent / "docs" / "LANGUAGE.md"


def _programs() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    return [b for b in blocks if "def main" in b and "party" in b]


def test_documented_programs_compile_and_compute_what_they_say():
    """Each complete program of LANGUAGE.md compiles, and its circuit computes what the
    reference interpreter of the program's text computes, on random inputs with their
    types' extremes."""
    progs = _programs()
    assert len(progs) >= 2
    rng = random.Random(11)
    for src in progs:
        c = compile_source(src, "doc.yao")
        assert c.n_gates > 0
        rows = [{p.name: random_value(p.type, rng) for p in c.inputs} for _ in range(6)]
        for row, got in zip(rows, evaluate(c, rows)):
            assert got == interpret(src, row), (src, row)


def _cost(params: str, ret: str, expr: str) -> int:
    src = f"party a, b\ndef main({params}) -> (r: {ret} @a):\n    return {expr}\n"
    return compile_source(src).count(1)


def test_quoted_costs():
    assert _cost("x: u64 @a, y: u64 @b", "bool", "x > y") == 64
    assert _cost("x: fix16_8 @a, y: fix16_8 @b", "fix16_8", "x * y") <= 452
    assert _cost("x: fix32_16 @a, y: fix32_16 @b", "fix32_16", "x * y") <= 1611
    assert _cost("x: fix16_8 @a, y: fix16_8 @b", "fix16_8", "x / y") <= 527
    assert _cost("x: fix32_16 @a, y: fix32_16 @b", "fix32_16", "x / y") <= 1703
    assert _cost("x: u32 @a, y: u32 @b", "u32", "x / y") <= 847
    assert _cost("x: i32 @a, y: i32 @b", "i32", "x / y") <= 1001
    assert _cost("x: fix32_16 @a", "fix32_16", "x * 0.3") <= 236
    assert _cost("x: u32 @a", "u32", "x / 3") <= 31
    assert _cost("x: u32 @a", "u32", "x % 10") <= 62
    assert _cost("x: i32 @a", "i32", "x / 10") <= 122
    assert _cost("x: fix32_16 @a", "fix32_16", "x / 3") <= 188
    assert _cost("x: u64 @a, y: u64 @b", "u64", "x * y") <= 3472
    assert _cost("x: u32 @a", "bool", "bool(x)") == 31


def test_the_piecewise_linear_sigmoid_costs_what_the_docs_say():
    block = next(b for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
                 if "def pl_sigmoid" in b)
    src = ("party a, b\n" + block +
           "def main(z: fix32_16 @a) -> (r: fix32_16 @b):\n    return pl_sigmoid(z)\n")
    assert compile_source(src).count(1) <= 667
    assert _cost("x: fix32_16 @a", "fix32_16", "sigmoid(x)") <= 3526
