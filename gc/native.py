"""The native engine's plumbing: whether it can run here, its AES key schedule, a Schedule
flattened into the arrays the compiled kernels walk, and the choice of engine per workload.

Two engines garble and evaluate a Schedule behind the same :class:`~yaogc.gc.Garbler` /
:class:`~yaogc.gc.Evaluator` interface, with byte-identical tables and labels:

- ``numpy``: whole layers (and batches) per numpy call, AES through ``cryptography``; a fixed
  cost of tens of microseconds per AND layer, so it shines on wide layers and large batches,
  and runs everywhere;
- ``native``: :mod:`yaogc.gc.kernels`, numba-compiled loops with AES-NI that run many layers
  per call (no per-layer cost worth the name), for one instance of a deep circuit. It needs
  numba and an x86-64 CPU with AES-NI; elsewhere the numpy engine runs.

``YAOGC_ENGINE=numpy|native`` forces an engine for every run of a process (the ``engine``
argument of ``Garbler``/``Evaluator`` wins over it); forcing ``native`` where it cannot run is
an error, not a silent fallback. ``YAOGC_NO_JIT=1`` (no compiled code at all) rules it out.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from yaogc.circuits.schedule import IDX, AndStep, Schedule

from .aes import FIXED_KEY
from .errors import EngineChoiceError, GarbleError

ENGINES = ("numpy", "native")
ENV = "YAOGC_ENGINE"

# the native engine garbles and evaluates in about NATIVE_AND_US per AND gate and instance
# (on the least-data schedule; measured on AES-128 and SHA-256). Loading its kernels costs
# about LOAD_SECONDS in a fresh process (importing numba, reading its on-disk cache), about
# LOAD_WARM_SECONDS where numba is imported already, and COMPILE_SECONDS more the first time
# on a machine (empty cache): a run goes native when that is repaid (yaogc.gc.workload
# compares it with the numpy engine's cost model)
NATIVE_AND_US = 0.1
LOAD_SECONDS, LOAD_WARM_SECONDS, COMPILE_SECONDS = 1.0, 0.03, 6.0
# the numpy engine's cost model (yaogc.gc.workload) ranks schedules; its absolute times run
# about this many times higher (measured: AES-128 x2.7, SHA-256 x4 at K=1)
NUMPY_SCALE = 3.0

_state: dict = {}


def unavailable_reason() -> str | None:
    """Why the native engine cannot run on this machine, or None if it can."""
    if "why" not in _state:
        _state["why"] = _probe()
    return _state["why"]


def _probe() -> str | None:
    if os.environ.get("YAOGC_NO_JIT"):
        return "YAOGC_NO_JIT is set"
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return f"AES-NI kernels are x86-64 only (this CPU is {platform.machine()})"
    if importlib.util.find_spec("numba") is None:
        return "numba is not installed"
    try:
        import llvmlite.binding as llvm
        feats = llvm.get_host_cpu_features()
    except Exception as e:  # noqa: BLE001 - any failure means: no native engine
        return f"cannot read the CPU features ({e})"
    if not feats.get("aes"):
        return "this CPU has no AES-NI"
    return None


def available() -> bool:
    return unavailable_reason() is None


def loaded() -> bool:
    """Whether the kernels are loaded in this process already (a further run pays nothing)."""
    return "kernels" in _state


def kernels():
    """The compiled kernels module (imported, and compiled or loaded from cache, on first
    use; the time that took is ``load_seconds()``)."""
    k = _state.get("kernels")
    if k is None:
        why = unavailable_reason()
        if why is not None:
            raise GarbleError(f"the native garbling engine cannot run here: {why}")
        t = time.perf_counter()
        from . import kernels as k
        # first calls compile (or load from numba's cache) every kernel we use, on tiny
        # inputs, so no run pays it in the middle of a layer
        _warm(k)
        _state["load_seconds"] = time.perf_counter() - t
        _state["kernels"] = k
    return k


def load_seconds() -> float | None:
    """Seconds the first :func:`kernels` call took in this process (None before)."""
    return _state.get("load_seconds")


def _warm(k) -> None:
    rk = round_keys()
    z = np.zeros(1, dtype=np.int64)
    idx = np.zeros(1, dtype=IDX)        # the type of every schedule's indices
    store = np.zeros(8, dtype=np.uint64)
    tab = np.zeros(0, dtype=np.uint64)
    k.garble(rk, store, 1, np.uint64(1), np.uint64(0), z.astype(np.int8), z, z, z, z, z, idx,
             0, 0, 0, tab)
    k.evaluate(rk, store, 1, z.astype(np.int8), z, z, z, z, z, idx, 0, 0, 0, tab)


# -- AES-128 key schedule (FIPS 197, section 5.2) --------------------------------------------
def _sbox() -> list[int]:
    sbox = [0] * 256
    p = q = 1
    while True:      # p runs over the field's units by multiplying by 3, q = p^-1
        p ^= ((p << 1) ^ (0x1B if p & 0x80 else 0)) & 0xFF
        q ^= q << 1
        q ^= q << 2
        q ^= q << 4
        q &= 0xFF
        if q & 0x80:
            q ^= 0x09
        x = q ^ (q << 1 | q >> 7) ^ (q << 2 | q >> 6) ^ (q << 3 | q >> 5) ^ (q << 4 | q >> 4)
        sbox[p] = (x ^ 0x63) & 0xFF
        if p == 1:
            break
    sbox[0] = 0x63
    return sbox


def round_keys(key: bytes = FIXED_KEY) -> np.ndarray:
    """The 11 AES-128 round keys of ``key`` as (11, 2) uint64, each the 16 key bytes as two
    little-endian words (the layout AES-NI reads)."""
    got = _state.get(("rk", key))
    if got is not None:
        return got
    sbox = _sbox()
    w = [list(key[4 * i:4 * i + 4]) for i in range(4)]
    rcon = 1
    for i in range(4, 44):
        t = list(w[i - 1])
        if i % 4 == 0:
            t = [sbox[b] for b in t[1:] + t[:1]]
            t[0] ^= rcon
            rcon = ((rcon << 1) ^ (0x1B if rcon & 0x80 else 0)) & 0xFF
        w.append([a ^ b for a, b in zip(w[i - 4], t)])
    raw = bytes(b for word in w for b in word)
    rk = np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(11, 2)
    rk.flags.writeable = False
    _state[("rk", key)] = rk
    return rk


# -- a Schedule as flat arrays ---------------------------------------------------------------
class Program:
    """A Schedule's steps as the arrays the kernels walk (built once per Schedule)."""

    def __init__(self, s: Schedule):
        steps = s.steps
        n = len(steps)
        self.kind = np.zeros(n, dtype=np.int8)
        self.start = np.zeros(n, dtype=np.int64)
        self.count = np.zeros(n, dtype=np.int64)
        self.arity = np.zeros(n, dtype=np.int64)
        self.ioff = np.zeros(n, dtype=np.int64)
        self.aoff = np.zeros(n, dtype=np.int64)
        parts, pos = [], 0
        for i, st in enumerate(steps):
            is_and = isinstance(st, AndStep)
            self.kind[i] = is_and
            self.start[i] = st.start
            self.count[i] = st.count
            self.arity[i] = st.idx.shape[0]
            self.ioff[i] = pos
            self.aoff[i] = st.offset if is_and else 0
            parts.append(st.idx.reshape(-1))
            pos += st.idx.size
        self.idx = _joined(parts)
        # per step: AND gates of that step (0 for XOR), and the AND layers before it
        self.ands = np.where(self.kind == 1, self.count, 0)
        self.and_steps = np.flatnonzero(self.kind == 1)

    def args(self) -> tuple:
        return (self.kind, self.start, self.count, self.arity, self.ioff, self.aoff, self.idx)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """The step index arrays end to end, as one array of their integer type: a view of the
    array they are blocks of where they lie end to end in one writable array (as a
    Schedule built in this process, or read from the cache, keeps them), else a copy. A
    read-only view would make numba compile the kernels once more, for read-only arrays."""
    if not parts:
        return np.zeros(0, dtype=np.int32)

    def owner(a: np.ndarray) -> np.ndarray:
        while isinstance(a.base, np.ndarray):
            a = a.base
        return a
    root = owner(parts[0])
    dtype = root.dtype
    if root.ndim == 1 and root.flags.c_contiguous and root.flags.writeable:
        first = pos = parts[0].ctypes.data
        for p in parts:
            if p.dtype != dtype or not p.flags.c_contiguous or p.ctypes.data != pos or \
                    owner(p) is not root:
                break
            pos += p.nbytes
        else:
            begin = (first - root.ctypes.data) // dtype.itemsize
            return root[begin:begin + (pos - first) // dtype.itemsize]
    return np.concatenate(parts).astype(np.result_type(*parts), copy=False)


def program(s: Schedule) -> Program:
    return s.cached("native_program", lambda: Program(s))


# -- choosing an engine ---------------------------------------------------------------------
def forced() -> str | None:
    """The engine ``YAOGC_ENGINE`` names, or None (unset, empty or 'auto')."""
    v = os.environ.get(ENV, "").strip().lower()
    if not v or v == "auto":
        return None
    if v not in ENGINES:
        raise EngineChoiceError(f"{ENV} must be one of numpy, native or auto, got {v!r}")
    return v


def requested(engine: str | None) -> str | None:
    """The engine asked for: ``engine`` ('numpy', 'native'; None or 'auto' for no choice),
    else ``YAOGC_ENGINE``; None when neither names one. Asking for the native engine where it
    cannot run is an error."""
    if engine is not None:
        if not isinstance(engine, str) or engine.lower() not in ENGINES + ("auto",):
            raise EngineChoiceError(f"engine must be one of numpy, native or auto, got "
                                    f"{engine!r}")
        engine = engine.lower()
        if engine == "auto":
            engine = None
    engine = engine or forced()
    if engine == "native":
        why = unavailable_reason()
        if why is not None:
            raise EngineChoiceError(f"the native garbling engine cannot run here: {why}")
    return engine


def load_cost() -> float:
    """Estimated seconds until the kernels run in this process: none once loaded, little
    when numba is imported already (the circuit passes use it on large circuits), seconds
    when they were never compiled on this machine (no numba cache found)."""
    if loaded():
        return 0.0
    extra = 0.0 if cache_ready() else COMPILE_SECONDS
    return extra + (LOAD_WARM_SECONDS if "numba" in sys.modules else LOAD_SECONDS)


def cache_ready() -> bool:
    """Whether numba's on-disk cache seems to hold the kernels (an index file of ``garble``
    beside the module or under ``NUMBA_CACHE_DIR``); if not, the first run compiles them."""
    if "cache" not in _state:
        pattern = "kernels.garble-*.nbi"
        here = Path(__file__).resolve().parent
        found = any((here / "__pycache__").glob(pattern))
        env = os.environ.get("NUMBA_CACHE_DIR")
        if not found and env:
            found = any(Path(env).rglob(pattern))
        if not found:   # numba's per-user cache, used where the package folder is read-only
            base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
            user = Path(base) / "numba"
            found = user.is_dir() and any(user.rglob(pattern))
        _state["cache"] = found
    return _state["cache"]
