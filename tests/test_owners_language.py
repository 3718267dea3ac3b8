"""Programs of more than two parties: declared, type-checked, compiled and evaluated in
plaintext; outputs addressed to sets of parties; ``yaogc run`` refuses them with a pointer to
``yaogc serve`` / ``yaogc submit``."""

import subprocess
import sys

from yaogc.circuits.evaluate import decode_outputs, evaluate_bits
from yaogc.compiler import compile_source

CLI = [sys.executable, "-m", "yaogc.runtime.cli"]

FOUR = """party north, south, east, registry
def main(n: u8 @north, s: u8 @south, e: u8 @east) -> (total: u16 @both,
                                                      most: u8 @(registry, north),
                                                      n_above: u2 @east):
    return u16(n) + s + e, max(max(n, s), e), u2(n > 100) + u2(s > 100)
"""


def test_four_parties_compile_with_outputs_to_sets_of_parties():
    c = compile_source(FOUR, "four.yao")
    assert c.parties == ("north", "south", "east", "registry")
    assert [p.party for p in c.inputs] == ["north", "south", "east"]
    rec = {o.name: o.recipients for o in c.outputs}
    assert rec == {"total": ("north", "south", "east", "registry"),
                   "most": ("north", "registry"),      # declaration order, not the written one
                   "n_above": ("east",)}
    bits = [list(p.type.encode(v, p.name)) for p, v in zip(c.inputs, (200, 101, 7))]
    out = decode_outputs(c, evaluate_bits(c, [sum(bits, [])]))[0]
    assert out == {"total": 308, "most": 200, "n_above": 2}


def test_run_refuses_more_than_two_parties_and_points_to_serve(tmp_path):
    prog = tmp_path / "four.yao"
    prog.write_text(FOUR)
    r = subprocess.run(CLI + ["run", str(prog), "--as", "north", "--listen", "127.0.0.1:0",
                              "--input", "n=1"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    first = r.stderr.splitlines()[0]
    assert "4 parties" in first and "yaogc serve" in first and "yaogc submit" in first
    assert "Traceback" not in r.stderr


def test_two_parties_with_a_set_output_run_as_before():
    from yaogc.runtime.local import run_local
    src = ("party a, b\ndef main(x: u8 @a, y: u8 @b) -> (s: u8 @(a, b), d: u8 @(b,)):\n"
           "    return x + y, x - y\n")
    c = compile_source(src, "two.yao")
    run = run_local(c, {"x": 9}, {"y": 4}, timeout=30).check()
    assert run.garbler.outputs == [{"s": 13}]
    assert run.evaluator.outputs == [{"s": 13, "d": 5}]
