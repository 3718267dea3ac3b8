"""Multi-operand sums, popcount and multiplication on words, with few ANDs.

AND counts (n = word width), all measured by tests/test_words.py:

- ``popcount`` of n bits: n - popcount(n), the optimum (Boyar, Peralta), from a bit heap.
- ``sum_words`` of m words: at most (m-1)(n-1), from one bit heap instead of m-1 adders.
- ``mul`` mod 2^n: at most n^2-n+1 (the schoolbook partial products summed in a bit heap);
  from 25 bits the full product x0*y0 of a low part is built apart, by Karatsuba (Karatsuba,
  Ofman 1962; in garbled circuits: Henecka et al., TASTY, CCS 2010), and the two cross
  products mod 2^(n-h) recurse. 64 bits: 3472 ANDs, AND-depth 63.
- ``mul_full`` (2n-bit product): at most 2n^2-n, Karatsuba from 14 bits; signed via
  Baugh-Wooley (negated partial products of the sign bits plus one constant).
  :mod:`.mulplan` picks schoolbook or Karatsuba and the split per width by counting ANDs.
- ``mul`` by a constant word goes to :func:`.constmul.mul_const`.

Division is in :mod:`.division`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from .bitheap import BitHeap, live_and_count
from .builder import ZERO, Builder
from .constmul import mul_const
from .mulplan import mod_split, use_karatsuba
from .types import uint
from .wordops import Word, WordError, add_carry, const_value, extend, same_width


# --- sums ----------------------------------------------------------------------------------
def popcount(b: Builder, bits: Sequence[int]) -> Word:
    """Number of set bits, as a word of bit_length(len(bits)) bits: n - popcount(n) ANDs."""
    heap = BitHeap(b, len(bits).bit_length())
    for w in bits:
        heap.add_bit(w, 0)
    return heap.result()


def sum_words(b: Builder, words: Sequence[Sequence[int]], shallow: bool = False) -> Word:
    """Sum of equal-width words mod 2^n in one bit heap (``shallow``: Dadda tree and a
    parallel-prefix adder, AND-depth about log1.5 m + log2 n)."""
    if not words:
        raise WordError("sum_words: no words to add")
    n = same_width("sum", *words)
    heap = BitHeap(b, n, shallow)
    for w in words:
        heap.add_word(w)
    return heap.result()


# --- multiplication ------------------------------------------------------------------------
def _schoolbook_into(heap: BitHeap, x: Sequence[int], y: Sequence[int], off: int,
                     cols: int) -> None:
    """Partial products x_i y_j with i + j < cols into the heap at column off + i + j."""
    b = heap.b
    for i, xi in enumerate(x[:cols]):
        for j, yj in enumerate(y[:cols - i]):
            heap.add_bit(b.and_(xi, yj), off + i + j)


def _full_into(heap: BitHeap, x: Sequence[int], y: Sequence[int], off: int,
               limit: int | None = None, allow_mod: bool = True) -> None:
    """x * y (unsigned, equal widths) into the heap at column off, bits below limit only."""
    p = len(x)
    while p and x[p - 1] == ZERO and y[p - 1] == ZERO:
        p -= 1
    x, y = x[:p], y[:p]
    limit = 2 * p if limit is None else min(limit, 2 * p)
    if allow_mod and p < limit < 2 * p and _truncate_by_mod(p, limit):
        _mod_into(heap, extend(x, limit, False), extend(y, limit, False), off, limit)
    elif use_karatsuba(p):
        heap.add_word(_karatsuba(heap.b, x, y)[:limit], off)
    else:
        _schoolbook_into(heap, x, y, off, limit)


@lru_cache(maxsize=None)
def _truncate_by_mod(p: int, limit: int) -> bool:
    """Whether the bits below limit of a p x p product are cheaper as the product mod
    2^limit of the zero-extended operands; decided by building both on a scratch builder."""
    costs = []
    for by_mod in (False, True):
        scratch = Builder("plan")
        x, y = scratch.input("p", "x", uint(p)), scratch.input("p", "y", uint(p))
        heap = BitHeap(scratch, limit)
        if by_mod:
            _mod_into(heap, extend(x, limit, False), extend(y, limit, False), 0, limit)
        else:
            _full_into(heap, x, y, 0, limit, allow_mod=False)
        costs.append(live_and_count(scratch, heap.result()))
    return costs[1] < costs[0]


def _karatsuba(b: Builder, x: Sequence[int], y: Sequence[int]) -> Word:
    """Exact unsigned product of len(x)+len(y) bits, one Karatsuba step on top.

    With x = x1 2^h + x0: xy = z0 + 2^h (s t - z0 - z2) + 2^2h z2, z0 = x0 y0, z2 = x1 y1,
    s = x0 + x1, t = y0 + y1. z0 and z2 are needed twice so they are summed on their own;
    the rows of the carry bits of s and t go into the heap directly.
    """
    p, q = len(x), len(y)
    n = max(p, q)
    x, y = extend(x, n, False), extend(y, n, False)
    h = (n + 1) // 2
    x0, x1, y0, y1 = x[:h], x[h:], y[:h], y[h:]
    z0 = mul_full(b, x0, y0)
    z2 = mul_full(b, x1, y1)
    # x1 and y1 have h or h-1 bits; s and t have h bits and a carry
    s, sc = add_carry(b, x0, extend(x1, h, False))
    t, tc = add_carry(b, y0, extend(y1, h, False))
    heap = BitHeap(b, p + q)
    heap.add_word(z0, 0)
    heap.add_word(z2, 2 * h)
    heap.add_word(z0, h, negative=True)
    heap.add_word(z2, h, negative=True)
    _full_into(heap, s, t, h)
    for j in range(h):
        heap.add_bit(b.and_(sc, t[j]), 2 * h + j)
        heap.add_bit(b.and_(tc, s[j]), 2 * h + j)
    heap.add_bit(b.and_(sc, tc), 3 * h)
    return heap.result()


def _mod_into(heap: BitHeap, x: Sequence[int], y: Sequence[int], off: int, w: int) -> None:
    """x * y mod 2^w into the heap at column off."""
    h = mod_split(w)
    if h is None:
        _schoolbook_into(heap, x, y, off, w)
        return
    _full_into(heap, x[:h], y[:h], off, w, allow_mod=False)
    _mod_into(heap, x[:w - h], y[h:w], off + h, w - h)
    _mod_into(heap, x[h:w], y[:w - h], off + h, w - h)


def _operand(x: Sequence[int], signed: bool, min_run: int) -> tuple[list[int], int]:
    """(low, s) with x = low - s 2^len(low): zero-extended words lose their top zeros, and
    a top run of at least min_run copies of the sign wire becomes s (for signed values, or
    for any word when only the product mod 2^n matters)."""
    n = len(x)
    k = 1
    while k < n and x[n - 1 - k] == x[n - 1]:
        k += 1
    if x[n - 1] == ZERO:
        return list(x[:n - k]), ZERO
    if signed and k >= min_run:
        return list(x[:n - k]), x[n - 1]
    return list(x), ZERO


def _square_into(heap: BitHeap, x: Sequence[int], limit: int) -> None:
    """x^2 for an unsigned word, bits below limit: x_i x_j and x_j x_i are one AND counted
    twice, so it enters one column higher, and x_i x_i is x_i (n(n-1)/2 ANDs and
    n(n+1)/2 heap bits, about half a product of two words)."""
    b = heap.b
    n = len(x)
    for i in range(n):
        if 2 * i < limit:
            heap.add_bit(x[i], 2 * i)
        for j in range(i + 1, n):
            if i + j + 1 >= limit:
                break
            heap.add_bit(b.and_(x[i], x[j]), i + j + 1)


def _product_into(heap: BitHeap, x: Sequence[int], y: Sequence[int], off: int,
                  limit: int) -> None:
    """x * y for unsigned words of any widths, bits below limit, into the heap at off."""
    while x and x[-1] == ZERO:
        x = x[:-1]
    while y and y[-1] == ZERO:
        y = y[:-1]
    if len(x) < len(y):
        x, y = y, x
    p, q = len(x), len(y)
    limit = min(limit, p + q)
    if q == 0 or limit <= 0:
        return
    if heap.shallow:
        # Karatsuba's nested sums add depth at every level: a Dadda tree over all partial
        # products is both shallower and smaller (64-bit mul: 4342 ANDs, depth 14)
        _schoolbook_into(heap, x, y, off, limit)
    elif p == q:
        if limit <= p:
            _mod_into(heap, x[:limit], y[:limit], off, limit)
        else:
            _full_into(heap, x, y, off, limit)
    elif not use_karatsuba(q):
        _schoolbook_into(heap, x, y, off, limit)
    else:
        # a long operand times a short one: q x q products of q-bit slices
        for c in range(0, min(p, limit), q):
            _product_into(heap, x[c:c + q], y, off + c, limit - c)


def _signed_product_into(heap: BitHeap, x: tuple[list[int], int], y: tuple[list[int], int],
                         limit: int) -> None:
    """(xl - sx 2^Lx)(yl - sy 2^Ly) below limit: the unsigned product and, Baugh-Wooley
    style, the sign rows entering the heap negated."""
    b = heap.b
    (xl, sx), (yl, sy) = x, y
    if xl == yl and sx == sy:
        # a square: (xl - sx 2^L)^2 = xl^2 - sx xl 2^(L+1) + sx 2^(2L) (sx^2 = sx)
        _square_into(heap, xl, limit)
        at = len(xl)
        if sx != ZERO:
            for j, w in enumerate(xl[:max(limit - at - 1, 0)]):
                heap.add_bit(b.and_(sx, w), at + 1 + j, negative=True)
            heap.add_bit(sx, 2 * at)
        return
    _product_into(heap, xl, yl, 0, limit)
    for s, other, at in ((sx, yl, len(xl)), (sy, xl, len(yl))):
        if s != ZERO:
            for j, w in enumerate(other[:max(limit - at, 0)]):
                heap.add_bit(b.and_(s, w), at + j, negative=True)
    if sx != ZERO and sy != ZERO:
        heap.add_bit(b.and_(sx, sy), len(xl) + len(yl))


def mul(b: Builder, x: Sequence[int], y: Sequence[int], shallow: bool = False) -> Word:
    """x * y mod 2^n (the same for signed and unsigned): at most n^2-n+1 ANDs.

    Zero- or sign-extended operands (a run of copies of the top wire) cost only their
    narrower width. ``shallow`` sums all partial products in one Dadda tree with a
    parallel-prefix final adder: AND-depth 14 instead of 63 at 64 bits, for 4342 ANDs
    instead of 3472.
    """
    n = same_width("mul", x, y)
    if n == 0:
        return []
    for a, c in ((x, y), (y, x)):
        k = const_value(c)
        if k is not None:
            return mul_const(b, a, k)
    heap = BitHeap(b, n, shallow)
    _signed_product_into(heap, _operand(x, True, 2), _operand(y, True, 2), n)
    return heap.result()


def mul_full(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False,
             width: int | None = None, shallow: bool = False) -> Word:
    """The exact 2n-bit product, or its low ``width`` bits: at most 2n^2-n ANDs.

    Signed (Baugh-Wooley): x = x' - x_s 2^(n-1) with x' the low n-1 bits, so
    xy = x'y' - 2^(n-1)(x_s y' + y_s x') + 2^(2n-2) x_s y_s; the negative rows enter the heap
    complemented, with their constant. A smaller width (a fixed-point product needs bits
    below frac + n only) leaves out the partial products of the columns above it.
    """
    n = same_width("mul_full", x, y)
    width = 2 * n if width is None else width
    if not 0 <= width <= 2 * n:
        raise WordError(f"mul_full: width {width} is not within 0..{2 * n}")
    if width <= n:
        return mul(b, x[:width], y[:width], shallow)
    heap = BitHeap(b, width, shallow)
    _signed_product_into(heap, _operand(x, signed, 1), _operand(y, signed, 1), width)
    return heap.result()
