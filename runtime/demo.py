"""``yaogc demo``: a built-in two-party example run as two processes over loopback.

Two hospitals compute the joint mean and variance of their patients' blood pressure without
pooling the records: ``examples/hospital_stats.yao`` compiled with N=8 readings each. Where
the example programs are not at hand (an installed package without the checkout), the demo
falls back to a circuit built here with the Builder: two hospitals learn their combined
count of patients and which one sees more, from a ripple-carry adder and a borrow-chain
comparison (one AND per bit each). Semi-honest model, as for every run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from yaogc.circuits.builder import Builder
from yaogc.circuits.circuit import Circuit
from yaogc.circuits.types import BOOL, uint

WIDTH = 16
A, B = "st_anne", "northfield"
BUILDER_INPUTS = {A: {"cases_st_anne": 1342}, B: {"cases_northfield": 977}}
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "hospital_stats.yao"
EXAMPLE_DEFINES = {"N": "8"}
EXAMPLE_INPUTS = {
    "north": {"north_values": [128, 135.5, 142, 119, 131, 150, 124, 138]},
    "south": {"south_values": [122, 145, 133.5, 127, 139, 118, 141, 129]},
}


def _maj(b: Builder, x: int, y: int, z: int) -> int:
    """Majority of three bits with one AND: z ^ ((x ^ z) & (y ^ z))."""
    return b.xor(z, b.and_(b.xor(x, z), b.xor(y, z)))


def hospitals_circuit(width: int = WIDTH) -> Circuit:
    """total = a + b (width + 1 bits) and a_sees_more = a > b, both to both hospitals."""
    b = Builder("hospitals", parties=(A, B))
    x = b.input(A, "cases_st_anne", uint(width))
    y = b.input(B, "cases_northfield", uint(width))
    carry, total = 0, []
    for xi, yi in zip(x, y):
        total.append(b.xor(b.xor(xi, yi), carry))
        carry = _maj(b, xi, yi, carry)
    total.append(carry)
    borrow = 0  # borrow out of y - x: set exactly when x > y
    for xi, yi in zip(x, y):
        borrow = _maj(b, b.not_(yi), xi, borrow)
    b.output((A, B), "total_cases", uint(width + 1), total)
    b.output((A, B), "st_anne_sees_more", BOOL, [borrow])
    return b.build()


def demo_circuit() -> tuple[Circuit, dict[str, dict]]:
    """The demo's circuit and each party's inputs, the garbler (first declared) first."""
    if EXAMPLE.is_file():
        from yaogc.compiler import compile_file
        return compile_file(EXAMPLE, EXAMPLE_DEFINES), EXAMPLE_INPUTS
    return hospitals_circuit(), BUILDER_INPUTS


def run_demo(*, json_out: bool = False, timeout: float = 60.0, out=sys.stdout) -> int:
    from .cli import format_value
    from .cli_net import print_outputs, stats_line
    from .local import run_local

    circuit, inputs = demo_circuit()
    (a, a_in), (b, b_in) = inputs.items()
    run = run_local(circuit, a_in, b_in, garbler=a, timeout=timeout)
    g, e = run.garbler, run.evaluator
    if json_out:
        print(json.dumps({
            "circuit": circuit.name,
            "parties": {a: {"role": "garbler", "inputs": a_in,
                            "outputs": g.json_outputs(circuit), "stats": g.stats},
                        b: {"role": "evaluator", "inputs": b_in,
                            "outputs": e.json_outputs(circuit), "stats": e.stats}},
        }), file=out)
        return 0
    st = circuit.stats()
    print(f"yaogc demo: two hospitals compute statistics over their patients together; "
          f"neither shows its own records.\nCircuit '{circuit.name}': {st['and']} AND gates, "
          f"AND-depth {st['and_depth']}. Two processes over 127.0.0.1, semi-honest model.\n",
          file=out)
    for party, role, inp, res in ((a, "garbler", a_in, g), (b, "evaluator", b_in, e)):
        shown = ", ".join(f"{k} = {format_value(v)}" for k, v in inp.items())
        print(f"{party} ({role}) holds {shown}; it learned:", file=out)
        print_outputs(circuit, res, out=out, indent="    ")
    print(f"\nstats ({b}, evaluator): {stats_line(e.stats)}", file=out)
    return 0
