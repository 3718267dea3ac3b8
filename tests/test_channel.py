"""Tests of the two-party channel: framing, typed messages, counters, limits, failures, TCP."""

import enum
import socket
import struct
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.errors import InputError
from yaogc.runtime import channel as chmod
from yaogc.runtime.channel import memory_pair
from yaogc.runtime.net import connect, is_loopback, listen
from yaogc.runtime.errors import (ChannelTimeout, ConnectFailed, HandshakeError,
                                  InsecureTransport, NetworkError, PeerAborted, PeerClosed,
                                  ProtocolError)

T = 5.0  # generous per-wait timeout for tests that should succeed


def stop(peer, err):
    """``listen(on_failed=stop)``: end at the first failed connection instead of listening on."""
    raise err


def connect_pair(server=None, client=None, timeout=T, host="127.0.0.1", connect_to=None):
    """listen() in a thread and connect() to it; each result is a Channel or the exception."""
    ready, box = threading.Event(), {}

    def on_listening(host, port):
        box["port"] = port
        ready.set()

    def serve():
        try:
            box["s"] = listen(host, 0, timeout, on_listening=on_listening,
                              **{"on_failed": stop, **(server or {})})
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box["s"] = e
            ready.set()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    assert ready.wait(timeout)
    try:
        c = connect(connect_to or host, box["port"], timeout, **(client or {}))
    except BaseException as e:  # noqa: BLE001 - handed to the test
        c = e
    t.join(3 * timeout)
    assert not t.is_alive()
    return box["s"], c


def raw_peer(script, timeout=T, phase=None):
    """A Channel listener facing a raw socket that runs ``script(sock)``; returns the channel."""
    ready, box = threading.Event(), {}

    def serve():
        try:
            box["s"] = listen("127.0.0.1", 0, timeout, phase=phase, on_failed=stop,
                              on_listening=lambda h, p: (box.update(port=p), ready.set()))
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box["s"] = e

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    assert ready.wait(timeout)
    sock = socket.create_connection(("127.0.0.1", box["port"]), timeout=timeout)
    script(sock)
    t.join(3 * timeout)
    return box["s"], sock


class Kind(enum.IntEnum):
    HELLO = 1
    TABLES = 5


# -- in-memory pair -------------------------------------------------------------------------
def test_memory_pair_round_trips_frames_messages_and_arrays():
    a, b = memory_pair()
    arr = np.arange(1000, dtype=np.uint64).reshape(500, 2)
    a.send(b"")
    a.send(b"hello")
    a.send(bytearray(b"\x00" * 70_000))
    a.send_msg(Kind.HELLO, b"payload")
    a.send_array(arr)
    a.send_array(arr[:, 0], kind=Kind.TABLES)  # non-contiguous input
    a.flush()
    assert b.recv() == b""
    assert b.recv() == b"hello"
    assert b.recv() == b"\x00" * 70_000
    assert b.recv_msg(Kind.HELLO) == b"payload"
    got = b.recv_array(np.uint64, (500, 2))
    assert got.shape == (500, 2) and np.array_equal(got, arr)
    assert np.array_equal(b.recv_array(np.uint64, 500, kind=Kind.TABLES), arr[:, 0])
    assert a.bytes_sent == b.bytes_received
    assert a.frames_sent == b.frames_received == 6
    assert b.bytes_sent == a.bytes_received == 0


def test_counters_include_headers():
    a, b = memory_pair()
    a.send(b"abc")
    a.send_msg(7, b"de")
    a.flush()
    assert a.bytes_sent == (8 + 3) + (8 + 1 + 2)
    b.recv()
    b.recv_msg(7)
    assert b.bytes_received == a.bytes_sent


@settings(deadline=None, max_examples=25)
@given(st.lists(st.one_of(st.binary(max_size=64),
                          st.integers(0, 3_000_000).map(lambda n: bytes([n % 251]) * n)),
                max_size=12))
def test_any_frame_sequence_round_trips(frames):
    a, b = memory_pair()
    for f in frames:
        a.send(f)
    a.flush()
    assert [b.recv() for _ in frames] == frames
    assert a.bytes_sent == b.bytes_received == sum(8 + len(f) for f in frames)


class Trickle:
    """A transport wrapper whose reads return few bytes at a time, as TCP may."""

    def __init__(self, inner, seed, most):
        self.inner, self.rng, self.most = inner, np.random.default_rng(seed), most

    def recv_into(self, view):
        # Half the reads are tiny, so headers and frames split at every possible offset.
        most = 16 if self.rng.random() < 0.5 else self.most
        return self.inner.recv_into(view[:int(self.rng.integers(1, most + 1))])

    def __getattr__(self, name):
        return getattr(self.inner, name)


@settings(deadline=None, max_examples=20)
@given(st.lists(st.sampled_from([0, 1, 7, 8, 9, 1000, 300_000, 700_000, 1 << 20, 2_500_000]),
                max_size=14),
       st.integers(0, 2**32 - 1), st.sampled_from([20_000, 400_000, 3_000_000]))
def test_frames_survive_arbitrary_read_boundaries(sizes, seed, most):
    a, b = memory_pair()
    b._t = Trickle(b._t, seed, most)
    frames = [bytes([i % 256]) * n for i, n in enumerate(sizes)]
    for i, f in enumerate(frames):
        if i % 3 == 2:
            a.send_array(np.frombuffer(f, np.uint8))
        else:
            a.send(f)
    a.flush()
    for i, f in enumerate(frames):
        got = b.recv_array(np.uint8, len(f)).tobytes() if i % 3 == 2 else b.recv()
        assert got == f
    assert b.bytes_received == a.bytes_sent


def test_recv_flushes_own_pending_sends():
    a, b = memory_pair(timeout=T)
    out = {}
    t = threading.Thread(target=lambda: (out.update(x=b.recv()), b.send(b"pong", flush=True)))
    t.start()
    a.send(b"ping")       # buffered, goes out when a waits for the answer
    assert a.recv() == b"pong"
    t.join()
    assert out["x"] == b"ping"


def test_wrong_message_kind_is_refused_by_name():
    a, b = memory_pair()
    a.send_msg(Kind.TABLES, b"x", flush=True)
    with pytest.raises(ProtocolError, match=r"expected message HELLO \(1\), the peer sent "
                                            r"TABLES \(5\)"):
        b.recv_msg(Kind.HELLO)
    with pytest.raises(ProtocolError, match="unusable after an earlier failure: expected message"):
        b.recv()


def test_wrong_plain_int_kind_is_refused():
    a, b = memory_pair()
    a.send_msg(3, b"x", flush=True)
    with pytest.raises(ProtocolError, match=r"expected message kind 4, the peer sent kind 3"):
        b.recv_msg(4)


def test_unknown_kind_against_an_enum():
    a, b = memory_pair()
    a.send_msg(200, b"", flush=True)
    with pytest.raises(ProtocolError, match=r"expected message HELLO \(1\), the peer sent "
                                            r"kind 200"):
        b.recv_msg(Kind.HELLO)


def test_array_size_mismatch_is_refused():
    a, b = memory_pair()
    a.send_array(np.zeros(10, np.uint32), flush=True)
    with pytest.raises(ProtocolError, match=r"expected 80 bytes .* shape \(10,\), the peer sent 40"):
        b.recv_array(np.uint64, 10)


def test_array_without_shape_needs_whole_items():
    a, b = memory_pair()
    a.send(b"\x01" * 16)
    a.send(b"\x01" * 15, flush=True)
    assert b.recv_array(np.uint32).shape == (4,)
    with pytest.raises(ProtocolError, match="whole uint32 items"):
        b.recv_array(np.uint32)


def test_send_above_the_frame_limit_is_refused_locally():
    a, _ = memory_pair(max_frame=100)
    a.send(b"x" * 100)
    with pytest.raises(ProtocolError, match="above the frame limit of 100"):
        a.send(b"x" * 101)


@pytest.mark.parametrize("receive", [lambda ch: ch.recv(), lambda ch: ch.recv_msg(Kind.HELLO),
                                     lambda ch: ch.recv_array(np.uint64, 4, kind=Kind.TABLES),
                                     lambda ch: ch.recv_array(np.uint8)])
def test_abort_carries_the_reason_with_phase_to_any_receive(receive):
    a, b = memory_pair()
    b.phase = "handshake"
    a.send(b"before")
    a.abort("circuit hashes differ")
    assert b.recv() == b"before"
    with pytest.raises(PeerAborted, match="^handshake: the peer aborted: circuit hashes differ$"):
        receive(b)
    with pytest.raises(PeerAborted, match="unusable after an earlier failure"):
        b.send(b"x")


def test_context_manager_tells_the_peer_about_a_local_error():
    a, b = memory_pair()
    with pytest.raises(InputError):
        with a:
            a.send(b"partial")
            raise InputError("inputs.json: value 300 does not fit u8")
    assert b.recv() == b"partial"
    with pytest.raises(PeerAborted, match=r"stopped on an error of its own \(InputError\)") as e:
        b.recv_msg_any()
    assert "300" not in str(e.value)  # the message may quote a private input: not sent


def test_abort_reason_is_one_bounded_printable_line():
    a, b = memory_pair()
    a.abort("line one\nline two\x1b[31m" + "x" * 5000)
    with pytest.raises(PeerAborted) as e:
        b.recv_msg(1)
    text = str(e.value)
    assert "\n" not in text and "\x1b" not in text and len(text) < 600


def test_context_manager_on_a_bug_or_a_network_error():
    a, b = memory_pair()
    with pytest.raises(ZeroDivisionError):
        with a:
            1 / 0
    with pytest.raises(PeerAborted, match="the peer stopped on an internal error$"):
        b.recv()
    a, b = memory_pair(timeout=T)
    with pytest.raises(PeerClosed):
        with b:
            b.send(b"buffered")
            raise PeerClosed("the peer closed the connection")
    with pytest.raises(PeerClosed):  # the channel died: what was buffered is dropped
        a.recv()


def test_typed_receive_of_any_kind_and_of_an_empty_frame():
    a, b = memory_pair()
    a.send_msg(Kind.TABLES, b"t")
    a.send(b"", flush=True)
    assert b.recv_msg_any() == (Kind.TABLES, b"t")
    with pytest.raises(ProtocolError, match="empty frame where a typed message was due"):
        b.recv_msg_any()


def test_memory_peer_closed_and_timeout():
    a, b = memory_pair(timeout=0.2)
    b.phase = "OT"
    t0 = time.monotonic()
    with pytest.raises(ChannelTimeout, match="^OT: timed out after 0.2 s"):
        b.recv()
    assert time.monotonic() - t0 < T
    a, b = memory_pair(timeout=T)
    b.phase = "OT"
    a.close()
    with pytest.raises(PeerClosed, match="^OT: the peer closed the connection$"):
        b.recv()
    a, b = memory_pair(timeout=T)
    a.close()
    with pytest.raises(PeerClosed, match="while this side was sending"):
        b.send(b"x", flush=True)


def test_closed_channel_refuses_use():
    a, _ = memory_pair()
    a.close()
    a.close()
    with pytest.raises(NetworkError, match="closed"):
        a.send(b"x")


def test_errors_have_network_exit_code_and_phase():
    e = PeerClosed("the peer closed the connection", phase="OT")
    assert str(e) == "OT: the peer closed the connection" and e.exit_code == 3
    assert e.phase == "OT" and e.detail == "the peer closed the connection"
    assert InsecureTransport("x").exit_code == 2


# -- TCP ------------------------------------------------------------------------------------
def test_tcp_round_trip_empty_small_and_50_mib():
    s, c = connect_pair()
    with s, c:
        big = np.frombuffer(np.random.default_rng(1).bytes(50 << 20), np.uint8)
        got = {}

        def receive():
            got["empty"] = s.recv()
            got["small"] = s.recv_msg(Kind.HELLO)
            got["big"] = s.recv()
            got["arr"] = s.recv_array(np.uint64, (50 << 20) // 8)
            s.send_msg(Kind.TABLES, b"done", flush=True)

        t = threading.Thread(target=receive)
        t.start()
        c.send(b"")
        c.send_msg(Kind.HELLO, b"hi")
        c.send(big)
        c.send_array(big.view(np.uint64))
        assert c.recv_msg(Kind.TABLES) == b"done"
        t.join()
        assert got["empty"] == b"" and got["small"] == b"hi"
        assert got["big"] == big.tobytes()
        assert np.array_equal(got["arr"], big.view(np.uint64))
        greeting = 8
        assert c.bytes_sent == s.bytes_received == greeting + 8 + (8 + 1 + 2) + 2 * (8 + (50 << 20))
        assert s.bytes_sent == c.bytes_received == greeting + 8 + 1 + 4
        assert not c.tls and not s.tls


def test_full_duplex_with_a_sending_thread_on_each_side():
    s, c = connect_pair()
    chunk = np.arange(1 << 20, dtype=np.uint64)  # 8 MiB per frame, both ways at once
    errors = []

    def pump(ch):
        try:
            for _ in range(6):
                ch.send_array(chunk)
                ch.send_msg(Kind.HELLO, b"small")  # waits in the buffer, flushed by the next
            ch.flush()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            errors.append(e)

    with s, c:
        threads = [threading.Thread(target=pump, args=(ch,)) for ch in (s, c)]
        for t in threads:
            t.start()
        for ch in (s, c):
            for _ in range(6):
                assert np.array_equal(ch.recv_array(np.uint64, 1 << 20), chunk)
                assert ch.recv_msg(Kind.HELLO) == b"small"
        for t in threads:
            t.join()
        assert not errors
        assert s.bytes_sent == c.bytes_received and c.bytes_sent == s.bytes_received


def test_oversized_frame_announcement_is_refused_without_allocating():
    def script(sock):
        sock.sendall(chmod._GREETING + struct.pack("<Q", 10 << 30))
        sock.recv(8)

    s, sock = raw_peer(script)
    with sock, s:
        s.phase = "tables"
        with pytest.raises(ProtocolError, match=r"^tables: the peer announced a frame of "
                                                r"10737418240 bytes, above the frame limit"):
            s.recv()


def test_peer_closing_mid_frame_is_peer_closed_with_phase():
    def script(sock):
        sock.sendall(chmod._GREETING + struct.pack("<Q", 1000) + b"x" * 10)
        sock.recv(8)
        sock.close()

    s, sock = raw_peer(script, phase="OT")
    with s:
        with pytest.raises(PeerClosed, match=r"^OT: the peer closed the connection in the "
                                             r"middle of a frame \(10 of 1000 bytes received\)"):
            s.recv()


def test_peer_closing_between_frames_is_peer_closed():
    s, c = connect_pair()
    s.phase = "output"
    c.send(b"last")
    c.close()
    assert s.recv() == b"last"
    with pytest.raises(PeerClosed, match="^output: the peer closed the connection$"):
        s.recv()
    s.close()


def test_recv_timeout_is_quick():
    s, c = connect_pair()
    with s, c:
        s.timeout = 0.3
        s.phase = "OT"
        t0 = time.monotonic()
        with pytest.raises(ChannelTimeout, match=r"^OT: timed out after 0.3 s waiting for the "
                                                 r"peer to send"):
            s.recv()
        assert time.monotonic() - t0 < T


def test_send_timeout_when_the_peer_does_not_read():
    s, c = connect_pair()
    with s, c:
        c.timeout = 0.3
        with pytest.raises(ChannelTimeout, match="waiting for the peer to read"):
            for _ in range(64):  # far beyond what the socket buffers hold
                c.send(np.zeros(1 << 20, np.uint64))


def test_listen_times_out_without_a_peer():
    with pytest.raises(ChannelTimeout, match="no peer connected to 127.0.0.1:"):
        listen("127.0.0.1", 0, 0.2, on_listening=lambda h, p: None)


def test_listen_prints_its_address(capfd):
    with pytest.raises(ChannelTimeout):
        listen("127.0.0.1", 0, 0.1)
    assert capfd.readouterr().err.startswith("listening on 127.0.0.1:")


def test_connect_retries_until_the_listener_is_up():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    box = {}

    def late_listener():
        time.sleep(0.4)
        box["s"] = listen("127.0.0.1", port, T, on_listening=lambda h, p: None)

    t = threading.Thread(target=late_listener)
    t.start()
    c = connect("127.0.0.1", port, T)
    t.join()
    with c, box["s"] as s:
        c.send(b"ok", flush=True)
        assert s.recv() == b"ok"


def test_connect_gives_up_when_nobody_listens():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(ConnectFailed, match="is the other party listening"):
        connect("127.0.0.1", port, T, retry_for=0.2)


def test_ipv6_loopback():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    s, c = connect_pair(host="::1")
    with s, c:
        c.send(b"v6", flush=True)
        assert s.recv() == b"v6"
        assert s.peer.startswith("[::1]:")


def test_another_channel_version_is_refused():
    def script(sock):
        sock.sendall(b"YAOGC\x00\x09\n")
        sock.recv(8)

    s, sock = raw_peer(script)
    sock.close()
    assert isinstance(s, HandshakeError)
    assert "the peer speaks channel version 9, this side 1" in str(s)


def test_a_silent_peer_fails_the_greeting_in_time():
    s, sock = raw_peer(lambda sock: None, timeout=1.0)
    sock.close()
    assert isinstance(s, HandshakeError)
    assert "no greeting from 127.0.0.1:" in str(s) and "within 1 s" in str(s)


def test_listening_on_a_busy_port_fails():
    busy = socket.create_server(("127.0.0.1", 0))
    with busy, pytest.raises(ConnectFailed, match="cannot listen on 127.0.0.1:"):
        listen("127.0.0.1", busy.getsockname()[1], 0.1, on_listening=lambda h, p: None)


def test_a_stranger_on_the_port_is_refused():
    def script(sock):
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        sock.recv(8)

    s, sock = raw_peer(script)
    sock.close()
    assert isinstance(s, HandshakeError)
    assert "not a yaogc party" in str(s)


def test_plain_tcp_off_loopback_needs_the_flag():
    with pytest.raises(InsecureTransport, match="TLS is required") as e:
        connect("192.0.2.1", 9, 0.1)
    assert "encrypts" in str(e.value) and "authenticates" in str(e.value)
    assert "--insecure-plain-tcp" in str(e.value)
    with pytest.raises(InsecureTransport, match="all interfaces"):
        listen("", 0, 0.1)
    with pytest.raises(InsecureTransport):
        listen("0.0.0.0", 0, 0.1)
    # With the flag the check passes and the call proceeds to the network.
    with pytest.raises(ChannelTimeout):
        listen("0.0.0.0", 0, 0.1, insecure_plain_tcp=True, on_listening=lambda h, p: None)


def test_all_interfaces_listener_accepts_ipv4():
    s, c = connect_pair({"insecure_plain_tcp": True}, host="", connect_to="127.0.0.1")
    with s, c:
        s.send(b"v4", flush=True)
        assert c.recv() == b"v4"


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("127.8.0.1") and is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")
    assert not is_loopback("")


def _trickle_frame(sock, frame: bytes, gap: float, stop: threading.Event, at_once=0) -> None:
    """Send ``frame`` one byte at a time after its first ``at_once`` bytes, ``gap`` seconds
    apart (each within the timeout), 20 bytes at most: then it goes silent."""
    sock.sendall(frame[:at_once])
    for i in range(at_once, min(len(frame), at_once + 20)):
        if stop.is_set():
            return
        try:
            sock.sendall(frame[i:i + 1])
        except OSError:
            return
        time.sleep(gap)


@pytest.mark.parametrize("size, at_once, said", [(30, 0, "message within"),
                                                   (30, 8, "message of 30 bytes within"),
                                                   (3000, 8, "message of 3000 bytes")])
def test_a_frame_trickled_within_every_timeout_is_cut_off(size, at_once, said):
    """A peer that sends one byte every 0.15 s never trips a 0.5 s timeout; before each frame
    had to arrive whole within the timeout plus its size at MIN_RATE, a 30-byte frame took
    5.7 s to receive (and was accepted). The header may come at once, then the body slowly."""
    s1, s2 = socket.socketpair()
    ch = chmod.Channel(s1, timeout=0.5, phase="outputs")
    stop = threading.Event()
    frame = struct.pack("<Q", size) + bytes(size)
    t = threading.Thread(target=_trickle_frame, args=(s2, frame, 0.15, stop, at_once),
                         daemon=True)
    t0 = time.monotonic()
    t.start()
    try:
        with pytest.raises(ChannelTimeout, match="^outputs: the peer did not send a whole "
                                                 + said):
            ch.recv()
        assert time.monotonic() - t0 < 0.5 + size / chmod.MIN_RATE + 0.5
    finally:
        stop.set()
        t.join(5)
        ch.close()
        s2.close()


def test_a_frame_sent_at_once_after_a_long_wait_is_received():
    """The deadline counts from the wait, like the timeout: a peer that starts sending
    within the timeout and writes its frame in one go is received as before."""
    s1, s2 = socket.socketpair()
    ch = chmod.Channel(s1, timeout=1.0)
    payload = bytes(range(256)) * 8

    def late():
        time.sleep(0.7)
        s2.sendall(struct.pack("<Q", len(payload)) + payload)
    t = threading.Thread(target=late, daemon=True)
    t.start()
    assert ch.recv() == payload
    t.join(5)
    t = threading.Thread(target=late, daemon=True)   # and again: each frame has its own
    t.start()
    assert ch.recv() == payload
    t.join(5)
    ch.close()
    s2.close()


def test_a_malformed_message_from_the_peer_is_answered_with_an_abort():
    # the side that finds the peer's message malformed tells it so (it only saw the
    # connection closed, often under a later phase of its own), without the details
    a, b = memory_pair()
    a.phase = "OT"
    b.send_msg(Kind.TABLES, b"x" * 7, flush=True)
    with pytest.raises(ProtocolError, match="expected message HELLO"):
        with a:
            a.recv_msg(Kind.HELLO)
    b.phase = "tables"
    with pytest.raises(PeerAborted, match=r"^tables: the peer aborted: it refused a malformed or "
                                          r"inconsistent message of this side \(during OT\)$"):
        b.recv()
