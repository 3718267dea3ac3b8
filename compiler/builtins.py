"""Calls: type casts ``u16(x)``, the builtin functions, and user functions (inlined).

Builtins: ``min``, ``max`` (of several values or over an array), ``sum`` (over an array or a
generator), ``abs``, ``popcount`` (of an integer's bits or of a bool array), ``select(c, a, b)``,
``len``, ``rotl``/``rotr``, and the math functions ``sqrt``, ``exp``, ``log``, ``sigmoid``,
``reciprocal`` (fixed point) and ``isqrt`` (integers), built by :mod:`yaogc.circuits.fixmath`;
a user function of the same name takes precedence over a math function. Reductions are built as chains here; the IR rebalancer turns every
chain into a balanced tree.
"""

from __future__ import annotations

import math

from yaogc.circuits.types import BOOL, ArrayType, BoolType, FixedType, IntType, uint

from . import nodes as N
from .widths import EXTRA
from .convert import ConversionError, cast
from .values import (Agg, Pub, TypeNameError, Word, describe, int_type, is_number,
                     join_numeric, scalar_type_named, type_of)

BUILTINS = ("min", "max", "sum", "abs", "popcount", "select", "len", "rotl", "rotr", "range")
# not reserved: a program may define its own function of one of these names
MATH = ("sqrt", "exp", "log", "sigmoid", "reciprocal", "isqrt")


class CallMixin:
    def e_Call(self, e, frame, want):
        try:
            t = scalar_type_named(e.name)
        except TypeNameError as err:
            raise self.err(e, str(err)) from None
        if t is not None:
            return self.call_cast(e, t, frame)
        fn = getattr(self, "b_" + e.name, None) if e.name in BUILTINS else None
        if fn is not None:
            return fn(e, frame, want)
        outside = self.outside(e, e.name)
        if e.name in self.type_decls and not outside:
            t = self._alias(e)
            if is_number(t) or t == BOOL:
                return self.call_cast(e, t, frame)
            raise self.err(e, f"'{e.name}' is the type {t}: only a scalar type converts a value")
        user = self.funcs.get(e.name) if not outside else None
        if user is None:
            if e.name in MATH:
                return self.b_math(e, frame, want)
            if e.name in EXTRA:
                return getattr(self, "b_" + e.name)(e, frame, want)
        else:
            if any(isinstance(a, N.Comprehension) and len(e.args) == 1 for a in e.args):
                raise self.err(e, f"'{e.name}' takes values, not a generator")
            return self.call_user(user, e, frame)
        raise self.err(e, f"unknown function '{e.name}'")

    def _nargs(self, e, lo, hi=None):
        hi = lo if hi is None else hi
        n = len(e.args)
        if not lo <= n <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.err(e, f"{e.name}() takes {want} argument{'s' if hi != 1 else ''}, got {n}")

    def call_cast(self, e, t, frame):
        self._nargs(e, 1)
        v = self.expr(e.args[0], frame, t if is_number(t) else None)
        try:
            return cast(self.g, v, t)
        except ConversionError as err:
            raise self.err(e, str(err)) from None

    # --- reductions ---------------------------------------------------------------------------
    def _elements(self, e, frame, elem_want):
        """The values a reduction runs over: an array argument or a generator."""
        arg = e.args[0]
        if isinstance(arg, N.Comprehension):
            return self.comprehend(arg, frame, elem_want)
        v = self.expr(arg, frame)
        if not (isinstance(v, Agg) and isinstance(v.type, ArrayType)):
            raise self.err(arg, f"{e.name}() of one argument runs over an array, got {describe(v)}")
        return list(v.items)

    def _numbers_only(self, e, vals) -> None:
        if any(isinstance(v, Agg) for v in vals):
            raise self.err(e, f"{e.name}() works on numbers; this array holds arrays or tuples")

    def _reduce(self, e, vals, want, opname):
        typed = [type_of(v) for v in vals if type_of(v) is not None]
        self._numbers_only(e, vals)
        if not typed:
            if opname == "add":
                return Pub(sum(v.value for v in vals))
            return Pub(min(v.value for v in vals) if opname == "min" else max(v.value for v in vals))
        j = join_numeric(typed)
        if isinstance(j, str):
            raise self.err(e, j)
        if isinstance(j, BoolType):
            if opname != "add":
                raise self.err(e, f"{e.name}() compares numbers, not bools")
            j = uint(max(1, len(vals).bit_length()))     # holds every count: never wraps
        words = [self.coerce(v, j, e) for v in vals]
        acc = words[0].node
        for w in words[1:]:
            acc = self.g.make(opname, j, (acc, w.node))
        return Word(acc, j)

    def b_sum(self, e, frame, want):
        self._nargs(e, 1)
        ew = want if is_number(want) else None
        return self._reduce(e, self._elements(e, frame, ew), want, "add")

    def _minmax(self, e, frame, want, opname):
        if not e.args:
            raise self.err(e, f"{e.name}() needs an array or at least two values")
        if len(e.args) == 1:
            vals = self._elements(e, frame, None)
        else:
            vals = [self.expr(a, frame, want) for a in e.args]
            if len(vals) == 2:
                a, b = vals
                t = a.type if type(a) is Word else None
                if type(t) is IntType and type(b) is Word and b.type._k == t._k:
                    # min(x, y) of two integers of one type (a compare-exchange): what
                    # _reduce makes of them, without its general typing
                    j = int_type(t.bits, t.signed)
                    return Word(self.g.make(opname, j, (a.node, b.node)), j)
            fixed = next((type_of(v) for v in vals if isinstance(type_of(v), FixedType)), None)
            if want is None and fixed is not None:
                # constants among fixed-point values are fixed-point: min(1 / 2, x) is 0.5
                vals = [self.expr(a, frame, fixed) if isinstance(v, Pub) else v
                        for a, v in zip(e.args, vals)]
            if any(isinstance(v, Agg) for v in vals):
                raise self.err(e, f"{e.name}() of several values compares numbers")
        return self._reduce(e, vals, want, opname)

    def b_min(self, e, frame, want):
        return self._minmax(e, frame, want, "min")

    def b_max(self, e, frame, want):
        return self._minmax(e, frame, want, "max")

    def b_abs(self, e, frame, want):
        self._nargs(e, 1)
        v = self.expr(e.args[0], frame, want)
        if isinstance(v, Pub):
            return Pub(abs(v.value))
        if not (isinstance(v, Word) and is_number(v.type)):
            raise self.err(e, f"abs() takes a number, got {describe(v)}")
        return Word(self.g.make("abs", v.type, (v.node,)), v.type)

    def b_popcount(self, e, frame, want):
        self._nargs(e, 1)
        v = self.expr(e.args[0], frame)
        if isinstance(v, Word) and isinstance(v.type, IntType):
            t = uint(v.type.bits.bit_length())
            return Word(self.g.make("popcount", t, (v.node,)), t)
        if isinstance(v, Agg) and isinstance(v.type, ArrayType) and isinstance(v.type.elem, BoolType):
            t = uint(len(v).bit_length())
            return Word(self.g.make("popcount", t, tuple(x.node for x in v.items)), t)
        raise self.err(e, f"popcount() takes an integer or a bool array, got {describe(v)}")

    def b_select(self, e, frame, want):
        self._nargs(e, 3)
        c = self.cond(e.args[0], frame)
        a, b = self.operands(e.args[1], e.args[2], frame, want)
        return self.select_values(c, a, b, want, e)

    def b_len(self, e, frame, want):
        self._nargs(e, 1)
        v = self.expr(e.args[0], frame)
        if isinstance(v, Agg):
            return Pub(len(v))
        raise self.err(e, f"len() takes an array or tuple, got {describe(v)}")

    def _rotate(self, e, frame, want, left):
        self._nargs(e, 2)
        x = self.expr(e.args[0], frame, want)
        if not (isinstance(x, Word) and isinstance(x.type, IntType)):
            raise self.err(e, f"{e.name}() rotates an integer, got {describe(x)}")
        k = self.expr(e.args[1], frame)
        kc = self.amount(k, e.args[1], "a rotation amount")
        t = x.type
        if kc is not None:
            return Word(self.g.make("rotl" if left else "rotr", t, (x.node,), kc % t.bits), t)
        if not (isinstance(k, Word) and isinstance(k.type, IntType)):
            raise self.err(e.args[1], f"a rotation amount must be an integer, got {describe(k)}")
        return Word(self.g.make("rotlv" if left else "rotrv", t, (x.node, k.node)), t)

    def b_rotl(self, e, frame, want):
        return self._rotate(e, frame, want, True)

    def b_rotr(self, e, frame, want):
        return self._rotate(e, frame, want, False)

    def b_math(self, e, frame, want):
        self._nargs(e, 1)
        fixed = e.name != "isqrt"
        v = self.expr(e.args[0], frame, want if is_number(want) else None)
        if isinstance(v, Pub):
            if fixed and isinstance(want, FixedType):
                v = self.coerce(v, want, e)
            elif not fixed and isinstance(v.value, int) and v.value >= 0:
                return Pub(math.isqrt(v.value))
            elif not fixed and isinstance(want, IntType):
                v = self.coerce(v, want, e)
            else:
                kind = "a fixed-point type" if fixed else "an integer type"
                raise self.err(e, f"{e.name}() of a constant needs {kind}: give the constant "
                                  f"one, e.g. {e.name}({'fix32_16' if fixed else 'i32'}(...))")
        t = v.type if isinstance(v, Word) else None
        ok = isinstance(t, FixedType) if fixed else isinstance(t, IntType)
        if not ok:
            kind = "a fixed-point number" if fixed else "an integer"
            hint = "; for integers use isqrt()" if e.name == "sqrt" and isinstance(t, IntType) \
                else "; for fixed point use sqrt()" if e.name == "isqrt" \
                and isinstance(t, FixedType) else ""
            raise self.err(e, f"{e.name}() takes {kind}, got {describe(v)}{hint}")
        from yaogc.circuits.fixmath import max_frac
        most = max_frac(e.name) if fixed else None
        if most is not None and t.frac > most:
            raise self.err(e, f"{e.name}() takes at most {most} fraction bits, {t} has "
                              f"{t.frac}: no polynomial of that precision is built; convert "
                              f"the argument to fewer fraction bits first")
        return Word(self.g.make("math", t, (v.node,), e.name), t)

    def b_range(self, e, frame, want):
        raise self.err(e, "range() is only used in 'for ... in range(...)' and comprehensions")


__all__ = ["CallMixin", "BUILTINS", "MATH", "FixedType", "BOOL"]
