"""Linear models (``LinearRegression``, binary ``LogisticRegression``) as yaogc programs.

The score ``b + sum_j w_j x_j`` is computed in integers: the data holder's features come as
one fixed-point type ``fixW_F`` (chosen to hold the calibration data's range), and each
feature j is cut in the circuit, for free, to a ``Bx``-bit integer ``q_j = floor(x_j /
2^t_j)`` by a public power-of-two scale ``t_j`` fitted to that feature's range (a shift and a
narrowing cast cost no gates). The model holder's weights are ``Bw``-bit integers ``m_j =
round(w_j 2^(t_j + G))`` and the bias ``round(b 2^G)``; the products sum in an ``A``-bit
accumulator, and the score is ``z / 2^G``. Only the ``Bx`` x ``Bw`` products cost AND gates,
so the widths are chosen small: the smallest (Bx, Bw) whose exact integer emulation (the
circuit's own floor and wrap semantics, in numpy) agrees with the float model on the data
the caller gives; the chosen program is then compiled and checked by the plaintext evaluator.

What the program text (which the data holder sees) reveals about the model: the number of
features, the scales t_j (powers of two from the calibration data's ranges), G (the weights'
largest magnitude to within a factor of two; the bias's where every weight is 0) and the
widths. The weights and bias are inputs
of the model holder, and stay secret.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

FIXED_CHOICES = [(bx, bw) for bx in range(6, 17) for bw in range(6, 17)]


def _fix_type(X: np.ndarray, frac: int) -> tuple[int, int]:
    """(W, F) of a fixed-point type holding every calibration value with ``frac`` fraction
    bits, with a factor of 4 of headroom for values beyond the calibration data."""
    top = float(np.max(np.abs(X))) if X.size else 1.0
    int_bits = max(1, math.ceil(math.log2(top + 1))) + 2
    return int_bits + frac + 1, frac


def _scales(X: np.ndarray, bx: int) -> np.ndarray:
    """t_j: the power of two that brings feature j's largest magnitude just under 2^(bx-2)
    (a bit of headroom above the calibration data)."""
    top = np.maximum(np.max(np.abs(X), axis=0), 1e-300)
    return np.ceil(np.log2(top)).astype(np.int64) - (bx - 2)


class LinearPlan:
    """The integer form of a linear score for given widths, and its exact emulation."""

    def __init__(self, w: np.ndarray, b: float, X: np.ndarray, bx: int, bw: int, frac: int):
        self.bx, self.bw, self.frac = bx, bw, frac
        self.W, self.F = _fix_type(X, frac)
        self.W = max(self.W, self.F + bx)   # q_j's bits lie below the wrap of x * 2^-t_j
        self.t = np.maximum(_scales(X, bx), -frac)
        eff = np.abs(w) * np.exp2(self.t)              # weight per unit of q_j
        top = float(eff.max()) if eff.size else 0.0
        # G: the largest weight just fits Bw signed bits (every weight 0, as for a feature
        # constant in the data or a strong L1 penalty: the bias gets Bw bits of precision)
        if top == 0:
            top = abs(float(b))
        self.G = int(math.floor(math.log2((2 ** (bw - 1) - 1) / top))) if top > 0 else 0
        self.m = np.round(w * np.exp2(self.t + self.G)).astype(np.int64)
        self.bias = int(round(b * 2.0 ** self.G))
        terms = len(w) * (2 ** (bx - 1)) * (2 ** (bw - 1)) + abs(self.bias)
        self.A = max(bx + bw, int(math.ceil(math.log2(terms + 1))) + 1)
        self.A = max(self.A, int(math.ceil(math.log2(abs(self.bias) + 1))) + 1)

    def quantize(self, X: np.ndarray) -> np.ndarray:
        """q_j as the circuit computes it: x rounded to the input grid, floored at 2^t_j,
        wrapped to Bx bits."""
        raw = np.round(X * 2.0 ** self.frac)            # the input's rounding (ties: rare)
        q = np.floor(raw / np.exp2(self.t + self.frac)).astype(np.int64)
        half = 1 << (self.bx - 1)
        return ((q + half) % (1 << self.bx)) - half

    def scores(self, X: np.ndarray) -> np.ndarray:
        """The circuit's integer score z for each row (exact, with the accumulator's wrap)."""
        z = self.quantize(X) @ self.m + self.bias
        half = 1 << (self.A - 1)
        return ((z + half) % (1 << self.A)) - half

    def program(self, model_party: str, data_party: str, outputs: str) -> str:
        n = len(self.m)
        fix = f"fix{self.W}_{self.F}"
        lines = [f"# A linear score b + sum w[j] * x[j]: {n} features as {fix}, each cut to a "
                 f"{self.bx}-bit integer",
                 f"# by a public power-of-two scale; {self.bw}-bit weights; score = z / 2^{self.G}.",
                 f"party {model_party}, {data_party}",
                 f"const F = {n}",
                 "",
                 f"def main(w: i{self.bw}[F] @{model_party}, b: i{self.A} @{model_party}, "
                 f"x: {fix}[F] @{data_party}) -> ({outputs}):",
                 f"    z: i{self.A} = b"]
        for j in range(n):
            t = int(self.t[j])
            # floor(x / 2^t): a shift; for t < 0 first to -t fraction bits in a type wide
            # enough for the literal 2^-t (casts and power-of-two products cost nothing)
            scaled = (f"x[{j}] / {2 ** t}" if t > 0 else f"x[{j}]" if t == 0 else
                      f"fix{self.W - t + 2}_{-t}(x[{j}]) * {2 ** -t}")
            lines.append(f"    z = z + i{self.A}(i{self.bx}({scaled})) * i{self.A}(w[{j}])")
        return "\n".join(lines) + "\n"

    @property
    def model_inputs(self) -> dict[str, Any]:
        return {"w": [int(v) for v in self.m], "b": self.bias}

    def cost(self) -> int:
        """Estimated AND gates: a signed product and an accumulator add per feature."""
        return len(self.m) * (2 * self.bx * self.bw + self.A)
