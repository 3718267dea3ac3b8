"""The bit heap of :mod:`.bitheap` as a compiled kernel, for sums too large to build gate by
gate in Python (a count over 40,000 records is a 40,000-bit column).

:func:`heap_template` gives the same gates as running :class:`~.bitheap.BitHeap` (``add_word``
for every term, then ``result``) on a fresh :class:`~.builder.Builder`: the same column order,
the same choice of adders by (AND-depth, arrival), the same folding through the kernels of
:mod:`.rehash` that mirror the Builder's rules. Tests compare the two on random heaps.
"""

from __future__ import annotations

import numpy as np

from . import jit
from .jit import kernel
from .rehash import band as _band, bnot as _bnot, bxor as _bxor, new_table, retable

# the Builder rules as called functions here, not inlined at every call site as the rehash
# loop has them: the heap calls them from a dozen places, and inlining each one made
# compiling this module take minutes on a loaded machine for no gain (a heap is built once)
band, bnot, bxor = (jit.kernel(k.py_func) for k in (_band, _bnot, _bxor))


@kernel
def _push(hk, hw, size, key, w):
    i = size
    hk[i] = key
    hw[i] = w
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= hk[i]:
            break
        hk[p], hk[i] = hk[i], hk[p]
        hw[p], hw[i] = hw[i], hw[p]
        i = p
    return size + 1


@kernel
def _pop(hk, hw, size):
    """(key, wire, new size) of the smallest entry."""
    k0 = hk[0]
    w0 = hw[0]
    size -= 1
    hk[0] = hk[size]
    hw[0] = hw[size]
    i = 0
    while True:
        l = 2 * i + 1
        if l >= size:
            break
        c = l
        if l + 1 < size and hk[l + 1] < hk[l]:
            c = l + 1
        if hk[i] <= hk[c]:
            break
        hk[c], hk[i] = hk[i], hk[c]
        hw[c], hw[i] = hw[i], hw[c]
        i = c
    return k0, w0, size


@kernel(inline=True)
def _take_bits(lv, wv, lo, hi, bl, bw, nb_, ones):
    """Bits ``lo .. hi-1`` (AND-depth lv, wire wv) onto the column's bl/bw after its first
    ``nb_``, counting constant ones apart: (bits, ones)."""
    for i in range(lo, hi):
        if wv[i] == 1:
            ones += 1
        else:
            bl[nb_] = lv[i]
            bw[nb_] = wv[i]
            nb_ += 1
    return nb_, ones


@kernel
def _reduce(col_ptr, col_lv, col_w, const_bits, width, nop, na, nb, table, out,
            bl, bw, cl, cw, hk, hw, state, limit):
    """BitHeap.result: per column its bits (col_ptr CSR into col_lv/col_w, in arrival order)
    plus the previous column's carries; ``out`` gets one wire per column. bl/bw, cl/cw, hk/hw
    are scratch buffers large enough for any column.

    ``state`` is (next column, carries into it in cl/cw, next free wire, gates that
    column may make). The pass stops before a column whose gates might take the next free
    wire past ``limit`` (what the hash table holds) and returns False; the caller grows
    the table and calls again. True when every column is done."""
    SH = np.int64(1) << 32
    nc = state[1]                           # carries into this column: cl/cw[0:nc]
    n = state[2]
    for j in range(state[0], width):
        most = column_gates(col_ptr[j + 1] - col_ptr[j] + nc)
        if n + most > limit:
            state[0] = j
            state[1] = nc
            state[2] = n
            state[3] = most
            return False
        nb_, ones = _take_bits(col_lv, col_w, col_ptr[j], col_ptr[j + 1], bl, bw, 0,
                               const_bits[j])
        nb_, ones = _take_bits(cl, cw, 0, nc, bl, bw, nb_, ones)
        # two constant ones in a column are one constant carry
        nc = 0
        for i in range(ones // 2):
            cl[nc] = 0
            cw[nc] = 1
            nc += 1
        has_one = ones % 2
        if j == width - 1:
            acc = 1 if has_one else 0
            for i in range(nb_):
                acc, n = bxor(acc, bw[i], True, nop, na, nb, table, n)
            out[j] = acc
            break
        if nb_ == 0:
            out[j] = 1 if has_one else 0
            continue
        size = 0
        for k in range(nb_):
            size = _push(hk, hw, size, (bl[k] + 1) * SH + (k + 1), bw[k])
        seq = nb_
        if (nb_ + has_one) % 2 == 0:
            ka, a, size = _pop(hk, hw, size)
            la = ka // SH - 1
            if has_one:
                s, n = bnot(a, nop, na, nb, table, n)
                ls = la
                cl[nc] = la
                cw[nc] = a
                nc += 1
                has_one = 0
            else:
                kb, b_, size = _pop(hk, hw, size)
                lb = kb // SH - 1
                s, n = bxor(a, b_, True, nop, na, nb, table, n)
                ls = la if la > lb else lb
                c, n = band(a, b_, nop, na, nb, table, n)
                cl[nc] = ls + 1
                cw[nc] = c
                nc += 1
            size = _push(hk, hw, size, (ls + 1) * SH + (seq + 1), s)
            seq += 1
        if has_one:
            size = _push(hk, hw, size, 0, 1)
        while size >= 3:
            ka, a, size = _pop(hk, hw, size)
            kb, b_, size = _pop(hk, hw, size)
            kc, c, size = _pop(hk, hw, size)
            top = max(ka // SH - 1, kb // SH - 1, kc // SH - 1, 0)
            t1, n = bxor(a, b_, True, nop, na, nb, table, n)
            s, n = bxor(t1, c, True, nop, na, nb, table, n)
            u, n = bxor(a, c, True, nop, na, nb, table, n)
            v, n = bxor(b_, c, True, nop, na, nb, table, n)
            g, n = band(u, v, nop, na, nb, table, n)
            cy, n = bxor(c, g, True, nop, na, nb, table, n)
            cl[nc] = top + 1
            cw[nc] = cy
            nc += 1
            size = _push(hk, hw, size, (top + 1) * SH + (seq + 1), s)
            seq += 1
        out[j] = hw[0]
        # carries that folded to zero are dropped
        k = 0
        for i in range(nc):
            if cw[i] != 0:
                cl[k] = cl[i]
                cw[k] = cw[i]
                k += 1
        nc = k
    state[0] = width
    state[2] = n
    return True


@kernel(inline=True)
def column_gates(bits):
    """Gates one column of ``bits`` bits (its carries in included) makes at most. An XOR
    may make two (the XOR and the NOT pushed out of it), so: a half adder 3, a full adder 11
    for every two bits the column loses (at most bits / 2 + 1 of them), the last column's
    XOR chain 2 a bit."""
    return 6 * bits + 14


@kernel
def _negate_leaves(code, nop, na, nb, table, n, wires):
    """The scratch wire of every input bit: constants, leaves, NOT of a leaf."""
    for i in range(code.size):
        c = code[i]
        if c < 0:
            wires[i] = -1 - c
        else:
            w = 2 + (c >> 1)
            if c & 1:
                w, n = bnot(w, nop, na, nb, table, n)
            wires[i] = w
    return n


def heap_gates(*args):
    """Gates of a bit heap (see :func:`_heap_gates`)."""
    with np.errstate(over="ignore"):   # the gate hash wraps mod 2^64 by design
        return _heap_gates(*args)


def _heap_gates(code: np.ndarray, levels: np.ndarray, widths: list[int], negs: list[bool],
               width: int):
    """Gates of a bit heap over the given terms (each added at column 0, negated where
    ``negs`` says), reduced to ``width`` bits. ``code`` per input bit as in
    :func:`~.templates.make_template`, ``levels`` per leaf. Returns builder-space arrays
    (op, a, b) whose wires 2.. are the leaves, and the output wires."""
    code = np.asarray(code, dtype=np.int64)
    n_leaves = int(levels.size)
    n_bits = int(code.size)
    cap = 2 + n_leaves + 16 * n_bits + 64 * width + 64
    nop = np.empty(cap, dtype=np.uint8)
    na = np.empty(cap, dtype=np.int64)
    nb = np.empty(cap, dtype=np.int64)
    nop[:2] = (3, 4)
    na[:2] = nb[:2] = -1
    nop[2:2 + n_leaves] = 255
    na[2:2 + n_leaves] = nb[2:2 + n_leaves] = -1
    # a heap of b bits emits about 5b gates: the hash table starts with room for those and
    # grows if more come (sized for ``cap``, it would be many times larger, and its probes
    # would touch every page of it)
    first = 2 + n_leaves
    table = new_table(cap, START_PER_BIT * n_bits + START_PER_COLUMN * width)
    jit.use_compiled(5 * n_bits, "yaogc.circuits.rehash", __name__)
    wires = np.empty(n_bits, dtype=np.int64)
    table = _room(table, 0, n_bits, cap)       # a NOT a bit at most
    n = _negate_leaves(code, nop, na, nb, table, first, wires)
    # BitHeap.add_word for every term, vectorized over all bits: column, AND-depth, wire;
    # a negated bit enters as its NOT, and each of its columns adds the constant -2^col
    widths = np.asarray(widths, dtype=np.int64)
    negs = np.asarray(negs, dtype=bool)
    starts = np.cumsum(widths) - widths
    term = np.repeat(np.arange(widths.size), widths)
    colv = np.arange(n_bits, dtype=np.int64) - starts[term]
    inside = colv < width
    neg = negs[term]
    wlev = np.zeros(n_bits, dtype=np.int64)
    leafbit = code >= 0
    wlev[leafbit] = levels[code[leafbit] >> 1]
    isc = wires <= 1
    const = 0
    cbits = np.flatnonzero(isc & inside)
    if cbits.size:
        vals = wires[cbits] ^ neg[cbits]
        for c, v in zip(colv[cbits].tolist(), vals.tolist()):
            const += v << c
    kk = np.minimum(widths, width)
    for k in kk[negs].tolist():
        const -= (1 << k) - 1
    live = np.flatnonzero(~isc & inside)
    col, lv, w = colv[live], wlev[live], wires[live].copy()
    flip = neg[live]
    if flip.any():
        bits = w[flip]
        nw = np.empty(bits.size, dtype=np.int64)
        table = _room(table, n - first, bits.size, cap)
        n = _negate_leaves(np.where(nop[bits] == 2, 2 * (na[bits] - 2), 2 * (bits - 2) + 1),
                           nop, na, nb, table, n, nw)
        w[flip] = nw
    order = np.argsort(col, kind="stable")         # arrival order within each column
    col_ptr = np.searchsorted(col[order], np.arange(width + 1)).astype(np.int64)
    const %= 1 << width if width else 1
    const_bits = np.array([(const >> j) & 1 for j in range(width)], dtype=np.int64)
    out = np.zeros(width, dtype=np.int64)
    m = max(16, n_bits + 8 * width + 8)
    bl, bw_, cl, cw, hk, hw = (np.empty(m, dtype=np.int64) for _ in range(6))
    col_lv, col_w = lv[order].astype(np.int64), w[order].astype(np.int64)
    state = np.array([0, 0, n, 0], dtype=np.int64)
    while not _reduce(col_ptr, col_lv, col_w, const_bits, int(width), nop, na, nb, table, out,
                      bl, bw_, cl, cw, hk, hw, state, first + _holds(table)):
        table = _room(table, int(state[2]) - first, int(state[3]), cap)
    n = int(state[2])
    return nop[:n], na[:n], nb[:n], out


# the hash table starts with room for this many gates a bit (heaps make 4-5, their NOTs
# included) and a column, and holds at most LOAD of its rows
START_PER_BIT, START_PER_COLUMN = 5, 64
LOAD = 0.7


def _holds(table: np.ndarray) -> int:
    """Gates the table takes before it is fuller than LOAD."""
    return int(LOAD * table.shape[0])


def _room(table: np.ndarray, used: int, more: int, cap: int) -> np.ndarray:
    """``table`` (with ``used`` gates) if it takes ``more``, else a table twice as large
    (or more) with its gates."""
    if used + more <= _holds(table):
        return table
    grown = new_table(cap, max(2 * table.shape[0], int((used + more) / LOAD) + 1) * 2 // 3)
    retable(table, grown)
    return grown
