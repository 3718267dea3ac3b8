"""The Schedule's per-wire pass as compiled kernels: linear forms, AND layers, materialized
XOR wires, the order of the steps and the operand index arrays.

A wire's linear form (the basis wires it is the XOR of, plus a constant bit) is a sorted row
of at most ``cap`` basis ids in a ``(wires, cap)`` array, never a Python set; the definition
of a materialized XOR wire lives in one growing term buffer. Everything here is a plain
function over numpy arrays that numba compiles for large circuits (:mod:`.jit`); the rules
are those :mod:`.schedule` documents.
"""

from __future__ import annotations

import numpy as np

from .jit import kernel, native, prefetch
from .slotarena import arena_free, arena_new, arena_take


@kernel
def fanout_and_live(op, in0, in1, n_in, outs, live, fan):
    """Mark the wires some output depends on; count the readers of each wire up to 2 (all
    the forms pass asks is whether there are several: one byte a wire, not four), looking
    through NOT (a NOT's readers read its operand's form)."""
    for i in range(outs.size):
        live[outs[i]] = True
        fan[outs[i]] = 2 if fan[outs[i]] else 1
    for k in range(op.size - 1, -1, -1):
        w = n_in + k
        if not live[w]:
            continue
        o = op[k]
        if o == 2:
            live[in0[k]] = True
            fan[in0[k]] = 2 if fan[in0[k]] or fan[w] > 1 else 1
        elif o <= 1:
            live[in0[k]] = True
            live[in1[k]] = True
            fan[in0[k]] = 2 if fan[in0[k]] else 1
            fan[in1[k]] = 2 if fan[in1[k]] else 1


@kernel(inline=True)
def _symdiff(x, x0, nx, y, y0, ny, out):
    """Sorted symmetric difference of x[x0:x0+nx] and y[y0:y0+ny] into out; its length."""
    i = x0
    j = y0
    xe = x0 + nx
    ye = y0 + ny
    k = 0
    while i < xe and j < ye:
        if x[i] < y[j]:
            out[k] = x[i]
            i += 1
            k += 1
        elif y[j] < x[i]:
            out[k] = y[j]
            j += 1
            k += 1
        else:
            i += 1
            j += 1
    while i < xe:
        out[k] = x[i]
        i += 1
        k += 1
    while j < ye:
        out[k] = y[j]
        j += 1
        k += 1
    return k


@kernel(inline=True)
def forms_margin(cap, expand):
    """Terms one gate can add to either buffer of :func:`forms` at most (a form before its
    materialization is at most two forms of ``cap`` terms; an expansion is kept only while
    within ``expand``), and the scratch each of its rows needs, with room for the expansion's
    two operands."""
    return max(2 * cap, expand) + 1


# how many gates ahead the forms pass asks for what a gate will read: its operands' fields,
# then (those fields arrived) the terms of their forms, then the terms' level and definition
# length. A large circuit's operands lie far back (a quarter of them hundreds of thousands of
# wires on the dot product of 1,000 terms); waited for one after another (a mispredicted
# branch of the merge ends the loads in flight) they were 30% of the pass. A circuit whose
# operands are near pays for the prefetches instead (count_above N=20000: a fifth more
# time, 0.08 -> 0.10 s, against 0.16 s less on the dot product); prefetching only operands
# far back cost more in branches than it saved. An operand not computed yet has zero
# fields: a wasted prefetch, never a wrong result (prefetches never fault).
AHEAD_FIELDS = 16
AHEAD_TERMS = 6
AHEAD_TERM_FIELDS = 3


@kernel
def forms(op, in0, in1, n_in, live, fan, bound, cap, flat, expand,
          fbuf, fstart, flen, fc, const, level, blevel, mat_start, mat_len, mbuf, ands, need,
          state):
    """Forward pass: every live wire's form (its terms ``fbuf[fstart:fstart+flen]``, written
    once and shared by NOT and pass-through ANDs; constant bit fc), wire-level constant
    (const, -1 for none), AND-depth; materialized XOR wires get their definition in mbuf
    (mat_start/mat_len; mat_len -1 for other wires) and their level in blevel; AND gates
    that remain are listed in ands, and the materialized wires their operands' forms read
    are marked in ``need`` (while those forms are fresh in the cache; :func:`needed_definitions`
    adds the rest). The input wires' forms are the caller's (themselves).

    ``state`` is (next gate, terms used in fbuf, in mbuf, ANDs listed). The pass stops before
    a gate that might not fit in fbuf or mbuf (:func:`forms_margin`) and returns False; the
    caller grows them and calls again. True when every gate is done. No array is assigned
    anew here, nor grown: numba then counts references to the arrays at every use, which
    cost more than half the pass."""
    margin = forms_margin(cap, expand)
    scratch = np.empty(4 * margin, dtype=np.int32)    # two rows: a form and its expansion
    scratch2 = np.empty(2 * margin, dtype=np.int32)
    orig = np.empty(margin, dtype=np.int32)   # a form before its expansion
    one = np.empty(1, dtype=np.int32)
    fpos = state[1]
    mpos = state[2]
    na = state[3]
    for k in range(state[0], op.size):
        if fpos + margin > fbuf.size or mpos + margin > mbuf.size:
            state[0] = k
            state[1] = fpos
            state[2] = mpos
            state[3] = na
            return False
        if native():
            # what gates ahead will read, asked for now (compiled only: as Python, calls
            # for nothing). Written out here: an inlined helper given these arrays counted
            # references to them at every gate, which cost more than the prefetches saved
            if k + AHEAD_FIELDS < op.size:
                p = in0[k + AHEAD_FIELDS]
                q = in1[k + AHEAD_FIELDS]
                prefetch(fstart, p)
                prefetch(flen, p)
                prefetch(fc, p)
                prefetch(const, p)
                prefetch(level, p)
                prefetch(fstart, q)
                prefetch(flen, q)
                prefetch(fc, q)
                prefetch(const, q)
                prefetch(level, q)
            if k + AHEAD_TERMS < op.size:
                prefetch(fbuf, fstart[in0[k + AHEAD_TERMS]])
                prefetch(fbuf, fstart[in1[k + AHEAD_TERMS]])
            if k + AHEAD_TERM_FIELDS < op.size:
                p = in0[k + AHEAD_TERM_FIELDS]
                q = in1[k + AHEAD_TERM_FIELDS]
                for j in range(fstart[p], fstart[p] + flen[p]):
                    prefetch(mat_len, fbuf[j])
                    prefetch(blevel, fbuf[j])
                for j in range(fstart[q], fstart[q] + flen[q]):
                    prefetch(mat_len, fbuf[j])
                    prefetch(blevel, fbuf[j])
        w = n_in + k
        if not live[w]:
            continue
        o = op[k]
        if o == 0:
            a = in0[k]
            b = in1[k]
            la = level[a]
            lb = level[b]
            level[w] = la if la > lb else lb
            ca = const[a]
            cb = const[b]
            if a == b or (ca >= 0 and cb >= 0):
                v = 0 if a == b else ca ^ cb
                const[w] = v
                fc[w] = v
                flen[w] = 0
                continue
            n = _symdiff(fbuf, fstart[a], flen[a], fbuf, fstart[b], flen[b], scratch)
            fc[w] = fc[a] ^ fc[b]
            if n > bound and (fan[w] > 1 or n > cap):
                lv = 0
                for i in range(n):
                    t = scratch[i]
                    if blevel[t] > lv:
                        lv = blevel[t]
                if flat:
                    # few XOR steps per level: expand the wires materialized at this level
                    # while the form stays within the expansion limit (ascending order)
                    n0 = n
                    for i in range(n0):
                        orig[i] = scratch[i]
                    for i in range(n0):
                        t = orig[i]
                        if mat_len[t] >= 0 and blevel[t] == lv:
                            s0 = mat_start[t]
                            m = mat_len[t]
                            n2 = _symdiff(scratch, 0, n, mbuf, s0, m, scratch2)
                            one[0] = t
                            n3 = _symdiff(scratch2, 0, n2, one, 0, 1, scratch[2 * margin:])
                            if n3 <= expand:
                                scratch[:n3] = scratch[2 * margin:2 * margin + n3]
                                n = n3
                mbuf[mpos:mpos + n] = scratch[:n]
                mat_start[w] = mpos
                mat_len[w] = n
                mpos += n
                blevel[w] = lv
                n = 1
                scratch[0] = w
            for i in range(n):
                fbuf[fpos + i] = scratch[i]
            fstart[w] = fpos
            flen[w] = n
            fpos += n
        elif o == 1:
            a = in0[k]
            b = in1[k]
            ca = const[a]
            cb = const[b]
            if ca == 0 or cb == 0:
                const[w] = 0
                fc[w] = 0
                flen[w] = 0
            elif ca == 1 or a == b:
                const[w] = cb
                fstart[w] = fstart[b]
                flen[w] = flen[b]
                fc[w] = fc[b]
                level[w] = level[b]
            elif cb == 1:
                const[w] = ca
                fstart[w] = fstart[a]
                flen[w] = flen[a]
                fc[w] = fc[a]
                level[w] = level[a]
            else:
                la = level[a]
                lb = level[b]
                lv = (la if la > lb else lb) + 1
                level[w] = lv
                blevel[w] = lv
                ands[na] = w
                na += 1
                _mark_read(fbuf, fstart[a], flen[a], mat_len, need)
                _mark_read(fbuf, fstart[b], flen[b], mat_len, need)
                fbuf[fpos] = w
                fstart[w] = fpos
                flen[w] = 1
                fpos += 1
        elif o == 2:
            a = in0[k]
            if const[a] >= 0:
                const[w] = const[a] ^ 1
                flen[w] = 0
            else:
                fstart[w] = fstart[a]
                flen[w] = flen[a]
            fc[w] = fc[a] ^ 1
            level[w] = level[a]
        else:
            v = 1 if o == 4 else 0
            const[w] = v
            fc[w] = v
            flen[w] = 0
    state[0] = op.size
    state[1] = fpos
    state[2] = mpos
    state[3] = na
    return True


@kernel(inline=True)
def _mark_read(terms, t0, n, mat_len, need):
    """Mark the materialized wires among ``terms[t0:t0+n]`` (a form or a definition)."""
    for j in range(t0, t0 + n):
        t = terms[j]
        if mat_len[t] >= 0:
            need[t] = True


@kernel(inline=True)
def needed(roots, fbuf, fstart, flen, mat_start, mat_len, mbuf, need):
    """Mark the materialized wires some root's form reads, directly or through other
    definitions, besides those marked already (whose definitions are followed too). A
    definition reads only wires before its own (the forms pass goes forward), so one sweep
    down the wires follows every chain: no stack, and the definitions are read in order."""
    for i in range(roots.size):
        _mark_read(fbuf, fstart[roots[i]], flen[roots[i]], mat_len, need)
    for t in range(need.size - 1, -1, -1):
        if need[t]:
            _mark_read(mbuf, mat_start[t], mat_len[t], mat_len, need)


@kernel(inline=True)
def sublevels(mats, blevel, mat_start, mat_len, mbuf, sub):
    """Sub-level of each needed materialized wire (ascending wire order): one more than the
    deepest same-level materialized wire its definition reads."""
    for i in range(mats.size):
        t = mats[i]
        lv = blevel[t]
        best = 0
        s0 = mat_start[t]
        for j in range(mat_len[t]):
            u = mbuf[s0 + j]
            if sub[u] > 0 and blevel[u] == lv and sub[u] > best:
                best = sub[u]
        sub[t] = best + 1


@kernel(inline=True)
def last_uses(step_kind, step_ptr, items, and_a, and_b, fbuf, fstart, flen, mat_start,
              mat_len, mbuf, out_wires, last):
    """Per basis id, the last step reading it (the outputs count as step len(steps))."""
    n_steps = step_kind.size
    for si in range(n_steps):
        for p in range(step_ptr[si], step_ptr[si + 1]):
            if step_kind[si] == 0:
                x = and_a[items[p]]
                for j in range(flen[x]):
                    last[fbuf[fstart[x] + j]] = si
                y = and_b[items[p]]
                for j in range(flen[y]):
                    last[fbuf[fstart[y] + j]] = si
            else:
                t = items[p]
                s0 = mat_start[t]
                for j in range(mat_len[t]):
                    last[mbuf[s0 + j]] = si
    for i in range(out_wires.size):
        r = out_wires[i]
        for j in range(flen[r]):
            last[fbuf[fstart[r] + j]] = n_steps


@kernel(inline=True)
def _put_form(w, fbuf, fstart, flen, fc, slot, out, col, stride):
    """The slot rows of wire ``w``'s form down column ``col`` of a flat (rows, stride)
    array: its terms, then ONE_SLOT (1) for the constant; the rows below stay as they are
    (zeros: ZERO_SLOT padding)."""
    n = flen[w]
    f0 = fstart[w]
    for j in range(n):
        out[col + j * stride] = slot[fbuf[f0 + j]]
    if fc[w]:
        out[col + n * stride] = 1


@kernel(inline=True)
def fill_rows(wires, fbuf, fstart, flen, fc, slot, out):
    """The forms of ``wires`` as the columns of ``out``, a flat (arity, wires.size) array."""
    for i in range(wires.size):
        _put_form(wires[i], fbuf, fstart, flen, fc, slot, out, i, wires.size)


@kernel
def step_arities(step_kind, step_ptr, items, and_a, and_b, flen, fc, mat_len, arity, real):
    """Rows of each step's index array: the longest operand form of an AND step (its
    constant counted as a term), the longest definition of an XOR step; at least 1. And
    the terms of each step before padding (``real``): what choosing a schedule counts."""
    for si in range(step_kind.size):
        best = 1
        total = 0
        for p in range(step_ptr[si], step_ptr[si + 1]):
            if step_kind[si] == 0:
                x = and_a[items[p]]
                y = and_b[items[p]]
                v = flen[x] + fc[x]
                u = flen[y] + fc[y]
                total += v + u
                if u > v:
                    v = u
            else:
                v = mat_len[items[p]]
                total += v
            if v > best:
                best = v
        arity[si] = best
        real[si] = total


@kernel
def fill_steps(step_kind, step_ptr, items, and_a, and_b, fbuf, fstart, flen, fc, mat_start,
               mat_len, mbuf, slot, arity, offset, out, first, end):
    """The index arrays of steps first..end-1, each a C-ordered block of ``out`` (zeros:
    ZERO_SLOT padding) from ``offset[si]``: an AND step's (arity, 2, count) holds the slot
    rows of its operands' forms (ONE_SLOT, 1, for a constant), an XOR step's (arity, count)
    those of its definitions. Steps write disjoint blocks: ranges may be filled at once."""
    for si in range(first, end):
        p0 = step_ptr[si]
        c = step_ptr[si + 1] - p0
        o = offset[si]
        for i in range(c):
            if step_kind[si] == 0:
                g = items[p0 + i]
                _put_form(and_a[g], fbuf, fstart, flen, fc, slot, out, o + i, 2 * c)
                _put_form(and_b[g], fbuf, fstart, flen, fc, slot, out, o + c + i, 2 * c)
            else:
                t = items[p0 + i]
                s0 = mat_start[t]
                for j in range(mat_len[t]):
                    out[o + j * c + i] = slot[mbuf[s0 + j]]


@kernel(inline=True)
def arity_of(wires, flen, fc):
    best = 1
    for i in range(wires.size):
        v = flen[wires[i]] + fc[wires[i]]
        if v > best:
            best = v
    return best


@kernel(inline=True)
def _stable_by(key, n_key, src, dst):
    """``dst`` = the items of ``src`` stably sorted by ``key[item]`` (below ``n_key``): one
    counting sort."""
    count = np.zeros(n_key + 1, dtype=np.int64)
    for j in range(src.size):
        count[key[src[j]] + 1] += 1
    for k in range(n_key):
        count[k + 1] += count[k]
    for j in range(src.size):
        i = src[j]
        b = key[i]
        dst[count[b]] = i
        count[b] += 1


@kernel(inline=True)
def _stable_index(key, n_key, dst):
    """``dst`` = the indices of ``key`` stably sorted by their key (below ``n_key``): what
    :func:`_stable_by` gives for the items 0, 1, ..., without their array."""
    count = np.zeros(n_key + 1, dtype=np.int64)
    for i in range(key.size):
        count[key[i] + 1] += 1
    for k in range(n_key):
        count[k + 1] += count[k]
    for i in range(key.size):
        b = key[i]
        dst[count[b]] = i
        count[b] += 1


@kernel(inline=True)
def order_by_level(lv, sub, n_lv, n_sub, order, pair):
    """``order`` = the stable argsort of ``lv * n_sub + sub`` (both non-negative, below
    ``n_lv`` and ``n_sub``), linear in the items and the two ranges: one counting sort by
    the pair where its counters are few next to the items (one pass over the items instead
    of two), else by ``sub``, then stably by ``lv``. ``pair`` (int64, one per item) is
    scratch: the pairs are written there, not into temporaries (three arrays of 8 bytes an
    item, faulted in afresh, were most of the time of :func:`order_steps` on a large
    circuit)."""
    if n_lv * n_sub <= 2 * lv.size + 1024:
        for i in range(lv.size):
            pair[i] = np.int64(lv[i]) * n_sub + sub[i]
        _stable_index(pair, n_lv * n_sub, order)
        return
    tmp = np.empty(lv.size, dtype=order.dtype)
    _stable_index(sub, n_sub, tmp)
    _stable_by(lv, n_lv, tmp, order)


@kernel
def order_steps(ands, mats, blevel, sub):
    """The steps' items in execution order: every AND gate (its index in ``ands``, kind 0)
    and every needed materialized wire (the wire, kind 1), stably sorted by level, then 0
    for the AND layer or the wire's sub-level (ANDs first, then mats, each ascending, before
    the sort). Returns (keys, kinds, ids, n_sub) with key = level * n_sub + sub-level."""
    n_a = ands.size
    n = n_a + mats.size
    # 4-byte levels, positions and ids (wires stay below 2**30): a third less memory to
    # fault in for the items of a large circuit
    lv = np.empty(n, dtype=np.int32)
    sb = np.zeros(n, dtype=np.int32)
    n_lv = 1
    n_sub = 1
    for i in range(n_a):
        lv[i] = blevel[ands[i]]
        if lv[i] >= n_lv:
            n_lv = lv[i] + 1
    for j in range(mats.size):
        m = mats[j]
        lv[n_a + j] = blevel[m]
        sb[n_a + j] = sub[m]
        if blevel[m] >= n_lv:
            n_lv = blevel[m] + 1
        if sub[m] > n_sub:
            n_sub = sub[m]
    n_sub += 1
    order = np.empty(n, dtype=np.int32)
    keys = np.empty(n, dtype=np.int64)
    order_by_level(lv, sb, n_lv, n_sub, order, keys)
    kinds = np.empty(n, dtype=np.int8)
    ids = np.empty(n, dtype=np.int32)
    for p in range(n):
        q = order[p]
        keys[p] = np.int64(lv[q]) * n_sub + sb[q]
        if q < n_a:
            kinds[p] = 0
            ids[p] = q
        else:
            kinds[p] = 1
            ids[p] = mats[q - n_a]
    return keys, kinds, ids, n_sub


@kernel
def step_bounds(keys, kinds, ids, mat_len, split_min):
    """Where each step (a run of one key) begins, and which XOR steps to split by
    definition length: those of at least ``split_min`` wires whose padding to their longest
    definition would more than double their terms. Returns (bounds, split, lens, any
    split) with ``lens`` the definition length of every item (0 for ANDs)."""
    n = keys.size
    n_steps = 1 if n else 0
    for p in range(1, n):
        if keys[p] != keys[p - 1]:
            n_steps += 1
    bounds = np.empty(n_steps + 1, dtype=np.int64)
    split = np.zeros(n_steps, dtype=np.bool_)
    lens = np.zeros(n, dtype=np.int32)
    any_split = False
    bounds[0] = 0
    si = 0
    for p in range(1, n + 1):
        if p == n or keys[p] != keys[p - 1]:
            si += 1
            bounds[si] = p
    for si in range(n_steps):
        a0 = bounds[si]
        a1 = bounds[si + 1]
        if kinds[a0] != 1:
            continue
        longest = 0
        total = 0
        for p in range(a0, a1):
            v = mat_len[ids[p]]
            lens[p] = v
            total += v
            if v > longest:
                longest = v
        if a1 - a0 >= split_min and longest * (a1 - a0) > 2 * total:
            split[si] = True
            any_split = True
    return bounds, split, lens, any_split


@kernel(inline=True)
def _bucket(n):
    """ceil(log2(max(n, 1))): the power-of-two class of a definition length."""
    b = 0
    while (1 << b) < n:
        b += 1
    return b


@kernel
def split_by_bucket(bounds, split, lens, keys, kinds, ids, cuts):
    """Within each step ``split`` marks, its items (``keys``, ``kinds``, ``ids``, in place)
    stably sorted by the bucket of their length ``lens``, one step per bucket; other steps
    stay as they are. Fills ``cuts`` with the new step bounds and returns their number.
    Only the split steps' items move, each within its step."""
    count = np.zeros(65, dtype=np.int64)
    nc = 1
    cuts[0] = 0
    for si in range(split.size):
        a0 = bounds[si]
        a1 = bounds[si + 1]
        if not split[si]:
            cuts[nc] = a1
            nc += 1
            continue
        count[:] = 0
        for j in range(a0, a1):
            count[_bucket(lens[j]) + 1] += 1
        for b in range(64):
            if count[b + 1] > 0:
                cuts[nc] = a0 + count[b] + count[b + 1]
                nc += 1
            count[b + 1] += count[b]
        seg_keys = keys[a0:a1].copy()
        seg_kinds = kinds[a0:a1].copy()
        seg_ids = ids[a0:a1].copy()
        for j in range(a1 - a0):
            b = _bucket(lens[a0 + j])
            d = a0 + count[b]
            keys[d] = seg_keys[j]
            kinds[d] = seg_kinds[j]
            ids[d] = seg_ids[j]
            count[b] += 1
    return nc


@kernel(inline=True)
def gone_by_step(last, n_steps, gone_ptr):
    """The basis wires (last reader >= 0) by the step at whose start their slot is freed
    (the one after the last reader), ascending wires within a step: a counting sort; fills
    ``gone_ptr`` (n_steps + 2) and returns the wires."""
    for w in range(last.size):
        if last[w] >= 0:
            gone_ptr[last[w] + 2] += 1
    for v in range(1, gone_ptr.size):
        gone_ptr[v] += gone_ptr[v - 1]
    gone = np.empty(gone_ptr[-1], dtype=np.int32)     # wires stay below 2**30
    fill = gone_ptr.copy()
    for w in range(last.size):
        if last[w] >= 0:
            f = last[w] + 1
            gone[fill[f]] = w
            fill[f] += 1
    return gone


# --- slots: contiguous runs per step, reused after the last reader ---------------------------
@kernel(inline=True)
def assign_slots(reserved, n_max, step_ptr, members, gone_ptr, gone, unused_inputs, slot,
                 starts):
    """Give every step's outputs a contiguous run of slots (:mod:`.slotarena`), freeing each
    basis wire's slot at the start of the step after its last reader (``gone`` per step, CSR
    by ``gone_ptr``) and the slots of unread inputs first. Returns the store size."""
    n_steps = starts.size
    largest = 1
    for si in range(n_steps):
        if step_ptr[si + 1] - step_ptr[si] > largest:
            largest = step_ptr[si + 1] - step_ptr[si]
    buf, meta = arena_new(reserved, n_max, largest)
    for i in range(unused_inputs.size):
        arena_free(buf, meta, unused_inputs[i], 1)
    for si in range(n_steps):
        # basis wires last read by the step before this one
        # (listed by wire, so the slots of one step's outputs come in runs: freed as one)
        rs = -1
        re = -1
        for j in range(gone_ptr[si], gone_ptr[si + 1]):
            x = slot[gone[j]]
            if x == re:
                re += 1
                continue
            if rs >= 0:
                arena_free(buf, meta, rs, re - rs)
            rs = x
            re = x + 1
        if rs >= 0:
            arena_free(buf, meta, rs, re - rs)
        n = step_ptr[si + 1] - step_ptr[si]
        got = arena_take(buf, meta, n)
        starts[si] = got
        for i in range(n):
            slot[members[step_ptr[si] + i]] = got + i
    return meta[3]


# --- the passes as the Schedule calls them: one compiled kernel each to load ----------------
@kernel
def needed_definitions(roots, fbuf, fstart, flen, mat_start, mat_len, mbuf, need, blevel, sub):
    """The materialized wires some root's form reads, or that ``need`` marks (ascending:
    :func:`needed`), and their sub-levels (:func:`sublevels`, into ``sub``)."""
    n_w = sub.size
    needed(roots, fbuf, fstart, flen, mat_start, mat_len, mbuf, need)
    count = 0
    for w in range(n_w):
        if need[w]:
            count += 1
    mats = np.empty(count, dtype=np.int64)
    k = 0
    for w in range(n_w):
        if need[w]:
            mats[k] = w
            k += 1
    sublevels(mats, blevel, mat_start, mat_len, mbuf, sub)
    return mats


@kernel
def slots(step_kind, step_ptr, items, kinds, ands, and_a, and_b, fbuf, fstart, flen, mat_start,
          mat_len, mbuf, out_wires, n_in, first, slot, starts):
    """Every wire's slot and every step's first slot (:func:`assign_slots`), from the last
    step reading each basis wire (:func:`last_uses`); inputs take slots ``first``..; returns
    the store size."""
    n_steps = starts.size
    last = np.full(slot.size, -1, dtype=np.int32)
    last_uses(step_kind, step_ptr, items, and_a, and_b, fbuf, fstart, flen, mat_start, mat_len,
              mbuf, out_wires, last)
    # a slot is freed at the start of the step after its last reader
    gone_ptr = np.zeros(n_steps + 3, dtype=np.int64)
    gone = gone_by_step(last, n_steps, gone_ptr)
    members = np.empty(items.size, dtype=np.int32)    # wires stay below 2**30
    for p in range(items.size):
        members[p] = ands[items[p]] if kinds[p] == 0 else items[p]
    n_unused = 0
    for w in range(n_in):
        slot[w] = first + w
        if last[w] < 0:
            n_unused += 1
    unused = np.empty(n_unused, dtype=np.int64)
    k = 0
    for w in range(n_in):
        if last[w] < 0:
            unused[k] = first + w
            k += 1
    return assign_slots(first + n_in, first + n_in + items.size + 2, step_ptr, members,
                        gone_ptr, gone, unused, slot, starts)


@kernel
def output_rows(wires, fbuf, fstart, flen, fc, slot):
    """The forms of the output ``wires`` as slot rows: an (arity, wires) array."""
    rows = arity_of(wires, flen, fc) if wires.size else 1
    out = np.zeros(rows * wires.size, dtype=np.int32)     # slots stay below 2**31
    fill_rows(wires, fbuf, fstart, flen, fc, slot, out)
    return out.reshape((rows, wires.size))
