"""CompileError: every syntax, name, type, width and party error of a yaogc program.

The message reads like a C compiler's: ``file:line:col: message``, then the source line, then
a caret under the offending token. Exit status 2 (an :class:`InputError`).
"""

from __future__ import annotations

import re
import unicodedata

from yaogc.circuits.errors import InputError


# at most this many characters of the source line are shown under an error
SHOWN = 240
_LONG_NUMBER = re.compile(r"\d{40,}")


class CompileError(InputError):
    """A program the compiler refuses; ``str()`` gives position, source line and caret."""

    def __init__(self, message: str, filename: str = "<string>", line: int = 1, col: int = 1,
                 source_line: str | None = None):
        # a number of hundreds of digits (-D N=3e400) is shown by its first ones and length
        self.message = _LONG_NUMBER.sub(
            lambda m: f"{m.group()[:12]}...({len(m.group())} digits)", message)
        self.filename = filename
        # line 0: about the file as a whole (it cannot be read), which names no position
        self.whole_file = int(line) == 0
        self.line = max(1, int(line))
        self.col = max(1, int(col))
        self.source_line = source_line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.whole_file:
            return f"{self.filename}: {self.message}"
        head = f"{self.filename}:{self.line}:{self.col}: {self.message}"
        if self.source_line is None:
            return head
        src, col = shown_line(self.source_line, self.col)
        return f"{head}\n{src}\n{caret(src, col)}"


def shown_line(src: str, col: int) -> tuple[str, int]:
    """The part of a source line shown under a message, and the caret's column in it: of a
    very long line (a table of constants, a program written on one line), the part around
    the column; control characters other than tabs written as escapes (a comment's
    terminal escape sequence must not recolour the terminal or move its cursor)."""
    src = src.rstrip("\r\n")
    if len(src) > SHOWN:
        start = max(0, min(col - 1 - SHOWN // 2, len(src) - SHOWN))
        src = ("..." if start else "") + src[start:start + SHOWN] + \
            ("..." if start + SHOWN < len(src) else "")
        col += (3 if start else 0) - start
    if any(_control(ch) for ch in src):
        head = _escaped(src[:max(col - 1, 0)])
        src = head + _escaped(src[max(col - 1, 0):])
        col = len(head) + 1
    return src, col


def _control(ch: str) -> bool:
    return ch != "\t" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def _escaped(text: str) -> str:
    return "".join(ascii(ch)[1:-1] if _control(ch) else ch for ch in text)


def caret(src: str, col: int) -> str:
    """A caret under column ``col`` of ``src`` as a terminal shows it: tabs kept, two
    spaces for a wide character (CJK, emoji), none for a combining one."""
    pad = []
    for ch in src[:col - 1]:
        if ch == "\t":
            pad.append(ch)
        elif unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me"):
            continue
        else:
            pad.append("  " if unicodedata.east_asian_width(ch) in ("W", "F") else " ")
    return "".join(pad) + "^"


def normalize_newlines(text: str) -> str:
    """CR LF and a lone CR end a line as LF does (a file saved with old Mac line endings
    parses); columns are unchanged."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


class Source:
    """A program's text split into lines, for placing carets under tokens."""

    def __init__(self, text: str, filename: str = "<string>"):
        self.text = text
        self.filename = filename
        # lines as the parser counts them: at '\n' only (str.splitlines would also split at
        # U+2028, form feeds and others, and show the wrong line under an error)
        self.lines = normalize_newlines(text).split("\n")
        if self.lines[-1] == "":
            self.lines.pop()   # the text's final newline ends the last line, opens none

    def line_text(self, line: int) -> str:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return ""

    def error(self, message: str, line: int, col: int) -> CompileError:
        return CompileError(message, self.filename, line, col, self.line_text(line))
