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

import weakref
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter

import numpy as np

from .circuit import Circuit, Op
from .errors import InputError

ZERO_SLOT = 0
ONE_SLOT = 1
FIRST_INPUT_SLOT = 2
DEFAULT_BOUND = 3


@dataclass(frozen=True, eq=False)
class XorStep:
    """Basis wires ``start .. start+count-1`` = XOR over rows of the slots in ``idx``."""
    start: int
    idx: np.ndarray           # (arity, count) slot indices
    count: int = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "count", int(self.idx.shape[1]))


@dataclass(frozen=True, eq=False)
class AndStep:
    """One AND layer: gate i computes (XOR of idx[:, 0, i]) & (XOR of idx[:, 1, i]) into slot
    ``start + i``. ``offset`` is the number of AND gates of all earlier layers; ``wires`` the
    circuit wire each gate computes (ascending)."""
    start: int
    idx: np.ndarray           # (arity, 2, n) slot indices
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
        flat = np.ascontiguousarray(idx[..., a:a + c]).reshape(-1)
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
    within ``expand`` terms (default: no limit, one XOR step per level); otherwise they are
    computed in chains of steps with the shortest forms.
    """
    if not isinstance(bound, int) or bound < 1:
        raise InputError(f"schedule bound must be a positive integer, got {bound!r}")
    cap = 4 * bound if cap is None else cap
    if not isinstance(cap, int) or cap < bound:
        raise InputError(f"schedule cap must be an integer >= bound ({bound}), got {cap!r}")
    expand = (1 << 62) if expand is None else expand
    if not isinstance(expand, int) or expand < 1:
        raise InputError(f"schedule expansion limit must be a positive integer, got {expand!r}")
    per = _CACHE.setdefault(circuit, {})
    key = (bound, bool(flat), cap, expand)
    got = per.get(key)
    if got is None:
        got = per[key] = _build(circuit, bound, bool(flat), cap, expand, per)
    return got


def _live_wires(circuit: Circuit, outs: list[int]) -> list[bool]:
    n_in = circuit.n_inputs
    live = [False] * circuit.n_wires
    for w in outs:
        live[w] = True
    a, b = circuit.in0.tolist(), circuit.in1.tolist()
    for k in range(circuit.n_gates - 1, -1, -1):
        if live[n_in + k]:
            if a[k] >= 0:
                live[a[k]] = True
            if b[k] >= 0:
                live[b[k]] = True
    return live


def _fanout(circuit: Circuit, outs: list[int], live: list[bool]) -> list[int]:
    """Readers of each wire, looking through NOT (a NOT's readers read the same form)."""
    n_in = circuit.n_inputs
    ops, a, b = circuit.op.tolist(), circuit.in0.tolist(), circuit.in1.tolist()
    NOT = int(Op.NOT)
    fan = [0] * circuit.n_wires
    for w in outs:
        fan[w] += 1
    for k in range(circuit.n_gates - 1, -1, -1):
        w = n_in + k
        if not live[w]:
            continue
        if ops[k] == NOT:
            fan[a[k]] += max(fan[w], 1)
        else:
            if a[k] >= 0:
                fan[a[k]] += 1
            if b[k] >= 0:
                fan[b[k]] += 1
    return fan


def _build(circuit: Circuit, bound: int, flat: bool, cap: int, expand: int,
           shared: dict) -> Schedule:
    n_in = circuit.n_inputs
    outs = [int(w) for o in circuit.outputs for w in o.wires]
    if "live" not in shared:     # the same for every schedule of the circuit
        shared["live"] = live = _live_wires(circuit, outs)
        shared["fanout"] = _fanout(circuit, outs, live)
    live, fanout = shared["live"], shared["fanout"]
    ops, ins_a, ins_b = circuit.op.tolist(), circuit.in0.tolist(), circuit.in1.tolist()
    XOR, AND, NOT, C1 = int(Op.XOR), int(Op.AND), int(Op.NOT), int(Op.CONST1)
    empty: frozenset = frozenset()

    # per wire: its linear form (basis ids ``terms`` and constant bit ``fc``), wire-level
    # constant (or None), AND-depth; per basis id, the level at which it becomes known
    n_w = circuit.n_wires
    terms_of: list = [empty] * n_w
    fc = [0] * n_w
    const: list = [None] * n_w
    level = [0] * n_w
    blevel = [0] * n_w
    for w in range(n_in):
        terms_of[w] = frozenset((w,))
    mat_def: dict[int, frozenset] = {}  # materialized basis id -> terms
    ands: list[tuple[int, tuple, tuple]] = []   # (basis id, form a, form b)
    for k in [k for k in range(len(ops)) if live[n_in + k]]:
        w = n_in + k
        o, a, b = ops[k], ins_a[k], ins_b[k]
        if o == XOR:
            la, lb = level[a], level[b]
            level[w] = la if la > lb else lb
            ca, cb = const[a], const[b]
            if a == b or (ca is not None and cb is not None):
                const[w] = fc[w] = 0 if a == b else ca ^ cb
                continue
            terms = terms_of[a] ^ terms_of[b]
            if len(terms) > bound and (fanout[w] > 1 or len(terms) > cap):
                lv = max(map(blevel.__getitem__, terms))
                if flat:
                    # few XOR steps per level: expand the wires materialized at this level
                    # while the form stays within the expansion limit
                    for t in [t for t in terms if t in mat_def and blevel[t] == lv]:
                        wider = terms ^ mat_def[t] ^ frozenset((t,))
                        if len(wider) <= expand:
                            terms = wider
                mat_def[w] = terms
                blevel[w] = lv
                terms = frozenset((w,))
            terms_of[w] = terms
            fc[w] = fc[a] ^ fc[b]
        elif o == AND:
            ca, cb = const[a], const[b]
            if ca == 0 or cb == 0:
                const[w] = 0
            elif ca == 1 or a == b:
                const[w], terms_of[w], fc[w], level[w] = cb, terms_of[b], fc[b], level[b]
            elif cb == 1:
                const[w], terms_of[w], fc[w], level[w] = ca, terms_of[a], fc[a], level[a]
            else:
                la, lb = level[a], level[b]
                lv = (la if la > lb else lb) + 1
                level[w] = blevel[w] = lv
                ands.append((w, (terms_of[a], fc[a]), (terms_of[b], fc[b])))
                terms_of[w] = frozenset((w,))
        elif o == NOT:
            ca = const[a]
            if ca is not None:
                const[w] = ca ^ 1
            else:
                terms_of[w] = terms_of[a]
            fc[w] = fc[a] ^ 1
            level[w] = level[a]
        else:
            const[w] = fc[w] = 1 if o == C1 else 0

    out_forms = [(terms_of[w], fc[w]) for w in outs]

    # materialized wires actually read (a wire-level XOR may cancel out of every form)
    needed: set[int] = set()
    stack = [t for f in out_forms for t in f[0]]
    stack += [t for (_, fa, fb) in ands for t in fa[0] | fb[0]]
    while stack:
        t = stack.pop()
        if t in mat_def and t not in needed:
            needed.add(t)
            stack.extend(mat_def[t])
    sub: dict[int, int] = {}
    for t in sorted(needed):   # ascending wire id is a topological order
        lv = blevel[t]
        sub[t] = 1 + max((sub[u] for u in mat_def[t] if u in sub and blevel[u] == lv), default=0)

    # steps: per level, its AND layer, then its materialized wires by sub-level
    by_level: dict[int, list] = {}
    for g in ands:
        by_level.setdefault(blevel[g[0]], []).append(g)
    mats: dict[int, dict[int, list[int]]] = {}
    for t in sorted(needed):
        mats.setdefault(blevel[t], {}).setdefault(sub[t], []).append(t)
    depth = max([0] + list(by_level) + list(mats))
    raw_steps: list[tuple[str, list, int]] = []
    offset = 0
    for lv in range(depth + 1):
        if lv in by_level:
            raw_steps.append(("and", by_level[lv], lv))
        for q in sorted(mats.get(lv, ())):
            raw_steps.append(("xor", mats[lv][q], lv))

    # last step reading each basis id; the outputs are read after every step
    final = len(raw_steps)
    last: dict[int, int] = {}
    for si, (kind, items, _) in enumerate(raw_steps):
        if kind == "and":
            for (_, fa, fb) in items:
                for t in fa[0] | fb[0]:
                    last[t] = si
        else:
            for t0 in items:
                for t in mat_def[t0]:
                    last[t] = si
    for f in out_forms:
        for t in f[0]:
            last[t] = final
    frees: dict[int, list[int]] = {}
    for t, si in last.items():
        frees.setdefault(si, []).append(t)
    alloc = _Slots(FIRST_INPUT_SLOT + n_in)
    slot = np.zeros(circuit.n_wires, dtype=np.intp)
    slot[:n_in] = FIRST_INPUT_SLOT + np.arange(n_in)
    alloc.free([FIRST_INPUT_SLOT + w for w in range(n_in) if w not in last])
    starts = []
    for si, (kind, items, lv) in enumerate(raw_steps):
        if si - 1 in frees:
            alloc.free(slot[frees[si - 1]].tolist())
        start = alloc.take(len(items))
        ids = [g[0] for g in items] if kind == "and" else items
        slot[ids] = start + np.arange(len(items))
        starts.append(start)

    groups = []
    for kind, items, _ in raw_steps:
        if kind == "and":
            groups.append([g[1] for g in items] + [g[2] for g in items])
        else:
            groups.append([(mat_def[t], 0) for t in items])
    groups.append(out_forms)
    idxs = _index(slot, groups)
    steps = []
    offset = 0
    for (kind, items, lv), start, idx in zip(raw_steps, starts, idxs):
        if kind == "and":
            idx = idx.reshape(idx.shape[0], 2, len(items))
            steps.append(AndStep(start, idx, offset, lv, np.array([g[0] for g in items])))
            offset += len(items)
        else:
            steps.append(XorStep(start, idx))
    out_idx = idxs[-1]
    return Schedule(circuit.name, n_in, bound, flat, steps, out_idx, alloc.peak, offset)


def _index(slot: np.ndarray, groups: list[list]) -> list[np.ndarray]:
    """Per group of forms, its (arity, len(group)) slot indices: the terms' slots, then the
    constant as ONE_SLOT, padded with ZERO_SLOT (one vectorized pass over all groups)."""
    counts = np.array([len(g) for g in groups], dtype=np.intp)
    forms = list(chain.from_iterable(groups))
    n_f = len(forms)
    term_sets = list(map(itemgetter(0), forms))
    n_terms = np.fromiter(map(len, term_sets), dtype=np.intp, count=n_f)
    consts = np.fromiter(map(itemgetter(1), forms), dtype=np.intp, count=n_f)
    sizes = n_terms + consts
    first = np.cumsum(counts) - counts
    nonempty = counts > 0
    arity = np.ones(len(groups), dtype=np.intp)
    if n_f:
        arity[nonempty] = np.maximum(1, np.maximum.reduceat(sizes, first[nonempty]))
    offs = np.cumsum(arity * counts) - arity * counts
    buf = np.zeros(int((arity * counts).sum()), dtype=np.intp)
    group = np.repeat(np.arange(len(groups)), counts)            # per form
    base = offs[group] + np.arange(n_f) - first[group]           # row 0 of each form
    stride = counts[group]
    terms = np.fromiter(chain.from_iterable(term_sets), dtype=np.intp)
    if terms.size:
        tf = np.repeat(np.arange(n_f), n_terms)                  # per term: its form
        row = np.arange(terms.size) - np.repeat(np.cumsum(n_terms) - n_terms, n_terms)
        buf[base[tf] + row * stride[tf]] = slot[terms]
    c = np.flatnonzero(consts)
    buf[base[c] + n_terms[c] * stride[c]] = ONE_SLOT
    out = []
    for o, a, n in zip(offs.tolist(), arity.tolist(), counts.tolist()):
        idx = buf[o:o + a * n].reshape(a, n)
        idx.flags.writeable = False
        out.append(idx)
    return out


class _Slots:
    """Allocator of contiguous slot ranges (a step's outputs share one range): free runs are
    coalesced with their neighbours and kept by size class; a request takes a run of a larger
    class, else a fitting run of its own class, else grows the store."""

    def __init__(self, reserved: int):
        self.top = self.peak = reserved
        self.end_of: dict[int, int] = {}      # free run start -> end
        self.start_of: dict[int, int] = {}    # free run end -> start
        self.classes: dict[int, set[int]] = {}

    def _unlink(self, s: int, e: int) -> None:
        del self.end_of[s], self.start_of[e]
        self.classes[(e - s).bit_length()].discard(s)

    def _add(self, s: int, e: int) -> None:
        if s in self.start_of:
            p = self.start_of[s]
            self._unlink(p, s)
            s = p
        if e in self.end_of:
            f = self.end_of[e]
            self._unlink(e, f)
            e = f
        if e == self.top:
            self.top = s
            return
        self.end_of[s] = e
        self.start_of[e] = s
        self.classes.setdefault((e - s).bit_length(), set()).add(s)

    def free(self, slots: list[int]) -> None:
        if not slots:
            return
        slots = sorted(slots)
        s = prev = slots[0]
        for x in slots[1:]:
            if x != prev + 1:
                self._add(s, prev + 1)
                s = x
            prev = x
        self._add(s, prev + 1)

    def take(self, n: int) -> int:
        if n == 0:
            return self.top
        c = n.bit_length()
        for k in sorted(k for k, v in self.classes.items() if v and k >= c):
            for s in self.classes[k]:
                e = self.end_of[s]
                if e - s >= n:
                    self._unlink(s, e)
                    if e - s > n:
                        self._add(s + n, e)
                    return s
        s = self.top
        self.top += n
        self.peak = max(self.peak, self.top)
        return s
