"""Bristol Fashion reader and writer: SSA conversion, EQ/EQW/INV, bad files refused with
``path:line:``, and writer round trips on circuits with constants, NOT and odd outputs."""

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from test_passes import random_circuits

from yaogc.circuits import BOOL, Builder, InputError, Op, uint
from yaogc.circuits.bristol import FormatError, bristol_text, load_circuit, read_bristol, write_bristol
from yaogc.circuits.evaluate import evaluate_bits, evaluate_one
from yaogc.circuits.native import write_native

# out = (a AND b) XOR NOT a, with the wires numbered out of order and a copy and a constant
SMALL = """\
5 7
2 1 1
1 1

1 1 0 5 INV
2 1 1 0 4 AND
1 1 1 2 EQ
2 1 4 5 3 XOR
1 1 3 6 EQW
"""


def test_small_circuit_ssa_and_semantics():
    c = read_bristol(SMALL).check()
    assert c.n_inputs == 2 and c.name == "bristol"
    # EQW is an alias, not a gate; EQ becomes a constant gate even if unused
    assert sorted(Op(o).name for o in c.op) == ["AND", "CONST1", "NOT", "XOR"]
    for a in (0, 1):
        for b in (0, 1):
            assert evaluate_one(c, in1=a, in2=b)["out1"] == (a & b) ^ (1 - a)
    assert [p.name for p in c.inputs] == ["in1", "in2"]
    assert [p.party for p in c.inputs] == ["garbler", "evaluator"]
    assert c.outputs[0].recipients == ("garbler", "evaluator")
    assert c.parties == ("garbler", "evaluator")


def test_constant_output_and_alias_chain():
    text = "4 5\n1 1\n1 2\n\n1 1 1 1 EQ\n1 1 1 2 EQW\n1 1 2 3 EQW\n2 1 0 3 4 AND\n"
    c = read_bristol(text).check()
    # out1 bit 0 is wire 4 = copy of copy of constant 1; bit 1 = in1 & 1
    assert evaluate_one(c, in1=0)["out1"] == 0b01
    assert evaluate_one(c, in1=1)["out1"] == 0b11


def test_wide_ports_and_file_name(tmp_path):
    width = 300
    lines = [f"{width} {3 * width}", f"2 {width} {width}", f"1 {width}", ""]
    lines += [f"2 1 {j} {width + j} {2 * width + j} XOR" for j in range(width)]
    p = tmp_path / "wide_xor.txt"
    p.write_text("\n".join(lines) + "\n")
    c = read_bristol(p)
    assert c.name == "wide_xor" and c.inputs[0].type == uint(width)
    a, b = (1 << 299) | 12345, (1 << 298) | 999
    assert evaluate_one(c, in1=a, in2=b)["out1"] == a ^ b


def test_header_without_blank_line_is_read():
    c = read_bristol("1 3\n2 1 1\n1 1\n2 1 0 1 2 AND\n")
    assert c.count(Op.AND) == 1


def test_crlf_tabs_and_trailing_blank_lines():
    text = SMALL.replace("\n", "\r\n").replace(" ", "\t") + "\r\n\r\n"
    c = read_bristol(text.encode())
    assert evaluate_one(c, in1=1, in2=1)["out1"] == 1


HEAD = "2 5\n3 1 1 1\n1 1\n\n"   # inputs are wires 0, 1, 2; the output is wire 4
G1 = "2 1 0 1 3 AND\n"
BAD = [
    ("", 1, "empty file"),
    # no output at all: read as a circuit that computes nothing (the writer refuses one)
    ("1 3\n2 1 1\n0\n\n2 1 0 1 2 AND\n", 3, "declares no output bits"),
    ("2 5\n2 1 1\n", 2, "truncated header"),
    ("2 x\n2 1 1\n1 1\n\n", 1, "'x' is not a non-negative integer"),
    ("2 5 7\n2 1 1\n1 1\n\n", 1, "expected 'gates wires'"),
    ("2 5\n3 1 1\n1 1\n\n", 2, "count followed by that many widths"),
    ("1 3\n0 2 1\n\n2 1 0 1 2 AND\n", 2, "the first input and the output need at least"),
    ("1 3\n2 1 0\n\n2 1 0 1 2 AND\n", 2, "the first input and the output need at least"),
    ("2 5\n1 1 1\n\n2 1 0 1 3 AND\n", 4, "file ends after 1 of 2 gates"),
    ("1 5\n1 1 1\n\n2 1 0 1 3 AND\n", 2, "out1 bit 0 is wire 4, which no gate sets"),
    ("1 5\n1 1 1\n\n2 1 0 1 3 NAND\n", 4, "unknown gate 'NAND'"),
    ("2 5\n2 1 1\n1 x\n\n2 1 0 1 2 XOR\n", 3, "'x' is not a non-negative integer"),
    ("2 5\n2 1 0\n1 1\n\n", 2, "at least 1"),
    ("2 9\n2 1 1\n1 1\n\n", 3, "file ends after 0 of 2 gates"),
    ("2 99999999999999\n2 1 99999999999990\n1 1\n\n", 1, "fewer than 2**31 wires"),
    ("0 40000000\n2 20000000 20000000\n1 1\n\n", 1, "at most 16777216 input plus output"),
    (HEAD + G1, 5, "file ends after 1 of 2 gates"),
    (HEAD + G1 + "2 1 0 3 4 XOR\n2 1 0 3 4 XOR\n", 7, "more gate lines"),
    (HEAD + "2 1 0 4 3 AND\n2 1 0 1 4 XOR\n", 5, "wire 4 is used before it is set"),
    (HEAD + "2 1 0 3 3 AND\n2 1 0 1 4 XOR\n", 5, "wire 3 is used before it is set"),
    (HEAD + "2 1 0 1 4 AND\n2 1 0 1 4 XOR\n", 6, "wire 4 is set twice"),
    (HEAD + G1 + "2 1 0 1 4 NAND\n", 6, "unknown gate 'NAND'"),
    (HEAD + G1 + "2 1 0 b 4 XOR\n", 6, "'b' is not a wire number"),
    (HEAD + G1 + "2 1\n", 6, "truncated gate line"),
    (HEAD + G1 + "2 1 0 1 XOR\n", 6, "has 2 wire numbers but declares 2 inputs"),
    (HEAD + G1 + "1 1 0 1 4 XOR\n", 6, "XOR takes 2 input(s)"),
    (HEAD + G1 + "3 1 0 1 2 4 MAND\n", 6, "MAND takes 2k inputs and k outputs (k >= 1), the "
                                         "line says 3 and 1"),
    (HEAD + G1 + "0 0 MAND\n", 6, "MAND takes 2k inputs and k outputs"),
    (HEAD + G1 + "4 2 0 1 2 4 MAND\n", 6, "has 4 wire numbers but declares 4 inputs and 2"),
    (HEAD + G1 + "4 2 0 1 2 1 3 4 MAND\n", 6, "wire 3 is set twice"),
    (HEAD + "4 2 0 1 2 1 3 1 MAND\n" + G1, 5, "wire 1 is an input wire"),
    (HEAD + "4 2 0 1 4 1 3 9 MAND\n" + G1, 5, "wire 9 is outside 0..4"),
    ("1 5\n3 1 1 1\n1 1\n\n4 2 0 1 4 1 3 4 MAND\n", 5, "wire 4 is used before it is set"),
    (HEAD + G1 + "2 1 0 1 4 mand\n", 6, "unknown gate 'mand'"),
    (HEAD + G1 + "2 1 0 1 4\n", 6, "does not end in a gate name"),
    (HEAD + G1 + "1 1 2 4 EQ\n", 6, "must be 0 or 1"),
    (HEAD + G1 + "2 1 0 1 9 XOR\n", 6, "wire 9 is outside 0..4"),
    (HEAD + G1 + "2 1 0 7 4 XOR\n", 6, "wire 7 is outside 0..4"),
    (HEAD + "2 1 0 1 2 AND\n2 1 0 1 4 XOR\n", 5, "input wire and cannot be set"),
    ("3 6\n3 1 1 1\n1 1\n\n" + G1 + "2 1 0 3 4 XOR\n1 1 4 0 INV\n", 7, "input wire"),
    ("2 5\n3 1 1 1\n1 1\n\n" + G1 + "2 1 0 1 3 XOR\n", 6, "wire 3 is set twice"),
    ("1 4\n3 1 1 1\n1 1\n\n2 1 0 1 0 XOR\n", 5, "input wire"),
    ("1 4\n2 1 1\n1 1\n\n2 1 0 1 2 XOR\n", 3, "out1 bit 0 is wire 3, which no gate sets"),
    ("2 5\n3 1 1 1\n1 1\n\n" + G1 + "1 1 3 3 INV\n", 6, "set twice"),
]


@pytest.mark.parametrize("text, line, fragment", BAD)
def test_bad_files_refused_with_line(tmp_path, text, line, fragment):
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(FormatError) as e:
        read_bristol(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}:{line}: "), msg
    assert fragment in msg
    assert isinstance(e.value, InputError)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(FormatError, match="cannot read"):
        read_bristol(tmp_path / "absent.txt")
    with pytest.raises(FormatError, match="cannot read"):
        load_circuit(tmp_path / "absent.txt")


def _odd_circuit():
    """Outputs that name inputs, constants, NOT gates and the same wire twice."""
    b = Builder("odd", parties=("alice", "bob"))
    x = b.input("alice", "x", uint(4))
    y = b.input("bob", "y", uint(4))
    t = b.and_(x[2], y[3])
    b.output(("alice", "bob"), "o", uint(6), [x[0], x[0], 1, 0, b.not_(y[1]), t])
    b.output(("bob",), "p", uint(2), [t, y[0]])
    b.output(("alice",), "q", BOOL, [b.xor(t, x[1])])
    return b.build().check()


def _all_rows(c):
    k = c.n_inputs
    return ((np.arange(1 << k)[:, None] >> np.arange(k)) & 1).astype(np.uint8)


def test_writer_round_trip_with_copies_constants_and_not():
    c = _odd_circuit()
    text = bristol_text(c)
    header = text.splitlines()[:3]
    n_gates, n_wires = map(int, header[0].split())
    assert header[1:] == ["2 4 4", "3 6 2 1"]
    assert "EQW" in text and "EQ" in text and "INV" in text
    again = read_bristol(text).check()
    rows = _all_rows(c)
    assert np.array_equal(evaluate_bits(again, rows), evaluate_bits(c, rows))
    # the outputs are the last wires, in header order: every EQW target is >= n_wires - 9
    out_ids = [int(line.split()[-2]) for line in text.splitlines()[4:] if line.endswith("EQW")]
    assert min(out_ids) >= n_wires - 9 and n_gates == len(text.splitlines()) - 4


def test_write_to_file_objects_and_paths(tmp_path):
    c = _odd_circuit()
    text_io, bin_io = io.StringIO(), io.BytesIO()
    write_bristol(c, text_io)
    write_bristol(c, bin_io)
    write_bristol(c, tmp_path / "o.txt")
    assert text_io.getvalue() == bin_io.getvalue().decode() == (tmp_path / "o.txt").read_text()


def test_load_circuit_picks_the_format(tmp_path):
    c = _odd_circuit()
    write_bristol(c, tmp_path / "a.txt")
    write_native(c, tmp_path / "a.ycirc")
    from_bristol = load_circuit(tmp_path / "a.txt")
    from_native = load_circuit(str(tmp_path / "a.ycirc"))
    assert from_native.content_hash == c.content_hash
    assert [p.name for p in from_bristol.inputs] == ["in1", "in2"]
    assert [p.name for p in from_native.inputs] == ["x", "y"]


def test_writer_refuses_a_circuit_without_outputs():
    b = Builder("none")
    b.input("garbler", "x", BOOL)
    with pytest.raises(InputError, match="no outputs"):
        bristol_text(b.build())


def test_circuit_with_no_gates():
    c = read_bristol("0 2\n1 2\n1 2\n\n")
    assert c.n_gates == 0
    assert evaluate_one(c, in1=2)["out1"] == 2


@settings(deadline=None, max_examples=60)
@given(random_circuits(max_inputs=6, max_gates=40))
def test_random_circuits_survive_both_formats(c):
    from yaogc.circuits.native import native_bytes, read_native
    again = read_bristol(bristol_text(c)).check()
    rows = _all_rows(c)
    want = evaluate_bits(c, rows)
    assert np.array_equal(evaluate_bits(again, rows), want)
    assert again.count(Op.AND) == c.count(Op.AND)
    native = read_native(native_bytes(c))
    assert native.content_hash == c.content_hash
    assert np.array_equal(evaluate_bits(native, rows), want)



# out_i = (a_i AND b_i) XOR (a_{i+1} AND b_{i+2}) over 3-bit a (wires 0..2) and b (3..5),
# indices mod 3; the same circuit with its six ANDs on three MAND lines (k = 3, 2, 1)
XOR_LINES = "2 1 6 9 12 XOR\n2 1 8 11 14 XOR\n2 1 7 10 13 XOR\n"
AND_FORM = ("9 15\n2 3 3\n1 3\n\n2 1 0 3 6 AND\n2 1 1 4 7 AND\n2 1 2 5 8 AND\n"
            "2 1 1 5 9 AND\n2 1 2 3 10 AND\n2 1 0 4 11 AND\n" + XOR_LINES)
MAND_FORM = ("6 15\n2 3 3\n1 3\n\n6 3 0 1 2 3 4 5 6 7 8 MAND\n4 2 2 0 3 4 10 11 MAND\n"
             "2 1 1 5 9 MAND\n" + XOR_LINES)


def test_mand_lines_expand_into_and_gates(capsys, tmp_path):
    plain = read_bristol(AND_FORM).check()
    mand = read_bristol(MAND_FORM).check()
    assert mand.count(Op.AND) == plain.count(Op.AND) == 6 and mand.and_depth == 1
    rows = _all_rows(mand)
    got = evaluate_bits(mand, rows)
    assert np.array_equal(got, evaluate_bits(plain, rows))
    a, b = rows[:, :3], rows[:, 3:]
    want = np.stack([(a[:, i] & b[:, i]) ^ (a[:, (i + 1) % 3] & b[:, (i + 2) % 3])
                     for i in range(3)], axis=1)
    assert np.array_equal(got, want)
    # the header counts lines: the same MAND file with the expanded count (9) is refused
    with pytest.raises(FormatError, match=r"^<bristol>:\d+: file ends after 6 of 9 gates"):
        read_bristol(MAND_FORM.replace("6 15", "9 15", 1))


def test_mand_of_one_and_gate_and_a_wide_mand():
    one = read_bristol("1 3\n2 1 1\n1 1\n\n2 1 0 1 2 MAND\n")
    assert [evaluate_one(one, in1=x, in2=y)["out1"] for x in (0, 1) for y in (0, 1)] == [0, 0, 0, 1]
    k = 200   # one line ANDing two 200-bit words; the line is the only gate
    ids = " ".join(str(j) for j in range(3 * k))
    wide = read_bristol(f"1 {3 * k}\n2 {k} {k}\n1 {k}\n\n{2 * k} {k} {ids} MAND\n")
    x, y = (1 << 199) | 0xF0F0, (1 << 199) | (1 << 150) | 0xFF00
    assert evaluate_one(wide, in1=x, in2=y)["out1"] == x & y and wide.count(Op.AND) == k


def _merge_ands(text: str) -> str:
    """Bristol text with runs of independent AND lines merged into MAND lines."""
    lines = text.splitlines()
    head, body = lines[:4], lines[4:]
    out, run = [], []

    def flush():
        if run:
            k = len(run)
            out.append(f"{2 * k} {k} " + " ".join([r[0] for r in run] + [r[1] for r in run]
                                                  + [r[2] for r in run]) + " MAND")
            run.clear()
    for line in body:
        t = line.split()
        if t[-1] == "AND" and not {t[2], t[3]} & {r[2] for r in run}:
            run.append((t[2], t[3], t[4]))
            continue
        flush()
        if t[-1] == "AND":
            run.append((t[2], t[3], t[4]))
        else:
            out.append(line)
    flush()
    head[0] = f"{len(out)} {head[0].split()[1]}"
    return "\n".join(head + out) + "\n"


@settings(deadline=None, max_examples=40)
@given(random_circuits(max_inputs=6, max_gates=40))
def test_random_circuits_with_mand_lines(c):
    text = bristol_text(c)
    merged = _merge_ands(text)
    again = read_bristol(merged).check()
    assert again.count(Op.AND) == c.count(Op.AND)
    assert np.array_equal(evaluate_bits(again, _all_rows(c)), evaluate_bits(c, _all_rows(c)))


def test_many_ports_passthrough_constants_and_repeats():
    # 3 inputs (4, 4, 1 bits); out1 = in1 through EQW, out2 = in3 repeated twice plus the
    # constants 1 and 0, out3 = in2 XOR in1 bit by bit
    lines = ["1 1 1 9 EQ", "1 1 0 10 EQ"]
    lines += [f"2 1 {j} {4 + j} {11 + j} XOR" for j in range(4)]
    lines += [f"1 1 {j} {15 + j} EQW" for j in range(4)]
    lines += ["1 1 8 19 EQW", "1 1 19 20 EQW", "1 1 9 21 EQW", "1 1 10 22 EQW"]
    lines += [f"1 1 {11 + j} {23 + j} EQW" for j in range(4)]
    text = f"{len(lines)} 27\n3 4 4 1\n3 4 4 4\n\n" + "\n".join(lines) + "\n"
    c = read_bristol(text).check()
    assert [p.width for p in c.inputs] == [4, 4, 1] and [o.width for o in c.outputs] == [4, 4, 4]
    for x, y, z in ((0, 0, 0), (5, 9, 1), (15, 3, 0), (6, 15, 1)):
        got = evaluate_one(c, in1=x, in2=y, in3=z)
        assert got == {"out1": x, "out2": z | z << 1 | 1 << 2, "out3": x ^ y}


def test_outputs_that_are_input_wires_and_no_gates():
    c = read_bristol("0 3\n2 1 2\n1 2\n\n")   # output = wires 1, 2 = in2
    assert c.n_gates == 0 and evaluate_one(c, in1=1, in2=2)["out1"] == 2


def test_long_eqw_chain_with_decreasing_wire_ids():
    n = 300   # in1 copied n times, each copy to a smaller id (n+1, n, .., 2), then ANDed with in2
    lines = [f"1 1 0 {n + 1} EQW"] + [f"1 1 {n + 2 - k} {n + 1 - k} EQW" for k in range(1, n)]
    text = f"{n + 1} {n + 3}\n2 1 1\n1 1\n\n" + "\n".join(lines) + f"\n2 1 2 1 {n + 2} AND\n"
    c = read_bristol(text).check()
    assert c.n_gates == 1 and c.count(Op.AND) == 1
    assert [evaluate_one(c, in1=x, in2=y)["out1"] for x in (0, 1) for y in (0, 1)] == [0, 0, 0, 1]


def test_gate_ids_out_of_order_and_unused_wires():
    # wires 3, 6 and 7 are never mentioned, wire 5 is set and never read, ids go down
    text = "4 10\n2 1 2\n1 1\n\n2 1 0 1 8 AND\n1 1 8 4 INV\n2 1 2 0 5 XOR\n2 1 4 2 9 XOR\n"
    c = read_bristol(text).check()
    for x in (0, 1):
        for y in range(4):
            want = (1 - (x & (y & 1))) ^ (y >> 1)
            assert evaluate_one(c, in1=x, in2=y)["out1"] == want
    # a header wire count far above the ids in use does not cost memory
    big = read_bristol(text.replace("4 10", "4 2000000000", 1).replace("9 XOR", "1999999999 XOR"))
    assert evaluate_one(big, in1=1, in2=3)["out1"] == 1


def test_header_whitespace_crlf_and_no_final_newline():
    text = "  1   3  \r\n\t2 1   1 \r\n 1 1\t\r\n \r\n2 1 0 1 2 AND"
    c = read_bristol(text.encode())
    assert c.count(Op.AND) == 1 and evaluate_one(c, in1=1, in2=1)["out1"] == 1
    bom = read_bristol(b"\xef\xbb\xbf1 3\n2 1 1\n1 1\n\n2 1 0 1 2 XOR\n")
    assert evaluate_one(bom, in1=1, in2=0)["out1"] == 1


def test_very_wide_ports():
    w = 520
    lines = [f"2 1 {j} {w + j} {2 * w + j} AND" for j in range(w)]
    c = read_bristol(f"{w} {3 * w}\n2 {w} {w}\n1 {w}\n\n" + "\n".join(lines))
    x, y = (1 << 519) | (1 << 300) | 7, (1 << 519) | 5
    assert evaluate_one(c, in1=x, in2=y)["out1"] == x & y


@pytest.mark.parametrize("data, fragment", [
    (bytes(range(256)) * 4, "byte 0x00 at offset 0: not a Bristol Fashion text file"),
    (b"1 3\n2 1 1\n1 1\n\n2 1 0 1 2 AND\x00\n", "5: byte 0x00 at offset"),
    (b"1 3\n2 1 1\n1 \xc3\xa9\n", "3: byte 0xc3"),
    (b"\n\n   \n", "empty file"),
    (b"1 3\n2 1 1\n1 1\n\n2 1 0 1 1234567890123456789 AND\n", "too large for a wire number"),
])
def test_binary_and_odd_files_refused(tmp_path, data, fragment):
    p = tmp_path / "junk.bin"
    p.write_bytes(data)
    with pytest.raises(FormatError) as e:
        load_circuit(p)
    assert str(e.value).startswith(f"{p}:") and fragment in str(e.value)


def test_directory_and_unreadable_file(tmp_path, monkeypatch):
    with pytest.raises(FormatError, match="cannot read"):
        read_bristol(tmp_path)
    p = tmp_path / "locked.txt"
    p.write_text(SMALL)

    def denied(self):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(type(p), "read_bytes", denied)
    with pytest.raises(FormatError, match="locked.txt: cannot read: Permission denied"):
        read_bristol(p)


# the older Bristol Format (EMP-toolkit's bristol_format files): 'n1 n2 n3' on one line
OLD_AND = "1 3\n1 1 1\n\n2 1 0 1 2 AND\n"


def test_old_bristol_format_reads_as_two_inputs_and_one_output():
    c = read_bristol(OLD_AND).check()
    assert [(p.name, p.party, p.width) for p in c.inputs] == [("in1", "garbler", 1),
                                                             ("in2", "evaluator", 1)]
    assert [(o.name, o.width) for o in c.outputs] == [("out1", 1)]
    assert evaluate_bits(c, _all_rows(c))[:, 0].tolist() == [0, 0, 0, 1]
    # a second input of 0 bits is left out
    one = read_bristol("1 3\n2 0 1\n\n2 1 0 1 2 XOR\n").check()
    assert [(p.name, p.width) for p in one.inputs] == [("in1", 2)]
    assert evaluate_bits(one, _all_rows(one))[:, 0].tolist() == [0, 1, 1, 0]


def test_old_format_header_with_a_first_count_of_two_is_told_apart():
    # '2 1 1' is Bristol Fashion's two 1-bit inputs when output widths follow, and the old
    # format's n1=2 n2=1 n3=1 when a gate line follows
    fashion = read_bristol("1 3\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n")
    old = read_bristol("1 4\n2 1 1\n\n2 1 0 2 3 AND\n")
    assert [p.width for p in fashion.inputs] == [1, 1]
    assert [p.width for p in old.inputs] == [2, 1]
    assert evaluate_bits(old, _all_rows(old))[:, 0].tolist() == [0, 0, 0, 0, 0, 1, 0, 1]


def _as_old_format(text: str) -> str | None:
    """A Bristol Fashion text of at most two inputs and one output in the older format."""
    lines = text.split("\n")
    ins, outs = lines[1].split(), lines[2].split()
    if ins[0] not in ("1", "2") or outs[0] != "1":
        return None
    n2 = ins[2] if ins[0] == "2" else "0"
    return "\n".join([lines[0], f"{ins[1]} {n2} {outs[1]}", ""] + lines[4:])


@pytest.mark.parametrize("name", ["adder64", "sub64", "mult64", "divide64", "neg64",
                                  "zero_equal", "aes_128", "sha256"])
def test_reference_circuits_in_the_old_format_are_the_same_circuits(bristol_path, name):
    path = bristol_path(f"{name}.txt")
    old = _as_old_format(path.read_text())
    assert old is not None
    assert read_bristol(old).content_hash == read_bristol(path).content_hash


@settings(max_examples=40, deadline=None)
@given(random_circuits(max_inputs=4))
def test_random_circuits_in_the_old_format(c):
    # written as Bristol Fashion, then given the old header where it fits (at most two
    # inputs, one output): the same circuit, gate for gate
    text = bristol_text(c)
    old = _as_old_format(text)
    if old is not None:
        assert read_bristol(old).content_hash == read_bristol(text).content_hash


# a 2-bit adder modulo 4 in the old format: wires 0-1 are a, 2-3 b, the output the last two
OLD_ADDER = ("4 8\n2 2 2\n\n"
             "2 1 0 2 4 AND\n"       # carry of bit 0
             "2 1 1 3 5 XOR\n"
             "2 1 0 2 6 XOR\n"       # sum bit 0
             "2 1 5 4 7 XOR\n")      # sum bit 1


@pytest.mark.parametrize("a, b", [(0, 0), (1, 2), (3, 1), (3, 3), (2, 2)])
def test_cli_evaluates_an_old_format_file(tmp_path, capsys, a, b):
    from yaogc.runtime.cli import main
    p = tmp_path / "adder2_old.txt"
    p.write_text(OLD_ADDER)
    main(["eval", str(p), "--input", f"in1={a}", "--input", f"in2={b}"])
    assert capsys.readouterr().out.split() == ["out1", "=", str((a + b) % 4)]


def test_bristol_is_written_a_chunk_at_a_time(tmp_path, monkeypatch):
    # the whole text was one string: 2 GB to write a 7M-gate circuit's 218 MB file
    from yaogc.circuits import bristol
    from yaogc.compiler import compile_file
    c = compile_file(Path(__file__).resolve().parent.parent / "examples" / "sort.yao")
    whole = bristol.bristol_text(c)
    monkeypatch.setattr(bristol, "CHUNK_GATES", 7)
    pieces = list(bristol.bristol_chunks(c))
    assert len(pieces) > c.n_gates // 7 and "".join(pieces) == whole
    bristol.write_bristol(c, tmp_path / "s.txt")
    assert (tmp_path / "s.txt").read_text() == whole
    with open(tmp_path / "b.txt", "wb") as f:
        bristol.write_bristol(c, f)
    assert (tmp_path / "b.txt").read_bytes() == whole.encode()
    back = bristol.read_bristol(tmp_path / "s.txt")
    assert back.n_gates >= c.n_gates and back.count(Op.AND) == c.count(Op.AND)
