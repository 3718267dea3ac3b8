"""Faults with real processes and sockets: a peer killed in each phase, a silent peer, malformed
frames, mismatched sessions, a wrong certificate and bad inputs. The surviving side must stop
within its timeout with a one-line error naming the phase, a non-zero status, no traceback and
no output printed as if valid."""

import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from test_run_cli import CLI, finish, run_pair, start_listener
from yaogc.circuits.bristol import load_circuit
from yaogc.runtime.errors import NetworkError
from yaogc.runtime.local import run_local
from yaogc.runtime.tls import generate_certificate

PHASES = ["handshake", "inputs", "OT", "tables", "outputs"]
GREETING = b"YAOGC\x00\x01\n"


def die_at(phase):
    def hook(current):
        if current == phase:
            os.kill(os.getpid(), signal.SIGKILL)
    return hook


_AES = {}


@pytest.fixture
def aes(bristol_path):
    path = str(bristol_path("aes_128.txt"))
    if path not in _AES:  # one Circuit object, so its Schedule is built once
        _AES[path] = load_circuit(path)
    return _AES[path]


@pytest.mark.parametrize("victim", ["garbler", "evaluator"])
@pytest.mark.parametrize("phase", PHASES)
def test_peer_killed_in_each_phase(aes, victim, phase):
    # 160 AES instances: 33 MB of tables, twice what the socket buffers can hold (4 MiB asked
    # for on each side, which Linux doubles), so a garbler whose evaluator died notices while
    # it is still sending tables, however fast it garbles
    k = 160
    g_rows = [{"in1": i} for i in range(k)]
    e_rows = [{"in2": 7 * i} for i in range(k)]
    t = time.monotonic()
    run = run_local(aes, g_rows, e_rows, timeout=10, on_phase={victim: die_at(phase)},
                    raise_errors=False)
    elapsed = time.monotonic() - t
    survivor = run.evaluator if victim == "garbler" else run.garbler
    dead = run.garbler if victim == "garbler" else run.evaluator
    assert isinstance(dead, NetworkError) and "without a result" in str(dead)
    assert isinstance(survivor, NetworkError), survivor
    msg = str(survivor)
    # an evaluator that dies before the input labels arrive is noticed by the garbler when
    # it sends them, or when it waits for the OT messages
    expect = ("inputs", "OT") if (victim, phase) == ("evaluator", "inputs") else (phase,)
    assert msg.split(":")[0] in expect, msg
    assert "closed" in msg and "\n" not in msg
    assert elapsed < 10


FAKE_PARTY = textwrap.dedent("""
    import os, signal, sys, time
    from yaogc.circuits.bristol import load_circuit
    from yaogc.runtime.protocol import run_party
    path, role, phase, how, value = sys.argv[1:6]
    def hook(current):
        if current == phase:
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(120)
    name = "in1" if role == "garbler" else "in2"
    run_party(load_circuit(path), role, {name: int(value)}, listen=("127.0.0.1", 0),
              on_listening=lambda host, port: print(port, flush=True), on_phase=hook,
              timeout=60)
""")


def cli_against_fake(bristol_path, cli_role, phase, how, timeout="10"):
    f = str(bristol_path("aes_128.txt"))
    mine = "in1=5" if cli_role == "garbler" else "in2=6"
    other = "evaluator" if cli_role == "garbler" else "garbler"
    fake = subprocess.Popen([sys.executable, "-c", FAKE_PARTY, f, other, phase, how, "9"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(fake.stdout.readline())
        t = time.monotonic()
        cp = subprocess.Popen(CLI + ["run", f, "--as", cli_role, "--input", mine, "--timeout",
                                     timeout, "--connect", f"127.0.0.1:{port}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        rc, out, err = finish(cp, 60)
    finally:
        fake.kill()
        fake.wait()
    return rc, out, err, time.monotonic() - t


@pytest.mark.parametrize("cli_role,phase", [("garbler", "OT"), ("evaluator", "tables"),
                                            ("evaluator", "outputs")])
def test_cli_reports_killed_peer_in_one_line(bristol_path, cli_role, phase):
    rc, out, err, _ = cli_against_fake(bristol_path, cli_role, phase, "kill")
    assert rc == 3 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"{phase}: "), err
    assert "Traceback" not in err


def test_silent_peer_times_out(bristol_path):
    rc, out, err, elapsed = cli_against_fake(bristol_path, "evaluator", "OT", "hang",
                                             timeout="1.5")
    assert rc == 3 and out == "" and "OT: timed out after 1.5 s" in err
    assert elapsed < 15


def test_nobody_connects_within_the_timeout(bristol_path):
    f = str(bristol_path("adder64.txt"))
    lp, port, first = start_listener(["run", f, "--as", "garbler", "--input", "in1=1",
                                      "--timeout", "1"])
    rc, out, err = finish(lp, 30)
    assert rc == 3 and out == "" and "no peer connected" in err


# -- a raw socket as the peer -------------------------------------------------------------
def raw_peer(bristol_path, payload: bytes):
    """``yaogc run`` listens; a raw socket greets it and sends ``payload``."""
    f = str(bristol_path("adder64.txt"))
    lp, port, first = start_listener(["run", f, "--as", "garbler", "--input", "in1=1",
                                      "--timeout", "5"])
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(GREETING + payload)
    # read what the party sent (greeting, hello), so closing is an orderly end of stream
    s.settimeout(0.5)
    try:
        while s.recv(65536):
            pass
    except TimeoutError:
        pass
    s.close()
    return finish(lp, 30)


def frame(kind: int, body: bytes) -> bytes:
    return struct.pack("<Q", len(body) + 1) + bytes([kind]) + body


@pytest.mark.parametrize("payload,message", [
    (struct.pack("<Q", 10 << 30), "announced a frame of 10737418240 bytes, above the frame limit"),
    (frame(3, b"\x00" * 64), "expected message HELLO (1), the peer sent TABLES (3)"),
    (struct.pack("<Q", 100) + b"\x01" + b"x" * 9, "in the middle of a frame"),
    (frame(1, b"\xff\xfe not json"), "not a valid session description"),
], ids=["oversized", "wrong-kind", "truncated", "not-json"])
def test_malformed_frames_refused(bristol_path, payload, message):
    rc, out, err = raw_peer(bristol_path, payload)
    assert rc == 3 and out == ""
    assert message in err and "handshake: " in err and "Traceback" not in err


def test_stranger_on_the_port(bristol_path):
    f = str(bristol_path("adder64.txt"))
    lp, port, first = start_listener(["run", f, "--as", "garbler", "--input", "in1=1",
                                      "--timeout", "2"])
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        rc, out, err = finish(lp, 30)
    assert rc == 3 and "not a yaogc party" in err


# -- mismatched sessions ------------------------------------------------------------------
def test_mismatched_circuits_refused_on_both_sides(bristol_path):
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", str(bristol_path("adder64.txt")), "--as", "garbler", "--input", "in1=1"],
        ["run", str(bristol_path("sub64.txt")), "--as", "evaluator", "--input", "in2=1"])
    for rc, out, err in ((rc1, out1, err1), (rc2, out2, err2)):
        assert rc == 3 and out == ""
        assert "handshake: the peer describes a different session" in err
        assert "the circuit differs" in err


def test_mismatched_port_layout_refused(bristol_path):
    f = str(bristol_path("adder64.txt"))
    (rc1, _, err1), (rc2, _, err2) = run_pair(
        ["run", f, "--as", "garbler", "--input", "in1=1", "--party-of", "in2=garbler",
         "--input", "in2=2"],
        ["run", f, "--as", "evaluator", "--input", "in2=1"])
    assert rc1 == rc2 == 3
    assert "input 'in2' belongs to the garbler here but evaluator at the peer" in err1
    assert "input 'in2' belongs to the evaluator here but garbler at the peer" in err2


def test_mismatched_batch_and_roles_refused(bristol_path, tmp_path):
    f = str(bristol_path("adder64.txt"))
    two, three = tmp_path / "b.csv", tmp_path / "c.csv"
    two.write_text("in2\n1\n2\n")
    three.write_text("in1\n1\n2\n3\n")
    (rc1, _, err1), (rc2, _, err2) = run_pair(
        ["run", f, "--as", "garbler", "--inputs", str(three)],
        ["run", f, "--as", "evaluator", "--inputs", str(two)])
    assert rc1 == rc2 == 3 and "batch size differs: 3 rows here, 2 at the peer" in err1
    assert "batch size differs: 2 rows here, 3 at the peer" in err2
    (rc1, _, err1), (rc2, _, err2) = run_pair(
        ["run", f, "--as", "garbler", "--input", "in1=1"],
        ["run", f, "--as", "garbler", "--input", "in1=2"])
    assert rc1 == rc2 == 3 and "both sides are the garbler" in err1 + err2


def test_wrong_tls_certificate_refused(bristol_path, tmp_path):
    for name in ("a", "b", "mallory"):
        generate_certificate(name, tmp_path)
    f = str(bristol_path("adder64.txt"))
    c = lambda n: str(tmp_path / f"{n}.crt")
    k = lambda n: str(tmp_path / f"{n}.key")
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", f, "--as", "garbler", "--input", "in1=1", "--tls-cert", c("a"), "--tls-key",
         k("a"), "--peer-cert", c("b"), "--timeout", "5"],
        ["run", f, "--as", "evaluator", "--input", "in2=1", "--tls-cert", c("mallory"),
         "--tls-key", k("mallory"), "--peer-cert", c("a"), "--timeout", "5"])
    assert rc1 == 3 and rc2 == 3 and out1 == out2 == ""
    assert "certificate" in err1 and "certificate" in err2
    assert "Traceback" not in err1 + err2


def test_plain_peer_against_tls_listener(bristol_path, tmp_path):
    for name in ("a", "b"):
        generate_certificate(name, tmp_path)
    f = str(bristol_path("adder64.txt"))
    (rc1, _, err1), (rc2, _, err2) = run_pair(
        ["run", f, "--as", "garbler", "--input", "in1=1", "--tls-cert",
         str(tmp_path / "a.crt"), "--tls-key", str(tmp_path / "a.key"), "--peer-cert",
         str(tmp_path / "b.crt"), "--timeout", "5"],
        ["run", f, "--as", "evaluator", "--input", "in2=1", "--timeout", "5"])
    assert rc1 == 3 and rc2 == 3 and "TLS" in err1 + err2


# -- bad inputs, refused before connecting ------------------------------------------------
@pytest.mark.parametrize("args,message", [
    ([], "missing input 'in1'"),
    (["--input", "in1=18446744073709551616"], "out of range for u64"),
    (["--input", "in1=1", "--input", "in2=2"], "belongs to party 'evaluator'"),
    (["--input", "in7=1"], "no input 'in7'"),
])
def test_bad_inputs_refused_before_connecting(bristol_path, args, message):
    f = str(bristol_path("adder64.txt"))
    r = subprocess.run(CLI + ["run", f, "--as", "garbler", "--listen", "127.0.0.1:0"] + args,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and message in r.stderr
    assert "listening on" not in r.stderr and r.stdout == ""


# -- a garbler that misbehaves in the tables phase (in-memory channel) --------------------
def _bad_tables(monkeypatch, send):
    from test_protocol import in_memory
    from yaogc.runtime import tables
    monkeypatch.setattr(tables._Sender, "_send", send)
    monkeypatch.setattr(tables, "INLINE_MAX", 1 << 30)
    c = load_circuit_cached("mult64")
    return in_memory(c, [{"in1": 3}], [{"in2": 4}])


def load_circuit_cached(name):
    from test_protocol import load
    from conftest import reference_dir
    d = reference_dir()
    if d is None:
        pytest.skip("reference circuits not found")
    return load(d / f"{name}.txt")


def test_wrong_message_kind_in_the_table_stream(monkeypatch):
    from yaogc.runtime.protocol import Msg

    def send(self, item):
        self.ch.send_msg(Msg.OUTPUT_DECODING, item, flush=True)
    g, e = _bad_tables(monkeypatch, send)
    assert isinstance(e, NetworkError)
    assert str(e).startswith("tables: expected message TABLES (3), the peer sent "
                             "OUTPUT_DECODING (5)")


def test_truncated_table_stream(monkeypatch):
    from yaogc.runtime.protocol import Msg

    def send(self, item):
        # a frame announcing the whole block, cut short, then the connection closes
        raw = np.ascontiguousarray(item).view(np.uint8).reshape(-1)
        self.ch._t.sendall(struct.pack("<Q", raw.size + 1) + bytes([Msg.TABLES])
                           + raw[:raw.size // 2].tobytes())
        self.ch._t.close()
    g, e = _bad_tables(monkeypatch, send)
    assert isinstance(e, NetworkError)
    assert str(e).startswith("tables: the peer closed the connection in the middle of a frame")


def test_excess_table_bytes_refused(monkeypatch):
    from yaogc.runtime.protocol import Msg

    def send(self, item):
        extra = np.concatenate([np.ascontiguousarray(item).reshape(-1),
                                np.zeros(4, np.uint64)])
        self.ch.send_msg(Msg.TABLES, extra, flush=True)
    g, e = _bad_tables(monkeypatch, send)
    assert isinstance(e, NetworkError) and "more than the" in str(e)
