"""Graphviz DOT export of small circuits, for looking at what the compiler emitted.

Inputs are boxes named after their port and bit (``a[3]``), gates are ellipses labelled with
their op (AND gates filled, since they are the ones that cost), outputs are double octagons.
Circuits above ``max_gates`` gates are refused: a drawing of thousands of gates helps no one.
"""

from __future__ import annotations

from .circuit import Circuit, Op
from .errors import InputError

DEFAULT_MAX_GATES = 2000


class TooLargeError(InputError):
    """A circuit too large to draw."""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(circuit: Circuit, max_gates: int = DEFAULT_MAX_GATES) -> str:
    """The circuit as a DOT digraph (``dot -Tsvg`` renders it)."""
    if circuit.n_gates > max_gates:
        raise TooLargeError(f"circuit '{circuit.name}' has {circuit.n_gates} gates; DOT export is "
                            f"for circuits of at most {max_gates} gates")
    n_in = circuit.n_inputs
    lines = [f"digraph {_quote(circuit.name)} {{", "  rankdir=TB;",
             '  node [fontname="Helvetica", fontsize=10];']
    for p in circuit.inputs:
        for j, w in enumerate(p.wires.tolist()):
            label = p.name if p.width == 1 else f"{p.name}[{j}]"
            lines.append(f"  w{w} [shape=box, label={_quote(label)}, tooltip={_quote(p.party)}];")
    ops, a, b = circuit.op.tolist(), circuit.in0.tolist(), circuit.in1.tolist()
    for k, o in enumerate(ops):
        w = n_in + k
        name = Op(o).name
        if o == Op.CONST0 or o == Op.CONST1:
            bit = "0" if o == Op.CONST0 else "1"
            lines.append(f"  w{w} [shape=plaintext, label={_quote(bit)}];")
            continue
        style = ', style=filled, fillcolor="#f4c7c3"' if o == Op.AND else ""
        lines.append(f"  w{w} [shape=ellipse, label={_quote(name)}{style}];")
        lines.append(f"  w{a[k]} -> w{w};")
        if o != Op.NOT:
            lines.append(f"  w{b[k]} -> w{w};")
    for i, o in enumerate(circuit.outputs):
        for j, w in enumerate(o.wires.tolist()):
            label = o.name if o.width == 1 else f"{o.name}[{j}]"
            lines.append(f"  out{i}_{j} [shape=doubleoctagon, label={_quote(label)}, "
                         f"tooltip={_quote(', '.join(o.recipients))}];")
            lines.append(f"  w{w} -> out{i}_{j};")
    lines.append("}")
    return "\n".join(lines) + "\n"
