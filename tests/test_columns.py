"""Wide input files: array inputs from element columns (``x[0]``, ``x[1]``, ..) or
``--columns x=a,b,c``; kept columns (an ID) written back with the results (``--output``);
bad cells named by file, line and column. Through ``yaogc eval`` and ``yaogc run``."""

import csv
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yaogc.runtime.cli import main

from test_run_cli import run_pair

PROGRAM = """party model, data
def main(w: i16[3] @model, x: fix16_8[3] @data) -> (s: fix16_8 @data, v: fix16_8[2] @data):
    s: fix16_8 = 0.0
    for i in range(3):
        s = s + x[i] * fix16_8(w[i])
    return s, [x[0], x[1]]
"""


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def prog(tmp_path):
    p = tmp_path / "s.yao"
    p.write_text(PROGRAM)
    return str(p)


def expect(w, rows):
    return [sum(a * b for a, b in zip(w, r)) for r in rows]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.integers(-40, 40).map(lambda v: v / 4), min_size=3,
                              max_size=3), min_size=1, max_size=6),
       by_name=st.booleans(), fmt=st.sampled_from(["csv", "json"]))
def test_wide_columns_and_kept_ids_eval(capsys, tmp_path_factory, rows, by_name, fmt):
    d = tmp_path_factory.mktemp("wide")
    prog = d / "s.yao"
    prog.write_text(PROGRAM)
    cols = ["radius", "texture", "area"] if by_name else ["x[0]", "x[1]", "x[2]"]
    data = d / "data.csv"
    data.write_text("id," + ",".join(cols) + ",ward\n" + "".join(
        f"P{i}," + ",".join(str(v) for v in r) + f",w{i % 2}\n" for i, r in enumerate(rows)))
    out_file = d / f"out.{fmt}"
    extra = ["--columns", "x=" + ",".join(cols)] if by_name else []
    code, out, err = cli(capsys, "eval", str(prog), "--input", "w=[1,-2,3]", "--inputs",
                         str(data), "--output", str(out_file), *extra)
    assert code == 0, err
    want = expect([1, -2, 3], rows)
    if fmt == "json":
        got = json.loads(out_file.read_text())
        assert got == [{"id": f"P{i}", "ward": f"w{i % 2}", "s": s, "v": r[:2]}
                       for i, (s, r) in enumerate(zip(want, rows))]
    else:
        with open(out_file, newline="") as f:
            got = list(csv.DictReader(f))
        assert [list(g) for g in got] == [["id", "ward", "s", "v[0]", "v[1]"]] * len(rows)
        assert [(g["id"], float(g["s"]), float(g["v[1]"])) for g in got] == \
            [(f"P{i}", s, r[1]) for i, (s, r) in enumerate(zip(want, rows))]


def test_semicolon_export_and_bad_cells_named(capsys, prog, tmp_path):
    ok = tmp_path / "ok.csv"
    ok.write_text("id;x[0];x[1];x[2]\nP1;1.5;2;3\n")
    code, out, err = cli(capsys, "eval", prog, "--input", "w=[1,1,1]", "--inputs", str(ok))
    assert code == 0 and "[0] s = 6.5" in out, err
    cases = [
        ("id;x[0];x[1];x[2]\nP1;1.5;2;3\nP2;0,25;-1;4\n",
         "comma.csv:3: column 'x[0]': '0,25' has a decimal comma: write 0.25"),
        ("id,a,b,c\nP1,1,2,3\nP2,1,banana,3\n", "bad.csv:3: column 'b': "),
        ("id,a,b,c\nP1,1,2,300\n", "big.csv:2: column 'c': "),
        ("id,x[0],x[1]\nP1,1,2\n", "no column for x[2]"),
        ("id,x[0],x[1],x[3]\nP1,1,2,3\n", "column 'x[3]': x is fix16_8[3], which has no "
                                          "element x[3]"),
        ('id,x,x[0]\nP1,"[1,2,3]",1\n', "input 'x' is given both whole"),
        # a quote never closed swallowed every later record into one cell, silently
        ('id,x[0],x[1],x[2]\nP1,1,2,3\n"P2,1,2,3\nP3,1,2,3\n',
         "quote.csv:3: not valid CSV: a quote opened in this record is never closed"),
        ('id,x[0],x[1],x[2]\nP1,1,2,3\n"P2"x,1,2,3\n',
         "stray.csv:3: not valid CSV: ',' expected after '\"'"),
        # a thousands separator is not taken for a decimal comma (1,000 is not 1.000 for sure)
        ("id;x[0];x[1];x[2]\nP1;1,000;2;3\n",
         "sep.csv:2: column 'x[0]': '1,000' has a comma: write 1000 without thousands "
         "separators, or 1.000 if it is a decimal comma"),
    ]
    for i, (text, fragment) in enumerate(cases):
        name = fragment.split(":")[0] if fragment.endswith(": ") or ".csv:" in fragment \
            else f"case{i}.csv"
        f = tmp_path / name
        f.write_text(text)
        extra = ["--columns", "x=a,b,c"] if "a,b,c" in text else []
        code, out, err = cli(capsys, "eval", prog, "--input", "w=[1,1,1]", "--inputs", str(f),
                             *extra)
        assert code == 2 and out == "", (text, err)
        assert fragment in err.splitlines()[0], (fragment, err)
        assert "Traceback" not in err


@pytest.mark.parametrize("args, fragment", [
    (["--columns", "x=a,b"], "--columns x: 2 columns for x, which is fix16_8[3]"),
    (["--columns", "x=a,b,zz"], "--columns x: ") ,
    (["--columns", "y=a,b,c"], "--columns y: the circuit has no input 'y'"),
    (["--columns", "x"], "expected INPUT=COLUMN,COLUMN"),
    (["--columns", "x=a,b,c", "--output", "out.txt"], "must be .csv or .json"),
])
def test_column_flags_refused(capsys, prog, tmp_path, args, fragment):
    f = tmp_path / "d.csv"
    f.write_text("id,a,b,c\nP1,1,2,3\n")
    code, out, err = cli(capsys, "eval", prog, "--input", "w=[1,1,1]", "--inputs", str(f), *args)
    assert code == 2 and fragment in err.splitlines()[0], err


def test_run_writes_results_with_ids(prog, tmp_path):
    data = tmp_path / "records.csv"
    rows = [[1.5, 2, 3], [0.25, -1, 4], [0, 0, 0.5]]
    data.write_text("patient,r,t,a\n" + "".join(f"id{i}," + ",".join(map(str, r)) + "\n"
                                                 for i, r in enumerate(rows)))
    out = tmp_path / "results.csv"
    (rc1, out1, err1), (rc2, out2, err2) = run_pair(
        ["run", prog, "--as", "model", "--input", "w=[2,0,-1]", "--quiet"],
        ["run", prog, "--as", "data", "--inputs", str(data), "--columns", "x=r,t,a",
         "--output", str(out), "--quiet"])
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    with open(out, newline="") as f:
        got = list(csv.DictReader(f))
    assert [(g["patient"], float(g["s"])) for g in got] == \
        [(f"id{i}", s) for i, s in enumerate(expect([2, 0, -1], rows))]


decimals = st.builds(
    lambda sign, ip, fp, ex: f"{sign}{ip}{'.' + fp if fp is not None else ''}"
                             f"{'e' + str(ex) if ex is not None else ''}",
    st.sampled_from(["", "-", "+"]), st.text("0123456789", min_size=1, max_size=8),
    st.none() | st.text("0123456789", max_size=12), st.none() | st.integers(-12, 6))


@settings(max_examples=300, deadline=None)
@given(text=decimals, frac=st.integers(0, 24), bits=st.sampled_from([16, 24, 32, 48]))
def test_fast_cell_parse_is_the_exact_parse(text, frac, bits):
    """The wide-table fast path rounds as the type's own parser, ties to even included."""
    from yaogc.circuits.errors import InputError
    from yaogc.circuits.types import FixedType
    from yaogc.runtime.columns import fixed_cell
    if frac >= bits:
        return
    t = FixedType(bits, frac)
    fast = fixed_cell(t, text)
    try:
        slow = t.parse(text)
    except InputError:
        assert fast is None
        return
    assert fast is not None and t.to_raw(fast) == t.to_raw(slow)
    assert t.encode(fast).tolist() == t.encode(slow).tolist()


@settings(max_examples=300, deadline=None)
@given(value=st.floats(allow_nan=False, allow_infinity=False, width=64),
       frac=st.integers(0, 30))
def test_float_to_raw_is_exact(value, frac):
    from fractions import Fraction

    from yaogc.circuits.errors import InputError
    from yaogc.circuits.types import FixedType
    t = FixedType(64, frac)
    want = round(Fraction(value) * (1 << frac))
    if not t.raw_type.min <= want <= t.raw_type.max:
        with pytest.raises(InputError):
            t.to_raw(value)
        return
    assert t.to_raw(value) == want


@settings(max_examples=100, deadline=None)
@given(frac=st.integers(0, 20), bits=st.sampled_from([8, 16, 24, 40, 62]),
       rows=st.lists(st.lists(st.floats(-1e6, 1e6), min_size=3, max_size=3), min_size=1,
                     max_size=5))
def test_vectorized_float_arrays_encode_as_each_value(frac, bits, rows):
    from yaogc.circuits.errors import InputError
    from yaogc.circuits.types import ArrayType, FixedType
    from yaogc.runtime.inputs import fixed_array_bits
    if frac >= bits:
        return
    t = ArrayType(FixedType(bits, frac), 3)
    fast = fixed_array_bits(t, rows)
    try:
        slow = [t.encode(r).tolist() for r in rows]
    except InputError:
        assert fast is None
        return
    assert fast is not None and fast.tolist() == slow


@pytest.mark.parametrize("bits, frac", [(62, 0), (62, 20), (53, 3), (54, 0), (16, 8)])
def test_vectorized_float_arrays_keep_the_type_limits(bits, frac):
    # The largest value is 2**(bits-1) - 1 ulp: one ulp above it is refused (the general path
    # names it), not wrapped to the most negative value, even where float64 cannot hold the limit.
    from yaogc.circuits.types import ArrayType, FixedType
    from yaogc.runtime.inputs import fixed_array_bits
    t = ArrayType(FixedType(bits, frac), 1)
    top = 2.0 ** (bits - 1 - frac)
    assert fixed_array_bits(t, [[top]]) is None
    assert fixed_array_bits(t, [[-top]]).tolist() == [t.encode([-top]).tolist()]


def test_json_booleans_in_element_columns_are_refused(capsys, tmp_path):
    prog = tmp_path / "wide.yao"
    prog.write_text(PROGRAM)
    js = tmp_path / "in.json"
    row = {"id": "a", "w[0]": 1, "w[1]": 2, "w[2]": 3, "x": [1.0, 2.0, 3.0]}
    js.write_text(json.dumps([row, {**row, "w[1]": True}]))
    code, out, err = cli(capsys, "eval", str(prog), "--inputs", str(js))
    assert code == 2 and out == ""
    assert err.splitlines()[0].startswith(f"{js} row 2: column 'w[1]': input 'w[1]': a JSON "
                                          f"boolean is not i16")
    js.write_text(json.dumps([row, {**row, "x": [1.0, False, 3.0]}]))
    code, out, err = cli(capsys, "eval", str(prog), "--inputs", str(js))
    assert code == 2 and "input 'x[1]': a JSON boolean is not fix16_8" in err.splitlines()[0]


def test_chunked_output_of_json_rows_with_varying_columns(capsys, tmp_path, monkeypatch):
    """--output written chunk by chunk is the text write_output gives for all records."""
    import yaogc.runtime.cli as ycli
    from yaogc.runtime.cli import load_any
    from yaogc.runtime.results import records, write_output
    monkeypatch.setattr(ycli, "CHUNK_ROWS", 64)
    prog = tmp_path / "wide.yao"
    prog.write_text(PROGRAM)
    rows = [{"id": i, "w[0]": i % 7, "w[1]": 2, "w[2]": -3, "x": [0.5, i / 4, -1.25]}
            for i in range(150)]
    rows[70]["label"] = "late"        # a kept column first seen in the second chunk
    del rows[3]["id"]
    js = tmp_path / "in.json"
    js.write_text(json.dumps(rows))
    for ext in ("csv", "json"):
        got = tmp_path / f"got.{ext}"
        code, out, err = cli(capsys, "eval", str(prog), "--inputs", str(js), "--output",
                             str(got))
        assert code == 0, err
        circuit = load_any(str(prog), quiet=True)
        from yaogc.circuits.evaluate import evaluate
        outs = evaluate(circuit, [{"w": [r["w[0]"], r["w[1]"], r["w[2]"]], "x": r["x"]}
                                  for r in rows])
        kept = [{k: v for k, v in r.items() if k in ("id", "label")} for r in rows]
        want = tmp_path / f"want.{ext}"
        write_output(str(want), circuit, records(circuit, outs, kept))
        assert got.read_bytes() == want.read_bytes()


def test_a_kept_column_an_output_would_overwrite_is_refused(capsys, prog, tmp_path):
    # 's' is an output; in CSV so is 'v[1]' (an element of the array output v), which a
    # results file fed back in carries: the kept value was silently replaced by the output's
    for kept, fmt, refused in (("s", "csv", True), ("v[1]", "csv", True), ("v[1]", "json", False),
                               ("v", "json", True), ("v", "csv", True)):
        f = tmp_path / f"in_{fmt}.csv"
        f.write_text(f"{kept},x[0],x[1],x[2]\nold,1,2,3\n")
        out = tmp_path / f"out.{fmt}"
        code, _, err = cli(capsys, "eval", prog, "--input", "w=[1,1,1]", "--inputs", str(f),
                           "--output", str(out))
        if refused:
            assert code == 2 and err.startswith(f"--output {out}: the input file's column "
                                                f"'{kept}' has the name of an output"), err
        else:
            assert code == 0, err
            text = out.read_text()
            assert "old" in text and kept in text


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_kept_json_numbers_and_nulls_are_written_back(capsys, tmp_path, suffix):
    # a JSON file's numbers are read exactly (as Decimal): writing a kept 71.3 back was an
    # internal error after the whole run, and the results were lost
    prog = str(Path(__file__).resolve().parent.parent / "examples" / "millionaires.yao")
    f = tmp_path / "kept.json"
    f.write_text('[{"alice_wealth": 5, "bob_wealth": 7, "weight_kg": 71.3, "tags": {"w": 1.5},'
                 ' "note": null}, {"alice_wealth": 9, "bob_wealth": 2, "weight_kg": 1e3, '
                 '"tags": [2.25], "note": "x"}]')
    out = tmp_path / ("out" + suffix)
    code, _, err = cli(capsys, "eval", prog, "--inputs", str(f), "--output", str(out))
    assert code == 0, err
    if suffix == ".json":
        assert json.loads(out.read_text()) == [
            {"weight_kg": 71.3, "tags": {"w": 1.5}, "note": None, "alice_is_richer": False},
            {"weight_kg": 1000, "tags": [2.25], "note": "x", "alice_is_richer": True}]
    else:
        assert out.read_text().splitlines() == [
            "weight_kg,tags,note,alice_is_richer", '71.3,"{""w"": 1.5}",,false',
            "1000,[2.25],x,true"]


def test_the_output_file_cannot_be_the_inputs_file(capsys, tmp_path):
    prog = str(Path(__file__).resolve().parent.parent / "examples" / "millionaires.yao")
    f = tmp_path / "rows.csv"
    f.write_text("alice_wealth,bob_wealth\n5,7\n")
    code, _, err = cli(capsys, "eval", prog, "--inputs", str(f), "--output", str(f))
    assert code == 2 and "is the --inputs file" in err
    assert f.read_text() == "alice_wealth,bob_wealth\n5,7\n"


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(
    st.from_regex(r"[ \t]{0,2}[-+]?[0-9]{1,45}[ \t]{0,2}", fullmatch=True),
    st.text(alphabet=" \t+-0123456789_xob.e\u00a0\u0660\uff11", max_size=12)),
    bits=st.sampled_from([1, 7, 8, 16, 64, 200]), signed=st.booleans())
def test_the_integer_cell_fast_path_reads_as_the_parser_does(text, bits, signed):
    from yaogc.circuits.types import IntType
    from yaogc.runtime.columns import int_cell
    t = IntType(bits, signed)
    fast = int_cell(t, text)
    if fast is not None:
        assert fast == t.parse(text, "x")


def test_a_row_of_another_width_is_named_by_its_columns(capsys, tmp_path):
    # the header's second column is kept, not an input: "names 2 inputs" was wrong
    prog = str(Path(__file__).resolve().parent.parent / "examples" / "millionaires.yao")
    f = tmp_path / "rows.csv"
    f.write_text("alice_wealth,id\n5,P1\n6,P2,extra\n")
    code, _, err = cli(capsys, "eval", prog, "--inputs", str(f), "--input", "bob_wealth=3")
    assert code == 2 and "rows.csv:3: 3 cells, but the header has 2 columns" in err, err


def test_element_columns_of_a_tuple_say_a_tuple_is_one_cell(capsys, tmp_path):
    prog = tmp_path / "t.yao"
    prog.write_text("party a, b\ndef main(m: u8 @a, t: (u8, bool) @b, v: (u8, i8)[2] @b) "
                    "-> (s: i16 @both):\n    return i16(m) + t[0] + v[1][1]\n")
    bad = tmp_path / "bad.csv"
    bad.write_text('m,t[0],t[1],v\n1,2,true,"[(1,2),(3,4)]"\n')
    code, out, err = cli(capsys, "eval", str(prog), "--inputs", str(bad))
    assert code == 2 and out == ""
    assert err.splitlines()[0] == (f"{bad}: column 't[0]': t is (u8, bool); element columns are "
                                   f"for arrays: a tuple is one cell, such as \"(0,true)\"")
    bad.write_text('m,t,v[1][0]\n1,"(2,true)",5\n')
    code, out, err = cli(capsys, "eval", str(prog), "--inputs", str(bad))
    assert code == 2 and "such as \"(0,0)\"" in err.splitlines()[0]
    good = tmp_path / "good.csv"
    good.write_text('m,t,v[0],v[1]\n1,"(7,true)","(1,2)","(3,-4)"\n')
    code, out, err = cli(capsys, "eval", str(prog), "--inputs", str(good))
    assert code == 0 and out.split() == ["[0]", "s", "=", "4"], err
