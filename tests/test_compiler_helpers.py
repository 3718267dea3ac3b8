"""Helpers shared by the compiler tests: compile a snippet, run it three ways, compare."""

from __future__ import annotations

from yaogc.circuits.evaluate import evaluate
from yaogc.circuits.types import ArrayType, BoolType, FixedType, IntType, TupleType
from yaogc.compiler import compile_source, interpret

HEADER = "party alice, bob\n"


def program(params: str, returns: str, body: str, extra: str = "") -> str:
    """A main with the given parameter list, result list and indented body lines."""
    lines = "".join(f"    {ln}\n" for ln in body.strip("\n").splitlines())
    return f"{HEADER}{extra}def main({params}) -> ({returns}):\n{lines}"


def run(src: str, defines=None, **inputs):
    """Outputs of the compiled circuit, checked equal to the reference interpreter's."""
    circuit = compile_source(src, "<test>", defines)
    got = evaluate(circuit, [inputs])[0]
    ref = interpret(src, inputs, defines)
    assert got == ref, (got, ref)
    return got


def run_many(src: str, rows, defines=None):
    circuit = compile_source(src, "<test>", defines)
    outs = evaluate(circuit, rows)
    for row, got in zip(rows, outs):
        ref = interpret(src, row, defines)
        assert got == ref, (row, got, ref)
    return outs


def random_value(t, rng):
    """A random value of type t, its extremes drawn often."""
    if isinstance(t, ArrayType):
        return [random_value(t.elem, rng) for _ in range(t.length)]
    if isinstance(t, TupleType):
        return [random_value(e, rng) for e in t.elems]
    if isinstance(t, BoolType):
        return rng.random() < 0.5
    if isinstance(t, FixedType):
        lo, hi = -(1 << (t.bits - 1)), (1 << (t.bits - 1)) - 1
        return rng.choice([lo, hi, 0, rng.randint(lo, hi), rng.randint(-999, 999)]) / (1 << t.frac)
    assert isinstance(t, IntType), t
    lo, hi = (-(1 << (t.bits - 1)), (1 << (t.bits - 1)) - 1) if t.signed else (0, (1 << t.bits) - 1)
    return rng.choice([lo, hi, 0, rng.randint(lo, hi), rng.randint(max(lo, -9), min(hi, 9))])


def interpret_without_rules(src: str, row):
    """The reference interpreter on IR made without the algebraic rules (compiler/simplify.py),
    so that the rules themselves are checked (the plain interpreter's IR has them applied)."""
    from yaogc.compiler import ir
    saved = ir._RULES
    ir._RULES = {}
    try:
        return interpret(src, row)
    finally:
        ir._RULES = saved


def test_a_library_compile_leaves_the_garbage_collector_running():
    # a compile paused the collector for the whole process, so another thread's garbage
    # piled up meanwhile (347 MB in 2.5 s); only a process that is one command pauses it,
    # and a library's compile keeps what survives out of the collector's walks meanwhile
    import gc
    from yaogc.compiler import compile_source, deep
    seen = []
    src = ("party a, b\ndef main(x: u8[64] @a, y: u8 @b) -> (c: u16 @both):\n"
           "    c: u16 = 0\n    for i in range(64):\n        if x[i] > y:\n            c += 1\n"
           "    return c\n")
    assert not deep.FREEZE_SURVIVORS
    gc.unfreeze()

    def progress(*_):
        # garbage made by another thread meanwhile is still collected; what survives a
        # collection of the older generations is kept out of later walks until the end
        gc.collect(1)
        seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
    compile_source(src, "c.yao", progress=progress)
    assert seen and all(enabled for enabled, _ in seen)
    assert any(frozen for _, frozen in seen)
    assert gc.get_freeze_count() == 0 and not any(
        getattr(f, "__module__", "") == deep.__name__ for f in gc.callbacks)
    # a process that froze objects of its own keeps them frozen: nothing is unfrozen
    mine = [[] for _ in range(100)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        seen.clear()
        compile_source(src, "c.yao", progress=progress)
        assert seen and gc.get_freeze_count() > frozen // 2    # not unfrozen (0)
    finally:
        gc.unfreeze()
    del mine


def test_a_numba_that_cannot_load_leaves_the_kernels_plain_python(monkeypatch):
    # under a small address-space limit numba's LLVM library does not load (OSError):
    # a compile failed with "internal error" instead of running its passes as Python
    from yaogc.circuits import jit
    from yaogc.compiler import compile_source

    def cannot():
        raise OSError("Could not find/load shared object file 'libllvmlite.so'")
    monkeypatch.setattr(jit, "ENABLED", True)
    monkeypatch.setattr(jit, "load_numba", cannot)
    assert jit.compiled("yaogc.circuits.rehash") is False and not jit.ENABLED
    src = ("party a, b\ndef main(x: u8[64] @a, y: u8 @b) -> (c: u16 @both):\n"
           "    c: u16 = 0\n    for i in range(64):\n        if x[i] > y:\n            c += 1\n"
           "    return c\n")
    monkeypatch.setattr(jit, "SMALL", 0)        # every pass would run compiled
    assert compile_source(src, "c.yao").n_gates > 0


def test_a_long_phase_is_told_again_while_it_runs(monkeypatch):
    # a parse of a very long source makes no word nodes to report on: nothing was heard
    # for 50 s, then 'checked'
    from yaogc.compiler import compile_source, pipeline
    monkeypatch.setattr(pipeline, "HEARTBEAT_S", 0.01)
    heard = []
    src = ("party a, b\ndef main(x: u8 @a, y: u8 @b) -> (r: u8 @both):\n    s: u8 = x\n" +
           "".join(f"    s = s ^ {i % 256}\n" for i in range(3000)) + "    return s ^ y\n")
    compile_source(src, "long.yao", progress=lambda phase, gates, s: heard.append(phase))
    # its 3,000 statements take longer than a beat: the phase is told while it runs (a
    # million word operations would be the first report otherwise)
    assert heard[0] == "elaborating" and heard.index("checked") > 0, heard
