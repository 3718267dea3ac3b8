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
"""

from __future__ import annotations

import hashlib
import json

from yaogc.circuits import diskcache

_HEADER = b"yaogc-parser 2 "


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


def load_or_build(grammar: str, build, load):
    """The parser: ``load(data, memo)`` of the cached tables, else ``build()`` (whose result
    must offer lark's ``memo_serialize``), whose tables are then cached. ``load`` and the
    tables must not depend on options kept out of the cache (the post-lexer is passed to
    ``load`` by the caller)."""
    import lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef
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
        data, memo = parser.memo_serialize([TerminalDef, Rule])
        data = dict(data, options={k: v for k, v in data["options"].items() if k != "postlex"})
        diskcache.write_checked(name, header, json.dumps(_encode([data, memo])).encode())
    except (TypeError, ValueError, KeyError):
        pass
    return parser
