"""Checked mode: overflow detected inside the circuit, revealed as one bit.

For every operation the range analysis (:mod:`.ranges`) finds may overflow, the circuit also
computes the operation one size wider (``+ - neg``: one more bit; ``*``: twice the width; a
fixed-point quotient: W+F+1 bits; a narrowing cast: the value cast back) and compares it with
the wrapped result. The flags are OR-ed into one bool, the hidden output ``OVERFLOW_PORT``,
addressed to every party that receives any output. When it is set the command line withholds
every result (``overflow: results withheld``, exit status 4). Each party learns that one bit
(whether some intermediate value overflowed) beyond the outputs; nothing else.
"""

from __future__ import annotations

from yaogc.circuits.errors import YaogcError
from yaogc.circuits.types import BOOL, FixedType, IntType

from .check import Elaborated
from .ops import signed
from .overflow import folded_wraps, overflowing

OVERFLOW_PORT = "_overflow"
EXIT_OVERFLOW = 4


class OverflowWithheld(YaogcError):
    """Checked mode's bit was set: a value passed its type, and every result (of every row)
    is withheld."""

    exit_code = EXIT_OVERFLOW

    def __init__(self):
        super().__init__("overflow: results withheld (a value passed its type in checked "
                         "mode; widen the types the range warnings name)")


def overflowed(outputs) -> bool:
    """Whether checked mode's hidden bit is set in any row of decoded outputs."""
    return any(row.get(OVERFLOW_PORT) for row in outputs)


def withhold_overflowed(outputs) -> None:
    """Raise :class:`OverflowWithheld` if checked mode's bit is set in any row of decoded
    outputs (a batch is withheld whole)."""
    if overflowed(outputs):
        raise OverflowWithheld()


def _wider(t, extra: int):
    if isinstance(t, FixedType):
        return FixedType(t.bits + extra, t.frac)
    return IntType(t.bits + extra, t.signed)


def _flag(g, n: int) -> int | None:
    """The bool node that is 1 when node n's result wrapped (None: nothing to check)."""
    op, t, args = g.op(n), g.type(n), g.args(n)
    w = t.width
    if op == "resize":
        src = g.type(args[0])
        back = g.make("resize", src, (n,))
        wrapped = g.make("ne", BOOL, (back, args[0]))
        if signed(src) == signed(t):
            return wrapped
        # a change of signedness survives the round trip (i16 -1 -> u16 65535 -> -1): the
        # value wrapped too when it is negative on the one side only
        neg = args[0] if signed(src) else n
        below = g.make("lt", BOOL, (neg, g.const(g.type(neg), 0)))
        return g.make("or", BOOL, (wrapped, below))
    if op in ("add", "sub", "neg", "abs"):
        wt = _wider(t, 1)
    elif op in ("mul", "fmul"):
        wt = _wider(t, w)
    elif op == "fdiv":
        wt = _wider(t, t.frac + 1)
    elif op == "div":
        wt = _wider(t, 1)
    elif op == "shl":
        wt = _wider(t, g.attr(n))
    else:
        return None
    if op in ("div", "fdiv") and g.const_value(args[1]) == 0:
        return None     # x / 0 is a documented value (all ones, ...), never a wrap
    wide_args = tuple(g.make("resize", wt, (a,)) for a in args)
    exact = g.make(op, wt, wide_args, g.attr(n))
    got = g.make("resize", wt, (n,))
    wrapped = g.make("ne", BOOL, (exact, got))
    if op in ("div", "fdiv") and g.const_value(args[1]) is None:
        # x / 0 is a documented value, not a quotient that wrapped
        nonzero = g.make("ne", BOOL, (args[1], g.const(g.type(args[1]), 0)))
        return g.make("and", BOOL, (wrapped, nonzero))
    return wrapped


def add_overflow_output(e: Elaborated) -> int:
    """Add the hidden overflow output to ``e`` (in place); returns how many operations are
    checked. Every party that receives an output receives the bit."""
    g = e.graph
    if any(name == OVERFLOW_PORT for _, name, _, _ in e.outputs):
        raise ValueError(f"an output is named {OVERFLOW_PORT}, which checked mode reserves")
    # the operands the program wrote but a fold dropped ((x * y) * 0, a - a) are checked too
    roots = list(e.roots())
    roots += g.unread_written(roots)
    # and those whose range is unknown (a quotient by a divisor that may be 0): the check
    # costs gates, but without it a wrapped quotient would be printed as valid
    flags = [f for f in (_flag(g, n) for n in overflowing(g, roots, unknown=True))
             if f is not None]
    if folded_wraps(g, roots):
        # an operation on constants wrapped when it was folded: the bit is set whatever
        # the inputs
        flags.append(g.true())
    bit = g.false()
    for f in flags:
        bit = g.make("or", BOOL, (bit, f))
    recipients = []
    for rec, _, _, _ in e.outputs:
        for p in rec:
            if p not in recipients:
                recipients.append(p)
    e.outputs.append((tuple(recipients), OVERFLOW_PORT, BOOL, [bit]))
    return len(flags)


__all__ = ["add_overflow_output", "OVERFLOW_PORT", "EXIT_OVERFLOW", "OverflowWithheld",
           "overflowed", "withhold_overflowed"]
