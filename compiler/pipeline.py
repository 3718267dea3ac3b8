"""The compiler pipeline: text -> AST -> checked word-level IR -> optimized IR -> Circuit.

:func:`compile_source` and :func:`compile_file` are what the rest of yaogc calls. The result
depends only on the program text and the ``-D`` values: every stage iterates in a fixed order,
so both parties compile byte-identical circuits (same content hash) independently.
"""

from __future__ import annotations

from pathlib import Path

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.passes import remove_dead

from .check import Checker, Elaborated
from .deep import run_deep
from .errors import CompileError, Source
from .lower import lower
from .optimize import optimize as optimize_words
from .parser import decode_text, parse, read_source


def elaborate(text: str, filename: str = "<string>", defines: dict[str, str] | None = None) -> Elaborated:
    """Parse and type-check a program into word-level IR (before word-level optimization)."""
    return run_deep(_elaborate, text, filename, defines)


def _elaborate(text, filename, defines) -> Elaborated:
    if isinstance(text, (bytes, bytearray)):
        text = decode_text(bytes(text), filename)
    program = parse(text, filename)
    name = Path(filename).stem if filename and not filename.startswith("<") else "main"
    return Checker(program, Source(text, filename), _check_defines(defines), name).run()


def _check_defines(defines) -> dict[str, str]:
    out = {}
    for k, v in (defines or {}).items():
        if not isinstance(k, str) or not k.isidentifier():
            raise CompileError(f"-D {k}: not a name", "-D", 1, 1, f"{k}={v}")
        out[k] = str(v)
    return out


def compile_source(text: str, filename: str = "<string>",
                   defines: dict[str, str] | None = None) -> Circuit:
    """Compile program text to an optimized Circuit; raises CompileError for a bad program."""
    return run_deep(_compile, text, filename, defines)


def _compile(text, filename, defines) -> Circuit:
    e = elaborate(text, filename, defines)
    # the builder already folds constants and hash-conses every gate, so of the circuit
    # passes only dead-gate removal still changes anything (passes.optimize gave identical
    # gate counts on every example at several times the cost)
    return remove_dead(lower(optimize_words(e)))


def compile_file(path: str | Path, defines: dict[str, str] | None = None) -> Circuit:
    text, filename = read_source(path)
    return compile_source(text, filename, defines)


def parse_defines(items) -> dict[str, str]:
    """``["N=1000", "T=0.5"]`` -> ``{"N": "1000", "T": "0.5"}``; a malformed item is an error."""
    out: dict[str, str] = {}
    for item in items or ():
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name.isidentifier() or not value.strip():
            raise CompileError(f"-D {item}: expected NAME=VALUE", "-D", 1, 1, item)
        out[name] = value.strip()
    return out
