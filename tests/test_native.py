"""Native circuit files: lossless round trips, a content hash that sees every defining change,
and clear errors for corrupt or truncated files."""

import json
import struct

import numpy as np
import pytest

from yaogc.circuits import (BOOL, ArrayType, Builder, Circuit, FixedType, InputPort, OutputPort,
                            TupleType, sint, uint)
from yaogc.circuits.bristol import FormatError, load_circuit
from yaogc.circuits.evaluate import evaluate_bits
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


def test_edited_gate_fails_the_hash_check():
    data = bytearray(native_bytes(typed_circuit()))
    hlen = struct.unpack_from("<I", data, len(MAGIC))[0]
    ops = len(MAGIC) + 4 + hlen
    k = next(i for i in range(ops, len(data)) if data[i] == 0)   # an XOR gate
    data[k] = 1                                                  # now an AND: still well formed
    with pytest.raises(FormatError, match="content hash mismatch"):
        read_native(bytes(data))
