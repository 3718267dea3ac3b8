"""Builtins about widths and layout: ``concat``, ``bitcast``, ``widen``, ``wide_sum``,
``wide_mul``, ``exact_mul``, ``like``, ``signed`` and ``frac_bits``.

They let a program (and the statistics library, whose functions take ``any`` arguments) compute
in types wide enough for the data instead of wrapping: ``wide_sum`` of m values adds
ceil(log2 m) integer bits, ``wide_mul`` returns the exact product's integer part. None of them
is reserved: a program may define a function of the same name, which then takes precedence.
"""

from __future__ import annotations

from yaogc.circuits.types import ArrayType, BoolType, FixedType, IntType, TupleType, uint

from . import nodes as N
from .convert import ConversionError, cast
from .values import Agg, Pub, TypeNameError, Word, describe, scalar_type_named

EXTRA = ("concat", "bitcast", "widen", "wide_sum", "wide_mul", "exact_mul", "like", "signed",
         "frac_bits")


def widened(t, k: int, f: int = 0):
    """Type t with k more integer bits (bool: the unsigned type of k + 1 bits) and f more
    fraction bits (an integer with f > 0 becomes fixed point)."""
    if isinstance(t, BoolType):
        return uint(k + 1)
    if isinstance(t, IntType):
        if f:   # fixed point holding the integer exactly (an unsigned one gains a sign bit)
            return FixedType(t.bits + k + f + (not t.signed), f)
        return IntType(t.bits + k, t.signed)
    return FixedType(t.bits + k + f, t.frac + f)


class WidthMixin:
    def _array_arg(self, e, v, what="an array"):
        if not (isinstance(v, Agg) and isinstance(v.type, ArrayType)):
            raise self.err(e, f"{e.name}() takes {what}, got {describe(v)}")
        return list(v.items)

    def b_concat(self, e, frame, want):
        """concat(a, b, ...): the arrays one after the other, in a common element type."""
        if not e.args:
            raise self.err(e, "concat() needs at least one array")
        items = []
        for a in e.args:
            items += self._array_arg(a if isinstance(a, N.Call) else e,
                                     self.expr(a, frame, None), "arrays")
        ew = want.elem if isinstance(want, ArrayType) else None
        return self.make_array(items, ew, e)

    def _type_arg(self, e, node):
        name = getattr(node, "name", None) if isinstance(node, N.Var) else None
        t = None
        if name is not None:
            if name in self.type_decls and not self.outside(node, name):
                t = self._alias(node)
            else:
                try:
                    t = scalar_type_named(name)
                except TypeNameError as err:
                    raise self.err(node, str(err)) from None
        if t is None or isinstance(t, ArrayType):
            raise self.err(node, f"{e.name}() needs a scalar type name here, e.g. i32 or fix32_16")
        return t

    def b_bitcast(self, e, frame, want):
        """bitcast(x, T): the same bits read as type T of the same width (free)."""
        self._nargs(e, 2)
        t = self._type_arg(e, e.args[1])
        v = self.expr(e.args[0], frame, None)

        def one(w):
            if isinstance(w, Pub):
                raise self.err(e.args[0], "bitcast() of a constant needs a type: write it as "
                                          "the type it is, e.g. bitcast(u8(200), i8)")
            if not isinstance(w, Word) or isinstance(w.type, BoolType) or isinstance(t, BoolType):
                raise self.err(e, f"bitcast() reinterprets integers and fixed point, got "
                                  f"{describe(w)} to {t}")
            if w.type.width != t.width:
                raise self.err(e, f"bitcast() keeps the bits: {w.type} has {w.type.width}, "
                                  f"{t} has {t.width}")
            return Word(self.g.make("reinterp", t, (w.node,)), t)
        if isinstance(v, Agg) and isinstance(v.type, ArrayType):
            items = tuple(one(x) for x in v.items)
            return Agg(items, ArrayType(t, len(items)))
        return one(v)

    def _const_k(self, e, node, frame) -> int:
        k = self.pub_int(node, frame, "a number of bits")
        if not 0 <= k <= 256:
            raise self.err(node, f"{e.name}() adds 0..256 bits, got {k}")
        return k

    def _widen_value(self, e, v, k, f):
        if isinstance(v, Agg) and isinstance(v.type, ArrayType):
            items = tuple(self._widen_value(e, x, k, f) for x in v.items)
            return Agg(items, ArrayType(items[0].type, len(items)))
        if not isinstance(v, Word):
            raise self.err(e, f"{e.name}() takes a typed number or an array, got {describe(v)}")
        if f and not isinstance(v.type, (FixedType, IntType)):
            raise self.err(e, f"{e.name}() adds fraction bits to numbers only, not {v.type}")
        t = widened(v.type, k, f)
        if f and isinstance(v.type, IntType):
            return cast(self.g, v, t)      # the same number, lossless: t holds every value
        return self.coerce(v, t, e)

    def b_widen(self, e, frame, want):
        """widen(x, k[, f]): x with k more integer bits and f more fraction bits (lossless;
        arrays element by element)."""
        self._nargs(e, 2, 3)
        f = self._const_k(e, e.args[2], frame) if len(e.args) == 3 else 0
        return self._widen_value(e, self.expr(e.args[0], frame, None),
                                 self._const_k(e, e.args[1], frame), f)

    def b_wide_sum(self, e, frame, want):
        """wide_sum(x): the exact sum of an array, in its element type with ceil(log2 m)
        more integer bits (m the length), so it cannot wrap."""
        self._nargs(e, 1)
        vals = self._elements(e, frame, None)
        self._numbers_only(e, vals)
        typed = [v for v in vals if isinstance(v, Word)]
        if not typed:
            return Pub(sum(v.value for v in vals))
        from .values import join_numeric
        t = join_numeric([v.type for v in typed])
        if isinstance(t, str):
            raise self.err(e, t)
        wt = widened(t, (len(vals) - 1).bit_length())      # ceil(log2 m): 0 for one value
        return self._reduce(e, [self.coerce(v, wt, e) for v in vals], None, "add")

    def b_wide_mul(self, e, frame, want):
        """wide_mul(a, b): the product in a type that holds it: integers exactly, fixed point
        with the larger fraction of the two (rounded toward negative infinity)."""
        return self._wide_product(e, frame, exact=False)

    def b_exact_mul(self, e, frame, want):
        """exact_mul(a, b): the exact product: integers as wide_mul, fixed point with the
        fraction bits of both (fix16_8 * fix16_8 is fix32_16)."""
        return self._wide_product(e, frame, exact=True)

    def _wide_product(self, e, frame, exact: bool):
        self._nargs(e, 2)
        a, b = (self.expr(x, frame, None) for x in e.args)
        if isinstance(a, Pub) or isinstance(b, Pub):
            raise self.err(e, f"{e.name}() multiplies two typed values")
        ta, tb = a.type, b.type
        if isinstance(ta, FixedType) and isinstance(tb, FixedType) and exact:
            # the raw integers' product is the exact product with both fractions
            t = FixedType(ta.bits + tb.bits, ta.frac + tb.frac)
            it = IntType(t.bits, True)
            raw = [self.g.make("reinterp", it, (self.coerce(v, FixedType(t.bits, v.type.frac),
                                                            arg).node,))
                   for v, arg in ((a, e.args[0]), (b, e.args[1]))]
            prod = self.g.make("mul", it, tuple(raw))
            return Word(self.g.make("reinterp", t, (prod,)), t)
        if isinstance(ta, FixedType) and isinstance(tb, FixedType):
            f = max(ta.frac, tb.frac)
            t = FixedType(ta.bits - ta.frac + tb.bits - tb.frac + f, f)
            name, attr = "fmul", f
        elif isinstance(ta, IntType) and isinstance(tb, IntType):
            t = IntType(ta.bits + tb.bits, ta.signed or tb.signed)
            name, attr = "mul", None
        else:
            raise self.err(e, f"{e.name}() multiplies two integers or two fixed-point values, "
                              f"got {ta} and {tb}")
        x, y = self.coerce(a, t, e.args[0]), self.coerce(b, t, e.args[1])
        return Word(self.g.make(name, t, (x.node, y.node), attr), t)

    def b_signed(self, e, frame, want):
        """signed(x): x in a signed type that holds every value of its own (``uN`` becomes
        ``i(N+1)``, ``bool`` ``i2``; signed and fixed point unchanged); arrays element-wise.
        A difference of two such values no longer wraps below 0."""
        self._nargs(e, 1)
        return self._signed_value(e, self.expr(e.args[0], frame, None))

    def _signed_value(self, e, v):
        if isinstance(v, Agg) and isinstance(v.type, ArrayType):
            items = tuple(self._signed_value(e, x) for x in v.items)
            return Agg(items, ArrayType(items[0].type, len(items)))
        if not isinstance(v, Word):
            raise self.err(e, f"signed() takes a typed number or an array, got {describe(v)}")
        t = v.type
        if isinstance(t, BoolType):
            t = IntType(2, True)
        elif isinstance(t, IntType) and not t.signed:
            t = IntType(t.bits + 1, True)
        else:
            return v
        return self.coerce(v, t, e)

    def b_like(self, e, frame, want):
        """like(v, x): v converted (as an explicit cast) to the type of x, or of x's elements."""
        self._nargs(e, 2)
        x = self.expr(e.args[1], frame, None)
        t = _element_type(x)
        if t is None or isinstance(t, ArrayType):
            raise self.err(e.args[1], f"like() takes its type from a typed value, got {describe(x)}")
        v = self.expr(e.args[0], frame, t)
        try:
            return cast(self.g, v, t)
        except ConversionError as err:
            raise self.err(e, str(err)) from None

    def b_frac_bits(self, e, frame, want):
        """frac_bits(x): the fraction bits of x's type (of its elements for an array), 0 for
        an integer or a bool: a compile-time constant, for code generic over types."""
        self._nargs(e, 1)
        x = self.expr(e.args[0], frame, None)
        t = _element_type(x)
        if t is None or isinstance(t, (ArrayType, TupleType)):
            raise self.err(e.args[0], f"frac_bits() takes a typed value or an array of them, "
                                      f"got {describe(x)}")
        return Pub(t.frac if isinstance(t, FixedType) else 0)


def _element_type(x):
    """The type of x, of its elements for an array; None for an untyped constant."""
    if isinstance(x, Agg) and isinstance(x.type, ArrayType):
        return x.type.elem
    return getattr(x, "type", None)


__all__ = ["WidthMixin", "EXTRA", "widened"]
