"""Tweak bookkeeping for the TCCR hash: every garbled AND gate gets tweaks of its own.

Half-gates (Zahur, Rosulek, Evans, EUROCRYPT 2015) hashes each AND gate's two input labels
under tweaks ``2j`` and ``2j+1``; the tweakable hash of Guo, Katz, Wang and Yu (IEEE S&P 2020)
is only secure if no tweak repeats within a session. A :class:`TweakCounter` is the session's
source of gate indices ``j``: each garbling run (one circuit, one batch) takes a contiguous
range of ``n_and * batch`` of them, so runs sharing one counter never reuse a tweak, across
layers, batch instances and circuits. Garbler and evaluator each keep a counter and advance
them identically.
"""

from __future__ import annotations

from .errors import GarbleError

# j stays below 2**62 so that 2j + 1 fits the low word of the 128-bit tweak
MAX_GATE_INDEX = 1 << 62


class TweakCounter:
    """The next free gate index ``j`` of a session (starts at ``start``, default 0)."""

    def __init__(self, start: int = 0):
        if not isinstance(start, int) or not 0 <= start < MAX_GATE_INDEX:
            raise GarbleError(f"tweak counter start must be an integer in 0..2**62-1, "
                              f"got {start!r}")
        self.value = start

    def take(self, n: int) -> int:
        """Reserve ``n`` gate indices; returns the first."""
        if n < 0:
            raise GarbleError(f"cannot reserve {n} gate indices")
        first = self.value
        if first + n > MAX_GATE_INDEX:
            raise GarbleError("tweak counter exhausted: start a new session (fresh R and labels)")
        self.value = first + n
        return first

    def __repr__(self) -> str:
        return f"TweakCounter({self.value})"
