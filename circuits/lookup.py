"""Lookup in a constant table by a secret index, through the table's algebraic normal form.

Each output bit of a table of 2^k entries is a Boolean function of the k index bits, and every
such function is a XOR of monomials (products of index bits): its algebraic normal form, which
the Moebius transform gives. Split the index into its b low bits and k-b high bits; then

    out_j = XOR over low monomials S of  l^S & Q_jS(h),

where Q_jS is a XOR of high monomials (free once they exist). The cost in AND gates is one per
needed high monomial of degree >= 2, one per needed low monomial of degree >= 2, and one per
distinct non-trivial (S, Q_jS) product: the split b is chosen to make that smallest. A
256-entry byte table costs 82 ANDs this way at b = 2 (57 high monomials, 1 low, 3 per output
bit), against about 300 for a multiplexer tree over the constants; the AND-depth is that of
the monomials, about log2 k + 1, instead of k. Products shared by several output bits (the
same S and Q) are built once.
"""

from __future__ import annotations

from .builder import ONE, ZERO, Builder

MAX_BITS = 10       # at most 1024 entries: the transform and the split search stay small


def anf(values: list[int], k: int) -> list[int]:
    """The ANF coefficients of all output bits at once: coefficient word of monomial m (a
    mask of index bits), bit j set when monomial m appears in output bit j's form."""
    c = list(values)
    for i in range(k):
        step = 1 << i
        for m in range(1 << k):
            if m & step:
                c[m] ^= c[m ^ step]
    return c


def _closure(monos) -> set[int]:
    """The monomials needed to build ``monos``, each as (itself without its top bit) AND (its
    top bit): every member of degree >= 2 costs one AND."""
    out = set()
    for m in monos:
        while m & (m - 1) and m not in out:
            out.add(m)
            m &= ~(1 << (m.bit_length() - 1))
    return out


def _plan(coef: list[int], k: int, nb: int, w: int):
    """(AND cost, products) of the split with nb low bits; products maps each low monomial S
    to the high-monomial set Q of every output bit (a tuple indexed by bit)."""
    low_mask = (1 << nb) - 1
    groups: dict[int, list[tuple[int, int]]] = {}
    for m, word in enumerate(coef):
        if word:
            groups.setdefault(m & low_mask, []).append((m & ~low_mask, word))
    high, low, products = set(), set(), {}
    ands = 0
    for s, terms in groups.items():
        qs = tuple(frozenset(t for t, word in terms if word >> j & 1) for j in range(w))
        products[s] = qs
        for q in qs:
            high.update(q)
        if s:
            distinct = {q for q in qs if q and q != frozenset((0,))}
            ands += len(distinct)
            if any(qs):
                low.add(s)
    ands += len(_closure(high)) + len(_closure(low))
    return ands, products


def lookup_cost(table: list[int], k: int, w: int) -> tuple[int, int]:
    """(fewest ANDs, the number of low index bits that gives them) for ``table`` padded with
    zeros to 2^k entries of w bits."""
    coef = anf(_padded(table, k, w), k)
    return min((_plan(coef, k, nb, w)[0], nb) for nb in range(k + 1))


def _padded(table: list[int], k: int, w: int) -> list[int]:
    mask = (1 << w) - 1
    vals = [v & mask for v in table[:1 << k]]
    return vals + [0] * ((1 << k) - len(vals))


def lookup_const(b: Builder, idx: list[int], table: list[int], w: int) -> list[int]:
    """The w bits of table[idx] (entries past the table's end read 0), idx given as k wires
    (bit 0 first), through the cheapest split of the algebraic normal form."""
    k = len(idx)
    coef = anf(_padded(table, k, w), k)
    nb = min((_plan(coef, k, n, w)[0], n) for n in range(k + 1))[1]
    _, products = _plan(coef, k, nb, w)
    memo: dict[int, int] = {0: ONE}

    def mono(m: int) -> int:
        got = memo.get(m)
        if got is None:
            top = m.bit_length() - 1
            rest = m & ~(1 << top)
            got = idx[top] if rest == 0 else b.and_(mono(rest), idx[top])
            memo[m] = got
        return got

    def xor_of(q) -> int:
        acc = ZERO
        for t in sorted(q):
            acc = b.xor(acc, mono(t))
        return acc

    out = [ZERO] * w
    for s in sorted(products):
        qs = products[s]
        built: dict[frozenset, int] = {}
        for j, q in enumerate(qs):
            if not q:
                continue
            term = built.get(q)
            if term is None:
                v = xor_of(q)
                term = v if s == 0 else (mono(s) if q == frozenset((0,)) else b.and_(mono(s), v))
                built[q] = term
            out[j] = b.xor(out[j], term)
    return out
