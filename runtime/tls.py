"""TLS 1.3 (RFC 8446) with mutual certificate authentication for the two-party channel.

Each party holds an ECDSA P-256 key and a self-signed end-entity certificate (CA:FALSE), and
pins the peer's certificate out of band: ``--peer-cert`` holds exactly one certificate (a file
with more is refused), it is the only trust anchor, and after the handshake the SHA-256
fingerprint of the certificate the peer presented must equal that of the pinned one, so no
other certificate, whoever signed it, is admitted. Both sides require a certificate and TLS 1.3
is the minimum. Host names are not checked, since trust comes from the pin, not from a public
PKI. A caller-supplied ``ssl.SSLContext`` must be as strict (TLS 1.3, a required certificate)
unless marked with :func:`for_testing`. This keeps outsiders on the network out; it does not
make a party more than semi-honest.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from yaogc.circuits.errors import InputError

VALIDITY_DAYS = 3650
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def generate_certificate(name: str, out_dir: str | os.PathLike, *,
                         overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``NAME.key`` (PEM, mode 0600) and a self-signed ``NAME.crt`` into ``out_dir``.

    The certificate has CN and SAN set to ``name`` and basicConstraints CA=False: it can be
    pinned by the peer but signs no other certificate. Existing files are kept unless
    ``overwrite``.
    """
    if not _NAME.fullmatch(name):
        raise InputError(f"certificate name {name!r} is not usable as a file name: use 1-64 "
                         "letters, digits, '.', '_' or '-', starting with a letter or digit")
    out = Path(out_dir)
    key_path, crt_path = out / f"{name}.key", out / f"{name}.crt"
    if not overwrite:
        for p in (key_path, crt_path):
            if p.exists():
                raise InputError(f"{p} already exists; refusing to overwrite it "
                                 "(pass overwrite=True / --force to replace it)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create directory {out}: {e.strerror or e}") from None

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     crl_sign=False, encipher_only=False,
                                     decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    made = []
    try:
        # The key file is created 0600 from the start, never readable by others even briefly.
        if overwrite and key_path.exists():
            key_path.unlink()
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        made.append(key_path)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        os.chmod(key_path, 0o600)
        made.append(crt_path)
        crt_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    except OSError as e:
        # what was written is incomplete (a full disk) or unpaired: removed, so that running
        # the command again is not refused for files that already exist
        for p in made:
            try:
                p.unlink()
            except OSError:
                pass
        raise InputError(f"cannot write {e.filename or out}: {e.strerror or e}") from None
    return key_path, crt_path


def certificate_fingerprint(crt_path: str | os.PathLike) -> str:
    """SHA-256 of the certificate's DER encoding, as colon-separated hex (to compare by phone)."""
    cert = _load_certificate(Path(crt_path))
    return der_fingerprint(cert.public_bytes(serialization.Encoding.DER))


def der_fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate as colon-separated upper-case hex."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _load_certificate(path: Path) -> x509.Certificate:
    return _load_certificates(path)[0]


def _load_certificates(path: Path) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read certificate {path}: {e.strerror or e}") from None
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        hint = " (it is a private key: --tls-cert and --peer-cert take .crt files)" if (
            b"PRIVATE KEY-----" in data) else ""
        raise InputError(f"{path} is not a PEM certificate{hint}") from None


def load_pin(path: str | os.PathLike) -> tuple[bytes, str]:
    """The one certificate of a ``--peer-cert`` file: its DER encoding and SHA-256 fingerprint.

    A file of several certificates (a chain, a bundle, a CA with its children) is refused:
    pinning trusts exactly one certificate, the peer's own."""
    path = Path(path)
    certs = _load_certificates(path)
    if len(certs) != 1:
        raise InputError(f"peer certificate {path} holds {len(certs)} certificates; pin exactly "
                         "one, the peer's own (its .crt from 'yaogc certs')")
    der = certs[0].public_bytes(serialization.Encoding.DER)
    return der, der_fingerprint(der)


class _EncryptedKey(Exception):
    """Raised by the password callback: the key file needs a pass phrase."""


def _no_password():
    raise _EncryptedKey


def _check_key(path: Path) -> None:
    """Refuse a key file that is unreadable or holds no PEM private key, naming the file."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read key {path}: {e.strerror or e}") from None
    if b"-----BEGIN" not in data or b"PRIVATE KEY-----" not in data:
        hint = " (it is a certificate: --tls-key takes the .key file)" if (
            b"BEGIN CERTIFICATE" in data) else ""
        raise InputError(f"{path} is not a PEM private key{hint}")


@dataclass(frozen=True)
class TLSConfig:
    """This party's certificate and key, and the peer certificate it pins."""

    cert: Path
    key: Path
    peer_cert: Path

    def __post_init__(self):
        for field in ("cert", "key", "peer_cert"):
            object.__setattr__(self, field, Path(getattr(self, field)))

    def context(self, server_side: bool) -> ssl.SSLContext:
        return make_context(self.cert, self.key, self.peer_cert, server_side=server_side)


def _need_file(what: str, p, whose: str = "") -> None:
    """Refuse a certificate or key path that is not a readable regular file, saying which."""
    path = Path(p)
    if path.is_file():
        return
    why = "is a directory, not a file" if path.is_dir() else \
        "is not a regular file" if path.exists() else "not found"
    raise InputError(f"{what} file {p}{whose} {why}")


def make_context(cert: str | os.PathLike, key: str | os.PathLike,
                 peer_cert: str | os.PathLike, *, server_side: bool) -> ssl.SSLContext:
    """An SSLContext for TLS 1.3 only, presenting ``cert``/``key``, trusting only ``peer_cert``."""
    for what, p in (("certificate", cert), ("key", key), ("peer certificate", peer_cert)):
        _need_file(what, p)
    ctx = _own_context(cert, key, server_side)
    ctx.yaogc_pin = _pin(ctx, peer_cert)  # compared with the peer's certificate after the handshake
    if ctx.yaogc_pin == ctx.yaogc_own:
        raise InputError(f"peer certificate {peer_cert} is this side's own certificate ({cert}): "
                         f"pin the peer's")
    return ctx


def make_pinned_context(cert: str | os.PathLike, key: str | os.PathLike,
                        peers: Mapping[str, str | os.PathLike], *,
                        server_side: bool) -> ssl.SSLContext:
    """Like :func:`make_context`, trusting each certificate of ``peers`` (name -> file).

    ``yaogc serve`` uses it for its data owners: the TLS handshake admits exactly the pinned
    certificates, and ``ctx.yaogc_names`` (fingerprint -> name) tells the caller whose
    certificate a connection presented, to compare with the party it claims to be."""
    for name, p in peers.items():
        _need_file("certificate", p, f" of {name}")
    ctx = _own_context(cert, key, server_side)
    names: dict[str, str] = {}
    for name, p in peers.items():
        fp = _pin(ctx, p)
        if fp == ctx.yaogc_own:
            raise InputError(f"{name} is pinned to this server's own certificate {p}; each "
                             "owner needs its own")
        if fp in names:
            raise InputError(f"{name} and {names[fp]} are pinned to the same certificate {p}; "
                             "each needs its own")
        names[fp] = name
    ctx.yaogc_pin = frozenset(names)
    ctx.yaogc_names = names
    return ctx


def _own_context(cert, key, server_side: bool) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    for what, p in (("certificate", cert), ("key", key)):
        _need_file(what, p)
    own = _load_certificate(Path(cert))
    _check_valid_now(own, cert)
    _check_key(Path(key))
    try:
        # the password callback refuses: OpenSSL would otherwise prompt on the terminal for the
        # pass phrase of an encrypted key (and hang a run without one)
        ctx.load_cert_chain(certfile=os.fspath(cert), keyfile=os.fspath(key),
                            password=_no_password)
    except _EncryptedKey:
        raise InputError(f"key {key} is encrypted with a pass phrase; give an unencrypted "
                         "key (e.g. from 'yaogc certs')") from None
    except ssl.SSLError as e:
        if e.reason == "KEY_VALUES_MISMATCH":
            raise InputError(f"key {key} does not belong to certificate {cert} (the key "
                             "does not match the certificate's public key)") from None
        raise InputError(f"cannot use certificate {cert} with key {key}: "
                         f"{e.reason or e}") from None
    except OSError as e:
        raise InputError(f"cannot read {e.filename or key}: {e.strerror or e}") from None
    # a pinned certificate is an end entity, not a CA: let it anchor a chain of itself alone
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    ctx.yaogc_own = der_fingerprint(own.public_bytes(serialization.Encoding.DER))
    return ctx


def _check_valid_now(cert: x509.Certificate, path) -> None:
    """Refuse this side's own certificate outside its validity period, naming the file: the
    peer would refuse it in the handshake, telling only itself why."""
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc)
    if now > cert.not_valid_after_utc:
        raise InputError(f"certificate {path} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} "
                         f"UTC (make a new pair with 'yaogc certs')")
    if now < cert.not_valid_before_utc:
        raise InputError(f"certificate {path} is not valid before "
                         f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")


def distinct_pins(pins: Mapping[str, str | os.PathLike]) -> None:
    """Refuse two roles pinned to one certificate (``pins``: what each is -> its file): one key
    holder could then play both, as two servers that collude, or as a peer and this side."""
    seen: dict[str, str] = {}
    for what, p in pins.items():
        if not Path(p).is_file():
            continue        # named by the context that reads it
        fp = certificate_fingerprint(p)
        if fp in seen:
            raise InputError(f"{what} and {seen[fp]} are the same certificate ({p}): each "
                             f"needs its own, or one key holder plays both")
        seen[fp] = what


def _pin(ctx: ssl.SSLContext, peer_cert) -> str:
    """Trust the one certificate in ``peer_cert``; return its fingerprint."""
    der, fingerprint = load_pin(peer_cert)
    try:
        ctx.load_verify_locations(cadata=der)
    except ssl.SSLError as e:
        raise InputError(f"cannot pin peer certificate {peer_cert}: {e.reason or e}") from None
    return fingerprint


def for_testing(ctx: ssl.SSLContext) -> ssl.SSLContext:
    """Mark a hand-made context as a deliberate test of weaker settings: the channel then uses
    it as it is, without requiring TLS 1.3, a peer certificate or a pin."""
    ctx.yaogc_testing = True
    return ctx


def check_context(ctx: ssl.SSLContext) -> str | None:
    """The pinned fingerprint of a context for the channel; refuse one weaker than
    :func:`make_context` makes (below TLS 1.3, no required peer certificate, no pin) unless
    it is marked by :func:`for_testing`."""
    if getattr(ctx, "yaogc_testing", False):
        return getattr(ctx, "yaogc_pin", None)
    weak = []
    low = ctx.minimum_version
    if low != ssl.TLSVersion.MAXIMUM_SUPPORTED and low < ssl.TLSVersion.TLSv1_3:
        weak.append("it allows TLS versions below 1.3")
    if ctx.verify_mode != ssl.CERT_REQUIRED:
        weak.append("it does not require the peer's certificate")
    if not getattr(ctx, "yaogc_pin", None):
        weak.append("it pins no certificate (build it with make_context or TLSConfig)")
    if weak:
        raise InputError("refusing a TLS context weaker than yaogc's defaults: "
                         + "; ".join(weak) + " (mark it with yaogc.runtime.tls.for_testing "
                         "for a deliberate test)")
    return ctx.yaogc_pin


# OpenSSL reason codes -> what they mean for a user of the two-party channel.
_REASONS = {
    "CERTIFICATE_VERIFY_FAILED": "the peer's certificate is not the pinned one",
    "TLSV1_ALERT_UNKNOWN_CA": "the peer rejected this side's certificate "
                              "(it pins a different one)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the peer rejected this side's certificate",
    "TLSV1_ALERT_DECRYPT_ERROR": "the peer rejected this side's certificate",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "the peer requires a client certificate and got none",
    "PEER_DID_NOT_RETURN_A_CERTIFICATE": "the peer presented no certificate",
    "WRONG_VERSION_NUMBER": "the peer is not speaking TLS (plain TCP on the other side?)",
    "RECORD_LAYER_FAILURE": "the peer is not speaking TLS (plain TCP on the other side?)",
    "HTTP_REQUEST": "the peer is not speaking TLS",
    "PACKET_LENGTH_TOO_LONG": "the peer is not speaking TLS (plain TCP on the other side?)",
    "UNSUPPORTED_PROTOCOL": "the peer does not support TLS 1.3",
    "TLSV1_ALERT_PROTOCOL_VERSION": "the peer does not support TLS 1.3",
    "NO_PROTOCOLS_AVAILABLE": "no TLS version in common with the peer (TLS 1.3 required)",
}


# X509_V_ERR_* codes whose cause is not the pin itself.
_VERIFY_CODES = {
    9: "the peer's certificate is not valid yet (check both clocks)",
    10: "the peer's certificate has expired (generate a new one and exchange it again)",
}


def describe_ssl_error(e: ssl.SSLError) -> str:
    """One line saying what a TLS failure means, with OpenSSL's own words in parentheses."""
    if isinstance(e, ssl.SSLCertVerificationError):
        meaning = _VERIFY_CODES.get(e.verify_code, _REASONS["CERTIFICATE_VERIFY_FAILED"])
        return f"{meaning} ({e.verify_message})"
    reason = getattr(e, "reason", None) or ""
    meaning = _REASONS.get(reason)
    raw = reason.lower().replace("_", " ") if reason else str(e)
    return f"{meaning} ({raw})" if meaning else f"TLS failure ({raw})"
