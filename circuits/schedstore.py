"""A Schedule kept in the user's cache directory (:mod:`.diskcache`): the entry's name, its
file format (a JSON head, the index arrays flat, the SHA-256 of both last) and its reading,
which verifies the digest and returns None for anything that does not check out. Beside each
schedule, its counts (``SIZE_KEYS``), so that choosing an engine in a later run needs no
layout. Entries are keyed by the circuit's content hash, the parameters and the code.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .circuit import Circuit
    from .schedule import Schedule

_DISK = {"on": False}
_DISK_HEADER = b"yaogc-schedule 2 "


def use_disk_cache(on: bool = True) -> None:
    """Keep schedules in the user's cache directory (:mod:`.diskcache`) too, keyed by the
    circuit's content hash, the parameters and the code, so a second run of a large program
    does not schedule it again. Off by default; the command line turns it on. Turning it on
    raises :class:`~.errors.InputError` for a ``$YAOGC_CACHE_MAX`` that is no size."""
    if on:
        from . import cachesize
        cachesize.limit()
    _DISK["on"] = bool(on)


def enabled() -> bool:
    return bool(_DISK["on"])


def entry_name(circuit: Circuit, key: tuple) -> str:
    from . import diskcache
    h = hashlib.sha256(b"yaogc schedule\0")
    for part in (diskcache.code_digest("yaogc.circuits"), circuit.content_hash, repr(key)):
        h.update(part.encode() + b"\0")
    return f"{h.hexdigest()}.ysch"


def store(name: str, s: Schedule, n_gates: int = 0) -> None:
    """Write ``s``: a JSON head, every index array flat (4-byte integers when every slot and
    wire number fits, as on every circuit the compiler accepts: half the bytes to write,
    read and hash), and last the SHA-256 of all of it. The schedule of a circuit of
    ``n_gates`` from :data:`~.diskcache.BACKGROUND_GATES` on is written on a background
    thread, as the compiled circuit is (the arrays are read-only; a reader of the entry
    waits for it, and the process for it at exit)."""
    from . import diskcache
    from .schedule import AndStep
    ands = [st for st in s.steps if isinstance(st, AndStep)]
    top = max([s.n_slots] + [int(st.wires[-1]) for st in ands if st.wires.size])
    dtype = np.int32 if top < 2**31 else np.int64
    meta = {"name": s.name, "n_inputs": s.n_inputs, "bound": s.bound, "flat": s.flat,
            "n_slots": s.n_slots, "n_and": s.n_and, "out": list(s.out_idx.shape),
            "int": np.dtype(dtype).itemsize,
            "steps": [[int(isinstance(st, AndStep)), st.start, list(st.idx.shape),
                       getattr(st, "offset", 0), getattr(st, "level", 0)] for st in s.steps]}
    head = json.dumps(meta, separators=(",", ":")).encode()

    def parts():
        # one array converted at a time, hashed as it is written: no copy of the whole
        # schedule is ever held
        h = hashlib.sha256(head)
        yield len(head).to_bytes(8, "little") + head
        for a in [st.idx for st in s.steps] + [st.wires for st in ands] + [s.out_idx]:
            v = memoryview(np.ascontiguousarray(a, dtype=dtype).reshape(-1)).cast("B")
            h.update(v)
            yield v
        yield h.hexdigest().encode()
    if n_gates >= diskcache.BACKGROUND_GATES:
        diskcache.write_later(name, _DISK_HEADER + name.encode() + b"\n", parts)
    else:
        diskcache.write(name, _DISK_HEADER + name.encode() + b"\n", parts())


def load(name: str) -> Schedule | None:
    """The schedule of a cache entry, or None if it is absent or does not verify."""
    from . import diskcache
    from .schedule import AndStep, Schedule, XorStep
    data = diskcache.read(name, _DISK_HEADER + name.encode() + b"\n", writable=True)
    if data is None or len(data) < 72:
        return None
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 72:
        return None
    head, body, digest = data[8:8 + n], memoryview(data)[8 + n:-64], data[-64:]
    h = hashlib.sha256(head)
    h.update(body)      # the arrays: not copied
    if h.hexdigest().encode() != digest:
        return None
    try:
        meta = json.loads(head)
        dtype = {4: np.int32, 8: np.int64}[meta["int"]]
        if len(body) % meta["int"]:
            return None
        flat_arr = np.frombuffer(body, dtype=dtype)
        pos = 0

        def take(shape):
            nonlocal pos
            k = math.prod(shape)
            a = flat_arr[pos:pos + k].reshape(shape)
            a.flags.writeable = False
            pos += k
            return a
        idxs = [take(shape) for _, _, shape, _, _ in meta["steps"]]
        steps = []
        for (is_and, start, shape, offset, level), idx in zip(meta["steps"], idxs):
            if is_and:
                steps.append(AndStep(start, idx, offset, level, take((shape[2],))))
            else:
                steps.append(XorStep(start, idx))
        out = take(tuple(meta["out"]))
        if pos != flat_arr.size:
            return None
        return Schedule(meta["name"], meta["n_inputs"], meta["bound"], meta["flat"], steps,
                        out, meta["n_slots"], meta["n_and"])
    except (ValueError, KeyError, TypeError):
        return None


_STATS_HEADER = b"yaogc-schedule-size 1 "


def store_counts(name: str, stats: dict) -> None:
    """Beside a schedule on disk, its SIZE_KEYS counts: a later process choosing an engine
    reads these instead of laying out a schedule it may not use."""
    from . import diskcache
    from .schedule import SIZE_KEYS
    body = json.dumps({k: int(stats[k]) for k in SIZE_KEYS}, separators=(",", ":")).encode()
    diskcache.write_checked(name + ".size", _STATS_HEADER + name.encode() + b"\n", body)


def has(name: str) -> bool:
    from . import diskcache
    diskcache.wait(name)        # an entry this process is still writing counts once written
    return (diskcache.cache_dir() / name).is_file()


def load_counts(name: str) -> dict | None:
    from . import diskcache
    data = diskcache.read_checked(name + ".size", _STATS_HEADER + name.encode() + b"\n")
    if data is None:
        return None
    try:
        from .schedule import SIZE_KEYS
        got = json.loads(data)
        return {k: int(got[k]) for k in SIZE_KEYS}
    except (ValueError, KeyError, TypeError):
        return None
