"""Room for deeply nested programs: run a compiler stage on a thread with a large stack.

The parser's tree transformer and the checker recurse once per nesting level, and a chain
``a + b + c + ...`` nests once per term, so a generated program of a few hundred terms would
exceed Python's default recursion limit (1000) on the main thread's 8 MB stack. Stages run
here instead, with a 512 MB stack (address space only; pages are touched as used) and a
recursion limit to match; past that a program still gets the checker's "nested too deeply".

The recursion limit is the interpreter's, for every thread: while a stage runs, another
thread of a library user's process that recurses deeply through C code (a ``key=`` function
of ``sorted`` calling itself) may exhaust its own smaller stack before the limit stops it.

In a process that is one ``yaogc`` command (:data:`FREEZE_SURVIVORS`), the cyclic garbage
collector is paused while a stage runs: a large program's IR is millions of small
long-lived objects (operand tuples, hash-consing keys) that the collector would otherwise
walk again and again as they pile up (measured: 10-30% of elaboration), and a stage makes
almost no cyclic garbage. Elsewhere it is left running: other threads of the process may
make garbage meanwhile (a service thread of the process held 347 MB after 2.5 s of a compile), so
it keeps collecting; but after each of its collections of the older generations, what survived
is moved out of its sight until the stage ends (``gc.freeze``, then ``gc.unfreeze``): the IR
is not walked again and again, and another thread's garbage is still collected as it dies
young (what survives such a collection and dies later waits for the stage to end). Measured
on histogram N=5000 in a library process: 12-15 s to compile with the collector as it was,
8-10 s this way, as with it paused. A process that has frozen objects of its own is left as
it was (unfreezing would release them too); objects another thread freezes while a stage
runs are released with the stage's at its end.

When the stages end, the objects made meanwhile that are still alive (numba's types and the
compiled kernels it loaded, tens of thousands of each, the circuit's ports) are all young,
and the collector's next passes walk them: 0.10-0.15 s after a large compile. A process that
is one ``yaogc`` command owns everything in it and ends soon after, so it sets
:data:`FREEZE_SURVIVORS` and they are moved out of the collector's sight (``gc.freeze``);
elsewhere (a library user's process) this is not done, since objects in reference cycles
that are frozen are never freed.
"""

from __future__ import annotations

import gc
import sys
import threading
from typing import Any, Callable

STACK_BYTES = 512 << 20
RECURSION_LIMIT = 20_000

_local = threading.local()
_lock = threading.Lock()
_active = 0
_saved_limit = 0
# set by a process that is one command of the yaogc command line (see above)
FREEZE_SURVIVORS = False


_gc_was_enabled = False
_freezing = False


def _freeze_survivors(phase: str, info: dict) -> None:
    """A gc callback while a stage runs in a library process (see above)."""
    if phase == "stop" and info.get("generation", 0) >= 1:
        gc.freeze()


def _raise_limit() -> None:
    global _active, _saved_limit, _gc_was_enabled, _freezing
    with _lock:
        if _active == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit, RECURSION_LIMIT))
            _gc_was_enabled = gc.isenabled()
            if FREEZE_SURVIVORS:    # the process is the command: nothing else runs in it
                gc.disable()
            elif _gc_was_enabled and gc.get_freeze_count() == 0:
                _freezing = True
                gc.callbacks.append(_freeze_survivors)
        _active += 1


def _restore_limit() -> None:
    global _active, _freezing
    with _lock:
        _active -= 1
        if _active == 0:
            sys.setrecursionlimit(_saved_limit)
            if _freezing:
                _freezing = False
                if _freeze_survivors in gc.callbacks:
                    gc.callbacks.remove(_freeze_survivors)
                gc.unfreeze()
            if FREEZE_SURVIVORS:
                gc.freeze()
            if _gc_was_enabled:
                gc.enable()


def run_deep(fn: Callable[..., Any], *args, **kwargs) -> Any:
    """``fn(*args, **kwargs)`` on a large-stack thread (or directly when already on one);
    its result is returned and its exception re-raised here."""
    if getattr(_local, "deep", False):
        return fn(*args, **kwargs)
    box: dict[str, Any] = {}

    def body() -> None:
        _local.deep = True
        try:
            box["result"] = fn(*args, **kwargs)
        except BaseException as e:  # handed to the caller's thread unchanged
            box["error"] = e

    with _lock:
        old = threading.stack_size()
        threading.stack_size(STACK_BYTES)
        try:
            worker = threading.Thread(target=body, name="yaogc-compile", daemon=True)
        finally:
            threading.stack_size(old)
    _raise_limit()
    try:
        try:
            worker.start()
        except RuntimeError:
            # no room for such a stack (strict overcommit): compile with the default one
            _restore_limit()
            _local.deep = True
            try:
                return fn(*args, **kwargs)
            finally:
                _local.deep = False
                _raise_limit()
        worker.join()
    finally:
        _restore_limit()
    if "error" in box:
        raise box["error"]
    return box["result"]


__all__ = ["run_deep"]
