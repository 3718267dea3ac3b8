"""``yaogc demo``: a built-in two-party example run as two processes over loopback.

Two hospitals compute the joint mean and variance of their patients' blood pressure without
pooling the records: ``examples/hospital_stats.yao`` (installed with the package as
``yaogc.examples``) compiled with N=8 readings each. Semi-honest model, as for every run.
"""

from __future__ import annotations

import json
import sys
from importlib import resources

from yaogc.circuits.circuit import Circuit

EXAMPLE = "hospital_stats.yao"
EXAMPLE_DEFINES = {"N": "8"}
EXAMPLE_INPUTS = {
    "north": {"north_values": [128, 135.5, 142, 119, 131, 150, 124, 138]},
    "south": {"south_values": [122, 145, 133.5, 127, 139, 118, 141, 129]},
}


def demo_circuit() -> tuple[Circuit, dict[str, dict]]:
    """The demo's circuit and each party's inputs, the garbler (first declared) first."""
    from yaogc.compiler import compile_source
    source = resources.files("yaogc.examples").joinpath(EXAMPLE).read_text()
    return compile_source(source, EXAMPLE, EXAMPLE_DEFINES), EXAMPLE_INPUTS


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
