"""Lowering: word-level IR -> Boolean circuit, through the circuits Builder and word library.

Every IR operation maps onto one function of :mod:`yaogc.circuits.words`, so each costs what
the word library costs. Fixed-point values are signed words of their raw bits; a fixed-point
product takes bits F..F+W-1 of the full signed product, a quotient is a signed division of the
dividend shifted left by F, corrected toward negative infinity.
"""

from __future__ import annotations

from yaogc.circuits import words as W
from yaogc.circuits.builder import ONE, ZERO, Builder
from yaogc.circuits.circuit import Circuit
from yaogc.circuits.types import BoolType

from . import ops
from .check import Elaborated


def lower(e: Elaborated) -> Circuit:
    b = Builder(e.name, e.parties)
    ports = [b.input(party, name, t) for party, name, t in e.inputs]
    g = e.graph
    roots = [n for out in e.outputs for n in out[3]]
    wires: dict[int, list[int]] = {}
    divs: dict[tuple, tuple] = {}
    for n in g.live(roots):
        wires[n] = _lower_node(b, g, n, wires, ports, divs)
    for rec, name, t, ns in e.outputs:
        out: list[int] = []
        for x in ns:
            out.extend(wires[x])
        b.output(rec, name, t, out)
    return b.build()


def _lower_node(b: Builder, g, n: int, wires, ports, divs) -> list[int]:
    op, t = g.op(n), g.type(n)
    args = [wires[a] for a in g.args(n)]
    attr = g.attr(n)
    w = t.width
    sgn = ops.signed(t)
    if op == "const":
        return W.const_word(attr, w)
    if op == "input":
        port, off = attr
        return list(ports[port][off:off + w])
    if op == "add":
        return W.add(b, *args)
    if op == "sub":
        return W.sub(b, *args)
    if op == "sum":
        return _sum(b, g, g.args(n), attr, w, wires)
    if op == "neg":
        return W.neg(b, args[0])
    if op == "mul":
        c = _const_arg(g, n)
        if c is not None:
            k, x = c
            return W.mul_const(b, wires[x], k)
        return W.mul(b, *args)
    if op == "fmul":
        return _fixed_mul(b, g, n, args, w, attr, wires)
    if op == "fdiv":
        return _fixed_div(b, args, w, attr, g.const_value(g.args(n)[1]))
    if op in ("div", "mod"):
        x, y = g.args(n)
        key = (x, y, sgn)
        if key not in divs:
            d = g.const_value(y)
            if d is not None:
                divs[key] = (W.divmod_const_s if sgn else W.divmod_const_u)(b, args[0], d)
            else:
                divs[key] = (W.divmod_s if sgn else W.divmod_u)(b, *args)
        q, r = divs[key]
        return list(q if op == "div" else r)
    if op == "not":
        return W.not_w(b, args[0])
    if op == "and":
        return W.and_w(b, *args)
    if op == "or":
        return W.or_w(b, *args)
    if op == "xor":
        return W.xor_w(b, *args)
    if op == "shl":
        return W.shl(args[0], attr)
    if op == "shr":
        return W.shr(args[0], attr, sgn)
    if op == "shlv":
        return W.shl_var(b, args[0], args[1])
    if op == "shrv":
        return W.shr_var(b, args[0], args[1], sgn)
    if op == "rotl":
        return W.rotl(args[0], attr)
    if op == "rotr":
        return W.rotr(args[0], attr)
    if op == "rotlv":
        return W.rotl_var(b, args[0], args[1])
    if op == "rotrv":
        return W.rotr_var(b, args[0], args[1])
    if op in ("eq", "ne", "lt", "le"):
        at = g.type(g.args(n)[0])
        if op == "eq":
            return [W.eq(b, *args)]
        if op == "ne":
            return [W.ne(b, *args)]
        return [(W.lt if op == "lt" else W.le)(b, args[0], args[1], ops.signed(at))]
    if op == "mux":
        return W.mux(b, args[0][0], args[1], args[2])
    if op == "resize":
        src = g.type(g.args(n)[0])
        return W.extend(args[0], w, ops.signed(src))
    if op == "reinterp":
        return list(args[0])
    if op == "popcount":
        bits = args[0] if len(args) == 1 and not isinstance(g.type(g.args(n)[0]), BoolType) \
            else [a[0] for a in args]
        return W.extend(W.popcount(b, bits), w, False)
    if op == "bit":
        return [args[0][attr]]
    if op == "index":
        return _index(b, args[0], args[1:], w, ops.signed(g.type(g.args(n)[0])))
    if op == "min":
        return W.min_(b, args[0], args[1], sgn)
    if op == "max":
        return W.max_(b, args[0], args[1], sgn)
    if op == "abs":
        return W.abs_(b, args[0])
    raise KeyError(op)


def _const_arg(g, n: int):
    """(constant, other operand) of a binary node with one constant operand, else None."""
    x, y = g.args(n)
    cy = g.const_value(y)
    if cy is not None:
        return cy, x
    cx = g.const_value(x)
    if cx is not None:
        return cx, y
    return None


def _sum(b: Builder, g, terms, signs, w: int, wires) -> list[int]:
    """One bit heap for all terms; zero-extended terms add only their own bits."""
    heap = W.BitHeap(b, w)
    for x, neg in zip(terms, signs):
        word = wires[x]
        if g.op(x) == "resize":
            inner = g.args(x)[0]
            it = g.type(inner)
            if not ops.signed(it) and it.width < w:
                word = wires[inner]
        heap.add_word(word, 0, neg)
    return heap.result()


def _fixed_mul(b: Builder, g, n: int, args, w: int, frac: int, wires) -> list[int]:
    c = _const_arg(g, n)
    if c is not None:
        k, x = c
        # only bits below F + W of the product matter: multiply at that width
        prod = W.mul_const(b, W.extend(wires[x], w + frac, True), k)
    else:
        prod = W.mul_full(b, args[0], args[1], True, width=frac + w)
    return list(prod[frac:frac + w])


def _fixed_div(b: Builder, args, w: int, frac: int, const_divisor: int | None) -> list[int]:
    x = W.shl(W.extend(args[0], w + frac, True), frac)
    y = W.extend(args[1], w + frac, True)
    if const_divisor is not None:
        q, r = W.divmod_const_s(b, x, const_divisor)
    else:
        q, r = W.divmod_s(b, x, y)
    # truncation -> floor: subtract one when the remainder is nonzero and its sign differs
    # from the divisor's (the remainder has the dividend's sign)
    adjust = b.and_(W.ne(b, r, W.const_word(0, len(r))), b.xor(r[-1], y[-1]))
    return W.not_w(b, W.inc_by(b, W.not_w(b, q[:w]), adjust))


def _index(b: Builder, idx: list[int], items: list[list[int]], w: int, signed: bool) -> list[int]:
    """items[idx] by a multiplexer tree on the index bits; out of range gives zero.

    With m items, not a power of two, the tree either pads with zero words (a mux against
    zero still costs w ANDs, on every level where a layer is odd) or lets the odd item pass
    up unmuxed and zeroes the result unless idx < m (w ANDs and a comparison with m, once);
    whichever costs fewer ANDs."""
    n = len(items)
    levels = (n - 1).bit_length()
    usable = len(idx) - 1 if signed else len(idx)
    low = idx[:min(levels, usable)]
    high = idx[len(low):]
    layer = [list(x) for x in items[:1 << len(low)]]
    m = len(layer)
    padded = w * sum(-(-m >> lv) for lv in range(1, len(low) + 1))
    passing = w * (m - 1) + (0 if high else w) + len(low)
    checked = m < (1 << len(low)) and passing < padded
    zero = [ZERO] * w
    for s in low:
        odd = layer[-1] if len(layer) % 2 else None
        if odd is not None:
            layer = layer[:-1] if checked else layer + [zero]
        layer = [W.mux(b, s, layer[i + 1], layer[i]) for i in range(0, len(layer), 2)]
        if odd is not None and checked:
            layer.append(odd)
    out = layer[0]
    inside = W.lt(b, low, W.const_word(m, len(low))) if checked else None
    if high:
        outside_high = b.not_(W.or_tree(b, high))
        inside = outside_high if inside is None else b.and_(inside, outside_high)
    if inside is not None:
        out = [b.and_(inside, o) for o in out]
    return out


__all__ = ["lower", "ONE"]
