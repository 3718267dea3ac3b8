"""The user's cache directory for derived artefacts (compiled circuits, schedules): where it
is, and reading and writing entries so that a reader never sees half a file.

Location: ``$YAOGC_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/yaogc``, else
``~/.cache/yaogc``. Writing is best effort: a cache that cannot be written is skipped, never
an error. Every entry starts with a header naming its key, and the callers verify what they
read, so a corrupt or foreign entry is ignored. Its size is bounded (:mod:`.cachesize`): a
write removes the entries used least recently once the directory holds more than its limit.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import stat
import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path

from . import cachesize


def cache_dir() -> Path:
    env = os.environ.get("YAOGC_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "yaogc"
    try:
        return Path.home() / ".cache" / "yaogc"
    except (RuntimeError, KeyError):
        # no home directory to find (HOME unset, no passwd entry): a path no file can be
        # made under, so that every read and write fails and the cache is skipped
        return Path(os.devnull) / "yaogc"


@lru_cache(maxsize=None)
def code_digest(*packages: str) -> str:
    """The yaogc version and a digest of the named packages' source files: a cache key part
    that changes whenever the code that made an entry does."""
    import importlib
    try:
        from importlib.metadata import version
        v = version("yaogc")
    except Exception:   # not installed as a distribution (a bare checkout)
        v = "unknown"
    h = hashlib.sha256(v.encode())
    for name in packages:
        root = Path(importlib.import_module(name).__file__).parent
        for f in sorted(root.glob("*.py")) + sorted(root.glob("*.lark")):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def read(name: str, header: bytes, lead: int = 0, writable: bool = False):
    """The entry's bytes after ``header`` (which must start it), else None; with ``lead``,
    the pair (the ``lead`` bytes after the header, the bytes after those); ``writable``
    reads them into a bytearray (arrays viewing it can be handed to compiled kernels
    without a copy)."""
    wait(name)
    try:
        # opened without blocking and read only if it is a regular file: a FIFO (or a
        # device) put where an entry belongs would otherwise hold the process in open()
        fd = os.open(cache_dir() / name, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as f:
            fd = -1
            if f.read(len(header)) != header:
                return None
            cachesize.touch(f.fileno())     # used now: the last to be pruned
            first = f.read(lead) if lead else None
            if lead and len(first) != lead:
                return None
            if writable:
                rest = bytearray(max(0, os.fstat(f.fileno()).st_size - f.tell()))
                if f.readinto(rest) != len(rest):
                    return None
            else:
                rest = f.read()     # one copy of a large entry, not a second for a slice
            return (first, rest) if lead else rest
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)


def write(name: str, header: bytes, parts) -> Path | None:
    """Write ``header`` and the byte strings ``parts`` atomically; None if it could not."""
    d = cache_dir()
    try:
        d.mkdir(mode=0o700, parents=True, exist_ok=True)    # private: see the README
        _sweep_abandoned(d)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
        _writing.add(tmp)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(header)
                for p in parts:
                    f.write(p)
            os.replace(tmp, d / name)
            cachesize.prune(d, name)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        finally:
            _writing.discard(tmp)
    except OSError:
        return None
    return d / name


# the temporary files being written now (on any thread)
_writing: set = set()


def abandon_writes() -> None:
    """Remove the temporary files of the writes under way, for a process about to end
    without waiting for them (killed while it finished: see the command line's SIGTERM)."""
    for tmp in list(_writing):
        try:
            os.unlink(tmp)
        except OSError:
            pass


# a temporary file not written to for this long was left by a writer that was killed (a
# live writer's file changes as it writes)
ABANDONED_SECONDS = 3600
_swept: set = set()


def _sweep_abandoned(d: Path) -> None:
    """Remove the temporary files killed writers left in ``d`` (once per process and
    directory): each is as large as the entry it was becoming, and nothing else removes it."""
    if d in _swept:
        return
    _swept.add(d)
    old = time.time() - ABANDONED_SECONDS
    try:
        for p in d.glob(".tmp-*"):
            try:
                st = p.lstat()
                if stat.S_ISREG(st.st_mode) and st.st_mtime < old:
                    p.unlink()
            except OSError:
                pass
    except OSError:
        pass


def write_checked(name: str, header: bytes, body: bytes) -> Path | None:
    """Write a small entry whose ``body`` follows its hex SHA-256 (read it back with
    :func:`read_checked`)."""
    return write(name, header, [hashlib.sha256(body).hexdigest().encode(), body])


def read_checked(name: str, header: bytes) -> bytes | None:
    """The body of an entry :func:`write_checked` wrote, or None when it is absent, foreign
    or its digest does not match (damaged on disk: it may still parse, and be wrong)."""
    data = read(name, header)
    if data is None or len(data) < 64 or \
            hashlib.sha256(data[64:]).hexdigest().encode() != data[:64]:
        return None
    return data[64:]


# from this many gates on, a circuit's entry (compiled circuit, schedule) is written on a
# background thread: what comes next (scheduling, garbling) starts meanwhile
BACKGROUND_GATES = 1 << 20

# entries being written on background threads, by name
_pending: dict[str, threading.Thread] = {}
_pending_lock = threading.Lock()


def write_later(name: str, header: bytes, make_parts, then=None, defer: bool = False) -> None:
    """:func:`write` on a background thread, ``parts = make_parts()`` included, so that
    encoding and writing a large entry overlaps with what the caller does next. The thread
    is not a daemon: the process waits for it before exiting, and :func:`read` of the same
    name waits for it first. ``then()`` runs once the write is over, whether or not it
    succeeded.

    ``defer``: the write waits until :func:`start_deferred` (the schedule of the circuit
    just compiled is built: the write would share the cores with it, and slowed it by a
    third), at most :data:`DEFER_MAX_S` seconds, and is done at the latest when the
    process exits or reads or waits for the entry."""
    if defer:
        with _pending_lock:
            _deferred.append((name, header, make_parts, then, os.getpid()))
            global _timer
            if _timer is None:
                _timer = threading.Timer(DEFER_MAX_S, start_deferred)
                _timer.daemon = True
                _timer.start()
        return

    worker = threading.Thread(target=_write_now, args=(name, header, make_parts, then),
                              name="yaogc-cache-write")
    with _pending_lock:
        _pending[name] = worker
    try:
        worker.start()
    except RuntimeError:        # at interpreter shutdown: the caller writes it itself
        with _pending_lock:
            if _pending.get(name) is worker:
                del _pending[name]
        raise


# a deferred write starts at the latest this long after it was asked for (a process that
# compiles and schedules nothing, such as an interactive session, holds the entry's lock, on
# which a second process compiling the same program waits, until the write is done)
DEFER_MAX_S = 5.0
# (name, header, make_parts, then, pid) not started yet
_deferred: list = []
_timer = None


def _take_deferred(name: str | None = None) -> list:
    """The deferred writes (of ``name`` only, if given) this process is to do, taken off
    the list. A forked child inherits the list but not the entries' locks' ownership: its
    copies are dropped, never written (the parent writes them)."""
    global _timer
    me = os.getpid()
    with _pending_lock:
        jobs = [j[:4] for j in _deferred if j[4] == me and (name is None or j[0] == name)]
        _deferred[:] = [j for j in _deferred
                        if j[4] == me and not (name is None or j[0] == name)]
        if not _deferred and _timer is not None:
            _timer.cancel()
            _timer = None
    return jobs


def start_deferred(name: str | None = None) -> None:
    """Start the deferred writes (of ``name`` only, if given) on their threads."""
    for job in _take_deferred(name):
        try:
            write_later(*job)
        except RuntimeError:    # no new threads at interpreter shutdown: write it here
            _write_now(*job)


def _write_now(name, header, make_parts, then) -> None:
    try:
        write(name, header, make_parts())
    except Exception:     # noqa: BLE001  best effort, as every cache write
        pass
    finally:
        if then is not None:
            then()


def _write_deferred_at_exit() -> None:
    # atexit runs after the interpreter has joined the non-daemon threads: what is still
    # deferred is written here, on this thread, and a write the timer started meanwhile
    # is waited for
    for job in _take_deferred():
        _write_now(*job)
    wait()


atexit.register(_write_deferred_at_exit)


def wait(name: str | None = None) -> None:
    """Wait for the background write of ``name`` (of every entry when None) to finish,
    starting it first if it was deferred."""
    if _deferred:
        start_deferred(name)
    with _pending_lock:
        workers = list(_pending.items()) if name is None else \
            [(name, _pending[name])] if name in _pending else []
    for key, worker in workers:
        worker.join()
        with _pending_lock:
            if _pending.get(key) is worker:
                del _pending[key]


class EntryLock:
    """An advisory lock on one entry (an flock on ``<name>.lock`` beside it), so that two yaogc
    processes about to build the same entry (the two parties of a run on one machine
    compiling one program) build it once: the second waits, then reads what the first wrote,
    instead of competing with it for the same cores. The kernel drops the lock when its
    holder exits, however it exits; a holder that does not finish within the wait is not
    waited for any longer (the waiter builds the entry itself). Where file locks are not
    available (no ``fcntl``) or the cache cannot be written, nothing is locked."""

    def __init__(self, name: str):
        self.path = cache_dir() / f"{name}.lock"
        self._fd: int | None = None
        self._mutex = threading.Lock()

    def acquire(self, wait_s: float, on_wait=None) -> bool:
        """Hold the lock, waiting up to ``wait_s`` seconds; ``on_wait(pid, seconds)`` is called
        about once a second while another process holds it (``pid`` as that process wrote
        it, or None). False when not held (nothing to lock with, or the wait ran out)."""
        try:
            import fcntl
        except ImportError:
            return False
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)     # private, as entries
        except OSError:
            return False
        t0 = time.monotonic()
        told = 0.0
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    waited = time.monotonic() - t0
                    if waited >= wait_s:
                        os.close(fd)
                        return False
                    if on_wait is not None and waited - told >= 1.0:
                        told = waited
                        on_wait(_holder(fd), waited)
                    time.sleep(0.05)
                except OSError:
                    os.close(fd)
                    return False
            self._fd = fd
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
            except OSError:
                pass    # the pid only names the holder in a waiting process's progress line
        except BaseException:   # interrupted (Ctrl-C): the descriptor, and the lock if it
            if self._fd == fd:  # was taken, go with it
                self._fd = None
            os.close(fd)
            raise
        return True

    def release(self) -> None:
        """Give the lock back (once; later calls do nothing)."""
        with self._mutex:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)        # closing the descriptor drops the flock


def _holder(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 16, 0).decode() or "x")
    except (OSError, ValueError):
        return None
