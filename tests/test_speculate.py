"""Tests on a small secret index computed for each of its values and selected
(compiler/speculate.py): fewer ANDs where the per-value tests fold, the same values as the
program's semantics (out-of-range reads give 0) on random inputs."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.circuit import Op
from yaogc.circuits.evaluate import evaluate
from yaogc.compiler import compile_source

H = "party alice, bob\n"


def tree_program(depth: int, features: list[int]) -> str:
    inner = (1 << depth) - 1
    return (H + f"const F: u8[{inner}] = [{', '.join(map(str, features))}]\n"
            f"def main(record: u16[8] @alice, threshold: u16[{inner}] @bob,\n"
            f"         label: u8[{inner + 1}] @bob) -> (decision: u8 @alice):\n"
            "    node: u8 = 0\n"
            f"    for level in range({depth}):\n"
            "        node = 2 * node + 1 + u8(record[F[node]] > threshold[node])\n"
            f"    return label[node - {inner}]\n")


def walk(depth: int, features, record, threshold, label) -> int:
    node = 0
    for _ in range(depth):
        node = 2 * node + 1 + int(record[features[node]] > threshold[node])
    return label[node - ((1 << depth) - 1)]


def test_a_tree_with_public_features_tests_every_node_once():
    depth = 6
    features = [(7 * j + 3) % 8 for j in range(63)]
    c = compile_source(tree_program(depth, features))
    # was 2033 at AND-depth 120 (each level selected 16-bit thresholds among 2^L, then
    # compared once); every node's test is 16 ANDs, and the leaf is selected bottom-up by
    # the tests (compiler/cofactor.py), one 8-bit multiplexer per inner node
    assert c.count(Op.AND) <= 63 * 16 + 63 * 8
    assert c.and_depth <= 40
    rng = random.Random(3)
    rows = [{"record": [rng.randrange(1 << 16) for _ in range(8)],
             "threshold": [rng.randrange(1 << 16) for _ in range(63)],
             "label": [rng.randrange(256) for _ in range(64)]} for _ in range(40)]
    for r, o in zip(rows, evaluate(c, rows)):
        assert o["decision"] == walk(depth, features, r["record"], r["threshold"], r["label"])


@settings(deadline=None, max_examples=20)
@given(st.integers(1, 4), st.data())
def test_trees_of_any_depth(depth, data):
    inner = (1 << depth) - 1
    features = data.draw(st.lists(st.integers(0, 9), min_size=inner, max_size=inner))
    src = tree_program(depth, features)
    c = compile_source(src)
    rng = random.Random(data.draw(st.integers(0, 1 << 30)))
    rows = [{"record": [rng.choice([0, 1, 5, 65535, rng.randrange(1 << 16)]) for _ in range(8)],
             "threshold": [rng.choice([0, 1, 5, 65535, rng.randrange(1 << 16)])
                           for _ in range(inner)],
             "label": [rng.randrange(256) for _ in range(inner + 1)]} for _ in range(12)]
    for r, o in zip(rows, evaluate(c, rows)):
        # features 8 and 9 are out of the record's range: such reads give 0
        rec = r["record"] + [0, 0]
        assert o["decision"] == walk(depth, features, rec, r["threshold"], r["label"])


@settings(deadline=None, max_examples=25)
@given(st.integers(1, 5), st.integers(2, 12), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
       st.sampled_from(["u8", "i8", "u5"]), st.integers(0, 1 << 30))
def test_a_test_on_two_reads_by_one_small_index(ibits, n, op, t, seed):
    """a[i] OP b[i] for a secret i of ibits bits over n elements (out of range reads 0): each
    pair compared, one bit selected, when the estimate finds that cheaper."""
    src = (H + f"def main(a: {t}[{n}] @alice, b: {t}[{n}] @bob, i: u{ibits} @bob)"
           " -> (r: bool @both):\n"
           f"    return a[i] {op} b[i]\n")
    c = compile_source(src)
    bits = int(t[1:])
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if t[0] == "i" else (0, (1 << bits) - 1)
    rng = random.Random(seed)
    rows = [{"a": [rng.randint(lo, min(hi, lo + 3)) for _ in range(n)],
             "b": [rng.randint(lo, min(hi, lo + 3)) for _ in range(n)],
             "i": rng.randrange(1 << ibits)} for _ in range(16)]
    fn = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__,
          "==": int.__eq__, "!=": int.__ne__}[op]
    for r, o in zip(rows, evaluate(c, rows)):
        i = r["i"]
        x, y = (r["a"][i], r["b"][i]) if i < n else (0, 0)
        assert o["r"] == fn(x, y), (src, r)


def test_a_test_on_two_reads_costs_less():
    src = ("def main(a: u16[8] @alice, b: u16[8] @bob, i: u3 @bob) -> (r: bool @both):\n"
           "    return a[i] > b[i]\n")
    # two reads (7 * 16 each) and a comparison (16) were 240; eight comparisons and the
    # selection of a bit among eight: 8 * 16 + 7
    assert compile_source(H + src).count(Op.AND) <= 8 * 16 + 7
