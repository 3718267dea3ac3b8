"""Compiled loops for the passes that must look at every gate once: numba when it is
installed and the work is large, else the very same functions run as plain Python.

A pass over millions of gates in a Python loop costs seconds; the same loop compiled runs at
tens of millions of gates per second. But importing numba and loading compiled kernels from
its cache costs about half a second per process, more than a small program takes to compile
in Python. So a kernel starts out as its plain function; :func:`compiled` switches all
kernels of some modules to their numba versions, and the Python wrappers call it only when
the arrays are large (:data:`SMALL`). Kernels are written in the subset numba compiles
(numpy arrays and scalars only), so both versions are one code. ``YAOGC_NO_JIT=1`` forces
plain Python (the fallback where numba is missing; the tests compare both).

A kernel never assigns an array variable anew inside its loop (a buffer grown, two swapped):
numba then counts references to that array at every use, with atomic instructions, which
was more than half the time of the Schedule's forms pass. Buffers come from the caller, and
a kernel that may outgrow one stops and is called again once the caller has grown it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

ENABLED = not os.environ.get("YAOGC_NO_JIT") and importlib.util.find_spec("numba") is not None

# below this many gates a pass runs as plain Python: faster than loading numba
SMALL = 100_000
# ... unless it is part of work that loads numba anyway (:func:`part_of`): then from this
# many, where the compiled kernel's own first call (loading its machine code, about 0.02 s)
# costs less than the pass as Python
FEW = 4_000


class _Kernel:
    """A function numba can compile; called directly it runs as plain Python."""

    def __init__(self, fn, inline: bool = False):
        functools.update_wrapper(self, fn)
        self.py_func = fn
        self.inline = inline
        self._compiled = None

    def __call__(self, *args):
        return self.py_func(*args)

    def dispatcher(self):
        if self._compiled is None:
            numba = load_numba()
            opts = {"inline": "always"} if self.inline else {}
            self._compiled = numba.njit(cache=True, nogil=True, **opts)(self.py_func)
        return self._compiled


class _Intrinsic(_Kernel):
    """A primitive that kernels call: compiled, what ``make`` builds once numba is loaded
    (machine code inlined into the caller); as plain Python, ``fn``."""

    def __init__(self, fn, make):
        super().__init__(fn)
        self._make = make

    def dispatcher(self):
        if self._compiled is None:
            self._compiled = self._make()
        return self._compiled


def _prefetch_py(arr, i):
    """Ask the processor to bring the cache line holding ``arr[i]`` in: a hint, with no
    effect on results; ``i`` need not be a valid index (a prefetch never faults). Compiled,
    one ``prefetcht0`` instruction; as plain Python, nothing."""


def _native_py():
    """Whether this code runs compiled: False as plain Python, a constant True compiled (the
    branch it guards is then free). For work that only pays compiled, such as
    :data:`prefetch` calls, which as Python would cost a call each for nothing."""
    return False


def _make_native():
    load_numba()
    from llvmlite import ir
    from numba.core import types
    from numba.extending import intrinsic

    @intrinsic
    def native(typingctx):
        def codegen(context, builder, signature, args):
            return ir.Constant(ir.IntType(1), 1)
        return types.boolean(), codegen
    return native


native = _Intrinsic(_native_py, _make_native)


def _make_prefetch():
    load_numba()
    from llvmlite import binding, ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    # the intrinsic's name carries its pointer type: opaque ("p0") from LLVM 15 on
    name = "llvm.prefetch.p0" if binding.llvm_version_info >= (15,) else "llvm.prefetch.p0i8"

    @intrinsic
    def prefetch(typingctx, arr, i):
        def codegen(context, builder, signature, args):
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]],
                                           wraparound=False)
            i8p = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                name)
            # a read, kept in every cache level, of data
            builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0),
                              ir.Constant(i32, 3), ir.Constant(i32, 1)])
            return context.get_dummy_value()
        return types.void(arr, i), codegen
    return prefetch


prefetch = _Intrinsic(_prefetch_py, _make_prefetch)


def load_numba():
    """``import numba``, with its registries of array functions loaded at once.

    numba's array registry (``numba.np.arraymath``) probes for BLAS on import by importing
    ``scipy.linalg``, which costs about 0.2-0.7 s where SciPy is installed (scikit-learn
    brings it) and which no yaogc kernel needs (none calls ``np.dot`` or ``np.linalg``).
    Unless SciPy's linalg is loaded already, the probe is answered "no BLAS" for this
    process: numba code compiled later in the same process cannot use ``np.dot``/``np.linalg``
    (a typing error), which is the price of that start-up time."""
    import numba
    _without("scipy.linalg.cython_blas", "numba.np.arraymath", "scipy.linalg")
    _without("cffi", "numba.core.typing.cffi_utils")
    return numba


def _without(blocked: str, module: str, *unless: str) -> None:
    """Import numba's ``module`` as if ``blocked`` were not installed (its import raises
    ImportError), unless the module is loaded already or so is ``blocked`` or one of
    ``unless``. For the optional supports numba probes for and yaogc's kernels never use:
    BLAS (above) and cffi, whose parser numba's typing registry imports at the first call
    of any compiled function (0.03 s) just to type cffi functions."""
    if module in sys.modules or blocked in sys.modules or any(m in sys.modules for m in unless):
        return
    sys.modules[blocked] = None
    try:
        importlib.import_module(module)
    finally:
        if sys.modules.get(blocked, 0) is None:
            del sys.modules[blocked]


def kernel(fn=None, *, inline: bool = False):
    """Mark a function as a kernel; ``inline=True`` for small helpers called in hot loops
    (numba then inlines them into their callers)."""
    if fn is None:
        return lambda f: _Kernel(f, inline)
    return _Kernel(fn, inline)


def compiled(*modules: str) -> bool:
    """Replace every kernel named in the given modules (names as in ``sys.modules``) by its
    compiled version, so that kernels calling kernels are compiled together (the modules
    that kernels are imported from are switched too); False (and nothing changes) where
    numba is unavailable or disabled."""
    global ENABLED
    if not ENABLED:
        return False
    if _loading:
        for name in modules:
            t = _loading.get(name)
            if t is not None and t is not threading.current_thread():
                t.join()
    try:
        with _import_lock:      # one thread imports numba's registries (see load_numba)
            load_numba()
    except (ImportError, OSError, MemoryError):
        # numba installed but not loadable here (its LLVM library does not fit in a small
        # address-space limit, ulimit -v): the kernels run as plain Python, as without it
        ENABLED = False
        return False
    todo, seen, switched = list(modules), set(), {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        ns = sys.modules[name].__dict__
        for k, v in list(ns.items()):
            if isinstance(v, _Intrinsic):
                ns[k] = v.dispatcher()      # no machine code of its own to keep
            elif isinstance(v, _Kernel):
                ns[k] = switched[name] = v.dispatcher()
            if isinstance(v, _Kernel):
                # a kernel imported from another module calls that module's kernels
                _deps.setdefault(name, set()).add(v.py_func.__module__)
        todo.extend(_deps.get(name, ()))
    # once every module reached is known: a stamp covers all a module calls, however deep
    # (the kernels load their machine code at their first call, after this)
    for name, dispatcher in switched.items():
        _drop_stale_cache(name, dispatcher)
    return True


def load_in_background(module: str, first_call) -> None:
    """Start switching ``module``'s kernels to compiled and loading their machine code
    (``first_call()`` calls them once, on tiny arrays of the types the work will pass) on
    another thread, for a caller that has other work first which releases the interpreter
    lock (reading a large cached circuit): importing numba and loading a kernel cost about
    0.4 s of a fresh process. :func:`compiled` of the module waits for it."""
    if not ENABLED or module in _loading:
        return

    def work():
        try:
            if compiled(module):
                first_call()
        except Exception:       # noqa: BLE001  (only a head start: the caller loads them)
            pass
    t = threading.Thread(target=work, name="yaogc-load-kernels", daemon=True)
    _loading[module] = t
    t.start()


# module -> the thread loading its kernels (load_in_background)
_loading: dict[str, threading.Thread] = {}
_import_lock = threading.Lock()


def is_compiled(fn) -> bool:
    """Whether ``fn`` (a kernel as its module now holds it) runs compiled."""
    return not isinstance(fn, _Kernel)


# per module: the modules whose kernels its kernels call (found when it is first switched)
_deps: dict[str, set] = {}


def _drop_stale_cache(name: str, dispatcher) -> None:
    """Remove numba's cached machine code of module ``name`` where a module its kernels
    call (and inline) has changed since it was compiled. numba checks only the stamp of the
    kernel's own source file, so code cached before an edit of the kernels it inlines would
    otherwise load as it was. The sources of the module and of everything it calls are
    hashed into a stamp kept beside the cache; a different stamp drops the entries."""
    closure, todo = set(), [name]
    while todo:
        m = todo.pop()
        if m not in closure:
            closure.add(m)
            todo.extend(_deps.get(m, ()))
    if closure == {name}:
        return      # numba's own stamp covers a module that calls no other
    try:
        h = hashlib.sha256()
        for m in sorted(closure):
            h.update(m.encode() + b"\0" + Path(sys.modules[m].__file__).read_bytes())
        where = Path(dispatcher._cache._cache_path)
        base = Path(sys.modules[name].__file__).stem
        stamp = where / f"{base}.yaogc-deps"
        if stamp.is_file() and stamp.read_text() == h.hexdigest():
            return
        for f in list(where.glob(f"{base}.*.nbi")) + list(where.glob(f"{base}.*.nbc")):
            f.unlink(missing_ok=True)
        where.mkdir(parents=True, exist_ok=True)
        stamp.write_text(h.hexdigest())
    except (OSError, AttributeError, KeyError, TypeError):
        pass        # no cache to check (none kept, or kept where it cannot be read)


_done: dict[tuple, int] = {}
_local = threading.local()


@contextmanager
def part_of(total: int):
    """Work on this thread meanwhile is part of a job of about ``total`` (a lowering that
    will emit that many gates): when that is large, numba is loaded for it anyway, and
    :func:`use_compiled` runs smaller work compiled too (a compile's bit heap of 60,000
    gates took 0.65 s as Python)."""
    saved = getattr(_local, "large", False)
    _local.large = saved or total >= SMALL
    try:
        yield
    finally:
        _local.large = saved


def use_compiled(n: int, *modules: str) -> bool:
    """Whether work of size ``n`` should run compiled (switching the modules if so): when it
    is large, when the work these modules did in this process adds up to large (many small
    calls, such as the templates of a sorting network, cost as much as one big one), or when
    it is not small and part of a large job (:func:`part_of`)."""
    total = _done.get(modules, 0) + n
    _done[modules] = total
    if total < SMALL and (n < FEW or not getattr(_local, "large", False)):
        return False
    return compiled(*modules)
