"""A bit heap: many weighted bits summed mod 2^W with full and half adders, one AND each.

Multi-operand addition, multiplication and popcount all reduce to this: put every bit in the
column of its weight, then reduce each column, lowest first, to a single bit. A column of m
bits needs ceil((m-1)/2) adders (a full adder turns 3 bits into 1 plus a carry, a half adder 2
into 1), each one AND under free XOR, and sends as many carries to the next column; the top
column is only XORed. Within a column the adders always take the bits that are ready earliest
(lowest AND-depth; Oklobdzija, Villeger, Liu, "A method for speed optimized partial product
reduction", IEEE TC 1996), so the depth is that of a Wallace tree followed by a ripple-carry
adder: about n for an n-bit product.

Negative terms are allowed: -w * 2^j is added as ~w * 2^j plus the constant -2^j, and all
constants are gathered into one number whose bits join the columns at the end. A constant 1
next to an odd number of other bits costs nothing (its half adder is a NOT and a wire).
"""

from __future__ import annotations

import heapq
import weakref
from typing import Sequence

import numpy as np

from .builder import ONE, ZERO, Builder
from .circuit import Op
from .rehash import live_mask

# depths of the bits that heaps returned, as the heaps computed them (upper bounds), so that a
# product fed into another heap is not walked gate by gate again
_HINTS: "weakref.WeakKeyDictionary[Builder, dict[int, int]]" = weakref.WeakKeyDictionary()


def and_level(b: Builder, w: int) -> int:
    """AND-depth of a builder wire (inputs and constants are 0)."""
    return b.and_level(w)


def live_and_count(b: Builder, wires: Sequence[int]) -> int:
    """AND gates that some wire in wires depends on (what remains after dead-code removal):
    one sweep over the builder's gates as arrays, newest first (choosing a construction
    counts scratch circuits of tens of thousands of gates this way, dozens per program)."""
    op, a, c = b.gate_arrays()
    live = live_mask(op, a, c, np.asarray(wires, dtype=np.int64))
    return int(np.count_nonzero(live & (op == int(Op.AND))))


class BitHeap:
    """Weighted bits to be summed mod 2^width."""

    def __init__(self, b: Builder, width: int, shallow: bool = False):
        self.b = b
        self.width = width
        self.shallow = shallow
        # (AND-depth, wire) per column; depths of the heap's own adders are carried along
        # rather than looked up (an upper bound if the builder folded a gate away)
        self.cols: list[list[tuple[int, int]]] = [[] for _ in range(width)]
        self.const = 0
        self.hints = _HINTS.get(b)
        if self.hints is None:
            self.hints = _HINTS[b] = {}

    def add_bit(self, w: int, col: int, negative: bool = False) -> None:
        """Add w * 2^col, or subtract it; columns from width up are dropped (mod 2^width)."""
        if col >= self.width:
            return
        if w <= ONE:
            self.const += (w ^ negative) << col
        else:
            lv = self.hints.get(w)
            if lv is None:
                lv = and_level(self.b, w)
            self.cols[col].append((lv, self.b.not_(w) if negative else w))
        if negative:
            self.const -= 1 << col

    def add_word(self, word: Sequence[int], offset: int = 0, negative: bool = False) -> None:
        """Add (or subtract) an unsigned word shifted left by offset."""
        for i, w in enumerate(word):
            self.add_bit(w, offset + i, negative)

    def add_const(self, value: int) -> None:
        self.const += value

    def result(self) -> list[int]:
        """Reduce every column to one bit; returns the sum as a word of self.width bits."""
        if self.shallow:
            return self._result_shallow()
        b = self.b
        const = self.const % (1 << self.width) if self.width else 0
        out: list[int] = []
        carries: list[tuple[int, int]] = []
        for j in range(self.width):
            bits = self.cols[j] + carries
            ones = sum(1 for _, w in bits if w == ONE) + ((const >> j) & 1)
            bits = [lw for lw in bits if lw[1] > ONE]
            # two constant ones in a column are one constant carry
            carries = [(0, ONE)] * (ones // 2)
            has_one = ones % 2 == 1
            if j == self.width - 1:
                acc = ONE if has_one else ZERO
                for _, w in bits:
                    acc = b.xor(acc, w)
                self.hints.setdefault(acc, max((lv for lv, _ in bits), default=0))
                out.append(acc)
                break
            (ls, s), cs = self._column(bits, has_one)
            self.hints.setdefault(s, ls)
            out.append(s)
            carries.extend(cs)
        return out

    def _result_shallow(self) -> list[int]:
        """Dadda tree: stages of full and half adders bring every column under the heights
        ..., 9, 6, 4, 3, 2 (Dadda, "Some schemes for parallel multipliers", Alta Frequenza
        1965), then a parallel-prefix adder sums the two rows. AND-depth about
        log1.5(bits per column) + log2 width, for about (width/2) log2 width more ANDs."""
        from .shallow import add_shallow  # shallow -> wordops -> bitheap: import when used
        b, width = self.b, self.width
        const = self.const % (1 << width) if width else 0
        cols = [col + ([(0, ONE)] if (const >> j) & 1 else []) for j, col in enumerate(self.cols)]
        targets = [2]
        while targets[-1] < max(map(len, cols), default=0):
            targets.append(targets[-1] * 3 // 2)
        for d in reversed(targets[:-1]):
            new: list[list[tuple[int, int]]] = [[] for _ in range(width)]
            for j, col in enumerate(cols):
                col = sorted(col)
                if j == width - 1:  # the top column's carries fall off: XOR is enough
                    acc = ZERO
                    for _, w in col:
                        acc = b.xor(acc, w)
                    new[j].append((max((lv for lv, _ in col), default=0), acc))
                    continue
                height = len(col) + len(new[j])
                i = 0
                while height > d and len(col) - i >= 2:
                    if height > d + 1 and len(col) - i >= 3:
                        (la, a), (lb, c2), (lc, c) = col[i:i + 3]
                        top = max(la, lb, lc)
                        new[j].append((top, b.xor(b.xor(a, c2), c)))
                        carry = b.xor(c, b.and_(b.xor(a, c), b.xor(c2, c)))
                        i, height = i + 3, height - 2
                    else:
                        (la, a), (lb, c2) = col[i:i + 2]
                        top = max(la, lb)
                        new[j].append((top, b.xor(a, c2)))
                        carry = b.and_(a, c2)
                        i, height = i + 2, height - 1
                    new[j + 1].append((top + 1, carry))
                new[j].extend(col[i:])
            cols = new
        rows = [[col[k][1] if len(col) > k else ZERO for col in cols] for k in (0, 1)]
        return add_shallow(b, rows[0], rows[1])

    def _column(self, bits: list[tuple[int, int]],
                has_one: bool) -> tuple[tuple[int, int], list[tuple[int, int]]]:
        """((depth, bit), carries) of one column."""
        b = self.b
        carries: list[tuple[int, int]] = []
        if not bits:
            return (0, ONE if has_one else ZERO), carries
        queue = [(lv, k, w) for k, (lv, w) in enumerate(bits)]
        heapq.heapify(queue)
        seq = len(bits)
        if (len(bits) + has_one) % 2 == 0:
            # one half adder is needed; with the constant it is free: 1 + a = ~a, carry a
            la, _, a = heapq.heappop(queue)
            if has_one:
                s, ls = b.not_(a), la
                carries.append((la, a))
                has_one = False
            else:
                lb, _, bb = heapq.heappop(queue)
                s, ls = b.xor(a, bb), max(la, lb)
                carries.append((ls + 1, b.and_(a, bb)))
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
            carries.append((top + 1, b.xor(c, b.and_(b.xor(a, c), b.xor(bb, c)))))
            heapq.heappush(queue, (top, seq, s))
            seq += 1
        return (queue[0][0], queue[0][2]), [lc for lc in carries if lc[1] != ZERO]
