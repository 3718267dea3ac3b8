"""yaogc.gc: garbling with free-XOR and half-gates over Schedules (no sockets here).

Public API (the runtime's entry points):

- ``schedule_for(circuit, batch) -> Schedule``: the schedule to garble or evaluate ``batch``
  instances with (cached; every schedule of a circuit has the same AND layers, so the two
  parties' choices need not agree).
- ``schedule_for(circuit, batch, engine=None)`` and ``workload.plan_for(...) -> (engine,
  schedule)``: the engine ('numpy' or 'native', see :mod:`yaogc.gc.native`) and its schedule
  for a workload; ``engine`` (else ``YAOGC_ENGINE``) forces one.
- ``Garbler(schedule, batch=1, counter=None, prg=None, engine=None)``: draws R and the input
  zero-labels from an AES-CTR PRG seeded by ``os.urandom``; ``.engine`` the engine it runs.
  ``.R`` (2,) uint64, lsb 1; ``.input_zero_labels`` (K, n_in, 2) uint64, the label of bit b
  being ``L0 ^ b R``; ``.input_labels(bits (K, w), wires=None)`` those labels for given bits;
  ``.blocks()`` iterates one table block per AND layer (once), ``.block_runs()`` the same
  as ``(flat blocks of several layers back to back, layers)``; ``.decoding_bits()`` (K, n_out)
  uint8 after the last block; ``.output_zero_labels()`` (K, n_out, 2);
  ``.tweak_start`` / ``.tweak_end`` the gate indices j it used.
- ``Evaluator(schedule, batch=1, counter=None, engine=None)``:
  ``.set_inputs(labels (K, n_in, 2) uint64)``, ``.feed(block)`` per layer (array of any dtype
  or bytes-like), ``.feed_run(blocks, layers)`` several layers at once, or ``.run(blocks)``,
  ``.expected_block_bytes()`` (None after the last), ``.output_colours()`` (K, n_out) uint8,
  ``.output_labels()`` (K, n_out, 2). Output bit = colour ^ decoding bit.
- ``TweakCounter(start=0)``: gate indices of a session; each run takes ``n_and * batch`` of
  them, so runs sharing a counter never reuse a tweak. Garbler and evaluator of one run must
  start from the same value.
- ``garble_and_evaluate(circuit, in_bits (K, n_in)) -> (K, n_out)``: both parties in one
  process (tests and benchmarks).
- ``GarbleError``: misuse or a block that does not fit the next layer (exit code 3).

Table block layout: one per AND layer, C-contiguous uint64 ``(2, n, K, 2)``: first the
garbler-half ciphertext TG of every gate of the layer, then the evaluator-half TE; within each,
gates in layer order, then the K instances; each entry a 128-bit block as two little-endian
words (colour bit = bit 0 of word 0). 32 bytes per AND per instance; ``block.tobytes()`` is the
wire format. AND gate ``j = tweak_start + (layer offset + i) * K + k`` (gate i of the layer,
instance k) hashes its operands under tweaks ``2j`` and ``2j + 1``. Outputs are the circuit's
output ports concatenated in order.
"""

from .errors import GarbleError
from .evaluator import Evaluator
from .garbler import Garbler
from .local import garble_and_evaluate
from .tweaks import TweakCounter
from .workload import schedule_for

__all__ = ["Evaluator", "GarbleError", "Garbler", "TweakCounter", "garble_and_evaluate",
           "schedule_for"]
