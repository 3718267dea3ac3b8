"""The compiler pipeline: text -> AST -> checked word-level IR -> optimized IR -> Circuit.

:func:`compile_source` and :func:`compile_file` are what the rest of yaogc calls. The result
depends only on the program text and the ``-D`` values: every stage iterates in a fixed order,
so both parties compile byte-identical circuits (same content hash) independently.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from yaogc.circuits import cachesize, freemem
from yaogc.circuits.circuit import Circuit
from yaogc.circuits.schedule import warm_kernels

from yaogc.circuits.templates import TooLarge

from .cache import (cache_key, load as cache_load, load_warnings, lock as cache_lock,
                    store as cache_store, store_warnings)
from .check import Checker, Elaborated
from .checked import OVERFLOW_PORT, add_overflow_output
from .imports import imports_digest
from . import ir
from .overflow import analyze
from .deep import run_deep
from .errors import CompileError, InputError, Source, normalize_newlines
from .lower import emit
from .optimize import optimize as optimize_words
from .parser import decode_text, parse, read_program, read_source


def elaborate(text: str, filename: str = "<string>", defines: dict[str, str] | None = None,
              exact: bool = False) -> Elaborated:
    """Parse and type-check a program into word-level IR (before word-level optimization).
    ``exact`` keeps arithmetic as written (:attr:`~.ir.WordGraph.exact`: checked mode).
    The IR holds at most :func:`node_limit` operations (or what the compile it runs in
    allows: :func:`~.ir.compile_limits`)."""
    return run_deep(_elaborate, text, filename, defines, exact)


BYTES_PER_NODE = ir.BYTES_PER_NODE


def node_limit() -> int:
    """How many word operations a program may unroll to: what the memory this process may
    take (:func:`available_memory`) holds at BYTES_PER_NODE each, and at least
    :data:`~.ir.FEW_NODES`."""
    return max(ir.FEW_NODES, available_memory() // BYTES_PER_NODE)


def _elaborate(text, filename, defines, exact=False) -> Elaborated:
    if isinstance(text, (bytes, bytearray)):
        text = decode_text(bytes(text), filename)
    text = normalize_newlines(text)
    program = parse(text, filename)
    name = Path(filename).stem if filename and not filename.startswith("<") else "main"
    checker = Checker(program, Source(text, filename), check_defines(defines), name)
    checker.g.exact = exact
    if ir.active_limits() is None:      # elaborated alone, not as a compile's stage
        checker.g.limit_nodes(node_limit())
    return checker.run()


def check_defines(defines) -> dict[str, str]:
    """``-D`` values from a Python caller (a mapping of names to values), as strings."""
    if defines is not None and not isinstance(defines, Mapping):
        raise InputError(f"defines: a mapping of names to values (such as {{'N': 16}}), not "
                         f"{type(defines).__name__}")
    out = {}
    for k, v in (defines or {}).items():
        if not isinstance(k, str) or not k.isidentifier():
            raise CompileError(f"-D {k}: not a name", "-D", 1, 1, f"{k}={v}")
        out[k] = str(v)
    return out


def compile_source(text: str, filename: str = "<string>",
                   defines: dict[str, str] | None = None, progress=None, *,
                   max_gates: int | None = None, strict: bool = False,
                   checked: bool = False, schedule_next: bool = False) -> Circuit:
    """Compile program text to an optimized Circuit; raises CompileError for a bad program.
    ``progress(phase, gates, seconds)`` hears of long phases. ``max_gates`` bounds the gates
    the program may unroll to (default :func:`gate_budget`). The circuit's ``warnings`` are
    the range analysis's (:class:`~.ranges.RangeWarning`, ``str()`` formats one); ``strict``
    makes the first of them a CompileError. ``checked`` adds the hidden overflow output
    (:mod:`.checked`). ``schedule_next``: the caller schedules the circuit at once (a run),
    and the schedule's compiled kernels load while the lowering's passes run."""
    if isinstance(text, str) and text.startswith("\ufeff"):
        text = text[1:]     # a byte-order mark, as a file's is dropped (read by an editor)
    if not isinstance(text, (str, bytes, bytearray)):
        raise InputError(f"a program's text is a str, not {type(text).__name__}")
    max_gates = _checked_options(defines, progress, max_gates)
    circuit = run_deep(_compile, text, filename, defines, progress, max_gates, strict, checked,
                       schedule_next)
    if circuit.n_gates >= TIDY_GATES:
        # what comes next needs the circuit's content hash: a schedule's cache entry is
        # named by it, a run's handshake compares it, a native file and the compiled-circuit
        # cache keep it. Hashing a large circuit releases the interpreter lock, so it runs
        # on another core while this tidies up and the caller goes on (cached_property:
        # whoever asks meanwhile gets the same value)
        circuit.hash_in_background()
        # the compile's garbage (the collector was paused while it ran) and the heap pages
        # it freed go back before the schedule's large arrays are made
        gc.collect()
        freemem.release()
    return circuit


# how many gates lowering may emit before identical gates are merged: as many as the memory
# left beside the word operations holds at BYTES_PER_EMITTED each (what lowering keeps per
# gate emitted, freed before the schedule's arrays are made). Not a multiple of the gate
# limit: what is emitted is no measure of what remains (a product of which one bit is read
# emits 6,700 times the gates it makes), and a limit given is held exactly, once merged
BYTES_PER_EMITTED = 70

# from this many gates on, a compile tidies up after itself (a few tens of milliseconds)
TIDY_GATES = 1 << 20


# peak bytes per emitted gate while compiling (gate arrays, their growth, the rehash table
# and its output) plus what the Schedule needs afterwards, rounded up
BYTES_PER_GATE = 200


def gate_budget(have: int | None = None) -> int:
    """How many gates a compile may emit: ``$YAOGC_MAX_GATES``, else what the memory this
    process may take (``have`` bytes, else :func:`available_memory`) holds at
    BYTES_PER_GATE each."""
    env = os.environ.get("YAOGC_MAX_GATES", "").strip()
    if env:
        try:
            limit = int(env.replace("_", ""))
        except ValueError:
            limit = 0
        if limit < 1:
            raise InputError(f"YAOGC_MAX_GATES must be a positive whole number of gates, got "
                             f"{env!r}")
        return limit
    return max(1 << 20, (available_memory() if have is None else have) // BYTES_PER_GATE)


def available_memory() -> int:
    """Bytes this process may still take: the least of the machine's available memory, the
    room left under its address-space limit (``ulimit -v``) and under its control group's
    memory limit (a container's)."""
    return memory_headroom()[0]


def memory_setting() -> int | None:
    """``$YAOGC_MAX_MEMORY`` (bytes), None when unset; a value that is not a positive whole
    number is refused, not ignored."""
    env = os.environ.get("YAOGC_MAX_MEMORY", "").strip()
    if not env:
        return None
    if not (env.isascii() and env.isdigit()) or int(env) <= 0:
        shown = env if len(env) <= 40 else env[:37] + "..."
        raise InputError(f"YAOGC_MAX_MEMORY={shown!r}: expected a positive whole number of "
                         f"bytes (such as 8000000000), or leave it unset for the memory this "
                         f"machine has available")
    return int(env)


def memory_headroom() -> tuple[int, str]:
    """(bytes, what bounds them) for :func:`available_memory`: "this machine has available"
    (or ``$YAOGC_MAX_MEMORY`` instead, where set), "this process's address-space limit
    (ulimit -v) leaves" or "this container's memory limit leaves"."""
    setting = memory_setting()
    have = [(_meminfo_available(), "this machine has available") if setting is None else
            (setting, "YAOGC_MAX_MEMORY allows")]
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            have.append((max(0, soft - _status_bytes("VmSize:")),
                         "this process's address-space limit (ulimit -v) leaves"))
    except (ImportError, OSError, ValueError):
        pass
    got = _cgroup_room()
    if got is not None:
        have.append((got, "this container's memory limit leaves"))
    return min(have, key=lambda x: x[0])


def _meminfo_available() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def _status_bytes(field: str) -> int:
    """A size line of /proc/self/status (VmSize: the address space this process holds)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


# where the control groups are read (a test points them at a tree of its own)
CGROUP_SELF, CGROUP_V2, CGROUP_V1 = "/proc/self/cgroup", "/sys/fs/cgroup", "/sys/fs/cgroup/memory"


def _cgroup_room() -> int | None:
    """The room under the tightest memory limit of this process's control group and its
    parents (cgroup v2's memory.max, v1's memory.limit_in_bytes), None without a limit."""
    try:
        with open(CGROUP_SELF) as f:
            entries = [line.rstrip("\n").split(":", 2) for line in f]
    except OSError:
        return None
    best = None
    for entry in entries:
        if len(entry) != 3:
            continue
        _, controllers, path = entry
        if controllers == "":
            root, limit_file, usage_file, cache_key = (CGROUP_V2, "memory.max",
                                                       "memory.current", "inactive_file")
        elif "memory" in controllers.split(","):
            root, limit_file, usage_file, cache_key = (CGROUP_V1, "memory.limit_in_bytes",
                                                       "memory.usage_in_bytes",
                                                       "total_inactive_file")
        else:
            continue
        parts = [x for x in path.split("/") if x]
        for depth in range(len(parts), -1, -1):
            d = os.path.join(root, *parts[:depth])
            try:
                with open(os.path.join(d, limit_file)) as f:
                    limit = f.read().strip()
                if limit == "max" or not limit.isdigit() or int(limit) >= 1 << 60:
                    continue
                with open(os.path.join(d, usage_file)) as f:
                    used = int(f.read().strip())
                # the usage counts file pages the kernel reclaims before it runs out: what
                # is inactive of them is room too (as `docker stats` reckons)
                used -= _stat_value(os.path.join(d, "memory.stat"), cache_key)
            except (OSError, ValueError):
                continue
            room = max(0, int(limit) - used)
            best = room if best is None else min(best, room)
    return best


def _stat_value(path: str, key: str) -> int:
    """One ``key value`` line of a cgroup's memory.stat (0 when absent)."""
    try:
        with open(path) as f:
            for line in f:
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _checked_options(defines, progress, max_gates) -> int | None:
    """The options a compile takes from a Python caller, refused by name where they are of
    the wrong kind (before any work); ``max_gates`` as a number."""
    check_defines(defines)
    if progress is not None and not callable(progress):
        raise InputError(f"progress: a function (phase, gates, seconds), not "
                         f"{type(progress).__name__}")
    return None if max_gates is None else check_max_gates(max_gates)


def check_max_gates(value) -> int:
    """A ``--max-gates`` value: a positive integer (``_`` between digits allowed)."""
    text = str(value).strip().replace("_", "")
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise CompileError(f"--max-gates {value}: expected a positive number of gates",
                           "--max-gates", 1, 1, str(value))
    return int(text)


def range_warnings(e: Elaborated, text: str, filename: str) -> list:
    """The range analysis's warnings (:mod:`.ranges`) of a checked program."""
    # with the operations the program wrote that a fold, a cancellation or a merge dropped
    roots = list(e.roots())
    roots += e.graph.unread_written(roots, replaced=True)
    if isinstance(text, (bytes, bytearray)):
        text = decode_text(bytes(text), filename)
    return analyze(e.graph, roots, Source(normalize_newlines(text), filename))


def strict_error(warnings) -> CompileError:
    """--strict: the first warning, as an error (counting the others)."""
    w = warnings[0]
    more = f" (and {len(warnings) - 1} more warnings)" if len(warnings) > 1 else ""
    return CompileError(f"{w.message}{more} [--strict makes range warnings errors]",
                        w.filename, w.line, w.col, w.source_line)


class _Told:
    """A compile's progress callback, timed from the start of the compile, with a heartbeat:
    a phase that runs long without telling (the parse of a very long source, which makes no
    word nodes to report on) is told again every HEARTBEAT_S seconds, from another thread."""

    def __init__(self, progress):
        self.progress = progress
        self.t0 = time.perf_counter()
        self._lock = threading.Lock()
        self._last = ("elaborating", self.t0)
        self._stop = threading.Event()
        if progress is not None:
            threading.Thread(target=self._beat, name="yaogc-compile-progress",
                             daemon=True).start()

    def tell(self, phase: str, gates: int = 0, _seconds: float = 0.0) -> None:
        if self.progress is not None:
            with self._lock:
                now = time.perf_counter()
                self._last = (phase, now)
                self.progress(phase, gates, now - self.t0)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            with self._lock:
                phase, at = self._last
                now = time.perf_counter()
                if now - at >= HEARTBEAT_S and not self._stop.is_set():
                    self._last = (phase, now)
                    try:
                        self.progress(phase, 0, now - self.t0)
                    except Exception:   # noqa: BLE001  (the compile itself reports it)
                        return

    def stop(self) -> None:
        with self._lock:
            self._stop.set()


# a compile phase that runs this long without telling its progress is told again
HEARTBEAT_S = 10.0


def _compile(text, filename, defines, progress=None, max_gates=None, strict=False,
             checked=False, schedule_next=False) -> Circuit:
    told = _Told(progress)
    try:
        return _compile_told(told, text, filename, defines, max_gates, strict, checked,
                             schedule_next)
    finally:
        told.stop()


def _compile_told(told, text, filename, defines, max_gates, strict, checked,
                  schedule_next) -> Circuit:
    freemem.configure()     # garbling may have raised the mmap threshold in this process
    tell = told.tell
    have, bound = memory_headroom()    # the message names the figure the limit came from
    limit = max_gates if max_gates is not None else gate_budget(have)

    def too_large(size: str, line: int = 1, col: int = 1, src=None,
                  wires: int = 0, emitted: bool = False) -> CompileError:
        """The error for a program of ``size`` ("it unrolls to ...") over the limit (over
        ``wires``, the wire numbering's, where given; ``emitted``: over what lowering may
        hold before merging)."""
        most = wires or limit
        why = (f"the compiler's limit of {most:,} (wires are numbered in 30 bits)" if wires else
               f"what the memory left beside the word operations holds at "
               f"{BYTES_PER_EMITTED} bytes a gate (of the {have / 1e9:.1f} GB {bound})"
               if emitted else
               f"the --max-gates limit of {most:,}" if max_gates is not None else
               f"the YAOGC_MAX_GATES limit of {most:,}" if os.environ.get("YAOGC_MAX_GATES")
               else f"the {most:,} gates that {have / 1e9:.1f} GB holds at {BYTES_PER_GATE} "
                    f"bytes per gate to compile and schedule (what {bound})")
        msg = (f"the program is too large: {size}, more than {why}; make the inputs smaller "
               f"or split the computation")
        if src is not None:   # the statement is in an imported module: name that file
            return src.error(msg, line, col)
        lines = normalize_newlines(text).split("\n")
        return CompileError(msg, filename, line, col,
                            lines[line - 1] if line <= len(lines) else "")
    # the circuit made is held to the limit exactly, once its identical gates are merged;
    # the word operations before it to what the memory holds (a program too large fails
    # while it is elaborated, at the statement that outgrew it), and the gates lowering
    # emits to what the memory holds while they are merged. The gates an operation will
    # lower to cannot be known before: folds, narrowing and constant operands make them
    # hundreds of times fewer than its width says ((x * y) & 1), so no estimate refuses a
    # program. The word graphs report every million nodes made (the stage making them)
    stage = ["elaborating"]
    nodes = node_limit()
    why_nodes = (f"what {bound} ({have / 1e9:.1f} GB) holds" if nodes > ir.FEW_NODES else
                 f"the fewest a compile is allowed, {ir.FEW_NODES:,}")
    with ir.compile_limits(nodes, lambda nodes: tell(stage[0]), why_nodes):
        e = elaborate(text, filename, defines, exact=checked)
        warnings = range_warnings(e, text, filename)
        if strict and warnings:
            raise strict_error(warnings)
        if checked:
            try:
                add_overflow_output(e)
            except ValueError as err:
                # the output's name where the program declares it ('NAME:' in its results)
                lines = normalize_newlines(text).split("\n")
                at = next(((i + 1, m.start() + 1) for i, line in enumerate(lines)
                           for m in [re.search(rf"\b{OVERFLOW_PORT}\s*:", line)] if m),
                          (1, 1))
                raise CompileError(str(err), filename, *at, lines[at[0] - 1]) from None
        tell("checked")
        stage[0] = "optimizing"
        tell("optimizing")     # said as it starts: a large optimization may make no
        #                        million nodes to report on the way
        try:
            e = optimize_words(e, consume=True)     # the elaborated IR is not read again
        except ir.TooLarge as big:      # a pass's rebuilt graph outgrew the limit
            raise CompileError(f"the program unrolls into too many operations once optimized "
                               f"(more than {big.args[0]:,}); use smaller sizes",
                               filename) from None
    tell("optimized")
    # the builder rules (folding, hash-consing) and dead-gate removal run inside lowering,
    # over the whole gate buffer (passes.optimize gave identical gate counts on every
    # example at several times the cost)
    inputs = 2 + sum(t.width for _, _, t in e.inputs)     # the constants and input wires
    raw = max(limit, (have - len(e.graph) * BYTES_PER_NODE) // BYTES_PER_EMITTED)
    try:
        buf = emit(e, tell, max_gates=inputs + raw, soft_limit=inputs + limit)
        del e       # the word IR's memory is free for the passes over the gate buffer
        if schedule_next:   # the passes release the interpreter lock: the kernels load then
            warm_kernels(buf.n_emitted)
        at = buf.passed_at or buf.first_at   # the operation whose gates went past the limit
        circuit = buf.build()
        tell("compiled", circuit.n_gates)
        if circuit.n_gates > limit:
            raise too_large(f"it unrolls to {circuit.n_gates:,} gates",
                            *(() if at is None else (at.line, at.col, getattr(at, "src", None))))
        circuit.warnings = warnings
        return circuit
    except TooLarge as big:
        at = big.at
        where = () if at is None else (at.line, at.col, getattr(at, "src", None))
        if big.limit < inputs + raw:        # the wire numbering's own limit
            raise too_large(f"it unrolls to more than {big.limit:,} gates", *where,
                            wires=big.limit) from None
        raise too_large(f"it emits more than {raw:,} gates before identical ones are merged",
                        *where, emitted=True) from None


def compile_file(path: str | Path, defines: dict[str, str] | None = None,
                 progress=None, *, strict: bool = False) -> Circuit:
    text, filename = read_source(path)
    return compile_source(text, filename, defines, progress, strict=strict)


def compile_cached(path: str | Path, defines: dict[str, str] | None = None, *,
                   use_cache: bool = True, progress=None,
                   max_gates: int | None = None, strict: bool = False,
                   checked: bool = False, schedule_next: bool = False) -> tuple[Circuit, dict]:
    """``compile_file`` through the compiled-circuit cache (:mod:`.cache`): the circuit, and
    ``{"compile_s": seconds, "cached": bool, "warnings": [RangeWarning, ...]}`` (the
    warnings are kept with the cached circuit; ``strict`` makes the first an error), with
    ``"waited": True`` when another process was compiling the same program and this one
    read its circuit when it was done (:class:`~yaogc.circuits.diskcache.EntryLock`).
    ``schedule_next``: the caller schedules the circuit at once (a run), and a large
    circuit's entry is written once that is done, not while it is built (the two on the same
    cores made the schedule a third slower); at the latest
    :data:`~yaogc.circuits.diskcache.DEFER_MAX_S` later. Other callers (a data owner, a
    compile) write it at once: a second process may be waiting for it."""
    t0 = time.perf_counter()
    if not isinstance(path, (str, os.PathLike)) or isinstance(path, bytes):
        raise InputError(f"path: a program file's path (str or Path), not "
                         f"{type(path).__name__}")
    p = Path(path)
    raw = read_program(p)
    return _compile_cached(raw, str(p), defines, t0, use_cache=use_cache, progress=progress,
                           max_gates=max_gates, strict=strict, checked=checked,
                           schedule_next=schedule_next)


def compile_text_cached(text: str, defines: dict[str, str] | None = None, *,
                        filename: str = "<program>", **kw) -> tuple[Circuit, dict]:
    """:func:`compile_cached` of program text (its modules looked for in the working
    directory, then ``YAOGC_PATH`` and the library): the cache is keyed by the text as it is
    by a file's bytes; ``filename`` names it in messages."""
    if not isinstance(text, str):
        raise InputError(f"a program's text is a str, not {type(text).__name__}")
    if not isinstance(filename, str):
        raise InputError(f"filename: a str naming the program in messages, not "
                         f"{type(filename).__name__}")
    return _compile_cached(text.encode("utf-8", "surrogatepass"), filename, defines,
                           time.perf_counter(), **kw)


def _compile_cached(raw: bytes, name: str, defines, t0: float, *, use_cache: bool = True,
                    progress=None, max_gates: int | None = None, strict: bool = False,
                    checked: bool = False, schedule_next: bool = False):
    max_gates = _checked_options(defines, progress, max_gates)
    if use_cache:
        cachesize.limit()      # a $YAOGC_CACHE_MAX that is no size is said now, not ignored
    p = Path(name)
    # the imported modules' bytes are part of the program
    mode = {"!checked": "1"} if checked else {}     # not a name: no -D can clash with it
    key = cache_key(raw + imports_digest(raw.decode("utf-8", "replace"), str(p)), str(p),
                    {**check_defines(defines), **mode}) if use_cache else None
    lock = None
    if key is not None:
        got = _from_cache(key, max_gates, strict, t0, str(p))
        if got is not None:
            return got
        # the same program may be compiling in another process right now (the other party
        # of a run on this machine): wait for it and read its circuit rather than compile
        # it a second time on the same cores
        lock = cache_lock(key)
        if lock.acquire(LOCK_WAIT_S, _waiting_report(progress, t0)):
            try:
                got = _from_cache(key, max_gates, strict, t0, str(p))
            except BaseException:       # --strict and a cached warning
                lock.release()
                raise
            if got is not None:
                lock.release()
                got[1]["waited"] = True     # compiled by the process it waited for
                return got
    try:
        circuit = compile_source(decode_text(raw, str(p)), str(p), defines, progress,
                                 max_gates=max_gates, strict=strict, checked=checked,
                                 schedule_next=schedule_next)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    if key is not None:
        # the warnings first: a waiting process reads both once the lock is released,
        # which is when the circuit's entry is on disk
        kept = _program_named(circuit.warnings, str(p), _PROGRAM)
        store_warnings(key, kept)
        cache_store(key, circuit, then=lock.release, warnings=kept, defer=schedule_next)
    return circuit, {"compile_s": time.perf_counter() - t0, "cached": False,
                     "warnings": circuit.warnings}


# how long a compile waits for another process compiling the same program before compiling
# it too (a program of tens of millions of gates compiles in about a minute)
LOCK_WAIT_S = 600.0


# the program's own file in the warnings kept with a cached circuit: the key names the file
# only by its base name, so the same text compiled as another path (a copy in another
# folder, or the same file named relative and absolute) reads the same entry, and its
# warnings must name the file given this time, not the one compiled first
_PROGRAM = "\0program"


def _program_named(warnings, old: str, new: str) -> list:
    return [dataclasses.replace(w, filename=new) if w.filename == old else w
            for w in warnings or []]


def _from_cache(key: str, max_gates, strict: bool, t0: float, path: str):
    """(circuit, info) from the cache entry of ``key`` (the program compiled as ``path``), or
    None."""
    got = cache_load(key)
    if got is None:
        return None
    got, warned = got
    warnings = load_warnings(key, warned)
    # over the limit a compile would stop at (the memory this process may take may be less
    # than when it was kept): compiled again, to stop with the message that names the size
    if warnings is None or got.n_gates > (max_gates if max_gates is not None else
                                          gate_budget()):
        return None
    warnings = _program_named(warnings, _PROGRAM, path)
    if strict and warnings:
        raise strict_error(warnings)
    got.warnings = warnings
    return got, {"compile_s": time.perf_counter() - t0, "cached": True, "warnings": warnings}


def _waiting_report(progress, t0: float):
    """The lock's ``on_wait``: a progress line naming the process that compiles."""
    if progress is None:
        return None

    def report(pid, _waited) -> None:
        who = f"process {pid}" if pid else "another process"
        progress(f"waiting for {who}, which compiles the same program", 0,
                 time.perf_counter() - t0)
    return report


def parse_defines(items) -> dict[str, str]:
    """``["N=1000", "T=0.5"]`` -> ``{"N": "1000", "T": "0.5"}``; a malformed item is an error."""
    out: dict[str, str] = {}
    for item in items or ():
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name.isidentifier() or not value.strip():
            raise CompileError(f"-D {item}: expected NAME=VALUE", "-D", 1, 1, item)
        if name in out and out[name] != value.strip():
            raise CompileError(f"-D {item}: {name} is already given as {out[name]}", "-D", 1,
                               1, item)
        out[name] = value.strip()
    return out
