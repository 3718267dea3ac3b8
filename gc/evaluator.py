"""The evaluator: half-gates evaluation of a Schedule, one streamed AND layer at a time.

Half-gates: Zahur, Rosulek and Evans, EUROCRYPT 2015; hash as in :mod:`yaogc.gc.garbler`
(Guo, Katz, Wang, Yu, IEEE S&P 2020). Holding one label W_A, W_B per operand with colour bits
sa, sb, and the gate's table (TG, TE):

    C = H(W_A, 2j) ^ sa TG  ^  H(W_B, 2j+1) ^ sb (TE ^ W_A)

XOR and NOT cost nothing: the constant-one slot of the store is zero here, so a NOT leaves the
label as it is (the garbler flips its zero-label by R instead).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from yaogc.circuits.schedule import AndStep, Schedule

from .engine import Engine
from .errors import GarbleError
from .tweaks import TweakCounter


class Evaluator(Engine):
    """Evaluates ``batch`` instances of a Schedule from its input labels and table blocks.
    ``engine``: 'numpy', 'native' or None/'auto' (see :mod:`yaogc.gc.native`)."""

    def __init__(self, schedule: Schedule, batch: int = 1, counter: TweakCounter | None = None,
                 engine: str | None = None):
        super().__init__(schedule, batch, counter, engine)
        self._inputs_set = False
        self._pending: AndStep | None = None
        self._widths = schedule.cached("widths", lambda: np.array(schedule.widths,
                                                                  dtype=np.int64))

    def set_inputs(self, labels: np.ndarray) -> None:
        """The active label of every input wire, (K, n_in, 2) uint64."""
        labels = np.asarray(labels)
        want = (self.batch, self.schedule.n_inputs, 2)
        if labels.shape != want or labels.dtype != np.uint64:
            raise GarbleError(f"input labels must be uint64 of shape {want}, got "
                              f"{labels.dtype} {labels.shape}")
        self.input_slots()[:] = labels.transpose(1, 0, 2)
        self._inputs_set = True

    def expected_block_bytes(self) -> int | None:
        """Size of the next table block, or None when every layer has been fed."""
        st = self._next()
        return None if st is None else 32 * st.count * self.batch

    def _next(self) -> AndStep | None:
        if not self._inputs_set:
            raise GarbleError("set_inputs() must come before the first table block")
        if self.engine == "native":
            a = self.prog.and_steps
            return self.schedule.steps[a[self.layer]] if self.layer < a.size else None
        if self._pending is None:
            self._pending = self.run_until_and()
        return self._pending

    def feed(self, block) -> None:
        """Evaluate the next AND layer with its table block: an array of any dtype and shape
        or a bytes-like object, holding the layer's 32 bytes per gate and instance in the
        layout of :mod:`yaogc.gc.garbler`."""
        self.feed_run(block, 1)

    def feed_run(self, tables, layers: int) -> None:
        """Evaluate the next ``layers`` AND layers with their blocks back to back in
        ``tables`` (as a :meth:`Garbler.block_runs` run, or blocks concatenated): the native
        engine runs them in one call."""
        st = self._pending if self._pending is not None else self._next()
        if st is None:
            raise GarbleError(f"table block beyond the last of {self.and_layers} AND layers")
        done = self.layer
        if not isinstance(layers, (int, np.integer)) or layers < 1 \
                or done + layers > self._widths.size:
            raise GarbleError(f"cannot feed {layers!r} AND layers after {done} of "
                              f"{self._widths.size}")
        layers = int(layers)
        gates = int(self._widths[done:done + layers].sum()) if layers > 1 else st.count
        want = 32 * gates * self.batch
        raw = self._words(tables, want, done, layers, st)
        if self.engine == "native":
            self.run_native(self.native_steps_to(done + layers), raw)
            self.layer = done + layers
            return
        pos = 0
        for _ in range(layers):
            st = self._next()
            n = 4 * st.count * self.batch
            self._evaluate(st, raw[pos:pos + n].reshape(2, -1, 2))
            pos += n
            self.step_no += 1
            self.layer += 1
            self._pending = None

    def _words(self, block, want: int, done: int, layers: int, st: AndStep) -> np.ndarray:
        """``block`` as a flat, aligned uint64 array of ``want`` bytes (checked)."""
        if (type(block) is np.ndarray and block.dtype == np.uint64 and 8 * block.size == want
                and block.flags.c_contiguous and block.flags.aligned):
            return block.reshape(-1)        # a garbler's block, as it is
        if isinstance(block, np.ndarray):
            raw = np.ascontiguousarray(block).reshape(-1).view(np.uint8)
        else:
            raw = np.frombuffer(memoryview(block).cast("B"), dtype=np.uint8)
        if raw.size != want:
            if layers == 1:
                raise GarbleError(f"table block for AND layer {done + 1} must be "
                                  f"{want} bytes ({st.count} gates x {self.batch} instances x "
                                  f"32), got {raw.size}")
            raise GarbleError(f"table blocks for AND layers {done + 1}..{done + layers} must "
                              f"be {want} bytes, got {raw.size}")
        tables = raw.view(np.uint64)
        if not tables.flags.aligned:
            tables = tables.copy()      # one aligned copy beats unaligned ufunc loops
        return tables

    def run_native(self, s_hi: int, tables) -> None:
        """Native engine: the steps from the current one to ``s_hi`` (XOR steps only when
        ``tables`` is None)."""
        if tables is None:
            tables = np.zeros(0, dtype=np.uint64)
        self.kern.evaluate(self.rk, self.store.reshape(-1), self.batch, *self.prog.args(),
                           self.step_no, s_hi, self.tweak_start, tables)
        self.step_no = s_hi

    def run(self, blocks: Iterable) -> np.ndarray:
        """Feed every block, then return the output colour bits."""
        for b in blocks:
            self.feed(b)
        return self.output_colours()

    def _evaluate(self, st: AndStep, tables: np.ndarray) -> None:
        k = self.batch
        flat = self.store.reshape(-1, 2)
        scr = self.scr
        qv, views = scr.qv, scr.views
        xor, band, mul, add = np.bitwise_xor, np.bitwise_and, np.multiply, np.add
        for a, c, idx, arity in self.plan[self.step_no]:
            v = views(c * k, k)
            m = v.m
            self.gather(idx, arity, v.ex_ab, v.ex_ab_v, scr)  # [A | B]
            band(v.ex_col, v.ones, v.cb)                    # [sa | sb]
            self.hash_chunk(v, v.ex_in, st, a)
            tab, _ = self.table_views(tables, a, c, st.count)
            if c == st.count:
                xor(tab, v.q_lo, v.q_hi)                    # [TG ^ H(A) | TE ^ H(B)]
            else:
                xor(tab, v.q_lo.reshape(2, m, 2), out=v.q_hi.reshape(2, m, 2))
            xor(v.q_t, v.ex_a, v.q_t)
            mul(v.cb, v.stride, v.ib)
            add(v.ib, v.ar, v.ib)
            qv.take(v.ib, None, v.gv, "clip")
            s0 = (st.start + a) * k
            xor(v.g0, v.g1, flat[s0:s0 + m])

    def output_labels(self) -> np.ndarray:
        """Labels of the output wires, (K, n_out, 2) uint64, after the last block."""
        self._next()
        return self.finish()

    def output_colours(self) -> np.ndarray:
        """Colour bits of the output labels, (K, n_out) uint8 (XOR with the decoding bits)."""
        return (self.output_labels()[:, :, 0] & np.uint64(1)).astype(np.uint8)
