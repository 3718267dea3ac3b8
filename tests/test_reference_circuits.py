"""Known-answer tests of the nine reference circuits through the Bristol reader and the plaintext
evaluator, then through the Bristol and native writers and back."""

import hashlib
import struct

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from yaogc.circuits.bristol import read_bristol, write_bristol
from yaogc.circuits.evaluate import evaluate_bits, evaluate_one
from yaogc.circuits.native import read_native, write_native
from yaogc.circuits.types import uint

M64 = (1 << 64) - 1
SHA_IV = bytes.fromhex("6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19")

# name: (AND, XOR, NOT, AND-depth, input widths, output widths), from the reference README
TABLE = {
    "adder64.txt": (63, 313, 0, 63, [64, 64], [64]),
    "sub64.txt": (63, 313, 63, 63, [64, 64], [64]),
    "neg64.txt": (62, 63, 64, 62, [64], [64]),
    "zero_equal.txt": (63, 0, 64, 6, [64], [1]),
    "mult64.txt": (4033, 9642, 0, 63, [64, 64], [64]),
    "mult2_64.txt": (8128, 19904, 0, 127, [64, 64], [64, 64]),
    "divide64.txt": (4664, 24817, 445, 4158, [64, 64], [64]),
    "aes_128.txt": (6400, 28176, 2087, 60, [128, 128], [128]),
    "sha256.txt": (22573, 110644, 1856, 1607, [512, 256], [256]),
}

_cache: dict = {}


def load(bristol_path, name):
    if name not in _cache:
        _cache[name] = read_bristol(bristol_path(name)).check()
    return _cache[name]


def run(circuit, *columns):
    """Evaluate on rows of integer inputs (one list per input port); one list per output."""
    bits = np.concatenate([p.type.encode_many(list(col)) for p, col in zip(circuit.inputs, columns)],
                          axis=1)
    out = evaluate_bits(circuit, bits)
    res, pos = [], 0
    for o in circuit.outputs:
        chunk = out[:, pos:pos + o.width]
        weights = [1 << j for j in range(o.width)]
        res.append([sum(w for w, bit in zip(weights, row) if bit) for row in chunk.tolist()])
        pos += o.width
    return res


def rand64(rng, n):
    edge = [0, 1, 2, M64, M64 - 1, 1 << 63, (1 << 63) - 1]
    return edge + [int(x) for x in rng.integers(0, 2**63, n, dtype=np.uint64) * 2
                   + rng.integers(0, 2, n, dtype=np.uint64)]


def signed(x):
    return x - (1 << 64) if x >> 63 else x


@pytest.mark.parametrize("name", list(TABLE))
def test_stats_as_read(bristol_path, name):
    c = load(bristol_path, name)
    n_and, n_xor, n_not, depth, ins, outs = TABLE[name]
    st = c.stats()
    assert (st["and"], st["xor"], st["not"], st["and_depth"]) == (n_and, n_xor, n_not, depth)
    assert [p["width"] for p in st["inputs"]] == ins
    assert [o["width"] for o in st["outputs"]] == outs
    assert [p.party for p in c.inputs] == ["garbler"] + ["evaluator"] * (len(ins) - 1)
    assert all(set(o.recipients) == {"garbler", "evaluator"} for o in c.outputs)


def test_aes_fips197(bristol_path):
    c = load(bristol_path, "aes_128.txt")
    key = int.from_bytes(bytes(range(16)), "big")
    pt = int("00112233445566778899aabbccddeeff", 16)
    assert evaluate_one(c, in1=key, in2=pt)["out1"] == int("69c4e0d86a7b0430d8cdb78070b4c55a", 16)


def aes_ecb(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


@pytest.mark.parametrize("rows", [1, 3, 200])
def test_aes_random_against_cryptography(bristol_path, rows):
    c = load(bristol_path, "aes_128.txt")
    rng = np.random.default_rng(rows)
    keys = [rng.bytes(16) for _ in range(rows)]
    pts = [rng.bytes(16) for _ in range(rows)]
    (got,) = run(c, [int.from_bytes(k, "big") for k in keys], [int.from_bytes(p, "big") for p in pts])
    assert [g.to_bytes(16, "big") for g in got] == [aes_ecb(k, p) for k, p in zip(keys, pts)]


def sha_pad(msg: bytes) -> bytes:
    padded = msg + b"\x80" + b"\x00" * ((55 - len(msg)) % 64) + struct.pack(">Q", 8 * len(msg))
    assert len(padded) % 64 == 0
    return padded


def sha256_circuit(c, messages):
    """Digests of equal-block-count messages, one compression per block, all rows at once."""
    blocks = [sha_pad(m) for m in messages]
    state = [int.from_bytes(SHA_IV, "big")] * len(messages)
    for i in range(0, len(blocks[0]), 64):
        (state,) = run(c, [int.from_bytes(b[i:i + 64], "big") for b in blocks], state)
    return [s.to_bytes(32, "big") for s in state]


def test_sha256_one_block_abc(bristol_path):
    c = load(bristol_path, "sha256.txt")
    assert sha256_circuit(c, [b"abc"]) == [hashlib.sha256(b"abc").digest()]


def test_sha256_random_one_and_two_blocks(bristol_path):
    c = load(bristol_path, "sha256.txt")
    rng = np.random.default_rng(7)
    one = [rng.bytes(int(n)) for n in rng.integers(0, 56, 5)]
    two = [rng.bytes(int(n)) for n in rng.integers(56, 120, 5)]
    for batch in (one, two):
        assert sha256_circuit(c, batch) == [hashlib.sha256(m).digest() for m in batch]


ARITH = {
    "adder64.txt": (2, lambda a, b: [(a + b) & M64]),
    "sub64.txt": (2, lambda a, b: [(a - b) & M64]),
    "neg64.txt": (1, lambda a: [(-a) & M64]),
    "zero_equal.txt": (1, lambda a: [int(a == 0)]),
    "mult64.txt": (2, lambda a, b: [(a * b) & M64]),
    "mult2_64.txt": (2, lambda a, b: [(a * b) >> 64, (a * b) & M64]),
}


@pytest.mark.parametrize("name", list(ARITH))
def test_arithmetic_against_python(bristol_path, name):
    c = load(bristol_path, name)
    n_args, f = ARITH[name]
    rng = np.random.default_rng(len(name))
    a = rand64(rng, 60)
    b = list(reversed(rand64(rng, 60)))
    args = [a, b][:n_args]
    got = run(c, *args)
    want = [f(*xs) for xs in zip(*args)]
    assert [list(r) for r in zip(*got)] == want


def test_divide64_signed_truncating(bristol_path):
    c = load(bristol_path, "divide64.txt")
    rng = np.random.default_rng(3)
    a = rand64(rng, 60) + [(-7) & M64, 7, (-7) & M64]
    b = list(reversed(rand64(rng, 60))) + [2, (-2) & M64, (-2) & M64]
    rows = [(x, y) for x, y in zip(a, b)
            if y != 0 and not (x == 1 << 63 and y == M64)]   # no division by 0, no overflow
    small = [(int(x) & M64, int(y) & M64)
             for x, y in zip(rng.integers(-1000, 1000, 40), rng.integers(1, 50, 40))]
    rows += small
    (got,) = run(c, [x for x, _ in rows], [y for _, y in rows])
    for (x, y), g in zip(rows, got):
        sx, sy = signed(x), signed(y)
        q = abs(sx) // abs(sy) * (1 if (sx < 0) == (sy < 0) else -1)
        assert g == q & M64, (sx, sy, signed(g))


@pytest.mark.parametrize("name", list(TABLE))
def test_write_and_read_back(bristol_path, tmp_path, name):
    c = load(bristol_path, name)
    rng = np.random.default_rng(11)
    bits = rng.integers(0, 2, (130, c.n_inputs), dtype=np.uint8)
    want = evaluate_bits(c, bits)
    write_bristol(c, tmp_path / "c.txt")
    again = read_bristol(tmp_path / "c.txt").check()
    assert np.array_equal(evaluate_bits(again, bits), want)
    assert (again.count(0), again.count(1), again.count(2)) == (c.count(0), c.count(1), c.count(2))
    write_native(c, tmp_path / "c.ycirc")
    native = read_native(tmp_path / "c.ycirc")
    assert native.content_hash == c.content_hash
    assert np.array_equal(evaluate_bits(native, bits), want)
    assert [(p.name, p.party, p.type) for p in native.inputs] == \
        [(p.name, p.party, uint(p.width)) for p in c.inputs]
