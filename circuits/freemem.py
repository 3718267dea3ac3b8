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

A fresh mapping costs again when first written: the kernel zeroes every page as the program
first touches it (measured here: 1.3 s a GB, a quarter of a large schedule's time).
:func:`populate` has another core take those faults ahead of the writes, for an array that
is allocated before the work that fills it has its inputs ready.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading

MMAP_THRESHOLD = 4 << 20
# garbling and evaluating allocate and free the same large blocks (a layer's tables, tens of
# MB on a wide layer) over and over: mapped fresh each time they page-fault anew (measured on
# hospital_stats N=5000: 2.4 s at 4 MB, 1.65 s at 64 MB, as with glibc's own threshold); the
# engine sets this one while it runs
GARBLE_MMAP_THRESHOLD = 64 << 20
_M_MMAP_THRESHOLD = -3          # mallopt's parameter number in glibc's malloc.h

_MADV_POPULATE_WRITE = 23      # Linux 5.14 and later: fault the range in, writable
POPULATE_FROM = 16 << 20        # smaller arrays fault in faster than a thread starts
_POPULATE_STEP = 4 << 20

_trim = _mallopt = _madvise = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        _madvise = _libc.madvise
        _madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        _madvise.restype = ctypes.c_int
        _trim = _libc.malloc_trim
        _trim.argtypes = [ctypes.c_size_t]
        _trim.restype = ctypes.c_int
        _mallopt = _libc.mallopt
        _mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        _mallopt.restype = ctypes.c_int
    except (OSError, AttributeError):     # not glibc (musl has neither)
        _trim = _mallopt = _madvise = None


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


class Populating:
    """The pages of some arrays being faulted in on another thread; :meth:`wait` for it."""

    def __init__(self, arrays):
        self._thread = None
        ranges = []
        for a in arrays:
            if not a.flags.c_contiguous:    # its bytes are not one range
                continue
            start = (a.ctypes.data + 4095) & ~4095     # whole pages inside the array
            end = (a.ctypes.data + a.nbytes) & ~4095
            if end - start >= POPULATE_FROM:
                ranges.append((start, end - start))
        if ranges and _madvise is not None:
            # the arrays ride along: they must outlive the thread's madvise calls
            self._thread = threading.Thread(target=_populate, args=(ranges, list(arrays)),
                                            name="yaogc-populate", daemon=True)
            self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _populate(ranges, arrays) -> None:
    global _madvise
    for start, length in ranges:
        # the call releases the interpreter lock (ctypes); a page already written is left as
        # it is, so the owner may write the array meanwhile. A call holds the process's
        # memory map (read) while it runs, and the owner's next allocation waits for it:
        # a few megabytes a call
        for at in range(start, start + length, _POPULATE_STEP):
            step = min(_POPULATE_STEP, start + length - at)
            if _madvise is None:
                return
            if _madvise(at, step, _MADV_POPULATE_WRITE) != 0 and ctypes.get_errno() == 22:
                _madvise = None     # EINVAL: a kernel before 5.14, which has no such advice


def populate(*arrays) -> Populating:
    """Start faulting in the pages of freshly allocated ``arrays`` on another thread (Linux
    5.14 and later; elsewhere nothing). Their contents do not change: a zeroed array stays
    zero, and pages the caller writes meanwhile keep what it wrote."""
    return Populating(arrays)


configure()
