"""Base oblivious transfer on P-256: the seeds from which OT extension grows.

Protocol: Tung Chou and Claudio Orlandi, "The Simplest Protocol for Oblivious Transfer"
(LATINCRYPT 2015, eprint 2015/267), batched so that each direction sends one message:

    sender                                   receiver (choice bits c_i)
    a <- Z_n,  A = aG        ---- A ---->
                             <--- B_i ---    b_i <- Z_n,  B_i = b_i G + c_i A
    k0_i = KDF(i, A, B_i, a B_i)             k_i = KDF(i, A, B_i, b_i A)
    k1_i = KDF(i, A, B_i, a (B_i - A))

The receiver's key equals k0_i when c_i = 0 and k1_i when c_i = 1; the other key stays
pseudo-random to it (computational Diffie-Hellman). ``B_i`` is a uniformly random point
whatever ``c_i`` is, so the sender learns nothing about the choices. Security holds against
semi-honest parties only (the model of the whole runtime); the protocol is not meant to be
UC-secure against a malicious sender. The checks below close one known cheat (a base-OT
receiver, the garbler in OT extension, making both keys equal and so reading the evaluator's
choice bits in the extension matrix); they do not make this OT secure against a party that
deviates in other ways. P-256 gives 128-bit security.

``cryptography`` offers scalar multiplication (``derive_private_key`` for kG, ECDH ``exchange``
for kP, which returns only the x-coordinate) but no point addition, so additions are done here
in Python integers in affine coordinates. The KDF hashes the whole shared point (both
coordinates), with the index and both public points (SHA-256, truncated to 128 bits): hashing
x alone would give ``k0 = k1`` for a receiver that sends ``B = 2^-1 A``, since then
``a (B - A) = -a B`` and ``x(P) = x(-P)``, and the extension's ``u`` would carry the
evaluator's choice bits in clear. The y-coordinate of ``kP`` is recovered from its x-coordinate
(a square root, two candidates ``±Y``) and one more exchange, ``x(k (P + Q))`` for a point
``Q`` whose multiple ``kQ`` this side knows: exactly one candidate satisfies
``x(Y + kQ) = x(k(P + Q))``. The sender gets ``a (B - A) = a B - a^2 G`` by one addition.
Every received point is checked to lie on the curve; the identity cannot be encoded as an
uncompressed point; ``B_i = A`` (``B_i - A`` the identity), ``2 B_i = A`` (``a B_i`` and
``a (B_i - A)`` of the same x) and ``B_i = -G`` are refused, none of which an honest receiver
sends but with negligible probability, and ``A = -G`` is refused by the receiver.
The receiver computes both of its candidate points ``b_i G`` and ``b_i G + A`` for every
choice and selects one, so its running time does not depend on the choice bits (which in OT
extension are the sender's secret ``s``); Python integers are not constant-time, so this
removes the data-dependent branch, not every timing difference.

Cost: two ECDH exchanges per OT for each side, one key derivation per OT for the receiver;
the point additions and the y-recoveries of all OTs share one modular inversion (Montgomery's
trick), and the receiver's points travel in messages of ``CHUNK`` so that the sender's
exchanges start while the receiver still draws points. Measured, 128 base OTs take about 18 ms
of CPU on each side (two processes over a socket pair), 41 ms with both sides in one process.

``ch`` is a ``yaogc.runtime.channel.Channel`` (``send``, ``recv``, ``flush``); malformed
messages from the peer raise ``OTError``, a ``ProtocolError`` (exit status 3).

The outputs are random OTs: ``base_ot_send`` returns key pairs and ``base_ot_recv`` the chosen
keys, which is what IKNP seeding needs. The ``*_chosen`` variants transfer chosen 16-byte
messages with one more message from the sender, each masked by its key.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric import ec

from yaogc.circuits.errors import InputError
from yaogc.runtime.errors import ProtocolError

# NIST P-256 (FIPS 186-4, D.1.2.3): y^2 = x^3 - 3x + b over GF(p), prime group order n.
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
     0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)

POINT_BYTES = 65  # uncompressed X9.62: 0x04 || x || y
KEY_BYTES = 16
CHUNK = 16  # receiver's points per message
_CURVE = ec.SECP256R1()
_KDF_DOMAIN = b"yaogc/base-ot/chou-orlandi/p256/v2"  # v2: the whole shared point
_HALF = pow(2, -1, N)  # a * 2^-1 G is the point 2B = A a cheating receiver would send


class OTError(ProtocolError):
    """The OT peer sent something malformed or inconsistent with this side's request."""


Point = tuple[int, int]


def _on_curve(pt: Point) -> bool:
    x, y = pt
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x - 3 * x + B)) % P == 0


def point_add(p1: Point | None, p2: Point | None) -> Point | None:
    """Affine addition on P-256; ``None`` is the identity."""
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    x1, y1 = p1
    x2, y2 = p2
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        lam = (3 * x1 * x1 - 3) * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return x3, (lam * (x1 - x3) - y1) % P


def point_neg(pt: Point) -> Point:
    return pt[0], (-pt[1]) % P


def encode_point(pt: Point) -> bytes:
    return b"\x04" + pt[0].to_bytes(32, "big") + pt[1].to_bytes(32, "big")


def decode_point(data: bytes | memoryview, what: str) -> Point:
    """Parse an uncompressed point and check it is on P-256 (hence not the identity)."""
    data = bytes(data)
    if len(data) != POINT_BYTES or data[0] != 4:
        raise OTError(f"base OT: {what} is not an uncompressed P-256 point "
                      f"({len(data)} bytes, first byte {data[:1].hex() or 'none'})")
    pt = (int.from_bytes(data[1:33], "big"), int.from_bytes(data[33:], "big"))
    if not _on_curve(pt):
        raise OTError(f"base OT: {what} is not on the P-256 curve")
    return pt


def _public_key(pt: Point) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicNumbers(pt[0], pt[1], _CURVE).public_key()


def _random_scalar() -> int:
    return secrets.randbelow(N - 1) + 1


def _keypair() -> tuple[ec.EllipticCurvePrivateKey, Point]:
    k = ec.derive_private_key(_random_scalar(), _CURVE)
    nums = k.public_key().public_numbers()
    return k, (nums.x, nums.y)


def _kdf(index: int, a_enc: bytes, b_enc: bytes, shared: Point) -> bytes:
    """SHA-256 over the domain, the index, both public points and the whole shared point."""
    h = hashlib.sha256(_KDF_DOMAIN)
    h.update(index.to_bytes(4, "big"))
    h.update(a_enc)
    h.update(b_enc)
    h.update(encode_point(shared))
    return h.digest()[:KEY_BYTES]


def _exchange_x(priv: ec.EllipticCurvePrivateKey, pt: Point) -> int:
    """x(k P) for this side's secret k: ECDH returns the x-coordinate only."""
    return int.from_bytes(priv.exchange(ec.ECDH(), _public_key(pt)), "big")


def _inverses(vals: Sequence[int]) -> list[int]:
    """Modular inverses mod P of many nonzero values with one exponentiation (Montgomery's
    trick): a Python ``pow(v, -1, P)`` per value costs more than the rest of a point addition."""
    prefix, acc = [], 1
    for v in vals:
        prefix.append(acc)
        acc = acc * v % P
    inv = pow(acc, -1, P)
    out = [0] * len(vals)
    for i in range(len(vals) - 1, -1, -1):
        out[i] = inv * prefix[i] % P
        inv = inv * vals[i] % P
    return out


def add_many(ps: Sequence[Point], qs: Sequence[Point]) -> list[Point | None]:
    """``[p + q for p, q in zip(ps, qs)]`` with the inversions of all additions batched.

    Pairs of equal abscissa (doubling, or a sum that is the identity) go through
    ``point_add``; every other pair shares one modular inversion."""
    out: list[Point | None] = [None] * len(ps)
    idx = [i for i in range(len(ps)) if ps[i][0] != qs[i][0]]
    invs = _inverses([(qs[i][0] - ps[i][0]) % P for i in idx])
    for i, inv in zip(idx, invs):
        (x1, y1), (x2, y2) = ps[i], qs[i]
        lam = (y2 - y1) * inv % P
        x3 = (lam * lam - x1 - x2) % P
        out[i] = (x3, (lam * (x1 - x3) - y1) % P)
    for i in range(len(ps)):
        if ps[i][0] == qs[i][0]:
            out[i] = point_add(ps[i], qs[i])
    return out


def lift_many(xs: Sequence[int], probe_xs: Sequence[int],
              knowns: Sequence[Point]) -> list[Point]:
    """The points Y_i with x(Y_i) = ``xs[i]`` and x(Y_i + ``knowns[i]``) = ``probe_xs[i]``.

    ``xs[i]`` is x(kP) and ``probe_xs[i]`` is x(k(P + Q)) with ``knowns[i]`` = kQ. Of the two
    points of abscissa x, +Y and -Y, only one satisfies the probe: x(Y + K) = x(-Y + K) would
    need 2Y or 2K to be the identity, which no point of prime order allows. The chord through
    Y = (x, y) and K = (xk, yk) gives x(Y + K) = lam^2 - x - xk with lam = (yk - y)/(xk - x),
    so (yk - y)^2 = (probe_x + x + xk)(xk - x)^2; with y^2 = x^3 - 3x + b on the curve this
    is linear in y: y = (yk^2 + y^2 - (probe_x + x + xk)(xk - x)^2) / (2 yk). One batched
    inversion for all points, where a square root per point costs a 256-bit exponentiation."""
    invs = _inverses([2 * k[1] % P for k in knowns])  # yk != 0: no point of order 2
    out = []
    for x, px, (xk, yk), inv in zip(xs, probe_xs, knowns, invs):
        if x == xk:
            raise OTError("base OT: the shared point could not be recovered (Y = +-K)")
        rhs = (x * x * x - 3 * x + B) % P
        d = (xk - x) % P
        y = (yk * yk + rhs - (px + x + xk) * d * d) * inv % P
        if y * y % P != rhs:
            raise OTError("base OT: the shared point could not be recovered "
                          "(inconsistent exchange)")
        out.append((x, y))
    return out


def _check_count(n: int, what: str) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 1 << 16:
        raise InputError(f"base OT: {what} must be an int between 1 and 65536, got {n!r}")


def _recv_exact(ch, size: int, what: str) -> bytes:
    try:   # a larger announced frame is refused at its header
        data = ch.recv(limit=size)
    except ProtocolError as e:
        if getattr(e, "announced", None) is None:
            raise
        raise OTError(f"base OT: {what} has {e.announced} bytes, expected {size}",
                      phase=e.phase) from None
    if len(data) != size:
        raise OTError(f"base OT: {what} has {len(data)} bytes, expected {size}")
    return data


def base_ot_send(ch, n: int) -> list[tuple[bytes, bytes]]:
    """Sender of ``n`` random OTs: returns ``n`` pairs of 16-byte keys ``(k0, k1)``."""
    _check_count(n, "the number of base OTs")
    a = _random_scalar()
    priv = ec.derive_private_key(a, _CURVE)
    nums = priv.public_key().public_numbers()
    a_pt = (nums.x, nums.y)
    a_enc = encode_point(a_pt)
    ch.send(a_enc)
    ch.flush()
    # a (B - A) = a B - a^2 G: one addition once a B is known in full
    aa_nums = ec.derive_private_key(a * a % N, _CURVE).public_key().public_numbers()
    neg_aa = point_neg((aa_nums.x, aa_nums.y))
    half_nums = ec.derive_private_key(a * _HALF % N, _CURVE).public_key().public_numbers()
    half_a = (half_nums.x, half_nums.y)
    keys = []
    for lo, hi in _chunks(n):
        msg = _recv_exact(ch, (hi - lo) * POINT_BYTES, f"the receiver's points {lo}-{hi - 1}")
        b_encs = [msg[i * POINT_BYTES:(i + 1) * POINT_BYTES] for i in range(hi - lo)]
        b_pts = [decode_point(b_enc, f"point {lo + i} from the receiver")
                 for i, b_enc in enumerate(b_encs)]
        b_plus_g = _check_receiver_points(b_pts, a_pt, half_a, lo)
        # a (B + G) = a B + A tells the sign of a B's y-coordinate
        s0 = lift_many([_exchange_x(priv, b) for b in b_pts],
                       [_exchange_x(priv, bg) for bg in b_plus_g], [a_pt] * len(b_pts))
        s1 = add_many(s0, [neg_aa] * len(s0))
        keys += [(_kdf(lo + i, a_enc, b_enc, p0), _kdf(lo + i, a_enc, b_enc, p1))
                 for i, (b_enc, p0, p1) in enumerate(zip(b_encs, s0, s1))]
    return keys


def _chunks(n: int) -> list[tuple[int, int]]:
    """The receiver's points travel in messages of CHUNK points, so that the sender starts
    its exchanges while the receiver still draws the later points."""
    return [(lo, min(lo + CHUNK, n)) for lo in range(0, n, CHUNK)]


def _check_receiver_points(b_pts: list[Point], a_pt: Point, half_a: Point,
                           first: int) -> list[Point]:
    """Refuse the points no honest receiver sends but with negligible probability; returns
    B + G for each. ``first`` is the index of ``b_pts[0]`` among all the receiver's points."""
    for i, b_pt in enumerate(b_pts, first):
        if b_pt == a_pt:
            raise OTError(f"base OT: point {i} from the receiver equals the sender's point")
        if b_pt == half_a:
            # a B and a (B - A) = -a B would share their x-coordinate: k0 = k1 under an
            # x-only KDF
            raise OTError(f"base OT: point {i} from the receiver is half the sender's point "
                          "(2B = A), which would make both keys equal")
    b_plus_g = add_many(b_pts, [G] * len(b_pts))
    for i, bg in enumerate(b_plus_g, first):
        if bg is None:
            raise OTError(f"base OT: point {i} from the receiver is -G")
    return b_plus_g


def base_ot_recv(ch, choices: Sequence[int]) -> list[bytes]:
    """Receiver of random OTs: returns the 16-byte key ``k_{c_i}`` for each choice bit."""
    choices = _check_choices(choices)
    a_enc = _recv_exact(ch, POINT_BYTES, "the sender's point")
    a_pt = decode_point(a_enc, "the sender's point")
    a_plus_g = point_add(a_pt, G)
    if a_plus_g is None:
        raise OTError("base OT: the sender's point is -G")
    n = len(choices)
    privs, raws, encs = [], [], []
    for lo, hi in _chunks(n):
        while len(raws) < hi:
            priv, raw = _keypair()
            if raw[0] != a_pt[0]:  # b G = +-A: negligible; redrawn whatever the choice bit
                privs.append(priv)
                raws.append(raw)
        # both candidates b G and b G + A are computed whatever the choice is, so that the
        # work done does not depend on the choice bits
        plus_a = add_many(raws[lo:hi], [a_pt] * (hi - lo))
        encs += [encode_point((raws[i], plus_a[i - lo])[choices[i]]) for i in range(lo, hi)]
        ch.send(b"".join(encs[lo:hi]))
        ch.flush()  # the sender runs its exchanges on these while this side draws the next
    # b A in full: x(b A), and x(b (A + G)) = x(b A + b G) for the sign of its y-coordinate
    shared = lift_many([_exchange_x(p, a_pt) for p in privs],
                       [_exchange_x(p, a_plus_g) for p in privs], raws)
    return [_kdf(i, a_enc, encs[i], shared[i]) for i in range(n)]


def _check_choices(choices: Sequence[int]) -> list[int]:
    try:
        bits = [int(c) for c in choices]
    except (TypeError, ValueError):
        raise InputError("base OT: choices must be a sequence of 0/1 bits") from None
    _check_count(len(bits), "the number of choice bits")
    bad = [i for i, c in enumerate(bits) if c not in (0, 1)]
    if bad:
        raise InputError(f"base OT: choice {bad[0]} is {bits[bad[0]]}, not a bit")
    return bits


def _xor16(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "little") ^ int.from_bytes(b, "little")).to_bytes(16, "little")


def base_ot_send_chosen(ch, pairs: Sequence[tuple[bytes, bytes]]) -> None:
    """Sender of chosen-message OTs on 16-byte messages ``(m0, m1)``."""
    for i, pair in enumerate(pairs):
        if len(pair) != 2 or any(not isinstance(m, (bytes, bytearray)) or len(m) != KEY_BYTES
                                 for m in pair):
            raise InputError(f"base OT: message pair {i} must be two 16-byte strings")
    keys = base_ot_send(ch, len(pairs))
    ch.send(b"".join(_xor16(m0, k0) + _xor16(m1, k1)
                     for (m0, m1), (k0, k1) in zip(pairs, keys)))
    ch.flush()


def base_ot_recv_chosen(ch, choices: Sequence[int]) -> list[bytes]:
    """Receiver of chosen-message OTs: returns ``m_{c_i}`` for each choice bit."""
    bits = _check_choices(choices)
    keys = base_ot_recv(ch, bits)
    msg = _recv_exact(ch, 2 * KEY_BYTES * len(bits), "the masked messages")
    out = []
    for i, (c, k) in enumerate(zip(bits, keys)):
        off = (2 * i + c) * KEY_BYTES
        out.append(_xor16(msg[off:off + KEY_BYTES], k))
    return out
