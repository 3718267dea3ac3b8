"""Freed heap memory goes back to the system between the phases of a large compile."""

import sys

import pytest

from yaogc.circuits import freemem


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, glibc's malloc_trim")
def test_release_returns_freed_heap_pages():
    if freemem._trim is None:
        pytest.skip("not glibc")
    # 100,000 blocks of 2 KB: above Python's small-object allocator, below the mmap
    # threshold, so they live in the C heap; one block allocated after them pins its top
    blocks = [bytearray(2048) for _ in range(100_000)]
    pin = bytearray(2048)
    before = _rss_mb()
    del blocks
    held = _rss_mb()
    assert freemem.release() is True
    after = _rss_mb()
    assert held - after > 100, (before, held, after)
    del pin


_BLOCKS = """
import sys
if sys.argv[1] == "1":
    from yaogc.circuits import freemem
    assert freemem.configure()
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
first = bytearray(20 << 20)
del first
second = bytearray(20 << 20)       # bytearray() writes every byte: resident
pin = bytearray(4096)              # allocated after it
held = rss()
del second
print(held - rss())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, glibc's mallopt")
def test_large_blocks_are_returned_when_freed():
    """With the mmap threshold fixed, a 20 MB block freed after another of its size was
    freed is unmapped at once; by default glibc raises the threshold to 20 MB when the first
    is freed, serves the second from the heap and keeps it resident behind a later
    allocation. Each run in a fresh process, whose heap holds nothing else."""
    if freemem._mallopt is None:
        pytest.skip("not glibc")
    import subprocess
    fixed = float(subprocess.run([sys.executable, "-c", _BLOCKS, "1"], capture_output=True,
                                 text=True, timeout=60, check=True).stdout)
    assert fixed > 15


def test_garbling_raises_the_threshold_and_building_lowers_it(monkeypatch):
    """The engine maps only blocks above GARBLE_MMAP_THRESHOLD (it reuses a layer's blocks);
    a compile and a schedule go back to MMAP_THRESHOLD (their freed arrays unmapped)."""
    import numpy as np
    from yaogc.circuits import Builder, uint
    from yaogc.circuits.schedule import schedule
    from yaogc.compiler import compile_source
    from yaogc.gc import Garbler
    calls = []
    monkeypatch.setattr(freemem, "_mallopt", lambda p, v: calls.append((p, v)) or 1)
    b = Builder("t")
    x = b.input("a", "x", uint(2))
    b.output("a", "y", uint(1), [b.and_(x[0], x[1])])
    c = b.build()
    Garbler(schedule(c), 1)
    assert calls[-1] == (freemem._M_MMAP_THRESHOLD, freemem.GARBLE_MMAP_THRESHOLD)
    compile_source("party a, b\ndef main(x: u8 @a) -> (y: u8 @b):\n    return x\n")
    assert calls[-1] == (freemem._M_MMAP_THRESHOLD, freemem.MMAP_THRESHOLD)
    Garbler(schedule(c, 1, False), 1)
    schedule(c, 2, False)
    assert calls[-1] == (freemem._M_MMAP_THRESHOLD, freemem.MMAP_THRESHOLD)
    assert np.all([v > 0 for _, v in calls])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, Linux's madvise")
def test_populate_faults_pages_in_and_keeps_what_the_owner_writes():
    """populate() makes a fresh array's pages resident on another thread, while the owner
    writes into it: nothing written is lost, the rest stays zero."""
    import numpy as np
    if freemem._madvise is None:
        pytest.skip("not glibc")
    import mmap
    n = 48 << 20                          # bytes: above POPULATE_FROM
    # fresh pages, whatever malloc's state (a raised mmap threshold may serve np.zeros
    # from heap memory that earlier tests left resident)
    region = mmap.mmap(-1, n)
    a = np.frombuffer(region, dtype=np.int64)
    before = _rss_mb()
    job = freemem.populate(a)
    a[::5000] = np.arange(a[::5000].size) + 1     # the owner writes meanwhile
    job.wait()
    if freemem._madvise is None:
        pytest.skip("a kernel before 5.14 (no MADV_POPULATE_WRITE)")
    assert _rss_mb() - before > 0.9 * n / 2**20
    assert np.array_equal(a[::5000], np.arange(a[::5000].size) + 1)
    a[::5000] = 0
    assert not a.any()
    del a
    region.close()


def test_populate_leaves_small_arrays_alone():
    import numpy as np
    job = freemem.populate(np.zeros(1000), np.zeros((freemem.POPULATE_FROM - 8192) // 8))
    assert job._thread is None
    job.wait()
