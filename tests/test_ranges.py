"""Value ranges of the word-level IR and the narrowing they allow: ranges from declared types,
constants and unrolled loops; narrowed programs give the interpreter's values (which run the
unnarrowed IR) and Python's, with fewer ANDs."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.circuit import Op
from yaogc.circuits.evaluate import evaluate
from yaogc.compiler import compile_source, interpret
from yaogc.compiler.ops import evaluate as op_value
from yaogc.compiler.pipeline import elaborate
from yaogc.compiler.ranges import may_wrap, node_range, ranges

from test_compiler_property import programs

H = "party alice, bob\n"


def _ranges_of(src: str):
    e = elaborate(H + src)
    g = e.graph
    return e, g, ranges(g)


def test_ranges_from_types_constants_and_loops():
    e, g, r = _ranges_of(
        "def main(a: u8[4] @alice, s: i8 @bob) -> (c: u8 @both, m: u8 @both, w: u8 @both,\n"
        "        k: i16 @both):\n"
        "    c: u8 = 0\n"
        "    for i in range(4):\n"
        "        if a[i] > 10:\n"
        "            c += 1\n"
        "    return c, a[0] & 15, a[0] + a[1], i16(s) * 3\n")
    (c,), (m,), (w,), (k,) = (out[3] for out in e.outputs)
    assert r[c] == (0, 4)
    assert r[m] == (0, 15)
    assert r[w] == (0, 255) and may_wrap(g, w, r)       # 255 + 255 wraps in u8
    assert r[k] == (-384, 381) and not may_wrap(g, k, r)


@settings(deadline=None, max_examples=40)
@given(data=st.data())
def test_ranges_shortcuts_give_the_general_rules_results(data):
    """ranges() takes the multiplexers, minima and maxima without the general rules: the
    same ranges as node_range on every node of random programs (mixed widths, nested
    expressions), over the whole graph and over a subset of nodes (whose operands outside it
    count as their whole type)."""
    _, src = data.draw(programs())
    g = elaborate(src, "random.yao").graph
    want: list = [None] * len(g)
    for n in range(len(g)):
        want[n] = node_range(g, n, want)
    assert ranges(g) == want, src
    some = sorted(data.draw(st.sets(st.integers(0, len(g) - 1))))
    part: list = [None] * len(g)
    for n in some:
        part[n] = node_range(g, n, part)
    assert ranges(g, some) == part, src


@settings(deadline=None, max_examples=30)
@given(data=st.data())
def test_every_value_lies_in_its_range(data):
    """Run the IR on random inputs: each node's value is inside the range computed for it."""
    n = data.draw(st.integers(2, 6))
    src = (f"def main(a: u8[{n}] @alice, b: i8[{n}] @bob, t: u4 @alice) -> (c: u8 @both,\n"
           f"        d: u16 @both, e: i16 @both, f: u8 @both):\n"
           "    c: u8 = 0\n    d: u16 = 0\n    e: i16 = 0\n    f = a[0]\n"
           f"    for i in range({n}):\n"
           "        if a[i] > t:\n            c += 2\n"
           "        d += u16(a[i] % (t + 1)) * 3 + popcount(a[i])\n"
           "        e = max(e, i16(b[i]) - 7) + abs(b[i] / 2)\n"
           "        f = min(f, a[i] >> 2) | (a[i] & 3)\n"
           "    return c, d, e, f\n")
    e, g, r = _ranges_of(src)
    rng = random.Random(data.draw(st.integers(0, 1 << 30)))
    inputs = {"a": [rng.randrange(256) for _ in range(n)],
              "b": [rng.randrange(-128, 128) for _ in range(n)], "t": rng.randrange(16)}
    # evaluate node by node, as the interpreter does
    vals = {}
    ports = {name: i for i, (_, name, _) in enumerate(e.inputs)}
    flat = {}
    for name, (_, _, t) in zip(ports, e.inputs):
        flat[name] = t
    for node in g.live([x for out in e.outputs for x in out[3]]):
        op, t, args = g.op(node), g.type(node), g.args(node)
        if op == "input":
            port, off = g.attr(node)
            name = e.inputs[port][1]
            v = inputs[name]
            if isinstance(v, list):
                v = v[off // t.width]
            vals[node] = v
        else:
            vals[node] = op_value(op, t, [vals[a] for a in args], [g.type(a) for a in args],
                                  g.attr(node))
        lo, hi = r[node]
        assert lo <= vals[node] <= hi, (op, node, vals[node], r[node])


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
        prev = cur
    return prev[-1]


EDIT = H + ("def main(a: u8[6] @alice, b: u8[7] @bob) -> (d: u16 @both):\n"
            "    row: u16[8] = [0, 1, 2, 3, 4, 5, 6, 7]\n"
            "    for i in range(6):\n"
            "        diag = row[0]\n"
            "        row[0] = row[0] + 1\n"
            "        for j in range(1, 8):\n"
            "            up = row[j]\n"
            "            row[j] = min(min(up, row[j - 1]) + 1, diag + u16(a[i] != b[j - 1]))\n"
            "            diag = up\n"
            "    return row[7]\n")


def test_a_distance_declared_u16_is_computed_in_the_bits_it_needs():
    c = compile_source(EDIT)
    assert c.count(Op.AND) <= 751      # 1314 with every cell in 16 bits
    rng = random.Random(7)
    rows = [{"a": [rng.randrange(3) for _ in range(6)], "b": [rng.randrange(3) for _ in range(7)]}
            for _ in range(30)]
    for row, out in zip(rows, evaluate(c, rows)):
        assert out["d"] == edit_distance(row["a"], row["b"]) == interpret(EDIT, row)["d"]


@settings(deadline=None, max_examples=25)
@given(n=st.integers(1, 12), w=st.sampled_from([4, 8, 16]), signed=st.booleans(),
       seed=st.integers(0, 1 << 30))
def test_narrowed_counters_sums_and_minima_agree_with_the_interpreter(n, w, signed, seed):
    t = f"{'i' if signed else 'u'}{w}"
    src = H + (f"def main(a: {t}[{n}] @alice, b: {t}[{n}] @bob) -> (c: {t} @both, s: u32 @both,\n"
               f"        m: {t} @both, k: bool @both):\n"
               f"    c: {t} = 0\n    s: u32 = 0\n    m = a[0] & 7\n"
               f"    for i in range({n}):\n"
               "        if a[i] < b[i]:\n            c += 1\n"
               "        s += u32(a[i] & 7) * u32(b[i] & 3)\n"
               "        m = min(m, (b[i] & 7) + 1)\n"
               "    return c, s, m, c + m < 5\n")
    rng = random.Random(seed)
    lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed else (0, (1 << w) - 1)
    rows = [{"a": [rng.randint(lo, hi) for _ in range(n)], "b": [rng.randint(lo, hi) for _ in range(n)]}
            for _ in range(4)]
    for row, out in zip(rows, evaluate(compile_source(src), rows)):
        assert out == interpret(src, row)


@settings(deadline=None, max_examples=30)
@given(m=st.integers(2, 40), form=st.sampled_from([
    "a[(i & 3) + 4]", "a[2 * (i & 7) + 1]", "a[i % 5 + 30]", "a[u8(j) + 2]", "a[u8(s & 7) - 3]",
    "a[(i >> 5) + 1]"]), seed=st.integers(0, 1 << 30))
def test_an_index_with_a_narrow_range_selects_among_what_it_can_reach(m, form, seed):
    """An index whose range is narrower than the array selects by its low bits among the
    items it can reach (out of range, including negative, still reads 0); comparisons whose
    ranges decide them fold."""
    src = H + (f"def main(a: u8[{m}] @alice, i: u8 @bob, j: bool @bob, s: i8 @alice) -> (\n"
               "        r: u8 @both, c: bool @both, d: bool @both):\n"
               f"    return {form}, (i & 15) < 16, u8(j) == 2\n")
    rng = random.Random(seed)
    rows = [{"a": [rng.randrange(256) for _ in range(m)], "i": rng.randrange(256),
             "j": rng.random() < 0.5, "s": rng.randrange(-128, 128)} for _ in range(12)]
    for row, out in zip(rows, evaluate(compile_source(src), rows)):
        assert out == interpret(src, row)
        assert out["c"] and not out["d"]


def test_a_tree_walked_with_a_secret_node_index_reads_only_its_level():
    src = H + ("def main(x: u16 @alice, t: u16[15] @bob, label: u8[16] @bob) -> (r: u8 @both):\n"
               "    node: u8 = 0\n"
               "    for level in range(4):\n"
               "        node = 2 * node + 1 + u8(x > t[node])\n"
               "    return label[node - 15]\n")
    c = compile_source(src)
    # level L reads among its 2^L nodes: 16 * (0 + 1 + 3 + 7) + 4 comparisons + the labels
    assert c.count(Op.AND) <= 16 * 11 + 4 * 16 + 8 * 15 + 16
    rng = random.Random(9)
    rows = [{"x": rng.randrange(1 << 16), "t": [rng.randrange(1 << 16) for _ in range(15)],
             "label": [rng.randrange(256) for _ in range(16)]} for _ in range(20)]
    for row, out in zip(rows, evaluate(c, rows)):
        node = 0
        for _ in range(4):
            node = 2 * node + 1 + (row["x"] > row["t"][node])
        assert out["r"] == row["label"][node - 15]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["bool", "u1", "u3", "u5", "u8", "i4", "u16", "u8x3"]), min_size=2,
                max_size=6),
       st.sampled_from(["u16", "u32"]), st.booleans(), st.integers(0, 2**16))
def test_counts_left_unnarrowed_lower_to_the_same_circuit(kinds, acc, minus, seed):
    """A sum whose terms are zero-extended unsigned words with a total that fits the
    narrowed width is not narrowed (its bit heap adds the same bits either way): the circuit
    is byte for byte the one narrowing makes, and a sum outside that case is narrowed as
    before. Terms of mixed widths, signed ones and a subtraction reach both sides."""
    from yaogc.compiler import narrow as NW
    rng = random.Random(seed)
    params = ", ".join(f"x{i}: {'u8' if k == 'u8x3' else k}[3] @{'alice' if i % 2 else 'bob'}"
                       for i, k in enumerate(kinds))
    form = {"i4": "{a}(u4(x{i}[j]))", "u8x3": "{a}(x{i}[j]) * 3"}   # a term not zero-extended
    terms = [form.get(k, "{a}(x{i}[j])").format(a=acc, i=i) for i, k in enumerate(kinds)]
    body = f"s: {acc} = 0\nfor j in range(3):\n    s += " + " + ".join(terms)
    if minus:
        body += f"\n    s -= {acc}(x0[j])"
    src = H + f"def main({params}) -> (s: {acc} @both):\n" + "".join(
        f"    {ln}\n" for ln in (body + "\nreturn s").splitlines())
    skipped = compile_source(src)
    real = NW._heap_fits
    NW._heap_fits = lambda src_, n, k: False
    try:
        narrowed = compile_source(src)
    finally:
        NW._heap_fits = real
    assert skipped.content_hash == narrowed.content_hash
    row = {}
    for i, k in enumerate(kinds):
        lo, hi = {"bool": (0, 1), "u1": (0, 1), "u3": (0, 7), "u5": (0, 31), "u8": (0, 255),
                  "i4": (-8, 7), "u16": (0, 65535), "u8x3": (0, 255)}[k]
        vals = [rng.randint(lo, hi) for _ in range(3)]
        row[f"x{i}"] = [bool(v) for v in vals] if k == "bool" else vals
    assert evaluate(skipped, [row])[0] == interpret(src, row)


def test_a_count_of_bools_is_not_rebuilt_by_narrowing():
    from yaogc.compiler.narrow import narrow
    from yaogc.compiler.optimize import _optimize_shared
    e = _optimize_shared(elaborate(H + "def main(a: u8[50] @alice, t: u8 @bob) -> (c: u32 @both):\n"
                                   "    return sum(u32(a[i] > t) for i in range(50))\n"))
    assert narrow(e) is e
