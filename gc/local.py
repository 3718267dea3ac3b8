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

# Two kinds of schedule: few numpy calls per layer (the XOR wires of a level in one step,
# operands of up to 3 shared terms), or least data moved (XOR wires gate by gate, two terms
# each). A step costs about STEP_US and each padded operand term of each instance TERM_US
# (garbling plus evaluation, measured on this project's machines); the cheaper schedule for
# the batch size wins. The crossover is K = 8 for AES-128, 36 for SHA-256, 500 for divide64.
FEW_STEPS = {"bound": 3, "flat": True}
LEAST_DATA = {"bound": 1, "flat": False}
STEP_US, TERM_US = 7.0, 0.0025
EXPAND_LIMIT = 16
LEAST_DATA_FROM = 512    # from here on data decides (or the two are close): build one


def _size(s: Schedule) -> tuple[int, int]:
    """(XOR steps, padded operand terms) of a schedule, computed once."""
    def count():
        st = s.stats()
        return st["xor_steps"], st["xor_padded_terms"] + st["and_padded_terms"]
    return s.cached("engine_size", count)


def _cost_us(s: Schedule, batch: int) -> float:
    steps, terms = _size(s)
    return STEP_US * steps + TERM_US * batch * terms


def schedule_for(circuit: Circuit, batch: int) -> Schedule:
    """The Schedule the engine uses for ``batch`` instances, by the cost model above.
    Garbler and evaluator may pick differently: every schedule of a circuit garbles and
    evaluates interchangeably.

    From ``LEAST_DATA_FROM`` instances on, the least-data schedule is taken without building
    the other. The few-steps schedule expands a level's XOR forms without limit; when its XOR
    steps move over 1000 terms each, a bounded expansion is built too and the cheaper kept."""
    if batch >= LEAST_DATA_FROM:
        return schedule(circuit, **LEAST_DATA)
    s = schedule(circuit, **FEW_STEPS)
    few = s.cached("few_steps_choice", lambda: _cheaper_expansion(circuit, s))
    if batch <= 1:
        return few
    least = schedule(circuit, **LEAST_DATA)
    return least if _cost_us(least, batch) < _cost_us(few, batch) else few


def _cheaper_expansion(circuit: Circuit, s: Schedule) -> Schedule:
    st = s.stats()
    if st["xor_padded_terms"] > 1000 * max(1, st["xor_steps"]):
        t = schedule(circuit, **FEW_STEPS, expand=EXPAND_LIMIT)
        if _cost_us(t, 1) < _cost_us(s, 1):
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
