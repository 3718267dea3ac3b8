"""The native garbling engine against the numpy engine: the same AES, hash, tables and labels
on every reference circuit and on random circuits, either engine on either side; the choice
of engine and how to force one."""

import os
import subprocess
import sys

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.bristol import read_bristol
from yaogc.circuits.evaluate import evaluate_bits
from yaogc.circuits.schedule import schedule
from yaogc.gc import Evaluator, GarbleError, Garbler, TweakCounter, garble_and_evaluate, native
from yaogc.gc.aes import FIXED_KEY, PRG, FixedKeyAES
from yaogc.gc import workload
from yaogc.gc.workload import plan_for, schedule_for
from yaogc.circuits.schedule import DEFAULT_EXPAND, cached_schedules

from conftest import reference_dir
from test_gc_circuits import input_rows, random_circuits
from test_schedule import MODES

needs_native = pytest.mark.skipif(not native.available(),
                                  reason=f"native engine: {native.unavailable_reason()}")
ENGINES = ("numpy", "native")
SEED = bytes(range(16))


def run_pair(s_g, s_e, k, bits, g_engine, e_engine, start=7):
    """(outputs, tables as bytes, garbler output zero-labels) of one run with a seeded PRG."""
    g = Garbler(s_g, k, TweakCounter(start), PRG(SEED, testing=True), engine=g_engine)
    e = Evaluator(s_e, k, TweakCounter(start), engine=e_engine)
    assert (g.engine, e.engine) == (g_engine, e_engine)
    e.set_inputs(g.input_labels(bits))
    tables = []
    for b in g.blocks():
        tables.append(b.tobytes())
        e.feed(b)
    out = e.output_colours() ^ g.decoding_bits()
    return out, b"".join(tables), g.output_zero_labels(), e.output_labels()


def test_round_keys_match_fips197():
    # FIPS 197 appendix A.1: the last round key of 2b7e1516 28aed2a6 abf71588 09cf4f3c
    rk = native.round_keys(bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c"))
    assert rk[10].tobytes().hex() == "d014f9a8c9ee2589e13f0cc8b6630ca6"
    assert native.round_keys(FIXED_KEY)[0].tobytes() == FIXED_KEY


@needs_native
def test_aes_and_hash_match_cryptography():
    k = native.kernels()
    rk = native.round_keys()
    x = np.random.default_rng(1).integers(0, 1 << 63, (257, 2), dtype=np.uint64) * 2 + 1
    want = np.frombuffer(Cipher(algorithms.AES(FIXED_KEY), modes.ECB()).encryptor()
                         .update(x.tobytes()), dtype=np.uint64).reshape(-1, 2)
    got = np.empty_like(x)
    k.pi_blocks(rk, x, got)
    assert np.array_equal(got, want)
    tweaks = np.arange(257, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    k.tccr_blocks(rk, x, tweaks, got)
    assert np.array_equal(got, FixedKeyAES().tccr(x, tweaks))


def _reference_names():
    d = reference_dir()
    if d is None:
        return []
    return sorted(p.stem for p in d.glob("*.txt") if not p.stem.startswith("LICENSE"))


@needs_native
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("name", _reference_names() or [pytest.param(
    "none", marks=pytest.mark.skip(reason="reference circuits not found"))])
def test_reference_circuits_both_engines_identical(name, k):
    c = read_bristol(reference_dir() / f"{name}.txt")
    bits = input_rows(c, k, seed=k)
    want = evaluate_bits(c, bits)
    # each engine on its own schedule (the schedules differ, the tables must not)
    scheds = {e: schedule_for(c, k, e) for e in ENGINES}
    results = {}
    for ge in ENGINES:
        for ee in ENGINES:
            out, tables, zero, _ = run_pair(scheds[ge], scheds[ee], k, bits, ge, ee)
            assert np.array_equal(out, want), (ge, ee)
            results[(ge, ee)] = (tables, zero)
    first = results[("numpy", "numpy")]
    for key, (tables, zero) in results.items():
        assert tables == first[0], key
        assert np.array_equal(zero, first[1]), key


@needs_native
@settings(deadline=None, max_examples=30)
@given(random_circuits(), st.sampled_from([1, 2, 5]), st.integers(0, len(MODES) - 1),
       st.integers(0, (1 << 40)))
def test_random_circuits_both_engines_identical(c, k, mode, start):
    bits = input_rows(c, k)
    want = evaluate_bits(c, bits)
    s = schedule(c, **MODES[mode])
    least = schedule(c, bound=1, flat=False)
    ref = run_pair(s, s, k, bits, "numpy", "numpy", start)
    assert np.array_equal(ref[0], want)
    for sg, se, ge, ee in [(s, s, "native", "native"), (least, s, "native", "numpy"),
                           (s, least, "numpy", "native")]:
        got = run_pair(sg, se, k, bits, ge, ee, start)
        assert np.array_equal(got[0], want)
        assert got[1] == ref[1]                                     # tables
        assert np.array_equal(got[2], ref[2])                       # garbler's zero labels
        assert np.array_equal(got[3], ref[3])                       # evaluator's labels


@needs_native
@pytest.mark.parametrize("k", [1, 4])
def test_runs_of_layers(k, bristol_path):
    """block_runs() yields whole layers back to back; feed_run() takes any split of them, in
    either engine, and checks the size."""
    c = read_bristol(bristol_path("sha256.txt"))
    bits = input_rows(c, k)
    s = schedule_for(c, k, "native")
    g = Garbler(s, k, engine="native")
    labels = g.input_labels(bits)
    runs = list(g.block_runs())
    assert sum(n for _, n in runs) == len(s.widths) and len(runs) > 2
    assert runs[0][0].size < runs[-2][0].size     # small first run, then larger
    flat = np.concatenate([r for r, _ in runs])
    assert flat.nbytes == 32 * s.n_and * k
    want = evaluate_bits(c, bits)
    for eng in ENGINES:
        e = Evaluator(schedule_for(c, k, eng), k, engine=eng)
        e.set_inputs(labels)
        with pytest.raises(GarbleError, match="AND layers 1..3 must be"):
            e.feed_run(flat[:10], 3)
        pos, layer, widths = 0, 0, s.widths
        for n in (1, 7, 300, len(widths)):
            n = min(n, len(widths) - layer)
            if n <= 0:
                break
            size = 4 * k * sum(widths[layer:layer + n])
            e.feed_run(flat[pos:pos + size].tobytes(), n)   # bytes work too
            pos, layer = pos + size, layer + n
        assert e.expected_block_bytes() is None
        with pytest.raises(GarbleError, match="beyond the last"):
            e.feed_run(flat[:4], 1)
        assert np.array_equal(e.output_colours() ^ g.decoding_bits(), want)


def test_engine_forced_by_argument_and_environment(monkeypatch):
    from test_garble import mul_circuit
    c = mul_circuit(6)
    s = schedule_for(c, 2)
    monkeypatch.setenv("YAOGC_ENGINE", "numpy")
    assert Garbler(s, 2).engine == "numpy"
    assert plan_for(c, 2)[0] == "numpy"
    monkeypatch.setenv("YAOGC_ENGINE", "bogus")
    with pytest.raises(GarbleError, match="YAOGC_ENGINE must be one of"):
        Garbler(s, 2)
    with pytest.raises(GarbleError, match="engine must be one of"):
        Garbler(s, 2, engine="fast")
    monkeypatch.setenv("YAOGC_ENGINE", "auto")
    assert Garbler(s, 2, engine="numpy").engine == "numpy"
    if native.available():
        monkeypatch.setenv("YAOGC_ENGINE", "native")
        assert Evaluator(s, 2).engine == "native"
        eng, sched = plan_for(c, 2)
        assert eng == "native" and sched is schedule(c, bound=1, flat=False)
        assert Garbler(s, 2, engine="numpy").engine == "numpy"   # the argument wins
        bits = input_rows(c, 2)
        assert np.array_equal(garble_and_evaluate(c, bits, evaluator_engine="numpy"),
                              evaluate_bits(c, bits))


def test_native_refused_where_it_cannot_run(monkeypatch):
    from test_garble import mul_circuit
    monkeypatch.delenv("YAOGC_ENGINE", raising=False)
    monkeypatch.setitem(native._state, "why", "this CPU has no AES-NI")
    s = schedule_for(mul_circuit(4), 1)
    with pytest.raises(GarbleError, match="native garbling engine cannot run here: this CPU"):
        Garbler(s, 1, engine="native")
    monkeypatch.setenv("YAOGC_ENGINE", "native")
    with pytest.raises(GarbleError, match="cannot run here"):
        Evaluator(s, 1)
    monkeypatch.delenv("YAOGC_ENGINE")
    # left to choose, the engine falls back to numpy
    assert Garbler(s, 1).engine == "numpy" and plan_for(mul_circuit(4), 1)[0] == "numpy"


def test_no_jit_means_numpy_engine():
    """With ``YAOGC_NO_JIT`` (as on a machine without numba) the workload never picks the
    native engine, and a run does not import numba for garbling."""
    code = ("import sys; from yaogc.gc import native, Garbler, schedule_for;"
            "from yaogc.circuits import Builder, uint;"
            "b = Builder('t'); x = b.input('a', 'x', uint(2)); "
            "b.output('a', 'y', uint(1), [b.and_(x[0], x[1])]); c = b.build();"
            "g = Garbler(schedule_for(c, 1), 1); list(g.blocks());"
            "print(native.available(), g.engine, 'numba' in sys.modules)")
    env = dict(os.environ, YAOGC_NO_JIT="1")
    env.pop("YAOGC_ENGINE", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "numpy", "False"]


@needs_native
def test_auto_choice_by_workload(bristol_path, monkeypatch):
    """A deep circuit goes native once the kernels are loaded; a tiny one stays on numpy
    while loading them would cost more than the whole run."""
    from test_garble import mul_circuit
    monkeypatch.delenv("YAOGC_ENGINE", raising=False)
    native.kernels()
    assert native.load_seconds() > 0 and native.load_cost() == 0
    c = read_bristol(bristol_path("sha256.txt"))
    eng, s = plan_for(c, 1)
    assert eng == "native" and Garbler(s, 1).engine == "native"
    # the numpy engine's schedule was only laid out to be priced: one schedule built, no
    # layout kept
    assert list(cached_schedules(c)) == [(1, False, 4, DEFAULT_EXPAND)]
    monkeypatch.setattr(native, "load_cost", lambda: native.LOAD_SECONDS)
    small = mul_circuit(4)
    assert plan_for(small, 1)[0] == "numpy"
    assert list(cached_schedules(small)) == [(3, True, 12, DEFAULT_EXPAND)]


@needs_native
def test_the_schedule_laid_out_to_price_it_counts_as_paid(bristol_path, monkeypatch):
    """Choosing an engine lays out the numpy engine's schedule; that work is done whichever
    engine wins. Where building the native engine's schedule whole costs more than the
    native engine would save, the laid-out schedule is finished and run, and no second
    schedule is built; where building costs nothing, the cheaper engine to run wins."""
    monkeypatch.delenv("YAOGC_ENGINE", raising=False)
    native.kernels()
    monkeypatch.setattr(workload, "BUILD_US", 0.0)
    assert plan_for(read_bristol(bristol_path("sha256.txt")), 1)[0] == "native"
    # SHA-256: the native engine is estimated about 0.04 s faster than numpy once loaded;
    # building a 135,073-gate schedule at 1 us a gate costs 0.135 s, finishing 0.054 s
    monkeypatch.setattr(workload, "BUILD_US", 1.0)
    c = read_bristol(bristol_path("sha256.txt"))
    eng, s = plan_for(c, 1)
    assert eng == "numpy" and (s.bound, s.flat) == (3, True)
    assert list(cached_schedules(c)) == [(3, True, 12, DEFAULT_EXPAND)]


@needs_native
def test_a_second_run_keeps_the_first_runs_schedule(bristol_path, monkeypatch, tmp_path):
    """With the disk cache on, a run that finds the native engine's schedule kept by an
    earlier run counts building the numpy engine's as a cost: it does not switch engines
    (and build another schedule) because this process has not loaded the kernels yet."""
    from yaogc.circuits import schedule as S
    from yaogc.circuits import schedstore
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("YAOGC_ENGINE", raising=False)
    monkeypatch.setitem(schedstore._DISK, "on", True)
    native.kernels()
    assert plan_for(read_bristol(bristol_path("sha256.txt")), 1)[0] == "native"
    kept = sorted(tmp_path.glob("*.ysch"))
    assert len(kept) == 1
    # a fresh process: the kernels would cost a second to load, more than numpy is estimated
    # to lose on this circuit, but less than building the numpy engine's schedule
    monkeypatch.setattr(native, "load_cost", lambda: native.LOAD_SECONDS)
    c = read_bristol(bristol_path("sha256.txt"))
    monkeypatch.setattr(workload, "BUILD_US", 2e6 * native.LOAD_SECONDS / c.n_gates)
    assert plan_for(c, 1)[0] == "native"
    assert sorted(tmp_path.glob("*.ysch")) == kept
    # with nothing kept, the same process would choose numpy
    S.use_disk_cache(False)
    assert plan_for(read_bristol(bristol_path("sha256.txt")), 1)[0] == "numpy"


def test_program_walks_a_fresh_schedules_index_arrays_in_place(bristol_path, monkeypatch):
    """A schedule built in this process keeps its step index arrays end to end in one
    array, and the native engine walks that array itself; index arrays lying apart (a
    schedule put together otherwise) are joined into a copy. Either way the program holds
    every step's indices in step order."""
    import dataclasses
    from yaogc.circuits import schedstore
    monkeypatch.setitem(schedstore._DISK, "on", False)
    s = schedule(read_bristol(bristol_path("aes_128.txt")))
    want = np.concatenate([st.idx.reshape(-1) for st in s.steps])
    p = native.Program(s)
    assert np.array_equal(p.idx, want) and np.shares_memory(p.idx, s.steps[0].idx)
    apart = dataclasses.replace(s, steps=[dataclasses.replace(st, idx=st.idx.copy())
                                          for st in s.steps])
    q = native.Program(apart)
    assert np.array_equal(q.idx, want) and not np.shares_memory(q.idx, apart.steps[0].idx)
    assert np.array_equal(q.ioff, p.ioff) and np.array_equal(q.arity, p.arity)


def test_a_small_circuit_does_not_probe_for_the_native_engine():
    # the native engine cannot repay even its cheapest kernel load on a 64-AND circuit: the
    # choice is numpy without importing llvmlite to read the CPU's features (it was most of
    # such a run's schedule time)
    code = ("import sys\n"
            "from yaogc.compiler import compile_source\n"
            "from yaogc.gc.workload import plan_for\n"
            "c = compile_source('party a, b\\ndef main(x: u64 @a, y: u64 @b) -> (r: bool @both):"
            "\\n    return x > y\\n')\n"
            "print(plan_for(c, 1)[0], 'llvmlite.binding' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "numpy False"


@pytest.mark.parametrize("ands, steps, terms", [(64, 3, 200), (30_000, 2_000, 200_000),
                                                (700_000, 40, 5_000_000), (6_000, 6_000, 9_000)])
@pytest.mark.parametrize("batch", [1, 8, 1000])
def test_the_engine_choice_is_the_cost_model_s_with_or_without_the_shortcut(ands, steps, terms,
                                                                            batch):
    st = {"and": ands, "xor_steps": steps, "xor_padded_terms": terms // 2,
          "and_padded_terms": terms // 2}
    numpy_us = native.NUMPY_SCALE * workload._cost_us(st, batch)
    want = native.available() and \
        native.NATIVE_AND_US * ands * batch + 1e6 * native.load_cost() < numpy_us
    assert workload._prefer_native(st, batch) == want
