"""``yaogc demo``: a built-in two-party example run as two processes over loopback.

Two hospitals each count the patients they treat for a rare disease and want the combined
count and which of them sees more patients, without showing each other their own count. The
circuit is built here with the Builder: a ripple-carry adder (one AND per bit) and a
borrow-chain comparison (one AND per bit). Semi-honest model, as for every run.
"""

from __future__ import annotations

import json
import sys

from yaogc.circuits.builder import Builder
from yaogc.circuits.circuit import Circuit
from yaogc.circuits.types import BOOL, uint

WIDTH = 16
A, B = "st_anne", "northfield"
DEMO_INPUTS = {A: {"cases_st_anne": 1342}, B: {"cases_northfield": 977}}


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


def demo_circuit() -> tuple[Circuit, tuple[str, str]]:
    """The demo's circuit and its two parties, the garbler first."""
    return hospitals_circuit(), (A, B)


def run_demo(*, json_out: bool = False, timeout: float = 60.0, out=sys.stdout) -> int:
    from .cli_net import print_outputs, stats_line
    from .local import run_local

    circuit, (a, b) = demo_circuit()
    a_in, b_in = DEMO_INPUTS[a], DEMO_INPUTS[b]
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
    print(f"yaogc demo: two hospitals count their patients together; neither shows its own "
          f"count.\nCircuit '{circuit.name}': {st['and']} AND gates, AND-depth "
          f"{st['and_depth']}. Two processes over 127.0.0.1, semi-honest model.\n", file=out)
    for party, role, inp, res in ((a, "garbler", a_in, g), (b, "evaluator", b_in, e)):
        shown = ", ".join(f"{k} = {v}" for k, v in inp.items())
        print(f"{party} ({role}) holds {shown}; it learned:", file=out)
        print_outputs(circuit, res, out=out, indent="    ")
    print(f"\nstats ({b}, evaluator): {stats_line(e.stats)}", file=out)
    return 0
