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


def load(case: str):
    if case == "wide":
        return wide_circuit()
    from yaogc.circuits.bristol import read_bristol
    return read_bristol(REFERENCE / f"{case}.txt")


def run_case(case: str, batch: int, reps: int) -> dict:
    from yaogc.circuits.evaluate import evaluate_bits
    from yaogc.gc import Evaluator, Garbler, schedule_for
    circuit = load(case)
    t = time.perf_counter()
    sched = schedule_for(circuit, batch)
    schedule_ms = 1e3 * (time.perf_counter() - t)
    bits = np.random.default_rng(0).integers(0, 2, (batch, circuit.n_inputs), dtype=np.uint8)
    clock, cpu = time.perf_counter, time.process_time
    best_g = best_e = cpu_g = cpu_e = float("inf")
    for _ in range(reps + 1):          # the first run warms caches and scratch buffers
        t0, u0 = clock(), cpu()
        g = Garbler(sched, batch)
        labels = g.input_labels(bits)
        t1, u1 = clock(), cpu()
        e = Evaluator(sched, batch)
        e.set_inputs(labels)
        t2, u2 = clock(), cpu()
        tg, te, ug, ue = t1 - t0, t2 - t1, u1 - u0, u2 - u1
        blocks = g.blocks()
        while True:
            t0, u0 = clock(), cpu()
            block = next(blocks, None)
            t1, u1 = clock(), cpu()
            tg, ug = tg + t1 - t0, ug + u1 - u0
            if block is None:
                break
            e.feed(block)
            te, ue = te + clock() - t1, ue + cpu() - u1
            del block
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
    args = ap.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case, args.batch, args.reps)))
        return
    aes = aes_blocks_per_s()
    records = []
    for case, batch, reps in (QUICK if args.quick else FULL):
        proc = subprocess.run([sys.executable, __file__, "--case", case, "--batch", str(batch),
                               "--reps", str(reps)], capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(f"case {case} K={batch} failed:\n{proc.stderr}")
        rec = json.loads(proc.stdout.strip().splitlines()[-1])
        rec["aes_blocks_per_s"] = round(aes)
        rec["garble_fraction_of_limit"] = round(rec["garble_and_per_s"] / (aes / 8), 4)
        rec["eval_fraction_of_limit"] = round(rec["eval_and_per_s"] / (aes / 4), 4)
        records.append(rec)
        if not args.json:
            print(f"{rec['case']:>15} K={batch:<5} garble {rec['garble_and_per_s'] / 1e6:6.2f}M "
                  f"AND/s ({rec['garble_fraction_of_limit']:.1%} of AES), evaluate "
                  f"{rec['eval_and_per_s'] / 1e6:6.2f}M AND/s ({rec['eval_fraction_of_limit']:.1%})"
                  f", {rec['total_ms']:.1f} ms "
                  f"({rec['garble_cpu_ms'] + rec['eval_cpu_ms']:.1f} ms CPU), "
                  f"peak {rec['peak_rss_mb']:.0f} MB", flush=True)
    if args.json:
        print(json.dumps(records))


if __name__ == "__main__":
    main()
