"""Results written back with the records they belong to: ``--output FILE.csv|json``.

One row per record: the input table's kept columns (an ID, a label: every column that is not
an input, see :mod:`yaogc.runtime.columns`) as they were, then this party's outputs. In CSV an
array output takes one column per element (``p[0]``, ``p[1]``, ...) as a wide input would, a
bool is ``true``/``false``; JSON keeps the outputs' own JSON forms. The path is checked
before any connection, so a run is not wasted on a file it cannot write.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.errors import InputError
from yaogc.circuits.types import ArrayType
from yaogc.compiler.checked import OVERFLOW_PORT

FORMATS = (".csv", ".json")


def check_output(path: str, kept_columns: Sequence[str], circuit: Circuit,
                 inputs: str | None = None) -> None:
    """Refuse an unusable ``--output`` path, the ``--inputs`` file itself, or a kept column
    an output would overwrite (in CSV also an element column of an array output: ``p[0]``)."""
    p = Path(path)
    if inputs and p.exists() and p.resolve() == Path(inputs).resolve():
        raise InputError(f"--output {path}: is the --inputs file, which the results would "
                         f"overwrite; give another file")
    if p.suffix.lower() not in FORMATS:
        raise InputError(f"--output {path}: the results file must be .csv or .json")
    if p.is_dir():
        raise InputError(f"--output {path}: is a directory")
    if not p.parent.is_dir():
        raise InputError(f"--output {path}: no such directory '{p.parent}'")
    taken = {o.name for o in circuit.outputs}
    if p.suffix.lower() == ".csv":
        taken |= set(output_columns(circuit))
    clash = [c for c in kept_columns if c in taken]
    if clash:
        raise InputError(f"--output {path}: the input file's column '{clash[0]}' has the name "
                         f"of an output; rename the column")


def records(circuit: Circuit, outputs: Sequence[dict[str, Any]],
            kept: Sequence[dict[str, Any]] | None = None, *,
            plain: bool = False) -> list[dict[str, Any]]:
    """One dict per record: kept columns, then outputs in their JSON form (``plain``: as
    Python values, without checked mode's bit). One kept row for many outputs (a broadcast
    row) goes with each of them."""
    kept = list(kept or [])
    if len(kept) == 1 and len(outputs) > 1:
        kept = kept * len(outputs)
    out = []
    for i, row in enumerate(outputs):
        rec = dict(kept[i]) if i < len(kept) else {}
        for o in circuit.outputs:
            if o.name in row:
                if not plain:
                    rec[o.name] = o.type.to_json(row[o.name])
                elif o.name != OVERFLOW_PORT:
                    rec[o.name] = row[o.name]
        out.append(rec)
    return out


def _json_number(v: Any) -> Any:
    """A kept JSON number as json writes it: an input file's numbers are read as Decimal
    (exactly as written), which json cannot write."""
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    raise TypeError(f"Object of type {type(v).__name__} is not JSON serializable")


def _dumps(v: Any, **kw) -> str:
    return json.dumps(v, default=_json_number, **kw)


def _cell(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""               # a JSON null: an empty cell, not the text None
    if isinstance(v, (list, dict)):
        return _dumps(v)
    if isinstance(v, Decimal):
        return format(v, "f")   # 1000, not Decimal's 1E+3
    return str(v)


def _flat(circuit: Circuit, rec: dict[str, Any]) -> dict[str, str]:
    """A record's cells: array outputs spread over element columns."""
    types = {o.name: o.type for o in circuit.outputs}
    out: dict[str, str] = {}

    def put(name: str, t, v) -> None:
        if isinstance(t, ArrayType):
            for i, x in enumerate(v):
                put(f"{name}[{i}]", t.elem, x)
        else:
            out[name] = _cell(v)
    for name, v in rec.items():
        if name in types:
            put(name, types[name], v)
        else:
            out[name] = _cell(v) if not isinstance(v, str) else v
    return out


def write_output(path: str, circuit: Circuit, recs: list[dict[str, Any]]) -> None:
    """Write the records as CSV (header from the first record) or a JSON list."""
    p = Path(path)
    try:
        if p.suffix.lower() == ".json":
            p.write_text(_dumps(recs, indent=1) + "\n", encoding="utf-8")
            return
        rows = [_flat(circuit, r) for r in recs]
        header = list(dict.fromkeys(c for r in rows for c in r))
        with open(p, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=header)
            w.writeheader()
            w.writerows(rows)
    except OSError as e:
        raise InputError(f"--output {path}: cannot write: {e.strerror or e}") from None


def output_columns(circuit: Circuit) -> list[str]:
    """The CSV columns of the outputs, as :func:`_flat` names them (array outputs spread over
    element columns)."""
    names: list[str] = []

    def put(name: str, t) -> None:
        if isinstance(t, ArrayType):
            for i in range(t.length):
                put(f"{name}[{i}]", t.elem)
        else:
            names.append(name)
    for o in circuit.outputs:
        put(o.name, o.type)
    return names


class ResultsWriter:
    """``--output FILE.csv|json`` written a chunk of records at a time, to the same text
    :func:`write_output` writes for all records at once. The records are held in a spooled
    temporary file (memory, then disk when large) and copied to the file by :meth:`finish`,
    so the file is written only when every row succeeded.

    ``kept_columns``: the input file's kept columns (None without a file); ``json_rows``: a
    JSON file's rows (every row may hold other columns: the CSV header is their union, in
    order of first appearance, as :func:`write_output` makes it), None for a CSV file, whose
    rows all hold every column."""

    def __init__(self, path: str, circuit: Circuit, kept_columns: Sequence[str] | None,
                 json_rows: Sequence[dict[str, Any]] | None = None):
        import tempfile
        self.path, self.circuit, self.n = path, circuit, 0
        self.json = Path(path).suffix.lower() == ".json"
        self.spool = tempfile.SpooledTemporaryFile(16 << 20, mode="w+", newline="",
                                                   encoding="utf-8")
        if self.json:
            return
        outs = output_columns(circuit)
        if json_rows is not None and kept_columns:
            seen: dict[str, None] = {}
            for row in json_rows:
                for c in kept_columns:
                    if c in row:
                        seen.setdefault(c)
                for c in outs:
                    seen.setdefault(c)
            header = list(seen)
        else:
            header = list(dict.fromkeys([*(kept_columns or ()), *outs]))
        self.writer = csv.DictWriter(self.spool, fieldnames=header)
        self.writer.writeheader()

    def add(self, outputs: Sequence[dict[str, Any]],
            kept: Sequence[dict[str, Any]] | None = None) -> None:
        """The records of one chunk of rows (see :func:`records`)."""
        recs = records(self.circuit, outputs, kept)
        if self.json:
            parts = []
            for rec in recs:
                item = "\n".join(" " + line for line in _dumps(rec, indent=1).split("\n"))
                parts.append(("[\n" if self.n == 0 else ",\n") + item)
                self.n += 1
            self.spool.write("".join(parts))
        else:
            self.writer.writerows(_flat(self.circuit, r) for r in recs)
            self.n += len(recs)

    def finish(self) -> None:
        """Write the file (its text is complete: every chunk was added)."""
        import shutil
        if self.json:
            self.spool.write("[]\n" if self.n == 0 else "\n]\n")
        self.spool.seek(0)
        try:
            with open(self.path, "w", newline="", encoding="utf-8") as f:
                shutil.copyfileobj(self.spool, f, 1 << 20)
        except OSError as e:
            raise InputError(f"--output {self.path}: cannot write: {e.strerror or e}") from None

    def close(self) -> None:
        self.spool.close()
