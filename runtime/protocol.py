"""Yao's two-party protocol over a channel: one party garbles, the other evaluates.

Security model: semi-honest (honest-but-curious). Each party follows the protocol and learns
only the outputs addressed to it; a party that deviates from the protocol is not detected.
TLS with pinned certificates keeps outsiders out; it does not strengthen this model. The
malicious mode (:mod:`yaogc.runtime.dualex`, dual execution) reuses the phases below
(``garble_run`` / ``evaluate_run``) once in each direction.

Garbling is free-XOR with half-gates (Zahur, Rosulek, Evans, EUROCRYPT 2015) and the
fixed-key-AES TCCR hash (Guo, Katz, Wang, Yu, S&P 2020), in ``yaogc.gc``; the evaluator's
input labels come by IKNP OT extension (Ishai, Kilian, Nissim, Petrank, CRYPTO 2003, with the
ALSZ 2013 optimizations) in ``yaogc.runtime.ot_ext``. One session evaluates the circuit on K
input rows at once:

1. handshake: both sides send a session description and compare (``handshake``); any
   disagreement stops both before an input-dependent byte is sent;
2. inputs: the garbler sends the labels of its own input bits, ``L0 ^ x R``;
3. OT: one extension setup, then one correlated OT (ALSZ) per evaluator input bit of all K
   rows with offset R: the evaluator gets ``L0 ^ x R`` and the garbler the random ``L0``,
   which becomes that input wire's zero label;
4. tables: the garbler streams each AND layer's table block (32 bytes per AND per row) as the
   engine yields it (small layers gathered into frames of a few hundred KiB, large ones
   written by a sender thread), so garbling, sending and evaluating overlap;
5. outputs: the evaluator sends the colour bits of the garbler-bound output wires only; the
   garbler decodes them, then sends its decoding bits of the evaluator-bound output wires only.
   A party never receives what it needs to decode an output not addressed to it.

Every wait is bounded by the channel's timeout; a failure raises a ``NetworkError`` whose
message starts with the phase (``OT: the peer closed the connection``).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Callable

import numpy as np

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.errors import InputError

from . import handshake as hs
from .channel import MIN_RATE, SMALL_MESSAGE
from .errors import NetworkError
from .inputs import PartyInputs, party_inputs
from .ot_ext import OTExtReceiver, OTExtSender
from .progress import Progress
from .tables import TableReader, recv_rows, send_rows, send_tables

TWEAK_START = 0          # gate tweaks count from 0; OT extension's count from 2^63

PHASES = ("handshake", "inputs", "OT", "tables", "outputs")


class Msg(IntEnum):
    HELLO = 1
    GARBLER_LABELS = 2
    TABLES = 3
    OUTPUT_COLOURS = 4
    OUTPUT_DECODING = 5
    COMMITMENT = 6          # malicious mode (dual execution): the output check
    DIGEST = 7
    OPENING = 8


@dataclass
class RunResult:
    """One party's view of a finished run."""

    role: str
    party: str
    outputs: list[dict[str, Any]]   # one dict per row, only the outputs addressed to this party
    batch: bool                     # report a list (input rows came as a batch)
    stats: dict[str, Any] = field(default_factory=dict)
    # perf_counter instants (for benchmarks): start, first table byte, end; and the process
    # CPU time (all threads) when the tables phase began and at the end
    marks: dict[str, float] = field(default_factory=dict)

    def json_outputs(self, circuit: Circuit) -> Any:
        rows = [{o.name: o.type.to_json(row[o.name]) for o in circuit.outputs if o.name in row}
                for row in self.outputs]
        if not rows:        # a data owner to whom no output is addressed
            return [] if self.batch else {}
        return rows if self.batch else rows[0]


@dataclass
class Plan:
    """Everything both sides derive from the circuit and the roles alone."""

    circuit: Circuit
    roles: hs.Roles
    schedule: Any
    garbler_wires: np.ndarray       # input wires the garbler owns, in port order
    evaluator_wires: np.ndarray
    to_garbler: np.ndarray          # columns of the concatenated output bits for each party
    to_evaluator: np.ndarray
    layer_ands: list[int]
    digest: str
    engine: str = "numpy"           # the garbling engine planned for ``batch`` rows
    requested: str | None = None    # the engine the user asked for (None: by workload)
    batch: int = 1

    @property
    def n_and(self) -> int:
        return int(sum(self.layer_ands))


def plan(circuit: Circuit, roles: hs.Roles, batch: int = 1, engine: str | None = None) -> Plan:
    """Schedule the circuit (for ``batch`` rows) and split its ports between the two roles.

    The garbling engine ('numpy', 'native', or None: by workload, see ``yaogc.gc.native``)
    and its Schedule are picked per batch size; all of a circuit's Schedules have the same
    AND layers and both engines the same tables, so the two sides may differ in that choice.
    No I/O here."""
    from yaogc.gc.workload import plan_for
    requested = engine
    engine, sched = plan_for(circuit, batch, requested)
    own = {r: [p.wires for p in circuit.inputs if roles.role_of(p.party) == r] for r in hs.ROLES}
    cols = {r: [] for r in hs.ROLES}
    pos = 0
    for o in circuit.outputs:
        for r in sorted({roles.role_of(x) for x in o.recipients}):
            cols[r].append(np.arange(pos, pos + o.width))
        pos += o.width
    cat = (lambda xs: np.concatenate(xs).astype(np.int64) if xs else np.zeros(0, np.int64))
    return Plan(circuit, roles, sched, cat(own["garbler"]), cat(own["evaluator"]),
                cat(cols["garbler"]), cat(cols["evaluator"]), [int(n) for n in sched.widths],
                hs.circuit_hash(circuit), engine, requested, batch)


def memory_needed(p: Plan, k: int) -> int:
    """Bytes a party needs for K rows: the engine's label store (16 bytes per slot per row),
    the input labels, and the widest layer's table block (32 bytes per AND per row)."""
    per_row = (16 * (int(p.schedule.n_slots) + 2 * p.circuit.n_inputs)
               + 64 * max(p.layer_ands, default=0))
    return k * per_row


def memory_available() -> int:
    """``$YAOGC_MAX_MEMORY`` (bytes) if set, else the memory this machine has available."""
    from yaogc.compiler.pipeline import available_memory, memory_setting
    got = memory_setting()
    if got is not None:
        return got
    return available_memory()


def batch_shortfall(p: Plan, k: int) -> tuple[int, int] | None:
    """(bytes needed, bytes available) when K rows' tables and labels would not fit in the
    memory this process may take, else None."""
    need, have = memory_needed(p, k), memory_available()
    return (need, have) if need > have else None


def check_batch_memory(p: Plan, k: int, *, peer: bool = False) -> None:
    """Refuse a batch whose tables and labels would not fit in this machine's memory: a
    usage error for this side's own rows, a protocol error for a K the peer asked for."""
    short = batch_shortfall(p, k)
    if short is None:
        return
    need, have = short
    gb = lambda n: f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"
    if peer:
        raise hs.ProtocolError(f"the peer's batch of {k} rows needs about {gb(need)} here, "
                               f"more than the {gb(have)} available", phase="handshake")
    fits = have // max(1, memory_needed(p, 1))
    rows = f"a batch of {k} rows" if k != 1 else "one row"
    advice = f"split the batch into runs of at most {fits} rows" if fits >= 1 else \
        "not even one row fits: free memory, or raise YAOGC_MAX_MEMORY if the estimate is wrong"
    raise InputError(f"{rows} needs about {gb(need)} of memory, more than the {gb(have)} "
                     f"available; {advice}")


# -- small helpers --------------------------------------------------------------------------
class _Phases:
    """Sets the channel's phase (for error messages) and tells an observer, if any."""

    def __init__(self, ch, on_phase: Callable[[str], None] | None):
        self.ch, self.on_phase = ch, on_phase
        self.suffix = ""   # e.g. " (run 2)": names the run of a dual execution in messages
        self.times: dict[str, float] = {}
        self._cur: str | None = None
        self._t = time.perf_counter()
        self.cpu: dict[str, float] = {}   # process CPU time when each phase began
        self.cpu_start = time.process_time()

    def enter(self, name: str) -> None:
        self._close()
        self.cpu.setdefault(name, time.process_time())
        self.ch.phase = name + self.suffix
        self._cur = name
        if self.on_phase is not None:
            self.on_phase(name + self.suffix)

    def _close(self) -> None:
        now = time.perf_counter()
        if self._cur is not None:
            self.times[self._cur] = self.times.get(self._cur, 0.0) + now - self._t
        self._t = now

    def done(self) -> dict[str, float]:
        self._close()
        self._cur = None
        return self.times


def _pack(bits: np.ndarray) -> np.ndarray:
    return np.packbits(np.ascontiguousarray(bits, dtype=np.uint8).reshape(-1), bitorder="little")


def _unpack(packed: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    n = shape[0] * shape[1]
    return np.unpackbits(packed, count=n, bitorder="little").reshape(shape)


def _recv_bits(ch, kind: Msg, shape: tuple[int, int]) -> np.ndarray:
    n = shape[0] * shape[1]
    return _unpack(ch.recv_array(np.uint8, (n + 7) // 8, kind=kind), shape)


def _decode_rows(circuit: Circuit, roles: hs.Roles, role: str, bits: np.ndarray,
                 cols: np.ndarray) -> list[dict[str, Any]]:
    """Values of the outputs addressed to ``role`` from their bits ((K, len(cols)))."""
    ports, pos, start = [], 0, {}
    for o in circuit.outputs:
        start[o.name] = pos
        pos += o.width
    col_at = {int(c): i for i, c in enumerate(cols)}
    for o in circuit.outputs:
        if role in {roles.role_of(x) for x in o.recipients}:
            ports.append((o, col_at[start[o.name]]))
    return [{o.name: o.type.decode(row[c:c + o.width]) for o, c in ports} for row in bits]


def _hello(ch, p: Plan, role: str, inputs: PartyInputs | None,
           mode: str = hs.SEMI_HONEST) -> tuple[int, bool, str | None]:
    """Exchange and compare session descriptions; returns (K, report outputs as a list, the
    role whose one row is broadcast to all K rows or None).

    A side with inputs of its own reports a list if its rows came as a batch; a side without
    follows the peer, so both print the same shape; K > 1 is always a list."""
    own = p.garbler_wires if role == "garbler" else p.evaluator_wires
    k = inputs.k if own.size and inputs is not None else None
    listed = bool(k is not None and inputs.batch)
    mine = hs.describe(p.circuit, p.roles, role, k, p.digest, listed=listed, mode=mode)
    # the hello is small: the whole exchange, not just each wait, must end within the timeout
    ch.set_deadline(ch.timeout, "the session handshake")
    ch.send_msg(Msg.HELLO, hs.encode(mine), flush=True)
    theirs = hs.decode(ch.recv_msg(Msg.HELLO, SMALL_MESSAGE))
    ch.set_deadline(None)
    k_own = k
    k = hs.check(mine, theirs)
    bc = hs.broadcaster(mine, theirs)
    try:
        hs.check_broadcast(k, bc, role, inputs.max_batch if inputs is not None else None, mode)
    except hs.HandshakeMismatch as e:
        # only this side knows its limit: the peer is told why, not left with a closed
        # connection (the limit is a setting, no input)
        ch.abort(f"it refuses to apply its one row to a batch of {k} rows of this side's: "
                 f"{e.limit_text}")
        raise
    if k_own is None or k_own != k:
        try:
            check_batch_memory(p, k, peer=True)   # K is the peer's word: bound it by memory
        except hs.ProtocolError as e:
            # the peer is told why, as for --max-batch (not left with a closed connection)
            ch.abort(f"it refuses the batch: {e.detail}")
            raise
    if not own.size:
        listed = theirs.get("listed") is True
    return k, listed or k != 1, bc


@contextmanager
def _named(ch):
    """The OT layer's errors name no protocol phase (it knows none): give them the
    channel's, as every other failure of a session has (``OT (run 2): OT extension: ...``)."""
    try:
        yield
    except NetworkError as e:
        if e.phase is not None:
            raise
        named = type(e).__new__(type(e))
        NetworkError.__init__(named, e.detail, phase=ch.phase)
        raise named from None


def _transfer_deadline(ch, nbytes: int, what: str) -> None:
    """A deadline of the timeout plus ``nbytes`` at ``MIN_RATE`` for the next receives."""
    if ch.timeout is not None:
        ch.set_deadline(ch.timeout + nbytes / MIN_RATE, what)


def _result(ch, p: Plan, ph: _Phases, role: str, outputs: list, batch: bool, k: int,
            t0: float, t_first: float | None, table_bytes: int) -> RunResult:
    times = ph.done()
    t_end = time.perf_counter()
    t_first = t_first if t_first is not None else t_end
    stats = {
        "and_gates": p.n_and * k,
        "batch": k,
        "table_bytes": table_bytes,
        "bytes_sent": ch.bytes_sent,
        "bytes_received": ch.bytes_received,
        "setup_seconds": round(t_first - t0, 6),
        "ot_seconds": round(times.get("OT", 0.0), 6),
        "gc_seconds": round(times.get("tables", 0.0) + times.get("outputs", 0.0), 6),
        "total_seconds": round(t_end - t0, 6),
        # what protects the connection, for the run summary: TLS version and the SHA-256
        # fingerprint of the certificate the peer presented (None and None on plain TCP)
        "tls": getattr(ch, "tls_version", None),
        "peer_fingerprint": getattr(ch, "peer_fingerprint", None),
    }
    cpu_end = time.process_time()
    return RunResult(role, p.roles.party_of(role), outputs, batch, stats,
                     {"start": t0, "first_table": t_first, "end": t_end,
                      "cpu_start": ph.cpu_start, "cpu_tables": ph.cpu.get("tables", cpu_end),
                      "cpu_end": cpu_end})


def _delivered(deliver, bits, ch, p: Plan, ph: _Phases, role: str, listed: bool, k: int,
               t0: float, t_first, nbytes: int, engine: str) -> RunResult:
    """A server's end of a run for data owners: its half of every output bit (decoding
    bits, or colour bits) goes to ``deliver``, and this side decodes nothing."""
    deliver(bits)
    res = _result(ch, p, ph, role, [{} for _ in range(k)], listed, k, t0, t_first, nbytes)
    res.stats["engine"] = engine
    return res


# -- garbler -------------------------------------------------------------------------------
def make_engine(p: Plan, role: str, k: int):
    """A fresh Garbler or Evaluator for K rows (input-independent: it may be built early)."""
    from yaogc.gc import Evaluator, Garbler, TweakCounter
    from yaogc.gc.workload import plan_for
    cls = Garbler if role == "garbler" else Evaluator
    engine, sched = (p.engine, p.schedule) if k == p.batch else \
        plan_for(p.circuit, k, p.requested)
    return cls(sched, k, TweakCounter(TWEAK_START), engine=engine)


def garbler_labels(g, p: Plan, inputs: PartyInputs) -> np.ndarray:
    """The labels ``L0 ^ x R`` of the garbler's own input bits, (K, own wires, 2).

    Broadcast (one row of the garbler's for K > 1 rows): every row's input wires take row
    0's zero labels, as one wire fanning out to K copies of the circuit would (all rows share
    R and every gate its own tweak), and only that row's labels, (1, own wires, 2), are sent."""
    if not p.garbler_wires.size:
        return g.input_labels(np.zeros((g.batch, 0), np.uint8), p.garbler_wires)
    if inputs.k == 1 and g.batch > 1:
        slots = g.input_slots()
        slots[p.garbler_wires, 1:] = slots[p.garbler_wires, :1]
        return _first_row_labels(g, p.garbler_wires, inputs.bits)
    return g.input_labels(inputs.bits, p.garbler_wires)


def _first_row_labels(g, wires: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """``L0 ^ x R`` of row 0's zero labels for one row of bits, (1, len(wires), 2)."""
    zero = g.input_slots()[wires, 0]                       # (w, 2)
    mask = (bits[0].astype(np.uint64) & np.uint64(1)) * np.uint64(0xFFFFFFFFFFFFFFFF)
    return (zero ^ (mask[:, None] & g.R))[None]


def _engine(engine, p: Plan, role: str, k: int):
    return engine if engine is not None and engine.batch == k else make_engine(p, role, k)


def garbler_session(ch, p: Plan, inputs: PartyInputs, *,
                    on_phase: Callable[[str], None] | None = None,
                    progress: Progress | None = None, t0: float | None = None,
                    engine=None, labels: np.ndarray | None = None,
                    deliver: Callable[[np.ndarray], None] | None = None) -> RunResult:
    """Run the garbler's side on a connected channel; returns its outputs and stats.

    ``engine``: a Garbler from :func:`make_engine` built before connecting, or None;
    ``labels``: :func:`garbler_labels` of that engine, or None. ``deliver``: for two compute
    servers (:mod:`yaogc.runtime.servers`), the output phase hands the decoding bits of every
    output, (K, total width), to ``deliver`` instead of exchanging anything with the evaluator;
    neither side then learns any output."""
    t0 = time.perf_counter() if t0 is None else t0
    ph = _Phases(ch, on_phase)
    ph.enter("handshake")
    k, listed, bc = _hello(ch, p, "garbler", inputs)

    ph.enter("inputs")
    g = _engine(engine, p, "garbler", k)
    if labels is None or g is not engine:
        labels = garbler_labels(g, p, inputs)
    _, t_first, sent_bytes = garble_run(ch, p, ph, g, labels, progress, broadcast=bc)

    ph.enter("outputs")
    decoding = g.decoding_bits()   # (K, total output width) uint8: colour of each 0 label
    if deliver is not None:
        return _delivered(deliver, decoding, ch, p, ph, "garbler", listed, k, t0, t_first,
                          sent_bytes, g.engine)
    colours = _recv_bits(ch, Msg.OUTPUT_COLOURS, (k, p.to_garbler.size))
    own_bits = colours ^ decoding[:, p.to_garbler]
    ch.send_array(_pack(decoding[:, p.to_evaluator]), Msg.OUTPUT_DECODING, flush=True)
    outputs = _decode_rows(p.circuit, p.roles, "garbler", own_bits, p.to_garbler)
    res = _result(ch, p, ph, "garbler", outputs, listed, k, t0, t_first, sent_bytes)
    res.stats["engine"] = g.engine
    res.stats["broadcast"] = bc
    return res


def garble_run(ch, p: Plan, ph: _Phases, g, labels: np.ndarray, progress: Progress | None,
               *, broadcast: str | None = None, ot_sender=OTExtSender, extra: int = 0,
               runs=None) -> tuple[np.ndarray, float | None, int]:
    """The garbler's inputs, OT and tables phases with Garbler ``g``.

    ``broadcast`` 'evaluator': the evaluator's one row serves all K rows (one OT per bit).
    ``extra`` more correlated OTs per row follow the evaluator's input bits (the dual
    execution's output masks); their zero labels, (K, extra, 2), are returned with the
    instant of the first table byte and the table bytes sent. ``ot_sender``: the OT
    extension class (IKNP, or KOS15 against a malicious evaluator); ``runs``: the table runs
    to send (default ``g.block_runs()``)."""
    ph.enter("inputs")
    send_rows(ch, labels, Msg.GARBLER_LABELS)
    n_e, rows = p.evaluator_wires.size, (1 if broadcast == "evaluator" else g.batch)
    extra_l0 = np.zeros((rows, 0, 2), dtype=np.uint64)
    if n_e + extra:
        ph.enter("OT")
        with _named(ch):
            ot = ot_sender(ch)
            ot.setup()
            # correlated OT (ALSZ): the OT itself draws the zero labels of the evaluator's
            # input wires, L0 = H(q_i, i), and moves 16 bytes per bit instead of 32 for
            # (L0, L0 ^ R); a broadcast evaluator row: one OT per bit, its labels shared by
            # all K rows
            l0 = ot.send_correlated(g.R, rows * (n_e + extra)).reshape(rows, n_e + extra, 2)
        g.input_slots()[p.evaluator_wires] = l0[:, :n_e].transpose(1, 0, 2)
        extra_l0 = l0[:, n_e:]
        ch.flush()

    ph.enter("tables")
    t_first, sent_bytes = send_tables(ch, g.block_runs() if runs is None else runs,
                                      Msg.TABLES, progress)
    return extra_l0, t_first, sent_bytes


# -- evaluator -----------------------------------------------------------------------------
def evaluate_run(ch, p: Plan, ph: _Phases, k: int, bits: np.ndarray | None, engine,
                 progress: Progress | None, *, broadcast: str | None = None,
                 ot_receiver=OTExtReceiver, extra_bits: np.ndarray | None = None):
    """The evaluator's inputs, OT and tables phases: ``bits`` (rows, own wires) are its
    input bits (one row if it broadcasts, ``broadcast`` naming the role whose one row serves
    all K), ``extra_bits`` (K, extra) more OT choices per row (the dual execution's output
    masks). Returns (the Evaluator, its labels of the extra choices (K, extra, 2), instant of
    the first table byte, table bytes received)."""
    n_in = p.circuit.n_inputs
    ph.enter("inputs")
    labels = np.zeros((k, n_in, 2), dtype=np.uint64)
    # the labels are a known number of bytes the garbler has ready: a deadline, so a peer
    # trickling them cannot hold this side (a floor rate far below any real link)
    g_rows = 1 if broadcast == "garbler" else k       # a broadcast garbler row comes once
    _transfer_deadline(ch, g_rows * p.garbler_wires.size * 16, "the garbler's input labels")
    labels[:, p.garbler_wires, :] = recv_rows(ch, np.uint64, (g_rows, p.garbler_wires.size, 2),
                                              Msg.GARBLER_LABELS)
    ch.set_deadline(None)

    n_e = p.evaluator_wires.size
    rows = 1 if broadcast == "evaluator" else k
    extra = 0 if extra_bits is None else extra_bits.shape[1]
    extra_labels = np.zeros((rows, 0, 2), dtype=np.uint64)
    if n_e + extra:
        ph.enter("OT")
        choices = bits.reshape(rows, n_e) if n_e else np.zeros((rows, 0), np.uint8)
        if extra:
            choices = np.concatenate([choices, extra_bits.astype(np.uint8)], axis=1)
        with _named(ch):
            ot = ot_receiver(ch)
            ot.setup()
            got = ot.recv_correlated(choices.reshape(-1)).reshape(rows, n_e + extra, 2)
        labels[:, p.evaluator_wires, :] = got[:, :n_e]
        extra_labels = got[:, n_e:]

    ph.enter("tables")
    ev = _engine(engine, p, "evaluator", k)
    ev.set_inputs(labels)
    cum = np.cumsum(np.array(p.layer_ands, dtype=np.int64) * (32 * k))
    reader = TableReader(ch, int(cum[-1]) if cum.size else 0, Msg.TABLES)
    # the whole stream, not only each message, within the timeout plus its size at MIN_RATE:
    # a garbler sending its layers one at a time, each just within the timeout, cannot hold
    # this side for (layers x timeout)
    _transfer_deadline(ch, reader.total, "the garbled tables")
    i = 0
    while i < cum.size:
        # every whole layer that has arrived: the native engine runs them in one call
        buf, n = reader.take_layers(cum, i)
        ev.feed_run(buf, n)
        i += n
        if progress is not None:
            progress.update(i, int(cum[i - 1]) // 32)
    ch.set_deadline(None)
    return ev, extra_labels, reader.first, reader.got


def evaluator_session(ch, p: Plan, inputs: PartyInputs | None, *,
                      on_phase: Callable[[str], None] | None = None,
                      progress: Progress | None = None, t0: float | None = None,
                      engine=None,
                      deliver: Callable[[np.ndarray], None] | None = None) -> RunResult:
    """Run the evaluator's side on a connected channel; returns its outputs and stats.

    ``engine``: an Evaluator from :func:`make_engine` built before connecting, or None.
    ``deliver``: as for :func:`garbler_session`, with the colour bits of every output."""
    t0 = time.perf_counter() if t0 is None else t0
    ph = _Phases(ch, on_phase)
    ph.enter("handshake")
    has_inputs = p.evaluator_wires.size > 0
    if has_inputs and inputs is None:
        raise InputError("the evaluator owns inputs of this circuit but was given none")
    k, listed, bc = _hello(ch, p, "evaluator", inputs)
    ev, _, t_first, got = evaluate_run(ch, p, ph, k, inputs.bits if has_inputs else None,
                                       engine, progress, broadcast=bc)

    ph.enter("outputs")
    colours = ev.output_colours()  # (K, total output width) uint8
    if deliver is not None:
        return _delivered(deliver, colours, ch, p, ph, "evaluator", listed, k, t0, t_first,
                          got, ev.engine)
    ch.send_array(_pack(colours[:, p.to_garbler]), Msg.OUTPUT_COLOURS, flush=True)
    decoding = _recv_bits(ch, Msg.OUTPUT_DECODING, (k, p.to_evaluator.size))
    own_bits = colours[:, p.to_evaluator] ^ decoding
    outputs = _decode_rows(p.circuit, p.roles, "evaluator", own_bits, p.to_evaluator)
    res = _result(ch, p, ph, "evaluator", outputs, listed, k, t0, t_first, got)
    res.stats["engine"] = ev.engine
    res.stats["broadcast"] = bc
    return res


# -- entry points --------------------------------------------------------------------------
def prepare(circuit: Circuit, who: str, inputs: Any = None, *,
            garbler: str | None = None,
            engine: str | None = None) -> tuple[Plan, str, PartyInputs]:
    """Roles, schedule and this party's checked inputs, all before any connection.

    ``who`` is ``garbler``, ``evaluator`` or a party name; ``inputs`` a PartyInputs, one dict
    of name -> value, or a list of such dicts (a batch).
    """
    roles, role, inputs = own_inputs(circuit, who, inputs, garbler=garbler)
    return plan(circuit, roles, inputs.k, engine), role, inputs


def own_inputs(circuit: Circuit, who: str, inputs: Any = None, *,
               garbler: str | None = None) -> tuple[hs.Roles, str, PartyInputs]:
    """The roles, this side's role and its checked inputs (see :func:`prepare`)."""
    roles = hs.resolve_roles(circuit, garbler)
    role = hs.resolve_self(roles, who)
    if not isinstance(inputs, PartyInputs):
        rows = inputs if isinstance(inputs, list) else None
        one = inputs if isinstance(inputs, dict) else None
        if inputs is not None and rows is None and one is None:
            raise InputError(f"inputs must be a dict of name -> value or a list of such dicts, "
                             f"not {type(inputs).__name__}")
        inputs = party_inputs(circuit, roles.party_of(role), one, rows, batch=rows is not None,
                              source="inputs")
    return roles, role, inputs


def run_party(circuit: Circuit, who: str, inputs: Any = None, *,
              listen: tuple[str, int] | None = None, connect: tuple[str, int] | None = None,
              tls=None, timeout: float = 60.0, insecure_plain_tcp: bool = False,
              garbler: str | None = None,
              on_listening: Callable[[str, int], None] | None = None,
              on_phase: Callable[[str], None] | None = None,
              progress: bool | None = False,
              on_scheduled: Callable[[float], None] | None = None,
              engine: str | None = None, malicious: bool = False,
              max_batch: int | None = None, testing_faults=None,
              stop: Callable[[], str | None] | None = None) -> RunResult:
    """Run one party of a two-party session over TCP (TLS if ``tls`` is a TLSConfig).

    Exactly one of ``listen=(host, port)`` and ``connect=(host, port)``. Inputs are checked
    and the circuit scheduled before connecting. ``progress``: True/False, or None to draw
    the progress line only when stderr is a terminal. The time spent scheduling is
    ``stats["schedule_seconds"]`` of the result (and ``on_scheduled(seconds)`` hears it
    before any connection). ``engine``: 'numpy' or 'native' forces a garbling engine (else
    ``YAOGC_ENGINE``, else the workload's choice); ``stats["engine"]`` says which ran.
    ``malicious``: dual execution (:mod:`yaogc.runtime.dualex`; the peer must ask for it
    too), secure against a peer that deviates up to one leaked bit; ``testing_faults``: a
    ``dualex.Faults`` that makes this side deviate (tests only). ``max_batch``: the most rows
    of the peer this side's one row may be applied to (each is an evaluation on this side's
    input); None: any number, or once only in a malicious-mode run. ``stop()``, asked while
    this side waits for the peer to connect or to listen, ends the wait with
    :class:`~yaogc.runtime.errors.Stopped` when it returns a reason.
    """
    from . import net
    if (listen is None) == (connect is None):
        raise InputError("give exactly one of listen=(host, port) and connect=(host, port)")
    timeout = net.check_timeout(timeout)
    t_plan = time.perf_counter()
    max_batch = hs.check_max_batch(max_batch)
    p, role, own = prepare(circuit, who, inputs, garbler=garbler, engine=engine)
    own.max_batch = max_batch
    t_plan = time.perf_counter() - t_plan
    if on_scheduled is not None:
        on_scheduled(t_plan)
    own_wires = p.garbler_wires if role == "garbler" else p.evaluator_wires
    check_batch_memory(p, own.k)
    if p.engine == "native":
        from yaogc.gc import native       # its compiled kernels load before the peer waits
        native.kernels()
    # labels, scratch space and buffers do not depend on the inputs: build them before the
    # peer is waiting (with no inputs of its own, a party learns K in the handshake)
    if malicious:
        from .dualex import dual_session
        session, extra = dual_session, {"role": role, "faults": testing_faults}
    else:
        if testing_faults is not None:
            raise InputError("testing_faults apply to malicious runs only")
        session = garbler_session if role == "garbler" else evaluator_session
        engine = make_engine(p, role, own.k) if own_wires.size else None
        extra = {"engine": engine}
        if engine is not None and role == "garbler":
            extra["labels"] = garbler_labels(engine, p, own)
    bar = Progress(len(p.layer_ands), label=f"{role}: ", enabled=progress)
    if listen is not None:
        ch = net.listen(listen[0], listen[1], timeout, tls, on_listening=on_listening,
                            insecure_plain_tcp=insecure_plain_tcp, phase="connect",
                            stop=stop)
        t0 = time.perf_counter()
    else:
        t0 = time.perf_counter()
        ch = net.connect(connect[0], connect[1], timeout, tls,
                             insecure_plain_tcp=insecure_plain_tcp, phase="connect", stop=stop)
    try:
        with ch:
            bar.restart()
            res = session(ch, p, own, on_phase=on_phase, progress=bar, t0=t0, **extra)
            res.stats["schedule_seconds"] = round(t_plan, 6)
            if res.stats.get("engine") == "native":
                from yaogc.gc import native
                res.stats["jit_load_seconds"] = round(native.load_seconds() or 0.0, 6)
            return res
    finally:
        bar.close()


def run_garbler(circuit: Circuit, inputs: Any = None, **kw) -> RunResult:
    """The garbler's side: ``run_party(circuit, "garbler", inputs, **kw)``."""
    return run_party(circuit, "garbler", inputs, **kw)


def run_evaluator(circuit: Circuit, inputs: Any = None, **kw) -> RunResult:
    """The evaluator's side: ``run_party(circuit, "evaluator", inputs, **kw)``."""
    return run_party(circuit, "evaluator", inputs, **kw)
