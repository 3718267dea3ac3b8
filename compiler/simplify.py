"""Algebraic rules applied whenever the IR creates a node (constant operands are folded before).

Each rule returns an existing or cheaper node computing the same value, or None. The rules
that matter for circuit size: ``x*2**k`` becomes a shift (free), ``x*c`` stays a multiply by a
constant (lowered to shift-and-add on c's set bits), division by a power of two becomes a
shift, ``c ? x+y : x`` becomes ``x + (c ? y : 0)`` (an addition of a masked word, so counting
under a secret condition is a sum the adder tree can balance), and ``a < b ? b : a`` becomes
``max(a, b)`` (so a running maximum is a chain the rebalancer can turn into a tree).
"""

from __future__ import annotations

from yaogc.circuits.types import BOOL, BoolType, FixedType, IntType, ValueType

from . import ops


def _pow2(v: int) -> int | None:
    return v.bit_length() - 1 if v > 0 and v & (v - 1) == 0 else None


def simplify(g, op: str, t: ValueType, args: tuple[int, ...], attr) -> int | None:
    rule = _RULES.get(op)
    return rule(g, t, args, attr) if rule else None


def _consts(g, args):
    kinds, attrs = g._op, g._attr
    return [attrs[a] if kinds[a] == "const" else None for a in args]


def _add(g, t, args, attr):
    a, b = args
    kinds = g._op     # read directly: every addition of an unrolled count asks
    ka, kb = kinds[a], kinds[b]
    if ka == "const" and g._attr[a] == 0:
        return b
    if kb == "const" and g._attr[b] == 0:
        return a
    if g.exact:
        return None
    # (x - y) + y and y + (x - y) are x
    if ka == "sub" and g._type[a] == t and g._args[a][1] == b:
        g.read_as_written(a)
        return g._args[a][0]
    if kb == "sub" and g._type[b] == t and g._args[b][1] == a:
        g.read_as_written(b)
        return g._args[b][0]
    return None


def _sub(g, t, args, attr):
    a, b = args
    ca, cb = _consts(g, args)
    if cb == 0:
        return a
    if a == b:
        g.read_as_written(a)
        return g.const(t, 0)
    if g.exact:
        return g.make("neg", t, (b,)) if ca == 0 else None
    # (x + y) - y is x, (x + y) - x is y, wrapping or not
    if g._op[a] == "add" and g._type[a] == t:
        p, q = g._args[a]
        if q == b or p == b:
            g.read_as_written(a)
            return p if q == b else q
    if ca == 0:
        return g.make("neg", t, (b,))
    if cb is not None:
        n = g.make("add", t, (a, g.const(t, -cb)))
        if g._op[n] == "add":
            g.minus.add(n)
        return n
    return None


def _const_operand(g, args):
    """(other operand, constant) of a commutative operation with a constant operand."""
    a, b = args
    ca, cb = _consts(g, args)
    if ca is not None and cb is None:
        return b, ca
    return a, cb


def _shift_by(g, t, a, up: int) -> int:
    """a * 2**up: a left shift, or for negative up an arithmetic right shift (floor)."""
    if up == 0:
        return a
    return g.make("shl", t, (a,), up) if up > 0 else g.make("shr", t, (a,), -up)


def _mul(g, t, args, attr):
    a, c = _const_operand(g, args)
    if c is None:
        return None
    if c == 0:
        g.read_as_written(a)
        return g.const(t, 0)
    if c == 1 or g.exact:
        return a if c == 1 else None
    k = _pow2(ops.unsigned_bits(t, c))
    if k is not None:
        return _product(g, g.make("shl", t, (a,), k), a, c)
    k = _pow2(ops.unsigned_bits(t, -c))
    if k is not None:
        return _product(g, g.make("neg", t, (g.make("shl", t, (a,), k),)), a, c)
    return None


def _product(g, n: int, a: int, c: int) -> int:
    """Node n, made for a * c: kept so that the range warnings read it as the product."""
    if g._op[n] in ("shl", "neg"):
        g.product[n] = (a, c)
    return n


def _fmul(g, t, args, attr):
    a, c = _const_operand(g, args)
    if c is None:
        return None
    if c == 0:
        g.read_as_written(a)
        return g.const(t, 0)
    k = _pow2(c)
    # x * 2**(k-F) is exact as a shift: floor((x * 2**k) / 2**F)
    return None if k is None else _written(g, _shift_by(g, t, a, k - attr), "'*'")


def _fdiv(g, t, args, attr):
    a, b = args
    k = _pow2(g.const_value(b) or 0)
    # floor(x * 2**F / 2**k) is an arithmetic shift by k - F (floor is what >> does)
    return None if k is None else _written(g, _shift_by(g, t, a, attr - k), "'/'")


def _written(g, n: int, op: str) -> int:
    """Node n, made for a fixed-point op written as op: a left shift keeps the name."""
    if g._op[n] == "shl":
        g.written.setdefault(n, op)
    return n


def _div(g, t, args, attr):
    a, b = args
    cb = g.const_value(b)
    if cb is None or cb == 0:
        return None
    if cb == 1:
        return a
    k = _pow2(cb)
    if k is None:
        return None
    if not ops.signed(t):
        return g.make("shr", t, (a,), k)
    # truncation toward zero: floor(x / 2**k), plus one when x is negative and not a multiple
    # of 2**k; the quotient fits in w-k bits, so the increment is w-k bits wide, and the
    # condition is the one x % 2**k computes: both together cost w-1 ANDs
    narrow = IntType(t.width - k, True)
    floor = g.make("shr", t, (a,), k)
    floor_q = g.make("resize", narrow, (floor,))
    up = g.make("resize", narrow, (_negative_with_remainder(g, t, a, k),))
    q = g.make("add", narrow, (floor_q, up))
    _by_pow2(g, ((floor, "shr", "floor"), (q, "add", "div")), a, cb)
    return g.make("resize", t, (q,))


def _negative_with_remainder(g, t, a, k):
    low = g.make("and", t, (a, g.const(t, (1 << k) - 1)))
    nonzero = g.make("ne", BOOL, (low, g.const(t, 0)))
    return g.make("and", BOOL, (nonzero, g.make("bit", BOOL, (a,), t.width - 1)))


def _mod(g, t, args, attr):
    a, b = args
    cb = g.const_value(b)
    if cb is None or cb == 0:
        return None
    if cb == 1:
        g.read_as_written(a)
        return g.const(t, 0)
    k = _pow2(cb)
    if k is None:
        return None
    if not ops.signed(t):
        return g.make("and", t, (a, g.const(t, (1 << k) - 1)))
    return _signed_mod_pow2(g, t, a, k)


def _signed_mod_pow2(g, t, a, k):
    """Truncating x % 2**k keeps x's low k bits; its upper bits are all ones exactly when x is
    negative and those low bits are not all zero: k ANDs instead of a subtraction."""
    # a positive constant of t is below 2**(w-1), so k <= w-2 and the fill is not empty
    low = g.make("and", t, (a, g.const(t, (1 << k) - 1)))
    fill = _negative_with_remainder(g, t, a, k)
    r = g.make("mux", t, (fill, g.make("or", t, (low, g.const(t, -(1 << k)))), low))
    _by_pow2(g, ((r, "mux", "mod"),), a, 1 << k)
    return r


def _by_pow2(g, made, x, d):
    """Record the nodes of a signed x / d or x % d (d a power of two) that the range
    warnings read as what they compute (:attr:`~.ir.WordGraph.by_pow2`): (node, the
    operation it must still be, floor, div or mod)."""
    for n, op, what in made:
        if g._op[n] == op:
            g.by_pow2[n] = (what, x, d)


def _bitwise(kind):
    def rule(g, t, args, attr):
        a, b = args
        ca, cb = _consts(g, args)
        if ca is not None and cb is None:
            a, b, ca, cb = b, a, cb, ca
        full = ops.ones(t)
        if a == b:
            if kind == "xor":
                g.read_as_written(a)
                return g.const(t, 0)
            return a
        if cb is None:
            return None
        if kind == "and":
            if cb == 0:
                g.read_as_written(a)
                return g.const(t, 0)
            return a if cb == full else None
        if kind == "or":
            if cb == full:
                g.read_as_written(a)
                return g.const(t, full)
            return a if cb == 0 else None
        return a if cb == 0 else g.make("not", t, (a,)) if cb == full else None
    return rule


def _involution(op):
    def rule(g, t, args, attr):
        (a,) = args
        if g.op(a) == op and g.type(a) == t and not (op == "neg" and g.exact):
            if op == "neg":
                g.read_as_written(a)      # -x may pass x's type even where -(-x) is x
            return g.args(a)[0]
        return None
    return rule


def _shift(g, t, args, attr):
    if attr == 0:
        return args[0]
    return None


def _rot(g, t, args, attr):
    if attr % t.width == 0:
        return args[0]
    return None


def _compare(kind):
    def rule(g, t, args, attr):
        a, b = args
        if a == b:
            g.read_as_written(a)
            return g.const(BOOL, 1 if kind in ("eq", "le") else 0)
        if kind in ("eq", "ne") and isinstance(g.type(a), BoolType):
            ca, cb = _consts(g, args)
            if ca is not None:
                a, b, cb = b, a, ca
            if cb is not None:
                return a if (cb == 1) == (kind == "eq") else g.make("not", BOOL, (a,))
        return None
    return rule


def _mux(g, t, args, attr):
    c, x, y = args
    # the lists read directly, each kind once: every merge of a secret if asks
    kinds, attrs, targs, types = g._op, g._attr, g._args, g._type
    kc = kinds[c]
    if kc == "const":   # select(True, x, y): y was computed as the program wrote it
        g.read_as_written(y if attrs[c] else x)
        return x if attrs[c] else y
    if x == y or (kinds[x] == kinds[y] == "const" and attrs[x] == attrs[y]):
        # select(c, x, x): c was computed as the program wrote it (a constant may have
        # nodes of its own: one that carries a wrap, or what a fold dropped)
        g.read_as_written(c)
        return x
    if kc == "not":
        return g.make("mux", t, (targs[c][0], y, x))
    kx, ky = kinds[x], kinds[y]
    # c ? (c ? p : q) : y is c ? p : y, and c ? x : (c ? p : q) is c ? x : q: nested ifs on
    # one condition, x if c else (x if c else y), and a result merged twice on one condition
    if kx == "mux" and targs[x][0] == c:
        g.read_as_written(targs[x][2])      # the inner branch never taken, as written
        return g.make("mux", t, (c, targs[x][1], y))
    if ky == "mux" and targs[y][0] == c:
        g.read_as_written(targs[y][1])
        return g.make("mux", t, (c, x, targs[y][2]))
    cx = attrs[x] if kx == "const" else None
    cy = attrs[y] if ky == "const" else None
    tt = type(t)
    if tt is BoolType and cx is not None and cy is not None:
        return c if cx else g.make("not", BOOL, (c,))
    if tt is IntType and not t.signed and cx is not None and cy is not None and t.bits > 1:
        if cx == 1 and cy == 0:
            return g.make("resize", t, (c,), None)
        if cx == 0 and cy == 1:     # the count of an else branch: it adds not c
            return g.make("resize", t, (g.make("not", BOOL, (c,)),), None)
    # c ? x + d : x  ->  x + (c ? d : 0): the sum stays a chain of additions (the then
    # branch's sum first), made where the program wrote the sum (a range warning names it,
    # not the statement that merges the branches: an early return's)
    outer = g.loc
    if kx == "add" and y in targs[x] and (types[x] is t or types[x] == t):
        s, base = x, y
    elif ky == "add" and x in targs[y] and (types[y] is t or types[y] == t):
        s, base = y, x
    else:
        s = None
    if s is not None:
        # checked mode checks the branch's own sum: where c is false, the one made here
        # adds 0 and cannot pass its type
        if g.exact:
            g.read_as_written(s)
        p, q = targs[s]
        d = q if p == base else p
        g.loc = g._loc[s] or outer
        try:
            zero = g.const(t, 0)
            return g.make("add", t, (base, g.make("mux", t, (c, d, zero) if s == x else
                                                   (c, zero, d))))
        finally:
            g.loc = outer
    if kx == ky and (kx == "add" or kx == "sub") and types[x] == t and types[y] == t:
        g.loc = g._loc[x] or outer
        try:
            got = _mux_common_term(g, t, c, kx, targs[x], targs[y])
        finally:
            g.loc = outer
        if got is not None:
            if not g.quiet:
                g.note_replaced(x, y)
                g.merged.add(got)
                if g.exact:     # checked: each branch's own operation is checked
                    g.read_as_written(x)
                    g.read_as_written(y)
            return got
    # c ? widen(u) : 0 is widen(c ? u : 0) (and the other way round): a count that only
    # some branches of an elif chain increase adds its condition at the condition's width
    if tt is IntType and (cx == 0 and ky == "resize" or cy == 0 and kx == "resize"):
        (u,) = targs[y if cx == 0 else x]
        tu = types[u]
        if type(tu) in (BoolType, IntType) and tu.width < t.width:
            if g.exact:     # checked: the widening as written (i8 -1 to u16 wraps)
                g.read_as_written(y if cx == 0 else x)
            zero = g.const(tu, 0)
            return g.make("resize", t, (g.make("mux", tu, (c, zero, u) if cx == 0 else
                                                (c, u, zero)),))
    # c ? widen(u) : widen(v) is widen(c ? u : v): the multiplexer at the narrow width
    if kx == ky == "resize":
        (u,), (v,) = targs[x], targs[y]
        tu = types[u]
        if tu == types[v] and tu.width < t.width and type(tu) is type(t) is IntType \
                and tu.signed == t.signed:
            return g.make("resize", t, (g.make("mux", tu, (c, u, v)),))
    if kc != "lt" and kc != "le":
        return None
    # a < b ? b - a : a - b is |a - b|: one subtraction a bit wider and a conditional
    # negation (2n ANDs) for a comparison, two subtractions and a multiplexer (4n - 2)
    a, b = targs[c]
    if kx == ky == "sub" and tt is IntType:
        if targs[x] == (b, a) and targs[y] == (a, b) and types[a] == t:
            if g.exact:     # checked: both differences as written (one of them wraps)
                g.read_as_written(x)
                g.read_as_written(y)
            wide = IntType(t.bits + 1, True)
            d = g.make("sub", wide, (g.make("resize", wide, (a,)), g.make("resize", wide, (b,))))
            return g.make("resize", t, (g.make("abs", wide, (d,)),))
    # a < b ? b : a is max(a, b); a < b ? a : b is min(a, b) (also with <=)
    if types[a] == t and not isinstance(t, BoolType):
        if x == b and y == a:
            return g.make("max", t, (a, b))
        if x == a and y == b:
            return g.make("min", t, (a, b))
    return None


def _mux_common_term(g, t, c, op, xs, ys):
    """c ? p + d : p + e is p + (c ? d : e), and likewise for a common minuend or
    subtrahend: one addition and a multiplexer, not two additions and a multiplexer."""
    if op == "add":
        for p in xs:
            if p in ys:
                d = xs[1] if xs[0] == p else xs[0]
                e = ys[1] if ys[0] == p else ys[0]
                return g.make("add", t, (p, g.make("mux", t, (c, d, e))))
        return None
    if xs[0] == ys[0]:
        return g.make("sub", t, (xs[0], g.make("mux", t, (c, xs[1], ys[1]))))
    if xs[1] == ys[1]:
        return g.make("sub", t, (g.make("mux", t, (c, xs[0], ys[0])), xs[1]))
    return None


def _resize(g, t, args, attr):
    (a,) = args
    src = g.type(a)
    if src == t:
        return a
    # a resize keeps a value its type holds and wraps any other: after a widening (which
    # keeps every value) it gives what it gives the widened word itself. So widening twice
    # is widening once, and a narrowed count term, u11(u32(c)) of a bool c, is u11(c),
    # which a sum's lowering sees as the one bit it adds
    if g.op(a) == "resize":
        inner = g.args(a)[0]
        if _widens(g.type(inner), src):
            return g.make("resize", t, (inner,))
    return None


def _widens(a: ValueType, b: ValueType) -> bool:
    if isinstance(a, BoolType):
        return isinstance(b, IntType) and (b.bits >= 2 or not b.signed)
    return (isinstance(a, IntType) and isinstance(b, IntType) and a.signed == b.signed
            and b.bits >= a.bits)


def _reinterp(g, t, args, attr):
    (a,) = args
    if g.type(a) == t:
        return a
    if g.op(a) == "reinterp" and g.type(g.args(a)[0]) == t:
        return g.args(a)[0]
    return None


def _bounds(t) -> tuple[int, int] | None:
    """(smallest, largest) value of an integer or fixed-point type."""
    if isinstance(t, IntType):
        return t.min, t.max
    if isinstance(t, FixedType):
        return t.raw_type.min, t.raw_type.max
    return None


def _minmax(g, t, args, attr, is_max: bool):
    a, b = args
    if a == b:
        return a
    bounds = _bounds(t)
    if bounds is None:
        return None
    lo, hi = bounds
    for x, y in ((a, b), (b, a)):
        c = g.const_value(y)
        if c == lo or c == hi:
            if is_max == (c == lo):
                return x
            g.read_as_written(x)      # min(x, MIN), max(x, MAX): the constant
            return y
    return None


def _order(kind):
    """x < MIN and MAX < x are false, MIN <= x and x <= MAX are true."""
    same = _compare(kind)

    def rule(g, t, args, attr):
        r = same(g, t, args, attr)
        if r is not None:
            return r
        a, b = args
        bounds = _bounds(g.type(a))
        if bounds is None:
            return None
        lo, hi = bounds
        ca, cb = g.const_value(a), g.const_value(b)
        if kind == "lt" and (cb == lo or ca == hi) or kind == "le" and (ca == lo or cb == hi):
            g.read_as_written(b if ca is not None else a)
            return g.const(BOOL, 1 if kind == "le" else 0)
        return None
    return rule


def _abs(g, t, args, attr):
    (a,) = args
    if not ops.signed(t):
        return a
    return None


_RULES = {
    "add": _add, "sub": _sub, "mul": _mul, "fmul": _fmul, "fdiv": _fdiv, "div": _div, "mod": _mod,
    "and": _bitwise("and"), "or": _bitwise("or"), "xor": _bitwise("xor"),
    "not": _involution("not"), "neg": _involution("neg"),
    "shl": _shift, "shr": _shift, "rotl": _rot, "rotr": _rot,
    "eq": _compare("eq"), "ne": _compare("ne"), "lt": _order("lt"), "le": _order("le"),
    "mux": _mux, "resize": _resize, "reinterp": _reinterp,
    "min": lambda g, t, a, x: _minmax(g, t, a, x, False),
    "max": lambda g, t, a, x: _minmax(g, t, a, x, True), "abs": _abs,
}

__all__ = ["simplify", "FixedType"]
