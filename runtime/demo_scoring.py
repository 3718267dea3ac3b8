"""``yaogc demo scoring``: a model holder scores a hospital's whole table, as two processes.

A logistic regression (scikit-learn, fitted on its breast cancer Wisconsin data: 569 records
x 30 features) is turned into a program by :func:`yaogc.ml.export`; the model holder gives the
weights once (one row, broadcast), the hospital all 569 records; the hospital learns each
record's logit and class, the model holder nothing. Needs the extra ``yaogc[ml]``.
Semi-honest model, as for every run.
"""

from __future__ import annotations

import json
import sys
import time

from yaogc.circuits.errors import InputError


def run_scoring_demo(*, json_out: bool = False, timeout: float = 60.0, out=sys.stdout) -> int:
    try:
        from sklearn.datasets import load_breast_cancer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        raise InputError("yaogc demo scoring needs scikit-learn: pip install 'yaogc[ml]'") \
            from None
    import numpy as np

    from yaogc.ml import export

    from .local import run_local
    data = load_breast_cancer()
    X, y = data.data, data.target
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(X, y)
    t0 = time.perf_counter()
    ex = export(model, X, verify=False)
    circuit = ex.compile()
    records = [{"x": [float(v) for v in row]} for row in X]
    run = run_local(circuit, ex.model_inputs, records, garbler="model", timeout=timeout)
    seconds = time.perf_counter() - t0
    st = run.evaluator.stats
    z = np.array([ex.score(r["score"]) for r in run.evaluator.outputs])
    agree = int(np.sum((z > 0) == (model.predict(X) == 1)))
    prob_err = float(np.max(np.abs(1 / (1 + np.exp(-z)) - model.predict_proba(X)[:, 1])))
    summary = {"records": len(X), "features": X.shape[1], "class_agreement": agree,
               "max_probability_error": prob_err, "and_gates_per_record": st["and_gates"] // st["batch"],
               "bytes": st["bytes_sent"] + st["bytes_received"], "seconds": round(seconds, 3),
               "broadcast": st.get("broadcast"), "widths": ex.report}
    if json_out:
        print(json.dumps(summary), file=out)
        return 0
    print(f"yaogc demo scoring: a model holder's logistic regression scores a hospital's "
          f"{len(X)} records ({X.shape[1]} features each) without either seeing the other's "
          f"data.\nThe model is given once and applied to every record (broadcast); two "
          f"processes over 127.0.0.1, semi-honest model.\n", file=out)
    for i in range(3):
        print(f"    record {i}: logit {z[i]:+.3f}, class {int(z[i] > 0)} "
              f"(float model: {model.decision_function(X[i:i + 1])[0]:+.3f})", file=out)
    print(f"    ...\nclass agreement with the float model {agree}/{len(X)}, probability "
          f"(sigmoid of the logit) within {prob_err:.4f}; {summary['and_gates_per_record']} "
          f"AND gates per record, {summary['bytes'] / 1e6:.1f} MB, {seconds:.2f} s from the "
          f"fitted model to the results", file=out)
    return 0
