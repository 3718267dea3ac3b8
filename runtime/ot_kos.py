"""OT extension with security against a malicious receiver: the KOS15 correlation check.

Protocol: Marcel Keller, Emmanuela Orsini and Peter Scholl, "Actively Secure OT Extension with
Optimal Overhead" (CRYPTO 2015, eprint 2015/546), on top of the IKNP/ALSZ extension of
:mod:`yaogc.runtime.ot_ext` (same base OTs, PRG, matrix transpose, tweaks and TCCR hash).

In IKNP a receiver that puts different choice bits in different columns of ``u`` (column j
carrying ``r^(j)`` instead of the one ``r``) makes the sender's rows ``q_i`` depend on single
bits of the sender's secret ``s``, and then learns ``s`` bit by bit from the hashed messages.
KOS15 closes this with a check before the sender uses any row:

1. the receiver extends ``n' = n + EXTRA`` OTs, the ``EXTRA >= kappa + sigma`` (128 + 40)
   rows past the ``n`` real ones with uniformly random choice bits, and sends ``u`` as in IKNP;
2. the sender replies with a fresh random 16-byte seed; both expand it (AES-128-CTR) into
   challenges ``chi_i`` in GF(2^128), one per row;
3. the receiver sends ``x = sum r_i chi_i`` and ``t = sum chi_i t_i`` (products in GF(2^128)
   modulo ``X^128 + X^7 + X^2 + X + 1``);
4. the sender checks ``sum chi_i q_i = t + x s`` and stops with :class:`CheatingDetected`
   otherwise; only then does it hash its rows and send its messages as in IKNP.

An honest receiver passes always (``q_i = t_i + r_i s``). A receiver with inconsistent columns
passes only if ``s`` is zero at every column where it deviated (probability ``2^-c`` for c
such columns) or by guessing: KOS15 (section 3) shows that what it may learn this way is a few
bits of ``s`` with that same probability of being caught, which the hash tolerates. The random
extra rows hide the real choice bits in ``x``. The check is run per chunk of OTs (each with its
own extra rows and challenge), which costs one more round trip per chunk.

The sums are computed on the column form of the matrices, vectorized over all OTs of a chunk:
the coefficient of ``X^(a+b)`` in ``sum chi_i t_i`` is the parity of ``popcount(chi column a
AND t column b)``, a 128 x 128 GF(2) matrix product on packed 64-bit words; the 255-bit sum
is then reduced once. This protects the OT extension against a malicious *receiver*; a
malicious sender can still send inconsistent messages (a selective failure on the receiver's
choices), which the dual-execution protocol that uses this module (:mod:`yaogc.runtime.dualex`)
accounts for. The base OTs are :mod:`yaogc.runtime.ot_base` (Chou-Orlandi with its checks),
which is not proven secure against a malicious party in the UC sense; this caveat carries over.
"""

from __future__ import annotations

import os
import secrets

import numpy as np

from yaogc.gc.aes import PRG
from yaogc.runtime.bitmatrix import pack_bits
from yaogc.runtime.errors import PeerDeviated, ProtocolError
from yaogc.runtime.ot_base import OTError
from yaogc.runtime.ot_ext import (_HEADER, KAPPA, OTExtReceiver, OTExtSender, _check_choices,
                                  _chunks, _expand, _Workspace)

EXTRA = 256            # rows per chunk with random choices: >= kappa + sigma, a multiple of 128
SEED_BYTES = 16
CHECK_BYTES = 32       # x and t, 16 bytes each
_POLY = (1 << 128) | 0x87   # X^128 + X^7 + X^2 + X + 1
_BLOCK_ROWS = 8        # challenge columns per step of the GF(2) product (bounds the temp array)


class CheatingDetected(PeerDeviated):
    """The receiver's OT extension matrix failed the KOS15 check: it deviated."""


# -- GF(2^128) arithmetic on Python ints (bit j = coefficient of X^j) -------------------------
def gf_reduce(z: int) -> int:
    """``z`` (a polynomial of degree < 255) modulo ``X^128 + X^7 + X^2 + X + 1``."""
    for bit in range(z.bit_length() - 1, 127, -1):
        if z >> bit & 1:
            z ^= _POLY << (bit - 128)
    return z


def gf_mul(a: int, b: int) -> int:
    """Product in GF(2^128)."""
    z = 0
    while b:
        low = b & -b
        z ^= a << (low.bit_length() - 1)
        b ^= low
    return gf_reduce(z)


def _parity(words: np.ndarray) -> np.ndarray:
    """Parity of each uint64, as 0/1 uint8."""
    w = words.copy()
    for shift in (32, 16, 8, 4, 2, 1):
        w ^= w >> np.uint64(shift)
    return (w & np.uint64(1)).astype(np.uint8)


def _as_words(cols: np.ndarray) -> np.ndarray:
    """A (128, C) uint8 column matrix as (128, C / 8) uint64 words (bit i of a column at word
    i // 64, position i % 64)."""
    return np.ascontiguousarray(cols).view("<u8")


def _int_of_bits(bits: np.ndarray) -> int:
    """128 bits (0/1, bit j first) as an int."""
    return int.from_bytes(np.packbits(bits, bitorder="little").tobytes(), "little")


def gf_inner(chi: np.ndarray, mat: np.ndarray) -> int:
    """``sum_i chi_i * m_i`` in GF(2^128), both given by columns: (128, W) uint64 words where
    bit i of column j is bit j of row i. One GF(2) product of the two 128 x n bit matrices."""
    coeff = np.empty((KAPPA, KAPPA), dtype=np.uint8)
    for a in range(0, KAPPA, _BLOCK_ROWS):
        prod = chi[a:a + _BLOCK_ROWS, None, :] & mat[None, :, :]
        coeff[a:a + _BLOCK_ROWS] = _parity(np.bitwise_xor.reduce(prod, axis=2))
    z = 0
    for a in range(KAPPA):       # coeff[a, b] is the coefficient of X^(a+b)
        z ^= _int_of_bits(coeff[a]) << a
    return gf_reduce(z)


def gf_select(chi: np.ndarray, bits: np.ndarray) -> int:
    """``sum_i r_i chi_i`` for packed bits ``r`` ((W,) uint64) and columns ``chi`` (128, W)."""
    return _int_of_bits(_parity(np.bitwise_xor.reduce(chi & bits[None, :], axis=1)))


def challenges(seed: bytes, cols: int) -> np.ndarray:
    """The challenges of a chunk of ``8 cols`` rows, by columns ((128, cols / 8) uint64)."""
    prg = PRG(seed)
    return np.frombuffer(prg.bytes(KAPPA * cols), dtype="<u8").reshape(KAPPA, cols // 8)


def _int_of_block(block: np.ndarray) -> int:
    return int(block[0]) | int(block[1]) << 64


def _padded(n: int) -> int:
    return -(-n // KAPPA) * KAPPA + EXTRA


class KOSSender(OTExtSender):
    """Extension sender that checks the receiver's consistency (KOS15) before every use."""

    def __init__(self, ch, chunk: int = 1 << 16):
        super().__init__(ch, chunk)
        self._ws = _Workspace(self.chunk + EXTRA, 2 * self.chunk)

    def setup(self) -> None:
        super().setup()
        self._s_int = _int_of_block(self._s)

    _padded = staticmethod(_padded)

    def _check_matrix(self, q_mat: np.ndarray, cols: int) -> None:
        seed = os.urandom(SEED_BYTES)
        self.ch.send(seed)
        self.ch.flush()
        try:
            reply = self.ch.recv_array(np.uint8, CHECK_BYTES)
        except ProtocolError as e:
            raise OTError(f"OT extension: the receiver's consistency check is malformed: "
                          f"{e.detail}") from None
        x = int.from_bytes(reply[:16].tobytes(), "little")
        t = int.from_bytes(reply[16:].tobytes(), "little")
        chi = challenges(seed, cols)
        if gf_inner(chi, _as_words(q_mat)) != t ^ gf_mul(x, self._s_int):
            # tell the peer, then stop: the rows must not be used (nor the session go on)
            self.ch.abort("this side detected a deviation in OT extension (KOS15 check)")
            raise CheatingDetected(
                "the peer deviated from the protocol: its OT extension matrix failed the KOS15 "
                "consistency check (choice bits differ between columns)", phase=self.ch.phase)


class KOSReceiver(OTExtReceiver):
    """Extension receiver that answers the sender's KOS15 consistency check."""

    def __init__(self, ch, chunk: int = 1 << 16):
        super().__init__(ch, chunk)
        self._ws = _Workspace(self.chunk + EXTRA, self.chunk)
        self._frame = np.empty(_HEADER.size + KAPPA * (self.chunk + EXTRA) // 8, dtype=np.uint8)

    def _run(self, kind: int, choices) -> np.ndarray:
        bits = _check_choices(choices)
        self.setup()
        out = np.empty((bits.size, 2), dtype=np.uint64)
        for start, n in _chunks(bits.size, self.chunk):
            own = bits[start:start + n]
            frame, h = self._prepare(kind, bits.size, own, self._h[0, :n])
            # the workspace matrix (t by columns) stays as it is until the next chunk
            cols = (frame.size - _HEADER.size) // KAPPA
            t_words = _as_words(self._ws.mat[:KAPPA * cols].reshape(KAPPA, cols))
            self.ch.send(frame)
            self.ch.flush()
            try:
                seed = self.ch.recv_array(np.uint8, SEED_BYTES).tobytes()
            except ProtocolError as e:
                raise OTError(f"OT extension: the sender's challenge is malformed: "
                              f"{e.detail}") from None
            self.ch.send(self._answer(seed, t_words))
            self.ch.flush()
            self._finish(kind, out, self._recv_reply(kind, n), start, n, own, h)
        return out

    _padded = staticmethod(_padded)

    @staticmethod
    def _choice_bits(bits: np.ndarray, n_pad: int) -> np.ndarray:
        """The real choices, then random ones for the extra rows: x then hides the real ones."""
        n = bits.size
        full = np.empty(n_pad, dtype=np.uint8)
        full[:n] = bits
        rand = np.frombuffer(secrets.token_bytes((n_pad - n + 7) // 8), dtype=np.uint8)
        full[n:] = np.unpackbits(rand)[:n_pad - n]
        return pack_bits(full, n_pad)

    def _answer(self, seed: bytes, t_words: np.ndarray) -> bytes:
        """x = sum r_i chi_i and t = sum chi_i t_i for the challenge expanded from ``seed``."""
        chi = challenges(seed, 8 * t_words.shape[1])
        x = gf_select(chi, self.r_packed.view("<u8"))
        t_sum = gf_inner(chi, t_words)
        return x.to_bytes(16, "little") + t_sum.to_bytes(16, "little")
