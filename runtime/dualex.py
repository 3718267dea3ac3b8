"""Dual execution: ``yaogc run --malicious``, protection against a party that deviates.

Protocol: Payman Mohassel and Matthew Franklin, "Efficiency Tradeoffs for Malicious Two-Party
Computation" (PKC 2006), in the form of Yan Huang, Jonathan Katz and David Evans,
"Quid-Pro-Quo-tocols: Strengthening Semi-Honest Protocols with Dual Execution" (IEEE S&P
2012, "HKE12"). It reuses the semi-honest engine: the circuit is garbled and evaluated twice,
once in each direction, on one connection, and the two results are compared before anything
is revealed.

Party A is the circuit's garbler (``Roles.garbler``), B the other one.

1. handshake: as in semi-honest mode, with ``mode: malicious`` (a peer in the other mode is
   refused, both sides saying so);
2. run 1: A garbles, B evaluates; run 2: B garbles, A evaluates. Each run is the semi-honest
   inputs / OT / tables sequence (``protocol.garble_run`` / ``evaluate_run``) with the OT
   extension of KOS15 (Keller, Orsini, Scholl, CRYPTO 2015; :mod:`yaogc.runtime.ot_kos`), so
   an evaluator that uses inconsistent choice bits is caught. Run 2's gates use tweaks after
   run 1's. Each party feeds the *same* input bits to both runs: its garbler input labels in
   one run and its OT choices in the other.
3. masked outputs: every output bit is revealed in both runs to that run's evaluator, but
   under a one-time mask for the bits it must not see: a bit addressed only to A is XORed
   with A's random mask bit (A shifts its zero label by ``mask * R`` in its run and gives the
   mask as an extra OT choice in B's run), and likewise for B; a bit addressed to nobody
   carries both masks. Each run's garbler then sends the decoding bits of all outputs, and
   its evaluator learns the masked output vector ``u`` (run 1: ``u1`` to B; run 2: ``u2``
   to A). Masking is free-XOR on the output wires: the garbled circuit is unchanged.
4. equality check (HKE12, section 4): A forms ``X_A = W1[u2] ^ L2`` and B forms
   ``X_B = L1 ^ W2[u1]``, where ``W_i[u]`` is the label that run i's garbler assigns to value
   ``u`` on each output wire (``Z0 ^ u R``) and ``L_i`` the labels its evaluator obtained.
   Honest runs give ``u1 = u2`` and ``X_A = X_B``. A commits to ``h_A = SHA-256(X_A)`` with a
   hash commitment ``SHA-256(tag || nonce || h_A)``, B sends ``h_B``, A opens; each side
   compares. A party holds only one label of each output wire of the other's garbling, so
   either hash lets its receiver test one value of the other's output (that it equals its
   own) and nothing else.
5. outputs: only when the check passes does each party print the outputs addressed to it
   (its masked bits with its own masks removed). A party that finds the hashes different, a
   commitment that does not open, or a KOS15 check that fails stops with
   :class:`~yaogc.runtime.errors.PeerDeviated` (exit status 3: the peer deviated) and prints
   no result.

What this guarantees (HKE12, Theorem 1), against a party that deviates arbitrarily: the
honest party's outputs, if it prints any, are the function's outputs on its own inputs and
*some* inputs of the peer (the ones the peer fed into the honest party's garbled circuit);
the peer cannot make it accept a wrong result except by guessing a 128-bit label. Privacy
holds except for **one leaked bit**: a cheating party may garble another function, give
inconsistent inputs to the two runs, or corrupt OT messages or table entries so that the
honest side's evaluation fails only for some of its inputs (**selective failure**). Whether
the honest party then aborts or not tells the cheater one bit, an arbitrary predicate of
the honest party's inputs that the cheater chose, and it is caught (the abort) with
probability at least 1/2 when it tries. This is weaker than full malicious security
(cut-and-choose, authenticated garbling), which leaks nothing. Not provided either:
fairness (each party holds its outputs before the comparison, and either may stop there or
answer it falsely, leaving the other with none), and
input validity beyond the circuit's types (a party may use any inputs it likes, as in any
ideal-world computation). The base OTs are Chou-Orlandi (:mod:`yaogc.runtime.ot_base`),
whose security against a malicious party is not proven in the UC sense; TLS with pinned
certificates keeps outsiders out as in semi-honest mode. Cost: two garbled circuits, so
about twice the time and bytes of a semi-honest run, plus one OT per execution for each
output bit addressed to one party only (its mask).

Test hooks (:class:`Faults`) make one side misbehave: flip table entries, garble another
circuit, lie about its output in the check. They are reached only through the API's
``testing_faults`` argument or, for the CLI, the ``YAOGC_TEST_FAULT`` variable together with
``YAOGC_TESTING=1``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, replace

import numpy as np

from yaogc.circuits.circuit import Circuit, Op
from yaogc.circuits.errors import InputError

from . import handshake as hs
from .errors import PeerDeviated
from .inputs import PartyInputs
from .ot_kos import KOSReceiver, KOSSender
from .progress import Progress
from .protocol import (TWEAK_START, Msg, Plan, RunResult, _decode_rows, _hello, _pack, _Phases,
                       _recv_bits, _result, evaluate_run, garble_run)

_COMMIT_TAG = b"yaogc dual execution commitment v1"
_DIGEST_TAG = b"yaogc dual execution output labels v1"
NONCE_BYTES = 32


@dataclass(frozen=True)
class Faults:
    """Deviations a test can make one side commit (all off: an honest party)."""

    flip_table: bool = False          # flip a table entry of one gate in every AND layer
    other_circuit: bool = False       # garble a variant of the circuit (one gate changed)
    lie_output: bool = False          # claim another output value in the equality check

    NAMES = ("flip-table", "other-circuit", "lie-output")

    @classmethod
    def from_env(cls) -> "Faults | None":
        """``YAOGC_TEST_FAULT`` (one of NAMES), honoured only with ``YAOGC_TESTING=1``."""
        name = os.environ.get("YAOGC_TEST_FAULT", "").strip()
        if not name or os.environ.get("YAOGC_TESTING") != "1":
            return None
        if name not in cls.NAMES:
            raise InputError(f"YAOGC_TEST_FAULT={name}: expected one of {', '.join(cls.NAMES)}")
        return cls(**{name.replace("-", "_"): True})


def variant_circuit(circuit: Circuit) -> Circuit:
    """Another function with the same AND layers (a table stream the honest evaluator
    accepts): the circuit with its first output bit negated by one more (free) NOT gate."""
    if not circuit.outputs or not circuit.outputs[0].width:
        raise InputError(f"{circuit.name}: no output bit to change for the other-circuit fault")
    first = circuit.outputs[0]
    wire = int(first.wires[0])
    new = circuit.n_inputs + circuit.n_gates
    wires = first.wires.copy()
    wires[0] = new
    outputs = (replace(first, wires=wires),) + circuit.outputs[1:]
    return Circuit(circuit.n_inputs, np.append(circuit.op, np.uint8(Op.NOT)),
                   np.append(circuit.in0, wire), np.append(circuit.in1, -1), circuit.inputs,
                   outputs, name=circuit.name, parties=circuit.parties)


def _flipped(runs, layer_ands: list[int], k: int):
    """Table runs with one bit flipped in the first gate of every AND layer, in both halves
    (TG and TE) of its first row. An evaluator uses a gate's TG or TE when one of its colour
    bits is 1, so each corrupted gate spoils its output label with probability 3/4: whether
    the run fails depends on the evaluator's values (a selective failure)."""
    layer = 0
    for tables, layers in runs:
        tables = tables.copy()
        pos = 0
        for n in layer_ands[layer:layer + layers]:
            tables[pos + 1] ^= np.uint64(1 << 40)             # TG of gate 0, row 0
            tables[pos + 2 * n * k + 1] ^= np.uint64(1 << 40)  # TE of gate 0, row 0
            pos += 4 * n * k
        layer += layers
        yield tables, layers


# -- the masks of the outputs -------------------------------------------------------------
@dataclass(frozen=True)
class _Masks:
    """Output columns each party masks: the ones the other party must not learn."""

    a: np.ndarray   # masked by A: not addressed to B
    b: np.ndarray   # masked by B: not addressed to A

    @classmethod
    def of(cls, p: Plan) -> "_Masks":
        n_out = sum(o.width for o in p.circuit.outputs)
        cols = np.arange(n_out, dtype=np.int64)
        return cls(np.setdiff1d(cols, p.to_evaluator), np.setdiff1d(cols, p.to_garbler))


def swapped(p: Plan) -> Plan:
    """The plan of run 2: the same circuit and schedule with the roles exchanged."""
    return replace(p, roles=hs.Roles(p.roles.evaluator, p.roles.garbler),
                   garbler_wires=p.evaluator_wires, evaluator_wires=p.garbler_wires,
                   to_garbler=p.to_evaluator, to_evaluator=p.to_garbler)


def _engine(p: Plan, cls, k: int, start: int, circuit: Circuit | None = None):
    from yaogc.gc import TweakCounter
    from yaogc.gc.workload import plan_for
    if circuit is None and k == p.batch:
        engine, sched = p.engine, p.schedule
    else:
        engine, sched = plan_for(circuit or p.circuit, k, p.requested)
    return cls(sched, k, TweakCounter(start), engine=engine)


def _spread(bits: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``bits * R`` for 0/1 bits of any shape: (..., 2) uint64."""
    return (bits.astype(np.uint64) * np.uint64(0xFFFFFFFFFFFFFFFF))[..., None] & r


def _garble(ch, p: Plan, ph, k: int, bits, masks_own, masks_peer, start: int, faults,
            progress):
    """This party's run as the garbler: the masked output zero labels, R, when the first
    table frame went, the table bytes and the engine that garbled."""
    from yaogc.gc import Garbler
    variant = variant_circuit(p.circuit) if faults.other_circuit else None
    g = _engine(p, Garbler, k, start, variant)
    labels = g.input_labels(bits, p.garbler_wires)
    runs = _flipped(g.block_runs(), p.layer_ands, k) if faults.flip_table else None
    peer_l0, t_first, sent = garble_run(ch, p, ph, g, labels, progress, ot_sender=KOSSender,
                                        extra=masks_peer.size, runs=runs)
    ph.enter("outputs")
    z = g.output_zero_labels().copy()
    z[:, masks_own[0]] ^= _spread(masks_own[1], g.R)
    z[:, masks_peer] ^= peer_l0
    ch.send_array(_pack(z[:, :, 0] & np.uint64(1)), Msg.OUTPUT_DECODING, flush=True)
    return z, g.R.copy(), t_first, sent, g.engine


def _evaluate(ch, p: Plan, ph, k: int, bits, masks_own, start: int, progress):
    """This party's run as the evaluator: its masked output labels and values, when the
    first table frame came, the table bytes and the engine that evaluated."""
    from yaogc.gc import Evaluator
    ev = _engine(p, Evaluator, k, start)
    ev, mask_labels, t_first, got = evaluate_run(ch, p, ph, k, bits, ev, progress,
                                                 ot_receiver=KOSReceiver,
                                                 extra_bits=masks_own[1])
    ph.enter("outputs")
    labels = ev.output_labels().copy()
    labels[:, masks_own[0]] ^= mask_labels
    decoding = _recv_bits(ch, Msg.OUTPUT_DECODING, labels.shape[:2])
    u = (labels[:, :, 0] & np.uint64(1)).astype(np.uint8) ^ decoding
    return labels, u, t_first, got, ev.engine


def _commitment(nonce: bytes, digest: bytes) -> bytes:
    return hashlib.sha256(_COMMIT_TAG + nonce + digest).digest()


def _check_equal(ch, digest: bytes, commits: bool) -> bool:
    """The HKE12 comparison of two digests with a hash commitment: the committing side sends
    ``SHA-256(tag || nonce || digest)``, the other its digest, then the first opens.
    Returns whether the digests are equal; a commitment that does not open raises."""
    if commits:
        nonce = secrets.token_bytes(NONCE_BYTES)
        ch.send_msg(Msg.COMMITMENT, _commitment(nonce, digest), flush=True)
        theirs = bytes(ch.recv_array(np.uint8, 32, kind=Msg.DIGEST))
        ch.send_msg(Msg.OPENING, nonce + digest, flush=True)
        return hmac.compare_digest(theirs, digest)
    commitment = bytes(ch.recv_array(np.uint8, 32, kind=Msg.COMMITMENT))
    ch.send_msg(Msg.DIGEST, digest, flush=True)
    opening = bytes(ch.recv_array(np.uint8, NONCE_BYTES + 32, kind=Msg.OPENING))
    nonce, theirs = opening[:NONCE_BYTES], opening[NONCE_BYTES:]
    if not hmac.compare_digest(_commitment(nonce, theirs), commitment):
        raise PeerDeviated("the peer deviated from the protocol: its commitment to the "
                           "output check does not open; no output is revealed",
                           phase=ch.phase)
    return hmac.compare_digest(theirs, digest)


def dual_session(ch, p: Plan, inputs: PartyInputs | None, *, role: str,
                 on_phase=None, progress: Progress | None = None, t0: float | None = None,
                 faults: Faults | None = None) -> RunResult:
    """One party of a dual execution on a connected channel (``role``: 'garbler' for party A,
    the garbler of run 1; 'evaluator' for B). Returns its outputs, after the check passed."""
    t0 = time.perf_counter() if t0 is None else t0
    faults = faults or Faults()
    ph = _Phases(ch, on_phase)
    ph.enter("handshake")
    own = p.garbler_wires if role == "garbler" else p.evaluator_wires
    if own.size and inputs is None:
        raise InputError(f"the {role} owns inputs of this circuit but was given none")
    k, listed, bc = _hello(ch, p, role, inputs, hs.MALICIOUS)
    # one row broadcast to the peer's K rows: sent K times here (both runs take K rows)
    bits = (np.broadcast_to(inputs.bits, (k, own.size)) if own.size
            else np.zeros((k, 0), dtype=np.uint8))
    masks = _Masks.of(p)
    mine, peers = (masks.a, masks.b) if role == "garbler" else (masks.b, masks.a)
    r = np.unpackbits(np.frombuffer(secrets.token_bytes((k * mine.size + 7) // 8), np.uint8),
                      count=k * mine.size).reshape(k, mine.size)
    plans = (p, swapped(p))
    t_first, table_bytes = None, 0
    for run in (1, 2):
        ph.suffix = f" (run {run})"
        start = TWEAK_START + (run - 1) * p.n_and * k
        rp = plans[run - 1]
        if (run == 1) == (role == "garbler"):
            z, big_r, tf, n, engine = _garble(ch, rp, ph, k, bits, (mine, r), peers, start,
                                              faults, progress)
        else:
            labels, u, tf, n, engine = _evaluate(ch, rp, ph, k, bits, (mine, r), start,
                                                 progress)
        t_first = t_first if t_first is not None else tf
        table_bytes += n
    ph.suffix = ""
    ph.enter("equality check")
    claimed = u.copy()
    if faults.lie_output and claimed.size:
        claimed[:, 0] ^= 1
    x = z ^ _spread(claimed, big_r) ^ labels
    digest = hashlib.sha256(_DIGEST_TAG + x.tobytes()).digest()
    if not _check_equal(ch, digest, commits=role == "garbler"):
        raise PeerDeviated("the peer deviated from the protocol: the outputs of the two "
                           "garbled runs differ (dual-execution check failed); no output is "
                           "revealed", phase="equality check")
    ph.enter("outputs")
    plain = u.copy()
    plain[:, mine] ^= r
    cols = p.to_garbler if role == "garbler" else p.to_evaluator
    outputs = _decode_rows(p.circuit, p.roles, role, plain[:, cols], cols)
    res = _result(ch, p, ph, role, outputs, listed, k, t0, t_first, table_bytes)
    res.stats["mode"] = hs.MALICIOUS
    res.stats["engine"] = engine      # as run for K rows (the plan was for this side's)
    res.stats["broadcast"] = bc     # whose one row served every row (its labels sent K times)
    return res
