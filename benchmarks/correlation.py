"""Two hospitals' paired measurements: the means, variances and Pearson correlation of N pairs
(``examples/correlation.yao``: body-mass index at one hospital, HbA1c at the other, for the
same N patients, as ``fix16_8`` by default or ``--type fix32_16`` etc., passed as ``-D Fix=``),
compared with numpy on the same encoded values.

Steps, each timed: ``yaogc compile`` (the program compiled into a fresh cache, as a site
prepares a run), then both parties' ``yaogc run`` started together from that cache, to both
having printed their results. Reported: AND gates in all and per pair, bytes both ways, every
phase of the run (``compile_seconds`` there is the cached circuit's loading), the wall-clock
seconds of both steps and their sum (program text to results), the peak memory of each step
and the largest error against numpy's mean, var and corrcoef of the encoded values.

    python benchmarks/correlation.py [--json] [--quick] [-N N] [--type fixW_F]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "examples" / "correlation.yao"
CLI = [sys.executable, "-m", "yaogc.runtime.cli"]
PHASES = ("compile_seconds", "schedule_seconds", "setup_seconds", "ot_seconds", "gc_seconds",
          "total_seconds", "engine")


def data(n: int, frac: int = 8):
    """BMI and an HbA1c correlated with it, on the grid of 2^-frac (what the parties encode)."""
    rng = np.random.default_rng(2026)
    bmi = rng.normal(27, 5, n)
    a1c = 6 + 0.08 * (bmi - 27) + rng.normal(0, 0.9, n)
    one = 1 << frac
    return np.round(bmi * one) / one, np.round(a1c * one) / one


def frac_bits(type_name: str) -> int:
    m = re.fullmatch(r"fix(\d+)_(\d+)", type_name)
    if not m or int(m.group(1)) < 8 + int(m.group(2)):
        raise SystemExit(f"--type {type_name}: want fixW_F with W - F >= 8 (values up to 127)")
    return int(m.group(2))


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run(n: int, type_name: str = "fix16_8") -> dict:
    x, y = data(n, frac_bits(type_name))
    with tempfile.TemporaryDirectory(prefix="yaogc-corr-") as d:
        d = Path(d)
        env = {**os.environ, "YAOGC_CACHE_DIR": str(d / "cache")}
        (d / "north.json").write_text(json.dumps({"x": x.tolist()}))
        (d / "south.json").write_text(json.dumps({"y": y.tolist()}))
        defines = ["-D", f"N={n}", "-D", f"Fix={type_name}"]
        t0 = time.perf_counter()
        comp = subprocess.run(CLI + ["compile", str(PROGRAM), *defines, "--strict", "--json",
                                     "-o", str(d / "c.yaoc")],
                              capture_output=True, text=True, env=env)
        compile_s = time.perf_counter() - t0
        if comp.returncode:
            raise SystemExit(f"compile failed:\n{comp.stderr}")
        compile_peak = _children_peak_mb()
        port = free_port()
        t1 = time.perf_counter()
        north = subprocess.Popen(CLI + ["run", str(PROGRAM), *defines, "--as", "north",
                                        "--inputs", str(d / "north.json"), "--listen",
                                        f"127.0.0.1:{port}", "--json"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env)
        south = subprocess.run(CLI + ["run", str(PROGRAM), *defines, "--as", "south",
                                      "--inputs", str(d / "south.json"), "--connect",
                                      f"127.0.0.1:{port}", "--json"],
                               capture_output=True, text=True, env=env)
        n_out, n_err = north.communicate(600)
        run_s = time.perf_counter() - t1
        if south.returncode or north.returncode:
            raise SystemExit(f"run failed:\n{n_err}\n{south.stderr}")
    ns, ss = json.loads(n_out), json.loads(south.stdout)
    got = ss.get("outputs", ss)
    want = {"mean_x": x.mean(), "mean_y": y.mean(), "var_x": x.var(), "var_y": y.var(),
            "r": float(np.corrcoef(x, y)[0, 1])}
    errors = {k: abs(float(got[k]) - v) for k, v in want.items()}
    assert got == ns.get("outputs", ns), "the two hospitals learned different results"
    st = ss["stats"]
    return {"case": f"correlation N={n} {type_name}", "pairs": n, "and_gates": st["and_gates"],
            "and_gates_per_pair": round(st["and_gates"] / n),
            "bytes": st["bytes_sent"] + st["bytes_received"],
            "compile_step_seconds": round(compile_s, 3),
            "run_step_seconds": round(run_s, 3),
            "program_to_results_seconds": round(compile_s + run_s, 3),
            "compile_peak_mb": round(compile_peak, 1),
            "run_peak_mb_per_party": round(_children_peak_mb(), 1),
            "north": {k: ns["stats"].get(k) for k in PHASES},
            "south": {k: st.get(k) for k in PHASES},
            "results": {k: float(got[k]) for k in want}, "numpy": want,
            "max_error": max(errors.values()), "errors": errors}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="1,000 pairs")
    ap.add_argument("-N", type=int, default=10000, help="pairs (default 10,000)")
    ap.add_argument("--type", default="fix16_8", help="the values' type (default fix16_8)")
    args = ap.parse_args(argv)
    rec = run(1000 if args.quick else args.N, args.type)
    if args.json:
        print(json.dumps(rec))
    else:
        print(f"{rec['case']}: {rec['and_gates']} AND ({rec['and_gates_per_pair']} per pair), "
              f"{rec['bytes'] / 1e6:.1f} MB; compile {rec['compile_step_seconds']:.1f} s, run "
              f"{rec['run_step_seconds']:.1f} s (schedule {rec['south']['schedule_seconds']} s, "
              f"setup {rec['south']['setup_seconds']} s, tables {rec['south']['gc_seconds']} s); "
              f"largest error against numpy {rec['max_error']:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
