"""Circuit sizes the yaogc compiler emits: single operations, the peers' programs, the examples.

    python benchmarks/sizes.py [--json] [--quick]

Records (one JSON list with --json): ``name`` (``op:<op>:<type>`` for a single operation such
as ``op:mul:u64``, ``peer:<program>`` for the programs measured with garble-lang and MPCL,
``natural:<program>`` for the naturally written programs of ``benchmarks/natural.py``, the file
stem for an example, ``speed:<program>`` for compile-speed runs), ``and``, ``xor``,
``not``, ``and_depth``, ``reference_and`` (the word library's bound for a single operation,
null otherwise); peer records add ``garble_lang`` and ``mpcl`` (their AND counts on the same
program), natural records add ``former_and`` and ``former_depth`` (what yaogc gave them before
the mechanisms that now apply to them), speed records add ``gates``, ``seconds`` and ``gates_per_second`` (emitted gates,
before the circuit passes, per second of the whole compilation).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from yaogc.circuits.circuit import Op
from yaogc.compiler import compile_source
from yaogc.compiler.lower import lower
from yaogc.compiler.optimize import optimize as optimize_words
from yaogc.compiler.pipeline import elaborate
from yaogc.circuits.passes import remove_dead

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from natural import NATURAL  # noqa: E402
WIDTHS = (8, 16, 32, 64)


def _popcount(n: int) -> int:
    return bin(n).count("1")


def _ceil_log2(n: int) -> int:
    return (n - 1).bit_length()


def _divmod_u_bound(n: int) -> int:
    """ANDs of circuits/division.py's unsigned division (quotient and remainder, n >= 8):
    K = (n-1)//2 restoring steps, then non-restoring ones; restoring's n^2+3n-3 below."""
    if n < 8:
        return n * n + 3 * n - 3
    k = (n - 1) // 2
    return k * k + 2 * k + (n - 1) + (n - k) * (n + 1) + 2 * n - 1


# op name -> (expression, operand type prefix, result type, word-library bound of AND gates)
SINGLE_OPS = {
    "add": ("x + y", "u", None, lambda n: n - 1),
    "sub": ("x - y", "u", None, lambda n: n - 1),
    "mul": ("x * y", "u", None, lambda n: n * n - n + 1),
    "div": ("x / y", "u", None, lambda n: _divmod_u_bound(n)),
    "mod": ("x % y", "u", None, lambda n: _divmod_u_bound(n)),
    "sdiv": ("x / y", "i", None, lambda n: n * n + 6 * n - 4),
    "smod": ("x % y", "i", None, lambda n: n * n + 6 * n - 4),
    "lt": ("x < y", "u", "bool", lambda n: n),
    "slt": ("x < y", "i", "bool", lambda n: n),
    "eq": ("x == y", "u", "bool", lambda n: n - 1),
    "select": ("select(c, x, y)", "u", None, lambda n: n),
    "min": ("min(x, y)", "u", None, lambda n: 2 * n),
    "max": ("max(x, y)", "i", None, lambda n: 2 * n),
    "abs": ("abs(x)", "i", None, lambda n: n - 1),
    "neg": ("-x", "i", None, lambda n: n - 2),
    "shl": ("x << y", "u", None,
            lambda n: n * _ceil_log2(n) + n + n - _ceil_log2(n) - 1),
    "popcount": ("popcount(x)", "u", "popcount", lambda n: n - _popcount(n)),
}


def single_op_program(op: str, n: int) -> tuple[str, str]:
    expr, sign, result, _ = SINGLE_OPS[op]
    t = f"{sign}{n}"
    if result == "popcount":
        rt = f"u{n.bit_length()}"
    else:
        rt = result or t
    extra = ", c: bool @alice" if "select" in expr else ""
    src = (f"party alice, bob\n"
           f"def main(x: {t} @alice, y: {t} @bob{extra}) -> (r: {rt} @both):\n"
           f"    return {expr}\n")
    return src, t


# the programs peers were measured on (garble-lang, MPCL), written in yaogc
PEERS = {
    "add_u32": ("def main(x: u32 @alice, y: u32 @bob) -> (r: u32 @both):\n    return x + y\n",
                94, 31),
    "lt_u32": ("def main(x: u32 @alice, y: u32 @bob) -> (r: bool @both):\n    return x < y\n",
               185, 33),
    "mul_u64": ("def main(x: u64 @alice, y: u64 @bob) -> (r: u64 @both):\n    return x * y\n",
                16127, 4006),
    "div_u32": ("def main(x: u32 @alice, y: u32 @bob) -> (r: u32 @both):\n    return x / y\n",
                2170, 1986),
    "sum64_u32": ("def main(x: u32[32] @alice, y: u32[32] @bob) -> (r: u32 @both):\n"
                  "    total: u32 = 0\n"
                  "    for i in range(32):\n"
                  "        total += x[i] + y[i]\n"
                  "    return total\n", 6045, 1953),
    "mean64_u32": ("def main(x: u32[32] @alice, y: u32[32] @bob) -> (r: u32 @both):\n"
                   "    total: u32 = 0\n"
                   "    for i in range(32):\n"
                   "        total += x[i] + y[i]\n"
                   "    return total / 64\n", 5733, 3364),
    "hamming256": ("def main(x: u256 @alice, y: u256 @bob) -> (r: u16 @both):\n"
                   "    return popcount(x ^ y)\n", 3721, 503),
    "max32_u32": ("def main(x: u32[16] @alice, y: u32[16] @bob) -> (r: u32 @both):\n"
                  "    m: u32 = x[0]\n"
                  "    for i in range(16):\n"
                  "        if x[i] > m:\n"
                  "            m = x[i]\n"
                  "        if y[i] > m:\n"
                  "            m = y[i]\n"
                  "    return m\n", 6727, 2049),
    "dot16_u32": ("def main(x: u32[16] @alice, y: u32[16] @bob) -> (r: u32 @both):\n"
                  "    return sum(x[i] * y[i] for i in range(16))\n", 33281, 17314),
}

SPEED = {
    "dot_u64": ("party alice, bob\nconst N = 1000\n"
                "def main(x: u64[N] @alice, y: u64[N] @bob) -> (r: u64 @both):\n"
                "    return sum(x[i] * y[i] for i in range(N))\n"),
}


def record(name: str, circuit, reference_and=None, **extra) -> dict:
    rec = {"name": name, "and": circuit.count(Op.AND), "xor": circuit.count(Op.XOR),
           "not": circuit.count(Op.NOT), "and_depth": circuit.and_depth,
           "reference_and": reference_and}
    rec.update(extra)
    return rec


def speed_record(name: str, src: str, defines: dict[str, str]) -> dict:
    t0 = time.perf_counter()
    e = elaborate(src, f"{name}.yao", defines)
    t1 = time.perf_counter()
    raw = lower(optimize_words(e))
    t2 = time.perf_counter()
    circuit = remove_dead(raw)
    t3 = time.perf_counter()
    return record(f"speed:{name}", circuit, None, gates=raw.n_gates, seconds=round(t3 - t0, 3),
                  gates_per_second=round(raw.n_gates / (t3 - t0)),
                  check_seconds=round(t1 - t0, 3), lower_seconds=round(t2 - t1, 3),
                  passes_seconds=round(t3 - t2, 3), terms=int(defines["N"]))


def run(quick: bool) -> list[dict]:
    out = []
    widths = (8, 32) if quick else WIDTHS
    for op, (_, _, _, bound) in SINGLE_OPS.items():
        for n in widths:
            src, t = single_op_program(op, n)
            out.append(record(f"op:{op}:{t}", compile_source(src), bound(n)))
    for name, (body, garble, mpcl) in PEERS.items():
        circuit = compile_source("party alice, bob\n" + body)
        out.append(record(f"peer:{name}", circuit, None, garble_lang=garble, mpcl=mpcl))
    for name, (_, src, former, depth) in NATURAL.items():
        out.append(record(f"natural:{name}", compile_source(src, f"{name}.yao"), None,
                          former_and=former, former_depth=depth))
    for path in sorted((ROOT / "examples").glob("*.yao")):
        out.append(record(path.stem, compile_source(path.read_text(), str(path))))
    for name, src in SPEED.items():
        out.append(speed_record(name, src, {"N": "50" if quick else "1000"}))
    return out


def table(records: list[dict]) -> str:
    lines = [f"{'name':<30} {'AND':>9} {'XOR':>9} {'NOT':>7} {'depth':>6} {'ref AND':>8}  peers / speed"]
    for r in records:
        ref = "" if r["reference_and"] is None else str(r["reference_and"])
        note = ""
        if "garble_lang" in r:
            note = f"garble-lang {r['garble_lang']}, MPCL {r['mpcl']}"
        if "former_and" in r:
            note = f"formerly {r['former_and']} ANDs at depth {r['former_depth']}"
        if "gates_per_second" in r:
            note = (f"{r['gates']} gates in {r['seconds']} s = {r['gates_per_second']} gates/s "
                    f"(check {r['check_seconds']}, lower {r['lower_seconds']}, "
                    f"passes {r['passes_seconds']})")
        lines.append(f"{r['name']:<30} {r['and']:>9} {r['xor']:>9} {r['not']:>7} "
                     f"{r['and_depth']:>6} {ref:>8}  {note}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON list")
    ap.add_argument("--quick", action="store_true", help="8 and 32 bits, a small speed run")
    args = ap.parse_args(argv)
    records = run(args.quick)
    print(json.dumps(records) if args.json else table(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
