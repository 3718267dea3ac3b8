"""Type checker and elaborator: AST -> word-level IR, with every name, type, width and party check.

The checker runs the program at compile time the way the circuit will run it: ``for`` loops
are unrolled, functions are inlined (a call to a function already being inlined is recursion, an
error), an ``if`` on a compile-time condition compiles only the taken branch (the other is still
type-checked, as dead code), an ``if`` on a secret condition runs both branches and merges every
variable with a multiplexer. ``return`` under a secret condition is tracked with a "done" bit.
Functions never called are type-checked with opaque arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from yaogc.circuits.native import MAX_INPUT_BITS
from yaogc.circuits.types import BOOL, ArrayType, TupleType, ValueType

from . import nodes as N
from .builtins import BUILTINS, CallMixin
from .widths import WidthMixin
from .convert import ConversionError, pub_to_raw, zero
from .errors import CompileError, Source
from .exprs import ExprMixin
from .ir import BYTES_PER_NODE, TooLarge, WordGraph
from .stmts import Frame, StmtMixin
from .imports import Loader
from .parser import MAX_LITERAL_DIGITS
from .values import (ANY, Pub, TypeNameError, Word, leaves, rebuild, scalar_leaves,
                     scalar_type_named)

# read as the bool literals wherever a name could stand: no program may declare them
_BOOL_WORDS = frozenset(("True", "False", "true", "false"))


@dataclass
class Elaborated:
    """A checked program as word-level IR: ports, the graph, and each output's leaf nodes."""
    name: str
    parties: tuple[str, ...]
    graph: WordGraph
    inputs: list[tuple[str, str, ValueType]]
    outputs: list[tuple[tuple[str, ...], str, ValueType, list[int]]]

    def roots(self) -> list[int]:
        """The nodes the outputs read, in output order."""
        return [n for out in self.outputs for n in out[3]]

    def rebuilt(self, graph: WordGraph, m) -> "Elaborated":
        """The same program on ``graph``, a rebuild of this one's graph (node n became m[n])."""
        outputs = [(rec, name, t, [m[x] for x in ns]) for rec, name, t, ns in self.outputs]
        return Elaborated(self.name, self.parties, graph, list(self.inputs), outputs)


_TOO_DEEP = ("the program is nested too deeply (an expression of thousands of operators, or "
             "calls or blocks nested thousands deep): write a long sum or chain as a loop")

class Checker(StmtMixin, ExprMixin, CallMixin, WidthMixin):
    def __init__(self, program: N.Program, src: Source, defines: dict[str, str] | None = None,
                 name: str = "main"):
        self.prog = program
        self.src = src
        self.defines = dict(defines or {})
        self.name = name
        self.g = WordGraph()
        self.dead = 0
        self.stack: list[str] = []
        self.calls: list = []       # the Call nodes of the functions being elaborated
        self.called: set[str] = set()
        self.consts: dict = {}
        self.funcs: dict[str, N.FuncDef] = {}
        self.parties: list[str] = []
        self.iterations = 0
        self._untaken_seen: set = set()     # see StmtMixin._check_untaken
        self._uniform_sites: dict = {}      # see uniform.loop_sites
        self._input_users = [0, {}]         # see uniform.input_users
        self._elifs: dict = {}
        self._assigned_names: dict = {}     # see StmtMixin._assigned
        self._free_names: set[str] = set()
        self._assignable: set[int] = set()     # targets _check_local has passed (their ids)
        self._consts_declared = False
        self.type_decls: dict[str, N.TypeDecl] = {}
        self._alias_types: dict[str, ValueType] = {}
        self._resolving: list[str] = []
        self._expr_handlers: dict = {}
        self._stmt_handlers: dict = {}

    def err(self, node, msg: str) -> CompileError:
        # a node parsed from an imported module carries that module's source; an error
        # inside a module's function also names the program's call that led there (a
        # library function given an argument it cannot take)
        src = getattr(node, "src", None)
        if src is not None:
            msg += self._call_chain()
            return src.error(msg, node.line, node.col)
        if self.calls and self.stack and node is not self.calls[-1]:
            # inside a generic function ('any'), what is wrong depends on the call's arguments
            f = self.funcs.get(self.stack[-1])
            if f is not None and (any(_is_any(p.type) for p in f.params) or
                                  f.returns is not None and
                                  any(_is_any(getattr(r, "type", None)) for r in f.returns)):
                msg += self._call_chain()
        return self.src.error(msg, node.line, node.col)

    def _call_chain(self, most: int = 4) -> str:
        """The program's calls that led where an error is, innermost first (a generic
        function called from another, twice from main: which call of main's it was)."""
        at = [f"{self.src.filename}:{c.line}:{c.col}" for c in reversed(self.calls)
              if not hasattr(c, "src")]
        at = [a for i, a in enumerate(at) if i == 0 or a != at[i - 1]]
        if not at:
            return ""
        more = ", ..." if len(at) > most else ""
        return f" (in a call at {at[0]}" + "".join(f", from {a}" for a in at[1:most]) + \
            more + ")"

    # --- the program ---------------------------------------------------------------------------
    def run(self) -> Elaborated:
        try:
            return self._run()
        except TooLarge:
            n = len(self.g)
            raise self._error_at(f"the program is too large: it unrolls into too many "
                                 f"operations (more than {n:,}, about "
                                 f"{n * BYTES_PER_NODE / 1e9:.1f} GB to compile at "
                                 f"{BYTES_PER_NODE} bytes each: {self.g.limit_why}); use "
                                 f"smaller sizes") from None
        except RecursionError:
            raise self._error_at(_TOO_DEEP) from None
        finally:
            # the handler caches hold bound methods, a cycle through this checker: the
            # cyclic collector is paused while a program compiles, so the cycle would keep
            # the elaborated graph (and every value made) alive through the passes after it
            self._expr_handlers.clear()
            self._stmt_handlers.clear()

    @staticmethod
    def outside(node, name: str) -> bool:
        """Whether ``name``, read in ``node``, is out of reach of that code: a module's code
        (its nodes carry their source) reaches its own declarations by ``module.name`` (the
        loader renamed them), so a plain name there is a local or a builtin, never a name of
        the program that imports it."""
        return getattr(node, "src", None) is not None and "." not in name

    def _error_at(self, msg: str) -> CompileError:
        """An error at the statement being elaborated (in its module's file), else at 1:1."""
        at = getattr(self, "at", None)
        if at is None:
            return self.src.error(msg, 1, 1)
        return (getattr(at, "src", None) or self.src).error(msg, at.line, at.col)

    def _run(self) -> Elaborated:
        self._declare_parties()
        aliases = Loader().merge(self.prog, self.src, self.err) if self.prog.imports else {}
        for imp in self.prog.imports:
            for ref in imp.names:
                # a module may define 'max' for its own code, but the program's 'max' stays
                # the builtin: importing it would be silently ignored
                kind = self._reserved(ref.name)
                if kind:
                    raise self.err(ref, f"'{ref.name}' is reserved ({kind}) and cannot be "
                                        f"imported: in the program it stays {kind}; give "
                                        f"the module's one another name")
        for f in self.prog.funcs:
            if f.name in self.funcs:
                raise self.err(f, f"function '{f.name}' is defined twice")
            self._check_name(f, f.name, "a function")
            names = [p.name for p in f.params]
            for p in f.params:
                if p.name in _BOOL_WORDS:       # the body's reads would be the literal
                    what = "an input" if f.name == "main" else "a parameter"
                    raise self.err(p, f"'{p.name}' is reserved and cannot name {what}")
            if len(set(names)) != len(names):   # the later one silently took the argument
                p = next(p for i, p in enumerate(f.params) if p.name in names[:i])
                raise self.err(p, f"parameter '{p.name}' is declared twice")
            self.funcs[f.name] = f
        self._declare_types()
        self._import_names(aliases, self.funcs, self.type_decls)
        self._declare_consts(aliases)
        self._consts_declared = True
        for d in self.prog.types:     # an unused alias is checked too, a module's as a const is
            self._alias(d)
        main = self.funcs.get("main")
        if main is None:
            mine = [f for f in self.prog.funcs if not hasattr(f, "src")]
            msg = ("the program has no 'def main(...)': main's parameters are the inputs, its "
                   "results the outputs")
            if mine:    # at the first function, which may be main misnamed
                names = ", ".join(f"'{f.name}'" for f in mine[:3]) + (", ..." if mine[3:] else "")
                raise self.err(mine[0], f"{msg} (this program defines {names})")
            raise self.src.error(msg, len(self.src.lines) or 1, 1)
        result = self._elaborate_main(main)
        for f in self.prog.funcs:
            # a module's functions are checked where a program calls them
            if f.name not in self.called and f.name != "main" and not hasattr(f, "src"):
                self._check_unused(f)
        return result

    def _check_name(self, node, name: str, what: str):
        if name in self._free_names:
            return      # the answer depends on the name alone: asked once per name
        if self._reserved(name):
            raise self.err(node, f"'{name}' is reserved and cannot name {what}")
        self._free_names.add(name)

    @staticmethod
    def _reserved(name: str) -> str | None:
        """What a reserved name is (a type name, a builtin, @both), else None."""
        if name in _BOOL_WORDS:     # every read of the name is the literal
            return "a bool literal"
        try:
            if scalar_type_named(name) is not None:
                return "a type name"
        except TypeNameError:
            return "a type name"
        if name in BUILTINS:
            return "a builtin"
        return "the name of every party" if name == "both" else None

    def _declare_parties(self):
        for decl in self.prog.parties:
            for p in decl.names:
                if p.name in self.parties:
                    raise self.err(p, f"party '{p.name}' is declared twice")
                if p.name == "both":
                    raise self.err(p, "'both' is reserved: @both addresses all declared parties")
                # any number: two run as garbler and evaluator (yaogc run), more as data
                # owners of two compute servers (yaogc serve / submit)
                self.parties.append(p.name)

    def _import_names(self, aliases: dict[str, str], *spaces: dict):
        """Make each imported name refer to its module's declaration."""
        for name, full in aliases.items():
            for space in spaces:
                if full in space:
                    if name in space and space[name] is not space[full]:
                        node = space[name] if isinstance(space[name], N.Node) else None
                        self._imported_and_defined(name, full, node)
                    space[name] = space[full]

    def _imported_and_defined(self, name: str, full: str, node) -> None:
        """The error of a name both imported and defined, at the name in its 'from' line."""
        ref = next((r for imp in self.prog.imports for r in imp.names if r.name == name), None)
        where = f" (line {node.line})" if node is not None else ""
        at = ref if ref is not None else node
        raise self.src.error(f"'{name}' is imported from {full.rsplit('.', 1)[0]} and also "
                             f"defined in this program{where}", at.line if at else 1,
                             at.col if at else 1)

    def _declare_types(self):
        for d in self.prog.types:
            if d.name in self.type_decls:
                raise self.err(d, f"type '{d.name}' is defined twice")
            if d.name in self.funcs:
                raise self.err(d, f"'{d.name}' is already a function")
            if d.name == "any":
                raise self.err(d, "'any' is reserved: it declares a generic parameter or result")
            self._check_name(d, d.name, "a type")
            self.type_decls[d.name] = d

    def _alias(self, te) -> ValueType:
        """The type an alias names: its -D override, else its declaration."""
        name = te.name
        t = self._alias_types.get(name)
        if t is not None:
            return t
        d = self.type_decls[name]
        if name in self._resolving:
            raise self.err(te, f"type '{name}' is defined in terms of itself")
        self._resolving.append(name)
        try:
            if name in self.defines:
                declared = self.resolve_type(d.type, Frame(None))
                t = self._define_type(name, self.defines[name])
                if isinstance(declared, (ArrayType, TupleType)):
                    raise Source(f"{name}={self.defines[name]}", "-D").error(
                        f"'{name}' is {declared}, not a scalar type: -D gives an alias of a "
                        f"scalar type another one (override the alias its elements are "
                        f"declared with)", 1, 1)
            else:
                t = self.resolve_type(d.type, Frame(None))
        finally:
            self._resolving.pop()
        self._alias_types[name] = t
        return t

    def _define_type(self, name: str, text: str) -> ValueType:
        src = Source(f"{name}={text}", "-D")
        text = text.strip()
        try:
            t = scalar_type_named(text)
        except TypeNameError as e:
            raise src.error(str(e), 1, len(name) + 2) from None
        if t is None and text in self.type_decls and text != name:
            t = self._alias(N.TypeName(1, 1, text, []))
            if isinstance(t, (ArrayType, TupleType)):
                raise src.error(f"'{text}' is {t}: the value must be a scalar type or an alias "
                                f"of one", 1, len(name) + 2)
            return t
        if t is None and "[" in text:
            raise src.error(f"'{text}' is an array type: the value must be a scalar type (bool, "
                            f"u1..u256, i1..i256, fixW_F such as fix24_12) or an alias of one",
                            1, len(name) + 2)
        if t is None:
            raise src.error(f"'{text}' is not a type (bool, u1..u256, i1..i256, fixW_F such "
                            f"as fix24_12)", 1, len(name) + 2)
        return t

    def _declare_consts(self, aliases: dict[str, str]):
        """The program's constants, after the modules' (whose names have a dot), so that
        ``const N = M * 3`` may read an imported ``M``."""
        frame = Frame(None)
        known = {c.name for c in self.prog.consts} | set(self.type_decls)
        for name in self.defines:
            if name in aliases:
                # the module's code would keep its own value: the two would disagree
                raise CompileError(f"-D {name}: '{name}' is imported from "
                                   f"{aliases[name].rsplit('.', 1)[0]}; -D sets the program's "
                                   f"own consts and types", "-D", 1, 1,
                                   f"{name}={self.defines[name]}")
            if name not in known:
                raise CompileError(f"-D {name}: the program has no 'const {name}' (nor 'type "
                                   f"{name}')", "-D", 1, 1,
                                   f"{name}={self.defines[name]}")
        for c in self.prog.consts:
            if "." in c.name:       # a module's
                self._declare_const(c, frame)
        self._import_names(aliases, self.consts)
        for c in self.prog.consts:
            if "." not in c.name:
                if c.name in aliases:
                    self._imported_and_defined(c.name, aliases[c.name], c)
                self._declare_const(c, frame)

    def _declare_const(self, c, frame) -> None:
        if c.name in self.consts:
            raise self.err(c, f"const '{c.name}' is defined twice")
        if c.name in self.funcs:
            raise self.err(c, f"'{c.name}' is already a function")
        if c.name in self.type_decls:   # A(x) and A would each mean another thing
            raise self.err(c, f"'{c.name}' is already a type")
        self._check_name(c, c.name, "a constant")
        t = self.resolve_type(c.type, frame) if c.type is not None else None
        if c.name in self.defines:
            v = self._define_value(c.name, self.defines[c.name], t)
        else:
            v = self.expr(c.value, frame, t)
            if t is not None:
                v = self.coerce(v, t, c.value)
            elif isinstance(v, Word) and self.g.const_value(v.node) is None:
                raise self.err(c.value, "a const must be known at compile time")
        self.consts[c.name] = v

    def _define_value(self, name: str, text: str, t):
        src = Source(f"{name}={text}", "-D")
        col = len(name) + 2
        try:
            v = parse_define_value(text)
        except DefineTooLarge as e:
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise src.error(f"'{shown}': {e}", 1, col) from None
        if v is None:
            raise src.error(f"'{text}' is not a number or bool (decimal, 0x-hex, 0b-binary, "
                            f"a decimal such as 2.5 or 1e-3, True or False)", 1, col)
        if isinstance(v, bool) != (t == BOOL) and t is not None:
            raise src.error(f"'{name}' is declared {t}: '{text}' is not a value of it", 1, col)
        if isinstance(v, bool):
            return Word(self.g.const(BOOL, int(v)), BOOL)
        if t is None:
            return Pub(v)
        try:
            return Word(self.g.const(t, pub_to_raw(v, t, wrap=False)), t)
        except ConversionError as e:
            raise src.error(str(e), 1, col) from None

    # --- types ---------------------------------------------------------------------------------
    def resolve_type(self, te, frame) -> ValueType:
        if isinstance(te, N.TypeName) and te.name in self.type_decls and \
                not self.outside(te, te.name):
            t = self._alias(te)
        elif isinstance(te, N.TypeName):
            try:
                t = scalar_type_named(te.name)
            except TypeNameError as e:
                raise self.err(te, str(e)) from None
            if t is None and te.name == "any":
                raise self.err(te, "'any' is only for the parameters and result of a function "
                                   "(main's inputs and outputs need concrete types)")
            if t is None:
                raise self.err(te, f"unknown type '{te.name}' (types: bool, u1..u256, i1..i256, "
                                   f"fixW_F such as fix32_16, arrays u8[4], tuples (u8, bool))")
        else:
            t = TupleType(tuple(self.resolve_type(x, frame) for x in te.elems))
        dims = [self._dim(d, frame) for d in te.dims]
        for d in reversed(dims):
            t = ArrayType(t, d)
        if t.width > 1 << 24:
            raise self.err(te, f"type {t} is too large ({t.width} bits)")
        return t

    def _dim(self, e, frame) -> int:
        d = self.pub_int(e, frame, "an array length")
        if d < 1:
            raise self.err(e, f"an array length must be at least 1, got {d}")
        return d

    # --- main and functions -----------------------------------------------------------------------
    def _party(self, ref: N.PartyRef | N.PartySet | None, node, what: str,
               allow_both: bool) -> tuple[str, ...]:
        if ref is None:
            raise self.err(node, f"{what} needs a party annotation such as @{self._example_party()}")
        if isinstance(ref, N.PartySet):
            if not allow_both:
                raise self.err(ref, f"{what} belongs to one party, not to a set of parties")
            chosen: set[str] = set()
            for r in ref.refs:
                if r.name == "both":
                    raise self.err(r, "@both addresses all parties already; it cannot be part "
                                      "of a set")
                (one,) = self._party(r, node, what, allow_both)
                if one in chosen:
                    raise self.err(r, f"party '{one}' is named twice for {what}")
                chosen.add(one)
            return tuple(p for p in self.parties if p in chosen)   # in declaration order
        if ref.name == "both":
            if not allow_both:
                raise self.err(ref, "an input belongs to one party, not @both")
            if not self.parties:
                raise self.err(ref, "@both needs a 'party alice, bob' declaration")
            return tuple(self.parties)
        if ref.name not in self.parties:
            if not self.parties:
                raise self.err(ref, f"party '{ref.name}' is not declared: add "
                                    f"'party {ref.name}, ...' at the top of the program")
            raise self.err(ref, f"party '{ref.name}' is not declared (parties: "
                                f"{', '.join(self.parties)})")
        return (ref.name,)

    def _example_party(self) -> str:
        return self.parties[0] if self.parties else "alice"

    def _ret_type(self, f: N.FuncDef, frame) -> ValueType | None:
        if f.returns is None:
            return None
        for o in f.returns:
            if o.party is not None and f.name != "main":
                raise self.err(o.party, "only main's results have parties")
        if len(f.returns) == 1 and _is_any(f.returns[0].type):
            return ANY
        types = [self.resolve_type(o.type, frame) for o in f.returns]
        return types[0] if len(types) == 1 else TupleType(tuple(types))

    def _elaborate_main(self, main: N.FuncDef) -> Elaborated:
        g = self.g
        frame0 = Frame(None)
        inputs = []
        frame = Frame(None, done=g.false())
        bits = 0
        for i, p in enumerate(main.params):     # (a name declared twice: refused in _run)
            self._check_name(p, p.name, "an input")
            t = self.resolve_type(p.type, frame0)
            (party,) = self._party(p.party, p, f"input '{p.name}'", allow_both=False)
            bits += t.width
            self.at = p         # where an input too large for the memory is named
            if bits > MAX_INPUT_BITS:   # said at once, before its words are made
                raise self.err(p, f"the program is too large: its inputs take {bits:,} bits "
                                  f"up to '{p.name}', more than the {MAX_INPUT_BITS:,} a "
                                  f"circuit may have")
            words, off = [], 0
            for lt in scalar_leaves(t):
                words.append(Word(g.input(lt, (i, off)), lt))
                off += lt.width
            frame.vars[p.name] = rebuild(t, words)[0]
            inputs.append((party, p.name, t))
        if not main.returns:
            raise self.err(main, "main must declare its results: -> (name: type @party, ...)")
        outs = []
        for k, o in enumerate(main.returns):
            name = o.name or "result"
            if any(name == x[1] for x in outs):
                raise self.err(o, f"output '{name}' is declared twice")
            t = self.resolve_type(o.type, frame0)
            rec = self._party(o.party, o, f"output '{name}'", allow_both=True)
            outs.append((rec, name, t))
        frame.ret_type = outs[0][2] if len(outs) == 1 else TupleType(tuple(o[2] for o in outs))
        self.stack.append("main")
        self.exec_block(main.body, frame)
        self.stack.pop()
        if not self.is_true(frame.done):
            raise self.err(main, "main can reach its end without 'return'")
        values = [frame.ret] if len(outs) == 1 else list(frame.ret.items)
        outputs = [(rec, name, t, [w.node for w in leaves(v)])
                   for (rec, name, t), v in zip(outs, values)]
        return Elaborated(self.name, tuple(self.parties), g, inputs, outputs)

    def call_user(self, f: N.FuncDef, call: N.Call, frame):
        if f.name in self.stack:
            raise self.err(call, f"recursive call of '{f.name}': functions are inlined, so a "
                                 f"function cannot call itself, directly or indirectly")
        if f.name == "main":
            raise self.err(call, "main cannot be called")
        if len(call.args) != len(f.params):
            raise self.err(call, f"{f.name}() takes {len(f.params)} argument"
                                 f"{'s' if len(f.params) != 1 else ''}, got {len(call.args)}")
        self.called.add(f.name)
        top = Frame(None)
        new = Frame(self._ret_type(f, top), done=self.g.false())
        for p, a in zip(f.params, call.args):
            if p.party is not None:
                raise self.err(p.party, "only main's parameters have parties")
            if _is_any(p.type):
                new.vars[p.name] = self.expr(a, frame, None)
                continue
            t = self.resolve_type(p.type, top)
            v = self.expr(a, frame, t)
            new.vars[p.name] = self.coerce(v, t, a, lambda: f"argument '{p.name}' has type {t}")
        self.stack.append(f.name)
        self.calls.append(call)
        try:
            self.exec_block(f.body, new)
        finally:
            self.calls.pop()
        self.stack.pop()
        if new.ret_type is None:
            raise self.err(call, f"{f.name}() returns nothing (declare '-> type')")
        if not self.is_true(new.done):
            if self.dead:
                return zero(self.g, new.ret_type) if new.ret_type is not ANY else Pub(0)
            raise self.err(f, f"function '{f.name}' can reach its end without 'return'")
        return new.ret

    def _check_unused(self, f: N.FuncDef):
        """Type-check a function nothing calls, with opaque arguments (a generic one, with
        'any' parameters, is checked where it is called)."""
        if any(_is_any(p.type) for p in f.params):
            return
        g = self.g
        top = Frame(None)
        new = Frame(self._ret_type(f, top), done=g.false())
        for i, p in enumerate(f.params):
            if p.party is not None:
                raise self.err(p.party, "only main's parameters have parties")
            t = self.resolve_type(p.type, top)
            words = [Word(g.input(lt, ("unused", f.name, i, k)), lt)
                     for k, lt in enumerate(scalar_leaves(t))]
            new.vars[p.name] = rebuild(t, words)[0]
        self.stack.append(f.name)
        self.in_dead(self.exec_block, f.body, new)
        self.stack.pop()

def parse_define_value(text: str):
    """A -D value: an integer (decimal, 0x, 0b, optional sign), a decimal literal as the
    language writes one (``0.25``, ``1e-3``, ``2.5E+1``) or a bool; None if it is none of
    these. Raises :class:`DefineTooLarge` for a number too long or whose exponent is out of
    range, as the same literal in a program is refused."""
    t = text.strip().replace("_", "")
    if not t.isascii():
        return None   # int() would take other scripts' digits, which --input refuses too
    if t in ("True", "true"):
        return True
    if t in ("False", "false"):
        return False
    neg = t.startswith("-")
    body = t[1:] if t[:1] in "+-" else t
    low = body.lower()
    mantissa, _, exponent = low.partition("e") if _DECIMAL.fullmatch(body) else (body, "", "")
    if len(mantissa) > MAX_LITERAL_DIGITS:
        raise DefineTooLarge(f"{len(mantissa)} digits is too long (at most "
                             f"{MAX_LITERAL_DIGITS})")
    if exponent and abs(int(exponent)) > MAX_LITERAL_DIGITS:
        raise DefineTooLarge(f"the exponent is out of range (at most {MAX_LITERAL_DIGITS} "
                             f"either way; the widest type has 256 bits)")
    try:
        if low.startswith("0x"):
            v = int(body[2:], 16)
        elif low.startswith("0b"):
            v = int(body[2:], 2)
        elif body.isdigit():
            v = int(body)
        elif _DECIMAL.fullmatch(body):
            v = Fraction(body)
        else:
            return None
    except ValueError:
        return None
    return -v if neg else v


class DefineTooLarge(ValueError):
    """A -D number beyond what a literal of the language may be."""


# the language's decimal literal (yaogc.lark's DECIMAL), underscores removed
_DECIMAL = re.compile(r"[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+")


def _is_any(te) -> bool:
    return isinstance(te, N.TypeName) and te.name == "any" and not te.dims
