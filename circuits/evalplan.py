"""The plaintext evaluator's level plan as compiled kernels: gate levels, groups, the order of
gates within a group, and slot allocation with reuse.

Each pass looks at every gate once (or a group or a run of gates at a time), so it is written
as a plain loop over numpy arrays that numba compiles for large circuits (:mod:`.jit`) and
that runs as plain Python otherwise; :class:`.evaluate.LevelPlan` documents what the plan is.
"""

from __future__ import annotations

import numpy as np

from .jit import kernel
from .slotarena import arena_free, arena_new, arena_take


@kernel
def gate_tails(op, in0, in1, n_in, tail):
    """Per wire, the longest path in gates from it to the end (computed gates count
    themselves; constants are skipped)."""
    for k in range(op.size - 1, -1, -1):
        o = op[k]
        if o > 2:
            continue
        t = tail[n_in + k] + 1
        tail[n_in + k] = t
        a = in0[k]
        if tail[a] < t:
            tail[a] = t
        if o != 2:
            b = in1[k]
            if tail[b] < t:
                tail[b] = t


@kernel
def last_readers(op, in0, in1, n_in, group_of, last):
    """Per gate, the last group reading it (-1 if none)."""
    for k in range(op.size):
        g = group_of[k]
        if g < 0:
            continue
        a = in0[k] - n_in
        if a >= 0 and last[a] < g:
            last[a] = g
        if op[k] != 2:
            b = in1[k] - n_in
            if b >= 0 and last[b] < g:
                last[b] = g


@kernel
def order_gates(group_of, last, n_groups, order):
    """The computed gates (group >= 0) sorted by (group, last reader), ties by gate index:
    two stable counting sorts (by last reader, then by group) into ``order`` (position ->
    gate). (Only the gate is written: one output stream per bucket keeps the scatter in
    cache.)"""
    n = order.size
    tmp = np.empty(n, dtype=np.int64)
    cnt = np.zeros(n_groups + 3, dtype=np.int64)
    for k in range(group_of.size):
        if group_of[k] >= 0:
            cnt[last[k] + 2] += 1
    for v in range(1, cnt.size):
        cnt[v] += cnt[v - 1]
    for k in range(group_of.size):
        if group_of[k] >= 0:
            v = last[k] + 1
            tmp[cnt[v]] = k
            cnt[v] += 1
    cnt2 = np.zeros(n_groups + 1, dtype=np.int64)
    for k in range(group_of.size):
        if group_of[k] >= 0:
            cnt2[group_of[k] + 1] += 1
    for v in range(1, cnt2.size):
        cnt2[v] += cnt2[v - 1]
    for i in range(n):
        k = tmp[i]
        g = group_of[k]
        p = cnt2[g]
        order[p] = k
        cnt2[g] += 1


@kernel
def allocate(first, n_slots_max, order, last_of, starts, sizes, n_groups, slot_at):
    """The slot of every position of the ordered gates (``order``: position -> gate; the
    positions of group g are ``starts[g] ..`` in order of their last reader ``last_of``):
    each group gets one block, released run by run (consecutive positions with the same last
    reader) before the group after the last reader runs; a group reads its operands before
    it writes, so its block may reuse them. Returns the number of slots."""
    n = order.size
    # runs (positions of one group with the same last reader) and when their slots are
    # released (-1: never, the outputs)
    n_runs = 0
    for g in range(n_groups):
        prev = -2
        for i in range(starts[g], starts[g] + sizes[g]):
            e = last_of[order[i]]
            if e != prev:
                n_runs += 1
                prev = e
    run_pos = np.empty(n_runs, dtype=np.int64)
    run_len = np.empty(n_runs, dtype=np.int64)
    run_when = np.empty(n_runs, dtype=np.int64)
    run_group = np.empty(n_runs, dtype=np.int64)
    r = -1
    for g in range(n_groups):
        prev = -2
        for i in range(starts[g], starts[g] + sizes[g]):
            e = last_of[order[i]]
            if e != prev:
                prev = e
                r += 1
                run_pos[r] = i
                run_len[r] = 0
                run_group[r] = g
                run_when[r] = -1 if e >= n_groups else (e if e > g else g + 1)
            run_len[r] += 1
    # runs released before group g, as lists by g
    rel_ptr = np.zeros(n_groups + 2, dtype=np.int64)
    for r in range(n_runs):
        if run_when[r] >= 0:
            rel_ptr[run_when[r] + 1] += 1
    for g in range(1, rel_ptr.size):
        rel_ptr[g] += rel_ptr[g - 1]
    rel = np.empty(rel_ptr[-1], dtype=np.int64)
    fill = rel_ptr.copy()
    for r in range(n_runs):
        w = run_when[r]
        if w >= 0:
            rel[fill[w]] = r
            fill[w] += 1

    widest = 1
    for g in range(n_groups):
        if sizes[g] > widest:
            widest = sizes[g]
    buf, meta = arena_new(first, n_slots_max, widest)
    bases = np.empty(n_groups, dtype=np.int64)
    for g in range(n_groups):
        for j in range(rel_ptr[g], rel_ptr[g + 1]):
            r = rel[j]
            rg = run_group[r]
            arena_free(buf, meta, bases[rg] + run_pos[r] - starts[rg], run_len[r])
        bases[g] = arena_take(buf, meta, sizes[g])
    n_used = first
    for g in range(n_groups):
        s0 = starts[g]
        for i in range(sizes[g]):
            v = bases[g] + i
            slot_at[s0 + i] = v
            if v + 1 > n_used:
                n_used = v + 1
    return n_used


@kernel
def group_numbers(op, level, group_of):
    """Per computed gate its group: the rank of (level, is AND) among the keys present;
    returns the number of groups. Levels start at 1."""
    top = 0
    for k in range(op.size):
        if op[k] <= 2 and level[k] > top:
            top = level[k]
    rank = np.zeros(2 * top + 2, dtype=np.int64)
    for k in range(op.size):
        if op[k] <= 2:
            rank[2 * level[k] + (1 if op[k] == 1 else 0)] = 1
    n_groups = 0
    for v in range(rank.size):
        if rank[v]:
            rank[v] = n_groups
            n_groups += 1
        else:
            rank[v] = -1
    for k in range(op.size):
        if op[k] <= 2:
            group_of[k] = rank[2 * level[k] + (1 if op[k] == 1 else 0)]
    return n_groups


@kernel
def operands(op, in0, in1, n_in, order, slot_at, zero, one, slot_of, a, b):
    """Every wire's slot (inputs first, constants in the constant slots) and the operand
    slots of the ordered gates (NOT reads the constant-one slot as its second operand)."""
    for w in range(n_in):
        slot_of[w] = w
    for k in range(op.size):
        if op[k] == 3:
            slot_of[n_in + k] = zero
        elif op[k] == 4:
            slot_of[n_in + k] = one
    for i in range(order.size):
        slot_of[n_in + order[i]] = slot_at[i]
    for i in range(order.size):
        k = order[i]
        a[i] = slot_of[in0[k]]
        b[i] = one if op[k] == 2 else slot_of[in1[k]]


@kernel
def run_gates(op, in0, in1, n_in, val):
    """Evaluate gate by gate into ``val`` (wires, words), the inputs' rows already set: the
    engine for a few words per wire, where a plan would cost more than it saves."""
    w = val.shape[1]
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    for k in range(op.size):
        o = op[k]
        r = n_in + k
        if o == 0:
            a = in0[k]
            b = in1[k]
            for j in range(w):
                val[r, j] = val[a, j] ^ val[b, j]
        elif o == 1:
            a = in0[k]
            b = in1[k]
            for j in range(w):
                val[r, j] = val[a, j] & val[b, j]
        elif o == 2:
            a = in0[k]
            for j in range(w):
                val[r, j] = val[a, j] ^ ones
        else:
            v = ones if o == 4 else np.uint64(0)
            for j in range(w):
                val[r, j] = v
