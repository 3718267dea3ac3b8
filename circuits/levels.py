"""AND-depth of every wire of a Circuit (a plain pass, used by stats and the Schedule)."""

from __future__ import annotations

import numpy as np


def and_levels(circuit) -> np.ndarray:
    """Per wire, the largest number of AND gates on a path from an input (inputs are 0)."""
    from .circuit import Op
    n_in = circuit.n_inputs
    lev = [0] * circuit.n_wires
    ops = circuit.op.tolist()
    a = circuit.in0.tolist()
    b = circuit.in1.tolist()
    AND, XOR, NOT = int(Op.AND), int(Op.XOR), int(Op.NOT)
    for k, o in enumerate(ops):
        if o == XOR:
            la, lb = lev[a[k]], lev[b[k]]
            lev[n_in + k] = la if la > lb else lb
        elif o == AND:
            la, lb = lev[a[k]], lev[b[k]]
            lev[n_in + k] = (la if la > lb else lb) + 1
        elif o == NOT:
            lev[n_in + k] = lev[a[k]]
    return np.array(lev, dtype=np.int64)
