"""The compiled-circuit cache through the CLI and the API: a second compile reads the cache
and gives the byte-identical circuit; --no-cache neither reads nor writes; corrupt, truncated
and foreign entries are ignored and rebuilt; other -D values are other entries. Also the
early, named failure of a program too large for memory."""

import json
import os
import subprocess
import sys
import time

import pytest

from yaogc.compiler import compile_cached, compile_file
from yaogc.compiler import cache as C
from yaogc.runtime.cli import main

PROG = """party a, b
const N = 4
def main(x: u16[N] @a, y: u16[N] @b) -> (n: u8 @both):
    n: u8 = 0
    for i in range(N):
        n += x[i] < y[i]
    return n
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(d))
    prog = tmp_path / "count.yao"
    prog.write_text(PROG)
    return d, prog


def entries(d):
    return sorted(d.glob("*.yaoc")) if d.exists() else []


def test_second_compile_reads_the_cache(cache):
    d, prog = cache
    c1, i1 = compile_cached(prog, {"N": "8"})
    assert not i1["cached"] and len(entries(d)) == 1
    c2, i2 = compile_cached(prog, {"N": "8"})
    assert i2["cached"]
    assert c2.content_hash == c1.content_hash == compile_file(prog, {"N": "8"}).content_hash
    c3, i3 = compile_cached(prog, {"N": "9"})
    assert not i3["cached"] and len(entries(d)) == 2 and c3.content_hash != c1.content_hash


def test_two_processes_compiling_one_program_compile_it_once(cache):
    """The two parties of a run on one machine start compiling the same program together:
    one compiles, the other waits for that entry and reads it, instead of both compiling on
    the same cores."""
    d, prog = cache
    code = ("import json, sys\n"
            "from yaogc.compiler import compile_cached\n"
            "c, i = compile_cached(sys.argv[1], {'N': '6000'})\n"
            "print(json.dumps([i['cached'], c.content_hash]))\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(prog)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    got = [json.loads(o[0].strip().splitlines()[-1]) for o in outs]
    assert sorted(cached for cached, _ in got) == [False, True]
    assert got[0][1] == got[1][1]
    assert len(entries(d)) == 1


def test_a_lock_held_too_long_is_not_waited_for(cache, monkeypatch):
    """A process holding the entry's lock past the wait (stopped, say) does not hold up the
    compile: after the wait it compiles by itself."""
    from yaogc.compiler import pipeline
    d, prog = cache
    monkeypatch.setattr(pipeline, "LOCK_WAIT_S", 0.3)
    holder = []
    real = C.lock

    def lock_taken_elsewhere(key):
        other = real(key)
        assert other.acquire(1.0)         # as another process would hold it
        holder.append(other)
        return real(key)
    monkeypatch.setattr(pipeline, "cache_lock", lock_taken_elsewhere)
    c, info = compile_cached(prog, {"N": "8"})
    assert not info["cached"] and c.n_gates > 0
    holder[0].release()
    assert compile_cached(prog, {"N": "8"})[1]["cached"]


def test_no_cache_neither_reads_nor_writes(cache):
    d, prog = cache
    _, info = compile_cached(prog, use_cache=False)
    assert not info["cached"] and entries(d) == []


@pytest.mark.parametrize("damage", ["flip", "truncate", "foreign", "garbage", "spliced"])
def test_bad_entries_are_rebuilt(cache, damage):
    d, prog = cache
    good, _ = compile_cached(prog)
    (entry,) = entries(d)
    data = entry.read_bytes()
    if damage == "flip":           # a gate changed: the content hash no longer matches
        data = data[:-20] + bytes([data[-20] ^ 1]) + data[-19:]
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "foreign":      # another program's entry under this key
        other, _ = compile_cached(prog, {"N": "5"})
        data = [e for e in entries(d) if e != entry][0].read_bytes()
    elif damage == "spliced":      # this entry's first line, another program's circuit
        other, _ = compile_cached(prog, {"N": "5"})
        body = [e for e in entries(d) if e != entry][0].read_bytes()
        data = data[:data.index(b"\n") + 1] + body[body.index(b"\n") + 1:]
    else:
        data = b"\x00" * 100
    entry.write_bytes(data)
    again, info = compile_cached(prog)
    assert not info["cached"]
    assert again.content_hash == good.content_hash
    assert compile_cached(prog)[1]["cached"]      # and the entry is good again


def test_edited_warnings_and_a_fifo_entry_are_not_trusted(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(d))
    prog = tmp_path / "w.yao"
    prog.write_text("party a, b\ndef main(x: u8 @a, y: u8 @b) -> (z: u8 @both):\n"
                    "    return x + y\n")
    _, info = compile_cached(prog)
    assert len(info["warnings"]) == 1
    (warn,) = d.glob("*.warn")
    head = warn.read_bytes().split(b"\n", 1)[0]
    warn.write_bytes(head + b"\n[]")       # a valid file that drops the warning
    _, info = compile_cached(prog)
    assert not info["cached"] and len(info["warnings"]) == 1
    # a FIFO where the entry belongs is skipped, not opened for reading (which would block)
    (entry,) = d.glob("*.yaoc")
    entry.unlink()
    os.mkfifo(entry)
    _, info = compile_cached(prog)
    assert not info["cached"] and entry.is_file()
    assert compile_cached(prog)[1]["cached"]


def test_changed_program_is_a_new_entry(cache):
    d, prog = cache
    c1, _ = compile_cached(prog)
    prog.write_text(PROG.replace("x[i] < y[i]", "x[i] <= y[i]"))
    c2, info = compile_cached(prog)
    assert not info["cached"] and c2.content_hash != c1.content_hash


def test_cli_compile_twice_and_no_cache(cache, capsys):
    d, prog = cache
    assert main(["compile", str(prog), "--stats", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(entries(d)) == 1
    assert main(["compile", str(prog), "--stats", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    # the same circuit; the second from the cache, as --json says (with the seconds taken)
    assert not first.pop("compile_cached") and second.pop("compile_cached")
    assert first.pop("compile_seconds") > 0 and second.pop("compile_seconds") > 0
    assert second == first and not first["compile_waited"]
    # the lock beside an entry is as private as the entry
    assert {oct(p.stat().st_mode & 0o777) for p in d.iterdir()} == {"0o600"}
    for e in entries(d):
        e.unlink()
    assert main(["eval", str(prog), "--no-cache", "--input", "x=[1,2,3,4]",
                 "--input", "y=[4,3,2,1]"]) == 0
    assert capsys.readouterr().out.strip() == "n = 2"
    assert entries(d) == []


def test_unwritable_cache_still_compiles(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(blocker / "sub"))
    prog = tmp_path / "p.yao"
    prog.write_text(PROG)
    c, info = compile_cached(prog)
    assert not info["cached"] and c.n_gates > 0


def test_too_large_fails_early_with_the_size(tmp_path):
    prog = tmp_path / "big.yao"
    prog.write_text(PROG)
    r = subprocess.run([sys.executable, "-m", "yaogc.runtime.cli", "compile", str(prog),
                        "--no-cache", "-D", "N=5000", "--stats"], capture_output=True, text=True,
                       env={**os.environ, "YAOGC_MAX_GATES": "20000"}, timeout=300)
    assert r.returncode == 2
    first = r.stderr.splitlines()[0]
    # the statement that makes it too large: the loop body, line 6
    assert first.startswith(f"{prog}:6:") and "too large" in first and "20,000" in first
    assert "n += x[i] < y[i]" in r.stderr and "^" in r.stderr
    assert "Traceback" not in r.stderr


def test_too_large_for_lowering_alone_still_fails_cleanly(tmp_path):
    """Under the estimate's room but over the exact limit: lowering stops it (exit 2)."""
    prog = tmp_path / "mid.yao"
    prog.write_text(PROG)
    r = subprocess.run([sys.executable, "-m", "yaogc.runtime.cli", "compile", str(prog),
                        "--no-cache", "-D", "N=200", "--stats"], capture_output=True, text=True,
                       env={**os.environ, "YAOGC_MAX_GATES": "9000"}, timeout=300)
    assert r.returncode == 2, r.stderr
    assert "too large" in r.stderr.splitlines()[0] and "Traceback" not in r.stderr


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path / "x"))
    assert C.cache_dir() == tmp_path / "x"
    monkeypatch.delenv("YAOGC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert C.cache_dir() == tmp_path / "xdg" / "yaogc"


def test_schedules_kept_on_disk(cache, bristol_path):
    """With the disk cache on, a schedule built once is read back identical (another Circuit
    object of the same content), and a damaged entry is rebuilt."""
    import numpy as np
    from yaogc.circuits import schedule as S
    from yaogc.circuits import schedstore
    from yaogc.circuits.bristol import read_bristol
    from yaogc.circuits.evaluate import evaluate_bits
    from yaogc.gc import Evaluator, Garbler
    d, _ = cache
    path = bristol_path("aes_128.txt")
    S.use_disk_cache(True)
    try:
        built = S.schedule(read_bristol(path))
        (entry,) = sorted(d.glob("*.ysch"))
        again = S.schedule(read_bristol(path))
        assert again is not built
        assert len(again.steps) == len(built.steps) and again.n_slots == built.n_slots
        for x, y in zip(built.steps, again.steps):
            assert type(x) is type(y) and x.start == y.start
            assert np.array_equal(x.idx, y.idx)
        assert np.array_equal(built.out_idx, again.out_idx)
        c = read_bristol(path)
        bits = np.random.default_rng(3).integers(0, 2, (2, c.n_inputs), dtype=np.uint8)
        g, e = Garbler(again, 2), Evaluator(again, 2)
        e.set_inputs(g.input_labels(bits))
        for block in g.blocks():
            e.feed(block)
        assert np.array_equal(e.output_colours() ^ g.decoding_bits(), evaluate_bits(c, bits))
        # read as built: 4-byte indices, which the native engine takes without a copy
        assert all(st.idx.dtype == S.IDX == x.idx.dtype for x, st in zip(built.steps,
                                                                        again.steps))
        from yaogc.gc import native
        assert np.shares_memory(native.Program(again).idx, again.steps[-1].idx)
        data = bytearray(entry.read_bytes())
        # the last index arrays (the digest follows them), then the digest itself
        for at in (-100, -9):
            damaged = bytearray(data)
            damaged[at] ^= 1
            entry.write_bytes(bytes(damaged))
            assert schedstore.load(entry.name) is None
            rebuilt = S.schedule(read_bristol(path))
            assert all(np.array_equal(x.idx, y.idx)
                       for x, y in zip(built.steps, rebuilt.steps))
    finally:
        S.use_disk_cache(False)


def background_writes(monkeypatch) -> list[str]:
    """The names of the cache entries written on a background thread from now on (each is
    still written)."""
    from yaogc.circuits import diskcache
    started = []
    real = diskcache.write_later

    def spy(name, header, make_parts, then=None, **kw):
        started.append(name)
        real(name, header, make_parts, then, **kw)
    monkeypatch.setattr(diskcache, "write_later", spy)
    return started


def test_large_schedule_written_in_the_background(cache, bristol_path, monkeypatch):
    """A large circuit's schedule goes to disk on a background thread; another circuit of
    the same content finds it (waiting for the write), and reads it back identical."""
    import numpy as np
    from yaogc.circuits import diskcache
    from yaogc.circuits import schedule as S
    from yaogc.circuits.bristol import read_bristol
    d, _ = cache
    path = bristol_path("aes_128.txt")
    monkeypatch.setattr(diskcache, "BACKGROUND_GATES", 1)
    started = background_writes(monkeypatch)
    S.use_disk_cache(True)
    try:
        built = S.schedule(read_bristol(path))
        assert [n for n in started if n.endswith(".ysch")]
        fresh = read_bristol(path)
        assert S.schedule_ready(fresh)          # waits for the write
        again = S.schedule(fresh)
        assert again is not built
        assert all(np.array_equal(x.idx, y.idx) for x, y in zip(built.steps, again.steps))
        diskcache.wait()
        assert len(sorted(d.glob("*.ysch"))) == 1
    finally:
        S.use_disk_cache(False)


def test_schedule_counts_kept_on_disk(cache, bristol_path):
    """Beside a schedule on disk, its counts: another process choosing an engine reads them
    without laying out the schedule; a damaged entry is not trusted."""
    from yaogc.circuits import schedule as S
    from yaogc.circuits.bristol import read_bristol
    d, _ = cache
    path = bristol_path("sha256.txt")
    S.use_disk_cache(True)
    try:
        want = S.schedule(read_bristol(path), 1, False).stats()
        (entry,) = sorted(d.glob("*.size"))
        fresh = read_bristol(path)
        got = S.layout_stats(fresh, 1, False)
        assert got == {k: want[k] for k in S.SIZE_KEYS}
        assert S._CACHE.get(fresh, {}) == {}        # nothing laid out, nothing built
        entry.write_bytes(entry.read_bytes().replace(b'"and":', b'"and": '))
        fresh = read_bristol(path)
        assert S.layout_stats(fresh, 1, False) == got     # recounted, from the schedule
        # and kept again: the next process reads them without a schedule
        fresh = read_bristol(path)
        assert S.layout_stats(fresh, 1, False) == got and S._CACHE.get(fresh, {}) == {}
        # counts of a schedule only laid out (to choose an engine) are kept too
        laid = S.layout_stats(read_bristol(path), 3, True)
        fresh = read_bristol(path)
        assert S.layout_stats(fresh, 3, True) == laid and S._CACHE.get(fresh, {}) == {}
        assert laid == {k: v for k, v in S.schedule(fresh, 3, True).stats().items()
                        if k in S.SIZE_KEYS}
    finally:
        S.use_disk_cache(False)


def test_too_large_in_an_imported_module_names_that_file(tmp_path):
    """The statement that makes the program too large is in a module it imports: the error
    names the module's file, line and source line, not the program's."""
    (tmp_path / "helpers.yao").write_text(
        "def count_less(x: any, y: any) -> any:\n"
        "    n: u32 = 0\n"
        "    for i in range(len(x)):\n"
        "        n += x[i] < y[i]\n"
        "    return n\n")
    prog = tmp_path / "main.yao"
    prog.write_text("from helpers import count_less\n"
                    "party a, b\n"
                    "const N = 4\n"
                    "def main(x: u32[N] @a, y: u32[N] @b) -> (n: u32 @both):\n"
                    "    return count_less(x, y)\n")
    r = subprocess.run([sys.executable, "-m", "yaogc.runtime.cli", "compile", str(prog),
                        "--no-cache", "-D", "N=5000"], capture_output=True, text=True,
                       env={**os.environ, "YAOGC_MAX_GATES": "20000"}, timeout=300)
    assert r.returncode == 2, r.stderr
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"{tmp_path / 'helpers.yao'}:4:") and "too large" in first, first
    assert "n += x[i] < y[i]" in r.stderr and "Traceback" not in r.stderr


def test_large_entry_written_in_the_background(cache, monkeypatch):
    """A large circuit's entry is written on a background thread; reading it waits for that
    write, so the next compile still finds it, and the process waits for it at exit."""
    from yaogc.circuits import diskcache
    d, prog = cache
    monkeypatch.setattr(diskcache, "BACKGROUND_GATES", 1)
    started = background_writes(monkeypatch)
    c1, i1 = compile_cached(prog, {"N": "8"})
    assert started and not i1["cached"]
    c2, i2 = compile_cached(prog, {"N": "8"})     # waits for the write, then reads it
    assert i2["cached"] and c2.content_hash == c1.content_hash
    diskcache.wait()
    assert len(entries(d)) == 1
    # a fresh process exits only after its background write is done
    d2 = d.parent / "cache2"
    code = ("import sys; from yaogc.circuits import diskcache; "
            "from yaogc.compiler import compile_cached; "
            "diskcache.BACKGROUND_GATES = 1; compile_cached(sys.argv[1], {'N': '8'})")
    subprocess.run([sys.executable, "-c", code, str(prog)], check=True, timeout=120,
                   env={**os.environ, "YAOGC_CACHE_DIR": str(d2)})
    assert len(entries(d2)) == 1


def test_large_entry_waits_for_the_schedule(cache, monkeypatch):
    """A large circuit's entry is not written while its schedule is built (the two on the
    same cores slowed the schedule by a third): the write starts when the schedule is done,
    and at the latest after DEFER_MAX_S."""
    from yaogc.circuits import diskcache
    from yaogc.circuits.schedule import schedule
    d, prog = cache
    monkeypatch.setattr(diskcache, "BACKGROUND_GATES", 1)
    monkeypatch.setattr(diskcache, "DEFER_MAX_S", 60.0)
    c, info = compile_cached(prog, {"N": "9"}, schedule_next=True)
    assert not info["cached"]
    assert entries(d) == [] and diskcache._deferred      # deferred, not started
    schedule(c)
    diskcache.wait()
    assert len(entries(d)) == 1 and not diskcache._deferred
    # with no schedule, the timer starts it
    monkeypatch.setattr(diskcache, "DEFER_MAX_S", 0.2)
    compile_cached(prog, {"N": "10"}, schedule_next=True)
    deadline = time.monotonic() + 30
    while len(entries(d)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    diskcache.wait()
    assert len(entries(d)) == 2
    # a compile that schedules nothing next (a data owner, yaogc compile) writes at once
    monkeypatch.setattr(diskcache, "DEFER_MAX_S", 60.0)
    compile_cached(prog, {"N": "11"})
    assert not diskcache._deferred
    diskcache.wait()
    assert len(entries(d)) == 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_write_its_parents_deferred_entry(cache, monkeypatch):
    """A child forked after the compile (run_local forks the two parties) inherits the list
    of deferred writes but not the entry's lock: scheduling in the child must neither write
    the entry nor release the lock the parent holds; the parent writes it."""
    from yaogc.circuits import diskcache
    d, prog = cache
    monkeypatch.setattr(diskcache, "BACKGROUND_GATES", 1)
    monkeypatch.setattr(diskcache, "DEFER_MAX_S", 60.0)
    compile_cached(prog, {"N": "12"}, schedule_next=True)
    assert diskcache._deferred
    pid = os.fork()
    if pid == 0:        # the child: what a forked party does after scheduling
        try:
            diskcache.start_deferred()
            diskcache.wait()
            os._exit(0 if entries(d) == [] and not diskcache._deferred else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert entries(d) == [] and diskcache._deferred
    diskcache.start_deferred()
    diskcache.wait()
    assert len(entries(d)) == 1


def test_cached_warnings_name_the_file_compiled_this_time(cache, capsys):
    """The cache key names the program by its base name only, so a copy in another folder
    (or the same file given by another path) reads the first compile's entry; its warnings
    named the first path: compiling b/p.yao with --strict failed with 'a/p.yao:3:14: ...'."""
    d, prog = cache
    src = "party a, b\ndef main(x: u8 @a, y: u8 @b) -> u8 @b:\n    return x + y\n"
    first, second = prog.parent / "a" / "p.yao", prog.parent / "b" / "p.yao"
    for p in (first, second):
        p.parent.mkdir()
        p.write_text(src)
    c1, i1 = compile_cached(first)
    c2, i2 = compile_cached(second)
    assert i2["cached"] and not i1["cached"]
    assert [w.filename for w in i1["warnings"]] == [str(first)]
    assert [w.filename for w in i2["warnings"]] == [str(second)]
    assert main(["compile", str(second), "--strict", "-o", str(prog.parent / "o.ygc")]) == 2
    assert capsys.readouterr().err.startswith(f"{second}:3:14: '+' on u8 may reach 510")
    assert main(["eval", str(first), "--input", "x=1", "--input", "y=2"]) == 0
    assert capsys.readouterr().err.startswith(f"{first}:3:14: warning: '+' on u8")


def test_a_killed_writer_s_temporary_file_is_removed_by_a_later_write(cache):
    from yaogc.circuits import diskcache
    d, prog = cache
    d.mkdir(parents=True)
    stale, fresh = d / ".tmp-killed", d / ".tmp-writing"
    for p in (stale, fresh):
        p.write_bytes(b"\0" * 1000)
    hour_ago = time.time() - diskcache.ABANDONED_SECONDS - 60
    os.utime(stale, (hour_ago, hour_ago))
    diskcache._swept.discard(d)
    compile_cached(prog, {"N": "8"})
    # the abandoned one is gone; one still being written (changed lately) is left alone
    assert not stale.exists() and fresh.exists() and len(entries(d)) == 1


def test_the_cache_directory_is_made_private(cache):
    # the entries' digests detect damage, not forgery: only the user may write there
    d, prog = cache
    compile_cached(prog, {"N": "8"})
    assert d.stat().st_mode & 0o077 == 0
    assert all(p.stat().st_mode & 0o077 == 0 for p in entries(d))


def test_an_interrupted_wait_for_the_lock_closes_its_descriptor(tmp_path, monkeypatch):
    # Ctrl-C while waiting for another process's compile leaked the lock file's descriptor,
    # once per interrupt
    import os as _os
    from yaogc.circuits.diskcache import EntryLock
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path))
    holder = EntryLock("entry")
    assert holder.acquire(1.0)
    before = len(_os.listdir("/proc/self/fd"))

    def interrupt(_pid, _waited):
        raise KeyboardInterrupt
    for _ in range(3):
        with pytest.raises(KeyboardInterrupt):
            EntryLock("entry").acquire(30.0, interrupt)
    assert len(_os.listdir("/proc/self/fd")) == before
    holder.release()
    again = EntryLock("entry")
    assert again.acquire(1.0)       # nothing left holding it
    again.release()

