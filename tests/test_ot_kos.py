"""Tests for the KOS15 malicious-receiver OT extension (yaogc.runtime.ot_kos)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.runtime.bitmatrix import transpose_128
from yaogc.runtime.channel import memory_pair
from yaogc.runtime.errors import NetworkError, PeerAborted
from yaogc.runtime.ot_kos import (KAPPA, CheatingDetected, KOSReceiver, KOSSender, gf_inner,
                                  gf_mul, gf_reduce, gf_select)

from test_ot import both, rand_blocks

def outcomes(fa, fb):
    """Both sides' results or the exceptions they ended with."""
    def catch(f):
        try:
            return f()
        except NetworkError as e:
            return e
    return both(lambda: catch(fa), lambda: catch(fb))


blocks128 = st.integers(0, (1 << 128) - 1)


def clmul(a: int, b: int) -> int:
    z = 0
    for i in range(128):
        if b >> i & 1:
            z ^= a << i
    return z


@settings(deadline=None, max_examples=40)
@given(blocks128, blocks128, blocks128)
def test_gf_mul_is_a_field_multiplication(a, b, c):
    assert gf_mul(a, b) == gf_mul(b, a) == gf_reduce(clmul(a, b))
    assert gf_mul(a, b ^ c) == gf_mul(a, b) ^ gf_mul(a, c)
    assert gf_mul(a, 1) == a
    assert gf_mul(1 << 127, 2) == 0x87           # X^128 = X^7 + X^2 + X + 1


@settings(deadline=None, max_examples=10)
@given(st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_column_sums_match_row_by_row_sums(nblocks, seed):
    rng = np.random.default_rng(seed)
    n = 128 * nblocks
    chi_cols = rng.integers(0, 256, size=(KAPPA, n // 8), dtype=np.uint8)
    t_cols = rng.integers(0, 256, size=(KAPPA, n // 8), dtype=np.uint8)
    r = rng.integers(0, 2, size=n, dtype=np.uint8)
    chi_rows, t_rows = transpose_128(chi_cols), transpose_128(t_cols)
    as_int = lambda blk: int(blk[0]) | int(blk[1]) << 64
    want_t, want_x = 0, 0
    for i in range(n):
        want_t ^= gf_mul(as_int(chi_rows[i]), as_int(t_rows[i]))
        if r[i]:
            want_x ^= as_int(chi_rows[i])
    words = lambda c: np.ascontiguousarray(c).view("<u8")
    assert gf_inner(words(chi_cols), words(t_cols)) == want_t
    r_words = np.packbits(r, bitorder="little").view("<u8")
    assert gf_select(words(chi_cols), r_words) == want_x


@pytest.mark.parametrize("m,chunk", [(1, 1 << 16), (1000, 256), (5000, 1 << 16)])
def test_kos_chosen_and_correlated_agree_with_iknp_semantics(m, chunk):
    rng = np.random.default_rng(m)
    m0, m1 = rand_blocks(rng, m), rand_blocks(rng, m)
    c = rng.integers(0, 2, size=m)
    delta = rand_blocks(rng, 1)[0]
    a, b = memory_pair(timeout=20)
    s, r = KOSSender(a, chunk), KOSReceiver(b, chunk)

    def send():
        s.send(m0, m1)
        return s.send_correlated(delta, m)

    def recv():
        return r.recv(c), r.recv_correlated(c)

    zero, (got, got_c) = both(send, recv)
    assert np.array_equal(got, np.where(c[:, None] == 1, m1, m0))
    assert np.array_equal(got_c, zero ^ (c[:, None].astype(np.uint64) * delta))
    assert s.index == r.index == 2 * m


class ColumnCheater(KOSReceiver):
    """Puts flipped choice bits into some columns of u (the attack KOS15 detects)."""

    def __init__(self, ch, columns):
        super().__init__(ch, 1 << 12)
        self.columns = columns

    def _choice_columns(self, r_packed):
        cols = np.array(super()._choice_columns(r_packed))
        cols[self.columns, 0] ^= 1      # the first OT's choice differs in these columns
        return cols


def test_receiver_with_inconsistent_columns_is_caught():
    # caught unless s is zero at all 64 deviating columns: probability 2^-64 of escaping
    a, b = memory_pair(timeout=20)
    s, r = KOSSender(a, 1 << 12), ColumnCheater(b, list(range(0, 128, 2)))
    m = 300
    rng = np.random.default_rng(7)
    m0, m1 = rand_blocks(rng, m), rand_blocks(rng, m)
    sent, got = outcomes(lambda: s.send(m0, m1), lambda: r.recv(np.zeros(m, dtype=np.uint8)))
    assert isinstance(sent, CheatingDetected) and "deviated" in str(sent)
    assert isinstance(got, PeerAborted) and "KOS15" in str(got)


def test_one_inconsistent_column_is_caught_when_s_is_one_there():
    a, b = memory_pair(timeout=20)
    s = KOSSender(a, 1 << 12)
    r = ColumnCheater(b, [])
    both(s.setup, r.setup)
    j = int(s._s_rows[0])            # a column where the sender's secret bit is 1
    r.columns = [j]
    sent, got = outcomes(lambda: s.send_correlated(np.ones(2, np.uint64), 10),
                         lambda: r.recv_correlated(np.ones(10, dtype=np.uint8)))
    assert isinstance(sent, CheatingDetected) and isinstance(got, PeerAborted)
