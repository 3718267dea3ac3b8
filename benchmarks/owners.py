"""Data owners and two compute servers: time and bytes per owner.

Each case runs a whole session through ``yaogc.runtime.owners_local.run_owners_local``: the
garbling server, the evaluating server and one process per data owner (forked from this
process, which compiled the program and scheduled its two-server circuit: interpreter start,
imports, compiling and scheduling are outside every figure and reported apart) talking over
loopback TCP. Cases:

- ``three_hospitals``: the seed scenario, ``examples/three_hospitals.yao``: three hospitals,
  twelve fixed-point readings each, mean and variance to all three;
- ``eight_owners_1000``: the same statistics for 8 owners with 1,000 readings each (a
  generated program of the same form).

Figures per case (the median run of ``repeats``):

- ``owner_seconds``: per owner, from its first connection to its decoded outputs (it waits
  for the other owners and for the computation), mean and max over the owners;
- ``owner_bytes_sent`` / ``owner_bytes_received``: per owner, every byte to and from both
  servers (greeting, hello, shares, start message, output halves);
- ``server_compute_seconds``: the garbling server, from the last owner's arrival to the
  outputs ready (OT, garbled tables, evaluation);
- ``compile_seconds`` and ``schedule_seconds``: compiling the program and scheduling its
  two-server circuit, once per case (a server does the latter before it listens for owners);
- ``link_bytes``: bytes between the two servers (both directions); ``and_gates``.

    python benchmarks/owners.py [--json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def stats_program(owners: int, values: int) -> str:
    """Mean and variance of ``values`` fixed-point readings from each of ``owners`` owners
    (sums in 64 bits: thousands of readings overflow a 32-bit sum)."""
    names = [f"h{i}" for i in range(1, owners + 1)]
    params = ", ".join(f"{n}_values: fix32_16[N] @{n}" for n in names)
    total = " + ".join(f"{n}_values[i]" for n in names)
    diffs = "\n".join(f"        d{n} = {n}_values[i] - mean" for n in names)
    squares = " + ".join(f"d{n} * d{n}" for n in names)
    return (f"party {', '.join(names)}\nconst N = {values}\n"
            f"def main({params}) -> (mean: fix32_16 @both, variance: fix32_16 @both):\n"
            f"    total: fix64_16 = 0\n    for i in range(N):\n        total += {total}\n"
            f"    mean = fix32_16(total / ({owners} * N))\n    squares: fix64_16 = 0\n"
            f"    for i in range(N):\n{diffs}\n        squares += {squares}\n"
            f"    return mean, fix32_16(squares / ({owners} * N))\n")


def readings(circuit, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for p in circuit.inputs:
        n = p.type.width // 32
        out[p.party] = {p.name: [round(float(v), 2) for v in rng.normal(125, 15, n)]}
    return out


def cases(quick: bool):
    """(name, compile function, repeats)."""
    from yaogc.compiler import compile_file, compile_source
    n = 100 if quick else 1000
    return [("three_hospitals", lambda: compile_file(ROOT / "examples" / "three_hospitals.yao"),
             3 if quick else 5),
            (f"eight_owners_{n}", lambda: compile_source(stats_program(8, n),
                                                          f"eight_owners_{n}"), 1 if quick else 2)]


def run_case(name: str, circuit, repeats: int, compile_seconds: float) -> dict:
    from yaogc.circuits.shares import shared_inputs
    from yaogc.runtime.handshake import Roles
    from yaogc.runtime.owners_local import run_owners_local
    from yaogc.runtime.protocol import plan
    t0 = time.perf_counter()
    plan(shared_inputs(circuit), Roles("garbler", "evaluator"), 1)
    schedule_seconds = time.perf_counter() - t0
    inputs = readings(circuit, 1)
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run = run_owners_local(circuit, inputs, timeout=600)
        wall = time.perf_counter() - t0
        runs.append((run, wall))
    runs.sort(key=lambda r: r[0].servers["garbler"].stats["compute_seconds"])
    run, wall = runs[len(runs) // 2]
    own = list(run.owners.values())
    g = run.servers["garbler"].stats
    secs = [o.stats["total_seconds"] for o in own]
    return {
        "case": name,
        "owners": len(own),
        "values_per_owner": circuit.inputs[0].type.width // 32,
        "and_gates": g["and_gates"],
        "owner_seconds_mean": round(statistics.mean(secs), 4),
        "owner_seconds_max": round(max(secs), 4),
        "owner_bytes_sent": max(o.stats["bytes_sent"] for o in own),
        "owner_bytes_received": max(o.stats["bytes_received"] for o in own),
        "server_compute_seconds": g["compute_seconds"],
        "compile_seconds": round(compile_seconds, 3),
        "schedule_seconds": round(schedule_seconds, 3),
        "link_bytes": g["link_bytes_sent"] + g["link_bytes_received"],
        "session_wall_seconds": round(wall, 4),
        "repeats": repeats,
        "outputs": own[0].json_outputs(circuit),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON list")
    ap.add_argument("--quick", action="store_true", help="a reduced set, under a minute")
    args = ap.parse_args(argv)
    rows = []
    for name, make, reps in cases(args.quick):
        t0 = time.perf_counter()
        circuit = make()
        rows.append(run_case(name, circuit, reps, time.perf_counter() - t0))
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'case':<20} {'owners':>6} {'AND gates':>10} {'owner s (mean/max)':>19} "
          f"{'owner sent':>11} {'owner recv':>11} {'compute s':>10} {'link bytes':>12}")
    for r in rows:
        print(f"{r['case']:<20} {r['owners']:>6} {r['and_gates']:>10} "
              f"{r['owner_seconds_mean']:>9.3f}/{r['owner_seconds_max']:<9.3f} "
              f"{r['owner_bytes_sent']:>11} {r['owner_bytes_received']:>11} "
              f"{r['server_compute_seconds']:>10.3f} {r['link_bytes']:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
