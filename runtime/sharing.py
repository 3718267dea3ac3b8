"""What data owners and the two compute servers agree on: messages, the session description,
input shares and the output columns of each owner.

Used by :mod:`yaogc.runtime.servers` (``yaogc serve``) and :mod:`yaogc.runtime.owners`
(``yaogc submit``); the protocol and its security model are described in ``servers``.

The session description is what everyone compares before any input-dependent byte: the
protocol version, the program's content hash (which covers ``-D`` values, every gate and every
port), the declared parties, every input's owner, type and width and every output's
recipients, type and width. An owner sends it to both servers in its hello; the servers also
compare it with each other over their link.
"""

from __future__ import annotations

import json
import os
from enum import IntEnum
from typing import Any, Mapping

import numpy as np

from yaogc.circuits.circuit import Circuit

from . import handshake as hs
from .errors import ProtocolError

PROTOCOL = "yaogc-owners/1"
SERVERS = ("garbler", "evaluator")
MAX_MESSAGE = 16 << 20      # bytes of a JSON message (a hello, a ready or start message)


class Msg(IntEnum):
    """Message kinds of the owner connections and of the servers' link (before and after
    the two-party protocol's own messages, which use 1..5)."""

    OWNER_HELLO = 16     # owner -> server: session description, party, rows, submission id
    ADMIT = 17           # server -> owner: accepted; the owner may send its shares
    SHARES = 18          # owner -> server: its share bits, (rows, own width) packed
    START = 19           # server -> owner: every owner is in; the batch size and shape
    OUTPUT = 20          # server -> owner: this server's half of the owner's output bits
    LINK_HELLO = 21      # server <-> server: session description and role
    LINK_READY = 22      # server <-> server: the owners each one admitted


def describe(circuit: Circuit, digest: str | None = None) -> dict[str, Any]:
    """The session description of ``circuit`` (see the module docstring)."""
    return {
        "protocol": PROTOCOL,
        "circuit": digest if digest is not None else hs.circuit_hash(circuit),
        "parties": list(circuit.parties),
        "inputs": [[p.name, p.party, str(p.type), p.width] for p in circuit.inputs],
        "outputs": [[o.name, list(o.recipients), str(o.type), o.width] for o in circuit.outputs],
    }


def encode(msg: Mapping[str, Any]) -> bytes:
    return json.dumps(msg, sort_keys=True, separators=(",", ":")).encode()


def decode(data: bytes, what: str) -> dict[str, Any]:
    """A JSON object sent by a peer (an owner or the other server); ProtocolError otherwise."""
    if len(data) > MAX_MESSAGE:
        raise ProtocolError(f"{what} is {len(data)} bytes long (at most {MAX_MESSAGE})")
    try:
        msg = json.loads(bytes(data).decode())
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProtocolError(f"{what} is not valid JSON (not a yaogc peer?)") from None
    if not isinstance(msg, dict):
        raise ProtocolError(f"{what} is a JSON {type(msg).__name__}, not an object")
    return msg


def validate_session(desc: Any) -> dict[str, Any]:
    """Check a peer's session description field by field (types, lengths, sizes)."""
    if not isinstance(desc, dict) or "protocol" not in desc:
        raise ProtocolError("the peer's hello holds no session description (not a yaogc "
                            "owner or server, or an incompatible version)")
    hs._text(desc["protocol"], "the protocol", 256)
    if desc["protocol"] != PROTOCOL:
        return desc
    missing = [k for k in ("circuit", "parties", "inputs", "outputs") if k not in desc]
    if missing:
        raise ProtocolError(f"the peer's session description lacks {', '.join(missing)}")
    hs._text(desc["circuit"], "the circuit hash", 256)
    for i, p in enumerate(hs._list(desc["parties"], "the parties", 1 << 16)):
        hs._text(p, f"party {i}", 256)
    for kind in ("inputs", "outputs"):
        for i, port in enumerate(hs._list(desc[kind], f"the {kind}", 1 << 24)):
            where = f"{kind} entry {i}"
            if not isinstance(port, list) or len(port) != 4:
                raise hs._bad(f"{where} is not a list of 4 fields")
            hs._text(port[0], f"the name of {where}")
            if kind == "inputs":
                hs._text(port[1], f"the owner of {where}", 256)
            else:
                for j, r in enumerate(hs._list(port[1], f"the recipients of {where}", 1 << 16)):
                    hs._text(r, f"recipient {j} of {where}", 256)
            hs._text(port[2], f"the type of {where}")
            hs._count(port[3], f"the width of {where}", 0, 1 << 40)
    return desc


def compare(mine: Mapping[str, Any], theirs: Mapping[str, Any], here: str = "here",
            there: str = "at the peer") -> list[str]:
    """Everything that differs between two session descriptions, each as a short phrase
    (``here`` and ``there`` name the two sides: a server answering an owner names both)."""
    if theirs.get("protocol") != mine["protocol"]:
        return [f"protocol version differs: {mine['protocol']} {here}, "
                f"{hs.shown(theirs.get('protocol'))} {there}"]
    diffs = []
    if list(theirs["parties"]) != list(mine["parties"]):
        diffs.append(f"the parties are {', '.join(mine['parties'])} {here} but "
                     f"{', '.join(hs.shown(p) for p in theirs['parties'][:20])} {there}")
    ports = (hs.port_diffs("input", mine["inputs"], theirs["inputs"], "belongs to", here, there)
             + hs.port_diffs("output", mine["outputs"], theirs["outputs"], "goes to", here,
                             there))
    diffs += ports
    if mine["circuit"] != theirs["circuit"] and not ports:
        diffs.append(f"the program differs (content hash {str(mine['circuit'])[:16]} {here}, "
                     f"{hs.shown(theirs['circuit'], 16)} {there}: another program, "
                     "or other -D values)")
    return diffs


def owners_of_inputs(circuit: Circuit) -> list[str]:
    """The parties that own inputs, in declaration order."""
    have = {p.party for p in circuit.inputs}
    return [p for p in circuit.parties if p in have]


def waited_for(circuit: Circuit) -> list[str]:
    """The parties the servers wait for: every one with inputs or with outputs addressed to
    it (a party with no inputs submits to receive its outputs)."""
    need = {p.party for p in circuit.inputs}
    need.update(r for o in circuit.outputs for r in o.recipients)
    return [p for p in circuit.parties if p in need]


def input_wires(circuit: Circuit, party: str) -> np.ndarray:
    """The circuit input wires of ``party``'s ports, in port order (its share columns)."""
    ws = [p.wires for p in circuit.inputs if p.party == party]
    return np.concatenate(ws).astype(np.int64) if ws else np.zeros(0, np.int64)


def output_columns(circuit: Circuit, party: str) -> np.ndarray:
    """Columns of the concatenated output bits that belong to outputs addressed to ``party``."""
    cols, pos = [], 0
    for o in circuit.outputs:
        if party in o.recipients:
            cols.append(np.arange(pos, pos + o.width))
        pos += o.width
    return np.concatenate(cols).astype(np.int64) if cols else np.zeros(0, np.int64)


def decode_outputs(circuit: Circuit, party: str, bits: np.ndarray) -> list[dict[str, Any]]:
    """Values of the outputs addressed to ``party`` from their bits, (K, len(columns))."""
    ports, pos = [], 0
    for o in circuit.outputs:
        if party in o.recipients:
            ports.append((o, pos))
            pos += o.width
    return [{o.name: o.type.decode(row[c:c + o.width]) for o, c in ports} for row in bits]


def random_bits(shape: tuple[int, int]) -> np.ndarray:
    """Uniform random bits from the operating system's generator, as uint8 0/1."""
    n = shape[0] * shape[1]
    raw = np.frombuffer(os.urandom((n + 7) // 8), dtype=np.uint8)
    return np.unpackbits(raw, count=n, bitorder="little").reshape(shape)


def split(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """XOR shares of ``bits``: a fresh uniform mask s for the garbler, ``bits ^ s`` for the
    evaluator. Each share alone is uniform, whatever the bits."""
    s = random_bits(bits.shape)
    return s, bits ^ s


def packed_size(rows: int, width: int) -> int:
    """Bytes of ``rows`` x ``width`` bits packed (as ``protocol._pack`` packs them)."""
    return (rows * width + 7) // 8
