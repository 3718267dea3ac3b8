"""``yaogc demo``: built-in examples run as processes over loopback.

``stats`` (the default): two hospitals compute the joint mean and variance of their
patients' blood pressure without pooling the records: ``examples/hospital_stats.yao``
(installed with the package as ``yaogc.examples``) compiled with N=8 readings each, one
hospital garbling, the other evaluating.

``three-hospitals``: three hospitals, twelve readings each (``examples/three_hospitals.yao``),
as data owners of two compute servers: both servers and the three owners run as five
processes, and each hospital learns the mean and the variance and nothing else. Semi-honest
model, as for every run (for the servers: not colluding).
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


THREE = "three_hospitals.yao"
THREE_INPUTS = {
    "north": {"north_values": [128, 135.5, 142, 119, 131, 150, 124, 138, 127, 133, 146, 121]},
    "south": {"south_values": [122, 145, 133.5, 127, 139, 118, 141, 129, 136, 125, 131, 140]},
    "east": {"east_values": [137, 126, 148, 130.5, 122, 144, 135, 128, 139, 151, 117, 132]},
}


def _example(name: str, defines: dict[str, str] | None = None) -> Circuit:
    from yaogc.compiler import compile_source
    source = resources.files("yaogc.examples").joinpath(name).read_text()
    return compile_source(source, name, defines or {})


def three_hospitals_circuit() -> tuple[Circuit, dict[str, dict]]:
    """The three-hospital demo's circuit and each hospital's inputs."""
    return _example(THREE), THREE_INPUTS


def demo_circuit() -> tuple[Circuit, dict[str, dict]]:
    """The demo's circuit and each party's inputs, the garbler (first declared) first."""
    return _example(EXAMPLE, EXAMPLE_DEFINES), EXAMPLE_INPUTS


def run_demo(name: str = "stats", *, json_out: bool = False, timeout: float = 60.0,
             out=sys.stdout) -> int:
    if name == "three-hospitals":
        return run_three_hospitals(json_out=json_out, timeout=timeout, out=out)
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


def run_three_hospitals(*, json_out: bool = False, timeout: float = 60.0,
                        out=sys.stdout) -> int:
    from .cli import format_value
    from .cli_net import _human_bytes, print_outputs
    from .owners_local import run_owners_local

    circuit, inputs = three_hospitals_circuit()
    run = run_owners_local(circuit, inputs, timeout=timeout)
    if json_out:
        print(json.dumps({
            "circuit": circuit.name,
            "owners": {p: {"inputs": inputs[p], "outputs": r.json_outputs(circuit),
                           "stats": r.stats} for p, r in run.owners.items()},
            "servers": {role: r.stats for role, r in run.servers.items()},
        }), file=out)
        return 0
    st = circuit.stats()
    print(f"yaogc demo three-hospitals: three hospitals compute the mean and variance of their "
          f"patients' readings together; none shows its records, and neither of the two "
          f"compute servers sees a reading or a result.\nCircuit '{circuit.name}': "
          f"{st['and']} AND gates, AND-depth {st['and_depth']}. Two servers and three data "
          f"owners as five processes over 127.0.0.1; semi-honest, non-colluding servers.\n",
          file=out)
    for party, res in run.owners.items():
        shown = ", ".join(f"{k} = {format_value(v)}" for k, v in inputs[party].items())
        print(f"{party} holds {shown}", file=out)
        print(f"  sent each server one random share of its {_width(circuit, party)} input "
              f"bits ({_human_bytes(res.stats['bytes_sent'])} in all, received "
              f"{_human_bytes(res.stats['bytes_received'])}); it learned:", file=out)
        print_outputs(circuit, res, out=out, indent="    ")
    g = run.servers["garbler"].stats
    print(f"\nservers: {g['and_gates']} AND gates; the garbler sent the evaluator "
          f"{_human_bytes(g['link_bytes_sent'])}; total {g['total_seconds']:.2f} s", file=out)
    return 0


def _width(circuit: Circuit, party: str) -> int:
    return sum(p.width for p in circuit.inputs if p.party == party)
