"""One certificate pinned for two roles, and a party's own certificate out of its validity
period, are refused before anything connects: one key holder could otherwise play both
servers of a data owner (and recover its input from the two shares), and an expired
certificate was refused only by the peer, telling only itself why."""

import datetime
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from test_run_cli import CLI
from yaogc.runtime.tls import generate_certificate

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("pins")
    return {n: generate_certificate(n, d) for n in ("a", "b", "c", "d", "e")}


def _cli(*args):
    r = subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stderr


def _dated(tmp_path, name, start, end):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end).sign(key, hashes.SHA256()))
    k, c = tmp_path / f"{name}.key", tmp_path / f"{name}.crt"
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return k, c


def test_a_peer_pinned_to_this_side_s_own_certificate_is_refused(certs):
    (ka, ca), _ = certs["a"], certs["b"]
    code, err = _cli("run", EXAMPLES / "millionaires.yao", "--as", "alice", "--listen",
                     "127.0.0.1:0", "--tls-cert", ca, "--tls-key", ka, "--peer-cert", ca,
                     "--input", "alice_wealth=5")
    assert code == 2, err
    assert err.splitlines()[0] == f"peer certificate {ca} is this side's own certificate " \
                                  f"({ca}): pin the peer's"


def test_an_owner_cannot_pin_one_certificate_for_both_servers(certs):
    (kc, cc), (_, ca) = certs["c"], certs["a"]
    code, err = _cli("submit", EXAMPLES / "three_hospitals.yao", "--as", "north",
                     "--garbler", "127.0.0.1:9", "--evaluator", "127.0.0.1:10",
                     "--tls-cert", cc, "--tls-key", kc, "--garbler-cert", ca,
                     "--evaluator-cert", ca, "--input", "north_values=[1]")
    assert code == 2, err
    assert err.splitlines()[0] == f"--evaluator-cert and --garbler-cert are the same " \
                                  f"certificate ({ca}): each needs its own, or one key " \
                                  f"holder plays both"


@pytest.mark.parametrize("north, what", [
    ("b", "owner north and the other server (--peer-cert) are the same certificate"),
    ("a", "north is pinned to this server's own certificate"),
])
def test_a_server_cannot_pin_an_owner_to_a_server_s_certificate(certs, north, what):
    (ka, ca), (_, cb) = certs["a"], certs["b"]
    code, err = _cli("serve", EXAMPLES / "three_hospitals.yao", "--role", "garbler",
                     "--owners", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--tls-cert", ca,
                     "--tls-key", ka, "--peer-cert", cb, "--owner-cert",
                     f"north={certs[north][1]}", "--owner-cert", f"south={certs['c'][1]}",
                     "--owner-cert", f"east={certs['d'][1]}")
    assert code == 2 and err.splitlines()[0].startswith(what), err
    assert "listening" not in err


@pytest.mark.parametrize("days, what", [(-1, "expired on"), (2, "is not valid before")])
def test_this_side_s_certificate_outside_its_validity_is_named(certs, tmp_path, days, what):
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = (now - datetime.timedelta(days=30), now + datetime.timedelta(days=days)) \
        if days < 0 else (now + datetime.timedelta(days=days), now + datetime.timedelta(days=30))
    k, c = _dated(tmp_path, "old", start, end)
    code, err = _cli("run", EXAMPLES / "millionaires.yao", "--as", "alice", "--listen",
                     "127.0.0.1:0", "--tls-cert", c, "--tls-key", k, "--peer-cert",
                     certs["b"][1], "--input", "alice_wealth=5")
    assert code == 2, err
    first = err.splitlines()[0]
    assert first.startswith(f"certificate {c} {what} "), first
