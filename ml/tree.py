"""Decision trees (``DecisionTreeClassifier``) as yaogc programs, with public or hidden shape.

The data holder's features come as one fixed-point type ``fixW_F``; a node sends a record left
when ``x[f] <= threshold``, as scikit-learn does. Thresholds are floored to the ``2^-F`` grid,
so on grid values the comparison is exactly the float tree's; only the rounding of the
features to the grid can change a decision, and F is chosen as the smallest that agrees with
the float tree on the caller's data. Leaves hold class indices (``u`` of enough bits) into
``classes_``.

- Public shape: the program text holds the tree's shape and each node's feature; the
  thresholds and leaf classes are the model holder's secret inputs. One comparison per node
  and a multiplexer per node on the class.
- Hidden shape: the tree is padded to a complete tree of its depth D (a padded node sends
  both ways to the same class), and each node's feature index is a secret input too: per
  level one multiplexer picks the node's feature index and threshold, one picks the feature,
  one comparison. The data holder learns only D, the number of features and the widths.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _bits(n: int) -> int:
    return max(1, math.ceil(math.log2(max(n, 2))))


class TreePlan:
    """A fitted tree's nodes, and its program and inputs at a given fraction width."""

    def __init__(self, tree, n_features: int, X: np.ndarray, frac: int, hidden: bool,
                 shift: np.ndarray | None = None, scale: np.ndarray | None = None):
        t = tree.tree_
        self.left, self.right = t.children_left, t.children_right
        self.feature = t.feature
        thr = t.threshold.astype(float)
        if scale is not None:   # a StandardScaler before the tree: thresholds in raw units
            f = np.maximum(self.feature, 0)
            thr = np.where(self.feature >= 0, thr * scale[f] + shift[f], thr)
        self.threshold = thr
        self.leaf_class = np.argmax(t.value[:, 0, :], axis=1)
        self.n_classes = t.value.shape[2]
        self.nf, self.frac, self.hidden = n_features, frac, hidden
        top = max(float(np.max(np.abs(X))) if X.size else 1.0,
                  float(np.max(np.abs(thr[self.feature >= 0]), initial=1.0)))
        int_bits = max(1, math.ceil(math.log2(top + 1))) + 2
        self.W, self.F = int_bits + frac + 1, frac
        self.depth = self._depth(0)
        self.cb = _bits(self.n_classes)

    def _depth(self, n: int) -> int:
        if self.left[n] < 0:
            return 0
        return 1 + max(self._depth(self.left[n]), self._depth(self.right[n]))

    def grid_threshold(self, v: float) -> float:
        """The largest grid value <= v, clamped to the type."""
        g = math.floor(v * 2 ** self.F)
        lim = 2 ** (self.W - 1)
        return max(-lim, min(lim - 1, g)) / 2 ** self.F

    def predict_index(self, X: np.ndarray) -> np.ndarray:
        """The class index the circuit computes: features rounded to the grid (ties to even)."""
        xq = np.round(X * 2.0 ** self.F) / 2.0 ** self.F
        out = np.empty(len(X), dtype=np.int64)
        for r in range(len(X)):
            n = 0
            while self.left[n] >= 0:
                go_left = xq[r, self.feature[n]] <= self.grid_threshold(self.threshold[n])
                n = self.left[n] if go_left else self.right[n]
            out[r] = self.leaf_class[n]
        return out

    # -- public shape ---------------------------------------------------------------------
    def _inner(self) -> list[int]:
        return [n for n in range(len(self.left)) if self.left[n] >= 0]

    def _leaves(self) -> list[int]:
        return [n for n in range(len(self.left)) if self.left[n] < 0]

    def program(self, model_party: str, data_party: str, output: str) -> str:
        fix = f"fix{self.W}_{self.F}"
        head = [f"party {model_party}, {data_party}", f"const F = {self.nf}"]
        if not self.hidden:
            inner, leaves = self._inner(), self._leaves()
            pos = {n: i for i, n in enumerate(inner)}
            lpos = {n: i for i, n in enumerate(leaves)}

            def expr(n: int) -> str:
                if self.left[n] < 0:
                    return f"leaf[{lpos[n]}]"
                return f"({expr(self.left[n])} if c{pos[n]} else {expr(self.right[n])})"
            body = [f"    c{pos[n]} = x[{self.feature[n]}] <= t[{pos[n]}]" for n in inner]
            return "\n".join(
                ["# A decision tree of public shape: node features in the text, thresholds "
                 "and leaf classes secret."] + head + [
                    f"const NODES = {max(1, len(inner))}", f"const LEAVES = {len(leaves)}", "",
                    f"def main(t: {fix}[NODES] @{model_party}, leaf: u{self.cb}[LEAVES] "
                    f"@{model_party}, x: {fix}[F] @{data_party}) -> ({output}: u{self.cb} "
                    f"@{data_party}):"] + body + [f"    return {expr(0)}"]) + "\n"
        d = max(1, self.depth)
        fb = _bits(self.nf)
        lines = ["# A decision tree of hidden shape: a complete tree of depth "
                 f"{d}; features, thresholds and leaf classes secret."] + head + [
            f"const DEPTH = {d}", f"const INNER = {2 ** d - 1}", f"const LEAVES = {2 ** d}", "",
            f"def main(feature: u{fb}[INNER] @{model_party}, t: {fix}[INNER] @{model_party}, "
            f"leaf: u{self.cb}[LEAVES] @{model_party}, x: {fix}[F] @{data_party}) -> "
            f"({output}: u{self.cb} @{data_party}):",
            f"    p: u{d + 1} = 0"]
        for level in range(d):
            base, width = 2 ** level - 1, 2 ** level
            if width == 1:
                lines.append(f"    right = x[feature[{base}]] > t[{base}]")
            else:
                fs = ", ".join(f"feature[{base + i}]" for i in range(width))
                ts = ", ".join(f"t[{base + i}]" for i in range(width))
                lines.append(f"    fl{level} = [{fs}]")
                lines.append(f"    tl{level} = [{ts}]")
                lines.append(f"    right = x[fl{level}[p]] > tl{level}[p]")
            lines.append(f"    p = 2 * p + u{d + 1}(right)")
        lines.append("    return leaf[p]")
        return "\n".join(lines) + "\n"

    def model_inputs(self) -> dict[str, Any]:
        if not self.hidden:
            return {"t": [self.grid_threshold(self.threshold[n]) for n in self._inner()]
                    or [0.0],
                    "leaf": [int(self.leaf_class[n]) for n in self._leaves()]}
        d = max(1, self.depth)
        feat, thr, leaf = [0] * (2 ** d - 1), [0.0] * (2 ** d - 1), [0] * (2 ** d)

        def fill(n: int, slot: int, level: int) -> None:
            if level == d:                          # a leaf of the complete tree
                leaf[slot - (2 ** d - 1)] = int(self.leaf_class[n])
                return
            if self.left[n] < 0:                    # padding: both ways to this class
                feat[slot], thr[slot] = 0, 0.0
                fill(n, 2 * slot + 1, level + 1)
                fill(n, 2 * slot + 2, level + 1)
                return
            feat[slot] = int(self.feature[n])
            thr[slot] = self.grid_threshold(self.threshold[n])
            fill(self.left[n], 2 * slot + 1, level + 1)
            fill(self.right[n], 2 * slot + 2, level + 1)
        fill(0, 0, 0)
        return {"feature": feat, "t": thr, "leaf": leaf}
