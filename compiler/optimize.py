"""Word-level passes: dead-code elimination and rebalancing of associative chains.

The graph is rebuilt from the outputs, so only operations some output depends on survive
(an unused input or computation costs nothing) and every node is re-simplified and
hash-consed in the new graph. A chain is a run of the same associative operation on one type
where each inner link has no other user, e.g. the ``count = count + x[i]`` of an unrolled loop:

* chains of ``+`` and ``-`` become one n-ary ``sum`` node, lowered to a single bit heap
  (carry-save columns: AND-depth logarithmic in the number of terms, narrow terms such as bools
  cost only their own bits, a sum of bools is a popcount);
* chains of ``*``, ``&``, ``|``, ``^``, ``min``, ``max`` become balanced binary trees, so a
  running maximum over N values has comparator depth log2 N instead of N.
"""

from __future__ import annotations

from .check import Elaborated
from .ir import WordGraph

_SUM = ("add", "sub")
_TREE = ("mul", "and", "or", "xor", "min", "max")


def _family(op: str) -> str | None:
    if op in _SUM:
        return "sum"
    if op in _TREE:
        return op
    return None


def optimize(e: Elaborated) -> Elaborated:
    src = e.graph
    roots = [n for out in e.outputs for n in out[3]]
    live = src.live(roots)
    uses, user = src.use_counts(live, roots)

    def absorbed(n: int) -> bool:
        fam = _family(src.op(n))
        u = user[n]
        return (fam is not None and uses[n] == 1 and u >= 0 and _family(src.op(u)) == fam
                and src.type(u) == src.type(n))

    new = WordGraph()
    m: dict[int, int] = {}
    for n in live:
        op = src.op(n)
        if op == "input":
            m[n] = new.input(src.type(n), src.attr(n))
        elif op == "const":
            m[n] = new.const(src.type(n), src.attr(n))
        elif absorbed(n):
            continue
        elif _family(op) == "sum":
            m[n] = _emit_sum(new, src, n, absorbed, m)
        elif op in _TREE:
            m[n] = _emit_tree(new, src, n, absorbed, m)
        else:
            m[n] = new.make(op, src.type(n), [m[a] for a in src.args(n)], src.attr(n))
    outputs = [(rec, name, t, [m[x] for x in ns]) for rec, name, t, ns in e.outputs]
    return Elaborated(e.name, e.parties, new, list(e.inputs), outputs)


def _leaves(src, root: int, absorbed, signed_terms: bool) -> list[tuple[int, bool]]:
    """Leaves of the chain under ``root``, left to right, with their sign (for sums)."""
    out = []
    stack = [(root, False)]
    while stack:
        n, neg = stack.pop()
        if n != root and not absorbed(n):
            out.append((n, neg))
            continue
        a, b = src.args(n)
        b_neg = neg ^ (signed_terms and src.op(n) == "sub")
        stack.append((b, b_neg))
        stack.append((a, neg))
    return out


def _emit_sum(new: WordGraph, src, root: int, absorbed, m) -> int:
    t = src.type(root)
    terms = _leaves(src, root, absorbed, True)
    const = 0
    args, signs = [], []
    for n, neg in terms:
        x = m[n]
        c = new.const_value(x)
        if c is not None:
            const += -c if neg else c
            continue
        args.append(x)
        signs.append(neg)
    if const % (1 << t.width):
        args.append(new.const(t, const))
        signs.append(False)
    if not args:
        return new.const(t, 0)
    if len(args) == 1:
        return new.make("neg", t, (args[0],)) if signs[0] else args[0]
    if len(args) == 2:
        if not signs[0] and not signs[1]:
            return new.make("add", t, args)
        if not signs[0] and signs[1]:
            return new.make("sub", t, args)
        if signs[0] and not signs[1]:
            return new.make("sub", t, (args[1], args[0]))
    return new._add("sum", t, tuple(args), tuple(signs))


def _emit_tree(new: WordGraph, src, root: int, absorbed, m) -> int:
    op, t = src.op(root), src.type(root)
    items = [m[n] for n, _ in _leaves(src, root, absorbed, False)]
    while len(items) > 1:
        nxt = [new.make(op, t, (items[i], items[i + 1])) for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]
