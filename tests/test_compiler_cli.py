"""``yaogc compile`` (and the program support of ``yaogc eval`` / ``yaogc stats``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from yaogc.circuits.bristol import read_bristol
from yaogc.circuits.evaluate import evaluate_bits
from yaogc.circuits.native import content_hash, read_native
from yaogc.compiler import CompileError, compile_file, parse_defines
from yaogc.runtime.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_stats_json_has_the_stats_keys(capsys):
    assert main(["compile", str(EXAMPLES / "millionaires.yao"), "--stats", "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert {"and", "xor", "not", "wires", "and_depth", "inputs", "outputs"} <= set(st)
    assert st["and"] == 64
    assert st["inputs"][0] == {"name": "alice_wealth", "party": "alice", "width": 64, "type": "u64"}
    assert st["outputs"][0]["recipients"] == ["alice", "bob"] and st["wrote"] == []


def test_compile_json_without_stats_is_one_json_object(tmp_path, capsys):
    out = tmp_path / "m.ygc"
    assert main(["compile", str(EXAMPLES / "millionaires.yao"), "-o", str(out), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["and"] == 64 and st["wrote"] == [str(out)]


def test_native_output_round_trips(tmp_path, capsys):
    out = tmp_path / "tree.ygc"
    assert main(["compile", str(EXAMPLES / "decision_tree.yao"), "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert content_hash(read_native(out)) == content_hash(compile_file(EXAMPLES / "decision_tree.yao"))


def test_bristol_export_with_sidecar(tmp_path):
    out = tmp_path / "count.bristol"
    assert main(["compile", str(EXAMPLES / "count_above.yao"), "-D", "N=4", "-o", str(out)]) == 0
    side = json.loads((tmp_path / "count.bristol.json").read_text())
    assert [(p["name"], p["party"], p["first_wire"]) for p in side["inputs"]] == \
        [("a", "lab_a", 0), ("b", "lab_b", 64), ("threshold", "lab_a", 128)]
    assert side["outputs"] == [{"name": "count", "recipients": ["lab_a", "lab_b"], "type": "u16",
                                "width": 16}]
    bristol = read_bristol(out)
    circuit = compile_file(EXAMPLES / "count_above.yao", {"N": "4"})
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, (20, circuit.n_inputs)).astype(np.uint8)
    assert np.array_equal(evaluate_bits(bristol, bits), evaluate_bits(circuit, bits))


def test_dot_output(tmp_path):
    out = tmp_path / "m.dot"
    src = tmp_path / "m.yao"
    src.write_text("party a, b\ndef main(x: u2 @a, y: u2 @b) -> (r: bool @both):\n    return x < y\n")
    assert main(["compile", str(src), "--format", "dot", "-o", str(out)]) == 0
    text = out.read_text()
    assert text.lstrip().startswith("digraph")
    # the drawing is the circuit: its boxes, gates and edges, evaluated as drawn, compare
    labels = dict(re.findall(r'^  (\w+) \[shape=\w+, label="([^"]*)"', text, re.M))
    into: dict[str, list[str]] = {}
    for a, b in re.findall(r"^  (\w+) -> (\w+);", text, re.M):
        into.setdefault(b, []).append(a)
    gates = [n for n, lab in labels.items() if lab in ("AND", "XOR", "NOT")]
    assert sum(labels[n] == "AND" for n in gates) == 2 and len(gates) == 6
    for x in range(4):
        for y in range(4):
            val = {f"{v}[{j}]": (n >> j) & 1 for v, n in (("x", x), ("y", y)) for j in range(2)}
            bit = {n: val[lab] for n, lab in labels.items() if lab in val}
            for n in sorted(gates, key=lambda n: int(n[1:])):     # wires in order
                ins = [bit[a] for a in into[n]]
                bit[n] = {"AND": lambda i: i[0] & i[1], "XOR": lambda i: i[0] ^ i[1],
                          "NOT": lambda i: 1 - i[0]}[labels[n]](ins)
            (src_wire,) = into["out0_0"]
            assert labels["out0_0"] == "r" and bit[src_wire] == int(x < y), (x, y)


def test_circuit_files_are_named_where_a_program_or_a_circuit_is_due(tmp_path, capsys):
    src = tmp_path / "m.yao"
    src.write_text("party a, b\ndef main(x: u2 @a, y: u2 @b) -> (r: bool @both):\n"
                   "    return x < y\n")
    for fmt, name in (("bristol", "m.txt"), ("native", "m.ygc"), ("dot", "m.dot")):
        assert main(["compile", str(src), "--format", fmt, "-o", str(tmp_path / name)]) == 0
    capsys.readouterr()
    # compile takes a program: a circuit file is not parsed as a program's text (a Bristol
    # file saved with a byte-order mark neither)
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "m.txt").read_bytes())
    for name in ("m.txt", "m.ygc", "bom.txt"):
        assert main(["compile", str(tmp_path / name)]) == 2
        assert capsys.readouterr().err.startswith(f"{tmp_path / name}: is a circuit, not a "
                                                  f"program: compile takes a .yao program")
    # and a drawing is not a circuit to read back
    assert main(["stats", str(tmp_path / "m.dot")]) == 2
    assert capsys.readouterr().err.startswith(f"{tmp_path / 'm.dot'}: a DOT drawing")


def test_compile_errors_exit_2_with_position(tmp_path, capsys):
    src = tmp_path / "bad.yao"
    src.write_text("party a, b\ndef main(x: u8 @a) -> (r: u8 @a):\n    return x + y\n")
    assert main(["compile", str(src), "--stats"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{src}:3:16: name 'y' is not defined"
    assert err[2].endswith("^")
    assert main(["compile", str(EXAMPLES / "hamming.yao"), "-D", "N"]) == 2
    assert main(["compile", str(tmp_path / "missing.yao")]) == 2


def test_eval_and_stats_accept_programs(capsys):
    path = str(EXAMPLES / "hamming.yao")
    assert main(["eval", path, "-D", "N=4", "--input", "a=[1,0,1,1]", "--input", "b=[0,0,0,1]",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"outputs": {"distance": 2}}
    assert main(["stats", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["and"] == 255


def test_parse_defines():
    assert parse_defines(["N=1000", "T = 0.5"]) == {"N": "1000", "T": "0.5"}
    with pytest.raises(CompileError):
        parse_defines(["N"])
    with pytest.raises(CompileError):
        parse_defines(["1x=3"])
    # the same name twice: refused unless the values agree (the last one would win silently)
    assert parse_defines(["N=4", "N=4"]) == {"N": "4"}
    with pytest.raises(CompileError, match="-D N=5: N is already given as 4"):
        parse_defines(["N=4", "N=5"])


def test_compile_refuses_to_overwrite_its_program(tmp_path, capsys):
    prog = tmp_path / "p.yao"
    text = (EXAMPLES / "millionaires.yao").read_text()
    prog.write_text(text)
    for extra in ([], ["--format", "bristol"]):
        assert main(["compile", str(prog), "-o", str(tmp_path / "." / "p.yao"), *extra]) == 2
        assert "is the program itself" in capsys.readouterr().err.split("\n")[0]
        assert prog.read_text() == text
    # a Bristol export's sidecar (OUT.json) must not land on the program either
    side = tmp_path / "c.txt.json"
    side.write_text(text)
    assert main(["compile", str(side), "-o", str(tmp_path / "c.txt"), "--format", "bristol"]) == 2
    assert "c.txt.json: is the program itself" in capsys.readouterr().err
    assert side.read_text() == text


@pytest.mark.parametrize("value", ["abc", "1e3", "0", "-5"])
def test_a_bad_gate_limit_in_the_environment_is_named(monkeypatch, capsys, value):
    monkeypatch.setenv("YAOGC_MAX_GATES", value)
    assert main(["stats", "--no-cache", str(EXAMPLES / "millionaires.yao")]) == 2
    assert capsys.readouterr().err.split("\n")[0] == (
        f"YAOGC_MAX_GATES must be a positive whole number of gates, got '{value}'")


def test_a_command_freezes_what_survives_its_compile(monkeypatch, capsys):
    """The yaogc command (main with the process's own argv) moves the objects alive after a
    compile out of the collector's walks; a caller passing its own argv (a library user, a
    test) keeps the collector as it was."""
    import gc

    from yaogc.compiler import deep
    monkeypatch.setattr(deep, "FREEZE_SURVIVORS", False)
    gc.unfreeze()
    try:
        assert main(["compile", str(EXAMPLES / "millionaires.yao"), "--stats"]) == 0
        assert gc.get_freeze_count() == 0 and not deep.FREEZE_SURVIVORS
        monkeypatch.setattr("sys.argv", ["yaogc", "compile", str(EXAMPLES / "millionaires.yao"),
                                         "--stats", "--no-cache"])
        assert main() == 0
        assert deep.FREEZE_SURVIVORS and gc.get_freeze_count() > 0
        assert "64 AND" in capsys.readouterr().out
    finally:
        gc.unfreeze()
