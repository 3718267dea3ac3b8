"""The plaintext evaluator: packing, both engines against a gate-by-gate reference interpreter,
the level plan's slot reuse, and the named-value API with its errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_passes import random_circuits, reference_eval

from yaogc.circuits import BOOL, ArrayType, Builder, CircuitError, InputError, sint, uint
from yaogc.circuits.evaluate import (LevelPlan, decode_outputs, encode_inputs, evaluate,
                                     evaluate_bits, evaluate_one, evaluate_packed,
                                     evaluate_packed_outputs, level_plan, pack_rows, unpack_rows)


@settings(deadline=None, max_examples=60)
@given(st.integers(0, 200), st.integers(0, 9), st.integers(0, 2**32 - 1))
def test_pack_unpack_round_trip(k, n, seed):
    bits = np.random.default_rng(seed).integers(0, 2, (k, n), dtype=np.uint8)
    packed = pack_rows(bits)
    assert packed.shape == (n, (k + 63) // 64) and packed.dtype == np.uint64
    for r in range(min(k, 70)):
        for j in range(n):
            assert (int(packed[j, r // 64]) >> (r % 64)) & 1 == bits[r, j]
    assert np.array_equal(unpack_rows(packed, k), bits)


@settings(deadline=None, max_examples=80)
@given(random_circuits(max_inputs=6, max_gates=80), st.sampled_from([1, 5, 64, 65, 200]),
       st.integers(0, 2**32 - 1))
def test_engines_agree_with_reference(c, k, seed):
    rows = np.random.default_rng(seed).integers(0, 2, (k, c.n_inputs), dtype=np.uint8)
    want = np.array([reference_eval(c, r) for r in rows.tolist()], dtype=np.uint8)
    packed = pack_rows(rows)
    for engine in ("ints", "gates", "levels", "auto"):
        got = unpack_rows(evaluate_packed_outputs(c, packed, engine), k)
        assert np.array_equal(got, want.reshape(got.shape)), engine
    every = unpack_rows(evaluate_packed(c, packed), k)
    out_wires = np.concatenate([o.wires for o in c.outputs])
    assert np.array_equal(every[:, out_wires], want.reshape(k, -1))
    assert np.array_equal(every[:, :c.n_inputs], rows)


def _deep_circuit(n_bits=24):
    """A ripple of ANDs and XORs whose early wires die early: slot reuse has work to do."""
    b = Builder("deep")
    x = b.input("garbler", "x", uint(n_bits))
    y = b.input("evaluator", "y", uint(n_bits))
    acc, outs = x[0], []
    for j in range(1, n_bits):
        acc = b.xor(b.and_(acc, y[j]), x[j])
        outs.append(acc)
    b.output(("garbler",), "z", uint(len(outs[-4:])), outs[-4:])
    return b.build().check()


def test_slot_reuse_uses_fewer_slots_and_gives_the_same_answer():
    c = _deep_circuit()
    reused, plain = LevelPlan(c, reuse=True), LevelPlan(c, reuse=False)
    assert reused.n_slots < plain.n_slots == c.n_wires + 2
    rows = np.random.default_rng(1).integers(0, 2, (500, c.n_inputs), dtype=np.uint8)
    out = c.outputs[0].wires
    p = pack_rows(rows)
    a = reused.run(p, reused.slot_of[out])
    b = plain.run(p, None)[plain.slot_of[out]]
    assert np.array_equal(a, b)
    assert level_plan(c) is level_plan(c)


def test_chunked_run_matches_single_chunk(monkeypatch):
    import yaogc.circuits.evaluate as ev
    c = _deep_circuit()
    rows = np.random.default_rng(2).integers(0, 2, (64 * 9 + 3, c.n_inputs), dtype=np.uint8)
    whole = evaluate_packed_outputs(c, pack_rows(rows), "levels")
    monkeypatch.setattr(ev, "_CHUNK_BYTES", 8 * 64)   # forces one word per chunk
    assert np.array_equal(evaluate_packed_outputs(c, pack_rows(rows), "levels"), whole)


def adder(width=8):
    b = Builder("add", parties=("alice", "bob"))
    x = b.input("alice", "x", sint(width))
    y = b.input("bob", "y", sint(width))
    carry, s = 0, []
    for j in range(width):
        t = b.xor(x[j], y[j])
        s.append(b.xor(t, carry))
        carry = b.xor(b.and_(b.xor(x[j], carry), b.xor(y[j], carry)), carry)
    b.output(("alice", "bob"), "s", sint(width), s)
    b.output(("bob",), "neg", BOOL, [s[-1]])
    return b.build().check()


def test_named_evaluation():
    c = adder()
    assert evaluate_one(c, x=-3, y=100) == {"s": 97, "neg": False}
    rows = [{"x": a, "y": b} for a in range(-128, 128, 37) for b in (-128, -1, 0, 5, 127)]
    got = evaluate(c, rows)
    for r, g in zip(rows, got):
        s = (r["x"] + r["y"] + 128) % 256 - 128
        assert g == {"s": s, "neg": s < 0}
    bits = encode_inputs(c, rows)
    assert decode_outputs(c, evaluate_bits(c, bits)) == got


def test_named_evaluation_errors():
    c = adder()
    with pytest.raises(CircuitError, match="missing input 'y'"):
        evaluate_one(c, x=1)
    with pytest.raises(CircuitError, match="unknown input 'z'"):
        evaluate_one(c, x=1, y=2, z=3)
    with pytest.raises(InputError, match="input 'x': 128 is out of range for i8"):
        evaluate_one(c, x=128, y=0)
    with pytest.raises(CircuitError, match="shape"):
        evaluate_bits(c, np.zeros((3, 5), dtype=np.uint8))
    with pytest.raises(CircuitError, match="shape"):
        evaluate_packed(c, np.zeros((5, 1), dtype=np.uint64))
    with pytest.raises(CircuitError, match="unknown evaluation engine"):
        evaluate_packed_outputs(c, np.zeros((16, 1), dtype=np.uint64), "gpu")


def test_array_outputs_and_zero_rows():
    b = Builder("arr")
    x = b.input("garbler", "x", ArrayType(uint(2), 3))
    b.output(("garbler",), "rev", ArrayType(uint(2), 3), x[4:6] + x[2:4] + x[0:2])
    c = b.build()
    assert evaluate_one(c, x=[1, 2, 3]) == {"rev": [3, 2, 1]}
    assert evaluate(c, []) == []
    assert evaluate_bits(c, np.zeros((0, 6), dtype=np.uint8)).shape == (0, 6)


def test_column_codecs_match_the_per_value_encoding():
    from yaogc.circuits import FixedType
    b = Builder("codec")
    ports = {"u": uint(64), "i": sint(8), "f": BOOL, "w": uint(100), "a": ArrayType(uint(3), 2),
             "x": FixedType(8, 2)}
    wires = {name: b.input("garbler", name, t) for name, t in ports.items()}
    for name, t in ports.items():
        b.output(("garbler",), name, t, wires[name])
    c = b.build()
    rng = np.random.default_rng(4)
    rows = [{"u": int(rng.integers(0, 2**63)) * 2 + 1, "i": int(rng.integers(-128, 128)),
             "f": bool(k % 2) if k % 3 else k % 2, "w": (1 << 99) + k, "a": [k % 8, 7],
             "x": -1.25} for k in range(50)]
    rows[3]["u"], rows[4]["i"], rows[5]["i"] = np.uint64(5), np.int8(-3), True
    bits = encode_inputs(c, rows)
    for r, row in enumerate(rows):
        expect = np.concatenate([t.encode(row[name]) for name, t in ports.items()])
        assert np.array_equal(bits[r], expect)
    back = evaluate(c, rows)
    for row, got in zip(rows, back):
        assert got == {name: (t.decode(t.encode(v))) for (name, t), v in
                       zip(ports.items(), (row[n] for n in ports))}
    with pytest.raises(InputError, match="input 'u': -1 is out of range for u64"):
        encode_inputs(c, rows[:2] + [dict(rows[2], u=-1)])
    with pytest.raises(InputError, match="input 'f': 2 is not a bool"):
        encode_inputs(c, [dict(rows[0], f=2)])


def _plan_arrays(plan):
    return (plan.n_slots, plan.slot_of.tolist(),
            [(s, e, fn.__name__, a.tolist(), b.tolist()) for s, e, fn, a, b in plan.groups])


def _plain_kernels(monkeypatch):
    """Run the plan's kernels as plain Python (the fallback where numba is missing)."""
    import yaogc.circuits.evalplan as P
    import yaogc.circuits.slotarena as A
    for mod in (P, A):
        for name, v in list(vars(mod).items()):
            if hasattr(v, "py_func"):
                monkeypatch.setattr(mod, name, v.py_func)


@pytest.mark.parametrize("name", ["adder64.txt", "aes_128.txt"])
def test_compiled_plan_equals_the_python_fallback(monkeypatch, bristol_path, name):
    from yaogc.circuits import jit
    from yaogc.circuits.bristol import read_bristol
    c = read_bristol(bristol_path(name))
    if not jit.compiled("yaogc.circuits.evalplan"):
        pytest.skip("numba is not available")
    fast = [_plan_arrays(LevelPlan(c, reuse)) for reuse in (True, False)]
    rows = np.random.default_rng(3).integers(0, 2, (130, c.n_inputs), dtype=np.uint8)
    want = evaluate_packed_outputs(c, pack_rows(rows), "ints")
    compiled_gates = evaluate_packed_outputs(c, pack_rows(rows), "gates")
    _plain_kernels(monkeypatch)
    slow = [_plan_arrays(LevelPlan(c, reuse)) for reuse in (True, False)]
    assert fast == slow
    assert np.array_equal(compiled_gates, want)
    if name == "adder64.txt":     # small enough for the gate loop as plain Python
        assert np.array_equal(evaluate_packed_outputs(c, pack_rows(rows), "gates"), want)


@settings(deadline=None, max_examples=40)
@given(random_circuits(max_inputs=6, max_gates=120), st.integers(0, 2**32 - 1))
def test_plans_of_random_circuits_evaluate_like_the_integer_loop(c, seed):
    """Level plans, with and without slot reuse, evaluate like the integer loop (reuse never
    gives a slot away while a later group still reads it)."""
    rows = np.random.default_rng(seed).integers(0, 2, (70, c.n_inputs), dtype=np.uint8)
    packed = pack_rows(rows)
    want = evaluate_packed_outputs(c, packed, "ints")
    for reuse in (True, False):
        plan = LevelPlan(c, reuse)
        out = np.concatenate([o.wires for o in c.outputs])
        assert np.array_equal(plan.run(packed, plan.slot_of[out]), want)
        assert plan.n_slots <= c.n_inputs + 2 + int(np.count_nonzero(c.op <= 2))


def test_large_circuit_engines_agree(bristol_path):
    """SHA-256 (135k gates): the compiled gate loop, the compiled plan and the integer loop."""
    from yaogc.circuits.bristol import read_bristol
    c = read_bristol(bristol_path("sha256.txt"))
    rows = np.random.default_rng(4).integers(0, 2, (100, c.n_inputs), dtype=np.uint8)
    packed = pack_rows(rows)
    want = evaluate_packed_outputs(c, packed, "ints")
    for engine in ("gates", "levels", "auto"):
        assert np.array_equal(evaluate_packed_outputs(c, packed, engine), want), engine
    every = evaluate_packed(c, packed)
    assert np.array_equal(every[np.concatenate([o.wires for o in c.outputs])], want)


def test_numpy_integers_for_fixed_point_inputs():
    """A fixed-point input given a numpy integer (a row built from an integer array, as
    yaogc.run's dict rows may be) is that number: np.int64(5) raised AttributeError ('no
    attribute to_bytes') and np.uint8(5) OverflowError (the Fraction kept the numpy type, whose
    arithmetic wraps); an array of 32 or more took the same path."""
    import numpy as np
    from yaogc.circuits import InputError
    from yaogc.circuits.evaluate import evaluate_one
    from yaogc.compiler import compile_source
    c = compile_source("party a, b\ndef main(x: fix16_8 @a, y: fix64_32[40] @a) -> "
                       "(r: fix16_8 @b, s: fix64_32 @b):\n    return x, y[39]\n")
    for v in (np.int64(5), np.int32(-5), np.uint8(5), np.uint64(127), np.int16(-128)):
        assert evaluate_one(c, x=v, y=[0] * 40)["r"] == int(v)
    for dt in (np.int64, np.uint8, np.int32):
        assert evaluate_one(c, x=1, y=list(np.arange(40, dtype=dt)))["s"] == 39
    for v in (np.int64(128), np.uint8(200)):
        with pytest.raises(InputError, match="out of range for fix16_8"):
            evaluate_one(c, x=v, y=[0] * 40)


def test_plaintext_takes_the_scalar_forms_a_run_takes():
    # an integral Decimal (a JSON number), a Fraction and 0-d numpy arrays, as yaogc.run
    # takes them: "-5 is not an integer" was the message for Decimal('-5')
    from decimal import Decimal
    from fractions import Fraction
    import numpy as np
    from yaogc.circuits.errors import InputError
    from yaogc.compiler import compile_source, interpret
    src = ("party a, b\ndef main(s: i16 @a, f: fix16_8 @a, t: bool @a, y: i16 @b) -> i16 @b:\n"
           "    return s + y + i16(f) + i16(t)\n")
    c = compile_source(src)
    for s_, f, t in ((Decimal("-5"), np.array(1.5), np.array(True)),
                     (np.array(-5), Decimal("1.5"), True), (Fraction(-10, 2), 1.5, np.True_)):
        row = {"s": s_, "f": f, "t": t, "y": 1}
        assert interpret(src, row) == {"result": -2}
        assert evaluate(c, [row]) == [{"result": -2}]
    for bad in (Decimal("-5.5"), Fraction(1, 2), np.array([1])):
        with pytest.raises(InputError, match="is not an integer"):
            evaluate(c, [{"s": bad, "f": 0, "t": 0, "y": 1}])
