"""Helpers shared by the compiler tests: compile a snippet, run it three ways, compare."""

from __future__ import annotations

from yaogc.circuits.evaluate import evaluate
from yaogc.compiler import compile_source, interpret

HEADER = "party alice, bob\n"


def program(params: str, returns: str, body: str, extra: str = "") -> str:
    """A main with the given parameter list, result list and indented body lines."""
    lines = "".join(f"    {ln}\n" for ln in body.strip("\n").splitlines())
    return f"{HEADER}{extra}def main({params}) -> ({returns}):\n{lines}"


def run(src: str, defines=None, **inputs):
    """Outputs of the compiled circuit, checked equal to the reference interpreter's."""
    circuit = compile_source(src, "<test>", defines)
    got = evaluate(circuit, [inputs])[0]
    ref = interpret(src, inputs, defines)
    assert got == ref, (got, ref)
    return got


def run_many(src: str, rows, defines=None):
    circuit = compile_source(src, "<test>", defines)
    outs = evaluate(circuit, rows)
    for row, got in zip(rows, outs):
        ref = interpret(src, row, defines)
        assert got == ref, (row, got, ref)
    return outs


def interpret_without_rules(src: str, row):
    """The reference interpreter on IR made without the algebraic rules (compiler/simplify.py),
    so that the rules themselves are checked (the plain interpreter's IR has them applied)."""
    from yaogc.compiler import ir
    saved = ir._RULES
    ir._RULES = {}
    try:
        return interpret(src, row)
    finally:
        ir._RULES = saved
