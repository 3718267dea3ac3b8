"""Compiled loops for the passes that must look at every gate once: numba when it imports,
else the same functions as plain Python (correct, much slower; tests run both).

A pass over millions of gates in a Python loop costs seconds; the same loop compiled runs at
tens of millions of gates per second. Kernels are written in the subset numba compiles
(numpy arrays and scalars only) so that the fallback is the very same code. Set
``YAOGC_NO_JIT=1`` to force the fallback.
"""

from __future__ import annotations

import os

try:
    if os.environ.get("YAOGC_NO_JIT"):
        raise ImportError("disabled by YAOGC_NO_JIT")
    import numba as _numba
except ImportError:      # pragma: no cover - exercised by the fallback tests in a subprocess
    _numba = None

ENABLED = _numba is not None


def kernel(fn):
    """``numba.njit(cache=True)`` when numba is available, else ``fn`` itself. The plain
    function stays reachable as ``.py_func`` either way."""
    if _numba is None:
        fn.py_func = fn
        return fn
    return _numba.njit(cache=True, nogil=True)(fn)
