"""Multi-operand sums, popcount, multiplication and division on words, with few ANDs.

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
- ``mul_const`` by a public k: shift-and-add over the binary or the non-adjacent form of k,
  whichever costs fewer ANDs.
- ``divmod_u``: n^2+3n-3, restoring division where step k compares a k-bit partial remainder
  and a precomputed "divisor < 2^k" bit decides the rest (as in EMP-toolkit).
- ``divmod_s``: n^2+6n-6, C semantics (truncation toward zero), see :func:`divmod_s`.

Division by zero and overflow never fail; :func:`ref_divmod_u` and :func:`ref_divmod_s` are
the same semantics on Python integers, for interpreters and tests.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from .bitheap import BitHeap, live_and_count
from .mulplan import mod_split, use_karatsuba
from .builder import ONE, ZERO, Builder
from .types import uint
from .wordops import (Word, WordError, _same_width, abs_, const_value, eq, inc, inc_by,
                      mux, sub_borrow, add_carry, extend)



# --- sums ----------------------------------------------------------------------------------
def popcount(b: Builder, bits: Sequence[int]) -> Word:
    """Number of set bits, as a word of bit_length(len(bits)) bits: n - popcount(n) ANDs."""
    heap = BitHeap(b, len(bits).bit_length())
    for w in bits:
        heap.add_bit(w, 0)
    return heap.result()


def sum_words(b: Builder, words: Sequence[Sequence[int]]) -> Word:
    """Sum of equal-width words mod 2^n in one bit heap."""
    if not words:
        raise WordError("sum_words: no words to add")
    n = _same_width("sum", *words)
    heap = BitHeap(b, n)
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


def mul(b: Builder, x: Sequence[int], y: Sequence[int]) -> Word:
    """x * y mod 2^n (the same for signed and unsigned): at most n^2-n+1 ANDs."""
    n = _same_width("mul", x, y)
    for a, c in ((x, y), (y, x)):
        k = const_value(c)
        if k is not None:
            return mul_const(b, a, k)
    heap = BitHeap(b, n)
    _mod_into(heap, x, y, 0, n)
    return heap.result()


def mul_full(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False,
             width: int | None = None) -> Word:
    """The exact 2n-bit product, or its low ``width`` bits: at most 2n^2-n ANDs.

    Signed (Baugh-Wooley): x = x' - x_s 2^(n-1) with x' the low n-1 bits, so
    xy = x'y' - 2^(n-1)(x_s y' + y_s x') + 2^(2n-2) x_s y_s; the negative rows enter the heap
    complemented, with their constant. A smaller width (a fixed-point product needs bits
    below frac + n only) leaves out the partial products of the columns above it.
    """
    n = _same_width("mul_full", x, y)
    width = 2 * n if width is None else width
    if not 0 <= width <= 2 * n:
        raise WordError(f"mul_full: width {width} is not within 0..{2 * n}")
    if width <= n:
        return mul(b, x[:width], y[:width])
    heap = BitHeap(b, width)
    if not signed:
        _full_into(heap, x, y, 0, width)
        return heap.result()
    sx, sy = x[-1], y[-1]
    _full_into(heap, x[:-1], y[:-1], 0, width)
    for j in range(min(n - 1, width - n + 1)):
        heap.add_bit(b.and_(sx, y[j]), n - 1 + j, negative=True)
        heap.add_bit(b.and_(sy, x[j]), n - 1 + j, negative=True)
    if 2 * n - 2 < width:
        heap.add_bit(b.and_(sx, sy), 2 * n - 2)
    return heap.result()


def _naf(k: int) -> list[int]:
    """Non-adjacent form of k >= 0: digits in {-1, 0, 1}, least significant first."""
    digits = []
    while k:
        d = (2 - k % 4) if k % 2 else 0
        digits.append(d)
        k = (k - d) // 2
    return digits


def _const_terms(b: Builder, x: Sequence[int], digits: Sequence[int]) -> Word:
    n = len(x)
    heap = BitHeap(b, n)
    for i, d in enumerate(digits):
        if d:
            heap.add_word(x[:max(n - i, 0)], i, negative=d < 0)
    return heap.result()


def _and_cost(n: int, digits: Sequence[int]) -> int:
    """ANDs of the shift-and-add for these digits on n fresh input bits."""
    scratch = Builder("cost")
    _const_terms(scratch, scratch.input("p", "x", uint(n)), digits)
    return scratch.n_and


def mul_const(b: Builder, x: Sequence[int], k: int) -> Word:
    """x * k mod 2^n for a public integer k (any sign): one heap row per nonzero digit."""
    n = len(x)
    if n == 0:
        return []
    k %= 1 << n
    binary = [(k >> i) & 1 for i in range(n)]
    naf = _naf(k)[:n]
    best = binary
    if sum(map(abs, naf)) < sum(binary) and _and_cost(n, naf) < _and_cost(n, binary):
        best = naf
    return _const_terms(b, x, best)


# --- division ------------------------------------------------------------------------------
def _restoring(b: Builder, a: Sequence[int], d: Sequence[int]) -> tuple[Word, Word, list[int]]:
    """Unsigned a // d and a % d for len(a) <= len(d), restoring division.

    Step k sees a k-bit partial remainder r'; r' >= d iff d < 2^k (bit small[k], one suffix
    OR chain for all k) and r' >= d mod 2^k (a k-bit borrow chain). So step k costs 2k+1
    ANDs: borrow chain, the AND with small[k], a k-bit mux. Returns (quotient, remainder,
    small) with len(a) bits each for the first two and small[k] = [d < 2^k], k = 0..len(d).
    """
    m, n = len(a), len(d)
    small = [ONE] * (n + 1)
    for k in range(n - 1, -1, -1):
        small[k] = b.and_(small[k + 1], b.not_(d[k]))
    q = [ZERO] * m
    r: Word = []
    for i in range(m - 1, -1, -1):
        rp = [a[i]] + r
        k = len(rp)
        diff, borrow = sub_borrow(b, rp, d[:k])
        q[i] = b.and_(b.not_(borrow), small[k])
        r = mux(b, q[i], diff, rp)
    return q, r, small


def divmod_u(b: Builder, x: Sequence[int], y: Sequence[int]) -> tuple[Word, Word]:
    """Unsigned (x // y, x % y); x // 0 = 2^n - 1 and x % 0 = x. n^2+3n-3 ANDs.

    Division by zero needs no special case: no step ever finds r' < 0.
    """
    _same_width("divmod_u", x, y)
    q, r, _ = _restoring(b, x, y)
    return q, r


def divmod_s(b: Builder, x: Sequence[int], y: Sequence[int]) -> tuple[Word, Word]:
    """Signed (x / y, x % y) truncating toward zero (C): n^2+6n-6 ANDs.

    x / 0 = -1 if x >= 0 else 1 and x % 0 = x; INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0
    (the wrap-around of the exact quotient 2^(n-1)).

    Rather than |x| (n-1 ANDs) this divides a' = x ^ sign(x), which is |x| - 1 for negative
    x and has only n-1 bits, saving the division's widest step. With a' = q'|y| + r' the
    true |x| = a' + 1 gives q = q' + e, r = e ? 0 : r' + 1 where e = [r' + 1 == |y|]; and the
    negated results become q' ^ -1 + (1 - e) and ~r', both free of a second negation.
    """
    n = _same_width("divmod_s", x, y)
    if n == 0:
        return [], []
    sx, sy = x[-1], y[-1]
    ap = [b.xor(xi, sx) for xi in x[:-1]]
    d = abs_(b, y)
    q1, r1, small = _restoring(b, ap, d)
    # a' < 2^(n-1), so the quotient's top bit is set only when dividing by zero
    q1 = q1 + [small[0]]
    r1 = r1 + [ZERO]
    e = b.and_(sx, eq(b, inc(b, r1), d))
    t = b.xor(sx, sy)
    q = inc_by(b, [b.xor(qi, t) for qi in q1], b.xor(t, e))
    ne_ = b.not_(e)
    r = [b.and_(b.xor(ri, sx), ne_) for ri in r1]
    return q, r


def _wrap_s(v: int, n: int) -> int:
    v &= (1 << n) - 1
    return v - (1 << n) if v >> (n - 1) else v


def ref_divmod_u(x: int, y: int, n: int) -> tuple[int, int]:
    """Unsigned n-bit (x // y, x % y) with x // 0 = 2^n - 1, x % 0 = x (operands taken mod 2^n)."""
    mask = (1 << n) - 1
    x, y = x & mask, y & mask
    if y == 0:
        return mask, x
    return x // y, x % y


def ref_divmod_s(x: int, y: int, n: int) -> tuple[int, int]:
    """Signed n-bit (x / y, x % y) truncating toward zero, x / 0 = -1 if x >= 0 else 1,
    x % 0 = x, results wrapped to n bits (INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0)."""
    x, y = _wrap_s(x, n), _wrap_s(y, n)
    if y == 0:
        return _wrap_s(-1 if x >= 0 else 1, n), x
    q = abs(x) // abs(y)
    if (x < 0) != (y < 0):
        q = -q
    return _wrap_s(q, n), _wrap_s(x - q * y, n)
