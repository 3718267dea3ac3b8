"""Which multiplier to build at each width, decided by counting ANDs without building.

:mod:`.arith` builds products from bit heaps (:mod:`.bitheap`). Whether a full n x n product
is cheaper as schoolbook partial products or as a Karatsuba step, and where to split a product
mod 2^w, depends on the width in ways no simple threshold captures (odd halves cost more,
splits a little above w/2 onto multiples of 4 win). So this module replays the constructions
on column counts alone: a heap's AND count depends only on how many bits (and which constant
bits) each column holds, column by column exactly as :meth:`BitHeap.result` reduces them.
Decisions are memoised per width; the builder's constant folding can only make the real
circuit cheaper than the plan.
"""

from __future__ import annotations

from functools import lru_cache


def heap_cost(cols: list[int], const: int) -> int:
    """ANDs that BitHeap.result spends on columns holding cols[j] bits plus constant const."""
    width = len(cols)
    const %= 1 << width if width else 1
    ands = carries = carry_ones = 0
    for j in range(width - 1):
        m = cols[j] + carries
        ones = carry_ones + ((const >> j) & 1)
        carry_ones, has_one = divmod(ones, 2)
        carries = 0
        if m == 0:
            continue
        if (m + has_one) % 2 == 0:
            carries = 1
            if has_one:
                has_one = 0
            else:
                ands += 1
                m -= 1
        fa = (m + has_one - 1) // 2
        ands += fa
        carries += fa
    return ands


def _schoolbook_cols(cols: list[int], p: int, off: int, limit: int) -> int:
    """Add the column counts of p x p partial products with i + j < limit; returns their ANDs."""
    n_pp = 0
    for c in range(min(2 * p - 1, limit)):
        k = min(c, p - 1) - max(0, c - p + 1) + 1
        if off + c < len(cols):
            cols[off + c] += k
            n_pp += k
    return n_pp


def _negative_word(cols: list[int], width: int, off: int) -> int:
    """Columns of a negated word of `width` bits at off; returns the constant it adds."""
    const = 0
    for i in range(width):
        if off + i < len(cols):
            cols[off + i] += 1
            const -= 1 << (off + i)
    return const


def full_into_cols(cols: list[int], p: int, off: int, limit: int) -> int:
    """A p x p full product into the columns at off (only i + j < limit); returns outside ANDs."""
    if not use_karatsuba(p):
        return _schoolbook_cols(cols, p, off, limit)
    for c in range(min(2 * p, limit)):
        if off + c < len(cols):
            cols[off + c] += 1
    return karatsuba_cost(p)


@lru_cache(maxsize=None)
def schoolbook_cost(p: int) -> int:
    cols = [0] * (2 * p)
    return _schoolbook_cols(cols, p, 0, 2 * p) + heap_cost(cols, 0)


@lru_cache(maxsize=None)
def karatsuba_cost(n: int) -> int:
    """ANDs of arith._karatsuba on n x n bits."""
    h = (n + 1) // 2
    m = n - h
    cols = [0] * (2 * n)
    ands = full_cost(h) + full_cost(m) + 2 * h + 2 * h + 1
    for c in range(2 * h):
        cols[c] += 1
    for c in range(2 * m):
        cols[2 * h + c] += 1
    const = _negative_word(cols, 2 * h, h) + _negative_word(cols, 2 * m, h)
    ands += full_into_cols(cols, h, h, 2 * h)
    for j in range(h):
        cols[2 * h + j] += 2
    cols[3 * h] += 1
    return ands + heap_cost(cols, const)


@lru_cache(maxsize=None)
def use_karatsuba(p: int) -> bool:
    return p >= 4 and karatsuba_cost(p) < schoolbook_cost(p)


def full_cost(p: int) -> int:
    return karatsuba_cost(p) if use_karatsuba(p) else schoolbook_cost(p)


def _mod_cols(cols: list[int], w: int, off: int, split: int | None) -> int:
    if split is None:
        return _schoolbook_cols(cols, w, off, w)
    h = split
    ands = full_into_cols(cols, h, off, w)
    sub = mod_split(w - h)
    for _ in range(2):
        ands += _mod_cols(cols, w - h, off + h, sub)
    return ands


def _mod_cost(w: int, split: int | None) -> int:
    cols = [0] * w
    return _mod_cols(cols, w, 0, split) + heap_cost(cols, 0)


@lru_cache(maxsize=None)
def mod_split(w: int) -> int | None:
    """Size of the low part whose full product x0*y0 is built apart in a product mod 2^w, or
    None for plain partial products (the two cross products mod 2^(w-h) recurse)."""
    best, best_cost = None, _mod_cost(w, None)
    if w >= 8:
        for h in range((w + 1) // 2, (7 * w) // 10 + 1):
            c = _mod_cost(w, h)
            if c < best_cost:
                best, best_cost = h, c
    return best


def mod_cost(w: int) -> int:
    return _mod_cost(w, mod_split(w))
