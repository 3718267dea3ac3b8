"""What garbler and evaluator share: the label store, XOR steps, chunking and scratch buffers.

Labels are 128-bit blocks held as ``uint64`` pairs, colour bit = low bit of word 0. A batch of
``K`` instances of one circuit is garbled at once: the store holds ``(n_slots, K, 2)`` uint64,
one row of ``K`` labels per slot of the :class:`~yaogc.circuits.schedule.Schedule` (slot 0 is
zero, slot 1 the constant-one term). A step's gates are taken in chunks of about
``CHUNK_LABELS`` labels (gate-major, instance next), so scratch buffers stay in cache and
memory stays bounded by the store plus one layer's tables.

Speed (measured, see DESIGN.md): gathers are ``np.take(..., mode='clip')`` on a void view of
``16 K`` bytes per slot; operands are reduced with one ``bitwise_xor.reduce`` over a padded
``(arity, ...)`` block; every array operand is contiguous and preallocated; views are built
once per chunk size.
"""

from __future__ import annotations

import numpy as np

from yaogc.circuits.schedule import FIRST_INPUT_SLOT, ONE_SLOT, AndStep, Schedule

from .aes import FixedKeyAES
from .errors import GarbleError
from .tweaks import TweakCounter

CHUNK_LABELS = 16384


class Engine:
    """Store, plan and scratch space for one run of a Schedule on ``batch`` instances."""

    def __init__(self, schedule: Schedule, batch: int, counter: TweakCounter | None):
        if not isinstance(schedule, Schedule):
            raise GarbleError(f"expected a Schedule (yaogc.circuits.schedule.schedule(circuit)), "
                              f"got {type(schedule).__name__}")
        if not isinstance(batch, (int, np.integer)) or batch < 1:
            raise GarbleError(f"batch must be a positive number of instances, got {batch!r}")
        k = self.batch = int(batch)
        self.schedule = schedule
        self.counter = counter if counter is not None else TweakCounter()
        self.tweak_start = self.counter.take(schedule.n_and * k)
        self.tweak_end = self.tweak_start + schedule.n_and * k
        chunk = max(1, CHUNK_LABELS // k)
        self.plan = schedule.plan(chunk)
        self.m_max = mx = chunk * k
        self.store = np.zeros((schedule.n_slots, k, 2), dtype=np.uint64)
        self.vstore = self.store.reshape(schedule.n_slots, 2 * k).view(f"V{16 * k}").reshape(-1)
        need = max([1] + [c[2].size for p in self.plan for c in p if c[2].shape[0] > 1])
        self._gather = np.empty(need * 2 * k, dtype=np.uint64)
        self.aes = FixedKeyAES()
        self.x = np.zeros((5 * mx + 1, 2), dtype=np.uint64)
        self.p = np.zeros((4 * mx + 1, 2), dtype=np.uint64)
        self.q = np.zeros((4 * mx + 1, 2), dtype=np.uint64)
        self.tw = np.zeros((4, mx), dtype=np.uint64)
        self.cb = np.zeros(2 * mx, dtype=np.int64)
        self.ib = np.zeros(2 * mx, dtype=np.intp)
        self.g = np.zeros((2 * mx, 2), dtype=np.uint64)
        e = np.arange(mx, dtype=np.uint64)
        self.tmpl = np.empty((4, mx), dtype=np.uint64)
        self.tmpl[0::2] = 2 * e        # rows hashed under tweak 2j ...
        self.tmpl[1::2] = 2 * e + 1    # ... and 2j+1
        self.arange2 = np.arange(2 * mx, dtype=np.intp)
        self.qv = self.q.view("V16").reshape(-1)
        self.rr: np.ndarray | None = None   # the garbler's R repeated, for A1 = A0 ^ R
        self._views: dict = {}
        self.step_no = 0              # next step of the schedule to run
        self.output_labels_: np.ndarray | None = None

    @property
    def and_layers(self) -> int:
        return len(self.schedule.and_steps)

    def views(self, m: int) -> tuple:
        """Slices of the scratch buffers for a chunk of m labels, built once per m."""
        v = self._views.get(m)
        if v is None:
            x, p, q = self.x, self.p, self.q
            xb = x.view(np.uint8).reshape(-1)
            pb = p.view(np.uint8).reshape(-1)
            qb = q.view(np.uint8).reshape(-1)
            v = _Views()
            v.m = m
            xv = x.view("V16").reshape(-1)
            col = x.view(np.int64)[:, 0]
            v.x_bytes = memoryview(xb)
            v.p_bytes, v.q_bytes = memoryview(pb), memoryview(qb)
            v.p_w0 = {r: p[:r * m].reshape(r, m, 2)[:, :, 0] for r in (2, 4)}
            v.q_w0 = {r: q[:r * m].reshape(r, m, 2)[:, :, 0] for r in (2, 4)}
            v.tw = {r: self.tw[:r, :m] for r in (2, 4)}
            v.tmpl = {r: self.tmpl[:r, :m] for r in (2, 4)}
            v.cb = self.cb[:2 * m]
            v.cb_hi = self.cb[m:2 * m]
            v.ib = self.ib[:2 * m]
            v.ar = self.arange2[:2 * m]
            v.gv = self.g.view("V16").reshape(-1)[:2 * m]
            v.g0, v.g1 = self.g[:m], self.g[m:2 * m]
            # garbler: x = [pb*R | A0 | B0 | A1 | B1], hash input x[m:5m]
            v.gx_ab = x[m:3 * m].reshape(-1)
            v.gx_ab2 = x[m:3 * m]
            v.gx_a = x[m:2 * m]
            v.gx_r = x[3 * m:5 * m]
            v.gx_col = col[m:3 * m]
            v.gx_pbr = xv[:m]
            v.gx_pbr2 = x[:m]
            v.gx_in = v.x_bytes[16 * m:80 * m]
            v.rr = self.rr[:2 * m] if self.rr is not None else None
            # evaluator: x = [A | B], hash input x[:2m]
            v.ex_ab = x[:2 * m].reshape(-1)
            v.ex_a = x[:m]
            v.ex_col = col[:2 * m]
            v.ex_in = v.x_bytes[:32 * m]
            v.q_lo = q[:2 * m].reshape(2, m, 2)
            v.q_hi = q[2 * m:4 * m].reshape(2, m, 2)
            v.q_a1 = q[2 * m:3 * m]
            v.q_t = q[3 * m:4 * m]
            v.q_r = {r: q[:r * m] for r in (2, 4)}
            v.p_r = {r: p[:r * m] for r in (2, 4)}
            v.two_m = 2 * m
            self._views[m] = v
        return v

    def gather(self, idx: np.ndarray, out: np.ndarray) -> None:
        """out (flat uint64 of count*K labels) = XOR over rows of the store slots in idx."""
        if idx.shape[0] == 1:
            np.take(self.vstore, idx[0].reshape(-1), mode="clip",
                    out=out.view(self.vstore.dtype))
            return
        n = idx.size * 2 * self.batch
        g = self._gather[:n]
        np.take(self.vstore, idx.reshape(-1), mode="clip", out=g.view(self.vstore.dtype))
        np.bitwise_xor.reduce(g.reshape(idx.shape[0], -1), axis=0, out=out)

    def run_xor(self, s: int) -> None:
        start = self.schedule.steps[s].start
        flat = self.store.reshape(-1)
        w = 2 * self.batch
        for a, c, idx in self.plan[s]:
            self.gather(idx, flat[(start + a) * w:(start + a + c) * w])

    def run_until_and(self) -> AndStep | None:
        """Run XOR steps up to the next AND layer; returns it (or None when none is left)."""
        steps = self.schedule.steps
        while self.step_no < len(steps):
            st = steps[self.step_no]
            if isinstance(st, AndStep):
                return st
            self.run_xor(self.step_no)
            self.step_no += 1
        return None

    def finish(self) -> np.ndarray:
        """Labels of the output wires, (K, n_out, 2), once every step has run."""
        if self.output_labels_ is None:
            if self.run_until_and() is not None:
                raise GarbleError(f"outputs requested after {self.layers_done} of "
                                  f"{self.and_layers} AND layers")
            n_out, k = self.schedule.n_outputs, self.batch
            out = np.zeros((n_out, k, 2), dtype=np.uint64)
            flat = out.reshape(-1)
            for a, c, idx in self.plan[-1]:
                self.gather(idx, flat[a * 2 * k:(a + c) * 2 * k])
            self.output_labels_ = np.ascontiguousarray(out.transpose(1, 0, 2))
        return self.output_labels_

    @property
    def layers_done(self) -> int:
        return sum(1 for s in self.schedule.steps[:self.step_no] if isinstance(s, AndStep))

    def hash_pass(self, v, r: int, src_bytes: memoryview, t0: int) -> None:
        """q[:r m] = H(src, tweaks) with H(x, t) = pi(pi(x) ^ t) ^ pi(x), rows of the chunk
        hashed under tweaks t0 + tmpl (tmpl row i holds 2e + (i & 1))."""
        m = v.m
        enc = self.aes.encryptor
        enc.update_into(src_bytes, v.p_bytes)
        tw = v.tw[r]
        np.add(v.tmpl[r], np.uint64(t0), out=tw)
        pw = v.p_w0[r]
        np.bitwise_xor(pw, tw, out=pw)
        enc.update_into(v.p_bytes[:16 * r * m], v.q_bytes)
        qr = v.q_r[r]
        np.bitwise_xor(qr, v.p_r[r], out=qr)
        qw = v.q_w0[r]
        np.bitwise_xor(qw, tw, out=qw)

    def input_slots(self) -> np.ndarray:
        """The store rows of the input wires, (n_in, K, 2)."""
        return self.store[FIRST_INPUT_SLOT:FIRST_INPUT_SLOT + self.schedule.n_inputs]

    def set_constant(self, value: np.ndarray) -> None:
        self.store[ONE_SLOT] = value


class _Views:
    """Per chunk size: every slice of the scratch buffers a layer needs."""
    __slots__ = ("m", "x_bytes", "p_bytes", "q_bytes", "p_w0", "q_w0", "tw", "tmpl", "cb",
                 "cb_hi", "ib", "ar", "gv", "g0", "g1", "gx_ab", "gx_ab2", "gx_a", "gx_r",
                 "gx_col", "gx_pbr", "gx_pbr2", "gx_in", "rr", "ex_ab", "ex_a", "ex_col",
                 "ex_in", "q_lo", "q_hi", "q_a1", "q_t", "q_r", "p_r", "two_m")
