"""A hostile peer on a raw socket: the hello and every message type of the protocol fuzzed.

The party under test is the real CLI (``yaogc run``, called in this process); the peer is
this test, which plays the protocol correctly up to one message and then sends something
malformed there (random bytes, a wrong message kind, a wrong length, a hello of any JSON)
and closes. Whatever it sends, the party must end with exit status 3 and a one-line message,
never another status, a traceback or a hang."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from yaogc.runtime import handshake as hs
from yaogc.runtime.channel import Channel
from yaogc.runtime.errors import NetworkError
from yaogc.runtime.cli import main
from yaogc.runtime.ot_ext import OTExtReceiver, OTExtSender
from yaogc.runtime.protocol import Msg

TIMEOUT = "5"
HEADER = 8


def frame(kind: int, body: bytes) -> bytes:
    return (len(body) + 1).to_bytes(HEADER, "little") + bytes([kind]) + body


def run_cli(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(args)
    return rc, out.getvalue(), err.getvalue()


def against(circuit: str, party_args: list[str], script) -> tuple[int, str, str]:
    """Run ``yaogc run CIRCUIT ... --connect`` against ``script(channel)`` on a raw socket."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    port = server.getsockname()[1]
    box = {}

    def party():
        box["r"] = run_cli(["run", circuit, *party_args, "--connect", f"127.0.0.1:{port}",
                            "--timeout", TIMEOUT, "--quiet"])

    t = threading.Thread(target=party, daemon=True)
    t.start()
    sock, _ = server.accept()
    server.close()
    try:
        ch = Channel(sock, timeout=10)
        ch._greet(True)
        script(ch)
        ch.flush()
    finally:
        sock.close()   # any failure here: the script did not reach its malformed message
    t.join(30)
    assert not t.is_alive(), "the party did not finish"
    return box["r"]


def assert_refused(result, phase: str | None = None, bad: bytes | None = None):
    """Exit 3 with one line; with ``phase``, the line names it; with ``bad``, the malformed
    bytes the peer sent before closing: when they hold a whole frame, the line names what
    is wrong with it, not that the peer closed the connection."""
    rc, out, err = result
    assert rc == 3, (rc, out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and len(lines[0]) < 2000
    if phase is not None:
        assert lines[0].startswith(f"{phase}: "), (phase, lines[0])
    if bad is not None and len(bad) >= HEADER \
            and int.from_bytes(bad[:HEADER], "little") <= len(bad) - HEADER:
        assert "closed the connection" not in lines[0], (bad, lines[0])
    return lines[0]


def mirror_hello(ch, role="garbler", **changes):
    theirs = json.loads(ch.recv_msg(Msg.HELLO))
    mine = dict(theirs, role=role, **changes)
    ch.send_msg(Msg.HELLO, hs.encode(mine), flush=True)
    return mine


def garbage(kind: int, right_size: int):
    """A malformed frame where a message of ``kind`` and ``right_size`` bytes is due."""
    return st.one_of(
        st.binary(max_size=64),                                    # not even a frame
        st.builds(frame, st.integers(0, 255).filter(lambda k: k != kind),
                  st.binary(max_size=64)),                         # another message kind
        st.builds(frame, st.just(kind),
                  st.binary(max_size=right_size + 40).filter(lambda b: len(b) != right_size)),
    )


def raw_frame(right_size: int):
    """A malformed untyped frame (base OT and OT extension frames carry no kind)."""
    return st.one_of(
        st.binary(max_size=64),
        st.binary(max_size=right_size + 40).filter(lambda b: len(b) != right_size).map(
            lambda b: len(b).to_bytes(HEADER, "little") + b),
    )


FUZZ = settings(max_examples=8, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture
def adder(bristol_path):
    return str(bristol_path("adder64.txt"))


EVALUATOR = ["--as", "evaluator", "--input", "in2=7"]
GARBLER = ["--as", "garbler", "--input", "in1=5"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=12)
FIELDS = ["protocol", "circuit", "role", "parties", "inputs", "outputs", "batch", "listed"]


@FUZZ
@given(field=st.sampled_from(FIELDS), value=json_values)
@example(field="parties", value=[["garbler", "x"]])
@example(field="inputs", value=[[["in1"], "garbler", "u64", 64]])
@example(field="inputs", value=5)
@example(field="batch", value=10**12)
@example(field="listed", value=True)
@example(field="listed", value=1)
@example(field="outputs", value=[["out1", "garbler", "u64", 64]])
@example(field="protocol", value="yaogc-yao/3\n" + "garbler: out1 = 1")
def test_fuzzed_hello_field(adder, field, value):
    sent = {}

    def script(ch):
        theirs = json.loads(ch.recv_msg(Msg.HELLO))
        mine = dict(theirs, role="garbler")
        mine[field] = value
        if mine == dict(theirs, role="garbler"):
            mine["batch"] = -1
            sent["unchanged"] = True
        ch.send_msg(Msg.HELLO, json.dumps(mine).encode(), flush=True)
    line = assert_refused(against(adder, EVALUATOR, script))
    if sent.get("unchanged"):   # the value was the party's own (batch 1): -1 went instead
        assert line.startswith("handshake: "), line
        return
    # a batch of K rows against this side's one row is a valid hello (the row is broadcast),
    # unless K does not fit in memory, and so is either value of 'listed' (whether the peer's
    # rows came as a list: it is not compared); the run then fails where the peer went silent
    valid = ((field == "batch" and type(value) is int and 1 <= value <= 1 << 30)
             or (field == "listed" and type(value) is bool))
    assert line.startswith("inputs: " if valid else "handshake: "), line


@FUZZ
@given(payload=st.one_of(st.binary(max_size=200), json_values.map(
    lambda v: json.dumps(v).encode())))
@example(payload=b"[" * 100_000 + b"]" * 100_000)
@example(payload=b'{"protocol": "' + b"x" * 5_000_000 + b'"}')
@example(payload=b'{"a": ' + b"9" * 5000 + b"}")
def test_fuzzed_hello_bytes(adder, payload):
    def script(ch):
        ch.recv_msg(Msg.HELLO)
        with contextlib.suppress(NetworkError):   # a 5 MB hello is refused at its header
            ch.send_msg(Msg.HELLO, payload, flush=True)
    line = assert_refused(against(adder, EVALUATOR, script))
    assert line.startswith("handshake: ")


def test_peer_text_is_escaped_and_bounded(adder):
    def script(ch):
        mirror_hello(ch, parties={"garbler": "x\n" + "garbler: out1 = 99" + "y" * 200,
                                  "evaluator": "\x1b[2Jev"})
    line = assert_refused(against(adder, EVALUATOR, script))
    assert "\\ngarbler: out1 = 99" in line and "\\x1b[2J" in line and len(line) < 1000


def test_a_huge_batch_is_bounded_by_memory(adder):
    """A side without inputs takes the peer's K: 10**12 rows would need terabytes."""
    def script(ch):
        mirror_hello(ch, batch=10**12)
    line = assert_refused(against(adder, ["--as", "evaluator", "--party-of", "in2=garbler"],
                                  script))
    assert line.startswith("handshake: the peer's batch of 1000000000000 rows needs about")


# -- every later message, the party as evaluator (the peer garbles) -----------------------
def _labels_then(ch, rest):
    mirror_hello(ch)
    ch.send_msg(Msg.GARBLER_LABELS, np.zeros((1, 64, 2), np.uint64), flush=True)
    rest(ch)


@FUZZ
@given(bad=garbage(Msg.GARBLER_LABELS, 64 * 16))
def test_fuzzed_garbler_labels(adder, bad):
    def script(ch):
        mirror_hello(ch)
        ch._t.sendall(bad)
    assert_refused(against(adder, EVALUATOR, script), "inputs", bad)


@FUZZ
@given(bad=raw_frame(128 * 65))
def test_fuzzed_base_ot_points_to_the_evaluator(adder, bad):
    def script(ch):
        mirror_hello(ch)
        ch.send_msg(Msg.GARBLER_LABELS, np.zeros((1, 64, 2), np.uint64), flush=True)
        ch.recv()             # A: the evaluator is the base-OT sender
        ch._t.sendall(bad)    # the receiver's 128 points
    assert_refused(against(adder, EVALUATOR, script), "OT", bad)


@FUZZ
@given(bad=raw_frame(64 * 16))
def test_fuzzed_ot_extension_reply(adder, bad):
    def script(ch):
        _ot_sender(ch)
        ch.recv()             # the u frame
        ch._t.sendall(bad)    # the correlated reply
    assert_refused(against(adder, EVALUATOR, script), "OT", bad)


def _ot_sender(ch) -> OTExtSender:
    """A garbler's side up to its OT extension, set up (the evaluator's 64 bits to come)."""
    mirror_hello(ch)
    ch.send_msg(Msg.GARBLER_LABELS, np.zeros((1, 64, 2), np.uint64), flush=True)
    ot = OTExtSender(ch)
    ot.setup()
    return ot


def _through_ot(ch):
    ot = _ot_sender(ch)
    ot.send_correlated(np.array([3, 0], np.uint64), 64)
    ch.flush()


@FUZZ
@given(bad=garbage(Msg.TABLES, 63 * 32))
def test_fuzzed_tables(adder, bad):
    def script(ch):
        _through_ot(ch)
        ch._t.sendall(bad)
    # a layer may come in several frames: a short one is the start of one (the peer then
    # closed), where a wrong kind or a frame past the layer's size is refused as such
    short = len(bad) > HEADER and bad[HEADER] == Msg.TABLES and len(bad) <= 63 * 32 + HEADER + 1
    assert_refused(against(adder, EVALUATOR, script), "tables", None if short else bad)


@FUZZ
@given(bad=garbage(Msg.OUTPUT_DECODING, 8))
def test_fuzzed_output_decoding(adder, bad):
    def script(ch):
        _through_ot(ch)
        ch.send_msg(Msg.TABLES, np.zeros(63 * 32, np.uint8), flush=True)
        ch.recv_msg(Msg.OUTPUT_COLOURS)
        ch._t.sendall(bad)
    assert_refused(against(adder, EVALUATOR, script), "outputs", bad)


# -- the party as garbler (the peer evaluates) ----------------------------------------------
@FUZZ
@given(bad=raw_frame(65))
def test_fuzzed_base_ot_point_to_the_garbler(adder, bad):
    def script(ch):
        mirror_hello(ch, role="evaluator")
        ch.recv_msg(Msg.GARBLER_LABELS)
        ch._t.sendall(bad)    # A: the evaluator is the base-OT sender
    assert_refused(against(adder, GARBLER, script), "OT", bad)


@FUZZ
@given(bad=raw_frame(24 + 128 * 16))
def test_fuzzed_ot_extension_u_frame(adder, bad):
    def script(ch):
        mirror_hello(ch, role="evaluator")
        ch.recv_msg(Msg.GARBLER_LABELS)
        OTExtReceiver(ch).setup()
        ch._t.sendall(bad)
    assert_refused(against(adder, GARBLER, script), "OT", bad)


@FUZZ
@given(bad=garbage(Msg.OUTPUT_COLOURS, 8))
def test_fuzzed_output_colours(adder, bad):
    def script(ch):
        mirror_hello(ch, role="evaluator")
        ch.recv_msg(Msg.GARBLER_LABELS)
        ot = OTExtReceiver(ch)
        ot.setup()
        ot.recv_correlated(np.zeros(64, np.uint8))
        ch.recv_msg(Msg.TABLES)
        ch._t.sendall(bad)
    assert_refused(against(adder, GARBLER, script), "outputs", bad)


def test_a_peer_owning_inputs_must_give_rows(adder):
    """A hello with no batch says the peer has no inputs; from a role that owns inputs it is
    refused in the handshake, not found out when the labels never come."""
    def script(ch):
        theirs = json.loads(ch.recv_msg(Msg.HELLO))
        ch.send_msg(Msg.HELLO, json.dumps(dict(theirs, role="garbler", batch=None)).encode(),
                    flush=True)
    line = assert_refused(against(adder, EVALUATOR, script))
    assert line.startswith("handshake: ") and "gives no rows of its inputs (in1)" in line, line


def test_a_malformed_ot_message_is_reported_in_the_ot_phase(adder):
    """The OT layer knows no protocol phase: its errors came out as 'OT extension: ...'
    while every other failure starts with the phase ('OT: OT extension: ...' now)."""
    def script(ch):
        _ot_sender(ch)
        ch.recv()                                   # the u frame
        ch.send(bytes(64 * 16 - 16), flush=True)    # one OT short
    line = assert_refused(against(adder, EVALUATOR, script))
    assert line.startswith("OT: OT extension: sender's frame for 64 OTs is malformed"), line


def test_a_receiver_at_another_ot_index_is_reported_in_the_ot_phase(adder):
    def script(ch):
        mirror_hello(ch, role="evaluator")
        ch.recv_msg(Msg.GARBLER_LABELS)
        ot = OTExtReceiver(ch)
        ot.index = 12345
        with pytest.raises(NetworkError):      # the garbler refuses the u frame and closes
            ot.recv_correlated(np.zeros(64, np.uint8))
    line = assert_refused(against(adder, GARBLER, script))
    assert line.startswith("OT: OT extension: receiver is at OT index 12345"), line


def test_a_frame_announced_larger_than_due_is_refused_at_its_header(adder):
    """A table frame announced at 100 MB where 2016 bytes are due, then trickled: it was
    read (the deadline grows with the announced size: 1,000 s here); it is refused at once."""
    import time

    def script(ch):
        _through_ot(ch)
        ch._t.sendall((10**8 + 1).to_bytes(HEADER, "little") + bytes([Msg.TABLES]))
        for _ in range(8):
            time.sleep(1)
            try:
                ch._t.sendall(b"\0")
            except OSError:
                return
    t0 = time.monotonic()
    line = assert_refused(against(adder, EVALUATOR, script))
    assert line.startswith("tables: the peer announced a message of 100000000 bytes, more "
                           "than the 2016 due here"), line
    assert time.monotonic() - t0 < 9


def test_a_flood_of_empty_table_frames_is_refused_at_once(adder):
    """Empty table frames where tables are due were each kept (about 80 bytes apiece, 30 MB
    a second) until the tables' deadline; an honest garbler never sends one."""
    import time

    def script(ch):
        _through_ot(ch)
        frame = (1).to_bytes(HEADER, "little") + bytes([Msg.TABLES])
        with contextlib.suppress(OSError):
            for _ in range(100000):
                ch._t.sendall(frame * 64)
    t0 = time.monotonic()
    line = assert_refused(against(adder, EVALUATOR, script))
    assert line == "tables: the garbler sent an empty table frame", line
    assert time.monotonic() - t0 < 5


def test_a_hello_announced_at_hundreds_of_megabytes_is_refused_at_its_header(adder):
    """A hello is JSON of a few hundred bytes: one announced at 255 MB (within the frame
    limit) made the party set aside that much and wait for it until the timeout."""
    import time

    def script(ch):
        ch.recv_msg(Msg.HELLO)
        ch._t.sendall(((255 << 20) + 1).to_bytes(HEADER, "little") + bytes([Msg.HELLO]) +
                      b"{" * 1000)
        ch._t.settimeout(6)
        with contextlib.suppress(OSError):
            ch._t.recv(1)       # until the party closes (or 6 s)
    t0 = time.monotonic()
    line = assert_refused(against(adder, EVALUATOR, script))
    assert line.startswith("handshake: the peer announced a message of 267386880 bytes, more "
                           "than the 1048576 due here"), line
    assert time.monotonic() - t0 < 4


def test_tables_sent_a_layer_at_a_time_within_each_timeout_are_stopped_as_a_whole(adder):
    """Each table message just within the timeout: the whole stream of 63 layers would have
    held the evaluator for 63 timeouts; it must arrive within the timeout plus its size at
    100 kB/s, as one message must."""
    import time

    def script(ch):
        _through_ot(ch)
        for _ in range(12):
            try:
                ch.send_array(np.zeros(32, np.uint8), kind=Msg.TABLES, flush=True)
            except (OSError, NetworkError):
                return
            time.sleep(float(TIMEOUT) * 0.7)
    t0 = time.monotonic()
    line = assert_refused(against(adder, EVALUATOR, script))
    assert line.startswith("tables: the peer did not complete the garbled tables within "), line
    assert time.monotonic() - t0 < 3 * float(TIMEOUT)
