"""Both parties in one process: garble and evaluate a circuit locally.

The runtime garbles and evaluates in two processes; tests and benchmarks use
:func:`garble_and_evaluate`, which streams every table block straight from the garbler to the
evaluator, so at most one layer's tables exist at a time.
"""

from __future__ import annotations

import numpy as np

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.schedule import Schedule

from .errors import GarbleError
from .evaluator import Evaluator
from .garbler import Garbler
from .tweaks import TweakCounter
from .workload import schedule_for


def garble_and_evaluate(circuit: Circuit, in_bits: np.ndarray, counter: TweakCounter | None = None,
                        garbler_schedule: Schedule | None = None,
                        evaluator_schedule: Schedule | None = None,
                        engine: str | None = None,
                        evaluator_engine: str | None = None) -> np.ndarray:
    """Garble and evaluate ``circuit`` on input rows (K, n_in) of 0/1; returns (K, n_out)
    output bits, output ports concatenated in order. ``engine`` ('numpy', 'native' or None
    for the workload's choice) runs both parties unless ``evaluator_engine`` names another
    for the evaluator."""
    bits = np.asarray(in_bits)
    if bits.ndim == 1:
        bits = bits[None, :]
    if bits.ndim != 2 or bits.shape[1] != circuit.n_inputs or bits.shape[0] < 1:
        raise GarbleError(f"input bits must have shape (K, {circuit.n_inputs}), got {bits.shape}")
    k = bits.shape[0]
    counter = counter if counter is not None else TweakCounter()
    start = counter.value
    e_engine = evaluator_engine if evaluator_engine is not None else engine
    g = Garbler(garbler_schedule or schedule_for(circuit, k, engine), k, counter, engine=engine)
    e = Evaluator(evaluator_schedule or schedule_for(circuit, k, e_engine), k,
                  TweakCounter(start), engine=e_engine)
    e.set_inputs(g.input_labels(bits))
    colours = e.run(g.blocks())
    return colours ^ g.decoding_bits()
