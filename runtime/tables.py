"""Streaming garbled tables: the garbler's frames out, the evaluator's layer blocks in.

The engine yields table blocks in runs of whole AND layers (one layer per run on the numpy
engine, many on the native one), 32 bytes per AND gate per row. The garbler
gathers small blocks into frames of up to ``FRAME_TARGET`` bytes, but lets a frame go as soon
as it holds ``FRAME_IDLE`` bytes and the socket has nothing queued, so that one instance of a
deep circuit streams layer by layer. Frames below ``INLINE_MAX`` are written by the garbling
thread itself; larger ones go through a sender thread, since writing several MiB blocks until
the evaluator has read most of it. The evaluator reads frames in its own thread and cuts them
into runs of whole layers without copying, except a layer that straddles two frames.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Iterable

import numpy as np

from .errors import ProtocolError
from .progress import Progress

FRAME_TARGET = 256 << 10  # table bytes gathered before a frame goes out
FRAME_IDLE = 16 << 10     # ... or this many, when no frame is waiting to be sent
INLINE_MAX = 1 << 20      # smaller frames are written by the garbling thread itself
SEND_QUEUE = 16           # frames the garbler may run ahead of the socket
FRAME_MAX = 32 << 20      # larger blocks (huge batches) are cut, far below the frame cap


class _Sender(threading.Thread):
    """Writes table frames so garbling goes on while the socket drains.

    A large frame goes to a queue that this thread writes out (a write of several MiB blocks
    until the evaluator has read most of it); a small one, when nothing is queued, is written
    at once by the garbling thread, which costs less than waking this one (the GIL)."""

    def __init__(self, ch, kind: int):
        super().__init__(name="yaogc-table-sender", daemon=True)
        self.ch, self.kind = ch, kind
        self.q: queue.Queue = queue.Queue(SEND_QUEUE)
        self.error: BaseException | None = None
        self.first_sent: float | None = None

    def _send(self, item) -> None:
        self.ch.send_msg(self.kind, item, flush=True)
        if self.first_sent is None:
            self.first_sent = time.perf_counter()

    def run(self) -> None:
        while True:
            item = self.q.get()
            try:
                if item is None:
                    return
                if self.error is None:  # after a failure: drain, so the producer never blocks
                    self._send(item)
            except BaseException as e:  # noqa: BLE001 - re-raised in the garbling thread
                self.error = e
            finally:
                self.q.task_done()

    def put(self, item) -> None:
        if self.error is not None:
            raise self.error
        if item.nbytes < INLINE_MAX and self.q.unfinished_tasks == 0:
            self._send(item)  # this thread is idle: the channel is ours
        else:
            self.q.put(item)

    def finish(self) -> None:
        self.q.put(None)
        self.join()
        if self.error is not None:
            raise self.error
        self.ch.flush()


def send_rows(ch, arr: np.ndarray, kind: int) -> None:
    """Send an array as typed messages of at most FRAME_MAX bytes each, cut along axis 0."""
    step = max(1, FRAME_MAX // max(1, arr[:1].nbytes))
    for i in range(0, max(len(arr), 1), step):
        ch.send_array(np.ascontiguousarray(arr[i:i + step]), kind)
    ch.flush()


def recv_rows(ch, dtype, shape: tuple[int, ...], kind: int) -> np.ndarray:
    """Receive what :func:`send_rows` sent for an array of this dtype and shape."""
    out = np.empty(shape, dtype)
    step = max(1, FRAME_MAX // max(1, out[:1].nbytes))
    for i in range(0, max(len(out), 1), step):
        part = out[i:i + step]
        part[...] = ch.recv_array(dtype, part.shape, kind=kind)
    return out


def send_tables(ch, runs: Iterable[tuple[np.ndarray, int]], kind: int,
                progress: Progress | None = None) -> tuple[float | None, int]:
    """Stream the engine's table runs (``Garbler.block_runs()``: a flat block holding some
    whole layers, and how many) as typed messages of ``kind``; returns (time the first frame
    went out, table bytes sent)."""
    sender = _Sender(ch, kind)
    sender.start()
    pending: list = []
    size = sent = layers = 0
    try:
        for block, n in runs:
            sent += block.nbytes
            layers += n
            if block.nbytes > FRAME_MAX:
                flat = block.reshape(-1)
                step = FRAME_MAX // flat.itemsize
                pending += [flat[i:i + step] for i in range(0, flat.size, step)]
            elif block.nbytes:      # the reader refuses empty frames
                pending.append(block)
            size += block.nbytes
            while pending and (size >= FRAME_TARGET or
                               (size >= FRAME_IDLE and not sender.q.unfinished_tasks)):
                if size > FRAME_MAX:  # only a cut block leaves more than one frame
                    item = pending.pop(0)
                else:
                    item = pending[0] if len(pending) == 1 else np.concatenate(pending, axis=None)
                    pending = []
                sender.put(item)
                size -= item.nbytes
            if progress is not None:
                progress.update(layers, sent // 32)
        if pending:
            sender.put(np.concatenate(pending, axis=None))
    finally:
        sender.finish()
    return sender.first_sent, sent


class TableReader:
    """Hands out exactly the bytes of each layer, reading table frames as they are needed.

    The evaluator reads in its own thread: while it evaluates, the kernel's socket buffers
    (several MiB) keep taking the garbler's stream, and a second reading thread would only
    contend for the GIL with the evaluation.
    """

    def __init__(self, ch, total: int, kind: int):
        self.ch, self.total, self.kind = ch, total, kind
        self.got = 0
        self.first: float | None = None
        self.buf = np.zeros(0, np.uint8)
        self.pos = 0

    def _next_frame(self) -> np.ndarray:
        # no more than the tables still due: a larger announced frame is refused at once
        frame = self.ch.recv_array(np.uint8, None, kind=self.kind,
                                   limit=max(self.total - self.got, 0))
        if self.first is None:
            self.first = time.perf_counter()
        if not frame.size:      # never sent (send_tables sends no empty block): a flood of
            # them would hold the evaluator busy for the whole deadline
            raise ProtocolError("the garbler sent an empty table frame", phase=self.ch.phase)
        if self.got + frame.size > self.total:
            raise ProtocolError(f"the garbler sent {self.got + frame.size} table bytes, more "
                                f"than the {self.total} this circuit has", phase=self.ch.phase)
        self.got += frame.size
        return frame

    def take(self, n: int) -> np.ndarray:
        self._fill(n)
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def take_layers(self, cum: np.ndarray, i: int) -> tuple[np.ndarray, int]:
        """The bytes of layer ``i`` and of as many following layers as have arrived whole
        (``cum``: cumulative layer sizes), and how many layers that is: the native engine
        evaluates them in one call."""
        before = int(cum[i - 1]) if i else 0
        self._fill(int(cum[i]) - before)
        have = before + self.buf.size - self.pos
        end = max(i + 1, int(np.searchsorted(cum, have, "right")))
        n = int(cum[end - 1]) - before
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out, end - i

    def _fill(self, n: int) -> None:
        """Make sure at least ``n`` unread bytes are buffered (reading frames as needed)."""
        if self.buf.size - self.pos < n:
            rest = self.buf[self.pos:]
            f = self._next_frame()
            if not rest.size and f.size >= n:
                # a layer that fills whole frames is used in place; only a split layer is
                # joined
                self.buf, self.pos = f, 0
                return
            # joined as the frames come, into one buffer: its memory is the bytes received,
            # however many frames they came in (a list of frames cost ~100 bytes a frame)
            joined = bytearray(rest.tobytes())
            joined += f.data
            while len(joined) < n:
                joined += self._next_frame().data
            self.buf = np.frombuffer(joined, dtype=np.uint8)
            self.pos = 0
