"""Shared fixtures: where the public reference circuits are, and a skip when they are absent."""

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# the compiled-circuit cache of every test (and of the CLI processes they start) lives in a
# directory of this run, never in the user's cache
if "YAOGC_CACHE_DIR" not in os.environ:
    os.environ["YAOGC_CACHE_DIR"] = tempfile.mkdtemp(prefix="yaogc-test-cache-")


def reference_dir() -> Path | None:
    """``$YAOGC_REFERENCE_CIRCUITS`` or ``../shared/circuits/bristol`` beside the checkout."""
    env = os.environ.get("YAOGC_REFERENCE_CIRCUITS")
    d = Path(env) if env else ROOT.parent / "shared" / "circuits" / "bristol"
    return d if d.is_dir() else None


@pytest.fixture
def bristol_path():
    """A function name -> path of a reference circuit, skipping the test when it is absent."""
    def get(name: str) -> Path:
        d = reference_dir()
        if d is None or not (d / name).is_file():
            pytest.skip(f"reference circuit {name} not found (set YAOGC_REFERENCE_CIRCUITS or "
                        f"place shared/circuits/bristol beside the checkout)")
        return d / name
    return get


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory):
    """(garbler's, evaluator's) TLSConfig: fresh certificates, each pinning the other's."""
    from yaogc.runtime.tls import TLSConfig, generate_certificate
    d = tmp_path_factory.mktemp("certs")
    ka, ca = generate_certificate("garbler", d)
    kb, cb = generate_certificate("evaluator", d)
    return TLSConfig(ca, ka, cb), TLSConfig(cb, kb, ca)


# what tests/warm_kernels.py prints once the Schedule's kernels are in numba's cache
WARM_SCHEDULED = "scheduled"


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels():
    """Compile (or load from numba's cache) every front-end kernel once, before any test, so
    that no test and no process a test forks pays numba's first-time compilation."""
    from yaogc.circuits import jit
    if not jit.ENABLED:
        yield
        return
    from yaogc.circuits.schedule import schedule
    from yaogc.compiler import compile_file
    # the Schedule's kernels, and the variants later tests meet, are compiled beside this
    # on the other core, while this process compiles the compiler's
    import subprocess
    import sys
    import threading
    beside = subprocess.Popen([sys.executable, str(Path(__file__).with_name("warm_kernels.py"))],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    scheduled = threading.Event()

    def hear() -> None:
        for line in beside.stdout:
            if line.strip() == WARM_SCHEDULED:
                scheduled.set()
        scheduled.set()     # it ended (or failed): this process compiles what is missing
    threading.Thread(target=hear, daemon=True).start()
    old = jit.SMALL
    jit.SMALL = 0
    try:
        c = compile_file(ROOT / "examples" / "count_above.yao", {"N": "4"})
        scheduled.wait(120)
        schedule(c)
        _ = c.and_depth
    finally:
        jit.SMALL = old
    yield
    if beside.poll() is None:
        beside.kill()
    beside.wait()


@pytest.fixture(autouse=True)
def _schedules_not_kept_on_disk_after_a_test():
    """A run (the CLI's, or yaogc.run's with the cache) switches the schedule's disk cache
    on for the rest of the process: each test starts with it as the library's default."""
    yield
    from yaogc.circuits.schedule import use_disk_cache
    use_disk_cache(False)
