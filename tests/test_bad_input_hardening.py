"""Bad input files, values and programs end with a clear exit-2 error before any network
wait (never exit 1, a traceback or minutes of work), and wide values print exactly."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys

import pytest

from yaogc.circuits.evaluate import evaluate_one
from yaogc.compiler import CompileError, compile_source

CLI = [sys.executable, "-m", "yaogc.runtime.cli"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COUNT = os.path.join(ROOT, "examples", "count_above.yao")


def cli(*args, env=None, timeout=120):
    r = subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, **(env or {})})
    return r.returncode, r.stdout, r.stderr


def refused(result, *needles):
    rc, out, err = result
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err and "internal error" not in err
    first = err.splitlines()[0]
    for n in needles:
        assert n in first, first
    return first


def run_garbler(tmp_path, name, text, *extra, env=None):
    """``yaogc run count_above.yao --as lab_a --listen`` with an input file: refused before
    it listens (or it would wait for a peer that never comes)."""
    f = tmp_path / name
    f.write_text(text)
    result = cli("run", COUNT, "--as", "lab_a", "--listen", "127.0.0.1:0", "--inputs", str(f),
                 "--timeout", "30", "--no-cache", *extra, env=env)
    assert "listening on" not in result[2]
    return result


# -- input files ----------------------------------------------------------------------------
def test_a_csv_cell_over_the_csv_module_limit_is_read(tmp_path):
    """A valid 30,000-element array is one CSV cell of over 131,072 characters: it is read
    (and here refused by the port's length, not by the CSV reader)."""
    values = ",".join(["65535"] * 30000)
    r = run_garbler(tmp_path, "big.csv", f'a,threshold\n"[{values}]",1\n', "-D", "N=4")
    refused(r, "expected 4 elements for u16[4], got 30000")


def test_malformed_csv_is_an_input_error(tmp_path):
    refused(run_garbler(tmp_path, "bad.csv", 'a,threshold\n"[1,2],1\n'), "bad.csv")


@pytest.mark.parametrize("text, needle", [
    ('{"threshold": ' + "9" * 200_000 + "}", "200000 digits is larger than any input"),
    ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
    ('{"threshold": 1e999999999, "a": []}', "out of range for any input"),
    ('{"threshold": 1, "threshold": 2, "a": []}', "the key 'threshold' appears twice"),
], ids=["digits", "nesting", "exponent", "duplicate-key"])
def test_hostile_json_input_files(tmp_path, text, needle):
    refused(run_garbler(tmp_path, "in.json", text), "in.json", needle)


def test_a_wide_json_integer_is_read_exactly(tmp_path):
    """4,301 digits pass the JSON reader (Python's int() alone refuses them); here the port's
    range refuses the value, naming the port."""
    a = "[" + ",".join(["1"] * 64) + "]"
    first = refused(run_garbler(tmp_path, "in.json",
                                '{"threshold": ' + "9" * 4301 + ', "a": ' + a + "}"),
                    "threshold")
    assert len(first) < 300


def test_a_batch_larger_than_memory_is_refused_with_its_size(tmp_path):
    rows = "a,threshold\n" + "".join(f'"[{",".join(["1"] * 64)}]",{i}\n' for i in range(2000))
    first = refused(run_garbler(tmp_path, "rows.csv", rows,
                                env={"YAOGC_MAX_MEMORY": str(10 << 20)}),
                    "a batch of 2000 rows needs about", "split the batch into runs of at most")


# -- outputs --------------------------------------------------------------------------------
def test_wide_fixed_point_outputs_print_exactly(tmp_path):
    prog = tmp_path / "wide.yao"
    prog.write_text("party a, b\n\ndef main(x: fix80_20 @a, y: fix80_20 @b) -> "
                    "(s: fix80_20 @both):\n    return x + y\n")
    rc, out, err = cli("eval", str(prog), "--input", "x=9007199254740992", "--input",
                       "y=1.00000095367431640625", "--no-cache")
    assert rc == 0 and out.strip() == "s = 9007199254740993.00000095367431640625", err
    rc, out, err = cli("eval", str(prog), "--input", "x=9007199254740992", "--input", "y=1",
                       "--json", "--no-cache")
    assert rc == 0 and json.loads(out)["outputs"]["s"] == 9007199254740993
    assert '"s": 9007199254740993' in out


# -- programs -------------------------------------------------------------------------------
HEAD = "party a, b\n\ndef main(x: u8 @a, y: u8 @b) -> (s: u8 @both):\n"


def test_a_huge_literal_is_a_compile_error():
    src = HEAD + "    return x + " + "9" * 4301 + "\n"
    with pytest.raises(CompileError, match=r"prog.yao:4:16: integer literal of 4301 digits"):
        compile_source(src, "prog.yao")


def test_a_huge_exponent_or_decimal_is_a_compile_error():
    """An exponent is bounded before it is applied (1e999999999 would take hours to make)."""
    for lit, msg in (("1e999999999", "decimal literal 1e999999999: the exponent is out of range"),
                     ("2.5E-1001", "decimal literal 2.5E-1001: the exponent is out of range"),
                     ("0." + "1" * 1200, "decimal literal of 1202 digits is too long")):
        src = HEAD + "    return x + " + lit + "\n"
        with pytest.raises(CompileError, match=r"prog.yao:4:16: " + re.escape(msg)):
            compile_source(src, "prog.yao")


def test_a_huge_range_is_a_compile_error(tmp_path):
    src = HEAD + "    t: u8 = 0\n    for i in range(100000000000000000000):\n        t += x\n" \
        "    return t\n"
    with pytest.raises(CompileError, match=r"prog.yao:5:14: range of 100,000,000,000,000,000,000 "
                                           "iterations is too long"):
        compile_source(src, "prog.yao")
    p = tmp_path / "r.yao"
    p.write_text(src)
    refused(cli("compile", str(p), "--no-cache"), "r.yao:5:14")


def test_a_line_separator_in_a_comment_keeps_lines_counted(tmp_path):
    src = "party a, b\n# note \u2028 more\n" + HEAD.split("\n", 2)[2] + "    return x + z\n"
    with pytest.raises(CompileError) as e:
        compile_source(src, "prog.yao")
    text = str(e.value)
    assert text.startswith("prog.yao:4:16: name 'z' is not defined")
    assert text.splitlines()[1] == "    return x + z"


def test_cr_only_line_endings_parse(tmp_path):
    src = (HEAD + "    return x + y\n").replace("\n", "\r")
    c = compile_source(src, "prog.yao")
    assert evaluate_one(c, x=1, y=2) == {"s": 3}
    p = tmp_path / "cr.yao"
    p.write_bytes(src.encode())
    rc, out, err = cli("eval", str(p), "--input", "x=1", "--input", "y=2", "--no-cache")
    assert rc == 0 and out.strip() == "s = 3", err


def test_non_ascii_digits_in_a_define_are_refused():
    refused(cli("eval", COUNT, "-D", "N=\u0661\u0662", "--no-cache"), "-D")


def test_a_sigint_after_the_output_does_not_change_the_status():
    code = ("import os, signal, sys\n"
            "from yaogc.runtime.cli import main\n"
            f"rc = main(['eval', {COUNT!r}, '-D', 'N=1', '--input', 'a=[5]', '--input', "
            "'b=[6]', '--input', 'threshold=1', '--no-cache'])\n"
            "os.kill(os.getpid(), signal.SIGINT)\n"
            "sys.exit(rc)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "count = 2", (r.returncode, r.stderr)


def test_max_gates_stops_a_program_that_unrolls_too_far():
    # named by its size, at the operation whose gates went past the limit
    first = refused(cli("compile", COUNT, "--max-gates", "100", "--stats"),
                    "count_above.yao:8:17: the program is too large: it unrolls to 8,671 gates, "
                    "more than the --max-gates limit of 100")
    refused(cli("eval", COUNT, "--max-gates", "1_000", "-D", "N=2000", "--input", "a=[1]"),
            "--max-gates limit of 1,000")
    # the limit is exact: a program of exactly that many gates compiles, one gate less is
    # refused with the program's size, at the operation that took it past
    rc, out, err = cli("compile", COUNT, "--max-gates", "8671", "--stats", "--no-cache")
    assert rc == 0 and "8,671 gates" not in err, err
    refused(cli("compile", COUNT, "--max-gates", "8670", "--no-cache"),
            "count_above.yao:8:17: the program is too large: it unrolls to 8,671 gates, more "
            "than the --max-gates limit of 8,670")
    refused(cli("compile", COUNT, "--max-gates", "many"), "--max-gates many")
    rc, out, err = cli("compile", COUNT, "--max-gates", "100000", "--stats")
    assert rc == 0, err


def test_an_array_input_of_the_wrong_length_is_refused_by_its_length(tmp_path, capsys):
    # a list of a million elements was converted (and checked for JSON booleans) element by
    # element before its length was compared: 10 million took 18 s and 1.8 GB to refuse
    from yaogc.runtime.cli import main
    f = tmp_path / "big.json"
    f.write_text(json.dumps({"a": list(range(1_000_000)) + [True], "b": [0] * 64,
                             "threshold": 5}))
    assert main(["eval", COUNT, "--inputs", str(f)]) == 2
    err = capsys.readouterr().err
    assert "input 'a': expected 64 elements for u16[64], got 1000001" in err, err
    assert main(["eval", COUNT, "--input", "a=[1,2]", "--input", "threshold=5"]) == 2
    assert "input 'a': expected 64 elements for u16[64], got 2" in capsys.readouterr().err


def test_a_machine_where_not_even_one_row_fits_says_so(tmp_path):
    # it advised "a batch of 1 rows ... split the batch into runs of at most 1 rows"
    rows = "a,threshold\n" + f'"[{",".join(["1"] * 64)}]",3\n'
    first = refused(run_garbler(tmp_path, "one.csv", rows, env={"YAOGC_MAX_MEMORY": "1000"}),
                    "one row needs about", "not even one row fits")
    # sizes under 0.1 GB in MB: it said "about 0.0 GB, more than the 0.0 GB available"
    assert "0.0 GB" not in first and " MB" in first, first


@pytest.mark.parametrize("body, at", [
    ("    k = 3\n    for i in range(40):\n        k = k * k\n", "5:15"),
    ("    k = 1.0\n    for i in range(100000):\n        k = k / 3\n", "5:15"),
    ("    k = 1\n    for i in range(100):\n        k = k << 4000\n", "5:15"),
])
def test_compile_time_constants_are_bounded(tmp_path, body, at):
    # squaring a constant 40 times ran for minutes in one long multiplication, deaf to
    # signals; now it stops at the statement once a constant passes 65,536 bits
    p = tmp_path / "k.yao"
    p.write_text("party a, b\ndef main(x: u32 @a, y: u32 @b) -> (r: u32 @both):\n" + body +
                 "    return x + y + u32(k % 7)\n")
    refused(cli("compile", str(p), "--no-cache", "-o", os.devnull, timeout=60),
            f"k.yao:{at}: a constant of more than 65,536 bits")


def test_comprehensions_count_toward_the_unrolling_limit(tmp_path, monkeypatch):
    # nested comprehensions escaped the limit on iterations (10^8 elements ran for minutes)
    from yaogc.compiler import compile_source, stmts
    from yaogc.compiler.errors import CompileError
    monkeypatch.setattr(stmts, "MAX_ITERATIONS", 5000)
    src = ("party a, b\ndef main(x: u8 @a, y: u8 @b) -> (r: u8 @both):\n"
           "    v = [[u8(i * j) for i in range(100)] for j in range(100)]\n"
           "    return v[3][5] ^ y ^ x\n")
    with pytest.raises(CompileError) as got:
        compile_source(src, "c.yao")
    assert str(got.value).startswith("c.yao:3:") and \
        "loops and comprehensions unroll into more than 5,000 iterations" in str(got.value)


def test_a_program_too_large_once_lowered_names_its_statement(tmp_path):
    # the limit reached while lowering was reported at 1:1 ('party a, b')
    p = tmp_path / "dot.yao"
    p.write_text("party a, b\nconst N = 600\n"
                 "def main(x: u32[N] @a, y: u32[N] @b) -> (r: u32 @both):\n"
                 "    s: u32 = 0\n    for i in range(N):\n        s += x[i] * y[i]\n    return s\n")
    refused(cli("compile", str(p), "--no-cache", "--max-gates", "1200000", "-o", os.devnull),
            "dot.yao:6:", "the program is too large", "--max-gates limit")


def test_max_memory_bounds_a_compile_too():
    first = refused(cli("compile", COUNT, "-D", "N=20000", "--no-cache", "-o", os.devnull,
                        env={"YAOGC_MAX_MEMORY": "300000000"}),
                    "the program is too large: it unrolls to 2,719,926 gates, more than the "
                    "1,500,000 gates that 0.3 GB holds at 200 bytes per gate to compile and "
                    "schedule (what YAOGC_MAX_MEMORY allows)")
    assert first.startswith(COUNT + ":8:17:")


def test_warnings_on_a_very_long_line_show_the_part_around_the_column(tmp_path, capsys):
    # each of 5,000 warnings repeated a 108 KB line: 540 MB on stderr and in the cache
    from yaogc.runtime.cli import main
    n = 300
    ins = ", ".join(f"x{i}: u32 @a" for i in range(n))
    outs = ", ".join(f"r{i}: u32 @both" for i in range(n - 1))
    p = tmp_path / "long.yao"
    p.write_text(f"party a, b\ndef main({ins}) -> ({outs}):\n    return " +
                 ", ".join(f"x{i} + x{i + 1}" for i in range(n - 1)) + "\n")
    for _ in range(2):      # compiled, then the warnings from the cache
        assert main(["compile", str(p), "-o", os.devnull]) == 0
        err = capsys.readouterr().err
        warnings = err.split("warning: ")[1:]
        assert len(warnings) == n - 1 and len(err) < 800 * n
        last = err.rstrip("\n").splitlines()[-3:]
        col = int(last[0].split(":")[2])
        assert last[0].startswith(f"{p}:3:{col}: warning: '+' on u32")
        shown, mark = last[1], last[2]
        assert mark.endswith("^") and shown.startswith("...")
        assert shown[len(mark) - 1:] == f"+ x{n - 1}"     # the caret under the last +


@pytest.mark.parametrize("text, gates", [
    # the input wires counted as gates emitted
    ("party a, b\ndef main(x: u64[200] @a, y: u8 @b) -> u64 @both:\n    return x[0] + x[1]\n",
     376),
    # a product of which one bit is read: an estimate from its width was 8,570 times over
    ("party a, b\nconst N = 64\ndef main(x: i64[N] @a, y: i64[N] @b) -> bool @both:\n"
     "    s: bool = false\n    for i in range(N):\n        s = s ^ bool((x[i] * y[i]) & 1)\n"
     "    return s\n", None),
    # a quotient of narrow values widened: 89 times
    ("party a, b\nconst N = 64\ndef main(x: u8[N] @a, y: u8[N] @b) -> u64 @both:\n"
     "    s: u64 = 0\n    for i in range(N):\n        s = s ^ (u64(x[i]) / u64(y[i]))\n"
     "    return s\n", None),
])
def test_a_program_of_exactly_the_limit_compiles(tmp_path, text, gates):
    from yaogc.compiler import compile_source
    p = tmp_path / "p.yao"
    p.write_text(text)
    n = compile_source(text, "p.yao").n_gates
    assert gates is None or n == gates
    rc, out, err = cli("compile", str(p), "--max-gates", str(n), "--no-cache", "-o", os.devnull)
    assert rc == 0, err
    first = refused(cli("compile", str(p), "--max-gates", str(n - 1), "--no-cache"),
                    f"the program is too large: it unrolls to {n:,} gates, more than the "
                    f"--max-gates limit of {n - 1:,}")
    assert first.startswith(f"{p}:") and not first.startswith(f"{p}:1:1:")


def test_a_program_that_fits_is_never_refused():
    # an estimate made while elaborating ran 47 times the gates of histogram (its counts
    # are bit heaps of one-bit terms, its comparisons with constants share their bits):
    # histogram N=2000 (587,041 gates) was refused under a limit of 13 million
    hist = COUNT.replace("count_above.yao", "histogram.yao")
    rc, out, err = cli("compile", hist, "-D", "N=300", "--max-gates", "87433", "--no-cache",
                       "-o", os.devnull)
    assert rc == 0, err
    refused(cli("compile", hist, "-D", "N=300", "--max-gates", "87432", "--no-cache"),
            "histogram.yao:", "it unrolls to 87,433 gates, more than the --max-gates limit "
            "of 87,432")


def test_inputs_too_wide_for_a_circuit_are_refused_at_the_signature(tmp_path):
    p = tmp_path / "wide.yao"
    params = ", ".join(f"x{i}: u64[200000] @a" for i in range(6))
    p.write_text(f"party a, b\ndef main({params}, z: bool @b) -> (r: u64 @both):\n"
                 f"    return x0[0] + x5[0]\n")
    # said at the parameter, before the inputs' words are made
    refused(cli("compile", str(p), "--no-cache", "-o", os.devnull),
            f"{p}:2:110: the program is too large: its inputs take 76,800,000 bits up to 'x5', "
            f"more than the 67,108,864 a circuit may have")
