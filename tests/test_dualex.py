"""Dual execution (``run --malicious``): honest runs agree with semi-honest ones, and a party
that deviates (flipped table entries, another circuit, a lie about its output, inconsistent
OT columns) is detected by the honest side, which then reveals nothing."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits import Builder
from yaogc.circuits.evaluate import evaluate
from yaogc.circuits.types import uint
from yaogc.runtime import handshake as hs
from yaogc.runtime.channel import memory_pair
from yaogc.runtime.dualex import Faults, dual_session, variant_circuit
from yaogc.runtime.errors import NetworkError, PeerDeviated
from yaogc.runtime.handshake import HandshakeMismatch
from yaogc.runtime.ot_kos import KOSReceiver
from yaogc.runtime.protocol import evaluator_session, garbler_session, prepare

from test_protocol import REFERENCE, load, random_rows, split
from test_run_cli import CLI, finish, run_pair, start_listener


def dual(circuit, g_rows, e_rows, faults=None, modes=("malicious", "malicious"),
         max_batch=None):
    """Both parties over an in-memory channel pair in two threads; each side's RunResult or
    the exception it ended with. ``faults``: per role, a Faults; ``modes``: per side;
    ``max_batch``: per role, how many peer rows its one row may serve."""
    faults = faults or {}
    sides = {}
    for role, rows in (("garbler", g_rows), ("evaluator", e_rows)):
        p, _, inputs = prepare(circuit, role, rows)
        inputs.max_batch = (max_batch or {}).get(role)
        sides[role] = (p, inputs)
    a, b = memory_pair(timeout=20)
    out = {}

    def side(role, ch, mode):
        p, inputs = sides[role]
        try:
            if mode == "malicious":
                out[role] = dual_session(ch, p, inputs, role=role, faults=faults.get(role))
            else:
                session = garbler_session if role == "garbler" else evaluator_session
                out[role] = session(ch, p, inputs)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            out[role] = e
        finally:
            ch.close()

    t = threading.Thread(target=side, args=("garbler", a, modes[0]))
    t.start()
    side("evaluator", b, modes[1])
    t.join(30)
    assert not t.is_alive()
    return out["garbler"], out["evaluator"]


def semi(circuit, g_rows, e_rows):
    return dual(circuit, g_rows, e_rows, modes=("semi-honest", "semi-honest"))


def private_outputs_circuit():
    """Outputs for alice only, bob only, both, and nobody, from both parties' inputs."""
    b = Builder("private", parties=("alice", "bob"))
    x = b.input("alice", "x", uint(8))
    y = b.input("bob", "y", uint(8))
    b.output("alice", "for_alice", uint(8), [b.and_(p, q) for p, q in zip(x, y)])
    b.output("bob", "for_bob", uint(8), [b.xor(p, q) for p, q in zip(x, y)])
    b.output(("alice", "bob"), "for_both", uint(8), [b.or_(p, q) for p, q in zip(x, y)])
    return b.build()


# -- honest runs ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", REFERENCE)
def test_honest_dual_execution_matches_semi_honest(bristol_path, name):
    c = load(bristol_path(name))
    k = 1 if name in ("aes_128.txt", "sha256.txt") else 2
    rows = random_rows(c, k, seed=len(name))
    g_rows, e_rows = split(c, rows, "garbler"), split(c, rows, "evaluator")
    g, e = dual(c, g_rows, e_rows)
    sg, se = semi(c, g_rows, e_rows)
    want = evaluate(c, rows)
    assert g.outputs == sg.outputs == [{o: w[o] for o in g.outputs[0]} for w in want]
    assert e.outputs == se.outputs
    assert g.stats["mode"] == e.stats["mode"] == "malicious"
    # two garbled circuits: twice the tables of one semi-honest run
    assert g.stats["table_bytes"] == 2 * sg.stats["table_bytes"]


@settings(deadline=None, max_examples=6)
@given(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255)), min_size=1, max_size=4))
def test_private_outputs_reach_only_their_party(pairs):
    c = private_outputs_circuit()
    g, e = dual(c, [{"x": x} for x, _ in pairs], [{"y": y} for _, y in pairs])
    assert g.outputs == [{"for_alice": x & y, "for_both": x | y} for x, y in pairs]
    assert e.outputs == [{"for_bob": x ^ y, "for_both": x | y} for x, y in pairs]


def test_a_party_without_inputs_takes_the_peers_batch():
    b = Builder("square", parties=("alice", "bob"))
    x = b.input("alice", "x", uint(4))
    b.output(("alice", "bob"), "twice", uint(4), [b.const(0)] + x[:3])
    c = b.build()
    g, e = dual(c, [{"x": 3}, {"x": 5}], None)
    assert g.outputs == e.outputs == [{"twice": 6}, {"twice": 10}]
    assert e.batch


def test_one_row_broadcast_to_the_peers_batch_only_where_allowed(bristol_path):
    # the peer's 3 rows are 3 evaluations on the garbler's one input: in malicious mode its
    # row is applied to them only where it allows that many (its promise of at most one
    # leaked bit is per evaluation: 64 rows y = 2^i of 'y > x' would locate x)
    c = load(bristol_path("adder64.txt"))
    rows = [{"in2": 1}, {"in2": 2}, {"in2": 3}]
    for allowed in (3, 10):
        g, e = dual(c, {"in1": 100}, rows, max_batch={"garbler": allowed})
        assert g.outputs == e.outputs == [{"out1": 101}, {"out1": 102}, {"out1": 103}]
        # the stats say whose row served them, as a semi-honest run's do
        assert g.stats["broadcast"] == e.stats["broadcast"] == "garbler"
        assert g.stats["batch"] == 3
    for allowed in (None, 2):
        g, e = dual(c, {"in1": 100}, rows, max_batch={"garbler": allowed})
        assert isinstance(g, HandshakeMismatch)
        assert str(g).startswith(f"handshake: the peer gives 3 rows against this side's one "
                                 f"row, 3 evaluations on this side's input")
        assert f"more than the {allowed or 1} allowed" in str(g)
        assert isinstance(e, NetworkError)      # the peer's run ends too, with no outputs
        assert "the peer aborted: it refuses to apply its one row to a batch of 3 rows" \
            in str(e)
    # a limit applies to the side whose one row is broadcast, not to the side with K rows
    g, e = dual(c, {"in1": 100}, rows, max_batch={"evaluator": 1, "garbler": 3})
    assert g.outputs == e.outputs


# -- a deviating party is detected ------------------------------------------------------------
@pytest.mark.parametrize("fault", ["flip_table", "other_circuit", "lie_output"])
@pytest.mark.parametrize("cheater", ["garbler", "evaluator"])
def test_deviating_party_is_detected_and_nothing_is_revealed(bristol_path, fault, cheater):
    c = load(bristol_path("mult64.txt"))
    rows = random_rows(c, 2, 11)
    g, e = dual(c, split(c, rows, "garbler"), split(c, rows, "evaluator"),
                faults={cheater: Faults(**{fault: True})})
    honest = e if cheater == "garbler" else g
    assert isinstance(honest, PeerDeviated), honest
    assert honest.exit_code == 3
    assert "peer deviated" in str(honest) and "no output is revealed" in str(honest)


def test_variant_circuit_keeps_the_and_layers(bristol_path):
    c = load(bristol_path("aes_128.txt"))
    other = variant_circuit(c)
    assert np.array_equal(other.and_layer_widths(), c.and_layer_widths())
    rows = random_rows(c, 3, 5)
    for want, got in zip(evaluate(c, rows), evaluate(other, rows)):
        assert got["out1"] == want["out1"] ^ 1


def test_evaluator_with_inconsistent_ot_columns_is_caught(bristol_path, monkeypatch):
    def cheat(self, r_packed):
        cols = np.array(np.broadcast_to(r_packed, (128, r_packed.size)))
        cols[::2, 0] ^= 1
        return cols

    monkeypatch.setattr(KOSReceiver, "_choice_columns", cheat)
    c = load(bristol_path("adder64.txt"))
    g, e = dual(c, {"in1": 1}, {"in2": 2})
    assert isinstance(g, PeerDeviated) and "KOS15" in str(g)
    assert isinstance(e, NetworkError) and not hasattr(e, "outputs")


def test_mode_mismatch_is_refused_in_the_handshake(bristol_path):
    c = load(bristol_path("adder64.txt"))
    for modes in (("malicious", "semi-honest"), ("semi-honest", "malicious")):
        g, e = dual(c, {"in1": 1}, {"in2": 2}, modes=modes)
        for side in (g, e):
            assert isinstance(side, hs.HandshakeMismatch), side
            assert "security mode differs" in str(side) and "--malicious" in str(side)


def test_faults_come_from_the_environment_only_when_testing(monkeypatch):
    monkeypatch.setenv("YAOGC_TEST_FAULT", "lie-output")
    monkeypatch.delenv("YAOGC_TESTING", raising=False)
    assert Faults.from_env() is None
    monkeypatch.setenv("YAOGC_TESTING", "1")
    assert Faults.from_env() == Faults(lie_output=True)


# -- through the CLI --------------------------------------------------------------------------
def test_cli_malicious_run(bristol_path):
    f = str(bristol_path("adder64.txt"))
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", f, "--as", "garbler", "--input", "in1=40", "--malicious"],
        ["run", f, "--as", "evaluator", "--input", "in2=2", "--malicious"])
    assert rc1 == rc2 == 0, (err1, err2)
    assert out1 == out2 == "out1 = 42\n"
    assert "dual execution" in err1 and "dual execution" in err2


def test_cli_cheating_peer_exits_3_and_prints_nothing(bristol_path):
    f = str(bristol_path("adder64.txt"))
    env = dict(os.environ, YAOGC_TESTING="1", YAOGC_TEST_FAULT="lie-output")
    lp, port, first = start_listener(["run", f, "--as", "garbler", "--input", "in1=40",
                                      "--malicious"], env=env)
    assert port is not None, first
    import subprocess
    cp = subprocess.Popen(CLI + ["run", f, "--as", "evaluator", "--input", "in2=2",
                                 "--malicious", "--connect", f"127.0.0.1:{port}"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rc, out, err = finish(cp)
    finish(lp)
    assert rc == 3 and out == ""
    assert err.startswith("equality check: the peer deviated from the protocol")
    assert "Traceback" not in err


def test_cli_mode_mismatch_is_a_clear_error(bristol_path):
    f = str(bristol_path("adder64.txt"))
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", f, "--as", "garbler", "--input", "in1=40", "--malicious"],
        ["run", f, "--as", "evaluator", "--input", "in2=2"])
    assert rc1 == rc2 == 3 and out1 == out2 == ""
    for err in (err1, err2):
        assert "handshake:" in err and "security mode differs" in err


def test_a_peer_trickling_its_commitment_cannot_hold_the_check(bristol_path):
    """The garbler sends its commitment one byte every 0.3 s, each within the evaluator's 1 s
    timeout: the 41-byte frame would take 12 s (it did, and the run then passed). The
    evaluator stops within about its timeout, in the equality check, and reveals nothing."""
    import struct
    import time
    from yaogc.runtime.errors import ChannelTimeout
    from yaogc.runtime.protocol import Msg
    c = load(bristol_path("adder64.txt"))
    sides = {r: prepare(c, r, rows) for r, rows in (("garbler", {"in1": 1}),
                                                     ("evaluator", {"in2": 2}))}
    a, b = memory_pair(timeout=1.0)
    stop = threading.Event()
    plain_send = a.send_msg

    def trickling(kind, payload=b"", *, flush=False):
        if kind != Msg.COMMITMENT:
            return plain_send(kind, payload, flush=flush)
        a.flush()
        frame = struct.pack("<Q", len(payload) + 1) + bytes([kind]) + bytes(payload)
        for i in range(len(frame)):
            if stop.is_set():
                raise ConnectionError("the test is over")
            a._t.sendall(frame[i:i + 1])
            time.sleep(0.3)
    a.send_msg = trickling
    out = {}

    def side(role, ch):
        p, _, inputs = sides[role]
        try:
            out[role] = dual_session(ch, p, inputs, role=role)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            out[role] = e
        finally:
            if role == "evaluator":
                out["t"] = time.monotonic()
                stop.set()
            ch.close()

    t = threading.Thread(target=side, args=("garbler", a))
    t.start()
    t0 = time.monotonic()
    side("evaluator", b)
    t.join(30)
    e = out["evaluator"]
    assert isinstance(e, ChannelTimeout) and e.exit_code == 3, e
    assert str(e).startswith("equality check: the peer did not send a whole message")
    assert out["t"] - t0 < 6


def test_the_engine_reported_is_the_one_that_ran_for_the_batch(monkeypatch):
    from yaogc.gc import native
    if not native.available():
        pytest.skip("the native engine is not available here: no second engine to choose")
    # a side that gives no rows plans for one; the engine for the peer's K rows may be
    # another, and the stats named the plan's, not the one that garbled and evaluated
    from yaogc.runtime import dualex
    ran = []
    real = dualex._engine

    def recording(p, cls, k, start, circuit=None):
        e = real(p, cls, k, start, circuit)
        ran.append(e.engine)
        return e
    monkeypatch.setattr(dualex, "_engine", recording)
    b = Builder("square", parties=("alice", "bob"))
    x = b.input("alice", "x", uint(4))
    b.output(("alice", "bob"), "twice", uint(4), [b.const(0)] + x[:3])
    c = b.build()
    p, _, _ = prepare(c, "evaluator", None)
    other = "native" if p.engine == "numpy" else "numpy"
    from yaogc.gc import workload
    planned = workload.plan_for

    def for_the_batch(circuit, k, requested=None):
        engine, sched = planned(circuit, k, requested)
        return (other if k > 1 else engine), sched
    monkeypatch.setattr(workload, "plan_for", for_the_batch)
    g, e = dual(c, [{"x": 3}, {"x": 5}], None)
    assert e.outputs == [{"twice": 6}, {"twice": 10}]
    assert ran and set(ran) == {other}
    assert e.stats["engine"] == other
