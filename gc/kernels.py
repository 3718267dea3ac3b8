"""The native half-gates kernels: numba-compiled loops over a Schedule's steps, with AES-NI.

Imported only by :mod:`yaogc.gc.native`, and only once the native engine has been chosen:
importing numba costs a few hundred milliseconds, more than a small run takes on the numpy
engine. The kernels are compiled on first use and cached on disk (``cache=True``), so the
compile cost is paid once per machine.

The AES rounds are LLVM's ``llvm.x86.aesni.aesenc`` / ``aesenclast`` on ``<2 x i64>``
values, emitted by numba ``@intrinsic`` functions; a block is a pair of uint64 words (low word
first, the colour bit in bit 0 of the low word), so memory holds exactly the bytes that
``cryptography``'s AES-128-ECB would read: the hash, tweaks and table layout are those of the
numpy engine (:mod:`yaogc.gc.engine`), and the two engines interoperate.

A garbled AND gate hashes four independent blocks (A0, A1, B0, B1) twice each; the four AES
chains of a gate, and those of the gates after it, are independent, so the core keeps several
``aesenc`` in flight.

Program arrays (from :func:`yaogc.gc.native.program`): per step ``kind`` (0 XOR, 1 AND),
``start`` slot, ``count``, ``arity``, ``ioff`` (where its slot indices begin in ``idx``: an
XOR step's ``(arity, count)``, an AND step's ``(arity, 2, count)``, flattened C-order) and
``aoff`` (AND gates of earlier layers). The store holds ``K`` labels per slot, word-interleaved:
slot s, instance k at words ``2 (s K + k)`` and ``2 (s K + k) + 1``.
"""

from __future__ import annotations

import numpy as np

from yaogc.circuits.jit import load_numba

load_numba()  # before numba's array registry loads: see load_numba
from llvmlite import ir  # noqa: E402
from numba import njit, types  # noqa: E402
from numba.extending import intrinsic  # noqa: E402

_VEC = ir.VectorType(ir.IntType(64), 2)
_BLOCK = types.UniTuple(types.uint64, 2)


def _aes_round(name: str):
    """An intrinsic (state, round key) -> state for the x86 AES instruction ``name``."""

    @intrinsic
    def rnd(typingctx, state, key):
        if state != _BLOCK or key != _BLOCK:
            return None

        def codegen(context, builder, sig, args):
            fn = builder.module.declare_intrinsic(f"llvm.x86.aesni.{name}", fnty=ir.FunctionType(
                _VEC, [_VEC, _VEC]))
            vecs = []
            for a in args:
                v = ir.Constant(_VEC, ir.Undefined)
                for w in range(2):
                    v = builder.insert_element(v, builder.extract_value(a, w),
                                               ir.Constant(ir.IntType(32), w))
                vecs.append(v)
            out = builder.call(fn, vecs)
            words = [builder.extract_element(out, ir.Constant(ir.IntType(32), w)) for w in (0, 1)]
            return context.make_tuple(builder, sig.return_type, words)

        return _BLOCK(state, key), codegen

    return rnd


aesenc = _aes_round("aesenc")
aesenclast = _aes_round("aesenclast")

_OPTS = {"cache": True, "nogil": True, "error_model": "numpy", "boundscheck": False}


@njit(inline="always", **_OPTS)
def _pi(x, k):
    """AES-128 under the expanded key ``k`` (11 round keys) of one block."""
    s = (x[0] ^ k[0][0], x[1] ^ k[0][1])
    s = aesenc(s, k[1])
    s = aesenc(s, k[2])
    s = aesenc(s, k[3])
    s = aesenc(s, k[4])
    s = aesenc(s, k[5])
    s = aesenc(s, k[6])
    s = aesenc(s, k[7])
    s = aesenc(s, k[8])
    s = aesenc(s, k[9])
    return aesenclast(s, k[10])


@njit(inline="always", **_OPTS)
def _h(x, t, k):
    """The TCCR hash H(x, t) = pi(pi(x) ^ t) ^ pi(x), tweak t in the low word."""
    p = _pi(x, k)
    q = _pi((p[0] ^ t, p[1]), k)
    return (q[0] ^ p[0], q[1] ^ p[1])


@njit(inline="always", **_OPTS)
def _keys(rk):
    """The 11 round keys of an (11, 2) uint64 array as a tuple of blocks."""
    return ((rk[0, 0], rk[0, 1]), (rk[1, 0], rk[1, 1]), (rk[2, 0], rk[2, 1]),
            (rk[3, 0], rk[3, 1]), (rk[4, 0], rk[4, 1]), (rk[5, 0], rk[5, 1]),
            (rk[6, 0], rk[6, 1]), (rk[7, 0], rk[7, 1]), (rk[8, 0], rk[8, 1]),
            (rk[9, 0], rk[9, 1]), (rk[10, 0], rk[10, 1]))


@njit(inline="always", **_OPTS)
def _gather(store, idx, base, stride, arity, kk, k):
    """XOR over the arity rows idx[base + r * stride] of the store's labels (instance k)."""
    x0 = np.uint64(0)
    x1 = np.uint64(0)
    for r in range(arity):
        w = 2 * (idx[base + r * stride] * kk + k)
        x0 ^= store[w]
        x1 ^= store[w + 1]
    return (x0, x1)


@njit(**_OPTS)
def _xor_step(store, kk, start, n, arity, idx, io):
    for i in range(n):
        for k in range(kk):
            x = _gather(store, idx, io + i, n, arity, kk, k)
            d = 2 * ((start + i) * kk + k)
            store[d] = x[0]
            store[d + 1] = x[1]


@njit(**_OPTS)
def pi_blocks(rk, src, dst):
    """dst[i] = pi(src[i]) for (n, 2) uint64 arrays (tests compare it with cryptography)."""
    k = _keys(rk)
    for i in range(src.shape[0]):
        y = _pi((src[i, 0], src[i, 1]), k)
        dst[i, 0] = y[0]
        dst[i, 1] = y[1]


@njit(**_OPTS)
def tccr_blocks(rk, src, tweaks, dst):
    """dst[i] = H(src[i], tweaks[i]) (tests compare it with the numpy hash)."""
    k = _keys(rk)
    for i in range(src.shape[0]):
        y = _h((src[i, 0], src[i, 1]), tweaks[i], k)
        dst[i, 0] = y[0]
        dst[i, 1] = y[1]


@njit(**_OPTS)
def garble(rk, store, kk, r_lo, r_hi, kind, start, count, arity, ioff, aoff, idx, s_lo, s_hi,
           tweak_start, tables):
    """Run steps s_lo .. s_hi - 1 of a program as the garbler, writing each AND layer's
    (2, n, K, 2) block [TG | TE] into ``tables`` back to back; returns the words written."""
    k_ = _keys(rk)
    one = np.uint64(1)
    zero = np.uint64(0)
    pos = 0
    for s in range(s_lo, s_hi):
        n = count[s]
        ar = arity[s]
        io = ioff[s]
        st = start[s]
        if kind[s] == 0:
            _xor_step(store, kk, st, n, ar, idx, io)
            continue
        te = pos + 2 * n * kk
        j0 = tweak_start + aoff[s] * kk
        for i in range(n):
            for k in range(kk):
                a0 = _gather(store, idx, io + i, 2 * n, ar, kk, k)
                b0 = _gather(store, idx, io + n + i, 2 * n, ar, kk, k)
                ta = np.uint64(2 * (j0 + i * kk + k))
                tb = ta + one
                ma = zero - (a0[0] & one)      # all ones when pa = 1
                mb = zero - (b0[0] & one)
                ha0 = _h(a0, ta, k_)
                ha1 = _h((a0[0] ^ r_lo, a0[1] ^ r_hi), ta, k_)
                hb0 = _h(b0, tb, k_)
                hb1 = _h((b0[0] ^ r_lo, b0[1] ^ r_hi), tb, k_)
                tg0 = ha0[0] ^ ha1[0] ^ (mb & r_lo)
                tg1 = ha0[1] ^ ha1[1] ^ (mb & r_hi)
                e0 = hb0[0] ^ hb1[0]            # TE ^ A0
                e1 = hb0[1] ^ hb1[1]
                w = 2 * (i * kk + k)
                tables[pos + w] = tg0
                tables[pos + w + 1] = tg1
                tables[te + w] = e0 ^ a0[0]
                tables[te + w + 1] = e1 ^ a0[1]
                d = 2 * ((st + i) * kk + k)
                store[d] = ha0[0] ^ (ma & tg0) ^ hb0[0] ^ (mb & e0)
                store[d + 1] = ha0[1] ^ (ma & tg1) ^ hb0[1] ^ (mb & e1)
        pos += 4 * n * kk
    return pos


@njit(**_OPTS)
def evaluate(rk, store, kk, kind, start, count, arity, ioff, aoff, idx, s_lo, s_hi,
             tweak_start, tables):
    """Run steps s_lo .. s_hi - 1 as the evaluator, reading each AND layer's block from
    ``tables`` back to back; returns the words read."""
    k_ = _keys(rk)
    one = np.uint64(1)
    zero = np.uint64(0)
    pos = 0
    for s in range(s_lo, s_hi):
        n = count[s]
        ar = arity[s]
        io = ioff[s]
        st = start[s]
        if kind[s] == 0:
            _xor_step(store, kk, st, n, ar, idx, io)
            continue
        te = pos + 2 * n * kk
        j0 = tweak_start + aoff[s] * kk
        for i in range(n):
            for k in range(kk):
                wa = _gather(store, idx, io + i, 2 * n, ar, kk, k)
                wb = _gather(store, idx, io + n + i, 2 * n, ar, kk, k)
                ta = np.uint64(2 * (j0 + i * kk + k))
                ha = _h(wa, ta, k_)
                hb = _h(wb, ta + one, k_)
                ma = zero - (wa[0] & one)
                mb = zero - (wb[0] & one)
                w = 2 * (i * kk + k)
                d = 2 * ((st + i) * kk + k)
                store[d] = (ha[0] ^ hb[0] ^ (ma & tables[pos + w])
                            ^ (mb & (tables[te + w] ^ wa[0])))
                store[d + 1] = (ha[1] ^ hb[1] ^ (ma & tables[pos + w + 1])
                                ^ (mb & (tables[te + w + 1] ^ wa[1])))
        pos += 4 * n * kk
    return pos
