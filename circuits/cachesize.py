"""The size of the cache directory: its limit, what it holds, and removing what was used
least recently once it holds more.

An entry and the files beside it share the part of their names before the first dot (a
compiled circuit's ``KEY.yaoc``, ``KEY.warn`` and ``KEY.yaoc.lock``; a schedule's ``HASH.ysch``
and ``HASH.ysch.size``): such a *family* is kept or removed whole. Reading an entry marks its
family used (:func:`touch`, the file's modification time: access times are not kept on most
mounts). After each write the directory is measured, and if it holds more than the limit the
families used least recently are removed until it holds at most :data:`PRUNE_TO` of it, the
family just written never among them (an entry larger than the limit is still kept: it is the
one the next run reads). Locks stay (a few bytes each; ``--clear`` removes those no process
holds), and so does a file being written (``.tmp-*``: removed by the writer, or by the sweep
of abandoned ones) and any file not named as yaogc names its entries.

The limit is ``$YAOGC_CACHE_MAX`` (bytes, or with a K, M, G or T suffix of powers of 1024),
else a quarter of the file system the directory is on, at most :data:`DEFAULT_MAX` (a
compiled circuit and schedule of tens of millions of gates take about a gigabyte).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from fractions import Fraction
from pathlib import Path

from .errors import InputError

DEFAULT_MAX = 10 << 30
PRUNE_TO = 0.9

_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNIT = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def limit(d: Path | None = None) -> int:
    """The most bytes the cache directory ``d`` is to hold; :class:`InputError` for a
    ``$YAOGC_CACHE_MAX`` that is no size."""
    env = os.environ.get("YAOGC_CACHE_MAX", "").strip()
    if env:
        m = _SIZE.match(env)
        if not m:
            raise InputError(f"YAOGC_CACHE_MAX must be a size in bytes (such as 5000000000, "
                             f"500M or 10G), got {env!r}")
        return int(min(Fraction(m.group(1)) * _UNIT[m.group(2).lower()], 1 << 62))
    try:
        total = shutil.disk_usage(d if d is not None and d.is_dir() else Path.home()).total
    except (OSError, RuntimeError, KeyError):
        return DEFAULT_MAX
    return min(DEFAULT_MAX, total // 4)


# the names yaogc writes: a compiled circuit and its warnings and lock, a schedule and its
# counts, the parser's tables. Nothing else in the directory is counted or removed (it may
# be a folder the user keeps other files in)
_OURS = re.compile(r"^(?:[0-9a-f]{64}\.(?:yaoc|warn|yaoc\.lock|ysch|ysch\.size)"
                   r"|parser-[0-9a-f]{64}\.json)$")


def family(name: str) -> str:
    return name.split(".", 1)[0]


def families(d: Path) -> dict[str, list]:
    """Per family of ``d``: [bytes, last used (newest modification time), [(path, st)]],
    of the regular files named as yaogc names its entries (a link, a directory or another
    file put there is neither counted nor removed)."""
    out: dict[str, list] = {}
    try:
        with os.scandir(d) as it:
            for e in it:
                if not _OURS.match(e.name):
                    continue
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                f = out.setdefault(family(e.name), [0, 0.0, []])
                f[0] += st.st_size
                f[1] = max(f[1], st.st_mtime)
                f[2].append((e.path, st))
    except OSError:
        pass
    return out


def touch(fd: int) -> None:
    """Mark the entry open as ``fd`` used now (best effort: a directory of another user's or
    on a read-only mount is read as it is)."""
    try:
        os.utime(fd)
    except (OSError, NotImplementedError):
        pass


def prune(d: Path, keep: str, most: int | None = None) -> int:
    """Remove the families of ``d`` used least recently, ``keep``'s family never, until it
    holds at most PRUNE_TO of ``most`` bytes (default :func:`limit`), if it holds more than
    ``most``; the bytes removed."""
    if most is None:
        try:
            most = limit(d)
        except InputError:      # said where the cache is first used (the compile)
            return 0
    fams = families(d)
    total = sum(f[0] for f in fams.values())
    if total <= most:
        return 0
    kept = family(keep)
    freed = 0
    for name, (size, _, files) in sorted(fams.items(), key=lambda kv: kv[1][1]):
        if total - freed <= PRUNE_TO * most:
            break
        if name != kept:
            freed += remove(files)[1]
    return freed


def remove(files, locks: bool = False) -> tuple[int, int]:
    """Remove the files ``[(path, stat)]`` of one family: (files, bytes) removed. Its lock
    stays (a few bytes: a process waiting on it must not find another one made meanwhile),
    unless ``locks`` and no process holds it."""
    n = freed = 0
    for path, st in files:
        if path.endswith(".lock") and (not locks or _held(path)):
            continue
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass            # another process removed it meanwhile: gone all the same
        except OSError:
            continue
        n += 1
        freed += st.st_size
    return n, freed


def clear(d: Path) -> tuple[int, int]:
    """Remove every entry of ``d`` (but for the locks held): (files, bytes) removed."""
    n = freed = 0
    for _, _, files in families(d).values():
        k, b = remove(files, locks=True)
        n, freed = n + k, freed + b
    return n, freed


def _held(path: str) -> bool:
    """Whether another process holds the lock file (an EntryLock) at ``path``."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)     # closing drops the lock if it was taken here
