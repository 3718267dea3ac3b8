"""Roles and the opening handshake of a two-party run.

A circuit names its parties (a program's ``party`` line; ``garbler`` and ``evaluator`` for a
Bristol file). One of them garbles (the first declared, unless told otherwise), the other
evaluates. Before any input-dependent byte, both sides send a description of the session:
protocol version, the circuit's content hash, their own role, both parties' names, the port
layout (every input's owner, type and width; every output's recipients, type and width) and
the batch size K. Each side compares the peer's description with its own and stops, with a
message listing everything that differed, on any disagreement; the comparison is symmetric,
so both sides stop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.errors import InputError

from .errors import ProtocolError

PROTOCOL = "yaogc-yao/2"  # 2: base-OT keys hash the whole shared point
ROLES = ("garbler", "evaluator")


class HandshakeMismatch(ProtocolError):
    """The two sides do not describe the same session; the message says what differed."""


@dataclass(frozen=True)
class Roles:
    """Which party garbles and which evaluates."""

    garbler: str
    evaluator: str

    def role_of(self, party: str) -> str:
        if party == self.garbler:
            return "garbler"
        if party == self.evaluator:
            return "evaluator"
        raise InputError(f"party '{party}' takes no part in this run (parties: "
                         f"{self.garbler}, {self.evaluator})")

    def party_of(self, role: str) -> str:
        return self.garbler if role == "garbler" else self.evaluator


def resolve_roles(circuit: Circuit, garbler: str | None = None) -> Roles:
    """The garbler is ``garbler`` (a party name) or else the first party the circuit declares."""
    parties = circuit.parties
    if len(parties) > 2:
        raise InputError(f"{circuit.name}: the circuit has {len(parties)} parties "
                         f"({', '.join(parties)}); a Yao run has exactly two")
    if garbler is not None and garbler not in parties:
        raise InputError(f"--garbler {garbler}: the circuit has no party '{garbler}' "
                         f"(parties: {', '.join(parties) or 'none'})")
    g = garbler if garbler is not None else (parties[0] if parties else "garbler")
    return Roles(g, _other(parties, g))


def _other(parties: tuple[str, ...], one: str) -> str:
    rest = [p for p in parties if p != one]
    if rest:
        return rest[0]
    return "evaluator" if one != "evaluator" else "garbler"


def resolve_self(roles: Roles, who: str) -> str:
    """``--as``: a party name, or a role word (``garbler``/``evaluator``) -> this side's role."""
    if who in (roles.garbler, roles.evaluator):
        return roles.role_of(who)
    if who in ROLES:
        return who
    raise InputError(f"--as {who}: not a party of this circuit (parties: {roles.garbler} "
                     f"garbles, {roles.evaluator} evaluates; or say garbler / evaluator)")


def assign_parties(circuit: Circuit, party_of: Mapping[str, str], roles: Roles) -> Circuit:
    """``--party-of NAME=PARTY`` pairs: hand inputs to another party (a name or a role word)."""
    if not party_of:
        return circuit
    names = {p.name for p in circuit.inputs}
    mapping = {}
    for name, who in party_of.items():
        if name not in names:
            raise InputError(f"--party-of {name}={who}: the circuit has no input '{name}' "
                             f"(inputs: {', '.join(p.name for p in circuit.inputs)})")
        if who in (roles.garbler, roles.evaluator):
            mapping[name] = who
        elif who in ROLES:
            mapping[name] = roles.party_of(who)
        else:
            raise InputError(f"--party-of {name}={who}: '{who}' is not a party of this run "
                             f"({roles.garbler}, {roles.evaluator}, garbler or evaluator)")
    return circuit.with_parties(mapping)


def circuit_hash(circuit: Circuit) -> str:
    from yaogc.circuits.native import content_hash
    return content_hash(circuit)


def describe(circuit: Circuit, roles: Roles, role: str, batch: int | None,
             digest: str | None = None, *, listed: bool = False) -> dict[str, Any]:
    """This side's view of the session, as sent in the handshake.

    ``batch`` is None when this side has no inputs (it takes the peer's K; with inputs on
    neither side, K is 1). ``listed``: this side's rows came as a batch (a list), so a side
    without inputs reports its outputs as a list too; it is not compared."""
    for o in circuit.outputs:
        for r in o.recipients:
            roles.role_of(r)
    return {
        "protocol": PROTOCOL,
        "circuit": digest if digest is not None else circuit_hash(circuit),
        "role": role,
        "parties": {"garbler": roles.garbler, "evaluator": roles.evaluator},
        "inputs": [[p.name, roles.role_of(p.party), str(p.type), p.width] for p in circuit.inputs],
        "outputs": [[o.name, sorted(roles.role_of(r) for r in o.recipients), str(o.type), o.width]
                    for o in circuit.outputs],
        "batch": batch,
        "listed": bool(listed),
    }


def encode(desc: Mapping[str, Any]) -> bytes:
    return json.dumps(desc, sort_keys=True, separators=(",", ":")).encode()


def decode(data: bytes) -> dict[str, Any]:
    try:
        desc = json.loads(bytes(data).decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProtocolError("the peer's hello is not a valid session description "
                            "(not a yaogc peer?)", phase="handshake") from None
    keys = ("protocol", "circuit", "role", "parties", "inputs", "outputs", "batch")
    if not isinstance(desc, dict) or any(k not in desc for k in keys):
        if isinstance(desc, dict) and desc.get("protocol") not in (None, PROTOCOL):
            return desc  # a different version: compare() says so
        raise ProtocolError("the peer's hello lacks fields of a session description "
                            "(not a yaogc peer, or an incompatible version)", phase="handshake")
    return desc


def _port_diffs(kind: str, mine: list, theirs: list, owner: str) -> list[str]:
    out = []
    m = {p[0]: p for p in mine}
    t = {p[0]: p for p in theirs if isinstance(p, list) and p}
    for name in m:
        if name not in t:
            out.append(f"{kind} '{name}' exists here but not at the peer")
    for name in t:
        if name not in m:
            out.append(f"{kind} '{name}' exists at the peer but not here")
    for name in m:
        if name in t and m[name] != t[name]:
            a, b = m[name], t[name]
            if a[1] != b[1]:
                out.append(f"{kind} '{name}' {owner} {_who(a[1])} here but {_who(b[1])} at the peer")
            if a[2:] != b[2:]:
                out.append(f"{kind} '{name}' is {a[2]} ({a[3]} bits) here but {b[2]} "
                           f"({b[3]} bits) at the peer")
    if not out and [p[0] for p in mine] != [p[0] for p in theirs]:
        out.append(f"{kind} ports are in a different order at the peer")
    return out


def _who(x) -> str:
    return " and ".join(x) if isinstance(x, list) else str(x)


def compare(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[str]:
    """Everything that differs between the two descriptions, each as a short phrase."""
    if theirs.get("protocol") != mine["protocol"]:
        return [f"protocol version differs: {mine['protocol']} here, "
                f"{theirs.get('protocol')} at the peer"]
    diffs = []
    if theirs["role"] == mine["role"]:
        other = "evaluator" if mine["role"] == "garbler" else "garbler"
        diffs.append(f"both sides are the {mine['role']} (one side must run --as {other})")
    elif theirs["role"] not in ROLES:
        diffs.append(f"the peer's role {theirs['role']!r} is neither garbler nor evaluator")
    for r in ROLES:
        a, b = mine["parties"][r], (theirs["parties"] or {}).get(r)
        if a != b:
            diffs.append(f"the {r} is party '{a}' here but '{b}' at the peer")
    ports = (_port_diffs("input", mine["inputs"], theirs["inputs"], "belongs to the")
             + _port_diffs("output", mine["outputs"], theirs["outputs"], "goes to the"))
    diffs += ports
    # the content hash covers the ports too: name it only when the gates are what differ
    if mine["circuit"] != theirs["circuit"] and not ports:
        diffs.append(f"the circuit differs (content hash {str(mine['circuit'])[:16]} here, "
                     f"{str(theirs['circuit'])[:16]} at the peer)")
    a, b = mine["batch"], theirs["batch"]
    if a is not None and b is not None and a != b:
        diffs.append(f"batch size differs: {a} rows here, {b} at the peer")
    for side, x in (("here", a), ("at the peer", b)):
        if x is not None and (not isinstance(x, int) or isinstance(x, bool) or x < 1):
            diffs.append(f"batch size {x!r} {side} is not a positive number of rows")
    return diffs


def agreed_batch(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> int:
    """K after a successful comparison: a side without inputs takes the peer's; a circuit
    without inputs on either side runs once."""
    for k in (mine["batch"], theirs["batch"]):
        if k is not None:
            return int(k)
    return 1


def check(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> int:
    """Raise HandshakeMismatch naming every difference; else return the agreed batch size."""
    diffs = compare(mine, theirs)
    if diffs:
        raise HandshakeMismatch("the peer describes a different session: " + "; ".join(diffs),
                                phase="handshake")
    return agreed_batch(mine, theirs)
