"""One party's input values for a two-party run: ``--input`` pairs and input files -> bits.

A run evaluates the circuit on K rows. K is the number of rows in the input file (a CSV file
with a header row naming the inputs and one row per instance, or a JSON list of objects); a
JSON object or ``--input NAME=VALUE`` alone make one row. ``--input`` values apply to every
row. Every value is parsed by its port's type and range-checked here, before any connection is
made, so a missing, unknown or out-of-range value is refused locally (exit status 2).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.errors import InputError
from yaogc.circuits.types import ArrayType, FixedType, IntType, TupleType, ValueType


@dataclass
class PartyInputs:
    """One party's inputs: the rows it holds, their bits, and whether they came as a batch."""

    rows: list[dict[str, Any]]
    bits: np.ndarray          # (K, own input width) uint8, own ports in circuit order
    wires: np.ndarray         # the circuit input wires those bit columns belong to
    batch: bool               # rows came from a list (JSON list or CSV): report a list of outputs
    # the most rows of the peer one row of these may be applied to (None: see run_party)
    max_batch: int | None = None

    @property
    def k(self) -> int:
        return len(self.rows)


def read_input_file(path: str | Path) -> tuple[list[dict[str, Any]], bool]:
    """Rows of name -> value from a .csv or .json file, and whether it is a batch (a list)."""
    t = read_table(path)
    return t.rows, t.batch


def read_table(path: str | Path):
    """A .csv or .json input file as a :class:`yaogc.runtime.columns.Table` (CSV rows keep
    their line numbers, for messages that name a bad cell)."""
    from .columns import Table
    p = _input_path(path)
    if p.suffix.lower() == ".csv":
        with _open_text(p, str(path)) as f:
            reader, header = _csv_header(f, str(path), _file_size(p))
            rows, lines = [], []
            for chunk in _csv_chunks(reader, header, str(path), None):
                rows += chunk.rows
                lines += chunk.lines
        return Table(rows, str(path), lines, True)
    text = _read_text(p, str(path))
    rows, batch = _read_json(text, str(path))
    return Table(rows, str(path), None, batch, json=True)


def stream_table(path: str | Path, chunk_rows: int):
    """A .csv or .json input file as (head, chunks): ``head`` a
    :class:`~yaogc.runtime.columns.Table` that knows the file's columns (a CSV header, no
    rows; a JSON file, which is read whole, with all its rows), ``chunks`` an iterator of
    Tables of at most ``chunk_rows`` rows each, whose ``first`` is the index of their first
    row in the file. A CSV file is read as the chunks are taken, so its rows are never all in
    memory; a bad cell or row is refused when its chunk is read."""
    from .columns import Table
    p = _input_path(path)
    where = str(path)
    if p.suffix.lower() == ".csv":
        f = _open_text(p, where)
        try:
            reader, header = _csv_header(f, where, _file_size(p))
        except BaseException:
            f.close()
            raise

        def chunks():
            with f:
                yield from _csv_chunks(reader, header, where, chunk_rows)
        return Table([], where, [], True, header=list(header)), chunks()
    rows, batch = _read_json(_read_text(p, where), where)
    head = Table(rows, where, None, batch, json=True)
    columns = head.columns

    def json_chunks():
        for first in range(0, len(rows), chunk_rows):
            yield Table(rows[first:first + chunk_rows], where, None, batch, first=first,
                        json=True, header=columns)
    return Table(rows, where, None, batch, json=True, header=columns), json_chunks()


def _input_path(path: str | Path) -> Path:
    """The input file, refused (naming what it is) unless it is a readable regular .csv or
    .json file; checked with os.stat, before opening, so a FIFO never blocks the reader."""
    import os
    import stat
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputError(f"{path}: no such input file") from None
    except NotADirectoryError:
        raise InputError(f"{path}: no such input file (a part of the path is not a "
                         "directory)") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read the input file: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory, not an input file (.csv or .json)")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: is not a regular file (an input file is a .csv or .json "
                         "file)")
    if p.suffix.lower() not in (".csv", ".json"):
        raise InputError(f"{path}: an input file must be .csv or .json")
    return p


def _file_size(p: Path) -> int:
    import os
    try:
        return os.stat(p).st_size
    except OSError:
        return 0


def _open_text(p: Path, where: str):
    try:
        return open(p, encoding="utf-8-sig", newline="")
    except OSError as e:
        raise InputError(f"{where}: cannot read the input file: {e.strerror or e}") from None


def _read_text(p: Path, where: str) -> str:
    try:
        return p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{where}: cannot read the input file: {e}") from None


MAX_DIGITS = 100_000      # an integer in an input file: 2^332,000, wider than any input
MAX_EXPONENT = 100_000    # |exponent| of a decimal in an input file


def _delimiter(text: str) -> str:
    """',' unless the header row holds ';' and no ',' (a spreadsheet export where the comma
    is the decimal mark)."""
    head = text.split("\n", 1)[0]
    return ";" if ";" in head and "," not in head else ","


# the longest header row read (a million column names of 60 characters): a file whose
# first line is longer (one line of gigabytes) is no input table, and is not read whole
HEADER_MAX = 64 << 20


def _csv_header(f, where: str, size: int):
    """A csv reader over the open file ``f`` and the header row it read first."""
    # a cell may hold a whole array: no limit below the file's own size (the csv module's
    # default of 131,072 characters refuses a valid array of 30,000 elements)
    csv.field_size_limit(max(csv.field_size_limit(), size + 1))
    try:
        head = f.readline(HEADER_MAX + 1)
        f.seek(0)
    except UnicodeDecodeError as e:
        raise InputError(f"{where}: cannot read the input file: {e}") from None
    if len(head) > HEADER_MAX:
        raise InputError(f"{where}:1: the first line is longer than {HEADER_MAX:,} characters: "
                         f"not a header row of input names (is this a CSV file?)")
    # strict: a quote never closed is an error, not a cell that swallows the rest of the
    # file (its records silently lost)
    reader = csv.reader(f, delimiter=_delimiter(head), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{where}: empty CSV file (expected a header row of input names)") from None
    except csv.Error as e:
        raise InputError(f"{where}:{reader.line_num}: not valid CSV: {e}") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{where}: cannot read the input file: {e}") from None
    header = [h.strip() for h in header]
    if not all(header):
        raise InputError(f"{where}:1: empty column name in the header row")
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise InputError(f"{where}:1: column '{dup}' appears twice in the header row")
    return reader, header


def _csv_chunks(reader, header: list[str], where: str, chunk_rows: int | None):
    """Tables of the CSV file's data rows, ``chunk_rows`` at a time (all at once for None),
    read on from ``reader`` (see :func:`_csv_header`)."""
    from .columns import Table
    rows, lines, first, any_rows = [], [], 0, False
    line_no = reader.line_num
    try:
        for cells in reader:
            line_no = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                # the header's columns are inputs and kept columns alike
                raise InputError(f"{where}:{line_no}: {len(cells)} cells, but the header has "
                                 f"{len(header)} columns (quote array cells: \"[1,2,3]\")")
            rows.append({h: c.strip() for h, c in zip(header, cells)})
            lines.append(line_no)
            any_rows = True
            if chunk_rows is not None and len(rows) >= chunk_rows:
                yield Table(rows, where, lines, True, first=first, header=header)
                first += len(rows)
                rows, lines = [], []
    except csv.Error as e:
        # where the record that failed begins (the reader has read on to where it failed)
        why = "a quote opened in this record is never closed" \
            if "unexpected end of data" in str(e) else str(e)
        raise InputError(f"{where}:{line_no + 1}: not valid CSV: {why}") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{where}: cannot read the input file: {e}") from None
    except OSError as e:
        raise InputError(f"{where}: cannot read the input file: {e.strerror or e}") from None
    if not any_rows:
        raise InputError(f"{where}: no data rows after the header")
    if rows:
        yield Table(rows, where, lines, True, first=first, header=header)


class _Refused(Exception):
    """Raised inside the JSON parser's hooks; becomes an InputError naming the file."""


def _json_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise _Refused(f"an integer of {digits} digits is larger than any input "
                       f"(at most {MAX_DIGITS} digits)")
    # through Decimal: int() refuses strings of more than 4,300 digits, which a wide input
    # (u16384, say) may need
    return int(Decimal(text)) if digits > 4000 else int(text)


def _json_float(text: str) -> Decimal:
    value = Decimal(text)  # exact decimals, so a fixed-point value is rounded once, by its type
    if value and abs(value.adjusted()) > MAX_EXPONENT:
        raise _Refused(f"the number {text[:40]} is out of range for any input (its exponent "
                       f"is beyond +-{MAX_EXPONENT})")
    return value


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key '{key[:60]}' appears twice in one object (which value is "
                           "meant?)")
        out[key] = value
    return out


def _read_json(text: str, where: str) -> tuple[list[dict[str, Any]], bool]:
    try:
        data = json.loads(text, parse_float=_json_float, parse_int=_json_int,
                          object_pairs_hook=_json_object)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from None
    except _Refused as e:
        raise InputError(f"{where}: {e}") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply (an input value nests as deep as "
                         "its array type, a few levels)") from None
    except ValueError as e:  # what the parser's own conversions refuse
        raise InputError(f"{where}: invalid JSON: {e}") from None
    if isinstance(data, dict):
        return [data], False
    if isinstance(data, list) and data:
        for i, r in enumerate(data):
            if not isinstance(r, dict):
                raise InputError(f"{where} row {i + 1}: entry {i + 1} of the list is "
                                 f"{_json_kind(r)}, not an object of name -> value (each entry "
                                 f"of the list is one instance)")
        return data, True
    if isinstance(data, list):
        raise InputError(f"{where}: an empty list (expected a JSON object of name -> value, "
                         f"or a non-empty list of such objects, one per instance)")
    raise InputError(f"{where}: expected a JSON object of name -> value, or a non-empty list "
                     f"of such objects (one per instance)")


def _json_kind(v: Any) -> str:
    if isinstance(v, list):
        return "a list"
    if isinstance(v, bool):
        return f"the boolean {'true' if v else 'false'}"
    if v is None:
        return "null"
    if isinstance(v, str):
        return "a string"
    return f"the number {v}"


def coerce(t: ValueType, value: Any, where: str) -> Any:
    """A value from a file or command line in the form ``t.encode`` takes (text is parsed)."""
    if isinstance(value, str):
        return t.parse(value, where)
    if isinstance(t, ArrayType) and isinstance(value, list):
        t.check_length(len(value), where)   # before a conversion per element of a long list
        return [coerce(t.elem, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(t, TupleType) and isinstance(value, list) and len(value) == len(t.elems):
        return [coerce(e, v, f"{where}.{i}") for i, (e, v) in enumerate(zip(t.elems, value))]
    if isinstance(t, IntType) and isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)  # JSON 3.0 or 1e3 for an integer input
    return value


def fixed_array_bits(t: ValueType, values: Sequence[Any]) -> np.ndarray | None:
    """Bits (rows, width) of one fixed-point array input for many rows whose values are all
    lists of Python floats (as a wide table's cells become), by numpy: exact, since scaling
    a float by a power of two is, and numpy rounds ties to even as the type does. None when
    any value is of another form or out of range (the general path then says which)."""
    if not (isinstance(t, ArrayType) and isinstance(t.elem, FixedType) and t.elem.bits <= 62):
        return None
    e, n = t.elem, t.length
    if not all(type(v) is list and len(v) == n and all(type(x) is float for x in v)
               for v in values):
        return None
    raw = np.round(np.array(values, dtype=np.float64) * 2.0 ** e.frac)
    # Powers of two are exact in float64, the type's limits 2**(bits-1) - 1 are not (bits > 53).
    half = 2.0 ** (e.bits - 1)
    if not np.all((raw >= -half) & (raw < half)):    # NaN fails both: the slow path
        return None
    u = raw.astype(np.int64).astype(np.uint64) & np.uint64((1 << e.bits) - 1)
    b = (u[..., None] >> np.arange(e.bits, dtype=np.uint64)) & np.uint64(1)
    return b.astype(np.uint8).reshape(len(values), n * e.bits)


def party_inputs(circuit: Circuit, party: str, assigned: Mapping[str, Any] | None = None,
                 file_rows: Sequence[Mapping[str, Any]] | None = None,
                 batch: bool = False, source: str = "--inputs",
                 unused: Sequence[str] = (), at=None, first_row: int = 0) -> PartyInputs:
    """Check and encode ``party``'s inputs.

    ``assigned`` holds values for every row (from ``--input``); ``file_rows`` one mapping per
    row. Values may be text (parsed by the port's type) or Python/JSON values. An input of
    another party, an unknown name, a missing value or one out of range raises InputError;
    ``unused``: the input table's columns that are no input (named when one is missing);
    ``at(r)``: where row ``r`` of ``file_rows`` is (``file.csv:7``), for messages (else
    ``source row N``); ``first_row``: the file's index of ``file_rows[0]`` (rows read in
    chunks).
    """
    def row_at(r: int) -> str:
        if at is not None:
            return at(r)
        return f"{source} row {first_row + r + 1}" if batch or len(file_rows) > 1 else source

    assigned = dict(assigned or {})
    own = [p for p in circuit.inputs if p.party == party]
    own_names = {p.name for p in own}
    owner = {p.name: p.party for p in circuit.inputs}
    rows_in = [dict(r) for r in file_rows] if file_rows else [{}]

    def check_names(names, where):
        for name in names:
            if name not in owner:
                raise InputError(f"{where}: the circuit has no input '{name}' (inputs: "
                                 f"{', '.join(p.name for p in circuit.inputs) or 'none'})")
            if name not in own_names:
                raise InputError(f"{where}: input '{name}' belongs to party '{owner[name]}', "
                                 f"not to '{party}' (each party gives only its own inputs)")

    check_names(assigned, "--input")
    for r, row in enumerate(rows_in):
        check_names(row, row_at(r) if file_rows else source)
        both = set(row) & set(assigned)
        if both:
            raise InputError(f"input '{sorted(both)[0]}' is given both with --input and in "
                             f"{source}")
    width = sum(p.width for p in own)
    bits = np.zeros((len(rows_in), width), dtype=np.uint8)
    # a wide table's float arrays encoded for all rows at once; a port it does not take (or
    # a value it would refuse) goes through the checks below, row by row
    done, pos = set(), 0
    for p in own:
        if all(p.name in row for row in rows_in) and p.name not in assigned:
            got = fixed_array_bits(p.type, [row[p.name] for row in rows_in])
            if got is not None:
                bits[:, pos:pos + p.width] = got
                done.add(p.name)
        pos += p.width
    rows: list[dict[str, Any]] = []
    for r, row in enumerate(rows_in):
        merged = {**assigned, **row}
        values: dict[str, Any] = {}
        pos = 0
        for p in own:
            if p.name in done:
                values[p.name] = merged[p.name]
                pos += p.width
                continue
            where = p.name if len(rows_in) == 1 and not first_row else \
                f"{p.name} (row {first_row + r + 1})"
            if p.name not in merged:
                other = (f" ({source}'s columns {', '.join(repr(c) for c in unused[:5])} are "
                         "no inputs: kept with the results)") if unused else ""
                wide = (f" (its elements as columns {p.name}[0], {p.name}[1], .. or "
                        f"--columns {p.name}=COL,COL,..)") if isinstance(p.type, ArrayType) \
                    else ""
                place = f"{row_at(r)}: " if file_rows and (source or at is not None) else ""
                raise InputError(f"{place}missing input '{p.name}' ({p.type}, party "
                                 f"{p.party}); give it with --input {p.name}=VALUE or in an "
                                 f"input file{wide}{other}")
            v = coerce(p.type, merged[p.name], where)
            bits[r, pos:pos + p.width] = p.type.encode(v, where)
            values[p.name] = v
            pos += p.width
        rows.append(values)
    wires = (np.concatenate([p.wires for p in own]) if own else np.zeros(0, dtype=np.int64))
    return PartyInputs(rows, bits, wires.astype(np.int64), batch)
