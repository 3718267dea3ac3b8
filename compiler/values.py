"""Values the type checker computes with, and the language's typing rules.

A value is one of
  * :class:`Pub` - an untyped compile-time number (literals, constants, loop variables and
    arithmetic on them); it takes the type its context needs, if it fits;
  * :class:`Word` - a scalar of a definite type held by an IR node (possibly a constant node);
  * :class:`Agg` - an array or tuple of values.

Typing rules (the reference in docs/LANGUAGE.md states them for users): implicit conversions
only widen losslessly (bool -> any integer but i1, uN -> uM/iM with M > N, iN -> iM with
M >= N, fixW_F -> fixW'_F' when neither integer nor fraction bits shrink); all else needs a cast.
"""

from __future__ import annotations

import re
from functools import lru_cache
from fractions import Fraction

from yaogc.circuits.types import (BOOL, MAX_INT_WIDTH, ArrayType, BoolType, FixedType, IntType,
                                  TupleType, ValueType)


class _Value:
    """Immutable by convention, with dataclass-style equality, hash and repr; plain slotted
    classes because the checker makes one per operand it visits (a frozen dataclass costs
    several times as much to construct)."""
    __slots__ = ()

    def _fields(self) -> tuple:
        return tuple(getattr(self, f) for f in self.__slots__)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self._fields() == other._fields()
        return NotImplemented

    def __hash__(self):
        return hash(self._fields())

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(
            f"{f}={getattr(self, f)!r}" for f in self.__slots__) + ")"


class Pub(_Value):
    """An untyped compile-time number."""
    __slots__ = ("value",)

    def __init__(self, value: int | Fraction):
        self.value = value


class Word(_Value):
    """A scalar of a definite type held by an IR node."""
    __slots__ = ("node", "type")

    def __init__(self, node: int, type: ValueType):
        self.node = node
        self.type = type


class Agg(_Value):
    """An array or tuple of values; ``type`` is an ArrayType or TupleType.

    A value like the others, but :meth:`set` (this value with one element replaced) costs
    O(1) instead of a copy of every element: an unrolled loop that writes ``v[i]`` for each of
    N records would otherwise cost N^2. It is Baker's persistent array ("Shallow binding
    makes functional arrays fast", SIGPLAN Notices 1991): the newest version owns a list of
    the elements, and the version it was made from becomes a diff, (index, old element,
    newer version). Reading an old version follows its diffs, or lays it out again once they
    are many (the branches of a secret ``if`` read the version before the ``if``)."""
    __slots__ = ("type", "_n", "_tup", "_arr", "_diff")

    def __init__(self, items: tuple, type: ValueType):
        self.type = type
        self._tup = items if items.__class__ is tuple else tuple(items)
        self._n = len(self._tup)
        self._arr = None     # the list this version owns (the newest of its line)
        self._diff = None    # (index, element, newer version), for an older version

    @classmethod
    def _owning(cls, arr: list, type: ValueType) -> "Agg":
        v = cls.__new__(cls)
        v.type, v._n, v._tup, v._arr, v._diff = type, len(arr), None, arr, None
        return v

    def _fields(self) -> tuple:
        return (self.items, self.type)

    def __repr__(self):
        return f"Agg(items={self.items!r}, type={self.type!r})"

    @property
    def items(self) -> tuple:
        """The elements (a tuple, kept once made)."""
        t = self._tup
        if t is None:
            t = self._tup = tuple(self._arr) if self._arr is not None else self._layout()
        return t

    def __len__(self) -> int:
        return self._n

    def item(self, k: int):
        """Element k (0 <= k < len)."""
        v = self
        for _ in range(_DIFF_WALK):
            if v._tup is not None:
                return v._tup[k]
            if v._arr is not None:
                return v._arr[k]
            i, x, v = v._diff
            if i == k:
                return x
        return self.items[k]

    def set(self, k: int, x) -> "Agg":
        """This value with element k (0 <= k < len) replaced by x; this one stays as it was."""
        if self._arr is None and not self._reroot():
            items = self.items
            arr = list(items)
            arr[k] = x
            newer = Agg._owning(arr, self.type)
            self._diff = (k, items[k], newer)    # reads use the items; differs() the diff
            return newer
        arr = self._arr
        old = arr[k]
        arr[k] = x
        newer = Agg._owning(arr, self.type)
        self._arr = None
        self._diff = (k, old, newer)
        return newer

    def _reroot(self) -> bool:
        """Make this older version the owner of its line's list by undoing the diffs on the
        way to the newest one, which become diffs the other way (a branch of a secret ``if``
        writing the version before it, after the other branch wrote it too); False where
        that is no cheaper than copying the elements."""
        chain, v = [], self
        while v._arr is None:
            if v._diff is None or len(chain) >= _DIFF_WALK:
                return False
            chain.append(v)
            v = v._diff[2]
        for older in reversed(chain):
            i, x, newer = older._diff
            arr = newer._arr
            newer._diff = (i, arr[i], older)
            newer._arr = None
            arr[i] = x
            older._arr, older._diff = arr, None
        return True

    def differs(self, other: "Agg") -> list[int] | None:
        """The indices where this value and ``other`` may differ, ascending, when one was
        made from the other by a line of :meth:`set` calls no longer than the array; else
        None (compare every element)."""
        for old, new in ((other, self), (self, other)):
            v, seen = old, set()
            for _ in range(self._n + 1):
                if v is new:
                    return sorted(seen)
                d = v._diff
                if d is None:
                    break
                seen.add(d[0])
                v = d[2]
        return None

    def written_at(self, older: "Agg") -> int | None:
        """The one index k where this value was made from ``older`` by a short line of
        :meth:`set` calls all at k (``v[k] += 1`` under a secret ``if``, and its merge), or
        None (another line, other indices, or none)."""
        v = older
        k = None
        for _ in range(_DIFF_WALK):
            d = v._diff
            if d is None or (k is not None and d[0] != k):
                return None
            k, v = d[0], d[2]
            if v is self:
                return k
        return None

    def _layout(self) -> tuple:
        """The elements of an older version: the newest version's, with the diffs on the
        way there undone."""
        chain, v = [], self
        while v._tup is None and v._arr is None:
            chain.append(v._diff)
            v = v._diff[2]
        out = list(v._tup if v._tup is not None else v._arr)
        for i, x, _ in reversed(chain):
            out[i] = x
        return tuple(out)


# diffs an element read follows before laying the version out instead
_DIFF_WALK = 16


Value = Pub | Word | Agg

_SCALAR_RE = re.compile(r"^(?:(bool)|([ui])(\d+)|fix(\d+)_(\d+))$")


# exact classes (the value types have no subclasses): cheaper than isinstance against them
_SCALAR_TYPES = frozenset({BoolType, IntType, FixedType})
_NUMBER_TYPES = frozenset({IntType, FixedType})


class TypeNameError(Exception):
    pass


@lru_cache(maxsize=4096)
def scalar_type_named(name: str) -> ValueType | None:
    """The scalar type a name denotes (bool, u8, i32, fix32_16), None if it is not a type name;
    raises TypeNameError for a type name with impossible widths."""
    m = _SCALAR_RE.match(name)
    if not m:
        return None
    if m.group(1):
        return BOOL
    if m.group(2):
        n = int(m.group(3))
        if not 1 <= n <= MAX_INT_WIDTH:
            raise TypeNameError(f"integer width {n} is outside 1..{MAX_INT_WIDTH}")
        return IntType(n, m.group(2) == "i")
    w, f = int(m.group(4)), int(m.group(5))
    if not (2 <= w <= MAX_INT_WIDTH and 0 <= f < w):
        raise TypeNameError(f"fixed-point fix{w}_{f} needs 2 <= width <= {MAX_INT_WIDTH} "
                            f"and fraction bits < width")
    return FixedType(w, f)


def is_scalar(t: ValueType | None) -> bool:
    return type(t) in _SCALAR_TYPES


def is_number(t: ValueType | None) -> bool:
    return type(t) in _NUMBER_TYPES


def type_of(v: Value) -> ValueType | None:
    return None if isinstance(v, Pub) else v.type


def lossless(src: ValueType, dst: ValueType) -> bool:
    """May a value of type ``src`` be used where ``dst`` is expected, without a cast?"""
    if src == dst:
        return True
    if isinstance(src, BoolType):
        return isinstance(dst, IntType) and (dst.bits >= 2 or not dst.signed)
    if isinstance(src, IntType) and isinstance(dst, IntType):
        if src.signed:
            return dst.signed and dst.bits >= src.bits
        return dst.bits > src.bits if dst.signed else dst.bits >= src.bits
    if isinstance(src, FixedType) and isinstance(dst, FixedType):
        return dst.frac >= src.frac and dst.bits - dst.frac >= src.bits - src.frac
    if isinstance(src, ArrayType) and isinstance(dst, ArrayType):
        return src.length == dst.length and lossless(src.elem, dst.elem)
    if isinstance(src, TupleType) and isinstance(dst, TupleType):
        return len(src.elems) == len(dst.elems) and all(
            lossless(a, b) for a, b in zip(src.elems, dst.elems))
    return False


@lru_cache(maxsize=None)
def int_type(bits: int, signed: bool) -> IntType:
    """The integer type of these bits, one object per width (passes make a type per node)."""
    return IntType(bits, signed)


def join_numeric(types: list[ValueType]) -> ValueType | str:
    """The common type of the typed operands of an arithmetic operation, or an error text."""
    # the answer depends on the types alone, and an unrolled loop asks the same few
    # questions in every iteration (a u16 count plus a bool): those of two operands are kept
    if len(types) != 2:
        return _join_numeric(types)
    key = (types[0], types[1])
    got = _JOINED.get(key)
    if got is None:
        got = _JOINED[key] = _join_numeric(types)
    return got


_JOINED: dict[tuple, object] = {}


def _join_numeric(types: list[ValueType]) -> ValueType | str:
    # exact class tests (the value types have no subclasses; a false isinstance against
    # them is slow)
    nums = [t for t in types if type(t) is not BoolType]
    if not nums:
        return BOOL
    fixed = [t for t in nums if type(t) is FixedType]
    ints = [t for t in nums if type(t) is IntType]
    if fixed and ints:
        return (f"cannot mix {fixed[0]} and {ints[0]}: convert the integer with "
                f"{fixed[0]}(...) first")
    if fixed:
        # the one that holds every other, whatever their order (max(z, x, y) and
        # max(x, y, z) alike: x and y need not hold each other when z holds both)
        for best in fixed:
            if all(t is best or lossless(t, best) for t in fixed):
                return best
        kinds = list(dict.fromkeys(fixed))
        if len(kinds) == 2:
            return f"cannot mix {kinds[0]} and {kinds[1]}: convert one of them explicitly"
        return (f"cannot mix {', '.join(map(str, kinds))}: none of them holds every other; "
                f"convert them explicitly")
    uns = [t.bits for t in ints if not t.signed]
    sgn = [t.bits for t in ints if t.signed]
    if not sgn:
        return int_type(max(uns), False)
    if not uns:
        return int_type(max(sgn), True)
    if max(sgn) > max(uns):
        return int_type(max(sgn), True)
    return (f"cannot mix unsigned u{max(uns)} and signed i{max(sgn)}: cast one of them "
            f"(e.g. i{max(uns) + 1}(x))")


def scalar_leaves(t: ValueType) -> list[ValueType]:
    """The scalar types of a (nested) array or tuple type's leaves, in bit order."""
    if isinstance(t, ArrayType):
        return scalar_leaves(t.elem) * t.length
    if isinstance(t, TupleType):
        out: list[ValueType] = []
        for e in t.elems:
            out.extend(scalar_leaves(e))
        return out
    return [t]


def leaves(v: Value) -> list[Word]:
    if isinstance(v, Agg):
        out: list[Word] = []
        for it in v.items:
            out.extend(leaves(it))
        return out
    assert isinstance(v, Word)
    return [v]


def rebuild(t: ValueType, words: list[Word], pos: int = 0) -> tuple[Value, int]:
    """The value of type ``t`` whose leaves are ``words[pos:]``; returns (value, next pos)."""
    if isinstance(t, ArrayType):
        items = []
        for _ in range(t.length):
            v, pos = rebuild(t.elem, words, pos)
            items.append(v)
        return Agg(tuple(items), t), pos
    if isinstance(t, TupleType):
        items = []
        for e in t.elems:
            v, pos = rebuild(e, words, pos)
            items.append(v)
        return Agg(tuple(items), t), pos
    return words[pos], pos + 1


def describe(v: Value) -> str:
    if isinstance(v, Pub):
        return "a decimal constant" if isinstance(v.value, Fraction) else "an integer constant"
    return str(v.type)


class _AnyType:
    """The declared type ``any`` of a function's parameter or result: the parameter takes its
    argument as it is (functions are inlined, so each call has its own types), the result is
    what the function returns."""

    def __repr__(self) -> str:
        return "any"


ANY = _AnyType()
