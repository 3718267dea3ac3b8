"""The cache directory's size limit through the CLI and the API: past $YAOGC_CACHE_MAX a
write removes the entries used least recently (whole, locks and other files left), ``yaogc
cache`` shows what the directory holds and ``--clear`` empties it, and a limit that is no size
is an error."""

import json
import os
import time

import pytest

from yaogc.compiler import compile_cached
from yaogc.runtime.cli import main

from test_cache import cache  # noqa: F401  (the fixture: a cache directory and a program)


def _compile_n(d, prog, n, capsys):
    assert main(["compile", str(prog), "-D", f"N={n}", "-o", os.devnull]) == 0
    capsys.readouterr()
    return {p.name for p in d.glob("*.yaoc")}


def test_the_cache_keeps_to_its_limit_removing_what_was_used_least_recently(
        cache, monkeypatch, capsys):
    """Past $YAOGC_CACHE_MAX a write removes whole entries (circuit and warnings) used least
    recently; reading an entry counts as a use; the entry just written stays."""
    from yaogc.circuits import cachesize
    d, prog = cache
    names = {}
    for n in (8, 16, 24):
        before = set(d.glob("*.yaoc")) if d.exists() else set()
        names[n] = (_compile_n(d, prog, n, capsys) - {p.name for p in before}).pop()
        time.sleep(0.02)
    assert _compile_n(d, prog, 8, capsys) == set(names.values())     # a read: used now
    total = sum(p.stat().st_size for p in d.iterdir())
    # just over the limit: the least recently used entry goes (N=16; N=8 was just read),
    # with its warnings file (its lock stays), and no other (N=16 is more than a tenth)
    assert cachesize.prune(d, "none", most=total - 1) > 0
    left = {p.name for p in d.glob("*.yaoc")}
    assert left == {names[8], names[24]}
    assert [p.name for p in d.glob(names[16].split(".")[0] + ".*")] == [names[16] + ".lock"]
    # a compile's write prunes, and the entry just written is kept even when larger than
    # the limit: it is what the next run reads
    monkeypatch.setenv("YAOGC_CACHE_MAX", "1")
    kept = _compile_n(d, prog, 40, capsys)
    assert len(kept) == 1 and not kept & left
    monkeypatch.setenv("YAOGC_CACHE_MAX", "1k")
    assert compile_cached(prog, {"N": "40"})[1]["cached"]


def test_locks_and_other_files_are_not_removed_by_pruning_or_clearing(cache, monkeypatch,
                                                                      capsys):
    """Pruning keeps every lock (a process may wait on it) and clearing the ones held; no
    file yaogc did not name is counted or removed (the directory may be a user's folder)."""
    from yaogc.circuits import cachesize
    from yaogc.circuits.diskcache import EntryLock
    d, prog = cache
    _compile_n(d, prog, 8, capsys)
    mine = d / "notes.txt"
    mine.write_text("the user's own file")
    os.utime(mine, (0, 0))      # the oldest in the directory
    (d / "sub").mkdir()
    lock = EntryLock("ab" * 32 + ".yaoc")
    assert lock.acquire(1.0)
    try:
        assert cachesize.prune(d, "x", most=0) > 0
        left = sorted(p.name for p in d.iterdir())
        assert [n for n in left if not n.endswith(".lock")] == ["notes.txt", "sub"]
        assert main(["cache", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["bytes"] < 100     # locks only
        assert main(["cache", "--clear"]) == 0
        assert "removed 1 files" in capsys.readouterr().out      # the compile's lock
        assert sorted(p.name for p in d.iterdir()) == ["ab" * 32 + ".yaoc.lock",
                                                       "notes.txt", "sub"]
    finally:
        lock.release()
    assert main(["cache", "--clear", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed_files"] == 1
    assert sorted(p.name for p in d.iterdir()) == ["notes.txt", "sub"]
    assert mine.read_text() == "the user's own file"


def test_cache_command_shows_what_the_cache_holds(cache, monkeypatch, capsys):
    d, prog = cache
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"cache: {d} (not made yet)\n") and "0 compiled circuits" in out
    _compile_n(d, prog, 8, capsys)
    _compile_n(d, prog, 16, capsys)
    monkeypatch.setenv("YAOGC_CACHE_MAX", "1.5G")
    assert main(["cache", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["entries"] == {"circuits": 2, "schedules": 0, "other": 0}
    assert got["bytes"] == sum(p.stat().st_size for p in d.iterdir())
    assert got["limit_bytes"] == 3 << 29 and got["limit_from"] == "YAOGC_CACHE_MAX"
    assert main(["cache"]) == 0
    assert "limit: 1.5 GiB ($YAOGC_CACHE_MAX)" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["10x", "-5", "G", "1e9", "ten", "9" * 400 + "x"])
def test_a_cache_limit_that_is_no_size_is_an_error(cache, monkeypatch, capsys, value):
    d, prog = cache
    monkeypatch.setenv("YAOGC_CACHE_MAX", value)
    for argv in (["compile", str(prog), "-o", os.devnull], ["cache"]):
        assert main(argv) == 2
        assert capsys.readouterr().err.split("\n")[0] == (
            f"YAOGC_CACHE_MAX must be a size in bytes (such as 5000000000, 500M or 10G), "
            f"got {value!r}")
    # --no-cache does not read it
    assert main(["compile", str(prog), "--no-cache", "-o", os.devnull]) == 0
