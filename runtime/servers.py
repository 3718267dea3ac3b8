"""Two compute servers for any number of data owners (``yaogc serve``).

A program of three or more parties is run by two non-colluding compute servers, one garbling
and one evaluating: Yao's garbled circuits (Yao, FOCS 1986) between two servers that hold
XOR secret shares of the data owners' inputs, the outsourced two-server setting of
Kamara, Mohassel and Raykova ("Outsourcing Multi-Party Computation", eprint 2011/272) and of
Nikolaenko et al. ("Privacy-Preserving Ridge Regression on Hundreds of Millions of Records",
S&P 2013). Garbling is the two-party protocol of :mod:`yaogc.runtime.protocol` (free-XOR,
half-gates, IKNP OT extension), run on the two-server form of the circuit
(:mod:`yaogc.circuits.shares`).

Security model: semi-honest servers that do not collude. Each server sees only one XOR share
of every input bit (uniformly random on its own) and one half of every output bit (the
garbler the decoding bits, the evaluator the colour bits, each uniformly random on its own),
so neither learns any input or output. Each owner learns only the outputs addressed to it. Two
colluding servers learn every input and every output. An owner or server that deviates from
the protocol is not detected (an owner can, for instance, submit any input it likes). TLS
with pinned certificates keeps outsiders out and binds each owner to its party name; it does
not strengthen this model.

The session, from one server's side:

1. owners: listen for data owners (``--owners``); each owner connects, the TLS certificate it
   presents must be the one pinned for the party it claims (``--owner-cert PARTY=FILE``), its
   session description must equal this server's, and the party must not be in already; only
   then is it admitted, and only then does it send its share bits (s to the garbler,
   x XOR s to the evaluator), whose size is checked. A refused connection is told why and the
   server goes on waiting; admission runs in threads of its own from the start.
2. link: connect to the other server (``--listen``/``--connect``) and compare session
   descriptions and roles.
3. waiting for owners: until every party with inputs or outputs has submitted, at most the
   timeout; then check that no owner has closed its connection, and exchange with the other
   server the list of submissions (party, rows, submission id), which must be equal.
4. start: tell every owner the batch size; run the two-party protocol on the shares, with the
   output phase replaced: each server keeps its half of every output bit.
5. delivering outputs: send every owner this server's half of the bits of the outputs
   addressed to it, and nothing else.

Any failure after admission ends the session for everyone: both servers and every owner
get a one-line reason naming the party and the phase (exit status 3), and no owner prints an
output, since an owner needs both halves.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.shares import shared_inputs

from . import handshake as hs
from . import net
from . import sharing as sh
from .channel import SMALL_MESSAGE
from .errors import NetworkError, PeerAborted, PeerClosed, ProtocolError
from .inputs import PartyInputs
from .protocol import (_pack, _unpack, batch_shortfall, evaluator_session, garbler_session,
                       plan)

Log = Callable[[str], None]


class ServerError(NetworkError):
    """A session of ``yaogc serve`` failed; the message names the party and the phase."""


@dataclass
class Submission:
    """One admitted data owner at this server."""

    party: str
    ch: Any                      # its Channel
    peer: str
    rows: int | None             # None: a party without inputs
    listed: bool
    submission: str
    bits: np.ndarray | None = None   # this server's share bits, (rows, own width)


@dataclass
class ServerResult:
    """A finished session at one server."""

    role: str
    parties: list[str]
    batch: int
    stats: dict[str, Any] = field(default_factory=dict)
    # this server's whole view of the owners' data, for tests: the share bits each owner sent
    # (rows, width) and this server's half of every output bit (K, total output width)
    shares: dict[str, np.ndarray] = field(default_factory=dict)
    halves: np.ndarray | None = None


# seconds a connection to the owners' port has to greet and say its hello (TLS included)
ADMISSION_S = 5.0


class _Owners:
    """Admits data owners (in threads) and holds their submissions."""

    def __init__(self, circuit: Circuit, role: str, session: dict, listener, timeout: float,
                 log: Log, memory_check: Callable[[str, int], None] | None = None):
        self.circuit, self.role, self.session = circuit, role, session
        self.listener, self.timeout, self.log = listener, timeout, log
        self.wanted = sh.waited_for(circuit)
        self.widths = {p: int(sh.input_wires(circuit, p).size) for p in circuit.parties}
        self.names = getattr(listener.ctx, "yaogc_names", None)   # fingerprint -> party
        self.cond = threading.Condition()
        self.present: dict[str, Submission] = {}
        self.pending: dict[str, str] = {}         # party -> peer, admitted but no shares yet
        self.pending_sub: dict[str, str] = {}     # party -> its submission, while pending
        self.open: set = set()                    # every owner channel, to tell on failure
        self.closed = False
        self.admitting = 0                        # connections in their admission
        self.memory_check = memory_check
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    # -- accepting --------------------------------------------------------------------------
    def _accept(self) -> None:
        told = False
        while not self.closed:
            with self.cond:     # as many handshakes at once as a listener secures
                while self.admitting >= net.MAX_HANDSHAKES and not self.closed:
                    self.cond.wait(0.2)
            try:
                sock, peer = self.listener.accept(0.2)
            except TimeoutError:
                continue
            except OSError as e:
                if self.closed or self.listener.sock.fileno() < 0:
                    return      # the listener was closed
                # out of file descriptors or buffers for a moment (a flood of connections):
                # accepting goes on once they are freed, or the owners still due never get in
                if not told:
                    self.log(f"owners: cannot accept a connection now ({e.strerror or e}); "
                             f"trying again")
                    told = True
                time.sleep(0.1)
                continue
            with self.cond:
                self.admitting += 1
            threading.Thread(target=self._admit, args=(sock, peer), daemon=True).start()

    def _admit(self, sock, peer: str) -> None:
        try:
            self._admit_one(sock, peer)
        finally:
            with self.cond:
                self.admitting -= 1
                self.cond.notify_all()

    def _admit_one(self, sock, peer: str) -> None:
        # a connection holds one of the handshake places until it has said hello: an owner
        # says it at once, and one that does not is dropped after ADMISSION_S, not after
        # the whole session's timeout (64 idle connections kept the owners out)
        window = min(self.timeout, ADMISSION_S)
        try:
            ch = self.listener.secure(sock, peer, window, phase="admission")
        except NetworkError as e:
            self.log(f"owners: a connection from {peer} failed before the greeting "
                     f"({e.detail}); still waiting")
            return
        with self.cond:
            self.open.add(ch)
        party = None
        try:
            ch.set_deadline(window, "its hello")
            hello = sh.decode(ch.recv_msg(sh.Msg.OWNER_HELLO, SMALL_MESSAGE), "the owner's hello")
            ch.set_deadline(self.timeout, "its inputs")     # the rest as before
            party, rows, listed, sub = self._check_hello(ch, hello)
            if rows is not None and self.memory_check is not None:
                self.memory_check(party, rows)      # before its shares are taken in
            with self.cond:
                if party in self.present or party in self.pending:
                    first = self.present[party].peer if party in self.present \
                        else self.pending[party]
                    again = self.present[party].submission if party in self.present \
                        else self.pending_sub.get(party)
                    if again == sub:    # one submission's two connections, both to here
                        raise _Refused(f"party '{party}' connected to the {self.role} server "
                                       f"twice for one submission: its --{_other(self.role)} "
                                       f"address names the {self.role} server too")
                    raise _Refused(f"party '{party}' has already submitted to the {self.role} "
                                   f"server (from {first}); a party submits once")
                if self.closed or len(self.present) == len(self.wanted):
                    raise _Refused(f"the {self.role} server has started the session already")
                self.pending[party] = peer
                self.pending_sub[party] = sub
            ch.send_msg(sh.Msg.ADMIT, sh.encode({"role": self.role}), flush=True)
            ch.phase = "inputs"
            bits = None
            if rows is not None:
                width = self.widths[party]
                n = sh.packed_size(rows, width)
                data = ch.recv_msg(sh.Msg.SHARES, max(n, SMALL_MESSAGE))
                if len(data) != n:
                    raise _Refused(f"party '{party}' sent inputs of the wrong size ({len(data)} "
                                   f"bytes, {n} due for {rows} rows of {width} bits)")
                bits = _unpack(np.frombuffer(data, np.uint8), (rows, width))
            ch.set_deadline(None)
            with self.cond:
                self.pending.pop(party, None)
                self.pending_sub.pop(party, None)
                if self.closed:
                    raise _Refused(f"the {self.role} server has ended the session")
                self.present[party] = Submission(party, ch, peer, rows, listed, sub, bits)
                self.cond.notify_all()
            what = f"{rows} row{'s' if rows != 1 else ''}" if rows is not None else "no inputs"
            self.log(f"owners: {party} submitted ({what}) from {peer}")
        except _Refused as e:
            self._drop(ch, party, peer, str(e))
            ch.abort(f"{self.role} server: admission: {e}")
        except NetworkError as e:
            self._drop(ch, party, peer, str(e))
            # a malformed frame broke only what this side reads: the owner is told why
            ch.abort(f"{self.role} server: {e}", after_bad_input=True)

    def _drop(self, ch, party: str | None, peer: str, why: str) -> None:
        with self.cond:
            self.open.discard(ch)
            if party is not None and self.pending.get(party) == peer:
                del self.pending[party]
                self.pending_sub.pop(party, None)
        who = f"party '{party}' from {peer}" if party else f"a connection from {peer}"
        self.log(f"owners: refused {who}: {why}; still waiting")

    def _check_hello(self, ch, hello: dict) -> tuple[str, int | None, bool, str]:
        for k in ("party", "session", "rows", "listed", "submission"):
            if k not in hello:
                raise ProtocolError(f"the owner's hello lacks '{k}'")
        party = hs._text(hello["party"], "the party", 256)
        sub = hs._text(hello["submission"], "the submission id", 64)
        rows = hello["rows"]
        if rows is not None:
            hs._count(rows, "the number of rows", 1, hs.MAX_BATCH)
        if not isinstance(hello["listed"], bool):
            raise ProtocolError("the owner's hello: 'listed' is not true or false")
        diffs = sh.compare(self.session, sh.validate_session(hello["session"]),
                           "at the servers", f"at party '{hs.shown(party)}'")
        if diffs:
            raise _Refused(f"party '{hs.shown(party)}' describes a different session: "
                           + "; ".join(diffs))
        if party not in self.wanted:
            raise _Refused(f"'{hs.shown(party)}' is not a party of this program with inputs or "
                           f"outputs (parties: {', '.join(self.wanted)})")
        if self.names is not None:
            got = self.names.get(ch.peer_fingerprint or "")
            if got != party:
                raise _Refused(f"party '{party}' presented the certificate pinned for "
                               f"'{got}', not its own")
        if (rows is None) != (self.widths[party] == 0):
            raise _Refused(f"party '{party}' " + ("gave no inputs" if rows is None else
                                                    "gave inputs but owns none"))
        return party, rows, hello["listed"], sub

    # -- waiting ------------------------------------------------------------------------------
    def wait_all(self, deadline: float, poll: Callable[[], None]) -> None:
        """Until every wanted party has submitted; else ServerError naming the missing.
        ``poll`` runs every fraction of a second meanwhile (it watches the link), outside the
        lock, so admissions go on while it reads."""
        while True:
            with self.cond:
                if len(self.present) == len(self.wanted):
                    self.closed = True   # the session is complete: later connections are refused
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = [p for p in self.wanted if p not in self.present]
                    there = [p for p in self.wanted if p in self.present]
                    raise ServerError(
                        f"{_plural('party', missing)} {_quoted(missing)} did not submit within "
                        f"{self.timeout:g} s (submitted: {', '.join(there) or 'none'})",
                        phase="waiting for owners")
                self.cond.wait(min(left, 0.2))
            poll()

    def check_alive(self, phase: str = "waiting for owners") -> None:
        for s in self.present.values():
            if s.ch.peer_stirred():
                raise ServerError(f"party '{s.party}' {_stirred(s.ch)}", phase=phase)

    def stop(self, reason: str | None) -> None:
        """Close the listener; tell every owner still connected why, if ``reason``."""
        with self.cond:
            self.closed = True
            chans = list(self.open)
        self.listener.close()
        for ch in chans:
            if reason is not None:
                ch.abort(reason)
            else:
                ch.close()


def _stirred(ch) -> str:
    """What an owner that should be silent did: closed its connection, or sent more (a
    message past its inputs, which no owner sends); read within a short bound to tell."""
    saved = ch.timeout
    ch.timeout = min(saved, 1.0) if saved is not None else 1.0
    try:
        kind, _ = ch.recv_msg_any(SMALL_MESSAGE)
    except PeerClosed:
        return "closed its connection after sending its inputs (it would not receive its outputs)"
    except PeerAborted as e:
        return f"stopped after sending its inputs ({e.detail})"
    except NetworkError as e:
        return f"sent something after its inputs where nothing was due ({e.detail})"
    finally:
        ch.timeout = saved
    return (f"sent a message (kind {kind}) after its inputs where nothing was due; it does "
            "not follow the protocol")


class _Refused(Exception):
    """An owner's connection is refused (the message says why); the session goes on."""


def _plural(word: str, xs: list) -> str:
    return word if len(xs) == 1 else ("parties" if word == "party" else word + "s")


def _quoted(xs: list) -> str:
    return ", ".join(f"'{x}'" for x in xs)


# -- the server ------------------------------------------------------------------------------
def serve(circuit: Circuit, role: str, owners: tuple[str, int], *,
          listen: tuple[str, int] | None = None, connect: tuple[str, int] | None = None,
          tls=None, owner_certs: dict[str, str] | None = None, timeout: float = 60.0,
          insecure_plain_tcp: bool = False,
          on_listening: Callable[[str, str, int], None] | None = None,
          log: Log | None = None) -> ServerResult:
    """Run one compute server of a data-owner session (see the module docstring).

    ``role``: 'garbler' or 'evaluator'. ``owners``: where data owners connect. Exactly one of
    ``listen``/``connect``: the link to the other server. ``tls``: a TLSConfig (this server's
    certificate and key, the other server's certificate) or None for plain TCP (loopback
    only, unless ``insecure_plain_tcp``); with TLS, ``owner_certs`` maps every party to its
    pinned certificate file. ``on_listening(what, host, port)`` hears each bound port
    (``what``: 'owners' or 'link'); ``log`` each admission and refusal.
    """
    from yaogc.circuits.errors import InputError
    if role not in sh.SERVERS:
        raise InputError(f"--role {role}: a server is the garbler or the evaluator")
    if (listen is None) == (connect is None):
        raise InputError("give exactly one of --listen HOST:PORT and --connect HOST:PORT "
                         "(the link between the two servers)")
    timeout = net.check_timeout(timeout)
    log = log or (lambda msg: None)
    session = sh.describe(circuit)
    owner_ctx = _owner_context(circuit, tls, owner_certs)
    # the two-server circuit and its schedule depend on the program alone: ready them before
    # listening, so the owners' wait and the timeout count from a server ready to compute
    t_plan = time.perf_counter()
    shared = shared_inputs(circuit)
    one = plan(shared, hs.Roles("garbler", "evaluator"), 1)

    def memory_check(party: str, rows: int) -> None:
        short = batch_shortfall(one, rows)
        if short is not None:
            raise _Refused(f"party '{party}' gives {rows} rows, which need about "
                           f"{short[0] / 1e9:.1f} GB on this server, more than the "
                           f"{short[1] / 1e9:.1f} GB available")
    t0 = time.perf_counter()
    t_plan = t0 - t_plan
    who = f"{role} server"
    try:
        listener = net.Listener(owners[0], owners[1], owner_ctx,
                                insecure_plain_tcp=insecure_plain_tcp, phase="owners")
    except NetworkError as e:       # named as every later failure of this server is
        raise ServerError(f"{who}: {e}") from None
    if on_listening is not None:
        on_listening("owners", owners[0], listener.port)
    deadline = time.monotonic() + timeout
    reg = _Owners(circuit, role, session, listener, timeout, log, memory_check)
    link = None
    try:
        link = _open_link(role, listen, connect, tls, timeout, insecure_plain_tcp,
                          on_listening)
        _compare_link(link, role, session)
        early: dict[str, dict] = {}

        def watch_link() -> None:
            # the other server's list may come first (its owners were quicker); anything
            # else on the link while waiting is the other server stopping or dying
            if "ready" not in early and link.peer_stirred():
                early["ready"] = _recv_ready(link, role, timeout)
        reg.wait_all(deadline, watch_link)
        t_all = time.perf_counter()
        reg.check_alive()
        k, listed = _agree(link, role, reg, timeout, early.get("ready"))
        _start(reg, k, listed)
        log(f"all {len(reg.present)} owners in; computing {k} row{'s' if k != 1 else ''} "
            f"with the {_other(role)} server")
        res = _compute(link, circuit, shared, role, reg, k, listed)
        res.stats["schedule_seconds"] = round(t_plan, 6)
        t_done = time.perf_counter()
        # an owner gone while the servers computed (killed, or its machine down) would not
        # get its outputs, and the others would get theirs: none does, as before the start
        reg.check_alive("delivering outputs")
        failed = _deliver(circuit, reg, res.halves)
        res.stats.update(_stats(link, reg, t0, t_all, t_done, res.stats))
        res.parties = res.stats["parties"]
        link.close()
        if failed:
            raise ServerError("; ".join(f"party '{p}': {e}" for p, e in failed.items()),
                              phase="delivering outputs")
        reg.stop(None)
        return res
    except NetworkError as e:
        err = ServerError(f"{who}: {e}")
        if link is not None:
            link.abort(str(err))     # only closes a link that has already failed
        reg.stop(str(err))
        raise err from None
    except BaseException as e:
        why = f"{who} was interrupted" if isinstance(e, KeyboardInterrupt) else \
            f"{who} stopped on an error of its own"
        if link is not None:
            link.abort(why)
        reg.stop(why)
        raise


def _owner_context(circuit: Circuit, tls, owner_certs):
    from yaogc.circuits.errors import InputError
    if tls is None:
        if owner_certs:
            raise InputError("--owner-cert needs TLS (--tls-cert, --tls-key and --peer-cert)")
        return None
    from .tls import make_pinned_context
    owner_certs = dict(owner_certs or {})
    wanted = sh.waited_for(circuit)
    unknown = [p for p in owner_certs if p not in circuit.parties]
    if unknown:
        raise InputError(f"--owner-cert {unknown[0]}=...: the program has no party "
                         f"'{unknown[0]}' (parties: {', '.join(circuit.parties)})")
    missing = [p for p in wanted if p not in owner_certs]
    if missing:
        raise InputError(f"with TLS every data owner's certificate is pinned: give "
                         + " ".join(f"--owner-cert {p}=FILE" for p in missing))
    from .tls import distinct_pins
    # an owner pinned to the other server's certificate would let it play both servers
    distinct_pins({"the other server (--peer-cert)": tls.peer_cert,
                   **{f"owner {p}": owner_certs[p] for p in wanted}})
    return make_pinned_context(tls.cert, tls.key, {p: owner_certs[p] for p in wanted},
                               server_side=True)


def _open_link(role, listen, connect, tls, timeout, insecure_plain_tcp, on_listening):
    if listen is not None:
        hook = None if on_listening is None else (lambda h, p: on_listening("link", h, p))
        return net.listen(listen[0], listen[1], timeout, tls, on_listening=hook,
                          insecure_plain_tcp=insecure_plain_tcp, phase="link")
    return net.connect(connect[0], connect[1], timeout, tls,
                       insecure_plain_tcp=insecure_plain_tcp, phase="link")


def _other(role: str) -> str:
    return "evaluator" if role == "garbler" else "garbler"


def _from_other(role: str, e: NetworkError, phase: str) -> ServerError:
    """A failure of the link, said from this server's side: the other server stopped (and
    why, if it said so) or the connection to it failed."""
    other = f"the {_other(role)} server"
    if isinstance(e, PeerAborted):
        reason = e.detail.removeprefix("the peer aborted: ")
        return ServerError(f"stopped by {other} ({reason})", phase=phase)
    return ServerError(f"{other} failed or left: {e.detail}", phase=phase)


def _compare_link(link, role: str, session: dict) -> None:
    """Both servers describe the same session and hold different roles."""
    link.phase = "link"
    link.set_deadline(link.timeout, "the servers' hello")
    link.send_msg(sh.Msg.LINK_HELLO, sh.encode({"role": role, "session": session}), flush=True)
    theirs = sh.decode(link.recv_msg(sh.Msg.LINK_HELLO, SMALL_MESSAGE), "the other server's hello")
    link.set_deadline(None)
    diffs = sh.compare(session, sh.validate_session(theirs.get("session")))
    if theirs.get("role") == role:
        diffs.insert(0, f"both servers are the {role} (the other must run --role "
                        f"{_other(role)})")
    if diffs:
        raise ServerError("the other server describes a different session: " + "; ".join(diffs),
                          phase="link")


def _recv_ready(link, role: str, timeout: float) -> dict:
    """The other server's list of submissions; it may still be waiting for owners, up to its
    own timeout."""
    link.phase = "waiting for owners"
    link.timeout = 2 * timeout
    try:
        return sh.decode(link.recv_msg(sh.Msg.LINK_READY, SMALL_MESSAGE), "the other server's list")
    except NetworkError as e:
        raise _from_other(role, e, "waiting for owners") from None
    finally:
        link.timeout = timeout


def _agree(link, role: str, reg: _Owners, timeout: float,
           theirs: dict | None) -> tuple[int, bool]:
    """Exchange the submissions with the other server; return the batch size and shape."""
    mine = {p: {"rows": s.rows, "submission": s.submission, "listed": s.listed}
            for p, s in reg.present.items()}
    link.phase = "waiting for owners"
    link.send_msg(sh.Msg.LINK_READY, sh.encode({"owners": mine}), flush=True)
    if theirs is None:
        theirs = _recv_ready(link, role, timeout)
    other = theirs.get("owners")
    if not isinstance(other, dict):
        raise ProtocolError("the other server's list of owners is malformed",
                            phase="waiting for owners")
    for p in reg.wanted:
        a, b = mine.get(p), other.get(p)
        if a != b:
            raise ServerError(f"party '{p}' sent different submissions to the two servers "
                              "(it submitted twice?)", phase="waiting for owners")
    rows = {p: reg.present[p].rows for p in reg.wanted if reg.present[p].rows is not None}
    k = max(rows.values(), default=1)
    if len({r for r in rows.values() if r != 1}) > 1:
        # no size is the right one: every owner's is named, none is blamed
        sizes = ", ".join(f"{p} {r}" for p, r in rows.items())
        raise ServerError(f"the owners gave batches of different sizes ({sizes} rows): all "
                          f"owners with several rows must give the same number",
                          phase="batch")
    listed = any(s.listed for s in reg.present.values())
    return k, listed or k > 1


def _start(reg: _Owners, k: int, listed: bool) -> None:
    """Tell the owners the session starts (before the log says it computes)."""
    for p, s in reg.present.items():
        try:
            s.ch.phase = "start"
            s.ch.send_msg(sh.Msg.START, sh.encode({"batch": k, "listed": listed}), flush=True)
        except NetworkError as e:
            raise ServerError(f"party '{p}': {e.detail}", phase="start") from None


def _compute(link, circuit: Circuit, shared: Circuit, role: str, reg: _Owners, k: int,
             listed: bool) -> ServerResult:
    """Run Yao's protocol on the owners' shares."""
    n = circuit.n_inputs
    bits = np.zeros((k, n), dtype=np.uint8)
    shares = {}
    for p, s in reg.present.items():
        if s.bits is not None:
            bits[:, sh.input_wires(circuit, p)] = s.bits     # one row broadcasts to every row
            shares[p] = s.bits
    off = 0 if role == "garbler" else n
    inputs = PartyInputs([{} for _ in range(k)], bits, np.arange(off, off + n), listed)
    pl = plan(shared, hs.Roles("garbler", "evaluator"), k)
    got: dict[str, np.ndarray] = {}
    session = garbler_session if role == "garbler" else evaluator_session
    try:
        run = session(link, pl, inputs, deliver=lambda half: got.setdefault("half", half))
    except NetworkError as e:
        raise _from_other(role, e, e.phase or "compute") from None
    return ServerResult(role, list(reg.present), k, dict(run.stats), shares, got["half"])


def _deliver(circuit: Circuit, reg: _Owners, halves: np.ndarray) -> dict[str, str]:
    """Send each owner this server's half of its output bits; return the failures."""
    failed = {}
    for p, s in reg.present.items():
        cols = sh.output_columns(circuit, p)
        try:
            s.ch.phase = "delivering outputs"
            s.ch.send_msg(sh.Msg.OUTPUT, _pack(halves[:, cols]), flush=True)
            s.ch.close()
        except NetworkError as e:
            failed[p] = e.detail
    return failed


def _stats(link, reg: _Owners, t0: float, t_all: float, t_done: float,
           run: dict) -> dict[str, Any]:
    end = time.perf_counter()
    seen = [p for p in reg.wanted if p in reg.present]
    # as this server counts them: bytes from the owner (its hello and shares) and to it
    per = {p: {"received": reg.present[p].ch.bytes_received, "sent": reg.present[p].ch.bytes_sent}
           for p in seen}
    return {
        "parties": seen,
        "and_gates": run.get("and_gates", 0),
        "batch": run.get("batch", 1),
        "link_bytes_sent": link.bytes_sent,
        "link_bytes_received": link.bytes_received,
        "owner_bytes": per,
        "waiting_seconds": round(t_all - t0, 6),
        "compute_seconds": round(t_done - t_all, 6),
        "deliver_seconds": round(end - t_done, 6),
        "total_seconds": round(end - t0, 6),
        "tls": getattr(link, "tls_version", None),
    }
