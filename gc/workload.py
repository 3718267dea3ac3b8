"""Which Schedule the engine runs for a workload (a circuit and a batch size).

Two kinds of schedule: few numpy calls per layer (the XOR wires of a level in one step,
operands of up to 3 shared terms), or least data moved (XOR wires gate by gate, two terms
each). A step costs about ``STEP_US`` and each padded operand term of each instance
``TERM_US`` (garbling plus evaluation, measured on this project's machines); the cheaper
schedule for the batch size wins. The crossover is K = 8 for AES-128, 36 for SHA-256, 500 for
divide64.
"""

from __future__ import annotations

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.schedule import Schedule, schedule

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
    the other. When the few-steps schedule's XOR steps move over 1000 terms each and more
    than twice their real terms (padding), a tighter expansion is built too and the cheaper
    kept."""
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
    # worth a second build only where padding inflates the XOR steps (the Schedule already
    # bounds expansion and splits large padded steps, so this is rare)
    if st["xor_padded_terms"] > max(1000 * max(1, st["xor_steps"]), 2 * st["xor_terms"]):
        t = schedule(circuit, **FEW_STEPS, expand=EXPAND_LIMIT)
        if _cost_us(t, 1) < _cost_us(s, 1):
            return t
    return s
