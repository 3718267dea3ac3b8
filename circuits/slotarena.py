"""A slot arena for compiled passes: contiguous ranges of slots taken and given back, with
free neighbours coalesced, so a store of values stays near the number of live ones.

Both the Schedule's slot assignment and the plaintext evaluator's level plan hand out one
contiguous range per step (or group) and give slots back as their last reader has run. Free
ranges are kept in doubly linked lists by size (every range at least as long as the largest
request shares the last list, since it fits any request); a segment tree counts the ranges
of each size, so the smallest size that fits is found in O(log largest request). A request
takes the most recently freed range of that size, else grows the store at the top; a range
freed at the top lowers the top. Every operation is O(log largest request).

The arena is two arrays, ``buf`` (int32: the lists, heads and tree, laid out below) and
``meta`` (int64: top, peak and the layout), passed explicitly: a tuple of arrays unpacked in
every call costs reference counting that was most of the time. Slot numbers stay below 2**31.
"""

from __future__ import annotations

import numpy as np

from .jit import kernel


# layout of ``buf``: four rows of ``m`` (size of the free range starting at a slot, start of
# the free range ending at a slot, next and previous range of the same size class), the list
# heads by size class, then the segment tree
SIZE_AT, START_AT, NXT, PRV = 0, 1, 2, 3


@kernel
def arena_new(first, n_max, largest):
    """An arena whose slots start at ``first`` (those below are reserved), for stores up to
    ``n_max`` slots and requests up to ``largest``: ``(buf, meta)``."""
    m = n_max + 2
    largest = max(1, largest)
    nb = largest + 1
    leaves = 1
    while leaves < nb:
        leaves *= 2
    buf = np.full(4 * m + nb + 2 * leaves, -1, dtype=np.int32)
    buf[:m] = 0
    buf[4 * m + nb:] = 0
    meta = np.empty(7, dtype=np.int64)
    meta[0] = first       # top: the first slot never handed out
    meta[1] = largest     # the last size class (ranges this long or longer)
    meta[2] = leaves
    meta[3] = first       # peak of top
    meta[4] = m
    meta[5] = 4 * m       # list heads
    meta[6] = 4 * m + nb  # tree
    return buf, meta


@kernel(inline=True)
def _tree_add(buf, meta, c, d):
    t = meta[6]
    i = meta[2] + c
    while i >= 1:
        buf[t + i] += d
        i >>= 1


@kernel(inline=True)
def _tree_first(buf, meta, c):
    """The smallest size class >= c holding a free range, or -1."""
    t = meta[6]
    leaves = meta[2]
    if c >= leaves:
        return -1
    i = leaves + c
    if buf[t + i] > 0:
        return c
    # climb until a right sibling holds something, then descend to its leftmost leaf
    while i > 1:
        if i & 1 == 0 and buf[t + i + 1] > 0:
            i += 1
            while i < leaves:
                i = 2 * i if buf[t + 2 * i] > 0 else 2 * i + 1
            return i - leaves
        i >>= 1
    return -1


@kernel(inline=True)
def _unlink(buf, meta, s):
    m = meta[4]
    size = buf[s]
    c = min(size, meta[1])
    p = buf[PRV * m + s]
    q = buf[NXT * m + s]
    if p >= 0:
        buf[NXT * m + p] = q
    else:
        buf[meta[5] + c] = q
    if q >= 0:
        buf[PRV * m + q] = p
    buf[s] = 0
    buf[START_AT * m + s + size] = -1
    _tree_add(buf, meta, c, -1)


@kernel(inline=True)
def _link(buf, meta, s, size):
    m = meta[4]
    c = min(size, meta[1])
    buf[s] = size
    buf[START_AT * m + s + size] = s
    q = buf[meta[5] + c]
    buf[NXT * m + s] = q
    buf[PRV * m + s] = -1
    if q >= 0:
        buf[PRV * m + q] = s
    buf[meta[5] + c] = s
    _tree_add(buf, meta, c, 1)


@kernel(inline=True)
def arena_free(buf, meta, s, size):
    """Give back slots ``s .. s+size-1``."""
    m = meta[4]
    e = s + size
    after = buf[e]
    if after > 0:                        # a free range right after
        _unlink(buf, meta, e)
        e += after
    p = buf[START_AT * m + s]
    if p >= 0:                           # a free range right before
        _unlink(buf, meta, p)
        s = p
    if e == meta[0]:
        meta[0] = s
    else:
        _link(buf, meta, s, e - s)


@kernel(inline=True)
def arena_take(buf, meta, want):
    """The first of ``want`` contiguous slots (``want`` at most the largest request)."""
    if want <= 0:
        return meta[0]
    c = _tree_first(buf, meta, want)
    if c >= 0:
        s = buf[meta[5] + c]
        have = buf[s]
        _unlink(buf, meta, s)
        if have > want:
            _link(buf, meta, s + want, have - want)
        return s
    s = meta[0]
    meta[0] = s + want
    if meta[0] > meta[3]:
        meta[3] = meta[0]
    return s
