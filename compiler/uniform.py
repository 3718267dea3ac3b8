"""Loops whose iterations make the same operations: a few are elaborated, the rest are made
from their pattern.

An unrolled loop over N records elaborates its body N times, each time walking the syntax,
typing every expression and asking the algebraic rules about every operation, though every
iteration after the first few makes the same operations on the next elements. Here the first
iterations are elaborated as usual; once two consecutive pairs of them made the same
operations (same kind, type, constant and source position, in the same order) on operands
that relate to their iteration the same way -- made in it, made in the iteration before (at
the same place), shared by all (a constant, a value from before the loop), or the element a
read of an array gives at that iteration -- the remaining iterations are made from that
pattern without walking the syntax. The word graph is the one elaborating every iteration
makes, node for node, with the same notes for the range warnings (the tests compare both).

Which loops: ``for v in range(...)`` whose body uses ``v`` only in indices ``a[e]`` of arrays
the body does not assign, ``e`` an affine integer expression of ``v`` and untyped constants;
no ``return`` in the body. Each such read is computed exactly at every iteration (not
extrapolated), and what it gives must be an input word of the type it gave before, no
input read twice in the loop (by two reads or two iterations), and none that the shared
operands (or their operands) are: the rules, which look at operands and at their operands,
then decide every iteration as they decided the pattern's. Anything else (the loop variable
in a condition or in arithmetic, an element written at ``v``, a rule that would merge a new
operation with an existing one, operands in another order, checked mode's bookkeeping, a
graph about to report its progress or reach its size limit) ends the pattern: the iteration
and those after it are elaborated as usual.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass

from . import nodes as N
from .ir import PENDING, memo_key
from .ops import COMMUTATIVE
from .values import _DIFF_WALK, Agg, Pub, Word

_NONE = object()
# the most writes of an array one iteration makes that are followed
MAX_LINE = 1 << 16

# loops shorter than this are elaborated iteration by iteration
MIN_ITERATIONS = 12
# iterations elaborated before the pattern is taken (the first ones may fold constants that
# later ones cannot: a count from 0); the pattern must hold between the last three
TRACED = 5


def loop_sites(s: N.For, cache: dict):
    """The reads ``a[e]`` of the loop body that depend on the loop variable, if the body uses
    it only there (see the module's docstring), else None. Found once per loop."""
    got = cache.get(id(s))
    if got is None:
        got = cache[id(s)] = (s, _sites(s.body, s.var))
    return got[1]


def _sites(body, var: str):
    sites: list[N.Index] = []
    assigned: set[str] = set()
    bound: set[str] = set()
    ok = [True]

    def visit(x) -> None:
        if not ok[0]:
            return
        k = type(x)
        if k is N.Index and _uses(x.index, var):
            if type(x.base) is N.Var and x.base.name != var and _affine(x.index, var):
                sites.append(x)
            else:
                ok[0] = False
            return
        if k is N.Var and x.name == var or k in (N.Return, N.While):
            ok[0] = False
            return
        if k is N.Target:
            if x.name == var or any(_uses(i, var) for i in x.indices):
                ok[0] = False
                return
            assigned.add(x.name)
        elif k is N.Decl:
            assigned.add(x.name)
            if x.name == var:
                ok[0] = False
        elif k in (N.For, N.Comprehension):
            # an inner loop's or a comprehension's variable names another value where it
            # is read than the frame holds when the pattern is taken
            bound.add(x.var)
            if x.var == var:
                ok[0] = False
        for child in _children(x):
            visit(child)

    for st in body:
        visit(st)
    if not ok[0] or not sites or any(x.base.name in assigned or x.base.name in bound
                                     for x in sites):
        return None
    # reads written alike read alike: one site each (their reads are the same node, which
    # is no second read of it)
    unique = {}
    for x in sites:
        unique.setdefault((x.base.name, _shape(x.index)), x)
    return tuple(unique.values())


def _shape(e):
    """An expression without its position: equal for expressions written alike."""
    if isinstance(e, list | tuple):
        return tuple(_shape(x) for x in e)
    if not is_dataclass(e):
        return e
    return (type(e).__name__,) + tuple(_shape(getattr(e, f.name)) for f in fields(e)
                                       if f.name not in ("line", "col"))


def _affine(e, var: str) -> bool:
    """``e`` is ``var`` plus or minus, or times, expressions without it (untyped constants
    once evaluated; anything else is refused when the loop runs)."""
    k = type(e)
    if k is N.Var and e.name == var:
        return True
    if k is N.BinOp and e.op in ("+", "-", "*"):
        left, right = _uses(e.left, var), _uses(e.right, var)
        if left and right:
            return False
        return _affine(e.left, var) if left else _affine(e.right, var)
    return False


def _uses(e, var: str) -> bool:
    """Whether expression ``e`` reads the name ``var``."""
    return any(type(x) is N.Var and x.name == var for x in _walk(e))


def _children(x):
    if isinstance(x, list | tuple):
        yield from x
        return
    if not is_dataclass(x):
        return
    for f in fields(x):
        v = getattr(x, f.name)
        if isinstance(v, list | tuple) or is_dataclass(v):
            yield v


def _walk(x):
    todo = [x]
    while todo:
        y = todo.pop()
        if is_dataclass(y):
            yield y
        todo.extend(_children(y))


class _Marks:
    """What the graph, the checker and the frame hold before an iteration."""
    __slots__ = ("nodes", "dropped", "sizes", "iterations", "vars", "frame")

    def __init__(self, ck, frame):
        g = ck.g
        self.nodes = len(g)
        self.dropped = len(g.dropped)
        self.sizes = _sizes(ck)
        self.iterations = ck.iterations
        self.vars = dict(frame.vars)
        self.frame = (frame.ret, frame.done, tuple(frame.dropped.items()))


def _sizes(ck) -> tuple:
    """Sizes of what an iteration that follows the pattern never changes."""
    g = ck.g
    return (len(g.replaced), len(g.replaced_for), len(g.folded), len(g.zero_folds),
            len(g.minus), len(g.product), len(g.by_pow2), len(g.written), len(g.merged),
            len(g.anchored), len(g.folded_into), len(g.pub_words), id(g.consumed),
            len(ck._untaken_seen), len(g.dropped_for) - len(g.dropped))


# a loop whose iterations make no pattern is looked at this many times, then no more
ATTEMPTS = 3


def run_loop(ck, s: N.For, frame, items: list, sites) -> None:
    """Run the loop ``for s.var in items`` of checker ``ck`` on ``frame``: the first
    iterations elaborated, the others made from their pattern while it holds."""
    marks: list[_Marks] = []
    m, n = 0, len(items)
    before = len(ck.g)      # the nodes made before the loop
    attempts = 0
    reads = None        # what the sites read at every iteration (their arrays stay as they are)
    while m < n:
        if ck.is_true(frame.done):
            return
        if len(marks) >= TRACED and attempts < ATTEMPTS and n - m >= TRACED:
            if reads is None:
                reads = _site_values(ck, frame, s, items, sites)
            pat = _pattern(ck, s, frame, items, reads, marks, m, before)
            marks.clear()       # traced anew after a pattern ends, or before a new look
            start = m
            if pat is not None:
                m = pat.run(frame, m)
                if m >= n:
                    return
            # a pattern that stopped where the graph reports its progress is looked for
            # again as often as it takes; one that was not there, a few times
            if m == start:
                attempts += 1
            if m > start:
                continue
        if attempts < ATTEMPTS:     # only the last three are read
            if len(marks) >= TRACED:
                del marks[0]
            marks.append(_Marks(ck, frame))
        ck.run_iteration(s, frame, items[m])
        m += 1


def _site_values(ck, frame, s, items, sites) -> list:
    """Per iteration, the nodes the sites read, up to the first iteration where one reads
    no input word (out of range included) or one of another type than at the first."""
    gop = ck.g._op
    bases = []
    for x in sites:
        v = frame.vars.get(x.base.name)
        if type(v) is not Agg:
            return []
        bases.append(v)
    saved = frame.vars.get(s.var)
    out: list = []
    types = None
    try:
        for item in items:
            frame.vars[s.var] = item
            row, ts = [], []
            for x, arr in zip(sites, bases):
                k = ck._pub_int(x.index, frame)
                if k is None or not 0 <= k < len(arr):
                    return out
                w = arr.item(k)
                if type(w) is not Word or gop[w.node] != "input":
                    return out
                row.append(w.node)
                ts.append(w.type)
            if types is None:
                types = ts
            elif any(a is not b and a != b for a, b in zip(ts, types)):
                return out
            out.append(row)
    finally:
        frame.vars[s.var] = saved
    return out


def input_users(ck, end: int) -> dict:
    """Per input node, the nodes below ``end`` that read it, in order (the graph's nodes
    are looked at once each over the compile, as later loops ask)."""
    at, users = ck._input_users
    if end > at:
        gop, gargs = ck.g._op, ck.g._args
        for n in range(at, end):
            for a in gargs[n]:
                if gop[a] == "input":
                    got = users.get(a)
                    if got is None:
                        users[a] = [n]
                    else:
                        got.append(n)
        ck._input_users[0] = end
    return users


def _found_earlier(ck, p, row, before: int) -> bool:
    """Whether a node made before the loop reads an input of ``row`` (what the pattern's
    iteration read) and only what an iteration has at hand besides: its reads, the
    pattern's shared nodes and their operands (which the rules look at), constants. The
    iteration may have found that node where it asked for it (a comparison the program
    made earlier), where an iteration reading other inputs makes one of its own; and where
    a rule then dropped it, nothing of it is in the pattern to tell. (Found the other way
    round, a node the pattern makes, :meth:`_Pattern.run` stops where it exists.)"""
    g = ck.g
    gop, gargs = g._op, g._args
    users = input_users(ck, before)
    near = set(row) | p.shared
    for x in p.shared:
        near.update(gargs[x])
    for x in row:
        for n in users.get(x, ()):
            if n >= before:
                break
            if all(a in near or gop[a] == "const" for a in gargs[n]):
                return True
    return False


def _pattern(ck, s, frame, items, reads, marks, m, before: int):
    """The pattern of the last traced iterations (m - 1 the last, m - 2 the one before, which
    must make the same), or None where they make none. ``before``: the graph's size when the
    loop began."""
    g = ck.g
    if g.exact or g.quiet or ck.dead or g.anchored or g.folded_into:
        return None
    a, b, c = marks[-3:]
    now = _Marks(ck, frame)
    size = now.nodes - c.nodes
    if size <= 0 or c.nodes - b.nodes != size or b.nodes - a.nodes != size:
        return None
    if not (a.sizes == b.sizes == c.sizes == now.sizes) or \
            not (a.frame == b.frame == c.frame == now.frame) or \
            now.iterations - c.iterations != c.iterations - b.iterations or \
            now.dropped - c.dropped != c.dropped - b.dropped or \
            list(now.vars) != list(c.vars) or list(c.vars) != list(b.vars):
        return None
    if len(reads) < m + 1:
        return None
    # no input is read twice in the loop, and none is (or is an operand of) what is shared
    flat = [x for row in reads for x in row]
    every = set(flat)
    if len(every) != len(flat):
        return None
    p = _Pattern(ck, s, items, reads, every, m - 1, (b, c, now))
    if not p.ok or p.touches_shared(every) or _found_earlier(ck, p, reads[m - 1], before):
        return None
    q = _Pattern(ck, s, items, reads, every, m - 2, (a, b, c))
    if not q.ok or not p.same_as(q):
        return None
    return p


class _Pattern:
    """The operations of one iteration (``mk[1]`` to ``mk[2]``) as a function of the
    iteration: per node (op, type, attr, location, operands); what it notes for the
    warnings; the variables it leaves. An operand is ("i", offset) made in the iteration,
    ("p", offset) made in the one before, ("s", node) shared, ("r", site) read."""

    def __init__(self, ck, s, items, reads, every: set, it: int, mk):
        self.ck, self.s, self.items, self.reads, self.every = ck, s, items, reads, every
        g = ck.g
        before, cur, end = mk
        self.start, self.prev, self.size = cur.nodes, before.nodes, end.nodes - cur.nodes
        self.ok = True
        self.shared: set[int] = set()
        self.row = {x: j for j, x in enumerate(reads[it])}
        gop, gtype, gargs, gattr, gloc = g._op, g._type, g._args, g._attr, g._loc
        self.spec = []
        for n in range(cur.nodes, end.nodes):
            ops = tuple([self._operand(x) for x in gargs[n]])
            self.spec.append((gop[n], gtype[n], gattr[n], gloc[n], ops))
        self.dspec = []
        for k in range(cur.dropped, end.dropped):
            readers = g.dropped_for[k]
            if readers is PENDING or type(readers) is not tuple:
                self.ok = False
                return
            self.dspec.append((self._operand(g.dropped[k]),
                               tuple([self._reader(r) for r in readers])))
        self.vspec = []
        for name, v in end.vars.items():
            spec = ("loop",) if name == s.var else self._value(v, cur.vars.get(name))
            if spec is None:
                self.ok = False
                return
            self.vspec.append((name, spec))
        self.iterations = end.iterations - cur.iterations

    def _operand(self, x: int):
        if x >= self.start:
            if x - self.start >= self.size:
                self.ok = False
            return ("i", x - self.start)
        if x >= self.prev:
            return ("p", x - self.prev)
        j = self.row.get(x)
        if j is not None:
            return ("r", j)
        if x in self.every:
            self.ok = False     # what another iteration read: it moves with the iteration
        self.shared.add(x)
        return ("s", x)

    def _reader(self, r):
        """An entry of what reads a noted operation: a node, or what a statement made of a
        scalar variable (:class:`~.stmts.Assigned`, its words)."""
        if type(r) is int:
            return self._operand(r)
        new, old = getattr(r, "new", None), getattr(r, "old", _NONE)
        if type(new) is Word and (old is None or type(old) is Word):
            return ("A", new.type, self._operand(new.node),
                    None if old is None else (old.type, self._operand(old.node)))
        self.ok = False
        return None

    def _value(self, v, old):
        if v is old:
            return ("same",)
        t = type(v)
        if t is Word:
            return ("w", v.type, self._operand(v.node))
        if t is Pub:
            return ("pub", v) if type(old) is Pub and old.value == v.value else None
        if t is Agg:
            items = []
            for x in v.items:
                if type(x) is not Word:
                    return None
                items.append((x.type, self._operand(x.node)))
            line = _line(old, v)
            if line is None:
                return None
            return ("agg", v.type, tuple(items), line)
        return None

    def same_as(self, other: "_Pattern") -> bool:
        """Whether ``other`` (the iteration before) makes the same: the same operations,
        types, constants, locations (the very same syntax nodes), operands, notes and
        variables."""
        if len(self.spec) != len(other.spec) or self.dspec != other.dspec or \
                self.iterations != other.iterations or \
                [(n, v[0]) for n, v in self.vspec] != [(n, v[0]) for n, v in other.vspec]:
            return False
        for (o1, t1, a1, l1, x1), (o2, t2, a2, l2, x2) in zip(self.spec, other.spec):
            if o1 != o2 or l1 is not l2 or x1 != x2 or a1 != a2 or (t1 is not t2 and t1 != t2):
                return False
        for (_, v1), (_, v2) in zip(self.vspec, other.vspec):
            if v1[0] in ("w", "agg") and (v1[1] != v2[1] or v1[2:] != v2[2:]):
                return False
            if v1[0] == "pub" and v1[1].value != v2[1].value:
                return False
        return True

    def touches_shared(self, inputs: set) -> bool:
        """Whether a shared operand, or an operand of one, is an input some iteration
        reads."""
        gargs = self.ck.g._args
        return any(x in inputs or any(y in inputs for y in gargs[x]) for x in self.shared)

    def run(self, frame, m: int) -> int:
        """Make iterations m, m + 1, ... from the pattern while it holds; the first not made."""
        from .stmts import MAX_ITERATIONS
        ck, g = self.ck, self.ck.g
        n = min(len(self.items), len(self.reads))
        spec, dspec, size = self.spec, self.dspec, self.size
        # writing and compiling a step costs about 0.1 ms a node; each iteration made by it
        # then saves about 1 microsecond a node over interpreting the pattern
        steps = _step if n - m >= STEP_FROM else _interpreted
        # each operation's part of the memo (an empty one left behind is no entry)
        subs = [g._memo.setdefault((op, t._k), {}) for op, t, _, _, _ in spec]
        make, keys = steps(spec, dspec, g, subs)
        prev = len(g) - size        # the iteration before m, the last one elaborated
        first, last = m, None
        while m < n:
            start = len(g)
            if start + size >= g._check_at or ck.iterations + self.iterations > MAX_ITERATIONS:
                break       # the graph reports its progress, or is at its limit, there
            row = self.reads[m]
            j = make(start, prev, row)
            if j >= 0:
                for sub, key in zip(subs[:j], keys(start, prev, row)):
                    del sub[key]
                break
            ck.iterations += self.iterations
            last = (start, prev, row, m)
            prev = start
            m += 1
        if last is not None:
            self._leave(frame, first, *last)
        return m

    def _leave(self, frame, first, start, prev, row, m) -> None:
        """The variables as the last iteration (m, made from ``first`` on) leaves them."""
        def at(x):
            return _made(x, start, prev, row)

        out = {}
        for name, v in self.vspec:
            k = v[0]
            if k == "loop":
                out[name] = self.items[m]
            elif k == "same":
                out[name] = frame.vars[name]
            elif k == "pub":
                out[name] = v[1]
            elif k == "w":
                out[name] = Word(at(v[2]), v[1])
            else:
                out[name] = _array(frame.vars[name], v, at, m - first)
        frame.vars = out



def _array(last, v, at, made: int):
    """An array the iterations wrote: its value after ``made`` + 1 iterations from the
    pattern, made from ``last`` (after the last elaborated iteration) by the writes each
    iteration makes, in order (:meth:`~.values.Agg.differs` and ``written_at`` then find
    the elements a loop wrote, as elaborated), as far as any walk of its versions reaches;
    after that a value of its own, which no walk from an earlier version reaches either."""
    _, t, items, line = v
    final = [Word(at(x), u) for u, x in items]
    reach = len(final) + _DIFF_WALK + 2
    out = last
    if line:
        for it in range(made + 1):
            if it * len(line) > reach:
                return Agg(tuple(final), t)
            for k in line:
                out = out.set(k, final[k])
    if all(type(a) is Word and a.node == b.node for a, b in zip(out.items, final)):
        return out
    return Agg(tuple(final), t)


_CODE: dict = {}    # the compiled steps by their source (short ones: an inner loop's)
# the fewest iterations left for which a step is written for the pattern
STEP_FROM = 200


def _interpreted(spec, dspec, g, subs):
    """:func:`_step`'s functions for few iterations: the pattern interpreted, operation by
    operation and operand by operand, at each iteration."""
    gop, gtype, gargs, gattr, gloc = g._op, g._type, g._args, g._attr, g._loc

    def keys(start, prev, row):
        return [memo_key(tuple([_made(x, start, prev, row) for x in ops]), attr)
                for _, _, attr, _, ops in spec]

    def make(start, prev, row):
        made = keys(start, prev, row)
        for j, ((op, t, attr, loc, ops), key, sub) in enumerate(zip(spec, made, subs)):
            args = key if attr is None else key[0]
            if len(args) == 2 and args[0] > args[1] and op in COMMUTATIVE or key in sub:
                return j
            sub[key] = start + j
        for (op, t, attr, loc, _), key in zip(spec, made):
            gop.append(op)
            gtype.append(t)
            gargs.append(key if attr is None else key[0])
            gattr.append(attr)
            gloc.append(loc)
        for dropped, readers in dspec:
            g.dropped.append(_made(dropped, start, prev, row))
            g.dropped_for.append(tuple([_made(r, start, prev, row) for r in readers]))
        return -1
    return make, keys


def _step(spec, dspec, g, subs):
    """One iteration from the pattern, as functions written for this pattern (an
    interpreted loop over its operations and their operands took most of the pattern's
    time): ``make(start, prev, row)`` appends to ``g`` the nodes of the iteration whose first
    node is ``start`` (the one before at ``prev``, reads ``row``), their memo entries and
    notes, and returns -1; or returns j, where node j would be an existing node or would
    take its commutative operands in the other order (it is elaborated then), the memo
    entries of nodes 0..j-1 made (``keys(start, prev, row)`` gives them, ``subs`` the
    memo's parts they are in, by operation) and nothing else. Returns (make, keys)."""
    env = {"made": _made, "gop": g._op.extend, "gtype": g._type.extend,
           "gargs": g._args.extend, "gattr": g._attr.extend, "gloc": g._loc.extend,
           "dropped": g.dropped.append, "dropped_for": g.dropped_for.append,
           "OPS": tuple(x[0] for x in spec), "TYPES": tuple(x[1] for x in spec),
           "ATTRS": tuple(x[2] for x in spec), "LOCS": tuple(x[3] for x in spec)}

    def value(k, v):
        """The expression of an operand (k, v) of :class:`_Pattern`."""
        if k == "i":
            return f"start + {v}"
        if k == "p":
            return f"prev + {v}"
        if k == "r":
            return f"row[{v}]"
        name = f"S{len(env)}"       # a shared node
        env[name] = v
        return name

    def reader(r):
        if r[0] != "A":
            return value(*r)
        name = f"R{len(env)}"
        env[name] = r
        return f"made({name}, start, prev, row)"

    # keys(): the memo key of every node; make(): makes them, or returns the index of the
    # first that cannot be made (the caller then takes back the keys before it)
    keys, make = ["def keys(start, prev, row):"], ["def make(start, prev, row):"]
    all_keys = []
    for j, (op, t, attr, _, ops) in enumerate(spec):
        env[f"M{j}"] = subs[j]
        args = f"({''.join(value(k, v) + ', ' for k, v in ops)})"
        if attr is not None:
            env[f"A{j}"] = attr
        key = f"a{j}" if attr is None else f"(a{j}, A{j})"     # ir.memo_key
        all_keys.append(key)
        keys.append(f"    a{j} = {args}")
        make.append(f"    a{j} = {args}")
        if len(ops) == 2 and op in COMMUTATIVE:
            make.append(f"    if a{j}[0] > a{j}[1]: return {j}")
        make.append(f"    k{j} = {key}")
        make.append(f"    if k{j} in M{j}: return {j}")
        make.append(f"    M{j}[k{j}] = start + {j}")
    every = "".join(f"a{j}, " for j in range(len(spec)))
    keys.append(f"    return ({''.join(k + ', ' for k in all_keys)})")
    make += ["    gop(OPS)", "    gtype(TYPES)", f"    gargs(({every}))", "    gattr(ATTRS)",
             "    gloc(LOCS)"]
    for d, readers in dspec:
        make.append(f"    dropped({reader(d)})")
        make.append(f"    dropped_for(({''.join(reader(r) + ', ' for r in readers)}))")
    make.append("    return -1")
    src = "\n".join(keys) + "\n" + "\n".join(make)
    code = _CODE.get(src)
    if code is None:    # an inner loop's pattern is the same at every iteration of the outer
        code = compile(src, "<loop pattern>", "exec")
        if len(src) <= 20_000:
            if len(_CODE) >= 64:
                _CODE.clear()
            _CODE[src] = code
    exec(code, env)     # noqa: S102  (source of ints and names, written above)
    # taken out of their globals: a function in its own globals is a cycle, which keeps the
    # graph's lists alive until the cyclic collector runs (it is off while a compile runs)
    return env.pop("make"), env.pop("keys")


def _made(r, start: int, prev: int, row):
    """A reader of a pattern's note (:meth:`_Pattern._reader`) at an iteration."""
    k, v = r[0], r[1]
    if k != "A":
        return start + v if k == "i" else prev + v if k == "p" else row[v] if k == "r" else v
    from .stmts import Assigned
    old = r[3]
    return Assigned(Word(_made(r[2], start, prev, row), v),
                    None if old is None else Word(_made(old[1], start, prev, row), old[0]))


def _line(old, new):
    """The indices at which :meth:`~.values.Agg.set` made ``new`` from ``old``, in order (a
    short line of versions), or None."""
    if type(old) is not Agg:
        return None
    out, v = [], old
    while v is not new:
        d = v._diff
        if d is None or len(out) > MAX_LINE:
            return None
        out.append(d[0])
        v = d[2]
    return tuple(out)
