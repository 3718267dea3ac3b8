"""Loops made from the pattern of their first iterations (compiler/uniform.py): the word graph,
its notes for the range warnings, the circuit and the errors are those of elaborating every
iteration, and the pattern is followed where it may be."""

from __future__ import annotations

import pytest

from yaogc.circuits.evaluate import evaluate
from yaogc.compiler import CompileError, compile_source, interpret, uniform
from yaogc.compiler.pipeline import elaborate

from test_compiler_helpers import random_value


def _elaborated(src: str, defines=None, follow: bool = True):
    saved = uniform.MIN_ITERATIONS
    if not follow:
        uniform.MIN_ITERATIONS = 1 << 62
    try:
        return elaborate(src, "<loop>", defines)
    except CompileError as e:
        return f"error: {e}"
    finally:
        uniform.MIN_ITERATIONS = saved


def _picture(e):
    """The elaborated IR as plain data (locations as positions: each elaboration parses)."""
    if isinstance(e, str):
        return e
    g = e.graph
    return (g._op, [t._k for t in g._type], g._args, g._attr,
            [None if x is None else (x.line, x.col) for x in g._loc], g.dropped,
            [tuple(_reader(r) for r in x) if isinstance(x, tuple) else type(x).__name__
             for x in g.dropped_for],
            g.replaced, g._memo, g.minus, g.product, g.folded,
            [(r, name, t._k, ns) for r, name, t, ns in e.outputs])


def _reader(r):
    """An entry of what reads a noted operation: a node, or what a statement made of a
    variable (its words: old and new)."""
    if isinstance(r, int):
        return r
    words = [getattr(r, k) for k in ("new", "old")]
    return tuple(None if w is None else (type(w).__name__, getattr(w, "node", None),
                                         w.type._k) for w in words)


def made_from_pattern(monkeypatch) -> list:
    """Counts the iterations made from a pattern (not elaborated)."""
    made = []
    run = uniform._Pattern.run

    def counting(self, frame, m):
        end = run(self, frame, m)
        made.append(end - m)
        return end
    monkeypatch.setattr(uniform._Pattern, "run", counting)
    return made


HEAD = "party alice, bob\nconst N = 8\n"

PROGRAMS = {
    # counts, an array of counters at constant indices, a sum of reads: followed
    "counts": ("def main(a: u16[N] @alice, b: u16[N] @bob, t: u16 @alice) -> (c: u16 @both):\n"
               "    c: u16 = 0\n"
               "    for i in range(N):\n"
               "        if a[i] > t:\n"
               "            c += 1\n"
               "        if b[i] > t:\n"
               "            c += 1\n"
               "    return c\n", True),
    "bins": ("def main(x: u8[N] @alice) -> (h: u32[4] @both):\n"
             "    h: u32[4] = [0 for k in range(4)]\n"
             "    for i in range(N):\n"
             "        for k in range(4):\n"
             "            if x[i] == k:\n"
             "                h[k] += 1\n"
             "    return h\n", True),
    "offset reads and a variable holding one": (
        "def main(a: i8[N] @alice, b: i8[N] @bob) -> (s: i32 @both, m: i8 @both):\n"
        "    s: i32 = 0\n"
        "    m: i8 = 0\n"
        "    for i in range(2, N - 1):\n"
        "        v = a[i + 1]\n"
        "        s += i32(v) * i32(b[i - 2])\n"
        "        m = max(m, v)\n"
        "    return s, m\n", True),
    "a function in the body": (
        "def f(x: u8, y: u8) -> u8:\n"
        "    if x < y:\n"
        "        return y - x\n"
        "    return x - y\n"
        "def main(a: u8[N] @alice, b: u8[N] @bob) -> (d: u16 @both):\n"
        "    d: u16 = 0\n"
        "    for i in range(N):\n"
        "        d += u16(f(a[i], b[N - 1 - i]))\n"
        "    return d\n", True),
    "else branches and a stride": (
        "def main(a: u8[N] @alice, b: u8 @bob) -> (lo: u16 @both, hi: u16 @both):\n"
        "    lo: u16 = 0\n"
        "    hi: u16 = 0\n"
        "    for i in range(0, N, 3):\n"
        "        if a[i] < b:\n"
        "            lo += u16(a[i])\n"
        "        else:\n"
        "            hi += 2\n"
        "    return lo, hi\n", True),
    # the same input read by two iterations (a window): elaborated one by one
    "window": ("def main(a: u8[N] @alice) -> (s: u16 @both):\n"
               "    s: u16 = 0\n"
               "    for i in range(N - 1):\n"
               "        s += u16(a[i] ^ a[i + 1])\n"
               "    return s\n", False),
    # the loop variable as a value, an element written at it: elaborated one by one
    "variable in arithmetic": ("def main(a: u8[N] @alice) -> (s: u16 @both):\n"
                               "    s: u16 = 0\n"
                               "    for i in range(N):\n"
                               "        if a[i] > i:\n"
                               "            s += 1\n"
                               "    return s\n", False),
    "written at the variable": ("def main(a: u8[N] @alice, t: u8 @bob) -> (f: bool[N] @alice):\n"
                                "    f = [False for k in range(N)]\n"
                                "    for i in range(N):\n"
                                "        f[i] = a[i] > t\n"
                                "    return f\n", False),
    # elements that are no inputs of one port: followed within a port, then as elaborated
    "two ports joined": ("def main(a: u8[N] @alice, b: u8[N] @bob) -> (s: u16 @both):\n"
                         "    x = concat(a, b)\n"
                         "    s: u16 = 0\n"
                         "    for i in range(2 * N):\n"
                         "        if x[i] > 9:\n"
                         "            s += 1\n"
                         "    return s\n", True),
    "computed elements": ("def main(a: u8[N] @alice) -> (s: u16 @both):\n"
                          "    y = [a[k] * 3 for k in range(N)]\n"
                          "    s: u16 = 0\n"
                          "    for i in range(N):\n"
                          "        s += u16(y[i])\n"
                          "    return s\n", False),
    "a compile-time counter": ("def main(a: u8[N] @alice) -> (s: u8 @both):\n"
                               "    s: u8 = 0\n"
                               "    j = 0\n"
                               "    for i in range(N):\n"
                               "        j = j + 2\n"
                               "        s += a[i]\n"
                               "    return s + u8(j)\n", False),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("n", [40, 100])
@pytest.mark.parametrize("written", [False, True])
def test_a_loop_made_from_its_pattern_is_the_loop_elaborated(name, n, written, monkeypatch):
    """Iterations made by the pattern interpreted or by a step written for it (a loop of
    many iterations) are the loop elaborated."""
    monkeypatch.setattr(uniform, "STEP_FROM", 0 if written else 1 << 62)
    body, followed = PROGRAMS[name]
    src = HEAD + body
    made = made_from_pattern(monkeypatch)
    got = _elaborated(src, {"N": str(n)})
    assert not isinstance(got, str), got
    assert bool(sum(made)) == followed
    assert _picture(got) == _picture(_elaborated(src, {"N": str(n)}, follow=False))


@pytest.mark.parametrize("name", ["counts", "offset reads and a variable holding one",
                                  "a function in the body", "two ports joined"])
def test_circuits_of_loops_made_from_their_pattern_compute_the_program(name):
    import random
    rng = random.Random(len(name))
    src = HEAD + PROGRAMS[name][0]
    defines = {"N": "30"}
    circuit = compile_source(src, "<loop>", defines)
    e = elaborate(src, "<loop>", defines)
    rows = [{name: random_value(t, rng) for _, name, t in e.inputs} for _ in range(6)]
    for row, got in zip(rows, evaluate(circuit, rows)):
        assert got == interpret(src, row, defines)


def test_errors_of_a_later_iteration_are_those_of_the_loop_elaborated(monkeypatch):
    # the read a[i + 1] leaves the array in the last iteration: the iterations before it
    # follow the pattern, the last is elaborated and fails where it fails elaborated
    src = HEAD + ("def main(a: u8[N] @alice) -> (s: u16 @both):\n"
                  "    s: u16 = 0\n"
                  "    for i in range(N):\n"
                  "        s += u16(a[i + 1])\n"
                  "    return s\n")
    made = made_from_pattern(monkeypatch)
    got = _elaborated(src, {"N": "30"})
    assert isinstance(got, str) and "out of range" in got
    assert sum(made) > 0
    assert got == _elaborated(src, {"N": "30"}, follow=False)


def test_warnings_and_checked_circuits_of_loops_are_unchanged():
    src = HEAD + ("def main(a: u8[N] @alice, t: u8 @bob) -> (c: u8 @both, s: u8 @both):\n"
                  "    c: u8 = 250\n"
                  "    s: u8 = 0\n"
                  "    for i in range(N):\n"
                  "        if a[i] > t:\n"
                  "            c += 1\n"
                  "        s += a[i]\n"
                  "    return c, s\n")
    saved = uniform.MIN_ITERATIONS
    try:
        got = [compile_source(src, "<loop>", {"N": "40"}, checked=k) for k in (False, True)]
        uniform.MIN_ITERATIONS = 1 << 62
        want = [compile_source(src, "<loop>", {"N": "40"}, checked=k) for k in (False, True)]
    finally:
        uniform.MIN_ITERATIONS = saved
    for a, b in zip(got, want):
        assert a.content_hash == b.content_hash
        assert [str(w) for w in a.warnings] == [str(w) for w in b.warnings]
    assert got[0].warnings      # c and s may pass u8


def test_the_pattern_stops_where_the_graph_reports_progress_or_reaches_its_limit(monkeypatch):
    # the graph tells its progress and holds its size limit at exact node counts: a loop
    # made from its pattern reaches them at the same nodes and statements as elaborated
    from yaogc.compiler import deep, ir
    from yaogc.compiler.pipeline import _elaborate
    monkeypatch.setattr(ir, "PROGRESS_NODES", 100)
    src = HEAD + PROGRAMS["counts"][0]

    def limited(most, told):
        with ir.compile_limits(most, told.append, "the test's limit"):
            return _elaborate(src, "<loop>", {"N": "200"})

    saved = uniform.MIN_ITERATIONS
    for most in (1500, 100_000):      # reached in the loop, not reached
        seen = []
        for follow in (True, False):
            told = []
            uniform.MIN_ITERATIONS = saved if follow else 1 << 62
            try:
                got = _picture(deep.run_deep(limited, most, told))
            except CompileError as e:
                got = f"error: {e}"
            finally:
                uniform.MIN_ITERATIONS = saved
            seen.append((got, told))
        assert seen[0] == seen[1]
        assert isinstance(seen[0][0], str) == (most == 1500)
        assert len(seen[0][1]) >= 2


def test_reads_of_an_inner_loop_or_comprehension_variable_are_no_reads_of_the_frame():
    # 'z[i]' names the inner loop's array, not a value the frame holds: no pattern reads it
    src = HEAD + ("def main(a: u8[16] @alice, b: u8[8] @bob) -> (s: u16 @both):\n"
                  "    w = concat([u8(0) for k in range(8)], b)\n"
                  "    s: u16 = 0\n"
                  "    for i in range(16):\n"
                  "        for z in [w, a]:\n"
                  "            s += u16(z[i])\n"
                  "    return s\n")
    row = {"a": [1] * 16, "b": [10] * 8}
    assert interpret(src, row)["s"] == 96
    assert evaluate(compile_source(src, "<loop>"), [row])[0]["s"] == 96
    src2 = HEAD + ("def main(a: u8[12] @alice, t: u8 @bob, u: u8 @bob) -> (s: u8 @both):\n"
                   "    z = [t, t, t, t, t, t, t, t, t, t, t, u]\n"
                   "    s: u8 = 0\n"
                   "    for i in range(12):\n"
                   "        s += sum([a[i] for a in [z]])\n"
                   "    return s\n")
    assert interpret(src2, {"a": [0] * 12, "t": 1, "u": 100})["s"] == 111
    for s in (src, src2):
        assert _picture(_elaborated(s)) == _picture(_elaborated(s, follow=False))


def test_an_array_a_loop_writes_keeps_the_line_of_its_versions(monkeypatch):
    # the merge of the 'if' around the loop multiplexes the one element the loop wrote, and
    # the range warnings know that the output reads no condition, as elaborated
    made = made_from_pattern(monkeypatch)
    for n in (12, 40):
        src = HEAD + ("def main(a: u8[N] @alice, t: u8 @bob) -> (r: u8 @both):\n"
                      "    h: u8[16] = [0 for k in range(16)]\n"
                      "    if t + t > 5:\n"
                      "        for i in range(N):\n"
                      "            h[1] += a[i]\n"
                      "    return h[0]\n")
        got = _elaborated(src, {"N": str(n)})
        assert _picture(got) == _picture(_elaborated(src, {"N": str(n)}, follow=False))
        if n == 12:     # writes no more than the array's elements: the line is followed
            assert not compile_source(src, "<loop>", {"N": str(n)}).warnings
    assert sum(made) > 0


def test_a_released_graph_is_freed_with_the_cyclic_collector_off():
    """A compile runs with the cyclic garbage collector off: what the pattern's iterations
    leave must not hold the elaborated graph's lists once the graph is released (a function
    kept in its own globals held them through lowering: histogram N=5000's peak 301 -> 446
    MB)."""
    import gc
    import sys
    src = """party a, b
def main(x: u8[40] @a, t: u8 @b) -> (n: u8 @b):
    n: u8 = 0
    for i in range(40):
        if x[i] > t:
            n += 1
    return n
"""
    was = gc.isenabled()
    gc.disable()
    try:
        e = elaborate(src, "<loop>", None)
        lists = [e.graph._op, e.graph._args, e.graph.dropped_for]
        e.graph.release()
        del e
        # only this list holds them (and getrefcount's own argument)
        assert [sys.getrefcount(x) for x in lists] == [3, 3, 3]
    finally:
        if was:
            gc.enable()


def test_a_comparison_made_before_the_loop_is_no_pattern(monkeypatch):
    """The loop's first iterations ask for comparisons of the inputs they read that an
    earlier loop made (a[q] < b[q]); a rule drops them (select of a comparison is a max),
    so the pattern has nothing of them, where a later iteration, reading inputs nothing
    compared yet, makes one. The loop is the loop elaborated: its pattern is looked for
    again past those iterations."""
    src = """party alice, bob
def f(x: u1, y: u1) -> u1:
    return select(x > y, x, y)
def main(a: u1[40] @alice, b: u1[40] @bob) -> (s: u1 @both):
    s: u1 = 0
    for q in range(8):
        s = a[q] if a[q] < b[q] else s
    for i in range(40):
        s += f(a[i], b[i])
        s += f(b[i], a[i])
    return s
"""
    made = made_from_pattern(monkeypatch)
    got = _elaborated(src)
    assert sum(made) > 0
    assert _picture(got) == _picture(_elaborated(src, follow=False))
