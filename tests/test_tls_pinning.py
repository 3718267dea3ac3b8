"""Pinning trusts exactly one certificate, by its SHA-256 fingerprint: not a bundle, not a CA
and whatever it signed, not a weakened hand-made context; the run summary shows the TLS
version and the peer's fingerprint."""

import datetime
import json
import ssl
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from test_channel import connect_pair
from test_run_cli import CLI, run_pair
from yaogc.circuits.errors import InputError
from yaogc.runtime.errors import HandshakeError
from yaogc.runtime.tls import (TLSConfig, certificate_fingerprint, for_testing,
                               generate_certificate, make_context)


def _cert(name, key, issuer_name, issuer_key, ca):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256()))


def _write(tmp_path, name, key, certs):
    k = tmp_path / f"{name}.key"
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    c = tmp_path / f"{name}.crt"
    c.write_bytes(b"".join(x.public_bytes(serialization.Encoding.PEM) for x in certs))
    return k, c


@pytest.fixture
def ca_world(tmp_path):
    """A CA (CA:TRUE, self-signed) and a stranger's leaf certificate signed by it."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("some-ca", ca_key, "some-ca", ca_key, True)
    m_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert("mallory", m_key, "some-ca", ca_key, False)
    _, ca_crt = _write(tmp_path, "ca", ca_key, [ca])
    m_key_path, m_crt = _write(tmp_path, "mallory", m_key, [leaf])
    return ca_crt, (m_key_path, m_crt), ca_key, ca


def test_a_file_of_two_certificates_is_refused(tmp_path):
    a_key, a_crt = generate_certificate("a", tmp_path)
    _, b_crt = generate_certificate("b", tmp_path)
    _, c_crt = generate_certificate("c", tmp_path)
    both = tmp_path / "both.crt"
    both.write_bytes(b_crt.read_bytes() + c_crt.read_bytes())
    with pytest.raises(InputError, match=r"both.crt holds 2 certificates; pin exactly one"):
        make_context(a_crt, a_key, both, server_side=True)
    r = subprocess.run(CLI + ["run", "x.txt", "--as", "garbler", "--listen", "127.0.0.1:0",
                              "--tls-cert", str(a_crt), "--tls-key", str(a_key),
                              "--peer-cert", str(both)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2


def test_a_pinned_ca_admits_nobody_it_signed(tmp_path, ca_world):
    """Pinning a CA's certificate admits that certificate only, not the leaves it signed."""
    ca_crt, (m_key, m_crt), _, _ = ca_world
    a_key, a_crt = generate_certificate("a", tmp_path)
    s, c = connect_pair({"tls": TLSConfig(a_crt, a_key, ca_crt)},
                        {"tls": TLSConfig(m_crt, m_key, a_crt)})
    assert isinstance(s, HandshakeError) and isinstance(c, HandshakeError), (s, c)
    assert "not the pinned one" in str(s)


def test_a_certificate_signed_by_a_pinned_ca_certificate_is_refused(tmp_path):
    """A peer certificate made CA:TRUE (as yaogc made them before) signs a second key:
    that second certificate verifies against the pin, but its fingerprint is not the pin."""
    a_key, a_crt = generate_certificate("a", tmp_path)
    b_key = ec.generate_private_key(ec.SECP256R1())
    b = _cert("b", b_key, "b", b_key, True)
    _, b_crt = _write(tmp_path, "b", b_key, [b])
    e_key = ec.generate_private_key(ec.SECP256R1())
    e_key_path, e_crt = _write(tmp_path, "e", e_key, [_cert("e", e_key, "b", b_key, False)])
    s, c = connect_pair({"tls": TLSConfig(a_crt, a_key, b_crt)},
                        {"tls": TLSConfig(e_crt, e_key_path, a_crt)})
    assert isinstance(s, HandshakeError) and isinstance(c, HandshakeError), (s, c)
    assert f"pinned {certificate_fingerprint(b_crt)}" in str(s)
    # the CA:TRUE certificate itself is still accepted when pinned
    s, c = connect_pair({"tls": TLSConfig(a_crt, a_key, b_crt)},
                        {"tls": TLSConfig(b_crt, _write(tmp_path, "b", b_key, [b])[0], a_crt)})
    assert s.peer_fingerprint == certificate_fingerprint(b_crt)
    assert c.peer_fingerprint == certificate_fingerprint(a_crt)
    assert s.tls_version == c.tls_version == "TLSv1.3"
    s.close()
    c.close()


def test_weakened_contexts_are_refused_unless_marked_for_testing(tmp_path):
    a_key, a_crt = generate_certificate("a", tmp_path)
    _, b_crt = generate_certificate("b", tmp_path)
    loose = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    loose.check_hostname = False
    loose.load_cert_chain(a_crt, a_key)
    loose.load_verify_locations(b_crt)
    from yaogc.runtime.net import connect
    with pytest.raises(InputError, match="refusing a TLS context weaker than yaogc's defaults:"
                       " it allows TLS versions below 1.3.*pins no certificate"):
        connect("127.0.0.1", 9, 1.0, loose)
    none = make_context(a_crt, a_key, b_crt, server_side=True)
    none.verify_mode = ssl.CERT_NONE
    with pytest.raises(InputError, match="does not require the peer's certificate"):
        connect("127.0.0.1", 9, 1.0, none)
    # marked for testing, it is used as it is (here: nobody listens)
    from yaogc.runtime.errors import ConnectFailed
    with pytest.raises(ConnectFailed):
        connect("127.0.0.1", 9, 0.2, for_testing(loose), retry_for=0.1)


def test_run_summary_shows_tls_version_and_peer_fingerprint(bristol_path, tmp_path):
    for name in ("a", "b"):
        generate_certificate(name, tmp_path)
    f = str(bristol_path("adder64.txt"))
    c = lambda n: str(tmp_path / f"{n}.crt")
    k = lambda n: str(tmp_path / f"{n}.key")
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", f, "--as", "garbler", "--input", "in1=1", "--tls-cert", c("a"), "--tls-key",
         k("a"), "--peer-cert", c("b"), "--timeout", "20"],
        ["run", f, "--as", "evaluator", "--input", "in2=2", "--tls-cert", c("b"),
         "--tls-key", k("b"), "--peer-cert", c("a"), "--timeout", "20", "--json"])
    assert rc1 == rc2 == 0, err1 + err2
    assert f"TLSv1.3, peer certificate SHA-256 {certificate_fingerprint(c('b'))}" in err1
    st = json.loads(out2)["stats"]
    assert st["tls"] == "TLSv1.3" and st["peer_fingerprint"] == certificate_fingerprint(c("a"))
    (rc1, _, err1), (rc2, _, _) = run_pair(
        ["run", f, "--as", "garbler", "--input", "in1=1", "--timeout", "20"],
        ["run", f, "--as", "evaluator", "--input", "in2=2", "--timeout", "20"])
    assert rc1 == rc2 == 0 and "plain TCP (not encrypted, peer not authenticated)" in err1
