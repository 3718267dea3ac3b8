"""yaogc: a garbled-circuit compiler and two-party Yao runtime.

The stages live in their own subpackages, in dependency order:
``yaogc.circuits`` (the circuit IR, value types, word library, passes, formats),
``yaogc.compiler`` (the language), ``yaogc.gc`` (garbling), ``yaogc.runtime``
(channel, oblivious transfer, protocol, CLI).
"""

__version__ = "0.1.0"


def run(program, as_, inputs=None, **kw):
    """Run one party of a two-party session from Python; see :func:`yaogc.runtime.api.run`."""
    from yaogc.runtime.api import run as _run
    return _run(program, as_, inputs, **kw)
