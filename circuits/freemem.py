"""Freed heap memory back to the operating system between the phases of a large compile.

The word IR, the lowering's per-node arrays and the template matrices are many allocations
below glibc's mmap threshold, so when a phase frees them the memory stays in the process's
heap, fragmented, and still counts in its resident size. The next phase's large arrays are
mapped fresh beside it, so the peak is the sum of both. ``malloc_trim(0)`` returns the free
pages of the heap to the system (a few milliseconds), and the peak becomes the larger of the
two. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_trim = None
if sys.platform.startswith("linux"):
    try:
        _trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        _trim.argtypes = [ctypes.c_size_t]
        _trim.restype = ctypes.c_int
    except (OSError, AttributeError):     # not glibc (musl has no malloc_trim)
        _trim = None


def release() -> bool:
    """Return the heap's free memory to the system; whether that could be asked."""
    if _trim is None:
        return False
    _trim(0)
    return True
