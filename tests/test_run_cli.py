"""``yaogc run`` and ``yaogc certs`` as real processes: one side listens, the other connects."""

import json
import os
import re
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "yaogc.runtime.cli"]
LISTEN_RE = re.compile(r"listening on (\S+):(\d+)")


def start_listener(args, env=None):
    """Start ``yaogc run ... --listen 127.0.0.1:0``; return (process, port or None)."""
    proc = subprocess.Popen(CLI + args + ["--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    # compile-time range warnings of a program may come first
    first = ""
    while True:
        line = proc.stderr.readline()
        first += line
        m = LISTEN_RE.search(line)
        if m or not line:
            break
    if not m:
        proc.wait(30)
        return proc, None, first + proc.stderr.read()
    return proc, int(m.group(2)), first


def finish(proc, timeout=60):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def run_pair(listen_args, connect_args, timeout=60):
    """Both sides through the CLI; returns ((rc, out, err) listener, (rc, out, err) connector)."""
    lp, port, first = start_listener(listen_args)
    assert port is not None, first
    cp = subprocess.Popen(CLI + connect_args + ["--connect", f"127.0.0.1:{port}"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    c = finish(cp, timeout)
    rc, out, err = finish(lp, timeout)
    return (rc, out, first + err), c


def test_adder_json_both_sides(bristol_path):
    f = str(bristol_path("adder64.txt"))
    a, b = (1 << 64) - 5, 12345
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", f, "--as", "garbler", "--input", f"in1={a}", "--json"],
        ["run", f, "--as", "evaluator", "--input", f"in2={b}", "--json"])
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    assert err1.startswith("listening on 127.0.0.1:")
    for out in (out1, out2):
        doc = json.loads(out)
        assert doc["outputs"] == {"out1": (a + b) % (1 << 64)}
        assert set(doc["stats"]) >= {"and_gates", "bytes_sent", "bytes_received",
                                     "setup_seconds", "ot_seconds", "gc_seconds",
                                     "total_seconds"}
        assert doc["stats"]["and_gates"] == 63


def test_batch_from_csv_and_json_text_output(bristol_path, tmp_path):
    f = str(bristol_path("mult64.txt"))
    xs, ys = [3, 1 << 40, 7], [5, 1 << 30, (1 << 64) - 1]
    csv = tmp_path / "g.csv"
    csv.write_text("in1\n" + "\n".join(str(x) for x in xs) + "\n")
    js = tmp_path / "e.json"
    js.write_text(json.dumps([{"in2": y} for y in ys]))
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", f, "--as", "evaluator", "--inputs", str(js), "--json"],
        ["run", f, "--as", "garbler", "--inputs", str(csv), "--quiet"])
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    want = [(x * y) % (1 << 64) for x, y in zip(xs, ys)]
    assert json.loads(out1)["outputs"] == [{"out1": w} for w in want]
    assert out2.splitlines() == [f"[{i}] out1 = {w}" for i, w in enumerate(want)]
    assert err2 == ""  # --quiet: no statistics line


def test_party_of_moves_an_input(bristol_path):
    f = str(bristol_path("sub64.txt"))
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", f, "--as", "garbler", "--party-of", "in2=garbler", "--input", "in1=10",
         "--input", "in2=3", "--json"],
        ["run", f, "--as", "evaluator", "--party-of", "in2=garbler", "--json"])
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    assert json.loads(out1)["outputs"] == {"out1": 7} == json.loads(out2)["outputs"]


def test_tls_with_generated_certificates(bristol_path, tmp_path):
    for name in ("hosp_a", "hosp_b"):
        r = subprocess.run(CLI + ["certs", name, "--out", str(tmp_path)], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == [str(tmp_path / f"{name}.key"), str(tmp_path / f"{name}.crt")]
        assert (os.stat(tmp_path / f"{name}.key").st_mode & 0o777) == 0o600
    f = str(bristol_path("aes_128.txt"))
    key = "0x000102030405060708090a0b0c0d0e0f"
    pt = "0x00112233445566778899aabbccddeeff"
    tls = lambda me, peer: ["--tls-cert", str(tmp_path / f"{me}.crt"), "--tls-key",
                            str(tmp_path / f"{me}.key"), "--peer-cert",
                            str(tmp_path / f"{peer}.crt")]
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", f, "--as", "garbler", "--input", f"in1={key}", "--json"] + tls("hosp_a", "hosp_b"),
        ["run", f, "--as", "evaluator", "--input", f"in2={pt}", "--json"] + tls("hosp_b", "hosp_a"))
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    for out in (out1, out2):
        ct = json.loads(out)["outputs"]["out1"]
        assert ct.to_bytes(16, "big").hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


def test_plain_tcp_to_a_remote_address_needs_the_flag(bristol_path):
    f = str(bristol_path("adder64.txt"))
    r = subprocess.run(CLI + ["run", f, "--as", "evaluator", "--input", "in2=1", "--connect",
                              "192.0.2.1:7000", "--timeout", "2"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "plain TCP" in r.stderr and "--insecure-plain-tcp" in r.stderr


@pytest.mark.parametrize("bad", ["127.0.0.1", "127.0.0.1:http", "localhost:70000"])
def test_bad_endpoints_are_usage_errors(bristol_path, bad):
    f = str(bristol_path("adder64.txt"))
    r = subprocess.run(CLI + ["run", f, "--as", "garbler", "--input", "in1=1", "--connect",
                              bad], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--connect" in r.stderr and "Traceback" not in r.stderr


def test_program_with_party_names_and_garbler_choice():
    prog = os.path.join(os.path.dirname(__file__), "..", "examples", "millionaires.yao")
    # the first party declared garbles unless --garbler names the other: the summary line
    # says which role each side played
    for garbler, bob_role, alice_role in (([], "evaluator", "garbler"),
                                          (["--garbler", "bob"], "garbler", "evaluator")):
        (rc1, out1, err1), (rc2, out2, err2) = run_pair(
            ["run", prog, "--as", "bob", "--input", "bob_wealth=1000000"] + garbler,
            ["run", prog, "--as", "alice", "--input", "alice_wealth=1000001"] + garbler)
        assert rc1 == 0 and rc2 == 0, (err1, err2)
        assert out1 == out2 == "alice_is_richer = true\n"
        assert f"bob ({bob_role}):" in err1 and f"alice ({alice_role}):" in err2, (err1, err2)


def test_program_defines_must_agree(tmp_path):
    prog = os.path.join(os.path.dirname(__file__), "..", "examples", "count_above.yao")
    (rc1, _, err1), (rc2, _, err2) = run_pair(
        ["run", prog, "-D", "N=2", "--as", "lab_a", "--input", "a=[1,2]", "--input",
         "threshold=1"],
        ["run", prog, "-D", "N=3", "--as", "lab_b", "--input", "b=[5,6,7]"])
    assert rc1 == rc2 == 3
    assert "input 'a' is u16[2] (32 bits) here but u16[3] (48 bits) at the peer" in err1


def test_program_fixed_point_arrays_from_files(tmp_path):
    prog = os.path.join(os.path.dirname(__file__), "..", "examples", "hospital_stats.yao")
    north = tmp_path / "north.csv"
    north.write_text('north_values\n"[120.5, 130]"\n"[100, 100]"\n')
    south = tmp_path / "south.json"
    south.write_text('[{"south_values": [140, 111.5]}, {"south_values": [100, 100]}]')
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", prog, "-D", "N=2", "--as", "north", "--inputs", str(north), "--json"],
        ["run", prog, "-D", "N=2", "--as", "south", "--inputs", str(south), "--json"])
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    rows = json.loads(out1)["outputs"]
    assert rows == json.loads(out2)["outputs"]
    assert rows[0]["mean"] == 125.5 and rows[1] == {"mean": 100.0, "variance": 0.0}
    assert abs(rows[0]["variance"] - 112.875) < 1e-3  # (25 + 20.25 + 210.25 + 196) / 4


def test_run_reports_compile_and_schedule_time_and_uses_the_cache(tmp_path):
    """--json stats carry every phase the user waited for; the second run of a program reads
    its circuit (and schedule) from the cache, --no-cache does not."""
    prog = os.path.join(os.path.dirname(__file__), "..", "examples", "millionaires.yao")
    env = {**os.environ, "YAOGC_CACHE_DIR": str(tmp_path / "cache")}
    cached = []
    for extra in ([], [], ["--no-cache"]):
        lp = subprocess.Popen(CLI + ["run", prog, "--as", "bob", "--input", "bob_wealth=7",
                                     "--json", "--listen", "127.0.0.1:0"] + extra,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        m = LISTEN_RE.search(lp.stderr.readline())
        assert m
        cp = subprocess.run(CLI + ["run", prog, "--as", "alice", "--input", "alice_wealth=9",
                                   "--json", "--connect", f"127.0.0.1:{m.group(2)}"] + extra,
                            capture_output=True, text=True, env=env, timeout=120)
        rc, out, err = finish(lp)
        assert rc == 0 and cp.returncode == 0, (err, cp.stderr)
        for text in (out, cp.stdout):
            st = json.loads(text)["stats"]
            for key in ("compile_seconds", "schedule_seconds", "setup_seconds", "gc_seconds"):
                assert st[key] >= 0, key
            cached.append(st["compile_cached"])
    assert cached[2:4] == [True, True] and cached[4:] == [False, False]
    assert list((tmp_path / "cache").glob("*.yaoc"))


def test_compile_progress_lines(capsys):
    from yaogc.compiler.cli import phase_report
    report = phase_report("big.yao", after=0.0, quiet_after=0.0)
    report("lowering", 1234567, 2.5)
    report("checked", 0, 0.4)
    assert capsys.readouterr().err.splitlines() == ["big.yao: lowering, 1,234,567 gates, 2.5 s",
                                                    "big.yao: checked, 0.4 s"]


def test_engine_flag_chooses_each_partys_engine(bristol_path):
    """``--engine`` is local to each party: a native garbler talks to a numpy evaluator and
    the other way round, with the right sum, and each reports the engine it ran."""
    from yaogc.gc.native import unavailable_reason
    if unavailable_reason() is not None:
        pytest.skip(f"native engine unavailable: {unavailable_reason()}")
    f = str(bristol_path("adder64.txt"))
    a, b = 77, (1 << 64) - 3
    for g_engine, e_engine in (("native", "numpy"), ("numpy", "native")):
        (rc1, out1, err1), (rc2, out2, err2) = run_pair(
            ["run", f, "--as", "garbler", "--input", f"in1={a}", "--json",
             "--engine", g_engine],
            ["run", f, "--as", "evaluator", "--input", f"in2={b}", "--json",
             "--engine", e_engine])
        assert rc1 == 0 and rc2 == 0, (err1, err2)
        for out, engine in ((out1, g_engine), (out2, e_engine)):
            doc = json.loads(out)
            assert doc["outputs"] == {"out1": (a + b) % (1 << 64)}
            assert doc["stats"]["engine"] == engine


def test_engine_flag_refuses_an_unknown_engine(bristol_path):
    r = subprocess.run(CLI + ["run", str(bristol_path("adder64.txt")), "--as", "garbler",
                              "--listen", "127.0.0.1:0", "--engine", "gpu"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "--engine" in r.stderr and "gpu" in r.stderr


def test_two_parties_on_one_machine_compile_the_program_once(tmp_path):
    """Both parties of a run started together on one machine: one compiles the program, the
    other waits for it and reads its circuit, and its summary says so."""
    import socket
    prog = os.path.join(os.path.dirname(__file__), "..", "examples", "count_above.yao")
    env = {**os.environ, "YAOGC_CACHE_DIR": str(tmp_path / "cache")}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    n = 6000
    a, b = [i % 500 for i in range(n)], [(7 * i) % 500 for i in range(n)]
    (tmp_path / "a.json").write_text(json.dumps({"a": a, "threshold": 250}))
    (tmp_path / "b.json").write_text(json.dumps({"b": b}))
    common = ["run", prog, "-D", f"N={n}", "--json"]
    lp = subprocess.Popen(CLI + common + ["--as", "lab_a", "--inputs", str(tmp_path / "a.json"),
                                          "--listen", f"127.0.0.1:{port}"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    cp = subprocess.Popen(CLI + common + ["--as", "lab_b", "--inputs", str(tmp_path / "b.json"),
                                          "--connect", f"127.0.0.1:{port}"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    results = [finish(p, 300) for p in (lp, cp)]
    assert all(rc == 0 for rc, _, _ in results), [err for _, _, err in results]
    runs = [json.loads(out) for _, out, _ in results]
    want = sum(x > 250 for x in a) + sum(x > 250 for x in b)
    assert all(r["outputs"]["count"] == want for r in runs)
    stats = sorted((r["stats"]["compile_cached"], r["stats"]["compile_waited"]) for r in runs)
    assert stats == [(False, False), (True, True)]


@pytest.mark.parametrize("cached, waited, said", [(False, False, "compile 2.50 s, "),
                                                  (True, False, "compile 2.50 s (cached), "),
                                                  (True, True, "compile 2.50 s (compiled by "
                                                               "another process), ")])
def test_summary_says_where_the_circuit_came_from(cached, waited, said):
    from yaogc.runtime.cli_net import stats_line
    st = {"and_gates": 10, "bytes_sent": 1, "bytes_received": 2, "setup_seconds": 0.1,
          "ot_seconds": 0.05, "gc_seconds": 0.2, "total_seconds": 0.3, "compile_seconds": 2.5,
          "compile_cached": cached, "compile_waited": waited}
    assert said in stats_line(st)


@pytest.mark.parametrize("mode, allow, runs", [
    ([], [], True), ([], ["--max-batch", "3"], True), ([], ["--max-batch", "2"], False),
    (["--malicious"], [], False), (["--malicious"], ["--max-batch", "3"], True)])
def test_max_batch_bounds_the_peer_rows_one_row_serves(tmp_path, mode, allow, runs):
    # bob's 3 rows against alice's one: 3 evaluations on alice's input. Semi-honest runs
    # allow it unless --max-batch says fewer; a malicious-mode run only with --max-batch
    p = tmp_path / "gt.yao"
    p.write_text("party alice, bob\ndef main(x: u32 @alice, y: u32 @bob) -> (r: bool @bob):\n"
                 "    return y > x\n")
    rows = tmp_path / "rows.csv"
    rows.write_text("y\n1\n100\n10000\n")
    (lrc, lout, lerr), (crc, cout, cerr) = run_pair(
        ["run", str(p), "--as", "alice", "--input", "x=50", "--quiet", "--timeout", "20",
         *mode, *allow],
        ["run", str(p), "--as", "bob", "--inputs", str(rows), "--quiet", "--timeout", "20",
         *mode])
    if runs:
        assert lrc == crc == 0, (lerr, cerr)
        assert [ln.split()[-1] for ln in cout.strip().splitlines()] == ["false", "true",
                                                                          "true"]
    else:
        assert lrc == 3 and crc == 3 and not cout.strip()
        first = [ln for ln in lerr.splitlines() if not ln.startswith("listening on")][0]
        assert first.startswith("handshake: the peer gives 3 rows against this side's one "
                                "row"), lerr
        assert "--max-batch" in lerr
        # the side with the batch is told why (it saw only a closed connection)
        assert "the peer aborted: it refuses to apply its one row to a batch of 3 rows of " \
               "this side's: more than the" in cerr.splitlines()[0], cerr
