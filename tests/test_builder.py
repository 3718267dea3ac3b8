"""Builder: folding rules, hash-consing, NOT kept outside XOR, or/mux semantics, build()
numbering and port errors."""

import itertools

import numpy as np
import pytest

from yaogc.circuits import BOOL, ONE, ZERO, Builder, CircuitError, Op, uint
from yaogc.circuits.evaluate import evaluate_one


@pytest.fixture
def b():
    return Builder("t", parties=("alice", "bob"))


def two_bits(b):
    x, = b.input("alice", "x", BOOL)
    y, = b.input("bob", "y", BOOL)
    return x, y


def test_constant_folding(b):
    x, y = two_bits(b)
    assert b.xor(x, ZERO) == x and b.xor(ZERO, x) == x
    assert b.and_(x, ONE) == x and b.and_(ZERO, x) == ZERO
    assert b.xor(x, x) == ZERO
    assert b.and_(x, x) == x
    nx = b.not_(x)
    assert b.xor(nx, x) == ONE
    assert b.and_(x, nx) == ZERO and b.and_(nx, x) == ZERO
    assert b.not_(nx) == x
    assert b.not_(ZERO) == ONE and b.not_(ONE) == ZERO
    assert b.xor(x, ONE) == nx
    assert b.is_const(ZERO) and not b.is_const(x)
    assert b.n_and == 0


def test_hash_consing_and_commutation(b):
    x, y = two_bits(b)
    assert b.and_(x, y) == b.and_(y, x)
    assert b.xor(x, y) == b.xor(y, x)
    assert b.n_and == 1
    # NOT is kept outside XOR, so equal functions meet in the table
    assert b.xor(b.not_(x), y) == b.not_(b.xor(x, y)) == b.xor(x, b.not_(y))
    assert b.xor(b.not_(x), b.not_(y)) == b.xor(x, y)
    op, a, c = b.gate(b.and_(x, y))
    assert op == Op.AND and {a, c} == {x, y}
    assert b.gate(x)[0] is None


def test_or_and_mux_truth_tables(b):
    x, y = two_bits(b)
    c, = b.input("alice", "c", BOOL)
    b.output(("alice",), "or", BOOL, [b.or_(x, y)])
    b.output(("alice",), "mux", BOOL, [b.mux(c, x, y)])
    circuit = b.build().check()
    assert circuit.count(Op.AND) == 2
    for xv, yv, cv in itertools.product((0, 1), repeat=3):
        out = evaluate_one(circuit, x=xv, y=yv, c=cv)
        assert out == {"or": bool(xv | yv), "mux": bool(xv if cv else yv)}


def test_build_numbers_inputs_first_and_keeps_constant_outputs(b):
    x, y = two_bits(b)
    t = b.and_(x, y)
    w = b.input("bob", "w", uint(2))
    b.output(("alice", "bob"), "o", uint(4), [t, ONE, ZERO, w[1]])
    c = b.build().check()
    assert [p.wires.tolist() for p in c.inputs] == [[0], [1], [2, 3]]
    assert c.n_inputs == 4
    assert sorted(Op(o).name for o in c.op) == ["AND", "CONST0", "CONST1"]
    assert evaluate_one(c, x=1, y=1, w=2)["o"] == 0b1011
    assert c.parties == ("alice", "bob")


def test_port_errors(b):
    x, y = two_bits(b)
    with pytest.raises(CircuitError, match="input port 'x' is declared twice"):
        b.input("bob", "x", BOOL)
    b.output(("alice",), "o", BOOL, [x])
    with pytest.raises(CircuitError, match="output port 'o' is declared twice"):
        b.output(("alice",), "o", BOOL, [y])
    with pytest.raises(CircuitError, match="type u2 has 2 bits, got 1 wires"):
        b.output(("alice",), "p", uint(2), [x])


def test_dead_gates_stay_until_remove_dead(b):
    from yaogc.circuits.passes import remove_dead
    x, y = two_bits(b)
    b.and_(x, y)                      # never used
    b.output("alice", "o", BOOL, [b.xor(x, y)])
    c = b.build()
    assert c.count(Op.AND) == 1 and c.outputs[0].recipients == ("alice",)
    assert remove_dead(c).count(Op.AND) == 0


def test_xor_of_many_bits_is_parity():
    b = Builder("parity")
    xs = b.input("alice", "x", uint(9))
    acc = ZERO
    for w in xs:
        acc = b.xor(acc, w)
    b.output("alice", "p", BOOL, [acc])
    c = b.build()
    assert c.count(Op.XOR) == 8 and c.count(Op.AND) == 0
    for v in np.random.default_rng(0).integers(0, 512, 20).tolist():
        assert evaluate_one(c, x=v)["p"] == bool(bin(v).count("1") % 2)
