"""A data owner of a two-server session (``yaogc submit``).

The owner encodes its inputs as ``yaogc run`` does, draws a fresh uniform mask s for every
input bit x (``os.urandom``), and sends s to the garbling server and x XOR s to the evaluating
server, each over its own connection, after both have admitted it (same session description,
its certificate pinned for its party). It then waits for the session to start and receives
from the garbler the decoding bits and from the evaluator the colour bits of the outputs
addressed to it; their XOR is the output. Either server alone learns nothing of x or of the
outputs. Protocol, references and security model (semi-honest, non-colluding servers):
:mod:`yaogc.runtime.servers`.

Every wait is bounded by the timeout; any failure raises a ``NetworkError`` whose message
starts with the party and the phase (``north: waiting for owners: ...``), and no output is
returned unless both halves arrived.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from yaogc.circuits.circuit import Circuit, Op
from yaogc.circuits.errors import InputError

from . import handshake as hs
from . import net
from . import sharing as sh
from .channel import SMALL_MESSAGE
from .errors import ChannelTimeout, NetworkError, PeerAborted, ProtocolError
from .inputs import PartyInputs
from .protocol import RunResult, _pack, _unpack


class SubmitError(NetworkError):
    """A submission failed; the message starts with the party and the phase."""


@dataclass(frozen=True)
class OwnerTLS:
    """An owner's certificate and key, and the two servers' certificates it pins."""

    cert: str
    key: str
    garbler_cert: str
    evaluator_cert: str

    def __post_init__(self):
        from .tls import distinct_pins
        # one key holder answering as both servers gets both shares: the owner's input
        distinct_pins({"--garbler-cert": self.garbler_cert,
                       "--evaluator-cert": self.evaluator_cert, "--tls-cert": self.cert})

    def config(self, role: str):
        from .tls import TLSConfig
        return TLSConfig(self.cert, self.key,
                         self.garbler_cert if role == "garbler" else self.evaluator_cert)


def submit(circuit: Circuit, party: str, inputs: PartyInputs, *,
           garbler: tuple[str, int], evaluator: tuple[str, int], tls: OwnerTLS | None = None,
           timeout: float = 60.0, insecure_plain_tcp: bool = False) -> RunResult:
    """Submit ``party``'s inputs to the two servers and return the outputs addressed to it.

    ``inputs``: the party's checked inputs (``yaogc.runtime.inputs.party_inputs``; a party
    without inputs gives an empty one). The result's ``stats`` hold the bytes sent to and
    received from both servers and the time from the first connection to the outputs.
    """
    if party not in circuit.parties:
        raise InputError(f"--as {party}: not a party of {circuit.name} (parties: "
                         f"{', '.join(circuit.parties)})")
    timeout = net.check_timeout(timeout)
    if tuple(garbler) == tuple(evaluator):
        raise InputError(f"--garbler and --evaluator both name {_addr(garbler)}: the two "
                         f"compute servers listen for owners on two addresses")
    width = int(sh.input_wires(circuit, party).size)
    rows = inputs.k if width else None
    hello = {"protocol": sh.PROTOCOL, "party": party, "session": sh.describe(circuit),
             "rows": rows, "listed": bool(inputs.batch) if width else False,
             # ties this submission's two connections together at the servers
             "submission": secrets.token_hex(16)}
    t0 = time.perf_counter()
    chans: dict[str, Any] = {}
    where = {"garbler": garbler, "evaluator": evaluator}
    state = {"phase": "connect", "role": "garbler"}
    try:
        for role in sh.SERVERS:
            state["role"] = role
            host, port = where[role]
            chans[role] = net.connect(host, port, timeout,
                                      tls.config(role) if tls is not None else None,
                                      insecure_plain_tcp=insecure_plain_tcp, phase="connect")
        _step(state, chans, "admission")
        for role, ch in chans.items():
            state["role"] = role
            ch.send_msg(sh.Msg.OWNER_HELLO, sh.encode(hello), flush=True)
        for role, ch in chans.items():
            state["role"] = role
            got = sh.decode(ch.recv_msg(sh.Msg.ADMIT, SMALL_MESSAGE), "the server's answer")
            if got.get("role") != role:
                raise ProtocolError(f"the server at {_addr(where[role])} is the "
                                    f"{hs.shown(got.get('role'))}, not the {role}")
        if rows is not None:
            _step(state, chans, "inputs")
            g_share, e_share = sh.split(inputs.bits)
            for role, share in (("garbler", g_share), ("evaluator", e_share)):
                state["role"] = role
                chans[role].send_msg(sh.Msg.SHARES, _pack(share), flush=True)
        _step(state, chans, "waiting for owners")
        starts = {}
        # each server's start, the first to speak read first (a failed server is heard
        # while the other hangs, as for the outputs below)
        for role in _first_to_speak(chans, timeout, state):
            state["role"] = role
            starts[role] = sh.decode(chans[role].recv_msg(sh.Msg.START, SMALL_MESSAGE),
                                     "the server's start message")
        state["role"] = "garbler"     # the start checked is the garbler's (then compared)
        k, listed = _check_start(starts, rows)
        _step(state, chans, "outputs")
        cols = sh.output_columns(circuit, party)
        halves = {}
        # the servers compute meanwhile, and send nothing: the wait allows for the work.
        # The server that speaks first is read first: a server that failed (its abort, or
        # its connection closed) is heard at once, not after the other's whole allowance
        wait = compute_allowance(circuit, k, timeout)
        for role in _first_to_speak(chans, wait, state):
            state["role"] = role
            ch = chans[role]
            ch.timeout = wait
            halves[role] = _unpack(ch.recv_array(np.uint8, sh.packed_size(k, cols.size),
                                                 kind=sh.Msg.OUTPUT), (k, cols.size))
            ch.timeout = timeout
    except NetworkError as e:
        role = state["role"]
        said = _said(e, role, where[role])
        for other, ch in chans.items():
            # the other server hears why: its report names what failed, not this owner
            ch.abort(f"data owner {party} stopped" +
                     (f" ({said})" if other != role else ""))
        raise SubmitError(f"{party}: {state['phase']}: {said}") from None
    except BaseException as e:
        why = "was interrupted" if isinstance(e, KeyboardInterrupt) else \
            "stopped on an error of its own"
        for ch in chans.values():
            ch.abort(f"data owner {party} {why}")
        raise
    # an owner without outputs keeps no rows of nothing (a batch may be announced at 2^40)
    outputs = sh.decode_outputs(circuit, party, halves["garbler"] ^ halves["evaluator"]) \
        if cols.size else []
    stats = {"bytes_sent": sum(ch.bytes_sent for ch in chans.values()),
             "bytes_received": sum(ch.bytes_received for ch in chans.values()),
             "batch": k, "total_seconds": round(time.perf_counter() - t0, 6),
             "tls": getattr(chans["garbler"], "tls_version", None)}
    for ch in chans.values():
        ch.close()
    return RunResult("owner", party, outputs, listed, stats)


# AND gates a second that the servers' computation is allowed at the slowest (a 2-core
# machine garbles and evaluates millions a second; a loaded one, shared, far fewer)
SLOWEST_AND_RATE = 100_000


def _first_to_speak(chans: dict, wait: float, state: dict, poll: float = 0.02) -> list[str]:
    """The servers' roles, the one that sends something first (its message, an abort, the
    end of its connection) first. Nothing from either within ``wait`` seconds is the first
    server's timeout, as a read of it would have been."""
    deadline = time.monotonic() + wait
    while True:
        for role, ch in chans.items():
            if ch.peer_stirred():
                return [role] + [r for r in chans if r != role]
        left = deadline - time.monotonic()
        if left <= 0:
            state["role"] = next(iter(chans))
            raise ChannelTimeout(f"timed out after {wait:g} s waiting for the peer to send",
                                 phase=state["phase"])
        time.sleep(min(poll, left))


def compute_allowance(circuit: Circuit, k: int, timeout: float) -> float:
    """Seconds an owner waits for its outputs once every owner is in: the timeout plus the
    servers' work (k rows of the circuit's AND gates and input bits) at the slowest rate.
    A computation longer than the timeout alone made every owner give up on healthy
    servers."""
    work = k * (circuit.count(Op.AND) + circuit.n_inputs)
    return timeout + work / SLOWEST_AND_RATE


def _step(state: dict, chans: dict, phase: str) -> None:
    state["phase"] = phase
    for ch in chans.values():
        ch.phase = phase


def _addr(hp: tuple[str, int]) -> str:
    host, port = hp
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _said(e: NetworkError, role: str, hp: tuple[str, int]) -> str:
    """What went wrong with one server, in the owner's words."""
    server = f"the {role} server ({_addr(hp)})"
    if isinstance(e, PeerAborted):
        return f"stopped by {server}: {e.detail.removeprefix('the peer aborted: ')}"
    return f"{server}: {e.detail}"


def _check_start(starts: dict[str, dict], rows: int | None) -> tuple[int, bool]:
    """Both servers start the same batch, of this owner's ``rows`` where it gave several
    (the batch is the owners' largest); return (K, report a list)."""
    g, e = starts["garbler"], starts["evaluator"]
    k = g.get("batch")
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= hs.MAX_BATCH:
        raise ProtocolError(f"the garbler server's batch size {hs.shown(k)} is not a "
                            "number of rows")
    if rows is not None and rows > 1 and k != rows:
        raise ProtocolError(f"the garbler server starts a batch of {k} rows, but this owner "
                            f"gave {rows}")
    if g != e:
        raise ProtocolError(f"the servers start different sessions (garbler {hs.shown(g)}, "
                            f"evaluator {hs.shown(e)})")
    return k, bool(g.get("listed")) or k > 1
