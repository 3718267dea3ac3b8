"""yaogc.ml: fitted scikit-learn models as yaogc programs (the optional extra ``yaogc[ml]``).

``export(model, X)`` turns a fitted ``LogisticRegression`` (binary), ``LinearRegression`` or
``DecisionTreeClassifier`` (also behind a ``StandardScaler`` in a ``Pipeline``) into a program
and the model holder's input values, for a run in which the model holder gives the model once
and the data holder scores a whole table of records (broadcast). The fixed-point widths are
chosen by measuring agreement with the float model on ``X``, data the caller gives (a sample
like the records to be scored): the smallest widths that agree on every row (``agreement``)
and, for scores, within ``tolerance``. The chosen program is compiled and its plaintext
evaluation checked against the same data. See :mod:`.linear` and :mod:`.tree` for what each
program's text reveals of the model (its public shape) and what stays secret.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from yaogc.circuits.errors import InputError

from .linear import FIXED_CHOICES, LinearPlan
from .tree import TreePlan


@dataclass
class Export:
    """A model as a program: its text, the model holder's inputs and what was measured."""

    program: str
    model_inputs: dict[str, Any]
    kind: str                     # "logistic", "linear" or "tree"
    model_party: str
    data_party: str
    features: int
    report: dict[str, Any] = field(default_factory=dict)
    classes: list[Any] | None = None
    scale: int = 0                # a linear score is the output divided by 2**scale

    def write(self, program_path: str | Path, inputs_path: str | Path) -> None:
        """Write the program (.yao) and the model holder's input file (.json)."""
        Path(program_path).write_text(self.program, encoding="utf-8")
        Path(inputs_path).write_text(json.dumps(self.model_inputs) + "\n", encoding="utf-8")

    def score(self, raw: Any) -> float:
        """A linear program's output as the model's score (logit or prediction)."""
        return float(raw) / 2.0 ** self.scale

    def compile(self):
        from yaogc.compiler import compile_source
        return compile_source(self.program, f"<{self.kind} model>")


def _unwrap(model):
    """(estimator, mean, scale): a Pipeline of a StandardScaler and the model is folded."""
    steps = getattr(model, "steps", None)
    if steps is None:
        return model, None, None
    from sklearn.preprocessing import StandardScaler
    *pre, (_, est) = steps
    if len(pre) > 1 or (pre and not isinstance(pre[0][1], StandardScaler)):
        raise InputError("yaogc.ml: a Pipeline may hold one StandardScaler before the model, "
                         "nothing else")
    if not pre:
        return est, None, None
    sc = pre[0][1]
    mean = sc.mean_ if sc.with_mean else np.zeros(sc.n_features_in_)
    scale = sc.scale_ if sc.with_std else np.ones(sc.n_features_in_)
    return est, np.asarray(mean, float), np.asarray(scale, float)


def export(model, X, *, model_party: str = "model", data_party: str = "data",
           hidden_shape: bool = False, agreement: float = 1.0,
           tolerance: float | None = None, verify: bool = True) -> Export:
    """The program and model inputs for ``model``, with widths measured on ``X`` (rows x
    features, array-like). ``agreement``: the fraction of rows whose class must agree (1.0:
    all). ``tolerance``: the largest score error allowed (a logistic model's logit: default
    0.02, which keeps the probability within 0.005; a linear model's prediction: default 1e-3
    times the predictions' spread). ``hidden_shape``: trees only (see :mod:`.tree`)."""
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted
    est, mean, scale = _unwrap(model)
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as e:
        raise InputError(f"yaogc.ml.export: X must be a table of numbers ({e})") from None
    if X.ndim != 2 or not len(X):
        raise InputError("yaogc.ml.export: X must be a non-empty table of rows x features")
    if not np.isfinite(X).all():
        raise InputError("yaogc.ml.export: X holds NaN or infinite values; the circuit takes "
                         "numbers (impute them first)")
    try:
        check_is_fitted(est)
    except NotFittedError:
        raise InputError(f"yaogc.ml.export: the {type(est).__name__} is not fitted "
                         f"(call fit first)") from None
    want = getattr(model, "n_features_in_", getattr(est, "n_features_in_", None))
    if want is not None and X.shape[1] != want:
        raise InputError(f"yaogc.ml.export: X has {X.shape[1]} feature"
                         f"{'s' if X.shape[1] != 1 else ''} per row, but the model was fitted "
                         f"on {want}")
    if isinstance(agreement, bool) or not isinstance(agreement, numbers.Real) \
            or not 0.0 <= agreement <= 1.0:
        raise InputError(f"yaogc.ml.export: agreement={agreement!r}: expected the fraction of "
                         f"rows whose class must agree, from 0 to 1")
    if tolerance is not None and (isinstance(tolerance, bool)
                                  or not isinstance(tolerance, numbers.Real)
                                  or not 0.0 < tolerance < math.inf):
        raise InputError(f"yaogc.ml.export: tolerance={tolerance!r}: expected a positive "
                         f"number (the largest score error allowed), or None for the default")
    several = getattr(est, "n_outputs_", 1) != 1 or isinstance(est, LinearRegression) \
        and np.ndim(est.coef_) == 2 and est.coef_.shape[0] > 1
    if several:
        raise InputError(f"yaogc.ml.export: the {type(est).__name__} predicts several outputs; "
                         f"export one model per output")
    if isinstance(est, DecisionTreeClassifier):
        out = _export_tree(model, est, X, mean, scale, hidden_shape, agreement,
                           model_party, data_party)
    elif isinstance(est, (LogisticRegression, LinearRegression)):
        if hidden_shape:
            raise InputError("yaogc.ml.export: hidden_shape applies to decision trees")
        out = _export_linear(model, est, X, mean, scale, agreement, tolerance,
                             model_party, data_party)
    else:
        raise InputError(f"yaogc.ml.export: {type(est).__name__} is not supported "
                         "(LogisticRegression, LinearRegression, DecisionTreeClassifier)")
    if verify:
        _verify(out, X)
    out.report.pop("_scores", None)
    out.report.pop("_predicted", None)
    return out


def _export_linear(model, est, X, mean, scale, agreement, tolerance, mp, dp) -> Export:
    from sklearn.linear_model import LogisticRegression
    logistic = isinstance(est, LogisticRegression)
    coef = np.asarray(est.coef_, float)
    if logistic and coef.shape[0] != 1:
        raise InputError("yaogc.ml.export: only binary LogisticRegression is supported")
    w, b = coef.reshape(-1), float(np.asarray(est.intercept_).reshape(-1)[0])
    if not (np.isfinite(w).all() and np.isfinite(b)):
        raise InputError("yaogc.ml.export: the model's weights are not all finite numbers")
    if mean is not None:
        w, b = w / scale, b - float(np.sum(w / scale * mean))
    if logistic:
        ref = model.decision_function(X)
        want = model.predict(X) == est.classes_[1]
        tol = 0.02 if tolerance is None else tolerance
    else:
        ref = model.predict(X).reshape(-1)
        want = None
        tol = (1e-3 * float(np.ptp(ref)) or 1e-3) if tolerance is None else tolerance
    best = None
    for bx, bw in sorted(FIXED_CHOICES, key=lambda c: (c[0] * c[1], c)):
        for frac in (8, 12, 16, 20):
            plan = LinearPlan(w, b, X, bx, bw, frac)
            z = plan.scores(X) / 2.0 ** plan.G
            err = float(np.max(np.abs(z - ref)))
            agree = float(np.mean((z > 0) == want)) if logistic else float(np.mean(
                np.abs(z - ref) <= tol))
            if agree >= agreement and err <= tol:
                best = (plan, agree, err)
                break
        if best:
            break
    if best is None:
        raise InputError("yaogc.ml.export: no width up to 16 bits agrees with the model on X "
                         "(loosen tolerance or agreement)")
    plan, agree, err = best
    scores = [int(v) for v in plan.scores(X)]
    outputs = (f"score: i{plan.A} @{dp}, positive: bool @{dp}" if logistic
               else f"score: i{plan.A} @{dp}")
    text = plan.program(mp, dp, outputs)
    text += "    return z, z > 0\n" if logistic else "    return z\n"
    return Export(text, plan.model_inputs, "logistic" if logistic else "linear", mp, dp,
                  len(w), {"rows": len(X), "agreement": agree, "max_score_error": err,
                           "feature_bits": plan.bx, "weight_bits": plan.bw,
                           "accumulator_bits": plan.A, "input_type": f"fix{plan.W}_{plan.F}",
                           "_scores": scores},
                  [v.item() if hasattr(v, "item") else v for v in est.classes_]
                  if logistic else None, plan.G)


def _export_tree(model, est, X, mean, scale, hidden, agreement, mp, dp) -> Export:
    want = model.predict(X)
    classes = list(est.classes_)
    for frac in range(0, 25):
        plan = TreePlan(est, X.shape[1], X, frac, hidden, mean, scale)
        got = np.asarray(classes, dtype=object)[plan.predict_index(X)]
        agree = float(np.mean(got == want))
        if agree >= agreement:
            return Export(plan.program(mp, dp, "label"), plan.model_inputs(), "tree", mp, dp,
                          X.shape[1], {"rows": len(X), "agreement": agree,
                                       "input_type": f"fix{plan.W}_{plan.F}",
                                       "depth": plan.depth, "hidden_shape": hidden,
                                       "_predicted": list(got)},
                          [c.item() if hasattr(c, "item") else c for c in classes])
    raise InputError("yaogc.ml.export: no fraction width up to 24 bits agrees with the tree "
                     "on X")


def _verify(out: Export, X: np.ndarray) -> None:
    """Compile the program and evaluate it in plaintext on X: its results must be the ones
    the width search measured (a difference is a bug in this module, raised as such)."""
    from yaogc.circuits.evaluate import evaluate
    circuit = out.compile()
    got = evaluate(circuit, [{**out.model_inputs, "x": [float(v) for v in r]} for r in X])
    if out.kind == "tree":
        mine = [out.classes[g["label"]] for g in got]
        want = out.report.pop("_predicted")
    else:
        mine = [int(g["score"]) for g in got]
        want = out.report.pop("_scores")
    if list(mine) != list(want):
        raise AssertionError(f"yaogc.ml: the compiled {out.kind} program differs from its "
                             "integer emulation (a bug in yaogc.ml)")
    out.report["and_gates"] = int(circuit.stats()["and"])
    out.report["verified_rows"] = len(X)
