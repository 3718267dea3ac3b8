"""Program text to first garbled table: compile, schedule and garbling time of large programs.

Usage: ``python benchmarks/frontend.py [--json] [--quick] [--only TEXT] [--repeat K]``.
Each case runs in a fresh subprocess (its peak RSS is its own) and reports: gates of the
final circuit (AND + XOR + NOT), ``compile_s`` (program text, or a Bristol file, to Circuit,
nothing cached), ``schedule_s`` (``schedule_for(circuit, 1)``), their gates per second, peak
RSS after scheduling and bytes per gate, ``garble_eval_s`` (garbling and evaluating one
instance in the same process, best of two) and ``frontend_to_gc_ratio`` = (compile +
schedule) / (garble + evaluate); the same in CPU seconds of the process (``compile_cpu_s``,
``schedule_cpu_s``, ``garble_eval_cpu_s``, ``frontend_to_gc_cpu_ratio``), which a machine
busy with other work inflates less than the wall-clock figures. The compiled kernels are
loaded from numba's cache, which a warm-up compile in the parent fills first; the cost of
loading them is part of ``compile_s``. The parent also writes the modules' byte-code, as
installing the package does.

Each case is compiled and scheduled as a first ``yaogc run`` of the program does: nothing in
the cache (a fresh ``YAOGC_CACHE_DIR``), the circuit and its schedule written to it. A second
fresh process then starts as the second run of the same program does, from that cache:
``cached_compile_s``, ``cached_schedule_s`` (read and verified), ``cached_text_to_schedule_s``
(from the start of the process, imports included), ``cached_garble_eval_s`` (that process's
own garbling and evaluation) and ``cached_frontend_to_gc_ratio`` (the two divided).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()     # a second run's wait starts with the process's imports

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(os.environ.get("YAOGC_REFERENCE_CIRCUITS", ROOT.parent / "shared" / "circuits"
                                / "bristol"))
EX = ROOT / "examples"

# name -> (source, -D values); a source ending in .txt is a Bristol reference circuit
FULL = {
    "count_above N=20000": ("count_above.yao", {"N": "20000"}),
    "psi_size N=300": ("psi_size.yao", {"N": "300"}),
    "hospital_stats N=5000": ("hospital_stats.yao", {"N": "5000"}),
    "sort 1024 values": ("sort.yao", {"N": "512"}),
    "match_flags N=300": ("match_flags.yao", {"N": "300"}),
    "dot product 1000 x u32": ("dot_product.yao", {"N": "1000"}),
    "histogram N=5000 x 16 bins": ("histogram.yao", {"N": "5000"}),
    "sha256 (Bristol)": ("sha256.txt", {}),
    "aes_128 (Bristol)": ("aes_128.txt", {}),
}
QUICK = {
    "count_above N=2000": ("count_above.yao", {"N": "2000"}),
    "psi_size N=60": ("psi_size.yao", {"N": "60"}),
    "hospital_stats N=200": ("hospital_stats.yao", {"N": "200"}),
    "sort 128 values": ("sort.yao", {"N": "64"}),
    "match_flags N=60": ("match_flags.yao", {"N": "60"}),
    "dot product 100 x u32": ("dot_product.yao", {"N": "100"}),
    "histogram N=500 x 16 bins": ("histogram.yao", {"N": "500"}),
    "sha256 (Bristol)": ("sha256.txt", {}),
    "aes_128 (Bristol)": ("aes_128.txt", {}),
}


def _rss_mb() -> float:
    """This process's peak resident memory so far: on Linux the high-water mark of its
    address space (VmHWM), which starts afresh at exec. ``ru_maxrss`` does not: Linux
    carries the parent's resident size at the fork across the exec, so a case smaller than
    this benchmark's own process (about 160 MB once it has filled numba's cache) reported
    that size instead of its own."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _garble_eval(sched, circuit) -> float:
    from yaogc.gc import Evaluator, Garbler
    bits = np.random.default_rng(0).integers(0, 2, (1, circuit.n_inputs), dtype=np.uint8)
    best = best_cpu = float("inf")
    for _ in range(2):
        t, c = time.perf_counter(), time.process_time()
        g = Garbler(sched, 1)
        e = Evaluator(sched, 1)
        e.set_inputs(g.input_labels(bits))
        for block in g.blocks():
            e.feed(block)
        e.output_colours() ^ g.decoding_bits()
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best, best_cpu


def run_case(name: str, source: str, defines: dict) -> dict:
    from yaogc.circuits.circuit import Op
    from yaogc.circuits.schedule import use_disk_cache
    from yaogc.gc import schedule_for
    from yaogc.compiler import deep
    deep.FREEZE_SURVIVORS = True    # as in the process of a yaogc command
    phases: dict[str, float] = {}
    c0 = time.process_time()
    t0 = time.perf_counter()
    if source.endswith(".txt"):
        from yaogc.circuits.bristol import read_bristol
        circuit = read_bristol(REFERENCE / source)
    else:
        from yaogc.compiler import compile_cached
        circuit, _ = compile_cached(EX / source, defines, schedule_next=True,
                                    progress=lambda ph, g, s: phases.__setitem__(ph, round(s, 3)))
    t1, c1 = time.perf_counter(), time.process_time()
    rss_compile = _rss_mb()
    use_disk_cache(True)
    sched = schedule_for(circuit, 1)
    t2, c2 = time.perf_counter(), time.process_time()
    rss = _rss_mb()
    ge, ge_cpu = _garble_eval(sched, circuit)
    gates = circuit.n_gates
    compile_s, schedule_s = t1 - t0, t2 - t1
    return {
        "case": name, "gates": gates, "and": circuit.count(Op.AND),
        "xor": circuit.count(Op.XOR), "not": circuit.count(Op.NOT),
        "and_depth": circuit.and_depth,
        "compile_s": round(compile_s, 3), "compile_phases_s": phases,
        "schedule_s": round(schedule_s, 3),
        "compile_gates_per_s": round(gates / compile_s),
        "schedule_gates_per_s": round(gates / schedule_s) if schedule_s else None,
        "text_to_schedule_s": round(compile_s + schedule_s, 3),
        "peak_rss_compile_mb": round(rss_compile, 1),
        "peak_rss_mb": round(rss, 1),
        "bytes_per_gate": round(rss * 2**20 / gates, 1),
        "garble_eval_s": round(ge, 4),
        "frontend_to_gc_ratio": round((compile_s + schedule_s) / ge, 2),
        # CPU seconds of this process (all threads): what the wall-clock figures come down
        # to when nothing else runs on the machine
        "compile_cpu_s": round(c1 - c0, 3), "schedule_cpu_s": round(c2 - c1, 3),
        "garble_eval_cpu_s": round(ge_cpu, 4),
        "frontend_to_gc_cpu_ratio": round((c2 - c0) / ge_cpu, 2) if ge_cpu else None,
        "peak_rss_with_gc_mb": round(_rss_mb(), 1),
    }


def run_cached(name: str, source: str, defines: dict, started: float) -> dict:
    """The second run of a case: circuit and schedule from the cache the first one filled."""
    from yaogc.circuits.schedule import use_disk_cache
    from yaogc.gc import schedule_for
    t0 = time.perf_counter()
    if source.endswith(".txt"):
        from yaogc.circuits.bristol import read_bristol
        circuit, cached = read_bristol(REFERENCE / source), False
    else:
        from yaogc.compiler import compile_cached
        circuit, info = compile_cached(EX / source, defines, schedule_next=True)
        cached = info["cached"]
    t1 = time.perf_counter()
    use_disk_cache(True)
    sched = schedule_for(circuit, 1)
    t2 = time.perf_counter()
    ge, _ = _garble_eval(sched, circuit)
    return {"case": name, "compile_was_cached": cached, "cached_compile_s": round(t1 - t0, 3),
            "cached_schedule_s": round(t2 - t1, 3),
            "cached_text_to_schedule_s": round(t2 - started, 3),
            "cached_garble_eval_s": round(ge, 4),
            "cached_frontend_to_gc_ratio": round((t2 - started) / ge, 2)}


def _median(runs: list[dict]) -> dict:
    """One record of several runs of a case: each number the median of the runs (the
    first run's for the rest), and with more than one run, ``runs``: per timed figure, its
    smallest and largest value. On a virtual machine whose host takes back the guest's free
    memory, touching memory the host took back costs about 2 s a GB, so the same case varied
    by a third between single runs here."""
    if len(runs) == 1:
        return runs[0]
    out = dict(runs[0])
    for k, v in runs[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            vals = sorted(r[k] for r in runs)
            out[k] = vals[len(vals) // 2]
    out["runs"] = {k: [min(r[k] for r in runs), max(r[k] for r in runs)] for k in
                   ("compile_s", "schedule_s", "text_to_schedule_s", "garble_eval_s",
                    "cached_text_to_schedule_s")}
    return out


def _subprocess(args: list[str], env: dict) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          env=env)
    if proc.returncode:
        raise SystemExit(f"case {args} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON list")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, under a minute")
    ap.add_argument("--only", metavar="TEXT", help="run only the cases whose name contains TEXT")
    ap.add_argument("--repeat", type=int, default=1, metavar="K",
                    help="run each case K times (fresh processes) and report the median of "
                         "each figure (and the runs' spread in 'runs')")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--cached", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    cases = QUICK if args.quick else FULL
    if args.only:
        cases = {k: v for k, v in cases.items() if args.only in k}
    if args.case:
        source, defines = {**FULL, **QUICK}[args.case]
        if args.cached:
            print(json.dumps(run_cached(args.case, source, defines, STARTED)))
        else:
            print(json.dumps(run_case(args.case, source, defines)))
        return
    # byte-code of yaogc's modules, as an installed package has it (pip writes it at install;
    # where PYTHONDONTWRITEBYTECODE is set, every process would otherwise compile them anew,
    # about 0.4 s, in what it reports as compile time)
    for package in ("yaogc", "circuits", "compiler", "gc", "runtime", "ml"):
        compileall.compile_dir(str(ROOT / package), quiet=1)
    # fill numba's cache of compiled kernels, as any earlier large compile on this machine
    # would (a first compile ever also pays numba's compilation of them, once per install)
    from yaogc.circuits import jit
    from yaogc.compiler import compile_file
    from yaogc.gc import schedule_for
    jit.SMALL = 0
    schedule_for(compile_file(EX / "count_above.yao", {"N": "3"}), 1)
    records = []
    for name in cases:
        runs = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="yaogc-frontend-") as cache:
                env = {**os.environ, "YAOGC_CACHE_DIR": cache}
                rec = _subprocess(["--case", name], env)
                second = _subprocess(["--case", name, "--cached"], env)
            rec.update({k: v for k, v in second.items() if k != "case"})
            runs.append(rec)
        rec = _median(runs)
        records.append(rec)
        if not args.json:
            print(f"{name:>24}: {rec['gates'] / 1e6:7.2f}M gates, compile {rec['compile_s']:6.2f} s "
                  f"({rec['compile_gates_per_s'] / 1e6:5.2f}M/s), schedule {rec['schedule_s']:6.2f} s "
                  f"({(rec['schedule_gates_per_s'] or 0) / 1e6:5.1f}M/s), peak "
                  f"{rec['peak_rss_mb']:6.0f} MB ({rec['bytes_per_gate']:.0f} B/gate), garble+eval "
                  f"{rec['garble_eval_s']:.3f} s, ratio {rec['frontend_to_gc_ratio']:.1f}x; "
                  f"second run {rec['cached_text_to_schedule_s']:.2f} s, ratio "
                  f"{rec['cached_frontend_to_gc_ratio']:.1f}x", flush=True)
    if args.json:
        print(json.dumps(records))


if __name__ == "__main__":
    main()
