"""Word-level IR: folding, algebraic rules, CSE, dead code, chain rebalancing, determinism."""

from __future__ import annotations

from yaogc.circuits.types import uint
from yaogc.compiler import compile_source
from yaogc.compiler.ir import WordGraph
from yaogc.compiler.optimize import optimize
from yaogc.compiler.pipeline import elaborate

from test_compiler_helpers import program, run

U32 = uint(32)


def ands(params, ret, body):
    return compile_source(program(params, ret, body)).count(1)


def test_make_folds_constants_and_hash_conses():
    g = WordGraph()
    x = g.input(U32, (0, 0))
    y = g.input(U32, (1, 0))
    assert g.make("add", U32, (g.const(U32, 2), g.const(U32, 3))) == g.const(U32, 5)
    assert g.make("add", U32, (x, y)) == g.make("add", U32, (y, x))
    assert g.make("mul", U32, (x, g.const(U32, 1))) == x
    assert g.make("add", U32, (x, g.const(U32, 0))) == x
    assert g.op(g.make("mul", U32, (x, g.const(U32, 8)))) == "shl"
    assert g.make("xor", U32, (x, x)) == g.const(U32, 0)
    assert g.make("sub", U32, (x, x)) == g.const(U32, 0)
    assert g.make("not", U32, (g.make("not", U32, (x,)),)) == x
    assert g.op(g.make("div", U32, (x, g.const(U32, 16)))) == "shr"
    assert g.g.has_edge(x, g.make("add", U32, (x, y)))


def test_live_nodes_follow_the_graph_and_any_iterable_of_roots():
    """The marking of live nodes is kept per roots while the graph has the same nodes: a
    node made since, other roots, and roots given as an iterator are marked anew."""
    g = WordGraph()
    x, y = g.input(U32, (0, 0)), g.input(U32, (1, 0))
    s = g.make("add", U32, (x, y))
    assert g.live(iter([s])) == g.live([s]) == [x, y, s]
    assert g.live([x]) == [x]
    t = g.make("mul", U32, (s, s))
    assert g.live([t]) == [x, y, s, t] and g.live([s]) == [x, y, s]


def test_constant_expressions_and_repeats_cost_nothing_extra():
    assert ands("x: u32 @alice", "r: u32 @both", "k: u32 = 3\nreturn x + (k * 7 - 21)") == 0
    both = ands("x: u32 @alice, y: u32 @bob", "r: u32 @both, s: u32 @both",
                "return x * y + 1, 2 + y * x")
    one = ands("x: u32 @alice, y: u32 @bob", "r: u32 @both", "return x * y + 1")
    # the product is computed once; only the second increment is extra
    assert both - one <= 31


def test_multiplication_by_constants():
    general = ands("x: u32 @alice, y: u32 @bob", "r: u32 @both", "return x * y")
    by_const = ands("x: u32 @alice", "r: u32 @both", "return x * 1000")
    assert 0 < by_const < general // 10
    assert ands("x: u32 @alice", "r: u32 @both", "return x * 1024") == 0
    assert run(program("x: u32 @alice", "r: u32 @both", "return x * 1000"), x=123456)["r"] == 123456000


def test_sum_chain_becomes_one_shallow_heap():
    src = program("a: u32[64] @alice", "r: u32 @both",
                  "r: u32 = 0\nfor i in range(64):\n    r += a[i]\nreturn r")
    c = compile_source(src)
    assert c.count(1) <= 63 * 31
    assert c.and_depth < 64
    e = optimize(elaborate(src))
    ops = [e.graph.op(n) for n in range(len(e.graph))]
    assert ops.count("sum") == 1 and ops.count("add") == 0


def test_min_max_chains_become_trees():
    src = program("a: i16[32] @alice", "lo: i16 @both, hi: i16 @both",
                  "lo = a[0]\nhi = a[0]\nfor i in range(1, 32):\n    lo = min(lo, a[i])\n"
                  "    hi = max(hi, a[i])\nreturn lo, hi")
    c = compile_source(src)
    assert c.count(1) <= 2 * 31 * 32
    assert c.and_depth <= 5 * 17
    assert run(src, a=list(range(-16, 16)))["hi"] == 15


def test_dead_code_elimination_keeps_ports():
    e = optimize(elaborate(program("x: u32 @alice, y: u32 @bob", "r: u32 @both",
                                   "z = x * y\nw = z / x\nreturn x")))
    assert [e.graph.op(n) for n in range(len(e.graph))] == ["input"]
    assert [p[1] for p in e.inputs] == ["x", "y"]


def test_compare_exchange_compares_once():
    """min(a, b) and max(a, b) of one pair cost one comparison and one multiplexer (2n ANDs:
    max is a ^ b ^ min), with or without a narrowing of the type, give the right values in
    either operand order, and are lowered by one template: the gates they share are emitted
    once, not once per operation (a sorting network's compare-exchange)."""
    def emitted(t, outs, ret):
        src = program(f"a: {t} @alice, b: {t} @bob", outs, ret)
        got = {}
        c = compile_source(src, progress=lambda phase, gates, s: got.__setitem__(phase, gates))
        return src, got["lowered"], c.count(1)

    for t in ("u32", "i16", "fix16_8"):
        bits = 2 * int("".join(filter(str.isdigit, t))[:2])
        alone = [emitted(t, f"r: {t} @both", f"return {f}(a, b)")[1] for f in ("min", "max")]
        for order in ("a, b", "b, a"):
            src, pair, ands = emitted(t, f"lo: {t} @both, hi: {t} @both",
                                      f"return min(a, b), max({order})")
            assert ands == bits, (t, order, ands)
            assert pair < sum(alone), (t, order, pair, alone)
            got = run(src, a=-3 if t != "u32" else 7, b=5)
            assert (got["lo"], got["hi"]) == ((-3, 5) if t != "u32" else (5, 7))


def test_passes_after_elaboration_do_not_keep_the_elaborated_ir():
    """Once the word passes have rebuilt the graph, the elaborated IR (and the elaborator
    that made it) is garbage even though the cyclic collector is paused during a compile:
    for a program of many small operations it is most of the compile's peak memory."""
    import gc

    from yaogc.compiler.check import Checker
    src = program("a: bool[600] @alice, b: bool[600] @bob", "d: u32 @both",
                  "return sum(a[i] != b[i] for i in range(600))")
    seen = {}
    gc.collect()        # what earlier tests left is not this compile's
    before = {id(o) for o in gc.get_objects() if isinstance(o, (WordGraph, Checker))}

    def progress(phase, gates, seconds):
        if phase == "optimized":
            seen["graphs"] = sorted(len(o) for o in gc.get_objects()
                                    if isinstance(o, WordGraph) and len(o)
                                    and id(o) not in before)
            # nor the elaborator, with every value it made
            seen["checkers"] = sum(isinstance(o, Checker) and id(o) not in before
                                   for o in gc.get_objects())

    was = gc.isenabled()
    gc.disable()        # as a large compile runs: only reference counts free memory
    try:
        c = compile_source(src, progress=progress)
    finally:
        if was:
            gc.enable()
    assert run(src, a=[True] * 600, b=[i % 3 == 0 for i in range(600)])["d"] == 400
    assert c.count(1) > 0
    # only the optimized graph: the elaborated one had more nodes (the chain of additions)
    assert len(seen["graphs"]) == 1, seen
    assert seen["checkers"] == 0, seen


def test_resize_after_a_widening_reads_the_narrow_word():
    """A resize of a lossless widening gives what it gives the widened word: one node, and
    the same values as the IR without rules for every value of every integer type pair."""
    from yaogc.circuits.types import BOOL, sint

    g = WordGraph()
    c = g.input(BOOL, (0, 0))
    x = g.input(sint(8), (1, 0))
    assert g.make("resize", uint(4), (g.make("resize", uint(16), (c,)),)) == \
        g.make("resize", uint(4), (c,))
    assert g.make("resize", uint(4), (g.make("resize", sint(16), (x,)),)) == \
        g.make("resize", uint(4), (x,))
    # not after a narrowing, which may have wrapped: u16(u4(y)) keeps the low 4 bits only
    y = g.input(uint(8), (2, 0))
    inner = g.make("resize", uint(4), (y,))
    assert g.args(g.make("resize", uint(16), (inner,))) == (inner,)
    from test_compiler_helpers import interpret_without_rules
    from yaogc.compiler import interpret
    src = program("x: i8 @alice, y: u8 @bob, c: bool @alice",
                  "a: u4 @both, b: i4 @both, d: u3 @both, e: i32 @both",
                  "return u4(i16(x)), i4(u16(y)), u3(u16(c)) + u3(u8(c)), i32(i16(x)) + i32(u16(y))")
    for xv, yv, cv in [(-128, 255, True), (-1, 0, False), (127, 128, True), (-57, 93, False),
                       (0, 1, True)]:
        row = {"x": xv, "y": yv, "c": cv}
        got = run(src, **row)
        assert got == interpret_without_rules(src, row) == interpret(src, row)


def test_lowering_estimates_table_lookups_and_counts_near_what_it_emits():
    """The lowering sizes its gate arrays and hash table from an estimate of the gates it
    will emit (the table's probes touch every page of it): a constant table's entries count
    by their significant bits, a count's terms by their own bit, not as full words."""
    from yaogc.compiler import lower as L

    got = {}
    real = L._estimate

    def spy(planner, waves):
        got["expect"] = real(planner, waves)
        return got["expect"]

    lookup = program("x: u8[200] @alice, y: u8[200] @bob", "s: u32 @both",
                     "s: u32 = 0\nfor i in range(200):\n    s += T[(x[i] ^ y[i]) & 15]",
                     extra="const T: u16[16] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3]\n")
    lookup = lookup.rstrip("\n") + "\n    return s\n"
    hist = program("x: u8[100] @alice", "h: u32[8] @both",
                   "h: u32[8] = [0 for k in range(8)]\nfor i in range(100):\n"
                   "    for k in range(8):\n        if x[i] == k:\n            h[k] += 1\nreturn h")
    L._estimate = spy
    try:
        for src in (lookup, hist):
            e = optimize(elaborate(src))
            buf = L.emit(e)
            assert buf.n_emitted <= got["expect"] <= 5 * buf.n_emitted, (got, buf.n_emitted)
    finally:
        L._estimate = real
    assert run(hist, x=[i % 11 for i in range(100)])["h"] == [10, 9, 9, 9, 9, 9, 9, 9]


def test_live_nodes_are_what_the_roots_reach_in_ascending_order():
    """WordGraph.live against a search from the roots, on random graphs with dead nodes,
    shared operands and roots anywhere."""
    import random
    rng = random.Random(11)
    for _ in range(30):
        g = WordGraph()
        g.simplify = False
        nodes = [g.input(U32, (i, 0)) for i in range(3)]
        for _ in range(rng.randrange(1, 60)):
            a, b = rng.choice(nodes), rng.choice(nodes)
            nodes.append(g.make(rng.choice(["add", "xor", "and", "sub"]), U32, (a, b)))
        roots = rng.sample(range(len(g)), rng.randrange(1, 4))
        want, stack = set(roots), list(roots)
        while stack:
            for a in g.args(stack.pop()):
                if a not in want:
                    want.add(a)
                    stack.append(a)
        assert g.live(roots) == sorted(want)
