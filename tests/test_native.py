"""Native circuit files: lossless round trips, a content hash that sees every defining change,
and clear errors for corrupt or truncated files."""

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits import (BOOL, ArrayType, Builder, Circuit, FixedType, InputPort, IntType,
                            OutputPort, TupleType, sint, uint)
from yaogc.circuits.bristol import FormatError, load_circuit
from yaogc.circuits.evaluate import evaluate, evaluate_bits
from yaogc.circuits.native import (MAGIC, content_hash, native_bytes, read_native, type_from_json,
                                   type_to_json, write_native)


def typed_circuit():
    b = Builder("typed", parties=("hospital", "lab"))
    x = b.input("hospital", "x", ArrayType(uint(3), 2))
    y = b.input("lab", "y", TupleType((sint(4), BOOL)))
    f = b.input("lab", "f", FixedType(8, 3))
    s = [b.xor(x[j], y[j]) for j in range(4)]
    b.output(("hospital", "lab"), "s", sint(4), s)
    b.output(("lab",), "m", ArrayType(BOOL, 3), [b.and_(x[5], y[4]), b.not_(f[7]), 1])
    b.output(("hospital",), "w", FixedType(8, 3), f)
    return b.build().check()


def test_round_trip_keeps_everything(tmp_path):
    c = typed_circuit()
    write_native(c, tmp_path / "t.ycirc")
    d = read_native(tmp_path / "t.ycirc")
    assert d.name == "typed" and d.parties == ("hospital", "lab")
    assert [(p.party, p.name, p.type, p.wires.tolist()) for p in d.inputs] == \
        [(p.party, p.name, p.type, p.wires.tolist()) for p in c.inputs]
    assert [(o.recipients, o.name, o.type, o.wires.tolist()) for o in d.outputs] == \
        [(o.recipients, o.name, o.type, o.wires.tolist()) for o in c.outputs]
    for arr in ("op", "in0", "in1"):
        assert np.array_equal(getattr(d, arr), getattr(c, arr))
    assert d.content_hash == c.content_hash == content_hash(c)
    rows = np.random.default_rng(0).integers(0, 2, (100, c.n_inputs), dtype=np.uint8)
    assert np.array_equal(evaluate_bits(d, rows), evaluate_bits(c, rows))
    assert load_circuit(tmp_path / "t.ycirc").content_hash == c.content_hash
    assert read_native(native_bytes(c)).content_hash == c.content_hash


@pytest.mark.parametrize("t", [BOOL, uint(1), sint(256), uint(4096), FixedType(32, 16),
                               ArrayType(ArrayType(uint(8), 2), 3),
                               TupleType((uint(3), ArrayType(BOOL, 2), FixedType(4, 1)))])
def test_type_json_round_trip(t):
    assert type_from_json(json.loads(json.dumps(type_to_json(t)))) == t


@pytest.mark.parametrize("j", ["u8", {"int": 0, "signed": False}, {"int": 8}, {"int": True, "signed": False},
                               {"array": "bool", "length": 0}, {"tuple": "bool"}, None, 3])
def test_bad_type_json(j):
    with pytest.raises(FormatError):
        type_from_json(j)


def _variant(c, **kw):
    args = dict(n_inputs=c.n_inputs, op=c.op, in0=c.in0, in1=c.in1, inputs=c.inputs,
                outputs=c.outputs, name=c.name, parties=c._declared_parties)
    args.update(kw)
    return Circuit(**args).check()


def test_content_hash_sees_every_defining_change():
    c = typed_circuit()
    h = c.content_hash
    assert _variant(c, name="renamed").content_hash == h  # the display name does not count
    op = c.op.copy()
    k = int(np.flatnonzero(op == 0)[0])
    op[k] = 1
    ins = list(c.inputs)
    ins[0] = InputPort("lab", ins[0].name, ins[0].type, ins[0].wires)
    outs = list(c.outputs)
    outs[0] = OutputPort(("lab",), outs[0].name, outs[0].type, outs[0].wires)
    renamed = list(c.outputs)
    renamed[1] = OutputPort(renamed[1].recipients, "m2", renamed[1].type, renamed[1].wires)
    retyped = list(c.outputs)
    retyped[0] = OutputPort(retyped[0].recipients, "s", uint(4), retyped[0].wires)
    rewired = list(c.outputs)
    rewired[0] = OutputPort(rewired[0].recipients, "s", sint(4), rewired[0].wires[::-1])
    variants = [_variant(c, op=op), _variant(c, inputs=ins), _variant(c, outputs=outs),
                _variant(c, outputs=renamed), _variant(c, outputs=retyped),
                _variant(c, outputs=rewired), _variant(c, parties=("lab", "hospital"))]
    hashes = {v.content_hash for v in variants}
    assert h not in hashes and len(hashes) == len(variants)


def test_hash_is_independent_of_the_file_format(tmp_path):
    from yaogc.circuits.bristol import read_bristol, write_bristol
    c = read_bristol("1 3\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n")
    write_bristol(c, tmp_path / "c.txt")
    write_native(c, tmp_path / "c.ycirc")
    assert read_bristol(tmp_path / "c.txt").content_hash == c.content_hash
    assert read_native(tmp_path / "c.ycirc").content_hash == c.content_hash


def _corrupt_cases(data: bytes):
    hlen = struct.unpack_from("<I", data, len(MAGIC))[0]
    body = len(MAGIC) + 4 + hlen
    header = json.loads(data[len(MAGIC) + 4:body])
    flipped = bytearray(data)
    flipped[body + 2] ^= 1  # an op byte
    wire_flip = bytearray(data)
    wire_flip[-4] ^= 1      # an output wire
    newer = dict(header, format=99)
    head = json.dumps(newer).encode()
    return [
        (b"NOT-A-CIRCUIT" + data, "bad magic"),
        (data[:len(MAGIC) + 2], "truncated before the header length"),
        (data[:body - 5], "truncated header"),
        (data[:-3], "truncated"),
        (data + b"\0", "trailing data"),
        (bytes(flipped), ""),
        (bytes(wire_flip), ""),
        (MAGIC + struct.pack("<I", 5) + b"{oops" + data[body:], "corrupt header"),
        (MAGIC + struct.pack("<I", 2) + b"[]" + data[body:], "not a JSON object"),
        (MAGIC + struct.pack("<I", len(head)) + head + data[body:], "version 99"),
    ]


def test_corrupt_files_are_refused(tmp_path):
    data = native_bytes(typed_circuit())
    for k, (bad, fragment) in enumerate(_corrupt_cases(data)):
        p = tmp_path / f"bad{k}.ycirc"
        p.write_bytes(bad)
        with pytest.raises(FormatError) as e:
            read_native(p)
        assert str(e.value).startswith(f"{p}: "), str(e.value)
        assert fragment in str(e.value)


@pytest.mark.parametrize("aside", [False, True])
def test_edited_gate_fails_the_hash_check(aside, monkeypatch):
    from yaogc.circuits import native
    if aside:       # as a large circuit is read: hashed on another thread while checked
        monkeypatch.setattr(native, "_HASH_ASIDE_FROM", 0)
    assert read_native(native_bytes(typed_circuit())).content_hash == \
        typed_circuit().content_hash
    data = bytearray(native_bytes(typed_circuit()))
    hlen = struct.unpack_from("<I", data, len(MAGIC))[0]
    ops = len(MAGIC) + 4 + hlen
    k = next(i for i in range(ops, len(data)) if data[i] == 0)   # an XOR gate
    data[k] = 1                                                  # now an AND: still well formed
    with pytest.raises(FormatError, match="content hash mismatch"):
        read_native(bytes(data))


def _value_types(max_leaves=6):
    leaves = st.one_of(st.just(BOOL), st.builds(uint, st.integers(1, 70)),
                       st.builds(sint, st.integers(1, 70)),
                       st.integers(2, 40).flatmap(lambda w: st.builds(
                           FixedType, st.just(w), st.integers(0, w - 1))))
    return st.recursive(leaves, lambda inner: st.one_of(
        st.builds(ArrayType, inner, st.integers(1, 3)),
        st.builds(lambda ts: TupleType(tuple(ts)), st.lists(inner, min_size=1, max_size=3))),
        max_leaves=max_leaves)


def _values(t):
    if isinstance(t, ArrayType):
        return st.lists(_values(t.elem), min_size=t.length, max_size=t.length)
    if isinstance(t, TupleType):
        return st.tuples(*(_values(e) for e in t.elems)).map(list)
    if isinstance(t, FixedType):
        rt = t.raw_type
        return st.integers(rt.min, rt.max).map(lambda r: t.from_raw(r))
    if isinstance(t, IntType):
        return st.integers(t.min, t.max)
    return st.booleans()


@settings(deadline=None, max_examples=40)
@given(st.lists(_value_types(), min_size=1, max_size=3), st.data())
def test_every_value_type_survives_a_native_round_trip(types, data):
    # an identity circuit per port (plus one AND so the gate arrays are not empty), written,
    # read back and evaluated: the values come out as they went in, text and JSON alike
    b = Builder("identity", parties=("a", "b"))
    wires = [b.input("ab"[k % 2], f"p{k}", t) for k, t in enumerate(types)]
    for k, (t, w) in enumerate(zip(types, wires)):
        b.output(("a", "b"), f"q{k}", t, w)
    b.output(("b",), "and", BOOL, [b.and_(wires[0][0], wires[-1][-1])])
    c = b.build().check()
    d = read_native(native_bytes(c))
    assert [p.type for p in d.inputs] == types and [o.type for o in d.outputs][:-1] == types
    assert d.content_hash == c.content_hash
    for t in types:
        assert type_from_json(json.loads(json.dumps(type_to_json(t)))) == t
    values = {f"p{k}": data.draw(_values(t)) for k, t in enumerate(types)}
    got = evaluate(d, [values])[0]
    for k, t in enumerate(types):
        assert got[f"q{k}"] == values[f"p{k}"]
        # the JSON output, given back as an --input value, encodes to the same bits
        again = t.parse(json.dumps(t.to_json(got[f"q{k}"])))
        assert np.array_equal(t.encode(again), t.encode(values[f"p{k}"]))


_HASH_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from test_native import typed_circuit
from yaogc.circuits.native import read_native
print(typed_circuit().content_hash, read_native({path!r}).content_hash)
"""


def test_content_hash_is_stable_across_processes(tmp_path):
    c = typed_circuit()
    write_native(c, tmp_path / "t.ycirc")
    script = _HASH_SCRIPT.format(tests=str(Path(__file__).parent), path=str(tmp_path / "t.ycirc"))
    seen = set()
    for seed in ("0", "12345"):   # a different str hash seed must not matter
        r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONHASHSEED=seed), timeout=120)
        assert r.returncode == 0, r.stderr
        seen.update(r.stdout.split())
    assert seen == {c.content_hash}


def _with_header(data: bytes, edit) -> bytes:
    hlen = struct.unpack_from("<I", data, len(MAGIC))[0]
    body = len(MAGIC) + 4 + hlen
    header = json.loads(data[len(MAGIC) + 4:body])
    edit(header)
    head = json.dumps(header).encode()
    return MAGIC + struct.pack("<I", len(head)) + head + data[body:]


@pytest.mark.parametrize("edit, fragment", [
    (lambda h: h["inputs"][0].pop("party"), "bad port: KeyError 'party'"),
    (lambda h: h["outputs"][1].pop("type"), "bad port: KeyError 'type'"),
    (lambda h: h["outputs"][0].update(recipients="lab"), "recipients must be a list"),
    (lambda h: h["inputs"][1].update(name=7), "expected a string"),
    (lambda h: h["inputs"][0].update(width=10 ** 12), "input ports of"),
    (lambda h: h.update(n_inputs=h["n_inputs"] + 1), "input ports of"),
    (lambda h: h["inputs"][0].update(type={"array": "bool", "length": 7}), "type bool[7] has 7"),
    # a type's range is two integers of its width: refused before they are made
    (lambda h: h["inputs"][0].update(type={"int": 2 ** 40, "signed": True}),
     "a width of 1099511627776 bits"),
    (lambda h: h["inputs"][0].update(type={"fix": 2 ** 40, "frac": 3}), "a width of"),
    # read as 8 and as None before: sloppy values are no header yaogc writes
    (lambda h: h["inputs"][0].update(width=h["inputs"][0]["width"] + 0.7), "no whole number"),
    (lambda h: h.update(n_gates=float(h["n_gates"])), "no whole number"),
    (lambda h: h.update(name=None), "'name' is no text"),
])
def test_corrupt_header_fields_are_refused(edit, fragment):
    bad = _with_header(native_bytes(typed_circuit()), edit)
    with pytest.raises(FormatError) as e:
        read_native(bad)
    assert str(e.value).startswith("<native>: ") and fragment in str(e.value)


def test_deeply_nested_type_is_refused():
    j = "bool"
    for _ in range(20000):
        j = {"array": j, "length": 1}
    with pytest.raises(FormatError, match="nested too deeply"):
        type_from_json(j)


def test_deeply_nested_header_json_is_refused():
    head = b"[" * 200000 + b"]" * 200000
    with pytest.raises(FormatError, match="corrupt header"):
        read_native(MAGIC + struct.pack("<I", len(head)) + head)
