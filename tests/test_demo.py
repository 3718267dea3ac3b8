"""``yaogc demo``: both parties of the built-in example as two processes over loopback."""

import json
import subprocess
import sys

import pytest

from yaogc.circuits.evaluate import evaluate
from yaogc.runtime.demo import demo_circuit

CLI = [sys.executable, "-m", "yaogc.runtime.cli"]


def expected():
    circuit, inputs = demo_circuit()
    row = {}
    for values in inputs.values():
        row.update(values)
    return circuit, list(inputs), evaluate(circuit, [row])[0]


def test_demo_prints_what_each_party_learned():
    r = subprocess.run(CLI + ["demo"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    circuit, parties, want = expected()
    text = r.stdout
    assert "semi-honest" in text
    for party in parties:
        assert f"{party} (" in text
    for o in circuit.outputs:
        v = o.type.to_json(want[o.name])
        shown = str(v).lower() if isinstance(v, bool) else str(v)
        assert f"{o.name} = {shown}" in text
    assert "AND gates" in text and "total" in text


def test_demo_json():
    r = subprocess.run(CLI + ["demo", "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    circuit, parties, want = expected()
    for party in parties:
        got = doc["parties"][party]
        for o in circuit.outputs:
            if party in o.recipients:
                assert got["outputs"][o.name] == o.type.to_json(want[o.name])
            else:
                assert o.name not in got["outputs"]
        assert got["stats"]["and_gates"] == circuit.stats()["and"]


def test_scoring_demo_agrees_with_the_float_model():
    pytest.importorskip("sklearn", reason="the scoring demo needs scikit-learn (test extra)")
    r = subprocess.run(CLI + ["demo", "scoring", "--json"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["records"] == 569 and doc["class_agreement"] == 569
    assert doc["max_probability_error"] < 0.01 and doc["broadcast"] == "garbler"
def test_three_hospital_demo_json():
    from yaogc.runtime.demo import three_hospitals_circuit
    r = subprocess.run(CLI + ["demo", "three-hospitals", "--json"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    circuit, inputs = three_hospitals_circuit()
    row = {k: v for values in inputs.values() for k, v in values.items()}
    want = evaluate(circuit, [row])[0]
    assert set(doc["owners"]) == {"north", "south", "east"}
    for party, got in doc["owners"].items():
        assert got["inputs"] == inputs[party]
        assert got["outputs"] == {o.name: o.type.to_json(want[o.name]) for o in circuit.outputs}
        assert got["stats"]["bytes_sent"] > 0
    assert doc["servers"]["garbler"]["and_gates"] == circuit.stats()["and"]
