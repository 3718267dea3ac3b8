"""Passes keep ports, parties and semantics (hypothesis random circuits), and actually fold,
deduplicate and drop dead gates. Also home of the random-circuit strategy and the gate-by-gate
reference interpreter that test_evaluate uses."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits import BOOL, Builder, Circuit, InputPort, Op, OutputPort, uint
from yaogc.circuits.evaluate import evaluate_bits
from yaogc.circuits.passes import (deduplicate, fold_constants, live_gates, optimize, remove_dead,
                                   simplify)


@st.composite
def random_circuits(draw, max_inputs=6, max_gates=60):
    """Raw circuits (not through the Builder): constants, NOT chains, repeats, dead gates."""
    widths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    widths = widths[:max(1, max_inputs // 2)]
    n_in = sum(widths)
    n = draw(st.integers(0, max_gates))
    op, a, b = [], [], []
    for k in range(n):
        w = n_in + k
        o = draw(st.sampled_from([Op.XOR, Op.XOR, Op.AND, Op.AND, Op.NOT, Op.CONST0, Op.CONST1]))
        op.append(int(o))
        a.append(draw(st.integers(0, w - 1)) if o <= Op.NOT else -1)
        b.append(draw(st.integers(0, w - 1)) if o <= Op.AND else -1)
    inputs, pos = [], 0
    for i, wd in enumerate(widths):
        inputs.append(InputPort("garbler" if i % 2 == 0 else "evaluator", f"x{i}", uint(wd),
                                np.arange(pos, pos + wd)))
        pos += wd
    n_wires = n_in + n
    outputs = []
    for i in range(draw(st.integers(1, 3))):
        ws = draw(st.lists(st.integers(0, n_wires - 1), min_size=1, max_size=4))
        outputs.append(OutputPort(("garbler", "evaluator")[: 1 + i % 2], f"y{i}", uint(len(ws)), ws))
    return Circuit(n_in, op, a, b, inputs, outputs, "random", ("garbler", "evaluator")).check()


def reference_eval(circuit, row):
    """Gate by gate on Python bools: the semantics written down once more, independently."""
    val = [bool(x) for x in row]
    for o, x, y in zip(circuit.op.tolist(), circuit.in0.tolist(), circuit.in1.tolist()):
        val.append({Op.XOR: lambda: val[x] != val[y], Op.AND: lambda: val[x] and val[y],
                    Op.NOT: lambda: not val[x], Op.CONST0: lambda: False,
                    Op.CONST1: lambda: True}[Op(o)]())
    return [int(val[w]) for o in circuit.outputs for w in o.wires.tolist()]


def all_rows(n):
    return ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(np.uint8)


def same_interface(c, d):
    assert [(p.party, p.name, p.type, p.wires.tolist()) for p in c.inputs] == \
        [(p.party, p.name, p.type, p.wires.tolist()) for p in d.inputs]
    assert [(o.recipients, o.name, o.type) for o in c.outputs] == \
        [(o.recipients, o.name, o.type) for o in d.outputs]
    assert c.parties == d.parties and c.name == d.name


@settings(deadline=None, max_examples=150)
@given(random_circuits())
def test_passes_preserve_semantics_and_ports(c):
    rows = all_rows(c.n_inputs)
    want = evaluate_bits(c, rows)
    assert want.tolist() == [reference_eval(c, r) for r in rows.tolist()]
    for p in (simplify, remove_dead, optimize):
        d = p(c).check()
        same_interface(c, d)
        assert np.array_equal(evaluate_bits(d, rows), want), p.__name__
        assert d.count(Op.AND) <= c.count(Op.AND)
        assert d.n_gates <= c.n_gates
    o = optimize(c)
    assert optimize(o).n_gates == o.n_gates      # a fixpoint
    assert live_gates(o).all()


def raw(n_in, gates, outs):
    op, a, b = zip(*gates) if gates else ((), (), ())
    return Circuit(n_in, [int(x) for x in op], a, b,
                   [InputPort("garbler", "x", uint(n_in), np.arange(n_in))],
                   [OutputPort(("garbler",), "y", uint(len(outs)), outs)]).check()


def test_folding_rules():
    c = raw(2, [(Op.CONST0, -1, -1), (Op.XOR, 0, 2),   # w3 = x0 ^ 0 = x0
                (Op.CONST1, -1, -1), (Op.AND, 1, 4),   # w5 = x1 & 1 = x1
                (Op.XOR, 0, 0),                        # w6 = 0
                (Op.NOT, 0, -1), (Op.AND, 0, 7),       # w8 = x0 & ~x0 = 0
                (Op.NOT, 7, -1),                       # w9 = ~~x0 = x0
                (Op.XOR, 0, 7),                        # w10 = x0 ^ ~x0 = 1
                (Op.AND, 1, 1)],                       # w11 = x1
            [3, 5, 6, 8, 9, 10, 11])
    f = fold_constants(c)
    assert f.count(Op.AND) == f.count(Op.XOR) == f.count(Op.NOT) == 0
    rows = all_rows(2)
    assert np.array_equal(evaluate_bits(f, rows), evaluate_bits(c, rows))
    # the outputs that folded to input wires name them directly
    assert f.outputs[0].wires.tolist()[:2] == [0, 1]


def test_deduplicate_merges_commuted_repeats():
    c = raw(2, [(Op.AND, 0, 1), (Op.AND, 1, 0), (Op.XOR, 2, 3), (Op.NOT, 1, -1),
                (Op.NOT, 1, -1), (Op.XOR, 5, 6)],
            [2, 3, 4, 7])
    d = deduplicate(c)
    assert d.count(Op.AND) == 1 and d.count(Op.NOT) == 0
    rows = all_rows(2)
    assert np.array_equal(evaluate_bits(d, rows), evaluate_bits(c, rows))


def test_not_gates_stay_where_they_were():
    # one INV feeding many XORs that feed ANDs must not become one NOT per XOR
    gates = [(Op.NOT, 0, -1)]
    outs = []
    for j in range(1, 5):
        xor_wire = 4 + 2 * j
        gates.append((Op.XOR, 5, j))          # wire xor_wire = ~x0 ^ xj
        gates.append((Op.AND, xor_wire, j))   # wire xor_wire + 1
        outs.append(xor_wire + 1)
    c = raw(5, gates, outs)
    o = optimize(c)
    assert (o.count(Op.NOT), o.count(Op.XOR), o.count(Op.AND)) == (1, 4, 4)


def test_remove_dead_keeps_only_what_reaches_outputs():
    c = raw(2, [(Op.AND, 0, 1), (Op.XOR, 0, 1), (Op.NOT, 2, -1), (Op.AND, 3, 0)], [3])
    d = remove_dead(c)
    assert d.n_gates == 1 and Op(d.op[0]) == Op.XOR
    assert d.outputs[0].wires.tolist() == [2]
    assert remove_dead(d) is d


def test_constant_outputs_survive():
    c = raw(1, [(Op.XOR, 0, 0), (Op.NOT, 1, -1)], [1, 2, 0])
    o = optimize(c)
    assert sorted(Op(x).name for x in o.op) == ["CONST0", "CONST1"]
    assert evaluate_bits(o, all_rows(1)).tolist() == [[0, 1, 0], [0, 1, 1]]


def test_builder_circuits_and_declared_parties_kept():
    b = Builder("p", parties=("b", "a"))
    x = b.input("a", "x", uint(4))
    y = b.input("b", "y", BOOL)
    b.output(("a", "b"), "z", uint(2), [b.mux(y[0], x[0], x[1]), b.or_(x[2], x[3])])
    c = b.build()
    o = optimize(c)
    assert o.parties == ("b", "a")
    rows = all_rows(c.n_inputs)
    assert np.array_equal(evaluate_bits(o, rows), evaluate_bits(c, rows))


@pytest.mark.parametrize("name, n_and", [("neg64.txt", 62), ("divide64.txt", 4662)])
def test_optimize_reference_circuits(bristol_path, name, n_and):
    from yaogc.circuits.bristol import read_bristol
    c = read_bristol(bristol_path(name))
    o = optimize(c).check()
    assert o.count(Op.AND) == n_and and o.count(Op.NOT) <= c.count(Op.NOT)
    rows = np.random.default_rng(5).integers(0, 2, (300, c.n_inputs), dtype=np.uint8)
    assert np.array_equal(evaluate_bits(o, rows), evaluate_bits(c, rows))


@settings(max_examples=60, deadline=None)
@given(random_circuits(max_inputs=6, max_gates=80))
def test_numbering_by_and_depth_keeps_the_circuit(c):
    # a compiled program's gates are numbered by AND-depth (what the Schedule walks); the
    # circuit computes the same, its gates are the same, only their order changes
    from yaogc.circuits.passes import compact, to_builder_space
    from yaogc.circuits.rehash import rehash
    op, a, b, m = rehash(*to_builder_space(c), push_not=True)    # as a compile leaves them
    ins = [(p.party, p.name, p.type, m[p.wires + 2]) for p in c.inputs]
    outs = [(o.recipients, o.name, o.type, m[o.wires + 2]) for o in c.outputs]
    flat = compact(c.name, c.parties, op, a, b, ins, outs).check()
    deep = compact(c.name, c.parties, op, a, b, ins, outs, by_level=True).check()
    assert deep.n_gates == flat.n_gates and deep.count(Op.AND) == flat.count(Op.AND)
    levels = deep.and_levels[deep.n_inputs:]
    assert (np.diff(levels[deep.op <= Op.NOT]) >= 0).all() if deep.n_gates else True
    same_interface(flat, deep)
    rows = all_rows(c.n_inputs)
    assert [reference_eval(deep, r) for r in rows] == [reference_eval(c, r) for r in rows]
