"""The two-server form of a circuit: every input bit arrives as two XOR shares.

For the data-owner setting (``yaogc serve`` / ``yaogc submit``): an owner with input bit x
draws a random bit s and gives s to the garbling server and x XOR s to the evaluating server.
The two-server circuit has, for every input bit of the original circuit, one input of the
garbler (its share) and one of the evaluator (the other share), and XORs them back into x
before the original gates. An XOR is free under free-XOR garbling, so this costs no AND gate
and no garbled table: the two-server circuit has exactly the original's AND gates.

Wires: the garbler's shares are wires ``0..n-1`` and the evaluator's ``n..2n-1`` (each in the
original port order); gate k < n is ``x_k = w_k XOR w_{n+k}`` (wire ``2n + k``), and the
original gates follow with every wire number ``w`` moved to ``w + 2n``. Output ports keep their
names and types; their recipients become both servers, since each server holds one half of
every output bit (the garbler the decoding bit, the evaluator the colour bit) and passes it to
the owners the original circuit addresses it to. Neither half alone says anything.
"""

from __future__ import annotations

import weakref

import numpy as np

from .circuit import Circuit, InputPort, Op, OutputPort, bits_port_type

SERVERS = ("garbler", "evaluator")


def share_port_name(port: InputPort, server: str) -> str:
    """The name of ``server``'s share of an owner's input port: ``party.name@server``."""
    return f"{port.party}.{port.name}@{server}"


_CACHE: "weakref.WeakKeyDictionary[Circuit, Circuit]" = weakref.WeakKeyDictionary()


def shared_inputs(circuit: Circuit) -> Circuit:
    """The circuit on XOR-shared inputs (see the module docstring); built once per circuit,
    so its Schedule, cached per circuit object, is built once too (and inherited by forked
    server processes)."""
    got = _CACHE.get(circuit)
    if got is None:
        got = _CACHE[circuit] = _shared(circuit)
    return got


def _shared(circuit: Circuit) -> Circuit:
    n = circuit.n_inputs
    ins = []
    for k, server in enumerate(SERVERS):
        for p in circuit.inputs:
            ins.append(InputPort(server, share_port_name(p, server), bits_port_type(p.width),
                                 p.wires + k * n))
    shift = lambda a: np.where(a >= 0, a + 2 * n, a)
    op = np.concatenate([np.full(n, Op.XOR, np.uint8), circuit.op])
    in0 = np.concatenate([np.arange(n), shift(circuit.in0)])
    in1 = np.concatenate([np.arange(n, 2 * n), shift(circuit.in1)])
    outs = [OutputPort(SERVERS, o.name, o.type, o.wires + 2 * n) for o in circuit.outputs]
    return Circuit.adopt(2 * n, op, in0, in1, ins, outs, circuit.name, SERVERS)
