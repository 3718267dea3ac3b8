"""Which engine and which Schedule run a workload (a circuit and a batch size).

Two kinds of schedule: few numpy calls per layer (the XOR wires of a level in one step,
operands of up to 3 shared terms), or least data moved (XOR wires gate by gate, two terms
each). A step costs about ``STEP_US`` and each padded operand term of each instance
``TERM_US`` (garbling plus evaluation, measured on this project's machines); the cheaper
schedule for the batch size wins. The crossover is K = 8 for AES-128, 36 for SHA-256, 500 for
divide64.
"""

from __future__ import annotations

import sys

from yaogc.circuits import jit
from yaogc.circuits.circuit import Circuit
from yaogc.circuits.schedule import (Schedule, forget_layouts, layout_ready, layout_stats,
                                     schedule, schedule_ready)

from . import native

FEW_STEPS = {"bound": 3, "flat": True}
LEAST_DATA = {"bound": 1, "flat": False}
STEP_US, TERM_US = 7.0, 0.0025
EXPAND_LIMIT = 16
BUILD_US = 0.4           # building a schedule, per gate of the circuit (measured 0.4-0.5)
FINISH_SHARE = 0.4       # of which finishing a laid-out schedule (measured 0.36-0.55 on
# hospital_stats and the dot product, 8.2M and 6.8M gates)
COMPILED_FACTOR = 5      # the schedule pass runs compiled from jit.SMALL / 5 wires on
LEAST_DATA_FROM = 512    # from here on data decides (or the two are close): build one


def _cost_us(st: dict, batch: int) -> float:
    """The numpy engine's estimated time on a schedule of these counts (``SIZE_KEYS``)."""
    return STEP_US * st["xor_steps"] + \
        TERM_US * batch * (st["xor_padded_terms"] + st["and_padded_terms"])


def schedule_for(circuit: Circuit, batch: int, engine: str | None = None) -> Schedule:
    """The Schedule to run ``batch`` instances with: :func:`plan_for`'s schedule."""
    return plan_for(circuit, batch, engine)[1]


def plan_for(circuit: Circuit, batch: int, engine: str | None = None) -> tuple[str, Schedule]:
    """(engine, Schedule) for ``batch`` instances of ``circuit``.

    ``engine`` ('numpy', 'native', None or 'auto'; else ``YAOGC_ENGINE``) forces one;
    otherwise the native engine runs where it can and its estimated time, loading its kernels
    included, beats the numpy engine's (:func:`engine_for`). The native engine walks the
    least-data schedule (it pays per term, not per step); the numpy engine's schedule is
    chosen by the cost model above. The choice reads only the candidate schedules' counts
    (:func:`~yaogc.circuits.schedule.layout_stats`), so only the schedule chosen is built in
    full. Garbler and evaluator may pick differently: every schedule and both engines garble
    and evaluate interchangeably."""
    want = native.requested(engine)
    if want == "native":
        return want, schedule(circuit, **LEAST_DATA)
    params, st = _numpy_choice(circuit, batch)
    chosen = "numpy"
    if want is None and _prefer_native(st, batch, _numpy_build_extra(circuit, params)):
        params, chosen = LEAST_DATA, "native"
    forget_layouts(circuit, keep=params)
    return chosen, schedule(circuit, **params)


def _numpy_build_extra(circuit: Circuit, params: dict) -> float:
    """What the numpy engine's schedule (``params``) costs to get, beyond the native
    engine's, in microseconds. A schedule at hand (an earlier run kept it on disk) costs
    nothing to build, so a second run keeps the first one's engine instead of building the
    other schedule. A schedule laid out to be priced costs only its finishing: the layout is
    paid for whichever engine wins, so switching engines must repay building the other
    schedule whole (on a large circuit garbled once, seconds against tenths)."""
    numpy_cost = _cost_to_get(circuit, params)
    extra = numpy_cost - _cost_to_get(circuit, LEAST_DATA)
    if numpy_cost and "numba" not in sys.modules and jit.ENABLED and \
            COMPILED_FACTOR * circuit.n_wires >= jit.SMALL:
        # building the numpy engine's schedule imports numba too (its passes run compiled
        # on a circuit this large): the native kernels would then load at the warm cost
        extra += 1e6 * (native.LOAD_SECONDS - native.LOAD_WARM_SECONDS)
    return extra


def _cost_to_get(circuit: Circuit, params: dict) -> float:
    """Microseconds until the schedule of ``params`` is at hand in this process."""
    if schedule_ready(circuit, **params):
        return 0.0
    build = BUILD_US * circuit.n_gates
    return FINISH_SHARE * build if layout_ready(circuit, **params) else build


def engine_for(s: Schedule, batch: int, engine: str | None = None) -> str:
    """The engine a Garbler or Evaluator of ``batch`` instances runs ``s`` with: ``engine``
    or ``YAOGC_ENGINE`` if either names one, else the cheaper by the cost model."""
    want = native.requested(engine)
    if want is not None:
        return want
    return "native" if _prefer_native(s.cached("size_stats", s.stats), batch) else "numpy"


def _prefer_native(st: dict, batch: int, numpy_extra_us: float = 0.0) -> bool:
    """Native beats numpy on a schedule of these counts: it is available here and its run
    (plus loading its kernels, if this process has not yet) costs less than the numpy
    estimate (plus ``numpy_extra_us``, what building its schedule costs more)."""
    numpy_us = native.NUMPY_SCALE * _cost_us(st, batch) + numpy_extra_us
    run_us = native.NATIVE_AND_US * st["and"] * batch
    # where it cannot win even with its kernels at their cheapest to load, the probe of the
    # machine (importing llvmlite: tens of milliseconds, most of a small run's schedule
    # time) is not worth making
    if run_us + (0.0 if native.loaded() else 1e6 * native.LOAD_WARM_SECONDS) >= numpy_us:
        return False
    if not native.available():
        return False
    return run_us + 1e6 * native.load_cost() < numpy_us


def _numpy_choice(circuit: Circuit, batch: int) -> tuple[dict, dict]:
    """The numpy engine's schedule parameters and their counts: from ``LEAST_DATA_FROM``
    instances on, the least-data schedule without looking at the other. When the
    few-steps schedule's XOR steps move over 1000 terms each and more than twice their real
    terms (padding), a tighter expansion is looked at too and the cheaper kept."""
    if batch >= LEAST_DATA_FROM:
        return LEAST_DATA, layout_stats(circuit, **LEAST_DATA)
    few, st = FEW_STEPS, layout_stats(circuit, **FEW_STEPS)
    # worth a second layout only where padding inflates the XOR steps (the Schedule already
    # bounds expansion and splits large padded steps, so this is rare)
    if st["xor_padded_terms"] > max(1000 * max(1, st["xor_steps"]), 2 * st["xor_terms"]):
        tight = {**FEW_STEPS, "expand": EXPAND_LIMIT}
        tst = layout_stats(circuit, **tight)
        if _cost_us(tst, 1) < _cost_us(st, 1):
            few, st = tight, tst
    if batch <= 1:
        return few, st
    least = layout_stats(circuit, **LEAST_DATA)
    return (LEAST_DATA, least) if _cost_us(least, batch) < _cost_us(st, batch) else (few, st)
