"""Fill numba's cache with the Schedule's kernels and the kernel variants the suite meets only
in later tests, in a process beside the first tests (started by conftest's
``compiled_kernels``, which meanwhile compiles the compiler's own): compiling a kernel the
first time costs seconds (the Schedule's about 17 s, again with 8-byte offsets), which a
fresh machine otherwise pays inside those tests, one core left idle. Nothing here is
checked: a variant this misses is compiled by the test that needs it, as before."""

import sys
import tempfile
from pathlib import Path

from yaogc.circuits import jit
from yaogc.circuits import schedule as S
from yaogc.circuits.evaluate import evaluate
from yaogc.compiler import compile_file, compile_source

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    if not jit.ENABLED:
        return
    # compiled as plain Python (small): the compiler's own kernels are the first test's,
    # compiled meanwhile by the process that started this one, which waits for the line
    # below before it schedules. Two circuits: a Schedule is kept with its circuit
    c, c8 = (compile_file(ROOT / "examples" / "count_above.yao", {"N": "4"}) for _ in range(2))
    src = "party p, q\ndef main(a: i8 @p, b: i8 @q) -> (r: i8 @both):\n    return a / b + 1\n"
    checked = compile_source(src, "w.yao", checked=True)
    jit.SMALL = 0
    S.schedule(c)
    _ = c.and_depth
    print("scheduled", flush=True)
    S.OFFSET_32 = 0          # term buffers addressed with 8-byte offsets
    S.schedule(c8)
    evaluate(checked, [{"a": 1, "b": 2}] * 300)
    from yaogc.runtime.cli import main as cli
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.txt"
        path.write_text("2 4\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n2 1 2 0 3 XOR\n")
        cli(["stats", str(path), "--optimized"])


if __name__ == "__main__":
    sys.exit(main())
