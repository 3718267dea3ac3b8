"""Input tables onto input ports: wide exports, column mappings and kept columns.

A table is rows of column -> cell: a CSV file's text cells, a JSON list's values, a data
frame's records. Each column is one of

- an input's name: the whole value (an array written as ``[1,2,3]`` in one cell);
- an element of an array input, ``x[3]`` (``x[1][0]`` for more dimensions): a wide export
  with one column per element;
- a column listed for an input by ``--columns x=mean radius,mean texture,...`` (the
  elements in order, row-major for more dimensions; one column for a scalar input);
- anything else (an ID, a label, a date): kept, not sent anywhere, and written back with that
  row's results (``--output``, :mod:`yaogc.runtime.results`).

Every input cell is parsed here by its element's type, so a bad cell is named by file, line
and column (``data.csv:7: column 'mean radius' ...``); a decimal comma (``14,5``) is named
as such. Values then go on to :func:`yaogc.runtime.inputs.party_inputs`, which checks their
owner and encodes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.errors import InputError
from fractions import Fraction

from yaogc.circuits.types import (GROUPED_NUMBER, ArrayType, BoolType, FixedType, IntType,
                                  TupleType, ValueType)

_ELEMENT = re.compile(r"^(.+?)((?:\[\s*\d+\s*\])+)$")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+\s*$")


@dataclass
class Table:
    """Rows of column -> cell, with where they came from (for messages)."""

    rows: list[dict[str, Any]]
    where: str                          # a file name, or "inputs" for rows given in Python
    lines: list[int] | None = None      # the file line of each row (CSV)
    batch: bool = True                  # a list of rows (a JSON object alone is not)
    first: int = 0                      # the file's index of rows[0] (a chunk of a file)
    json: bool = False                  # the rows came from a JSON file (values, not text)
    header: list[str] | None = None     # every column of the file, when known in advance

    def at(self, r: int) -> str:
        """Where row ``r`` is: ``file.csv:7``, or ``file.json row 3``."""
        if self.lines is not None:
            return f"{self.where}:{self.lines[r]}"
        return f"{self.where} row {self.first + r + 1}" if self.batch else self.where

    @property
    def columns(self) -> list[str]:
        """Every column, in order of first appearance."""
        if self.header is not None:
            return list(self.header)
        return list(dict.fromkeys(c for row in self.rows for c in row))


@dataclass
class Mapped:
    """A table mapped onto the circuit's inputs."""

    rows: list[dict[str, Any]]          # input name -> parsed value, one per table row
    kept: list[dict[str, Any]]          # the other columns' cells, one per table row
    kept_columns: list[str] = field(default_factory=list)


def parse_columns(items: Sequence[str] | None) -> dict[str, list[str]]:
    """``--columns NAME=COL,COL,...`` (each flag once per input) -> {input: [columns]}."""
    out: dict[str, list[str]] = {}
    for item in items or ():
        name, sep, cols = item.partition("=")
        name = name.strip()
        names = [c.strip() for c in cols.split(",")]
        if not sep or not name or not all(names):
            shown = item if len(item) <= 60 else item[:57] + "..."
            raise InputError(f"--columns '{shown}': expected INPUT=COLUMN,COLUMN,... (the "
                             f"columns that hold the input's elements, in order)")
        if name in out:
            raise InputError(f"--columns {name}: given twice")
        out[name] = names
    return out


def _leaves(t: ValueType, prefix: tuple[int, ...] = ()) -> list[tuple[tuple[int, ...], ValueType]]:
    """Index paths of an array type's scalar elements, row-major, with their type."""
    if not isinstance(t, ArrayType):
        return [(prefix, t)]
    out = []
    for i in range(t.length):
        out += _leaves(t.elem, prefix + (i,))
    return out


def _has_element(t: ValueType, idx: tuple[int, ...]) -> bool:
    """Whether ``idx`` is the index path of one of array type ``t``'s scalar elements."""
    for i in idx:
        if not isinstance(t, ArrayType) or not 0 <= i < t.length:
            return False
        t = t.elem
    return not isinstance(t, ArrayType)


def _in_tuple(t: ValueType, idx: tuple[int, ...]) -> bool:
    """Whether the index path ``idx`` runs into a tuple (arrays on the way are indexed)."""
    for i in idx:
        if isinstance(t, TupleType):
            return True
        if not isinstance(t, ArrayType) or not 0 <= i < t.length:
            return False
        t = t.elem
    return False


def _tuple_example(t: ValueType, idx: tuple[int, ...]) -> str:
    for _ in idx:
        if isinstance(t, TupleType):
            break
        t = t.elem
    return "(" + ",".join("true" if isinstance(e, BoolType) else "0" if not
                          isinstance(e, (ArrayType, TupleType)) else "..." for e in t.elems) + ")"


def _index_text(idx: tuple[int, ...]) -> str:
    return "".join(f"[{i}]" for i in idx)


@dataclass
class _Source:
    """Where an input's value comes from: one whole column, or one column per element."""

    type: ValueType
    whole: str | None = None
    elements: dict[tuple[int, ...], str] = field(default_factory=dict)


def _plan(circuit: Circuit, table: Table, mapping: Mapping[str, list[str]]) -> dict[str, _Source]:
    types = {p.name: p.type for p in circuit.inputs}
    header = table.columns
    present = set(header)
    sources: dict[str, _Source] = {}

    def source(name: str) -> _Source:
        return sources.setdefault(name, _Source(types[name]))

    def claim(name: str, idx: tuple[int, ...], col: str, how: str) -> None:
        s = source(name)
        if idx in s.elements:
            raise InputError(f"{table.where}: {name}{_index_text(idx)} comes from two columns, "
                             f"'{s.elements[idx]}' and '{col}' ({how})")
        s.elements[idx] = col

    for name, cols in mapping.items():
        if name not in types:
            raise InputError(f"--columns {name}: the circuit has no input '{name}' (inputs: "
                             f"{', '.join(types) or 'none'})")
        missing = [c for c in cols if c not in present]
        if missing:
            raise InputError(f"--columns {name}: {table.where} has no column '{missing[0]}' "
                             f"(columns: {_some(header)})")
        leaves = _leaves(types[name])
        if len(cols) != len(leaves):
            raise InputError(f"--columns {name}: {len(cols)} columns for {name}, which is "
                             f"{types[name]} ({len(leaves)} values)")
        for (idx, _), col in zip(leaves, cols):
            claim(name, idx, col, "--columns")
    mapped = {c for cols in mapping.values() for c in cols}
    for col in header:
        if col in mapped:
            continue
        if col in types:
            source(col).whole = col
            continue
        m = _ELEMENT.match(col)
        if not m or m.group(1).strip() not in types:
            continue                    # kept: not an input
        name = m.group(1).strip()
        idx = tuple(int(i) for i in re.findall(r"\d+", m.group(2)))
        if not _has_element(types[name], idx):     # (not the list of every element: per column)
            if _in_tuple(types[name], idx):
                raise InputError(f"{table.where}: column '{col}': {name} is {types[name]}; "
                                 f"element columns are for arrays: a tuple is one cell, "
                                 f"such as \"{_tuple_example(types[name], idx)}\"")
            raise InputError(f"{table.where}: column '{col}': {name} is {types[name]}, which "
                             f"has no element {name}{_index_text(idx)}")
        claim(name, idx, col, "element columns")
    for name, s in sources.items():
        if s.whole is not None and s.elements:
            raise InputError(f"{table.where}: input '{name}' is given both whole (column "
                             f"'{s.whole}') and by elements (column "
                             f"'{next(iter(s.elements.values()))}')")
        if s.elements:
            leaves = _leaves(s.type)
            lack = [idx for idx, _ in leaves if idx not in s.elements]
            if lack:
                raise InputError(f"{table.where}: the columns give {len(s.elements)} of the "
                                 f"{len(leaves)} elements of '{name}' ({s.type}); no column "
                                 f"for {name}{_index_text(lack[0])}"
                                 + (f" and {len(lack) - 1} more" if len(lack) > 1 else ""))
    return sources


def _some(names: list[str], n: int = 8) -> str:
    shown = ", ".join(names[:n])
    return shown + (f", ... ({len(names)} in all)" if len(names) > n else "")


_PLAIN = re.compile(r"^\s*([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]{1,3}))?\s*$")


_PLAIN_INT = re.compile(r"[ \t]*([-+]?[0-9]{1,40})[ \t]*\Z")


def int_cell(t: IntType, cell: str) -> int | None:
    """A plain decimal integer cell (``-14``, `` 007``) in ``t``'s range, as ``t.parse``
    reads it, without its general parser (a wide table has tens of thousands of cells);
    None for any other form or a value out of range, which the general parser then
    explains."""
    m = _PLAIN_INT.match(cell)
    if m is None:
        return None
    v = int(m.group(1))
    return v if t.min <= v <= t.max else None


def fixed_cell(t: FixedType, cell: str) -> float | Fraction | None:
    """A plain decimal cell (``-14.127``, ``1e-3``) rounded to ``t``'s grid, ties to even,
    exactly as ``t.parse`` does, by integer arithmetic (a wide table has tens of thousands of
    cells); None for any other form or a value out of range, which the general parser then
    explains. The value is a float where a float holds it exactly."""
    m = _PLAIN.match(cell)
    if m is None:
        return None
    sign, ip, fp, ex = m.groups()
    fp = fp or ""
    if not (ip or fp) or len(ip) + len(fp) > 40:
        return None
    digits, e = int((ip or "0") + fp), int(ex or 0) - len(fp)
    if e < 0:
        num, den = digits << t.frac, 10 ** -e
    else:
        num, den = (digits * 10 ** e) << t.frac, 1
    q, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and q & 1):
        q += 1
    raw = -q if sign == "-" else q
    rt = t.raw_type
    if not rt.min <= raw <= rt.max:
        return None
    return raw / (1 << t.frac) if raw.bit_length() <= 53 else Fraction(raw, 1 << t.frac)


def _json_bool(t: ValueType, value: Any, port: str) -> str | None:
    """The element of a JSON value that is a boolean where ``t`` wants a number (JSON
    true/false are for bool inputs: a file's true for an integer is refused, as the command
    line's and a CSV cell's are), or None."""
    if isinstance(value, bool):
        # a 1-bit unsigned (Bristol) port is a bool: its text takes true/false too
        bristol_bool = isinstance(t, IntType) and t.bits == 1 and not t.signed
        return port if isinstance(t, (IntType, FixedType)) and not bristol_bool else None
    if isinstance(value, list):
        if isinstance(t, ArrayType):
            if len(value) != t.length:
                return None     # refused by its length (inputs.coerce), not element by element
            elems = [(t.elem, f"{port}[{i}]") for i in range(len(value))]
        elif isinstance(t, TupleType):
            elems = [(e, f"{port}.{i}") for i, e in enumerate(t.elems)]
        else:
            return None
        for (et, where), v in zip(elems, value):
            got = _json_bool(et, v, where)
            if got is not None:
                return got
    return None


def _parse(t: ValueType, cell: Any, port: str, loc: str, json: bool = False) -> Any:
    """A cell's value by its type; a bad cell named by ``loc`` (file:line: column 'c');
    ``json``: the cell is a JSON file's value (a boolean there is no number)."""
    from .inputs import coerce
    if json and not isinstance(cell, str):
        bad = _json_bool(t, cell, port)
        if bad is not None:
            elem = _element_type(t, bad[len(port):])
            raise InputError(f"{loc}: input '{bad}': a JSON boolean is not {elem.name} (write "
                             f"a number; true and false are for bool inputs)")
    if type(t) is FixedType and type(cell) is str:
        fast = fixed_cell(t, cell)
        if fast is not None:
            return fast
    elif type(t) is IntType and type(cell) is str:
        fast = int_cell(t, cell)
        if fast is not None:
            return fast
    try:
        value = coerce(t, cell, port)
        if not isinstance(cell, str):
            t.encode(value, port)   # range-check values given as numbers here, with the place
        return value
    except InputError as e:
        if isinstance(cell, str) and GROUPED_NUMBER.match(cell.strip()):
            # 1,000: a thousands separator, or a decimal comma with three decimals
            plain = cell.strip().replace(",", "")
            if type(t) is FixedType:
                raise InputError(f"{loc}: '{cell.strip()}' has a comma: write {plain} without "
                                 f"thousands separators, or {cell.strip().replace(',', '.')} "
                                 f"if it is a decimal comma ({port} is {t})") from None
            raise InputError(f"{loc}: '{cell.strip()}': write {plain} without thousands "
                             f"separators ({port} is {t})") from None
        if isinstance(cell, str) and _DECIMAL_COMMA.match(cell):
            raise InputError(f"{loc}: '{cell.strip()}' has a decimal comma: write "
                             f"{cell.strip().replace(',', '.')} (the decimal point is '.'; "
                             f"{port} is {t})") from None
        raise InputError(f"{loc}: {e}") from None


def _element_type(t: ValueType, path: str) -> ValueType:
    """The type of the element ``path`` ('[2].1', '') of ``t``."""
    for m in re.finditer(r"\[(\d+)\]|\.(\d+)", path):
        t = t.elem if m.group(1) is not None else t.elems[int(m.group(2))]
    return t


@dataclass
class TablePlan:
    """Which columns feed which input (see :func:`_plan`), and the kept columns."""

    sources: dict[str, _Source]
    kept_columns: list[str]


def plan_table(circuit: Circuit, table: Table,
               mapping: Mapping[str, list[str]] | None = None) -> TablePlan:
    """The mapping of ``table``'s columns onto the circuit's inputs, checked once for the
    whole file (``table.columns``), before any row is parsed."""
    sources = _plan(circuit, table, mapping or {})
    used = {s.whole for s in sources.values() if s.whole is not None}
    used |= {c for s in sources.values() for c in s.elements.values()}
    return TablePlan(sources, [c for c in table.columns if c not in used])


def map_rows(plan: TablePlan, table: Table) -> Mapped:
    """The rows of ``table`` (the whole file or a chunk of it) mapped by ``plan``."""
    sources, kept_columns = plan.sources, plan.kept_columns
    rows, kept = [], []
    for r, row in enumerate(table.rows):
        values: dict[str, Any] = {}
        for name, s in sources.items():
            if s.whole is not None:
                if s.whole in row:
                    values[name] = _parse(s.type, row[s.whole], name,
                                          f"{table.at(r)}: column '{s.whole}'", table.json)
                continue
            values[name] = _elements(name, s, row, table, r)
        rows.append(values)
        kept.append({c: row[c] for c in kept_columns if c in row})
    return Mapped(rows, kept, kept_columns)


def map_table(circuit: Circuit, table: Table,
              mapping: Mapping[str, list[str]] | None = None) -> Mapped:
    """The table's rows as input values (parsed) and kept columns; see the module docstring."""
    return map_rows(plan_table(circuit, table, mapping), table)


def _elements(name: str, s: _Source, row: Mapping[str, Any], table: Table, r: int) -> list:
    """One input's nested list of element values from its element columns."""
    def build(t: ValueType, idx: tuple[int, ...]):
        if not isinstance(t, ArrayType):
            col = s.elements[idx]
            if col not in row:
                raise InputError(f"{table.at(r)}: no value for column '{col}' "
                                 f"({name}{_index_text(idx)})")
            return _parse(t, row[col], f"{name}{_index_text(idx)}",
                          f"{table.at(r)}: column '{col}'", table.json)
        return [build(t.elem, idx + (i,)) for i in range(t.length)]
    return build(s.type, ())


def read_mapped(circuit: Circuit, path: str | None, columns: Sequence[str] | None,
                output: str | None = None) -> tuple[Table | None, Mapped | None]:
    """``--inputs FILE`` read and mapped by ``--columns`` (and ``--output`` checked against
    its kept columns) before any work; (None, None) without a file."""
    if not path:
        if columns:
            raise InputError("--columns maps the columns of an --inputs file; give one")
        if output:
            from .results import check_output
            check_output(output, [], circuit)
        return None, None
    from .inputs import read_table
    table = read_table(path)
    mapped = map_table(circuit, table, parse_columns(columns))
    if output:
        from .results import check_output
        check_output(output, mapped.kept_columns, circuit, path)
    return table, mapped


def stream_mapped(circuit: Circuit, path: str, columns: Sequence[str] | None,
                  output: str | None, chunk_rows: int):
    """``--inputs FILE`` mapped by ``--columns`` (and ``--output`` checked against its kept
    columns) before any row is parsed, then read ``chunk_rows`` rows at a time: (head, plan,
    chunks), ``chunks`` an iterator of (Table, Mapped) whose tables know their first row's
    index in the file. A CSV file's rows are read as the chunks are taken."""
    from .inputs import stream_table
    head, tables = stream_table(path, chunk_rows)
    plan = plan_table(circuit, head, parse_columns(columns))
    if output:
        from .results import check_output
        check_output(output, plan.kept_columns, circuit, path)
    return head, plan, ((t, map_rows(plan, t)) for t in tables)
