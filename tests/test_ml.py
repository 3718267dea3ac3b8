"""yaogc.ml: fitted scikit-learn models as programs, widths measured on the caller's data;
results checked against the float model in plaintext and in a two-party run."""

import json

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="yaogc[ml] needs scikit-learn (in the test extra)")

from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from yaogc.circuits.errors import InputError  # noqa: E402
from yaogc.circuits.evaluate import evaluate  # noqa: E402
from yaogc.ml import export  # noqa: E402

from test_run_cli import run_pair  # noqa: E402


def data(n=120, f=6, seed=3):
    X, y = make_classification(n_samples=n, n_features=f, n_informative=3, n_redundant=0, random_state=seed)
    # features of very different magnitudes, as in a clinical table
    return X * np.array([1000, 1, 0.01, 50, 3, 0.2])[:f] + np.array([5000, 0, 0, 100, 0, 1])[:f], y


def plaintext(ex, X):
    c = ex.compile()
    return evaluate(c, [{**ex.model_inputs, "x": [float(v) for v in r]} for r in X])


def test_logistic_pipeline_agrees_on_every_row():
    X, y = data()
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    ex = export(model, X)
    assert ex.report["agreement"] == 1.0 and ex.report["verified_rows"] == len(X)
    got = plaintext(ex, X)
    z = np.array([ex.score(g["score"]) for g in got])
    assert np.all((z > 0) == (model.predict(X) == 1))
    assert np.all([g["positive"] for g in got] == (model.predict(X) == 1))
    assert np.max(np.abs(z - model.decision_function(X))) <= 0.02
    assert "w" in ex.model_inputs and "score" in ex.program


def test_linear_regression_within_tolerance():
    X, y = make_regression(n_samples=80, n_features=4, noise=1.0, random_state=1)
    model = LinearRegression().fit(X * 10, y)
    ex = export(model, X * 10, tolerance=0.05)
    z = np.array([ex.score(g["score"]) for g in plaintext(ex, X * 10)])
    assert np.max(np.abs(z - model.predict(X * 10))) <= 0.05


@pytest.mark.parametrize("hidden", [False, True])
def test_tree_both_shapes_agree(hidden):
    X, y = data(f=5)
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    ex = export(model, X, hidden_shape=hidden)
    labels = [ex.classes[g["label"]] for g in plaintext(ex, X)]
    assert labels == list(model.predict(X))
    if hidden:
        assert "feature" in ex.model_inputs and "x[feature" in ex.program
    else:
        assert "feature" not in ex.model_inputs


def test_unsupported_models_refused():
    X, y = data()
    from sklearn.naive_bayes import GaussianNB
    with pytest.raises(InputError, match="GaussianNB is not supported"):
        export(GaussianNB().fit(X, y), X)
    with pytest.raises(InputError, match="hidden_shape applies to decision trees"):
        export(LogisticRegression().fit(X, y), X, hidden_shape=True)


def test_exported_model_scores_a_table_in_a_run(tmp_path):
    X, y = data(n=40, f=4)
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    ex = export(model, X, hidden_shape=True)
    prog, model_json = tmp_path / "tree.yao", tmp_path / "model.json"
    ex.write(prog, model_json)
    records = tmp_path / "records.csv"
    records.write_text("id,a,b,c,d\n" + "".join(
        f"r{i}," + ",".join(repr(float(v)) for v in row) + "\n" for i, row in enumerate(X)))
    out = tmp_path / "out.json"
    (rc1, _, err1), (rc2, _, err2) = run_pair(
        ["run", str(prog), "--as", "model", "--inputs", str(model_json), "--quiet"],
        ["run", str(prog), "--as", "data", "--inputs", str(records), "--columns",
         "x=a,b,c,d", "--output", str(out), "--quiet"])
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    got = json.loads(out.read_text())
    assert [g["id"] for g in got] == [f"r{i}" for i in range(len(X))]
    assert [ex.classes[g["label"]] for g in got] == list(model.predict(X))


def test_models_and_data_the_export_cannot_take_are_named():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = X @ [1, 2, 3]
    inf = LinearRegression().fit(X, y)
    inf.coef_[0] = np.inf
    cases = [
        (lambda: export(LinearRegression().fit(X, np.c_[y, 2 * y]), X), "predicts several outputs"),
        (lambda: export(DecisionTreeClassifier(max_depth=2).fit(X, np.c_[y > 0, y < 1]), X),
         "predicts several outputs"),
        (lambda: export(DecisionTreeClassifier(max_depth=2).fit(X, y > 0),
                        np.r_[X, [[np.nan, 0, 0]]]), "NaN or infinite"),
        (lambda: export(inf, X), "weights are not all finite"),
        (lambda: export(LogisticRegression(), X), "is not fitted"),
        (lambda: export(DecisionTreeClassifier(max_depth=2).fit(X, y > 0), X[:, :2]),
         "X has 2 features per row, but the model was fitted on 3"),
        (lambda: export(DecisionTreeClassifier(max_depth=2).fit(X, y > 0), X, agreement=2),
         "agreement=2: expected the fraction"),
        (lambda: export(LinearRegression().fit(X, y), X, tolerance=-1), "tolerance=-1: expected"),
        (lambda: export(LinearRegression().fit(X, y), X, tolerance=float("nan")),
         "tolerance=nan: expected"),
    ]
    for make, fragment in cases:
        with pytest.raises(InputError, match=fragment):
            make()


def test_a_model_whose_weights_are_all_zero_keeps_its_bias():
    # a feature constant in the data, or a strong L1 penalty: the bias was rounded to a whole
    # number and no width agreed
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    y = 0.623 + 0 * X[:, 0]
    lin = LinearRegression().fit(np.c_[np.ones(60), np.ones(60)], y)
    assert not lin.coef_.any()
    ex = export(lin, np.c_[np.ones(60), np.ones(60)])
    z = [ex.score(g["score"]) for g in plaintext(ex, np.c_[np.ones(60), np.ones(60)])]
    assert max(abs(v - 0.623) for v in z) <= 1e-3
    Xc, yc = data()
    logit = make_pipeline(StandardScaler(), LogisticRegression()).fit(Xc, yc)
    logit[-1].coef_[:] = 0          # as a strong L1 penalty leaves it
    logit[-1].intercept_[:] = -0.961
    ex = export(logit, Xc)
    assert ex.report["agreement"] == 1.0
    z = [ex.score(g["score"]) for g in plaintext(ex, Xc[:5])]
    assert max(abs(v + 0.961) for v in z) <= 0.02
