"""Both parties in one process: the schedule choice per workload and a local garble+evaluate.

The runtime garbles and evaluates in two processes; tests and benchmarks use
:func:`garble_and_evaluate`, which streams every table block straight from the garbler to the
evaluator, so at most one layer's tables exist at a time.
"""

from __future__ import annotations

import numpy as np

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.schedule import Schedule, schedule

from .errors import GarbleError
from .evaluator import Evaluator
from .garbler import Garbler
from .tweaks import TweakCounter

# one instance: few numpy calls per layer (the XOR wires of a level in one step, operands of
# up to 3 shared terms); a batch: least data moved (XOR wires gate by gate, two terms each)
SINGLE = {"bound": 3, "flat": True}
BATCH = {"bound": 1, "flat": False}
BATCH_FROM = 16
# for one instance: a step costs about STEP_US, each padded operand term TERM_US (measured)
STEP_US, TERM_US = 3.0, 0.003
EXPAND_LIMIT = 16


def _cost_us(s: Schedule) -> float:
    st = s.stats()
    return STEP_US * st["xor_steps"] + TERM_US * (st["xor_padded_terms"] + st["and_padded_terms"])


def schedule_for(circuit: Circuit, batch: int) -> Schedule:
    """The Schedule the engine uses for ``batch`` instances. Garbler and evaluator may pick
    differently: every schedule of a circuit garbles and evaluates interchangeably.

    For one instance, a level whose expanded XOR forms grow long costs more in data than the
    extra steps of a bounded expansion would; when the XOR steps move over 1000 terms each,
    the bounded schedule is built too and the cheaper of the two (by the cost model above)
    is used."""
    if batch >= BATCH_FROM:
        return schedule(circuit, **BATCH)
    s = schedule(circuit, **SINGLE)
    return s.cached("single_instance_choice", lambda: _cheaper(circuit, s))


def _cheaper(circuit: Circuit, s: Schedule) -> Schedule:
    st = s.stats()
    if st["xor_padded_terms"] > 1000 * max(1, st["xor_steps"]):
        t = schedule(circuit, **SINGLE, expand=EXPAND_LIMIT)
        if _cost_us(t) < _cost_us(s):
            return t
    return s


def garble_and_evaluate(circuit: Circuit, in_bits: np.ndarray, counter: TweakCounter | None = None,
                        garbler_schedule: Schedule | None = None,
                        evaluator_schedule: Schedule | None = None) -> np.ndarray:
    """Garble and evaluate ``circuit`` on input rows (K, n_in) of 0/1; returns (K, n_out)
    output bits, output ports concatenated in order."""
    bits = np.asarray(in_bits)
    if bits.ndim == 1:
        bits = bits[None, :]
    if bits.ndim != 2 or bits.shape[1] != circuit.n_inputs or bits.shape[0] < 1:
        raise GarbleError(f"input bits must have shape (K, {circuit.n_inputs}), got {bits.shape}")
    k = bits.shape[0]
    counter = counter if counter is not None else TweakCounter()
    start = counter.value
    g = Garbler(garbler_schedule or schedule_for(circuit, k), k, counter)
    e = Evaluator(evaluator_schedule or schedule_for(circuit, k), k, TweakCounter(start))
    e.set_inputs(g.input_labels(bits))
    colours = e.run(g.blocks())
    return colours ^ g.decoding_bits()
