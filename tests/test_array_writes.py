"""Arrays written element by element: persistent values (Agg.set) and the programs on them.

An element write makes a new array value in O(1) (the old value stays as it was, for the other
branch of a secret ``if`` or a variable it was copied to); a secret ``if`` that wrote a few
elements multiplexes only those. These tests check the values against a plain list model, and
whole programs against the same statements run as Python on lists.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from yaogc.circuits.evaluate import evaluate
from yaogc.circuits.types import ArrayType, uint
from yaogc.compiler import compile_source
from yaogc.compiler.values import Agg

U8 = uint(8)


# --- the value ------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.integers(1, 12), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 3),
                                              st.integers(0, 10**6)), max_size=60))
def test_every_version_keeps_its_elements(n, steps):
    """Any mix of writes to the newest or to older versions, reads and layouts: each version
    reads as the list it was made as, and differs() names every index where two differ."""
    start = tuple(f"e{i}" for i in range(n))
    versions = [(Agg(start, ArrayType(U8, n)), list(start))]
    for pick, kind, k in steps:
        v, model = versions[pick % len(versions)]
        i = k % n
        if kind <= 1:
            new_model = list(model)
            new_model[i] = f"w{len(versions)}"
            versions.append((v.set(i, new_model[i]), new_model))
        elif kind == 2:
            assert v.item(i) == model[i]
        else:
            assert list(v.items) == model
    for v, model in versions:
        assert len(v) == n
        assert [v.item(i) for i in range(n)] == model
        assert list(v.items) == model
    for _ in range(20):
        (a, ma), (b, mb) = random.Random(len(steps)).sample(versions * 2, 2)
        got = a.differs(b)
        if got is not None:
            assert got == sorted(set(got))
            assert {i for i in range(n) if ma[i] != mb[i]} <= set(got)
        # written_at names one index only where b became a by writes at that index alone
        k = a.written_at(b)
        if k is not None:
            assert a is not b and got in (None, [k])     # differs walks at most n + 1
            assert all(ma[i] == mb[i] for i in range(n) if i != k)


def test_writes_to_the_newest_version_share_one_list():
    """A loop writing every element of a large array copies it at most once: each write to
    the newest version hands the same list on (the cost of an unrolled loop over N records
    is linear, not N^2)."""
    n = 20_000
    v = Agg(tuple(range(n)), ArrayType(U8, n))
    first = v.set(0, -1)
    v = first
    for i in range(1, n):
        v = v.set(i, -1 - i)
    assert v._arr is not None and first._arr is None
    assert v.items == tuple(-1 - i for i in range(n))
    assert first.item(5) == 5 and first.item(0) == -1
    assert v.differs(first) == list(range(1, n))
    # a secret 'if' writing v[k] and its merge: two writes at k, what its condition's
    # readers are found from at once
    w = first.set(7, "x").set(7, "mux")
    assert w.written_at(first) == 7 and first.written_at(w) is None
    assert first.set(7, "x").set(8, "y").written_at(first) is None
    assert v.written_at(first) is None and first.written_at(first) is None


# --- programs -------------------------------------------------------------------------------
N = 6


@st.composite
def _programs(draw):
    """A yaogc program writing elements of u8 arrays under public and secret conditions, with
    copies of whole arrays, and the same statements as Python on lists."""
    idx = st.integers(0, N - 1)

    def expr():
        kind = draw(st.integers(0, 4))
        i, j = draw(idx), draw(idx)
        if kind == 0:
            return f"a[{i}] + v[{j}]", lambda s: (s["a"][i] + s["v"][j]) % 256
        if kind == 1:
            return f"v[{i}] ^ x", lambda s: s["v"][i] ^ s["x"]
        if kind == 2:
            return f"w[{i}] + 1", lambda s: (s["w"][i] + 1) % 256
        if kind == 3:
            return "x", lambda s: s["x"]
        return f"v[{i}] + w[{j}]", lambda s: (s["v"][i] + s["w"][j]) % 256

    def cond():
        i, j = draw(idx), draw(idx)
        if draw(st.booleans()):
            return f"a[{i}] > v[{j}]", lambda s: s["a"][i] > s["v"][j]
        return f"w[{i}] <= x", lambda s: s["w"][i] <= s["x"]

    def write(target):
        i = draw(idx)
        text, f = expr()

        def run(s, i=i, f=f):
            s[target][i] = f(s)
        return [f"{target}[{i}] = {text}"], run

    def block(depth):
        lines, runs = [], []
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.integers(0, 4 if depth < 2 else 1))
            if kind <= 1:
                ls, r = write(draw(st.sampled_from(["v", "w"])))
            elif kind == 2:
                ls, r = ["w = v"], lambda s: s.__setitem__("w", list(s["v"]))
            else:
                ct, cf = cond()
                tl, tr = block(depth + 1)
                ls = [f"if {ct}:"] + ["    " + x for x in tl]
                er = None
                if kind == 4:
                    el, er = block(depth + 1)
                    ls += ["else:"] + ["    " + x for x in el]

                def r(s, cf=cf, tr=tr, er=er):
                    if cf(s):
                        tr(s)
                    elif er is not None:
                        er(s)
            lines += ls
            runs.append(r)

        def run(s, runs=runs):
            for r in runs:
                r(s)
        return lines, run

    body, run = block(0)
    loop = draw(st.booleans())
    src = ["party alice, bob",
           f"def main(a: u8[{N}] @alice, x: u8 @bob) -> (v: u8[{N}] @both, w: u8[{N}] @both):",
           f"    v = [a[i] for i in range({N})]",
           f"    w = [u8(i) for i in range({N})]"]
    if loop:
        src.append("    for k in range(2):")
    src += [("        " if loop else "    ") + x for x in body]
    src.append("    return v, w")

    def model(a, x):
        s = {"a": list(a), "x": x, "v": list(a), "w": list(range(N))}
        for _ in range(2 if loop else 1):
            run(s)
        return {"v": s["v"], "w": s["w"]}
    return "\n".join(src) + "\n", model


@settings(max_examples=60, deadline=None)
@given(_programs(), st.integers(0, 2**32))
def test_programs_writing_elements_agree_with_python(prog, seed):
    src, model = prog
    c = compile_source(src)
    rng = random.Random(seed)
    rows = [{"a": [rng.choice([0, 1, 255, rng.randrange(256)]) for _ in range(N)],
             "x": rng.choice([0, 255, rng.randrange(256)])} for _ in range(8)]
    for row, out in zip(rows, evaluate(c, rows)):
        assert out == model(row["a"], row["x"]), (src, row)


def test_a_loop_writing_a_large_array_elaborates():
    """20,000 element writes under secret conditions: a loop over records of the size users
    run (each write and each merge touches only the written element)."""
    n = 20_000
    src = ("party alice, bob\n"
           f"def main(a: u8[{n}] @alice, t: u8 @bob) -> (r: u8[{n}] @both):\n"
           f"    r = [u8(0) for i in range({n})]\n"
           f"    for i in range({n}):\n"
           "        if a[i] > t:\n"
           "            r[i] = a[i]\n"
           "    return r\n")
    c = compile_source(src)
    a = [random.Random(1).randrange(256) for _ in range(n)]
    out = evaluate(c, [{"a": a, "t": 100}])[0]["r"]
    assert out == [x if x > 100 else 0 for x in a]
