"""Half-gates garbling and evaluation against the plaintext evaluator, streaming, tweaks and
the statistical properties of labels."""

import numpy as np
import pytest
from hypothesis import given, settings

from yaogc.circuits import Builder, uint
from yaogc.circuits.evaluate import evaluate_bits
from yaogc.circuits.schedule import schedule
from yaogc.gc import (Evaluator, GarbleError, Garbler, TweakCounter, garble_and_evaluate,
                      schedule_for)
from yaogc.gc import engine

from test_gc_circuits import input_rows, random_circuits
from test_schedule import MODES, adder_circuit

# chi-square critical value, 1 degree of freedom, false-positive rate 1e-6:
# (Phi^-1(1 - 0.5e-6))^2 = 4.891638^2
CHI2_1DF_1E6 = 23.928


def mul_circuit(bits=8):
    b = Builder("mul")
    x = b.input("a", "x", uint(bits))
    y = b.input("b", "y", uint(bits))
    acc = [0] * bits
    for i in range(bits):
        carry = 0
        for j in range(bits - i):
            p = b.and_(x[j], y[i])
            s = b.xor(b.xor(acc[i + j], p), carry)
            carry = b.or_(b.and_(acc[i + j], p), b.and_(carry, b.xor(acc[i + j], p)))
            acc[i + j] = s
    b.output("a", "p", uint(bits), acc)
    b.output("b", "lsb_and", uint(1), [b.and_(x[0], y[0])])
    return b.build()


@pytest.mark.parametrize("k", [1, 5])
@pytest.mark.parametrize("make", [adder_circuit, mul_circuit])
def test_builder_circuits(make, k):
    c = make()
    bits = input_rows(c, k, seed=k)
    assert np.array_equal(garble_and_evaluate(c, bits), evaluate_bits(c, bits))


@settings(deadline=None, max_examples=40)
@given(random_circuits())
def test_random_circuits_every_mode(c):
    bits = input_rows(c, 3)
    want = evaluate_bits(c, bits)
    for mode in MODES[::2]:
        s = schedule(c, **mode)
        assert np.array_equal(garble_and_evaluate(c, bits, garbler_schedule=s,
                                                  evaluator_schedule=s), want)


@settings(deadline=None, max_examples=25)
@given(random_circuits(max_gates=80))
def test_garbler_and_evaluator_may_use_different_schedules(c):
    bits = input_rows(c, 2)
    got = garble_and_evaluate(c, bits, garbler_schedule=schedule(c, 3, flat=True),
                              evaluator_schedule=schedule(c, 1, flat=False))
    assert np.array_equal(got, evaluate_bits(c, bits))


def wide_circuit(n=20000, inputs=256):
    """One AND layer of n distinct gates x_i & (x_j ^ x_l), their XOR and a few of them."""
    b = Builder("wide")
    x = b.input("a", "x", uint(inputs))
    pairs = [(i, j) for i in range(inputs) for j in range(i + 1, inputs)][:n]
    outs = [b.and_(x[i], b.xor(x[j], x[(i + j) % inputs]) if (i + j) % inputs != j else x[j])
            for i, j in pairs]
    acc = outs[0]
    for w in outs[1:]:
        acc = b.xor(acc, w)
    b.output("a", "y", uint(1), [acc])
    b.output("b", "z", uint(8), outs[-8:])
    return b.build()


def test_layers_wider_than_a_chunk(monkeypatch):
    # chunks of a few gates; whole-run and per-chunk tweaks; many instances
    monkeypatch.setattr(engine, "CHUNK_LABELS", 64)
    c = mul_circuit(6)
    bits = input_rows(c, 40)
    want = evaluate_bits(c, bits)
    assert np.array_equal(garble_and_evaluate(c, bits), want)
    monkeypatch.setattr(engine, "WHOLE_RUN_TWEAKS", 0)
    assert np.array_equal(garble_and_evaluate(c, bits), want)


def test_tweak_paths_agree(monkeypatch):
    # the garbler hashes with whole-run tweak rows, the evaluator per chunk: same tweaks
    c = mul_circuit(6)
    bits = input_rows(c, 3)
    s = schedule_for(c, 3, "numpy")
    g = Garbler(s, 3, engine="numpy")
    monkeypatch.setattr(engine, "WHOLE_RUN_TWEAKS", 0)
    e = Evaluator(s, 3, engine="numpy")
    assert g.tweaks is not None and e.tweaks is None
    e.set_inputs(g.input_labels(bits))
    assert np.array_equal(e.run(g.blocks()) ^ g.decoding_bits(), evaluate_bits(c, bits))


def test_wide_layer_single_instance():
    c = wide_circuit()
    bits = input_rows(c, 1)
    assert max(schedule_for(c, 1).widths) > engine.CHUNK_LABELS
    assert np.array_equal(garble_and_evaluate(c, bits), evaluate_bits(c, bits))


def test_garbler_and_evaluator_in_two_threads():
    # each thread garbles or evaluates with its own scratch buffers while the other runs
    import queue
    import threading
    c = mul_circuit(8)
    k = 3
    bits = input_rows(c, k)
    s = schedule_for(c, k)
    g = Garbler(s, k)
    e = Evaluator(s, k)
    e.set_inputs(g.input_labels(bits))
    q: queue.Queue = queue.Queue()
    producer = threading.Thread(target=lambda: [q.put(b) for b in g.blocks()] + [q.put(None)])
    producer.start()
    while (block := q.get()) is not None:
        e.feed(block)
    producer.join()
    assert np.array_equal(e.output_colours() ^ g.decoding_bits(), evaluate_bits(c, bits))


def test_tweaks_unique_across_layers_instances_and_circuits(monkeypatch):
    seen = []

    def record(self, v, src, st, a):
        r, m, k = self.role_rows, v.m, self.batch
        first = (st.offset + a) * k
        if self.tweaks is not None:
            t = self.tweaks[r * first:r * (first + m), 0]
        else:
            t = v.tmpl[r].reshape(-1) + np.uint64(2 * (self.tweak_start + first))
        if r == 4:
            seen.append(np.asarray(t).reshape(4, m).copy())
        return hash_chunk(self, v, src, st, a)

    hash_chunk = engine.Engine.hash_chunk
    monkeypatch.setattr(engine.Engine, "hash_chunk", record)
    counter = TweakCounter(5)
    runs = [(mul_circuit(5), 3), (adder_circuit(6), 2), (mul_circuit(5), 1)]
    total = 0
    for c, k in runs:
        bits = input_rows(c, k)
        assert np.array_equal(garble_and_evaluate(c, bits, counter=counter, engine="numpy"),
                              evaluate_bits(c, bits))
        total += schedule_for(c, k).n_and * k
    monkeypatch.setattr(engine, "WHOLE_RUN_TWEAKS", 0)
    c, k = mul_circuit(4), 2
    garble_and_evaluate(c, input_rows(c, k), counter=counter, engine="numpy")
    total += schedule_for(c, k).n_and * k
    assert counter.value == 5 + total
    rows = np.concatenate(seen, axis=1)          # (4, gates): A0, B0, A1, B1 tweaks
    assert np.array_equal(rows[0], rows[2]) and np.array_equal(rows[1], rows[3])
    assert np.array_equal(rows[1], rows[0] + 1) and not (rows[0] & 1).any()
    j = rows[0] // 2
    assert np.unique(j).size == j.size == total   # one j per AND gate per instance, never reused
    assert j.min() == 5 and j.max() == 5 + total - 1


def test_counter_limits():
    with pytest.raises(GarbleError):
        TweakCounter(-1)
    t = TweakCounter((1 << 62) - 3)
    with pytest.raises(GarbleError, match="exhausted"):
        t.take(4)


@pytest.mark.parametrize("k", [1, 3])
def test_output_labels_are_the_true_ones(k):
    c = mul_circuit(5)
    bits = input_rows(c, k, seed=7)
    want = evaluate_bits(c, bits)
    s = schedule_for(c, k)
    g, e = Garbler(s, k), Evaluator(s, k)
    e.set_inputs(g.input_labels(bits))
    e.run(g.blocks())
    zero = g.output_zero_labels()
    r = g.R
    true = zero ^ (want[..., None].astype(np.uint64) * r)
    false = zero ^ ((1 - want[..., None]).astype(np.uint64) * r)
    got = e.output_labels()
    assert np.array_equal(got, true)
    assert not (got == false).all(axis=2).any()
    assert np.array_equal(e.output_colours() ^ g.decoding_bits(), want)


def test_r_and_labels():
    c = adder_circuit()
    g = Garbler(schedule(c), 4)
    assert g.R[0] & 1 == 1
    z = g.input_zero_labels
    assert z.shape == (4, c.n_inputs, 2) and z.dtype == np.uint64
    assert np.unique(z.reshape(-1, 2), axis=0).shape[0] == z.shape[0] * z.shape[1]
    ones = g.input_labels(np.ones((4, c.n_inputs), dtype=np.uint8))
    assert np.array_equal(ones ^ z, np.broadcast_to(g.R, z.shape))


def test_input_colour_bits_uniform_and_independent_of_inputs():
    """The active input label's colour bit reveals nothing: over many garblings it is uniform
    and independent of the bit it encodes (chi-square tests at a 1e-6 false-positive rate)."""
    c = adder_circuit(4)
    rng = np.random.default_rng(1)
    counts = np.zeros((c.n_inputs, 2, 2))   # wire, input bit, colour bit
    n = 0
    for _ in range(40):
        bits = rng.integers(0, 2, (100, c.n_inputs), dtype=np.uint8)
        g = Garbler(schedule(c), 100)
        colour = (g.input_labels(bits)[:, :, 0] & np.uint64(1)).astype(np.uint8)
        for b in (0, 1):
            for col in (0, 1):
                counts[:, b, col] += ((bits == b) & (colour == col)).sum(axis=0)
        n += 100
    for w in range(c.n_inputs):
        t = counts[w]
        ones = t[:, 1].sum()
        z2 = (ones - n / 2) ** 2 / (n / 4)       # uniformity: chi-square, 1 df
        assert z2 < CHI2_1DF_1E6, (w, t)
        expect = np.outer(t.sum(axis=1), t.sum(axis=0)) / n   # independence: 2x2 table
        chi2 = ((t - expect) ** 2 / expect).sum()
        assert chi2 < CHI2_1DF_1E6, (w, t)


def test_colour_test_detects_dependence():
    # the statistic used above rejects colour bits that equal the input bits
    rng = np.random.default_rng(2)
    bits = rng.integers(0, 2, 4000)
    leaked = bits.copy()
    t = np.array([[np.sum((bits == b) & (leaked == col)) for col in (0, 1)] for b in (0, 1)])
    expect = np.outer(t.sum(axis=1), t.sum(axis=0)) / 4000
    assert ((t - expect) ** 2 / expect).sum() > CHI2_1DF_1E6


def test_streaming_blocks_and_bytes():
    c = mul_circuit(5)
    k = 3
    bits = input_rows(c, k)
    s = schedule_for(c, k)
    g, e = Garbler(s, k), Evaluator(s, k)
    e.set_inputs(g.input_labels(bits))
    sizes = []
    for blk, width in zip(g.blocks(), s.widths):
        assert blk.shape == (2, width, k, 2) and blk.dtype == np.uint64
        assert e.expected_block_bytes() == 32 * width * k
        sizes.append(blk.nbytes)
        # as the runtime hands them over: a uint8 slice at an odd offset, viewed as uint64
        raw = np.zeros(blk.nbytes + 3, dtype=np.uint8)
        raw[3:] = np.frombuffer(blk.tobytes(), dtype=np.uint8)
        e.feed(raw[3:].view(np.uint64) if len(sizes) % 2 else blk.tobytes())
    assert e.expected_block_bytes() is None
    assert sum(sizes) == 32 * s.n_and * k
    assert np.array_equal(e.output_colours() ^ g.decoding_bits(), evaluate_bits(c, bits))


def test_misuse_is_reported():
    c = mul_circuit(4)
    s = schedule_for(c, 2)
    g, e = Garbler(s, 2), Evaluator(s, 2)
    with pytest.raises(GarbleError, match="set_inputs"):
        e.feed(np.zeros(4, dtype=np.uint64))
    with pytest.raises(GarbleError, match="shape"):
        e.set_inputs(np.zeros((1, c.n_inputs, 2), dtype=np.uint64))
    e.set_inputs(g.input_labels(input_rows(c, 2)))
    with pytest.raises(GarbleError, match="outputs requested"):
        e.output_colours()
    blocks = g.blocks()
    first = next(blocks)
    with pytest.raises(GarbleError, match="AND layer 1"):
        e.feed(first[:, :-1])
    with pytest.raises(GarbleError, match="AND layer 1"):
        e.feed(np.zeros(3, dtype=np.uint8))
    with pytest.raises(GarbleError, match="bytes"):
        e.feed(first.tobytes()[:-1])
    e.feed(first)
    for b in blocks:
        e.feed(b)
    with pytest.raises(GarbleError, match="beyond the last"):
        e.feed(first)
    with pytest.raises(GarbleError, match="once"):
        next(g.blocks())
    with pytest.raises(GarbleError, match="blocks"):
        Garbler(s, 2).decoding_bits()
    with pytest.raises(GarbleError, match="batch"):
        Garbler(s, 0)
    with pytest.raises(GarbleError, match="Schedule"):
        Evaluator(c, 1)
    with pytest.raises(GarbleError, match="shape"):
        garble_and_evaluate(c, np.zeros((2, 3)))


REFERENCE = ["adder64.txt", "sub64.txt", "neg64.txt", "zero_equal.txt", "mult64.txt",
             "mult2_64.txt", "divide64.txt", "aes_128.txt", "sha256.txt"]


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_circuits(bristol_path, name):
    from yaogc.circuits.bristol import read_bristol
    c = read_bristol(bristol_path(name))
    for k in (1, 20):
        bits = input_rows(c, k, seed=k)
        assert np.array_equal(garble_and_evaluate(c, bits), evaluate_bits(c, bits)), k


def test_aes_known_answer(bristol_path):
    from yaogc.circuits.bristol import read_bristol
    c = read_bristol(bristol_path("aes_128.txt"))
    key = int.from_bytes(bytes.fromhex("000102030405060708090a0b0c0d0e0f"), "big")
    pt = int.from_bytes(bytes.fromhex("00112233445566778899aabbccddeeff"), "big")
    bits = np.array([[(key >> j) & 1 for j in range(128)] + [(pt >> j) & 1 for j in range(128)]],
                    dtype=np.uint8)
    out = garble_and_evaluate(c, bits)[0]
    ct = sum(int(b) << j for j, b in enumerate(out)).to_bytes(16, "big")
    assert ct.hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


def test_tables_are_the_documented_half_gates_with_tccr():
    """Recompute a layer's tables from the labels with FixedKeyAES.tccr (H(x, i) =
    pi(pi(x) ^ i) ^ pi(x)): gate j of the run hashes A under 2j and B under 2j+1."""
    from yaogc.gc.aes import FixedKeyAES
    b = Builder("two_ands")
    x = b.input("a", "x", uint(4))
    b.output("a", "y", uint(2), [b.and_(x[0], x[1]), b.and_(b.xor(x[2], x[0]), b.not_(x[3]))])
    c = b.build()
    k = 3
    s = schedule(c)
    g = Garbler(s, k, TweakCounter(40))
    (block,) = list(g.blocks())
    z, r = g.input_zero_labels, g.R
    aes = FixedKeyAES()
    ops = [(z[:, 0], z[:, 1]), (z[:, 2] ^ z[:, 0], z[:, 3] ^ r)]   # NOT flips the zero-label
    for gate, (a0, b0) in enumerate(ops):
        j = 40 + gate * k + np.arange(k, dtype=np.uint64)      # gate-major, then instance
        h = lambda lab, t: aes.tccr(np.ascontiguousarray(lab), t)
        pb = (b0[:, 0] & np.uint64(1))[:, None]
        tg = h(a0, 2 * j) ^ h(a0 ^ r, 2 * j) ^ (pb * r)
        te = h(b0, 2 * j + 1) ^ h(b0 ^ r, 2 * j + 1) ^ a0
        assert np.array_equal(block[0, gate], tg)
        assert np.array_equal(block[1, gate], te)
    assert g.tweak_start == 40 and g.tweak_end == 40 + 2 * k


def test_schedule_choice_by_batch_size():
    # the numpy engine's schedules (the native engine always walks the least-data one)
    c = mul_circuit(8)
    assert schedule_for(c, 1, "numpy").flat and not schedule_for(c, 5000, "numpy").flat
    picks = [schedule_for(c, k, "numpy").flat for k in (1, 2, 4, 8, 16, 64, 256, 1024)]
    assert picks == sorted(picks, reverse=True)      # few steps first, least data later
    assert schedule_for(c, 3) is schedule_for(c, 3)


def test_streaming_never_holds_all_tables(bristol_path):
    """Garbling SHA-256 for 100 instances streams 72 MB of tables; the engine's own memory
    (label store, scratch buffers, chunk plans, one layer's block) stays well below that."""
    import tracemalloc
    from yaogc.circuits.bristol import read_bristol
    c = read_bristol(bristol_path("sha256.txt"))
    k = 100
    s = schedule_for(c, k)
    total = 32 * s.n_and * k
    tracemalloc.start()
    try:
        g = Garbler(s, k)
        seen = sum(b.nbytes for b in g.blocks())
        g.decoding_bits()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == total
    assert peak < total / 2, (peak, total)
