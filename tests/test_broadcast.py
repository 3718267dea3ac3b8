"""Broadcast in batch runs: a party that gives one row (``--input`` values, a JSON object,
a one-row file) applies it to every row of the other party's batch, as agreed in the
handshake, with neither side told the other's row count."""

import json
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.evaluate import evaluate
from yaogc.runtime.channel import memory_pair
from yaogc.runtime.protocol import evaluator_session, garbler_session, prepare

from test_protocol import hospitals_circuit
from test_run_cli import run_pair

PROGRAM = """party model, clinic
def main(w: i16[3] @model, b: i16 @model, x: i16[3] @clinic) -> (s: i32 @clinic, big: bool @model):
    s: i32 = b
    for i in range(3):
        s = s + w[i] * x[i]
    return s, s > 100
"""


def score(w, b, x):
    s = b + sum(a * c for a, c in zip(w, x))
    return s, s > 100


def both(circuit, g_rows, e_rows, engine):
    """The two sessions over an in-memory channel pair, in two threads."""
    pg, _, gi = prepare(circuit, "garbler", g_rows, engine=engine)
    pe, _, ei = prepare(circuit, "evaluator", e_rows, engine=engine)
    a, b = memory_pair(timeout=20)
    out = {}

    def g():
        out["g"] = garbler_session(a, pg, gi)
    t = threading.Thread(target=g)
    t.start()
    out["e"] = evaluator_session(b, pe, ei)
    t.join(30)
    return out["g"], out["e"]


@settings(max_examples=6, deadline=None)
@given(k=st.integers(2, 9), garbler_broadcasts=st.booleans(),
       engine=st.sampled_from(["numpy", "native"]),
       values=st.lists(st.integers(0, (1 << 16) - 1), min_size=10, max_size=10))
def test_one_row_applies_to_every_row(k, garbler_broadcasts, engine, values):
    c = hospitals_circuit()
    one = values[0]
    many = values[1:1 + k] + [values[-1]] * max(0, k - 9)
    g_rows = ({"cases_st_anne": one} if garbler_broadcasts
              else [{"cases_st_anne": v} for v in many])
    e_rows = ([{"cases_northfield": v} for v in many] if garbler_broadcasts
              else {"cases_northfield": one})
    g, e = both(c, g_rows, e_rows, engine)
    pairs = [(one, v) if garbler_broadcasts else (v, one) for v in many]
    want = evaluate(c, [{"cases_st_anne": x, "cases_northfield": y} for x, y in pairs])
    assert g.outputs == e.outputs == want
    assert g.batch and e.batch
    bc = "garbler" if garbler_broadcasts else "evaluator"
    assert g.stats["broadcast"] == e.stats["broadcast"] == bc


@pytest.fixture
def program(tmp_path):
    p = tmp_path / "score.yao"
    p.write_text(PROGRAM)
    return str(p)


def test_model_given_once_scores_a_batch_cli(program, tmp_path):
    records = [[1, 2, 3], [-4, 5, 60], [7, -8, 9], [0, 0, 0]]
    data = tmp_path / "records.csv"
    data.write_text("x\n" + "".join(f'"{r}"\n' for r in records))
    w, b = [3, -2, 5], 10
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", program, "--as", "model", "--input", f"w={w}", "--input", f"b={b}", "--json"],
        ["run", program, "--as", "clinic", "--inputs", str(data), "--json"])
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    model, clinic = json.loads(out1), json.loads(out2)
    assert clinic["outputs"] == [{"s": score(w, b, x)[0]} for x in records]
    assert model["outputs"] == [{"big": score(w, b, x)[1]} for x in records]
    for doc in (model, clinic):
        assert doc["stats"]["batch"] == 4 and doc["stats"]["broadcast"] == "garbler"


def test_a_record_given_once_against_a_batch_of_models_cli(program, tmp_path):
    models = tmp_path / "models.json"
    ms = [([1, 1, 1], 0), ([2, 0, -1], 5), ([0, 0, 0], 200)]
    models.write_text(json.dumps([{"w": w, "b": b} for w, b in ms]))
    x = [4, 5, 6]
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", program, "--as", "clinic", "--input", f"x={x}"],
        ["run", program, "--as", "model", "--inputs", str(models), "--quiet"])
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    assert out1.splitlines() == [f"[{i}] s = {score(w, b, x)[0]}" for i, (w, b) in enumerate(ms)]
    assert out2.splitlines() == [f"[{i}] big = {str(score(w, b, x)[1]).lower()}"
                                 for i, (w, b) in enumerate(ms)]


def test_a_large_batch_refused_by_max_batch_hears_why(tmp_path):
    # the refusing side closed with the batch's input labels still arriving: the sender got
    # a reset and "the peer closed the connection", never the reason; the refusing side now
    # reads what still comes for a moment, and the reason arrives
    from pathlib import Path
    prog = Path(__file__).resolve().parent.parent / "examples" / "millionaires.yao"
    rows = tmp_path / "alice.csv"
    rows.write_text("alice_wealth\n" + "".join(f"{i}\n" for i in range(100_000)))
    (rc1, _, err1), (rc2, _, err2) = run_pair(
        ["run", str(prog), "--as", "alice", "--inputs", str(rows), "--quiet"],
        ["run", str(prog), "--as", "bob", "--input", "bob_wealth=5", "--max-batch", "5",
         "--quiet"], timeout=120)
    assert rc1 == rc2 == 3, (err1, err2)
    assert "refused: more than the 5 allowed" in err2.splitlines()[0]
    first = [x for x in err1.splitlines() if "listening on" not in x][0]
    assert "the peer aborted: it refuses to apply its one row to a batch of 100000 rows" \
        in first, first
