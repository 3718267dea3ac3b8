"""``yaogc run`` refusing bad arguments and bad TLS files before any network wait, and
circuits where one side has no inputs at all."""

import json
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from test_run_cli import CLI, run_pair
from yaogc.runtime.tls import generate_certificate


def cli(*args, timeout=60):
    r = subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_unusable_timeout_refused(bristol_path, value):
    rc, out, err = cli("run", str(bristol_path("adder64.txt")), "--as", "garbler",
                       "--input", "in1=1", "--listen", "127.0.0.1:0", f"--timeout={value}")
    assert rc == 2 and out == ""
    assert "--timeout" in err.splitlines()[0] and "positive number of seconds" in err
    assert "listening on" not in err and "Traceback" not in err


def test_connect_to_port_zero_refused(bristol_path):
    rc, _, err = cli("run", str(bristol_path("adder64.txt")), "--as", "evaluator",
                     "--input", "in2=1", "--connect", "127.0.0.1:0")
    assert rc == 2 and "port 0 only makes sense with --listen" in err.splitlines()[0]


def _tls_args(tmp_path, cert, key, peer):
    return ["--tls-cert", str(cert), "--tls-key", str(key), "--peer-cert", str(peer)]


def test_bad_tls_files_refused_locally(bristol_path, tmp_path):
    f = str(bristol_path("adder64.txt"))
    a_key, a_crt = generate_certificate("alice", tmp_path)
    b_key, b_crt = generate_certificate("bob", tmp_path)
    base = ["run", f, "--as", "garbler", "--input", "in1=1", "--listen", "127.0.0.1:0"]

    rc, _, err = cli(*base, *_tls_args(tmp_path, a_crt, b_key, b_crt))
    assert rc == 2 and "does not belong to certificate" in err.splitlines()[0]

    rc, _, err = cli(*base, *_tls_args(tmp_path, a_key, a_key, b_crt))
    assert rc == 2 and "is a private key" in err.splitlines()[0]

    locked = tmp_path / "locked.key"
    pk = ec.generate_private_key(ec.SECP256R1())
    locked.write_bytes(pk.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.BestAvailableEncryption(b"pass phrase")))
    rc, _, err = cli(*base, *_tls_args(tmp_path, a_crt, locked, b_crt), timeout=30)
    assert rc == 2 and "encrypted with a pass phrase" in err.splitlines()[0]

    rc, _, err = cli(*base, *_tls_args(tmp_path, a_crt, a_key, tmp_path / "missing.crt"))
    assert rc == 2 and "missing.crt" in err.splitlines()[0]
    assert "Traceback" not in err


def test_one_side_without_inputs_follows_the_batch(bristol_path):
    """A circuit whose inputs all belong to the garbler: the evaluator gives none and reports
    the same shape of outputs as the garbler (a list for a batch)."""
    f = str(bristol_path("zero_equal.txt"))
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", f, "--as", "garbler", "--input", "in1=0", "--json"],
        ["run", f, "--as", "evaluator", "--json"])
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    assert json.loads(out1)["outputs"] == json.loads(out2)["outputs"] == {"out1": 1}


def test_batch_of_one_side_reaches_the_side_without_inputs(bristol_path, tmp_path):
    f = str(bristol_path("zero_equal.txt"))
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"in1": 0}, {"in1": 5}]))
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", f, "--as", "garbler", "--inputs", str(rows), "--json"],
        ["run", f, "--as", "evaluator", "--json"])
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    assert json.loads(out1)["outputs"] == json.loads(out2)["outputs"] == [{"out1": 1},
                                                                          {"out1": 0}]
