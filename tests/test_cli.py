"""The CLI contract of ``yaogc stats`` and ``yaogc eval`` on reference circuits and bad input."""

import json
import subprocess
import sys

import pytest

from yaogc.runtime.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_stats_json_adder(capsys, bristol_path):
    code, out, _ = run_cli(capsys, "stats", str(bristol_path("adder64.txt")), "--json")
    assert code == 0
    st = json.loads(out)
    assert (st["and"], st["xor"], st["not"], st["and_depth"]) == (63, 313, 0, 63)
    assert st["and_layer_widths"] == [1] * 63
    assert [(p["name"], p["party"], p["width"]) for p in st["inputs"]] == [
        ("in1", "garbler", 64), ("in2", "evaluator", 64)]
    assert [(o["name"], o["width"]) for o in st["outputs"]] == [("out1", 64)]
    assert sorted(st["outputs"][0]["recipients"]) == ["evaluator", "garbler"]


def test_stats_layer_widths_of_a_tree(capsys, bristol_path):
    code, out, _ = run_cli(capsys, "stats", str(bristol_path("zero_equal.txt")))
    assert code == 0
    assert "AND layers: 6, widest 32" in out
    code, out, _ = run_cli(capsys, "stats", str(bristol_path("zero_equal.txt")), "--json")
    assert json.loads(out)["and_layer_widths"] == [32, 16, 8, 4, 2, 1]


# two 2-bit inputs a, b; out = (a0 & b0, a1) written the long way: a duplicate AND, a dead
# AND, x ^ x, x & x and an XOR with that constant 0
REDUNDANT = """6 10
2 2 2
1 2

2 1 0 2 4 AND
2 1 0 2 5 AND
2 1 1 3 6 AND
2 1 4 5 7 XOR
2 1 4 5 8 AND
2 1 7 1 9 XOR
"""


def test_stats_counts_as_read_and_optimized(capsys, tmp_path):
    path = tmp_path / "redundant.txt"
    path.write_text(REDUNDANT)
    code, out, _ = run_cli(capsys, "stats", str(path), "--json")
    assert code == 0
    st = json.loads(out)
    assert (st["and"], st["xor"], st["not"], st["and_depth"]) == (4, 2, 0, 2)
    code, out, _ = run_cli(capsys, "stats", str(path), "--json", "--optimized")
    assert code == 0
    opt = json.loads(out)
    # what is left is the one AND a0 & b0; a1 is an input wire
    assert (opt["and"], opt["xor"], opt["not"], opt["and_depth"]) == (1, 0, 0, 1)
    assert opt["inputs"] == st["inputs"] and opt["outputs"] == st["outputs"]
    for a in range(4):
        for b in range(4):
            code, out, _ = run_cli(capsys, "eval", str(path), "--input", f"in1={a}",
                                   "--input", f"in2={b}")
            assert code == 0 and out == f"out1 = {(a & b & 1) | (a & 2)}\n"


def test_eval_mult64_json(capsys, bristol_path):
    a, b = 0xDEADBEEFCAFEBABE, 0x0123456789ABCDEF
    code, out, _ = run_cli(capsys, "eval", str(bristol_path("mult64.txt")),
                           "--input", f"in1={hex(a)}", "--input", f"in2={b}", "--json")
    assert code == 0
    assert json.loads(out) == {"outputs": {"out1": (a * b) % 2**64}}


def test_eval_aes_fips197_plain_output(capsys, bristol_path):
    key = int.from_bytes(bytes(range(16)), "big")
    pt = int("00112233445566778899aabbccddeeff", 16)
    code, out, _ = run_cli(capsys, "eval", str(bristol_path("aes_128.txt")),
                           "--input", f"in1={hex(key)}", "--input", f"in2={hex(pt)}")
    assert code == 0
    assert out.strip() == f"out1 = {int('69c4e0d86a7b0430d8cdb78070b4c55a', 16)}"


@pytest.mark.parametrize("inputs, fragment", [
    (["in1=5"], "missing input 'in2'"),
    (["in1=5", "in2=1", "in3=2"], "no input 'in3'"),
    (["in1=5", f"in2={2**64}"], "out of range"),
    (["in1=5", "in2=banana"], "not an integer"),
    (["in1=5", "in2"], "expected NAME=VALUE"),
])
def test_eval_bad_input_exit_2(capsys, bristol_path, inputs, fragment):
    argv = ["eval", str(bristol_path("adder64.txt"))]
    for i in inputs:
        argv += ["--input", i]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert fragment in err.splitlines()[0]
    assert "Traceback" not in err


def test_missing_file_and_bad_file(capsys, tmp_path):
    code, _, err = run_cli(capsys, "stats", str(tmp_path / "nope.txt"))
    assert code == 2 and "no such file" in err
    bad = tmp_path / "bad.txt"
    bad.write_text("1 3\n2 1 1\n1 1\n\n2 1 0 7 2 AND\n")
    code, _, err = run_cli(capsys, "stats", str(bad))
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"{bad}:5:")


def test_console_script_usage_error_exit_2():
    r = subprocess.run([sys.executable, "-m", "yaogc.runtime.cli", "eval"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


EVERY_TYPE = """\
party a, b
def main(x: i8 @a, f: fix16_8 @b, arr: u4[2][3] @a, t: (u8, bool) @b, flag: bool @a) -> (s: i8 @both, g: fix16_8 @both, m: u4[2][3] @both, tt: (u8, bool) @both, fl: bool @both):
    return x, f, arr, t, flag
"""
GOOD_INPUTS = ["x = -5 ", "f=-1.5e0", "arr=[[1, 2, 3], [0xf, 0b101, 0]]", "t=(255, TRUE)", "flag=0"]


@pytest.fixture
def every_type(tmp_path):
    p = tmp_path / "every.yao"
    p.write_text(EVERY_TYPE)
    return str(p)


def _eval(capsys, path, inputs, *extra):
    argv = ["eval", path]
    for i in inputs:
        argv += ["--input", i]
    return run_cli(capsys, *argv, *extra)


def test_eval_every_type_text_and_json(capsys, every_type):
    code, out, err = _eval(capsys, every_type, GOOD_INPUTS)
    assert code == 0, err
    assert out.splitlines() == ["s = -5", "g = -1.5", "m = [[1, 2, 3], [15, 5, 0]]",
                                "tt = [255, true]", "fl = false"]
    code, out, _ = _eval(capsys, every_type, GOOD_INPUTS, "--json")
    assert code == 0
    assert json.loads(out) == {"outputs": {"s": -5, "g": -1.5, "m": [[1, 2, 3], [15, 5, 0]],
                                           "tt": [255, True], "fl": False}}
    assert '"g": -1.5' in out and '"fl": false' in out
    # what the text output prints is accepted back as input
    back = [f"{k}={v}" for k, v in zip(["x", "f", "arr", "t", "flag"],
                                       [line.split(" = ", 1)[1] for line in
                                        _eval(capsys, every_type, GOOD_INPUTS)[1].splitlines()])]
    assert _eval(capsys, every_type, back)[1] == _eval(capsys, every_type, GOOD_INPUTS)[1]


@pytest.mark.parametrize("bad, fragment", [
    ("x=128", "input 'x': 128 is out of range for i8 (-128..127)"),
    ("f=128", "input 'f': 128 is out of range for fix16_8 (-128..127.99609375"),
    ("f=1e999999999", "input 'f': 1e999999999 is out of range for fix16_8"),
    ("arr=[[1,2,3],[4,5,16]]", "input 'arr[1][2]': 16 is out of range for u4 (0..15)"),
    ("arr=[[1,2,3],[4,5]]", "input 'arr[1]': expected 3 elements for u4[3], got 2"),
    ("t=(256,true)", "input 't.0': 256 is out of range for u8 (0..255)"),
    ("flag=2", "input 'flag': '2' is not a bool"),
    ("x==5", "input 'x': '=5' is not an integer"),
    ("x=--5", "'--5' is not an integer"),
    ("=5", "expected NAME=VALUE"),
])
def test_eval_bad_values_one_line_exit_2(capsys, every_type, bad, fragment):
    name = bad.split("=")[0].strip() or "x"
    inputs = [i for i in GOOD_INPUTS if i.split("=")[0].strip() != name] + [bad]
    code, out, err = _eval(capsys, every_type, inputs)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and fragment in err, err


def test_eval_repeated_input_is_refused(capsys, every_type):
    code, _, err = _eval(capsys, every_type, GOOD_INPUTS + ["x=3"])
    assert code == 2 and "--input x: given twice" in err


MAND_FILE = "2 6\n2 2 2\n1 2\n\n4 2 0 1 2 3 6 7 MAND\n1 1 6 5 INV\n"


def test_stats_and_eval_of_a_mand_file(capsys, tmp_path):
    # 7 wires counted by the ids used: the header's 6 is too small, so it is refused first
    p = tmp_path / "mand.txt"
    p.write_text(MAND_FILE)
    code, _, err = run_cli(capsys, "stats", str(p))
    assert code == 2 and err.startswith(f"{p}:5: wire 6 is outside 0..5")
    p.write_text("2 8\n2 2 2\n1 2\n\n4 2 0 1 2 3 6 7 MAND\n1 1 6 5 INV\n")
    # outputs are wires 6, 7: in1 & in2 bit by bit; wire 5 is a NOT nobody reads
    code, out, _ = run_cli(capsys, "stats", str(p), "--json")
    st = json.loads(out)
    assert code == 0 and (st["and"], st["xor"], st["not"], st["and_depth"]) == (2, 0, 1, 1)
    for x in range(4):
        for y in range(4):
            code, out, _ = run_cli(capsys, "eval", str(p), "--input", f"in1={x}",
                                   "--input", f"in2={y}", "--json")
            assert code == 0 and json.loads(out) == {"outputs": {"out1": x & y}}


@pytest.mark.parametrize("content, fragment", [
    (b"", ":1: empty file"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(100), ":1: byte 0x7f at offset 0"),
    (b"2 5\n3 1 1 1\n1 1\n\n3 1 0 1 2 4 MAND\n2 1 0 1 3 AND\n", ":5: MAND takes 2k inputs"),
    (b"1 3\n2 1 1\n1 1\n\n2 1 0 1 1 AND\n", ":5: wire 1 is an input wire"),
    (b"2 4\n2 1 1\n1 1\n\n2 1 0 1 3 AND\n2 1 0 1 3 XOR\n", ":6: wire 3 is set twice"),
    (b"YAOGC-CIRCUIT\n\x05\x00", "truncated"),
])
def test_stats_refuses_bad_files_on_one_line(capsys, tmp_path, content, fragment):
    p = tmp_path / "bad.circ"
    p.write_bytes(content)
    code, out, err = run_cli(capsys, "stats", str(p))
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith(str(p)) and fragment in err.splitlines()[0], err


def test_directory_and_unreadable_file(capsys, tmp_path, monkeypatch):
    code, _, err = run_cli(capsys, "stats", str(tmp_path))
    assert code == 2 and "is a directory" in err
    p = tmp_path / "locked.yao"
    p.write_text(EVERY_TYPE)
    import builtins
    real_open = builtins.open

    def guarded(f, *a, **k):
        if str(f) == str(p):
            raise PermissionError(13, "Permission denied", str(f))
        return real_open(f, *a, **k)
    monkeypatch.setattr(builtins, "open", guarded)
    code, _, err = run_cli(capsys, "eval", str(p), "--input", "x=1")
    assert code == 2 and f"{p}: cannot read: Permission denied" in err


def test_wide_bristol_ports_in_json(capsys, tmp_path):
    w = 600
    p = tmp_path / "wide.txt"
    p.write_text(f"{w} {3 * w}\n2 {w} {w}\n1 {w}\n\n"
                 + "\n".join(f"2 1 {j} {w + j} {2 * w + j} XOR" for j in range(w)))
    x, y = (1 << 599) | 12345, (1 << 598) + 1
    code, out, _ = run_cli(capsys, "eval", str(p), "--input", f"in1={hex(x)}",
                           "--input", f"in2={y}", "--json")
    assert code == 0 and json.loads(out) == {"outputs": {"out1": x ^ y}}
    code, _, err = run_cli(capsys, "eval", str(p), "--input", f"in1={1 << 600}",
                           "--input", "in2=0")
    assert code == 2 and "out of range for u600 (0..2**600-1)" in err


def test_eval_inputs_csv_one_result_per_row(capsys, every_type, tmp_path):
    f = tmp_path / "rows.csv"
    f.write_text('x,f,arr,t\n-5,-1.5,"[[1,2,3],[4,5,6]]","(255,true)"\n'
                 '7,2.25,"[[0,0,0],[1,1,1]]","(1,false)"\n\n')
    # --input applies to every row
    code, out, err = run_cli(capsys, "eval", every_type, "--inputs", str(f), "--input", "flag=1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:5] == ["[0] s = -5", "[0] g = -1.5", "[0] m = [[1, 2, 3], [4, 5, 6]]",
                         "[0] tt = [255, true]", "[0] fl = true"]
    assert lines[5:] == ["[1] s = 7", "[1] g = 2.25", "[1] m = [[0, 0, 0], [1, 1, 1]]",
                         "[1] tt = [1, false]", "[1] fl = true"]
    code, out, _ = run_cli(capsys, "eval", every_type, "--inputs", str(f), "--input", "flag=0",
                           "--json")
    assert code == 0
    got = json.loads(out)["outputs"]
    assert [r["s"] for r in got] == [-5, 7] and [r["fl"] for r in got] == [False, False]


def test_eval_inputs_json_list_and_object(capsys, every_type, tmp_path):
    row = {"x": 3, "f": 0.5, "arr": [[1, 2, 3], [4, 5, 6]], "t": [9, True], "flag": True}
    many = tmp_path / "rows.json"
    many.write_text(json.dumps([row, {**row, "x": -128}, {**row, "f": "-0.25"}]))
    code, out, err = run_cli(capsys, "eval", every_type, "--inputs", str(many), "--json")
    assert code == 0, err
    got = json.loads(out)["outputs"]
    assert [r["s"] for r in got] == [3, -128, 3] and [r["g"] for r in got] == [0.5, 0.5, -0.25]
    one = tmp_path / "one.json"
    one.write_text(json.dumps(row))
    code, out, _ = run_cli(capsys, "eval", every_type, "--inputs", str(one), "--json")
    assert code == 0 and json.loads(out)["outputs"]["tt"] == [9, True]
    code, out, _ = run_cli(capsys, "eval", every_type, "--inputs", str(one))
    assert code == 0 and out.splitlines()[0] == "s = 3"


def test_eval_inputs_agree_with_a_run_of_each_row(capsys, bristol_path, tmp_path):
    f = tmp_path / "pairs.csv"
    pairs = [(0, 0), (2**64 - 1, 1), (12345678901234, 98765432109876)]
    f.write_text("in1,in2\n" + "".join(f"{a},{b}\n" for a, b in pairs))
    code, out, _ = run_cli(capsys, "eval", str(bristol_path("adder64.txt")), "--inputs", str(f))
    assert code == 0
    assert out.splitlines() == [f"[{i}] out1 = {(a + b) % 2**64}" for i, (a, b) in enumerate(pairs)]


@pytest.mark.parametrize("content, extra, fragment", [
    ("in1,in2\n1,2\n3\n", [], "rows.csv:3: 1 cells"),
    ("in1,in3\n1,2\n", [], "columns 'in3' are no inputs"),
    ("in1\n1\n", [], "missing input 'in2'"),
    ("in1,in2\n1,2\n", ["--input", "in2=5"], "given both with --input and in"),
    ("in1,in2\n1,banana\n", [], "not an integer"),
    ("in1,in2\n", [], "no data rows"),
])
def test_eval_bad_inputs_file_exit_2(capsys, bristol_path, tmp_path, content, extra, fragment):
    f = tmp_path / "rows.csv"
    f.write_text(content)
    code, out, err = run_cli(capsys, "eval", str(bristol_path("adder64.txt")), "--inputs", str(f),
                             *extra)
    assert code == 2 and out == ""
    assert fragment in err.splitlines()[0]
    assert "Traceback" not in err


def test_eval_inputs_missing_or_foreign_file(capsys, bristol_path, tmp_path):
    code, _, err = run_cli(capsys, "eval", str(bristol_path("adder64.txt")), "--inputs",
                           str(tmp_path / "nope.csv"))
    assert code == 2 and "no such input file" in err.splitlines()[0]
    f = tmp_path / "rows.txt"
    f.write_text("in1=1\n")
    code, _, err = run_cli(capsys, "eval", str(bristol_path("adder64.txt")), "--inputs", str(f))
    assert code == 2 and ".csv or .json" in err.splitlines()[0]


# --- input handling of `eval` (chunked files, JSON values, messages, stdout, env) -------------
import os
from pathlib import Path

MILLIONAIRES = str(Path(__file__).resolve().parent.parent / "examples" / "millionaires.yao")


def _pairs(n):
    return [((i * 7919) % 1000, (i * 104729) % 1000) for i in range(n)]


def _write_pairs(path, pairs, bad_row=None):
    lines = ["id,alice_wealth,bob_wealth"]
    for i, (a, b) in enumerate(pairs):
        lines.append(f"r{i},{'banana' if i == bad_row else a},{b}")
    path.write_text("\n".join(lines) + "\n")


def test_eval_reads_evaluates_and_writes_an_input_file_in_chunks(capsys, tmp_path, monkeypatch):
    import yaogc.circuits.evaluate as ev
    import yaogc.runtime.cli as cli
    monkeypatch.setattr(cli, "CHUNK_ROWS", 64)
    sizes = []
    real = ev.evaluate_bits

    def counting(circuit, bits):
        sizes.append(len(bits))
        return real(circuit, bits)
    monkeypatch.setattr(ev, "evaluate_bits", counting)
    pairs = _pairs(150)
    f = tmp_path / "rows.csv"
    _write_pairs(f, pairs)
    want = [a > b for a, b in pairs]
    code, out, err = run_cli(capsys, "eval", MILLIONAIRES, "--inputs", str(f))
    assert code == 0, err
    assert sizes == [64, 64, 22]          # bounded: never the whole file at once
    assert out.splitlines() == [f"[{i}] alice_is_richer = {'true' if w else 'false'}"
                                for i, w in enumerate(want)]
    code, out, _ = run_cli(capsys, "eval", MILLIONAIRES, "--inputs", str(f), "--json",
                           "--output", str(tmp_path / "out.json"))
    assert code == 0
    assert out == json.dumps({"outputs": [{"alice_is_richer": w} for w in want]}) + "\n"
    recs = [{"id": f"r{i}", "alice_is_richer": w} for i, w in enumerate(want)]
    assert (tmp_path / "out.json").read_text() == json.dumps(recs, indent=1) + "\n"
    code, _, _ = run_cli(capsys, "eval", MILLIONAIRES, "--inputs", str(f),
                         "--output", str(tmp_path / "out.csv"))
    assert code == 0
    assert (tmp_path / "out.csv").read_bytes() == (
        "id,alice_is_richer\r\n" + "".join(f"r{i},{'true' if w else 'false'}\r\n"
                                           for i, w in enumerate(want))).encode()
    # a JSON list in chunks too; rows after the first chunk are named by their own index
    js = tmp_path / "rows.json"
    rows = [{"alice_wealth": a, "bob_wealth": b} for a, b in pairs]
    rows[100] = {"alice_wealth": 1}
    js.write_text(json.dumps(rows))
    code, out, err = run_cli(capsys, "eval", MILLIONAIRES, "--inputs", str(js))
    assert code == 2 and out == ""
    assert err.splitlines()[0].startswith(f"{js} row 101: missing input 'bob_wealth'")


def test_eval_a_bad_row_in_a_later_chunk_prints_and_writes_nothing(capsys, tmp_path, monkeypatch):
    import yaogc.runtime.cli as cli
    monkeypatch.setattr(cli, "CHUNK_ROWS", 64)
    f = tmp_path / "rows.csv"
    _write_pairs(f, _pairs(150), bad_row=140)
    out_csv = tmp_path / "out.csv"
    code, out, err = run_cli(capsys, "eval", MILLIONAIRES, "--inputs", str(f), "--output",
                             str(out_csv))
    assert code == 2 and out == "" and not out_csv.exists()
    assert err.splitlines()[0].startswith(f"{f}:142: column 'alice_wealth'")


def test_eval_json_booleans_are_no_numbers(capsys, tmp_path, every_type):
    js = tmp_path / "in.json"
    js.write_text('{"alice_wealth": true, "bob_wealth": 3}')
    code, out, err = run_cli(capsys, "eval", MILLIONAIRES, "--inputs", str(js))
    assert code == 2 and out == ""
    first = err.splitlines()[0]
    assert first.startswith(f"{js}: column 'alice_wealth'") and "JSON boolean" in first
    js.write_text('[{"alice_wealth": 1, "bob_wealth": 3}, {"alice_wealth": 2, '
                  '"bob_wealth": false}]')
    code, out, err = run_cli(capsys, "eval", MILLIONAIRES, "--inputs", str(js))
    assert code == 2 and out == ""
    assert err.splitlines()[0].startswith(f"{js} row 2: column 'bob_wealth': input "
                                          f"'bob_wealth': a JSON boolean is not u64")
    good = {"x": -5, "f": -1.5, "arr": [[1, 2, 3], [15, 5, 0]], "t": [255, True], "flag": True}
    js.write_text(json.dumps(good))
    code, out, err = run_cli(capsys, "eval", every_type, "--inputs", str(js))
    assert code == 0, err                  # bool inputs (and a tuple's bool) take true/false
    assert "fl = true" in out and "tt = [255, true]" in out
    for change, named in [({"f": False}, "input 'f'"), ({"arr": [[1, 2, 3], [15, 5, True]]},
                                                        "input 'arr[1][2]'"),
                          ({"t": [True, True]}, "input 't.0'"), ({"x": True}, "input 'x'")]:
        js.write_text(json.dumps({**good, **change}))
        code, out, err = run_cli(capsys, "eval", every_type, "--inputs", str(js))
        assert code == 2 and out == ""
        assert named in err.splitlines()[0] and "JSON boolean" in err.splitlines()[0], err


def test_eval_input_file_messages_name_the_file_and_entry(capsys, tmp_path):
    js = tmp_path / "in.json"
    ok = '{"alice_wealth": 1, "bob_wealth": 2}'
    js.write_text(f'[{ok}, {ok}, {{"bob_wealth": 2}}]')
    code, _, err = run_cli(capsys, "eval", MILLIONAIRES, "--inputs", str(js))
    assert code == 2 and err.startswith(f"{js} row 3: missing input 'alice_wealth'")
    js.write_text(f'[{ok}, {ok}, [1, 2]]')
    code, _, err = run_cli(capsys, "eval", MILLIONAIRES, "--inputs", str(js))
    assert code == 2 and err.startswith(f"{js} row 3: entry 3 of the list is a list, not an "
                                        f"object")
    js.write_text('{"alice_wealth": 5.5, "bob_wealth": 2}')
    code, _, err = run_cli(capsys, "eval", MILLIONAIRES, "--inputs", str(js))
    first = err.splitlines()[0]
    assert code == 2 and "5.5 is not an integer (u64)" in first and "Decimal" not in err
    js.write_text('{"alice_wealth": 5, "bob_wealth": 2}')
    code, _, err = run_cli(capsys, "eval", MILLIONAIRES, "--inputs", str(js), "--input",
                           "bob_wealth=1")
    assert code == 2
    prog = tmp_path / "b.yao"
    prog.write_text("party a, b\ndef main(x: bool @a, y: bool @b) -> (z: bool @both):\n"
                    "    return x & y\n")
    js.write_text('{"x": 1.0, "y": true}')
    code, _, err = run_cli(capsys, "eval", str(prog), "--inputs", str(js))
    assert code == 2 and "1.0 is not a bool" in err.splitlines()[0] and "Decimal" not in err
    d = tmp_path / "dir.csv"
    d.mkdir()
    code, _, err = run_cli(capsys, "eval", MILLIONAIRES, "--inputs", str(d))
    assert code == 2 and err.startswith(f"{d}: is a directory")


def test_eval_fifo_as_input_file_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    r = subprocess.run([sys.executable, "-m", "yaogc.runtime.cli", "eval", MILLIONAIRES,
                        "--inputs", str(fifo)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.startswith(f"{fifo}: is not a regular file")


@pytest.mark.parametrize("argv", [
    ["eval", MILLIONAIRES, "--input", "alice_wealth=5", "--input", "bob_wealth=3"],
    ["eval", MILLIONAIRES, "--input", "alice_wealth=5", "--input", "bob_wealth=3", "--json"],
    ["stats", MILLIONAIRES],
])
def test_a_full_stdout_is_a_clear_error(argv):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "yaogc.runtime.cli", *argv], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines()[0] == (f"yaogc {argv[0]}: cannot write the results to "
                                        f"standard output: No space left on device")
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


def test_a_closed_pipe_is_no_error(tmp_path):
    f = tmp_path / "rows.csv"
    _write_pairs(f, _pairs(20000))
    p = subprocess.Popen([sys.executable, "-m", "yaogc.runtime.cli", "eval", MILLIONAIRES,
                          "--inputs", str(f)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.read(1)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "internal error" not in err and "Exception" not in err


@pytest.mark.parametrize("argv, first", [
    (["run", MILLIONAIRES, "--as", "alice", "--listen", "127.0.0.1:0", "--timeout", "abc"],
     "yaogc run: error: argument --timeout: invalid float value: 'abc'"),
    (["eval", MILLIONAIRES, "--engine", "numpy"], "yaogc eval: error: unrecognized arguments"),
    (["eval"], "yaogc eval: error: the following arguments are required: file"),
])
def test_argparse_errors_come_first(capsys, argv, first):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(first), err
    assert "usage:" in err


@pytest.mark.parametrize("value", ["abc", "-1", "0", "1.5e9", "8G"])
def test_a_bad_max_memory_setting_is_refused(capsys, monkeypatch, value):
    monkeypatch.setenv("YAOGC_MAX_MEMORY", value)
    code, out, err = run_cli(capsys, "eval", MILLIONAIRES, "--input", "alice_wealth=5",
                             "--input", "bob_wealth=3")
    assert code == 2 and out == ""
    assert err.splitlines()[0].startswith(f"YAOGC_MAX_MEMORY='{value}': expected a positive")
    monkeypatch.setenv("YAOGC_MAX_MEMORY", "8000000000")
    assert run_cli(capsys, "eval", MILLIONAIRES, "--input", "alice_wealth=5", "--input",
                   "bob_wealth=3")[0] == 0


def test_a_bad_engine_setting_is_bad_input(capsys, monkeypatch):
    monkeypatch.setenv("YAOGC_ENGINE", "bogus")
    code, _, err = run_cli(capsys, "run", MILLIONAIRES, "--as", "alice", "--listen",
                           "127.0.0.1:0", "--input", "alice_wealth=5", "--timeout", "5")
    assert code == 2
    assert err.splitlines()[0] == "YAOGC_ENGINE must be one of numpy, native or auto, got 'bogus'"


@pytest.mark.parametrize("value", ["abc", "-1", "0"])
def test_a_bad_max_memory_setting_is_refused_by_the_library_too(monkeypatch, value):
    from yaogc.circuits.errors import InputError
    from yaogc.runtime import protocol
    monkeypatch.setenv("YAOGC_MAX_MEMORY", value)
    with pytest.raises(InputError, match=f"YAOGC_MAX_MEMORY='{value}': expected a positive"):
        protocol.memory_available()
    monkeypatch.setenv("YAOGC_MAX_MEMORY", "12345")
    assert protocol.memory_available() == 12345


def test_the_subpackages_are_found_from_inside_the_checkout():
    # Python started in the checkout finds its yaogc/ folder (which holds only __init__.py)
    # before the installed package: the README's Python examples failed there with
    # "No module named 'yaogc.compiler'". -S: without the editable install's path hook.
    import subprocess
    root = Path(__file__).resolve().parent.parent
    code = ("import importlib.util as u; print(*(u.find_spec('yaogc.' + m).origin for m in "
            "('compiler', 'circuits', 'gc', 'runtime', 'ml', 'examples')), sep='\\n')")
    r = subprocess.run([sys.executable, "-S", "-c", code], cwd=root, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(root / m / "__init__.py") for m in
                                ("compiler", "circuits", "gc", "runtime", "ml", "examples")]


def _limited(nbytes):
    def apply():
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (nbytes, nbytes))
    return apply


def test_an_address_space_limit_bounds_the_program_size_with_a_clear_message(tmp_path):
    # the limit the gate budget comes from is the process's, not the machine's: under
    # ulimit -v the compile died late with a MemoryError reported as a bug
    prog = tmp_path / "big.yao"
    prog.write_text("party a, b\nconst N = 4\ndef main(x: u16[N] @a, t: u16 @b) -> u32 @both:\n"
                    "    c: u32 = 0\n    for i in range(N):\n        for j in range(2000):\n"
                    "            if x[i] > t ^ j:\n                c += 1\n    return c\n")
    env = {**os.environ, "YAOGC_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("YAOGC_MAX_GATES", None)
    out = subprocess.run([sys.executable, "-m", "yaogc.runtime.cli", "compile", str(prog),
                          "-D", "N=20000",
                          "-o", str(tmp_path / "big.circ")], capture_output=True, text=True,
                         env=env, preexec_fn=_limited(1200 << 20), timeout=300)
    first = out.stderr.splitlines()[0]
    assert out.returncode == 2, out.stderr
    assert first.startswith(f"{prog}:") and "the program is too large" in first, first
    assert "address-space limit (ulimit -v)" in first and "Traceback" not in out.stderr


def test_running_out_of_memory_is_bad_input_not_a_bug(capsys, monkeypatch):
    from yaogc.compiler import pipeline

    def exhausted(*a, **k):
        raise MemoryError("Unable to allocate 1.00 GiB")
    monkeypatch.setattr(pipeline, "_compile", exhausted)
    code, out, err = run_cli(capsys, "compile", MILLIONAIRES, "--no-cache")
    assert code == 2 and out == ""
    first = err.splitlines()[0]
    assert first.startswith("yaogc compile: out of memory (Unable to allocate 1.00 GiB): "), first
    assert "internal error" not in err and "GB)" in first


def test_program_only_options_on_a_circuit_file(tmp_path, capsys):
    # --strict was ignored for a circuit file (-D and --checked are refused); --max-gates too
    from yaogc.circuits.native import write_native
    from yaogc.compiler import compile_file
    circ = tmp_path / "m.ygc"
    write_native(compile_file(MILLIONAIRES), circ)
    code, _, err = run_cli(capsys, "eval", str(circ), "--strict", "--input", "alice_wealth=1",
                           "--input", "bob_wealth=2")
    assert code == 2 and err.startswith(f"{circ}: --strict applies to programs (.yao) only")
    code, _, err = run_cli(capsys, "eval", str(circ), "--max-gates", "3", "--input",
                           "alice_wealth=1", "--input", "bob_wealth=2")
    assert code == 2 and err.startswith(f"{circ}: the circuit has ") and "--max-gates 3" in err
    code, out, _ = run_cli(capsys, "eval", str(circ), "--max-gates", "100000", "--input",
                           "alice_wealth=1", "--input", "bob_wealth=2")
    assert code == 0 and out.strip()


def test_the_run_summary_places_a_dual_execution_s_ot_beside_its_setup():
    # setup ends at the first table; a dual execution's second OT comes after it, so an OT
    # time shown inside the setup's exceeded it
    from yaogc.runtime.cli_net import stats_line
    st = {"and_gates": 64, "bytes_sent": 1000, "bytes_received": 2000, "setup_seconds": 0.0398,
          "ot_seconds": 0.0497, "gc_seconds": 0.01, "total_seconds": 0.1, "tls": None}
    assert "setup 39.8 ms (OT 49.7 ms), garbled circuit" in stats_line(st)
    line = stats_line({**st, "mode": "malicious"})
    assert "setup 39.8 ms, OT 49.7 ms (both executions), garbled circuit" in line, line


@pytest.mark.parametrize("v2", [True, False])
def test_a_container_s_memory_limit_bounds_what_a_compile_may_take(tmp_path, monkeypatch, v2):
    # the machine's MemAvailable alone was read: inside a container of less, a large program
    # ran until the kernel killed it; reclaimable file pages count as room, as docker reckons
    from yaogc.compiler import pipeline
    root = tmp_path / ("v2" if v2 else "v1")
    group = root / "jobs" / "one"
    group.mkdir(parents=True)
    (tmp_path / "self").write_text("0::/jobs/one\n" if v2 else
                                   "5:cpu:/\n4:memory:/jobs/one\n0::/\n")
    names = (("memory.max", "memory.current", "inactive_file") if v2 else
             ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"))
    (group / names[0]).write_text("1000000000\n")
    (group / names[1]).write_text("700000000\n")
    (group / "memory.stat").write_text(f"anon 500000000\n{names[2]} 150000000\n")
    (root / names[0]).write_text("max\n" if v2 else "9223372036854771712\n")  # no limit above
    monkeypatch.delenv("YAOGC_MAX_GATES", raising=False)
    monkeypatch.setattr(pipeline, "CGROUP_SELF", str(tmp_path / "self"))
    monkeypatch.setattr(pipeline, "CGROUP_V2" if v2 else "CGROUP_V1", str(root))
    assert pipeline._cgroup_room() == 1000000000 - (700000000 - 150000000)
    have, what = pipeline.memory_headroom()
    assert have == 450000000 and what == "this container's memory limit leaves"
    assert pipeline.gate_budget() == max(1 << 20, 450000000 // pipeline.BYTES_PER_GATE)


def test_the_native_engine_asked_for_where_it_cannot_run_is_bad_input(capsys, monkeypatch):
    # exit 3 (a network or peer failure) was given, though nothing had connected
    monkeypatch.setenv("YAOGC_NO_JIT", "1")
    from yaogc.gc import native
    monkeypatch.setattr(native, "unavailable_reason", lambda: "YAOGC_NO_JIT is set")
    code, _, err = run_cli(capsys, "run", MILLIONAIRES, "--as", "alice", "--listen",
                           "127.0.0.1:0", "--input", "alice_wealth=5", "--engine", "native",
                           "--timeout", "5")
    assert code == 2, err
    assert err.splitlines()[0] == "the native garbling engine cannot run here: YAOGC_NO_JIT is set"
