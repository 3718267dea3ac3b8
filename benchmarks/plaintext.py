"""Plaintext evaluator speed and reference-circuit load times.

    python benchmarks/plaintext.py [--json] [--quick]

Records (one JSON list with --json), one per (circuit, rows, engine): ``circuit``, ``rows``,
``engine`` ("auto", "ints" or "levels"), ``gates``, ``pack_seconds`` (packing the rows into
bit-sliced words and unpacking the outputs), ``eval_seconds`` (evaluation on packed words,
best of the repeats, with the level plan already built), ``gate_evals_per_second``
(gates x rows / eval_seconds) and ``plan_seconds`` (building the cached level plan once). One
record per circuit with ``load_seconds`` (reading the Bristol file). ``--quick`` runs AES-128
only, with fewer repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from yaogc.circuits.bristol import read_bristol
from yaogc.circuits.evaluate import (LevelPlan, evaluate_packed_outputs, level_plan, pack_rows,
                                     unpack_rows)

ROOT = Path(__file__).resolve().parent.parent


def reference(name: str) -> Path:
    default = ROOT.parent / "shared" / "circuits" / "bristol"
    d = Path(os.environ.get("YAOGC_REFERENCE_CIRCUITS", default))
    p = d / name
    if not p.is_file():
        raise SystemExit(f"reference circuit {p} not found (set YAOGC_REFERENCE_CIRCUITS)")
    return p


def best_of(f, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench(name: str, rows_list, engines, repeats: int) -> list[dict]:
    path = reference(name)
    load, circuit = best_of(lambda: read_bristol(path), repeats)
    plan_t, _ = best_of(lambda: LevelPlan(circuit), 1)
    level_plan(circuit)
    records = [{"circuit": name, "load_seconds": load, "gates": circuit.n_gates,
                "plan_seconds": plan_t}]
    rng = np.random.default_rng(0)
    for rows in rows_list:
        bits = rng.integers(0, 2, (rows, circuit.n_inputs), dtype=np.uint8)
        pack_t, packed = best_of(lambda: pack_rows(bits), repeats)
        for engine in engines:
            if engine == "ints" and rows * circuit.n_gates > 2e9:
                continue  # minutes on Python integers: not informative
            eval_t, out = best_of(lambda: evaluate_packed_outputs(circuit, packed, engine), repeats)
            unpack_t, _ = best_of(lambda: unpack_rows(out, rows), repeats)
            records.append({"circuit": name, "rows": rows, "engine": engine,
                            "gates": circuit.n_gates, "pack_seconds": pack_t + unpack_t,
                            "eval_seconds": eval_t,
                            "gate_evals_per_second": circuit.n_gates * rows / eval_t})
    return records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON list")
    ap.add_argument("--quick", action="store_true", help="AES-128 only, fewer repeats")
    args = ap.parse_args()
    engines = ("auto", "ints", "levels")
    if args.quick:
        plan = [("aes_128.txt", (1, 100_000))]
        repeats = 2
    else:
        plan = [("aes_128.txt", (1, 64, 1000, 100_000)), ("sha256.txt", (1, 64, 1000, 100_000))]
        repeats = 3
    records = []
    for name, rows in plan:
        records += bench(name, rows, engines, repeats)
    if args.json:
        print(json.dumps(records))
        return
    for r in records:
        if "load_seconds" in r:
            print(f"{r['circuit']}: {r['gates']} gates, read {r['load_seconds'] * 1e3:.1f} ms, "
                  f"level plan {r['plan_seconds'] * 1e3:.1f} ms")
        else:
            print(f"  {r['rows']:>7} rows {r['engine']:>6}: eval {r['eval_seconds'] * 1e3:9.2f} ms "
                  f"({r['gate_evals_per_second'] / 1e6:8.1f} M gate-evals/s), "
                  f"pack+unpack {r['pack_seconds'] * 1e3:7.2f} ms")


if __name__ == "__main__":
    main()
