"""Conversions between types: implicit (lossless widening only) and explicit casts.

Both produce IR nodes through a :class:`WordGraph`; the checker decides which one applies and
reports errors with positions. Casts: integer <-> integer wraps or extends (sign-extension for
signed sources), integer -> fixed multiplies by 2**F and wraps, fixed -> integer rounds toward
negative infinity, fixed -> fixed rounds toward negative infinity, anything -> bool is ``!= 0``.
"""

from __future__ import annotations

from fractions import Fraction
from math import floor

from yaogc.circuits.types import BOOL, ArrayType, BoolType, FixedType, IntType, TupleType, ValueType

from . import ops
from .values import Agg, Pub, Value, Word, lossless


class ConversionError(Exception):
    """The message says what cannot be converted to what; the checker adds the position."""


def pub_to_raw(value: int | Fraction, t: ValueType, wrap: bool) -> int:
    """The representation of an untyped constant in type ``t`` (integer value or fixed raw).
    Out of range: wrapped if ``wrap``, else an error. Decimals round to nearest (ties to even)."""
    if type(t) is IntType and type(value) is int:   # the common case, as below
        if not wrap and not (t.min <= value <= t.max):
            raise ConversionError(f"{_shown(value)} does not fit in {t} ({t.range_text})")
        return ops.wrap(t, value)
    if isinstance(t, BoolType):
        if value in (0, 1) and wrap:
            return int(value)
        raise ConversionError("a bool is written True or False")
    if isinstance(t, IntType):
        if isinstance(value, Fraction) and value.denominator != 1:
            if not wrap:
                raise ConversionError(f"the decimal {_shown(value)} is not an integer ({t})")
            value = floor(value)
        v = int(value)
        if not wrap and not (t.min <= v <= t.max):
            raise ConversionError(f"{_shown(v)} does not fit in {t} ({t.range_text})")
        return ops.wrap(t, v)
    if isinstance(t, FixedType):
        raw = round(Fraction(value) * (1 << t.frac))
        rt = t.raw_type
        if not wrap and not (rt.min <= raw <= rt.max):
            lo, hi = float(Fraction(rt.min, 1 << t.frac)), float(Fraction(rt.max, 1 << t.frac))
            raise ConversionError(f"{_shown(value)} does not fit in {t} ({lo}..{hi})")
        return ops.wrap(t, raw)
    raise ConversionError(f"a number cannot be used as {t}")


def _shown(value) -> str:
    """A constant as a message shows it: an integer's digits (a width beyond 128 bits by its
    size), a decimal as a float (in scientific notation past a float's range)."""
    if isinstance(value, int) or isinstance(value, Fraction) and value.denominator == 1:
        v = int(value)
        return str(v) if v.bit_length() <= 128 else f"a {v.bit_length()}-bit number"
    try:
        return repr(float(value))
    except OverflowError:
        from decimal import Decimal
        return format(Decimal(value.numerator) / Decimal(value.denominator), ".6e")


def zero(g, t: ValueType) -> Value:
    if isinstance(t, ArrayType):
        z = zero(g, t.elem)
        return Agg((z,) * t.length, t)
    if isinstance(t, TupleType):
        return Agg(tuple(zero(g, e) for e in t.elems), t)
    return Word(g.const(t, 0), t)


def _fixed_rescale(g, n: int, src: FixedType, dst: FixedType) -> int:
    """Raw fixed value ``n`` of type src re-expressed in dst (floor when fraction bits drop)."""
    wide = IntType(max(src.bits, dst.bits) + max(0, dst.frac - src.frac), True)
    x = g.make("resize", wide, (g.make("reinterp", src.raw_type, (n,)),))
    if dst.frac > src.frac:
        x = g.make("shl", wide, (x,), dst.frac - src.frac)
    elif dst.frac < src.frac:
        x = g.make("shr", wide, (x,), src.frac - dst.frac)
    return g.make("reinterp", dst, (g.make("resize", dst.raw_type, (x,)),))


def implicit(g, v: Value, t: ValueType, wrap: bool = False) -> Value:
    """``v`` as type ``t`` when that loses nothing; raises ConversionError otherwise."""
    if isinstance(v, Pub):
        # the same constant in the same type is the same node: an unrolled loop converts
        # its literals (the 1 of count += 1, the k of x == k) once per graph, not per use
        key = (v.value, type(v.value), t._k, wrap)
        got = g.pub_words.get(key)
        if got is not None:
            return got
        if isinstance(t, (ArrayType, TupleType)):
            raise ConversionError(f"expected {t}, got a single number")
        got = g.pub_words[key] = Word(g.const(t, pub_to_raw(v.value, t, wrap)), t)
        return got
    if v.type == t:
        return v
    if isinstance(v, Agg):
        if isinstance(t, ArrayType) and isinstance(v.type, ArrayType) and t.length == v.type.length:
            return Agg(tuple(implicit(g, it, t.elem, wrap) for it in v.items), t)
        if isinstance(t, TupleType) and isinstance(v.type, TupleType) and len(t.elems) == len(v.items):
            return Agg(tuple(implicit(g, it, e, wrap) for it, e in zip(v.items, t.elems)), t)
        raise ConversionError(f"expected {t}, got {v.type}")
    if not lossless(v.type, t):
        hint = ""
        if isinstance(t, (IntType, FixedType, BoolType)) and isinstance(v.type, (IntType, FixedType, BoolType)):
            hint = f"; convert explicitly with {t}(...)"
        raise ConversionError(f"expected {t}, got {v.type}{hint}")
    if isinstance(t, FixedType):
        return Word(_fixed_rescale(g, v.node, v.type, t), t)
    return Word(g.make("resize", t, (v.node,)), t)


def cast(g, v: Value, t: ValueType) -> Value:
    """The explicit conversion ``T(v)``; arrays convert element by element."""
    if isinstance(v, Agg):
        if isinstance(v.type, ArrayType) and not isinstance(t, (ArrayType, TupleType)):
            items = tuple(cast(g, it, t) for it in v.items)
            return Agg(items, _retyped(v.type, items[0]))
        raise ConversionError(f"cannot convert {v.type} to {t}")
    if isinstance(t, (ArrayType, TupleType)):
        raise ConversionError(f"cannot convert a single value to {t}")
    if isinstance(v, Pub):
        if isinstance(t, BoolType):
            return Word(g.const(BOOL, int(v.value != 0)), BOOL)
        return Word(g.const(t, pub_to_raw(v.value, t, wrap=True)), t)
    s, n = v.type, v.node
    if s == t:
        return v
    if isinstance(t, BoolType):
        return Word(g.make("ne", BOOL, (n, g.const(s, 0))), BOOL)
    if isinstance(t, IntType):
        if isinstance(s, FixedType):
            whole = g.make("reinterp", s.raw_type, (g.make("shr", s, (n,), s.frac),))
            return Word(g.make("resize", t, (whole,)), t)
        return Word(g.make("resize", t, (n,)), t)
    assert isinstance(t, FixedType)
    if isinstance(s, FixedType):
        return Word(_fixed_rescale(g, n, s, t), t)
    # x * 2^F exactly, in a signed word that holds it, then narrowed to t's raw integer: the
    # same wires as shifting within t's width, but the narrowing is a cast of its own, so the
    # range analysis warns where the integer does not fit (fix16_8(u8 200) wraps to -56) and
    # checked mode checks it (the shift within t's width was neither)
    src_signed = isinstance(s, IntType) and s.signed
    wide = IntType(max(t.bits, s.width + (not src_signed) + t.frac), True)
    x = g.make("shl", wide, (g.make("resize", wide, (n,)),), t.frac)
    return Word(g.make("reinterp", t, (g.make("resize", t.raw_type, (x,)),)), t)


def _retyped(at: ArrayType, first: Value) -> ArrayType:
    return ArrayType(first.type, at.length)


def merge(g, c: int, a: Value, b: Value) -> Value:
    """``c ? a : b`` for two values of the same type (a multiplexer per scalar)."""
    if isinstance(a, Agg):
        changed = a.differs(b)
        if changed is None:
            return Agg(tuple(merge(g, c, x, y) for x, y in zip(a.items, b.items)), a.type)
        # one made from the other by a few writes (a secret 'if' that assigned elements):
        # elsewhere they hold the same values, whose multiplexer is the value itself
        muxed = [merge(g, c, a.item(i), b.item(i)) for i in changed]
        out = a
        for i, m in zip(changed, muxed):
            out = out.set(i, m)
        return out
    return Word(g.make("mux", a.type, (c, a.node, b.node)), a.type)
