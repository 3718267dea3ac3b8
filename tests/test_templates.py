"""Gate templates, the compiled rehash and the compiled bit heap give the circuits that
emitting every gate through one Builder gives: same gate counts, same semantics (checked
by the plaintext evaluator on random inputs), on random patterns of constants, repeated
wires and negations; and the plain-Python fallback of the kernels gives the same arrays."""

import os
import subprocess
import sys

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits import Builder, Op, jit, uint
from yaogc.circuits import words as W
from yaogc.circuits.evaluate import evaluate
from yaogc.circuits.heapkernel import heap_gates
from yaogc.circuits.passes import simplify
from yaogc.circuits.rehash import Rehasher, _close_gaps, _rehash, keep_wires, new_table, rehash
from yaogc.circuits.templates import GateBuffer, TooLarge, make_template

OPS = {
    "add": lambda b, x, y: W.add(b, x, y),
    "lt": lambda b, x, y: [W.lt(b, x, y)],
    "mul": lambda b, x, y: W.mul(b, x, y),
    "eq": lambda b, x, y: [W.eq(b, x, y)],
    "min": lambda b, x, y: W.min_(b, x, y),
}


def _pattern_bits(draw, b_like, pool, width):
    """A word from a pool of wires: constants, repeats and negations included."""
    out = []
    for _ in range(width):
        kind = draw(st.sampled_from(["wire", "wire", "wire", "const", "not"]))
        if kind == "const":
            out.append(draw(st.sampled_from([0, 1])))
        else:
            w = draw(st.sampled_from(pool))
            out.append(b_like.not_(w) if kind == "not" else w)
    return out


@settings(max_examples=60, deadline=None)
@given(st.data(), st.sampled_from(sorted(OPS)), st.integers(1, 6), st.integers(1, 5))
def test_apply_matches_one_builder(data, opname, width, rows):
    """M rows of an operation through GateBuffer.apply == the same rows through a Builder."""
    fn2 = OPS[opname]
    ref = Builder("ref")
    buf = GateBuffer("tpl")
    xr = ref.input("p", "x", uint(6))
    xb = buf.input("p", "x", uint(6))
    pool = list(range(len(xr)))            # positions in the input word
    pos_rows = []
    for _ in range(rows):
        pat = []
        for _ in range(2 * width):
            kind = data.draw(st.sampled_from(["wire", "wire", "const", "not"]))
            v = data.draw(st.sampled_from(pool)) if kind != "const" else data.draw(st.sampled_from([0, 1]))
            pat.append((kind, v))
        pos_rows.append(pat)

    def realize(b, xs, pat):
        out = []
        for kind, v in pat:
            if kind == "const":
                out.append(v)
            elif kind == "not":
                out.append(b.not_(int(xs[v])))
            else:
                out.append(int(xs[v]))
        return out

    ref_out = []
    for pat in pos_rows:
        bits = realize(ref, xr, pat)
        ref_out.extend(fn2(ref, bits[:width], bits[width:]))
    # the buffer's NOT wires must exist as gates: stamp them with a NOT template per row
    X = []
    for pat in pos_rows:
        row = []
        for kind, v in pat:
            if kind == "const":
                row.append(v)
            elif kind == "not":
                row.append(int(buf.apply(("not",), lambda b, bits: [b.not_(bits[0])],
                                         np.array([[xb[v]]]))[0, 0]))
            else:
                row.append(int(xb[v]))
        X.append(row)
    out = buf.apply((opname, width), lambda b, bits: fn2(b, bits[:width], bits[width:]),
                    np.array(X, dtype=np.int64))
    n_out = out.shape[1]
    ref.output("p", "y", uint(len(ref_out)), ref_out)
    buf.output("p", "y", uint(out.size), out.reshape(-1))
    c_ref = simplify(ref.build())
    c_buf = buf.build()
    assert c_buf.count(Op.AND) <= c_ref.count(Op.AND)
    rng = np.random.default_rng(0)
    vals = [{"x": int(v)} for v in rng.integers(0, 64, 64)]
    assert evaluate(c_buf, vals) == evaluate(c_ref, vals)
    assert n_out * rows == len(ref_out)


def test_template_of_repeated_and_negated_inputs_folds():
    """x + x and x ^ ~x fold inside the template, as they would in a Builder."""
    t = make_template(lambda b, bits: W.xor_w(b, bits[:2], bits[2:]), [0, 2, 1, 3], [0, 0])
    assert t.n_gates == 0 and t.outs.tolist() == [1, 1]      # x ^ ~x = 1 per bit


@st.composite
def heaps(draw):
    n_terms = draw(st.integers(1, 6))
    widths = [draw(st.integers(1, 5)) for _ in range(n_terms)]
    negs = [draw(st.booleans()) for _ in range(n_terms)]
    n_leaves = draw(st.integers(1, 8))
    code = []
    for k in widths:
        for _ in range(k):
            c = draw(st.integers(-2, 2 * n_leaves - 1))
            code.append(c)
    levels = [draw(st.integers(0, 3)) for _ in range(n_leaves)]
    width = draw(st.integers(1, 7))
    return code, levels, widths, negs, width


@settings(max_examples=150, deadline=None)
@given(heaps())
def test_heap_kernel_equals_bitheap(h):
    """The compiled heap: same AND count and same sums as BitHeap on a scratch Builder."""
    code, levels, widths, negs, width = h
    used = sorted({c >> 1 for c in code if c >= 0})
    if not used:
        levels = levels[:1]
    t_native = make_template(_Native(widths, negs, width), code, levels)

    def python_heap(b, bits):
        heap = W.BitHeap(b, width)
        pos = 0
        for k, neg in zip(widths, negs):
            heap.add_word(bits[pos:pos + k], 0, neg)
            pos += k
        return heap.result()
    t_py = make_template(python_heap, code, levels)
    assert int((t_native.op == Op.AND).sum()) == int((t_py.op == Op.AND).sum())
    assert _eval_template(t_native, len(levels)) == _eval_template(t_py, len(levels))


@pytest.mark.parametrize("n_terms", [200, 6000])
def test_heap_table_that_grows_gives_the_same_gates(monkeypatch, n_terms):
    """The heap's hash table starts small and grows as gates come: started with room for
    none (it then grows many times, between columns and before the leaves' NOTs), the
    gates are those of a table that never grows, compiled (6000 terms) or as Python."""
    from yaogc.circuits import heapkernel as H
    rng = np.random.default_rng(n_terms)
    n_leaves = 3 * n_terms
    widths = rng.integers(1, 24, n_terms).tolist()
    negs = (rng.random(n_terms) < 0.3).tolist()
    code = rng.integers(-2, 2 * n_leaves, sum(widths))
    levels = rng.integers(0, 5, n_leaves)
    want = H.heap_gates(code, levels, widths, negs, 12)
    grew = []
    real = H._room

    def counted(table, used, more, cap):
        out = real(table, used, more, cap)
        grew.append(out is not table)
        return out
    monkeypatch.setattr(H, "START_PER_BIT", 0)
    monkeypatch.setattr(H, "START_PER_COLUMN", 0)
    monkeypatch.setattr(H, "_room", counted)
    got = H.heap_gates(code, levels, widths, negs, 12)
    assert sum(grew) >= 3      # two at most before the columns: the rest between them
    for x, y in zip(want, got):
        assert np.array_equal(x, y)


class _Native:
    def __init__(self, widths, negs, width):
        self.widths, self.negs, self.width = widths, negs, width

    def __call__(self, b, bits):   # never called: the native path is taken
        raise AssertionError

    def native(self, code, levels):
        return heap_gates(code, levels, self.widths, self.negs, self.width)


def _eval_template(t, n_leaves):
    """The template's outputs on every assignment of its leaves (as integers)."""
    res = []
    for v in range(1 << n_leaves):
        val = [0, 1] + [(v >> i) & 1 for i in range(n_leaves)]
        for o, a, b in zip(t.op.tolist(), t.a.tolist(), t.b.tolist()):
            if o == Op.XOR:
                val.append(val[a] ^ val[b])
            elif o == Op.AND:
                val.append(val[a] & val[b])
            else:
                val.append(val[a] ^ 1)
        res.append(tuple(val[r] for r in t.outs.tolist()))
    return res


def test_rehash_kernel_and_its_python_fallback_agree():
    """The compiled kernel and the same function run as Python give identical arrays."""
    rng = np.random.default_rng(7)
    n_in, n = 12, 3000
    op = np.concatenate([[3, 4], np.full(n_in, 255), rng.choice([0, 0, 1, 1, 2, 3, 4], n)]).astype(np.uint8)
    idx = np.arange(op.size)
    a = np.where(op <= 2, rng.integers(0, np.maximum(idx, 1)), -1)
    b = np.where(op <= 1, rng.integers(0, np.maximum(idx, 1)), -1)
    a[:2 + n_in] = b[:2 + n_in] = -1
    for push in (True, False):
        fast = rehash(op, a, b, push_not=push)
        n = op.size
        nop = np.full(2 * n + 2, 254, np.uint8)
        na = np.empty(2 * n + 2, np.int64)
        nb = np.empty(2 * n + 2, np.int64)
        m = np.empty(n, np.int64)
        with np.errstate(over="ignore"):
            _rehash.py_func(op, a, b, 0, n, push, nop, na, nb, m, new_table(2 * n + 2, n))
        used = np.flatnonzero(nop != 254)
        dense = np.full(nop.size, -1)
        dense[used] = np.arange(used.size)
        assert np.array_equal(fast[0], nop[used])
        assert np.array_equal(fast[1], np.where(na[used] >= 0, dense[na[used]], -1))
        assert np.array_equal(fast[2], np.where(nb[used] >= 0, dense[nb[used]], -1))
        assert np.array_equal(fast[3], dense[m])
        # closing the gaps in one pass (the compiled path) renumbers as keep_wires does
        for close in (_close_gaps, _close_gaps.py_func):
            cop, ca, cb, new = nop.copy(), na.copy(), nb.copy(), np.empty(nop.size, np.int64)
            k = close(cop, ca, cb, new)
            want = keep_wires(used, nop, na, nb)
            assert k == used.size and np.array_equal(new, want[3])
            assert np.array_equal(cop[:k], want[0]) and np.array_equal(ca[:k], want[1])
            assert np.array_equal(cb[:k], want[2])
        # and the same as one Builder emitting every gate
        ref = Builder("ref", push_not=push)
        wires = [0, 1] + ref.input("p", "x", uint(n_in))
        for o, x, y in zip(op[2 + n_in:].tolist(), a[2 + n_in:].tolist(), b[2 + n_in:].tolist()):
            wires.append(ref.xor(wires[x], wires[y]) if o == 0 else ref.and_(wires[x], wires[y])
                         if o == 1 else ref.not_(wires[x]) if o == 2 else o - 3)
        assert fast[0].tolist() == ref._op and fast[1].tolist() == ref._a
        assert fast[3].tolist() == wires


@pytest.mark.timeout(120)
@pytest.mark.parametrize("one_pass", [True, False])
def test_rehash_of_gates_that_make_two_gates_a_wire_ends(one_pass):
    """A chain of XORs on a negated word makes two gates for each of its wires (the XOR and
    the NOT pushed outside it): more than the table was sized for, whose probes then
    searched a full table forever. The table grows as it fills, in one pass and streamed,
    and the gates are the Builder's."""
    n_in, chain = 9, 20_000
    head = 2 + n_in
    op = np.empty(head + 1 + chain, dtype=np.uint8)
    a = np.full(op.size, -1, dtype=np.int64)
    b = a.copy()
    op[:2] = (3, 4)
    op[2:head] = 255
    op[head], a[head] = 2, 2                      # ~x
    w = np.arange(head + 1, op.size)
    op[w], a[w], b[w] = 0, w - 1, 3 + (w % (n_in - 1))     # acc ^= y[i mod 8]
    r = Rehasher(push_not=True, expect=0 if one_pass else op.size)
    if not one_pass:
        r.STREAM_FROM, r.LEAST, r.MOST = 0, 1000, 4000
        for n in range(0, op.size + 1, 1000):
            r.feed(op, a, b, n)
    got = r.finish(op, a, b)
    assert int(np.count_nonzero(got[0] < 3)) == 2 * chain + 1
    ref = Builder("ref", push_not=True)
    wires = [0, 1] + ref.input("p", "x", uint(n_in))
    for o, x, y in zip(op[head:].tolist(), a[head:].tolist(), b[head:].tolist()):
        wires.append(ref.xor(wires[x], wires[y]) if o == 0 else ref.not_(wires[x]))
    assert got[0].tolist() == ref._op and got[1].tolist() == ref._a
    assert got[3].tolist() == wires


def _random_gates(rng, n_in: int, n: int, window: int):
    """Gates over random lower wires, most drawn from the last ``window`` wires (as a
    lowering's are) and some from the inputs and constants, so that identical gates, folds
    and NOTs to push recur among gates that are mostly new."""
    ops = rng.choice([0, 0, 0, 1, 1, 1, 2], n)
    ops[rng.random(n) < 0.02] = 3 + rng.integers(0, 2)
    op = np.concatenate([[3, 4], np.full(n_in, 255), ops])
    idx = np.arange(op.size)
    low = np.maximum(idx - window, 0)
    top = np.maximum(idx, 1)
    early = np.minimum(top, 2 + n_in)

    def operand():
        return np.where(rng.random(op.size) < 0.9, rng.integers(low, top), rng.integers(0, early))

    a = np.where(op <= 2, operand(), -1)
    b = np.where(op <= 1, operand(), -1)
    a[:2 + n_in] = b[:2 + n_in] = -1
    return op.astype(np.uint8), a.astype(np.int64), b.astype(np.int64)


class _Ranges(Rehasher):
    """A Rehasher that starts on few wires and records the ranges and table sizes it ran."""
    LEAST, MOST, STREAM_FROM = 300, 1000, 0

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.ranges, self.tables, self.written = [], set(), []

    def _run(self, op, a, b, start, end):
        super()._run(op, a, b, start, end)
        self.ranges.append((start, end))
        # how many wires were written when the range ran (all of them: one pass at the end)
        self.written.append(self._written[3] if self._written else op.size)
        self.tables.add(self.table.shape[0] if self.table is not None else 0)


@pytest.mark.parametrize("expect", [0, 8_000, 400_000])
@pytest.mark.parametrize("push", [True, False])
def test_rehash_a_range_at_a_time_while_the_array_grows(expect, push):
    """Fed the gates as a lowering writes them (into arrays that are reallocated as they
    grow), the worker thread's ranges add up to rehash() of the whole array, whatever the
    expected size: ids, folds, merged duplicates and the wire map all equal."""
    rng = np.random.default_rng(11)
    op, a, b = _random_gates(rng, 16, 30_000, 40)
    want = rehash(op, a, b, push_not=push)
    r = _Ranges(push_not=push, expect=expect)
    cap = 64
    bufs = [np.empty(cap, np.uint8), np.empty(cap, np.int64), np.empty(cap, np.int64)]
    for n in range(0, op.size + 1, 257):
        if cap < n:       # grown as GateBuffer grows, the old arrays left to the worker
            while cap < n:
                cap *= 2
            grown = [np.empty(cap, x.dtype) for x in bufs]
            for y, x in zip(grown, bufs):
                y[:x.size] = x
            bufs = grown
        for x, src in zip(bufs, (op, a, b)):
            x[:n] = src[:n]
        r.feed(*bufs, n)
    got = r.finish(op, a, b)
    for x, y in zip(got, want):
        assert np.array_equal(x, y)
    if not jit.ENABLED or not expect:      # no worker: one pass at the end
        assert r.ranges == [(0, op.size)]
    else:       # the ranges ran in the worker, and the table grew under it if too small
        assert len(r.ranges) > 10
        assert [s for s, _ in r.ranges] == [0] + [e for _, e in r.ranges[:-1]]
        assert (len(r.tables) > 1) == (expect < 100_000)


@pytest.mark.parametrize("few", [False, True])
def test_rehash_worker_streams_only_a_large_lowering(few):
    """Gates fed early by a lowering that expects fewer than STREAM_FROM wires are rehashed
    in one pass at the end, else by a worker a range at a time; the result is rehash()'s of
    the whole array either way."""
    op, a, b = _random_gates(np.random.default_rng(5), 16, 20_000, 30)
    want = rehash(op, a, b)
    r = _Ranges(expect=400_000)
    r.STREAM_FROM = 400_001 if few else 400_000
    for n in range(0, op.size + 1, 500):
        r.feed(op, a, b, n)
    got = r.finish(op, a, b)
    for x, y in zip(got, want):
        assert np.array_equal(x, y)
    if few or not jit.ENABLED:
        assert r.ranges == [(0, op.size)]
    else:
        assert len(r.ranges) > 3 and r.written[0] < op.size


@pytest.mark.skipif(not jit.ENABLED, reason="numba is not installed (no worker thread)")
def test_rehash_worker_errors_reach_the_caller():
    """An error in the worker thread (here: out of memory) is raised by finish, not lost."""
    class Failing(_Ranges):
        def _run(self, op, a, b, start, end):
            if start > 0:
                raise MemoryError("no room for the rehash arrays")
            super()._run(op, a, b, start, end)

    op, a, b = _random_gates(np.random.default_rng(3), 8, 5000, 20)
    r = Failing(expect=100_000)
    for n in range(0, op.size + 1, 500):
        r.feed(op, a, b, n)
    with pytest.raises(MemoryError, match="no room"):
        r.finish(op, a, b)


def test_compiles_with_the_rehash_in_ranges_equal_the_whole_pass(monkeypatch):
    """A program compiled while its gates are rehashed a range at a time in the worker has
    the content hash of the same program rehashed in one pass at the end."""
    from yaogc.circuits import rehash as R
    from yaogc.compiler import compile_source
    src = (Path(__file__).resolve().parents[1] / "examples" / "sort.yao").read_text()
    whole = compile_source(src, "sort.yao", {"N": "16"})
    calls = []
    real_run = R.Rehasher._run

    def run(self, op, a, b, start, end):
        calls.append(end - start)
        real_run(self, op, a, b, start, end)

    monkeypatch.setattr(R.Rehasher, "LEAST", 512)
    monkeypatch.setattr(R.Rehasher, "MOST", 2048)
    monkeypatch.setattr(R.Rehasher, "STREAM_FROM", 0)
    monkeypatch.setattr(R.Rehasher, "_run", run)
    ranged = compile_source(src, "sort.yao", {"N": "16"})
    assert ranged.content_hash == whole.content_hash
    assert len(calls) > 3 if jit.ENABLED else calls


@pytest.mark.skipif(not jit.ENABLED, reason="numba is not installed")
def test_cached_kernels_follow_an_edit_of_the_kernels_they_call(tmp_path):
    """numba's cache checks only a kernel's own source file; a kernel that calls (and
    inlines) one of another module must not load as it was compiled before that module
    changed."""
    pkg = tmp_path / "kpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    dep = ("from yaogc.circuits.jit import kernel\n\n\n@kernel(inline=True)\n"
           "def step(x):\n    return x + {k}\n")
    (pkg / "kuse.py").write_text(
        "from yaogc.circuits.jit import kernel\nfrom kpkg.kdep import step\n\n\n@kernel\n"
        "def total(a):\n    s = 0\n    for i in range(a.size):\n        s += step(a[i])\n"
        "    return s\n")
    run = ("import numpy as np, kpkg.kuse as u; from yaogc.circuits import jit;"
           "jit.compiled('kpkg.kuse'); print(u.total(np.arange(3)))")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    for k, want in ((1, 6), (10, 33)):
        (pkg / "kdep.py").write_text(dep.format(k=k))
        for _ in range(2):          # compiled, then from the cache
            out = subprocess.run([sys.executable, "-c", run], env=env, capture_output=True,
                                 text=True, timeout=300)
            assert out.returncode == 0, out.stderr
            assert out.stdout.split() == [str(want)], (k, out.stdout)


def test_compile_without_numba_gives_the_same_circuit(tmp_path):
    """YAOGC_NO_JIT=1 (the fallback where numba is missing) compiles the same circuit."""
    prog = tmp_path / "p.yao"
    prog.write_text("party a, b\n"
                    "def main(x: u8[6] @a, y: u8[6] @b) -> (s: u16 @both, c: u8 @a):\n"
                    "    s: u16 = 0\n    c: u8 = 0\n"
                    "    for i in range(6):\n        s += x[i] * y[i]\n"
                    "        c += x[i] > y[i]\n    return s, c\n")
    code = ("import sys; from yaogc.compiler import compile_file; "
            "print(compile_file(sys.argv[1]).content_hash)")
    out = []
    for env in ({}, {"YAOGC_NO_JIT": "1"}):
        r = subprocess.run([sys.executable, "-c", code, str(prog)], capture_output=True,
                           text=True, env={**os.environ, **env}, timeout=300)
        assert r.returncode == 0, r.stderr
        out.append(r.stdout.strip())
    assert out[0] == out[1]


def test_gate_budget_is_enforced():
    buf = GateBuffer("big", max_gates=100)
    x = buf.input("p", "x", uint(16))
    with pytest.raises(TooLarge):
        buf.apply(("mul",), lambda b, bits: W.mul(b, bits[:8], bits[8:]), x.reshape(1, 16))


def test_loading_numba_skips_its_blas_and_cffi_probes():
    """Kernels load without importing SciPy's linalg (seconds where scikit-learn is
    installed) or cffi's parser, and both still import normally afterwards."""
    import subprocess
    import sys
    code = ("import sys, numpy as np\n"
            "from yaogc.circuits.jit import load_numba\n"
            "load_numba()\n"
            "from yaogc.circuits.rehash import _close_gaps\n"
            "k = load_numba().njit(_close_gaps.py_func)\n"
            "out = np.empty(3, np.int64)\n"
            "assert k(np.array([3, 254, 0], np.uint8), np.array([-1, 0, 0]),\n"
            "         np.array([-1, 0, 0]), out) == 2\n"
            "print('scipy.linalg' in sys.modules, 'cffi' in sys.modules)\n"
            "try:\n"
            "    import scipy.linalg\n"
            "    print(scipy.linalg.norm([3.0, 4.0]))\n"
            "except ImportError:\n"
            "    print(5.0)\n"
            "try:\n"
            "    import cffi\n"
            "    print(cffi.FFI().sizeof('int'))\n"
            "except ImportError:\n"
            "    print(4)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False", "5.0", "4"]


def test_leaf_codes_compiled_and_numpy_agree():
    """The compiled per-row pass and the whole-array numpy pass give the same codes: aliases
    of one wire (itself or its NOT) share the first column's leaf, constants are -1/-2, depths
    are relative to the row's shallowest input."""
    from yaogc.circuits.templates import _leaf_codes, leaf_codes_numpy
    rng = np.random.default_rng(7)
    n = 400
    op = rng.choice([0, 1, 2, 255], n).astype(np.uint8)
    op[:2] = (3, 4)
    a = np.where(op == 2, rng.integers(0, np.maximum(np.arange(n), 1)), -1)
    lev = rng.integers(0, 9, n).astype(np.int32)
    for k in (1, 3, 17, 64):
        X = rng.integers(0, 40, (25, k))          # few distinct wires: many aliases
        X[rng.random(X.shape) < 0.2] = rng.integers(0, 2)
        base, code, rel = (np.empty(X.shape, dtype=np.int64) for _ in range(3))
        _leaf_codes.py_func(X, op, a, lev, base, code, rel)
        for got, want in zip((base, code, rel), leaf_codes_numpy(X, op, a, lev)):
            assert np.array_equal(got, want)


def test_work_that_is_part_of_a_large_job_runs_compiled_from_a_few_thousand():
    from yaogc.compiler import compile_source
    """A kernel call below jit.SMALL runs as plain Python, unless it is part of a job large
    enough to load numba anyway (a large compile's lowering), from jit.FEW; a small job's
    calls stay plain Python whatever their size below SMALL (the same circuit either way)."""
    mod = ("yaogc.circuits.templates", "yaogc.circuits.rehash")     # a tally of its own
    src = "party a, b\ndef main(x: u8[40] @a, y: u8 @b) -> (c: u8 @both):\n" \
          "    return u8(sum(x[i] > y for i in range(40)))\n"
    assert not jit.use_compiled(jit.FEW, *mod)
    with jit.part_of(jit.SMALL - 1):
        assert not jit.use_compiled(jit.FEW, *mod)
    with jit.part_of(jit.SMALL):
        assert not jit.use_compiled(jit.FEW - 1, *mod)
        assert jit.use_compiled(jit.FEW, *mod) == jit.ENABLED
    assert not jit.use_compiled(jit.FEW, *mod)
    plain = compile_source(src, "c.yao")
    with jit.part_of(jit.SMALL):
        assert compile_source(src, "c.yao").content_hash == plain.content_hash


def test_rehash_of_no_wire_gives_the_constants_alone():
    got = rehash(np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert got[0].tolist() == [3, 4] and got[1].tolist() == [-1, -1] and got[3].size == 0
