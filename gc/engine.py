"""What garbler and evaluator share: the label store, XOR steps, tweaks, hashing, scratch space.

Labels are 128-bit blocks held as ``uint64`` pairs, colour bit = low bit of word 0. A batch of
``K`` instances of one circuit is garbled at once: the store holds ``(n_slots, K, 2)`` uint64,
one row of ``K`` labels per slot of the :class:`~yaogc.circuits.schedule.Schedule` (slot 0 is
zero, slot 1 the constant-one term). A step's gates are taken in chunks of about
``CHUNK_LABELS`` labels (gate-major, instance next), so scratch buffers stay in cache and
memory stays bounded by the store plus one layer's tables.

Speed (measured, see DESIGN.md): gathers are ``ndarray.take(..., mode='clip')`` on a void view
of ``16 K`` bytes per slot; operands reduce over a padded ``(arity, ...)`` block; every array
operand is contiguous and preallocated, scalars are avoided (a scalar operand costs more than
a small array); slices are built once per chunk size; the tweaks of a small run are computed
for the whole run at once.
"""

from __future__ import annotations

import threading

import numpy as np

from yaogc.circuits import freemem
from yaogc.circuits.schedule import FIRST_INPUT_SLOT, ONE_SLOT, AndStep, Schedule

from . import native
from .aes import FixedKeyAES
from .errors import GarbleError
from .tweaks import TweakCounter
from .workload import engine_for

CHUNK_LABELS = 16384
WHOLE_RUN_TWEAKS = 1 << 18   # tweak rows precomputed per run up to this many, else per chunk

_local = threading.local()


class Scratch:
    """Scratch buffers for chunks of up to ``mx`` labels, shared by the engines of a thread
    (every use is finished before a layer's block is handed over, so runs interleaved in one
    thread, like the local garbler and evaluator, never see each other's data)."""

    def __init__(self, mx: int):
        self.mx = mx
        self.x = np.zeros((5 * mx + 1, 2), dtype=np.uint64)
        self.p = np.zeros((4 * mx + 1, 2), dtype=np.uint64)
        self.y = np.zeros((4 * mx + 1, 2), dtype=np.uint64)
        self.q = np.zeros((4 * mx + 1, 2), dtype=np.uint64)
        self.t = np.zeros((4 * mx, 2), dtype=np.uint64)
        self.cb = np.zeros(2 * mx, dtype=np.intp)
        self.ib = np.zeros(2 * mx, dtype=np.intp)
        self.g = np.zeros((2 * mx, 2), dtype=np.uint64)
        self.qv = self.q.view("V16").reshape(-1)
        e = np.arange(mx, dtype=np.uint64)
        self.tmpl = np.empty((4, mx), dtype=np.uint64)
        self.tmpl[0::2] = 2 * e        # rows hashed under tweak 2j ...
        self.tmpl[1::2] = 2 * e + 1    # ... and 2j+1
        self.gbuf = np.zeros(0, dtype=np.uint64)
        self._views: dict = {}
        self._gviews: dict = {}

    def views(self, m: int, k: int) -> "_Views":
        v = self._views.get((m, k))
        if v is None:
            v = self._views[(m, k)] = _Views(self, m, k)
        return v

    def gather_views(self, arity: int, n: int, k: int) -> tuple:
        """The gather buffer for arity x n slots of K labels: (void view, rows)."""
        key = (arity, n, k)
        got = self._gviews.get(key)
        if got is None:
            words = arity * n * 2 * k
            if self.gbuf.size < words:
                self.gbuf = np.zeros(words, dtype=np.uint64)
                self._gviews.clear()
            g = self.gbuf[:words]
            rows = g.reshape(arity, -1)
            got = (g.view(f"V{16 * k}"), rows, rows[0], rows[1])
            self._gviews[key] = got
        return got


def scratch(mx: int) -> Scratch:
    """This thread's scratch space, grown to chunks of ``mx`` labels if needed (one per
    thread whatever the batch sizes: engines look it up per layer and never keep it)."""
    s = getattr(_local, "scratch", None)
    if s is None or s.mx < mx:
        s = _local.scratch = Scratch(max(mx, CHUNK_LABELS))
    return s


class _Views:
    """Per chunk size m: every slice of the scratch buffers a chunk needs."""

    def __init__(self, s: Scratch, m: int, k: int):
        x, p, y, q = s.x, s.p, s.y, s.q
        col = x.view(np.int64)[:, 0]
        xb = memoryview(x.view(np.uint8).reshape(-1))
        self.m = m
        self.p_bytes = memoryview(p.view(np.uint8).reshape(-1))
        self.y_bytes = {r: memoryview(y.view(np.uint8).reshape(-1))[:16 * r * m] for r in (2, 4)}
        self.q_bytes = memoryview(q.view(np.uint8).reshape(-1))
        self.p_r = {r: p[:r * m] for r in (2, 4)}
        self.y_r = {r: y[:r * m] for r in (2, 4)}
        self.q_r = {r: q[:r * m] for r in (2, 4)}
        self.t_r = {r: s.t[:r * m] for r in (2, 4)}
        self.t_col = {r: s.t[:r * m].reshape(r, m, 2)[:, :, 0] for r in (2, 4)}
        self.tmpl = {r: s.tmpl[:r, :m] for r in (2, 4)}
        # the same, flattened per role: (p, y, y bytes, q, t, t low words, template)
        self.hash4 = (self.p_r[4], self.y_r[4], self.y_bytes[4], self.q_r[4], self.t_r[4],
                      self.t_col[4], self.tmpl[4])
        self.hash2 = (self.p_r[2], self.y_r[2], self.y_bytes[2], self.q_r[2], self.t_r[2],
                      self.t_col[2], self.tmpl[2])
        self.cb = s.cb[:2 * m]
        self.cb_hi = s.cb[m:2 * m]
        self.ib = s.ib[:2 * m]
        self.ones = np.ones(2 * m, dtype=np.intp)
        self.stride = np.full(2 * m, 2 * m, dtype=np.intp)
        self.ar = np.arange(2 * m, dtype=np.intp)
        self.gv = s.g.view("V16").reshape(-1)[:2 * m]
        self.g0, self.g1 = s.g[:m], s.g[m:2 * m]
        # garbler: x = [pb R | A0 | B0 | A1 | B1], hashed x[m:5m]
        xv = x.view("V16").reshape(-1)
        self.gx_ab = x[m:3 * m].reshape(-1)
        self.gx_ab_v = self.gx_ab.view(f"V{16 * k}")
        self.gx_ab2 = x[m:3 * m]
        self.gx_a = x[m:2 * m]
        self.gx_r = x[3 * m:5 * m]
        self.gx_col = col[m:3 * m]
        self.gx_pbr_v = xv[:m]
        self.gx_pbr = x[:m]
        self.gx_in = xb[16 * m:80 * m]
        # evaluator: x = [A | B], hashed x[:2m]
        self.ex_ab = x[:2 * m].reshape(-1)
        self.ex_ab_v = self.ex_ab.view(f"V{16 * k}")
        self.ex_a = x[:m]
        self.ex_col = col[:2 * m]
        self.ex_in = xb[:32 * m]
        # hash output q = [H(A0) | H(B0) | H(A1) | H(B1)] (garbler) or [H(A) | H(B) | ..]
        self.q_lo = q[:2 * m]
        self.q_hi = q[2 * m:4 * m]
        self.q_a1 = q[2 * m:3 * m]
        self.q_t = q[3 * m:4 * m]


def _tweak_rows(schedule: Schedule, plan: list, k: int, r: int) -> np.ndarray:
    """Low words of the tweaks of a whole run, less 2*start: for each AND chunk in order,
    r segments of its m = count*K labels, segment i under tweak 2j + (i & 1)."""
    j0, sizes = [], []
    for st, chunks in zip(schedule.steps, plan):
        if isinstance(st, AndStep):
            for a, c, _, _ in chunks:
                j0.append((st.offset + a) * k)
                sizes.append(c * k)
    if not sizes:
        return np.zeros(0, dtype=np.uint64)
    j0 = np.array(j0, dtype=np.int64)
    sizes = np.array(sizes, dtype=np.int64)
    seg = np.repeat(np.arange(r * len(sizes)) % r, np.repeat(sizes, r))
    ends = np.cumsum(np.repeat(sizes, r))
    pos = np.arange(ends[-1]) - np.repeat(ends - np.repeat(sizes, r), np.repeat(sizes, r))
    base = np.repeat(np.repeat(j0, r), np.repeat(sizes, r))
    return (2 * (base + pos) + (seg & 1)).astype(np.uint64)


class Engine:
    """Store, plan and tweaks for one run of a Schedule on ``batch`` instances."""

    role_rows = 2   # hashed rows per label chunk: 4 for the garbler, 2 for the evaluator

    def __init__(self, schedule: Schedule, batch: int, counter: TweakCounter | None,
                 engine: str | None = None):
        if not isinstance(schedule, Schedule):
            raise GarbleError(f"expected a Schedule (yaogc.circuits.schedule.schedule(circuit)), "
                              f"got {type(schedule).__name__}")
        if not isinstance(batch, (int, np.integer)) or batch < 1:
            raise GarbleError(f"batch must be a positive number of instances, got {batch!r}")
        k = self.batch = int(batch)
        freemem.configure(freemem.GARBLE_MMAP_THRESHOLD)
        self.schedule = schedule
        self.counter = counter if counter is not None else TweakCounter()
        self.tweak_start = self.counter.take(schedule.n_and * k)
        self.tweak_end = self.tweak_start + schedule.n_and * k
        self.step_no = 0              # next step of the schedule to run
        self.output_labels_: np.ndarray | None = None
        self.store = np.zeros((schedule.n_slots, k, 2), dtype=np.uint64)
        # which engine runs this: 'numpy' (below) or 'native' (yaogc.gc.native)
        self.engine = engine_for(schedule, k, engine)
        self.layer = 0                # AND layers done (kept by the evaluator and native)
        if self.engine == "native":
            self.prog = native.program(schedule)
            self.kern = native.kernels()
            self.rk = native.round_keys()
            return
        chunk = max(1, CHUNK_LABELS // k)
        self.plan = schedule.plan(chunk)
        self.m_max = chunk * k
        self.flat = self.store.reshape(-1)
        self.vstore = self.store.reshape(schedule.n_slots, 2 * k).view(f"V{16 * k}").reshape(-1)
        r = self.role_rows
        rows = r * schedule.n_and * k
        self.tweaks = None
        if rows <= WHOLE_RUN_TWEAKS:
            static = schedule.cached(("tweaks", chunk, k, r),
                                     lambda: _tweak_rows(schedule, self.plan, k, r))
            self.tweaks = np.zeros((rows, 2), dtype=np.uint64)
            np.add(static, np.uint64(2 * self.tweak_start), out=self.tweaks[:, 0])
        self.aes = FixedKeyAES().encryptor
        self.kinds = schedule.cached("kinds", lambda: [isinstance(s, AndStep)
                                                       for s in schedule.steps])

    @property
    def and_layers(self) -> int:
        return len(self.schedule.and_steps)

    @property
    def layers_done(self) -> int:
        return sum(1 for s in self.schedule.steps[:self.step_no] if isinstance(s, AndStep))

    @property
    def scr(self) -> Scratch:
        """This thread's scratch buffers (an engine may be driven from any one thread at a
        time; looked up per layer, never held across layers)."""
        return scratch(self.m_max)

    def gather(self, idx: np.ndarray, arity: int, out: np.ndarray, out_v: np.ndarray,
               scr: Scratch) -> None:
        """out = XOR over the arity rows of store slots idx (out_v: the same memory as slots)."""
        if arity == 1:
            self.vstore.take(idx, None, out_v, "clip")
            return
        gv, rows, r0, r1 = scr.gather_views(arity, idx.size // arity, self.batch)
        self.vstore.take(idx, None, gv, "clip")
        xor = np.bitwise_xor
        if arity == 2:
            xor(r0, r1, out)
        elif arity == 3:
            xor(r0, r1, out)
            xor(out, rows[2], out)
        else:
            xor.reduce(rows, axis=0, out=out)

    def run_until_and(self) -> AndStep | None:
        """Run XOR steps up to the next AND layer; returns it (or None when none is left)."""
        steps, kinds, plan, gather = self.schedule.steps, self.kinds, self.plan, self.gather
        flat, vstore, w = self.flat, self.vstore, 2 * self.batch
        scr = self.scr
        i, n = self.step_no, len(steps)
        while i < n:
            if kinds[i]:
                self.step_no = i
                return steps[i]
            start = steps[i].start
            for a, c, idx, arity in plan[i]:
                s0 = start + a
                gather(idx, arity, flat[s0 * w:(s0 + c) * w], vstore[s0:s0 + c], scr)
            i += 1
        self.step_no = i
        return None

    def native_steps_to(self, layers: int) -> int:
        """Native engine: the step after the ``layers``-th AND layer from the start (every
        step, the trailing XOR steps included, once all AND layers are counted)."""
        a = self.prog.and_steps
        return int(a[layers - 1]) + 1 if layers < a.size else len(self.schedule.steps)

    def finish(self) -> np.ndarray:
        """Labels of the output wires, (K, n_out, 2), once every step has run."""
        if self.output_labels_ is None and self.engine == "native":
            if self.layer < self.prog.and_steps.size:
                raise GarbleError(f"outputs requested after {self.layer} of "
                                  f"{self.and_layers} AND layers")
            self.run_native(len(self.schedule.steps), None)
            out_idx, n_out = self.schedule.out_idx, self.schedule.n_outputs
            out = np.bitwise_xor.reduce(self.store[out_idx.reshape(-1)].reshape(
                out_idx.shape[0], n_out, self.batch, 2), axis=0) if n_out else \
                np.zeros((0, self.batch, 2), dtype=np.uint64)
            self.output_labels_ = np.ascontiguousarray(out.transpose(1, 0, 2))
        if self.output_labels_ is None:
            if self.run_until_and() is not None:
                raise GarbleError(f"outputs requested after {self.layers_done} of "
                                  f"{self.and_layers} AND layers")
            n_out, k = self.schedule.n_outputs, self.batch
            out = np.zeros((n_out, k, 2), dtype=np.uint64)
            flat = out.reshape(-1)
            vout = out.reshape(n_out, 2 * k).view(f"V{16 * k}").reshape(-1)
            scr = self.scr
            for a, c, idx, arity in self.plan[-1]:
                self.gather(idx, arity, flat[a * 2 * k:(a + c) * 2 * k], vout[a:a + c], scr)
            self.output_labels_ = np.ascontiguousarray(out.transpose(1, 0, 2))
        return self.output_labels_

    def hash_chunk(self, v: _Views, src: memoryview, st: AndStep, a: int) -> None:
        """q[:r m] = H(src, tweaks), H(x, t) = pi(pi(x) ^ t) ^ pi(x) (Guo-Katz-Wang-Yu), the
        chunk's r segments hashed under tweaks 2j, 2j+1, 2j, 2j+1 of its gates j."""
        r = self.role_rows
        p, y, y_bytes, q, t, t_col, tmpl = v.hash4 if r == 4 else v.hash2
        first = (st.offset + a) * self.batch
        enc = self.aes
        enc.update_into(src, v.p_bytes)
        if self.tweaks is not None:
            t = self.tweaks[r * first:r * (first + v.m)]
        else:
            np.add(tmpl, np.uint64(2 * (self.tweak_start + first)), out=t_col)
        np.bitwise_xor(p, t, y)
        enc.update_into(y_bytes, v.q_bytes)
        np.bitwise_xor(q, p, q)

    def table_views(self, block: np.ndarray, a: int, c: int, n: int) -> tuple:
        """The chunk's [TG | TE] part of a layer's (2, n, K, 2) block, and its TE half."""
        m = c * self.batch
        if c == n:
            t = block.reshape(2 * m, 2)
            return t, t[m:]
        t = block.reshape(2, -1, 2)[:, a * self.batch:a * self.batch + m]
        return t, t[1]

    def input_slots(self) -> np.ndarray:
        """The store rows of the input wires, (n_in, K, 2)."""
        return self.store[FIRST_INPUT_SLOT:FIRST_INPUT_SLOT + self.schedule.n_inputs]

    def set_constant(self, value: np.ndarray) -> None:
        self.store[ONE_SLOT] = value
