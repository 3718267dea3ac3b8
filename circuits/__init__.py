"""yaogc.circuits: the circuit IR and everything that works on circuits alone.

Modules, in dependency order:

- ``errors``: ``YaogcError`` (with the CLI exit status) and ``InputError``.
- ``types``: value types (bool, u/i 1..256, fixed-point, arrays, tuples) and their bit encoding.
- ``circuit``, ``levels``: the immutable SSA netlist with its ports, ``check()``, stats, AND-depth.
- ``builder``: gate emission with constant folding and hash-consing.
- ``wordops``, ``bitheap``, ``mulplan``, ``arith``, ``constmul``, ``division``, ``shallow``: the
  AND-minimal word library, re-exported as one import point by ``words``.
- ``jit``: compiled kernels (numba for large work, the same functions as plain Python else).
- ``freemem``: glibc's mmap threshold fixed, and freed heap pages handed back between the
  phases of a large compile.
- ``diskcache``: the user's cache directory.
- ``rehash``: the Builder's folding and hash-consing, and liveness, over whole gate arrays.
- ``templates``, ``heapkernel``: word operations built once and stamped out for many operand
  rows (the compiler's lowering), and the bit heap of large sums as a compiled kernel.
- ``passes``: fold, dedupe, dead code, as plain ``Circuit -> Circuit`` functions.
- ``schedule``: AND layers with every operand as an XOR linear form of basis wires.
- ``evaluate``: the bit-sliced plaintext evaluator, the reference semantics of every stage.
- ``bristol``, ``native``, ``dot``: file formats (Bristol Fashion, native with a content hash,
  DOT).

Imports nothing else of yaogc.
"""

from . import freemem  # noqa: F401  (fixes glibc's mmap threshold for large arrays)
from .errors import InputError, YaogcError
from .types import (BOOL, ArrayType, BoolType, FixedType, IntType, TupleType, ValueType,
                    EncodeError, parse_type, sint, uint)
from .circuit import Circuit, CircuitError, InputPort, Op, OutputPort
from .builder import ONE, ZERO, Builder

__all__ = [
    "InputError", "YaogcError",
    "BOOL", "ArrayType", "BoolType", "FixedType", "IntType", "TupleType", "ValueType",
    "EncodeError", "parse_type", "sint", "uint",
    "Circuit", "CircuitError", "InputPort", "Op", "OutputPort",
    "ONE", "ZERO", "Builder",
]
