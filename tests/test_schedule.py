"""The Schedule pass: layers, linear forms, slot allocation, interchangeable bounds.

A plaintext interpreter of Schedules (below) runs every step on bits; it must agree with the
circuit's plaintext evaluator, which checks forms, constants, materialization and that no slot
is reused while a later step still reads it.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yaogc.circuits import ZERO, Builder, Circuit, InputError, InputPort, Op, OutputPort, uint
from yaogc.circuits.bristol import read_bristol
from yaogc.circuits.evaluate import evaluate_bits
from yaogc.circuits.schedule import (DEFAULT_EXPAND, FIRST_INPUT_SLOT, ONE_SLOT, SIZE_KEYS,
                                     ZERO_SLOT, AndStep, XorStep, cached_schedules,
                                     forget_layouts, layout_stats, schedule)
from yaogc.gc import workload

from yaogc.circuits import schedstore
from yaogc.circuits import schedule as schedule_module

from test_gc_circuits import input_rows, random_circuits

MODES = [dict(bound=1, flat=False), dict(bound=2, flat=False), dict(bound=3, flat=True),
         dict(bound=4, flat=True), dict(bound=2, flat=True, cap=2),
         dict(bound=2, flat=True, expand=5)]


def run_plain(s, bits):
    """Evaluate a Schedule on (K, n_in) bits slot by slot."""
    k = bits.shape[0]
    store = np.full((s.n_slots, k), 7, dtype=np.uint8)   # garbage where nothing was written
    store[ZERO_SLOT] = 0
    store[ONE_SLOT] = 1
    store[FIRST_INPUT_SLOT:FIRST_INPUT_SLOT + s.n_inputs] = bits.T
    for st in s.steps:
        if isinstance(st, XorStep):
            store[st.start:st.start + st.count] = np.bitwise_xor.reduce(store[st.idx], axis=0)
        else:
            ops = np.bitwise_xor.reduce(store[st.idx], axis=0)   # (2, n, K)
            store[st.start:st.start + st.count] = ops[0] & ops[1]
    return np.bitwise_xor.reduce(store[s.out_idx], axis=0).T


def adder_circuit(bits=8):
    b = Builder("adder")
    x = b.input("a", "x", uint(bits))
    y = b.input("b", "y", uint(bits))
    carry, out = ZERO, []
    for i in range(bits):
        t = b.xor(x[i], y[i])
        out.append(b.xor(t, carry))
        carry = b.xor(carry, b.and_(b.xor(x[i], carry), b.xor(y[i], carry)))
    b.output("a", "s", uint(bits), out)
    return b.build()


@pytest.mark.parametrize("mode", MODES)
def test_adder_schedule_matches_plaintext(mode):
    c = adder_circuit()
    s = schedule(c, **mode)
    bits = input_rows(c, 50)
    assert np.array_equal(run_plain(s, bits), evaluate_bits(c, bits))
    assert s.widths == [1] * 7       # carry chain: one AND per layer, the last carry is dead
    assert s.n_and == 7


@settings(deadline=None, max_examples=60)
@given(random_circuits())
def test_random_schedules_match_plaintext(c):
    bits = input_rows(c, 20)
    want = evaluate_bits(c, bits)
    wires = None
    for mode in MODES:
        s = schedule(c, **mode)
        assert np.array_equal(run_plain(s, bits), want), mode
        # layers and gate order do not depend on the bound: schedules garble interchangeably
        got = [tuple(st.wires) for st in s.and_steps]
        assert wires is None or got == wires
        wires = got
        assert sum(s.widths) == s.n_and
        assert s.and_steps == [] or [st.offset for st in s.and_steps] == \
            list(np.cumsum([0] + s.widths[:-1]))


@settings(deadline=None, max_examples=30)
@given(random_circuits(max_gates=120))
def test_forms_stay_small_and_outputs_contiguous(c):
    for mode in MODES:
        s = schedule(c, **mode)
        cap = mode.get("cap", 4 * mode["bound"])
        live_ranges = []
        for st in s.steps:
            if isinstance(st, AndStep):
                assert st.idx.shape[0] <= cap + 1      # terms plus the constant slot
            elif not mode["flat"]:
                assert st.idx.shape[0] <= 2 * cap
            elif "expand" in mode:
                assert st.idx.shape[0] <= max(2 * cap, mode["expand"])
            assert st.start >= FIRST_INPUT_SLOT
            live_ranges.append((st.start, st.start + st.count))
        assert s.n_slots <= FIRST_INPUT_SLOT + c.n_inputs + sum(b - a for a, b in live_ranges)


def test_slots_are_reused():
    # a long chain: each AND output is read once, so the store stays small
    b = Builder("chain")
    x = b.input("a", "x", uint(64))
    acc = x[0]
    for i in range(1, 64):
        acc = b.and_(b.xor(acc, x[i]), x[(i * 7) % 64])
    b.output("a", "y", uint(1), [acc])
    c = b.build()
    s = schedule(c)
    assert len(s.and_steps) == 63
    assert s.n_slots < FIRST_INPUT_SLOT + 64 + 8
    bits = input_rows(c, 10)
    assert np.array_equal(run_plain(s, bits), evaluate_bits(c, bits))


def test_constant_operands_are_folded():
    b = Builder("consts")
    x = b.input("a", "x", uint(2))
    b.output("a", "y", uint(2), [x[0], x[1]])
    c0 = b.build()
    # a circuit whose ANDs read constants and equal wires directly (no builder folding)
    ops = [Op.CONST1, Op.AND, Op.AND, Op.CONST0, Op.AND, Op.AND]
    a = [-1, 0, 1, -1, 0, 0]
    bb = [-1, 2, 1, -1, 5, 1]
    c = Circuit(2, [int(o) for o in ops], a, bb, [InputPort("a", "x", uint(2), [0, 1])],
                [OutputPort(("a",), "y", uint(4), [3, 4, 6, 7])]).check()
    s = schedule(c)
    assert s.n_and == 1               # only x0 & x1 is a real AND
    bits = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.uint8)
    assert np.array_equal(run_plain(s, bits), evaluate_bits(c, bits))
    assert schedule(c0).n_and == 0


def test_cached_per_circuit_and_parameters():
    c = adder_circuit()
    assert schedule(c) is schedule(c)
    assert schedule(c, 2) is not schedule(c, 3)
    assert schedule(c, 2, flat=False) is not schedule(c, 2, flat=True)


def test_cache_does_not_keep_circuits_alive():
    import gc
    import weakref
    c = adder_circuit()
    s = schedule(c)
    ref = weakref.ref(c)
    del c
    gc.collect()
    assert ref() is None and s.n_and == 7


@pytest.mark.parametrize("bad", [0, -1, 1.5, "3"])
def test_bad_parameters_are_refused(bad):
    with pytest.raises(InputError, match="bound"):
        schedule(adder_circuit(), bad)
    with pytest.raises(InputError, match="cap"):
        schedule(adder_circuit(), 2, cap=bad)
    with pytest.raises(InputError, match="expansion"):
        schedule(adder_circuit(), 2, expand=bad)


def test_stats():
    c = adder_circuit()
    st = schedule(c, 2).stats()
    assert st["and"] == 7 and st["and_layers"] == 7 and st["widths"] == [1] * 7
    assert st["max_width"] == 1 and st["bound"] == 2


def _one_level_of_definitions(lengths):
    """A circuit whose one AND layer feeds one XOR definition per length (the XOR of that
    many AND outputs), each read by two ANDs of the next layer."""
    n = max(lengths) + len(lengths)
    b = Builder("padded")
    x = b.input("a", "x", uint(n))
    y = b.input("b", "y", uint(n))
    a = [b.and_(x[i], y[i]) for i in range(n)]
    mats = []
    for i, k in enumerate(lengths):
        acc = a[i]
        for w in a[i + 1:i + k]:
            acc = b.xor(acc, w)
        mats.append(acc)
    outs = [b.and_(m, x[i]) for i, m in enumerate(mats)] + \
        [b.and_(m, y[i]) for i, m in enumerate(mats)]
    b.output("a", "r", uint(len(outs)), outs)
    return b.build()


@pytest.mark.parametrize("lengths", [[150] + [5] * 1100,      # 30 times the terms padded
                                     [16] * 100 + [5] * 1100])  # 2.7 times
def test_a_padded_xor_step_is_split_by_definition_length(lengths):
    """One level of over a thousand XOR definitions, a few of them long: padding every
    short one to the long ones would more than double the step's terms, so it is split by
    length (at most twice the terms), and the split schedule computes the same."""
    c = _one_level_of_definitions(lengths)
    s = schedule(c, bound=3, flat=True)
    xor_steps = [st for st in s.steps if isinstance(st, XorStep)]
    assert len(xor_steps) >= 2
    assert sum(st.idx.size for st in xor_steps) <= 2 * sum(lengths)
    bits = input_rows(c, 6)
    assert np.array_equal(run_plain(s, bits), evaluate_bits(c, bits))
    assert layout_stats(Circuit(c.n_inputs, c.op, c.in0, c.in1, c.inputs, c.outputs, c.name,
                                c.parties), bound=3, flat=True) == _counts(c, dict(bound=3))


@pytest.fixture
def no_disk_cache(monkeypatch):
    """Schedules in memory only (a command-line test earlier in the process may have turned
    the disk cache on)."""
    monkeypatch.setitem(schedstore._DISK, "on", False)


def _layouts(c):
    return [k for k in schedule_module._CACHE.get(c, {}) if k[:1] == ("layout",)]


def _counts(c, mode):
    st = schedule(c, **mode).stats()
    return {k: st[k] for k in SIZE_KEYS}


@settings(deadline=None, max_examples=40,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(random_circuits())
def test_layout_counts_are_the_schedules(no_disk_cache, c):
    """What choosing an engine reads from a layout is what the finished schedule has."""
    for mode in MODES:
        fresh = Circuit(c.n_inputs, c.op, c.in0, c.in1, c.inputs, c.outputs, c.name, c.parties)
        assert layout_stats(fresh, **mode) == _counts(c, mode), mode
        # the schedule finishes the kept layout: the same schedule as one built at once
        got, want = schedule(fresh, **mode), schedule(c, **mode)
        assert [st.idx.tolist() for st in got.steps] == [st.idx.tolist() for st in want.steps]
        assert got.out_idx.tolist() == want.out_idx.tolist() and got.n_slots == want.n_slots
        assert not _layouts(fresh)


def test_layouts_are_kept_until_forgotten(no_disk_cache):
    c = adder_circuit()
    layout_stats(c, bound=3, flat=True)
    layout_stats(c, bound=1, flat=False)
    assert len(_layouts(c)) == 2 and cached_schedules(c) == {}
    forget_layouts(c, keep={"bound": 1, "flat": False})
    assert [k[1:3] for k in _layouts(c)] == [(1, False)]


REFERENCE = ["adder64.txt", "sub64.txt", "neg64.txt", "zero_equal.txt", "mult64.txt",
             "mult2_64.txt", "divide64.txt", "aes_128.txt", "sha256.txt"]


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_schedules(bristol_path, name):
    from yaogc.circuits.bristol import read_bristol
    c = read_bristol(bristol_path(name))
    bits = input_rows(c, 4)
    want = evaluate_bits(c, bits)
    for mode in (dict(bound=3, flat=True), dict(bound=1, flat=False)):
        s = schedule(c, **mode)
        assert np.array_equal(run_plain(s, bits), want)
        assert s.n_and == c.count(Op.AND)
        assert len(s.and_steps) == c.and_depth
        assert layout_stats(read_bristol(bristol_path(name)), **mode) == _counts(c, mode)


def _schedule_digest_script() -> str:
    return """
import hashlib, sys
import numpy as np
from yaogc.circuits import jit
from yaogc.circuits.bristol import read_bristol
from yaogc.circuits.schedule import AndStep, schedule
if sys.argv[2] == "compiled":
    assert jit.compiled("yaogc.circuits.schedforms")
c = read_bristol(sys.argv[1])
h = hashlib.sha256()
for params in ({}, {"bound": 1, "flat": False}, {"expand": 16}):
    s = schedule(c, **params)
    for st in s.steps:
        h.update(repr((type(st).__name__, st.start, st.idx.shape)).encode())
        h.update(np.ascontiguousarray(st.idx, dtype=np.int64).tobytes())
        if isinstance(st, AndStep):
            h.update(np.asarray(st.wires, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(s.out_idx, dtype=np.int64).tobytes())
    h.update(repr((s.n_slots, s.n_and)).encode())
print(h.hexdigest())
"""


def test_compiled_schedule_equals_plain_python(bristol_path):
    """The schedule kernels compiled by numba and run as plain Python (the fallback) build
    the very same schedules, every index array included."""
    import os
    import subprocess
    import sys
    path = str(bristol_path("aes_128.txt"))
    out = []
    for mode, env in (("compiled", {}), ("plain", {"YAOGC_NO_JIT": "1"})):
        r = subprocess.run([sys.executable, "-c", _schedule_digest_script(), path, mode],
                           capture_output=True, text=True, env={**os.environ, **env},
                           timeout=600)
        assert r.returncode == 0, r.stderr
        out.append(r.stdout.strip())
    assert out[0] == out[1]


@pytest.mark.parametrize("name,offsets_32", [("aes_128.txt", None), ("sha256.txt", None),
                                              ("sha256.txt", 50_000)])
def test_forms_buffers_that_grow_give_the_same_schedule(no_disk_cache, bristol_path,
                                                         monkeypatch, name, offsets_32):
    """The forms pass stops where a term buffer might not hold the next gate and resumes
    once it has grown: from buffers with room for one gate, it grows hundreds of times and
    the schedules are those built from buffers that never grow. With the largest buffer
    4-byte offsets address lowered, the offsets become 8-byte ones as a buffer passes it,
    and the schedules are still the same."""
    from yaogc.circuits import schedforms as K
    from yaogc.circuits import schedule as S
    c = read_bristol(bristol_path(name))
    want = [S.schedule(c, **p) for p in (workload.FEW_STEPS, workload.LEAST_DATA)]
    grown = []
    real = S._grown

    def tiny(n_in, n_w, cap):
        room = n_in + K.forms_margin(cap, DEFAULT_EXPAND) + 1
        return np.empty(room, dtype=np.int32), np.empty(room, dtype=np.int32)

    def counted(buf, need):
        grown.append(need)
        return real(buf, need)
    monkeypatch.setattr(S, "_forms_buffers", tiny)
    monkeypatch.setattr(S, "_grown", counted)
    if offsets_32:
        monkeypatch.setattr(S, "OFFSET_32", offsets_32)
    c = read_bristol(bristol_path(name))      # a circuit of its own: nothing kept for it
    got = [S.schedule(c, **p) for p in (workload.FEW_STEPS, workload.LEAST_DATA)]
    assert len(grown) > 20
    lay = S._layout(c, *S._params(**workload.FEW_STEPS), {})
    assert lay.fstart.dtype == lay.mat_start.dtype == (np.int64 if offsets_32 else np.int32)
    for a, b in zip(want, got):
        assert _digest(a) == _digest(b)



@pytest.mark.parametrize("name", ["aes_128.txt", "sha256.txt"])
def test_step_store_filled_in_two_halves_is_the_same(no_disk_cache, bristol_path,
                                                      monkeypatch, name):
    """A large step store is filled by two threads, each a range of steps; with the
    threshold lowered so that these circuits take that path, every index array is the one
    the single pass writes, and the halves did run."""
    from yaogc.circuits import jit
    from yaogc.circuits import schedforms as K
    from yaogc.circuits import schedule as S
    if not jit.compiled("yaogc.circuits.schedforms"):
        pytest.skip("numba is not installed (one pass as Python)")
    want = [S.schedule(read_bristol(bristol_path(name)), **p)
            for p in (workload.FEW_STEPS, workload.LEAST_DATA)]
    ranges = []
    real = K.fill_steps

    def fill(*args):
        ranges.append(args[-2:])
        return real(*args)
    monkeypatch.setattr(S, "FILL_IN_TWO_FROM", 1)
    monkeypatch.setattr(K, "fill_steps", fill)
    monkeypatch.setattr(jit, "is_compiled", lambda fn: True)
    got = [S.schedule(read_bristol(bristol_path(name)), **p)
           for p in (workload.FEW_STEPS, workload.LEAST_DATA)]
    assert len(ranges) == 4
    for pair in (ranges[:2], ranges[2:]):     # per schedule, two ranges that tile its steps
        low, high = sorted(pair)
        assert low[0] == 0 < low[1] == high[0] < high[1]
    for a, b in zip(want, got):
        assert _digest(a) == _digest(b)

def _digest(s) -> list:
    """Everything a schedule holds, comparable."""
    out = [(s.n_slots, s.n_and), s.out_idx.tolist()]
    for st in s.steps:
        out.append((type(st).__name__, st.start, st.idx.tolist(),
                    st.wires.tolist() if isinstance(st, AndStep) else None))
    return out


def _free_runs(live, first, top):
    """Maximal runs of free slots in [first, top) given the live ranges."""
    used = sorted(live)
    runs, pos = [], first
    for s, n in used:
        if s > pos:
            runs.append((pos, s - pos))
        pos = max(pos, s + n)
    if top > pos:
        runs.append((pos, top - pos))
    return runs


@settings(deadline=None, max_examples=150)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 9)), max_size=80),
       st.integers(0, 2**32 - 1))
def test_slot_arena_against_a_model(ops, seed):
    """Ranges handed out never overlap a live one, a request grows the store only when no
    free range fits, freed neighbours coalesce (all freed: the store is empty again)."""
    from yaogc.circuits import slotarena as A
    new, free, take = (getattr(f, "py_func", f) for f in (A.arena_new, A.arena_free,
                                                           A.arena_take))
    first, largest = 5, 9
    buf, meta = new(first, first + 9 * len(ops) + 1, largest)
    rng = np.random.default_rng(seed)
    live = []
    for is_take, n in ops:
        if is_take or not live:
            top = int(meta[0])
            fits = any(size >= n for _, size in _free_runs(live, first, top))
            s = int(take(buf, meta, n))
            assert s >= first
            assert all(s + n <= a or a + m <= s for a, m in live)
            assert int(meta[0]) == (top if fits else top + n)
            live.append((s, n))
        else:
            s, m = live.pop(int(rng.integers(len(live))))
            free(buf, meta, s, m)
        top = int(meta[0])
        assert all(a + m <= top for a, m in live)
        assert int(meta[3]) >= top
        if not live:
            assert top == first
    for s, m in live:
        free(buf, meta, s, m)
    assert int(meta[0]) == first


def test_warm_up_schedules_its_circuit_with_the_compiled_kernels():
    """The head start a run's compile gives the schedule (schedule.warm_kernels) schedules a
    circuit of every gate kind with the compiled kernels, and that schedule is right."""
    from yaogc.circuits import jit, schedforms
    s = schedule_module._warm_up()
    if not jit.ENABLED:
        assert s is None
        return
    assert jit.is_compiled(schedforms.forms)
    tiny = Circuit(4, [Op.XOR, Op.AND, Op.NOT, Op.XOR, Op.AND], [0, 2, 5, 6, 7],
                   [1, 4, 0, 3, 5], [], [OutputPort(("p",), "o", uint(1), np.array([8]))])
    bits = np.array([[a >> i & 1 for i in range(4)] for a in range(16)], dtype=np.uint8)
    assert np.array_equal(run_plain(s, bits), evaluate_bits(tiny, bits))


def test_compile_for_a_run_starts_loading_the_schedule_kernels(monkeypatch):
    """compile_source(schedule_next=True) of a large program starts the loading while the
    lowering's passes run; a small program, or a compile not followed by a schedule, not."""
    from yaogc.circuits import jit
    from yaogc.compiler import compile_source
    started = []
    monkeypatch.setattr(schedule_module, "_warming", None)
    monkeypatch.setattr(schedule_module, "_warm", lambda: started.append(1))
    text = ("party a, b\nconst N = 1\n"
            "def main(x: u16[N] @a, t: u16 @b) -> (c: u16 @both):\n"
            "    c: u16 = 0\n    for i in range(N):\n        if x[i] > t:\n"
            "            c += 1\n    return c\n")
    compile_source(text, "count.yao", {"N": "3000"})
    compile_source(text, "count.yao", {"N": "3"}, schedule_next=True)
    assert started == []
    c = compile_source(text, "count.yao", {"N": "3000"}, schedule_next=True)
    assert 5 * c.n_gates >= jit.SMALL
    assert started == ([1] if jit.ENABLED else [])


def test_a_circuit_hashing_on_another_thread_is_laid_out_meanwhile(monkeypatch, tmp_path):
    """A circuit just compiled has its content hash computed on another thread, and the
    name of its schedule's cache entry needs that hash: the layout runs first (the hash is
    held back here until it has), and the schedule is the one built without the overlap.
    Compiled again, with that schedule now on disk, the layout made meanwhile is dropped
    and the schedule is read from the disk."""
    import threading

    from yaogc.circuits import native
    from yaogc.compiler import compile_source
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(schedstore._DISK, "on", True)
    src = ("party a, b\ndef main(x: u16[8] @a, y: u16 @b) -> u16 @both:\n"
           "    n: u16 = 0\n    for i in range(8):\n        if x[i] > y:\n"
           "            n += x[i] ^ y\n    return n\n")
    real_hash, real_layout, real_load = native.content_hash, schedule_module._layout, \
        schedstore.load
    order, loaded = [], []
    release = threading.Event()

    def held_hash(c):
        release.wait(10)       # a schedule that waited for the hash first: fails below
        order.append("hash")
        return real_hash(c)

    def layout(*args):
        order.append("layout")
        try:
            return real_layout(*args)
        finally:
            release.set()

    def load(name):
        got = real_load(name)
        loaded.append(got is not None)
        return got
    monkeypatch.setattr(native, "content_hash", held_hash)
    monkeypatch.setattr(schedule_module, "_layout", layout)
    monkeypatch.setattr(schedstore, "load", load)

    c = compile_source(src)
    c.hash_in_background()
    assert c.hash_pending
    s = schedule(c)
    assert order == ["layout", "hash"] and loaded == [False]
    assert not c.hash_pending
    plain = Circuit(c.n_inputs, c.op, c.in0, c.in1, c.inputs, c.outputs, name=c.name)
    monkeypatch.setitem(schedstore._DISK, "on", False)
    assert _digest(schedule(plain)) == _digest(s)

    monkeypatch.setitem(schedstore._DISK, "on", True)
    order.clear()
    release.clear()
    again = compile_source(src)
    again.hash_in_background()
    got = schedule(again)
    assert order == ["layout", "hash"] and loaded == [False, True]
    assert _digest(got) == _digest(s)
    assert not _layouts(again)
