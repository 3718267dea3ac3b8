"""No program's AND count rises: the programs of ``benchmarks/sizes.py`` (the peers' programs,
the programs written the natural way of ``benchmarks/natural.py``, every example) compiled
and their AND counts held to what the compiler reaches today. A change that saves ANDs
lowers a ceiling here; one that costs ANDs anywhere fails. The natural programs must also stay
below the count they had before the mechanisms that now apply to them."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from yaogc.circuits.circuit import Op
from yaogc.circuits.evaluate import evaluate
from yaogc.compiler import compile_source, interpret

from test_compiler_helpers import random_value

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from natural import NATURAL  # noqa: E402
from sizes import PEERS  # noqa: E402

# AND counts reached today; a lower count is welcome (lower the ceiling with it)
CEILING = {
    "peer:add_u32": 31, "peer:lt_u32": 32, "peer:mul_u64": 3472, "peer:div_u32": 847,
    "peer:sum64_u32": 1896, "peer:mean64_u32": 1896, "peer:hamming256": 255,
    "peer:max32_u32": 1984, "peer:dot16_u32": 15670,
    "natural:cas_u32": 64, "natural:bitonic16_cas": 5120, "natural:early_returns_u32": 64,
    "natural:nested_if_same_cond": 32, "natural:choose_u32": 32, "natural:majority_u32": 32,
    "natural:distribute_u32": 32, "natural:and_or_bool": 2, "natural:add_sub_u32": 0,
    "natural:sbox_lookup_u8": 82, "natural:argmax32_u32": 2010,
    "natural:decision_tree_d6": 2784, "natural:decision_tree_d6_public": 1512,
    "natural:histogram4_secret_index": 252, "natural:l1_distance32_u16": 1488,
    "natural:edit_distance8": 1276, "natural:isqrt_u16": 139, "natural:isqrt_digits_u32": 481,
    "natural:reduce_once_u32": 64, "natural:fixdiv_fix32_16": 1703,
    "natural:sha256_fips": 21882, "natural:aes128_table_sbox": 16400,
    "correlation": 28201, "count_above": 2175, "decision_tree": 992, "dot_product": 26576,
    "hamming": 255, "histogram": 1872, "hospital_stats": 36093, "logistic_score": 18071, "match_flags": 8176,
    "median": 960, "millionaires": 64, "psi_size": 8191, "sort": 1536,
    "three_hospitals": 41827,
}


def _programs() -> dict[str, tuple[str, str]]:
    """name -> (source, file name) of every program the sizes benchmark compiles."""
    out = {f"peer:{name}": ("party alice, bob\n" + body, f"{name}.yao")
           for name, (body, _, _) in PEERS.items()}
    out |= {f"natural:{name}": (src, f"{name}.yao")
            for name, (_, src, _, _) in NATURAL.items()}
    for path in sorted((ROOT / "examples").glob("*.yao")):
        out[path.stem] = (path.read_text(), str(path))
    return out


PROGRAMS = _programs()


def test_every_program_has_a_ceiling():
    # a program added to the benchmarks (or an example) gets its ceiling here too
    assert sorted(PROGRAMS) == sorted(CEILING)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_and_count_does_not_rise(name):
    src, filename = PROGRAMS[name]
    circuit = compile_source(src, filename)
    got = circuit.count(Op.AND)
    # the circuit that reaches the count computes the program (the reference interpreter
    # of its text), on random inputs with their types' extremes
    rng = random.Random(name)
    rows = [{p.name: random_value(p.type, rng) for p in circuit.inputs} for _ in range(2)]
    for row, out in zip(rows, evaluate(circuit, rows)):
        assert out == interpret(Path(filename) if Path(filename).is_file() else src, row), \
            (name, row)
    assert got <= CEILING[name], f"{name}: {got} ANDs, was {CEILING[name]}"
    if name.startswith("natural:"):
        former = NATURAL[name.split(":", 1)[1]][2]
        assert got < former, f"{name}: {got} ANDs, as many as before the mechanisms ({former})"


def test_the_natural_programs_benchmark_reports_them(capsys):
    # it printed nothing: a data module among the benchmarks
    import json
    import natural
    assert natural.main(["--quick", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got and {r["name"] for r in got} <= set(NATURAL)
    for r in got:
        assert r["and"] <= CEILING[f"natural:{r['name']}"] and r["and"] <= r["former_and"]
