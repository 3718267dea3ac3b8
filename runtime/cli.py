"""The ``yaogc`` command line: compile, stats, eval, run, demo, certs.

Exit statuses for every subcommand: 0 success, 2 usage or bad input (program, file, value,
or work too large for the memory this process may take), 3 network, peer or protocol failure, 1 an internal error (a bug, reported as such).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from yaogc.circuits.errors import InputError, YaogcError

EXIT_OK, EXIT_BUG, EXIT_INPUT, EXIT_NETWORK = 0, 1, 2, 3


class UsageError(InputError):
    """A command-line argument that does not make sense."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # argparse's own errors: the error first (the first line of stderr says what is
        # wrong), then the usage; exit 2
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        self.print_usage(sys.stderr)
        raise SystemExit(EXIT_INPUT)


class StdoutError(YaogcError):
    """Standard output could not be written (a full disk, an I/O error): bad output, not a
    bug (exit status 2)."""


class _StdoutClosed(Exception):
    """The reader of standard output went away (a closed pipe: ``| head``)."""


# the most text handed to standard output's buffer at once (smaller than the buffer)
_CHUNK = 4096


class _GuardedStdout:
    """Standard output for one command: a failed write or flush becomes a
    :class:`StdoutError` naming it (a closed pipe :class:`_StdoutClosed`), never an
    internal error."""

    def __init__(self, stream, command: str):
        self._stream, self._command = stream, command

    def _failed(self, e: OSError | None):
        if isinstance(e, BrokenPipeError):
            raise _StdoutClosed() from None
        why = "it is closed" if e is None else e.strerror or e
        raise StdoutError(f"yaogc {self._command}: cannot write the results to standard "
                          f"output: {why}") from None

    def write(self, text):
        if self._stream is None:        # the process was started with it closed
            self._failed(None)
        try:
            if len(text) <= _CHUNK:
                return self._stream.write(text)
            # a large write goes past the buffer to one system call, whose short count
            # (a file size limit, a disk filling up) the text layer drops without a word;
            # through the buffer, the rest is written or the error raised
            for i in range(0, len(text), _CHUNK):
                self._stream.write(text[i:i + _CHUNK])
            return len(text)
        except OSError as e:
            self._failed(e)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if self._stream is None:
            return None
        try:
            return self._stream.flush()
        except OSError as e:
            self._failed(e)

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _QuietStderr:
    """Standard error for the process that is the command: a line that cannot be written (a
    full disk, a file size limit) is dropped, so that a status or progress line never stops
    the work; the exit status still tells how it ended."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except (OSError, ValueError):
            return len(text)

    def flush(self):
        try:
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


def check_environment() -> None:
    """Refuse a yaogc environment variable with a value that makes no sense (exit 2), before
    any work: ``YAOGC_MAX_MEMORY`` (a positive number of bytes) and ``YAOGC_ENGINE``."""
    if os.environ.get("YAOGC_MAX_MEMORY", "").strip():
        from yaogc.compiler.pipeline import memory_setting
        memory_setting()
    engine = os.environ.get("YAOGC_ENGINE")
    if engine is not None and engine.strip():
        from yaogc.gc.native import forced
        try:
            forced()
        except YaogcError as e:   # the engine's own message; a setting, so bad input
            raise UsageError(str(e)) from None


PROGRAM_WORDS = ("party", "from", "def", "const", "type")


def _program_text(p: Path) -> bool:
    """Whether a file not named .yao holds a program (``prog.txt``): its first line that is
    not blank or a comment starts with a declaration's word. A Bristol file starts with its
    gate count, a native circuit with its magic bytes."""
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    for line in head.removeprefix(b"\xef\xbb\xbf").splitlines():
        line = line.strip()
        if line and not line.startswith(b"#"):
            word = line.split(None, 1)[0]
            return word.decode("ascii", "replace") in PROGRAM_WORDS
    return False


def load_any(path: str, defines: Sequence[str] | None = None, *, use_cache: bool = True,
             quiet: bool = False, info: dict | None = None, max_gates: int | None = None,
             strict: bool = False, checked: bool = False, schedule_next: bool = False):
    """A Circuit from a program (.yao, compiled through the cache unless ``use_cache`` is
    False), a native circuit or a Bristol Fashion file. ``info`` receives
    ``compile_seconds``, ``cached`` and ``waited`` (another process compiled it meanwhile);
    long compiles report their phases on stderr unless
    ``quiet``. A program's range warnings are in ``circuit.warnings`` (the command prints
    them when it is done); ``strict`` makes them errors. ``schedule_next``: the caller
    schedules the circuit at once (see :func:`~yaogc.compiler.compile_cached`)."""
    import time
    t0 = time.perf_counter()
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{path}: is a directory, not a circuit or program file")
    if not p.exists():
        raise UsageError(f"{path}: no such file")
    if not p.is_file():
        raise UsageError(f"{path}: not a regular file")
    try:
        with open(p, "rb"):   # an unreadable file is bad input, whatever reads it next
            pass
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None
    if p.suffix.lower() == ".yao" or _program_text(p):
        from yaogc.compiler import compile_cached, parse_defines
        from yaogc.compiler.cli import phase_report
        circuit, got = compile_cached(str(p), parse_defines(defines or []), use_cache=use_cache,
                                      progress=None if quiet else phase_report(p.name),
                                      max_gates=max_gates, strict=strict, checked=checked,
                                      schedule_next=schedule_next)
        cached = got["cached"]
        waited = got.get("waited", False)
    else:
        if defines:
            raise UsageError(f"{path}: -D applies to programs (.yao) only")
        for flag, given in (("--checked", checked), ("--strict", strict)):
            if given:   # a circuit has no range warnings to check or make errors
                raise UsageError(f"{path}: {flag} applies to programs (.yao) only")
        if p.suffix.lower() == ".dot":
            raise UsageError(f"{path}: a DOT drawing (compile --format dot) is not read back: "
                             f"give the program, a native circuit or a Bristol file")
        from yaogc.circuits.bristol import load_circuit
        circuit, cached, waited = load_circuit(str(p)), False, False
        if max_gates is not None and circuit.n_gates > max_gates:
            raise UsageError(f"{path}: the circuit has {circuit.n_gates:,} gates, more than "
                             f"--max-gates {max_gates:,}")
    if info is not None:
        info["compile_seconds"] = round(time.perf_counter() - t0, 6)
        info["cached"] = cached
        info["waited"] = waited
    return circuit


def add_cache_flag(p) -> None:
    """--no-cache and --max-gates: how a subcommand compiles a program it is given."""
    p.add_argument("--no-cache", action="store_true",
                   help="compile the program afresh, neither reading nor writing the "
                        "compiled-circuit cache ($YAOGC_CACHE_DIR, default ~/.cache/yaogc)")
    from yaogc.compiler.cli import add_max_gates
    add_max_gates(p)


def add_table_flags(p) -> None:
    """--columns and --output: wide input files and results written back per record."""
    p.add_argument("--columns", action="append", metavar="INPUT=COL,COL,..",
                   help="the --inputs file's columns that hold an array input's elements, in "
                        "order (once per input); columns named x[0], x[1], .. map to x "
                        "without it; columns that are no input (an ID) are kept")
    p.add_argument("--output", metavar="FILE.csv|FILE.json",
                   help="write one row per record: the input file's kept columns, then the "
                        "outputs (array outputs as p[0], p[1], .. columns in CSV)")


def _max_gates(args) -> int | None:
    from yaogc.compiler.cli import max_gates_of
    return max_gates_of(args)


def parse_assignments(items: Sequence[str], circuit) -> dict[str, Any]:
    """``NAME=VALUE`` pairs -> {name: value}, parsed by each input port's type."""
    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")   # the value may hold '=' itself
        name = name.strip()
        if not sep or not name:
            shown = item if len(item) <= 60 else item[:57] + "..."
            raise UsageError(f"--input '{shown}': expected NAME=VALUE")
        try:
            port = circuit.input(name)
        except KeyError:
            raise UsageError(f"--input {name}: the circuit has no input '{name}' (inputs: "
                             f"{', '.join(p.name for p in circuit.inputs) or 'none'})") from None
        if name in values:
            raise UsageError(f"--input {name}: given twice")
        values[name] = port.type.parse(text, name)
    return values


def json_value(t, v):
    return t.to_json(v)


def outputs_json(circuit, outputs: dict[str, Any]) -> dict[str, Any]:
    return {o.name: json_value(o.type, outputs[o.name]) for o in circuit.outputs if o.name in outputs}


def format_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    return str(v)


def cmd_stats(args) -> int:
    circuit = load_any(args.file, args.define, use_cache=not args.no_cache,
                       max_gates=_max_gates(args), strict=args.strict, checked=args.checked)
    if args.optimized:
        from yaogc.circuits.passes import optimize
        circuit = optimize(circuit)
    print(json.dumps(circuit.stats()) if args.json else circuit.describe())
    from yaogc.compiler.cli import print_warnings
    print_warnings(getattr(circuit, "warnings", ()))
    return EXIT_OK


# rows read, encoded, evaluated and written per step of ``eval --inputs``: memory stays bounded
# whatever the file's length (a chunk's input and output bits within _CHUNK_BYTES)
CHUNK_ROWS = 65_536
_CHUNK_BYTES = 64 << 20
_SPOOL_BYTES = 16 << 20     # results held in memory up to this size, then in a temporary file


def _chunk_rows(circuit) -> int:
    per_row = max(1, circuit.n_inputs + sum(o.width for o in circuit.outputs))
    return max(64, min(CHUNK_ROWS, _CHUNK_BYTES // per_row // 64 * 64))


def cmd_eval(args) -> int:
    """Evaluate in plaintext. An input file is read, encoded, evaluated and its results
    formatted a chunk of rows at a time (bounded memory); the results are held (in memory, or
    a temporary file when large) until every row has been read and checked, so a bad row
    late in the file, or checked mode's overflow, prints no result at all."""
    import tempfile
    from yaogc.circuits.evaluate import decode_outputs, evaluate_bits
    circuit = load_any(args.file, args.define, use_cache=not args.no_cache,
                       max_gates=_max_gates(args), strict=args.strict, checked=args.checked)
    values = parse_assignments(args.input or [], circuit)
    if args.inputs:
        from .columns import stream_mapped
        head, plan, chunks = stream_mapped(circuit, args.inputs, args.columns, args.output,
                                           _chunk_rows(circuit))
        batch, kept_columns = head.batch, plan.kept_columns
    else:
        from .columns import read_mapped
        read_mapped(circuit, None, args.columns, args.output)   # --columns, --output checks
        head, batch, kept_columns, chunks = None, False, None, iter([(None, None)])
    from yaogc.compiler.checked import overflowed
    from yaogc.compiler.cli import print_warnings, withhold
    text = tempfile.SpooledTemporaryFile(_SPOOL_BYTES, mode="w+", encoding="utf-8")
    results = None
    if args.output:
        from .results import ResultsWriter
        results = ResultsWriter(args.output, circuit, kept_columns,
                                head.rows if head is not None and head.json else None)
    with text:
        try:
            overflow, done = False, 0
            for table, mapped in chunks:
                bits = _eval_rows(circuit, values, table, mapped)[0]
                if overflow:
                    continue        # every row is still read and checked
                outs = decode_outputs(circuit, evaluate_bits(circuit, bits))
                if overflowed(outs):
                    overflow = True
                    continue
                try:
                    if results is not None:
                        results.add(outs, mapped.kept if mapped else None)
                    _format_outputs(text, circuit, outs, batch, args.json, done)
                except OSError as e:     # the spooled results went to a full disk
                    raise UsageError(f"yaogc eval: cannot hold the results in a temporary "
                                     f"file ({tempfile.gettempdir()}): "
                                     f"{e.strerror or e}") from None
                done += len(outs)
            if overflow:
                return withhold(circuit)
            if args.json:
                text.write("]}\n" if batch else "}\n")
            if results is not None:
                results.finish()
        finally:
            if results is not None:
                results.close()
        text.seek(0)
        import shutil
        shutil.copyfileobj(text, sys.stdout, 1 << 20)
    print_warnings(getattr(circuit, "warnings", ()))
    return EXIT_OK


def _format_outputs(f, circuit, outs, batch: bool, as_json: bool, done: int) -> None:
    """One chunk of results as ``eval`` prints them; ``done`` rows were printed before it."""
    if as_json:
        got = [json.dumps(outputs_json(circuit, o)) for o in outs]
        if not done:
            f.write('{"outputs": [' if batch else '{"outputs": ')
        else:
            f.write(", ")
        f.write(", ".join(got))
        return
    lines = []
    shown = [o for o in circuit.outputs if o.name != "_overflow"]  # checked mode's bit: clear
    for i, out in enumerate(outs):
        prefix = f"[{done + i}] " if batch else ""
        for o in shown:
            lines.append(f"{prefix}{o.name} = {format_value(o.type.to_json(out[o.name]))}\n")
    f.write("".join(lines))


def _eval_rows(circuit, assigned: dict[str, Any], table, mapped):
    """All inputs of every party as (rows, inputs) bits, checked by the same rules as a run's
    (``--input`` values apply to every row of ``--inputs``); and whether it is a batch.
    ``table``/``mapped``: the input file (or a chunk of it) and its rows mapped onto inputs
    (or None)."""
    import numpy as np
    from .inputs import party_inputs
    file_rows = mapped.rows if mapped is not None else None
    batch = bool(table is not None and table.batch)
    owner = {p.name: p.party for p in circuit.inputs}
    k = len(file_rows) if file_rows else 1
    bits = np.zeros((k, circuit.n_inputs), dtype=np.uint8)
    for party in dict.fromkeys(p.party for p in circuit.inputs):
        mine = {n: v for n, v in assigned.items() if owner[n] == party}
        rows = [{n: v for n, v in row.items() if owner[n] == party} for row in file_rows] \
            if file_rows else None
        got = party_inputs(circuit, party, mine, rows, batch=batch,
                           source=table.where if table is not None else "",
                           unused=mapped.kept_columns if mapped is not None else (),
                           at=table.at if table is not None else None,
                           first_row=table.first if table is not None else 0)
        bits[:, got.wires] = got.bits
    return bits, batch


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="yaogc", description="Garbled-circuit compiler and two-party Yao runtime "
                     "(semi-honest security).")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    st = sub.add_parser("stats", help="gate counts and ports of a circuit or program")
    st.add_argument("file", help="Bristol (Fashion or the older Format), native circuit, "
                                 "or .yao program")
    st.add_argument("--json", action="store_true", help="print one JSON object")
    st.add_argument("--optimized", action="store_true", help="count after the circuit passes")
    st.add_argument("-D", dest="define", action="append", metavar="NAME=VALUE",
                    help="compile-time parameter (programs only)")
    add_cache_flag(st)
    st.set_defaults(func=cmd_stats)

    ev = sub.add_parser("eval", help="evaluate a circuit or program in plaintext")
    ev.add_argument("file")
    ev.add_argument("--input", action="append", metavar="NAME=VALUE",
                    help="an input value, once per input: integers in decimal, 0x-hex, "
                         "0b-binary or 0o-octal, '-' for signed types, '_' between digits; "
                         "bool as 0/1/true/false (any case); fixed-point as a decimal with "
                         "optional exponent (-1.25, 1e-3), rounded to the nearest multiple of "
                         "2**-F (ties to even) and refused if the rounded value does not fit; "
                         "arrays as [1,2,3], nested for more dimensions; tuples as (1,true) or "
                         "[1,true]. Bristol inputs are in1, in2, .. (wire j = bit j)")
    ev.add_argument("--inputs", metavar="FILE",
                    help="input values of every party from FILE.json (an object, or a list of "
                         "objects: one result per object) or FILE.csv (header of input names, "
                         "one row per record, one result per row); --input values apply to "
                         "every row")
    add_table_flags(ev)
    ev.add_argument("--json", action="store_true",
                    help='print {"outputs": {...}} ({"outputs": [...]} for a list of rows)')
    ev.add_argument("-D", dest="define", action="append", metavar="NAME=VALUE",
                    help="compile-time parameter (programs only)")
    add_cache_flag(ev)
    ev.set_defaults(func=cmd_eval)

    for module in ("yaogc.compiler.cli", "yaogc.runtime.cli_net", "yaogc.runtime.cli_owners",
                   "yaogc.runtime.cli_cache"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ImportError as e:
            if e.name != module:
                raise
            continue
        mod.register(sub)
    return parser


def _version() -> str:
    from yaogc import __version__
    return f"yaogc {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    own = argv is None      # the process is this command (not a caller's, passing its argv)
    if own:
        _own_process()
    try:
        if own:
            from yaogc.compiler import deep
            deep.FREEZE_SURVIVORS = True
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
    except KeyboardInterrupt as e:      # before the command started
        say(f"yaogc: {_stopped(e)}")
        return _finished(_stopped_status(e))
    if extra:   # named by the subcommand's parser: "yaogc eval: error: ...", its usage
        _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(extra)}")
    stdout = sys.stdout
    sys.stdout = _GuardedStdout(stdout, args.command)
    try:
        check_environment()
        code = int(args.func(args) or 0)
        sys.stdout.flush()     # a full disk is reported here, not at the interpreter's exit
        return _finished(code)
    except _StdoutClosed:
        _quiet_stdout(stdout)
        return _finished(EXIT_OK)
    except YaogcError as e:
        # the message's first line already says what is wrong and where (file:line:col, port,
        # party or protocol phase), so it is printed as it is
        say(str(e))
        return _finished(e.exit_code)
    except KeyboardInterrupt as e:
        say(f"yaogc {args.command}: {_stopped(e)}")
        return _finished(_stopped_status(e))
    except BrokenPipeError:
        _quiet_stdout(stdout)
        return _finished(EXIT_OK)
    except MemoryError as e:
        # the work outgrew what this process may take (the compile's limits and a batch's
        # estimate stop most such work first; a limit below the machine's can still be reached)
        from yaogc.compiler.pipeline import memory_headroom
        have, what = memory_headroom()
        detail = f" ({e})" if str(e) else ""
        say(f"yaogc {args.command}: out of memory{detail}: the work is too large for what "
            f"{what} now ({have / 1e9:.1f} GB); give smaller inputs or a smaller batch, or "
            f"set --max-gates (a program past it stops once it is lowered)")
        return _finished(EXIT_INPUT)
    except Exception as e:  # a bug in yaogc: say so; the traceback only on request
        say(f"yaogc {args.command}: internal error (a bug in yaogc, please report it): "
            f"{type(e).__name__}: {e}")
        if os.environ.get("YAOGC_DEBUG"):
            import traceback
            traceback.print_exc(file=sys.stderr)
        return _finished(EXIT_BUG)
    finally:
        if isinstance(sys.stdout, _GuardedStdout):
            sys.stdout = stdout


def say(text: str) -> None:
    """A line on standard error; one that cannot be written (a full disk, a closed pipe)
    is dropped: the exit status still tells."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread: the command stops as on Ctrl-C (its peer told,
    its temporary files removed) and says so, with exit status 143 (128 + SIGTERM)."""


def _on_sigterm(_signum, _frame):
    raise Terminated()


def _stopped(e: BaseException) -> str:
    return "terminated (SIGTERM)" if isinstance(e, Terminated) else "interrupted"


def _stopped_status(e: BaseException) -> int:
    return 143 if isinstance(e, Terminated) else 130


def _own_process() -> None:
    """The process is this command: SIGTERM stops it as Ctrl-C does, and a standard error
    it was started without (``2>&-``) or cannot write to is a sink, so that the work goes
    on (its messages are lost; the exit status still tells)."""
    import signal
    import threading
    global _own
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")
    elif not isinstance(sys.stderr, _QuietStderr):
        sys.stderr = _QuietStderr(sys.stderr)
    if threading.current_thread() is threading.main_thread():
        _own = True
        signal.signal(signal.SIGTERM, _on_sigterm)


_own = False    # the process is the command, its signal handlers this module's


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return action.choices[command]
    return parser


def _quiet_stdout(stdout) -> None:
    """The reader of standard output is gone: drop what is still buffered, so the
    interpreter's exit does not fail on it again (and print a traceback)."""
    try:
        fd = stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass


def _finished(code: int) -> int:
    """The command is done and has said how: a Ctrl-C from here to the process's exit
    (interpreter shutdown, writing the cache's last entry, freeing large arrays) must not
    turn its status into death by signal, or print a traceback from the shutdown, so SIGINT
    is ignored from now on (in the main thread, where handlers live); SIGTERM ends it at
    once, as it would any process, its temporary files removed."""
    import signal
    import threading
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if _own:
            signal.signal(signal.SIGTERM, _end_now)
    return code


def _end_now(_signum, _frame):
    """SIGTERM once the command is done (the process may be writing its last cache entry
    at exit): end at once, without the entries half written."""
    from yaogc.circuits import diskcache
    diskcache.abandon_writes()
    os._exit(143)


if __name__ == "__main__":
    sys.exit(main())
