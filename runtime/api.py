"""Run one party from Python (a notebook, a script): ``yaogc.run(program, as_=..., inputs=...)``.

The same run as ``yaogc run`` on the command line, with Python values in and out: the
program is a path (``.yao``, a native or Bristol circuit) or program text; the inputs one row
(a dict: given once, it applies to every row of the peer's batch), rows (a list of dicts), a
data frame (anything with ``.to_dict('records')``; pandas is not needed by yaogc itself) or
an input file's path. Columns are mapped onto inputs as for ``--inputs`` (``x[0]``, ``x[1]``,
... or ``columns={"x": [...]}``); columns that are not inputs (an ID) are kept and come back
in :attr:`Run.records` with each record's results.

Security model: semi-honest, as every run (see :mod:`yaogc.runtime.protocol`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.errors import InputError
from yaogc.compiler.checked import OVERFLOW_PORT

from .columns import Table, map_table
from .protocol import RunResult


@dataclass
class Run:
    """One party's results: ``outputs`` (a dict, or a list of dicts for a batch), ``records``
    (kept columns and outputs, one dict per record), ``stats`` (as ``yaogc run --json``)."""

    circuit: Circuit
    result: RunResult
    records: list[dict[str, Any]]

    @property
    def outputs(self) -> Any:
        """The results as Python values, as :func:`~yaogc.compiler.interpret` gives them (a
        fixed-point value a float holds exactly is a float, any other a ``Decimal``)."""
        rows = [{k: v for k, v in row.items() if k != OVERFLOW_PORT}
                for row in self.result.outputs]
        if not rows:        # a party to whom no output is addressed
            return [] if self.result.batch else {}
        return rows if self.result.batch else rows[0]

    @property
    def stats(self) -> dict[str, Any]:
        return self.result.stats

    def to_pandas(self):
        """The records as a pandas DataFrame (needs pandas)."""
        import pandas as pd
        return pd.DataFrame(self.records)


def load_program(program: str | os.PathLike | Circuit, defines: Mapping[str, Any] | None = None,
                 *, use_cache: bool = True, max_gates: int | None = None,
                 strict: bool = False, checked: bool = False,
                 schedule_next: bool = False, info: dict | None = None) -> Circuit:
    """A Circuit from a Circuit, a file path, or program text (anything with a newline or a
    ``def``, that is no existing file), compiled through the cache unless ``use_cache`` is
    False. ``strict`` and ``checked`` as ``--strict`` and ``--checked``. ``schedule_next``:
    the caller schedules it at once (see :func:`~yaogc.compiler.compile_cached`). ``info``
    receives ``compile_seconds``, ``cached`` and ``waited`` as
    :func:`~yaogc.runtime.cli.load_any` gives them."""
    if isinstance(program, Circuit):
        if checked and not any(o.name == OVERFLOW_PORT for o in program.outputs):
            raise InputError("checked: applies to a program (its path or text), not to a "
                             "circuit compiled without it")
        return program
    if not isinstance(program, (str, os.PathLike)):
        raise InputError(f"program: give a program's path, its text (a str) or a Circuit, "
                         f"not {type(program).__name__}")
    from yaogc.compiler.pipeline import check_defines
    defs = [f"{k}={v}" for k, v in check_defines(defines).items()]
    text = os.fspath(program)
    if not isinstance(text, str):
        raise InputError(f"program: give a program's path as a str, not "
                         f"{type(text).__name__}")
    if "\n" not in text and Path(text).exists():
        from .cli import load_any
        return load_any(text, defs, use_cache=use_cache, quiet=True, max_gates=max_gates,
                        strict=strict, checked=checked, schedule_next=schedule_next,
                        info=info)
    if "\n" not in text and "def " not in text:
        raise InputError(f"{text}: no such file (give a program's path or its text)")
    from yaogc.compiler import compile_text_cached, parse_defines
    circuit, got = compile_text_cached(text, parse_defines(defs), use_cache=use_cache,
                                       max_gates=max_gates, strict=strict, checked=checked,
                                       schedule_next=schedule_next)
    if info is not None:
        info.update(compile_seconds=round(got["compile_s"], 6), cached=got["cached"],
                    waited=got.get("waited", False))
    return circuit


def _plain(v: Any) -> Any:
    """numpy scalars (a data frame's cells) as Python numbers."""
    item = getattr(v, "item", None)
    if item is not None and getattr(v, "shape", None) == ():
        return item()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "tolist"):
        return v.tolist()
    return v


def table_of(inputs: Any) -> Table:
    """A dict, a list of dicts, a data frame or a file path as a :class:`Table`."""
    if isinstance(inputs, (str, os.PathLike)):
        from .inputs import read_table
        return read_table(inputs)
    if hasattr(inputs, "to_dict") and not isinstance(inputs, Mapping):
        inputs = inputs.to_dict("records")
    if isinstance(inputs, Mapping):
        return Table([{str(k): _plain(v) for k, v in inputs.items()}], "inputs", batch=False)
    if isinstance(inputs, Sequence) and inputs and all(isinstance(r, Mapping) for r in inputs):
        return Table([{str(k): _plain(v) for k, v in r.items()} for r in inputs], "inputs")
    raise InputError(f"inputs must be a dict of name -> value, a non-empty list of such dicts, "
                     f"a data frame or an input file's path, not {type(inputs).__name__}")


def _endpoint(value, flag: str) -> tuple[str, int] | None:
    if value is None:
        return value
    if isinstance(value, tuple):
        if len(value) != 2 or not isinstance(value[0], str) or isinstance(value[1], bool) \
                or not isinstance(value[1], int) or not 0 <= value[1] <= 65535:
            raise InputError(f"{flag}={value!r}: expected (host, port), a host name and a "
                             f"port number 0..65535, or 'HOST:PORT'")
        return value
    from .cli_net import parse_endpoint
    return parse_endpoint(str(value), flag)


def run(program: str | os.PathLike | Circuit, as_: str, inputs: Any = None, *,
        listen: str | tuple[str, int] | None = None,
        connect: str | tuple[str, int] | None = None,
        columns: Mapping[str, Sequence[str]] | None = None,
        defines: Mapping[str, Any] | None = None, garbler: str | None = None,
        tls: Any = None, timeout: float = 60.0, insecure_plain_tcp: bool = False,
        on_listening: Callable[[str, int], None] | None = None,
        max_gates: int | None = None, use_cache: bool = True, strict: bool = False,
        checked: bool = False, malicious: bool = False,
        max_batch: int | None = None) -> Run:
    """Run one party of a two-party session; returns its :class:`Run`.

    ``as_``: a party the program declares (or ``garbler``/``evaluator``). Exactly one of
    ``listen`` and ``connect`` (``"HOST:PORT"`` or a tuple; port 0 picks a free port, told
    to ``on_listening(host, port)``). ``tls``: a ``TLSConfig`` or a tuple ``(cert, key,
    peer_cert)`` of PEM paths. Errors are yaogc's own (``InputError`` for bad inputs,
    ``NetworkError`` for the peer or the network), with the messages the CLI prints.
    ``malicious``: dual execution, as ``yaogc run --malicious`` (the peer must ask for it
    too): a peer that deviates is detected (``PeerDeviated``, nothing returned), up to one
    leaked bit; see the README's security model. ``max_batch``: as ``--max-batch``, the most
    peer rows this party's one row may serve (default: any, once only if ``malicious``).
    ``use_cache``: the compiled circuit and its schedule are kept and read as ``yaogc run``
    keeps them. ``strict``: a range warning is a ``CompileError``. ``checked``: as
    ``--checked`` (the peer must ask for it too): when a value overflowed, both sides raise
    ``OverflowWithheld`` and get no result of any row."""
    from .handshake import resolve_roles, resolve_self
    from .inputs import party_inputs
    from .protocol import run_party
    from yaogc.circuits.schedule import use_disk_cache
    from yaogc.compiler.checked import withhold_overflowed
    compiled: dict[str, Any] = {}
    circuit = load_program(program, defines, use_cache=use_cache, max_gates=max_gates,
                           strict=strict, checked=checked, schedule_next=True, info=compiled)
    use_disk_cache(use_cache)       # the schedule too, as yaogc run keeps it
    roles = resolve_roles(circuit, garbler)
    party = roles.party_of(resolve_self(roles, as_))
    kept: list[dict[str, Any]] = []
    own = None
    if inputs is not None:
        table = table_of(inputs)
        mapped = map_table(circuit, table, _columns(columns))
        own = party_inputs(circuit, party, None, mapped.rows, batch=table.batch,
                           source=table.where, unused=mapped.kept_columns)
        kept = mapped.kept
    if isinstance(tls, (tuple, list)):
        if len(tls) != 3:
            raise InputError(f"tls: a tuple (this side's certificate, its key, the peer's "
                             f"certificate) has 3 files, got {len(tls)}")
        for what, f in zip(("certificate", "key", "peer certificate"), tls):
            if not isinstance(f, (str, os.PathLike)) or not os.fspath(f):
                raise InputError(f"tls: the {what} is a file's path, got {f!r}")
        from .tls import TLSConfig
        tls = TLSConfig(*tls)
    elif tls is not None and not hasattr(tls, "context"):
        raise InputError(f"tls: a TLSConfig or a tuple (certificate, key, peer certificate), "
                         f"got {type(tls).__name__}")
    if on_listening is not None and not callable(on_listening):
        raise InputError(f"on_listening: a function of (host, port), got "
                         f"{type(on_listening).__name__}")
    if isinstance(timeout, (str, bytes)):
        raise InputError(f"timeout: a number of seconds, got {timeout!r}")
    res = run_party(circuit, as_, own, listen=_endpoint(listen, "listen"),
                    connect=_endpoint(connect, "connect"), tls=tls, timeout=timeout,
                    insecure_plain_tcp=insecure_plain_tcp, garbler=garbler,
                    on_listening=on_listening, malicious=malicious, max_batch=max_batch)
    # a checked circuit's bit, set in any row, withholds every result (given a circuit
    # compiled checked, too)
    withhold_overflowed(res.outputs or [])
    if compiled:    # as yaogc run --json reports them (nothing for a Circuit given)
        res.stats["compile_seconds"] = compiled.get("compile_seconds", 0.0)
        res.stats["compile_cached"] = compiled.get("cached", False)
        res.stats["compile_waited"] = compiled.get("waited", False)
    from .results import records
    return Run(circuit, res, records(circuit, res.outputs, kept, plain=True))


def _columns(columns) -> dict[str, list]:
    """``columns``: input name -> the input file's columns that hold its elements, in order."""
    if columns is None:
        return {}
    if not isinstance(columns, Mapping) or not all(
            isinstance(v, (list, tuple)) and all(isinstance(c, str) for c in v)
            for v in columns.values()):
        raise InputError("columns: a mapping of input names to lists of column names (such "
                         "as {'x': ['x1', 'x2']})")
    return {k: list(v) for k, v in columns.items()}
