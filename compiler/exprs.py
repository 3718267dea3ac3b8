"""Type checking and elaboration of expressions into word-level IR nodes.

The typing rule (docs/LANGUAGE.md, "The type of an expression"): an expression's type comes
from its operands only, the wider of the two (the usual lossless promotion), never from where
the expression stands, so ``x + (y + z)`` and ``(y + z) + x`` are one value, and ``total: u16 =
a8 + b8`` adds in 8 bits and then widens. ``want``, the type the context expects (the declared
type of the variable assigned, a parameter, a return type, a cast), only types untyped
constants: a constant takes the type of the other operand, and a wholly constant expression is
computed exactly and takes the context's type.
"""

from __future__ import annotations

import operator
from fractions import Fraction

from yaogc.circuits.types import BOOL, ArrayType, BoolType, FixedType, IntType, TupleType

from .convert import ConversionError, implicit, merge, zero
from .nodes import BinOp, DecLit, IntLit, Unary, Var
from .values import (Agg, Pub, Word, describe, join_numeric, leaves, rebuild,
                     scalar_type_named, type_of, TypeNameError)

_ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod",
          "&": "and", "|": "or", "^": "xor"}


# integer operations whose constant form is Python's (division and remainder truncate
# toward zero, and need checks: they take the general way)
_PUB_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "&": operator.and_,
              "|": operator.or_, "^": operator.xor, "<<": operator.lshift,
              ">>": operator.rshift}
_PUB_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
                ">": operator.gt, ">=": operator.ge}


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


# the largest compile-time constant (integer, or numerator and denominator together): far
# beyond the widest type, and small enough that arithmetic on it takes microseconds
MAX_CONST_BITS = 1 << 16


_TOO_LARGE_CONST = (f"a constant of more than {MAX_CONST_BITS:,} bits: compile-time arithmetic "
                    f"this large is no value of any type (the widest has 256 bits)")


def _const_bits(v) -> int:
    if type(v) is Fraction:
        return v.numerator.bit_length() + v.denominator.bit_length()
    return int(v).bit_length()


class ExprMixin:
    # --- helpers shared with statements ------------------------------------------------------
    def coerce(self, v, t, node, what=None):
        """``v`` as type ``t`` (implicit conversion); an error names ``what`` (a text, or a
        function giving it, so that the text is only formatted for an error)."""
        tv = type(v)
        if tv is Word and (v.type is t or v.type._k == t._k) or tv is Agg and v.type is t:
            return v        # the common cases, without the conversion machinery
        try:
            return implicit(self.g, v, t, wrap=bool(self.dead))
        except ConversionError as e:
            if callable(what):
                what = what()
            msg = str(e)
            if what is not None:
                prefix = f"expected {t}, got "
                msg = f"{what}: " + (f"the value is {msg[len(prefix):]}" if msg.startswith(prefix) else msg)
            raise self.err(node, msg) from None

    def const_int(self, v, node, what: str) -> int | None:
        """The integer of a compile-time value (untyped or a constant node), else None."""
        # exact class tests: isinstance against a number or value type class (abstract base
        # classes) is slow whenever it is false, and none of them has subclasses
        if type(v) is Pub:
            if type(v.value) is Fraction and v.value.denominator != 1:
                raise self.err(node, f"{what} must be an integer, not a decimal")
            return int(v.value)
        if type(v) is Word and type(v.type) is IntType:
            return self.read_const(v.node)
        return None

    def read_const(self, n: int):
        """The value of constant node n, read to compile with (an amount, an index, a bound,
        a condition), else None: a wrap it came through is then every output's, unless
        this is an untaken branch's check (:meth:`~.ir.WordGraph.read_const`)."""
        return self.g.const_value(n) if self.dead else self.g.read_const(n)

    def amount(self, v, node, what: str) -> int | None:
        """A constant shift or rotation amount; a typed one is read as unsigned, like a
        secret amount."""
        k = self.const_int(v, node, what)
        if k is not None and isinstance(v, Word):
            k &= (1 << v.type.bits) - 1
        return k

    def pub_int(self, e, frame, what: str) -> int:
        v = self.expr(e, frame)
        k = self.const_int(v, e, what)
        if k is None:
            raise self.err(e, f"{what} must be known at compile time (a constant or loop "
                              f"variable), got {describe(v)}")
        return k

    def cond(self, e, frame) -> int:
        v = self.expr(e, frame, BOOL)
        if not (isinstance(v, Word) and isinstance(v.type, BoolType)):
            raise self.err(e, f"a condition must be a bool, got {describe(v)} "
                              f"(compare it, e.g. x != 0)")
        return v.node

    def is_true(self, n: int) -> bool:
        return self.g.const_value(n) == 1

    def is_false(self, n: int) -> bool:
        return self.g.const_value(n) == 0

    def in_dead(self, fn, *args):
        """Type-check code that is never executed (an untaken public branch)."""
        self.dead += 1
        self.g.quiet += 1
        try:
            return fn(*args)
        finally:
            self.dead -= 1
            self.g.quiet -= 1

    # --- dispatch ------------------------------------------------------------------------
    def expr(self, e, frame, want=None):
        if type(e) is Var:
            # the commonest expression, which makes no operation: no location to keep
            v = frame.vars.get(e.name)
            if v is not None:
                return v
            return self.e_Var(e, frame, want)
        # the handler of each node class is looked up once per checker, not per visit
        h = self._expr_handlers.get(type(e))
        if h is None:
            h = self._expr_handlers[type(e)] = getattr(self, "e_" + type(e).__name__)
        g = self.g
        outer, g.loc = g.loc, e       # operations made here are e's (for range warnings)
        v = h(e, frame, want)
        g.loc = outer
        return v

    def e_IntLit(self, e, frame, want):
        return Pub(e.value)

    def e_DecLit(self, e, frame, want):
        return Pub(e.value)

    def e_BoolLit(self, e, frame, want):
        return Word(self.g.const(BOOL, int(e.value)), BOOL)

    def name_value(self, e, frame):
        """The value a name read by ``e`` has: a variable of the frame, else a const (None if
        neither). In a module's code a name the loader renamed to ``module.name`` is still a
        local first (a parameter or variable of that name shadows the module's const, as in a
        program)."""
        v = frame.vars.get(e.name)
        if v is None:
            plain = getattr(e, "plain", None)
            if plain is not None:
                v = frame.vars.get(plain)
            if v is None and not self.outside(e, e.name):
                v = self.consts.get(e.name)
        return v

    def e_Var(self, e, frame, want):
        v = self.name_value(e, frame)
        if v is None:
            if e.name in self.funcs and not self.outside(e, e.name):
                raise self.err(e, f"'{e.name}' is a function: call it as {e.name}(...)")
            try:
                is_type = scalar_type_named(e.name) is not None
            except TypeNameError:
                is_type = True
            if is_type:
                raise self.err(e, f"'{e.name}' is a type: convert a value with {e.name}(x)")
            hint = frame.dropped.get(e.name)
            if hint and hint[1] == "one branch":
                raise self.err(e, f"'{e.name}' is assigned in only one branch of the secret "
                                  f"'if' on line {hint[0]}: assign it before the 'if' or in "
                                  f"every branch")
            if hint:
                raise self.err(e, f"'{e.name}' has a different compile-time value in each branch "
                                  f"of the secret 'if' on line {hint[0]}: give it a type before "
                                  f"the 'if' (e.g. {e.name}: u32 = ...)")
            raise self.err(e, f"name '{e.name}' is not defined")
        return v

    def e_Not(self, e, frame, want):
        return Word(self.g.make("not", BOOL, (self.cond(e.operand, frame),)), BOOL)

    def e_BoolOp(self, e, frame, want):
        a = self.cond(e.left, frame)
        short = self.is_false(a) if e.op == "and" else self.is_true(a)
        if short:
            self.in_dead(self.cond, e.right, frame)
            return Word(a, BOOL)
        b = self.cond(e.right, frame)
        return Word(self.g.make("and" if e.op == "and" else "or", BOOL, (a, b)), BOOL)

    def e_Unary(self, e, frame, want):
        v = self.expr(e.operand, frame, want)
        return self.unary(e.op, v, want, e)

    def unary(self, op, v, want, node):
        if isinstance(v, Agg):
            if not isinstance(v.type, ArrayType):
                raise self.err(node, f"'{op}' does not apply to {v.type}")
            items = tuple(self.unary(op, it, None, node) for it in v.items)
            return Agg(items, ArrayType(type_of(items[0]), len(items)))
        if isinstance(v, Pub):
            if op == "+":
                return v
            if op == "-":
                return Pub(-v.value)
            if isinstance(v.value, Fraction):
                raise self.err(node, "'~' applies to integers")
            if isinstance(want, IntType):
                v = self.coerce(v, want, node)
            else:
                return Pub(~v.value)
        t = v.type
        if op == "~":
            if isinstance(t, FixedType):
                raise self.err(node, f"'~' applies to integers and bools, not {t}")
            return Word(self.g.make("not", t, (v.node,)), t)
        if isinstance(t, BoolType):
            raise self.err(node, f"'{op}' applies to numbers, not bool (use 'not' for bools)")
        if op == "+":
            return v
        return Word(self.g.make("neg", t, (v.node,)), t)

    def e_Ternary(self, e, frame, want):
        c = self.cond(e.cond, frame)
        if self.read_const(c) is not None:
            # only the taken branch is compiled, but the type is both branches' as ever: it
            # never depends on what the condition folds to
            first = self.is_true(c)
            taken, other = (e.then, e.orelse) if first else (e.orelse, e.then)
            o = self.in_dead(self.expr, other, frame, want)
            v = self.expr(taken, frame, want)
            if type(v) is Pub and type(o) is Pub:
                return v
            t = self.common(v, o, want, e, "select") if first else \
                self.common(o, v, want, e, "select")
            return self.coerce(v, t, e)
        a, b = self.operands(e.then, e.orelse, frame, want)
        return self.select_values(c, a, b, want, e)

    def select_values(self, c, a, b, want, node):
        t = self.common(a, b, want, node, "select")
        return merge(self.g, c, self.coerce(a, t, node), self.coerce(b, t, node))

    def common(self, a, b, want, node, opname):
        """The type two values meet in (for select, min, max and arithmetic): the wider of
        their types, never the context's. ``want`` only types two untyped constants."""
        ta, tb = type_of(a), type_of(b)
        if ta is not None:
            if tb is None or tb == ta:
                return ta
        elif tb is not None:
            return tb
        if isinstance(a, Agg) or isinstance(b, Agg):
            if ta is not None and tb is not None and ta != tb:
                try:
                    implicit(self.g, a, tb)
                    return tb
                except ConversionError:
                    pass
                try:
                    implicit(self.g, b, ta)
                    return ta
                except ConversionError:
                    raise self.err(node, f"{opname}: {ta} and {tb} differ") from None
            return ta or tb
        if ta is None:
            if want is not None:
                return want
            raise self.err(node, f"{opname} of two constants needs a type: write e.g. u8(...)")
        j = join_numeric([ta, tb])
        if isinstance(j, str):
            raise self.err(node, j)
        return j

    # --- comparisons ---------------------------------------------------------------------------
    def e_Compare(self, e, frame, want):
        x = self._pub_int(e.left, frame)
        if x is not None:
            y = self._pub_int(e.right, frame)
            if y is not None:
                return Word(self.g.const(BOOL, int(_PUB_COMPARE[e.op](x, y))), BOOL)
        a, b = self.operands(e.left, e.right, frame, None)
        return self.compare(e.op, a, b, e)

    def _pub_int(self, e, frame) -> int | None:
        """The integer of a literal, a name holding an untyped integer or integer arithmetic
        on them, else None: the index arithmetic of unrolled loops (``l = i ^ j``,
        ``if (i & k) == 0``, ``j = k >> (q + 1)``), computed here without the general
        typing, which gives the same values (a shift by a negative or huge amount is left
        to it, for its error)."""
        t = type(e)
        if t is IntLit:
            return e.value
        if t is Var:
            v = self.name_value(e, frame)
            if type(v) is Pub and type(v.value) is int:
                return v.value
        elif t is BinOp:
            f = _PUB_ARITH.get(e.op)
            if f is not None:
                x = self._pub_int(e.left, frame)
                if x is not None:
                    y = self._pub_int(e.right, frame)
                    if y is not None and (e.op[0] not in "<>" or 0 <= y <= 4096) and \
                            x.bit_length() + (y if e.op == "<<" else y.bit_length()) \
                            <= MAX_CONST_BITS:     # larger ones: the general way refuses them
                        return f(x, y)
        return None

    def compare(self, op, a, b, node):
        g = self.g
        if isinstance(a, Pub) and isinstance(b, Pub):
            x, y = a.value, b.value
            r = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
            return Word(g.const(BOOL, int(r)), BOOL)
        if isinstance(a, Agg) or isinstance(b, Agg):
            if op not in ("==", "!="):
                raise self.err(node, f"'{op}' compares numbers; arrays and tuples only compare "
                                     f"with == and !=")
            t = self.common(a, b, None, node, op)
            la = leaves(self.coerce(a, t, node))
            lb = leaves(self.coerce(b, t, node))
            eqs = [g.make("eq", BOOL, (x.node, y.node)) for x, y in zip(la, lb)]
            acc = eqs[0]
            for q in eqs[1:]:
                acc = g.make("and", BOOL, (acc, q))
            return Word(acc if op == "==" else g.make("not", BOOL, (acc,)), BOOL)
        ta, tb = type_of(a), type_of(b)
        if ta is not None and (ta == tb or tb is None) and type(ta) in (IntType, FixedType):
            t = ta          # what join_numeric gives for two numbers of one type, or one
        elif tb is not None and ta is None and type(tb) in (IntType, FixedType):
            t = tb          # number and an untyped constant (x[i] == k)
        elif isinstance(ta, BoolType) and isinstance(tb, BoolType) or \
                (isinstance(ta, BoolType) and tb is None) or (isinstance(tb, BoolType) and ta is None):
            if op not in ("==", "!="):
                raise self.err(node, f"'{op}' compares numbers, not bools")
            t = BOOL
            if isinstance(a, Pub) or isinstance(b, Pub):
                raise self.err(node, "compare a bool with True or False")
        else:
            typed = [t for t in (ta, tb) if t is not None]
            # a bool meets an integer as that integer (the lossless widening, as in c + x)
            if any(isinstance(t, BoolType) for t in typed) and not (
                    len(typed) == 2 and all(type(t) in (BoolType, IntType) for t in typed)):
                raise self.err(node, f"'{op}' compares numbers, not bools" if op not in ("==", "!=")
                               else f"cannot compare {ta} with {tb}")
            t = join_numeric(typed)
            if isinstance(t, str):
                raise self.err(node, t)
            if isinstance(t, BoolType):
                raise self.err(node, f"'{op}' needs a number type for its bool operands")
        x = self.coerce(a, t, node).node
        y = self.coerce(b, t, node).node
        if op == "==":
            n = g.make("eq", BOOL, (x, y))
        elif op == "!=":
            n = g.make("ne", BOOL, (x, y))
        elif op == "<":
            n = g.make("lt", BOOL, (x, y))
        elif op == "<=":
            n = g.make("le", BOOL, (x, y))
        elif op == ">":
            n = g.make("lt", BOOL, (y, x))
        else:
            n = g.make("le", BOOL, (y, x))
        return Word(n, BOOL)

    # --- arithmetic ------------------------------------------------------------------------------
    def e_BinOp(self, e, frame, want):
        x = self._pub_int(e, frame)      # index arithmetic of an unrolled loop
        if x is not None:
            return Pub(x)
        if e.op in ("<<", ">>"):
            # the type of a shift is its left operand's; the amount gives no type
            return self.shift(e.op, self.expr(e.left, frame, want), self.expr(e.right, frame),
                              want, e)
        a, b = self.operands(e.left, e.right, frame, want)
        return self.binop(e.op, a, b, want, e)

    def operands(self, left, right, frame, want):
        """The two operands of a symmetric operation. The constants of one operand take the
        type of the other: when one side is made of untyped constants only, the other side is
        evaluated first and gives its type (so (1 / 3) * x divides exactly like x * (1 / 3),
        and ~0xF & x is x & ~0xF); ``want`` types them only when both sides are constant."""
        if self.untyped_syntax(left, frame) and not self.untyped_syntax(right, frame):
            b = self.expr(right, frame, want)
            tb = type_of(b)
            return self.expr(left, frame, want if tb is None or isinstance(b, Agg) else tb), b
        a = self.expr(left, frame, want)
        ta = type_of(a)
        return a, self.expr(right, frame, want if ta is None or isinstance(a, Agg) else ta)

    def untyped_syntax(self, e, frame) -> bool:
        """Whether ``e`` is built of untyped constants only (literals, untyped const names
        and loop variables, and operators on them), judged from the syntax and the names."""
        t = type(e)
        if t is IntLit or t is DecLit:
            return True
        if t is Var:
            v = self.name_value(e, frame)
            return type(v) is Pub
        if t is BinOp:
            return self.untyped_syntax(e.right, frame) and self.untyped_syntax(e.left, frame)
        if t is Unary:
            return self.untyped_syntax(e.operand, frame)
        return False

    def binop(self, op, a, b, want, node):
        if op in ("<<", ">>"):
            return self.shift(op, a, b, want, node)
        if isinstance(a, Agg) or isinstance(b, Agg):
            return self.elementwise(op, a, b, want, node)
        if isinstance(a, Pub) and isinstance(b, Pub):
            return self.pub_arith(op, a.value, b.value, node, isinstance(want, FixedType))
        t = self.common(a, b, want, node, f"'{op}'")
        tt = type(t)
        if tt is BoolType:
            if op not in ("&", "|", "^"):
                raise self.err(node, f"'{op}' on bools needs an integer type: convert one "
                                     f"operand, e.g. u8(c) {op} d")
        if tt is FixedType and op in ("%", "&", "|", "^"):
            raise self.err(node, f"'{op}' applies to integers, not {t}")
        x = self.coerce(a, t, node).node
        y = self.coerce(b, t, node).node
        name = _ARITH[op]
        attr = None
        if tt is FixedType and name in ("mul", "div"):
            name, attr = ("fmul" if name == "mul" else "fdiv"), t.frac
        return Word(self.g.make(name, t, (x, y), attr), t)

    def pub_arith(self, op, x, y, node, exact: bool = False):
        """Constant arithmetic: exact on rationals when an operand is a decimal (``1.0``
        included) or the context is fixed point; integer constants divide as integers do."""
        frac = type(x) is Fraction or type(y) is Fraction
        if op in ("/", "%") and y == 0:
            if self.dead:
                return Pub(0)
            raise self.err(node, "division by zero in a constant expression")
        if op in ("%", "&", "|", "^") and frac:
            raise self.err(node, f"'{op}' applies to integers")
        grow = (_const_bits(x) + _const_bits(y) if op in ("*", "/") or frac else
                max(_const_bits(x), _const_bits(y)) + 1)
        if grow > MAX_CONST_BITS:
            # one product of such numbers is a single long computation (a loop squaring a
            # constant 40 times ran for minutes, deaf to signals); no type holds them anyway
            raise self.err(node, _TOO_LARGE_CONST)
        if op == "+":
            return Pub(x + y)
        if op == "-":
            return Pub(x - y)
        if op == "*":
            return Pub(x * y)
        if op == "/":
            if frac or exact:
                return Pub(Fraction(x) / Fraction(y))
            return Pub(_trunc_div(int(x), int(y)))
        x, y = int(x), int(y)
        if op == "%":
            return Pub(x - _trunc_div(x, y) * y)
        return Pub(x & y if op == "&" else x | y if op == "|" else x ^ y)

    def elementwise(self, op, a, b, want, node):
        def items(v, n):
            if isinstance(v, Agg):
                if v.type.length != n:
                    hint = "; to join arrays write concat(a, b)" if op == "+" else ""
                    raise self.err(node, f"'{op}' on arrays of different lengths "
                                         f"({v.type.length} and {n}){hint}")
                return list(v.items)
            return [v] * n
        for v in (a, b):
            if isinstance(v, Agg) and not isinstance(v.type, ArrayType):
                raise self.err(node, f"'{op}' does not apply to the tuple {v.type}")
        n = (a if isinstance(a, Agg) else b).type.length
        ew = want.elem if isinstance(want, ArrayType) else None
        res = tuple(self.binop(op, x, y, ew, node) for x, y in zip(items(a, n), items(b, n)))
        if isinstance(res[0], Pub):
            raise self.err(node, "an array of constants needs a type")
        return Agg(res, ArrayType(type_of(res[0]), n))

    def shift(self, op, a, b, want, node):
        if isinstance(a, Agg):
            return self.elementwise(op, a, b, want, node)
        k = self.amount(b, node, "a shift amount")
        if isinstance(a, Pub):
            if k is not None:
                if k < 0:
                    raise self.err(node, "a shift amount must not be negative")
                if k > 4096:
                    raise self.err(node, f"shift amount {k} is too large for a constant")
                if isinstance(a.value, Fraction) and a.value.denominator != 1:
                    raise self.err(node, "shifts apply to integers")
                if op == "<<" and _const_bits(a.value) + k > MAX_CONST_BITS:
                    raise self.err(node, _TOO_LARGE_CONST)
                return Pub(int(a.value) << k if op == "<<" else int(a.value) >> k)
            raise self.err(node, "shifting a constant by a secret amount needs a type: "
                                 "write e.g. u32(1) << s")
        t = a.type
        if not isinstance(t, IntType):
            raise self.err(node, f"shifts apply to integers, not {t}")
        if k is not None:
            if k < 0:
                raise self.err(node, "a shift amount must not be negative")
            k = min(k, t.bits)
            return Word(self.g.make("shl" if op == "<<" else "shr", t, (a.node,), k), t)
        if not (isinstance(b, Word) and isinstance(b.type, IntType)):
            raise self.err(node, f"a shift amount must be an integer, got {describe(b)}")
        return Word(self.g.make("shlv" if op == "<<" else "shrv", t, (a.node, b.node)), t)

    # --- indexing ------------------------------------------------------------------------------
    def e_Index(self, e, frame, want):
        base = self.expr(e.base, frame)
        idx = self.expr(e.index, frame)
        return self.index(base, idx, e)

    def index(self, base, idx, node):
        g = self.g
        k = self.const_int(idx, node, "an index")
        if k is None and not (isinstance(idx, Word) and isinstance(idx.type, IntType)):
            raise self.err(node, f"an index must be an integer, got {describe(idx)}")
        if isinstance(base, Agg):
            n = len(base)
            if k is not None:
                if 0 <= k < n:
                    return base.item(k)
                if self.dead or type(idx) is Word:
                    # a typed index is a secret index, whatever the optimizer folds it to:
                    # out of range it reads 0, as a secret index does
                    return zero(g, base.type.elem if isinstance(base.type, ArrayType)
                                else base.type.elems[0])
                raise self.err(node, f"index {k} is out of range for {base.type} (0..{n - 1})")
            if isinstance(base.type, TupleType):
                raise self.err(node, "a tuple is indexed with a constant")
            et = base.type.elem
            cols = [leaves(it) for it in base.items]
            words = []
            for p, lt in enumerate(cols[0]):
                words.append(Word(g.make("index", lt.type, (idx.node,) + tuple(c[p].node for c in cols)),
                                  lt.type))
            return rebuild(et, words)[0]
        if isinstance(base, Word) and isinstance(base.type, IntType):
            w = base.type.bits
            if k is not None:
                if 0 <= k < w:
                    return Word(g.make("bit", BOOL, (base.node,), k), BOOL)
                if self.dead or type(idx) is Word:
                    return Word(g.false(), BOOL)
                raise self.err(node, f"bit {k} is out of range for {base.type} (0..{w - 1})")
            bits = tuple(g.make("bit", BOOL, (base.node,), j) for j in range(w))
            return Word(g.make("index", BOOL, (idx.node,) + bits), BOOL)
        raise self.err(node, f"cannot index {describe(base)}")

    # --- literals of arrays and tuples ----------------------------------------------------------
    def e_ListLit(self, e, frame, want):
        if not e.items:
            raise self.err(e, "an array needs at least one element")
        ew = want.elem if isinstance(want, ArrayType) else None
        return self.make_array([self.expr(it, frame, ew) for it in e.items], ew, e)

    def make_array(self, vals, elem_want, node):
        typed = [type_of(v) for v in vals if type_of(v) is not None]
        if elem_want is not None:
            t = elem_want
        elif not typed:
            raise self.err(node, "cannot tell the element type of an array of constants: "
                                 "declare it, e.g. x: u8[3] = [1, 2, 3]")
        elif all(x == typed[0] for x in typed):
            t = typed[0]
        else:
            t = join_numeric(typed)
            if isinstance(t, str):
                raise self.err(node, t)
        items = tuple(self.coerce(v, t, node, "array element") for v in vals)
        return Agg(items, ArrayType(t, len(items)))

    def e_TupleLit(self, e, frame, want):
        wants = list(want.elems) if isinstance(want, TupleType) and len(want.elems) == len(e.items) \
            else [None] * len(e.items)
        vals = []
        for it, w in zip(e.items, wants):
            v = self.expr(it, frame, w)
            if w is not None:
                v = self.coerce(v, w, it)
            elif isinstance(v, Pub):
                raise self.err(it, "cannot tell the type of a constant in a tuple: give it one, "
                                   "e.g. u8(3)")
            vals.append(v)
        return Agg(tuple(vals), TupleType(tuple(type_of(v) for v in vals)))

    def e_Comprehension(self, e, frame, want):
        ew = want.elem if isinstance(want, ArrayType) else None
        return self.make_array(self.comprehend(e, frame, ew), ew, e)

    def comprehend(self, e, frame, elem_want):
        vals = []
        saved = frame.vars.get(e.var)
        try:
            for item in self.iterate(e.iterable, frame):
                self.count_iteration(e)     # a comprehension unrolls as a loop does
                frame.vars[e.var] = item
                vals.append(self.expr(e.elem, frame, elem_want))
        finally:
            if saved is None:
                frame.vars.pop(e.var, None)
            else:
                frame.vars[e.var] = saved
        if not vals:
            raise self.err(e, "the comprehension has no elements")
        return vals
