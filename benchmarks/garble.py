"""Garbling and evaluation throughput of the half-gates engine, against this machine's AES.

Usage: ``python benchmarks/garble.py [--json] [--quick]``. Each case runs in its own
subprocess (peak RSS only grows), streaming every table block from the garbler to the
evaluator as the runtime does; garbling and evaluation wall-clock times are summed per block
(inputs and outputs included) and the best of several runs is kept. The ``*_cpu_*`` fields
are the same in process CPU time (what the engine costs when other work shares the machine;
reading the CPU clock per block adds a few percent on circuits with thousands of layers).
The AES limit is the raw AES-128-ECB rate through ``cryptography`` (16 MiB buffers,
``update_into`` a preallocated buffer, best of 5) measured in the same run: a garbled AND
costs 8 AES blocks (4 TCCR hashes), an evaluated AND 4, so
``garble_fraction_of_limit = garble rate / (AES rate / 8)`` and
``eval_fraction_of_limit = eval rate / (AES rate / 4)``.

Every case runs on each garbling engine (``engine``: ``numpy``, and ``native`` where numba
and AES-NI are available), each on the schedule that engine would pick; ``auto_engine`` is
what a run left to choose takes. The native kernels are loaded before timing;
``jit_load_seconds`` is what loading them took in that process (numba's on-disk cache). One
more record, ``case: "jit"``, measures the first-call cost of the native kernels in fresh
processes: ``compile_seconds`` with an empty kernel cache (a new machine or version) and
``cached_load_seconds`` with the cache filled (every later process), both including the
import of numba; ``numba_import_seconds`` is the import alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(os.environ.get("YAOGC_REFERENCE_CIRCUITS", ROOT.parent / "shared" / "circuits"
                                / "bristol"))

FULL = [("aes_128", 1, 20), ("aes_128", 1000, 3), ("sha256", 1, 10), ("sha256", 100, 2),
        ("mult64", 1000, 3), ("wide", 1, 3), ("wide", 16, 2)]
QUICK = [("aes_128", 1, 5), ("aes_128", 1000, 1), ("sha256", 1, 3), ("mult64", 100, 1),
         ("wide", 1, 1)]


def aes_blocks_per_s() -> float:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    enc = Cipher(algorithms.AES(os.urandom(16)), modes.ECB()).encryptor()
    n = 16 << 20
    src = bytearray(n)
    dst = bytearray(n + 16)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        enc.update_into(src, dst)
        best = min(best, time.perf_counter() - t)
    return n / 16 / best


def wide_circuit(width=32768, layers=4, n_in=512, seed=1):
    """``layers`` AND layers of ``width`` gates, each ANDing two XORs of the previous layer's
    outputs (a synthetic shallow, wide circuit)."""
    from yaogc.circuits import Circuit, InputPort, Op, OutputPort, uint
    rng = np.random.default_rng(seed)
    ops, a, b = [], [], []
    prev = np.arange(n_in)
    nxt = n_in
    for _ in range(layers):
        # two operands per AND, each the XOR of two earlier outputs (a NOT when they coincide)
        for _ in range(2):
            p, q = rng.choice(prev, (2, width))
            same = p == q
            ops.append(np.where(same, int(Op.NOT), int(Op.XOR)))
            a.append(p)
            b.append(np.where(same, -1, q))
        ops.append(np.full(width, int(Op.AND)))
        a.append(nxt + np.arange(width))
        b.append(nxt + width + np.arange(width))
        prev = nxt + 2 * width + np.arange(width)
        nxt += 3 * width
    outs = [OutputPort(("garbler",), f"y{i}", uint(256), prev[i:i + 256])
            for i in range(0, width, 256)]
    return Circuit(n_in, np.concatenate(ops), np.concatenate(a), np.concatenate(b),
                   [InputPort("garbler", "x", uint(n_in), np.arange(n_in))], outs,
                   name="wide").check()


_JIT_PROBE = ("import time; t = time.perf_counter(); import numba; "
              "u = time.perf_counter(); from yaogc.gc import native; native.kernels(); "
              "print(u - t, time.perf_counter() - t)")


def jit_cost() -> dict:
    """First-call cost of the native kernels in fresh processes: with an empty numba cache
    (compiling them; a private cache directory, so the real cache is untouched) and then with
    that cache filled (best of 3)."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="yaogc-jit-") as d:
        env = dict(os.environ, NUMBA_CACHE_DIR=d)
        times = []
        for _ in range(4):
            out = subprocess.run([sys.executable, "-c", _JIT_PROBE], env=env,
                                 capture_output=True, text=True, check=True)
            times.append([float(x) for x in out.stdout.split()])
    return {"case": "jit", "engine": "native", "compile_seconds": round(times[0][1], 3),
            "cached_load_seconds": round(min(t[1] for t in times[1:]), 3),
            "numba_import_seconds": round(min(t[0] for t in times[1:]), 3)}


def load(case: str):
    if case == "wide":
        return wide_circuit()
    from yaogc.circuits.bristol import read_bristol
    return read_bristol(REFERENCE / f"{case}.txt")


def run_case(case: str, batch: int, reps: int, engine: str) -> dict:
    from yaogc.circuits.evaluate import evaluate_bits
    from yaogc.gc import Evaluator, Garbler, native
    from yaogc.gc.workload import plan_for
    circuit = load(case)
    t = time.perf_counter()
    auto = plan_for(circuit, batch)[0]
    _, sched = plan_for(circuit, batch, engine)
    schedule_ms = 1e3 * (time.perf_counter() - t)
    if engine == "native":
        native.kernels()
    bits = np.random.default_rng(0).integers(0, 2, (batch, circuit.n_inputs), dtype=np.uint8)
    clock, cpu = time.perf_counter, time.process_time
    best_g = best_e = cpu_g = cpu_e = float("inf")
    for _ in range(reps + 1):          # the first run warms caches and scratch buffers
        t0, u0 = clock(), cpu()
        g = Garbler(sched, batch, engine=engine)
        labels = g.input_labels(bits)
        t1, u1 = clock(), cpu()
        e = Evaluator(sched, batch, engine=engine)
        e.set_inputs(labels)
        t2, u2 = clock(), cpu()
        tg, te, ug, ue = t1 - t0, t2 - t1, u1 - u0, u2 - u1
        runs = g.block_runs()
        while True:
            t0, u0 = clock(), cpu()
            run = next(runs, None)
            t1, u1 = clock(), cpu()
            tg, ug = tg + t1 - t0, ug + u1 - u0
            if run is None:
                break
            e.feed_run(*run)
            te, ue = te + clock() - t1, ue + cpu() - u1
            del run
        t0, u0 = clock(), cpu()
        dec = g.decoding_bits()
        t1, u1 = clock(), cpu()
        out = e.output_colours() ^ dec
        tg, te = tg + t1 - t0, te + clock() - t1
        ug, ue = ug + u1 - u0, ue + cpu() - u1
        best_g, best_e = min(best_g, tg), min(best_e, te)
        cpu_g, cpu_e = min(cpu_g, ug), min(cpu_e, ue)
    check = min(batch, 8)
    if not np.array_equal(out[:check], evaluate_bits(circuit, bits[:check])):
        raise SystemExit(f"{case}: garbled result differs from the plaintext evaluator")
    n = sched.n_and * batch
    return {"case": case if case != "wide" else "wide_synthetic", "batch": batch,
            "engine": engine, "auto_engine": auto, "jit_load_seconds": native.load_seconds(),
            "and_gates": sched.n_and, "and_layers": len(sched.widths),
            "garble_ms": round(1e3 * best_g, 3), "eval_ms": round(1e3 * best_e, 3),
            "total_ms": round(1e3 * (best_g + best_e), 3),
            "garble_cpu_ms": round(1e3 * cpu_g, 3), "eval_cpu_ms": round(1e3 * cpu_e, 3),
            "garble_and_per_s": round(n / best_g), "eval_and_per_s": round(n / best_e),
            "garble_cpu_and_per_s": round(n / cpu_g), "eval_cpu_and_per_s": round(n / cpu_e),
            "table_bytes": 32 * n, "schedule_ms": round(schedule_ms, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON list")
    ap.add_argument("--quick", action="store_true", help="a reduced set, under a minute")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--reps", type=int, default=3, help=argparse.SUPPRESS)
    ap.add_argument("--engine", default="numpy", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case, args.batch, args.reps, args.engine)))
        return
    from yaogc.gc import native
    engines = ["numpy"] + (["native"] if native.available() else [])
    aes = aes_blocks_per_s()
    records = []
    if "native" in engines:
        records.append(jit_cost())
        if not args.json:
            r = records[-1]
            print(f"native kernels: compile {r['compile_seconds']:.2f} s (empty cache), load "
                  f"{r['cached_load_seconds']:.2f} s (cached; numba import "
                  f"{r['numba_import_seconds']:.2f} s)", flush=True)
    for (case, batch, reps), engine in ((c, e) for c in (QUICK if args.quick else FULL)
                                        for e in engines):
        proc = subprocess.run([sys.executable, __file__, "--case", case, "--batch", str(batch),
                               "--reps", str(reps), "--engine", engine],
                              capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(f"case {case} K={batch} ({engine}) failed:\n{proc.stderr}")
        rec = json.loads(proc.stdout.strip().splitlines()[-1])
        rec["aes_blocks_per_s"] = round(aes)
        rec["garble_fraction_of_limit"] = round(rec["garble_and_per_s"] / (aes / 8), 4)
        rec["eval_fraction_of_limit"] = round(rec["eval_and_per_s"] / (aes / 4), 4)
        records.append(rec)
        if not args.json:
            print(f"{rec['case']:>15} K={batch:<5} {engine:6s} garble {rec['garble_and_per_s'] / 1e6:6.2f}M "
                  f"AND/s ({rec['garble_fraction_of_limit']:.1%} of AES), evaluate "
                  f"{rec['eval_and_per_s'] / 1e6:6.2f}M AND/s ({rec['eval_fraction_of_limit']:.1%})"
                  f", {rec['total_ms']:.1f} ms "
                  f"({rec['garble_cpu_ms'] + rec['eval_cpu_ms']:.1f} ms CPU), "
                  f"peak {rec['peak_rss_mb']:.0f} MB", flush=True)
    if args.json:
        print(json.dumps(records))


if __name__ == "__main__":
    main()
