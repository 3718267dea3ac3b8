"""The Schedule pass: a Circuit's AND gates grouped by AND-depth, every operand a linear form.

Garbling costs a fixed overhead per numpy call, so the engine wants few, wide steps. A
Schedule has one step per AND layer, each AND operand given as the XOR of a few *basis* wires
(inputs, AND outputs, and materialized XOR wires) plus a public constant bit; NOT is free (it
flips the constant). An XOR wire whose linear form grows past ``bound`` basis terms becomes a
basis wire of its own, computed by an XOR step between AND layers, so the Schedule stays linear
in the circuit's size; small bounds (2-4) measured best.

Basis wires live in *slots* of the engine's label store. Slot 0 is always zero (the padding
term), slot 1 is the constant-one term (the garbler keeps R there, the evaluator zero), slots
``2 .. 2+n_inputs-1`` are the input wires. Every other basis wire gets a slot when it is
computed and gives it back after its last reader, so the store is bounded by the live wires;
the outputs of one step occupy contiguous slots, so writing them is a slice, not a scatter.
Operands are padded to a fixed arity per step with the zero slot.

Layers and the order of gates within a layer depend only on the circuit (wire-level constant
folding and AND-depth), never on the parameters (``bound``, ``cap``, ``flat``, ``expand``), so
all schedules of a circuit garble interchangeably: the same AND gate gets the same position
(and so the same tweaks) in each. Schedules are cached per circuit (weakly: a schedule does
not keep its circuit alive).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import numpy as np

from . import diskcache, freemem, jit, schedstore
from . import schedforms as K
from .circuit import Circuit, Op, OutputPort
from .errors import InputError
from .types import BOOL
from .schedstore import use_disk_cache  # noqa: F401  (the command line's switch)

ZERO_SLOT = 0
ONE_SLOT = 1
# the steps' slot indices: slots stay below 2**31, and 4-byte indices halve the schedule's
# largest array (filling it, keeping it, writing and reading it from the cache); the numpy
# engine's plans hold them as intp, which numpy's gathers take without converting
IDX = np.int32
FIRST_INPUT_SLOT = 2
DEFAULT_BOUND = 3
# a level's XOR wires expand into each other's definitions up to this many terms: enough for
# every reference circuit to take one XOR step per level (the widest needs 241 terms), and a
# bound, so a long XOR chain within a level (the top column of a 40,000-bit count) costs
# linear, not quadratic, time and memory
DEFAULT_EXPAND = 256


@dataclass(frozen=True, eq=False)
class XorStep:
    """Basis wires ``start .. start+count-1`` = XOR over rows of the slots in ``idx``."""
    start: int
    idx: np.ndarray           # (arity, count) slot indices (IDX)
    count: int = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "count", int(self.idx.shape[1]))


@dataclass(frozen=True, eq=False)
class AndStep:
    """One AND layer: gate i computes (XOR of idx[:, 0, i]) & (XOR of idx[:, 1, i]) into slot
    ``start + i``. ``offset`` is the number of AND gates of all earlier layers; ``wires`` the
    circuit wire each gate computes (ascending)."""
    start: int
    idx: np.ndarray           # (arity, 2, n) slot indices (IDX)
    offset: int
    level: int
    wires: np.ndarray
    count: int = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "count", int(self.idx.shape[2]))


@dataclass(eq=False)
class Schedule:
    """Steps in execution order, the output forms and the store size. Build with
    :func:`schedule`; the engine in :mod:`yaogc.gc` runs it."""
    name: str
    n_inputs: int
    bound: int
    flat: bool
    steps: list
    out_idx: np.ndarray       # (arity, n_outputs) slot indices
    n_slots: int
    n_and: int
    _plans: dict = field(default_factory=dict, repr=False)

    @property
    def n_outputs(self) -> int:
        return int(self.out_idx.shape[1])

    @property
    def and_steps(self) -> list[AndStep]:
        return [s for s in self.steps if isinstance(s, AndStep)]

    @property
    def widths(self) -> list[int]:
        """AND gates per layer, in layer order."""
        return [s.count for s in self.and_steps]

    def stats(self) -> dict:
        xs = [s for s in self.steps if isinstance(s, XorStep)]
        w = self.widths
        return {
            "circuit": self.name,
            "bound": self.bound,
            "flat": self.flat,
            "and": self.n_and,
            "and_layers": len(w),
            "widths": w,
            "max_width": max(w, default=0),
            "xor_steps": len(xs),
            "materialized": sum(s.count for s in xs),
            "slots": self.n_slots,
            "and_terms": int(sum(np.count_nonzero(s.idx) for s in self.and_steps)),
            "and_padded_terms": int(sum(s.idx.size for s in self.and_steps)),
            "xor_terms": int(sum(np.count_nonzero(s.idx) for s in xs)),
            "xor_padded_terms": int(sum(s.idx.size for s in xs)),
        }

    def plan(self, chunk: int) -> list[list[tuple]]:
        """Per step (and last, the outputs), its chunks of at most ``chunk`` gates (or XOR
        wires), built once per chunk size: ``(first, count, idx, arity)`` with ``idx`` the
        flattened contiguous ``(arity, count)`` (XOR steps) or ``(arity, 2, count)`` (AND
        steps) slot indices."""
        chunk = max(1, int(chunk))
        got = self._plans.get(chunk)
        if got is None:
            got = [_chunks(s.idx, chunk) for s in self.steps]
            got.append(_chunks(self.out_idx, chunk))
            self._plans[chunk] = got
        return got

    def cached(self, key, make):
        """A value derived from this schedule, computed once (the engine keeps tables here)."""
        got = self._plans.get(key)
        if got is None:
            got = self._plans[key] = make()
        return got


def _chunks(idx: np.ndarray, chunk: int) -> list[tuple]:
    n = idx.shape[-1]
    out = []
    for a in range(0, n, chunk):
        c = min(chunk, n - a)
        flat = np.ascontiguousarray(idx[..., a:a + c], dtype=np.intp).reshape(-1)
        flat.flags.writeable = False
        out.append((a, c, flat, int(idx.shape[0])))
    return out


_CACHE: "weakref.WeakKeyDictionary[Circuit, dict[int, Schedule]]" = weakref.WeakKeyDictionary()


def schedule(circuit: Circuit, bound: int = DEFAULT_BOUND, flat: bool = True,
             cap: int | None = None, expand: int | None = None) -> Schedule:
    """The Schedule of ``circuit`` (cached per circuit and parameters).

    An XOR wire read by several gates becomes a basis wire when its form has more than
    ``bound`` terms; one read once is inlined into its reader up to ``cap`` terms (default
    ``4 * bound``). ``flat`` computes the materialized wires of a level in as few XOR steps as
    possible by expanding the ones they read from the same level, as long as a form stays
    within ``expand`` terms (default ``DEFAULT_EXPAND``); otherwise they are
    computed in chains of steps with the shortest forms.
    """
    key = _params(bound, flat, cap, expand)
    per = _CACHE.setdefault(circuit, {})
    got = per.get(key)
    if got is None:
        _layout_while_hashing(circuit, key, per)
        disk = schedstore.entry_name(circuit, key) if schedstore.enabled() else None
        got = schedstore.load(disk) if disk else None
        lay = per.pop(("layout",) + key, None)     # done with, however the schedule comes
        if got is None:
            if lay is None:
                lay = _layout(circuit, *key, per)
            counts = _layout_stats(lay) if disk else None   # the schedule's, counted
            got = _finish(lay)
            del lay         # its arrays are free before the schedule is written
            if disk:
                schedstore.store(disk, got, circuit.n_gates)
                schedstore.store_counts(disk, counts)
        per[key] = got
    # the compiled circuit's cache entry waited for this (compile_cached): its write no
    # longer shares the cores with the schedule
    diskcache.start_deferred()
    return got


def warm_kernels(n_gates: int) -> None:
    """Start loading the Schedule's compiled kernels on another thread, for a caller that
    will schedule a circuit of about ``n_gates`` gates once compiled work which releases the
    interpreter lock has run (a large compile's passes over its gate buffer). Loading them
    from numba's cache is about 0.1 s of Python-level work that a first schedule would
    otherwise begin with (and the code digest of its cache entry's name, 0.02 s); here it
    overlaps the compiled work. Nothing where the schedule would run as plain Python (a
    small circuit, or no numba); the schedule waits for the loading to finish before it
    starts."""
    global _warming
    if _warming is not None or 5 * n_gates < jit.SMALL or not jit.ENABLED:
        return
    # a daemon, as the hashing thread: an interrupted compile exits at once, not after the
    # kernels are loaded (or, the first time after installation, compiled)
    _warming = threading.Thread(target=_warm, name="yaogc-warm-schedule", daemon=True)
    _warming.start()


_warming: threading.Thread | None = None


def _warm() -> None:
    try:
        _warm_up()
        # and the code digest that names the schedule's cache entry (reading and hashing
        # this package's sources, 0.02 s), which the schedule asks for before it starts
        diskcache.code_digest("yaogc.circuits")
    except Exception:       # noqa: BLE001  (only a head start: the schedule loads them itself)
        pass


def _warm_up() -> Schedule | None:
    """The compiled kernels switched on and run once: the schedule of a circuit of an XOR,
    an AND, a NOT, an XOR of both and an AND reading it, on arrays of the types a compiled
    circuit has (numba loads a kernel's machine code for the types of its first call)."""
    if not jit.compiled("yaogc.circuits.schedforms"):
        return None
    tiny = Circuit(4, [Op.XOR, Op.AND, Op.NOT, Op.XOR, Op.AND], [0, 2, 5, 6, 7],
                   [1, 4, 0, 3, 5], [], [OutputPort(("p",), "o", BOOL, np.array([8]))],
                   name="warm")
    return _finish(_layout(tiny, *_params(), {}))


def _wait_warm() -> None:
    t = _warming
    if t is not None and t is not threading.current_thread():
        t.join()


def _params(bound=DEFAULT_BOUND, flat=True, cap=None, expand=None) -> tuple:
    """The cache key of a schedule's parameters, checked, defaults filled in."""
    if not isinstance(bound, int) or bound < 1:
        raise InputError(f"schedule bound must be a positive integer, got {bound!r}")
    cap = 4 * bound if cap is None else cap
    if not isinstance(cap, int) or cap < bound:
        raise InputError(f"schedule cap must be an integer >= bound ({bound}), got {cap!r}")
    expand = DEFAULT_EXPAND if expand is None else expand
    if not isinstance(expand, int) or expand < 1:
        raise InputError(f"schedule expansion limit must be a positive integer, got {expand!r}")
    return bound, bool(flat), cap, expand


# the counts of Schedule.stats() that layout_stats gives
SIZE_KEYS = ("and", "xor_steps", "and_terms", "and_padded_terms", "xor_terms",
             "xor_padded_terms")


def layout_stats(circuit: Circuit, bound: int = DEFAULT_BOUND, flat: bool = True,
                 cap: int | None = None, expand: int | None = None) -> dict:
    """The counts ``SIZE_KEYS`` of ``schedule(circuit, ...).stats()``, at about half the cost
    of building it where it is not cached: from the steps' layout (the forms, and which step
    computes each gate), without assigning slots or filling index arrays. That is what
    choosing among schedules and engines needs. The layout is kept, so that :func:`schedule`
    with the same parameters finishes it instead of starting over, until
    :func:`forget_layouts`."""
    key = _params(bound, flat, cap, expand)
    per = _CACHE.setdefault(circuit, {})
    got = per.get(key)
    if got is not None:
        st = got.cached("size_stats", got.stats)
        return {k: st[k] for k in SIZE_KEYS}
    _layout_while_hashing(circuit, key, per)
    disk = schedstore.entry_name(circuit, key) if schedstore.enabled() else None
    if disk:
        st = schedstore.load_counts(disk)
        if st is not None:
            return st
        if schedstore.has(disk):       # its counts lost (damaged or deleted): kept again
            st = {k: v for k, v in schedule(circuit, *key).stats().items() if k in SIZE_KEYS}
            schedstore.store_counts(disk, st)
            return st
    lay = per.get(("layout",) + key)
    if lay is None:
        lay = per[("layout",) + key] = _layout(circuit, *key, per)
    st = _layout_stats(lay)
    if disk:    # a later run choosing again reads these, whichever schedule it then builds
        schedstore.store_counts(disk, st)
    return dict(st)


def _layout_while_hashing(circuit: Circuit, key: tuple, per: dict) -> None:
    """Lay the circuit out now (kept as :func:`layout_stats` keeps a layout) when the name
    of its cache entry waits for its content hash, which another thread is computing (a
    circuit just compiled: :meth:`~.circuit.Circuit.hash_in_background`). Both release the
    interpreter lock, so the layout runs on one core while the hash ends on the other
    (hospital_stats N=5000 waited 0.6 s for its hash). Were the schedule on disk after all
    (a circuit compiled again without the compiled-circuit cache), the layout is dropped
    unused."""
    lk = ("layout",) + key
    if schedstore.enabled() and lk not in per and circuit.hash_pending:
        per[lk] = _layout(circuit, *key, per)


def schedule_ready(circuit: Circuit, bound: int = DEFAULT_BOUND, flat: bool = True,
                   cap: int | None = None, expand: int | None = None) -> bool:
    """Whether :func:`schedule` with these parameters has its result at hand: built in this
    process, or kept on disk by an earlier one (then only read and verified)."""
    key = _params(bound, flat, cap, expand)
    if key in _CACHE.get(circuit, {}):
        return True
    return schedstore.enabled() and schedstore.has(schedstore.entry_name(circuit, key))


def layout_ready(circuit: Circuit, bound: int = DEFAULT_BOUND, flat: bool = True,
                 cap: int | None = None, expand: int | None = None) -> bool:
    """Whether :func:`layout_stats` left the layout of these parameters in this process:
    :func:`schedule` then only finishes it (assigns slots, fills the index arrays)."""
    return ("layout",) + _params(bound, flat, cap, expand) in _CACHE.get(circuit, {})


def forget_layouts(circuit: Circuit, keep: dict | None = None) -> None:
    """Drop the layouts :func:`layout_stats` kept for ``circuit`` (their memory is about that
    of a schedule), except the one of the parameters ``keep``."""
    per = _CACHE.get(circuit)
    if not per:
        return
    mine = ("layout",) + _params(**keep) if keep is not None else None
    for k in [k for k in per if isinstance(k, tuple) and k[:1] == ("layout",) and k != mine]:
        del per[k]


def cached_schedules(circuit: Circuit) -> dict:
    """The Schedules computed so far for ``circuit``, by parameters: to send along with the
    circuit to another process, which takes them with :func:`adopt_schedules`."""
    return {k: v for k, v in _CACHE.get(circuit, {}).items() if isinstance(v, Schedule)}


def adopt_schedules(circuit: Circuit, schedules: dict) -> None:
    """Take Schedules of ``circuit`` made elsewhere (from :func:`cached_schedules` of the
    same circuit), so this process does not compute them again."""
    _CACHE.setdefault(circuit, {}).update(schedules)


class _Layout:
    """A schedule before its slots are assigned and its index arrays filled: every wire's
    linear form, the materialized definitions and which step computes each AND gate and each
    materialized wire. Enough to count its steps and terms (:func:`layout_stats`)."""

    def __init__(self, **parts):
        self.__dict__.update(parts)
        self.stats: dict | None = None
        self.sizes: tuple | None = None     # per step: rows and real terms


def _layout(circuit: Circuit, bound: int, flat: bool, cap: int, expand: int,
            shared: dict) -> _Layout:
    _wait_warm()
    n_in = circuit.n_inputs
    n_w = circuit.n_wires
    op = np.ascontiguousarray(circuit.op, dtype=np.uint8)
    in0 = np.ascontiguousarray(circuit.in0, dtype=np.int64)
    in1 = np.ascontiguousarray(circuit.in1, dtype=np.int64)
    outs = np.concatenate([o.wires for o in circuit.outputs]).astype(np.int64) \
        if circuit.outputs else np.zeros(0, dtype=np.int64)
    freemem.configure()     # large arrays mapped, and unmapped when freed (garbling may
    # have raised the threshold in this process)
    # this pass does more per gate than the others: compiled pays off from fewer gates
    jit.use_compiled(5 * n_w, "yaogc.circuits.schedforms")
    if "live" not in shared:     # the same for every schedule of the circuit
        live = np.zeros(n_w, dtype=np.bool_)
        fan = np.zeros(n_w, dtype=np.uint8)     # readers, counted up to 2
        K.fanout_and_live(op, in0, in1, n_in, outs, live, fan)
        shared["live"], shared["fanout"] = live, fan
    live, fan = shared["live"], shared["fanout"]

    # per wire: its linear form, wire-level constant, AND-depth; materialized definitions
    # offsets into the term buffers (fbuf, mbuf): 4 bytes while both stay within OFFSET_32
    # terms (half the memory traffic of the pass's most-read arrays), 8 once one outgrows it
    fbuf, mbuf = _forms_buffers(n_in, n_w, cap)
    off = np.int32 if max(fbuf.size, mbuf.size) <= OFFSET_32 else np.int64
    fstart = np.zeros(n_w, dtype=off)
    flen = np.zeros(n_w, dtype=np.int32)
    fc = np.zeros(n_w, dtype=np.uint8)
    const = np.full(n_w, -1, dtype=np.int8)
    level = np.zeros(n_w, dtype=np.int32)
    blevel = np.zeros(n_w, dtype=np.int32)
    mat_start = np.zeros(n_w, dtype=off)
    mat_len = np.full(n_w, -1, dtype=np.int32)
    ands = np.empty(n_w, dtype=np.int32)
    need = np.zeros(n_w, dtype=np.bool_)     # materialized wires some form reads
    # forms are appended to one buffer, definitions to another; when one might not do for
    # the next gate, the pass stops and it grows here
    # the pass writes these for every live wire: their pages are faulted in on another core
    # as it goes (not the arrays it writes for some wires only, nor the term buffers, sized
    # for the worst case: pages never written would then cost memory)
    populating = freemem.populate(fstart, flen, level)
    fbuf[:n_in] = np.arange(n_in, dtype=np.int32)
    fstart[:n_in] = np.arange(n_in)
    flen[:n_in] = 1
    state = np.array([0, n_in, 0, 0], dtype=np.int64)
    while not K.forms(op, in0, in1, n_in, live, fan, bound, cap, flat, expand, fbuf, fstart,
                      flen, fc, const, level, blevel, mat_start, mat_len, mbuf, ands, need,
                      state):
        margin = K.forms_margin(cap, expand)
        if state[1] + margin > fbuf.size:
            fbuf = _grown(fbuf, state[1] + margin)
        if state[2] + margin > mbuf.size:
            mbuf = _grown(mbuf, state[2] + margin)
        if max(fbuf.size, mbuf.size) > OFFSET_32 and fstart.dtype != np.int64:
            populating.wait()
            fstart, mat_start = fstart.astype(np.int64), mat_start.astype(np.int64)
    mused, n_and = int(state[2]), int(state[3])
    populating.wait()
    del const, level
    ands = ands[:n_and].astype(np.int64)
    and_a = in0[ands - n_in]
    and_b = in1[ands - n_in]
    # materialized wires actually read (a wire-level XOR may cancel out of every form): the
    # AND operands' reads are marked, the outputs' and the definitions' are added
    sub = np.zeros(n_w, dtype=np.int32)
    mats = K.needed_definitions(outs, fbuf, fstart, flen, mat_start, mat_len, mbuf, need,
                                blevel, sub)
    del need

    # steps: per level, its AND layer, then its materialized wires by sub-level; within a
    # step, ascending wires (ANDs are listed in wire order, mats sorted)
    keys, kinds, ids, big = K.order_steps(ands, mats, blevel, sub)
    del sub, blevel
    bounds = _split_padded(keys, kinds, ids, mat_len)
    step_kind = kinds[bounds[:-1]] if keys.size else np.zeros(0, dtype=np.int8)
    step_lv = (keys[bounds[:-1]] // big) if keys.size else np.zeros(0, dtype=np.int64)
    return _Layout(name=circuit.name, n_in=n_in, n_w=n_w, bound=bound, flat=flat, outs=outs,
                   fbuf=fbuf, fstart=fstart, flen=flen, fc=fc, mbuf=mbuf,
                   mat_start=mat_start, mat_len=mat_len, ands=ands, and_a=and_a, and_b=and_b,
                   kinds=kinds, ids=ids, bounds=bounds, step_kind=step_kind, step_lv=step_lv)


# the largest term buffer that 4-byte offsets address
OFFSET_32 = 2**31 - 1


def _forms_buffers(n_in: int, n_w: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """The term buffers :func:`~.schedforms.forms` starts with, large enough for what
    circuits take (2-4 form terms and about one definition term per wire) so that they
    rarely grow: pages never written cost nothing."""
    return (np.empty(min(4 * n_w, n_in + cap * (n_w - n_in)) + 16, dtype=np.int32),
            np.empty(max(1024, n_w + n_w // 4), dtype=np.int32))


def _grown(buf: np.ndarray, need: int) -> np.ndarray:
    """``buf`` copied into one at least half as large again, with room for ``need``."""
    out = np.empty(max(need, buf.size + buf.size // 2), dtype=buf.dtype)
    out[:buf.size] = buf
    return out


def _step_sizes(lay: _Layout) -> tuple[np.ndarray, np.ndarray]:
    """Per step, its rows (the longest operand, at least 1) and its terms before padding."""
    if lay.sizes is None:
        n_steps = lay.step_kind.size
        arity = np.empty(n_steps, dtype=np.int64)
        real = np.empty(n_steps, dtype=np.int64)
        K.step_arities(lay.step_kind, lay.bounds, lay.ids, lay.and_a, lay.and_b, lay.flen,
                       lay.fc, lay.mat_len, arity, real)
        lay.sizes = arity, real
    return lay.sizes


def _layout_stats(lay: _Layout) -> dict:
    """The counts of :meth:`Schedule.stats` that choosing a schedule reads, from a layout:
    a step pads its operands to its longest form (a constant bit is one more term)."""
    if lay.stats is None:
        arity, real = _step_sizes(lay)
        count = np.diff(lay.bounds[:lay.step_kind.size + 1])
        xor = lay.step_kind == 1
        lay.stats = {
            "and": int(lay.ands.size),
            "xor_steps": int(np.count_nonzero(xor)),
            "and_terms": int(real[~xor].sum()),
            "and_padded_terms": int((2 * arity * count)[~xor].sum()),
            "xor_terms": int(real[xor].sum()),
            "xor_padded_terms": int((arity * count)[xor].sum()),
        }
    return lay.stats


def _finish(lay: _Layout) -> Schedule:
    n_in, n_w = lay.n_in, lay.n_w
    fbuf, fstart, flen, fc, mbuf = lay.fbuf, lay.fstart, lay.flen, lay.fc, lay.mbuf
    mat_start, mat_len, ands, and_a, and_b = (lay.mat_start, lay.mat_len, lay.ands, lay.and_a,
                                              lay.and_b)
    kinds, ids, bounds, step_kind, step_lv = (lay.kinds, lay.ids, lay.bounds, lay.step_kind,
                                              lay.step_lv)
    outs = lay.outs
    n_steps = step_kind.size

    slot = np.zeros(n_w, dtype=np.int32)     # slots stay below 2**31
    starts = np.zeros(n_steps, dtype=np.int64)
    peak = K.slots(step_kind, bounds, ids, kinds, ands, and_a, and_b, fbuf, fstart, flen,
                   mat_start, mat_len, mbuf, outs, n_in, FIRST_INPUT_SLOT, slot, starts)

    # every step's index array is a block of one allocation, filled in one pass
    arity = _step_sizes(lay)[0]
    count = np.diff(bounds)
    size = arity * count * np.where(step_kind == 0, 2, 1)
    at = np.zeros(n_steps + 1, dtype=np.int64)
    np.cumsum(size, out=at[1:])
    store = np.zeros(int(at[-1]), dtype=IDX)
    _fill_steps((step_kind, bounds, ids, and_a, and_b, fbuf, fstart, flen, fc, mat_start,
                 mat_len, mbuf, slot, arity, at, store))
    steps = []
    offset = 0
    for si in range(n_steps):
        c, r = int(count[si]), int(arity[si])
        block = store[at[si]:at[si + 1]]
        block.flags.writeable = False       # the store itself stays writable, so that an
        # engine walking all steps at once can take it whole (gc.native)
        if step_kind[si] == 0:
            g = ids[bounds[si]:bounds[si + 1]]
            steps.append(AndStep(int(starts[si]), block.reshape(r, 2, c), offset,
                                 int(step_lv[si]), ands[g]))
            offset += c
        else:
            steps.append(XorStep(int(starts[si]), block.reshape(r, c)))
    out_idx = K.output_rows(outs, fbuf, fstart, flen, fc, slot)
    out_idx.flags.writeable = False
    return Schedule(lay.name, n_in, lay.bound, lay.flat, steps, out_idx, int(peak), offset)


# a store at least this large (entries) is filled by two threads, half the entries each
FILL_IN_TWO_FROM = 1 << 22


def _fill_steps(args: tuple) -> None:
    """:func:`~.schedforms.fill_steps` over all steps; a large store in two ranges of steps
    at once, on two cores (the compiled kernel releases the interpreter lock)."""
    n_steps, at = args[0].size, args[-2]
    if at[-1] < FILL_IN_TWO_FROM or not jit.is_compiled(K.fill_steps):
        K.fill_steps(*args, 0, n_steps)
        return
    mid = int(np.searchsorted(at, at[-1] // 2))
    failed = []

    def first_half():
        try:
            K.fill_steps(*args, 0, mid)
        except BaseException as e:      # raised below, in the caller's thread
            failed.append(e)

    helper = threading.Thread(target=first_half, name="yaogc-fill", daemon=True)
    helper.start()
    try:
        K.fill_steps(*args, mid, n_steps)
    finally:
        helper.join()
    if failed:
        raise failed[0]


def _split_padded(keys, kinds, ids, mat_len):
    """The step bounds of items sorted by step key (the arrays are the caller's own and may
    be reordered in place). An XOR step pads every definition to its longest, so a large
    step whose padding would more than double its terms is split by definition length
    (powers of two): a few more steps, at most twice the real terms (measured on 200
    fixed-point sigmoid scores: a seventh less garbling time than splitting only past four
    times). Small steps are left whole (per-step overhead is what one deep instance pays)."""
    bounds, split, lens, any_split = K.step_bounds(keys, kinds, ids, mat_len, SPLIT_MIN)
    if not any_split:
        return bounds
    # within each step (the items are sorted by key already), by bucket; the arrays are
    # the caller's own, so the few split steps are reordered where they lie
    cuts = np.empty(keys.size + 1, dtype=np.int64)
    n_cuts = K.split_by_bucket(bounds, split, lens, keys, kinds, ids, cuts)
    return cuts[:n_cuts].copy()


SPLIT_MIN = 1024
