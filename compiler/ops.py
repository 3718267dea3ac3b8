"""Plain-Python semantics of the word-level IR operations: the language's reference semantics.

A scalar value is an ``int``: 0/1 for bool, the (signed or unsigned) number for an integer
type, and the raw signed count of 2**-F units for ``fixW_F``. Every result wraps to its type
(two's complement). The constant folder of the IR and the reference interpreter both use
:func:`evaluate`, so a folded constant and an interpreted value always agree; the circuits
built by ``lower.py`` are tested against it.
"""

from __future__ import annotations

from yaogc.circuits import fixmath
from yaogc.circuits.types import BOOL, BoolType, FixedType, IntType, ValueType


def width(t: ValueType) -> int:
    return t.width


# exact class tests: the value types have no subclasses, and isinstance against them (abstract
# base classes) costs a slow check whenever it is false
def signed(t: ValueType) -> bool:
    tt = type(t)
    return tt is FixedType or (tt is IntType and t.signed)


def wrap(t: ValueType, v: int) -> int:
    """Reduce ``v`` to type ``t``'s range, as the hardware does."""
    tt = type(t)
    if tt is BoolType:
        return v & 1
    w = t.width
    v &= (1 << w) - 1
    if (tt is FixedType or (tt is IntType and t.signed)) and v >> (w - 1):
        v -= 1 << w
    return v


def unsigned_bits(t: ValueType, v: int) -> int:
    return v & ((1 << t.width) - 1)


def ones(t: ValueType) -> int:
    """The all-ones value of a type: 1 for bool, -1 signed, 2**w - 1 unsigned."""
    if isinstance(t, BoolType):
        return 1
    return -1 if signed(t) else (1 << t.width) - 1


def divmod_unsigned(a: int, b: int, w: int) -> tuple[int, int]:
    """x / 0 = 2**w - 1 and x % 0 = x, as the word library's restoring divider gives."""
    if b == 0:
        return (1 << w) - 1, a
    return a // b, a % b


def divmod_signed(a: int, b: int, w: int) -> tuple[int, int]:
    """C semantics (truncate toward zero); x / 0 = -1 if x >= 0 else 1, x % 0 = x;
    INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0 (wrap-around)."""
    if b == 0:
        return (-1 if a >= 0 else 1), a
    q = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        q = -q
    r = a - q * b
    t = IntType(w, True)
    return t.wrap(q), t.wrap(r)


def fixed_div(a: int, b: int, t: FixedType) -> int:
    """floor(a * 2**F / b) on raw values, computed as the circuit does: a signed division of
    (a << F) by b at width W+F, corrected toward negative infinity, wrapped to W bits."""
    f, w = t.frac, t.bits
    q, r = divmod_signed(a << f, b, w + f)
    if r != 0 and (r < 0) != (b < 0):
        q -= 1
    return wrap(t, q)


def _rot(t: ValueType, v: int, k: int, left: bool) -> int:
    w = t.width
    k %= w
    if not left:
        k = (w - k) % w
    u = unsigned_bits(t, v)
    return wrap(t, ((u << k) | (u >> (w - k))) & ((1 << w) - 1))


def _shift_left(t: ValueType, v: int, k: int) -> int:
    return 0 if k >= t.width else wrap(t, v << k)


def _shift_right(t: ValueType, v: int, k: int) -> int:
    if signed(t):
        return v >> min(k, t.width)
    return 0 if k >= t.width else v >> k


# operations whose value can pass their type (what the range warnings check)
WRAPPING = frozenset(("add", "sub", "mul", "neg", "abs", "sum", "fmul", "fdiv", "div", "resize"))


def exact(op: str, t: ValueType, args: list[int], attr) -> int | None:
    """The unwrapped value of a WRAPPING operation on constant operands (None: x / 0, whose
    value is its own)."""
    if op == "sum":
        return sum(-v if neg else v for v, neg in zip(args, attr))
    if op == "add":
        return args[0] + args[1]
    if op == "sub":
        return args[0] - args[1]
    if op == "mul":
        return args[0] * args[1]
    if op == "neg":
        return -args[0]
    if op == "abs":
        return abs(args[0])
    if op == "fmul":
        return (args[0] * args[1]) >> attr
    if op == "fdiv":
        return None if args[1] == 0 else (args[0] << t.frac) // args[1]
    if op == "div":
        a, b = args
        if b == 0:
            return None
        q = abs(a) // abs(b)
        return q if (a < 0) == (b < 0) else -q
    if op == "resize":
        return args[0]
    return None


def evaluate(op: str, t: ValueType, args: list[int], arg_types: list[ValueType], attr) -> int:
    """The value of one IR node of type ``t`` whose operands have values ``args``."""
    if op == "const":
        return attr
    if op == "sum":
        return wrap(t, sum(-v if neg else v for v, neg in zip(args, attr)))
    if op in ("add", "sub", "mul"):
        a, b = args
        return wrap(t, a + b if op == "add" else a - b if op == "sub" else a * b)
    if op == "fmul":
        a, b = args
        return wrap(t, (a * b) >> attr)
    if op == "fdiv":
        return fixed_div(args[0], args[1], t)
    if op in ("div", "mod"):
        a, b = args
        fn = divmod_signed if signed(t) else divmod_unsigned
        q, r = fn(a, b, t.width)
        return wrap(t, q if op == "div" else r)
    if op == "neg":
        return wrap(t, -args[0])
    if op == "not":
        return wrap(t, ~args[0])
    if op in ("and", "or", "xor"):
        a, b = args
        return wrap(t, a & b if op == "and" else a | b if op == "or" else a ^ b)
    if op == "shl":
        return _shift_left(t, args[0], attr)
    if op == "shr":
        return _shift_right(t, args[0], attr)
    if op in ("shlv", "shrv"):
        k = unsigned_bits(arg_types[1], args[1])
        return _shift_left(t, args[0], k) if op == "shlv" else _shift_right(t, args[0], k)
    if op in ("rotl", "rotr"):
        return _rot(t, args[0], attr, op == "rotl")
    if op in ("rotlv", "rotrv"):
        return _rot(t, args[0], unsigned_bits(arg_types[1], args[1]), op == "rotlv")
    if op in ("eq", "ne", "lt", "le"):
        a, b = args
        return int(a == b if op == "eq" else a != b if op == "ne" else a < b if op == "lt" else a <= b)
    if op == "mux":
        c, a, b = args
        return a if c else b
    if op == "resize":
        return wrap(t, args[0])
    if op == "reinterp":
        return wrap(t, unsigned_bits(arg_types[0], args[0]))
    if op == "popcount":
        if len(args) == 1 and not isinstance(arg_types[0], BoolType):
            return wrap(t, bin(unsigned_bits(arg_types[0], args[0])).count("1"))
        return wrap(t, sum(args))
    if op == "bit":
        return (unsigned_bits(arg_types[0], args[0]) >> attr) & 1
    if op == "index":
        i = args[0]
        items = args[1:]
        return items[i] if 0 <= i < len(items) else 0
    if op == "min":
        return min(args)
    if op == "max":
        return max(args)
    if op == "abs":
        return wrap(t, abs(args[0]))
    if op == "math":
        return fixmath.evaluate(attr, args[0], t.width,
                                t.frac if type(t) is FixedType else None, signed(t))
    raise KeyError(op)


# '/' and '%': by 0 they give the documented x / 0 (x % 0), never a quotient
DIVISIONS = frozenset(("fdiv", "div", "mod"))
COMMUTATIVE = frozenset({"add", "mul", "and", "or", "xor", "eq", "ne", "min", "max", "fmul"})
ASSOCIATIVE = frozenset({"add", "mul", "and", "or", "xor", "min", "max"})

__all__ = ["evaluate", "wrap", "ones", "signed", "width", "unsigned_bits", "BOOL",
           "COMMUTATIVE", "ASSOCIATIVE", "divmod_signed", "divmod_unsigned", "fixed_div"]
