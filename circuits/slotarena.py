"""A slot arena for compiled passes: contiguous ranges of slots taken and given back, with
free neighbours coalesced, so a store of values stays near the number of live ones.

Both the Schedule's slot assignment and the plaintext evaluator's level plan hand out one
contiguous range per step (or group) and give slots back as their last reader has run. Free
ranges are kept in doubly linked lists by size (every range at least as long as the largest
request shares the last list, since it fits any request); a segment tree marks the sizes
whose list is not empty, so the smallest size that fits is found in O(log largest request).
The tree changes only when a list becomes empty or not, and stops climbing at the first node
that stays as it was: most frees and takes leave it alone (updating every level of it on
each of them was most of the time of the Schedule's slot assignment). A request
takes the most recently freed range of that size, else grows the store at the top; a range
freed at the top lowers the top. Every operation is O(log largest request).

The arena is two arrays, ``buf`` (int32: the lists, heads and tree, laid out below) and
``meta`` (int64: top, peak, the layout and how far the slots' fields are set), passed
explicitly: a tuple of arrays unpacked in every call costs reference counting that was most
of the time. Slot numbers stay below 2**31.
"""

from __future__ import annotations

import numpy as np

from .jit import kernel


# layout of ``buf``: four fields per slot, side by side so that one slot's are one cache line
# (``m`` slots: the size of the free range starting at the slot, the start of the free range
# ending at it, next and previous range of the same size class), the list heads by size
# class, then the segment tree
SIZE_AT, START_AT, NXT, PRV = 0, 1, 2, 3
FIELDS = 4


@kernel
def arena_new(first, n_max, largest):
    """An arena whose slots start at ``first`` (those below are reserved), for stores up to
    ``n_max`` slots and requests up to ``largest``: ``(buf, meta)``. The fields of a slot are
    set when the store first grows past it (:func:`_reach`): a store reuses its slots, so its
    peak is often a small part of ``n_max``, and the fields beyond it are never touched (nor
    made resident)."""
    m = n_max + 2
    largest = max(1, largest)
    nb = largest + 1
    leaves = 1
    while leaves < nb:
        leaves *= 2
    buf = np.empty(FIELDS * m + nb + 2 * leaves, dtype=np.int32)
    buf[FIELDS * m:FIELDS * m + nb] = -1
    buf[FIELDS * m + nb:] = 0
    meta = np.empty(7, dtype=np.int64)
    meta[0] = first       # top: the first slot never handed out
    meta[1] = largest     # the last size class (ranges this long or longer)
    meta[2] = leaves
    meta[3] = first       # peak of top
    meta[4] = FIELDS * m       # list heads
    meta[5] = FIELDS * m + nb  # tree
    meta[6] = 0           # slots whose fields are set
    _reach(buf, meta, first)
    return buf, meta


@kernel(inline=True)
def _reach(buf, meta, top):
    """Set the fields of the slots up to ``top`` (inclusive: a range ending at the top
    writes there) that are not set yet: no free range starts or ends at them."""
    for s in range(meta[6], top + 1):
        buf[FIELDS * s + SIZE_AT] = 0
        buf[FIELDS * s + START_AT] = -1
        buf[FIELDS * s + NXT] = -1
        buf[FIELDS * s + PRV] = -1
    if top + 1 > meta[6]:
        meta[6] = top + 1


@kernel(inline=True)
def _tree_mark(buf, meta, c):
    """Size class ``c`` has a free range now: mark it and its ancestors not marked yet."""
    t = meta[5]
    i = meta[2] + c
    while i >= 1 and buf[t + i] == 0:
        buf[t + i] = 1
        i >>= 1


@kernel(inline=True)
def _tree_unmark(buf, meta, c):
    """Size class ``c`` has no free range left: unmark it, and each ancestor whose other
    child is unmarked too."""
    t = meta[5]
    i = meta[2] + c
    buf[t + i] = 0
    while i > 1 and buf[t + (i ^ 1)] == 0:
        i >>= 1
        buf[t + i] = 0


@kernel(inline=True)
def _tree_first(buf, meta, c):
    """The smallest size class >= c holding a free range, or -1."""
    t = meta[5]
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
    size = buf[FIELDS * s + SIZE_AT]
    c = min(size, meta[1])
    p = buf[FIELDS * s + PRV]
    q = buf[FIELDS * s + NXT]
    if p >= 0:
        buf[FIELDS * p + NXT] = q
    else:
        buf[meta[4] + c] = q
    if q >= 0:
        buf[FIELDS * q + PRV] = p
    buf[FIELDS * s + SIZE_AT] = 0
    buf[FIELDS * (s + size) + START_AT] = -1
    if p < 0 and q < 0:
        _tree_unmark(buf, meta, c)


@kernel(inline=True)
def _link(buf, meta, s, size):
    c = min(size, meta[1])
    buf[FIELDS * s + SIZE_AT] = size
    buf[FIELDS * (s + size) + START_AT] = s
    q = buf[meta[4] + c]
    buf[FIELDS * s + NXT] = q
    buf[FIELDS * s + PRV] = -1
    if q >= 0:
        buf[FIELDS * q + PRV] = s
    buf[meta[4] + c] = s
    if q < 0:
        _tree_mark(buf, meta, c)


@kernel(inline=True)
def arena_free(buf, meta, s, size):
    """Give back slots ``s .. s+size-1``."""
    e = s + size
    after = buf[FIELDS * e + SIZE_AT]
    if after > 0:                        # a free range right after
        _unlink(buf, meta, e)
        e += after
    p = buf[FIELDS * s + START_AT]
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
        s = buf[meta[4] + c]
        have = buf[FIELDS * s + SIZE_AT]
        _unlink(buf, meta, s)
        if have > want:
            _link(buf, meta, s + want, have - want)
        return s
    s = meta[0]
    meta[0] = s + want
    if meta[0] > meta[3]:
        meta[3] = meta[0]
        _reach(buf, meta, meta[0])
    return s
