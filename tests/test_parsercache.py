"""The parser's tables from the cache parse exactly as freshly built ones; a damaged entry
is ignored and rebuilt."""

import glob
from pathlib import Path

import pytest

from yaogc.compiler import parser as P
from yaogc.compiler import parsercache as PC
from yaogc.compiler.parsercache import load_or_build

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = (ROOT / "compiler" / "yaogc.lark").read_text()


# a program that reaches most of the grammar's terminals and rules
SAMPLE = ("party a, b\nconst N = 4\ndef main(x: u8[N] @a, y: i8 @b) -> (r: u8 @both, t: bool @a):\n"
          "    r: u8 = 0\n    for i in range(N):\n        if x[i] >= 3 and not (y < -2):\n"
          "            r += x[i] << 1\n    return r, select(y != 0, r > 9, r <= 0x1f)\n")

def _build():
    return P.build_parser(GRAMMAR)


_load = P.load_parser


def load_or_build_cached(grammar, build, load):
    """The cache's part of load_or_build, the shipped tables left out."""
    return load_or_build(grammar, build, load, shipped=False)


def _entries(d):
    return sorted(d.glob("parser-*.json"))


def test_cached_tables_parse_like_fresh_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path))
    built = []
    fresh = load_or_build_cached(GRAMMAR, lambda: built.append(1) or _build(), _load)
    assert built and len(_entries(tmp_path)) == 1
    cached = load_or_build_cached(GRAMMAR, lambda: built.append(2) or _build(), _load)
    assert built == [1]                     # the second came from the cache
    files = glob.glob(str(ROOT / "examples" / "*.yao")) + \
        glob.glob(str(ROOT / "compiler" / "lib" / "*.yao"))
    assert len(files) > 5
    for f in files:
        text = P.normalize_newlines(Path(f).read_text())
        a, b = fresh.parse(text), cached.parse(text)
        assert a == b
        # positions too: every error message and warning points with them
        assert [(t.line, t.column) for t in a.scan_values(lambda v: hasattr(v, "line"))] == \
            [(t.line, t.column) for t in b.scan_values(lambda v: hasattr(v, "line"))]


def test_damaged_entry_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path))
    load_or_build_cached(GRAMMAR, _build, _load)
    (entry,) = _entries(tmp_path)
    data = entry.read_bytes()
    for bad in (data[:len(data) // 2], data.replace(b'"d"', b'"x"', 3), b"garbage"):
        entry.write_bytes(bad)
        built = []
        p = load_or_build_cached(GRAMMAR, lambda: built.append(1) or _build(), _load)
        assert built == [1]
        assert p.parse(SAMPLE) == _build().parse(SAMPLE)
    built = []
    load_or_build_cached(GRAMMAR, lambda: built.append(1) or _build(), _load)
    assert built == []                      # the rewritten entry loads


def test_tables_damaged_but_still_loading_are_rebuilt(tmp_path, monkeypatch):
    # one byte of a terminal's pattern ('>' read as '<'): the tables load, and every
    # program comparing with '>' failed to parse (another flip broke some rules' names,
    # an internal error in every later compile)
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path))
    load_or_build_cached(GRAMMAR, _build, _load)
    (entry,) = _entries(tmp_path)
    data = entry.read_bytes()
    assert data.count(b'">"') == 1
    entry.write_bytes(data.replace(b'">"', b'"<"'))
    built = []
    p = load_or_build_cached(GRAMMAR, lambda: built.append(1) or _build(), _load)
    assert built == [1]
    src = "party a, b\ndef main(x: u8 @a, y: u8 @b) -> bool @a:\n    return x > y\n"
    assert p.parse(src) == _build().parse(src)
    again = []                              # written afresh: the next one loads it
    assert load_or_build_cached(GRAMMAR, lambda: again.append(1) or _build(), _load).parse(src) == \
        _build().parse(src) and again == []


def test_shipped_tables_are_the_grammars(tmp_path, monkeypatch):
    # the package's tables are those of this grammar (after a change to the grammar, run
    # parsercache.regenerate()), and they parse as freshly built ones
    import json as _json, gzip as _gzip
    import lark
    version, digest, _ = _json.loads(_gzip.decompress(PC.SHIPPED.read_bytes()))
    assert digest == PC._grammar_digest(GRAMMAR), "run parsercache.regenerate()"
    if version != lark.__version__:
        pytest.skip(f"shipped tables of lark {version}; lark {lark.__version__} is installed")
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path))
    built = []
    shipped = load_or_build(GRAMMAR, lambda: built.append(1) or _build(), _load)
    assert built == [] and _entries(tmp_path) == []     # neither built nor cached
    fresh = _build()
    for f in glob.glob(str(ROOT / "examples" / "*.yao")):
        text = P.normalize_newlines(Path(f).read_text())
        a, b = fresh.parse(text), shipped.parse(text)
        assert a == b
        assert [(t.line, t.column) for t in a.scan_values(lambda v: hasattr(v, "line"))] == \
            [(t.line, t.column) for t in b.scan_values(lambda v: hasattr(v, "line"))]


@pytest.mark.parametrize("content", [b"", b"not gzip", "other grammar", "other lark"])
def test_foreign_or_damaged_shipped_tables_are_not_used(tmp_path, monkeypatch, content):
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path / "cache"))
    fake = tmp_path / "tables.json.gz"
    monkeypatch.setattr(PC, "SHIPPED", fake)
    if content == "other grammar":
        PC.write_shipped(_build(), GRAMMAR + "\n// changed\n", fake)
    elif content == "other lark":
        import lark
        monkeypatch.setattr(lark, "__version__", "0.0.1")
        PC.write_shipped(_build(), GRAMMAR, fake)
        monkeypatch.undo()
        monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setattr(PC, "SHIPPED", fake)
    else:
        fake.write_bytes(content)
    assert PC.shipped_tables(GRAMMAR) is None
    built = []
    p = load_or_build(GRAMMAR, lambda: built.append(1) or _build(), _load)
    assert built == [1] and p.parse(SAMPLE) == _build().parse(SAMPLE)
