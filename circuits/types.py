"""Value types and their bit encoding: the one bit order every stage agrees on.

A value of an integer type is a two's-complement (signed) or plain binary (unsigned) number
whose bit j sits on wire j of its port (least significant bit first), the convention of the
Bristol Fashion reference circuits. Fixed-point ``fix<W>_<F>`` is a signed W-bit integer
counting units of 2**-F. Arrays lay out element 0 first, each element's bits contiguous;
tuples lay out their components in order.

``encode`` refuses a value that does not fit (naming the port and the range); it never wraps.
``parse`` reads the text forms of the command line and CSV cells (listed above
:func:`_parse_tree`): a malformed or out-of-range value is one line naming the port and, inside
arrays and tuples, the element (``input 'm[1][2]'``, ``input 't.0'``).
"""

from __future__ import annotations

import re
from abc import abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from .errors import InputError

MAX_INT_WIDTH = 256


class ValueError_(InputError):
    """A value that does not fit its type, or a type name that does not parse."""


EncodeError = ValueError_


def _where(port: str | None) -> str:
    return f"input '{port}'" if port else "value"


def _value_text(value: Any) -> str:
    """A value as a message shows it: numbers as written (a JSON file's 5.5 is a Decimal,
    shown 5.5, not Decimal('5.5')), lists element by element, other values by repr."""
    if isinstance(value, (Decimal, Fraction)) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, list):
        text = "[" + ", ".join(_value_text(v) for v in value[:8]) + \
            (", ..." if len(value) > 8 else "") + "]"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ValueType:
    """Base of all value types. ``width`` is the number of wires a value occupies.

    A plain base class, not an ``abc.ABC``: the compiler tests ``isinstance`` against the
    type classes hundreds of thousands of times in a large program, and ABCMeta's check
    costs several times a plain class's (the abstract methods are marked all the same)."""

    width: int

    # ``_k``: a hashable stand-in for the type that hashes in C (the word IR keys every
    # operation on its type, and a dataclass's own __hash__ is a Python call); each class
    # sets it in __post_init__, from its fields. Equality and hashing go by it too (the
    # dataclasses are declared eq=False): the compiler compares types millions of times,
    # and a dataclass's generated __eq__ builds two tuples each time.
    _k: tuple

    def __eq__(self, other):
        return self is other or (isinstance(other, ValueType) and self._k == other._k)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self._k)

    def encode(self, value: Any, port: str | None = None) -> np.ndarray:
        """Bits of ``value`` as a uint8 array of length ``width`` (bit j = wire j)."""
        out = np.zeros(self.width, dtype=np.uint8)
        self._encode_into(value, out, port)
        return out

    def encode_many(self, values: Sequence[Any], port: str | None = None) -> np.ndarray:
        """Bits of many values as a ``(len(values), width)`` uint8 array."""
        out = np.zeros((len(values), self.width), dtype=np.uint8)
        for k, v in enumerate(values):
            self._encode_into(v, out[k], port)
        return out

    def decode(self, bits: Sequence[int] | np.ndarray) -> Any:
        bits = np.asarray(bits, dtype=np.uint8).reshape(-1)
        if bits.size != self.width:
            raise ValueError_(f"{self}: expected {self.width} bits, got {bits.size}")
        return self._decode(bits)

    def parse(self, text: str, port: str | None = None) -> Any:
        """Parse a value written on a command line or in a CSV cell (the forms are listed
        above :func:`_parse_tree`); errors name the port and the element."""
        return _value_from_tree(self, _parse_tree(text, _where(port)), port)

    def _parse_atom(self, text: str, port: str | None) -> Any:
        raise ValueError_(f"{_where(port)}: {_show(text)} is not {self.name}")

    def to_json(self, value: Any) -> Any:
        return value

    @abstractmethod
    def _encode_into(self, value: Any, out: np.ndarray, port: str | None) -> None:
        """Write the bits of ``value`` into ``out`` (length ``width``), range-checked."""

    @abstractmethod
    def _decode(self, bits: np.ndarray) -> Any:
        """The value whose bits are ``bits`` (length ``width``)."""

    def __str__(self) -> str:
        return self.name

    @property
    @abstractmethod
    def name(self) -> str:
        """The type as written in programs: bool, u8, i32, fix32_16, u8[4], (u8, bool)."""


def _scalar(value: Any) -> Any:
    """A 0-d numpy array (``np.array(5)``, a reduction's result) as the scalar it holds."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value


def _int_bits_into(x: int, width: int, out: np.ndarray) -> None:
    # x is already in [0, 2**width); little-endian bytes unpacked LSB first give wire order
    raw = x.to_bytes((width + 7) // 8, "little")
    out[:] = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")[:width]


def _bits_to_int(bits: np.ndarray) -> int:
    packed = np.packbits(bits.astype(np.uint8), bitorder="little")
    return int.from_bytes(packed.tobytes(), "little")


def _set(obj, **attrs) -> None:
    """Derived attributes of a frozen value type, set once when it is made."""
    for k, v in attrs.items():
        object.__setattr__(obj, k, v)


@dataclass(frozen=True, eq=False)
class BoolType(ValueType):
    def __post_init__(self):
        _set(self, _k=(BoolType,), width=1)

    @property
    def name(self) -> str:
        return "bool"

    def _encode_into(self, value, out, port):
        value = _scalar(value)
        if isinstance(value, (bool, np.bool_)):
            out[0] = int(value)
        elif isinstance(value, (int, np.integer)) and int(value) in (0, 1):
            out[0] = int(value)
        else:
            raise ValueError_(f"{_where(port)}: {_value_text(value)} is not a bool (expected 0, "
                              f"1, true or false)")

    def _decode(self, bits):
        return bool(bits[0])

    def _parse_atom(self, text, port):
        t = text.strip().lower()
        if t in ("1", "true"):
            return True
        if t in ("0", "false"):
            return False
        raise ValueError_(f"{_where(port)}: {_show(text)} is not a bool (expected 0, 1, true or "
                          f"false)")


@dataclass(frozen=True, eq=False)
class IntType(ValueType):
    bits: int
    signed: bool = False

    def __post_init__(self):
        # programs are limited to MAX_INT_WIDTH (see parse_type); a Bristol port may be wider
        if self.bits < 1:
            raise ValueError_(f"integer width {self.bits} must be at least 1")
        # plain attributes, not properties: the compiler reads them millions of times
        b = self.bits
        _set(self, _k=(IntType, b, self.signed), width=b,
             min=-(1 << (b - 1)) if self.signed else 0,
             max=(1 << (b - 1)) - 1 if self.signed else (1 << b) - 1)

    @property
    def name(self) -> str:
        return f"{'i' if self.signed else 'u'}{self.bits}"

    def check_range(self, value: int, port: str | None = None) -> int:
        value = _scalar(value)
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        elif isinstance(value, Decimal) and value.is_finite() and \
                value == value.to_integral_value():
            value = int(value)      # -5 as a Decimal (a JSON number, a data frame's cell)
        elif isinstance(value, Fraction) and value.denominator == 1:
            value = int(value)
        if not isinstance(value, (int, np.integer)):
            raise ValueError_(f"{_where(port)}: {_value_text(value)} is not an integer "
                              f"({self.name})")
        value = int(value)
        if not (self.min <= value <= self.max):
            shown = str(value) if value.bit_length() <= 128 else f"a {value.bit_length()}-bit number"
            raise ValueError_(f"{_where(port)}: {shown} is out of range for {self.name} "
                              f"({self.range_text})")
        return value

    @property
    def range_text(self) -> str:
        if self.bits <= 64:
            return f"{self.min}..{self.max}"
        n = self.bits
        return f"-2**{n - 1}..2**{n - 1}-1" if self.signed else f"0..2**{n}-1"

    def wrap(self, value: int) -> int:
        """Reduce any integer to this type's range (the hardware's wrap-around)."""
        value &= (1 << self.bits) - 1
        if self.signed and value >> (self.bits - 1):
            value -= 1 << self.bits
        return value

    def _encode_into(self, value, out, port):
        v = self.check_range(value, port)
        _int_bits_into(v & ((1 << self.bits) - 1), self.bits, out)

    def _decode(self, bits):
        return self.wrap(_bits_to_int(bits))

    def _parse_atom(self, text, port):
        if self.bits == 1 and not self.signed and text.strip().lower() in ("true", "false"):
            return int(text.strip().lower() == "true")   # a 1-bit Bristol port is a bool
        return self.check_range(_parse_int_text(text, _where(port), self.bits), port)


@dataclass(frozen=True, eq=False)
class FixedType(ValueType):
    """Signed two's-complement fixed point: ``bits`` in all, ``frac`` of them fraction."""

    bits: int
    frac: int

    def __post_init__(self):
        # programs are limited to MAX_INT_WIDTH (see parse_type), as for IntType; the
        # compiler's own wider words (an exact product, a checked mode's exact result) are not
        if not (1 <= self.bits) or not (0 <= self.frac < self.bits):
            raise ValueError_(f"fixed-point fix{self.bits}_{self.frac} needs 1 <= width "
                              f"and 0 <= fraction bits < width")
        _set(self, _k=(FixedType, self.bits, self.frac), width=self.bits,
             raw_type=IntType(self.bits, signed=True))

    @property
    def name(self) -> str:
        return f"fix{self.bits}_{self.frac}"

    def to_raw(self, value: Any, port: str | None = None) -> int:
        """The integer count of 2**-frac units nearest ``value`` (ties to even), range-checked."""
        value = _scalar(value)
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        if type(value) is float and abs(value) < 2.0 ** (self.bits - self.frac):
            # exact without a Fraction: scaling by a power of two is exact in binary floating
            # point, and round() of a float rounds ties to even
            raw = round(value * 2.0 ** self.frac)
            rt = self.raw_type
            if rt.min <= raw <= rt.max:
                return raw
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError_(f"{_where(port)}: {value!r} is not a finite number")
            q = Fraction(value)
        elif isinstance(value, Decimal):
            q = _decimal_fraction(value, self, _where(port), str(value))
        elif isinstance(value, np.integer):
            # as a Python int: a Fraction of a numpy integer keeps it, and its arithmetic
            # wraps (np.uint8(5) * 256) or yields a numpy raw that has no to_bytes
            q = Fraction(int(value))
        elif isinstance(value, (int, Fraction)):
            q = Fraction(value)
        elif isinstance(value, np.floating):
            q = Fraction(float(value))
        else:
            raise ValueError_(f"{_where(port)}: {_value_text(value)} is not a number "
                              f"({self.name})")
        raw = round(q * (1 << self.frac))
        rt = self.raw_type
        if not (rt.min <= raw <= rt.max):
            shown = value if not isinstance(value, Fraction) else _exact_or_ratio(value)
            raise ValueError_(f"{_where(port)}: {shown} is out of range for {self.name} "
                              f"({self.range_text}, after rounding to a multiple of "
                              f"2**-{self.frac})")
        return raw

    @property
    def range_text(self) -> str:
        rt = self.raw_type
        return (f"{_exact(Fraction(rt.min, 1 << self.frac))}.."
                f"{_exact(Fraction(rt.max, 1 << self.frac))}")

    def from_raw(self, raw: int) -> float | Decimal:
        """The value of ``raw`` units of 2**-frac: a float when a float holds it exactly, else
        the exact Decimal (a fix type of more than 53 significant bits would round)."""
        q = Fraction(raw, 1 << self.frac)
        f = float(q)
        return f if Fraction(f) == q else Decimal(_exact(q))

    def to_json(self, value: Any) -> Any:
        """A JSON number that is exact: an int when integral, the float when exact, else the
        exact decimal text (a string, since a JSON reader would round the number)."""
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else str(value)
        return value

    def _encode_into(self, value, out, port):
        raw = self.to_raw(value, port)
        _int_bits_into(raw & ((1 << self.bits) - 1), self.bits, out)

    def _decode(self, bits):
        return self.from_raw(self.raw_type.wrap(_bits_to_int(bits)))

    def _parse_atom(self, text, port):
        t = text.strip()
        if not _DEC_RE.fullmatch(t):
            raise ValueError_(f"{_where(port)}: {_show(t)} is not a number for {self.name} "
                              f"(a decimal such as -1.25 or 1e-3)")
        d = Decimal(t.replace("_", ""))
        q = _decimal_fraction(d, self, _where(port), t if len(t) <= 40 else _show(t))
        self.to_raw(q, port)   # refuse out-of-range values here, with the text as written
        return q


_WHOLE_ARRAY = 32       # arrays from this length encode their numbers as one numpy array
_EXACT_IN_FLOAT = 2 ** 53       # integers up to this magnitude are exact as float64


def _raw_values(elem: ValueType, value) -> np.ndarray | None:
    """The bit patterns of an array's elements as int64, when they are plain numbers of a
    scalar type of at most 62 bits, all in range: what ``elem._encode_into`` writes for each,
    computed at once. None where any element needs the per-element way (another kind of
    value, out of range: that way gives the error, naming the element)."""
    if type(elem) not in (IntType, FixedType, BoolType) or elem.width > 62:
        return None
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.dtype.kind not in "biuf" or arr.size == 0 or \
            (arr.dtype.kind == "u" and arr.max() >= 2 ** 62):
        return None
    if type(elem) is BoolType:
        if arr.dtype.kind == "f" or not ((arr == 0) | (arr == 1)).all():
            return None
        return arr.astype(np.int64)
    if type(elem) is FixedType:
        if arr.dtype.kind == "f":
            if not np.isfinite(arr).all() or np.abs(arr).max() >= 2.0 ** (elem.bits - elem.frac):
                return None
            if not isinstance(value, np.ndarray) and any(
                    type(v) is not float and abs(v) > _EXACT_IN_FLOAT for v in value):
                return None     # an integer numpy rounded to a float (2^53 + 1 among floats)
            # scaling by a power of two is exact; rint rounds ties to even, as to_raw does
            raw = np.rint(arr.astype(np.float64) * 2.0 ** elem.frac).astype(np.int64)
        else:
            # bounds, not np.abs: the magnitude of -2^63 does not fit in int64 (it stays
            # negative, and the shift below would make it 0)
            whole, lim = arr.astype(np.int64), 2 ** (elem.bits - elem.frac)
            if whole.min() <= -lim or whole.max() >= lim:
                return None
            raw = whole << elem.frac
        rt = elem.raw_type
    else:
        if arr.dtype.kind == "f":
            return None
        raw, rt = arr.astype(np.int64), elem
    if raw.min() < rt.min or raw.max() > rt.max:
        return None
    return raw & ((1 << elem.width) - 1)


@dataclass(frozen=True, eq=False)
class ArrayType(ValueType):
    elem: ValueType
    length: int

    def __post_init__(self):
        if self.length < 1:
            raise ValueError_(f"array length must be at least 1, got {self.length}")
        _set(self, _k=(ArrayType, self.elem._k, self.length),
             width=self.elem.width * self.length)

    @property
    def name(self) -> str:
        # u8[3][2] has shape (3, 2): three elements, each a u8[2], as in C and numpy
        dims = []
        t: ValueType = self
        while isinstance(t, ArrayType):
            dims.append(t.length)
            t = t.elem
        return t.name + "".join(f"[{d}]" for d in dims)

    def check_length(self, n: int, port: str | None = None) -> None:
        """Refuse a value of ``n`` elements for this array type."""
        if n != self.length:
            raise ValueError_(f"{_where(port)}: expected {self.length} elements for {self.name}, "
                              f"got {n}")

    def _encode_into(self, value, out, port):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
            raise ValueError_(f"{_where(port)}: {_value_text(value)} is not an array of "
                              f"{self.length} ({self.name})")
        if isinstance(value, (set, frozenset, dict)):
            # no order of their own: element i would be whatever came i-th
            raise ValueError_(f"{_where(port)}: a {type(value).__name__} has no order; give "
                              f"the {self.length} elements of {self.name} as a list")
        self.check_length(len(value), port)
        w = self.elem.width
        raw = _raw_values(self.elem, value) if self.length >= _WHOLE_ARRAY else None
        if raw is not None:
            # tens of thousands of records: one array operation, not a call per element
            out.reshape(self.length, w)[:] = (raw[:, None] >> np.arange(w)) & 1
            return
        for i, v in enumerate(value):
            self.elem._encode_into(v, out[i * w:(i + 1) * w], f"{port}[{i}]" if port else None)

    def _decode(self, bits):
        w = self.elem.width
        return [self.elem._decode(bits[i * w:(i + 1) * w]) for i in range(self.length)]

    def to_json(self, value):
        return [self.elem.to_json(v) for v in value]


@dataclass(frozen=True, eq=False)
class TupleType(ValueType):
    elems: tuple[ValueType, ...]

    def __post_init__(self):
        _set(self, _k=(TupleType, tuple(e._k for e in self.elems)),
             width=sum(e.width for e in self.elems))

    @property
    def name(self) -> str:
        return "(" + ", ".join(e.name for e in self.elems) + ")"

    def _encode_into(self, value, out, port):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != len(self.elems):
            raise ValueError_(f"{_where(port)}: expected a tuple of {len(self.elems)} ({self.name})")
        pos = 0
        for i, (t, v) in enumerate(zip(self.elems, value)):
            t._encode_into(v, out[pos:pos + t.width], f"{port}.{i}" if port else None)
            pos += t.width

    def _decode(self, bits):
        res, pos = [], 0
        for t in self.elems:
            res.append(t._decode(bits[pos:pos + t.width]))
            pos += t.width
        return res

    def to_json(self, value):
        return [t.to_json(v) for t, v in zip(self.elems, value)]


# --- parsing values written as text (command line, CSV cells) ---------------------------------
#
# Integers: decimal, 0x-hex, 0b-binary or 0o-octal, an optional sign (a negative value only
# fits a signed type), '_' between digits. Bools (and 1-bit unsigned Bristol ports): 0, 1, true,
# false in any case. Fixed point: a decimal with optional exponent (-1.25, .5, 1e-3), rounded to
# the nearest multiple of 2**-frac, ties to even; the rounded value must fit. Arrays are
# [a, b, ...] (nested for more dimensions), tuples (a, b) or [a, b]. Whitespace is ignored
# around every value.

_INT_RE = re.compile(r"([+-]?)(0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|"
                     r"[0-9](?:_?[0-9])*)")
_DEC_RE = re.compile(r"[+-]?(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)"
                     r"(?:[eE][+-]?[0-9]+)?")
_INT_FORMS = "decimal, 0x-hex, 0b-binary or 0o-octal"


def _show(text: str) -> str:
    t = text.strip()
    return repr(t if len(t) <= 40 else t[:37] + "...")


def _parse_int_text(text: str, where: str, bits: int | None = None) -> int:
    """An integer from text; ``bits`` bounds the digits converted (huge inputs are refused
    before Python converts them)."""
    t = text.strip()
    m = _INT_RE.fullmatch(t)
    if not m:
        if not t:
            raise ValueError_(f"{where}: empty value (expected an integer: {_INT_FORMS})")
        if _DEC_RE.fullmatch(t):
            raise ValueError_(f"{where}: {_show(t)} is not an integer (fractions and exponents "
                              f"are for fixed-point inputs)")
        raise ValueError_(f"{where}: {_show(t)} is not an integer ({_INT_FORMS})")
    sign, body = m.groups()
    body = body.replace("_", "")
    base = {"x": 16, "b": 2, "o": 8}.get(body[1:2].lower(), 10)
    digits = (body[2:] if base != 10 else body).lstrip("0")
    if bits is not None and (len(digits) - 1) * {16: 4, 8: 3, 2: 1, 10: 3.3}[base] > bits + 64:
        # refused before converting: Python will not convert decimals past 4300 digits
        raise ValueError_(f"{where}: {_show(t)} has {len(digits)} digits, far too many for "
                          f"{bits} bits")
    v = int(digits or "0", base)
    return -v if sign == "-" else v


_PUNCT = re.compile(r"[\[\](),]")
# 1,000 or -12,345.5: a number with thousands separators, as spreadsheets write them
GROUPED_NUMBER = re.compile(r"[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$")
_MAX_NESTING = 64


def _parse_tree(text: str, where: str):
    """'[1, (2, x)]' -> ('[', ['1', ('(', ['2', 'x'])]): brackets matched, atoms stripped."""
    toks: list[tuple[str, int]] = []   # (token, position); atoms stripped, empty ones dropped
    pos = 0
    for m in _PUNCT.finditer(text + ","):
        atom = text[pos:m.start()]
        if atom.strip():
            at = pos + len(atom) - len(atom.lstrip())
            # (in a list or tuple; a lone value such as '- 5' is named by its type's parser)
            if len(atom.split()) > 1 and _PUNCT.search(text):
                raise ValueError_(f"{where}: {_show(text)}: missing ',' between "
                                  f"{_show(atom.split()[0])} and {_show(atom.split()[1])} at "
                                  f"position {at}")
            toks.append((atom.strip(), at))
        if m.start() < len(text):
            toks.append((m.group(), m.start()))
        pos = m.end()
    shown = _show(text)

    def fail(msg):
        raise ValueError_(f"{where}: {shown}: {msg}")

    def value(k: int, depth: int):
        if k >= len(toks):
            fail("a value is missing at the end")
        tok, at = toks[k]
        if tok in "[(":
            if depth >= _MAX_NESTING:
                fail(f"nested more than {_MAX_NESTING} deep")
            close = "]" if tok == "[" else ")"
            items: list = []
            k += 1
            if k < len(toks) and toks[k][0] == close:
                return (tok, items), k + 1
            while True:
                item, k = value(k, depth + 1)
                items.append(item)
                if k >= len(toks):
                    fail(f"'{tok}' at position {at} is never closed")
                nxt, nat = toks[k]
                if nxt == close:
                    return (tok, items), k + 1
                if nxt != ",":
                    fail(f"expected ',' or '{close}' at position {nat}, found '{nxt[:20]}'")
                k += 1
        if tok in ",])":
            fail(f"empty element at position {at}" if tok == "," or k and toks[k - 1][0] == ","
                 else f"unbalanced '{tok}' at position {at}")
        return tok, k + 1

    if not toks:
        raise ValueError_(f"{where}: empty value")
    tree, k = value(0, 0)
    if k < len(toks):
        tok, at = toks[k]
        if tok == "," and not isinstance(tree, tuple):
            if GROUPED_NUMBER.match(text.strip()):
                fail(f"a number is written without thousands separators: "
                     f"{text.strip().replace(',', '')} (a list is written in brackets: "
                     f"[a, b, ...])")
            fail("a list must be written in brackets: [a, b, ...]")
        fail(f"unexpected '{tok[:20]}' at position {at} after the value")
    return tree


def _value_from_tree(t: "ValueType", node, port: str | None) -> Any:
    where = _where(port)
    if isinstance(t, (ArrayType, TupleType)):
        n = t.length if isinstance(t, ArrayType) else len(t.elems)
        if not isinstance(node, tuple):
            form = "[a, b, ...]" if isinstance(t, ArrayType) else "(a, b, ...)"
            raise ValueError_(f"{where}: {_show(node)} is not {t.name}: expected {n} values "
                              f"written as {form}")
        opening, items = node
        if isinstance(t, ArrayType) and opening != "[":
            raise ValueError_(f"{where}: arrays are written in square brackets [a, b, ...] "
                              f"({t.name})")
        if len(items) != n:
            what = "elements" if isinstance(t, ArrayType) else "components"
            raise ValueError_(f"{where}: expected {n} {what} for {t.name}, got {len(items)}")
        if isinstance(t, ArrayType):
            return [_value_from_tree(t.elem, x, f"{port}[{i}]" if port else None)
                    for i, x in enumerate(items)]
        return [_value_from_tree(e, x, f"{port}.{i}" if port else None)
                for i, (e, x) in enumerate(zip(t.elems, items))]
    if isinstance(node, tuple):
        raise ValueError_(f"{where}: got a list, but {t.name} is a single value")
    return t._parse_atom(node, port)


def _exact(q: Fraction) -> str:
    """A dyadic fraction as its exact decimal text."""
    if q.denominator == 1:
        return str(q.numerator)
    k = q.denominator.bit_length() - 1            # denominator is 2**k
    scaled = abs(q.numerator) * 5 ** k            # value * 10**k
    s = str(scaled).rjust(k + 1, "0")
    return ("-" if q < 0 else "") + (s[:-k] + "." + s[-k:]).rstrip("0")


def _decimal_fraction(d: Decimal, t: "FixedType", where: str, shown: str) -> Fraction:
    """A finite Decimal as a Fraction, refusing magnitudes no fixed type can hold before the
    (possibly enormous) exact conversion; tiny magnitudes become 0 (they round to 0 anyway)."""
    if not d.is_finite():
        raise ValueError_(f"{where}: {shown} is not a finite number ({t.name})")
    if d.is_zero():
        return Fraction(0)
    if d.adjusted() > t.bits:
        raise ValueError_(f"{where}: {shown} is out of range for {t.name} ({t.range_text})")
    if d.adjusted() < -(t.frac + 2):               # below 10**-(frac+1) < half a unit
        return Fraction(0)
    return Fraction(d)


def _exact_or_ratio(q: Fraction) -> str:
    return _exact(q) if q.denominator & (q.denominator - 1) == 0 else str(float(q))


def _split_list(text: str, where: str, opening: str = "[", closing: str = "]") -> list[str]:
    """Split '(u8, (bool, u2))' into its top-level items (type names)."""
    t = text.strip()
    if not (t.startswith(opening) and t.endswith(closing)) and not (t.startswith("[") and t.endswith("]")):
        raise ValueError_(f"{where}: '{text}' is not a list written as [a,b,...]")
    body = t[1:-1]
    items, depth, cur = [], 0, []
    for ch in body:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip() or items:
        items.append("".join(cur))
    return [s.strip() for s in items]


BOOL = BoolType()

_TYPE_RE = re.compile(r"^(?:(bool)|([ui])(\d+)|fix(\d+)_(\d+))((?:\[\d+\])*)$")


def uint(n: int) -> IntType:
    return IntType(n, False)


def sint(n: int) -> IntType:
    return IntType(n, True)


def parse_type(text: str) -> ValueType:
    """Parse a type name: bool, u8, i32, fix32_16, u8[4], u8[3][2], (u8, bool)."""
    t = text.replace(" ", "")
    if t.startswith("(") and t.endswith(")"):
        return TupleType(tuple(parse_type(s) for s in _split_list(t, "type", "(", ")")))
    m = _TYPE_RE.match(t)
    if not m:
        raise ValueError_(f"unknown type '{text}'")
    if m.group(1):
        base: ValueType = BOOL
    elif m.group(2):
        if not 1 <= int(m.group(3)) <= MAX_INT_WIDTH:
            raise ValueError_(f"integer width in '{text}' is outside 1..{MAX_INT_WIDTH}")
        base = IntType(int(m.group(3)), m.group(2) == "i")
    else:
        if not 1 <= int(m.group(4)) <= MAX_INT_WIDTH:
            raise ValueError_(f"fixed-point width in '{text}' is outside 1..{MAX_INT_WIDTH}")
        base = FixedType(int(m.group(4)), int(m.group(5)))
    dims = [int(d) for d in re.findall(r"\[(\d+)\]", m.group(6))]
    for d in reversed(dims):
        base = ArrayType(base, d)
    return base
