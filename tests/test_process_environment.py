"""The ``yaogc`` command in a hostile process environment: standard streams closed or full, a
file size limit, SIGTERM and Ctrl-C, no home directory, file names that are not UTF-8, and
input files whose first line is gigabytes long. Each gets a clear message and an exit status,
never a traceback, a result cut short and printed as whole, or a leftover temporary file."""

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_run_cli import CLI, finish, start_listener

ROOT = Path(__file__).resolve().parent.parent
MILLIONAIRES = str(ROOT / "examples" / "millionaires.yao")
SORT = str(ROOT / "examples" / "sort.yao")
BOTH = ["--input", "alice_wealth=5", "--input", "bob_wealth=3"]


def _run(args, env=None, timeout=120, **kw):
    r = subprocess.run(CLI + args, capture_output=True, env=env, timeout=timeout, **kw)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def _rows(path: Path, n: int) -> Path:
    path.write_text("alice_wealth,bob_wealth\n" + "".join(f"{i},{(7 * i) % n}\n"
                                                         for i in range(n)))
    return path


def _sigint_as_at_a_terminal():
    # a process started with SIGINT ignored keeps ignoring it (as a shell's background job
    # does); tests that ran the command in this process left it ignored here
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _file_size_limit(nbytes: int):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return limit


@pytest.mark.parametrize("as_json", [False, True])
def test_results_cut_short_by_a_file_size_limit_are_an_error(tmp_path, as_json):
    # one large write of the results came back short; the rest was dropped without a word
    # and the command said 0
    rows = _rows(tmp_path / "rows.csv", 20000)
    out = tmp_path / "out.txt"
    with open(out, "wb") as f:
        r = subprocess.run(CLI + ["eval", MILLIONAIRES, "--inputs", str(rows)] +
                           (["--json"] if as_json else []), stdout=f, stderr=subprocess.PIPE,
                           preexec_fn=_file_size_limit(100 * 1024), timeout=120)
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert err.splitlines()[0].startswith("yaogc eval: cannot write the results to standard "
                                          "output: File too large")
    assert out.stat().st_size <= 100 * 1024


def test_closed_stdout_is_named(tmp_path):
    rc, out, err = _run(["eval", MILLIONAIRES] + BOTH, preexec_fn=lambda: os.close(1))
    assert rc == 2 and "Traceback" not in err
    assert err.splitlines()[0] == ("yaogc eval: cannot write the results to standard output: "
                                   "it is closed")


def test_closed_stderr_does_not_stop_the_work():
    # the messages are lost, the results are not: before, every command failed at its first
    # progress check (isatty of None), and errors went to standard output instead
    rc, out, err = _run(["eval", MILLIONAIRES] + BOTH, preexec_fn=lambda: os.close(2))
    assert rc == 0 and out == "alice_is_richer = true\n"
    rc, out, _ = _run(["eval", "missing.yao"], preexec_fn=lambda: os.close(2))
    assert rc == 2 and out == ""


def test_a_full_stderr_does_not_stop_a_run(tmp_path):
    # a status line that could not be written ended the command as an internal error
    # (exit 1) before it listened; the peer then failed too
    warned = tmp_path / "w.yao"
    warned.write_text("party a, b\ndef main(y: u8 @a, z: u8 @b) -> u8 @both:\n"
                      "    return y + z\n")
    with open("/dev/full", "w") as full:
        r = subprocess.run(CLI + ["eval", str(warned), "--input", "y=1", "--input", "z=2"],
                           stdout=subprocess.PIPE, stderr=full, timeout=60)
        assert r.returncode == 0 and r.stdout == b"result = 3\n"
        with socket.socket() as probe:     # a free port: its 'listening on' line is lost
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        lp = subprocess.Popen(CLI + ["run", MILLIONAIRES, "--as", "bob", "--listen",
                                     f"127.0.0.1:{port}", "--input", "bob_wealth=10"],
                              stdout=subprocess.PIPE, stderr=full)
        for _ in range(100):
            r = subprocess.run(CLI + ["run", MILLIONAIRES, "--as", "alice", "--connect",
                                      f"127.0.0.1:{port}", "--input", "alice_wealth=50"],
                               capture_output=True, text=True, timeout=60)
            if "Connection refused" not in r.stderr:
                break
            time.sleep(0.2)
        assert r.returncode == 0 and r.stdout == "alice_is_richer = true\n", r.stderr
        out, _ = lp.communicate(timeout=60)
        assert lp.returncode == 0 and out == b"alice_is_richer = true\n"


def test_unwritable_stderr_keeps_the_exit_status():
    with open("/dev/full", "w") as full:
        r = subprocess.run(CLI + ["eval", "missing.yao"], stdout=subprocess.PIPE, stderr=full,
                           timeout=60)
    assert r.returncode == 2


def test_run_results_on_a_full_disk_are_an_error(tmp_path):
    # a run printed its results through a stream bound before the command guarded it:
    # "internal error" (exit 1) for a full disk
    lp, port, first = start_listener(["run", MILLIONAIRES, "--as", "bob",
                                      "--input", "bob_wealth=10000", "--quiet"])
    assert port is not None, first
    rows = tmp_path / "a.csv"
    rows.write_text("alice_wealth\n" + "".join(f"{i}\n" for i in range(3000)))
    with open("/dev/full", "w") as full:
        cp = subprocess.Popen(CLI + ["run", MILLIONAIRES, "--as", "alice", "--connect",
                                     f"127.0.0.1:{port}", "--inputs", str(rows), "--quiet"],
                              stdout=full, stderr=subprocess.PIPE, text=True)
        _, err = cp.communicate(timeout=120)
    assert cp.returncode == 2, err
    assert err.splitlines()[0] == ("yaogc run: cannot write the results to standard output: "
                                   "No space left on device")
    rc, _, lerr = finish(lp, 60)
    assert rc == 0, lerr


def test_file_name_that_is_not_utf8(tmp_path):
    # the cache's key encoded the file's name strictly: every cached command failed
    name = os.fsencode(str(tmp_path)) + b"/caf\xe9.yao"
    Path(os.fsdecode(name)).write_bytes(Path(MILLIONAIRES).read_bytes())
    cache = tmp_path / "cache"
    env = {**os.environ, "YAOGC_CACHE_DIR": str(cache)}
    for _ in range(2):      # compiled, then from the cache
        r = subprocess.run([os.fsencode(a) for a in CLI] + [b"eval", name] +
                           [os.fsencode(a) for a in BOTH], capture_output=True, env=env,
                           timeout=120)
        assert r.returncode == 0 and r.stdout == b"alice_is_richer = true\n", r.stderr
    assert list(cache.glob("*.yaoc"))


def test_no_home_directory_skips_the_cache(monkeypatch, capsys):
    # HOME unset and no passwd entry: Path.home() raises; the cache is skipped, as any cache
    # that cannot be written
    from yaogc.circuits import diskcache
    from yaogc.runtime.cli import main

    def no_home():
        raise RuntimeError("Could not determine home directory.")
    monkeypatch.delenv("YAOGC_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert not diskcache.cache_dir().parent.is_dir()
    assert main(["eval", MILLIONAIRES] + BOTH) == 0
    assert capsys.readouterr().out == "alice_is_richer = true\n"


def test_sigterm_is_reported_and_leaves_no_temporary_file(tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "YAOGC_CACHE_DIR": str(cache)}
    p = subprocess.Popen(CLI + ["compile", SORT, "-D", "N=1024", "-o", str(tmp_path / "s.circ")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(1.0)     # compiling (about 2.5 s on an idle machine)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    assert err.splitlines()[-1] == "yaogc compile: terminated (SIGTERM)"
    assert "Traceback" not in err
    assert not list(cache.glob(".tmp-*")) and not (tmp_path / "s.circ").exists()


def test_ctrl_c_to_a_sharded_run_prints_no_worker_tracebacks(tmp_path):
    # a terminal's Ctrl-C reaches the whole process group: every Dask worker printed its
    # own KeyboardInterrupt traceback
    pytest.importorskip("distributed")
    rows = tmp_path / "a.csv"
    rows.write_text("alice_wealth\n" + "".join(f"{i}\n" for i in range(50)))
    p = subprocess.Popen(CLI + ["run", MILLIONAIRES, "--as", "alice", "--listen",
                                "127.0.0.1:0", "--inputs", str(rows), "--workers", "2",
                                "--timeout", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, preexec_fn=_sigint_as_at_a_terminal)
    first = p.stderr.readline()     # listening: the cluster is up
    assert "listening on" in first, first + p.stderr.read()
    time.sleep(0.5)
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, first + err
    assert err.strip() == "yaogc run: interrupted"


def test_certs_on_a_full_disk_leave_nothing_behind(tmp_path):
    r = subprocess.run(CLI + ["certs", "alice", "--out", str(tmp_path)], capture_output=True,
                       text=True, preexec_fn=_file_size_limit(100), timeout=60)
    assert r.returncode == 2 and "cannot write" in r.stderr.splitlines()[0], r.stderr
    assert not list(tmp_path.glob("alice.*"))
    rc, _, err = _run(["certs", "alice", "--out", str(tmp_path)])    # space again: works
    assert rc == 0, err
    assert (tmp_path / "alice.key").stat().st_size > 0 and (tmp_path / "alice.crt").is_file()


def test_input_file_of_one_enormous_line_is_refused_quickly(tmp_path):
    # read whole before: a 2 GB line of NULs ran for minutes at 12.6 GB
    f = tmp_path / "huge.csv"
    with open(f, "wb") as out:
        out.truncate(70 << 20)
    rc, out, err = _run(["eval", MILLIONAIRES, "--inputs", str(f)], timeout=60)
    assert rc == 2 and out == ""
    assert err.splitlines()[0] == (f"{f}:1: the first line is longer than 67,108,864 "
                                   f"characters: not a header row of input names (is this a "
                                   f"CSV file?)")
