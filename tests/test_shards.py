"""Sharded runs: a batch split over worker pairs of two separate Dask clusters (one per party),
over TLS on loopback, checked row by row against the plaintext evaluator; a mismatched N, a
worker killed mid-run (with and without retries), and the manifest's rules."""

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

pytest.importorskip("distributed", reason="sharded runs need the cluster extra (yaogc[cluster])")

from yaogc.circuits.evaluate import decode_outputs, evaluate_bits  # noqa: E402
from yaogc.compiler import compile_file  # noqa: E402
from yaogc.runtime import shards as sh  # noqa: E402
from yaogc.runtime.cluster import ShardedResult, local_cluster, run_sharded  # noqa: E402
from yaogc.runtime import handshake as hs  # noqa: E402
from yaogc.runtime.errors import NetworkError  # noqa: E402
from yaogc.runtime.handshake import resolve_roles  # noqa: E402
from yaogc.runtime.inputs import party_inputs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WAIT = 120   # seconds: a bound on a whole two-party test run, never reached when it passes


# -- the manifest's rules -------------------------------------------------------------------
@given(st.integers(1, 500), st.integers(1, 64))
def test_split_rows_is_contiguous_balanced_and_complete(k, n):
    if k < n:
        with pytest.raises(sh.InputError, match="cannot be split"):
            sh.split_rows(k, n)
        return
    rows = sh.split_rows(k, n)
    assert sum(rows) == k and len(rows) == n
    assert max(rows) - min(rows) <= 1
    assert rows == sorted(rows, reverse=True)          # the larger shards come first
    first = sh.starts(rows)
    assert first[0] == 0 and first[-1] == k


def test_worker_ports_follow_the_coordinators():
    assert sh.port_range("10.0.0.1", 7000, 3) == [("10.0.0.1", 7001), ("10.0.0.1", 7002),
                                                  ("10.0.0.1", 7003)]
    assert sh.port_range("h", 0, 2) == [("h", 0), ("h", 0)]
    with pytest.raises(sh.InputError, match="past 65535"):
        sh.port_range("h", 65534, 2)
    assert sh.parse_endpoints("a:1, b:2", 2) == [("a", 1), ("b", 2)]
    with pytest.raises(sh.InputError, match="1 endpoint listed, but --workers is 2"):
        sh.parse_endpoints("a:1", 2)
    assert sh.reachable(("0.0.0.0", 9), "peer.example") == ("peer.example", 9)
    assert sh.reachable(("10.1.1.1", 9), "peer.example") == ("10.1.1.1", 9)


def test_hello_differences_are_listed():
    roles = resolve_roles(compile_file(ROOT / "examples" / "logistic_score.yao"))
    mine = sh.describe("ab" * 32, roles, "garbler", 2, 10, 0, True)
    theirs = dict(sh.describe("cd" * 32, roles, "evaluator", 3, 11, 1, True))
    diffs = "; ".join(sh.compare(mine, theirs))
    for part in ("circuit", "worker pairs: this party runs 2, the other party 3",
                 "batch: 10 rows here, 11", "retries: 0 here, 1"):
        assert part in diffs
    theirs = sh.describe("ab" * 32, roles, "evaluator", 2, None, 0, False)
    assert sh.check_hello(mine, theirs) == 10          # the side with inputs gives K
    with pytest.raises(sh.ProtocolError, match="bad 'shards'"):
        sh.validate_hello(dict(theirs, shards=0))
    with pytest.raises(sh.ShardMismatch, match="both parties need --workers N"):
        sh.validate_hello(dict(theirs, protocol="yaogc-yao/2"))


def test_progress_line_counts_shards_rows_and_rate():
    import io
    from yaogc.runtime.progress import ShardProgress
    out = io.StringIO()
    bar = ShardProgress(3, label="clinic: ", enabled=True, stream=out)
    bar.update(1, 40, 2_000_000)
    assert "clinic: shards 1/3, 40 rows, 2.0M AND, " in out.getvalue()
    assert "AND/s" in out.getvalue()
    bar.close()
    assert out.getvalue().endswith("\r")


# -- two separate clusters --------------------------------------------------------------------
@pytest.fixture(scope="module")
def clusters():
    """Each party's own local cluster (3 single-threaded workers in this process)."""
    with local_cluster(3, processes=False) as g, local_cluster(3, processes=False) as e:
        yield g, e


def both(circuit, g_in, e_in, g_kw, e_kw, tls=None):
    """Run both coordinators (the garbler listens) in threads; each side's result or error."""
    out: dict = {}
    port: dict = {}
    ready = threading.Event()

    def side(name, who, inputs, kw):
        try:
            if name == "g":
                kw = dict(kw, listen=("127.0.0.1", 0),
                          on_listening=lambda h, p: (port.update(p=p), ready.set()))
            else:
                assert ready.wait(WAIT)
                kw = dict(kw, connect=("127.0.0.1", port["p"]))
            out[name] = run_sharded(circuit, who, inputs, timeout=20,
                                    tls=(tls[0] if name == "g" else tls[1]) if tls else None,
                                    **kw)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            out[name] = e
            ready.set()

    threads = [threading.Thread(target=side, args=("g", "garbler", g_in, g_kw)),
               threading.Thread(target=side, args=("e", "evaluator", e_in, e_kw))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive(), "a coordinator did not finish"
    return out["g"], out["e"]


def plaintext(circuit, g_rows, e_rows):
    roles = resolve_roles(circuit)
    k = len(g_rows)
    bits = np.zeros((k, circuit.n_inputs), dtype=np.uint8)
    for party, rows in ((roles.garbler, g_rows), (roles.evaluator, e_rows)):
        got = party_inputs(circuit, party, None, rows, batch=True)
        bits[:, got.wires] = got.bits
    return decode_outputs(circuit, evaluate_bits(circuit, bits))


def _scoring_rows(k, seed):
    rng = np.random.default_rng(seed)   # test data only, never key material
    clinic = [{"features": [round(float(x), 3) for x in rng.uniform(-2, 2, 8)]}
              for _ in range(k)]
    vendor = [{"weights": [round(float(x), 3) for x in rng.uniform(-1, 1, 8)],
               "bias": round(float(rng.uniform(-1, 1)), 3)} for _ in range(k)]
    return clinic, vendor


@pytest.mark.parametrize("pairs", [1, 3])
def test_sharded_scoring_over_tls_matches_the_plaintext_evaluator(clusters, tls_pair, pairs):
    circuit = compile_file(ROOT / "examples" / "logistic_score.yao")
    clinic, vendor = _scoring_rows(7, pairs)
    g, e = both(circuit, clinic, vendor, {"workers": pairs, "client": clusters[0]},
                {"workers": pairs, "client": clusters[1]}, tls_pair)
    for r in (g, e):
        assert isinstance(r, ShardedResult), r
    want = plaintext(circuit, clinic, vendor)
    assert [row["risk"] for row in g.outputs] == [w["risk"] for w in want]   # row by row
    assert all(row == {} for row in e.outputs)    # the vendor learns nothing
    assert g.stats["rows"] == sh.split_rows(7, pairs) and g.stats["shards"] == pairs
    assert g.stats["tls"] == "TLSv1.3" and e.stats["tls"] == "TLSv1.3"
    assert g.stats["and_gates"] == e.stats["and_gates"] > 0
    assert sorted(s["shard"] for s in g.shards) == list(range(pairs))
    assert all(s["stats"]["tls"] == "TLSv1.3" for s in g.shards + e.shards)


def test_sharded_aes_rows_in_record_order(clusters, bristol_path):
    from yaogc.circuits.bristol import load_circuit
    circuit = load_circuit(str(bristol_path("aes_128.txt")))
    g_rows = [{"in1": (0x0123456789ABCDEF << 64) + i} for i in range(5)]
    e_rows = [{"in2": 1000003 * i + 7} for i in range(5)]
    g, e = both(circuit, g_rows, e_rows, {"workers": 3, "client": clusters[0]},
                {"workers": 3, "client": clusters[1]})
    want = [w["out1"] for w in plaintext(circuit, g_rows, e_rows)]
    assert [row["out1"] for row in g.outputs] == want
    assert [row["out1"] for row in e.outputs] == want
    assert g.stats["rows"] == [2, 2, 1]


def test_mismatched_worker_pairs_are_refused_on_both_sides(clusters):
    circuit = compile_file(ROOT / "examples" / "logistic_score.yao")
    clinic, vendor = _scoring_rows(4, 0)
    g, e = both(circuit, clinic, vendor, {"workers": 2, "client": clusters[0]},
                {"workers": 3, "client": clusters[1]})
    assert isinstance(g, sh.ShardMismatch) and isinstance(e, sh.ShardMismatch)
    assert "manifest: " in str(g) and "worker pairs: this party runs 2, the other party 3" in str(g)
    assert "worker pairs: this party runs 3, the other party 2" in str(e)
    assert g.exit_code == e.exit_code == 3


def test_max_batch_bounds_the_rows_one_row_serves_in_a_sharded_run(clusters, process_cluster):
    # the vendor's one row of weights serves the clinic's 4 records: 4 evaluations on it,
    # which --max-batch 4 allows and 2 refuses in the manifest
    circuit = compile_file(ROOT / "examples" / "logistic_score.yao")
    clinic, vendor = _scoring_rows(4, 0)
    g, e = both(circuit, clinic, vendor[:1], {"workers": 2, "client": clusters[0]},
                {"workers": 2, "client": clusters[1], "max_batch": 4})
    want = plaintext(circuit, clinic, vendor[:1] * 4)
    assert [row["risk"] for row in g.outputs] == [w["risk"] for w in want]
    # the clinic's side has started its two workers listening for shards that will never
    # come: its coordinator tells them to stop, and they are free long before the 20 s
    # they would otherwise wait for their peers (the other side's cluster is in this
    # process; its client closes with it, which stops its workers too)
    with local_cluster(2, processes=False) as c1:
        g, e = both(circuit, clinic, vendor[:1], {"workers": 2, "client": process_cluster},
                    {"workers": 2, "client": c1, "max_batch": 2})
    assert isinstance(e, hs.HandshakeMismatch), e
    assert "the peer gives 4 rows against this side's one row" in str(e)
    assert isinstance(g, NetworkError)
    free = [process_cluster.submit(os.getpid, pure=False, workers=[w])
            for w in process_cluster.scheduler_info()["workers"]]
    assert len({f.result(timeout=10) for f in free}) == 2     # two worker processes


def test_a_batch_smaller_than_the_worker_pairs_is_a_usage_error(clusters):
    circuit = compile_file(ROOT / "examples" / "logistic_score.yao")
    clinic, _ = _scoring_rows(2, 0)
    with pytest.raises(sh.InputError, match="a batch of 2 rows cannot be split over 3"):
        run_sharded(circuit, "clinic", clinic, workers=3, client=clusters[0],
                    listen=("127.0.0.1", 0))


# -- a worker killed mid-run ------------------------------------------------------------------
@pytest.fixture(scope="module")
def process_cluster():
    """The evaluator's cluster of 2 worker processes, so that one can be killed."""
    with local_cluster(2, processes=True) as c:
        yield c


def _killer(flag: str):
    def hook(shard, phase):
        # runs in the evaluator's worker process: it dies while shard 2 waits for its tables
        if shard == 1 and phase == "tables" and not os.path.exists(flag):
            Path(flag).touch()
            time.sleep(0.5)    # mid-phase: its report of the phase has reached the scheduler
            os.kill(os.getpid(), signal.SIGKILL)
    return hook


@pytest.mark.parametrize("retries", [0, 1])
def test_a_worker_killed_mid_run(clusters, process_cluster, tmp_path, bristol_path, retries):
    from yaogc.circuits.bristol import load_circuit
    circuit = load_circuit(str(bristol_path("adder64.txt")))
    g_rows = [{"in1": i} for i in range(6)]
    e_rows = [{"in2": 10 * i} for i in range(6)]
    process_cluster.wait_for_workers(2, timeout=60)
    g, e = both(circuit, g_rows, e_rows,
                {"workers": 2, "client": clusters[0], "retries": retries},
                {"workers": 2, "client": process_cluster, "retries": retries,
                 "on_phase": _killer(str(tmp_path / "killed"))})
    assert (tmp_path / "killed").exists()
    if retries:
        # the shard reran with fresh keys on a live worker
        assert [r["out1"] for r in e.outputs] == [11 * i for i in range(6)]
        assert e.stats["attempts"] == 3 and g.stats["attempts"] == 3
        return
    for err in (g, e):
        assert isinstance(err, sh.ShardFailed), err
        assert str(err).startswith("run: shard 2 of 2 (rows 4-6) failed")
        assert "no output of the run is valid" in str(err)
    assert "this party: in the tables phase, its worker" in str(e) and "died" in str(e)
    # the evaluator's report, as the garbler reads it, says whose worker died
    assert "the other party: in the tables phase, its worker" in str(g) and "died" in str(g)
    assert "this party's worker" not in str(g)


# -- the command line -------------------------------------------------------------------------
def test_cli_sharded_run_over_tls(tmp_path, tls_pair):
    """The README's two commands: each party starts its own local cluster of 2 workers."""
    from test_run_cli import CLI, run_pair
    import csv
    import json
    circuit = compile_file(ROOT / "examples" / "logistic_score.yao")
    clinic, vendor = _scoring_rows(5, 11)
    with open(tmp_path / "clinic.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["features"])
        w.writerows([[json.dumps(r["features"])] for r in clinic])
    (tmp_path / "vendor.json").write_text(json.dumps(vendor))
    g_tls, e_tls = tls_pair
    tls = lambda c: ["--tls-cert", str(c.cert), "--tls-key", str(c.key),
                     "--peer-cert", str(c.peer_cert)]
    prog = str(ROOT / "examples" / "logistic_score.yao")
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", prog, "--as", "vendor", "--workers", "2", "--inputs",
         str(tmp_path / "vendor.json")] + tls(e_tls),
        ["run", prog, "--as", "clinic", "--workers", "2", "--inputs",
         str(tmp_path / "clinic.csv"), "--json"] + tls(g_tls), timeout=WAIT)
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    want = [circuit.output("risk").type.to_json(w["risk"])
            for w in plaintext(circuit, clinic, vendor)]
    doc = json.loads(out2)
    assert [row["risk"] for row in doc["outputs"]] == want
    assert doc["stats"]["rows"] == [3, 2] and len(doc["shards"]) == 2
    assert "2 worker pairs, 5 rows" in err1 and "TLSv1.3" in err1
    assert "Traceback" not in err1 + err2


@pytest.mark.parametrize("extra, message", [
    (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --workers N"),
    (["--workers", "2", "--worker-endpoints", "127.0.0.1:7001"],
     "--worker-endpoints: 1 endpoint listed, but --workers is 2"),
    (["--workers", "0"], "--workers 0: give at least 1 worker pair"),
])
def test_cli_sharded_usage_errors(bristol_path, extra, message):
    import subprocess
    from test_run_cli import CLI
    f = str(bristol_path("adder64.txt"))
    r = subprocess.run(CLI + ["run", f, "--as", "garbler", "--input", "in1=1",
                              "--listen", "127.0.0.1:0"] + extra,
                       capture_output=True, text=True, timeout=WAIT)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(message) and "Traceback" not in r.stderr


def test_one_row_applies_to_every_shard(clusters, bristol_path):
    """A party's single row (a model's weights, say) is broadcast in every shard's session."""
    from yaogc.circuits.bristol import load_circuit
    circuit = load_circuit(str(bristol_path("adder64.txt")))
    e_rows = [{"in2": 100 * i} for i in range(5)]
    g, e = both(circuit, {"in1": 7}, e_rows, {"workers": 2, "client": clusters[0]},
                {"workers": 2, "client": clusters[1]})
    assert [r["out1"] for r in g.outputs] == [100 * i + 7 for i in range(5)]
    assert [r["out1"] for r in e.outputs] == [100 * i + 7 for i in range(5)]
    assert g.batch and e.stats["rows"] == [3, 2]


def test_a_scheduler_address_that_is_wrong_silent_or_not_dask_fails_clearly():
    import socket
    import threading
    import time as _time
    from yaogc.circuits.errors import InputError
    from yaogc.runtime.cluster import connect_scheduler
    from yaogc.runtime.errors import NetworkError
    pytest.importorskip("distributed")
    held = []

    def server(answer: bytes | None):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        srv.settimeout(30)

        def loop():
            with contextlib.suppress(OSError):
                while True:
                    c, _ = srv.accept()
                    held.append(c)
                    if answer is not None:
                        with contextlib.suppress(OSError):
                            c.recv(100)
                            c.sendall(answer)
                            c.close()
        threading.Thread(target=loop, daemon=True).start()
        held.append(srv)
        return f"tcp://127.0.0.1:{srv.getsockname()[1]}"

    # accepts and never answers: Dask's own timeout covers the connect only
    t0 = _time.monotonic()
    with pytest.raises(NetworkError, match="did not answer within 2 s"):
        connect_scheduler(server(None), 2.0)
    assert _time.monotonic() - t0 < 8
    # (a slow machine may still be starting the client when the timeout ends)
    with pytest.raises(NetworkError, match="does not answer as a Dask scheduler|did not answer"):
        connect_scheduler(server(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n"), 5.0)
    for bad in ("garbage", "tcp://127.0.0.1", "http://127.0.0.1:8786", "tcp://h:0",
                "tcp://h:99999", "inproc://x"):
        with pytest.raises(InputError, match="not a Dask scheduler address"):
            connect_scheduler(bad, 5.0)
    for s in held:
        s.close()


@pytest.mark.parametrize("acks", [True, False])
def test_a_peer_coordinator_that_only_pings_is_given_up(bristol_path, tmp_path, acks):
    """The other coordinator completes the hello and pings, but never acknowledges the
    manifest (acks False) or, having acknowledged it, never starts its workers nor reports a
    shard: this side ends within its timeout bounds (it waited on for as long as pings came)."""
    import json
    import re
    import subprocess
    from test_run_cli import CLI
    import socket
    from test_owners import recv_exactly
    from yaogc.circuits.bristol import read_bristol
    from yaogc.runtime import channel
    f = str(bristol_path("adder64.txt"))
    (tmp_path / "rows.json").write_text(json.dumps([{"in1": i} for i in range(4)]))
    timeout = 4
    honest = subprocess.Popen(CLI + ["run", f, "--as", "garbler", "--workers", "1", "--listen",
                                     "127.0.0.1:0", "--inputs", str(tmp_path / "rows.json"),
                                     "--timeout", str(timeout)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()
    try:
        port = None
        while port is None:
            line = honest.stderr.readline()
            assert line, "the honest side did not listen"
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            port = int(m.group(1)) if m else None
        t0 = time.monotonic()
        # a raw socket: the peer's pings must go out while its reader waits
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.sendall(channel._GREETING)
        assert recv_exactly(sock, len(channel._GREETING)) == channel._GREETING
        lock = threading.Lock()

        def send(kind, payload=b"{}"):
            with lock:
                sock.sendall(channel._HEADER.pack(len(payload) + 1) + bytes([kind]) + payload)
        roles = hs.Roles("garbler", "evaluator")
        send(sh.Ctl.HELLO, sh.encode(sh.describe(hs.circuit_hash(read_bristol(f)), roles,
                                                 "evaluator", 1, 4, 0, True)))

        def read():
            with contextlib.suppress(Exception):
                while True:
                    (n,) = channel._HEADER.unpack(recv_exactly(sock, channel._HEADER.size))
                    kind = recv_exactly(sock, n)[0]
                    if kind == sh.Ctl.MANIFEST and acks:
                        send(sh.Ctl.ACK)

        def ping():
            with contextlib.suppress(Exception):
                while not stop.wait(0.5):
                    send(sh.Ctl.PING)
        for fn in (read, ping):
            threading.Thread(target=fn, daemon=True).start()
        _, err = honest.communicate(timeout=60)
        assert honest.returncode == 3, err
        assert time.monotonic() - t0 < 6 * timeout, err
        want = "did not report the outcome of shard 0" if acks else "the other coordinator's"
        assert want in err and "Traceback" not in err, err
    finally:
        stop.set()
        if honest.poll() is None:
            honest.kill()
        honest.wait()


def test_no_ping_goes_out_once_a_coordinator_says_goodbye():
    """The peer stops reading at this side's goodbye; a ping sent after it was left unread,
    the peer's close then reset the connection, and the reset could discard the peer's own
    goodbye: this side waited out its whole wait (10 s) about one run in thirty."""
    import queue
    from yaogc.runtime.cluster import _Control
    sent, closed = [], threading.Event()

    class Chan:
        timeout = 5.0

        def send_msg(self, kind, data, flush=False):
            sent.append(kind)

        def recv_msg_any(self, limit=None):
            if not closed.wait(5):
                raise AssertionError("never closed")
            raise NetworkError("closed")

        def shutdown(self):
            closed.set()

        def close(self):
            closed.set()

    ctl = _Control(Chan(), queue.Queue(), 5.0)
    ctl._every = 0.01
    with ctl._lock:                  # the ping thread wakes and waits for the lock
        ctl.start()
        time.sleep(0.2)
        done = threading.Thread(target=ctl.finish, args=(0.5,))
        done.start()                 # finish begins, and waits for the lock too
        time.sleep(0.2)
    done.join(5)
    assert not done.is_alive()
    assert sent == [sh.Ctl.BYE], sent


@pytest.mark.parametrize("ending", ["finish", "abort"])
def test_a_coordinator_closes_its_connection_only_after_its_reader_ended(ending):
    """A reader thread blocked on the connection when its descriptor is closed could read
    from whatever connection gets that number next (the next run's TLS handshake failed
    so); the connection is shut first, and closed once the reader has ended."""
    import queue
    from yaogc.runtime.cluster import _Control
    seen, shut = [], threading.Event()

    class Chan:
        timeout = 5.0

        def send_msg(self, kind, data, flush=False):
            pass

        def recv_msg_any(self, limit=None):
            shut.wait(5)
            time.sleep(0.05)        # the read takes a moment to return
            seen.append("reader ended")
            raise NetworkError("the connection was shut")

        def abort(self, reason, close=True):
            if close:
                self.close()

        def shutdown(self):
            shut.set()

        def close(self):
            seen.append("closed")

    ctl = _Control(Chan(), queue.Queue(), 5.0)
    ctl.start()
    if ending == "finish":
        ctl.finish(0.1)         # no goodbye comes
    else:
        ctl.abort("given up")
    assert seen[:2] == ["reader ended", "closed"], seen


def test_dask_s_own_log_lines_are_silenced_for_a_sharded_run():
    # distributed.client has a level and handler of its own: a scheduler killed mid-run
    # printed its ERROR line and two tracebacks before yaogc's message
    import logging
    from yaogc.runtime.cli_net import quiet_dask
    quiet_dask()
    for name in ("distributed", "distributed.client", "distributed.worker", "distributed.core"):
        assert not logging.getLogger(name).isEnabledFor(logging.ERROR), name
