"""The compiled-circuit cache: a program compiled once is read back at once the next time.

An entry is keyed by the SHA-256 of the program's bytes, its file name (the circuit is named
after it), its ``-D`` values, and the yaogc version together with a digest of the compiler's
and the circuit library's own source files, so a changed compiler never serves an old
circuit. The entry is a native circuit file behind a one-line header naming its key; on
reading, the key must match and the native reader verifies the circuit's content hash, so a
corrupt, truncated or foreign entry is ignored (and rebuilt), never trusted.

Location: ``$YAOGC_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/yaogc``, else
``~/.cache/yaogc``. A cache that cannot be written is skipped without failing the compile.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.errors import InputError
from yaogc.circuits.native import native_bytes, read_native

_HEADER = b"yaogc-cache 1 "


def cache_dir() -> Path:
    env = os.environ.get("YAOGC_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "yaogc"


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The yaogc version and a digest of the sources that decide what a program compiles to."""
    import yaogc.circuits
    import yaogc.compiler
    try:
        from importlib.metadata import version
        v = version("yaogc")
    except Exception:   # not installed as a distribution (a bare checkout)
        v = "unknown"
    h = hashlib.sha256(v.encode())
    for pkg in (yaogc.circuits, yaogc.compiler):
        root = Path(pkg.__file__).parent
        for f in sorted(root.glob("*.py")) + sorted(root.glob("*.lark")):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def cache_key(text: bytes, filename: str, defines: dict[str, str] | None) -> str:
    d = json.dumps(sorted((str(k), str(v)) for k, v in (defines or {}).items()))
    h = hashlib.sha256(b"yaogc compiled circuit\0")
    for part in (code_digest().encode(), Path(filename).name.encode(), d.encode(), text):
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def load(key: str, where: Path | None = None) -> Circuit | None:
    """The cached circuit for ``key``, or None (absent, unreadable, corrupt or foreign)."""
    path = (where or cache_dir()) / f"{key}.yaoc"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = _HEADER + key.encode() + b"\n"
    if not data.startswith(head):
        return None
    try:
        return read_native(data[len(head):])
    except (InputError, ValueError, MemoryError):
        return None


def store(key: str, circuit: Circuit, where: Path | None = None) -> Path | None:
    """Write the entry atomically (a reader never sees half a file); None if it could not."""
    d = where or cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        data = native_bytes(circuit)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".yaoc")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_HEADER + key.encode() + b"\n")
                f.write(data)
            os.replace(tmp, d / f"{key}.yaoc")
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except (OSError, InputError):
        return None
    return d / f"{key}.yaoc"
