"""Word-level gates with the fewest ANDs: add, subtract, compare, equal, mux, shifts, min/max.

A word is a list of builder wires, bit 0 (least significant) first. Every function takes the
:class:`~yaogc.circuits.builder.Builder` first and leaves folding constants and sharing equal
gates to it, so passing constant words (from :func:`const_word`) costs nothing extra.

AND counts under free XOR (n = word width) and where they come from:

- ``add``, ``sub`` mod 2^n: n-1; ``add_carry``/``sub_borrow``: n. Ripple carry with one AND
  per bit, c' = c ^ ((x ^ c) & (y ^ c)) (Boyar, Peralta, Pochuev, TCS 2000).
- ``lt``/``le``/``gt``/``ge``: n, the borrow chain alone (Kolesnikov, Sadeghi, Schneider,
  CANS 2009); signed compares flip the two sign bits, which is free.
- ``eq``/``ne``: n-1, a balanced AND tree of XNORs (AND-depth ceil(log2 n)).
- ``mux``: n. ``neg``: n-2. ``abs_``: n-1. ``min_``/``max_``: 2n.
- shifts and rotates by a constant: 0; by a secret w-bit amount: a barrel shifter of
  k = ceil(log2 n) stages of n muxes, plus n + w - k - 1 when w > k to clear (or sign-fill)
  the word when the amount reaches n.
- ``restoring``: unsigned division and remainder (used by :mod:`.division`), and
  ``mod_small``, the remainder by a small public constant.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

from .bitheap import live_and_count
from .builder import ONE, ZERO, Builder
from .circuit import CircuitError
from .types import uint

Word = list[int]


class WordError(CircuitError):
    """A word operation called with operands it cannot take (widths, shift counts)."""


def same_width(what: str, *words: Sequence[int]) -> int:
    n = len(words[0])
    for w in words[1:]:
        if len(w) != n:
            raise WordError(f"{what}: operand widths differ ({n} and {len(w)} bits)")
    return n


def _nonempty(what: str, x: Sequence[int]) -> int:
    if not x:
        raise WordError(f"{what}: needs a word of at least 1 bit")
    return len(x)


# --- constants and widths ------------------------------------------------------------------
def const_word(value: int, n: int) -> Word:
    """The n-bit two's complement of ``value`` as constant wires."""
    if n < 0:
        raise WordError(f"const_word: negative width {n}")
    return [ONE if (value >> i) & 1 else ZERO for i in range(n)]


def const_value(w: Sequence[int]) -> int | None:
    """The unsigned value of a word whose wires are all constant, else None."""
    v = 0
    for i, bit in enumerate(w):
        if bit > ONE:
            return None
        v |= bit << i
    return v


def extend(w: Sequence[int], n: int, signed: bool) -> Word:
    """Widen to n bits with the sign bit (signed) or zeros; a narrower n truncates."""
    if n < 0:
        raise WordError(f"extend: negative width {n}")
    if n <= len(w):
        return list(w[:n])
    fill = w[-1] if (signed and w) else ZERO
    return list(w) + [fill] * (n - len(w))


def truncate(w: Sequence[int], n: int) -> Word:
    """The low n bits."""
    if not 0 <= n <= len(w):
        raise WordError(f"truncate: cannot take {n} bits of a {len(w)}-bit word")
    return list(w[:n])


# --- bitwise -------------------------------------------------------------------------------
def and_w(b: Builder, x: Sequence[int], y: Sequence[int]) -> Word:
    same_width("and", x, y)
    return [b.and_(p, q) for p, q in zip(x, y)]


def or_w(b: Builder, x: Sequence[int], y: Sequence[int]) -> Word:
    same_width("or", x, y)
    return [b.or_(p, q) for p, q in zip(x, y)]


def xor_w(b: Builder, x: Sequence[int], y: Sequence[int]) -> Word:
    same_width("xor", x, y)
    return [b.xor(p, q) for p, q in zip(x, y)]


def not_w(b: Builder, x: Sequence[int]) -> Word:
    return [b.not_(p) for p in x]


def _balanced(fn: Callable, items: list):
    """fn folded over items pairwise, layer by layer (depth ceil(log2 len))."""
    while len(items) > 1:
        nxt = [fn(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]


def and_tree(b: Builder, bits: Sequence[int]) -> int:
    """AND of all bits (ONE for none): len-1 ANDs in a balanced tree."""
    return _balanced(b.and_, list(bits)) if bits else ONE


def or_tree(b: Builder, bits: Sequence[int]) -> int:
    """OR of all bits (ZERO for none): len-1 ANDs in a balanced tree."""
    return b.not_(and_tree(b, [b.not_(p) for p in bits]))


# --- addition and subtraction --------------------------------------------------------------
def _ripple(b: Builder, x: Sequence[int], y: Sequence[int], c: int,
            carry_out: bool) -> tuple[Word, int]:
    """x + y + c; the carry of the top bit is only computed (one more AND) if asked for."""
    n = len(x)
    out = []
    for i in range(n):
        xi, yi = x[i], y[i]
        out.append(b.xor(b.xor(xi, yi), c))
        if i < n - 1 or carry_out:
            c = b.xor(c, b.and_(b.xor(xi, c), b.xor(yi, c)))
    return out, (c if carry_out else ZERO)


def add(b: Builder, x: Sequence[int], y: Sequence[int], cin: int = ZERO) -> Word:
    """x + y + cin mod 2^n: n-1 ANDs."""
    same_width("add", x, y)
    return _ripple(b, x, y, cin, False)[0]


def add_carry(b: Builder, x: Sequence[int], y: Sequence[int], cin: int = ZERO) -> tuple[Word, int]:
    """(x + y + cin mod 2^n, carry out): n ANDs."""
    same_width("add_carry", x, y)
    return _ripple(b, x, y, cin, True)


def sub(b: Builder, x: Sequence[int], y: Sequence[int]) -> Word:
    """x - y mod 2^n, as x + ~y + 1: n-1 ANDs."""
    same_width("sub", x, y)
    return _ripple(b, x, not_w(b, y), ONE, False)[0]


def sub_borrow(b: Builder, x: Sequence[int], y: Sequence[int]) -> tuple[Word, int]:
    """(x - y mod 2^n, borrow = [x < y] unsigned): n ANDs."""
    same_width("sub_borrow", x, y)
    d, c = _ripple(b, x, not_w(b, y), ONE, True)
    return d, b.not_(c)


def inc_by(b: Builder, x: Sequence[int], c: int) -> Word:
    """x + c mod 2^n for one bit c: n-1 ANDs (half adders)."""
    out = []
    for i, xi in enumerate(x):
        out.append(b.xor(xi, c))
        if i < len(x) - 1:
            c = b.and_(xi, c)
    return out


def inc(b: Builder, x: Sequence[int]) -> Word:
    """x + 1 mod 2^n: n-2 ANDs."""
    return inc_by(b, x, ONE)


def dec(b: Builder, x: Sequence[int]) -> Word:
    """x - 1 mod 2^n: n-2 ANDs."""
    return not_w(b, inc(b, not_w(b, x)))


def neg(b: Builder, x: Sequence[int]) -> Word:
    """-x mod 2^n = ~x + 1: n-2 ANDs."""
    return inc(b, not_w(b, x))


def cond_neg(b: Builder, x: Sequence[int], c: int) -> Word:
    """c ? -x : x, as (x ^ c) + c: n-1 ANDs."""
    return inc_by(b, [b.xor(xi, c) for xi in x], c)


def abs_(b: Builder, x: Sequence[int]) -> Word:
    """|x| of a signed word, as an n-bit unsigned word (|INT_MIN| = 2^(n-1)): n-1 ANDs."""
    _nonempty("abs", x)
    return cond_neg(b, x, x[-1])


# --- comparison ----------------------------------------------------------------------------
def flip_sign(b: Builder, x: Sequence[int]) -> Word:
    return list(x[:-1]) + [b.not_(x[-1])]


def lt_chain(b: Builder, x: Sequence[int], y: Sequence[int], borrow: int = ZERO) -> int:
    """[x < y + borrow] unsigned, the borrow chain of x - y - borrow: n ANDs.

    b' = b ^ ((x ^ y) & (y ^ b)): where x and y differ the borrow becomes y, else it stays.
    """
    for xi, yi in zip(x, y):
        borrow = b.xor(borrow, b.and_(b.xor(xi, yi), b.xor(yi, borrow)))
    return borrow


def lt(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False) -> int:
    """[x < y]: n ANDs."""
    same_width("lt", x, y)
    if signed and x:
        x, y = flip_sign(b, x), flip_sign(b, y)
    return lt_chain(b, x, y)


def le(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False) -> int:
    """[x <= y] = not [y < x]: n ANDs."""
    return b.not_(lt(b, y, x, signed))


def gt(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False) -> int:
    return lt(b, y, x, signed)


def ge(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False) -> int:
    return b.not_(lt(b, x, y, signed))


def eq(b: Builder, x: Sequence[int], y: Sequence[int]) -> int:
    """[x == y]: n-1 ANDs, AND-depth ceil(log2 n)."""
    same_width("eq", x, y)
    return and_tree(b, [b.not_(b.xor(p, q)) for p, q in zip(x, y)])


def ne(b: Builder, x: Sequence[int], y: Sequence[int]) -> int:
    return b.not_(eq(b, x, y))


def is_zero(b: Builder, x: Sequence[int]) -> int:
    return and_tree(b, [b.not_(p) for p in x])


def mux(b: Builder, c: int, x: Sequence[int], y: Sequence[int]) -> Word:
    """c ? x : y: n ANDs."""
    same_width("mux", x, y)
    return [b.mux(c, p, q) for p, q in zip(x, y)]


def min_(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False) -> Word:
    """The smaller of x and y: 2n ANDs."""
    return mux(b, lt(b, x, y, signed), x, y)


def max_(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False) -> Word:
    """The larger of x and y: 2n ANDs."""
    return mux(b, lt(b, x, y, signed), y, x)


def reduce_balanced(b: Builder, fn: Callable[[Builder, Word, Word], Word],
                    words: Sequence[Sequence[int]]) -> Word:
    """fn folded over words as a balanced tree, so AND-depth grows with log2 of their count."""
    if not words:
        raise WordError("reduce_balanced: no words to combine")
    return _balanced(lambda x, y: fn(b, x, y), [list(w) for w in words])


def min_words(b: Builder, words: Sequence[Sequence[int]], signed: bool = False) -> Word:
    """Minimum of m words: 2n(m-1) ANDs, comparator depth ceil(log2 m)."""
    return reduce_balanced(b, lambda bb, x, y: min_(bb, x, y, signed), words)


def max_words(b: Builder, words: Sequence[Sequence[int]], signed: bool = False) -> Word:
    return reduce_balanced(b, lambda bb, x, y: max_(bb, x, y, signed), words)


# --- shifts and rotates --------------------------------------------------------------------
def _count(what: str, k: int) -> int:
    if k < 0:
        raise WordError(f"{what}: negative shift count {k}")
    return k


def shl(x: Sequence[int], k: int) -> Word:
    """x << k (zeros in), by a public count: free."""
    n, k = len(x), min(_count("shl", k), len(x))
    return [ZERO] * k + list(x[:n - k])


def shr(x: Sequence[int], k: int, signed: bool = False) -> Word:
    """x >> k, arithmetic (sign fill) when signed, by a public count: free."""
    n, k = len(x), min(_count("shr", k), len(x))
    fill = x[-1] if (signed and n) else ZERO
    return list(x[k:]) + [fill] * k


def rotl(x: Sequence[int], k: int) -> Word:
    """Rotate left by k mod n: free."""
    n = len(x)
    if n == 0:
        return []
    k %= n
    return list(x[n - k:]) + list(x[:n - k])


def rotr(x: Sequence[int], k: int) -> Word:
    n = len(x)
    return rotl(x, (n - k % n) % n) if n else []


def _stages(n: int) -> int:
    """k = ceil(log2 n): the barrel shifter's stages (0 for a 1-bit word)."""
    return (n - 1).bit_length()


def _shift_var(b: Builder, x: Sequence[int], s: Sequence[int], left: bool, fill: int) -> Word:
    n = _nonempty("shift", x)
    k = _stages(n)
    x = list(x)
    for j in range(min(len(s), k)):
        sh = 1 << j
        # sh < n for every stage below k
        moved = [fill] * sh + x[:n - sh] if left else x[sh:] + [fill] * sh
        x = [b.mux(s[j], m, o) for m, o in zip(moved, x)]
    if len(s) > k:
        over = or_tree(b, s[k:])
        x = [b.mux(over, fill, o) for o in x]
    return x


def shl_var(b: Builder, x: Sequence[int], s: Sequence[int]) -> Word:
    """x << s for a secret unsigned amount s; s >= n gives 0."""
    return _shift_var(b, x, s, True, ZERO)


def shr_var(b: Builder, x: Sequence[int], s: Sequence[int], signed: bool = False) -> Word:
    """x >> s for a secret unsigned amount s; s >= n gives 0, or all sign bits when signed."""
    _nonempty("shr", x)
    return _shift_var(b, x, s, False, x[-1] if signed else ZERO)


def restoring(b: Builder, a: Sequence[int], d: Sequence[int],
              subtract: Callable | None = None) -> tuple[Word, Word, list[int]]:
    """Unsigned a // d and a % d for len(a) <= len(d), restoring division.

    Step k sees a k-bit partial remainder r'; r' >= d iff d < 2^k (bit small[k], one suffix
    OR chain for all k) and r' >= d mod 2^k (a k-bit borrow chain). So step k costs 2k+1
    ANDs: borrow chain, the AND with small[k], a k-bit mux. A divisor whose top bits are
    constant zeros keeps the remainder below its own width L, so no step costs more than
    2L+3 (plus len(a) - L ANDs to return all of a when d = 0). ``subtract`` replaces the
    ripple sub_borrow (with a parallel-prefix one: AND-depth about log2 k + 2 per step instead
    of k + 1, for about (k/2) log2 k more ANDs). Returns (quotient, remainder, small) with
    len(a) bits each for the first two and small[k] = [d < 2^k], k = 0..len(d).
    """
    m, n = len(a), len(d)
    small = [ONE] * (n + 1)
    for k in range(n - 1, -1, -1):
        small[k] = b.and_(small[k + 1], b.not_(d[k]))
    width = n
    while width and d[width - 1] == ZERO:
        width -= 1
    q = [ZERO] * m
    r: Word = []
    subtract = subtract or sub_borrow
    for i in range(m - 1, -1, -1):
        rp = [a[i]] + r
        k = len(rp)
        diff, borrow = subtract(b, rp, d[:k])
        q[i] = b.and_(b.not_(borrow), small[k])
        r = mux(b, q[i], diff, rp)[:width]
    # the cut is exact unless d = 0, where the remainder is all of a
    r = r + [b.and_(ai, small[0]) for ai in a[len(r):]]
    return q, r, small


def mod_small(b: Builder, s: Sequence[int], d: int) -> Word:
    """s mod d (unsigned s, public d >= 1) as a word of ceil(log2 d) bits: the restoring
    division by a constant, whose remainder stays that narrow (about 2k+1 ANDs per bit of s)."""
    if d < 1:
        raise WordError(f"mod_small: divisor {d} must be positive")
    r = restoring(b, s, const_word(d, max(len(s), d.bit_length())))[1]
    return extend(r, (d - 1).bit_length(), False)


@lru_cache(maxsize=None)
def _mod_small_cost(w: int, d: int) -> int:
    """ANDs of mod_small on w fresh bits, counted on a scratch builder."""
    scratch = Builder("plan")
    r = mod_small(scratch, scratch.input("p", "s", uint(w)), d)
    return live_and_count(scratch, r)


def _rot_var(b: Builder, x: Sequence[int], s: Sequence[int], sign: int) -> Word:
    # rotating by s_j * 2^j for every bit j adds up to rotating by s mod n; bits with
    # 2^j = 0 mod n (all j >= k when n is a power of two) cost nothing. For other n and a
    # wide amount, reducing the amount mod n first can be cheaper than one stage per bit.
    n = _nonempty("rotate", x)
    k = _stages(n)
    stages = sum(1 for j in range(len(s)) if (1 << j) % n)
    if len(s) > k and n * k + _mod_small_cost(len(s), n) < n * stages:
        s = mod_small(b, s, n)
    x = list(x)
    for j, sj in enumerate(s):
        amt = (sign * (1 << j)) % n
        if amt:
            x = [b.mux(sj, x[(i - amt) % n], x[i]) for i in range(n)]
    return x


def rotl_var(b: Builder, x: Sequence[int], s: Sequence[int]) -> Word:
    """Rotate left by (s mod n) for a secret unsigned amount s."""
    return _rot_var(b, x, s, 1)


def rotr_var(b: Builder, x: Sequence[int], s: Sequence[int]) -> Word:
    return _rot_var(b, x, s, -1)
