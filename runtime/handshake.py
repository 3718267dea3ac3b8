"""Roles and the opening handshake of a two-party run.

A circuit names its parties (a program's ``party`` line; ``garbler`` and ``evaluator`` for a
Bristol file). One of them garbles (the first declared, unless told otherwise), the other
evaluates. Before any input-dependent byte, both sides send a description of the session:
protocol version, the circuit's content hash, their own role, both parties' names, the port
layout (every input's owner, type and width; every output's recipients, type and width) and
the batch size K. Each side compares the peer's description with its own and stops, with a
message listing everything that differed, on any disagreement; the comparison is symmetric,
so both sides stop.

Broadcast: a side that gives exactly one row (``--input`` values, a JSON object, a one-row
file) while the peer gives K rows applies its row to every one of the K; both sides see both
batch sizes in the hello and agree on K and on who broadcasts (:func:`agreed_batch`,
:func:`broadcaster`), so neither needs to know the other's row count in advance. Two batches
of different sizes above one are refused.

The peer's hello is untrusted: before any use, every field is checked against a schema (types,
lengths, ranges; at most ``MAX_HELLO`` bytes, nesting only as deep as the schema), so a hostile
peer ends the run with a one-line protocol error (exit status 3), and every text of the peer's
that a message quotes is escaped and shortened by :func:`shown`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.errors import InputError

from .errors import ProtocolError

MAX_HELLO = 16 << 20      # bytes: a description of a million ports fits easily
MAX_BATCH = 1 << 40       # rows; a side without inputs also bounds K by its memory
_MAX_TEXT = 4096          # a name, type or hash in the hello
PROTOCOL = "yaogc-yao/3"  # 2: base-OT keys hash the whole shared point; 3: base-OT points in chunks
ROLES = ("garbler", "evaluator")
SEMI_HONEST, MALICIOUS = "semi-honest", "malicious"


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
                         f"({', '.join(parties)}); 'yaogc run' is for two: with more, the "
                         "parties are data owners of two compute servers, started with "
                         "'yaogc serve --role garbler' and 'yaogc serve --role evaluator', "
                         "to which each party sends its inputs with 'yaogc submit'")
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
    return circuit.content_hash     # computed once per circuit (the schedule's cache uses it)


def describe(circuit: Circuit, roles: Roles, role: str, batch: int | None,
             digest: str | None = None, *, listed: bool = False,
             mode: str = SEMI_HONEST) -> dict[str, Any]:
    """This side's view of the session, as sent in the handshake.

    ``batch`` is None when this side has no inputs (it takes the peer's K; with inputs on
    neither side, K is 1). ``listed``: this side's rows came as a batch (a list), so a side
    without inputs reports its outputs as a list too; it is not compared. ``mode``: the
    security mode (semi-honest Yao, or malicious: dual execution); both sides must agree."""
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
        "mode": mode,
    }


def encode(desc: Mapping[str, Any]) -> bytes:
    return json.dumps(desc, sort_keys=True, separators=(",", ":")).encode()


def shown(value, limit: int = 64) -> str:
    """A peer-supplied value as one short printable line: control characters, line and
    paragraph separators escaped, at most ``limit`` characters (the length said beyond)."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except ValueError:  # an integer too long to print
        text = f"<{type(value).__name__}>"
    out = []
    for c in text[:limit]:
        if c == "\\":
            out.append("\\\\")
        elif c.isprintable():
            out.append(c)
        else:
            out.append(c.encode("unicode_escape").decode("ascii"))
    tail = f"...({len(text)} characters)" if len(text) > limit else ""
    return "".join(out) + tail


def _bad(what: str) -> ProtocolError:
    return ProtocolError(f"the peer's hello is malformed: {what}", phase="handshake")


def _text(x, what: str, limit: int = _MAX_TEXT) -> str:
    if not isinstance(x, str):
        raise _bad(f"{what} is {type(x).__name__}, not a string")
    if len(x) > limit:
        raise _bad(f"{what} is {len(x)} characters long (at most {limit})")
    return x


def _count(x, what: str, low: int, high: int) -> int:
    if not isinstance(x, int) or isinstance(x, bool):
        raise _bad(f"{what} is {type(x).__name__}, not an integer")
    if not low <= x <= high:
        raise _bad(f"{what} {shown(x)} is outside {low}..{high}")
    return x


def _list(x, what: str, limit: int) -> list:
    if not isinstance(x, list):
        raise _bad(f"{what} is {type(x).__name__}, not a list")
    if len(x) > limit:
        raise _bad(f"{what} has {len(x)} entries (at most {limit})")
    return x


def validate(desc: Any) -> dict[str, Any]:
    """Check the peer's description field by field; return it, or raise ProtocolError.

    A description of another protocol version only needs a string ``protocol``: compare()
    reports the version difference instead of a field it may not have."""
    if not isinstance(desc, dict):
        raise _bad(f"it is a JSON {type(desc).__name__}, not an object")
    if "protocol" not in desc:
        raise ProtocolError("the peer's hello lacks fields of a session description "
                            "(not a yaogc peer, or an incompatible version)", phase="handshake")
    _text(desc["protocol"], "the protocol", 256)
    if desc["protocol"] != PROTOCOL:
        return desc
    keys = ("protocol", "circuit", "role", "parties", "inputs", "outputs", "batch")
    missing = [k for k in keys if k not in desc]
    if missing:
        raise ProtocolError("the peer's hello lacks fields of a session description "
                            f"({', '.join(missing)})", phase="handshake")
    _text(desc["circuit"], "the circuit hash", 256)
    _text(desc["role"], "the role", 256)
    parties = desc["parties"]
    if not isinstance(parties, dict):
        raise _bad(f"the parties are a {type(parties).__name__}, not an object")
    if set(parties) != set(ROLES):
        raise _bad("the parties must name exactly the garbler and the evaluator")
    for r in ROLES:
        _text(parties[r], f"the {r}'s party name", 256)
    for kind in ("inputs", "outputs"):
        ports = _list(desc[kind], f"the {kind}", 1 << 24)
        for i, port in enumerate(ports):
            where = f"{kind} entry {i}"
            if not isinstance(port, list) or len(port) != 4:
                raise _bad(f"{where} is not a list of 4 fields")
            _text(port[0], f"the name of {where}")
            if kind == "inputs":
                _text(port[1], f"the owner of {where}", 256)
            else:
                for j, r in enumerate(_list(port[1], f"the recipients of {where}", 2)):
                    _text(r, f"recipient {j} of {where}", 256)
            _text(port[2], f"the type of {where}")
            _count(port[3], f"the width of {where}", 0, 1 << 40)
    if desc["batch"] is not None:
        _count(desc["batch"], "the batch size", 1, MAX_BATCH)
    if "listed" in desc and not isinstance(desc["listed"], bool):
        raise _bad("'listed' is not true or false")
    if "mode" in desc:
        _text(desc["mode"], "the security mode", 64)
    return desc


def decode(data: bytes) -> dict[str, Any]:
    """The peer's hello, parsed and validated (:func:`validate`)."""
    if len(data) > MAX_HELLO:
        raise _bad(f"it is {len(data)} bytes long (at most {MAX_HELLO})")
    try:
        desc = json.loads(bytes(data).decode())
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError: not JSON, or an integer of more digits than Python converts;
        # RecursionError: nesting deeper than the parser's stack
        raise ProtocolError("the peer's hello is not a valid session description "
                            "(not a yaogc peer?)", phase="handshake") from None
    return validate(desc)


def port_diffs(kind: str, mine: list, theirs: list, owner: str, here: str = "here",
               there: str = "at the peer") -> list[str]:
    """How the ports of two session descriptions differ; ``here`` and ``there`` name the
    two sides in the phrases."""
    out = []
    m = {p[0]: p for p in mine}
    t = {p[0]: p for p in theirs}
    for name in m:
        if name not in t:
            out.append(f"{kind} '{shown(name)}' exists {here} but not {there}")
    extra = [name for name in t if name not in m]
    for name in extra[:5]:
        out.append(f"{kind} '{shown(name)}' exists {there} but not {here}")
    if len(extra) > 5:
        out.append(f"and {len(extra) - 5} more {kind}s exist {there} but not {here}")
    for name in m:
        if name in t and m[name] != t[name]:
            a, b = m[name], t[name]
            if a[1] != b[1]:
                out.append(f"{kind} '{shown(name)}' {owner} {_who(a[1])} {here} but "
                           f"{_who(b[1])} {there}")
            if a[2:] != b[2:]:
                out.append(f"{kind} '{shown(name)}' is {a[2]} ({a[3]} bits) {here} but "
                           f"{shown(b[2])} ({b[3]} bits) {there}")
    if not out and [p[0] for p in mine] != [p[0] for p in theirs]:
        out.append(f"{kind} ports are in a different order {there}")
    return out


def _who(x) -> str:
    return " and ".join(shown(r) for r in x) if isinstance(x, list) else shown(x)


def compare(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[str]:
    """Everything that differs between the two descriptions, each as a short phrase.

    ``theirs`` has passed :func:`validate`; every text of it quoted here goes through
    :func:`shown`."""
    if theirs.get("protocol") != mine["protocol"]:
        return [f"protocol version differs: {mine['protocol']} here, "
                f"{shown(theirs.get('protocol'))} at the peer"]
    diffs = []
    a, b = mine.get("mode", SEMI_HONEST), theirs.get("mode", SEMI_HONEST)
    if a != b:
        flag = {MALICIOUS: "--malicious", SEMI_HONEST: "no --malicious"}
        diffs.append(f"security mode differs: {a} ({flag.get(a, a)}) here, {shown(b)} "
                     f"({flag.get(b, 'unknown')}) at the peer; both sides must give "
                     "--malicious, or neither")
    if theirs["role"] == mine["role"]:
        other = "evaluator" if mine["role"] == "garbler" else "garbler"
        diffs.append(f"both sides are the {mine['role']} (one side must run --as {other})")
    elif theirs["role"] not in ROLES:
        diffs.append(f"the peer's role '{shown(theirs['role'])}' is neither garbler nor "
                     "evaluator")
    for r in ROLES:
        a, b = mine["parties"][r], theirs["parties"][r]
        if a != b:
            diffs.append(f"the {r} is party '{a}' here but '{shown(b)}' at the peer")
    ports = (port_diffs("input", mine["inputs"], theirs["inputs"], "belongs to the")
             + port_diffs("output", mine["outputs"], theirs["outputs"], "goes to the"))
    diffs += ports
    # the content hash covers the ports too: name it only when the gates are what differ
    if mine["circuit"] != theirs["circuit"] and not ports:
        diffs.append(f"the circuit differs (content hash {str(mine['circuit'])[:16]} here, "
                     f"{shown(theirs['circuit'], 16)} at the peer)")
    a, b = mine["batch"], theirs["batch"]
    if a is not None and b is not None and a != b and 1 not in (a, b):
        diffs.append(f"batch size differs: {a} rows here, {b} at the peer (a side may give "
                     "one row, which then applies to every row of the other's batch)")
    for side, x in (("here", a), ("at the peer", b)):
        if x is not None and (not isinstance(x, int) or isinstance(x, bool) or x < 1):
            diffs.append(f"batch size {shown(x)} {side} is not a positive number of rows")
    # no batch means no inputs: a peer whose role owns inputs must say how many rows it has
    peer_role = theirs["role"]
    owned = [name for name, role, *_ in mine["inputs"] if role == peer_role]
    if b is None and owned and peer_role in ROLES and peer_role != mine["role"]:
        diffs.append(f"the peer, the {peer_role}, gives no rows of its inputs "
                     f"({', '.join(map(str, owned[:4]))}{', ...' if len(owned) > 4 else ''})")
    return diffs


def agreed_batch(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> int:
    """K after a successful comparison: the larger batch (a side with one row broadcasts it);
    a side without inputs takes the peer's; a circuit without inputs on either side runs
    once."""
    ks = [int(k) for k in (mine["batch"], theirs["batch"]) if k is not None]
    return max(ks, default=1)


def broadcaster(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> str | None:
    """The role whose single row applies to every row of the agreed batch, or None (both
    give K rows, or K is 1). Both sides compute the same answer from the two hellos."""
    k = agreed_batch(mine, theirs)
    if k == 1:
        return None
    for d in (mine, theirs):
        if d["batch"] == 1:
            return str(d["role"])
    return None


def check_max_batch(value) -> int | None:
    """A ``max_batch`` setting: None, or a positive whole number of rows."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
        raise InputError(f"max_batch must be a positive whole number of rows, got {value!r}")
    return value


def check_broadcast(k: int, broadcast: str | None, role: str, limit: int | None,
                    mode: str) -> None:
    """Refuse to apply this side's one row to more of the peer's rows than ``limit``: each
    is an evaluation of the function on this side's input, with the peer's outputs for each
    (64 rows of y = 2^i against one x tell a peer learning y > x where x lies). Without a
    limit, a malicious-mode run applies this side's row once only: its promise of at most
    one leaked bit is per evaluation."""
    if broadcast != role or k <= 1:
        return
    if limit is None and mode == MALICIOUS:
        limit = 1
    if limit is not None and k > limit:
        allowed = f"more than the {limit} allowed (--max-batch K allows up to K)"
        err = HandshakeMismatch(
            f"the peer gives {k} rows against this side's one row, {k} evaluations on this "
            f"side's input (and the peer's outputs for each); refused: {allowed}",
            phase="handshake")
        err.limit_text = allowed
        raise err


def check(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> int:
    """Raise HandshakeMismatch naming every difference; else return the agreed batch size."""
    diffs = compare(mine, theirs)
    if diffs:
        raise HandshakeMismatch("the peer describes a different session: " + "; ".join(diffs),
                                phase="handshake")
    return agreed_batch(mine, theirs)
