"""Fixed-key AES: the permutation pi, the TCCR hash built on it, and an AES-CTR PRG.

Blocks are 128-bit values held as ``(n, 2) uint64`` arrays (little-endian words).

The hash is the tweakable circular correlation-robust hash of Guo, Katz, Wang and Yu,
"Efficient and Secure Multiparty Computation from Fixed-Key Block Ciphers" (IEEE S&P 2020,
eprint 2019/074, section 7): ``H(x, i) = pi(pi(x) ^ i) ^ pi(x)`` with ``pi`` AES-128 under a
fixed public key. Two AES calls per hash. Never XOR the tweak into the input of a single AES
call instead: that variant is not tweakable correlation-robust.

The PRG is AES-128 in counter mode under a key from ``os.urandom``; it is what draws labels,
the global offset and OT seeds (it is about ten times faster than ``os.urandom`` for millions of
labels).
"""

from __future__ import annotations

import os

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# A fixed, public key: nothing-up-my-sleeve digits of pi. Its secrecy is not needed.
FIXED_KEY = bytes.fromhex("243f6a8885a308d313198a2e03707344")


class FixedKeyAES:
    """pi(x) = AES-128_K(x) under the fixed public key, applied to whole arrays at once."""

    def __init__(self, key: bytes = FIXED_KEY):
        self._enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
        self._buf = bytearray(0)

    @property
    def encryptor(self):
        """The raw ECB context: ``update_into(src, dst)`` applies pi to whole 16-byte blocks
        (dst needs 15 spare bytes); the garbling engine calls it on its own buffers."""
        return self._enc

    def permute(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """pi applied to every block of ``x`` ((n, 2) uint64, C-contiguous)."""
        x = np.ascontiguousarray(x, dtype=np.uint64)
        n = x.shape[0]
        nbytes = 16 * n
        src = x.view(np.uint8).reshape(-1)
        if out is None:
            # update_into wants 15 spare bytes: encrypt into one block more and return a view
            full = np.empty((n + 1, 2), dtype=np.uint64)
            self._enc.update_into(src, full.view(np.uint8).reshape(-1))
            return full[:n]
        # a caller's exact-size buffer (possibly x itself) goes through the scratch buffer
        if len(self._buf) < nbytes + 16:
            self._buf = bytearray(nbytes + 16)
        mv = memoryview(self._buf)
        self._enc.update_into(src, mv[:nbytes + 15])
        out.view(np.uint8).reshape(-1)[:] = np.frombuffer(self._buf, dtype=np.uint8, count=nbytes)
        return out

    def tccr(self, x: np.ndarray, tweaks: np.ndarray, out: np.ndarray | None = None,
             scratch: np.ndarray | None = None) -> np.ndarray:
        """H(x_k, t_k) = pi(pi(x_k) ^ t_k) ^ pi(x_k) for every row k; tweaks are uint64.

        ``out`` and ``scratch`` ((n, 2) uint64 each) let a caller hashing chunk after chunk
        reuse its buffers: fresh multi-megabyte arrays per call cost more in page faults than
        the AES itself."""
        px = self.permute(x, scratch)
        if out is None:
            out = px.copy()
        else:
            np.copyto(out, px)
        out[:, 0] ^= tweaks.astype(np.uint64, copy=False)
        self.permute(out, out)
        out ^= px
        return out


class PRG:
    """AES-128-CTR keystream as 128-bit blocks, seeded from os.urandom unless a seed is given.

    A given seed (16 bytes) makes the stream reproducible: OT extension expands shared seeds
    with it. Labels and R are drawn from a PRG seeded by ``os.urandom``.
    """

    def __init__(self, seed: bytes | None = None, *, testing: bool = False):
        # a caller's seed makes the stream known to the caller: fine for OT extension's
        # secret shared seeds, not for a garbler's labels unless ``testing`` says it is meant
        self.seeded = seed is not None
        self.testing = testing
        if seed is None:
            seed = os.urandom(16)
        if len(seed) != 16:
            raise ValueError("PRG seed must be 16 bytes")
        self._enc = Cipher(algorithms.AES(seed), modes.CTR(b"\x00" * 16)).encryptor()

    def bytes(self, n: int) -> bytes:
        return self._enc.update(b"\x00" * n)

    def blocks(self, n: int) -> np.ndarray:
        """n fresh pseudo-random 128-bit blocks as (n, 2) uint64."""
        # the keystream is the encryption of zeros; cryptography 51 refuses an output
        # buffer that overlaps the input, so the zeros are a buffer of their own, and the
        # output has the block of spare room update_into asks for
        zeros = np.zeros(16 * n, dtype=np.uint8)
        out = np.empty((n + 1, 2), dtype=np.uint64)
        self._enc.update_into(zeros, out.view(np.uint8).reshape(-1))
        return out[:n]

    def bits(self, n: int) -> np.ndarray:
        """n pseudo-random bits as a uint8 array of 0/1."""
        raw = np.frombuffer(self.bytes((n + 7) // 8), dtype=np.uint8)
        return np.unpackbits(raw, bitorder="little")[:n]
