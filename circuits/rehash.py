"""Constant folding and hash-consing of a whole gate array in one compiled pass.

The arrays are in *builder space*: wire 0 is the constant 0, wire 1 the constant 1, input
bits have op ``INPUT`` and gates read only lower wires. :func:`rehash` re-emits every gate in
order with exactly the rules of :class:`~yaogc.circuits.builder.Builder` (folding ``x ^ 0``,
``x ^ 1``, ``x & 0``, ``x & 1``, ``x ^ x``, ``x & x``, ``x & ~x``, ``~~x``; with ``push_not``
also ``~a ^ b`` -> ``~(a ^ b)``) and a hash table instead of a dict, so running the Builder
gate by gate and running this pass over the gates it would have emitted give the same
netlist. Identical gates are merged wherever they come from, which is what lets the compiler
emit word operations as independent gate templates and deduplicate afterwards.
"""

from __future__ import annotations

import threading

import numpy as np

from .circuit import Op
from . import freemem, jit
from .jit import kernel

INPUT = 255
MAX_WIRES = 1 << 30
_XOR, _AND, _NOT, _C0, _C1 = int(Op.XOR), int(Op.AND), int(Op.NOT), int(Op.CONST0), int(Op.CONST1)


@kernel(inline=True)
def _slot(key, mask):
    """Table row of a packed gate: splitmix64's finalizer, so that every key bit reaches
    the low bits the index is taken from."""
    h = np.uint64(key)
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    h = h ^ (h >> np.uint64(31))
    return np.int64(h & np.uint64(mask))


@kernel(inline=True)
def _emit(o, x, y, nop, na, nb, table, n):
    """The wire of gate (o, x, y): an existing one, or new wire ``n``. A table row is
    (packed gate, wire), so a probe touches one cache line; wires stay below 2^30. An
    empty row has wire 0, the constant, which no gate is."""
    mask = table.shape[0] - 1
    key = (np.int64(x) << 32) | (np.int64(y + 1) << 2) | o
    i = _slot(key, mask)
    while True:
        w = table[i, 1]
        if w == 0:
            table[i, 0] = key
            table[i, 1] = n
            nop[n] = o
            na[n] = x
            nb[n] = y
            return n
        if table[i, 0] == key:
            return w
        i = (i + 1) & mask


@kernel(inline=True)
def _not(x, nop, na, nb, table, n):
    if x <= 1:
        return 1 - x
    if nop[x] == 2:
        return na[x]
    return _emit(2, x, -1, nop, na, nb, table, n)


@kernel(inline=True)
def bnot(x, nop, na, nb, table, n):
    """Builder.not_: (wire, next free wire)."""
    r = _not(x, nop, na, nb, table, n)
    return r, (n + 1 if r == n else n)


@kernel(inline=True)
def bxor(x, y, push_not, nop, na, nb, table, n):
    """Builder.xor: (wire, next free wire)."""
    if x <= 1:
        if x == 1:
            return bnot(y, nop, na, nb, table, n)
        return y, n
    if y <= 1:
        if y == 1:
            return bnot(x, nop, na, nb, table, n)
        return x, n
    inv = 0
    if not push_not:
        if x == y:
            return 0, n
        if (nop[x] == 2 and na[x] == y) or (nop[y] == 2 and na[y] == x):
            return 1, n
    else:
        if nop[x] == 2:
            x = na[x]
            inv = 1
        if nop[y] == 2:
            y = na[y]
            inv ^= 1
        if x == y:
            return inv, n
    if x > y:
        x, y = y, x
    r = _emit(0, x, y, nop, na, nb, table, n)
    if r == n:
        n += 1
    if inv:
        return bnot(r, nop, na, nb, table, n)
    return r, n


@kernel(inline=True)
def band(x, y, nop, na, nb, table, n):
    """Builder.and_: (wire, next free wire)."""
    if x <= 1:
        return (y if x == 1 else 0), n
    if y <= 1:
        return (x if y == 1 else 0), n
    if x == y:
        return x, n
    if (nop[x] == 2 and na[x] == y) or (nop[y] == 2 and na[y] == x):
        return 0, n
    if x > y:
        x, y = y, x
    r = _emit(1, x, y, nop, na, nb, table, n)
    return r, (n + 1 if r == n else n)


@kernel
def _rehash(op, a, b, start, end, push_not, nop, na, nb, m, table):
    """Fill nop/na/nb and m (old wire -> new wire) for old wires start..end-1 in a *sparse*
    numbering: the gates made for old wire w get ids 2 + 2w and 3 + 2w (an XOR and the NOT
    pushed outside it), ids 0 and 1 are the constants, unused ids keep op 254. The id of a
    new gate therefore never waits for the hash probe of the gate before it, so the probes'
    cache misses overlap; :meth:`Rehasher.finish` closes the gaps afterwards. The ids do not
    depend on where ranges start, so the wires may come a range at a time."""
    if start == 0:
        nop[0] = 3
        nop[1] = 4
        na[0] = -1
        na[1] = -1
        nb[0] = -1
        nb[1] = -1
    for w in range(start, end):
        o = op[w]
        n = 2 + 2 * w
        if o == 3:
            m[w] = 0
        elif o == 4:
            m[w] = 1
        elif o == 255:
            nop[n] = 255
            na[n] = -1
            nb[n] = -1
            m[w] = n
        elif o == 2:
            m[w], n = bnot(m[a[w]], nop, na, nb, table, n)
        elif o == 0:
            m[w], n = bxor(m[a[w]], m[b[w]], push_not, nop, na, nb, table, n)
        else:
            m[w], n = band(m[a[w]], m[b[w]], nop, na, nb, table, n)


def new_table(n: int, entries: int | None = None, rows: int | None = None) -> np.ndarray:
    """An empty gate hash table for wire ids below ``n`` and up to ``entries`` gates
    (default ``n``), or of at least ``rows`` rows (a power of two either way). Zeroed memory
    from the system: a page costs only when a probe first touches it, and a bit heap's table
    is sized for its worst case, many times the gates it makes (hospital_stats N=5000 spent
    0.9 s filling two such tables)."""
    if n + 2 >= MAX_WIRES:
        raise ValueError(f"{n} wires: the gate hash table packs wire numbers into 30 bits")
    if rows is None:
        entries = n if entries is None else entries
        rows = 3 * entries // 2 + 3
    return np.zeros((_table_rows(rows), 2), dtype=np.int64)


def _table_rows(rows: int) -> int:
    """The rows of a table of at least ``rows``: a power of two, at least 16."""
    return 1 << max(4, (rows - 1).bit_length())


def _rows_for(gates: int) -> int:
    """Rows of a Rehasher's table for up to ``gates`` gates: at most four fifths full (the
    bit heaps' tables hold up to 0.7 of theirs). A table's probes touch every page of it,
    so its size is what it costs at the peak of a compile."""
    return (5 * gates + 3) // 4


@kernel
def retable(old, new):
    """Every gate of hash table ``old`` put in the larger, empty table ``new``."""
    mask = new.shape[0] - 1
    for r in range(old.shape[0]):
        w = old[r, 1]
        if w != 0:
            key = old[r, 0]
            i = _slot(key, mask)
            while new[i, 1] != 0:
                i = (i + 1) & mask
            new[i, 0] = key
            new[i, 1] = w


class Rehasher:
    """:func:`rehash` of a gate array that grows while it runs.

    A lowering emits gates for seconds, in order, each reading only older wires; the gates
    emitted so far can be folded and hash-consed meanwhile. :meth:`feed` tells a worker
    thread how far the array is written; the worker takes the wires not yet done a range at
    a time, and its compiled pass releases the interpreter lock, so it runs on a second core
    while the lowering goes on (only when the first gates come early: see :meth:`feed`).
    :meth:`finish` waits for it and does the rest. The result is :func:`rehash`'s of the
    whole array, whatever the ranges were: a wire's new id depends only on its own index."""

    # the worker starts once this many wires are written, and takes at most MOST at a time
    # (so that little is left when the lowering ends)
    LEAST = 1 << 18
    MOST = 1 << 20
    IDLE = 1.0      # seconds a worker waits for more before it ends (feed starts another)
    # the fewest expected wires for which a worker streams: streaming costs the worker more
    # than one pass does (a table that grows and is copied, its pages faulted on the worker's
    # own core, both cores sharing the memory), which only a long lowering makes up for
    # (measured, lowering and rehash: sort of 1,024 values, 5.4M expected, 1.3-1.6 s in one
    # pass against 2.6-2.9 s streamed; hospital_stats N=5000, 170M expected, 9.4-11.0 s
    # streamed from its first gates against 9.9-11.8 s starting a second later and 13.0-14.5 s
    # in one pass)
    STREAM_FROM = 1 << 24
    # the table is never more than HARD full (probes lengthen as it fills); a range shorter
    # than LEAST_RANGE wires has it doubled
    HARD = 0.9
    LEAST_RANGE = 1 << 14

    def __init__(self, push_not: bool = True, expect: int = 0):
        """``expect``: about how many wires will come (0: unknown, and no worker). An
        overestimate costs address space but no memory; an underestimate, growing the
        arrays as they fill."""
        self.push_not = bool(push_not)
        self.expect = int(expect)
        self.done = 0                 # old wires 0..done-1 are done (the worker's, while it runs)
        self.cap = 0
        self.gates = 0                # gates made so far: entries of the table
        self.nop = self.na = self.nb = self.m = self.table = None
        self._fed = 0
        self._written = None          # (op, a, b, n): arrays written below n
        self._final = False
        self._cond = threading.Condition()
        self._worker = None
        self._running = False         # a worker is running, or about to (under _cond)
        self._threads = True
        self._streamed = False        # a worker was started
        self._populating = None
        self._error = None

    def _grow(self, start: int, end: int) -> None:
        """Room for old wires start..end-1 (in the worker, or with none running): the id
        arrays double, and their pages cost only when written. The table grows with the
        gates it holds, for one gate per old wire to come (at first, while streaming, for a
        quarter of the expected wires: the lowering's estimate is high), so its random
        probes stay within as few pages as they need; a range of wires runs only as far as
        :meth:`_room` allows. (Sized for half the wires, a table that grew as it filled
        saved histogram N=5000 33 MB but took psi_size N=300's rehash from 0.85 s to 1.15 s:
        most lowerings make a gate of 0.96-0.99 of their wires.)"""
        # sized for the expected wires only while streaming: one pass sizes exactly
        expect = self.expect if self._streamed else 0
        if end > self.cap or self.nop is None:
            cap = max(end, 2 * self.cap, expect)
            used = 2 * start + 2 if self.cap else 0     # the ids of the wires done
            # the work arrays hold wire numbers below 2^30 (new_table checks): 32 bits each
            arrays = (np.empty(2 * cap + 2, dtype=np.uint8), np.empty(2 * cap + 2, dtype=np.int32),
                      np.empty(2 * cap + 2, dtype=np.int32))
            m = np.empty(cap, dtype=np.int32)
            if used:
                for new, old in zip(arrays, (self.nop, self.na, self.nb)):
                    new[:used] = old[:used]
                m[:start] = self.m[:start]
            self.nop, self.na, self.nb = arrays
            self.m, self.cap = m, cap
        want = self.gates + end - start
        rows = 0 if self.table is None else self.table.shape[0]
        least = min(end - start, self.LEAST_RANGE)
        if rows and _rows_for(want) <= rows and self._room() >= least:
            return
        rows = _table_rows(max(_rows_for(max(want, 2 * self.gates, expect // 4)), 2 * rows))
        while (int(rows * self.HARD) - self.gates) // 2 < least:
            rows *= 2
        table = new_table(2 * self.cap + 2, rows=rows)
        if self.table is not None:
            retable(self.table, table)
        self.table = table
        if not self._streamed and self.done == 0:
            # one pass over arrays of the exact size, which it writes whole: their pages
            # are faulted in on another core as it goes
            self._populating = freemem.populate(self.na, self.nb, self.m, table)

    def _room(self) -> int:
        """How many more old wires the table takes before it is HARD full, at two gates a
        wire (an XOR and the NOT pushed outside it: a chain of XORs on a negated word makes
        two for each of its wires). A full table would make a probe search forever."""
        return (int(self.table.shape[0] * self.HARD) - self.gates) // 2

    def _run(self, op, a, b, start: int, end: int) -> None:
        while True:     # once at least: the first range writes the constants' ids
            self._grow(start, end)
            stop = min(end, start + self._room())
            self.nop[2 * start + 2:2 * stop + 2] = 254    # unused ids, until a gate takes them
            with np.errstate(over="ignore"):   # the hash wraps mod 2^64 by design
                _rehash(op, a, b, start, stop, self.push_not, self.nop, self.na, self.nb,
                        self.m, self.table)
            # the gates the table holds: its size for the wires to come (counted a slice at
            # a time: a mask of the whole range was megabytes at the compile's peak)
            for i in range(2 * start + 2, 2 * stop + 2, 1 << 20):
                part = self.nop[i:min(i + (1 << 20), 2 * stop + 2)]
                self.gates += int(np.count_nonzero(part < 254))
            self.done = start = stop
            if stop >= end:
                return

    def _work(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._final and self._written[3] == self.done:
                        # idle a while: the lowering is busy, or gone (a compile that
                        # failed), and then the thread must not keep the arrays alive
                        if not self._cond.wait(self.IDLE) and self._written[3] == self.done:
                            self._running = False
                            return
                    op, a, b, n = self._written
                    if n == self.done:
                        self._running = False
                        return
                self._run(op, a, b, self.done, min(n, self.done + self.MOST))
        except BaseException as e:     # re-raised by finish, in the caller's thread
            self._error = e
            self._running = False

    def feed(self, op: np.ndarray, a: np.ndarray, b: np.ndarray, n: int) -> None:
        """Old wires below ``n`` are written (uint8 op, int64 a and b; arrays that are not
        written below ``n`` again)."""
        if n - self._fed < self.LEAST or not self._threads or self._error is not None:
            return
        if self._worker is None and (8 * n > self.expect or self.expect < self.STREAM_FROM
                                     or not jit.compiled(__name__)):
            # the first gates came late (the lowering makes most of its gates at once, and
            # then nothing is left to overlap with: one pass at the end, with a table of the
            # exact size, is the faster), too few are expected, or as plain Python the pass
            # holds the lock
            self._threads = False
            return
        self._fed = n
        with self._cond:
            self._written = (op, a, b, n)
            self._cond.notify()
            if self._running:
                return
            self._running = True
        if self._worker is not None:
            self._worker.join()
        self._streamed = True
        self._worker = threading.Thread(target=self._work, name="yaogc-rehash", daemon=True)
        self._worker.start()

    def finish(self, op: np.ndarray, a: np.ndarray, b: np.ndarray):
        """:func:`rehash`'s result for the whole of ``op``/``a``/``b``, whose first wires
        are those fed."""
        if self._worker is not None:
            with self._cond:
                self._final = True
                self._cond.notify()
            self._worker.join()
            self._worker = None
            if self._error is not None:
                raise self._error
        n = int(op.size)
        op = np.ascontiguousarray(op, dtype=np.uint8)
        a, b = wire_array(a), wire_array(b)
        fast = jit.use_compiled(n, __name__)
        self._run(op, a, b, self.done, n)
        if self._populating is not None:
            self._populating.wait()
        nop, na, nb, m = self.nop[:2 * n + 2], self.na[:2 * n + 2], self.nb[:2 * n + 2], self.m[:n]
        self.nop = self.na = self.nb = self.m = self.table = None
        if fast:   # one compiled pass; as Python, the array form below is the faster
            dense = np.empty(nop.size, dtype=np.int32)
            k = _close_gaps(nop, na, nb, dense)
            # 32-bit wires, as the passes after take them: widening would copy each array
            return nop[:k].copy(), na[:k], nb[:k], dense[m]
        nop, na, nb, dense = keep_wires(np.flatnonzero(nop != 254), nop, na.astype(np.int64),
                                        nb.astype(np.int64))
        return nop, na, nb, dense[m]


def rehash(op: np.ndarray, a: np.ndarray, b: np.ndarray, push_not: bool = True):
    """(op, a, b, m) after folding and hash-consing: new builder-space arrays, and the new
    wire of every old wire (integer arrays of 32 or 64 bits). Inputs keep their order."""
    return Rehasher(push_not).finish(op, a, b)


@kernel
def _close_gaps(nop, na, nb, new):
    """:func:`keep_wires` of the used ids (op != 254) in place, in one pass: operands are
    lower ids, so each is renumbered before it is read. Returns the number kept."""
    k = 0
    for i in range(nop.size):
        if nop[i] == 254:
            new[i] = -1
            continue
        new[i] = k
        nop[k] = nop[i]
        x = na[i]
        na[k] = new[x] if x >= 0 else -1
        y = nb[i]
        nb[k] = new[y] if y >= 0 else -1
        k += 1
    return k


def keep_wires(kept: np.ndarray, op: np.ndarray, a: np.ndarray, b: np.ndarray):
    """The wires ``kept`` (ascending, closed under operands) renumbered 0, 1, ...: their
    (op, a, b) and the new number of every old wire (-1 for the others)."""
    new = np.full(op.size, -1, dtype=np.int64)
    new[kept] = np.arange(kept.size)
    a, b = a[kept], b[kept]
    a = np.where(a >= 0, new[np.maximum(a, 0)], -1)
    b = np.where(b >= 0, new[np.maximum(b, 0)], -1)
    return op[kept], a, b, new


@kernel
def _live(op, a, b, live):
    for w in range(op.size - 1, -1, -1):
        if live[w]:
            o = op[w]
            if o == 0 or o == 1:
                live[a[w]] = True
                live[b[w]] = True
            elif o == 2:
                live[a[w]] = True


def wire_array(x: np.ndarray) -> np.ndarray:
    """``x`` as a contiguous array of 32- or 64-bit wire numbers, copied only if it is not
    one already (the kernels are compiled for both)."""
    x = np.asarray(x)
    if x.dtype in (np.int32, np.int64) and x.flags.c_contiguous:
        return x
    return np.ascontiguousarray(x, dtype=np.int64)


def live_mask(op: np.ndarray, a: np.ndarray, b: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """Per wire: whether some root depends on it."""
    live = np.zeros(op.size, dtype=np.bool_)
    live[np.asarray(roots, dtype=np.int64)] = True
    jit.use_compiled(op.size, __name__)
    _live(np.ascontiguousarray(op, dtype=np.uint8), wire_array(a), wire_array(b), live)
    return live


@kernel
def _and_levels(op, a, b, n_in, lev):
    for k in range(op.size):
        w = n_in + k
        o = op[k]
        if o == 0 or o == 1:
            la = lev[a[k]]
            lb = lev[b[k]]
            lev[w] = (la if la > lb else lb) + (1 if o == 1 else 0)
        elif o == 2:
            lev[w] = lev[a[k]]
        else:
            lev[w] = 0


def and_levels(op: np.ndarray, a: np.ndarray, b: np.ndarray, n_in: int) -> np.ndarray:
    """AND-depth of every wire of a Circuit's gate arrays (inputs 0)."""
    lev = np.zeros(n_in + op.size, dtype=np.int64)
    jit.use_compiled(op.size, __name__)
    _and_levels(np.ascontiguousarray(op, dtype=np.uint8), np.ascontiguousarray(a, dtype=np.int64),
                np.ascontiguousarray(b, dtype=np.int64), int(n_in), lev)
    return lev


@kernel
def number_gates(op, keep, new, n_in):
    """Number the kept gates n_in, n_in + 1, ... in array order (into ``new``); how many."""
    k = 0
    for w in range(op.size):
        if op[w] <= 2 and keep[w]:
            new[w] = n_in + k
            k += 1
    return k


@kernel
def number_by_level(op, a, b, keep, lev, new, n_in):
    """Number the kept gates of builder-space arrays by AND-depth (constants and inputs at
    depth 0), from ``n_in``, in array order within a depth, so that every gate still reads
    only lower numbers (into ``new``; ``lev`` is scratch); how many. One kernel: the depths,
    a counting sort's counts and the numbering."""
    top = 0
    for w in range(op.size):
        o = op[w]
        if o <= 2 and keep[w]:
            x = lev[a[w]]
            if o != 2:
                y = lev[b[w]]
                if y > x:
                    x = y
                if o == 1:
                    x += 1
            lev[w] = x
            if x > top:
                top = x
        else:
            lev[w] = 0
    at = np.zeros(top + 2, dtype=np.int64)
    for w in range(op.size):
        if op[w] <= 2 and keep[w]:
            at[lev[w] + 1] += 1
    at[0] = n_in
    for level in range(1, top + 2):
        at[level] += at[level - 1]
    k = 0
    for w in range(op.size):
        if op[w] <= 2 and keep[w]:
            level = lev[w]
            new[w] = at[level]
            at[level] += 1
            k += 1
    return k


@kernel
def write_gates(op, a, b, keep, new, first, g_op, g_a, g_b):
    """The kept gates with their operands renumbered by ``new``, each at its own number
    (less ``first``, the first gate's)."""
    for w in range(op.size):
        o = op[w]
        if o <= 2 and keep[w]:
            k = new[w] - first
            g_op[k] = o
            x = a[w]
            g_a[k] = new[x] if x >= 0 else -1
            if o != 2:
                y = b[w]
                g_b[k] = new[y] if y >= 0 else -1
