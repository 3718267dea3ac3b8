"""A slot arena for compiled passes: contiguous ranges of slots taken and given back, with
free neighbours coalesced, so a store of values stays near the number of live ones.

Both the Schedule's slot assignment and the plaintext evaluator's level plan hand out one
contiguous range per step (or group) and give slots back as their last reader has run. Free
ranges are kept in doubly linked lists by size (every range at least as long as the largest
request shares the last list, since it fits any request); a segment tree counts the ranges
of each size, so the smallest size that fits is found in O(log largest request). A request
takes the most recently freed range of that size, else grows the store at the top; a range
freed at the top lowers the top. Every operation is O(log largest request).

The arena is a tuple of arrays (numba passes tuples to compiled functions; plain Python uses
the same code): ``(size_at, start_at, nxt, prv, head, tree, meta)`` with ``meta`` =
``[top, largest request, tree leaves, peak]``. Slot numbers stay below 2**31.
"""

from __future__ import annotations

import numpy as np

from .jit import kernel


@kernel
def arena_new(first, n_max, largest):
    """An arena whose slots start at ``first`` (those below are reserved), for stores up to
    ``n_max`` slots and requests up to ``largest``."""
    m = n_max + 2
    largest = max(1, largest)
    nb = largest + 1
    leaves = 1
    while leaves < nb:
        leaves *= 2
    meta = np.empty(4, dtype=np.int64)
    meta[0] = first
    meta[1] = largest
    meta[2] = leaves
    meta[3] = first
    return (np.zeros(m, dtype=np.int32), np.full(m, -1, dtype=np.int32),
            np.full(m, -1, dtype=np.int32), np.full(m, -1, dtype=np.int32),
            np.full(nb, -1, dtype=np.int32), np.zeros(2 * leaves, dtype=np.int32), meta)


@kernel(inline=True)
def _tree_add(tree, leaves, c, d):
    i = leaves + c
    while i >= 1:
        tree[i] += d
        i >>= 1


@kernel(inline=True)
def _tree_first(tree, leaves, c):
    """The smallest size class >= c holding a free range, or -1."""
    if c >= leaves:
        return -1
    i = leaves + c
    if tree[i] > 0:
        return c
    # climb until a right sibling holds something, then descend to its leftmost leaf
    while i > 1:
        if i & 1 == 0 and tree[i + 1] > 0:
            i += 1
            while i < leaves:
                i = 2 * i if tree[2 * i] > 0 else 2 * i + 1
            return i - leaves
        i >>= 1
    return -1


@kernel(inline=True)
def _unlink(arena, s):
    size_at, start_at, nxt, prv, head, tree, meta = arena
    size = size_at[s]
    c = min(size, meta[1])
    p = prv[s]
    q = nxt[s]
    if p >= 0:
        nxt[p] = q
    else:
        head[c] = q
    if q >= 0:
        prv[q] = p
    size_at[s] = 0
    start_at[s + size] = -1
    _tree_add(tree, meta[2], c, -1)


@kernel(inline=True)
def _link(arena, s, size):
    size_at, start_at, nxt, prv, head, tree, meta = arena
    c = min(size, meta[1])
    size_at[s] = size
    start_at[s + size] = s
    q = head[c]
    nxt[s] = q
    prv[s] = -1
    if q >= 0:
        prv[q] = s
    head[c] = s
    _tree_add(tree, meta[2], c, 1)


@kernel(inline=True)
def arena_free(arena, s, size):
    """Give back slots ``s .. s+size-1``."""
    size_at, start_at, nxt, prv, head, tree, meta = arena
    e = s + size
    if size_at[e] > 0:                   # a free range right after
        e += size_at[e]
        _unlink(arena, s + size)
    p = start_at[s]
    if p >= 0:                           # a free range right before
        _unlink(arena, p)
        s = p
    if e == meta[0]:
        meta[0] = s
    else:
        _link(arena, s, e - s)


@kernel(inline=True)
def arena_take(arena, want):
    """The first of ``want`` contiguous slots (``want`` at most the largest request)."""
    size_at, start_at, nxt, prv, head, tree, meta = arena
    if want <= 0:
        return meta[0]
    c = _tree_first(tree, meta[2], want)
    if c >= 0:
        s = head[c]
        have = size_at[s]
        _unlink(arena, s)
        if have > want:
            _link(arena, s + want, have - want)
        return s
    s = meta[0]
    meta[0] = s + want
    if meta[0] > meta[3]:
        meta[3] = meta[0]
    return s
