"""Tests for base OT (Chou-Orlandi on P-256) and IKNP/ALSZ OT extension."""

from __future__ import annotations

import queue
import secrets
import threading

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.errors import InputError
from yaogc.gc.aes import FixedKeyAES
from yaogc.runtime.bitmatrix import transpose_128
from yaogc.runtime.channel import memory_pair
from yaogc.runtime.net import connect, listen
from yaogc.runtime.errors import NetworkError, ProtocolError
from yaogc.runtime.ot_base import (N, P, OTError, base_ot_recv, base_ot_recv_chosen,
                                   base_ot_send, base_ot_send_chosen, decode_point,
                                   encode_point, point_add, point_neg)
from yaogc.runtime.ot_ext import OTExtReceiver, OTExtSender, _Workspace


def both(fa, fb):
    """Run fa in a thread and fb here; return both results, re-raising the first error."""
    box = {}

    def run():
        try:
            box["a"] = fa()
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            box["err"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    b = fb()
    t.join(30)
    assert not t.is_alive(), "the peer thread did not finish"
    if "err" in box:
        raise box["err"]
    return box["a"], b


def g_times(k: int):
    nums = ec.derive_private_key(k, ec.SECP256R1()).public_key().public_numbers()
    return nums.x, nums.y


def pair():
    return memory_pair(timeout=20)


def raw(ch, data):
    """Put one hand-made frame on the wire at once (the channel coalesces small frames)."""
    ch.send(data)
    ch.flush()


def rand_blocks(rng, m):
    return rng.integers(0, 2**64, size=(m, 2), dtype=np.uint64)


# -- P-256 arithmetic ---------------------------------------------------------------------
@settings(deadline=None, max_examples=25)
@given(st.integers(1, N - 1), st.integers(1, N - 1))
def test_point_add_matches_scalar_multiplication(a, b):
    s = g_times(a)
    t = g_times(b)
    want = None if (a + b) % N == 0 else g_times((a + b) % N)
    assert point_add(s, t) == want
    assert point_add(s, s) == g_times(2 * a % N)
    assert point_add(s, point_neg(s)) is None
    assert point_add(None, s) == s and point_add(s, None) == s


def test_decode_point_refuses_malformed_points():
    good = encode_point(g_times(12345))
    assert decode_point(good, "p") == g_times(12345)
    off_curve = bytearray(good)
    off_curve[-1] ^= 1
    with pytest.raises(OTError, match="not on the P-256 curve"):
        decode_point(bytes(off_curve), "p")
    with pytest.raises(OTError, match="not an uncompressed"):
        decode_point(b"\x02" + good[1:33], "p")
    with pytest.raises(OTError, match="not an uncompressed"):
        decode_point(b"\x00", "p")  # the identity's encoding
    out_of_field = b"\x04" + P.to_bytes(32, "big") + good[33:]
    with pytest.raises(OTError, match="not on the P-256 curve"):
        decode_point(out_of_field, "p")


# -- base OT --------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 5, 128])
def test_base_random_ot(n):
    a, b = pair()
    choices = [secrets.randbits(1) for _ in range(n)]
    keys, got = both(lambda: base_ot_send(a, n), lambda: base_ot_recv(b, choices))
    assert len(keys) == len(got) == n
    for (k0, k1), c, k in zip(keys, choices, got):
        assert len(k) == 16 and k0 != k1
        assert k == (k1 if c else k0)
    assert len({k for pair_ in keys for k in pair_}) == 2 * n


def test_base_chosen_ot():
    a, b = pair()
    pairs = [(secrets.token_bytes(16), secrets.token_bytes(16)) for _ in range(20)]
    choices = [i % 3 == 0 for i in range(20)]
    _, got = both(lambda: base_ot_send_chosen(a, pairs), lambda: base_ot_recv_chosen(b, choices))
    assert got == [m1 if c else m0 for (m0, m1), c in zip(pairs, choices)]


def test_base_ot_receiver_refuses_bad_sender_point():
    a, b = pair()
    bad = bytearray(encode_point(g_times(7)))
    bad[40] ^= 0xFF
    raw(a, bytes(bad))
    with pytest.raises(OTError, match="sender's point is not on the P-256 curve"):
        base_ot_recv(b, [0, 1])


def test_base_ot_sender_refuses_bad_receiver_points():
    # a receiver point off the curve
    a, b = pair()
    pts = bytearray(encode_point(g_times(3)) + encode_point(g_times(5)))
    pts[65 + 64] ^= 1
    raw(b, bytes(pts))
    with pytest.raises(OTError, match="point 1 from the receiver is not on the P-256 curve"):
        base_ot_send(a, 2)
    # a receiver point equal to the sender's A, which would make B - A the identity
    a, b = pair()

    def echo_a():
        a_enc = b.recv()
        raw(b, a_enc)

    with pytest.raises(OTError, match="equals the sender's point"):
        both(echo_a, lambda: base_ot_send(a, 1))


@pytest.mark.parametrize("extra", [-1, 1, 65])
def test_base_ot_refuses_wrong_sized_messages(extra):
    a, b = pair()
    raw(b, encode_point(g_times(9)) * 3 + b"\x04" * extra if extra > 0
           else (encode_point(g_times(9)) * 3)[:extra])
    with pytest.raises(OTError, match=r"receiver's points 0-2 has \d+ bytes, expected 195"):
        base_ot_send(a, 3)


def test_base_ot_refuses_bad_arguments():
    a, _ = pair()
    for bad in (0, -1, 1 << 17, 2.0, True):
        with pytest.raises(InputError):
            base_ot_send(a, bad)
    with pytest.raises(InputError, match="choice 1 is 2"):
        base_ot_recv(a, [0, 2])
    with pytest.raises(InputError, match="16-byte"):
        base_ot_send_chosen(a, [(b"x" * 16, b"y" * 15)])


# -- bit-matrix transpose ---------------------------------------------------------------------
@pytest.mark.parametrize("cols", [16, 48, 1024, 4096 * 2 + 16])
def test_transpose_matches_unpackbits(cols):
    mat = np.random.default_rng(cols).integers(0, 256, size=(128, cols), dtype=np.uint8)
    bits = np.unpackbits(mat, axis=1, bitorder="little")
    want = np.ascontiguousarray(np.packbits(bits.T, axis=1, bitorder="little")).view(np.uint64)
    assert np.array_equal(transpose_128(mat), want)
    out = np.empty((8 * cols, 2), dtype=np.uint64)
    assert transpose_128(mat, out) is out and np.array_equal(out, want)


def test_transpose_refuses_bad_shapes():
    for shape in ((128, 8), (64, 16), (128,)):
        with pytest.raises(ValueError, match="transpose_128 needs"):
            transpose_128(np.zeros(shape, dtype=np.uint8))


# -- OT extension ---------------------------------------------------------------------------
def ext_pair(chunk=1 << 16):
    a, b = pair()
    return OTExtSender(a, chunk), OTExtReceiver(b, chunk)


def chosen(sender, receiver, m0, m1, choices):
    return both(lambda: sender.send(m0, m1), lambda: receiver.recv(choices))[1]


@pytest.mark.parametrize("m", [1, 7, 128, 1000, 100_000])
def test_ext_chosen_messages(m):
    rng = np.random.default_rng(m)
    s, r = ext_pair()
    m0, m1 = rand_blocks(rng, m), rand_blocks(rng, m)
    c = rng.integers(0, 2, size=m, dtype=np.uint8)
    got = chosen(s, r, m0, m1, c)
    assert got.shape == (m, 2) and got.dtype == np.uint64
    assert np.array_equal(got, np.where(c[:, None] == 1, m1, m0))


@pytest.mark.parametrize("m", [1, 7, 128, 1000, 100_000])
def test_ext_correlated(m):
    rng = np.random.default_rng(m + 1)
    s, r = ext_pair()
    delta = rand_blocks(rng, 1)[0] | np.uint64(1)
    c = rng.integers(0, 2, size=m, dtype=np.uint8)
    zero, got = both(lambda: s.send_correlated(delta, m), lambda: r.recv_correlated(c))
    assert np.array_equal(got[c == 0], zero[c == 0])
    assert np.array_equal(got[c == 1], zero[c == 1] ^ delta)
    # the zero messages are fresh pseudo-random blocks, not a function of the index alone
    assert len(np.unique(zero.view(np.dtype((np.void, 16))))) == m


@settings(deadline=None, max_examples=15)
@given(st.lists(st.integers(0, 700), min_size=1, max_size=4), st.sampled_from([128, 256, 384]),
       st.integers(0, 2**32 - 1))
def test_ext_any_sizes_and_chunks(sizes, chunk, seed):
    rng = np.random.default_rng(seed)
    s, r = ext_pair(chunk)
    for m in sizes:
        m0, m1 = rand_blocks(rng, m), rand_blocks(rng, m)
        c = rng.integers(0, 2, size=m, dtype=np.uint8)
        assert np.array_equal(chosen(s, r, m0, m1, c), np.where(c[:, None] == 1, m1, m0))


def test_ext_over_loopback_tcp():
    ready = queue.Queue()
    box = {}

    def serve():
        box["ch"] = listen("127.0.0.1", 0, timeout=20, on_listening=lambda h, p: ready.put(p))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    b = connect("127.0.0.1", ready.get(timeout=20), timeout=20)
    t.join(20)
    a = box["ch"]
    try:
        rng = np.random.default_rng(9)
        s, r = OTExtSender(a, 1024), OTExtReceiver(b, 1024)
        for m in (5000, 300):
            m0, m1 = rand_blocks(rng, m), rand_blocks(rng, m)
            c = rng.integers(0, 2, size=m, dtype=np.uint8)
            assert np.array_equal(chosen(s, r, m0, m1, c), np.where(c[:, None] == 1, m1, m0))
    finally:
        a.close()
        b.close()


def test_ext_repeated_calls_share_one_session():
    rng = np.random.default_rng(5)
    s, r = ext_pair(chunk=256)  # several chunks per call, so the pipelining is exercised
    total = 0
    for m in (300, 1, 0, 1000, 256, 513):
        m0, m1 = rand_blocks(rng, m), rand_blocks(rng, m)
        c = rng.integers(0, 2, size=m).astype(bool)
        assert np.array_equal(chosen(s, r, m0, m1, c), np.where(c[:, None], m1, m0))
        delta = rand_blocks(rng, 1)[0]
        zero, got = both(lambda: s.send_correlated(delta.tobytes(), m),
                         lambda: r.recv_correlated(c))
        assert np.array_equal(got, np.where(c[:, None], zero ^ delta, zero))
        total += 2 * m
    assert s.index == r.index == total


def test_ext_tweaks_never_repeat_across_calls():
    # The OT index is the hash tweak; it keeps counting across calls and kinds, and stays in
    # the upper half of the tweak space so it never meets a gate tweak.
    s, r = ext_pair(chunk=128)
    seen = {"s": [], "r": []}
    for side, key in ((s, "s"), (r, "r")):
        orig = side._ws.tccr
        side._ws.tccr = (lambda orig, key: lambda aes, x, t, out: (
            seen[key].append(t.copy()), orig(aes, x, t, out))[1])(orig, key)
    z = np.zeros((200, 2), dtype=np.uint64)
    for _ in range(2):
        chosen(s, r, z, z, np.zeros(200, dtype=np.uint8))
        both(lambda: s.send_correlated(b"\1" * 16, 130), lambda: r.recv_correlated([1] * 130))
    rt = np.concatenate(seen["r"])
    st_ = np.concatenate(seen["s"])
    assert len(rt) == 660 and len(np.unique(rt)) == 660
    assert np.all(rt >= np.uint64(1 << 63))
    # the sender hashes q_i and q_i ^ s under the same tweak i as the receiver's t_i
    assert np.array_equal(np.unique(st_), np.unique(rt)) and len(st_) == 2 * len(rt)


def test_ext_hash_is_the_fixed_key_tccr():
    ws = _Workspace(256, 512)
    aes = FixedKeyAES()
    x = rand_blocks(np.random.default_rng(3), 300)
    tweaks = ws.tweaks_for(1000, 150, 2)
    assert np.array_equal(tweaks[:150], tweaks[150:])
    assert tweaks[0] == (1 << 63) + 1000 and tweaks[149] == (1 << 63) + 1149
    out = np.empty_like(x)
    assert np.array_equal(ws.tccr(aes, x, tweaks, out), aes.tccr(x, tweaks))


def recorded_u(choices, chunk=1 << 16):
    """The receiver's u frames (headers stripped) for one call, as bits (128, m_padded)."""
    s, r = ext_pair(chunk)
    both(s.setup, r.setup)
    frames = []
    orig = r.ch.send
    r.ch.send = lambda data: (frames.append(bytes(data)), orig(data))[1]
    m = len(choices)
    z = np.zeros((m, 2), dtype=np.uint64)
    chosen(s, r, z, z, choices)
    mats = [np.frombuffer(f, dtype=np.uint8, offset=24).reshape(128, -1) for f in frames]
    return np.unpackbits(np.concatenate(mats, axis=1), axis=1, bitorder="little")


@pytest.mark.parametrize("kind", ["zeros", "ones", "random"])
def test_ext_receiver_messages_do_not_reveal_choices(kind):
    m = 8192
    rng = np.random.default_rng(11)
    c = {"zeros": np.zeros(m, np.uint8), "ones": np.ones(m, np.uint8),
         "random": rng.integers(0, 2, size=m, dtype=np.uint8)}[kind]
    u = recorded_u(c)[:, :m]
    # every bit of u is a PRG bit: the overall and per-row bit frequencies are one half
    assert abs(u.mean() - 0.5) < 0.005
    assert np.all(np.abs(u.mean(axis=1) - 0.5) < 0.05)
    # and no row agrees with the choice vector more than chance
    agree = (u == c[None, :]).mean(axis=1)
    assert np.all(np.abs(agree - 0.5) < 0.05)


def test_ext_refuses_bad_arguments():
    s, r = ext_pair()
    good = np.zeros((4, 2), dtype=np.uint64)
    with pytest.raises(InputError, match="m0 must be an .m, 2. uint64 array"):
        s.send(good.astype(np.uint32), good)
    with pytest.raises(InputError, match="m1 must be"):
        s.send(good, np.zeros((4, 3), dtype=np.uint64))
    with pytest.raises(InputError, match="m0 has 4 messages but m1 has 5"):
        s.send(good, np.zeros((5, 2), dtype=np.uint64))
    with pytest.raises(InputError, match="m0 must be"):
        s.send([[0, 0]], good)
    with pytest.raises(InputError, match="delta"):
        s.send_correlated(b"short", 3)
    with pytest.raises(InputError, match="number of OTs"):
        s.send_correlated(b"x" * 16, -1)
    with pytest.raises(InputError, match="choice 2 is 2"):
        r.recv(np.array([0, 1, 2]))
    with pytest.raises(InputError, match="1-D array"):
        r.recv(np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(InputError, match="multiple of 128"):
        OTExtSender(s.ch, chunk=100)
    # nothing was sent: validation happens before any message
    assert s.ch.bytes_sent == r.ch.bytes_sent == 0


def set_up():
    s, r = ext_pair()
    both(s.setup, r.setup)
    return s, r


@pytest.mark.parametrize("delta", [-1, +1, -24 - 128 * 16])
def test_ext_sender_refuses_wrong_sized_frames(delta):
    s, r = set_up()
    frame = bytearray(24 + 128 * 16)
    frame[0] = 1  # chosen-message kind
    frame[8] = 100  # 100 OTs
    raw(r.ch, bytes(frame[:delta] if delta < 0 else frame + b"\0" * delta))
    with pytest.raises(OTError, match="receiver's frame"):
        s.send(np.zeros((100, 2), np.uint64), np.zeros((100, 2), np.uint64))


def test_ext_receiver_refuses_wrong_sized_reply():
    s, r = set_up()

    def bad_sender():
        s.ch.recv()
        raw(s.ch, b"\0" * (32 * 10 + 16))

    with pytest.raises(OTError, match=r"sender's frame for 10 OTs is malformed: expected 320 bytes.* sent 336"):
        both(bad_sender, lambda: r.recv(np.zeros(10, np.uint8)))


@pytest.mark.parametrize("case", ["count", "kind"])
def test_ext_sides_disagreeing_fail_clearly(case):
    s, r = set_up()
    z = np.zeros((10, 2), np.uint64)
    send = (lambda: s.send(z, z)) if case == "count" else (lambda: s.send_correlated(z[0], 10))
    recv = (lambda: r.recv(np.zeros(11, np.uint8))) if case == "count" else \
        (lambda: r.recv(np.zeros(10, np.uint8)))
    want = "receiver asked for 11 OTs, this side sends 10" if case == "count" else \
        "receiver asked for chosen-message OTs, this side sends correlated OTs"

    def sender_side():
        try:
            send()
        finally:
            s.ch.close()  # the receiver must then fail instead of waiting

    with pytest.raises(OTError, match=want):
        both(sender_side, lambda: pytest.raises(NetworkError, recv))


def test_ot_error_is_a_protocol_error():
    assert issubclass(OTError, ProtocolError) and OTError("x").exit_code == 3


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(1, N - 1), st.integers(1, N - 1)), min_size=1,
                max_size=6))
def test_batched_additions_and_lifts_match_single_ones(pairs):
    """``add_many`` is ``point_add`` row by row (doubling and identity included), and
    ``lift_many`` recovers k P in full from x(k P), x(k (P + Q)) and k Q."""
    from yaogc.runtime.ot_base import add_many, lift_many
    ps = [g_times(a) for a, _ in pairs]
    qs = [g_times(b) for _, b in pairs]
    qs[0] = ps[0]                        # a doubling
    if len(ps) > 1:
        qs[1] = point_neg(ps[1])         # a sum that is the identity
    assert add_many(ps, qs) == [point_add(p, q) for p, q in zip(ps, qs)]
    ys = [g_times(a * b % N) for a, b in pairs]          # k P with k = a, P = bG
    ks = [g_times(a * 5 % N) for a, _ in pairs]          # k Q with Q = 5G
    probes = [g_times(a * (b + 5) % N)[0] for a, b in pairs]
    keep = [i for i in range(len(pairs)) if ys[i][0] != ks[i][0]]
    got = lift_many([ys[i][0] for i in keep], [probes[i] for i in keep], [ks[i] for i in keep])
    assert got == [ys[i] for i in keep]


def test_base_ot_refuses_an_oversized_announcement_at_its_header():
    """A frame header announcing 10 MB where 195 bytes are due, and nothing after it: the
    sender waited for the body (up to its timeout, or longer for a trickled one)."""
    import struct
    import time
    a, b = memory_pair(timeout=3)
    b._t.sendall(struct.pack("<Q", 10**7))
    t0 = time.monotonic()
    with pytest.raises(OTError, match=r"receiver's points 0-2 has 10000000 bytes, expected 195"):
        base_ot_send(a, 3)
    assert time.monotonic() - t0 < 1


def test_ot_extension_refuses_an_oversized_announcement_at_its_header():
    import struct
    import time
    s, r = set_up()
    r.ch._t.sendall(struct.pack("<Q", 10**7))
    t0 = time.monotonic()
    with pytest.raises(OTError, match="receiver's frame for 100 OTs has 10000000 bytes, "
                                      "expected 2072"):
        s.send(np.zeros((100, 2), np.uint64), np.zeros((100, 2), np.uint64))
    assert time.monotonic() - t0 < 1
