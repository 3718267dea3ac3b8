"""A progress line on stderr for long two-party runs: AND layers done and AND gates per second
(for a sharded run: shards and rows done, and AND gates per second of the whole run).

A run's line appears only once it has lasted about two seconds (a sharded run's at each
finished shard), only when stderr is a terminal, and
never with ``--quiet``; it redraws in place at most a few times a second and is erased when
the run ends, so the output that follows (or an error) starts on a clean line.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

SHOW_AFTER = 2.0
REDRAW_EVERY = 0.25


class Progress:
    """Call :meth:`update` as layers finish; it decides by itself whether to draw."""

    def __init__(self, total_layers: int, *, label: str = "", enabled: bool | None = None,
                 stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.total_layers = total_layers
        self.label = label
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._width = 0

    def restart(self) -> None:
        self.start = time.perf_counter()

    def update(self, layers_done: int, ands_done: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        elapsed = now - self.start
        if elapsed < SHOW_AFTER or now - self._last_draw < REDRAW_EVERY:
            return
        self._last_draw = now
        rate = ands_done / elapsed if elapsed > 0 else 0.0
        pct = 100.0 * layers_done / self.total_layers if self.total_layers else 100.0
        self._draw(f"{self.label}layer {layers_done}/{self.total_layers} ({pct:.0f}%), "
                   f"{_si(ands_done)} AND, {_si(rate)} AND/s, {elapsed:.1f} s")

    def _draw(self, line: str) -> None:
        pad = max(0, self._width - len(line))
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self._width = len(line)

    def close(self) -> None:
        """Erase the line, if one was drawn."""
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.1f}{unit}"
    return f"{x:.0f}"


class ShardProgress(Progress):
    """The progress line of a sharded run: shards done, rows done, AND gates per second."""

    def __init__(self, shards: int, *, label: str = "", enabled: bool | None = None,
                 stream: TextIO | None = None):
        super().__init__(shards, label=label, enabled=enabled, stream=stream)

    def update(self, shards_done: int, rows_done: int, ands_done: int) -> None:  # type: ignore[override]
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        rate = ands_done / elapsed if elapsed > 0 else 0.0
        self._draw(f"{self.label}shards {shards_done}/{self.total_layers}, {rows_done} rows, "
                   f"{_si(ands_done)} AND, {_si(rate)} AND/s, {elapsed:.1f} s")
