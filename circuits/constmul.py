"""Multiplication of a word by a public constant: shift-and-add with shared subterms.

x * k mod 2^n is a sum of shifted copies of x, one per nonzero digit of k, summed in one bit
heap (:mod:`.bitheap`). Digits come from the binary form or the non-adjacent form (NAF,
digits in {-1, 0, 1}, no two adjacent nonzero: at most n/2 + 1 of them). When a pair of digits
at distance delta repeats, t = x +- (x << delta) is summed once and the pairs become single
rows of t, recursively (common subexpression elimination on signed digits: Hartley, "Subexpression
sharing in filters using canonic signed digit multipliers", IEEE TCAS II 1996). Each form is
built on a scratch builder and the one with the fewest ANDs is used.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from .bitheap import BitHeap, live_and_count
from .builder import ZERO, Builder
from .types import uint
from .wordops import Word, extend

Digits = tuple[tuple[int, int], ...]  # (position, +1 or -1), increasing positions


def _naf(k: int) -> Digits:
    """Non-adjacent form of k >= 0."""
    digits, i = [], 0
    while k:
        d = (2 - k % 4) if k % 2 else 0
        if d:
            digits.append((i, d))
        k = (k - d) // 2
        i += 1
    return tuple(digits)


def _rows(b: Builder, x: Sequence[int], digits: Digits, extra: Sequence[int] = ()) -> Word:
    """Sum of +-(x << i) over the digits, plus an extra word."""
    n = len(x)
    heap = BitHeap(b, n)
    heap.add_word(extra)
    for i, d in digits:
        heap.add_word(x[:max(n - i, 0)], i, negative=d < 0)
    return heap.result()


def _shared_pair(digits: Digits) -> tuple[int, int, list[int]] | None:
    """The digit pair (distance, relative sign) with the most non-overlapping repeats (>= 2),
    and the positions of the lower digit of each repeat."""
    sign = dict(digits)
    pos = [i for i, _ in digits]
    counts: dict[tuple[int, int], int] = {}
    for a, i in enumerate(pos):
        for j in pos[a + 1:]:
            key = (j - i, sign[i] * sign[j])
            counts[key] = counts.get(key, 0) + 1
    best = None
    for (delta, rel), c in sorted(counts.items(), key=lambda kv: -kv[1])[:8]:
        if c < 2:
            break
        used: set[int] = set()
        starts = []
        for i in pos:
            j = i + delta
            if i not in used and j in sign and j not in used and sign[i] * sign[j] == rel:
                used.update((i, j))
                starts.append(i)
        if len(starts) >= 2 and (best is None or len(starts) > len(best[2])):
            best = (delta, rel, starts)
    return best


def _shared(b: Builder, x: Sequence[int], digits: Digits) -> Word:
    pair = _shared_pair(digits)
    if pair is None:
        return _rows(b, x, digits)
    delta, rel, starts = pair
    t = _rows(b, x, ((0, 1), (delta, rel)))
    sign = dict(digits)
    in_pairs = set(starts) | {i + delta for i in starts}
    with_t = _shared(b, t, tuple((i, sign[i]) for i in starts))
    rest = tuple((i, d) for i, d in digits if i not in in_pairs)
    return _rows(b, x, rest, with_t)


_METHODS = {"rows": _rows, "shared": _shared}


@lru_cache(maxsize=256)
def _and_cost(real: int, n: int, method: str, digits: Digits) -> int:
    """ANDs of a method on `real` fresh bits zero-extended to n."""
    scratch = Builder("cost")
    x = extend(scratch.input("p", "x", uint(real)) if real else [], n, False)
    return live_and_count(scratch, _METHODS[method](scratch, x, digits))


def mul_const(b: Builder, x: Sequence[int], k: int) -> Word:
    """x * k mod 2^n for a public integer k (any sign)."""
    n = len(x)
    if n == 0:
        return []
    k %= 1 << n
    binary = tuple((i, 1) for i in range(n) if (k >> i) & 1)
    naf = tuple((i, d) for i, d in _naf(k) if i < n)
    if len(binary) <= 1:
        return _rows(b, x, binary)
    # the operand's constant-zero top bits (a widened word) change which form is cheaper
    real = max((i + 1 for i, w in enumerate(x) if w != ZERO), default=0)
    plans = [("rows", binary), ("rows", naf), ("shared", naf), ("shared", binary)]
    method, digits = min(plans, key=lambda p: _and_cost(real, n, *p))
    return _METHODS[method](b, x, digits)
