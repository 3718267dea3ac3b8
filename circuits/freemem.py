"""Freed heap memory back to the operating system between the phases of a large compile.

glibc serves an allocation from its heap below a threshold and from a fresh mapping above
it, and by default raises the threshold to the size of every mapped block freed (up to
32 MB). A compile and a schedule allocate and free arrays of every size up to hundreds of
megabytes, so the threshold soon sits at 32 MB and arrays below it pile up in the heap,
where freed ones stay resident: measured on the dot product of 1,000 u32 terms, the
schedule's peak was 240 MB higher than with the threshold fixed. :func:`configure` (run when
this module is imported) fixes it at :data:`MMAP_THRESHOLD`: larger arrays are mapped and
unmapped, and their memory is back the moment they are freed; the time was the same.

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

MMAP_THRESHOLD = 4 << 20
# garbling and evaluating allocate and free the same large blocks (a layer's tables, tens of
# MB on a wide layer) over and over: mapped fresh each time they page-fault anew (measured on
# hospital_stats N=5000: 2.4 s at 4 MB, 1.65 s at 64 MB, as with glibc's own threshold); the
# engine sets this one while it runs
GARBLE_MMAP_THRESHOLD = 64 << 20
_M_MMAP_THRESHOLD = -3          # mallopt's parameter number in glibc's malloc.h

_trim = _mallopt = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _trim = _libc.malloc_trim
        _trim.argtypes = [ctypes.c_size_t]
        _trim.restype = ctypes.c_int
        _mallopt = _libc.mallopt
        _mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        _mallopt.restype = ctypes.c_int
    except (OSError, AttributeError):     # not glibc (musl has neither)
        _trim = _mallopt = None


def configure(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` (MMAP_THRESHOLD for building circuits and
    schedules, GARBLE_MMAP_THRESHOLD for garbling); whether that was done."""
    return _mallopt is not None and _mallopt(_M_MMAP_THRESHOLD, int(threshold)) == 1


def release() -> bool:
    """Return the heap's free memory to the system; whether that could be asked."""
    if _trim is None:
        return False
    _trim(0)
    return True


configure()
