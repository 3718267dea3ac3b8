"""The AND-minimal word library: everything the compiler lowers integer operations to.

A word is a list of :class:`~yaogc.circuits.builder.Builder` wires, bit 0 first; functions
take the builder first. Basic operations live in :mod:`.wordops`, the bit heap behind sums
and products in :mod:`.bitheap`, popcount and multiplication in :mod:`.arith` (with
:mod:`.mulplan` choosing the multiplier per width), constant multiplication in
:mod:`.constmul`, division in :mod:`.division`; this module gathers them under one name.
Widened operands (top bits constant zero, or copies of the sign wire) cost only their own
width in mul, mul_full and the divisions. AND counts (free XOR), n = width:

=====================================  ==========================================
add, sub mod 2^n                       n-1
add_carry, sub_borrow                  n
inc, dec, neg                          n-2
lt, le, gt, ge (signed or unsigned)    n
eq, ne                                 n-1
mux                                    n
abs_                                   n-1
min_, max_                             2n
shl, shr, rotl, rotr by a constant     0
shl_var, shr_var by a w-bit amount     n*k (k = ceil(log2 n)) if w <= k,
                                       else n*k + n + w - k - 1
rotl_var, rotr_var                     n*k if n is a power of 2 or w <= k, else at most
                                       n*w, less when mod_small(s, n) first pays
popcount of n bits                     n - popcount(n)
mul mod 2^n                            <= n^2-n+1, fewer from 25 bits (Karatsuba):
                                       32 bits 951, 64 bits 3472 (AND-depth 63)
mul_full (2n bits, either signedness)  <= 2n^2-n, fewer from 14 bits: 64 bits 5220
mul_const                              heap rows per binary/NAF digit, shared pairs
divmod_u                               n^2+3n-3 up to 7 bits, then restoring and
                                       non-restoring steps: 32 bits 910, 64 bits 3358
divmod_s                               <= n^2+6n-6: 32 bits 1033, 64 bits 3609
divmod by a constant word              folded restoring or reciprocal multiplication,
                                       or restoring and non-restoring steps folded,
                                       whichever is smallest (u32 / 10: 60)
=====================================  ==========================================

Low-depth alternatives that spend more ANDs (:mod:`.shallow`): ``add_shallow``,
``sub_shallow``, ``sub_borrow_shallow`` and ``lt_shallow`` with AND-depth about log2 n + 1
instead of n; ``mul``, ``mul_full`` and ``sum_words`` with ``shallow=True`` (a Dadda tree
and a parallel-prefix adder: 64-bit mul in 4342 ANDs at depth 14); ``divmod_u`` and
``divmod_s`` with ``shallow=True`` (64-bit: depth 510 instead of 2205, 3x the ANDs).
"""

from .arith import mul, mul_full, popcount, sum_words
from .constmul import mul_const
from .division import (divmod_const_s, divmod_const_u, divmod_s, divmod_u, ref_divmod_s,
                       ref_divmod_u)
from .bitheap import BitHeap, and_level, live_and_count
from .shallow import add_shallow, lt_shallow, sub_borrow_shallow, sub_shallow
from .wordops import (Word, WordError, abs_, add, add_carry, and_tree, and_w, cond_neg,
                      const_value, const_word, dec, eq, extend, ge, gt, inc, inc_by, is_zero,
                      le, lt, lt_chain, max_, max_words, min_, min_words, mux, ne, neg, not_w,
                      mod_small, or_tree, or_w, reduce_balanced, rotl, rotl_var, rotr,
                      rotr_var, shl, shl_var, shr, shr_var, sub, sub_borrow, truncate, xor_w)

__all__ = [
    "Word", "WordError", "BitHeap", "and_level", "live_and_count",
    "const_word", "const_value", "extend", "truncate",
    "and_w", "or_w", "xor_w", "not_w", "and_tree", "or_tree",
    "add", "add_carry", "sub", "sub_borrow", "inc", "inc_by", "dec", "neg", "cond_neg", "abs_",
    "lt", "lt_chain", "le", "gt", "ge", "eq", "ne", "is_zero", "mux",
    "min_", "max_", "min_words", "max_words", "reduce_balanced", "sum_words", "popcount",
    "mod_small", "shl", "shr", "rotl", "rotr", "shl_var", "shr_var", "rotl_var", "rotr_var",
    "mul", "mul_full", "mul_const", "divmod_u", "divmod_s", "ref_divmod_u", "ref_divmod_s",
    "divmod_const_u", "divmod_const_s",
    "add_shallow", "sub_shallow", "sub_borrow_shallow", "lt_shallow",
]
