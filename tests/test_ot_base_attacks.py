"""Base OT against a cheating peer: the KDF hashes the whole shared point, the points that
would make both keys equal are refused, and the receiver's work does not follow its choices."""

from __future__ import annotations

import hashlib
import secrets

import pytest

from test_ot import both, g_times, pair, raw
from yaogc.runtime import ot_base
from yaogc.runtime.ot_base import (N, OTError, base_ot_recv, base_ot_send, decode_point,
                                   encode_point, point_add, point_neg)


def times(k: int, pt):
    """k * pt by double-and-add in affine coordinates (slow; for tests only)."""
    out, add = None, pt
    while k:
        if k & 1:
            out = point_add(out, add)
        add = point_add(add, add)
        k >>= 1
    return out


def full_point_key(i, a_enc, b_enc, shared):
    h = hashlib.sha256(b"yaogc/base-ot/chou-orlandi/p256/v2")
    h.update(i.to_bytes(4, "big") + a_enc + b_enc + encode_point(shared))
    return h.digest()[:16]


def test_sender_refuses_the_receiver_point_half_of_a():
    """B = 2^-1 A gives a B = -a (B - A): the same x-coordinate, hence k0 = k1 if only x were
    hashed, and the extension's u would show the choice bits in clear."""
    a, b = pair()

    def cheat():
        a_pt = decode_point(b.recv(), "A")
        half = times(pow(2, -1, N), a_pt)
        assert point_add(half, half) == a_pt
        raw(b, encode_point(times(5, a_pt)) + encode_point(half))

    with pytest.raises(OTError, match=r"point 1 from the receiver is half the sender's point"):
        both(cheat, lambda: base_ot_send(a, 2))


def test_receiver_keys_hash_the_whole_shared_point():
    """A sender whose secret the test knows: the receiver's key is SHA-256 of the transcript
    and of b A with both coordinates, so keys of P and -P differ."""
    a_ch, b_ch = pair()
    a = secrets.randbelow(N - 1) + 1
    a_pt = g_times(a)
    choices = [0, 1, 1, 0, 1]

    def sender():
        raw(a_ch, encode_point(a_pt))
        return a_ch.recv()

    pts, keys = both(sender, lambda: base_ot_recv(b_ch, choices))
    a_enc = encode_point(a_pt)
    for i, c in enumerate(choices):
        b_enc = pts[65 * i:65 * (i + 1)]
        b_pt = decode_point(b_enc, "B")
        shared = times(a, b_pt if c == 0 else point_add(b_pt, point_neg(a_pt)))
        assert keys[i] == full_point_key(i, a_enc, b_enc, shared)
        assert keys[i] != full_point_key(i, a_enc, b_enc, point_neg(shared))


def test_sender_keys_hash_the_whole_shared_point(monkeypatch):
    a_ch, b_ch = pair()
    a = secrets.randbelow(N - 1) + 1
    monkeypatch.setattr(ot_base, "_random_scalar", lambda: a)
    a_pt = g_times(a)
    b_pts = [g_times(secrets.randbelow(N - 1) + 1) for _ in range(3)]

    def receiver():
        b_ch.recv()
        raw(b_ch, b"".join(encode_point(p) for p in b_pts))

    _, keys = both(receiver, lambda: base_ot_send(a_ch, 3))
    a_enc = encode_point(a_pt)
    for i, (bp, (k0, k1)) in enumerate(zip(b_pts, keys)):
        assert k0 == full_point_key(i, a_enc, encode_point(bp), times(a, bp))
        assert k1 == full_point_key(i, a_enc, encode_point(bp),
                                    times(a, point_add(bp, point_neg(a_pt))))


def test_receiver_work_does_not_follow_the_choice_bits(monkeypatch):
    """As many point additions for choices all 0 as for all 1 (in OT extension the choices
    are the sender's secret s; a branch on them leaks its Hamming weight by timing)."""
    counts = {}
    for bit in (0, 1):
        calls = [0, 0]
        real_add, real_many = ot_base.point_add, ot_base.add_many

        def counting(p, q, real=real_add, calls=calls):
            calls[0] += 1
            return real(p, q)

        def counting_many(ps, qs, real=real_many, calls=calls):
            calls[1] += len(ps)
            return real(ps, qs)

        monkeypatch.setattr(ot_base, "point_add", counting)
        monkeypatch.setattr(ot_base, "add_many", counting_many)
        a, b = pair()
        a_pt = g_times(7)

        def fake_sender():
            raw(a, encode_point(a_pt))
            a.recv()

        both(fake_sender, lambda: base_ot_recv(b, [bit] * 8))
        monkeypatch.undo()
        counts[bit] = tuple(calls)
    assert counts[0] == counts[1]
    assert counts[0][1] >= 8  # both candidates of every choice were made
