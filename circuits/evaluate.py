"""Plaintext evaluation of a Circuit over a batch of input rows: the reference semantics.

Rows are bit-sliced: bit k of word w of a wire holds that wire's value in row 64*w + k, so
one numpy XOR/AND evaluates a gate for 64 rows per machine word.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .circuit import Circuit, CircuitError, Op


def pack_rows(bits: np.ndarray) -> np.ndarray:
    """(K, n) 0/1 uint8 -> (n, ceil(K/64)) uint64, row k in bit k%64 of word k//64."""
    bits = np.asarray(bits, dtype=np.uint8)
    k, n = bits.shape
    words = (k + 63) // 64
    padded = np.zeros((words * 64, n), dtype=np.uint8)
    padded[:k] = bits
    packed = np.packbits(padded.T.reshape(n, words, 64), axis=2, bitorder="little")
    return np.ascontiguousarray(packed.reshape(n, words * 8)).view(np.uint64).reshape(n, words)


def unpack_rows(words: np.ndarray, k: int) -> np.ndarray:
    """Inverse of :func:`pack_rows`: (n, W) uint64 -> (k, n) uint8."""
    n = words.shape[0]
    raw = np.ascontiguousarray(words).view(np.uint8).reshape(n, -1)
    bits = np.unpackbits(raw, axis=1, bitorder="little")[:, :k]
    return np.ascontiguousarray(bits.T)


def evaluate_packed(circuit: Circuit, packed_inputs: np.ndarray) -> np.ndarray:
    """Evaluate on bit-sliced inputs (n_inputs, W) uint64; returns every wire, (n_wires, W)."""
    n_in = circuit.n_inputs
    if packed_inputs.shape[0] != n_in:
        raise CircuitError(f"expected {n_in} input bits, got {packed_inputs.shape[0]}")
    w = packed_inputs.shape[1]
    val = np.empty((circuit.n_wires, w), dtype=np.uint64)
    val[:n_in] = packed_inputs
    ones = np.full(w, np.uint64(0xFFFFFFFFFFFFFFFF))
    ops = circuit.op.tolist()
    a = circuit.in0.tolist()
    b = circuit.in1.tolist()
    xor, and_, inv = np.bitwise_xor, np.bitwise_and, np.bitwise_not
    for k, o in enumerate(ops):
        dst = val[n_in + k]
        if o == 0:
            xor(val[a[k]], val[b[k]], out=dst)
        elif o == 1:
            and_(val[a[k]], val[b[k]], out=dst)
        elif o == 2:
            inv(val[a[k]], out=dst)
        elif o == 3:
            dst[:] = 0
        else:
            dst[:] = ones
    return val


def evaluate_bits(circuit: Circuit, in_bits: np.ndarray) -> np.ndarray:
    """(K, n_inputs) 0/1 -> (K, total output width) 0/1, outputs concatenated in port order."""
    in_bits = np.asarray(in_bits, dtype=np.uint8)
    if in_bits.ndim == 1:
        in_bits = in_bits[None, :]
    k = in_bits.shape[0]
    val = evaluate_packed(circuit, pack_rows(in_bits))
    out_wires = (np.concatenate([o.wires for o in circuit.outputs])
                 if circuit.outputs else np.zeros(0, dtype=np.int64))
    return unpack_rows(val[out_wires], k)


def encode_inputs(circuit: Circuit, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Named input values per row -> (K, n_inputs) bits; a missing or unknown name is an error."""
    out = np.zeros((len(rows), circuit.n_inputs), dtype=np.uint8)
    names = {p.name for p in circuit.inputs}
    for r, row in enumerate(rows):
        unknown = set(row) - names
        if unknown:
            raise CircuitError(f"unknown input '{sorted(unknown)[0]}' (the circuit has: "
                               f"{', '.join(p.name for p in circuit.inputs)})")
        for p in circuit.inputs:
            if p.name not in row:
                raise CircuitError(f"missing input '{p.name}' ({p.type}, party {p.party})")
            p.type._encode_into(row[p.name], out[r, p.wires[0]:p.wires[0] + p.width], p.name)
    return out


def decode_outputs(circuit: Circuit, out_bits: np.ndarray) -> list[dict[str, Any]]:
    """(K, total output width) bits -> one {output name: value} per row."""
    res = []
    for row in np.atleast_2d(out_bits):
        d, pos = {}, 0
        for o in circuit.outputs:
            d[o.name] = o.type.decode(row[pos:pos + o.width])
            pos += o.width
        res.append(d)
    return res


def evaluate(circuit: Circuit, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Evaluate on K rows of named input values; returns K dicts of named outputs."""
    return decode_outputs(circuit, evaluate_bits(circuit, encode_inputs(circuit, rows)))


def evaluate_one(circuit: Circuit, **values: Any) -> dict[str, Any]:
    return evaluate(circuit, [values])[0]
