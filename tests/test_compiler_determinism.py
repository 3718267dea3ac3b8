"""Both parties compile independently: the same program and -D values must give the
byte-identical circuit in any process, whatever PYTHONHASHSEED is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

SCRIPT = """
import sys
from yaogc.compiler import compile_file
from yaogc.circuits.native import content_hash
for path in sys.argv[1:]:
    print(content_hash(compile_file(path, {"N": "6"} if "count_above" in path else None)))
"""


def _hashes(seed: str) -> list[str]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    paths = [str(EXAMPLES / f"{n}.yao") for n in ("decision_tree", "logistic_score", "median",
                                                 "count_above", "psi_size")]
    out = subprocess.run([sys.executable, "-c", SCRIPT, *paths], env=env, check=True,
                         capture_output=True, text=True, timeout=300)
    return out.stdout.split()


def test_same_circuit_under_different_hash_seeds():
    a, b, c = _hashes("1"), _hashes("2"), _hashes("12345")
    assert len(a) == 5
    assert a == b == c


def test_same_circuit_twice_in_one_process():
    from yaogc.circuits.native import native_bytes
    from yaogc.compiler import compile_file
    p = EXAMPLES / "hospital_stats.yao"
    assert native_bytes(compile_file(p, {"N": "3"})) == native_bytes(compile_file(p, {"N": "3"}))
