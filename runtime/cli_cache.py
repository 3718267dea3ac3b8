"""The ``yaogc cache`` subcommand: where the cache directory is, what it holds and its limit;
``--clear`` empties it."""

from __future__ import annotations

import json
import os

from yaogc.circuits import cachesize
from yaogc.circuits.diskcache import cache_dir


def size_text(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _kinds(fams: dict) -> dict[str, int]:
    out = {"circuits": 0, "schedules": 0, "other": 0}
    for _, _, files in fams.values():
        names = [os.path.basename(p) for p, _ in files if not p.endswith(".lock")]
        if not names:       # the lock of an entry not written (yet): no entry
            continue
        kind = "circuits" if any(n.endswith(".yaoc") for n in names) else \
            "schedules" if any(n.endswith(".ysch") for n in names) else "other"
        out[kind] += 1
    return out


def cmd_cache(args) -> int:
    d = cache_dir()
    if args.clear:
        n, freed = cachesize.clear(d)
        if args.json:
            print(json.dumps({"dir": str(d), "removed_files": n, "removed_bytes": freed}))
        else:
            print(f"removed {n} files ({size_text(freed)}) from {d}")
        return 0
    most = cachesize.limit(d)
    fams = cachesize.families(d)
    total = sum(f[0] for f in fams.values())
    kinds = _kinds(fams)
    source = "YAOGC_CACHE_MAX" if os.environ.get("YAOGC_CACHE_MAX", "").strip() else "default"
    if args.json:
        print(json.dumps({"dir": str(d), "bytes": total, "limit_bytes": most,
                          "limit_from": source, "entries": kinds}))
        return 0
    print(f"cache: {d}{'' if d.is_dir() else ' (not made yet)'}")
    print(f"holds: {kinds['circuits']} compiled circuits, {kinds['schedules']} schedules, "
          f"{kinds['other']} other entries; {size_text(total)}")
    why = "$YAOGC_CACHE_MAX" if source != "default" else \
        "a quarter of its file system, at most 10 GiB; $YAOGC_CACHE_MAX sets it"
    print(f"limit: {size_text(most)} ({why}); the entries used least recently are removed "
          f"past it")
    return 0


def register(sub) -> None:
    """Add ``cache`` to the ``yaogc`` subcommands."""
    p = sub.add_parser("cache", help="where the compiled-circuit cache is, its size and limit; "
                                     "--clear empties it",
                       description="Show the cache directory of compiled circuits and "
                                   "schedules ($YAOGC_CACHE_DIR, else $XDG_CACHE_HOME/yaogc, "
                                   "else ~/.cache/yaogc), what it holds and its size limit "
                                   "($YAOGC_CACHE_MAX: bytes, or with a K, M, G or T suffix; "
                                   "default a quarter of its file system, at most 10 GiB). "
                                   "Past the limit, each write removes the entries used least "
                                   "recently.")
    p.add_argument("--clear", action="store_true",
                   help="remove every entry (a lock another process holds stays)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_cache)
