"""yaogc.gc: garbling with free-XOR and half-gates over Schedules (no sockets here).

Public API (the runtime's entry points):

- ``Garbler(schedule, batch=1, counter=None)``: draws R and the input zero-labels.
  ``.R`` (2,) uint64 with lsb 1; ``.input_zero_labels`` (K, n_in, 2) uint64, the label of bit
  b being ``L0 ^ b R``; ``.input_labels(bits, wires=None)``; ``.blocks()`` iterates one table
  block per AND layer; ``.decoding_bits()`` (K, n_out) uint8 after the last block;
  ``.tweak_start`` / ``.tweak_end`` the gate indices it used.
- ``Evaluator(schedule, batch=1, counter=None)``: ``.set_inputs(labels (K, n_in, 2))``,
  ``.feed(block)`` per layer or ``.run(blocks)``, ``.expected_block_bytes()``,
  ``.output_colours()`` (K, n_out) uint8; output bit = colour ^ decoding bit.
- ``TweakCounter(start=0)``: one per session and party, shared by every run of the session.
- ``schedule_for(circuit, batch)``: the Schedule to hand both; ``garble_and_evaluate(circuit,
  in_bits (K, n_in)) -> (K, n_out)``: both parties in one process.

Table block layout: one per AND layer, C-contiguous uint64 ``(2, n, K, 2)``: first the
garbler-half ciphertext TG of every gate of the layer, then the evaluator-half TE; within each,
gates in layer order, then the K instances; each entry a 128-bit block as two little-endian
words. 32 bytes per AND per instance; ``block.tobytes()`` is the wire format. Outputs are the
circuit's output ports concatenated in order.
"""

from .errors import GarbleError
from .evaluator import Evaluator
from .garbler import Garbler
from .local import garble_and_evaluate
from .tweaks import TweakCounter
from .workload import schedule_for

__all__ = ["Evaluator", "GarbleError", "Garbler", "TweakCounter", "garble_and_evaluate",
           "schedule_for"]
