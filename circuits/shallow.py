"""Low AND-depth adders and comparators, for when AND layers cost more than AND gates.

Garbling pays a fixed cost per AND layer, so a lone 32-bit addition with a ripple carry (31
layers) can cost more than a parallel-prefix one with several times the ANDs in 6 layers. These
trade ANDs for depth; the AND-minimal versions in :mod:`.wordops` stay the default.

Carries come from (generate, propagate) pairs combined by (g, p) o (g', p') =
(g ^ (p & g'), p & p'), 2 ANDs (g and p & g' never both hold, so XOR is OR). ``add_shallow``
uses the Sklansky prefix network (Sklansky, IRE Trans. Electronic Computers 1960): AND-depth
ceil(log2 (n-1)) + 1, about (n/2) log2 n + n ANDs. ``lt_shallow`` needs only the final carry, a
balanced tree: AND-depth ceil(log2 n) + 1, under 3n ANDs. ``sub_borrow_shallow`` serves the
restoring division's steps in :func:`.division.divmod_u` with ``shallow=True``.
"""

from __future__ import annotations

from typing import Sequence

from .builder import ONE, ZERO, Builder
from .wordops import Word, flip_sign, not_w, same_width


def _leaves(b: Builder, x: Sequence[int], y: Sequence[int],
            cin: int) -> tuple[list[int], list[int]]:
    g = [b.and_(p, q) for p, q in zip(x, y)]
    p = [b.xor(a, c) for a, c in zip(x, y)]
    if x and cin != ZERO:
        # the carry-in joins bit 0's generate: x0 y0 ^ (p0 & cin), free when cin is ONE
        g[0] = b.xor(g[0], b.and_(p[0], cin))
    return g, p


def _add_prefix(b: Builder, x: Sequence[int], y: Sequence[int],
                cin: int) -> tuple[Word, int]:
    """(x + y + cin mod 2^n, carry out)."""
    n = len(x)
    if n == 0:
        return [], cin
    g, p = _leaves(b, x, y, cin)
    # G[i], P[i]: generate/propagate of bits 0..i, built in place by Sklansky's doubling
    G, P = list(g), list(p)
    d = 1
    while d < n:
        for i in range(n):
            if i & d:
                j = (i & ~(2 * d - 1)) + d - 1  # last index of the lower half of i's block
                G[i] = b.xor(G[i], b.and_(P[i], G[j]))
                if 2 * d < n:
                    P[i] = b.and_(P[i], P[j])
        d *= 2
    carries = [cin] + G[:n - 1]
    return [b.xor(pi, c) for pi, c in zip(p, carries)], G[n - 1]


def add_shallow(b: Builder, x: Sequence[int], y: Sequence[int]) -> Word:
    """x + y mod 2^n with AND-depth ceil(log2 (n-1)) + 1 (Sklansky)."""
    same_width("add", x, y)
    return _add_prefix(b, x, y, ZERO)[0]


def sub_shallow(b: Builder, x: Sequence[int], y: Sequence[int]) -> Word:
    """x - y mod 2^n with AND-depth ceil(log2 (n-1)) + 1."""
    same_width("sub", x, y)
    return _add_prefix(b, x, not_w(b, y), ONE)[0]


def inc_by_shallow(b: Builder, x: Sequence[int], c: int) -> Word:
    """x + c mod 2^n for one bit c with AND-depth ceil(log2 (n-1)) + 1."""
    return _add_prefix(b, x, [ZERO] * len(x), c)[0]


def sub_borrow_shallow(b: Builder, x: Sequence[int], y: Sequence[int]) -> tuple[Word, int]:
    """(x - y mod 2^n, [x < y]) with AND-depth ceil(log2 n) + 1."""
    same_width("sub_borrow", x, y)
    d, c = _add_prefix(b, x, not_w(b, y), ONE)
    return d, b.not_(c)


def lt_shallow(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False) -> int:
    """[x < y] with AND-depth ceil(log2 n) + 1: no carry out of x + ~y + 1."""
    same_width("lt", x, y)
    if not x:
        return ZERO
    if signed:
        x, y = flip_sign(b, x), flip_sign(b, y)
    g, p = _leaves(b, x, not_w(b, y), ONE)
    pairs = list(zip(g, p))
    while len(pairs) > 1:
        nxt = []
        for k in range(0, len(pairs) - 1, 2):
            (gl, pl), (gh, ph) = pairs[k], pairs[k + 1]
            nxt.append((b.xor(gh, b.and_(ph, gl)), b.and_(ph, pl)))
        if len(pairs) % 2:
            nxt.append(pairs[-1])
        pairs = nxt
    return b.not_(pairs[0][0])
