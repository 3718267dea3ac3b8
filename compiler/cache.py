"""The compiled-circuit cache: a program compiled once is read back at once the next time.

An entry is keyed by the SHA-256 of the program's bytes, its file name (the circuit is named
after it), its ``-D`` values, and the yaogc version together with a digest of the compiler's
and the circuit library's own source files, so a changed compiler never serves an old
circuit. The entry is a native circuit file behind a one-line header naming its key, the
circuit's content hash and the digest of its range warnings (kept beside it); on reading, the
key must match, the native reader verifies the circuit's content hash, which must be the one
the header names, and the warnings must have their digest, so a corrupt, truncated or foreign
entry (or another entry's circuit or warnings spliced into it) is ignored (and rebuilt), never
trusted. Where the cache
lives: :mod:`yaogc.circuits.diskcache`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from yaogc.circuits import diskcache
from yaogc.circuits.circuit import CHECK_COMPILED_FROM, Circuit, load_check_kernel
from yaogc.circuits.diskcache import cache_dir  # noqa: F401  (re-exported for callers)
from yaogc.circuits.errors import InputError
from yaogc.circuits.native import native_parts, read_native

_HEADER = b"yaogc-cache 2 "
# after the key: the circuit's content hash and the digest of its warnings (hex SHA-256
# each, a space between, a newline after): an entry holds the circuit compiled for its key,
# and the warnings compiled with that circuit, not another entry's spliced in
_BINDING = 64 + 1 + 64 + 1


def code_digest() -> str:
    return diskcache.code_digest("yaogc.circuits", "yaogc.compiler")


def cache_key(text: bytes, filename: str, defines: dict[str, str] | None) -> str:
    d = json.dumps(sorted((str(k), str(v)) for k, v in (defines or {}).items()))
    h = hashlib.sha256(b"yaogc compiled circuit\0")
    # the name as the file system has it: bytes that are no UTF-8 come as surrogates
    for part in (code_digest().encode(), os.fsencode(Path(filename).name), d.encode(), text):
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def load(key: str) -> tuple[Circuit, str] | None:
    """The cached circuit for ``key`` and the digest of its warnings, or None (absent,
    unreadable, corrupt or foreign)."""
    try:
        if os.stat(cache_dir() / f"{key}.yaoc").st_size >= 9 * CHECK_COMPILED_FROM:
            load_check_kernel()     # loads while the file is read (9 bytes a gate)
    except OSError:
        pass
    got = diskcache.read(f"{key}.yaoc", _HEADER + key.encode() + b" ", _BINDING)
    if got is None:
        return None
    binding, data = got
    try:
        content, warned = binding.decode("ascii").split()
        circuit = read_native(data)
    except (InputError, ValueError, MemoryError):
        return None
    if circuit.content_hash != content:
        return None         # a verified circuit, but not the one written for this key
    return circuit, warned


def _warnings_json(warnings) -> bytes:
    return json.dumps([w.__dict__ for w in warnings]).encode()


def store(key: str, circuit: Circuit, then=None, warnings=None, defer: bool = False) -> None:
    """Write the entry atomically (a reader never sees half a file). A large circuit's entry
    is written on a background thread (:func:`~yaogc.circuits.diskcache.write_later`), so
    the schedule can be built meanwhile; a circuit the native format cannot hold is not
    cached. ``then()`` runs once the entry is written (or could not be). ``warnings``: the
    warnings as :func:`store_warnings` kept them (default: the circuit's). ``defer``: a
    large circuit's write waits for its schedule (:func:`~yaogc.circuits.diskcache.write_later`)."""
    header = _HEADER + key.encode() + b" "
    kept = circuit.warnings if warnings is None else warnings

    def parts() -> list:
        warned = hashlib.sha256(_warnings_json(kept or [])).hexdigest()
        return [f"{circuit.content_hash} {warned}\n".encode(), *native_parts(circuit)]
    if circuit.n_gates >= diskcache.BACKGROUND_GATES:
        diskcache.write_later(f"{key}.yaoc", header, parts, then, defer=defer)
        return
    try:
        diskcache.write(f"{key}.yaoc", header, parts())
    except InputError:
        pass
    finally:
        if then is not None:
            then()


def lock(key: str) -> diskcache.EntryLock:
    """The lock two processes compiling the same program take (see EntryLock)."""
    return diskcache.EntryLock(f"{key}.yaoc")


def store_warnings(key: str, warnings) -> None:
    """The program's range warnings beside its cached circuit (a cache hit shows them too)."""
    diskcache.write(f"{key}.warn", _HEADER + key.encode() + b"\n", [_warnings_json(warnings)])


def load_warnings(key: str, digest: str) -> list | None:
    """The warnings stored with ``key``'s circuit, or None when none are stored or they are
    not those its circuit entry names (``digest``)."""
    from .overflow import RangeWarning
    data = diskcache.read(f"{key}.warn", _HEADER + key.encode() + b"\n")
    if data is None or hashlib.sha256(data).hexdigest() != digest:
        return None
    try:
        return [RangeWarning(**w) for w in json.loads(data)]
    except (ValueError, TypeError):
        return None
