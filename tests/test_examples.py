"""Every example program, compiled and evaluated in plaintext, against plain Python."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from yaogc.circuits.evaluate import evaluate
from yaogc.compiler import compile_file, interpret

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ROWS = 24


def run(name: str, rows, defines=None):
    circuit = compile_file(EXAMPLES / f"{name}.yao", defines)
    return circuit, evaluate(circuit, rows)


def fixed(x: float, frac: int = 16) -> Fraction:
    """The fixed-point value an input rounds to (nearest)."""
    return Fraction(round(Fraction(x) * (1 << frac)), 1 << frac)


def floor_fixed(q: Fraction, frac: int = 16) -> Fraction:
    return Fraction(math.floor(q * (1 << frac)), 1 << frac)


def test_every_example_has_a_test():
    here = Path(__file__).read_text()
    for p in sorted(EXAMPLES.glob("*.yao")):
        assert f'"{p.stem}"' in here, p.stem


def test_millionaires():
    rng = np.random.default_rng(1)
    rows = [{"alice_wealth": int(a), "bob_wealth": int(b)}
            for a, b in rng.integers(0, 2**63, size=(ROWS, 2), dtype=np.int64)]
    rows.append({"alice_wealth": 5, "bob_wealth": 5})
    rows.append({"alice_wealth": 2**64 - 1, "bob_wealth": 0})
    c, outs = run("millionaires", rows)
    assert c.count(1) == 64
    for r, o in zip(rows, outs):
        assert o["alice_is_richer"] == (r["alice_wealth"] > r["bob_wealth"])


def test_hospital_stats():
    rng = np.random.default_rng(2)
    n = 16
    rows = [{"north_values": list(rng.normal(120, 15, n)), "south_values": list(rng.normal(125, 20, n))}
            for _ in range(ROWS)]
    _, outs = run("hospital_stats", rows)
    for r, o in zip(rows, outs):
        vals = [fixed(v) for v in r["north_values"]] + [fixed(v) for v in r["south_values"]]
        # the mean rounds toward -inf; the variance is exact but for its last rounding
        exact_mean = sum(vals) / (2 * n)
        assert Fraction(o["mean"]) == floor_fixed(exact_mean)
        var = sum((x - exact_mean) ** 2 for x in vals) / (2 * n)
        assert var - Fraction(1, 1 << 16) <= Fraction(o["variance"]) <= var + Fraction(1, 1 << 40)


def test_three_hospitals():
    rng = np.random.default_rng(12)
    n = 12
    names = ("north_values", "south_values", "east_values")
    rows = [{k: list(rng.normal(120 + 5 * i, 15, n)) for i, k in enumerate(names)}
            for _ in range(ROWS)]
    c, outs = run("three_hospitals", rows)
    assert c.parties == ("north", "south", "east")
    for r, o in zip(rows, outs):
        vals = [fixed(v) for k in names for v in r[k]]
        exact_mean = sum(vals) / (3 * n)
        assert Fraction(o["mean"]) == floor_fixed(exact_mean)
        var = sum((x - exact_mean) ** 2 for x in vals) / (3 * n)
        assert var - Fraction(1, 1 << 16) <= Fraction(o["variance"]) <= var + Fraction(1, 1 << 40)


def test_count_above():
    rng = np.random.default_rng(3)
    rows = [{"a": [int(x) for x in rng.integers(0, 65536, 64)],
             "b": [int(x) for x in rng.integers(0, 65536, 64)],
             "threshold": int(rng.integers(0, 65536))} for _ in range(ROWS)]
    c, outs = run("count_above", rows)
    for r, o in zip(rows, outs):
        assert o["count"] == sum(x > r["threshold"] for x in r["a"] + r["b"])
    # 128 comparisons of 16 bits plus a popcount of 128 bits
    assert c.count(1) == 128 * 16 + 127


def test_count_above_with_define():
    rows = [{"a": [1, 9, 3], "b": [7, 7, 0], "threshold": 5}]
    c, outs = run("count_above", rows, {"N": "3"})
    assert outs[0]["count"] == 3


def test_logistic_score():
    rng = np.random.default_rng(4)
    rows = [{"features": list(rng.uniform(-3, 3, 8)), "weights": list(rng.uniform(-1, 1, 8)),
             "bias": float(rng.uniform(-1, 1))} for _ in range(ROWS)]
    # large features and weights: z far outside fix32_16, computed without wrapping
    rows.append({"features": [30000.0] * 8, "weights": [-30000.0] * 8, "bias": 1.0})
    rows.append({"features": [30000.0] * 8, "weights": [30000.0] * 8, "bias": -1.0})
    _, outs = run("logistic_score", rows)
    for r, o in zip(rows, outs):
        z = fixed(r["bias"]) + sum(floor_fixed(fixed(x) * fixed(w))
                                   for x, w in zip(r["features"], r["weights"]))
        exact = 1 / (1 + math.exp(-float(z))) if z > -700 else 0.0
        assert abs(o["risk"] - exact) <= 0.52 * 2 ** -16


def test_decision_tree():
    rng = np.random.default_rng(5)
    rows = [{"record": [int(x) for x in rng.integers(0, 65536, 8)],
             "feature_of": [int(x) for x in rng.integers(0, 8, 15)],
             "threshold": [int(x) for x in rng.integers(0, 65536, 15)],
             "label": [int(x) for x in rng.integers(0, 256, 16)]} for _ in range(ROWS)]
    _, outs = run("decision_tree", rows)
    for r, o in zip(rows, outs):
        node = 0
        for _ in range(4):
            go_right = r["record"][r["feature_of"][node]] > r["threshold"][node]
            node = 2 * node + 1 + int(go_right)
        assert o["decision"] == r["label"][node - 15]


def test_hamming():
    rng = np.random.default_rng(6)
    rows = [{"a": [bool(x) for x in rng.integers(0, 2, 256)],
             "b": [bool(x) for x in rng.integers(0, 2, 256)]} for _ in range(ROWS)]
    c, outs = run("hamming", rows)
    assert c.count(1) == 255
    for r, o in zip(rows, outs):
        assert o["distance"] == sum(x != y for x, y in zip(r["a"], r["b"]))


def _id_rows(seed: int) -> list[dict]:
    """Two registries' 16 distinct IDs each, drawn from a pool of 24 (so some shared)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(ROWS):
        pool = [int(x) for x in rng.choice(2**32, 24, replace=False)]
        rows.append({"ids_a": [int(x) for x in rng.choice(pool, 16, replace=False)],
                     "ids_b": [int(x) for x in rng.choice(pool, 16, replace=False)]})
    return rows


def test_psi_size():
    rows = _id_rows(7)
    _, outs = run("psi_size", rows)
    for r, o in zip(rows, outs):
        assert o["shared"] == len(set(r["ids_a"]) & set(r["ids_b"]))


def test_match_flags():
    rows = _id_rows(17)
    rows.append({"ids_a": list(range(16)), "ids_b": list(range(16))})
    c, outs = run("match_flags", rows)
    assert c.outputs[0].recipients == ("registry_a",)
    for r, o in zip(rows, outs):
        assert o["found"] == [x in set(r["ids_b"]) for x in r["ids_a"]]



def test_histogram():
    rng = np.random.default_rng(14)
    rows = [{"codes_a": [int(x) for x in rng.integers(0, 20, 16)],
             "codes_b": [int(x) for x in rng.integers(0, 20, 16)]} for _ in range(ROWS)]
    rows.append({"codes_a": [255] * 16, "codes_b": [15] * 16})      # out of range: nowhere
    rows.append({"codes_a": list(range(16)), "codes_b": list(range(15, -1, -1))})
    c, outs = run("histogram", rows)
    assert c.outputs[0].recipients == ("clinic_a", "clinic_b")
    for r, o in zip(rows, outs):
        both = np.array(r["codes_a"] + r["codes_b"])
        assert o["counts"] == np.bincount(both[both < 16], minlength=16).tolist()
    # twice as many patients: each count is a sum of comparison bits, no wider per patient
    _, outs = run("histogram", [{"codes_a": [3] * 40, "codes_b": [3] * 20 + [0] * 20}],
                  {"N": "40"})
    assert outs[0]["counts"][:4] == [20, 0, 0, 60]

def test_median():
    rng = np.random.default_rng(8)
    rows = [{"a": sorted(int(x) for x in rng.integers(0, 2**32, 8)),
             "b": sorted(int(x) for x in rng.integers(0, 2**32, 8))} for _ in range(ROWS)]
    rows.append({"a": list(range(8)), "b": list(range(100, 108))})
    rows.append({"a": list(range(100, 108)), "b": list(range(8))})
    _, outs = run("median", rows)
    for r, o in zip(rows, outs):
        assert o["median"] == sorted(r["a"] + r["b"])[7]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yao")), ids=lambda p: p.stem)
def test_interpreter_agrees_with_circuit(path):
    circuit = compile_file(path)
    rng = np.random.default_rng(9)
    row = {}
    for p in circuit.inputs:
        bits = rng.integers(0, 2, p.width).astype(np.uint8)
        row[p.name] = p.type.decode(bits)
    assert interpret(path, row) == evaluate(circuit, [row])[0]


@pytest.mark.parametrize("n", [1, 4, 8])
def test_sort(n):
    rng = np.random.default_rng(11 + n)
    rows = [{"a": [int(v) for v in rng.integers(0, 2**32, n)],
             "b": [int(v) for v in rng.integers(0, 50, n)]} for _ in range(ROWS)]
    rows.append({"a": [7] * n, "b": [7] * n})
    _, outs = run("sort", rows, {"N": str(n)})
    for r, o in zip(rows, outs):
        assert o["ranked"] == sorted(r["a"] + r["b"])


def test_dot_product():
    rng = np.random.default_rng(12)
    rows = [{"w": [int(v) for v in rng.integers(0, 2**32, 16, dtype=np.int64)],
             "x": [int(v) for v in rng.integers(0, 2**32, 16, dtype=np.int64)]}
            for _ in range(ROWS)]
    rows.append({"w": [2**32 - 1] * 16, "x": [2**32 - 1] * 16})
    c, outs = run("dot_product", rows)
    for r, o in zip(rows, outs):
        assert o["score"] == sum(a * b for a, b in zip(r["w"], r["x"]))   # exact, no wrap


def test_correlation():
    """Paired fix16_8 values at two hospitals: means, variances and Pearson's r within 1e-6
    of numpy on the encoded values (the sums are exact; only the last rounding is left)."""
    rng = np.random.default_rng(3)
    n = 40
    rows = []
    for _ in range(6):
        bmi = np.round(rng.normal(27, 5, n) * 256) / 256
        a1c = np.round((6 + 0.08 * (bmi - 27) + rng.normal(0, 0.9, n)) * 256) / 256
        rows.append({"x": bmi.tolist(), "y": a1c.tolist()})
    rows.append({"x": [127.99609375] * (n - 1) + [-128.0], "y": [-128.0] * (n - 1) + [0.5]})
    _, outs = run("correlation", rows, {"N": str(n)})
    for r, o in zip(rows, outs):
        x, y = np.array(r["x"]), np.array(r["y"])
        want = {"mean_x": x.mean(), "mean_y": y.mean(), "var_x": x.var(), "var_y": y.var(),
                "r": np.corrcoef(x, y)[0, 1]}
        for k, v in want.items():
            assert abs(float(o[k]) - v) <= 1e-6, (k, o[k], v)
