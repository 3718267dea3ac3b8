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


@st.composite
def _element_lists(draw):
    """An element type and 32-80 values for it: in range, at the edges, ties of fixed-point
    rounding, and sometimes one that is out of range or of the wrong kind."""
    kind = draw(st.sampled_from(["int", "fix", "bool"]))
    if kind == "bool":
        t = BOOL
        elem = st.one_of(st.booleans(), st.integers(0, 1))
        wrong = st.sampled_from([2, -1, 0.5, "1"])
    elif kind == "int":
        t = IntType(draw(st.integers(1, 64)), draw(st.booleans()))
        elem = st.one_of(st.integers(t.min, t.max), st.sampled_from([t.min, t.max]))
        wrong = st.sampled_from([t.max + 1, t.min - 1, 1.0, "3", 2**70])
    else:
        bits = draw(st.integers(2, 64))
        t = FixedType(bits, draw(st.integers(0, bits - 1)))
        top = 2.0 ** (t.bits - t.frac - 1)
        step = 2.0 ** -t.frac
        elem = st.one_of(st.floats(-top, top - step), st.integers(int(-top), int(top - step)),
                         st.integers(-50, 50).map(lambda k: (k + 0.5) * step))
        wrong = st.sampled_from([float("nan"), float("inf"), 2 * top + 1, "x"])
    values = draw(st.lists(elem, min_size=32, max_size=80))
    if draw(st.integers(0, 4)) == 0:
        values[draw(st.integers(0, len(values) - 1))] = draw(wrong)
    return t, values


@settings(deadline=None, max_examples=150)
@given(_element_lists())
def test_large_arrays_encode_as_element_by_element(case):
    """Arrays of 32 or more numbers encode as one numpy operation: the same bits as encoding
    each element, and for a bad element the same error, naming it."""
    from yaogc.circuits import types
    elem, values = case
    t = ArrayType(elem, len(values))

    def outcome(whole_from):
        types._WHOLE_ARRAY, old = whole_from, types._WHOLE_ARRAY
        try:
            return t.encode(values, "v").tolist()
        except InputError as e:
            return str(e)
        finally:
            types._WHOLE_ARRAY = old
    assert outcome(32) == outcome(10**9)


def test_large_integers_among_decimals_encode_exactly():
    """A list of decimals holding an integer beyond 2^53 (which numpy would round to a float)
    encodes that integer exactly, as element by element (found by the test above)."""
    t = ArrayType(FixedType(55, 0), 32)
    values = [0.0] * 31 + [2 ** 53 + 1]
    bits = t.encode(values, "v")
    one = FixedType(55, 0)
    assert bits.tolist() == np.concatenate([one.encode(v, "v") for v in values]).tolist()
    assert one.decode(bits[-55:]) == 2 ** 53 + 1


@pytest.mark.parametrize("elem", [FixedType(16, 8), FixedType(16, 0), IntType(16, True)])
def test_large_arrays_refuse_the_most_negative_int64(elem):
    """-2^63 in an array of 32 or more is out of range, as element by element (its magnitude
    does not fit in int64: taken as one, a fixed-point array encoded it as 0)."""
    with pytest.raises(InputError, match=r"'v\[31\]'.*out of range"):
        ArrayType(elem, 32).encode([0] * 31 + [-2 ** 63], "v")


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


@pytest.mark.parametrize("t, text, want", [
    (uint(8), " 255 ", 255), (uint(8), "0xFf", 255), (uint(8), "0B1010", 10), (uint(8), "0o17", 15),
    (uint(16), "1_000", 1000), (sint(8), "-128", -128), (sint(8), "+127", 127),
    (sint(8), "-0x80", -128), (uint(8), "-0", 0), (uint(8), "007", 7),
    (uint(1), "TRUE", 1), (uint(1), "false", 0), (BOOL, " True ", True), (BOOL, "FALSE", False),
    (BOOL, "1", True), (uint(520), hex((1 << 519) | 5), (1 << 519) | 5),
    (ArrayType(ArrayType(sint(4), 3), 2), " [ [1, -2,3] ,[ -8 ,7, 0] ] ", [[1, -2, 3], [-8, 7, 0]]),
    (TupleType((uint(4), BOOL)), "[3, false]", [3, False]),
    (TupleType((uint(4), ArrayType(BOOL, 2))), "(3, [1, true])", [3, [True, True]]),
    (ArrayType(TupleType((BOOL, sint(3))), 2), "[(0,-4),(true,3)]", [[False, -4], [True, 3]]),
])
def test_parse_accepted_forms(t, text, want):
    assert t.parse(text, "p") == want


@pytest.mark.parametrize("text, raw", [
    ("1.5", 24), ("-1.5", -24), (".5", 8), ("5.", 80), ("1e-1", 2), ("-2.5E+0", -40),
    ("0.03125", 0), ("0.09375", 2), ("-7.96875", -128), ("-7.90625", -126), ("-8", -128), ("1e-99999999", 0),
    ("7.9375", 127), ("1_0.5", None),
])
def test_fixed_point_text_rounds_to_nearest_even(text, raw):
    t = FixedType(8, 4)   # units of 1/16, -8 .. 7.9375
    if raw is None:   # '_' between digits is allowed here too: 10.5 does not fit
        with pytest.raises(InputError, match="out of range for fix8_4"):
            t.parse(text, "f")
        return
    assert t.to_raw(t.parse(text, "f")) == raw


@pytest.mark.parametrize("t, text, fragment", [
    (uint(8), "--5", "input 'p': '--5' is not an integer"),
    (uint(8), "+-5", "is not an integer"),
    (uint(8), "5.0", "fractions and exponents are for fixed-point inputs"),
    (uint(8), "1e2", "fractions and exponents are for fixed-point inputs"),
    (uint(8), "", "input 'p': empty value"),
    (uint(8), "   ", "empty value"),
    (uint(8), "true", "'true' is not an integer"),
    (uint(8), "1__0", "not an integer"),
    (uint(8), "0x", "not an integer"),
    (uint(8), "1 2", "'1 2' is not an integer"),
    (sint(8), "- 5", "'- 5' is not an integer"),
    (ArrayType(uint(8), 2), "[1 2]", "missing ',' between '1' and '2'"),
    (uint(16), "1,000", "'1,000': a number is written without thousands separators: 1000"),
    (FixedType(32, 8), "-12,345.5", "without thousands separators: -12345.5 (a list is"),
    (uint(16), "1,2", "'1,2': a list must be written in brackets"),
    (uint(8), "[1]", "got a list, but u8 is a single value"),
    (uint(8), "256", "input 'p': 256 is out of range for u8 (0..255)"),
    (sint(8), "-129", "-129 is out of range for i8 (-128..127)"),
    (uint(8), "-1", "-1 is out of range for u8 (0..255)"),
    (uint(8), "9" * 5000, "has 5000 digits, far too many for 8 bits"),
    (uint(512), str(1 << 512), "out of range for u512 (0..2**512-1)"),
    (BOOL, "2", "'2' is not a bool (expected 0, 1, true or false)"),
    (BOOL, "yes", "is not a bool"),
    (FixedType(8, 4), "8", "8 is out of range for fix8_4 (-8..7.9375"),
    (FixedType(8, 4), "7.97", "7.97 is out of range for fix8_4"),
    (FixedType(8, 4), "1e999999999", "1e999999999 is out of range for fix8_4"),
    (FixedType(8, 4), "nan", "'nan' is not a number for fix8_4"),
    (FixedType(8, 4), "inf", "is not a number"),
    (FixedType(8, 4), "1/3", "is not a number"),
    (FixedType(8, 4), "0x10", "is not a number"),
    (ArrayType(uint(2), 3), "[1,2]", "expected 3 elements for u2[3], got 2"),
    (ArrayType(uint(2), 3), "[1,2,]", "empty element at position 5"),
    (ArrayType(uint(2), 3), "[1,,2]", "empty element at position 3"),
    (ArrayType(uint(2), 3), "[1,2,3", "'[' at position 0 is never closed"),
    (ArrayType(uint(2), 3), "[1,2,3]]", "unexpected ']' at position 7 after the value"),
    (ArrayType(uint(2), 3), "[1,2,3],[1]", "unexpected ','"),
    (ArrayType(uint(2), 3), "1,2,3", "a list must be written in brackets"),
    (ArrayType(uint(2), 3), "(1,2,3)", "arrays are written in square brackets"),
    (ArrayType(uint(2), 3), "[1,2)", "expected ',' or ']' at position 4, found ')'"),
    (ArrayType(uint(2), 3), "3", "'3' is not u2[3]: expected 3 values written as [a, b, ...]"),
    (ArrayType(uint(2), 3), "[" * 1000 + "]" * 1000, "nested more than 64 deep"),
    (ArrayType(ArrayType(uint(2), 3), 2), "[[1,2,3],[1,2,4]]", "input 'p[1][2]': 4 is out of range"),
    (ArrayType(ArrayType(uint(2), 3), 2), "[1,2,3,1,2,3]", "expected 2 elements for u2[2][3], got 6"),
    (TupleType((uint(2), BOOL)), "(1)", "expected 2 components for (u2, bool), got 1"),
    (TupleType((uint(2), BOOL)), "(1, 2)", "input 'p.1': '2' is not a bool"),
])
def test_parse_errors_are_one_clear_line(t, text, fragment):
    with pytest.raises(InputError) as e:
        t.parse(text, "p")
    msg = str(e.value)
    assert fragment in msg and "\n" not in msg and len(msg) < 300, msg


def test_decimals_from_json_are_bounded():
    from decimal import Decimal
    t = FixedType(16, 8)
    assert t.to_raw(Decimal("1.5")) == 384 and t.to_raw(Decimal("-1e-9999999")) == 0
    for d, fragment in ((Decimal("1e999999999"), "out of range"), (Decimal("NaN"), "finite"),
                        (Decimal("-Infinity"), "finite")):
        with pytest.raises(InputError, match=fragment):
            t.encode(d, "f")


def test_range_text_of_wide_types():
    assert uint(8).range_text == "0..255" and sint(100).range_text == "-2**99..2**99-1"
    assert FixedType(16, 8).range_text == "-128..127.99609375"


def test_type_names_wider_than_256_bits_are_refused():
    from yaogc.circuits.types import parse_type, ValueError_
    for name in ("fix300_10", "u257", "i300", "fix257_0"):
        with pytest.raises(ValueError_, match="outside 1..256"):
            parse_type(name)
    assert parse_type("fix256_100").width == 256
