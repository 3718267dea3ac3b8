"""A batch split over N worker pairs: the shards, the manifest both coordinators agree on,
and the messages between the two coordinators. No sockets, no Dask here.

A sharded run evaluates one circuit on K independent rows. Row r of a party's batch goes to
shard i when ``start[i] <= r < start[i + 1]``: contiguous blocks in record order whose sizes
differ by at most one (:func:`split_rows`), so both parties split alike without exchanging a
row, and the outputs are gathered back by concatenating the shards in order.

Before any worker starts, the two coordinators agree over their own authenticated connection
on a manifest: the protocol, the circuit's content hash, the roles, the number of shards N,
the batch size K (hence the rows per shard), the retry budget, and the endpoints the
listening party's workers accept on. Any disagreement is refused on both sides with a message
listing what differed (:func:`compare`), in particular a different N.

Each shard then runs one ordinary two-party session (:mod:`yaogc.runtime.protocol`: its own
handshake, base OTs, offset R and tweaks, its own TLS connection). Security model: semi-
honest, as for every run; each party's workers see only that party's rows and keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Mapping, Sequence

from yaogc.circuits.errors import InputError

from .errors import NetworkError, ProtocolError
from .handshake import MAX_BATCH, agreed_batch, shown

PROTOCOL = "yaogc-shards/1"
MAX_SHARDS = 4096
MAX_RETRIES = 100
MAX_MESSAGE = 4 << 20      # a coordinator message: a manifest of 4,096 endpoints fits easily


class Ctl(IntEnum):
    """Messages between the two coordinators (JSON payloads)."""

    HELLO = 1       # protocol, circuit, roles, shards, batch, retries
    MANIFEST = 2    # listener -> connector: rows per shard and the workers' endpoints
    ACK = 3         # connector -> listener: the manifest is accepted, workers start
    ENDPOINT = 4    # listener -> connector: where a retried shard's worker accepts
    OUTCOME = 5     # one shard attempt ended on this side: ok, or the phase and the error
    PING = 6        # keeps the connection alive while the workers run
    BYE = 7         # this coordinator has every outcome it needs and closes


class ShardMismatch(ProtocolError):
    """The two coordinators do not describe the same sharded run."""


class ShardFailed(NetworkError):
    """A shard's session failed (after its retries); the whole run fails with it."""


def split_rows(k: int, n: int) -> list[int]:
    """Rows per shard for K rows over N shards: contiguous, sizes differ by at most one."""
    if n < 1:
        raise InputError(f"the number of worker pairs must be at least 1, not {n}")
    if k < n:
        raise InputError(f"a batch of {k} row{'s' if k != 1 else ''} cannot be split over "
                         f"{n} worker pairs (each shard needs a row); use at most {k}")
    base, extra = divmod(k, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def starts(rows: Sequence[int]) -> list[int]:
    """The first record index of each shard, and K at the end."""
    out = [0]
    for r in rows:
        out.append(out[-1] + r)
    return out


def port_range(host: str, port: int, n: int) -> list[tuple[str, int]]:
    """Worker endpoints after a coordinator's ``host:port``: ports port+1 .. port+n (port 0:
    each worker picks a free port)."""
    if port == 0:
        return [(host, 0)] * n
    if port + n > 65535:
        raise InputError(f"{host}:{port}: the {n} worker ports after it ({port + 1}..{port + n}) "
                         "run past 65535; pick a lower port or list the endpoints")
    return [(host, port + 1 + i) for i in range(n)]


def parse_endpoints(text: str, n: int, flag: str = "--worker-endpoints") -> list[tuple[str, int]]:
    """``HOST:PORT,HOST:PORT,..`` with exactly N entries."""
    from .cli_net import parse_endpoint
    items = [t.strip() for t in text.split(",") if t.strip()]
    if len(items) != n:
        raise InputError(f"{flag}: {len(items)} endpoint{'s' if len(items) != 1 else ''} "
                         f"listed, but --workers is {n} (one endpoint per worker pair)")
    return [parse_endpoint(t, "--listen") for t in items]


# -- the coordinators' hello --------------------------------------------------------------
def describe(digest: str, roles, role: str, shards: int, batch: int | None, retries: int,
             listed: bool) -> dict[str, Any]:
    """This coordinator's view of the run (``batch`` None: this side has no inputs)."""
    return {"protocol": PROTOCOL, "circuit": digest, "role": role,
            "parties": {"garbler": roles.garbler, "evaluator": roles.evaluator},
            "shards": shards, "batch": batch, "retries": retries, "listed": bool(listed)}


def encode(msg: Mapping[str, Any]) -> bytes:
    return json.dumps(msg, sort_keys=True, separators=(",", ":")).encode()


def decode(data: bytes, what: str) -> dict[str, Any]:
    """A coordinator message: a JSON object, else a protocol error naming ``what``."""
    if len(data) > MAX_MESSAGE:
        raise ProtocolError(f"the other coordinator's {what} is {len(data)} bytes, more than "
                            f"{MAX_MESSAGE}", phase="manifest")
    try:
        msg = json.loads(data)
    except (ValueError, RecursionError):
        raise ProtocolError(f"the other coordinator's {what} is not valid JSON",
                            phase="manifest") from None
    if not isinstance(msg, dict):
        raise ProtocolError(f"the other coordinator's {what} is not a JSON object",
                            phase="manifest")
    return msg


def _int(msg: Mapping, key: str, low: int, high: int, what: str, *, none: bool = False):
    v = msg.get(key)
    if v is None and none:
        return None
    if type(v) is not int or not low <= v <= high:
        raise ProtocolError(f"the other coordinator's {what} has a bad '{key}': {shown(v)}",
                            phase="manifest")
    return v


def validate_hello(msg: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(msg.get("protocol"), str) and msg["protocol"] != PROTOCOL:
        raise ShardMismatch(f"the other party speaks {shown(msg['protocol'])}, not a sharded "
                            f"run ({PROTOCOL}): both parties need --workers N",
                            phase="manifest")
    for key in ("protocol", "circuit", "role"):
        if not isinstance(msg.get(key), str):
            raise ProtocolError(f"the other coordinator's hello has no '{key}' (is it a yaogc "
                                "sharded run? both parties need --workers)", phase="manifest")
    parties = msg.get("parties")
    if not (isinstance(parties, dict) and all(isinstance(parties.get(r), str)
                                              for r in ("garbler", "evaluator"))):
        raise ProtocolError("the other coordinator's hello has bad 'parties'", phase="manifest")
    _int(msg, "shards", 1, MAX_SHARDS, "hello")
    _int(msg, "batch", 1, MAX_BATCH, "hello", none=True)
    _int(msg, "retries", 0, MAX_RETRIES, "hello")
    return dict(msg)


def compare(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[str]:
    """What differs between the two hellos, one phrase each (empty: they agree)."""
    diffs = []
    if theirs["protocol"] != mine["protocol"]:
        diffs.append(f"protocol: this side speaks {mine['protocol']}, the other "
                     f"{shown(theirs['protocol'])}")
        return diffs
    if theirs["circuit"] != mine["circuit"]:
        diffs.append(f"circuit: content hash {mine['circuit'][:16]}.. here, "
                     f"{shown(theirs['circuit'], 16)}.. at the other party (not the same "
                     "program, parameters or file)")
    if theirs["role"] == mine["role"]:
        diffs.append(f"roles: both sides are the {mine['role']}")
    if theirs["parties"] != mine["parties"]:
        diffs.append(f"parties: garbler/evaluator {mine['parties']['garbler']}/"
                     f"{mine['parties']['evaluator']} here, "
                     f"{shown(theirs['parties']['garbler'])}/"
                     f"{shown(theirs['parties']['evaluator'])} at the other party")
    if theirs["shards"] != mine["shards"]:
        diffs.append(f"worker pairs: this party runs {mine['shards']}, the other party "
                     f"{theirs['shards']} (both must give the same --workers N)")
    a, b = mine["batch"], theirs["batch"]
    if a is not None and b is not None and a != b and 1 not in (a, b):
        diffs.append(f"batch: {a} rows here, {b} rows at the other party (a side may give "
                     "one row, which then applies to every row of the other's batch)")
    if theirs["retries"] != mine["retries"]:
        diffs.append(f"retries: {mine['retries']} here, {theirs['retries']} at the other "
                     "party (both must give the same --retries)")
    return diffs


def check_hello(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> int:
    """Compare the hellos; returns K or raises ShardMismatch listing every difference."""
    diffs = compare(mine, theirs)
    if diffs:
        raise ShardMismatch("the two parties describe different sharded runs: "
                            + "; ".join(diffs), phase="manifest")
    # K as for one session: the larger batch (a side with one row gives it to every shard,
    # whose sessions broadcast it); a side without inputs takes the other's
    return agreed_batch(mine, theirs)


# -- the manifest ---------------------------------------------------------------------------
@dataclass
class Manifest:
    """What both coordinators agreed on before any worker starts."""

    circuit: str
    rows: list[int]                       # rows per shard, in record order
    endpoints: list[tuple[str, int]]      # where the listener's worker of each shard accepts

    @property
    def shards(self) -> int:
        return len(self.rows)

    @property
    def batch(self) -> int:
        return sum(self.rows)

    def to_json(self) -> dict[str, Any]:
        return {"circuit": self.circuit, "rows": self.rows,
                "endpoints": [[h, p] for h, p in self.endpoints]}


def check_manifest(msg: Mapping[str, Any], expected_rows: list[int], digest: str) -> Manifest:
    """The listener's manifest, checked against what this side derived from the hellos."""
    rows, eps = msg.get("rows"), msg.get("endpoints")
    if rows != expected_rows:
        raise ShardMismatch(f"the other party's manifest splits the batch as {shown(rows)} rows "
                            f"per shard, this party as {expected_rows}", phase="manifest")
    if msg.get("circuit") != digest:
        raise ShardMismatch("the other party's manifest names another circuit",
                            phase="manifest")
    if not isinstance(eps, list) or len(eps) != len(rows):
        raise ProtocolError(f"the other party's manifest lists {shown(eps)} as endpoints, "
                            f"not {len(rows)} HOST:PORT pairs", phase="manifest")
    return Manifest(digest, list(rows), [check_endpoint(e, "manifest") for e in eps])


def check_endpoint(e: Any, what: str) -> tuple[str, int]:
    if not (isinstance(e, list) and len(e) == 2 and isinstance(e[0], str)
            and 0 < len(e[0]) <= 255 and type(e[1]) is int and 0 < e[1] <= 65535):
        raise ProtocolError(f"the other party's {what} has a bad endpoint {shown(e)}",
                            phase="manifest")
    return e[0], e[1]


WILDCARDS = ("", "0.0.0.0", "::")


def reachable(endpoint: tuple[str, int], fallback_host: str) -> tuple[str, int]:
    """Where to connect to a listener's worker: its host, or ``fallback_host`` (the host the
    coordinator was reached at) when the worker listens on every interface."""
    host, port = endpoint
    return (fallback_host if host in WILDCARDS else host), port


# -- outcomes -------------------------------------------------------------------------------
def outcome_message(shard: int, rows: Sequence[int], attempts: int,
                    mine: Mapping[str, Any], theirs: Mapping[str, Any] | None) -> str:
    """The first line of a failed run: the shard, its rows, and each side's phase and error."""
    first = starts(rows)
    span = f"rows {first[shard] + 1}-{first[shard + 1]}"
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    own = _side(mine)
    peer = _side(theirs) if theirs is not None else "no report"
    return (f"shard {shard + 1} of {len(rows)} ({span}) failed{tries}: this party: {own}; "
            f"the other party: {peer}; no output of the run is valid")


def _side(o: Mapping[str, Any]) -> str:
    if o.get("ok"):
        return "finished"
    phase = o.get("phase") or "start"
    return f"in the {shown(phase, 40)} phase, {shown(o.get('error') or 'failed', 400)}"


def validate_outcome(msg: Mapping[str, Any], n: int, retries: int) -> dict[str, Any]:
    _int(msg, "shard", 0, n - 1, "shard report")
    _int(msg, "attempt", 0, retries, "shard report")
    if not isinstance(msg.get("ok"), bool):
        raise ProtocolError("the other coordinator's shard report has no 'ok'", phase="run")
    return {"shard": msg["shard"], "attempt": msg["attempt"], "ok": msg["ok"],
            "phase": msg.get("phase") if isinstance(msg.get("phase"), str) else None,
            "error": msg.get("error") if isinstance(msg.get("error"), str) else None,
            "and_gates": msg.get("and_gates") if type(msg.get("and_gates")) is int else 0}
