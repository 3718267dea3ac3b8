"""The transport rule connects only to the addresses it checked; a listener outlives a port
scanner; a peer that trickles bytes cannot hold a party past its deadline."""

import socket
import subprocess
import threading
import time

import pytest

from test_channel import T
from test_run_cli import CLI, finish, start_listener
from yaogc.runtime import net
from yaogc.runtime.errors import ChannelTimeout, HandshakeError, InsecureTransport
from yaogc.runtime.net import connect, listen

GREETING = b"YAOGC\x00\x01\n"


def _listener(timeout=T, **kw):
    box, ready = {}, threading.Event()

    def serve():
        try:
            box["ch"] = listen("127.0.0.1", 0, timeout,
                               on_listening=lambda h, p: (box.update(port=p), ready.set()),
                               **kw)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box["ch"] = e
            ready.set()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    assert ready.wait(T)
    return t, box



def _trickle(s, data: bytes, stop) -> None:
    """Send ``data`` one byte every 0.4 s (each within a 1 s read timeout) until ``stop()``
    or the other side closes."""
    try:
        for b in data:
            s.sendall(bytes([b]))
            time.sleep(0.4)
            if stop():
                break
    except OSError:
        pass

def test_plain_tcp_connects_only_to_the_address_it_checked(monkeypatch):
    """A name that resolves to loopback when checked and elsewhere a moment later (DNS
    rebinding): the one lookup is checked and used, never a second one."""
    t, box = _listener()
    real = socket.getaddrinfo
    calls = []

    def rebinding(host, port, *a, **kw):
        if host != "rebind.test":
            return real(host, port, *a, **kw)
        calls.append(host)
        ip = "127.0.0.1" if len(calls) == 1 else "192.0.2.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    ch = connect("rebind.test", box["port"], T)
    t.join(T)
    assert calls == ["rebind.test"] and ch.bytes_received == len(GREETING)
    ch.close()
    box["ch"].close()
    # and a name whose one answer is not loopback is refused before any connection
    calls.clear()
    calls.append("primed")  # the next answer is 192.0.2.1

    def no_connect(*a, **kw):
        raise AssertionError("connected although the rule refused the address")

    monkeypatch.setattr(net, "_connect_any", no_connect)
    with pytest.raises(InsecureTransport, match="plain TCP to rebind.test refused"):
        connect("rebind.test", 7000, T)


def test_a_port_scanner_does_not_end_the_listening_party(bristol_path):
    f = str(bristol_path("adder64.txt"))
    lp, port, first = start_listener(["run", f, "--as", "garbler", "--input", "in1=5",
                                      "--timeout", "30"])
    assert port is not None, first
    socket.create_connection(("127.0.0.1", port), timeout=T).close()   # connect and close
    s = socket.create_connection(("127.0.0.1", port), timeout=T)       # a stranger
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    s.close()
    cp = subprocess.Popen(CLI + ["run", f, "--as", "evaluator", "--input", "in2=7",
                                 "--connect", f"127.0.0.1:{port}", "--timeout", "30"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rc2, out2, err2 = finish(cp, 60)
    rc1, out1, err1 = finish(lp, 60)
    assert rc1 == rc2 == 0, err1 + err2
    assert out1.strip() == out2.strip() == "out1 = 12"
    assert "failed before the greeting" in err1 and "still listening" in err1
    assert "Traceback" not in err1


def test_nobody_completing_the_handshake_names_the_last_failure():
    t, box = _listener(timeout=1.0, on_failed=lambda peer, e: None)
    socket.create_connection(("127.0.0.1", box["port"]), timeout=T).close()
    t.join(3 * T)
    err = box["ch"]
    assert isinstance(err, ChannelTimeout) and err.exit_code == 3
    assert "no peer connected" in str(err) and "the last connection, from 127.0.0.1:" in str(err)


def test_a_trickling_peer_cannot_hold_the_greeting_past_the_deadline():
    """One byte every 0.4 s is within a 1 s timeout each time; the greeting as a whole must
    still end within 1 s."""
    failures = []
    t, box = _listener(timeout=1.0, on_failed=lambda peer, e: failures.append(e))
    s = socket.create_connection(("127.0.0.1", box["port"]), timeout=T)
    start = time.monotonic()
    _trickle(s, GREETING, lambda: failures)
    s.close()
    t.join(3 * T)
    assert failures, "the trickling peer completed the greeting"
    assert isinstance(failures[0], HandshakeError)
    assert "within 1 s" in str(failures[0])
    assert time.monotonic() - start < 8 * 0.4  # it was cut off before all 8 bytes went


def test_a_trickling_peer_cannot_hold_the_session_handshake(bristol_path):
    """A raw peer greets properly, then sends its hello a byte at a time within every
    timeout: the party stops at the deadline with exit 3 and a one-line message."""
    f = str(bristol_path("adder64.txt"))
    lp, port, first = start_listener(["run", f, "--as", "garbler", "--input", "in1=5",
                                      "--timeout", "1"])
    assert port is not None, first
    s = socket.create_connection(("127.0.0.1", port), timeout=T)
    s.sendall(GREETING)
    s.recv(8)
    hello = b'{"protocol":"yaogc-yao/3"}'
    frame = (len(hello) + 1).to_bytes(8, "little") + b"\x01" + hello
    start = time.monotonic()
    _trickle(s, frame, lambda: lp.poll() is not None)
    rc, out, err = finish(lp, 30)
    s.close()
    assert rc == 3 and out == ""
    lines = [x for x in (first + err).splitlines() if not x.startswith("listening on")]
    assert len(lines) == 1 and "handshake: the peer did not complete the session handshake "\
        "within 1 s" in lines[0], err
    assert time.monotonic() - start < len(frame) * 0.4


def test_a_trickling_garbler_cannot_hold_the_evaluator_in_the_inputs_phase(bristol_path):
    """The garbler's input labels are 1 KiB: at one byte per 0.4 s (each within the 1 s
    timeout) they would take minutes; the evaluator stops at its deadline."""
    import json
    from yaogc.runtime.channel import Channel
    from yaogc.runtime import handshake as hs
    f = str(bristol_path("adder64.txt"))
    lp, port, first = start_listener(["run", f, "--as", "evaluator", "--input", "in2=5",
                                      "--timeout", "1"])
    assert port is not None, first
    s = socket.create_connection(("127.0.0.1", port), timeout=T)
    ch = Channel(s, timeout=T)
    ch._greet(False)
    theirs = json.loads(ch.recv_msg(1))
    ch.send_msg(1, hs.encode(dict(theirs, role="garbler")), flush=True)
    labels = (64 * 16 + 1).to_bytes(8, "little") + b"\x02" + bytes(64 * 16)
    start = time.monotonic()
    _trickle(s, labels, lambda: lp.poll() is not None)
    rc, out, err = finish(lp, 30)
    s.close()
    assert rc == 3 and out == ""
    lines = [x for x in (first + err).splitlines() if not x.startswith("listening on")]
    assert len(lines) == 1 and lines[0].startswith(
        "inputs: the peer did not complete the garbler's input labels within"), err
    assert time.monotonic() - start < 10


# --- a silent stranger cannot hold up the listener: connections are secured concurrently ---

def _handshake_threads():
    return [t for t in threading.enumerate() if t.name.startswith("yaogc-handshake")]


def _idle(port, n):
    """``n`` connections that never send a byte (a port scanner, a stranger)."""
    return [socket.create_connection(("127.0.0.1", port), timeout=T) for _ in range(n)]


def _closed_by_listener(s) -> bool:
    """True if the listener closed ``s``: after its 8-byte greeting, end of stream or reset."""
    s.settimeout(T)
    got = b""
    try:
        while True:
            chunk = s.recv(64)
            if not chunk:
                return got in (b"", GREETING)
            got += chunk
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strangers", [1, 2])
def test_an_idle_connection_does_not_hold_up_the_real_peer(strangers):
    """A stranger connects first and says nothing; the real peer that connects afterwards is
    taken at once, not after the stranger's 8 s handshake timeout."""
    t, box = _listener(timeout=8.0, on_failed=lambda peer, e: None)
    idle = _idle(box["port"], strangers)
    time.sleep(0.3)  # the strangers are accepted and in their handshake first
    start = time.monotonic()
    ch = connect("127.0.0.1", box["port"], 8.0)
    t.join(T)
    took = time.monotonic() - start
    assert not t.is_alive()
    assert not isinstance(box["ch"], BaseException), box["ch"]
    assert took < 2.0, f"the real peer waited {took:.1f} s behind {strangers} idle connection(s)"
    # the channel works both ways
    box["ch"].send_msg(1, b"hello", flush=True)
    assert ch.recv_msg(1) == b"hello"
    ch.send_msg(1, b"back", flush=True)
    assert box["ch"].recv_msg(1) == b"back"
    ch.close()
    box["ch"].close()
    # the strangers still in their handshake were closed, and no handshake thread is left
    for s in idle:
        assert _closed_by_listener(s)
        s.close()
    assert not _handshake_threads()


@pytest.mark.timeout(60)
def test_only_idle_connections_still_time_out():
    """The overall timeout still ends the wait when nobody completes the handshake."""
    failures = []
    start = time.monotonic()
    t, box = _listener(timeout=1.5, on_failed=lambda peer, e: failures.append(e))
    idle = _idle(box["port"], 2)
    t.join(10)
    took = time.monotonic() - start
    assert not t.is_alive()
    err = box["ch"]
    assert isinstance(err, ChannelTimeout) and err.exit_code == 3, err
    assert "no peer connected" in str(err) and "the last connection, from 127.0.0.1:" in str(err)
    assert len(failures) == 2 and all(isinstance(e, HandshakeError) for e in failures)
    assert took < 1.5 + 2.0
    for s in idle:
        s.close()
    assert not _handshake_threads()


@pytest.mark.timeout(60)
def test_failures_are_reported_while_the_listener_waits_on():
    """Connections that fail while an idle one is still in its handshake are reported from
    the listening thread at once, and the real peer still gets through."""
    seen = []
    t, box = _listener(timeout=8.0,
                       on_failed=lambda peer, e: seen.append((threading.current_thread(), e)))
    idle = _idle(box["port"], 1)
    for _ in range(3):   # strangers that speak nonsense: each fails at once
        s = socket.create_connection(("127.0.0.1", box["port"]), timeout=T)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        s.recv(64)
        s.close()
    deadline = time.monotonic() + T
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(seen) == 3 and all(isinstance(e, HandshakeError) for _, e in seen)
    assert all(th is t for th, _ in seen)   # on_failed runs in the listening thread
    ch = connect("127.0.0.1", box["port"], 8.0)
    t.join(T)
    assert not isinstance(box["ch"], BaseException), box["ch"]
    ch.close()
    box["ch"].close()
    idle[0].close()
    assert not _handshake_threads()


@pytest.mark.timeout(60)
def test_on_failed_may_still_stop_the_listener():
    """``on_failed`` raising ends ``listen`` with that error, idle connections closed."""
    def stop(peer, e):
        raise e

    t, box = _listener(timeout=8.0, on_failed=stop)
    idle = _idle(box["port"], 1)
    time.sleep(0.2)
    s = socket.create_connection(("127.0.0.1", box["port"]), timeout=T)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    t.join(T)
    s.close()
    assert isinstance(box["ch"], HandshakeError), box["ch"]
    assert "not a yaogc party" in str(box["ch"])
    assert _closed_by_listener(idle[0])
    idle[0].close()
    assert not _handshake_threads()


def test_a_burst_of_connections_is_taken_in_at_once():
    """Data owners connecting to a server together are all connected by the kernel while
    the listener secures the first ones: none has its SYN dropped and retried a second
    later (a backlog of 4 made every fifth connection of a burst wait 1 s)."""
    import selectors
    with net.Listener("127.0.0.1", 0) as server:
        socks = []
        try:
            for _ in range(100):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", server.port))
                socks.append(s)
            with selectors.DefaultSelector() as sel:
                for s in socks:
                    sel.register(s, selectors.EVENT_WRITE)
                done, deadline = set(), time.monotonic() + 0.6
                while len(done) < len(socks) and time.monotonic() < deadline:
                    for key, _ in sel.select(0.1):
                        sel.unregister(key.fileobj)
                        done.add(key.fileobj)
            assert len(done) == len(socks)
            assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 for s in socks)
        finally:
            for s in socks:
                s.close()


def test_stop_ends_the_wait_for_a_peer_on_either_side():
    """``stop()`` returning a reason ends a listener waiting for its peer (an idle
    connection in its handshake closed with it) and a connecting side retrying a refused
    port, each with ``Stopped`` naming the place, the phase and the reason."""
    from yaogc.runtime.errors import Stopped
    asked = []
    gate = threading.Event()

    def stop():
        asked.append(1)
        return "the run was given up" if gate.is_set() else None

    t, box = _listener(timeout=60.0, stop=stop, phase="connect")
    idle = _idle(box["port"], 1)
    time.sleep(0.7)
    assert t.is_alive() and len(asked) >= 2      # asked while it waits, not only at once
    gate.set()
    t.join(T)
    assert not t.is_alive()
    err = box["ch"]
    assert isinstance(err, Stopped), err
    assert str(err) == (f"connect: stopped waiting for the peer at 127.0.0.1:{box['port']}: "
                        "the run was given up")
    assert _closed_by_listener(idle[0])
    idle[0].close()
    with socket.socket() as s:      # a port nobody listens on: refused, retried, stopped
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Stopped, match=r"^manifest: stopped waiting for the peer at "
                                      r"127\.0\.0\.1:\d+: the run was given up$"):
        connect("127.0.0.1", port, 60.0, insecure_plain_tcp=True, phase="manifest",
                stop=stop)


@pytest.mark.timeout(60)
def test_tls_listener_is_not_held_up_by_an_idle_connection(tls_pair):
    garbler, evaluator = tls_pair
    t, box = _listener(timeout=8.0, tls=garbler, on_failed=lambda peer, e: None)
    idle = _idle(box["port"], 1)
    time.sleep(0.2)
    start = time.monotonic()
    ch = connect("127.0.0.1", box["port"], 8.0, evaluator)
    t.join(T)
    assert time.monotonic() - start < 2.0
    assert not isinstance(box["ch"], BaseException), box["ch"]
    assert box["ch"].tls_version is not None
    ch.close()
    box["ch"].close()
    assert _closed_by_listener(idle[0])
    idle[0].close()
    assert not _handshake_threads()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(60)
def test_quiet_listener_prints_the_error_first(bristol_path):
    """--quiet: no 'listening on' line before the error (a port of the user's choosing)."""
    f = str(bristol_path("adder64.txt"))
    port = _free_port()
    r = subprocess.run(CLI + ["run", f, "--as", "garbler", "--input", "in1=5", "--quiet",
                              "--listen", f"127.0.0.1:{port}", "--timeout", "0.5"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 3 and r.stdout == ""
    assert "listening on" not in r.stderr
    assert r.stderr.splitlines()[0].startswith("connect: no peer connected to 127.0.0.1:"), \
        r.stderr
    # without --quiet the line is still there, first
    r = subprocess.run(CLI + ["run", f, "--as", "garbler", "--input", "in1=5",
                              "--listen", f"127.0.0.1:{port}", "--timeout", "0.5"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 3
    assert r.stderr.splitlines()[0] == f"listening on 127.0.0.1:{port}", r.stderr


def test_a_refused_connect_is_retried_at_short_intervals(monkeypatch):
    # the listening party may need a second or two to compile before it listens: the
    # connecting one tries again every 0.1 s at most (it waited up to 0.5 s between tries,
    # and so up to 0.4 s past the moment the listener was ready)
    pauses, tries = [], []

    def refuse(infos, timeout):
        tries.append(1)
        raise ConnectionRefusedError(111, "Connection refused")
    monkeypatch.setattr(net, "_connect_any", refuse)
    monkeypatch.setattr(net.time, "sleep", pauses.append)
    with pytest.raises(net.ConnectFailed, match="is the other party listening"):
        connect("127.0.0.1", 9, timeout=5.0, retry_for=0.3)
    assert pauses and max(pauses) <= 0.1 and len(tries) == len(pauses) + 1


@pytest.mark.parametrize("host", ["a..b", "x y"])
def test_an_address_to_listen_on_that_does_not_resolve_is_named_as_such(host):
    from yaogc.runtime.errors import ConnectFailed
    with pytest.raises(ConnectFailed) as e:
        net.listen(host, 0, 1.0, phase="connect")
    assert str(e.value).startswith(f"connect: cannot resolve the address to listen on {host!r}")
    with pytest.raises(ConnectFailed) as e:
        net.connect(host, 9, 1.0, phase="connect")
    assert str(e.value).startswith(f"connect: cannot resolve host {host!r}")
