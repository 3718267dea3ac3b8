"""Bristol Fashion circuit files: read (vectorized) and write.

The format (Smart et al., "Bristol Fashion" MPC circuits, SCALE-MAMBA): a line ``gates wires``,
a line ``n w1 .. wn`` of input widths, a line ``m v1 .. vm`` of output widths, a blank line,
then one gate per line, ``n_in n_out in.. out.. OP`` with OP one of XOR, AND, INV, EQW (a copy)
and EQ (a constant 0/1 in place of the input wire). The inputs are wires 0.. in header order and
the outputs are the LAST wires, in header order; wire j of a value is bit j of the integer.

The older "Bristol Format" (Tillich and Smart's circuits, and the ``bristol_format`` files of
EMP-toolkit) has one header line less: ``gates wires``, then ``n1 n2 n3`` (the bits of the first
and second input and of the output) on one line, then the gates, with the same gate lines and the
same wire order (inputs first, the output last). It is read as Bristol Fashion with the inputs
``in1`` (n1 bits) and ``in2`` (n2 bits, left out when 0) and the output ``out1``, as EMP-toolkit's
``BristolFormat`` hands them to its parties. It is told apart by its third line: a gate line
(four tokens or more, the last a name) after three numbers, where Bristol Fashion has its
output widths.

"Extended" Bristol Fashion adds MAND, k ANDs on one line: ``2k k a1..ak b1..bk c1..ck MAND``
sets c_i = a_i AND b_i (SCALE-MAMBA's src/GC/Circuit.h). It counts as ONE gate in the header's
gate count, which counts lines; the reader expands it into k AND gates. The writer never emits it.

Reading maps the file's arbitrary wire ids to SSA (inputs first, gates in file order): EQW
becomes an alias, EQ a constant gate, INV a NOT. Wire ids must be below the header's wire
count; ids that no gate sets and nothing reads may be left out (the count is then an upper
bound), but an output wire must be an input or set by a gate. The whole file is tokenized with
numpy (no per-line Python loop), so the 135k-gate SHA-256 circuit loads in tens of
milliseconds. Ports are ``in1, in2, ..`` (``in1`` from the garbler, the others from the
evaluator) and ``out1, ..`` (to both parties), typed ``uint(w)``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Iterator

import numpy as np

from .circuit import Circuit, InputPort, Op, OutputPort, bits_port_type
from .errors import InputError

GARBLER, EVALUATOR = "garbler", "evaluator"
_MAX_WIRES = 1 << 31
_MAX_PORT_BITS = 1 << 24   # 16M input plus output bits: far beyond real circuits
_MAX_DIGITS = 15  # wire ids and counts stay far below 10**15; longer numbers are refused

# op names packed little-endian into an int, as the tokenizer computes them
_NAMES = {"XOR": 0, "AND": 1, "INV": 2, "EQW": 3, "EQ": 4, "MAND": 5}
_KEYS = {sum(ord(c) << (8 * i) for i, c in enumerate(n)): code for n, code in _NAMES.items()}
_KEY_SORTED = np.array(sorted(_KEYS), dtype=np.int64)
_KEY_CODE = np.array([_KEYS[k] for k in sorted(_KEYS)], dtype=np.int64)
_XOR, _AND, _INV, _EQW, _EQ, _MAND = range(6)


class FormatError(InputError):
    """A circuit file that does not parse; the message starts with ``path:line:``."""


class _Source:
    """Where the text came from, for ``path:line:`` messages."""

    def __init__(self, path_or_text):
        if isinstance(path_or_text, (bytes, bytearray)):
            self.where, self.data = "<bristol>", bytes(path_or_text)
        elif isinstance(path_or_text, str) and "\n" in path_or_text:
            self.where, self.data = "<bristol>", path_or_text.encode()
        else:
            self.where = os.fspath(path_or_text)
            try:
                self.data = Path(self.where).read_bytes()
            except OSError as e:
                raise FormatError(f"{self.where}: cannot read: {e.strerror or e}") from None
        self.name = Path(self.where).stem if self.where != "<bristol>" else "bristol"

    def error(self, line: int, what: str) -> FormatError:
        return FormatError(f"{self.where}:{int(line)}: {what}")


def _tokenize(data: bytes):
    """Token starts, lengths, 1-based line numbers, numeric values (-1 if not a number) and
    the characters of every token of at most four characters packed into an int (else -1).

    Tokens are grouped by length so each group is parsed with a few whole-array operations per
    character position: about 30 ms for the 3.5 MB SHA-256 file."""
    buf = np.frombuffer(data, dtype=np.uint8)
    if not buf.size:
        buf = np.zeros(1, dtype=np.uint8)
    tok = buf > 32  # spaces, tabs, CR, LF and other control bytes separate tokens
    edge = np.empty(buf.size + 1, dtype=bool)
    edge[0] = tok[0]
    np.not_equal(tok[1:], tok[:-1], out=edge[1:-1])
    edge[-1] = tok[-1]
    bounds = np.flatnonzero(edge)
    starts = bounds[0::2]
    lengths = bounds[1::2] - starts
    lines = np.cumsum(buf == 10, dtype=np.int64)[starts] + 1
    values = np.full(starts.size, -1, dtype=np.int64)
    key = np.full(starts.size, -1, dtype=np.int64)
    for n in range(1, min(int(lengths.max(initial=0)), _MAX_DIGITS) + 1):
        sel = np.flatnonzero(lengths == n)
        if not sel.size:
            continue
        at = starts[sel]
        v = np.zeros(sel.size, dtype=np.int64)
        k = np.zeros(sel.size, dtype=np.int64)
        nondigit = np.zeros(sel.size, dtype=bool)
        for c in range(n):
            ch = buf[at + c]
            d = ch - np.uint8(48)
            nondigit |= d > 9
            v *= 10
            v += d
            if n <= 4:
                k |= ch.astype(np.int64) << (8 * c)
        values[sel] = np.where(nondigit, -1, v)
        if n <= 4:
            key[sel] = k
    return starts, lengths, lines, values, key


def _header_line(src: _Source, vals, line: int, what: str, pairs: bool) -> list[int]:
    nums = [int(v) for v in vals]   # already known to be numbers
    if pairs:
        if len(nums) != 2:
            raise src.error(line, f"{what}: expected 'gates wires', got {len(nums)} numbers")
        return nums
    if not nums or len(nums) != nums[0] + 1:
        raise src.error(line, f"{what}: expected a count followed by that many widths")
    if any(w < 1 for w in nums[1:]):
        raise src.error(line, f"{what}: every width must be at least 1")
    return nums[1:]


def _check_text(src: _Source, buf: np.ndarray) -> None:
    """Refuse binary data early: a Bristol file is ASCII text (tabs, CR and form feeds allowed)."""
    bad = np.flatnonzero(((buf < 32) & ((buf < 9) | (buf > 13))) | (buf > 126))
    if bad.size:
        at = int(bad[0])
        line = int(np.count_nonzero(buf[:at] == 10)) + 1
        raise src.error(line, f"byte 0x{int(buf[at]):02x} at offset {at}: not a Bristol Fashion "
                        f"text file (binary data?)")


def read_bristol(path_or_text) -> Circuit:
    """Read a Bristol Fashion (or older Bristol Format) circuit from a path, or from text (str
    with newlines, or bytes)."""
    src = _Source(path_or_text)
    if src.data.startswith(b"\xef\xbb\xbf"):   # a UTF-8 byte order mark some editors add
        src.data = src.data[3:]
    _check_text(src, np.frombuffer(src.data, dtype=np.uint8))
    starts, lengths, lines, values, key = _tokenize(src.data)
    if starts.size == 0:
        raise src.error(1, "empty file: expected a Bristol Fashion header 'gates wires'")
    line_change = np.flatnonzero(np.diff(lines)) + 1
    first = np.concatenate([[0], line_change])          # first token of every non-empty line
    count = np.diff(np.concatenate([first, [starts.size]]))
    lno = lines[first]
    if lno.size < 3:
        raise src.error(int(lines[-1]), "truncated header: expected 3 lines (gates wires / "
                        "input widths / output widths)")
    old = _old_format(values, first, count)
    head = []
    for h, what in enumerate(("header", "widths") if old else
                             ("header", "input widths", "output widths")):
        sl = slice(first[h], first[h] + count[h])
        bad = np.flatnonzero(values[sl] < 0)
        if bad.size:
            raise src.error(lno[h], _not_a_number(_token(src, starts, lengths, first[h] + bad[0]),
                                                  "a non-negative integer"))
        head.append([int(v) for v in values[sl]] if old and h else
                    _header_line(src, values[sl], lno[h], what, h == 0))
    if old:
        (n_gates, n_wires), (n1, n2, n3) = head
        if n1 < 1 or n3 < 1:
            raise src.error(lno[1], f"old Bristol Format header 'in1 in2 out' = {n1} {n2} {n3}: "
                            f"the first input and the output need at least one bit")
        in_w, out_w = [n1, n2], [n3]       # a width of 0: no such input
    else:
        (n_gates, n_wires), in_w, out_w = head
        if not out_w:       # (every width is at least 1) as the writer refuses to write one
            raise src.error(lno[2], "the circuit declares no output bits; Bristol Fashion "
                                    "needs one output of at least one bit")
    n_head = 2 if old else 3
    n_in, n_out = sum(in_w), sum(out_w)
    if max(n_in, n_out) > n_wires:
        raise src.error(lno[0], f"{n_wires} wires cannot hold {n_in} input and {n_out} output bits")
    if n_wires >= _MAX_WIRES or n_in + n_out > _MAX_PORT_BITS:
        # also bounds memory for a corrupt header
        raise src.error(lno[0], f"{n_wires} wires with {n_in} input and {n_out} output bits: "
                        f"this reader takes fewer than 2**31 wires and at most {_MAX_PORT_BITS} "
                        f"input plus output bits")

    g_first, g_count, g_line = first[n_head:], count[n_head:], lno[n_head:]
    n_lines = g_first.size
    if n_lines != n_gates:
        if n_lines < n_gates:
            at = int(lines[-1]) if n_lines else int(lno[n_head - 1])
            raise src.error(at, f"file ends after {n_lines} of {n_gates} gates (truncated?)")
        raise src.error(g_line[n_gates], f"more gate lines than the {n_gates} the header declares "
                        f"(a MAND line counts as one gate)")
    if n_gates == 0:
        return _build(src, n_wires, in_w, out_w, lno[n_head - 1],
                      *(np.zeros(0, dtype=np.int64),) * 5)

    last = g_first + g_count - 1
    pos = np.minimum(np.searchsorted(_KEY_SORTED, key[last]), _KEY_SORTED.size - 1)
    op = np.where(_KEY_SORTED[pos] == key[last], _KEY_CODE[pos], -1)
    nin = np.where(g_count >= 3, values[g_first], -1)
    nout = np.where(g_count >= 3, values[np.minimum(g_first + 1, starts.size - 1)], -1)
    # every token but the op must be a number; remember the first offender of each line
    off = int(g_first[0])
    tok_line = np.repeat(np.arange(n_gates), g_count)
    nonnum = values[off:] < 0
    nonnum[last - off] = False
    nn = np.flatnonzero(nonnum)
    bad_tok = np.full(n_gates, -1, dtype=np.int64)
    bad_lines, first_nn = np.unique(tok_line[nn], return_index=True)
    bad_tok[bad_lines] = nn[first_nn] + off
    mand = op == _MAND
    exp_in = np.where(op >= 0, np.array([2, 2, 1, 1, 1, -1])[np.maximum(op, 0)], -1)
    problems = [
        (g_count < 3, lambda k: "truncated gate line: expected 'n_in n_out inputs.. outputs.. OP'"),
        (bad_tok >= 0,
         lambda k: _not_a_number(_token(src, starts, lengths, bad_tok[k]), "a wire number")),
        (op < 0, lambda k: (f"the line does not end in a gate name (XOR, AND, INV, EQW, EQ or "
                            f"MAND)" if values[last[k]] >= 0 else
                            f"unknown gate '{_token(src, starts, lengths, last[k])}' "
                            f"(expected XOR, AND, INV, EQW, EQ or MAND)")),
        (~mand & (op >= 0) & ((nin != exp_in) | (nout != 1)),
         lambda k: f"{_op_name(op[k])} takes {exp_in[k]} input(s) and 1 output, the line says "
                   f"{nin[k]} and {nout[k]}"),
        (mand & ((nout < 1) | (nin != 2 * nout)),
         lambda k: f"MAND takes 2k inputs and k outputs (k >= 1), the line says {nin[k]} and "
                   f"{nout[k]}"),
        (g_count != nin + nout + 3,
         lambda k: f"the line has {g_count[k] - 3} wire numbers but declares {nin[k]} inputs "
                   f"and {nout[k]} outputs"),
    ]
    _first_problem(src, g_line, problems)

    # one gate per output wire: a MAND line of k outputs becomes k ANDs. With the inputs
    # a1..ak b1..bk and outputs c1..ck, gate i of a line reads tokens 2+i and 2+(nin-nout)+i
    # and writes 2+nin+i, which is also right for the one-output gates (nin-nout = 1 for XOR
    # and AND; the second read is ignored for INV, EQ and EQW)
    per_line = np.where(mand, nout, 1)
    line_of = np.repeat(np.arange(n_lines), per_line)
    i = np.arange(line_of.size) - np.repeat(np.cumsum(per_line) - per_line, per_line)
    at = g_first[line_of] + 2 + i
    g_op = np.where(mand, _AND, op)[line_of]
    a = values[at]
    two = (g_op == _XOR) | (g_op == _AND)
    b = np.where(two, values[at + (nin - nout)[line_of]], -1)
    out = values[at + nin[line_of]]
    return _build(src, n_wires, in_w, out_w, lno[n_head - 1], g_op, a, b, out, g_line[line_of])


def _old_format(values, first, count) -> bool:
    """Whether the header is the older Bristol Format's: three numbers on its second line
    (``n1 n2 n3``) and a gate line next (four tokens or more, the last not a number), where
    Bristol Fashion has its output widths (numbers only)."""
    if first.size < 3 or count[1] != 3 or (values[first[1]:first[1] + 3] < 0).any():
        return False
    return count[2] >= 4 and bool(values[first[2] + count[2] - 1] < 0)


def _first_problem(src: _Source, g_line, problems) -> None:
    """Raise for the earliest line any of the (mask, message) checks flags."""
    best = None
    for mask, msg in problems:
        hit = np.flatnonzero(mask)
        if hit.size and (best is None or g_line[hit[0]] < g_line[best[0]]):
            best = (int(hit[0]), msg)
    if best is not None:
        raise src.error(g_line[best[0]], best[1](best[0]))


def _token(src: _Source, starts, lengths, t) -> str:
    t = int(t)
    return src.data[starts[t]:starts[t] + min(int(lengths[t]), 40)].decode("latin-1")


def _not_a_number(text: str, what: str) -> str:
    if text.isdigit():
        return f"'{text}' is too large for {what}"
    return f"'{text}' is not {what}"


def _op_name(code) -> str:
    return next(n for n, c in _NAMES.items() if c == int(code))


def _build(src, n_wires, in_w, out_w, out_line, op, a, b, out, g_line) -> Circuit:
    n_in, n_out, n = sum(in_w), sum(out_w), op.size
    is_const = op == _EQ
    reads_a = ~is_const
    reads_b = b >= 0
    problems = [
        ((out < n_in) | (out >= n_wires),
         lambda k: (f"wire {out[k]} is an input wire and cannot be set by a gate" if out[k] < n_in
                    else f"wire {out[k]} is outside 0..{n_wires - 1}")),
        (reads_a & (a >= n_wires), lambda k: f"wire {a[k]} is outside 0..{n_wires - 1}"),
        (reads_b & (b >= n_wires), lambda k: f"wire {b[k]} is outside 0..{n_wires - 1}"),
        (is_const & (a > 1), lambda k: f"EQ sets a constant: its input must be 0 or 1, not {a[k]}"),
    ]
    _first_problem(src, g_line, problems)
    order = np.argsort(out, kind="stable")
    dup = np.zeros(n, dtype=bool)
    dup[order[1:][out[order][1:] == out[order][:-1]]] = True
    _first_problem(src, g_line, [(dup, lambda k: f"wire {out[k]} is set twice")])
    out_raw = np.arange(n_wires - n_out, n_wires)
    if n_wires > n_in + n:
        # some ids are never set: renumber the ids in use densely, so memory follows the file
        # and not a header's (possibly huge) wire count
        used = np.unique(np.concatenate([out, a[reads_a], b[reads_b], out_raw]))
        used = used[used >= n_in]
        n_w = n_in + used.size

        def dense(w):
            d = np.where(w < n_in, w, n_in + np.searchsorted(used, w))
            return np.minimum(d, max(n_w - 1, 0))   # ids not in use are masked by the caller
    else:
        n_w = n_wires

        def dense(w):
            return w
    d_out, d_a = dense(out), dense(np.where(reads_a, a, 0))
    d_b = dense(np.maximum(b, 0))
    d_outs = dense(out_raw)
    set_at = np.full(n_w, n + 1, dtype=np.int64)   # gate index that sets each wire
    set_at[:n_in] = -1
    gate_idx = np.arange(n)
    set_at[d_out] = gate_idx

    def unset(w, k):
        return (f"wire {w[k]} is read but no gate sets it" if set_at[dense(w[k:k + 1])[0]] > n
                else f"wire {w[k]} is used before it is set")
    _first_problem(src, g_line, [
        (reads_a & (set_at[d_a] >= gate_idx), lambda k: unset(a, k)),
        (reads_b & (set_at[d_b] >= gate_idx), lambda k: unset(b, k)),
    ])
    missing = np.flatnonzero(set_at[d_outs] > n)
    if missing.size:
        j = int(missing[0])
        port = int(np.searchsorted(np.cumsum(out_w), j, side="right"))
        bit = j - (sum(out_w[:port]))
        raise src.error(out_line, f"output out{port + 1} bit {bit} is wire {int(out_raw[j])}, "
                        f"which no gate sets (the outputs are the last {n_out} of the "
                        f"{n_wires} wires)")

    # SSA numbering: inputs, then the non-alias gates in file order; EQW outputs alias their source
    alias = op == _EQW
    real = ~alias
    new = np.full(n_w, -1, dtype=np.int64)
    new[:n_in] = np.arange(n_in)
    new[d_out[real]] = n_in + np.arange(int(real.sum()))
    if alias.any():
        root = np.arange(n_w)
        root[d_out[alias]] = d_a[alias]
        while True:  # pointer jumping: chains of copies collapse in log(length) rounds
            nxt = root[root]
            if np.array_equal(nxt, root):
                break
            root = nxt
        new[d_out[alias]] = new[root[d_out[alias]]]
    r_op = op[real]
    ssa_op = np.select([r_op == _XOR, r_op == _AND, r_op == _INV, a[real] == 0],
                       [Op.XOR, Op.AND, Op.NOT, Op.CONST0], Op.CONST1).astype(np.uint8)
    in0 = np.where(r_op == _EQ, -1, new[d_a[real]])
    in1 = np.where(b[real] >= 0, new[d_b[real]], -1)
    inputs, pos = [], 0
    for i, w in enumerate(in_w):
        if w:       # an old Bristol Format file may give the second input no bits
            inputs.append(InputPort(GARBLER if i == 0 else EVALUATOR, f"in{i + 1}",
                                    bits_port_type(w), np.arange(pos, pos + w)))
        pos += w
    outputs, pos = [], 0
    for i, w in enumerate(out_w):
        outputs.append(OutputPort((GARBLER, EVALUATOR), f"out{i + 1}", bits_port_type(w),
                                  new[d_outs[pos:pos + w]]))
        pos += w
    return Circuit(n_in, ssa_op, in0, in1, inputs, outputs, src.name, (GARBLER, EVALUATOR))


def bristol_text(circuit: Circuit) -> str:
    """The circuit as Bristol Fashion text (port names, types and parties are not kept)."""
    return "".join(bristol_chunks(circuit))


# gates formatted at once: the text of a chunk, not of the whole circuit, is in memory (a
# 7M-gate circuit took 2 GB to write its 218 MB as one string)
CHUNK_GATES = 1 << 18


def bristol_chunks(circuit: Circuit) -> Iterator[str]:
    """:func:`bristol_text` in pieces: the header, then the gates a chunk at a time."""
    n_in, n = circuit.n_inputs, circuit.n_gates
    out_w = np.concatenate([o.wires for o in circuit.outputs]) if circuit.outputs else \
        np.zeros(0, dtype=np.int64)
    n_out = out_w.size
    if not circuit.outputs:
        raise InputError(f"circuit '{circuit.name}' has no outputs; Bristol Fashion needs one")
    # an output bit that is a gate wire named for the first time takes its final id directly;
    # inputs and repeats get an EQW copy so that the outputs are the last wires
    first_use = np.zeros(n_out, dtype=bool)
    _, idx = np.unique(out_w, return_index=True)
    first_use[idx] = True
    direct = first_use & (out_w >= n_in)
    n_copies = int(n_out - direct.sum())
    n_wires = n_in + n + n_copies
    base = n_wires - n_out
    wire = np.full(n_in + n, -1, dtype=np.int64)
    wire[:n_in] = np.arange(n_in)
    is_direct_gate = np.zeros(n_in + n, dtype=bool)
    is_direct_gate[out_w[direct]] = True
    others = np.flatnonzero(~is_direct_gate[n_in:]) + n_in
    wire[others] = n_in + np.arange(others.size)
    wire[out_w[direct]] = base + np.flatnonzero(direct)
    dst = wire[n_in:]
    a = np.where(circuit.in0 >= 0, wire[np.maximum(circuit.in0, 0)], -1)
    b = np.where(circuit.in1 >= 0, wire[np.maximum(circuit.in1, 0)], -1)
    fmt = {int(Op.XOR): "2 1 {0} {1} {2} XOR", int(Op.AND): "2 1 {0} {1} {2} AND",
           int(Op.NOT): "1 1 {0} {2} INV", int(Op.CONST0): "1 1 0 {2} EQ",
           int(Op.CONST1): "1 1 1 {2} EQ"}
    copies = np.flatnonzero(~direct)
    yield "\n".join([
        f"{n + copies.size} {n_wires}",
        " ".join([str(len(circuit.inputs))] + [str(p.width) for p in circuit.inputs]),
        " ".join([str(len(circuit.outputs))] + [str(o.width) for o in circuit.outputs]),
        "", ""])
    for s in range(0, n, CHUNK_GATES):
        e = s + CHUNK_GATES
        yield "".join([fmt[o].format(x, y, z) + "\n" for o, x, y, z in
                       zip(circuit.op[s:e].tolist(), a[s:e].tolist(), b[s:e].tolist(),
                           dst[s:e].tolist())])
    sources = wire[out_w[copies]].tolist()
    yield "".join([f"1 1 {s} {base + k} EQW\n" for s, k in zip(sources, copies.tolist())])


def write_bristol(circuit: Circuit, path_or_file: str | os.PathLike | IO) -> None:
    """Write ``circuit`` as Bristol Fashion to a path or an open text/binary file (a chunk
    of its text at a time)."""
    if isinstance(path_or_file, (str, os.PathLike)):
        with open(path_or_file, "w") as f:
            write_bristol(circuit, f)
        return
    text_file = isinstance(path_or_file, io.TextIOBase)
    for piece in bristol_chunks(circuit):
        path_or_file.write(piece if text_file else piece.encode())


def load_circuit(path: str | os.PathLike) -> Circuit:
    """A circuit from a native file (recognized by its magic bytes) or a Bristol Fashion file."""
    from .native import MAGIC, read_native
    try:
        with open(path, "rb") as f:
            head = f.read(len(MAGIC))
    except OSError as e:
        raise FormatError(f"{os.fspath(path)}: cannot read: {e.strerror or e}") from None
    if head == MAGIC:
        return read_native(path)
    return read_bristol(Path(path))
