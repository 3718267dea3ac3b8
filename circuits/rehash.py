"""Constant folding and hash-consing of a whole gate array in one compiled pass.

The arrays are in *builder space*: wire 0 is the constant 0, wire 1 the constant 1, input
bits have op ``INPUT`` and gates read only lower wires. :func:`rehash` re-emits every gate in
order with exactly the rules of :class:`~yaogc.circuits.builder.Builder` (folding ``x ^ 0``,
``x ^ 1``, ``x & 0``, ``x & 1``, ``x ^ x``, ``x & x``, ``x & ~x``, ``~~x``; with ``push_not``
also ``~a ^ b`` -> ``~(a ^ b)``) and a hash table instead of a dict, so running the Builder
gate by gate and running this pass over the gates it would have emitted give the same
netlist. Identical gates are merged wherever they come from, which is what lets the compiler
emit word operations as independent gate templates and deduplicate afterwards.
"""

from __future__ import annotations

import numpy as np

from .circuit import Op
from .jit import kernel

INPUT = 255
_XOR, _AND, _NOT, _C0, _C1 = int(Op.XOR), int(Op.AND), int(Op.NOT), int(Op.CONST0), int(Op.CONST1)


@kernel
def _emit(o, x, y, nop, na, nb, table, n):
    """The wire of gate (o, x, y): an existing one, or new wire ``n``."""
    mask = table.size - 1
    h = (np.uint64(x) * np.uint64(0x9E3779B97F4A7C15)) ^ (np.uint64(y + 1) * np.uint64(0xC2B2AE3D27D4EB4F))
    h = (h ^ (h >> np.uint64(29)) ^ np.uint64(o)) * np.uint64(0xBF58476D1CE4E5B9)
    i = np.int64(h >> np.uint64(20)) & mask
    while True:
        w = table[i]
        if w < 0:
            table[i] = n
            nop[n] = o
            na[n] = x
            nb[n] = y
            return n
        if nop[w] == o and na[w] == x and nb[w] == y:
            return w
        i = (i + 1) & mask


@kernel
def _not(x, nop, na, nb, table, n):
    if x <= 1:
        return 1 - x
    if nop[x] == 2:
        return na[x]
    return _emit(2, x, -1, nop, na, nb, table, n)


@kernel
def _rehash(op, a, b, push_not, nop, na, nb, m, table):
    """Fill nop/na/nb (builder space, new numbering) and m (old wire -> new wire); returns
    the number of new wires."""
    nop[0] = 3
    nop[1] = 4
    na[0] = -1
    na[1] = -1
    nb[0] = -1
    nb[1] = -1
    n = 2
    for w in range(op.size):
        o = op[w]
        if o == 3:
            m[w] = 0
            continue
        if o == 4:
            m[w] = 1
            continue
        if o == 255:
            nop[n] = 255
            na[n] = -1
            nb[n] = -1
            m[w] = n
            n += 1
            continue
        x = m[a[w]]
        if o == 2:
            r = _not(x, nop, na, nb, table, n)
        elif o == 0:
            y = m[b[w]]
            if x <= 1:
                r = _not(y, nop, na, nb, table, n) if x == 1 else y
            elif y <= 1:
                r = _not(x, nop, na, nb, table, n) if y == 1 else x
            else:
                inv = 0
                r = -1
                if not push_not:
                    if x == y:
                        r = 0
                    elif (nop[x] == 2 and na[x] == y) or (nop[y] == 2 and na[y] == x):
                        r = 1
                else:
                    if nop[x] == 2:
                        x = na[x]
                        inv = 1
                    if nop[y] == 2:
                        y = na[y]
                        inv ^= 1
                    if x == y:
                        r = inv
                if r < 0:
                    if x > y:
                        x, y = y, x
                    r = _emit(0, x, y, nop, na, nb, table, n)
                    if r == n:
                        n += 1
                    if inv:
                        r = _not(r, nop, na, nb, table, n)
        else:
            y = m[b[w]]
            if x <= 1:
                r = y if x == 1 else 0
            elif y <= 1:
                r = x if y == 1 else 0
            elif x == y:
                r = x
            elif (nop[x] == 2 and na[x] == y) or (nop[y] == 2 and na[y] == x):
                r = 0
            else:
                if x > y:
                    x, y = y, x
                r = _emit(1, x, y, nop, na, nb, table, n)
        if r == n:
            n += 1
        m[w] = r
    return n


def rehash(op: np.ndarray, a: np.ndarray, b: np.ndarray, push_not: bool = True):
    """(op, a, b, m) after folding and hash-consing: new builder-space arrays, and the new
    wire of every old wire. Inputs keep their order."""
    n = int(op.size)
    nop = np.empty(n + 2, dtype=np.uint8)
    na = np.empty(n + 2, dtype=np.int64)
    nb = np.empty(n + 2, dtype=np.int64)
    m = np.empty(n, dtype=np.int64)
    cap = 1 << max(4, (2 * n + 2).bit_length())
    table = np.full(cap, -1, dtype=np.int64)
    k = _rehash(np.ascontiguousarray(op, dtype=np.uint8), np.ascontiguousarray(a, dtype=np.int64),
                np.ascontiguousarray(b, dtype=np.int64), bool(push_not), nop, na, nb, m, table)
    del table
    return nop[:k].copy(), na[:k].copy(), nb[:k].copy(), m


@kernel
def _live(op, a, b, live):
    for w in range(op.size - 1, -1, -1):
        if live[w]:
            o = op[w]
            if o == 0 or o == 1:
                live[a[w]] = True
                live[b[w]] = True
            elif o == 2:
                live[a[w]] = True


def live_mask(op: np.ndarray, a: np.ndarray, b: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """Per wire: whether some root depends on it."""
    live = np.zeros(op.size, dtype=np.bool_)
    live[np.asarray(roots, dtype=np.int64)] = True
    _live(np.ascontiguousarray(op, dtype=np.uint8), np.ascontiguousarray(a, dtype=np.int64),
          np.ascontiguousarray(b, dtype=np.int64), live)
    return live


@kernel
def _and_levels(op, a, b, n_in, lev):
    for k in range(op.size):
        w = n_in + k
        o = op[k]
        if o == 0 or o == 1:
            la = lev[a[k]]
            lb = lev[b[k]]
            lev[w] = (la if la > lb else lb) + (1 if o == 1 else 0)
        elif o == 2:
            lev[w] = lev[a[k]]
        else:
            lev[w] = 0


def and_levels(op: np.ndarray, a: np.ndarray, b: np.ndarray, n_in: int) -> np.ndarray:
    """AND-depth of every wire of a Circuit's gate arrays (inputs 0)."""
    lev = np.zeros(n_in + op.size, dtype=np.int64)
    _and_levels(np.ascontiguousarray(op, dtype=np.uint8), np.ascontiguousarray(a, dtype=np.int64),
                np.ascontiguousarray(b, dtype=np.int64), int(n_in), lev)
    return lev
