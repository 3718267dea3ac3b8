"""``examples/correlation.yao`` as two ``yaogc run`` processes at ``-D Fix=fix32_16``: each
hospital holds one array of paired values; both learn the means, population variances and
Pearson's r, which agree with plain-Python reference code on the encoded values within the
output types' last bit (LANGUAGE.md: exact sums, only the final rounding is left)."""

import json
import math
import os
import secrets
from fractions import Fraction

from test_run_cli import run_pair

PROG = os.path.join(os.path.dirname(__file__), "..", "examples", "correlation.yao")
N = 50
GRID = 1 << 16   # fix32_16


def _values(centre: int, spread: int) -> list[Fraction]:
    # values on the fix32_16 grid, drawn with secrets (no seeded generator needed here)
    return [Fraction(centre * GRID + secrets.randbelow(2 * spread * GRID) - spread * GRID, GRID)
            for _ in range(N)]


def _reference(x: list[Fraction], y: list[Fraction]) -> dict[str, float]:
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((v - mx) ** 2 for v in x)
    syy = sum((v - my) ** 2 for v in y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    return {"mean_x": float(mx), "mean_y": float(my), "var_x": float(sxx / n),
            "var_y": float(syy / n), "r": float(sxy) / math.sqrt(float(sxx) * float(syy))}


def test_two_hospitals_fix32_16(tmp_path):
    x = _values(140, 900)                       # e.g. cholesterol, mg/dL
    # paired: y follows x with noise, so r is far from 0
    y = [v / 8 + Fraction(secrets.randbelow(40 * GRID) - 20 * GRID, GRID) for v in x]
    y = [Fraction(math.floor(v * GRID), GRID) for v in y]
    north, south = tmp_path / "north.json", tmp_path / "south.json"
    north.write_text(json.dumps({"x": [float(v) for v in x]}))
    south.write_text(json.dumps({"y": [float(v) for v in y]}))
    defines = ["-D", f"N={N}", "-D", "Fix=fix32_16"]
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", PROG, *defines, "--as", "north", "--inputs", str(north), "--json"],
        ["run", PROG, *defines, "--as", "south", "--inputs", str(south), "--json"], timeout=180)
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    got = json.loads(out1)["outputs"]
    assert got == json.loads(out2)["outputs"]
    want = _reference(x, y)
    for k, v in want.items():
        # outputs have 24 fraction bits: one unit of the last bit is 6e-8
        assert abs(float(got[k]) - v) <= 1e-6 * max(1.0, abs(v)), (k, got[k], v)
