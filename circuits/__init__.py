"""yaogc.circuits: the circuit IR and everything that works on circuits alone.

Modules, in dependency order: ``types`` (value types and their bit encoding), ``circuit``
(the immutable SSA netlist and its ports), ``levels`` (AND-depth), ``builder`` (gate emission
with folding and hash-consing), ``words`` (the AND-minimal word library), ``passes``
(fold, dedupe, dead code), ``schedule`` (AND layers with XOR linear forms), ``evaluate``
(bit-sliced plaintext evaluator, the reference semantics), ``bristol``, ``native`` and ``dot``
(file formats). Imports nothing else of yaogc.
"""

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
