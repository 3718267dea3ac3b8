"""The LALR parser's tables kept in the user's cache directory as JSON.

Building lark's LALR tables for the yaogc grammar costs about 0.1 s, in every process that
compiles a program (each ``yaogc run`` and ``yaogc compile``); loading them back costs under
10 ms. lark's own cache stores them with ``pickle``, which would run whatever code a file in
the cache directory holds, so the tables are stored here as plain JSON instead (dicts with
integer keys and tuples are tagged, so they come back exactly). The entry is keyed by a
digest of the grammar text and lark's version and carries the SHA-256 of its tables, checked
before they are used: tables damaged on disk could still load and parse some programs wrongly
or fail on others. An entry that is unreadable, foreign, damaged or does not load is ignored
and rebuilt (:mod:`yaogc.circuits.diskcache`).

The package ships the tables too (``yaogc_parser.json.gz`` beside the grammar, written by
the :func:`regenerate` below), so that the first compile after an install
builds nothing either. They are used only where the grammar's digest and lark's version
are those they were made from; elsewhere (another lark) the cache or a build serves.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from pathlib import Path

from yaogc.circuits import diskcache

_HEADER = b"yaogc-parser 2 "
SHIPPED = Path(__file__).with_name("yaogc_parser.json.gz")
GRAMMAR = Path(__file__).with_name("yaogc.lark")


def _encode(x):
    if isinstance(x, dict):
        return {"d": [[_encode(k), _encode(v)] for k, v in x.items()]}
    if isinstance(x, tuple):
        return {"t": [_encode(v) for v in x]}
    if isinstance(x, list):
        return [_encode(v) for v in x]
    if x is None or isinstance(x, (str, int, float, bool)):
        return x
    raise TypeError(f"cannot keep {type(x).__name__} in the parser cache")


def _decode(obj):
    if "d" in obj:
        return {k: v for k, v in obj["d"]}
    return tuple(obj["t"])


def load_or_build(grammar: str, build, load, shipped: bool = True):
    """The parser: ``load(data, memo)`` of the shipped tables (unless ``shipped`` is false)
    or of the cached ones, else ``build()`` (whose result must offer lark's
    ``memo_serialize``), whose tables are then cached. ``load`` and the tables must not
    depend on options kept out of the cache (the post-lexer is passed to ``load`` by the
    caller)."""
    import lark
    packaged = shipped_tables(grammar) if shipped else None
    if packaged is not None:
        try:
            return load(*packaged)
        except Exception:   # tables this lark cannot load: the cache or a build serves
            pass
    key = hashlib.sha256(f"{lark.__version__}\0{grammar}".encode()).hexdigest()
    name, header = f"parser-{key}.json", _HEADER + key.encode() + b"\n"
    tables = diskcache.read_checked(name, header)
    if tables is not None:
        try:
            data, memo = json.loads(tables, object_hook=_decode)
            return load(data, memo)
        except Exception:   # a foreign entry: build the tables again
            pass
    parser = build()
    try:
        diskcache.write_checked(name, header, json.dumps(_encode(_tables(parser))).encode())
    except (TypeError, ValueError, KeyError):
        pass
    return parser


def _tables(parser) -> list:
    from lark.grammar import Rule
    from lark.lexer import TerminalDef
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    return [dict(data, options={k: v for k, v in data["options"].items() if k != "postlex"}),
            memo]


def _grammar_digest(grammar: str) -> str:
    return hashlib.sha256(grammar.encode()).hexdigest()


def shipped_tables(grammar: str):
    """``(data, memo)`` of the tables shipped with the package, or None where they were
    made from another grammar or another lark, or are missing or unreadable."""
    import lark
    try:
        version, digest, tables = json.loads(gzip.decompress(SHIPPED.read_bytes()),
                                             object_hook=_decode)
    except (OSError, ValueError, EOFError, zlib.error):
        return None
    if version != lark.__version__ or digest != _grammar_digest(grammar):
        return None
    return tables


def write_shipped(parser, grammar: str, path: Path = SHIPPED) -> None:
    """Write the tables of ``parser`` (built from ``grammar``) as the package ships them."""
    import lark
    body = json.dumps([lark.__version__, _grammar_digest(grammar), _encode(_tables(parser))],
                      sort_keys=True, separators=(",", ":")).encode()
    path.write_bytes(gzip.compress(body, 9, mtime=0))


def regenerate() -> None:
    """Write the tables the package ships anew, after the grammar changed (the tests say
    when): ``python -c "from yaogc.compiler import parsercache; parsercache.regenerate()"``."""
    from .parser import build_parser
    text = GRAMMAR.read_text()
    write_shipped(build_parser(text), text)
