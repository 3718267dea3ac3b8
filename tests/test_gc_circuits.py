"""Random circuits for the schedule and garbling tests (a hypothesis strategy), and its checks.

The strategy builds Circuits directly, not through the Builder, so that unfolded shapes reach
the Schedule: AND/XOR with constants, ``x & x``, ``x ^ x``, NOT chains, outputs that are
inputs or constants, dead gates; ``depth_bias`` makes operands come from the last few wires
(deep chains) or from anywhere (wide layers).
"""

import numpy as np
from hypothesis import given, settings, strategies as st

from yaogc.circuits import Circuit, InputPort, Op, OutputPort, uint
from yaogc.circuits.evaluate import evaluate_bits

_OPS = [Op.XOR, Op.XOR, Op.XOR, Op.AND, Op.AND, Op.NOT, Op.CONST0, Op.CONST1]


@st.composite
def random_circuits(draw, max_inputs=8, max_gates=60):
    n_in = draw(st.integers(1, max_inputs))
    n_gates = draw(st.integers(0, max_gates))
    deep = draw(st.booleans())
    ops, a, b = [], [], []
    for k in range(n_gates):
        n_w = n_in + k
        lo = max(0, n_w - 3) if deep else 0
        o = draw(st.sampled_from(_OPS))
        x = draw(st.integers(lo, n_w - 1))
        y = draw(st.integers(0, n_w - 1) | st.just(x) | st.integers(lo, n_w - 1))
        ops.append(int(o))
        a.append(x if o in (Op.XOR, Op.AND, Op.NOT) else -1)
        b.append(y if o in (Op.XOR, Op.AND) else -1)
    n_w = n_in + n_gates
    outs = draw(st.lists(st.integers(0, n_w - 1), min_size=1, max_size=12))
    split = draw(st.integers(0, len(outs)))
    outputs = [OutputPort(("a", "b"), f"o{i}", uint(len(p)), p)
               for i, p in enumerate((outs[:split], outs[split:])) if p]
    return Circuit(n_in, ops, a, b, [InputPort("a", "x", uint(n_in), np.arange(n_in))], outputs,
                   name="random").check()


def input_rows(circuit, k, seed=0):
    return np.random.default_rng(seed).integers(0, 2, (k, circuit.n_inputs), dtype=np.uint8)


@settings(deadline=None, max_examples=30)
@given(random_circuits())
def test_strategy_builds_valid_circuits(c):
    out = evaluate_bits(c, input_rows(c, 3))
    assert out.shape == (3, sum(o.width for o in c.outputs))
