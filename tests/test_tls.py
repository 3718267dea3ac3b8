"""Tests of certificate generation and TLS 1.3 mutual authentication over real sockets."""

import datetime
import socket
import ssl
import stat
import threading

import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from test_channel import connect_pair, stop
from yaogc.runtime.net import listen
from yaogc.circuits.errors import InputError
from yaogc.runtime.errors import ChannelTimeout, HandshakeError, PeerClosed
from yaogc.runtime.tls import (TLSConfig, certificate_fingerprint, describe_ssl_error,
                               for_testing, generate_certificate, make_context)

T = 5.0


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    return {name: generate_certificate(name, d) for name in ("alice", "bob", "mallory")}


def config(certs, me, peer):
    key, crt = certs[me]
    return TLSConfig(crt, key, certs[peer][1])


def test_generated_key_and_certificate(tmp_path):
    key, crt = generate_certificate("garbler-1", tmp_path)
    assert key == tmp_path / "garbler-1.key" and crt == tmp_path / "garbler-1.crt"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "garbler-1"
    assert cert.issuer == cert.subject
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["garbler-1"]
    # an end entity: pinning it must not make it a CA for other certificates
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    pub = cert.public_key()
    assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp256r1"
    life = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert life > datetime.timedelta(days=9 * 365)


def test_generation_refuses_to_overwrite(tmp_path):
    key, crt = generate_certificate("alice", tmp_path)
    before = key.read_bytes()
    with pytest.raises(InputError, match="already exists; refusing to overwrite"):
        generate_certificate("alice", tmp_path)
    assert key.read_bytes() == before
    key2, _ = generate_certificate("alice", tmp_path, overwrite=True)
    assert key2.read_bytes() != before
    assert stat.S_IMODE(key2.stat().st_mode) == 0o600


def test_unwritable_directory_is_an_input_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InputError, match="cannot create directory"):
        generate_certificate("alice", blocker / "sub")


@pytest.mark.parametrize("name", ["", "../evil", "a b", "-x", "x" * 65])
def test_unusable_names_are_refused(tmp_path, name):
    with pytest.raises(InputError, match="not usable as a file name"):
        generate_certificate(name, tmp_path)


def test_fingerprint_is_sha256_hex(certs):
    fp = certificate_fingerprint(certs["alice"][1])
    assert len(fp.split(":")) == 32 and fp != certificate_fingerprint(certs["bob"][1])


def test_context_settings(certs):
    for server_side in (True, False):
        ctx = config(certs, "alice", "bob").context(server_side)
        assert ctx.minimum_version == ssl.TLSVersion.TLSv1_3
        assert ctx.verify_mode == ssl.CERT_REQUIRED and not ctx.check_hostname


def test_bad_context_files_are_input_errors(certs, tmp_path):
    (key_a, crt_a), (key_b, _) = certs["alice"], certs["bob"]
    with pytest.raises(InputError, match="not found"):
        make_context(tmp_path / "none.crt", key_a, crt_a, server_side=True)
    with pytest.raises(InputError, match=r"^certificate file \S+ is a directory, not a file$"):
        make_context(tmp_path, key_a, crt_a, server_side=True)
    with pytest.raises(InputError, match=r"^key file /dev/null is not a regular file$"):
        make_context(crt_a, "/dev/null", crt_a, server_side=True)
    with pytest.raises(InputError, match="does not match"):
        make_context(crt_a, key_b, crt_a, server_side=True)
    junk = tmp_path / "junk.crt"
    junk.write_text("not a certificate")
    with pytest.raises(InputError, match="is not a PEM certificate"):
        make_context(crt_a, key_a, junk, server_side=False)


def test_mutual_tls_round_trip(certs):
    s, c = connect_pair({"tls": config(certs, "alice", "bob")},
                        {"tls": config(certs, "bob", "alice")})
    with s, c:
        assert s.tls and c.tls
        c.send_array(np.arange(300_000, dtype=np.uint64), flush=True)
        assert np.array_equal(s.recv_array(np.uint64, 300_000), np.arange(300_000))
        s.send(b"result", flush=True)
        assert c.recv() == b"result"
        assert c.bytes_sent == s.bytes_received
        assert c.peer_fingerprint == certificate_fingerprint(certs["alice"][1])
        assert s.peer_fingerprint == certificate_fingerprint(certs["bob"][1])


def test_tls_timeout_and_peer_closing(certs):
    s, c = connect_pair({"tls": config(certs, "alice", "bob")},
                        {"tls": config(certs, "bob", "alice")})
    with s:
        s.phase = "OT"
        s.timeout = 0.2
        with pytest.raises(ChannelTimeout, match="^OT: timed out after 0.2 s"):
            s.recv()
    c.phase = "tables"
    with pytest.raises(PeerClosed, match="^tables: the peer closed the connection"):
        c.recv()
    c.close()


def test_a_silent_client_times_out_the_tls_handshake(certs):
    box, ready = {}, threading.Event()

    def serve():
        try:
            listen("127.0.0.1", 0, 1.0, config(certs, "alice", "bob"), on_failed=stop,
                   on_listening=lambda h, p: (box.update(port=p), ready.set()))
        except HandshakeError as e:
            box["err"] = e

    t = threading.Thread(target=serve)
    t.start()
    assert ready.wait(T)
    with socket.create_connection(("127.0.0.1", box["port"])):
        t.join(T)
    assert "TLS handshake with 127.0.0.1:" in str(box["err"])
    assert "timed out after 1 s" in str(box["err"])


def test_expired_certificates_are_named_as_such():
    e = ssl.SSLCertVerificationError()
    e.verify_code, e.verify_message = 10, "certificate has expired"
    assert describe_ssl_error(e).startswith("the peer's certificate has expired")
    e.verify_code, e.verify_message = 18, "self-signed certificate"
    assert describe_ssl_error(e).startswith("the peer's certificate is not the pinned one")


def both_refused(s, c):
    assert isinstance(s, HandshakeError), s
    assert isinstance(c, HandshakeError), c
    assert s.exit_code == c.exit_code == 3
    return str(s), str(c)


NOT_PINNED = "not the pinned one"
REJECTED = "the peer rejected this side's certificate"


@pytest.mark.parametrize("server, client, server_says, client_says", [
    # the client presents a certificate the server does not pin
    (("alice", "bob"), ("mallory", "alice"), NOT_PINNED, REJECTED),
    # the server presents a certificate the client does not pin
    (("mallory", "bob"), ("bob", "alice"), REJECTED, NOT_PINNED),
    # plain TCP against a TLS listener, and TLS against a plain listener
    (("alice", "bob"), None, "not speaking TLS", "may require TLS"),
    (None, ("bob", "alice"), "started a TLS handshake but this side uses plain TCP",
     "not speaking TLS"),
])
def test_mismatched_peers_are_refused_on_both_sides(certs, server, client, server_says,
                                                    client_says):
    s, c = connect_pair({"tls": config(certs, *server) if server else None},
                        {"tls": config(certs, *client) if client else None})
    srv, cli = both_refused(s, c)
    assert server_says in srv and client_says in cli
    assert "\n" not in srv and "\n" not in cli


def test_tls_below_1_3_is_refused(certs):
    key, crt = certs["bob"]
    old = for_testing(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    old.check_hostname = False
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    old.load_cert_chain(crt, key)
    old.load_verify_locations(certs["alice"][1])
    s, c = connect_pair({"tls": config(certs, "alice", "bob")}, {"tls": old})
    srv, cli = both_refused(s, c)
    assert "TLS 1.3" in srv or "TLS 1.3" in cli
