"""Parser: program text -> AST (``nodes.Program``) with lark's LALR parser and an Indenter.

Syntax errors become :class:`CompileError` with a human message: lark's ``match_examples``
maps the parser state of the error onto a small catalogue of typical mistakes ("expected ':'
after the function header"); other errors name the unexpected token and what could follow.
"""

from __future__ import annotations

import stat
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput,
                             VisitError)
from lark.indenter import Indenter

from . import nodes as N
from .errors import CompileError, Source, normalize_newlines
from .parsercache import load_or_build
from .syntax_examples import EXACT_ONLY, EXAMPLES, TOKEN_WORDS, hint


class _YaoIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB"]
    CLOSE_PAREN_types = ["RPAR", "RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def handle_NL(self, token):
        if self.paren_level > 0:
            return
        yield token
        indent_str = token.rsplit("\n", 1)[1]
        indent = indent_str.count(" ") + indent_str.count("\t") * self.tab_len
        if indent > self.indent_level[-1]:
            self.indent_level.append(indent)
            yield Token.new_borrow_pos(self.INDENT_type, indent_str, token)
        else:
            while indent < self.indent_level[-1]:
                self.indent_level.pop()
                yield Token.new_borrow_pos(self.DEDENT_type, indent_str, token)
            if indent != self.indent_level[-1]:
                # the offending line starts after the newline token
                line = (token.end_line or token.line)
                raise _IndentProblem(line, indent + 1)


class _IndentProblem(Exception):
    def __init__(self, line: int, col: int):
        self.line, self.col = line, col


def build_parser(grammar: str) -> Lark:
    """The LALR parser of ``grammar``, built (its tables computed) afresh."""
    return Lark(grammar, parser="lalr", postlex=_YaoIndenter(), propagate_positions=True,
                maybe_placeholders=False, start="start")


def load_parser(data, memo) -> Lark:
    """The parser whose tables :func:`build_parser` made, from their serialized form."""
    return Lark._load_from_dict(data, memo, postlex=_YaoIndenter())


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = (Path(__file__).with_name("yaogc.lark")).read_text()
    return load_or_build(grammar, lambda: build_parser(grammar), load_parser)


def _pos(x) -> tuple[int, int]:
    if isinstance(x, Token):
        return x.line, x.column
    if isinstance(x, N.Node):
        return x.line, x.col
    meta = x.meta
    return meta.line, meta.column


MAX_LITERAL_DIGITS = 1000   # far beyond the widest type (256 bits: 78 decimal digits)


class _BadLiteral(Exception):
    """A literal the grammar takes but no number is: too many digits, no digits."""

    def __init__(self, tok: Token, digits: int, what: str | None = None):
        self.tok, self.digits = tok, digits
        self.what = what or (f"integer literal of {digits} digits is too large (at most "
                             f"{MAX_LITERAL_DIGITS}; the widest type has 256 bits)")


def _parse_dec(tok: Token) -> Fraction:
    """A decimal literal, with or without an exponent (``0.25``, ``1e-3``, ``2.5E+2``)."""
    t = str(tok).replace("_", "")
    mantissa, _, exponent = t.lower().partition("e")
    if len(mantissa) > MAX_LITERAL_DIGITS:
        raise _BadLiteral(tok, len(mantissa), (
            f"decimal literal of {len(mantissa)} digits is too long (at most "
            f"{MAX_LITERAL_DIGITS})"))
    # the exponent is bounded before it is applied: 1e999999999 would take Fraction hours
    if exponent and abs(int(exponent)) > MAX_LITERAL_DIGITS:
        raise _BadLiteral(tok, len(mantissa), (
            f"decimal literal {t}: the exponent is out of range (at most "
            f"{MAX_LITERAL_DIGITS} either way; the widest type has 256 bits)"))
    return Fraction(t)


def _parse_int(tok: Token) -> int:
    t = str(tok).replace("_", "")
    if len(t) > MAX_LITERAL_DIGITS:
        raise _BadLiteral(tok, len(t))
    low = t.lower()
    if low[:2] in ("0x", "0b") and len(t) == 2:
        raise _BadLiteral(tok, 0, f"{'hexadecimal' if low[1] == 'x' else 'binary'} literal "
                                  f"{tok} has no digits")
    if low.startswith("0x"):
        return int(t[2:], 16)
    if low.startswith("0b"):
        return int(t[2:], 2)
    if len(t) > 1 and t[0] == "0" and t.strip("0"):
        # C reads 017 as octal 15, Python refuses it: neither silently 17
        raise _BadLiteral(tok, 0, f"leading zeros are not allowed in a decimal number ({tok}): "
                                  f"write {int(t, 10)} (there are no octal numbers)")
    return int(t, 10)


@v_args(meta=True)
class _ToAst(Transformer):
    """Builds the dataclass AST from lark's parse tree."""

    # --- declarations
    def start(self, meta, items):
        prog = N.Program([], [], [])
        for it in items:
            if isinstance(it, N.PartyDecl):
                prog.parties.append(it)
            elif isinstance(it, N.ConstDecl):
                prog.consts.append(it)
            elif isinstance(it, N.FuncDef):
                prog.funcs.append(it)
            elif isinstance(it, N.TypeDecl):
                prog.types.append(it)
            elif isinstance(it, N.ImportDecl):
                prog.imports.append(it)
        return prog

    def type_decl(self, meta, items):
        name = items[0]
        return N.TypeDecl(name.line, name.column, str(name), items[1])

    def import_decl(self, meta, items):
        return N.ImportDecl(meta.line, meta.column, items[0],
                            [N.PartyRef(t.line, t.column, str(t)) for t in items[1:]])

    def module_name(self, meta, items):
        return ".".join(str(t) for t in items)

    def party_decl(self, meta, items):
        return N.PartyDecl(meta.line, meta.column,
                           [N.PartyRef(t.line, t.column, str(t)) for t in items])

    def const_decl(self, meta, items):
        name = items[0]
        typ = items[1] if len(items) == 3 else None
        return N.ConstDecl(name.line, name.column, str(name), typ, items[-1])

    def funcdef(self, meta, items):
        name = items[0]
        params: list[N.Param] = []
        returns = None
        named = False
        body = items[-1]
        for it in items[1:-1]:
            if isinstance(it, list) and it and isinstance(it[0], N.Param):
                params = it
            elif isinstance(it, tuple):
                returns, named = it
        return N.FuncDef(name.line, name.column, str(name), params, returns, named, body)

    def params(self, meta, items):
        return list(items)

    def param(self, meta, items):
        name = items[0]
        party = items[2] if len(items) > 2 else None
        return N.Param(name.line, name.column, str(name), items[1], party)

    def party(self, meta, items):
        t = items[0]
        return N.PartyRef(t.line, t.column, str(t))

    def party_set(self, meta, items):
        return N.PartySet(meta.line, meta.column,
                          [N.PartyRef(t.line, t.column, str(t)) for t in items])

    def ret_single(self, meta, items):
        party = items[1] if len(items) > 1 else None
        return ([N.OutSpec(meta.line, meta.column, None, items[0], party)], False)

    def ret_named(self, meta, items):
        return (list(items), True)

    def outspec(self, meta, items):
        name = items[0]
        party = items[2] if len(items) > 2 else None
        return N.OutSpec(name.line, name.column, str(name), items[1], party)

    def type_name(self, meta, items):
        name = items[0]
        return N.TypeName(name.line, name.column, str(name), list(items[1:]))

    def type_tuple(self, meta, items):
        elems = [i for i in items if isinstance(i, (N.TypeName, N.TupleTypeExpr))]
        dims = [i for i in items if not isinstance(i, (N.TypeName, N.TupleTypeExpr))]
        return N.TupleTypeExpr(meta.line, meta.column, elems, dims)

    def dim(self, meta, items):
        return items[0]

    # --- statements
    def suite(self, meta, items):
        return list(items)

    def decl(self, meta, items):
        name = items[0]
        return N.Decl(name.line, name.column, str(name), items[1], items[2])

    def assign(self, meta, items):
        targets = [i for i in items if isinstance(i, N.Target)]
        values = [i for i in items if not isinstance(i, N.Target)]
        value = values[0]
        if len(values) > 1:
            value = N.TupleLit(value.line, value.col, values)
        return N.Assign(meta.line, meta.column, targets, value)

    def aug_assign(self, meta, items):
        target, op, value = items
        return N.AugAssign(op.line, op.column, target, str(op)[:-1], value)

    def aug_op(self, meta, items):
        return items[0]

    def target(self, meta, items):
        name = items[0]
        return N.Target(name.line, name.column, str(name), list(items[1:]))

    def return_stmt(self, meta, items):
        kw = items[0]
        return N.Return(kw.line, kw.column, list(items[1:]))

    def pass_stmt(self, meta, items):
        return N.Pass(meta.line, meta.column)

    def assert_stmt(self, meta, items):
        kw, cond = items[0], items[1]
        message = str(items[2])[1:-1] if len(items) > 2 else None
        return N.Assert(kw.line, kw.column, cond, message)

    def if_stmt(self, meta, items):
        branches = [(items[0], items[1])]
        orelse = None
        for it in items[2:]:
            if isinstance(it, tuple):
                branches.append(it)
            else:
                orelse = it
        return N.If(meta.line, meta.column, branches, orelse)

    def elif_clause(self, meta, items):
        return (items[0], items[1])

    def else_clause(self, meta, items):
        return items[0]

    def for_stmt(self, meta, items):
        var = items[0]
        return N.For(meta.line, meta.column, str(var), var.line, var.column, items[1], items[2])

    def while_stmt(self, meta, items):
        kw = items[0]
        return N.While(kw.line, kw.column)

    # --- expressions
    def ternary(self, meta, items):
        then, cond, orelse = items
        line, col = _pos(cond)
        return N.Ternary(line, col, cond, then, orelse)

    def boolop(self, meta, items):
        left, op, right = items
        return N.BoolOp(op.line, op.column, str(op), left, right)

    def not_op(self, meta, items):
        op, x = items
        return N.Not(op.line, op.column, x)

    def compare(self, meta, items):
        # a < b <= c means (a < b) and (b <= c), as in Python (b has no side effects)
        result = None
        for k in range(1, len(items), 2):
            op = items[k]
            c = N.Compare(op.line, op.column, str(op), items[k - 1], items[k + 1])
            result = c if result is None else N.BoolOp(op.line, op.column, "and", result, c)
        return result

    def binop(self, meta, items):
        left, op, right = items
        return N.BinOp(op.line, op.column, str(op), left, right)

    def _op_token(self, meta, items):
        return items[0]

    comp_op = bor_op = bxor_op = band_op = shift_op = add_op = mul_op = unary_op = _op_token

    def unop(self, meta, items):
        op, x = items
        return N.Unary(op.line, op.column, str(op), x)

    def index(self, meta, items):
        base, idx = items
        line, col = _pos(idx)
        return N.Index(line, max(1, col - 1), base, idx)

    def var(self, meta, items):
        t = items[0]
        return N.Var(t.line, t.column, str(t))

    def int_lit(self, meta, items):
        t = items[0]
        return N.IntLit(t.line, t.column, _parse_int(t))

    def dec_lit(self, meta, items):
        t = items[0]
        return N.DecLit(t.line, t.column, _parse_dec(t), str(t))

    def true_lit(self, meta, items):
        return N.BoolLit(meta.line, meta.column, True)

    def false_lit(self, meta, items):
        return N.BoolLit(meta.line, meta.column, False)

    def call(self, meta, items):
        name = items[0]
        return N.Call(name.line, name.column, str(name), list(items[1:]))

    def call_gen(self, meta, items):
        name, elem, (var, it) = items
        line, col = _pos(elem)
        comp = N.Comprehension(line, col, elem, str(var), it)
        return N.Call(name.line, name.column, str(name), [comp])

    def comp_for(self, meta, items):
        return (items[0], items[1])

    def tuple_lit(self, meta, items):
        return N.TupleLit(meta.line, meta.column, list(items))

    def list_lit(self, meta, items):
        return N.ListLit(meta.line, meta.column, list(items))

    def list_comp(self, meta, items):
        elem, (var, it) = items
        return N.Comprehension(meta.line, meta.column, elem, str(var), it)


def _describe(tok: Token) -> str:
    if tok.type == "$END":
        return "end of the file"
    if tok.type == "_NL":
        return "end of the line"
    if tok.type == "_INDENT":
        return "indentation"
    if tok.type == "_DEDENT":
        return "end of the indented block"
    return f"'{tok}'"


@lru_cache(maxsize=1)
def _terminal_words() -> dict[str, str]:
    words = {}
    for t in _lark().terminals:
        if t.pattern.type == "str":
            words[t.name] = f"'{t.pattern.value}'"
    words.update(TOKEN_WORDS)
    return words


def _expected_words(expected) -> str:
    names = _terminal_words()
    words = sorted({names.get(e, e.lower()) for e in expected})
    if not words:
        return ""
    if len(words) > 6:
        return ""
    return "; expected " + (words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1])


def _state_of(e: UnexpectedInput) -> int | None:
    st = getattr(e, "state", None)
    if st is None:
        return None
    pos = getattr(st, "position", st)
    return pos if isinstance(pos, int) else None


@lru_cache(maxsize=1)
def _example_states() -> tuple[dict, dict]:
    """Parser states in which the catalogued mistakes fail: (state, token) -> message and
    state -> message. This is lark's ``match_examples`` computed once instead of per error."""
    exact: dict[tuple[int, str], str] = {}
    by_state: dict[int, str] = {}
    for label, examples in EXAMPLES.items():
        for ex in examples:
            try:
                _lark().parse(ex)
            except UnexpectedInput as u:
                st = _state_of(u)
                tok = getattr(u, "token", None)
                if st is None:
                    continue
                exact.setdefault((st, tok.type if tok is not None else "$END"), label)
                by_state.setdefault(st, label)
            except (LarkError, _IndentProblem):
                continue
    return exact, by_state


def _match_example(e: UnexpectedInput) -> str | None:
    st = _state_of(e)
    if st is None:
        return None
    exact, by_state = _example_states()
    tok = getattr(e, "token", None)
    key = (st, tok.type if tok is not None else "$END")
    got = exact.get(key)
    if got is None:
        # the state's message, for another token than its examples': not when that message
        # is about the one token its examples fail at ('=' assigns is no message for x @ y
        # or x.y, which then get the one that names the token)
        got = by_state.get(st)
        if got in EXACT_ONLY:
            return None
    return got


def _last_token_end(src: Source) -> tuple[int, int]:
    for k in range(len(src.lines), 0, -1):
        text = src.line_text(k)
        if text.strip() and not text.strip().startswith("#"):
            return k, len(text.rstrip()) + 1
    return 1, 1


def _unclosed_before(src: Source, line: int, col: int) -> tuple[str, int, int] | None:
    """The innermost bracket still open at (line, col), as (bracket, line, col), when that
    line begins no further right than the line of the bracket: a new statement the bracket
    swallowed (lark reads on across lines inside brackets), not a mistake within a
    bracketed expression that spans lines."""
    text = src.line_text(line)
    stack: list[tuple[str, int, int]] = []
    for k in range(1, line + 1):
        t = src.line_text(k) if k < line else text[:col - 1]
        for i, ch in enumerate(t):
            if ch == "#":
                break
            if ch in "([":
                stack.append((ch, k, i + 1))
            elif ch in ")]" and stack:
                stack.pop()
    if not stack or stack[-1][1] == line:
        return None
    ch, bl, bc = stack[-1]
    indent = len(src.line_text(bl)) - len(src.line_text(bl).lstrip())
    return (ch, bl, bc) if len(text) - len(text.lstrip()) <= indent else None


def _loop_jump(src: Source, line: int, col: int) -> CompileError | None:
    """A 'break' or 'continue' statement where the error is, at or after it."""
    text = src.line_text(line)
    word = text.split("#", 1)[0].strip()
    if word in ("break", "continue") and text[:col - 1].split("#", 1)[0].strip() in ("", word):
        return src.error(f"'{word}' is not supported: a loop runs every iteration (their "
                         f"number must be known); put the rest of the body under an 'if' "
                         f"instead", line, text.index(word) + 1)
    return None


def _syntax_error(src: Source, e: UnexpectedInput) -> CompileError:
    line, col = getattr(e, "line", 1) or 1, getattr(e, "column", 1) or 1
    if isinstance(e, UnexpectedCharacters):
        ch = src.line_text(line)[col - 1:col] or "?"
        known = _loop_jump(src, line, col)
        if known:
            return known
        known = hint(src.line_text(line), col, None)
        if known:
            return src.error(known, line, col)
        shown = f"'{ch}'" if ch.isprintable() else repr(ch)
        return src.error(f"unexpected character {shown}", line, col)
    tok = getattr(e, "token", None)
    label = _match_example(e)
    at_end = tok is not None and tok.type in ("_DEDENT", "_INDENT", "_NL") and \
        (tok.end_line or tok.line) > len(src.lines)
    if isinstance(e, UnexpectedEOF) or (tok is not None and tok.type == "$END") or at_end \
            or line > len(src.lines):
        line, col = _last_token_end(src)
    elif tok is not None and tok.type in ("_NL", "_DEDENT", "_INDENT"):
        # a newline token's position is the end of the previous line's text
        line = tok.line
        col = len(src.line_text(line).rstrip()) + 1 if tok.type == "_NL" else tok.column
        if tok.type != "_NL":
            # indentation tokens borrow the newline's position; the problem is the next line
            line = (tok.end_line or tok.line)
            col = len(tok.value.rsplit("\n", 1)[-1]) + 1
    text = src.line_text(line)
    known = _loop_jump(src, line, col)
    if known:
        return known
    known = hint(text, col, tok.type if tok is not None else None) if tok is not None else None
    if known:
        return src.error(known, line, col)
    opened = _unclosed_before(src, line, col)
    if opened is not None and tok is not None:
        ch, bl, bc = opened
        first = src.line_text(line).split()[0]
        return src.error(f"'{ch}' is not closed: line {line} ('{first}') starts a new "
                         f"statement inside it", bl, bc)
    if label:
        if label.startswith("expected ':' after the function header") and \
                src.line_text(line + 1).lstrip().startswith("->"):
            label += " (put '->' on the same line as ')', or break the line inside the brackets)"
        return src.error(label, line, col)
    what = _describe(tok) if tok is not None else "end of the file"
    expected = _expected_words(getattr(e, "expected", None) or getattr(e, "accepts", None) or ())
    return src.error(f"unexpected {what}{expected}", line, col)


def parse(text: str, filename: str = "<string>") -> N.Program:
    """Parse program text into an AST; raises :class:`CompileError` on any syntax error."""
    text = normalize_newlines(text)
    src = Source(text, filename)
    if not text.endswith("\n"):
        text += "\n"
    try:
        tree = _lark().parse(text)
        return _ToAst().transform(tree)
    except UnexpectedInput as e:
        raise _syntax_error(src, e) from None
    except _IndentProblem as e:
        raise src.error("this line's indentation does not match any enclosing block",
                        e.line, e.col) from None
    except VisitError as e:
        if isinstance(e.orig_exc, CompileError):
            raise e.orig_exc from None
        if isinstance(e.orig_exc, _BadLiteral):
            lit = e.orig_exc
            raise src.error(lit.what, lit.tok.line, lit.tok.column) from None
        if isinstance(e.orig_exc, RecursionError):    # building the AST of a deep nesting
            raise _too_deep(src, e) from None      # (its frames hold the enclosing trees)
        raise
    except RecursionError as e:
        raise _too_deep(src, e) from None


def _too_deep(src: Source, e: Exception) -> CompileError:
    line, col = _deepest_position(e.__traceback__)
    return src.error("the program is nested too deeply (an expression of thousands of "
                     "operators, or blocks nested thousands deep): write a long sum or "
                     "chain as a loop", line, col)


# parse-tree nodes that are not (part of) an expression
_NOT_EXPRESSIONS = frozenset(("start", "funcdef", "suite", "if_stmt", "elif_clause",
                              "else_clause", "for_stmt", "while_stmt", "return_stmt",
                              "assign", "aug_assign", "decl", "const_decl", "type_decl"))


def _deepest_position(tb) -> tuple[int, int]:
    """Where the nesting that ran out of recursion is: on the line of the innermost
    parse-tree node being built, the start of the outermost expression there (the whole
    chain, not its thousandth operator), else of that innermost node; (1, 1) when no
    frame of the traceback holds one."""
    trees = []
    while tb is not None:
        t = tb.tb_frame.f_locals.get("tree")
        if isinstance(t, Tree) and not t.meta.empty:
            trees.append(t)
        tb = tb.tb_next
    if not trees:
        return 1, 1
    line = trees[-1].meta.line
    for t in trees:
        if t.meta.line == line and t.data not in _NOT_EXPRESSIONS:
            return line, t.meta.column
    return line, trees[-1].meta.column


def read_source(path: str | Path) -> tuple[str, str]:
    """(text, filename) of a program file, refusing unreadable or non-UTF-8 files."""
    return decode_text(read_program(path), str(path)), str(path)


def read_program(path: str | Path) -> bytes:
    """A program file's bytes; a FIFO, a device or a directory is refused before it is
    opened (reading /dev/zero never ends, opening a FIFO waits for a writer)."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
        if not stat.S_ISREG(mode):
            what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise CompileError(f"cannot read the program: {what}", str(p), 0)
        return p.read_bytes()
    except FileNotFoundError:
        raise CompileError("no such file", str(p), 0) from None
    except OSError as e:
        raise CompileError(f"cannot read the program: {e.strerror or e}", str(p), 0) from None


def decode_text(data: bytes, filename: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[:e.start]
        line = before.count(b"\n") + 1
        # the line up to the bad byte decoded fine: count its characters, not its bytes
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8")) + 1
        shown = data[before.rfind(b"\n") + 1:].split(b"\n", 1)[0].decode("utf-8", "replace")
        raise CompileError("the program is not UTF-8 text", filename, line, col,
                           shown) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


__all__ = ["parse", "read_source", "decode_text", "Tree"]
