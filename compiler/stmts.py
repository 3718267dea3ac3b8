"""Statements: assignment, ``if`` (public: one branch; secret: both, merged), ``for``, ``return``.

Each inlined function call has a :class:`Frame` of variables and a return state: ``ret`` (the
result so far) and ``done`` (a bool node: has the function returned on this path). A ``return``
under a secret condition multiplexes the result; statements after a ``return`` that is certain
at compile time are not compiled.
"""

from __future__ import annotations

from yaogc.circuits.types import BOOL, ArrayType, TupleType, ValueType

from . import nodes as N
from . import uniform
from .convert import merge, zero
from .values import ANY, Agg, Pub, Word, describe, leaves, type_of

MAX_ITERATIONS = 2_000_000


class Frame:
    """The variables of one inlined function call, and its return state (a slotted class:
    every secret ``if`` copies two)."""
    __slots__ = ("ret_type", "vars", "ret", "done", "dropped")

    def __init__(self, ret_type: ValueType | None, vars: dict | None = None, ret=None,
                 done: int = 0, dropped: dict | None = None):
        self.ret_type = ret_type
        self.vars = {} if vars is None else vars
        self.ret = ret
        self.done = done
        self.dropped = {} if dropped is None else dropped

    def copy(self) -> "Frame":
        return Frame(self.ret_type, self.vars.copy(), self.ret, self.done, self.dropped.copy())


class StmtMixin:
    def exec_block(self, stmts, frame):
        g = self.g
        handlers = self._stmt_handlers
        for i, s in enumerate(stmts):
            if g.const_value(frame.done) == 1:
                return
            self.at = g.loc = s       # the statement a size error (or a warning) names
            if type(s) is N.If:
                if self.s_If(s, frame, stmts[i + 1:]):
                    return    # the rest of the block ran inside the 'if'
                continue
            h = handlers.get(type(s))
            if h is None:
                h = handlers[type(s)] = getattr(self, "s_" + type(s).__name__)
            h(s, frame)

    def s_Pass(self, s, frame):
        return None

    def s_Assert(self, s, frame):
        """A condition the program states about its compile-time values (lengths, -D
        values, loop variables): false stops the compile with the statement's message."""
        c = self.cond(s.cond, frame)
        if self.dead:
            return      # an untaken branch: its condition is type-checked, not judged
        v = self.read_const(c)
        if v is None:
            raise self.err(s.cond, "'assert' takes a condition known at compile time "
                                   "(constants, lengths, loop variables), not one computed "
                                   "from inputs")
        if not v:
            raise self.err(s, s.message if s.message else "assertion failed")

    def s_While(self, s, frame):
        raise self.err(s, "'while' is not supported: loops must be bounded, write "
                          "'for i in range(N):'")

    def s_Decl(self, s, frame):
        self._check_local(s, s.name)
        t = self.resolve_type(s.type, frame)
        v = self.expr(s.value, frame, t)
        frame.vars[s.name] = self.coerce(v, t, s.value, lambda: f"'{s.name}' is declared {t}")

    def _check_local(self, node, name):
        # once every const is declared, the answer depends on the target alone: asked once
        # per target, not per iteration of a loop (a const's value may call a function that
        # assigns, before the consts after it are declared)
        if id(node) in self._assignable:
            return
        declared = self._declared_as(node, name)
        if declared is not None:
            if declared in self.consts:
                raise self.err(node, f"'{name}' is a const and cannot be assigned")
            if declared in self.funcs:
                raise self.err(node, f"'{name}' is a function and cannot be assigned")
        self._check_name(node, name, "a variable")
        if self._consts_declared:
            self._assignable.add(id(node))

    @staticmethod
    def _declared_as(node, name: str) -> str | None:
        """The declared name an assignment to ``name`` in ``node`` would hit: ``name`` in the
        program; in a module's code its own consts and functions go by their module.name
        (the loader marked the targets that name one), and any other plain name is a
        local, whatever the program declares."""
        if getattr(node, "src", None) is None:
            return name
        return getattr(node, "own", None)

    def s_Assign(self, s, frame):
        if len(s.targets) == 1:
            t = s.targets[0]
            want = self._target_type(t, frame)
            self.assign(t, self.expr(s.value, frame, want), frame, s.value)
            return
        wants = [self._target_type(t, frame) for t in s.targets]
        want = TupleType(tuple(wants)) if all(w is not None for w in wants) else None
        v = self.expr(s.value, frame, want)
        if not isinstance(v, Agg) or len(v.items) != len(s.targets):
            raise self.err(s.value, f"cannot unpack {describe(v)} into {len(s.targets)} names")
        for t, item in zip(s.targets, v.items):
            self.assign(t, item, frame, s.value)

    def _target_type(self, t: N.Target, frame):
        cur = frame.vars.get(t.name)
        if cur is None or isinstance(cur, Pub):
            return None
        ty = cur.type
        for _ in t.indices:
            if isinstance(ty, ArrayType):
                ty = ty.elem
            else:
                return None
        return ty

    def assign(self, t: N.Target, v, frame, value_node):
        self._check_local(t, t.name)
        cur = frame.vars.get(t.name)
        if not t.indices:
            if cur is None or isinstance(cur, Pub):
                frame.vars[t.name] = v
            else:
                frame.vars[t.name] = self.coerce(v, cur.type, value_node,
                                                 lambda: f"'{t.name}' has type {cur.type}")
            frame.dropped.pop(t.name, None)
            return
        if cur is None:
            raise self.err(t, f"name '{t.name}' is not defined")
        idxs = [self.expr(i, frame) for i in t.indices]
        frame.vars[t.name] = self.update(cur, idxs, v, t, value_node)

    def update(self, cur, idxs, new, node, value_node):
        """``cur`` with the element at ``idxs`` replaced by ``new`` (a secret index writes
        every element through a multiplexer)."""
        if not idxs:
            if isinstance(cur, Pub):
                return new
            return self.coerce(new, cur.type, value_node, lambda: f"the element has type {cur.type}")
        i, rest = idxs[0], idxs[1:]
        if not isinstance(cur, Agg):
            raise self.err(node, f"cannot assign into an element of {describe(cur)}")
        k = self.const_int(i, node, "an index")
        if k is not None:
            if not 0 <= k < len(cur):
                if self.dead or type(i) is Word:
                    return cur      # a typed (secret) index out of range writes nothing
                raise self.err(node, f"index {k} is out of range for {cur.type} (0..{len(cur) - 1})")
            # one element replaced in O(1) (Agg.set): a loop writing every record's element
            # must not copy the array at each write
            return cur.set(k, self.update(cur.item(k), rest, new, node, value_node))
        items = cur.items
        if isinstance(cur.type, TupleType):
            raise self.err(node, "a tuple is indexed with a constant")
        if not (isinstance(i, Word) and hasattr(i.type, "signed")):
            raise self.err(node, f"an index must be an integer, got {describe(i)}")
        g = self.g
        out = []
        for k, it in enumerate(items):
            hit = g.make("eq", BOOL, (i.node, g.const(i.type, k))) if k <= i.type.max else g.false()
            out.append(merge(g, hit, self.update(it, rest, new, node, value_node), it))
        return Agg(tuple(out), cur.type)

    def s_AugAssign(self, s, frame):
        t = s.target
        cur_var = frame.vars.get(t.name)
        if cur_var is None:
            if self._declared_as(t, t.name) in self.consts:
                raise self.err(t, f"'{t.name}' is a const and cannot be assigned")
            raise self.err(t, f"name '{t.name}' is not defined")
        cur = cur_var
        for ie in t.indices:
            cur = self.index(cur, self.expr(ie, frame), ie)
        want = type_of(cur)
        rhs = self.expr(s.value, frame, want)
        self.assign(t, self.binop(s.op, cur, rhs, want, s), frame, s)

    def s_Return(self, s, frame):
        if frame.ret_type is None:
            raise self.err(s, "this function declares no result type ('-> type')")
        rt = frame.ret_type
        if rt is ANY:
            rt = self._inferred_return(s, frame)
        if not s.values:
            raise self.err(s, f"'return' needs a value of type {rt}")
        if len(s.values) == 1:
            v = self.expr(s.values[0], frame, rt)
            if isinstance(rt, TupleType) and not isinstance(type_of(v), TupleType):
                raise self.err(s, f"returns 1 value, but the result type is {rt} "
                                  f"({len(rt.elems)} values)")
        else:
            if not (isinstance(rt, TupleType) and len(rt.elems) == len(s.values)):
                raise self.err(s, f"returns {len(s.values)} values, but the result type is {rt}")
            v = Agg(tuple(self.coerce(self.expr(x, frame, et), et, x)
                          for x, et in zip(s.values, rt.elems)), rt)
        v = self.coerce(v, rt, s.values[0] if len(s.values) == 1 else s,
                        f"the result has type {rt}")
        if self.is_false(frame.done) or frame.ret is None:
            frame.ret = v
        else:
            frame.ret = merge(self.g, frame.done, frame.ret, v)
        frame.done = self.g.true()

    def _inferred_return(self, s, frame):
        """The result type of a function declared '-> any': that of its first return."""
        if frame.ret is not None:
            return type_of(frame.ret)
        if not s.values:
            raise self.err(s, "'return' needs a value")
        vals = [self.expr(x, frame, None) for x in s.values]
        for x, v in zip(s.values, vals):
            if isinstance(v, Pub):
                raise self.err(x, "a function declared '-> any' cannot return an untyped "
                                  "constant: give it a type, e.g. u8(3)")
        types = [type_of(v) for v in vals]
        return types[0] if len(types) == 1 else TupleType(tuple(types))

    def s_If(self, s, frame, after=()) -> bool:
        """Run an ``if``; True when it also ran ``after``, the statements that follow it in
        its block (see below)."""
        cond_e, body = s.branches[0]
        rest = s.branches[1:] if len(s.branches) > 1 else None
        if rest:
            # made once per 'if' statement: a block's identity keys _check_untaken
            got = self._elifs.get(id(s))
            if got is None:
                got = self._elifs[id(s)] = (s, [N.If(rest[0][0].line, rest[0][0].col, rest,
                                                     s.orelse)])
            orelse = got[1]
        else:
            orelse = s.orelse or []
        c = self.cond(cond_e, frame)
        cv = self.read_const(c)
        if cv is not None:
            taken, other = (body, orelse) if cv else (orelse, body)
            self._check_untaken(other, frame)
            self.exec_block(taken, frame)
            return False
        # the program reads its condition, whatever the branches assign (the same value in
        # both: no multiplexer reads it), where what the 'if' assigns is read
        g = self.g
        at = len(g.dropped)
        g.read_as_written(c)
        if len(g.dropped) == at:
            at = None       # an untaken branch's: nothing is noted there
        if not orelse and len(body) == 1:
            name = self._lone_assignment(body[0], frame)
            if name is not None:
                # 'if c: x = ...', 'if c: x += ...' or 'if c: v[i] = ...': the assignment runs
                # on the frame itself and x becomes c ? new : old, which is what running it
                # on a copy and merging the two frames gives, without the copies and the
                # walk over every variable (the common statement of an unrolled loop)
                old = frame.vars[name]
                st = body[0]        # what exec_block(body) does for its one statement
                self.at = self.g.loc = st
                if type(st) is N.AugAssign:
                    self.s_AugAssign(st, frame)
                else:
                    self.s_Assign(st, frame)
                new = frame.vars[name]
                if new is not old:
                    frame.vars[name] = self._merge_var(name, c, new, old, s)
                if at is not None:
                    g.dropped_for[at] = Assigned.read_by(frame.vars[name], old)
                return False
        before, ret, done = frame.vars, frame.ret, frame.done
        ft, fe = frame.copy(), frame.copy()
        self.exec_block(body, ft)
        self.exec_block(orelse, fe)
        # a branch that returns on every path: what follows the 'if' runs only on the other
        # one, so it runs there, as if written in its 'else' (if c: return a; return b is
        # one multiplexer, and each further early return adds one)
        ran_after = False
        if after and self.is_true(ft.done) != self.is_true(fe.done):
            self.exec_block(after, fe if self.is_true(ft.done) else ft)
            ran_after = True
        self._merge_frames(frame, c, ft, fe, s)
        if at is not None:
            # what the 'if' assigns, as the program wrote it (an assignment of the value a
            # variable had reads the condition too)
            readers = [Assigned(frame.vars[name], before.get(name))
                       for name in self._assigned(s) if name in frame.vars]
            if frame.done != done:
                readers.append(frame.done)
            if frame.ret is not ret and frame.ret is not None:
                readers.append(Assigned(frame.ret, ret))
            g.dropped_for[at] = tuple(readers)
        return ran_after

    def _assigned(self, s) -> frozenset:
        """The names the statements of an 'if' (all its branches, nested blocks too)
        assign; found once per statement (kept with it: an id is not reused meanwhile)."""
        cache = self._assigned_names
        got = cache.get(id(s))
        if got is None:
            names: set[str] = set()
            todo = [st for _, body in s.branches for st in body] + list(s.orelse or [])
            while todo:
                st = todo.pop()
                k = type(st)
                if k is N.Decl:
                    names.add(st.name)
                elif k is N.Assign:
                    names.update(t.name for t in st.targets)
                elif k is N.AugAssign:
                    names.add(st.target.name)
                elif k is N.If:
                    todo += [x for _, body in st.branches for x in body] + list(st.orelse or [])
                elif k is N.For:
                    names.add(st.var)
                    todo += st.body
            got = cache[id(s)] = (s, frozenset(names))
        return got[1]

    @staticmethod
    def _lone_assignment(st, frame) -> str | None:
        """The variable ``st`` assigns if it is a plain assignment (or ``op=``) of one typed
        scalar variable that exists, or of elements of an existing array or tuple (no
        unpacking), else None. Only that variable changes: the elements written are merged
        as the copy of the frame would merge them (:func:`~.convert.merge` multiplexes only
        the elements the writes touched)."""
        if type(st) is N.AugAssign:
            t = st.target
        elif type(st) is N.Assign and len(st.targets) == 1:
            t = st.targets[0]
        else:
            return None
        v = frame.vars.get(t.name)
        if type(v) is Word and not t.indices or type(v) is Agg and t.indices:
            return t.name
        return None

    def _check_untaken(self, block, frame) -> None:
        """Type-check the untaken branch of a public ``if``, once per shape of the variables
        (their types; for untyped constants, whether integer or decimal): what it can report
        depends only on those, and an unrolled loop would otherwise check the same branch
        again in every iteration (a sorting network: half of all elaboration). As for dead
        loops (one iteration checked), compile-time values do not matter here."""
        if not block:
            return
        shape = (id(block), self.dead, frame.ret_type, self.g.const_value(frame.done),
                 *[(name, v.type._k if type(v) is not Pub else type(v.value))
                   for name, v in frame.vars.items()])
        seen = self._untaken_seen
        if shape in seen:
            return
        seen.add(shape)
        self.in_dead(self.exec_block, block, frame.copy())

    def _merge_frames(self, frame, c, ft, fe, node):
        g = self.g
        if self.is_true(ft.done) != self.is_true(fe.done):
            # the variables of a branch that has returned on every path are never read
            # again: the other branch's are the frame's, without multiplexers
            live = fe if self.is_true(ft.done) else ft
            frame.vars, frame.dropped = live.vars, live.dropped
            self._merge_result(frame, c, ft, fe, node)
            return
        merged = {}
        for name, a in ft.vars.items():
            if name not in fe.vars:
                # a name the other branch dropped (an inner 'if' or 'elif' whose branches
                # gave it different constants) keeps that reason
                frame.dropped[name] = fe.dropped.get(name, (node.line, "one branch"))
                continue
            b = fe.vars[name]
            if a is b:
                merged[name] = a
                continue
            v = self._merge_var(name, c, a, b, node)
            if v is None:
                # differing compile-time values (a loop variable of loops in both branches):
                # an error only if the program reads the name before assigning it again
                frame.dropped[name] = (node.line, "values differ")
                continue
            merged[name] = v
        for name in fe.vars:
            if name not in ft.vars:
                frame.dropped[name] = ft.dropped.get(name, (node.line, "one branch"))
        frame.vars = merged
        self._merge_result(frame, c, ft, fe, node)
        if ft.dropped or fe.dropped:
            for name, line in list(ft.dropped.items()) + list(fe.dropped.items()):
                if name not in frame.vars:
                    frame.dropped.setdefault(name, line)

    def _merge_result(self, frame, c, ft, fe, node):
        g = self.g
        if ft.ret is not None or fe.ret is not None:
            # the result is read only where 'done' is set: a branch that has returned on no
            # path leaves the other branch's result as it is, without a multiplexer (an early
            # 'return' inside an 'if' then costs one multiplexer with the final 'return')
            if ft.ret is None or self.is_false(ft.done):
                frame.ret = fe.ret if fe.ret is not None else ft.ret
            elif fe.ret is None or self.is_false(fe.done):
                frame.ret = ft.ret
            else:
                ta, tb = type_of(ft.ret), type_of(fe.ret)
                if ta != tb:
                    # a function declared '-> any' whose returns differ under a secret
                    # condition (a declared result type converts each return to it): as two
                    # values of a variable, an error (one path's bits are no value of the
                    # other's type)
                    raise self.err(node, f"the function returns {ta} on one path and {tb} on "
                                         f"another (it is declared '-> any'): convert one, or "
                                         f"declare the result type")
                frame.ret = merge(g, c, ft.ret, fe.ret)
        # neither branch returned (the common case): nothing to merge
        frame.done = ft.done if ft.done == fe.done else g.make("mux", BOOL, (c, ft.done, fe.done))

    def _merge_var(self, name, c, a, b, node):
        ka = type(a)
        if ka is type(b) and ka is not Pub and a.type is b.type:
            return merge(self.g, c, a, b)       # one type: nothing to convert or to check
        if isinstance(a, Pub) and isinstance(b, Pub):
            return a if a.value == b.value else None
        ta, tb = type_of(a), type_of(b)
        t = ta if ta is not None else tb
        if ta is not None and tb is not None and ta != tb:
            raise self.err(node, f"'{name}' is {ta} in one branch and {tb} in the other")
        return merge(self.g, c, self.coerce(a, t, node), self.coerce(b, t, node))

    def s_For(self, s, frame):
        items = self.iterate(s.iterable, frame)
        if not items:
            first = self._range_start(s.iterable, frame)
            if first is not None:
                body = frame.copy()
                body.vars[s.var] = first
                self.in_dead(self.exec_block, s.body, body)
            return
        if self.dead:
            items = items[:1]
        elif len(items) >= uniform.MIN_ITERATIONS and type(items[0]) is Pub:
            sites = uniform.loop_sites(s, self._uniform_sites)
            if sites is not None:
                uniform.run_loop(self, s, frame, items, sites)
                return
        for item in items:
            if self.is_true(frame.done):
                break
            self.run_iteration(s, frame, item)

    def run_iteration(self, s, frame, item) -> None:
        """One iteration of loop ``s`` with its variable ``item``."""
        self.count_iteration(s)
        frame.vars[s.var] = item
        frame.dropped.pop(s.var, None)
        self.exec_block(s.body, frame)

    def count_iteration(self, node) -> None:
        """One more unrolled iteration, of a loop or a comprehension (``node``): the program
        may unroll MAX_ITERATIONS in all."""
        self.iterations += 1
        if self.iterations > MAX_ITERATIONS:
            raise self.err(node, f"loops and comprehensions unroll into more than "
                                 f"{MAX_ITERATIONS:,} iterations")

    def _range_start(self, e, frame):
        if isinstance(e, N.Call) and e.name == "range" and len(e.args) >= 2:
            return Pub(self.pub_int(e.args[0], frame, "a range bound"))
        return Pub(0) if isinstance(e, N.Call) and e.name == "range" else None

    def iterate(self, e, frame) -> list:
        """The values a loop or comprehension runs over: range(...) or an array's elements."""
        if isinstance(e, N.Call) and e.name == "range":
            if not 1 <= len(e.args) <= 3:
                raise self.err(e, f"range() takes 1 to 3 arguments, got {len(e.args)}")
            vals = [self.pub_int(a, frame, "a range bound") for a in e.args]
            start, stop, step = (0, vals[0], 1) if len(vals) == 1 else \
                (vals[0], vals[1], vals[2] if len(vals) == 3 else 1)
            if step == 0:
                raise self.err(e, "range() step must not be zero")
            # len(range(...)) overflows on bounds past 2**63: count with Python integers
            n = max(0, -((start - stop) // step)) if step > 0 else \
                max(0, -((stop - start) // -step))
            if n > MAX_ITERATIONS:
                raise self.err(e, f"range of {n:,} iterations is too long to unroll (at most "
                                  f"{MAX_ITERATIONS:,})")
            return [Pub(i) for i in range(start, stop, step)]
        v = self.expr(e, frame)
        if isinstance(v, Agg) and isinstance(v.type, ArrayType):
            return list(v.items)
        raise self.err(e, f"a loop runs over range(...) with compile-time bounds or over an "
                          f"array, got {describe(v)}")


class Assigned:
    """What a statement made of a variable, ``old`` before, ``new`` after: :meth:`nodes`
    reads it (the nodes that may differ; of an array written in a few places, those
    elements; all of the value where it is the one the variable had). Found only when the
    checks ask, for the few conditions no output reaches otherwise."""
    __slots__ = ("new", "old")

    def __init__(self, new, old):
        self.new, self.old = new, old

    @staticmethod
    def read_by(new, old) -> tuple:
        """The readers of a condition whose 'if' made ``new`` of ``old`` (one variable):
        the nodes of :meth:`nodes` where they are known at once (a scalar, one element
        written), else an Assigned. Kept for every secret 'if' of an unrolled loop, so the
        old value is not held alive until the checks where that is not needed."""
        if type(new) is Word:
            return (new.node,)
        if type(new) is Agg and type(old) is Agg:
            k = new.written_at(old)
            if k is not None:
                x = new.item(k)
                return (x.node,) if type(x) is Word else tuple(w.node for w in leaves(x))
        return (Assigned(new, old),)

    def nodes(self) -> list[int]:
        new, old = self.new, self.old
        if type(new) is Word:
            return [new.node]
        if type(new) is Agg:
            idx = new.differs(old) if type(old) is Agg and new is not old else None
            items = new.items if idx is None else [new.item(i) for i in idx]
            return [w.node for it in items for w in leaves(it)]
        return []
