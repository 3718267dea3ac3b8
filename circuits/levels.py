"""AND-depth of every wire of a Circuit (a plain pass, used by stats and the Schedule)."""

from __future__ import annotations

import numpy as np


def and_levels(circuit) -> np.ndarray:
    """Per wire, the largest number of AND gates on a path from an input (inputs are 0)."""
    from .rehash import and_levels as _levels
    return _levels(circuit.op, circuit.in0, circuit.in1, circuit.n_inputs)
