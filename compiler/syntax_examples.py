"""Catalogue of typical syntax mistakes for lark's ``match_examples``, and token names in words.

Each message maps to a few short broken programs; lark reparses them and picks the message
whose examples fail in the same parser state as the user's program.
"""

import keyword
import re

_F = "def main(a: u8 @alice) -> u8 @alice:\n"

# messages about the one token their examples fail at ('='): given only where that token is
# the unexpected one, not for another token in the same parser state
EXACT_ONLY = frozenset(("'=' assigns; use '==' to compare",))

EXAMPLES: dict[str, list[str]] = {
    "expected ':' after the function header": [
        "def f(x: u8) -> u8\n    return x\n",
        "def f()\n    pass\n",
        "def f(x: u8)\n    pass\n",
        "def main(a: u8 @alice) -> (b: u8 @bob)\n    return a\n",
        "def main(a: u8 @alice) -> u8 @bob\n    return a\n",
        "def f(x: u8) -> u8[4]\n    return x\n",
    ],
    "expected ':' after the condition": [
        _F + "    if a\n        pass\n",
        _F + "    if a > 1\n        pass\n",
        _F + "    if a == 1\n        pass\n",
        _F + "    if a\n",
        _F + "    if f(a)\n        pass\n",
        _F + "    if a[0]\n        pass\n",
        _F + "    if a:\n        pass\n    elif a\n        pass\n",
    ],
    "expected ':' after 'else'": [
        _F + "    if a:\n        pass\n    else\n        pass\n",
    ],
    "expected ':' after the loop header 'for NAME in range(...)'": [
        _F + "    for i in range(4)\n        pass\n",
        _F + "    for i in range(N)\n        pass\n",
        _F + "    for i in x\n        pass\n",
    ],
    "expected 'in' after the loop variable: for i in range(N):": [
        _F + "    for i range(4):\n        pass\n",
        _F + "    for i = 0:\n        pass\n",
    ],
    "'=' assigns; use '==' to compare": [
        _F + "    if a = 1:\n        pass\n",
        _F + "    x = a = 1\n",
    ],
    "expected '=' and a value: const NAME = VALUE": [
        "const N\n",
        "const N 3\n",
        "const N: u8\n",
    ],
    "a program holds only 'party', 'const' and 'def' declarations at the top level": [
        "x = 3\n",
        "x: u8 = 3\n",
        "return 3\n",
        "if a:\n    pass\n",
        "for i in range(3):\n    pass\n",
        "3\n",
        "f(x)\n",
        "import math\n",
    ],
    "a parameter needs a type: 'name: type' (and '@party' for inputs of main)": [
        "def f(x):\n    pass\n",
        "def f(x, y: u8):\n    pass\n",
        "def f(x: u8, y):\n    pass\n",
    ],
    "expected a type such as u8, i32, bool, fix32_16 or u8[4]": [
        "def f(x: ):\n    pass\n",
        "def f(x: u8) -> :\n    pass\n",
        "def f(x: 3):\n    pass\n",
        _F + "    x: = 3\n",
        _F + "    x: 3 = 3\n",
    ],
    "expected an indented block": [
        "def f():\nreturn 1\n",
        "def f():\n",
        _F + "    if a:\n    return a\n",
        _F + "    for i in range(2):\n    pass\n",
    ],
    "unexpected indentation": [
        _F + "    x = 1\n        y = 2\n",
        "    const N = 3\n",
    ],
    "expected an expression": [
        _F + "    x = \n",
        _F + "    x = a + \n",
        _F + "    x = a * \n",
        _F + "    return a + \n",
        _F + "    x = (\n",
        _F + "    x = [1,\n",
        _F + "    x = f(\n",
        _F + "    x = a < \n",
        _F + "    x = a and \n",
        _F + "    x = not \n",
        _F + "    x = - \n",
        _F + "    x = )\n",
    ],
    "two values in a row: missing an operator or a comma": [
        _F + "    x = a b\n",
        _F + "    x = a 3\n",
        _F + "    x = 3 a\n",
        _F + "    x = f(a b)\n",
        _F + "    return a b\n",
        _F + "    x = (a) b\n",
    ],
    "missing ')'": [
        _F + "    x = (a\n",
        _F + "    x = f(a\n",
        _F + "    x = (a + 1\n",
    ],
    "missing ']'": [
        _F + "    x = a[1\n",
        _F + "    x = [1, 2\n",
    ],
    "a statement must end at the end of the line": [
        _F + "    x = 1 y = 2\n",
        _F + "    return a )\n",
        _F + "    pass pass\n",
    ],
    "'while' is not supported: loops must be bounded, write 'for i in range(N):'": [],
    "expected the party names: party alice, bob": [
        "party\n",
        "party 3\n",
        "party alice,\n",
    ],
    "expected a party name after '@'": [
        "def main(a: u8 @) -> u8:\n    return a\n",
        "def main(a: u8 @3) -> u8:\n    return a\n",
    ],
}

TOKEN_WORDS: dict[str, str] = {
    "NAME": "a name",
    "DEC_NUMBER": "a number",
    "HEX_NUMBER": "a number",
    "BIN_NUMBER": "a number",
    "DECIMAL": "a decimal number",
    "TRUE": "True",
    "FALSE": "False",
    "_NL": "the end of the line",
    "_INDENT": "an indented block",
    "_DEDENT": "the end of the block",
    "$END": "the end of the file",
}


# Mistakes recognised by the offending character or token and the text around it: habits from
# Python and C that the parser state alone cannot tell apart from other mistakes.
_DECL_WITHOUT_VALUE = re.compile(r"\s+[A-Za-z_]\w*\s*:\s*[A-Za-z_]\w*(\s*\[[^\]]*\])*\s*(#.*)?$")


_NO_STRINGS = ("the language has no strings but an assert's message (assert c, \"...\" on one "
               "line); comments start with '#'")

# Python's keywords, which the grammar's names exclude (True and False are the literals)
RESERVED = frozenset(keyword.kwlist) - {"True", "False"}


def _reserved(word: str, before: str, after: str, token_type: str | None) -> str | None:
    """The message for a Python keyword where a name is due (``party a, in``, ``else = 1``,
    ``def f(None: u8)``)."""
    name_due = token_type is None or before.endswith((",", "(", "@")) or \
        re.search(r"\b(party|const|type|def|for)$", before) or \
        re.match(r"\s*=(?!=)|[\[.]", after) or \
        (not before.strip() and re.match(r"\s*:\s*[A-Za-z]", after))
    if name_due:
        return f"'{word}' is a reserved word (a Python keyword), not a name: choose another one"
    return None


def hint(line_text: str, col: int, token_type: str | None) -> str | None:
    """A message for the syntax error at ``col`` (1-based) of ``line_text``, or None.
    ``token_type`` is the unexpected token's type, None for an unexpected character."""
    at = line_text[col - 1:col]
    before = line_text[:col - 1].rstrip()
    word = re.match(r"[A-Za-z_]\w*", line_text[col - 1:])
    if word and word.group() in RESERVED:
        known = _reserved(word.group(), before, line_text[col - 1 + word.end():], token_type)
        if known:
            return known
    if token_type == "NAME" and col >= 2 and line_text[col - 2].isdigit():
        number = re.match(r"\w*", line_text[col - 2::-1]).group()[::-1] + \
            re.match(r"\w*", line_text[col - 1:]).group()
        return (f"'{number}' is no number: integers are written in decimal, hexadecimal "
                f"(0x1F) or binary (0b101), decimals as 2.5 or 1e3")
    if token_type is None:
        if at == "!":
            return "'!' is not an operator: write 'not c' (and '!=' to compare)"
        if at and at in "\"'":
            return _NO_STRINGS
        if at == ";":
            return "one statement per line: ';' is not used"
        return None
    prev = before[-1:]
    if token_type == "STRING":
        return _NO_STRINGS
    if token_type == "AMPERSAND" and prev == "&":
        return "'&&' is not an operator: write 'and' (or '&' for bits)"
    if token_type == "VBAR" and prev == "|":
        return "'||' is not an operator: write 'or' (or '|' for bits)"
    if token_type == "STAR" and (prev == "*" or line_text[col - 1:col + 1] == "**"):
        return "'**' is not an operator: multiply, or shift (1 << k) for powers of two"
    if token_type == "SLASH" and (prev == "/" or line_text[col - 1:col + 1] == "//"):
        return ("'//' is not an operator: write '/' (on integers it truncates toward zero, on "
                "fixed point it rounds down)")
    if token_type in ("PLUS", "MINUS") and line_text[col - 1:col + 1] == 2 * at:
        return f"'{at}{at}' is not an operator: write x {at}= 1"
    opened = before.count("(") + before.count("[") - before.count(")") - before.count("]")
    if token_type == "IF" and opened > 0 and re.search(r"\bfor\s+\w+\s+in\b", before):
        return ("a comprehension has no 'if' filter (the number of values must be known): "
                "select instead, e.g. sum(x[i] if x[i] > t else 0 for i in range(N))")
    if token_type == "IN":
        return "'in' only appears in 'for x in ...': compare with '==' instead"
    if token_type == "EQUAL" and before.count("(") > before.count(")") and \
            not before.lstrip().startswith("def "):
        return "keyword arguments are not supported: pass arguments by position"
    if token_type == "EQUAL" and re.fullmatch(r"\s*[A-Za-z_][\w\[\]., ]*=[^=]*", before) and \
            before.split()[0] not in ("if", "elif", "return", "const"):
        return "one assignment per statement: 'x = y = 0' is written 'x = 0' and 'y = 0'"
    if (token_type == "DEF" or token_type == "NAME" and before.strip() == "def") and \
            line_text[:1].isspace():
        return "functions are defined at the top level, not inside another function"
    if token_type == "LPAR" and re.fullmatch(r"\s+[A-Za-z_]\w*", before):
        return "a call is not a statement: use its result, e.g. x = f(...)"
    if token_type == "_NL" and _DECL_WITHOUT_VALUE.match(line_text):
        return "a declaration needs a value: 'x: u8 = 0'"
    return None
