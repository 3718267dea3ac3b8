"""Accuracy and AND cost of the math builtins (sqrt, exp, log, sigmoid, reciprocal, isqrt).

    python benchmarks/mathfuncs.py [--json] [--quick]

Each function is compiled as a one-line program and its circuit evaluated (bit-sliced) on
every input of fix16_8 and on a dense sweep of fix32_16 (every 2^k-th raw value plus random
ones; --quick uses fewer), against Python's ``math`` in double precision (clamped to the type's
range, as the builtins saturate). Records: ``fn``, ``type``, ``and``, ``and_depth``,
``inputs`` (how many were checked), ``max_err_ulp`` (largest |circuit - true| in units of
2^-F), ``at`` (the input where it occurs) and, for exp, ``max_rel_err``: the largest error beyond
the final rounding (half a unit) relative to the result, over results >= 1.
isqrt records compare with ``math.isqrt`` and give ``exact``.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from yaogc.circuits.circuit import Op
from yaogc.circuits.evaluate import evaluate_bits
from yaogc.compiler import compile_source


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def _exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


REFERENCE = {
    "sqrt": (math.sqrt, lambda v: v >= 0),
    "exp": (_exp, lambda v: True),
    "log": (math.log, lambda v: v > 0),
    "sigmoid": (_sigmoid, lambda v: True),
    "reciprocal": (lambda v: 1 / v, lambda v: v != 0),
}


def program(fn: str, type_name: str) -> str:
    return f"party a, b\ndef main(x: {type_name} @a) -> {type_name} @b:\n    return {fn}(x)\n"


def run_raw(circuit, raws: np.ndarray, width: int, signed: bool = True) -> np.ndarray:
    """The circuit's raw outputs on raw inputs (one input, one output of ``width`` bits)."""
    bits = ((raws[:, None] >> np.arange(width)) & 1).astype(np.uint8)
    out = evaluate_bits(circuit, bits).astype(object)
    got = np.array([sum(int(b) << i for i, b in enumerate(row)) for row in out], dtype=object)
    if signed:
        got = np.array([g - (1 << width) if g >> (width - 1) else g for g in got], dtype=object)
    return got


def sweep(width: int, frac: int, quick: bool) -> np.ndarray:
    """Every raw value of a narrow type; a dense sweep with random values for a wide one."""
    if width <= 16:
        return np.arange(-(1 << (width - 1)), 1 << (width - 1), dtype=np.int64)
    step = 1 << (width - (12 if quick else 17))
    grid = np.arange(-(1 << (width - 1)), 1 << (width - 1), step, dtype=np.int64)
    rng = np.random.default_rng(2026)
    rand = rng.integers(-(1 << (width - 1)), 1 << (width - 1), 2000 if quick else 60000)
    small = np.arange(-4096, 4096, dtype=np.int64)         # every value near zero
    # and a dense grid over [-32, 32], where exp, log and sigmoid change the most
    near = np.arange(-(32 << frac), 32 << frac, 1 << max(0, frac + 6 - (12 if quick else 16)),
                     dtype=np.int64)
    return np.unique(np.concatenate([grid, rand, small, near]))


def measure(fn: str, width: int, frac: int, quick: bool = False) -> dict:
    tname = f"fix{width}_{frac}"
    c = compile_source(program(fn, tname))
    raws = sweep(width, frac, quick)
    got = run_raw(c, raws, width)
    ref, domain = REFERENCE[fn]
    scale = 1 << frac
    lo, hi = -(1 << (width - 1)) / scale, ((1 << (width - 1)) - 1) / scale
    worst, at, rel = 0.0, None, 0.0
    for r, g in zip(raws.tolist(), got.tolist()):
        v = r / scale
        if not domain(v):
            continue
        true = min(max(ref(v), lo), hi)
        err = abs(g / scale - true)
        if err > worst:
            worst, at = err, v
        if fn == "exp" and true >= 1:
            rel = max(rel, (err - 0.5 / scale) / true)
    rec = {"fn": fn, "type": tname, "and": c.count(Op.AND), "and_depth": c.and_depth,
           "inputs": int(len(raws)), "max_err_ulp": worst * scale, "at": at}
    if fn == "exp":
        rec["max_rel_err"] = rel
    return rec


def measure_isqrt(type_name: str, quick: bool = False) -> dict:
    width = int(type_name[1:])
    signed = type_name[0] == "i"
    c = compile_source(program("isqrt", type_name))
    if width <= 16:
        raws = np.arange(-(1 << (width - 1)) if signed else 0,
                         (1 << (width - 1)) if signed else (1 << width), dtype=np.int64)
    else:
        rng = np.random.default_rng(7)
        top = (1 << (width - 1)) if signed else (1 << min(width, 63))
        raws = rng.integers(0, top, 2000 if quick else 50000, dtype=np.int64)
    got = run_raw(c, raws, width, signed)
    exact = all(g == (math.isqrt(r) if r >= 0 else 0) for r, g in zip(raws.tolist(), got.tolist()))
    return {"fn": "isqrt", "type": type_name, "and": c.count(Op.AND), "and_depth": c.and_depth,
            "inputs": int(len(raws)), "exact": exact}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    records = [measure(fn, w, f, a.quick) for w, f in ((16, 8), (32, 16)) for fn in REFERENCE]
    records += [measure_isqrt(t, a.quick) for t in ("u16", "i16", "u32", "u64")]
    if a.json:
        print(json.dumps(records, indent=1))
        return
    for r in records:
        extra = f"max error {r['max_err_ulp']:.3f} ulp at {r['at']}" if "max_err_ulp" in r \
            else f"exact: {r['exact']}"
        if "max_rel_err" in r:
            extra += f", 0.5 ulp + {r['max_rel_err']:.2e} * exp(x) (results >= 1)"
        print(f"{r['fn']:>10} {r['type']:>8}  {r['and']:6d} ANDs  depth {r['and_depth']:5d}  "
              f"{r['inputs']:7d} inputs  {extra}")


if __name__ == "__main__":
    main()
