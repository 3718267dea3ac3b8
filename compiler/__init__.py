"""yaogc.compiler: the yaogc language (lark grammar, AST, type checker, word-level IR, lowering).

Entry points: :func:`compile_file` and :func:`compile_source` give a
:class:`yaogc.circuits.Circuit`; :func:`compile_cached` (a file) and
:func:`compile_text_cached` (program text) the same through the compiled-circuit cache
(:mod:`.cache`); :func:`interpret` runs a program on plain values; :class:`CompileError` is
every error a program can cause (exit status 2).
"""

from .errors import CompileError
from .interp import interpret
from .pipeline import (compile_cached, compile_file, compile_source, compile_text_cached,
                       elaborate, parse_defines)

__all__ = ["CompileError", "compile_cached", "compile_file", "compile_source",
           "compile_text_cached", "elaborate", "interpret", "parse_defines"]
