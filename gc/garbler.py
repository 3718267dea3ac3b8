"""The garbler: free-XOR + half-gates garbling of a Schedule, one AND layer at a time.

Half-gates: Zahur, Rosulek and Evans, "Two Halves Make a Whole", EUROCRYPT 2015. Free XOR:
Kolesnikov and Schneider, ICALP 2008. Hash: H(x, i) = pi(pi(x) ^ i) ^ pi(x) with pi fixed-key
AES-128 (Guo, Katz, Wang, Yu, IEEE S&P 2020, section 7); AND gate ``j`` hashes its first
operand under tweak ``2j`` and its second under ``2j+1``.

A wire's label for bit b is ``L0 ^ b R``; R (lsb 1) and every input zero-label come from an
AES-CTR :class:`~yaogc.gc.aes.PRG` seeded from ``os.urandom``. For each AND gate with operand
zero-labels A0, B0 and colour bits pa, pb:

    TG = H(A0, 2j) ^ H(A1, 2j) ^ pb R          TE = H(B0, 2j+1) ^ H(B1, 2j+1) ^ A0
    C0 = H(A0, 2j) ^ pa TG  ^  H(B0, 2j+1) ^ pb (TE ^ A0)

Table blocks (the streaming format, see :mod:`yaogc.gc`): one per AND layer, a C-contiguous
``uint64`` array of shape ``(2, n, K, 2)`` = ``[TG of every gate | TE of every gate]``, gates
in layer order, then instances; 32 bytes per AND gate per instance.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from yaogc.circuits.schedule import AndStep, Schedule

from .aes import PRG
from .engine import Engine
from .errors import GarbleError
from .tweaks import TweakCounter

# gates x instances garbled per native call: the first run small so the peer starts
# evaluating early, then doubling up to RUN_MAX (2 MiB of tables)
RUN_FIRST = 2048
RUN_MAX = 1 << 16


class Garbler(Engine):
    """Garbles ``batch`` instances of a Schedule; tweaks come from ``counter``."""

    role_rows = 4

    def __init__(self, schedule: Schedule, batch: int = 1, counter: TweakCounter | None = None,
                 prg: PRG | None = None, engine: str | None = None):
        super().__init__(schedule, batch, counter, engine)
        if prg is not None and getattr(prg, "seeded", True) and not getattr(prg, "testing",
                                                                             False):
            # R and the labels from a seed the caller knows: the caller could decode every
            # wire, the evaluator's inputs included
            raise GarbleError("a Garbler's PRG must be seeded from os.urandom (PRG()); a "
                              "caller-seeded PRG makes R and every label predictable (pass "
                              "PRG(seed, testing=True) for a deliberate test)")
        prg = prg if prg is not None else PRG()
        r = prg.blocks(1)[0]
        r[0] |= np.uint64(1)
        r.flags.writeable = False
        self.R = r
        k, n_in = self.batch, schedule.n_inputs
        self.input_slots()[:] = prg.blocks(n_in * k).reshape(n_in, k, 2)
        self.set_constant(r)
        self._rr_buf = np.empty((0, 2), dtype=np.uint64)
        self._rr_views: dict = {}
        self.rs = np.stack([np.zeros(2, dtype=np.uint64), r]).view("V16").reshape(2)
        self._started = False

    @property
    def input_zero_labels(self) -> np.ndarray:
        """Zero-labels of the input wires, (K, n_in, 2) uint64."""
        return np.ascontiguousarray(self.input_slots().transpose(1, 0, 2))

    def input_labels(self, bits: np.ndarray, wires: slice | np.ndarray | None = None) -> np.ndarray:
        """Labels ``L0 ^ b R`` for input bits (K, w) of the input wires ``wires`` (all inputs
        by default), as (K, w, 2) uint64."""
        zero = self.input_zero_labels
        if wires is not None:
            zero = zero[:, wires]
        bits = np.asarray(bits)
        if bits.shape != zero.shape[:2]:
            raise GarbleError(f"input bits must have shape {zero.shape[:2]} (batch, wires), "
                              f"got {bits.shape}")
        mask = (bits.astype(np.uint64) & np.uint64(1)) * np.uint64(0xFFFFFFFFFFFFFFFF)
        return zero ^ (mask[..., None] & self.R)

    def blocks(self) -> Iterator[np.ndarray]:
        """The table block of each AND layer in order (see the module docstring for layout)."""
        if self.engine == "numpy":
            yield from self._numpy_blocks()
            return
        k = self.batch
        for run, layers in self.block_runs():
            pos = 0
            for li in range(self.layer - layers, self.layer):
                n = int(self.prog.count[self.prog.and_steps[li]])
                yield run[pos:pos + 4 * n * k].reshape(2, n, k, 2)
                pos += 4 * n * k

    def block_runs(self) -> Iterator[tuple[np.ndarray, int]]:
        """The table blocks in runs: ``(tables, layers)`` with the blocks of ``layers``
        consecutive AND layers back to back in one flat uint64 array. The native engine
        garbles a run per call (the first small, so streaming starts early, then growing to
        ``RUN_MAX`` gates); the numpy engine yields one layer per run."""
        if self.engine == "numpy":
            for b in self._numpy_blocks():
                yield b.reshape(-1), 1
            return
        self._start()
        k = self.batch
        widths = self.prog.count[self.prog.and_steps] * k
        cum = np.cumsum(widths)
        target = RUN_FIRST
        while self.layer < widths.size:
            first = self.layer
            before = int(cum[first - 1]) if first else 0
            end = max(first + 1, int(np.searchsorted(cum, before + target, "right")))
            tables = np.empty(4 * (int(cum[end - 1]) - before), dtype=np.uint64)
            self.run_native(self.native_steps_to(end), tables)
            self.layer = end
            yield tables, end - first
            target = min(2 * target, RUN_MAX)
        self.finish()

    def run_native(self, s_hi: int, tables) -> None:
        """Native engine: garble the steps from the current one to ``s_hi`` into ``tables``
        (XOR steps only when ``tables`` is None)."""
        if tables is None:
            tables = np.zeros(0, dtype=np.uint64)
        self.kern.garble(self.rk, self.store.reshape(-1), self.batch, self.R[0], self.R[1],
                         *self.prog.args(), self.step_no, s_hi, self.tweak_start, tables)
        self.step_no = s_hi

    def _start(self) -> None:
        if self._started:
            raise GarbleError("blocks() may be iterated once per Garbler")
        self._started = True

    def _numpy_blocks(self) -> Iterator[np.ndarray]:
        self._start()
        while True:
            st = self.run_until_and()
            if st is None:
                break
            block = np.empty((2, st.count, self.batch, 2), dtype=np.uint64)
            self._garble(st, block)
            self.step_no += 1
            yield block
        self.finish()

    def _garble(self, st: AndStep, block: np.ndarray) -> None:
        k = self.batch
        flat = self.store.reshape(-1, 2)
        scr = self.scr
        qv, rs, views = scr.qv, self.rs, scr.views
        xor, band, mul, add = np.bitwise_xor, np.bitwise_and, np.multiply, np.add
        for a, c, idx, arity in self.plan[self.step_no]:
            v = views(c * k, k)
            m = v.m
            self.gather(idx, arity, v.gx_ab, v.gx_ab_v, scr)  # [A0 | B0]
            xor(v.gx_ab2, self._rr(m), v.gx_r)              # [A1 | B1]
            band(v.gx_col, v.ones, v.cb)                    # [pa | pb]
            rs.take(v.cb_hi, None, v.gx_pbr_v, "clip")      # pb R
            self.hash_chunk(v, v.gx_in, st, a)
            xor(v.q_a1, v.gx_pbr, v.q_a1)                   # H(A1) ^ pb R
            tab, te = self.table_views(block, a, c, st.count)
            if c == st.count:
                xor(v.q_lo, v.q_hi, tab)                    # [TG | TE ^ A0]
            else:
                xor(v.q_lo.reshape(2, m, 2), v.q_hi.reshape(2, m, 2), out=tab)
            xor(te, v.gx_a, te)
            # C0 = (pa ? H(A1) ^ pb R : H(A0)) ^ (pb ? H(B1) : H(B0)), by index arithmetic
            mul(v.cb, v.stride, v.ib)
            add(v.ib, v.ar, v.ib)
            qv.take(v.ib, None, v.gv, "clip")
            s0 = (st.start + a) * k
            xor(v.g0, v.g1, flat[s0:s0 + m])

    def _rr(self, m: int) -> np.ndarray:
        """R repeated 2m times (contiguous: a broadcast operand is slower)."""
        got = self._rr_views.get(m)
        if got is None:
            if self._rr_buf.shape[0] < 2 * m:
                self._rr_buf = np.empty((2 * m, 2), dtype=np.uint64)
                self._rr_buf[:] = self.R
                self._rr_views.clear()
            got = self._rr_views[m] = self._rr_buf[:2 * m]
        return got

    def output_zero_labels(self) -> np.ndarray:
        """Zero-labels of the output wires (K, n_out, 2), after every block was produced."""
        self._need_done()
        return self.finish()

    def decoding_bits(self) -> np.ndarray:
        """Colour bits of the output zero-labels, (K, n_out) uint8: the decoding information.
        Output bit = evaluator's colour bit XOR this bit."""
        return (self.output_zero_labels()[:, :, 0] & np.uint64(1)).astype(np.uint8)

    def _need_done(self) -> None:
        if self.output_labels_ is None and self.and_layers and not self._started:
            raise GarbleError("iterate blocks() to the end before asking for the outputs")
