"""Value types and their bit encoding: the one bit order every stage agrees on.

A value of an integer type is a two's-complement (signed) or plain binary (unsigned) number
whose bit j sits on wire j of its port (least significant bit first), the convention of the
Bristol Fashion reference circuits. Fixed-point ``fix<W>_<F>`` is a signed W-bit integer
counting units of 2**-F. Arrays lay out element 0 first, each element's bits contiguous;
tuples lay out their components in order.

``encode`` refuses a value that does not fit (naming the port and the range); it never wraps.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
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


class ValueType(ABC):
    """Base of all value types. ``width`` is the number of wires a value occupies."""

    width: int

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

    @abstractmethod
    def parse(self, text: str, port: str | None = None) -> Any:
        """Parse a value written on a command line or in a CSV cell."""

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


def _int_bits_into(x: int, width: int, out: np.ndarray) -> None:
    # x is already in [0, 2**width); little-endian bytes unpacked LSB first give wire order
    raw = x.to_bytes((width + 7) // 8, "little")
    out[:] = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")[:width]


def _bits_to_int(bits: np.ndarray) -> int:
    packed = np.packbits(bits.astype(np.uint8), bitorder="little")
    return int.from_bytes(packed.tobytes(), "little")


def _parse_int_text(text: str, where: str) -> int:
    t = text.strip().replace("_", "")
    try:
        if t.lower() in ("true", "false"):
            return int(t.lower() == "true")
        neg = t.startswith("-")
        body = t[1:] if neg or t.startswith("+") else t
        low = body.lower()
        if low.startswith("0x"):
            v = int(body[2:], 16)
        elif low.startswith("0b"):
            v = int(body[2:], 2)
        elif low.startswith("0o"):
            v = int(body[2:], 8)
        else:
            v = int(body, 10)
        return -v if neg else v
    except ValueError:
        raise ValueError_(f"{where}: '{text}' is not an integer (decimal, 0x-hex or 0b-binary)") from None


@dataclass(frozen=True)
class BoolType(ValueType):
    @property
    def width(self) -> int:  # type: ignore[override]
        return 1

    @property
    def name(self) -> str:
        return "bool"

    def _encode_into(self, value, out, port):
        if isinstance(value, (bool, np.bool_)):
            out[0] = int(value)
        elif isinstance(value, (int, np.integer)) and int(value) in (0, 1):
            out[0] = int(value)
        else:
            raise ValueError_(f"{_where(port)}: {value!r} is not a bool (expected 0, 1, true or false)")

    def _decode(self, bits):
        return bool(bits[0])

    def parse(self, text, port=None):
        t = text.strip().lower()
        if t in ("1", "true"):
            return True
        if t in ("0", "false"):
            return False
        raise ValueError_(f"{_where(port)}: '{text}' is not a bool (expected 0, 1, true or false)")


@dataclass(frozen=True)
class IntType(ValueType):
    bits: int
    signed: bool = False

    def __post_init__(self):
        # programs are limited to MAX_INT_WIDTH (see parse_type); a Bristol port may be wider
        if self.bits < 1:
            raise ValueError_(f"integer width {self.bits} must be at least 1")

    @property
    def width(self) -> int:  # type: ignore[override]
        return self.bits

    @property
    def name(self) -> str:
        return f"{'i' if self.signed else 'u'}{self.bits}"

    @property
    def min(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def check_range(self, value: int, port: str | None = None) -> int:
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        if not isinstance(value, (int, np.integer)):
            raise ValueError_(f"{_where(port)}: {value!r} is not an integer ({self.name})")
        value = int(value)
        if not (self.min <= value <= self.max):
            raise ValueError_(
                f"{_where(port)}: {value} is out of range for {self.name} ({self.min}..{self.max})"
            )
        return value

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

    def parse(self, text, port=None):
        return self.check_range(_parse_int_text(text, _where(port)), port)


@dataclass(frozen=True)
class FixedType(ValueType):
    """Signed two's-complement fixed point: ``bits`` in all, ``frac`` of them fraction."""

    bits: int
    frac: int

    def __post_init__(self):
        if not (1 <= self.bits <= MAX_INT_WIDTH) or not (0 <= self.frac < self.bits):
            raise ValueError_(f"fixed-point fix{self.bits}_{self.frac} needs 1 <= width <= "
                              f"{MAX_INT_WIDTH} and 0 <= fraction bits < width")

    @property
    def width(self) -> int:  # type: ignore[override]
        return self.bits

    @property
    def name(self) -> str:
        return f"fix{self.bits}_{self.frac}"

    @property
    def raw_type(self) -> IntType:
        return IntType(self.bits, signed=True)

    def to_raw(self, value: Any, port: str | None = None) -> int:
        """The integer count of 2**-frac units nearest ``value`` (ties to even), range-checked."""
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError_(f"{_where(port)}: {value!r} is not a finite number")
            q = Fraction(value)
        elif isinstance(value, (int, np.integer, Fraction, Decimal)):
            q = Fraction(value)
        elif isinstance(value, np.floating):
            q = Fraction(float(value))
        else:
            raise ValueError_(f"{_where(port)}: {value!r} is not a number ({self.name})")
        raw = round(q * (1 << self.frac))
        rt = self.raw_type
        if not (rt.min <= raw <= rt.max):
            lo = Fraction(rt.min, 1 << self.frac)
            hi = Fraction(rt.max, 1 << self.frac)
            raise ValueError_(f"{_where(port)}: {value} is out of range for {self.name} "
                              f"({float(lo)}..{float(hi)})")
        return raw

    def from_raw(self, raw: int) -> float:
        return float(Fraction(raw, 1 << self.frac))

    def _encode_into(self, value, out, port):
        raw = self.to_raw(value, port)
        _int_bits_into(raw & ((1 << self.bits) - 1), self.bits, out)

    def _decode(self, bits):
        return self.from_raw(self.raw_type.wrap(_bits_to_int(bits)))

    def parse(self, text, port=None):
        try:
            return Fraction(Decimal(text.strip()))
        except Exception:
            raise ValueError_(f"{_where(port)}: '{text}' is not a decimal number ({self.name})") from None


@dataclass(frozen=True)
class ArrayType(ValueType):
    elem: ValueType
    length: int

    def __post_init__(self):
        if self.length < 1:
            raise ValueError_(f"array length must be at least 1, got {self.length}")

    @property
    def width(self) -> int:  # type: ignore[override]
        return self.elem.width * self.length

    @property
    def name(self) -> str:
        # u8[3][2] has shape (3, 2): three elements, each a u8[2], as in C and numpy
        dims = []
        t: ValueType = self
        while isinstance(t, ArrayType):
            dims.append(t.length)
            t = t.elem
        return t.name + "".join(f"[{d}]" for d in dims)

    def _encode_into(self, value, out, port):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
            raise ValueError_(f"{_where(port)}: {value!r} is not an array of {self.length} ({self.name})")
        if len(value) != self.length:
            raise ValueError_(f"{_where(port)}: expected {self.length} elements for {self.name}, "
                              f"got {len(value)}")
        w = self.elem.width
        for i, v in enumerate(value):
            self.elem._encode_into(v, out[i * w:(i + 1) * w], f"{port}[{i}]" if port else None)

    def _decode(self, bits):
        w = self.elem.width
        return [self.elem._decode(bits[i * w:(i + 1) * w]) for i in range(self.length)]

    def parse(self, text, port=None):
        items = _split_list(text, _where(port))
        return [self.elem.parse(t, port) for t in items]

    def to_json(self, value):
        return [self.elem.to_json(v) for v in value]


@dataclass(frozen=True)
class TupleType(ValueType):
    elems: tuple[ValueType, ...]

    @property
    def width(self) -> int:  # type: ignore[override]
        return sum(e.width for e in self.elems)

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

    def parse(self, text, port=None):
        items = _split_list(text, _where(port), "(", ")")
        if len(items) != len(self.elems):
            raise ValueError_(f"{_where(port)}: expected {len(self.elems)} components for {self.name}")
        return [t.parse(s, port) for t, s in zip(self.elems, items)]

    def to_json(self, value):
        return [t.to_json(v) for t, v in zip(self.elems, value)]


def _split_list(text: str, where: str, opening: str = "[", closing: str = "]") -> list[str]:
    """Split '[1,2,[3,4]]' into its top-level items."""
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
        base = FixedType(int(m.group(4)), int(m.group(5)))
    dims = [int(d) for d in re.findall(r"\[(\d+)\]", m.group(6))]
    for d in reversed(dims):
        base = ArrayType(base, d)
    return base
