"""Reference interpreter: runs a program on plain Python values with the language's semantics.

The program is type-checked and elaborated exactly as for compilation; the resulting word-level
IR (before word-level optimization) is then evaluated node by node with the plain-integer
semantics of :mod:`ops`, never touching a circuit. Inputs and outputs use the value types'
encodings, so results compare directly with :func:`yaogc.circuits.evaluate.evaluate`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from yaogc.circuits.errors import InputError

from . import ops
from .parser import read_source
from .pipeline import elaborate


def _bits_value(bits: np.ndarray) -> int:
    return int.from_bytes(np.packbits(bits, bitorder="little").tobytes(), "little")


def interpret(source_or_path: str | Path, inputs: Mapping[str, Any],
              defines: dict[str, str] | None = None) -> dict[str, Any]:
    """Outputs of the program (a path to a .yao file, or program text) on ``inputs``."""
    if isinstance(source_or_path, os.PathLike):
        source_or_path = Path(source_or_path)
    if not isinstance(source_or_path, (str, bytes, bytearray, Path)):
        raise InputError(f"a program is a path or its text (str or bytes), not "
                         f"{type(source_or_path).__name__}")
    if not isinstance(inputs, Mapping):
        raise InputError(f"inputs are a mapping of input name to value (one row), not "
                         f"{type(inputs).__name__}")
    if isinstance(source_or_path, Path) or (
            isinstance(source_or_path, str) and "\n" not in source_or_path
            and (source_or_path.endswith(".yao") or Path(source_or_path).is_file())):
        text, filename = read_source(source_or_path)
    else:
        text, filename = source_or_path, "<string>"
    e = elaborate(text, filename, defines)
    g = e.graph
    names = [name for _, name, _ in e.inputs]
    unknown = [k for k in inputs if k not in names]
    if unknown:
        raise InputError(f"unknown input '{unknown[0]}' (the program has: {', '.join(names)})")
    port_bits = []
    for party, name, t in e.inputs:
        if name not in inputs:
            raise InputError(f"missing input '{name}' ({t}, party {party})")
        port_bits.append(t.encode(inputs[name], name))
    roots = e.roots()
    val: dict[int, int] = {}
    for n in g.live(roots):
        op, t = g.op(n), g.type(n)
        if op == "input":
            port, off = g.attr(n)
            val[n] = ops.wrap(t, _bits_value(port_bits[port][off:off + t.width]))
            continue
        args = g.args(n)
        val[n] = ops.evaluate(op, t, [val[a] for a in args], [g.type(a) for a in args], g.attr(n))
    result = {}
    for _, name, t, ns in e.outputs:
        bits = []
        for x in ns:
            u = ops.unsigned_bits(g.type(x), val[x])
            bits.extend((u >> j) & 1 for j in range(g.type(x).width))
        result[name] = t.decode(np.array(bits, dtype=np.uint8))
    return result
