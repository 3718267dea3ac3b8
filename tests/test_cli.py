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


def test_stats_counts_as_read_and_optimized(capsys, bristol_path):
    path = str(bristol_path("neg64.txt"))
    code, out, _ = run_cli(capsys, "stats", path, "--json")
    assert code == 0
    st = json.loads(out)
    assert (st["and"], st["xor"], st["not"]) == (62, 63, 64)
    code, out, _ = run_cli(capsys, "stats", path, "--json", "--optimized")
    assert code == 0
    opt = json.loads(out)
    assert opt["and"] <= 62


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
