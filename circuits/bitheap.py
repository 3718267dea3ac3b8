"""A bit heap: many weighted bits summed mod 2^W with full and half adders, one AND each.

Multi-operand addition, multiplication and popcount all reduce to this: put every bit in the
column of its weight, then reduce each column, lowest first, to a single bit. A column of m
bits needs ceil((m-1)/2) adders (a full adder turns 3 bits into 1 plus a carry, a half adder 2
into 1), each one AND under free XOR, and sends as many carries to the next column; the top
column is only XORed. Within a column the adders always take the bits that are ready earliest
(lowest AND-depth), which keeps the depth near that of a Wallace tree (Oklobdzija, Villeger,
Liu, "A method for speed optimized partial product reduction", IEEE TC 1996).

Negative terms are allowed: -w * 2^j is added as ~w * 2^j plus the constant -2^j, and all
constants are gathered into one number whose bits join the columns at the end. A constant 1
next to an odd number of other bits costs nothing (its half adder is a NOT and a wire).
"""

from __future__ import annotations

import heapq
import weakref
from typing import Sequence

from .builder import ONE, ZERO, Builder
from .circuit import Op

_LEVELS: "weakref.WeakKeyDictionary[Builder, dict[int, int]]" = weakref.WeakKeyDictionary()


def and_level(b: Builder, w: int) -> int:
    """AND-depth of a builder wire (memoised per builder; inputs and constants are 0)."""
    memo = _LEVELS.get(b)
    if memo is None:
        memo = _LEVELS[b] = {}
    stack = [w]
    while stack:
        v = stack[-1]
        if v in memo:
            stack.pop()
            continue
        op, a, c = b.gate(v)
        if op is None or op in (Op.CONST0, Op.CONST1):
            memo[v] = 0
            stack.pop()
            continue
        deps = (a,) if op == Op.NOT else (a, c)
        missing = [d for d in deps if d not in memo]
        if missing:
            stack.extend(missing)
            continue
        memo[v] = max(memo[d] for d in deps) + (op == Op.AND)
        stack.pop()
    return memo[w]


def live_and_count(b: Builder, wires: Sequence[int]) -> int:
    """AND gates that some wire in wires depends on (what remains after dead-code removal)."""
    seen, stack, n = set(), list(wires), 0
    while stack:
        w = stack.pop()
        if w in seen:
            continue
        seen.add(w)
        op, a, c = b.gate(w)
        if op is None or op in (Op.CONST0, Op.CONST1):
            continue
        n += op == Op.AND
        stack.append(a)
        if op != Op.NOT:
            stack.append(c)
    return n


class BitHeap:
    """Weighted bits to be summed mod 2^width."""

    def __init__(self, b: Builder, width: int):
        self.b = b
        self.width = width
        self.cols: list[list[int]] = [[] for _ in range(width)]
        self.const = 0

    def add_bit(self, w: int, col: int, negative: bool = False) -> None:
        if col >= self.width:
            return
        if negative:
            self.const -= 1 << col
            w = self.b.not_(w)
        if w == ONE:
            self.const += 1 << col
        elif w != ZERO:
            self.cols[col].append(w)

    def add_word(self, word: Sequence[int], offset: int = 0, negative: bool = False) -> None:
        """Add (or subtract) an unsigned word shifted left by offset."""
        for i, w in enumerate(word):
            self.add_bit(w, offset + i, negative)

    def add_const(self, value: int) -> None:
        self.const += value

    def result(self) -> list[int]:
        """Reduce every column to one bit; returns the sum as a word of self.width bits."""
        b = self.b
        const = self.const % (1 << self.width) if self.width else 0
        out: list[int] = []
        carries: list[int] = []
        for j in range(self.width):
            bits = self.cols[j] + carries
            ones = bits.count(ONE) + ((const >> j) & 1)
            bits = [w for w in bits if w > ONE]
            # two constant ones in a column are one constant carry
            carries = [ONE] * (ones // 2)
            has_one = ones % 2 == 1
            if j == self.width - 1:
                acc = ONE if has_one else ZERO
                for w in bits:
                    acc = b.xor(acc, w)
                out.append(acc)
                break
            s, cs = self._column(bits, has_one)
            out.append(s)
            carries.extend(cs)
        return out

    def _column(self, bits: list[int], has_one: bool) -> tuple[int, list[int]]:
        b = self.b
        carries: list[int] = []
        if not bits:
            return (ONE if has_one else ZERO), carries
        queue = [(and_level(b, w), k, w) for k, w in enumerate(bits)]
        heapq.heapify(queue)
        seq = len(bits)
        if (len(bits) + has_one) % 2 == 0:
            # one half adder is needed; with the constant it is free: 1 + a = ~a, carry a
            la, _, a = heapq.heappop(queue)
            if has_one:
                s, c, ls = b.not_(a), a, la
                has_one = False
            else:
                lb, _, bb = heapq.heappop(queue)
                s, c, ls = b.xor(a, bb), b.and_(a, bb), max(la, lb)
            carries.append(c)
            heapq.heappush(queue, (ls, seq, s))
            seq += 1
        if has_one:
            heapq.heappush(queue, (-1, -1, ONE))
        while len(queue) >= 3:
            la, _, a = heapq.heappop(queue)
            lb, _, bb = heapq.heappop(queue)
            lc, _, c = heapq.heappop(queue)
            top = max(la, lb, lc, 0)
            s = b.xor(b.xor(a, bb), c)
            carry = b.xor(c, b.and_(b.xor(a, c), b.xor(bb, c)))
            carries.append(carry)
            heapq.heappush(queue, (top, seq, s))
            seq += 1
        return queue[0][2], [c for c in carries if c != ZERO]
