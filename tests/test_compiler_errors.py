"""Every kind of program error: one CompileError with file:line:col, the source line and a caret."""

from __future__ import annotations

import pytest

from yaogc.circuits.errors import InputError
from yaogc.circuits.types import parse_type
from yaogc.compiler import CompileError, compile_source
from yaogc.compiler.parser import parse

OK = "party alice, bob\ndef main(a: u8 @alice, b: u8 @bob) -> (r: u8 @both):\n"


def error_of(src: str, defines=None) -> CompileError:
    with pytest.raises(CompileError) as info:
        compile_source(src, "prog.yao", defines)
    return info.value


def test_message_format_has_position_source_line_and_caret():
    e = error_of(OK + "    return a + c\n")
    lines = str(e).split("\n")
    assert lines[0] == "prog.yao:3:16: name 'c' is not defined"
    assert lines[1] == "    return a + c"
    assert lines[2] == "               ^"
    assert isinstance(e, InputError) and e.exit_code == 2


def test_caret_respects_tabs():
    e = error_of("party alice, bob\ndef main(a: u8 @alice) -> (r: u8 @both):\n\treturn a + zz\n")
    assert str(e).split("\n")[2] == "\t           ^"


def test_caret_under_the_token_after_wide_and_combining_characters():
    # a terminal shows a CJK character or an emoji in two columns, a combining accent in none
    for text, pad in (("N は 5", 6), ("ok 🙂", 5), ("e\u0301e\u0301", 2)):
        e = error_of(f'{OK}    assert a > 0, "{text}" )\n    return a\n')
        shown, caret = str(e).split("\n")[1:3]
        assert shown == f'    assert a > 0, "{text}" )'
        assert caret == " " * (len('    assert a > 0, "') + pad + len('" ')) + "^", text


@pytest.mark.parametrize("src, line, col, msg", [
    (OK + "    else = a\n    return else\n", 3, 5, "'else' is a reserved word"),
    (OK + "    in: u8 = a\n    return a\n", 3, 5, "'in' is a reserved word"),
    ("party alice, in\ndef main(a: u8 @alice) -> (r: u8 @alice):\n    return a\n", 1, 14,
     "'in' is a reserved word"),
    ("party alice, bob\ndef main(a: u8 @alice, None: u8 @bob) -> (r: u8 @alice):\n"
     "    return a\n", 2, 24, "'None' is a reserved word"),
    ("party alice, bob\ndef class(x: u8) -> u8:\n    return x\n", 2, 5,
     "'class' is a reserved word"),
    ("party alice, bob\nconst def = 3\n", 2, 7, "'def' is a reserved word"),
    (OK + "    else:\n        a = 1\n    return a\n", 3, 5, "unexpected 'else'"),
    (OK + "    elif a > b:\n        a = 1\n    return a\n", 3, 5, "unexpected 'elif'"),
    (OK + "    return a if a in [1, 2] else b\n", 3, 19, "'in' only appears in 'for x in"),
])
def test_python_keywords_are_no_names(src, line, col, msg):
    # they were read as names: 'else = x' compiled, and a stray 'else:' said "expected a type"
    e = error_of(src)
    assert (e.line, e.col) == (line, col) and e.message.startswith(msg), str(e)


ALIASES = ("type Fix = u8\ntype Row = Fix[4]\ntype Pair = u8[2]\nparty a, b\n"
           "def main(x: Fix @a, y: Fix @b, r: Row @a) -> (z: Fix @b, w: Fix @a):\n"
           "    return x + y, r[1]\n")


@pytest.mark.parametrize("define, msg", [
    ("Fix=u8[4]", "-D:1:5: 'u8[4]' is an array type: the value must be a scalar type"),
    ("Fix=Pair", "-D:1:5: 'Pair' is u8[2]: the value must be a scalar type or an alias of one"),
    ("Row=u16", "-D:1:1: 'Row' is u8[4], not a scalar type"),
])
def test_a_type_alias_defined_on_the_command_line_stays_a_scalar(define, msg):
    # -D Fix=Row made the scalar ports u8[4] arrays, -D Row=u16 made x[i] a bit read
    name, value = define.split("=")
    e = error_of(ALIASES, {name: value})
    assert str(e).startswith(msg), str(e)
    c = compile_source(ALIASES, "al.yao", {"Fix": "i16"})    # the array alias follows
    assert [p.type for p in c.inputs][2] == parse_type("i16[4]")


@pytest.mark.parametrize("lit, col, msg", [
    ("017", 16, "leading zeros are not allowed in a decimal number (017): write 17"),
    ("0_7", 16, "leading zeros are not allowed"),
    ("0o17", 17, "'0o17' is no number"), ("0xZZ", 17, "'0xZZ' is no number"),
    ("1j", 17, "'1j' is no number"),
])
def test_numbers_as_other_languages_write_them(lit, col, msg):
    # 017 was 17 (C reads 8 + 7), 0o17 said "two values in a row"
    e = error_of(OK + f"    return a + {lit}\n")
    assert (e.line, e.col) == (3, col) and e.message.startswith(msg), str(e)
    assert compile_source(OK + "    return a + 00 + 0\n", "p.yao")


def test_numbers_of_hundreds_of_digits_are_shortened_in_a_message():
    src = "party a, b\nconst N = 3\ndef main(x: u8[N] @a) -> (r: u8 @a):\n    return x[0]\n"
    e = error_of(src, {"N": "3e400"})
    assert e.message == ("type u8[300000000000...(401 digits)] is too large "
                         "(240000000000...(402 digits) bits)"), e.message
    e = error_of(OK + "    for i in range(1 << 100):\n        a = a + 1\n    return a\n")
    assert e.message == ("range of 1,267,650,600,228,229,401,496,703,205,376 iterations is too "
                         "long to unroll (at most 2,000,000)"), e.message


def test_control_characters_of_the_source_are_shown_escaped():
    # a terminal escape in an assert's message (or any line shown) would recolour the
    # terminal or retitle its window; the caret stays under the token
    e = error_of(OK + '    assert a > 0, "\x1b[31m\x1b]0;x\x07" )\n    return a\n')
    shown, caret = str(e).split("\n")[1:3]
    assert "\x1b" not in str(e) and "\x07" not in str(e)
    assert shown == '    assert a > 0, "\\x1b[31m\\x1b]0;x\\x07" )'
    assert caret == " " * shown.index(")") + "^"


SYNTAX = [
    ("def f(x: u8) -> u8\n    return x\n", 1, 19, "expected ':' after the function header"),
    (OK + "    if a > b\n        return a\n    return b\n", 3, 13, "expected ':' after the condition"),
    (OK + "    for i in range(3)\n        pass\n    return a\n", 3, 22, "expected ':' after the loop"),
    (OK + "    r = a +\n    return r\n", 3, 12, "expected an expression"),
    (OK + "    r = a b\n    return r\n", 3, 11, "two values in a row"),
    ("x = 1\n", 1, 1, "only 'party', 'const' and 'def'"),
    ("def f(x):\n    pass\n", 1, 8, "a parameter needs a type"),
    ("def f():\nreturn 1\n", 2, 1, "expected an indented block"),
    (OK + "    r = 1\n        return r\n", 4, 9, "unexpected indentation"),
    (OK + "    if a:\n        r = 1\n      return r\n", 5, 7, "indentation does not match"),
    (OK + "    r = a $ b\n", 3, 11, "unexpected character '$'"),
    (OK + "    r = (a + b\n", 3, 15, "missing ')'"),
    (OK + "    if a = b:\n        pass\n", 3, 10, "'=' assigns; use '=='"),
    # no '=' here: the message of the state's '=' examples named an assignment
    (OK + "    return a @ b\n", 3, 14, "unexpected '@'"),
    (OK + "    return a.floor()\n", 3, 13, "unexpected '.'"),
    (OK + "    return math.sqrt(a)\n", 3, 16, "unexpected '.'"),
    # a bracket left open swallows the next statement: the bracket is named, not the statement
    (OK + "    z = [a, b\n    return a\n", 3, 9, "'[' is not closed: line 4 ('return') starts"),
    (OK + "    z = min(a, (b + 1)\n    if z > 3:\n        return a\n    return b\n", 3, 12,
     "'(' is not closed: line 4 ('if')"),
    (OK + "    z = [a,  # the first\n       b\n    return z[0]\n", 3, 9, "'[' is not closed"),
    # but a mistake inside a bracketed expression that spans lines is shown where it is
    (OK + "    z = [a,\n         b c]\n    return a\n", 4, 12, "two values in a row"),
    (OK + "    r: u8 = 0\n    for i in range(3):\n        break\n    return r\n", 5, 9,
     "'break' is not supported"),
    (OK + "    for i in range(3):\n        continue  # next\n    return a\n", 4, 9,
     "'continue' is not supported"),
]


@pytest.mark.parametrize("src,line,col,msg", SYNTAX)
def test_syntax_errors_read_like_a_compiler(src, line, col, msg):
    with pytest.raises(CompileError) as info:
        parse(src, "prog.yao")
    e = info.value
    assert msg in e.message, str(e)
    assert (e.line, e.col) == (line, col), str(e)


CHECK = [
    # names
    (OK + "    return c\n", "name 'c' is not defined", 3, 12),
    (OK + "    return f(a)\n", "unknown function 'f'", 3, 12),
    ("party alice, bob\ndef main(a: u8 @alice) -> (r: u8 @both):\n    return a\n"
     "def main(b: u8 @bob) -> (r: u8 @both):\n    return b\n", "defined twice", 4, 5),
    ("party alice, bob\nconst N = 3\ndef main(a: u8 @alice) -> (r: u8 @both):\n    N = 4\n"
     "    return a\n", "is a const", 4, 5),
    ("party alice\n", "no 'def main", 1, 1),
    # types and widths
    (OK + "    x: u16 = a\n    return x\n", "the result has type u8: the value is u16", 4, 12),
    (OK + "    return a + i8(b)\n", "cannot mix unsigned u8 and signed i8", 3, 14),
    (OK + "    x: u300 = 1\n    return a\n", "integer width 300", 3, 8),
    (OK + "    x: foo = 1\n    return a\n", "unknown type 'foo'", 3, 8),
    (OK + "    x: u8 = 256\n    return x\n", "256 does not fit in u8", 3, 13),
    (OK + "    x: u8 = 1.5\n    return x\n", "not an integer", 3, 13),
    (OK + "    x: fix16_8 = a\n    return a\n", "convert explicitly with fix16_8", 3, 18),
    (OK + "    if a:\n        pass\n    return a\n", "a condition must be a bool", 3, 8),
    (OK + "    return a < (True < False)\n", "'<' compares numbers", 3, 22),
    (OK + "    x = 1 + 2\n    y: u8[2] = [a, b]\n    return y\n", "the value is u8[2]", 5, 12),
    (OK + "    x = [1, 2]\n    return a\n", "cannot tell the element type", 3, 9),
    (OK + "    return a << -1\n", "must not be negative", 3, 14),
    (OK + "    x = 3\n    if a > b:\n        x = 4\n    return x\n",
     "'x' has a different compile-time value in each branch of the secret 'if' on line 4", 6, 12),
    (OK + "    if a > b:\n        z = a\n    return z\n", "assigned in only one branch", 5, 12),
    # an elif chain of constants: the reason is the inner 'if' (the elif), not "one branch"
    (OK + "    if a > b:\n        k = 0\n    elif a < b:\n        k = 1\n    else:\n"
     "        k = 2\n    return k\n",
     "'k' has a different compile-time value in each branch of the secret 'if' on line 5", 9, 12),
    # indexing
    ("party alice, bob\ndef main(a: u8[4] @alice) -> (r: u8 @both):\n    return a[4]\n",
     "index 4 is out of range for u8[4] (0..3)", 3, 13),
    ("party alice, bob\ndef main(a: u8[4] @alice, t: fix16_8 @bob) -> (r: u8 @both):\n"
     "    return a[t]\n", "an index must be an integer", 3, 13),
    ("party alice, bob\ndef main(a: u8[4] @alice, i: u8[4] @bob) -> (r: u8 @both):\n"
     "    return a[i]\n", "an index must be an integer, got u8[4]", 3, 13),
    # parties
    ("def main(a: u8 @alice) -> (r: u8 @alice):\n    return a\n", "party 'alice' is not declared", 1, 17),
    ("party alice, bob\ndef main(a: u8 @carol) -> (r: u8 @alice):\n    return a\n", "party 'carol' is not declared", 2, 17),
    ("party alice, bob\ndef main(a: u8) -> (r: u8 @alice):\n    return a\n", "needs a party annotation", 2, 10),
    ("party alice, bob\ndef main(a: u8 @both) -> (r: u8 @alice):\n    return a\n", "not @both", 2, 17),
    ("party alice, bob\ndef main(a: u8 @alice) -> (r: u8):\n    return a\n", "output 'r' needs a party", 2, 28),
    ("party a, b, c\ndef main(x: u8 @(a, b)) -> u8 @a:\n    return x\n",
     "belongs to one party, not to a set", 2, 16),
    ("party a, b, c\ndef main(x: u8 @a) -> u8 @(c, a, c):\n    return x\n",
     "party 'c' is named twice", 2, 34),
    ("party a, b, c\ndef main(x: u8 @a) -> u8 @(a, both):\n    return x\n",
     "cannot be part of a set", 2, 31),
    ("party a, b, c\ndef main(x: u8 @a) -> u8 @(a, d):\n    return x\n",
     "party 'd' is not declared", 2, 31),
    ("party alice, bob\ndef f(x: u8 @alice) -> u8:\n    return x\n"
     "def main(a: u8 @alice) -> (r: u8 @alice):\n    return f(a)\n", "only main's parameters", 2, 14),
    # functions and control flow
    ("party alice, bob\ndef f(x: u8) -> u8:\n    return g(x)\ndef g(x: u8) -> u8:\n    return f(x)\n"
     "def main(a: u8 @alice) -> (r: u8 @alice):\n    return f(a)\n", "recursive call of 'f'", 5, 12),
    ("party alice, bob\ndef f(x: u8) -> u8:\n    if x > 3:\n        return 1\n"
     "def main(a: u8 @alice) -> (r: u8 @alice):\n    return f(a)\n", "can reach its end without 'return'", 2, 5),
    (OK + "    while a > 0:\n        a = a - 1\n    return a\n", "'while' is not supported", 3, 5),
    (OK + "    for i in range(a):\n        pass\n    return a\n", "must be known at compile time", 3, 20),
    ("party alice, bob\ndef f(x: u8, y: u8) -> u8:\n    return x\n"
     "def main(a: u8 @alice) -> (r: u8 @alice):\n    return f(a)\n", "takes 2 arguments, got 1", 5, 12),
    (OK + "    return a, b\n", "returns 2 values", 3, 5),
    # a function declared '-> any' whose returns differ under a secret condition: one
    # path's bits were read as the other's type (3 as a fix16_8 gave 0.0117), an array cut
    # short, or an internal 'mux: operand widths differ'
    ("party a, b\ndef f(x: any, c: bool) -> any:\n    if c:\n        return fix16_8(1.5)\n"
     "    return x\ndef main(x: i16 @a, c: bool @b) -> fix16_8 @b:\n    return f(x, c)\n",
     "the function returns fix16_8 on one path and i16 on another (it is declared '-> any')",
     3, 5),
    ("party a, b\ndef f(x: any, c: bool) -> any:\n    if c:\n        return [x, x + 1]\n"
     "    return [x + 2, x + 3, x + 4]\ndef main(x: u8 @a, c: bool @b) -> u8[2] @b:\n"
     "    return f(x, c)\n", "returns u8[2] on one path and u8[3] on another", 3, 5),
    ("party a, b\ndef f(x: any) -> any:\n    if x > 3:\n        return x\n"
     "    return u16(x)\ndef main(x: u8 @a) -> u16 @b:\n    return f(x)\n",
     "returns u8 on one path and u16 on another", 3, 5),
    # an argument names the parameter's type as well as the value's
    ("party a, b\ndef f(v: u8[2]) -> u8:\n    return v[0]\n"
     "def main(x: u8 @a) -> u8 @b:\n    return f([x, x, x])\n",
     "argument 'v' has type u8[2]: the value is u8[3]", 5, 14),
    # no main: at the first function, which may be it misnamed; else at the end
    ("party alice, bob\nconst K = 1\ndef mian(a: u8 @alice) -> (r: u8 @alice):\n    return a\n",
     "has no 'def main(...)': main's parameters are the inputs, its results the outputs (this "
     "program defines 'mian')", 3, 5),
    ("party alice, bob\nconst K = 1\n", "has no 'def main(...)'", 2, 1),
    # an error inside a function nothing calls is still reported
    ("party alice, bob\ndef unused(x: u8) -> u8:\n    return x + q\n"
     "def main(a: u8 @alice) -> (r: u8 @alice):\n    return a\n", "name 'q' is not defined", 3, 16),
    # and inside a branch a public condition skips
    ("party alice, bob\nconst D = 0\ndef main(a: u8 @alice) -> (r: u8 @alice):\n"
     "    if D == 1:\n        return a + nothing\n    return a\n", "name 'nothing' is not defined", 5, 20),
]


@pytest.mark.parametrize("src,msg,line,col", CHECK)
def test_checker_errors(src, msg, line, col):
    e = error_of(src)
    assert msg in e.message, str(e)
    assert (e.line, e.col) == (line, col), str(e)


def test_out_of_range_index_in_an_untaken_branch_is_fine():
    src = ("party alice, bob\ndef main(a: u8[4] @alice) -> (r: u8 @alice):\n    r: u8 = 0\n"
           "    for i in range(4):\n        if i < 3:\n            r += a[i + 1]\n    return r\n")
    assert compile_source(src).count(1) > 0


def test_define_errors():
    src = "party alice, bob\nconst N: u8 = 3\ndef main(a: u8 @alice) -> (r: u8 @alice):\n    return a * N\n"
    e = error_of(src, {"M": "1"})
    assert str(e).startswith("-D:1:1: -D M: the program has no 'const M'")
    e = error_of(src, {"N": "abc"})
    assert e.message.startswith("'abc' is not a number") and e.col == 3
    e = error_of(src, {"N": "300"})
    assert "300 does not fit in u8" in e.message


def test_program_too_large_is_an_error_not_a_hang(monkeypatch):
    from yaogc.compiler import stmts
    monkeypatch.setattr(stmts, "MAX_ITERATIONS", 1000)
    e = error_of(OK + "    r: u8 = 0\n    for i in range(100):\n        for j in range(100):\n"
                      "            r += a\n    return r\n")
    assert "more than 1,000 iterations" in e.message


def test_program_past_the_wire_numbering_is_an_error(monkeypatch):
    """The lowering numbers wires in 30 bits: a program that would emit more gates than
    that is refused with the size and that reason, whatever the gate budget (here the
    numbering's limit lowered to 5000)."""
    from yaogc.circuits import templates
    monkeypatch.setattr(templates, "MAX_WIRES", 5000)
    e = error_of("party alice, bob\ndef main(a: u32[64] @alice, b: u32[64] @bob) -> "
                 "(r: u32 @alice):\n    r: u32 = 0\n    for i in range(64):\n"
                 "        r = r ^ (a[i] * b[i])\n    return r\n")
    assert e.message.startswith("the program is too large: it unrolls to more than 4,999 "
                                "gates"), e.message
    assert "the compiler's limit of 4,999 (wires are numbered in 30 bits)" in e.message


def test_untaken_branch_in_a_loop_is_checked_per_shape_of_the_variables():
    """A public if's untaken branch is type-checked once per shape of the variables (their
    types), not once per iteration: its errors are still found, including one that only a
    later iteration's types bring, and in an elif chain."""
    e = error_of("party alice, bob\ndef main(a: u8[4] @alice) -> (r: u8 @alice):\n"
                 "    r: u8 = 0\n    for i in range(4):\n        if i < 9:\n"
                 "            r += a[i]\n        else:\n            r += a[i] + nothing\n"
                 "    return r\n")
    assert "name 'nothing' is not defined" in e.message and (e.line, e.col) == (8, 25)
    # x is an untyped constant in the first iterations and a bool from the third: only
    # then does the untaken branch's shift get a bool amount
    e = error_of("party alice, bob\ndef main(a: u8 @alice, c: bool @alice) -> (r: u8 @alice):\n"
                 "    r: u8 = 0\n    x = 1\n    for i in range(4):\n        if i >= 0:\n"
                 "            r += 1\n        elif i == 7:\n            r += 2\n        else:\n"
                 "            r = a >> x\n        if i == 1:\n            x = c\n    return r\n")
    assert "a shift amount must be an integer" in e.message and e.line == 11, str(e)


def test_a_very_long_source_line_is_shown_around_the_column():
    expr = " + ".join(["x"] * 400) + " + zz + x"
    e = error_of("party alice, bob\ndef main(x: u8 @alice) -> (r: u8 @alice):\n"
                 f"    return {expr}\n")
    head, line, caret = str(e).split("\n")
    assert head == f"prog.yao:3:{12 + 4 * 400}: name 'zz' is not defined"
    assert line.startswith("...") and len(line) <= 250
    assert line[caret.index("^"):].startswith("zz")


def test_assigning_a_const_is_refused_at_every_assignment_of_a_loop_and_a_function():
    """An assignment to a const's name is an error wherever it runs: in a loop (checked
    once per target, then remembered) and in a function that a const's own value called
    before that const was declared."""
    e = error_of("party a, b\nconst y = 7\ndef main(p: u8 @a) -> (r: u8 @both):\n"
                 "    r: u8 = 0\n    for i in range(3):\n        y = p\n    return r\n")
    assert "'y' is a const and cannot be assigned" in str(e) and (e.line, e.col) == (6, 9)
    e = error_of("party a, b\ndef f(k: u8) -> u8:\n    y: u8 = k + 1\n    return y\n"
                 "const X = f(u8(3))\nconst y = 7\n"
                 "def main(p: u8 @a) -> (r: u8 @both):\n    return f(p) + X\n")
    assert "'y' is a const and cannot be assigned" in str(e) and (e.line, e.col) == (3, 5)


@pytest.mark.parametrize("src,line,col", [
    ("party a\ndef f(y: u8, y: u8) -> u8:\n    return y\n"
     "def main(x: u8 @a) -> u8 @a:\n    return f(x, 1)\n", 2, 14),
    ("party a\ndef main(x: u8 @a, x: u8 @a) -> u8 @a:\n    return x\n", 2, 20),
])
def test_a_parameter_declared_twice_is_an_error(src, line, col):
    # f(x, 1) returned 1: the second 'y' silently took the first argument's place
    e = error_of(src)
    assert (e.line, e.col) == (line, col) and "parameter" in e.message and "twice" in e.message


def test_an_error_inside_a_generic_function_names_the_call():
    # what is wrong inside a function of 'any' parameters depends on the call's arguments
    e = error_of("party a\ndef first(x: any) -> any:\n    return x[3]\n"
                 "def main(x: u8[2] @a) -> u8 @a:\n    y: u8 = 1\n    return first(x)\n")
    assert (e.line, e.col) == (3, 13) and "index 3 is out of range" in e.message
    assert "(in a call at " in e.message and e.message.endswith(":6:12)"), e.message


def test_an_error_in_a_generic_function_called_by_another_names_the_call_of_main():
    # f calls g, main calls f twice: the error named only g's call inside f, not which of
    # main's calls led there
    e = error_of("party a, b\ndef g(v: any) -> any:\n    assert len(v) > 4, \"too short\"\n"
                 "    return v[0]\ndef f(v: any) -> any:\n    return g(v)\n"
                 "def main(x: u8[4] @a, y: u8[8] @b) -> (z: u8 @both):\n    p = f(y)\n"
                 "    q = f(x)\n    return p + q\n")
    assert (e.line, e.col) == (3, 5)
    assert e.message == "too short (in a call at prog.yao:6:12, from prog.yao:9:9)", e.message


def test_assert_states_a_compile_time_condition(tmp_path, capsys):
    from yaogc.runtime.cli import main
    src = ("party a, b\nconst N = 4\n"
           "def pair(x: any, y: any) -> any:\n"
           "    assert len(x) == len(y), \"x and y must have the same length\"\n"
           "    return x[0] + y[0]\n"
           "def main(x: u8[N] @a, y: u8[N] @b) -> u16 @both:\n"
           "    assert N >= 2\n"
           "    if N > 100:\n"
           "        assert N < 3, \"an untaken branch is not judged\"\n"
           "    return u16(pair(x, y)) + pair([u16(x[1])], [u16(y[1])])\n")
    p = tmp_path / "p.yao"
    p.write_text(src)
    assert main(["eval", str(p), "--input", "x=[1,2,3,4]", "--input", "y=[5,6,7,8]"]) == 0
    assert capsys.readouterr().out.strip() == "result = 14"     # (1 + 5) + (2 + 6)
    # false: the statement's message, at the statement, naming the call that led there
    assert main(["eval", str(p), "-D", "N=1", "--input", "x=[1]", "--input", "y=[5]"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[:3] == [f"{p}:7:5: assertion failed", "    assert N >= 2", "    ^"], err
    p.write_text(src.replace("pair(x, y)", "pair(x, [y[0]])"))
    assert main(["compile", str(p), "-o", str(tmp_path / "c")]) == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first == f"{p}:4:5: x and y must have the same length (in a call at {p}:10:16)", first
    # a condition computed from inputs is no compile-time fact
    p.write_text("party a, b\ndef main(x: u8 @a, y: u8 @b) -> u8 @both:\n"
                 "    assert x > 2, \"x > 2\"\n    return x\n")
    assert main(["compile", str(p), "-o", str(tmp_path / "c")]) == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith(f"{p}:3:") and "'assert' takes a condition known at compile time" \
        in first, first
    for bad in ("    assert\n", "    assert N, 3\n", "    assert N, \"a\nb\"\n"):
        p.write_text("party a, b\nconst N = 1\ndef main(x: u8 @a, y: u8 @b) -> u8 @both:\n" + bad
                     + "    return x\n")
        assert main(["compile", str(p), "-o", str(tmp_path / "c")]) == 2
        first = capsys.readouterr().err.splitlines()[0]
        assert first.startswith(f"{p}:4:"), (bad, first)


def test_wide_sum_of_an_array_of_arrays_is_an_error_and_of_one_value_keeps_its_type():
    # a u8[2][2] was an internal error (exit 1); one value gained a bit ceil(log2 1) = 0 denies
    e = error_of("party a, b\ndef main(m: u8[2][2] @a) -> u9[2] @a:\n    return wide_sum(m)\n")
    assert (e.line, e.col) == (3, 12) and "holds arrays or tuples" in e.message
    from yaogc.compiler import interpret
    for src in ("party a, b\ndef main(x: u8[1] @a) -> u8 @a:\n    return wide_sum(x)\n",
                "from stats import total\nparty a, b\ndef main(x: u8[1] @a) -> u8 @a:\n"
                "    return total(x)\n"):
        c = compile_source(src)
        assert not c.warnings and c.outputs[0].type.name == "u8"
        assert interpret(src, {"x": [255]}) == {"result": 255}
    c = compile_source("party a, b\ndef main(x: i8[3] @a) -> i10 @a:\n    return wide_sum(x)\n")
    assert not c.warnings


def test_fixed_point_operands_join_whatever_their_order():
    # max(z, x, y) compiled and max(x, y, z) did not: z holds x and y, which hold not each other
    from yaogc.compiler import interpret
    head = "party a, b\ndef main(x: fix8_7 @a, y: fix8_4 @b, z: fix32_16 @a) -> {} @a:\n"
    row = {"x": 0.5, "y": -3.5, "z": 1.25}
    for body, t, want in (("max(x, y, z)", "fix32_16", 1.25), ("max(z, x, y)", "fix32_16", 1.25),
                          ("min(y, x, z)", "fix32_16", -3.5), ("[x, y, z][1]", "fix32_16", -3.5),
                          ("concat([x], [y], [z])[0]", "fix32_16", 0.5)):
        src = head.format(t) + f"    return {body}\n"
        assert interpret(src, row) == {"result": want}, body
    e = error_of("party a, b\ndef main(x: fix8_7 @a, y: fix8_4 @b, z: fix10_8 @a) -> fix16_8 @a:\n"
                 "    return max(x, y, z)\n")
    assert e.message == ("cannot mix fix8_7, fix8_4, fix10_8: none of them holds every other; "
                         "convert them explicitly"), e.message
    e = error_of("party a, b\ndef main(x: fix8_7 @a, y: fix8_4 @b) -> fix16_8 @a:\n"
                 "    return max(y, x)\n")
    assert e.message == "cannot mix fix8_4 and fix8_7: convert one of them explicitly"


@pytest.mark.parametrize("body, col, msg", [
    ("x + 0x_", 16, "hexadecimal literal 0x_ has no digits"),
    ("x + 0b__", 16, "binary literal 0b__ has no digits"),
    ("x < 1e309", 12, "a 1027-bit number does not fit in fix16_8 (-128.0..127.99609375)"),
    ("x * (1 << 2000)", 12, "a 2001-bit number does not fit in fix16_8"),
    ("x < 1.5e-400", 12, None),
])
def test_literals_no_number_holds_are_errors_not_crashes(body, col, msg):
    # each was an internal error (exit 1): int() of no digits, float() past its range
    src = f"party a, b\ndef main(x: fix16_8 @a) -> fix16_8 @a:\n    return {body}\n"
    if msg is None:     # a tiny decimal rounds to 0: no error
        compile_source(src.replace(f"return {body}", f"return select({body}, x, x)"))
        return
    e = error_of(src)
    assert e.line == 3 and msg in e.message, e.message


def test_a_nesting_thousands_deep_is_named_where_it_starts():
    # lark wrapped the RecursionError of building the AST: an internal error (exit 1)
    chain = " else ".join(["x if x > y"] * 10000) + " else x"
    e = error_of(f"party a, b\ndef main(x: u8 @a, y: u8 @b) -> u8 @a:\n    return {chain}\n")
    assert (e.line, e.col) == (3, 12) and "nested too deeply" in e.message


@pytest.mark.parametrize("src, line, col, what", [
    ("party a, b\ndef main(x: u8 @a) -> u8 @a:\n    False = x\n    return False\n", 3, 5,
     "'False' is reserved and cannot name a variable"),
    ("party a, b\ndef f(True: u8) -> u8:\n    return True\ndef main(x: u8 @a) -> u8 @a:\n"
     "    return f(x)\n", 2, 7, "'True' is reserved and cannot name a parameter"),
    ("const true = 3\nparty a, b\ndef main(x: u8 @a) -> u8 @a:\n    return x + true\n", 1, 7,
     "'true' is reserved and cannot name a constant"),
    ("party a, b\ndef main(x: u8 @a, false: u8 @b) -> u8 @a:\n    return x + false\n", 2, 20,
     "'false' is reserved and cannot name an input"),
])
def test_the_bool_literals_name_nothing_else(src, line, col, what):
    # each was accepted, and every read of the name gave the literal: 'return False' printed 0
    e = error_of(src)
    assert (e.line, e.col) == (line, col) and e.message.startswith(what), e.message


def test_checked_mode_names_the_output_that_takes_its_name():
    with pytest.raises(CompileError) as e:
        compile_source("party a, b\ndef main(x: u8 @a, y: u8 @b) -> (\n"
                       "        _overflow: bool @both, s: u8 @both):\n    return x > y, x + y\n",
                       "p.yao", checked=True)
    assert (e.value.line, e.value.col) == (3, 9) and "checked mode reserves" in e.value.message
    assert str(e.value).splitlines()[1:] == ["        _overflow: bool @both, s: u8 @both):",
                                             "        ^"]


def test_a_program_that_is_no_regular_file_is_refused_before_it_is_read(tmp_path, capsys):
    # a FIFO waited for a writer, /dev/zero filled the memory
    import os
    from yaogc.runtime.cli import main
    fifo = tmp_path / "p.yao"
    os.mkfifo(fifo)
    zero = tmp_path / "z.yao"
    zero.symlink_to("/dev/zero")
    for p in (fifo, zero):
        assert main(["compile", str(p), "-o", str(tmp_path / "c")]) == 2
        assert capsys.readouterr().err.startswith(f"{p}: cannot read the program: not a "
                                                  f"regular file")


def test_a_missing_file_and_a_program_not_named_yao_read_alike_by_every_command(tmp_path,
                                                                                 capsys):
    from yaogc.runtime.cli import main
    missing = tmp_path / "gone.yao"
    for cmd in (["compile"], ["eval"], ["stats"]):
        assert main(cmd + [str(missing)]) == 2
        assert capsys.readouterr().err == f"{missing}: no such file\n", cmd
    # a program saved as .YAO or .txt is a program to eval and stats as to compile (they
    # read it as a Bristol file: "'party' is not a non-negative integer")
    for name in ("Prog.YAO", "prog.txt"):
        p = tmp_path / name
        p.write_text("# two parties\n\nparty a, b\ndef main(x: u8 @a) -> (r: u8 @a):\n"
                     "    return x + zz\n")
        for cmd in (["compile"], ["eval", "--input", "x=1"], ["stats"]):
            assert main(cmd[:1] + [str(p)] + cmd[1:]) == 2
            assert capsys.readouterr().err.startswith(f"{p}:5:16: name 'zz' is not defined")
        p.write_text(p.read_text().replace("zz", "1"))
        assert main(["eval", str(p), "--input", "x=1", "--no-cache"]) == 0
        assert capsys.readouterr().out == "r = 2\n"


def test_an_unused_alias_is_checked_and_a_const_cannot_share_a_type_s_name():
    e = error_of("type T = T\nparty a, b\ndef main(x: u8 @a) -> u8 @a:\n    return x\n")
    assert (e.line, e.col) == (1, 10) and "defined in terms of itself" in e.message
    e = error_of("type V = u8[M]\nparty a, b\ndef main(x: u8 @a) -> u8 @a:\n    return x\n")
    assert e.line == 1 and "M" in e.message
    e = error_of("const A = 3\ntype A = u16\nparty a, b\ndef main(x: u8 @a) -> u16 @a:\n"
                 "    return A(x) + A\n")
    assert (e.line, e.col) == (1, 7) and e.message == "'A' is already a type"
