"""Value types: the one bit order (bit j on wire j), round trips, parsing, range errors."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits import (BOOL, ArrayType, EncodeError, FixedType, InputError, IntType,
                            TupleType, parse_type, sint, uint)


def test_bit_order_is_lsb_first():
    assert uint(4).encode(0b0101).tolist() == [1, 0, 1, 0]
    assert sint(4).encode(-1).tolist() == [1, 1, 1, 1]
    assert sint(4).encode(-8).tolist() == [0, 0, 0, 1]
    assert FixedType(8, 3).encode(1.5).tolist() == [0, 0, 1, 1, 0, 0, 0, 0]  # 12 units of 1/8
    assert ArrayType(uint(2), 2).encode([1, 2]).tolist() == [1, 0, 0, 1]
    assert TupleType((BOOL, uint(3))).encode([True, 6]).tolist() == [1, 0, 1, 1]


@settings(deadline=None, max_examples=100)
@given(st.integers(1, 300), st.booleans(), st.data())
def test_int_round_trip_any_width(bits, signed, data):
    t = IntType(bits, signed)
    v = data.draw(st.integers(t.min, t.max))
    assert t.decode(t.encode(v)) == v
    assert t.wrap(v + (1 << bits)) == v


@settings(deadline=None, max_examples=60)
@given(st.integers(2, 40), st.data())
def test_fixed_round_trip(bits, data):
    frac = data.draw(st.integers(0, bits - 1))
    t = FixedType(bits, frac)
    raw = data.draw(st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1))
    value = Fraction(raw, 1 << frac)
    assert t.decode(t.encode(value)) == float(value)


def test_encode_many_and_nested_decode():
    t = ArrayType(ArrayType(sint(3), 2), 2)
    v = [[-4, 3], [0, -1]]
    assert t.decode(t.encode(v)) == v
    many = uint(5).encode_many([0, 31, 7])
    assert many.shape == (3, 5) and [uint(5).decode(r) for r in many] == [0, 31, 7]


@pytest.mark.parametrize("t, value, fragment", [
    (uint(8), 256, "input 'p': 256 is out of range for u8 (0..255)"),
    (uint(8), -1, "out of range for u8"),
    (sint(8), -129, "out of range for i8 (-128..127)"),
    (sint(8), 1.5, "is not an integer"),
    (BOOL, 2, "is not a bool"),
    (FixedType(8, 3), 16.0, "out of range for fix8_3"),
    (FixedType(8, 3), float("nan"), "not a finite number"),
    (FixedType(8, 3), "x", "not a number"),
    (ArrayType(uint(2), 3), [1, 2], "expected 3 elements"),
    (ArrayType(uint(2), 2), [1, 4], "input 'p[1]': 4 is out of range"),
    (ArrayType(uint(2), 2), "ab", "not an array"),
    (TupleType((uint(2), BOOL)), [1], "expected a tuple of 2"),
])
def test_range_and_shape_errors_name_the_port(t, value, fragment):
    with pytest.raises(EncodeError) as e:
        t.encode(value, "p")
    assert fragment in str(e.value)
    assert isinstance(e.value, InputError)


def test_parse_type_names():
    for name in ("bool", "u1", "u8", "i32", "u256", "fix32_16", "u8[4]", "u8[3][2]", "(u8, bool)",
                 "(i4, (bool, u2[2]))"):
        assert str(parse_type(name)) == name
    t = parse_type("u8[3][2]")
    assert t.length == 3 and t.elem == ArrayType(uint(8), 2) and t.width == 48


@pytest.mark.parametrize("name, fragment", [("u300", "outside 1..256"), ("u0", "outside"),
                                            ("q8", "unknown type"), ("u8[", "unknown type"),
                                            ("fix8_8", "fraction bits")])
def test_parse_type_errors(name, fragment):
    with pytest.raises(InputError, match=fragment):
        parse_type(name)


def test_wide_ints_exist_outside_the_language():
    assert IntType(512).width == 512   # Bristol ports may be wider than programs allow
    with pytest.raises(InputError):
        IntType(0)


def test_parse_values():
    assert uint(8).parse("0x1f") == 31 and uint(16).parse("1_000") == 1000
    assert sint(8).parse("-0b101") == -5
    assert BOOL.parse("true") is True and BOOL.parse("0") is False
    assert ArrayType(uint(4), 2).parse("[1, 0x2]") == [1, 2]
    assert FixedType(8, 3).parse("1.25") == Fraction(5, 4)
    assert TupleType((uint(4), BOOL)).parse("(3, true)") == [3, True]
    with pytest.raises(InputError, match="not an integer"):
        uint(8).parse("0xzz", "p")
    with pytest.raises(InputError, match="out of range"):
        uint(8).parse("300", "p")
    with pytest.raises(InputError, match="not a bool"):
        BOOL.parse("maybe")


def test_decode_checks_width():
    with pytest.raises(InputError, match="expected 8 bits"):
        uint(8).decode(np.zeros(7, dtype=np.uint8))
