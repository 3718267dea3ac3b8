"""``yaogc serve`` and ``yaogc submit``: two compute servers and 3, 4 and 8 data owners, each a
separate process over real loopback sockets, with and without TLS, outputs addressed to sets
of owners, batches, and every failure of the issue (each a first line naming the party and the
phase, exit status 3, no hang). Failures use short timeouts."""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from yaogc.circuits.circuit import Op
from yaogc.circuits.evaluate import evaluate
from yaogc.circuits.schedule import schedule
from yaogc.circuits.shares import shared_inputs
from yaogc.compiler import compile_cached, compile_source
from yaogc.runtime.cli import main as cli_main

CLI = [sys.executable, "-m", "yaogc.runtime.cli"]
LISTEN = re.compile(r"(owners|link): listening on 127\.0\.0\.1:(\d+)")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

THREE = """party north, south, east
const LIMIT = 1000
def main(n: u16 @north, s: u16 @south, e: u16 @east, w: u16 @east) -> (
        total: u16 @both, mix: u16 @(north, east), big: bool @south):
    return n + s + e, n ^ e ^ w, s > LIMIT
"""

FOUR = """party north, south, east, registry
def main(n: u8 @north, s: u8 @south, e: u8 @east) -> (total: u16 @both,
                                                      most: u8 @(registry, north),
                                                      n_above: u2 @east):
    return u16(n) + s + e, max(max(n, s), e), u2(n > 100) + u2(s > 100)
"""

EIGHT = ("party " + ", ".join(f"o{i}" for i in range(1, 9)) + "\n"
         "def main(" + ", ".join(f"x{i}: u16 @o{i}" for i in range(1, 9))
         + ") -> (total: u32 @both, top: u16 @(o1, o8)):\n"
         "    return u32(x1) + " + " + ".join(f"x{i}" for i in range(2, 9))
         + ", max(" + ", max(".join(f"x{i}" for i in range(1, 8)) + ", x8" + ")" * 7 + "\n")


@pytest.fixture(scope="module")
def progs(tmp_path_factory):
    """Each program written once and compiled once into the test run's cache, so the server
    and owner processes load it instead of compiling it again."""
    d = tmp_path_factory.mktemp("owners")
    out = {}
    for name, src in (("three", THREE), ("four", FOUR), ("eight", EIGHT)):
        p = d / f"{name}.yao"
        p.write_text(src)
        compile_cached(p)
        out[name] = p
    out["hospitals"] = EXAMPLES / "three_hospitals.yao"
    compile_cached(out["hospitals"])
    return out


class Servers:
    """Both servers as ``yaogc serve`` processes; ``owners`` holds their owner ports."""

    def __init__(self, prog, timeout=20, extra=(), g_extra=(), e_extra=()):
        base = ["serve", str(prog), "--owners", "127.0.0.1:0", "--timeout", str(timeout),
                *extra]
        self.g = self._start(base + ["--role", "garbler", "--listen", "127.0.0.1:0", *g_extra])
        ports = self._ports(self.g, 2)
        self.e = self._start(base + ["--role", "evaluator", "--connect",
                                     f"127.0.0.1:{ports['link']}", *e_extra])
        self.owners = {"garbler": ports["owners"], "evaluator": self._ports(self.e, 1)["owners"]}
        self.early = {}

    @staticmethod
    def _start(args):
        # Ctrl-C as at a terminal, also where the tests run in the background (a shell then
        # starts them, and so these servers, with SIGINT ignored)
        return subprocess.Popen(CLI + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, preexec_fn=_default_sigint)

    @staticmethod
    def _ports(proc, n):
        got, lines = {}, []
        while len(got) < n:
            line = proc.stderr.readline()
            lines.append(line)
            m = LISTEN.search(line)
            if m:
                got[m.group(1)] = int(m.group(2))
            elif not line:
                raise AssertionError("server did not start: " + "".join(lines)
                                     + proc.stderr.read())
        return got

    def wait_for(self, text: str, timeout: float = 60) -> None:
        """Until the garbler server (started with --verbose) logs a line containing text."""
        lines, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.g.stderr.readline()
            lines.append(line)
            if text in line:
                return
            assert line, "".join(lines)
        raise AssertionError(f"no {text!r} in: " + "".join(lines))

    def submit_args(self, prog, party, *more):
        return ["submit", str(prog), "--as", party,
                "--garbler", f"127.0.0.1:{self.owners['garbler']}",
                "--evaluator", f"127.0.0.1:{self.owners['evaluator']}", *more]

    def finish(self, timeout=60):
        out = {}
        for role, p in (("garbler", self.g), ("evaluator", self.e)):
            o, e = p.communicate(timeout=timeout)
            out[role] = (p.returncode, o, e)
        return out


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def owner(args):
    return subprocess.Popen(CLI + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def done(proc, timeout=60):
    o, e = proc.communicate(timeout=timeout)
    return proc.returncode, o, e


def first_line(text):
    """The first line after a server's 'listening on' lines."""
    lines = [x for x in text.splitlines() if x.strip() and "listening on" not in x]
    return lines[0] if lines else ""


def check_failed(result, *words):
    rc, _, err = result
    assert rc == 3, result
    line = first_line(err)
    for w in words:
        assert w in line, (w, line)
    assert "Traceback" not in err


# -- the two-server circuit ------------------------------------------------------------------
@pytest.mark.parametrize("src", [THREE, FOUR, EIGHT])
def test_shared_circuit_has_the_same_and_gates_and_computes_the_same(src):
    c = compile_source(src, "p.yao")
    s = shared_inputs(c).check()
    assert s.count(Op.AND) == c.count(Op.AND)
    assert list(schedule(s).widths) == list(schedule(c).widths)   # no garbled table more
    assert s.n_inputs == 2 * c.n_inputs and s.parties == ("garbler", "evaluator")
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2, (64, c.n_inputs), dtype=np.uint8)
    m = rng.integers(0, 2, x.shape, dtype=np.uint8)
    from yaogc.circuits.evaluate import evaluate_bits
    assert np.array_equal(evaluate_bits(s, np.concatenate([m, x ^ m], axis=1)),
                          evaluate_bits(c, x))


def test_hospital_scenario_costs_no_and_gate_more():
    c, _ = compile_cached(EXAMPLES / "three_hospitals.yao")
    assert shared_inputs(c).count(Op.AND) == c.count(Op.AND)


# -- runs ------------------------------------------------------------------------------------
def test_three_owners_over_tls_with_a_batch_subsets_and_an_impostor(progs, tmp_path):
    from yaogc.runtime.tls import generate_certificate
    crt = {}
    for name in ("garbler", "evaluator", "north", "south", "east"):
        crt[name] = generate_certificate(name, tmp_path)      # (key, crt)
    owner_certs = [a for p in ("north", "south", "east")
                   for a in ("--owner-cert", f"{p}={crt[p][1]}")]
    srv = Servers(progs["three"], timeout=30, extra=owner_certs + ["--json", "--verbose"],
                  g_extra=["--tls-cert", str(crt["garbler"][1]), "--tls-key",
                           str(crt["garbler"][0]), "--peer-cert", str(crt["evaluator"][1])],
                  e_extra=["--tls-cert", str(crt["evaluator"][1]), "--tls-key",
                           str(crt["evaluator"][0]), "--peer-cert", str(crt["garbler"][1])])

    def tls(party, as_party=None):
        key, cert = crt[as_party or party]
        return ["--tls-cert", str(cert), "--tls-key", str(key),
                "--garbler-cert", str(crt["garbler"][1]),
                "--evaluator-cert", str(crt["evaluator"][1])]

    # south's certificate, claiming to be north: refused; the session goes on
    impostor = done(owner(srv.submit_args(progs["three"], "north", "--input", "n=1",
                                          *tls("north", "south"))))
    check_failed(impostor, "north", "admission", "certificate pinned for 'south'")

    rows = tmp_path / "north.csv"
    rows.write_text("n\n1\n2\n3\n")
    procs = {
        "north": owner(srv.submit_args(progs["three"], "north", "--inputs", str(rows),
                                       "--json", *tls("north"))),
        "south": owner(srv.submit_args(progs["three"], "south", "--input", "s=2000",
                                       "--json", *tls("south"))),
        "east": owner(srv.submit_args(progs["three"], "east", "--input", "e=10",
                                      "--input", "w=4", "--json", *tls("east"))),
    }
    res = {p: done(pr) for p, pr in procs.items()}
    for p, (rc, out, err) in res.items():
        assert rc == 0, (p, err)
    got = {p: json.loads(out)["outputs"] for p, (_, out, _) in res.items()}
    c = compile_source(THREE, "three")
    want = evaluate(c, [{"n": n, "s": 2000, "e": 10, "w": 4} for n in (1, 2, 3)])
    for p, rows_out in got.items():
        assert len(rows_out) == 3
        for r, w in zip(rows_out, want):
            assert r == {o.name: w[o.name] for o in c.outputs if p in o.recipients}
    servers = srv.finish()
    for role, (rc, out, err) in servers.items():
        assert rc == 0, (role, err)
        summary = json.loads(out)
        assert summary["parties"] == ["north", "south", "east"]
        assert summary["batch"] == 3 and summary["and_gates"] == 3 * c.count(Op.AND)
        assert summary["tls"] == "TLSv1.3"
        assert set(summary["owner_bytes"]) == {"north", "south", "east"}
    assert "certificate pinned for 'south'" in servers["garbler"][2]


def test_four_parties_with_an_output_only_party_duplicate_and_wrong_size(progs):
    from yaogc.runtime import sharing as sh
    c = compile_source(FOUR, "four")
    srv = Servers(progs["four"], timeout=30, g_extra=["--verbose"], e_extra=["--quiet"])
    north = owner(srv.submit_args(progs["four"], "north", "--input", "n=150"))
    # a raw client claiming to be south sends 3 bytes where 1 is due: refused, session goes on
    (ch,) = admitted_raw_owner(srv, c, "south", "00" * 16, ("garbler",))
    ch.send_msg(sh.Msg.SHARES, b"\x00\x01\x02", flush=True)
    with pytest.raises(Exception) as e:
        ch.recv_msg(sh.Msg.START)
    assert "party 'south' sent inputs of the wrong size" in str(e.value)
    ch.close()
    srv.wait_for("owners: north submitted")      # north is in before its double
    twice = done(owner(srv.submit_args(progs["four"], "north", "--input", "n=7")))
    check_failed(twice, "north", "admission", "already submitted")
    rest = {p: owner(srv.submit_args(progs["four"], p, *a)) for p, a in (
        ("south", ["--input", "s=101"]), ("east", ["--input", "e=9"]), ("registry", []))}
    res = {"north": done(north), **{p: done(pr) for p, pr in rest.items()}}
    want = {"total": 260, "most": 150, "n_above": 2}
    for p, (rc, out, err) in res.items():
        assert rc == 0, (p, err)
        lines = [f"{o.name} = {want[o.name]}" for o in c.outputs if p in o.recipients]
        assert out.splitlines() == lines, (p, out)
    for role, (rc, out, err) in srv.finish().items():
        assert rc == 0, (role, err)
        # the statistics line on stderr, as yaogc run's; none with --quiet
        assert out == "" and ("4 owners (north, south, east, registry)" in err) == \
            (role == "garbler"), (role, err)


def test_eight_owners_over_tls_as_forked_processes(tmp_path):
    from yaogc.runtime.owners import OwnerTLS
    from yaogc.runtime.owners_local import run_owners_local
    from yaogc.runtime.tls import TLSConfig, generate_certificate
    c = compile_source(EIGHT, "eight")
    crt = {n: generate_certificate(n, tmp_path) for n in ("garbler", "evaluator", *c.parties)}
    tls = {"garbler": TLSConfig(crt["garbler"][1], crt["garbler"][0], crt["evaluator"][1]),
           "evaluator": TLSConfig(crt["evaluator"][1], crt["evaluator"][0], crt["garbler"][1]),
           "owner_certs": {p: str(crt[p][1]) for p in c.parties},
           "owners": {p: OwnerTLS(str(crt[p][1]), str(crt[p][0]), str(crt["garbler"][1]),
                                  str(crt["evaluator"][1])) for p in c.parties}}
    vals = {f"o{i}": 1000 * i + 7 for i in range(1, 9)}
    run = run_owners_local(c, {p: {f"x{p[1:]}": v} for p, v in vals.items()}, tls=tls,
                           timeout=30)
    for p, res in run.owners.items():
        want = {"total": sum(vals.values())}
        if p in ("o1", "o8"):
            want["top"] = max(vals.values())
        assert res.outputs == [want] and res.stats["tls"] == "TLSv1.3"
    for srv in run.servers.values():
        assert srv.stats["parties"] == list(c.parties) and srv.stats["tls"] == "TLSv1.3"


def test_one_row_owners_broadcast_over_a_batch_and_the_views_are_independent_of_inputs():
    """Each server's whole view of the owners' data (the share bits each owner sent it and
    its half of every output bit) is uniform and independent of the owners' input bits and of
    the outputs: chi-square tests per bit at a 1e-6 false-positive rate, over a batch of
    4,000 rows of random inputs (the same kind of test as for the two-party protocol)."""
    from yaogc.circuits.evaluate import evaluate_bits
    from yaogc.runtime.owners_local import owner_inputs, run_owners_local
    c = compile_source(THREE, "three")
    rng = np.random.default_rng(7)       # the owners' inputs: public test data
    k = 4000
    inputs = {
        "north": [{"n": int(v)} for v in rng.integers(0, 1 << 16, k)],
        "south": [{"s": int(v)} for v in rng.integers(0, 1 << 16, k)],
        "east": {"e": 12345, "w": 999},                   # one row: applies to every row
    }
    run = run_owners_local(c, inputs, timeout=60)
    bits = np.zeros((k, c.n_inputs), np.uint8)
    for p, v in inputs.items():
        got = owner_inputs(c, p, v)
        bits[:, got.wires] = got.bits
    out_bits = evaluate_bits(c, bits)
    assert all(len(res.outputs) == k for res in run.owners.values())
    want = evaluate(c, [{"n": a["n"], "s": b["s"], "e": 12345, "w": 999}
                        for a, b in zip(inputs["north"], inputs["south"])])
    assert [r["total"] for r in run.owners["north"].outputs] == [w["total"] for w in want]
    assert [r["big"] for r in run.owners["south"].outputs] == [w["big"] for w in want]

    chi2 = 23.93   # chi-square critical value, 1 degree of freedom, false-positive rate 1e-6
    views = []
    for role, srv in run.servers.items():
        for p in ("north", "south"):
            wires = owner_inputs(c, p, inputs[p]).wires
            views.append((f"{role} share of {p}", bits[:, wires], srv.shares[p]))
        views.append((f"{role} output half", out_bits, srv.halves))
    for what, secret, seen in views:
        assert seen.shape == secret.shape, what
        for j in range(secret.shape[1]):
            a, b = secret[:, j], seen[:, j]
            t = np.array([[np.sum((a == x) & (b == y)) for y in (0, 1)] for x in (0, 1)], float)
            ones = t[:, 1].sum()
            assert (ones - k / 2) ** 2 / (k / 4) < chi2, (what, j, t)       # uniform
            rows, cols = t.sum(axis=1), t.sum(axis=0)
            if rows.min() == 0:          # a constant secret bit: nothing to depend on
                continue
            expect = np.outer(rows, cols) / k
            assert ((t - expect) ** 2 / expect).sum() < chi2, (what, j, t)  # independent
    # the test can see dependence: the two shares together give the inputs away
    g, e = run.servers["garbler"].shares["north"], run.servers["evaluator"].shares["north"]
    a, b = bits[:, owner_inputs(c, "north", inputs["north"]).wires][:, 0], (g ^ e)[:, 0]
    t = np.array([[np.sum((a == x) & (b == y)) for y in (0, 1)] for x in (0, 1)], float)
    expect = np.outer(t.sum(axis=1), t.sum(axis=0)) / k
    assert ((t - expect) ** 2 / expect).sum() > chi2


# -- failures --------------------------------------------------------------------------------
def test_missing_owner_and_an_owner_with_other_defines(progs):
    srv = Servers(progs["three"], timeout=8)
    other = owner(srv.submit_args(progs["three"], "north", "-D", "LIMIT=999", "--input", "n=1",
                                  "--timeout", "10"))
    south = owner(srv.submit_args(progs["three"], "south", "--input", "s=2", "--timeout", "10"))
    # the server's refusal names both sides as the owner reads it (it said "here" for the
    # server and "at the peer" for the owner itself)
    check_failed(done(other), "north", "admission", "different session", "-D",
                 "at the servers, ", "at party 'north'")
    check_failed(done(south), "south", "waiting for owners", "'north', 'east'",
                 "did not submit")
    for role, res in srv.finish().items():
        check_failed(res, f"{role} server", "waiting for owners", "'north', 'east'",
                     "did not submit within 8 s")


def admitted_raw_owner(srv, c, party: str, submission: str,
                       servers=("garbler", "evaluator"), listed=(False, False)) -> list:
    """Channels of a raw client admitted as ``party`` by the given servers (saying ``listed``
    to each), its inputs not sent yet (what a hostile owner does next is the test's)."""
    from yaogc.runtime import net
    from yaogc.runtime import sharing as sh
    chans = [net.connect("127.0.0.1", srv.owners[r], 10) for r in servers]
    for ch, shape in zip(chans, listed):
        hello = {"protocol": sh.PROTOCOL, "party": party, "session": sh.describe(c), "rows": 1,
                 "listed": shape, "submission": submission}
        ch.send_msg(sh.Msg.OWNER_HELLO, sh.encode(hello), flush=True)
    for ch in chans:
        ch.recv_msg(sh.Msg.ADMIT)
    return chans


def others_fail_naming_north(srv, progs, what: str) -> None:
    """South and east submit to a session north spoiled: every owner and both servers fail
    in 'waiting for owners', the owners with ``what`` and no output."""
    time.sleep(0.5)
    rest = [owner(srv.submit_args(progs["three"], p, *a)) for p, a in (
        ("south", ["--input", "s=5"]), ("east", ["--input", "e=1", "--input", "w=2"]))]
    for party, pr in zip(("south", "east"), rest):
        res = done(pr)
        check_failed(res, party, "waiting for owners", what)
        assert res[1] == ""
    for role, res in srv.finish().items():
        check_failed(res, f"{role} server", "waiting for owners", "party 'north'")


def test_owner_disconnecting_after_sending_fails_the_session_for_everyone(progs):
    from yaogc.runtime import sharing as sh
    c = compile_source(THREE, "three")
    srv = Servers(progs["three"], timeout=15)
    for ch in admitted_raw_owner(srv, c, "north", "ab" * 16):
        ch.send_msg(sh.Msg.SHARES, b"\x00\x00", flush=True)
        ch.close()
    others_fail_naming_north(srv, progs, "party 'north' closed its connection")


SLOW = """party north, south, east
const N = 256
def main(n: u32[N] @north, s: u32 @south, e: u32 @east) -> (t: u32 @both):
    t: u32 = 0
    for i in range(N):
        t += n[i] * s * e
    return t
"""


def test_an_owner_gone_while_the_servers_compute_fails_the_session_for_everyone(tmp_path):
    """North leaves after the start, while the servers compute: neither server delivers
    (south and east got their outputs, north none, and both servers reported success)."""
    from yaogc.runtime import sharing as sh
    prog = tmp_path / "slow.yao"
    prog.write_text(SLOW)
    c = compile_source(SLOW, "slow")
    srv = Servers(prog, timeout=30)
    chans = admitted_raw_owner(srv, c, "north", "ef" * 16)
    for ch in chans:
        ch.send_msg(sh.Msg.SHARES, bytes(sh.packed_size(1, len(sh.input_wires(c, "north")))),
                    flush=True)
    rest = [owner(srv.submit_args(prog, p, "--input", f"{p[0]}=3")) for p in ("south", "east")]
    for ch in chans:
        ch.recv_msg(sh.Msg.START)
    for ch in chans:
        ch.close()
    for party, pr in zip(("south", "east"), rest):
        res = done(pr)
        check_failed(res, party, "party 'north' closed its connection after sending its inputs")
        assert res[1] == ""
    for role, res in srv.finish().items():
        check_failed(res, f"{role} server", "delivering outputs", "party 'north'")


def test_owners_wait_for_a_computation_longer_than_their_timeout(tmp_path):
    """The servers send nothing while they compute: owners whose --timeout (2 s) the
    computation outlasted (80 rows of half a million AND gates) gave up on healthy servers,
    after they had done all the work. Their wait allows for the work now."""
    prog = tmp_path / "slow.yao"
    prog.write_text(SLOW)
    rows = tmp_path / "south.csv"
    rows.write_text("s\n" + "".join(f"{i + 1}\n" for i in range(80)))
    srv = Servers(prog, timeout=60)
    north = [str(i % 7) for i in range(256)]
    procs = {"north": owner(srv.submit_args(prog, "north", "--timeout", "2", "--input",
                                            f"n=[{','.join(north)}]")),
             "south": owner(srv.submit_args(prog, "south", "--timeout", "2", "--inputs",
                                            str(rows), "--json")),
             "east": owner(srv.submit_args(prog, "east", "--timeout", "2", "--input", "e=3"))}
    res = {p: done(pr, 120) for p, pr in procs.items()}
    for p, (rc, out, err) in res.items():
        assert rc == 0, (p, err)
    got = json.loads(res["south"][1])["outputs"]
    base = sum(int(x) for x in north)
    assert [r["t"] for r in got] == [(base * (i + 1) * 3) % 2**32 for i in range(80)]
    for role, (rc, _, err) in srv.finish().items():
        assert rc == 0, (role, err)


def test_an_owner_stopped_by_one_server_tells_the_other_why(monkeypatch):
    """An owner that the garbler server stopped (another owner had gone) told the evaluator
    server only that it stopped, and the evaluator then blamed it, an owner that had done
    nothing wrong; the reason goes along now."""
    from yaogc.runtime import net, owners, sharing as sh
    from yaogc.runtime.errors import PeerAborted
    from yaogc.runtime.inputs import party_inputs
    c = compile_source(THREE, "three")
    aborted = {}

    class Server:
        def __init__(self, role):
            self.role, self.phase, self.timeout = role, None, 5.0
            self.bytes_sent = self.bytes_received = 0

        def send_msg(self, *a, **k):
            pass

        def recv_msg(self, kind, limit=None):
            if kind == sh.Msg.ADMIT:
                return sh.encode({"role": self.role})
            if self.role == "garbler":
                raise PeerAborted("the peer aborted: party 'east' stopped after sending its "
                                  "inputs", phase=self.phase)
            time.sleep(0.2)
            return sh.encode({"batch": 1, "listed": False})

        def peer_stirred(self):     # each has its answer waiting
            return True

        def abort(self, reason):
            aborted[self.role] = reason

        def close(self):
            pass

    monkeypatch.setattr(net, "connect", lambda host, port, *a, **k: Server(
        "garbler" if port == 1 else "evaluator"))
    with pytest.raises(owners.SubmitError) as got:
        owners.submit(c, "north", party_inputs(c, "north", {"n": 1}), garbler=("h", 1),
                      evaluator=("h", 2))
    assert "party 'east' stopped" in str(got.value)
    assert aborted["evaluator"].startswith("data owner north stopped (stopped by the garbler "
                                           "server (h:1): party 'east' stopped")


def test_idle_connections_to_the_owners_port_are_dropped_before_the_session_ends(progs):
    """64 connections that never greet held every handshake place for the session's whole
    timeout, and the owners could not get in; they are dropped after ADMISSION_S."""
    import socket
    from yaogc.runtime.servers import ADMISSION_S
    srv = Servers(progs["three"], timeout=40)
    idle = []
    for _ in range(64):
        for role in ("garbler", "evaluator"):
            idle.append(socket.create_connection(("127.0.0.1", srv.owners[role])))
    time.sleep(ADMISSION_S + 2)
    args = {"north": ["--input", "n=1"], "south": ["--input", "s=2"],
            "east": ["--input", "e=3", "--input", "w=4"]}
    procs = {p: owner(srv.submit_args(progs["three"], p, "--timeout", "20", *a))
             for p, a in args.items()}
    for p, pr in procs.items():
        rc, out, err = done(pr)
        assert rc == 0, (p, err)
    for sock in idle:
        sock.close()
    for role, (rc, _, err) in srv.finish().items():
        assert rc == 0, (role, err)


def test_a_server_dying_mid_run_tells_every_owner_and_none_prints_output(progs):
    hosp = progs["hospitals"]
    srv = Servers(hosp, timeout=20, g_extra=["--verbose"])
    vals = "[" + ",".join(["120"] * 12) + "]"
    procs = {p: owner(srv.submit_args(hosp, p, "--input", f"{p}_values={vals}"))
             for p in ("north", "south", "east")}
    lines = []
    while True:                                   # kill the garbler once it starts computing
        line = srv.g.stderr.readline()
        lines.append(line)
        assert line, "".join(lines)
        if "computing" in line:
            srv.g.send_signal(signal.SIGKILL)
            break
    for p, pr in procs.items():
        rc, out, err = done(pr)
        assert rc == 3 and out == "", (p, out, err)
        line = first_line(err)
        assert line.startswith(f"{p}: ") and "garbler server" in line, line
        assert "Traceback" not in err
    res = srv.finish()
    assert res["garbler"][0] == -signal.SIGKILL
    check_failed(res["evaluator"], "evaluator server", "the garbler server")


def test_owners_with_batches_of_different_sizes_are_refused():
    from yaogc.runtime.owners_local import run_owners_local
    c = compile_source(THREE, "three")
    run = run_owners_local(c, {"north": [{"n": 1}, {"n": 2}], "south": [{"s": 1}] * 3,
                               "east": {"e": 1, "w": 1}}, timeout=10, raise_errors=False)
    for role, err in run.servers.items():
        assert "batches of different sizes (north 2, south 3, east 1 rows)" in str(err), \
            (role, err)
    for p, err in run.owners.items():
        assert str(err).startswith(f"{p}: waiting for owners: stopped by the "), err
        assert "batch" in str(err)
    # two owners agreeing is no majority that names the third as the odd one: no size is the
    # right one, so none is blamed
    run = run_owners_local(c, {"north": [{"n": 1}, {"n": 2}], "south": [{"s": 1}] * 2,
                               "east": [{"e": 1, "w": 1}] * 3}, timeout=10, raise_errors=False)
    for role, err in run.servers.items():
        assert "batches of different sizes (north 2, south 2, east 3 rows)" in str(err), \
            (role, err)
        assert "gave a batch of another size" not in str(err)


def test_an_owner_whose_two_addresses_name_one_server_is_told_so(progs, capsys):
    from yaogc.runtime import net
    from yaogc.runtime import sharing as sh
    from yaogc.runtime.errors import NetworkError
    # the same address twice: refused before connecting
    assert cli_main(["submit", str(progs["three"]), "--as", "north", "--garbler",
                     "127.0.0.1:9", "--evaluator", "127.0.0.1:9", "--input", "n=1"]) == 2
    assert capsys.readouterr().err.startswith("--garbler and --evaluator both name "
                                              "127.0.0.1:9")
    # two names of one server: the server tells one submission's second connection apart
    # from a party submitting twice
    c = compile_source(THREE, "three")
    srv = Servers(progs["three"], timeout=5)
    hello = {"protocol": sh.PROTOCOL, "party": "north", "session": sh.describe(c), "rows": 1,
             "listed": False, "submission": "12" * 16}
    chans = [net.connect("127.0.0.1", srv.owners["garbler"], 10) for _ in range(2)]
    for ch in chans:
        ch.send_msg(sh.Msg.OWNER_HELLO, sh.encode(hello), flush=True)
    refused = []
    for ch in chans:        # whichever hello the server read second is refused
        try:
            ch.recv_msg(sh.Msg.ADMIT)
        except NetworkError as e:
            refused.append(str(e))
    assert len(refused) == 1 and "party 'north' connected to the garbler server twice for " \
        "one submission: its --evaluator address names the garbler server too" in refused[0]
    for ch in chans:
        ch.close()
    srv.finish()


def test_a_server_interrupted_is_reported_as_interrupted(progs):
    srv = Servers(progs["three"], timeout=20, g_extra=["--verbose"])
    north = owner(srv.submit_args(progs["three"], "north", "--input", "n=3"))
    srv.wait_for("owners: north submitted")      # north is in; then Ctrl-C
    srv.g.send_signal(signal.SIGINT)
    rc, out, err = done(north)
    assert rc == 3 and out == "" and "garbler server was interrupted" in err, err
    got = srv.finish()
    assert got["garbler"][0] == 130 and "Traceback" not in got["garbler"][2]
    check_failed(got["evaluator"], "evaluator server", "garbler server was interrupted")


def test_a_hello_announced_at_hundreds_of_megabytes_is_refused_at_its_header(progs):
    """A stranger announcing a 255 MB owner hello made the server set that much aside per
    connection (gigabytes for a dozen) before reading anything; it is refused at once and
    the session goes on."""
    from yaogc.runtime import net
    from yaogc.runtime import sharing as sh
    from yaogc.runtime.errors import NetworkError
    srv = Servers(progs["three"], timeout=20, g_extra=["--verbose"])
    ch = net.connect("127.0.0.1", srv.owners["garbler"], 10)
    t0 = time.monotonic()
    ch._t.sendall(((255 << 20) + 1).to_bytes(8, "little") + bytes([sh.Msg.OWNER_HELLO]) +
                  b"{" * 1000)
    with pytest.raises(NetworkError):   # the abort, or a reset: the 1000 bytes stay unread
        ch.recv_msg(sh.Msg.ADMIT)
    assert time.monotonic() - t0 < 5
    ch.close()
    procs = {p: owner(srv.submit_args(progs["three"], p, *a)) for p, a in (
        ("north", ["--input", "n=3"]), ("south", ["--input", "s=5"]),
        ("east", ["--input", "e=1", "--input", "w=2"]))}
    for p, (rc, out, err) in {p: done(pr) for p, pr in procs.items()}.items():
        assert rc == 0 and out, (p, err)
    for role, (rc, out, err) in srv.finish().items():
        assert rc == 0, (role, err)
        if role == "garbler":
            assert "admission: the peer announced a message of 267386880 bytes, more than " \
                   "the 1048576 due here; still waiting" in out + err, (out, err)


def test_usage_errors_are_exit_2_with_a_clear_first_line(progs, tmp_path, capsys):
    from yaogc.runtime.cli import main
    from yaogc.runtime.tls import generate_certificate
    key, crt = generate_certificate("g", tmp_path)
    _, peer = generate_certificate("e", tmp_path)
    _, north = generate_certificate("n", tmp_path)
    three = str(progs["three"])
    booleans = tmp_path / "north.json"
    booleans.write_text('{"n": true}')
    cases = [
        (["submit", three, "--as", "west", "--garbler", "127.0.0.1:1", "--evaluator",
          "127.0.0.1:2", "--input", "n=1"], "--as west: not a party"),
        (["submit", three, "--as", "north", "--garbler", "127.0.0.1:1", "--evaluator",
          "127.0.0.1:2", "--input", "s=1"], "belongs to party 'south'"),
        (["submit", three, "--as", "north", "--garbler", "127.0.0.1:0", "--evaluator",
          "127.0.0.1:2", "--input", "n=1"], "--garbler 127.0.0.1:0"),
        # an input file is read as run and eval read theirs: a JSON true is no number
        (["submit", three, "--as", "north", "--garbler", "127.0.0.1:1", "--evaluator",
          "127.0.0.1:2", "--inputs", str(booleans)], "a JSON boolean is not"),
        (["serve", three, "--role", "garbler", "--owners", "127.0.0.1:0", "--listen",
          "127.0.0.1:0", "--tls-cert", str(crt), "--tls-key", str(key), "--peer-cert",
          str(peer), "--owner-cert", f"north={north}"],
         "give --owner-cert south=FILE --owner-cert east=FILE"),
        (["serve", three, "--role", "garbler", "--owners", "127.0.0.1:0", "--listen",
          "127.0.0.1:0", "--owner-cert", f"north={crt}"], "--owner-cert needs TLS"),
    ]
    for argv, words in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert words in err.splitlines()[0], (argv, err)
    # a port taken: a failure of the server (exit 3), named as the server's others are
    import socket
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["serve", three, "--role", "garbler", "--owners", f"127.0.0.1:{port}",
                     "--listen", "127.0.0.1:0"]) == 3
    assert capsys.readouterr().err.startswith(f"garbler server: owners: cannot listen on "
                                              f"127.0.0.1:{port}")


def test_an_owner_sending_more_after_its_inputs_is_named_for_what_it_did(progs):
    """An owner that sends a second message after its shares was reported as having
    'closed its connection'; it is named for what it did (its connections stay open)."""
    from yaogc.runtime import sharing as sh
    c = compile_source(THREE, "three")
    srv = Servers(progs["three"], timeout=15)
    chans = admitted_raw_owner(srv, c, "north", "cd" * 16)
    for ch in chans:
        ch.send_msg(sh.Msg.SHARES, b"\x00\x00", flush=True)
        ch.send_msg(sh.Msg.SHARES, b"\x00\x00", flush=True)
    others_fail_naming_north(srv, progs, "party 'north' sent a message (kind 18) after its "
                             "inputs where nothing was due")
    for ch in chans:
        ch.close()


def recv_exactly(sock, n: int) -> bytes:
    """``n`` bytes from a raw socket (EOFError if it closes first)."""
    got = b""
    while len(got) < n:
        part = sock.recv(n - len(got))
        if not part:
            raise EOFError
        got += part
    return got


def _fake_servers(batch: int):
    """Two compute servers that admit one owner, take its shares, announce ``batch`` rows and
    send empty output halves: (garbler address, evaluator address, threads)."""
    import socket
    import struct
    import threading
    from yaogc.runtime.channel import _GREETING
    from yaogc.runtime.sharing import Msg
    head = struct.Struct("<Q")
    exact = recv_exactly

    def frame(c):
        return exact(c, head.unpack(exact(c, 8))[0])

    def send(c, kind, payload):
        c.sendall(head.pack(len(payload) + 1) + bytes([kind]) + payload)

    def serve(srv, role):
        c, _ = srv.accept()
        with c:
            c.settimeout(20)
            c.sendall(_GREETING)
            exact(c, len(_GREETING))
            hello = json.loads(frame(c)[1:])
            send(c, Msg.ADMIT, json.dumps({"role": role}).encode())
            if hello["rows"] is not None:
                frame(c)
            send(c, Msg.START, json.dumps({"batch": batch, "listed": False}).encode())
            send(c, Msg.OUTPUT, b"")
            try:
                c.recv(1)
            except OSError:
                pass
        srv.close()

    addrs, threads = [], []
    for role in ("garbler", "evaluator"):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        srv.settimeout(20)
        addrs.append(f"127.0.0.1:{srv.getsockname()[1]}")
        threads.append(threading.Thread(target=serve, args=(srv, role), daemon=True))
        threads[-1].start()
    return addrs[0], addrs[1], threads


def test_a_batch_a_server_announces_is_checked_against_the_owner_rows(tmp_path, capsys):
    prog = tmp_path / "t.yao"
    prog.write_text("party a, b, c\ndef main(x: u8 @a, y: u8 @b, z: u8 @c) -> (s: u16 @(a, b)):\n"
                    "    return u16(x) + u16(y) + u16(z)\n")
    # an owner without outputs keeps nothing per row of an announced 2^40 rows (it hung,
    # growing, building one empty row after another)
    g, e, threads = _fake_servers(1 << 40)
    t0 = time.monotonic()
    assert cli_main(["submit", str(prog), "--as", "c", "--garbler", g, "--evaluator", e,
                     "--input", "z=5", "--timeout", "5"]) == 0
    assert time.monotonic() - t0 < 10
    said = capsys.readouterr()          # on stderr, as yaogc run says it
    assert "no output of t is addressed to c" in said.err and said.out == ""
    # an owner of several rows takes no batch but its own
    (tmp_path / "z.csv").write_text("z\n1\n2\n3\n")
    g, e, threads = _fake_servers(7)
    assert cli_main(["submit", str(prog), "--as", "c", "--garbler", g, "--evaluator", e,
                     "--inputs", str(tmp_path / "z.csv"), "--timeout", "5"]) == 3
    err = capsys.readouterr().err
    assert "starts a batch of 7 rows, but this owner gave 3" in err, err
    # the server named is the one whose start was read and refused: the garbler, not the
    # last one read
    assert err.startswith(f"c: waiting for owners: the garbler server ({g}): "), err
    for t in threads:
        t.join(5)


def test_checked_and_strict_apply_to_the_servers_and_owners_circuit(progs):
    """--checked and --strict compile the servers' and owners' circuit as they do run's: an
    overflow withholds every owner's results (exit 4), a range warning stops at once."""
    # n + s + e wraps in u16: every owner with an output is told, none prints a value
    srv = Servers(progs["three"], timeout=30, extra=["--checked", "--quiet"])
    procs = {p: owner(srv.submit_args(progs["three"], p, "--checked", *a)) for p, a in (
        ("north", ["--input", "n=60000"]), ("south", ["--input", "s=6000"]),
        ("east", ["--input", "e=1", "--input", "w=2", "--json"]))}
    for p, pr in procs.items():
        rc, out, err = done(pr)
        assert rc == 4 and out == "", (p, rc, out, err)
        assert err.startswith("overflow: results withheld"), err
    assert [r[0] for r in srv.finish().values()] == [0, 0]
    # no overflow: the values
    srv = Servers(progs["three"], timeout=30, extra=["--checked", "--quiet"])
    procs = {p: owner(srv.submit_args(progs["three"], p, "--checked", "--json", *a)) for p, a in (
        ("north", ["--input", "n=6"]), ("south", ["--input", "s=2000"]),
        ("east", ["--input", "e=1", "--input", "w=2"]))}
    got = {p: json.loads(done(pr)[1])["outputs"] for p, pr in procs.items()}
    # (--json shows the hidden bit, as eval's and run's do)
    assert got == {"north": {"total": 2007, "mix": 6 ^ 1 ^ 2, "_overflow": False},
                   "south": {"total": 2007, "big": True, "_overflow": False},
                   "east": {"total": 2007, "mix": 6 ^ 1 ^ 2, "_overflow": False}}, got
    assert [r[0] for r in srv.finish().values()] == [0, 0]
    # --strict: the range warning is an error before anything listens or connects
    for args in (["serve", str(progs["three"]), "--role", "garbler", "--owners", "127.0.0.1:0",
                  "--listen", "127.0.0.1:0", "--strict"],
                 ["submit", str(progs["three"]), "--as", "north", "--garbler", "127.0.0.1:9",
                  "--evaluator", "127.0.0.1:10", "--input", "n=1", "--strict"]):
        rc, out, err = done(owner(args), timeout=30)
        assert rc == 2 and "--strict makes range warnings errors" in err.splitlines()[0], err
        assert "listening" not in err and "Traceback" not in err


def test_an_owner_telling_the_servers_different_shapes_is_named_before_computing(progs):
    # the servers compared rows and submission only: they computed, then told the owners
    # different sessions, and blamed an honest party
    from yaogc.runtime import sharing as sh
    c = compile_source(THREE, "three")
    srv = Servers(progs["three"], timeout=15)
    chans = admitted_raw_owner(srv, c, "north", "ef" * 16, listed=(True, False))
    for ch in chans:        # (kept open: north stays connected)
        ch.send_msg(sh.Msg.SHARES, b"\x00\x00", flush=True)
    time.sleep(0.5)
    rest = [owner(srv.submit_args(progs["three"], p, *a)) for p, a in (
        ("south", ["--input", "s=5"]), ("east", ["--input", "e=1", "--input", "w=2"]))]
    for party, pr in zip(("south", "east"), rest):
        res = done(pr)
        check_failed(res, party, "waiting for owners")
        assert res[1] == ""
    for role, res in srv.finish().items():
        check_failed(res, f"{role} server", "waiting for owners",
                     "party 'north' sent different submissions to the two servers")
    for ch in chans:
        ch.close()


def test_the_servers_refuse_a_batch_their_memory_cannot_hold(monkeypatch):
    # an owner's rows were taken whatever memory they needed (YAOGC_MAX_MEMORY, ulimit -v)
    from yaogc.runtime.owners_local import run_owners_local
    from yaogc.runtime.protocol import memory_needed, plan
    from yaogc.circuits.shares import shared_inputs
    from yaogc.runtime import handshake as hs
    c = compile_source(THREE, "three")
    one = memory_needed(plan(shared_inputs(c), hs.Roles("garbler", "evaluator"), 1), 1)
    monkeypatch.setenv("YAOGC_MAX_MEMORY", str(100 * one))
    run = run_owners_local(c, {"north": [{"n": 1}] * 1000, "south": {"s": 1},
                               "east": {"e": 1, "w": 1}}, timeout=4, raise_errors=False)
    err = str(run.owners["north"])
    assert "party 'north' gives 1000 rows, which need about" in err and "GB on this" in err, err
    assert all(isinstance(e, Exception) for e in run.servers.values())
    run = run_owners_local(c, {"north": [{"n": 1}] * 50, "south": {"s": 1},
                               "east": {"e": 1, "w": 1}}, timeout=10, raise_errors=False)
    assert [r["total"] for r in run.owners["south"].outputs] == [3] * 50


def test_an_accept_that_fails_for_a_moment_does_not_stop_admitting_owners(monkeypatch):
    # out of file descriptors (a flood of silent connections): the accepting thread ended for
    # good, and every owner due later was refused until the timeout
    import errno
    from yaogc.runtime import net
    from yaogc.runtime.owners_local import run_owners_local
    real, failures = net.Listener.accept, {"left": 6}

    def flaky(self, timeout):
        if self.phase == "owners" and failures["left"] > 0:
            failures["left"] -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return real(self, timeout)
    monkeypatch.setattr(net.Listener, "accept", flaky)
    c = compile_source(THREE, "three")
    run = run_owners_local(c, {"north": {"n": 1}, "south": {"s": 2}, "east": {"e": 3, "w": 4}},
                           timeout=20, raise_errors=False)
    # (the servers are forked processes: each failed its first accepts)
    assert run.owners["north"].outputs == [{"total": 6, "mix": 1 ^ 3 ^ 4}], run.owners


def test_a_malformed_frame_at_admission_is_answered_with_the_reason(progs):
    # the connection was closed without a word: the stranger (or a broken owner) is told why
    import socket
    from yaogc.runtime import channel
    srv = Servers(progs["three"], timeout=10)
    try:
        for frame, why in ((channel._HEADER.pack(0), "an empty frame"),
                           (channel._HEADER.pack(3) + b"\xb2{}", "the peer sent kind 178")):
            with socket.create_connection(("127.0.0.1", srv.owners["garbler"]), timeout=10) as s:
                s.sendall(channel._GREETING)
                assert recv_exactly(s, len(channel._GREETING)) == channel._GREETING
                s.sendall(frame)
                (kind,) = channel._HEADER.unpack(recv_exactly(s, channel._HEADER.size))
                (n,) = channel._HEADER.unpack(recv_exactly(s, channel._HEADER.size))
                reason = recv_exactly(s, n).decode()
                assert kind == channel._ABORT, kind
                assert reason.startswith("garbler server: admission: ") and why in reason, reason
    finally:
        srv.g.kill()
        srv.e.kill()
        srv.finish()


def test_owners_hear_at_once_that_the_evaluator_server_failed_while_the_garbler_hangs(
        progs, tmp_path):
    """The garbler server frozen while computing: the evaluator server gives up after its
    timeout and tells the owners, who read the garbler's half first and waited out their
    whole allowance (timeout plus the work at the slowest rate) before failing, naming the
    garbler. They now hear whichever server speaks first."""
    hosp = progs["hospitals"]
    srv = Servers(hosp, timeout=3, g_extra=["--verbose"])
    procs = {}
    for p in ("north", "south", "east"):
        rows = tmp_path / f"{p}.csv"     # 600 rows: seconds of garbling, frozen long before
        rows.write_text(f"{p}_values\n" + '"[120, 130, 125, 140, 118, 122, 135, 128, 131, '
                        '119, 126, 133]"\n' * 600)
        procs[p] = owner(srv.submit_args(hosp, p, "--inputs", str(rows), "--timeout", "60"))
    srv.wait_for("computing")       # logged once the owners are told the session starts
    srv.g.send_signal(signal.SIGSTOP)
    try:
        for p, pr in procs.items():
            res = done(pr, timeout=40)      # the garbler's allowance is minutes
            check_failed(res, f"{p}: outputs: stopped by the evaluator server",
                         "the garbler server failed or left")
            assert res[1] == ""
    finally:
        srv.g.send_signal(signal.SIGKILL)
        srv.g.send_signal(signal.SIGCONT)
    got = srv.finish()
    check_failed(got["evaluator"], "evaluator server", "garbler server")


def test_servers_both_silent_past_the_allowance_time_out_naming_it():
    """Neither server sends anything within the wait: the first server's timeout, naming the
    whole wait (not what was left of it after the other was waited for)."""
    from yaogc.runtime import owners
    from yaogc.runtime.errors import ChannelTimeout

    class Silent:
        def peer_stirred(self):
            return False
    state = {"phase": "outputs", "role": "evaluator"}
    with pytest.raises(ChannelTimeout, match=r"timed out after 0\.05 s waiting for the peer"):
        owners._first_to_speak({"garbler": Silent(), "evaluator": Silent()}, 0.05, state)
    assert state["role"] == "garbler"
