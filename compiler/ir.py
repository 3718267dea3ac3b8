"""The word-level IR: a DAG of operations on whole words, kept in a ``networkx.DiGraph``.

Node ids are consecutive integers handed out in creation order; an operation's operands are
always older nodes, so ascending id order is a topological order and everything that walks the
graph is deterministic (no set or hash order is ever consulted). Each node carries ``op``,
``type`` (a scalar value type: bool, integer or fixed-point), ``args`` (operand ids, in order)
and ``attr`` (a constant, a shift amount, an input position). Edges run operand -> user.

:meth:`WordGraph.make` is the only way to add an operation. It folds constants, applies the
algebraic rules of :mod:`simplify`, and hash-conses (an identical operation on identical
operands returns the existing node), which is common-subexpression elimination at build time.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np

from yaogc.circuits.types import BOOL, FixedType, ValueType

from . import ops
from .simplify import _RULES

# the most word operations one graph holds; a compile holds its program to what the
# machine's memory takes (pipeline.node_limit), at least FEW_NODES
MAX_NODES = 64_000_000
FEW_NODES = 250_000
# memory a word operation takes while a program compiles, at the peak (the elaborated and
# the rebuilt graph, their memo and the passes' per-node lists: measured 430-600 bytes on
# programs of many small operations), rounded up
BYTES_PER_NODE = 800
# a graph this much larger tells its on_grow hook (a long compile stage's progress)
PROGRESS_NODES = 1 << 20
# an entry of WordGraph.dropped or .replaced whose readers are not known yet
PENDING = type("Pending", (), {"__repr__": lambda self: "PENDING"})()

# the limit and progress hook of the compile running on this thread (:func:`compile_limits`)
_current = threading.local()


def active_limits():
    """The (most, on_grow, why) of the :func:`compile_limits` this thread runs in, or None."""
    return getattr(_current, "limits", None)


@contextmanager
def compile_limits(most: int, on_grow=None, why: str = "the most a graph holds"):
    """Every graph made on this thread meanwhile (the elaborated one and those the passes
    rebuild) holds at most ``most`` nodes and calls ``on_grow(nodes)`` as it grows; ``why``
    says where the limit comes from, in the error of a program past it."""
    saved = active_limits()
    _current.limits = (most, on_grow, why)
    try:
        yield
    finally:
        _current.limits = saved


class TooLarge(Exception):
    """The program unrolls into more word operations than the compiler accepts."""


# how an operation's gates grow with its width w: (kind, factor); any other operation is
# linear, 6 w (the lowering's estimate of the gates it will emit, and speculation's costs)
_FREE, _LINEAR, _SQUARE, _TERMS, _SHIFTV = range(5)
_ESTIMATE = {**{op: (_SQUARE, 4) for op in ("mul", "fmul")},
             **{op: (_SQUARE, 8) for op in ("div", "mod", "fdiv")},
             "math": (_SQUARE, 24), "sum": (_TERMS, 5), "index": (_TERMS, 3),
             **{op: (_SHIFTV, 3) for op in ("shlv", "shrv", "rotlv", "rotrv")},
             **{op: (_FREE, 0) for op in ("const", "input", "shl", "shr", "rotl", "rotr",
                                          "resize", "reinterp", "bit")}}
_LINEAR_6 = (_LINEAR, 6)


def gate_estimate(op: str, t: ValueType, widths: list[int]) -> int:
    """About how many gates (AND + XOR + NOT) an operation lowers to, from the word
    library's costs: a few per bit for linear operations, a few per bit squared for
    products and quotients."""
    kind, f = _ESTIMATE.get(op, _LINEAR_6)
    if kind == _FREE:
        return 0
    if kind == _TERMS:
        return f * sum(widths)
    w = t.width
    for x in widths:
        if x > w:
            w = x
    if kind == _LINEAR:
        return f * w
    if kind == _SQUARE:
        return f * w * w
    return f * w * max(1, (w - 1).bit_length())


def _unique(held: list) -> list:
    """The entries (list, index) of ``held`` once each, in order: an operation on the same
    anchored constant twice (c * c), or on two carrying the same entries, would double them
    at every fold (four writes of a secret index folding into a median: minutes)."""
    if len(held) < 2:
        return held
    seen: dict = {}
    for at, i in held:
        seen.setdefault((id(at), i), (at, i))
    return list(seen.values()) if len(seen) < len(held) else held


def _nodes_of(v):
    """The nodes of a value of the elaboration (a word, or an array's or tuple's words), or
    of what reads an entry, found when asked (``v.nodes()``)."""
    nodes = getattr(v, "nodes", None)
    if nodes is not None:
        yield from nodes()
        return
    node = getattr(v, "node", None)
    if node is not None:
        yield node
    for it in getattr(v, "items", ()):
        yield from _nodes_of(it)


def memo_key(args: tuple, attr):
    """A node's key in its (operation, type)'s memo: its operand tuple itself, or
    (operands, attribute) where it has one (never equal to an operand tuple, whose items
    are ints)."""
    return args if attr is None else (args, attr)


class WordGraph:
    def __init__(self, noting: bool = True):
        """``noting=False``: a graph a pass rebuilds from the elaborated one, which notes no
        dropped or replaced operations (the checks read the elaborated graph's)."""
        self._op: list[str] = []
        self._type: list[ValueType] = []
        self._args: list[tuple[int, ...]] = []
        self._attr: list = []
        # hash-consing: per (operation, type key), the nodes by their operand tuple (by
        # (operands, attr) where the attribute is not None: :func:`memo_key`). The operand
        # tuple a node holds is its own key, where a key (op, type, args, attr) per node took
        # 72 bytes of every node of an unrolled loop (histogram N=5000: 47 MB)
        self._memo: dict[tuple, dict] = {}
        self._marked = None     # (node count, roots) and the marks _mark made for them
        # untyped constants as typed words of this graph (convert.implicit)
        self.pub_words: dict[tuple, object] = {}
        self.simplify = True
        # checked mode: keep the operations whose overflow is checked as the program writes
        # them (x - c is not x + (2^n - c), x * 2 not x << 1, (x + y) - y not x), so that
        # each is checked as written (:mod:`.checked`)
        self.exact = False
        # additions made from a subtraction of a constant (x - c is x + (2^n - c)): the range
        # warnings read them as the subtractions the program wrote
        self.minus: set[int] = set()
        # and shifts (negated or not) made from a product x * c: node -> (x, c)
        self.product: dict[int, tuple[int, int]] = {}
        # a signed x / 2**k made as its floor (a shift) plus a rounding bit that is 1 only
        # where the floor is negative, and x % 2**k made as x's low bits with the upper ones
        # set where x is negative: the shift, the addition and the remainder's multiplexer
        # -> ("floor" | "div" | "mod", x, 2**k). The range warnings read them as what they
        # compute from x's value in its type (none can wrap), not from their operands
        self.by_pow2: dict[int, tuple[str, int, int]] = {}
        # left shifts made from a fixed-point product or quotient by a power of two (x * 2.0,
        # x / 0.5): node -> the operator the program wrote, which the range warnings name
        self.written: dict[int, str] = {}
        # operations on constants folded where the program is elaborated (not in an untaken
        # branch: quiet) whose value wrapped: (constant node, location, op, type, exact value),
        # read by the range warnings and checked mode (u8(200) + u8(100) is 44 at compile time)
        self.folded: list = []
        # operands of operations folded to a constant (a - a, a * 0) or cancelled ((a + b) - b,
        # -(-a)): warned of (and in checked mode, where only folds drop them, checked) as the
        # program wrote them, though no output reads them
        self.dropped: list[int] = []
        # per entry of dropped (and of replaced): what reads it as the program wrote it (the
        # result of the rule that dropped it, the variables an 'if' assigned); PENDING while
        # the rule or statement runs, None where it counts always. It counts only where one
        # of its readers is computed
        self.dropped_for: list = []
        self.replaced_for: list = []
        # a constant a rule folded such entries into gets a node of its own (as a wrapped
        # fold does), and what is folded from it carries them on: node -> [(list, index)]
        self.anchored: dict[int, list] = {}
        self.noting = noting
        # the branches' operations that a merge of a secret if replaced (c ? p + d : p + e is
        # p + (c ? d : e)): the range warnings read them as the program wrote them, not the
        # merged operation (whose range is the hull of both, at the first one's position)
        self.replaced: list[int] = []
        self.merged: set[int] = set()
        self.quiet = 0
        # constant node -> indices into folded of the wraps its value was computed through
        # (a folded chain, i32(A + B), keeps the wrap of A + B)
        self.folded_into: dict[int, frozenset] = {}
        # wraps of constants read while compiling (a shift amount, an index, a loop bound, a
        # condition): they shape the program, so every output depends on them
        self.consumed: frozenset = frozenset()
        # (location, op, type) of each '/' or '%' of constants by 0, folded when compiling
        # (the sample variance of one value): warned of as a division by the constant 0 is
        self.zero_folds: list = []
        # the source node (statement or expression) being elaborated, and per IR node the
        # one that made it: where a range warning points
        self.loc = None
        self._loc: list = []
        # the source node of what a pass rebuilding another graph is copying: recorded for
        # the nodes it makes where ``loc`` is None, to name a statement in an error (a
        # program too large once lowered); unlike ``loc``, it records no wrap or warning
        self.origin = None
        self.max_nodes = MAX_NODES
        self.limit_why = "the most a graph holds"
        self._on_grow = None
        self._check_at = MAX_NODES      # the node count at which _new looks up (_checkpoint)
        limits = active_limits()
        if limits is not None:
            self.limit_nodes(*limits)

    def limit_nodes(self, most: int, on_grow=None, why: str = "the most a graph holds") -> None:
        """Hold the graph to ``most`` nodes (more raise :class:`TooLarge`), and call
        ``on_grow(nodes)`` every PROGRESS_NODES nodes; ``why``: where the limit comes from."""
        self.max_nodes = min(int(most), MAX_NODES)
        self.limit_why = why if self.max_nodes == int(most) else "the most a graph holds"
        self._on_grow = on_grow
        self._check_at = min(self.max_nodes, len(self._op) + PROGRESS_NODES) \
            if on_grow is not None else self.max_nodes

    def _checkpoint(self, n: int) -> None:
        if n >= self.max_nodes:
            raise TooLarge(n)
        self._on_grow(n)
        self._check_at = min(self.max_nodes, n + PROGRESS_NODES)

    @property
    def g(self) -> nx.DiGraph:
        """The graph as a ``networkx.DiGraph`` (nodes with op, type, args, attr; edges
        operand -> user), built when asked for: keeping one up to date cost more than the
        rest of building a large program's IR (networkx is imported here too: its import
        alone costs a compile half a second)."""
        import networkx as nx
        d = nx.DiGraph()
        for n, (op, t, args, attr) in enumerate(zip(self._op, self._type, self._args,
                                                     self._attr)):
            d.add_node(n, op=op, type=t, args=args, attr=attr)
            for a in args:
                d.add_edge(a, n)
        return d

    def release(self) -> None:
        """Empty the graph (its nodes, memo and locations), for a caller that is done with
        it while others may still hold it: any later read of a node fails (IndexError)
        rather than seeing stale data."""
        self._op, self._type, self._args, self._attr, self._loc = [], [], [], [], []
        self._memo = {}
        self._marked = None
        self.pub_words = {}

    def unread_written(self, roots, replaced: bool = False) -> list[int]:
        """The operations the program wrote that no output reads because a fold or a
        cancellation dropped them (``replaced``: also the branches a merge replaced), where
        what dropped them is computed for ``roots`` (``t = (x + y) * 0`` with ``t`` never read
        is not computed, and neither is its sum), once each, in the order met: more roots
        for the range warnings and checked mode."""
        entries = list(zip(self.dropped, self.dropped_for))
        if replaced:
            entries += list(zip(self.replaced, self.replaced_for))
        if not entries:
            return []
        seen = self._mark(roots)
        # the callers read the roots as the set of nodes they reach: an entry the roots
        # reach anyway (a secret if's condition its multiplexers read) adds nothing, and
        # its readers are not looked at
        reached = [bool(seen[n]) for n, _ in entries]
        taken = list(reached)
        while True:
            more = []
            for i, (n, anchor) in enumerate(entries):
                if taken[i]:
                    continue
                if anchor is None or anchor is PENDING:
                    read = True
                elif len(anchor) == 1 and type(anchor[0]) is int:   # most: one node
                    read = seen[anchor[0]]
                else:
                    read = any(seen[a] if type(a) is int else any(seen[x] for x in _nodes_of(a))
                               for a in anchor)
                if read:
                    taken[i] = True
                    if not seen[n]:
                        more.append(n)
            if not more:
                break
            seen = self._mark(more, seen)      # what they read may anchor others
        found = [n for (n, _), t, r in zip(entries, taken, reached) if t and not r]
        return [n for n in dict.fromkeys(found) if self._op[n] != "const"]

    def _anchor(self, dropped_from: int, replaced_from: int, args, r: int) -> int:
        """A rule made ``r`` of ``args``: the entries of dropped and replaced it noted (from
        these positions on) are read where r is, and so are those the constants among
        ``args`` carry. A constant r that carries any gets a node of its own. Returns r."""
        held = []
        for at, start in ((self.dropped_for, dropped_from), (self.replaced_for, replaced_from)):
            held += [(at, i) for i in range(start, len(at)) if at[i] is PENDING]
        if self.anchored:
            for a in args:
                if a != r:
                    held += [(at, i) for at, i in self.anchored.get(a, ()) if at[i] is not None]
        if not held:
            return r
        held = _unique(held)
        if self._op[r] == "const" and r not in self.anchored:
            r = self._own_const(r)
        for at, i in held:
            if at[i] is PENDING:
                at[i] = (r,)
            elif r not in at[i]:
                at[i] = at[i] + (r,)
        if self._op[r] == "const":
            self.anchored[r] = _unique(self.anchored.get(r, []) + held)
        return r

    def _own_const(self, r: int) -> int:
        n = self._new("const", self._type[r], (), self._attr[r], None)
        w = self.folded_into.get(r)
        if w:
            self.folded_into[n] = w
        return n

    def note_replaced(self, *ns: int) -> None:
        """Branches a merge replaced (see ``replaced``)."""
        if self.noting:
            self.replaced += ns
            self.replaced_for += [PENDING] * len(ns)

    # --- access ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._op)

    def op(self, n: int) -> str:
        return self._op[n]

    def type(self, n: int) -> ValueType:
        return self._type[n]

    def args(self, n: int) -> tuple[int, ...]:
        return self._args[n]

    def attr(self, n: int):
        return self._attr[n]

    def loc_of(self, n: int):
        """The source node that made node n (None for nodes made outside any)."""
        return self._loc[n] if n < len(self._loc) else None

    def is_const(self, n: int) -> bool:
        return self._op[n] == "const"

    def const_value(self, n: int):
        """The value of a constant node, else None."""
        return self._attr[n] if self._op[n] == "const" else None

    def find(self, op: str, t: ValueType, args: tuple[int, ...], attr=None) -> int | None:
        """The node of exactly this operation if the graph has it (no folding, no rules)."""
        sub = self._memo.get((op, t._k))
        return None if sub is None else sub.get(memo_key(args, attr))

    # --- construction ----------------------------------------------------------------------
    def _add(self, op: str, t: ValueType, args: tuple[int, ...], attr) -> int:
        """The node of exactly this operation: the existing one, else a new one (no folding,
        no rules)."""
        n = self.find(op, t, args, attr)
        return n if n is not None else self._new(op, t, args, attr, memo_key(args, attr))

    def _new(self, op: str, t: ValueType, args: tuple[int, ...], attr, key) -> int:
        """A new node; ``key`` (:func:`memo_key`) is known not to be in the memo (None: a
        node the memo is not to know, so that no later node is merged with it)."""
        n = len(self._op)
        if n >= self._check_at:       # one test per node for the limit and the progress
            self._checkpoint(n)
        self._op.append(op)
        self._type.append(t)
        self._args.append(args)
        self._attr.append(attr)
        self._loc.append(self.loc if self.loc is not None else self.origin)
        if key is not None:
            sub = self._memo.get((op, t._k))
            if sub is None:
                sub = self._memo[(op, t._k)] = {}
            sub[key] = n
        return n

    def _carry_wraps(self, args, r: int) -> int:
        """``r``, what a rule made of ``args``, keeping the wraps of the wrapped constants
        among them (x / (A + 10) is x >> 2 once A + 10 wraps to 4: the constant is gone, its
        wrap must not be). A constant result gets a node of its own, as a wrapped fold does;
        another node shared with a computation that never read the constant would carry the
        wrap to that one's outputs too, which only ever withholds more."""
        into = self.folded_into
        wraps = None
        for a in args:
            w = into.get(a)
            if w:
                wraps = w if wraps is None else wraps | w
        if wraps is None or self.quiet:
            return r
        have = into.get(r)
        if have is not None and wraps <= have:
            return r
        if self._op[r] == "const":
            r = self._new("const", self._type[r], (), self._attr[r], None)
        into[r] = wraps if have is None else have | wraps
        return r

    def read_as_written(self, n: int) -> None:
        """Node n is no longer read as the program wrote it (an operand of an operation
        folded to a constant, a - a, a * 0, or cancelled, (a + b) - b; a condition no
        multiplexer reads), but the program computed it: it is still warned of, and in
        checked mode checked (:meth:`unread_written`)."""
        if self.noting and not self.quiet and self._op[n] not in ("input", "const"):
            self.dropped.append(n)
            self.dropped_for.append(PENDING)

    def read_const(self, n: int):
        """:meth:`const_value` of a node the compile reads as a number (a shift amount, an
        index, a loop bound, a condition): the wraps its value came through are then
        every output's (:attr:`consumed`)."""
        v = self.const_value(n)
        if v is not None and self.folded_into:
            w = self.folded_into.get(n)
            if w:
                self.consumed |= w
        if v is not None and self.anchored:
            for at, i in self.anchored.pop(n, ()):
                at[i] = None        # read whatever the outputs read: counted always
        return v

    def const(self, t: ValueType, value: int) -> int:
        return self._add("const", t, (), ops.wrap(t, int(value)))

    def true(self) -> int:
        return self.const(BOOL, 1)

    def false(self) -> int:
        return self.const(BOOL, 0)

    def input(self, t: ValueType, where) -> int:
        """An input leaf; ``where`` = (port index, bit offset) identifies it."""
        return self._add("input", t, (), where)

    def make(self, op: str, t: ValueType, args, attr=None) -> int:
        """Add ``op`` (or an equivalent simpler node) and return its id."""
        if type(args) is not tuple:
            args = tuple(args)
        # an operation already in the graph with these operands in this order was added
        # after folding and the rules found nothing simpler (they read only the operands,
        # which never change), so asking them again would give the same node
        key = args if attr is None else (args, attr)       # find(), written out: every
        sub = self._memo.get((op, t._k))                    # operation asks it first
        if sub is not None:
            n = sub.get(key)
            if n is not None:
                return n
        if args and op != "input":
            kinds = self._op
            for a in args:
                if kinds[a] != "const":
                    break
            else:       # every operand a constant: fold
                vals = [self._attr[a] for a in args]
                tys = [self._type[a] for a in args]
                value = ops.evaluate(op, t, vals, tys, attr)
                if self.quiet:
                    return self.const(t, value)
                if op in ops.DIVISIONS and vals[1] == 0 and self.loc is not None:
                    self.zero_folds.append((self.loc, op, t))
                into = self.folded_into
                wraps = None
                if into:
                    for a in args:
                        w = into.get(a)
                        if w:
                            wraps = w if wraps is None else wraps | w
                if op in ops.WRAPPING:
                    if self.loc is not None:
                        exact = ops.exact(op, t, vals, attr)
                        if exact is not None and exact != value:
                            self.folded.append((self.loc, op, t, exact))
                            new = frozenset((len(self.folded) - 1,))
                            wraps = new if wraps is None else wraps | new
                elif op == "reinterp" and wraps and type(t) is FixedType \
                        and len(self.folded) - 1 in wraps and self.folded[-1][1] == "resize":
                    # a cast to fixed point narrows its raw integer, then reinterprets it:
                    # the wrap is reported as the fixed-point type's
                    loc, o, _, exact = self.folded[-1]
                    self.folded[-1] = (loc, o, t, exact)
                held = _unique([(at, i) for a in args for at, i in self.anchored.get(a, ())
                                if at[i] is not None]) if self.anchored else None
                if not wraps and not held:
                    return self.const(t, value)
                # a constant of its own, not the shared node of this value: the same value
                # written elsewhere (y: u8 = 44 beside a wrapped A + 100) must not carry the
                # wrap (or what a fold dropped) to outputs that never read the computation
                n = self._new("const", t, (), value, None)
                if wraps:
                    into[n] = wraps
                if held:
                    for at, i in held:
                        at[i] = at[i] + (n,)
                    self.anchored[n] = held
                return n
        if self.simplify:
            rule = _RULES.get(op)
            if rule is not None:
                noting = self.noting
                if noting:
                    kd, kr = len(self.dropped), len(self.replaced)
                r = rule(self, t, args, attr)
                if r is not None:
                    if self.folded_into:
                        r = self._carry_wraps(args, r)
                    if noting and (len(self.dropped) > kd or len(self.replaced) > kr
                                   or self.anchored):
                        r = self._anchor(kd, kr, args, r)   # what the rule dropped, r reads
                    return r
        if op in ops.COMMUTATIVE and len(args) == 2 and args[0] > args[1]:
            return self._add(op, t, (args[1], args[0]), attr)
        return self._new(op, t, args, attr, key)    # the memo had no such node (above)

    def copy_of(self, src: "WordGraph", n: int, m) -> int:
        """Node n of graph ``src`` made in this graph, its operands mapped by ``m`` (the step
        of a pass that rebuilds a graph)."""
        op, t = src._op[n], src._type[n]
        self.origin = src.loc_of(n)
        if op == "input":
            return self.input(t, src._attr[n])
        if op == "const":
            return self.const(t, src._attr[n])
        return self.make(op, t, tuple([m[a] for a in src._args[n]]), src._attr[n])

    # --- queries ---------------------------------------------------------------------------
    def live(self, roots) -> list[int]:
        """Nodes some root depends on, in ascending (topological) order."""
        seen = self._mark(roots)
        return np.flatnonzero(np.frombuffer(seen, dtype=np.uint8)).tolist() if seen else []

    def _mark(self, roots, seen: bytearray | None = None) -> bytearray:
        """Per node, 1 where some root depends on it (added to ``seen``)."""
        if seen is None:
            # the passes ask for the same roots of the same graph several times (the range
            # warnings, the overflow scan and the optimizer; narrowing and lowering): the
            # last marking is kept while the graph has the same nodes (none is ever changed)
            roots = list(roots)         # read twice: an iterator would be empty the second time
            key = (len(self._op), tuple(roots))
            if self._marked is not None and self._marked[0] == key:
                return bytearray(self._marked[1])
            seen = self._mark(roots, bytearray(len(self._op)))
            self._marked = (key, bytes(seen))
            return seen
        top = -1
        for r in roots:
            seen[r] = 1
            top = max(top, r)
        args = self._args
        # a node's operands are older nodes: one sweep down the ids marks every operand of a
        # marked node before that operand is reached (no stack; dead nodes cost a test each)
        for n in range(top, -1, -1):
            if seen[n]:
                for a in args[n]:
                    seen[a] = 1
        return seen

    def use_counts(self, nodes, roots) -> tuple[list[int], list[int]]:
        """Per node: how often it is used (operands with multiplicity, plus roots), and by
        which node last (-1 for a root)."""
        uses = [0] * len(self._op)
        user = [-1] * len(self._op)
        for n in nodes:
            for a in self._args[n]:
                uses[a] += 1
                user[a] = n
        for r in roots:
            uses[r] += 1
            user[r] = -1
        return uses, user
