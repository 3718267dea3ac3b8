"""End-to-end two-party runs between two processes over loopback TCP.

Each case runs the whole protocol (handshake, garbler's labels, OT extension, streamed tables,
output decoding) through ``yaogc.runtime.local.run_local``: the garbler and the evaluator are
processes started from a fork server, each scheduling the circuit before it connects (as two
separately started ``yaogc run`` commands do), so interpreter start, imports and scheduling
are outside every figure. Times are the evaluator's (it finishes last):

- ``setup_seconds``: from just before its TCP connect to the first table byte received
  (greeting, handshake, garbler's input labels, base OT + IKNP for all its input bits);
- ``seconds``: from the first table byte to its decoded outputs; ``and_per_s`` = and_gates /
  seconds, with ``and_gates`` the total over the batch;
- ``table_bytes_per_and``: garbled-table bytes per AND (half-gates: 32);
- ``bytes_per_and``: every byte in both directions (framing, inputs, OT, tables, outputs) per
  AND;
- ``cpu_and_per_s``: and_gates over the larger of the two parties' CPU time (all threads) from
  the start of the tables phase to the end: what the wall-clock rate would be with a core
  for each party and nothing else running (the wall-clock figures suffer on a shared machine).

Each case runs once per garbling engine (``engine``: numpy, native; both parties use it;
the native one only where it can run), ``repeats`` times each, and reports the run with the
median ``seconds``; ``auto_engine`` is what a run picks when left to choose. The native
engine's kernels are loaded (from numba's on-disk cache) before connecting, outside every
figure; ``jit_load_seconds`` is what that took in the evaluator process.

With ``--malicious`` every case also runs in malicious mode (dual execution with KOS15 OT,
``yaogc run --malicious``), reported beside the semi-honest record (``mode``) with
``vs_semi_honest``: its ``total_seconds`` (connect to decoded, checked outputs) and its bytes
in both directions, each divided by the semi-honest run's. In that mode ``seconds`` runs
from the first table byte of run 1 to the end (both runs and the output check).

    python benchmarks/e2e.py [--json] [--quick] [--malicious]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

from yaogc.circuits.bristol import load_circuit

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "circuits" / "bristol"


def cases(quick: bool) -> list[tuple[str, int, int]]:
    """(circuit, batch K, repeats)."""
    if quick:
        return [("aes_128", 200, 2), ("aes_128", 1, 3), ("sha256", 1, 2)]
    return [("aes_128", 1000, 3), ("aes_128", 1, 7), ("sha256", 1, 3), ("aes_128", 100, 3),
            ("sha256", 100, 2)]


def random_inputs(circuit, k: int, seed: int):
    rng = np.random.default_rng(seed)
    rows = {"garbler": [], "evaluator": []}
    for _ in range(k):
        row = {"garbler": {}, "evaluator": {}}
        for p in circuit.inputs:
            row[p.party][p.name] = int.from_bytes(rng.bytes(p.width // 8), "big")
        for party in rows:
            rows[party].append(row[party])
    return rows["garbler"], rows["evaluator"]


def measure(name: str, k: int, repeats: int, reference: Path, engine: str,
            malicious: bool = False) -> dict:
    from yaogc.gc.workload import plan_for
    from yaogc.runtime.local import run_local
    circuit = load_circuit(str(reference / f"{name}.txt"))
    g_rows, e_rows = random_inputs(circuit, k, seed=k)
    runs = []
    for _ in range(repeats):
        run = run_local(circuit, g_rows, e_rows, timeout=120, start_method="forkserver",
                        engine=engine, malicious=malicious)
        e = run.evaluator
        m, st = e.marks, e.stats
        runs.append({
            "seconds": m["end"] - m["first_table"],
            "setup_seconds": m["first_table"] - m["start"],
            "total_seconds": st["total_seconds"],
            "ot_seconds": st["ot_seconds"],
            "and_gates": st["and_gates"],
            "table_bytes": st["table_bytes"],
            "bytes": st["bytes_sent"] + st["bytes_received"],
            "cpu_seconds": max(x.marks["cpu_end"] - x.marks["cpu_tables"]
                               for x in (run.garbler, e)),
            "setup_cpu_seconds": max(x.marks["cpu_tables"] - x.marks["cpu_start"]
                                     for x in (run.garbler, e)),
            "engines": (run.garbler.stats["engine"], st["engine"]),
            "jit_load_seconds": st.get("jit_load_seconds"),
        })
    runs.sort(key=lambda r: r["seconds"])
    r = runs[len(runs) // 2]
    ands = r["and_gates"]
    if set(r["engines"]) != {engine}:
        raise SystemExit(f"{name}: asked for the {engine} engine, the parties ran {r['engines']}")
    return {
        "case": name,
        "batch": k,
        "engine": engine,
        "mode": "malicious" if malicious else "semi-honest",
        "auto_engine": plan_for(circuit, k)[0],
        "jit_load_seconds": r["jit_load_seconds"],
        "and_gates": ands,
        "seconds": round(r["seconds"], 6),
        "and_per_s": round(ands / r["seconds"]) if r["seconds"] > 0 else None,
        "setup_seconds": round(r["setup_seconds"], 6),
        "setup_seconds_median": round(statistics.median(x["setup_seconds"] for x in runs), 6),
        "setup_cpu_seconds": round(min(x["setup_cpu_seconds"] for x in runs), 6),
        "ot_seconds": round(r["ot_seconds"], 6),
        "total_seconds": round(r["total_seconds"], 6),
        "bytes": r["bytes"],
        "table_bytes_per_and": r["table_bytes"] / ands,
        "bytes_per_and": round(r["bytes"] / ands, 4),
        "cpu_and_per_s": round(ands / r["cpu_seconds"]) if r["cpu_seconds"] > 0 else None,
        "repeats": repeats,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON list")
    ap.add_argument("--quick", action="store_true", help="a reduced set, under a minute")
    ap.add_argument("--case", action="append", metavar="NAME:K:REPEATS",
                    help="run only these cases (e.g. sha256:1:7); repeatable")
    ap.add_argument("--malicious", action="store_true",
                    help="also run each case in malicious mode (dual execution), side by side")
    ap.add_argument("--reference", type=Path, default=REFERENCE,
                    help="folder of the Bristol reference circuits")
    args = ap.parse_args(argv)
    if not args.reference.is_dir():
        print(f"e2e: reference circuits not found in {args.reference}", file=sys.stderr)
        return 2
    from yaogc.gc import native
    engines = ["numpy"] + (["native"] if native.available() else [])
    records = []
    todo = cases(args.quick)
    if args.case:
        try:
            todo = [(n, int(k), int(r)) for n, k, r in (c.split(":") for c in args.case)]
        except ValueError:
            print("e2e: --case wants NAME:K:REPEATS, e.g. sha256:1:7", file=sys.stderr)
            return 2
    for name, k, repeats in todo:
        for engine in engines:
            rec = measure(name, k, repeats, args.reference, engine)
            records.append(rec)
            if not args.json:
                _show(rec)
            if args.malicious:
                mal = measure(name, k, repeats, args.reference, engine, malicious=True)
                mal["vs_semi_honest"] = {
                    "time": round(mal["total_seconds"] / rec["total_seconds"], 3),
                    "bytes": round(mal["bytes"] / rec["bytes"], 3)}
                records.append(mal)
                if not args.json:
                    _show(mal)
    if args.json:
        print(json.dumps(records))
    return 0


def _show(rec: dict) -> None:
    vs = rec.get("vs_semi_honest")
    ratio = f"  x{vs['time']:.2f} time, x{vs['bytes']:.2f} bytes" if vs else ""
    print(f"{rec['case']:8s} K={rec['batch']:<5d} {rec['engine']:6s} {rec['mode']:11s} "
          f"{rec['and_gates']:>10d} AND  {rec['seconds'] * 1e3:9.2f} ms  "
          f"{rec['and_per_s'] / 1e6:7.2f} M AND/s  setup {rec['setup_seconds'] * 1e3:7.2f} ms "
          f"(CPU {rec['setup_cpu_seconds'] * 1e3:.1f})  "
          f"total {rec['total_seconds'] * 1e3:9.2f} ms  {rec['bytes_per_and']:.2f} B/AND  "
          f"(CPU-bound {rec['cpu_and_per_s'] / 1e6:.2f} M AND/s){ratio}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
