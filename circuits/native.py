"""The native circuit file and the circuit content hash both parties compare before a run.

File layout (all integers little-endian)::

    MAGIC  b"YAOGC-CIRCUIT\\n"
    u32    header length H
    H      header: UTF-8 JSON {format, name, parties, n_inputs, n_gates, inputs, outputs,
           content_hash}; ports carry party / recipients, name, width and the value type as a
           JSON tree ("bool", {"int": bits, "signed": b}, {"fix": bits, "frac": f},
           {"array": elem, "length": n}, {"tuple": [..]})
    n_gates      u8   op
    n_gates      i32  in0 (-1 when unused)
    n_gates      i32  in1
    sum(widths)  i32  output wires, port by port

The content hash is SHA-256 over a canonical encoding of everything that defines the circuit
(ports with their types, parties and recipients, the party order, the gate arrays and output
wires; not the display name), so it does not depend on the file format a circuit came from.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import threading
from pathlib import Path
from typing import IO, Any

import numpy as np

from . import freemem
from .bristol import FormatError
from .circuit import Circuit, CircuitError, InputPort, OutputPort
from .types import ArrayType, BoolType, FixedType, IntType, TupleType, ValueType

MAGIC = b"YAOGC-CIRCUIT\n"
FORMAT_VERSION = 1
_HASH_DOMAIN = b"yaogc circuit v1\n"
_MAX_HEADER = 1 << 26
# input wires are allocated before anything else is checked (a program's inputs are held to
# it when compiled)
MAX_INPUT_BITS = 1 << 26
# from this many gates, a circuit read is hashed on another thread while it is checked
_HASH_ASIDE_FROM = 1 << 20


def type_to_json(t: ValueType) -> Any:
    if isinstance(t, BoolType):
        return "bool"
    if isinstance(t, IntType):
        return {"int": t.bits, "signed": t.signed}
    if isinstance(t, FixedType):
        return {"fix": t.bits, "frac": t.frac}
    if isinstance(t, ArrayType):
        return {"array": type_to_json(t.elem), "length": t.length}
    if isinstance(t, TupleType):
        return {"tuple": [type_to_json(e) for e in t.elems]}
    raise CircuitError(f"type {t} has no native encoding")


def type_from_json(j: Any) -> ValueType:
    """The value type of a JSON tree written by :func:`type_to_json`; FormatError if malformed."""
    try:
        if j == "bool":
            return BoolType()
        if isinstance(j, dict):
            for k in ("int", "fix"):
                # refused before the type is made: its range is two integers of that many
                # bits (a header claiming 2^40 took gigabytes, then a MemoryError)
                if k in j and _is_int(j[k]) and not 1 <= j[k] <= MAX_INPUT_BITS:
                    raise FormatError(f"bad value type: a width of {j[k]} bits (at most "
                                      f"{MAX_INPUT_BITS})")
            if set(j) == {"int", "signed"} and _is_int(j["int"]) and isinstance(j["signed"], bool):
                return IntType(j["int"], j["signed"])
            if set(j) == {"fix", "frac"} and _is_int(j["fix"]) and _is_int(j["frac"]):
                return FixedType(j["fix"], j["frac"])
            if set(j) == {"array", "length"} and _is_int(j["length"]):
                return ArrayType(type_from_json(j["array"]), j["length"])
            if set(j) == {"tuple"} and isinstance(j["tuple"], list):
                return TupleType(tuple(type_from_json(e) for e in j["tuple"]))
    except FormatError:
        raise
    except RecursionError:
        raise FormatError("bad value type: nested too deeply") from None
    except (ValueError, TypeError) as e:
        raise FormatError(f"bad value type {json.dumps(j)[:80]}: {e}") from None
    raise FormatError(f"bad value type {json.dumps(j)[:80]}")


def _text(v) -> str:
    if not isinstance(v, str):
        raise TypeError(f"expected a string, got {json.dumps(v)[:40]}")
    return v


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _ports_json(circuit: Circuit) -> tuple[list, list]:
    ins = [{"party": p.party, "name": p.name, "width": p.width, "type": type_to_json(p.type)}
           for p in circuit.inputs]
    outs = [{"recipients": list(o.recipients), "name": o.name, "width": o.width,
             "type": type_to_json(o.type)} for o in circuit.outputs]
    return ins, outs


def _out_wires(circuit: Circuit) -> np.ndarray:
    if not circuit.outputs:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([o.wires for o in circuit.outputs])


def content_hash(circuit: Circuit) -> str:
    """Hex SHA-256 of the canonical encoding of the circuit (see the module docstring)."""
    ins, outs = _ports_json(circuit)
    meta = json.dumps({"n_inputs": circuit.n_inputs, "parties": list(circuit.parties),
                       "inputs": ins, "outputs": outs},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    h = hashlib.sha256(_HASH_DOMAIN)
    # the arrays' own memory where it already has the encoding's byte layout (no copies of
    # a large circuit's gate arrays)
    for part in (memoryview(meta), _le(circuit.op, "<u1"), _le(circuit.in0, "<i8"),
                 _le(circuit.in1, "<i8"), _le(_out_wires(circuit), "<i8")):
        h.update(struct.pack("<Q", part.nbytes))
        h.update(part)
    return h.hexdigest()


def _le(a: np.ndarray, dtype: str) -> memoryview:
    """The bytes of ``a`` as the little-endian ``dtype`` (a view when it is already that)."""
    return memoryview(np.ascontiguousarray(a, dtype=np.dtype(dtype))).cast("B")


def native_parts(circuit: Circuit) -> list:
    """The circuit as a native file's contents, in pieces (bytes-like; written one after the
    other they are the file)."""
    if circuit.n_wires >= 2**31 or circuit.n_inputs > MAX_INPUT_BITS:
        raise CircuitError(f"circuit '{circuit.name}' has {circuit.n_wires} wires of which "
                           f"{circuit.n_inputs} inputs; the native format holds fewer than "
                           f"2**31 wires and at most {MAX_INPUT_BITS} input bits")
    ins, outs = _ports_json(circuit)
    header = {"format": FORMAT_VERSION, "name": circuit.name,
              "parties": list(circuit._declared_parties or ()),
              "n_inputs": circuit.n_inputs, "n_gates": circuit.n_gates,
              "inputs": ins, "outputs": outs, "content_hash": content_hash(circuit)}
    head = json.dumps(header, separators=(",", ":")).encode()
    return [MAGIC, struct.pack("<I", len(head)), head, _le(circuit.op, "<u1"),
            _le(circuit.in0, "<i4"), _le(circuit.in1, "<i4"), _le(_out_wires(circuit), "<i4")]


def native_bytes(circuit: Circuit) -> bytes:
    """The circuit as a native file's contents."""
    return b"".join(native_parts(circuit))


def write_native(circuit: Circuit, path_or_file: str | os.PathLike | IO[bytes]) -> None:
    data = native_bytes(circuit)
    if isinstance(path_or_file, (str, os.PathLike)):
        Path(path_or_file).write_bytes(data)
    else:
        path_or_file.write(data)


def read_native(path_or_bytes: str | os.PathLike | bytes) -> Circuit:
    """Read a native circuit file (a path, or the file's bytes); refuses corrupt files."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        where, data = "<native>", bytes(path_or_bytes)
    else:
        where = os.fspath(path_or_bytes)
        try:
            data = Path(where).read_bytes()
        except OSError as e:
            raise FormatError(f"{where}: cannot read: {e.strerror or e}") from None
    try:
        return _parse(data)
    except FormatError as e:
        raise FormatError(f"{where}: {e}") from None
    except CircuitError as e:
        raise FormatError(f"{where}: malformed circuit: {e}") from None


def _parse(data: bytes) -> Circuit:
    if not data.startswith(MAGIC):
        raise FormatError("not a yaogc native circuit (bad magic bytes)")
    pos = len(MAGIC)
    if len(data) < pos + 4:
        raise FormatError("truncated before the header length")
    (hlen,) = struct.unpack_from("<I", data, pos)
    pos += 4
    if hlen > _MAX_HEADER or len(data) < pos + hlen:
        raise FormatError(f"truncated header: expected {hlen} bytes, found {len(data) - pos}")
    try:
        h = json.loads(data[pos:pos + hlen].decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError(f"corrupt header: {e}") from None
    except RecursionError:
        raise FormatError("corrupt header: nested too deeply") from None
    pos += hlen
    if not isinstance(h, dict):
        raise FormatError("corrupt header: not a JSON object")
    if h.get("format") != FORMAT_VERSION:
        raise FormatError(f"format version {h.get('format')!r} is not supported (this is "
                          f"version {FORMAT_VERSION})")
    try:
        counts = [h["n_inputs"], h["n_gates"]] + [p["width"] for p in h["inputs"]] + \
            [o["width"] for o in h["outputs"]]
        if not all(_is_int(v) for v in counts):     # 8.7 was read as 8
            raise ValueError("a count or width that is no whole number")
        if not isinstance(h["name"], str):
            raise TypeError("'name' is no text")
        n_in, n = int(h["n_inputs"]), int(h["n_gates"])
        name = str(h["name"])
        parties = [str(p) for p in h["parties"]]
        ins_j, outs_j, digest = list(h["inputs"]), list(h["outputs"]), str(h["content_hash"])
        widths = [int(p["width"]) for p in ins_j]
        out_widths = [int(o["width"]) for o in outs_j]
    except (KeyError, TypeError, ValueError) as e:
        raise FormatError(f"corrupt header: missing or bad field {e}") from None
    if n_in < 0 or n < 0 or min(widths + out_widths, default=1) < 0:
        raise FormatError("corrupt header: negative count")
    if sum(widths) != n_in or n_in > MAX_INPUT_BITS or n_in + n >= 2**31:
        raise FormatError(f"corrupt header: input ports of {sum(widths)} bits for {n_in} input "
                          f"wires and {n} gates (at most {MAX_INPUT_BITS} input bits and "
                          f"2**31 wires)")
    n_out = sum(out_widths)
    need = n + 4 * (2 * n + n_out)
    if len(data) - pos != need:
        raise FormatError(f"{'truncated' if len(data) - pos < need else 'trailing data'}: the "
                          f"header announces {need} bytes of gate arrays, the file has "
                          f"{len(data) - pos}")
    op = np.frombuffer(data, dtype="<u1", count=n, offset=pos)
    pos += n
    # the widened arrays' pages are faulted in on another core while the first is filled
    # (a cached circuit of 40M gates: 0.7 s of page faults for each array otherwise)
    in0, in1 = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    populating = freemem.populate(in1)
    in0[:] = np.frombuffer(data, dtype="<i4", count=n, offset=pos)
    populating.wait()
    in1[:] = np.frombuffer(data, dtype="<i4", count=n, offset=pos + 4 * n)
    out = np.frombuffer(data, dtype="<i4", count=n_out, offset=pos + 8 * n).astype(np.int64)
    inputs, outputs, w = [], [], 0
    try:
        for p, width in zip(ins_j, widths):
            inputs.append(InputPort(_text(p["party"]), _text(p["name"]),
                                    type_from_json(p["type"]), np.arange(w, w + width)))
            w += width
        w = 0
        for o, width in zip(outs_j, out_widths):
            if not isinstance(o["recipients"], list):
                raise TypeError("recipients must be a list")
            outputs.append(OutputPort(tuple(_text(r) for r in o["recipients"]), _text(o["name"]),
                                      type_from_json(o["type"]), out[w:w + width]))
            w += width
    except (KeyError, TypeError) as e:
        raise FormatError(f"corrupt header: bad port: {type(e).__name__} {e}") from None
    circuit = Circuit.adopt(n_in, op, in0, in1, inputs, outputs, name, parties)
    got: list[str] = []
    hashing = None
    if n >= _HASH_ASIDE_FROM:
        # hashing releases the interpreter lock: the check runs meanwhile, on the other core
        hashing = threading.Thread(target=lambda: got.append(content_hash(circuit)),
                                   name="yaogc-hash", daemon=True)
        hashing.start()
    circuit.check()
    if hashing is not None:
        hashing.join()
    if (got[0] if got else content_hash(circuit)) != digest:
        raise FormatError("content hash mismatch: the file is corrupt or was edited")
    circuit.__dict__["content_hash"] = digest      # verified: the cached property's value
    return circuit
