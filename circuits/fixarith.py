"""Two interchangeable arithmetics for the math library: on circuit words and on plain integers.

The algorithms of :mod:`.fixmath` are written once against this small interface and run
either way: :class:`GateArith` emits gates through the word library (so each step costs what
the word library costs), :class:`IntArith` computes the same bits on Python integers. The
language's reference semantics (the interpreter, constant folding) use the second, the
circuits the first, and both are the same code path, so they agree bit for bit.

A word is a fixed-width bit string: a list of wires (gates) or a ``(value, width)`` pair with
``0 <= value < 2**width`` (integers). A bit is a wire or 0/1. Signedness is a property of the
operation (``ext``, ``mul``, ``lt``, ``shr``), never of the word, as in hardware.
"""

from __future__ import annotations

from . import words as W
from .builder import ONE, ZERO, Builder


def _mask(n: int) -> int:
    return (1 << n) - 1


def _signed(v: int, n: int) -> int:
    return v - (1 << n) if n and v >> (n - 1) else v


class IntArith:
    """Words as (value, width) pairs."""

    def const(self, v: int, n: int):
        return (v & _mask(n), n)

    def width(self, x) -> int:
        return x[1]

    def ext(self, x, n: int, signed: bool):
        v, w = x
        if signed:
            v = _signed(v, w)
        return (v & _mask(n), n)

    def cut(self, x, lo: int, hi: int):
        return ((x[0] >> lo) & _mask(hi - lo), hi - lo)

    def cat(self, *parts):
        """Concatenation, lowest part first; a part may be a single bit."""
        v, n = 0, 0
        for p in parts:
            pv, pn = p if isinstance(p, tuple) else (p, 1)
            v |= pv << n
            n += pn
        return (v, n)

    def bit(self, x, i: int) -> int:
        return (x[0] >> i) & 1

    def add(self, x, y):
        return ((x[0] + y[0]) & _mask(x[1]), x[1])

    def add_carry(self, x, y, cin):
        s = x[0] + y[0] + cin
        return (s & _mask(x[1]), x[1]), s >> x[1]

    def sub_borrow(self, x, y):
        d = x[0] - y[0]
        return (d & _mask(x[1]), x[1]), int(d < 0)

    def inc(self, x):
        return ((x[0] + 1) & _mask(x[1]), x[1])

    def cond_neg(self, x, c):
        return ((-x[0] if c else x[0]) & _mask(x[1]), x[1])

    def mul(self, x, y, signed: bool, width: int):
        a, b = x[0], y[0]
        if signed:
            a, b = _signed(a, x[1]), _signed(b, y[1])
        return ((a * b) & _mask(width), width)

    def mul_const(self, x, k: int):
        return ((x[0] * k) & _mask(x[1]), x[1])

    def shl(self, x, k: int):
        return ((x[0] << k) & _mask(x[1]), x[1])

    def shl_var(self, x, s):
        return ((x[0] << s[0]) & _mask(x[1]), x[1]) if s[0] < x[1] else (0, x[1])

    def lt(self, x, y, signed: bool) -> int:
        a, b = x[0], y[0]
        if signed:
            a, b = _signed(a, x[1]), _signed(b, y[1])
        return int(a < b)

    def is_zero(self, x) -> int:
        return int(x[0] == 0)

    def mux(self, c, x, y):
        return x if c else y

    def xor_bit(self, x, c):
        return (x[0] ^ (_mask(x[1]) if c else 0), x[1])

    def and_(self, a, b):
        return a & b

    def or_(self, a, b):
        return a | b

    def not_(self, a):
        return a ^ 1

    def table(self, idx, values, n: int):
        i = idx[0] if idx is not None else 0
        return (values[i] & _mask(n), n)


class GateArith:
    """Words as lists of builder wires."""

    def __init__(self, b: Builder):
        self.b = b

    def const(self, v: int, n: int):
        return W.const_word(v, n)

    def width(self, x) -> int:
        return len(x)

    def ext(self, x, n: int, signed: bool):
        return W.extend(x, n, signed)

    def cut(self, x, lo: int, hi: int):
        return list(x[lo:hi])

    def cat(self, *parts):
        out = []
        for p in parts:
            out.extend(p if isinstance(p, list) else [p])
        return out

    def bit(self, x, i: int):
        return x[i]

    def add(self, x, y):
        return W.add(self.b, x, y)

    def add_carry(self, x, y, cin):
        return W.add_carry(self.b, x, y, cin)

    def sub_borrow(self, x, y):
        return W.sub_borrow(self.b, x, y)

    def inc(self, x):
        return W.inc(self.b, x)

    def cond_neg(self, x, c):
        return W.cond_neg(self.b, x, c)

    def mul(self, x, y, signed: bool, width: int):
        n = max(len(x), len(y))
        return W.mul_full(self.b, W.extend(x, n, signed), W.extend(y, n, signed), signed,
                          width=width)

    def mul_const(self, x, k: int):
        return W.mul_const(self.b, x, k)

    def shl(self, x, k: int):
        return W.shl(x, k)

    def shl_var(self, x, s):
        return W.shl_var(self.b, x, s)

    def lt(self, x, y, signed: bool):
        return W.lt(self.b, x, y, signed)

    def is_zero(self, x):
        return W.is_zero(self.b, x)

    def mux(self, c, x, y):
        return W.mux(self.b, c, x, y)

    def xor_bit(self, x, c):
        return [self.b.xor(p, c) for p in x]

    def and_(self, a, b):
        return self.b.and_(a, b)

    def or_(self, a, b):
        return self.b.or_(a, b)

    def not_(self, a):
        return self.b.not_(a)

    def table(self, idx, values, n: int):
        """values[idx] by a multiplexer tree over constant words (the first level is free:
        a mux between two constants is the select wire, its complement or a constant)."""
        layer = [W.const_word(v, n) for v in values]
        for s in (idx or []):
            layer = [W.mux(self.b, s, layer[i + 1], layer[i]) for i in range(0, len(layer), 2)]
        return layer[0]


__all__ = ["IntArith", "GateArith", "ONE", "ZERO"]
