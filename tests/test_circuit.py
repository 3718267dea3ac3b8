"""Circuit: check() refuses malformed netlists naming the gate or port; stats, parties,
and_depth, with_parties, content_hash."""

import numpy as np
import pytest

from yaogc.circuits import BOOL, Circuit, CircuitError, InputError, InputPort, Op, OutputPort, uint


def make(op=(Op.AND, Op.XOR, Op.NOT), in0=(0, 2, 3), in1=(1, 0, -1), n_in=2, inputs=None,
         outputs=None, parties=None):
    inputs = inputs if inputs is not None else [InputPort("alice", "a", BOOL, [0]),
                                                InputPort("bob", "b", BOOL, [1])]
    outputs = outputs if outputs is not None else [OutputPort(("bob", "alice"), "z", uint(2), [4, 2])]
    return Circuit(n_in, [int(o) for o in op], in0, in1, inputs, outputs, "t", parties)


def test_well_formed_circuit_and_stats():
    c = make().check()
    assert (c.n_inputs, c.n_gates, c.n_wires) == (2, 3, 5)
    st = c.stats()
    assert (st["and"], st["xor"], st["not"], st["wires"], st["and_depth"]) == (1, 1, 1, 5, 1)
    assert st["inputs"] == [{"name": "a", "party": "alice", "width": 1, "type": "bool"},
                            {"name": "b", "party": "bob", "width": 1, "type": "bool"}]
    assert st["outputs"][0]["recipients"] == ["bob", "alice"]
    assert c.parties == ("alice", "bob")
    assert make(parties=("bob", "alice")).parties == ("bob", "alice")
    assert c.input("b").party == "bob" and c.output("z").width == 2
    with pytest.raises(KeyError):
        c.input("zz")
    assert c.op.flags.writeable is False
    assert "1 AND" in repr(c)


def test_and_depth_and_levels():
    # w2 = a&b, w3 = w2 ^ a, w4 = w3 & w2, w5 = ~w4
    c = make(op=(Op.AND, Op.XOR, Op.AND, Op.NOT), in0=(0, 2, 3, 4), in1=(1, 0, 2, -1),
             outputs=[OutputPort(("alice",), "z", BOOL, [5])]).check()
    assert c.and_depth == 2
    assert c.and_levels.tolist() == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("kw, fragment", [
    (dict(in0=(0, 2, 4)), "gate 2 (wire 4, NOT): operand in0=4 is not a wire set before it"),
    (dict(in1=(1, 5, -1)), "gate 1 (wire 3, XOR): operand in1=5"),
    (dict(in0=(-1, 2, 3)), "gate 0 (wire 2, AND): operand in0=-1"),
    (dict(in1=(1, 0, 2)), "gate 2 (wire 4, NOT): unused operand in1 must be -1"),
    (dict(op=(Op.AND, 9, Op.NOT)), "gate 1 (wire 3): unknown op 9"),
    (dict(in0=(0, 2)), "gate arrays differ in length"),
    (dict(inputs=[InputPort("alice", "a", BOOL, [1]), InputPort("bob", "b", BOOL, [0])]),
     "input port 'a': wires must be 0..0"),
    (dict(inputs=[InputPort("alice", "a", uint(2), [0])]), "type u2 has 2 bits but the port has 1"),
    (dict(inputs=[InputPort("alice", "a", BOOL, [0])]), "input ports cover 1 wires"),
    (dict(inputs=[InputPort("alice", "a", BOOL, [0]), InputPort("bob", "a", BOOL, [1])]),
     "input port 'a' is declared twice"),
    (dict(outputs=[OutputPort(("bob",), "z", BOOL, [5])]), "names a wire outside 0..4"),
    (dict(outputs=[OutputPort((), "z", BOOL, [4])]), "output port 'z' has no recipient"),
    (dict(outputs=[OutputPort(("bob",), "z", uint(3), [4])]), "type u3 has 3 bits"),
    (dict(outputs=[OutputPort(("bob",), "z", BOOL, [4]), OutputPort(("bob",), "z", BOOL, [3])]),
     "output port 'z' is declared twice"),
])
@pytest.mark.parametrize("compiled", [False, True])
def test_check_refuses_malformed_circuits(kw, fragment, compiled, monkeypatch):
    from yaogc.circuits import circuit as C, jit
    if compiled:
        if not jit.ENABLED:
            pytest.skip("numba is not installed")
        monkeypatch.setattr(jit, "SMALL", 0)
        monkeypatch.setattr(C, "CHECK_COMPILED_FROM", 0)
    with pytest.raises(CircuitError) as e:
        make(**kw).check()
    assert fragment in str(e.value)
    assert isinstance(e.value, InputError)


@pytest.mark.parametrize("block", [1, 2, 1 << 20, "compiled"])
def test_check_reports_the_same_first_error_however_the_gates_are_cut(monkeypatch, block):
    """check() looks at a block of gates at a time, each rule over all gates before the
    next: with blocks of one or two gates, the error named is the one a single pass names
    (a bad in0 late wins over a bad in1 early; an operand of a late gate is found)."""
    from yaogc.circuits import circuit as C, jit
    if block == "compiled":     # a large circuit's check: the compiled pass, one error as well
        if not jit.ENABLED:
            pytest.skip("numba is not installed")
        monkeypatch.setattr(jit, "SMALL", 0)
        monkeypatch.setattr(C, "CHECK_COMPILED_FROM", 0)
    else:
        monkeypatch.setattr(C, "_CHECK_BLOCK", block)
    ops = (Op.AND, Op.XOR, Op.NOT, Op.XOR, Op.AND)
    with pytest.raises(CircuitError) as e:
        make(op=ops, in0=(0, 2, 3, 4, 9), in1=(7, 0, -1, 1, 1)).check()
    assert "gate 4 (wire 6, AND): operand in0=9 is not a wire set before it" in str(e.value)
    with pytest.raises(CircuitError) as e:
        make(op=ops, in0=(0, 2, 3, 4, 5), in1=(1, 0, -1, 1, 6)).check()
    assert "gate 4 (wire 6, AND): operand in1=6 is not a wire set before it" in str(e.value)
    with pytest.raises(CircuitError) as e:
        make(op=ops, in0=(0, 2, 3, 4, 5), in1=(1, 0, 4, 1, 1)).check()
    assert "gate 2 (wire 4, NOT): unused operand in1 must be -1, got 4" in str(e.value)
    ok = make(op=ops, in0=(0, 2, 3, 4, 5), in1=(1, 0, -1, 1, 1),
              outputs=[OutputPort(("bob",), "z", BOOL, [6])])
    assert ok.check() is ok


def test_adopt_keeps_arrays_it_owns_and_copies_the_rest():
    """Circuit.adopt keeps gate arrays that own their memory (made read-only: the circuit
    stays immutable), copies a view of another array or another type, and makes the
    circuit the constructor makes."""
    op = np.array([Op.AND, Op.XOR, Op.NOT], dtype=np.uint8)
    in0, in1 = np.array([0, 2, 3]), np.array([1, 0, -1])
    base = np.array([1, 0, -1, 99])
    ports = dict(inputs=[InputPort("alice", "a", BOOL, [0]), InputPort("bob", "b", BOOL, [1])],
                 outputs=[OutputPort(("bob",), "z", BOOL, [4])])
    c = Circuit.adopt(2, op, in0, base[:3], **ports).check()
    assert c.op is op and c.in0 is in0 and not in0.flags.writeable
    assert c.in1 is not base and not np.shares_memory(c.in1, base)
    d = Circuit.adopt(2, op.tolist(), in0.astype(np.int32), in1, **ports)
    assert d.in0.dtype == np.int64 and d.content_hash == c.content_hash == \
        Circuit(2, op, in0, in1, **ports).content_hash
    # a circuit made by the constructor owns its arrays, which another circuit may share
    e = Circuit(2, op, in0, in1, **ports)
    f = e.with_parties({"b": "alice"})
    assert f.op is e.op and f.in1 is e.in1 and f.inputs[1].party == "alice"


def test_constants_take_no_operands():
    c = make(op=(Op.CONST0, Op.CONST1, Op.XOR), in0=(-1, -1, 2), in1=(-1, -1, 3),
             outputs=[OutputPort(("bob",), "z", BOOL, [4])]).check()
    assert c.count(Op.CONST1) == 1
    with pytest.raises(CircuitError, match="unused operand in0"):
        make(op=(Op.CONST0, Op.CONST1, Op.XOR), in0=(0, -1, 2), in1=(-1, -1, 3)).check()


def test_with_parties_and_content_hash():
    c = make().check()
    d = c.with_parties({"b": "alice"})
    assert [p.party for p in d.inputs] == ["alice", "alice"]
    assert [p.party for p in c.inputs] == ["alice", "bob"]
    assert d.content_hash != c.content_hash
    assert make().content_hash == c.content_hash
    assert len(c.content_hash) == 64 and int(c.content_hash, 16) >= 0


def test_ports_freeze_their_wires():
    p = InputPort("alice", "a", uint(2), np.array([0, 1]))
    assert p.width == 2 and p.wires.flags.writeable is False
    with pytest.raises(ValueError):
        p.wires[0] = 5


def test_dot_export_of_small_circuits_only():
    from yaogc.circuits.dot import TooLargeError, to_dot
    c = make().check()
    dot = to_dot(c)
    assert dot.startswith('digraph "t" {') and dot.rstrip().endswith("}")
    assert 'w2 [shape=ellipse, label="AND"' in dot and "w0 -> w2;" in dot and "w1 -> w2;" in dot
    assert 'label="z[1]"' in dot and "w2 -> out0_1;" in dot
    assert dot.count("->") == 2 + 2 + 1 + 2      # AND, XOR, NOT operands and two output bits
    with pytest.raises(TooLargeError, match="at most 2 gates"):
        to_dot(c, max_gates=2)


def test_the_check_pass_loaded_aside_is_waited_for_and_used(monkeypatch):
    """A large cached circuit's check pass loads on another thread while the file is read;
    switching the module to compiled waits for that thread, and the check runs compiled."""
    from yaogc.circuits import circuit as C, jit
    if not jit.ENABLED:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(jit, "_loading", {})
    C.load_check_kernel()
    loader = jit._loading[C.__name__]
    assert jit.compiled(C.__name__) and not loader.is_alive()
    assert jit.is_compiled(C._first_bad_operand)
    C.load_check_kernel()       # once per process
    assert jit._loading[C.__name__] is loader
