"""Fixed-key AES, the TCCR hash and the AES-CTR PRG of yaogc.gc.aes."""

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from yaogc.gc.aes import FIXED_KEY, PRG, FixedKeyAES


def _ecb(key, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def test_permute_is_aes_under_the_fixed_key():
    x = PRG(b"\x01" * 16).blocks(37)
    got = FixedKeyAES().permute(x)
    assert got.tobytes() == _ecb(FIXED_KEY, x.tobytes())
    out = np.empty_like(x)
    assert FixedKeyAES().permute(x, out) is out and np.array_equal(out, got)
    y = x.copy()
    FixedKeyAES().permute(y, y)                  # in place, as the OT extension calls it
    assert np.array_equal(y, got)


def test_tccr_definition():
    aes = FixedKeyAES()
    x = PRG(b"\x02" * 16).blocks(9)
    t = np.arange(100, 109, dtype=np.uint64)
    px = np.frombuffer(_ecb(FIXED_KEY, x.tobytes()), dtype=np.uint64).reshape(-1, 2).copy()
    y = px.copy()
    y[:, 0] ^= t
    want = np.frombuffer(_ecb(FIXED_KEY, y.tobytes()), dtype=np.uint64).reshape(-1, 2) ^ px
    assert np.array_equal(aes.tccr(x, t), want)
    # the tweak matters, and not as an XOR into a single AES call's input
    assert not np.array_equal(aes.tccr(x, t), aes.tccr(x, t + np.uint64(1)))


def test_prg_seeded_and_fresh():
    a, b = PRG(b"\x03" * 16), PRG(b"\x03" * 16)
    assert np.array_equal(a.blocks(5), b.blocks(5))
    assert a.bytes(7) == b.bytes(7)
    assert not np.array_equal(PRG().blocks(4), PRG().blocks(4))
    bits = PRG(b"\x04" * 16).bits(1001)
    assert bits.shape == (1001,) and set(np.unique(bits)) <= {0, 1}
    assert 400 < int(bits.sum()) < 600


def test_prg_blocks_are_the_ctr_keystream_in_order():
    """blocks() is AES-128-CTR over zeros from counter 0, chunk after chunk, whatever the
    cryptography release (version 51 refuses the in-place encryption it once used)."""
    seed = bytes(range(16))
    enc = Cipher(algorithms.AES(seed), modes.CTR(b"\x00" * 16)).encryptor()
    want = np.frombuffer(enc.update(bytes(16 * 12)), dtype=np.uint64).reshape(12, 2)
    p = PRG(seed)
    got = np.concatenate([p.blocks(1), p.blocks(4), p.blocks(7)])
    assert np.array_equal(got, want)
    block = PRG(seed).blocks(3)
    assert block.flags["C_CONTIGUOUS"] and block.flags["WRITEABLE"] and block.shape == (3, 2)
