"""The ``yaogc compile`` subcommand: a program to a circuit file, with optional statistics.

``yaogc compile PROG.yao [-D NAME=VALUE]... [-o OUT] [--format native|bristol|dot] [--stats]
[--json]``. Without ``-o`` the circuit goes next to the program (``.ygc``, ``.bristol`` or
``.dot``) unless only ``--stats`` is asked for. A Bristol Fashion file keeps no names or
parties, so a JSON sidecar ``OUT.json`` lists every port with its party or recipients, the
inputs flattened in declaration order (array elements in index order, bit 0 first).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from yaogc.circuits.circuit import Circuit

from .pipeline import compile_cached, parse_defines

_SUFFIX = {"native": ".ygc", "bristol": ".bristol", "dot": ".dot"}


def register(subparsers) -> None:
    p = subparsers.add_parser("compile", help="compile a .yao program to a circuit")
    p.add_argument("program", help="the program (.yao)")
    p.add_argument("-D", dest="define", action="append", metavar="NAME=VALUE", default=[],
                   help="override a const of the program, e.g. -D N=1000")
    p.add_argument("-o", "--output", metavar="OUT", help="where to write the circuit")
    p.add_argument("--format", choices=sorted(_SUFFIX), default=None,
                   help="circuit file format (default: native, or from OUT's suffix)")
    p.add_argument("--stats", action="store_true", help="print gate counts and ports")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: the statistics and the files written")
    p.add_argument("--no-cache", action="store_true",
                   help="compile afresh, neither reading nor writing the compiled-circuit "
                        "cache ($YAOGC_CACHE_DIR, default ~/.cache/yaogc)")
    add_max_gates(p)
    p.set_defaults(func=cmd_compile)


def add_max_gates(p) -> None:
    """The options of how a program is compiled: --max-gates and --strict."""
    p.add_argument("--max-gates", metavar="N", default=None,
                   help="stop with an error if the program unrolls to more than N gates "
                        "(default: $YAOGC_MAX_GATES, else as many as this machine's available "
                        "memory holds at 200 bytes per gate)")
    p.add_argument("--strict", action="store_true",
                   help="make the range analysis's warnings (an operation that may overflow "
                        "its type) errors")
    p.add_argument("--checked", action="store_true",
                   help="detect overflow inside the circuit: every operation that may "
                        "overflow is checked, and one hidden bit (revealed to every party "
                        "that gets an output) withholds all results when set (exit status 4)")


def print_warnings(warnings) -> None:
    """The range warnings on stderr, as a compiler prints them. Commands print them last,
    once they succeeded: an error's message stays the first line of stderr."""
    for w in warnings or ():
        print(w, file=sys.stderr)


def _format_for(args) -> str:
    if args.format:
        return args.format
    if args.output:
        suffix = Path(args.output).suffix.lower()
        for fmt, s in _SUFFIX.items():
            if suffix == s:
                return fmt
        if suffix in (".txt", ".bf"):
            return "bristol"
    return "native"


def sidecar(circuit: Circuit) -> dict:
    """Ports of a circuit for the JSON file next to a Bristol export."""
    inputs, pos = [], 0
    for p in circuit.inputs:
        inputs.append({"name": p.name, "party": p.party, "type": str(p.type), "width": p.width,
                       "first_wire": pos})
        pos += p.width
    outputs = [{"name": o.name, "recipients": list(o.recipients), "type": str(o.type),
                "width": o.width} for o in circuit.outputs]
    return {"name": circuit.name, "parties": list(circuit.parties), "inputs": inputs,
            "outputs": outputs}


def write_circuit(circuit: Circuit, path: Path, fmt: str) -> list[Path]:
    """Write ``circuit`` in ``fmt``; returns the files written."""
    if fmt == "native":
        from yaogc.circuits.native import write_native
        write_native(circuit, path)
        return [path]
    if fmt == "bristol":
        from yaogc.circuits.bristol import write_bristol
        write_bristol(circuit, path)
        side = path.with_name(path.name + ".json")
        side.write_text(json.dumps(sidecar(circuit), indent=2) + "\n")
        return [path, side]
    from yaogc.circuits.dot import to_dot
    path.write_text(to_dot(circuit))
    return [path]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _write_error(path: Path, e: OSError):
    from yaogc.circuits.errors import InputError
    return InputError(f"{path}: cannot write the circuit: {e.strerror or e}")


def phase_report(name: str, after: float = 1.0, quiet_after: float = 10.0):
    """A compile progress callback for stderr: one line per phase (phase, gates so far,
    elapsed) once the compile has taken longer than ``after`` seconds on a terminal, or
    ``quiet_after`` seconds when stderr is a file or pipe (a log is not cluttered by
    compiles that are merely slow)."""
    limit = after if sys.stderr.isatty() else quiet_after

    def report(phase: str, gates: int, seconds: float) -> None:
        if seconds >= limit:
            what = f", {gates:,} gates" if gates else ""
            print(f"{name}: {phase}{what}, {seconds:.1f} s", file=sys.stderr, flush=True)
    return report


def max_gates_of(args) -> int | None:
    from .pipeline import check_max_gates
    value = getattr(args, "max_gates", None)
    return None if value is None else check_max_gates(value)


def _not_a_circuit(path: str) -> None:
    """``compile`` takes a program: a circuit file (Bristol's first line is two counts, a
    native circuit's its magic) is named as such, not parsed as a program's text."""
    from yaogc.circuits.errors import InputError
    p = Path(path)
    if p.suffix == ".yao" or not p.is_file():
        return
    try:
        with open(p, "rb") as f:
            head = f.read(256)
    except OSError:
        return
    first = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].split()  # (a BOM too)
    if head.startswith(b"YAOGC") or len(first) == 2 and all(w.isdigit() for w in first):
        raise InputError(f"{path}: is a circuit, not a program: compile takes a .yao program "
                         f"(stats, eval and run read a circuit file directly)")


def cmd_compile(args) -> int:
    _not_a_circuit(args.program)
    circuit, info = compile_cached(args.program, parse_defines(args.define),
                                   use_cache=not args.no_cache,
                                   progress=phase_report(Path(args.program).name),
                                   max_gates=max_gates_of(args), strict=args.strict,
                                   checked=args.checked)
    fmt = _format_for(args)
    written: list[Path] = []
    if args.output or not args.stats:
        out = Path(args.output) if args.output else Path(args.program).with_suffix(_SUFFIX[fmt])
        for target in (out, out.with_name(out.name + ".json")) if fmt == "bristol" else (out,):
            if _same_file(target, Path(args.program)):
                from yaogc.circuits.errors import InputError
                raise InputError(f"{target}: is the program itself; the circuit would "
                                 f"overwrite it (give another -o FILE)")
        try:
            written = write_circuit(circuit, out, fmt)
        except OSError as e:
            raise _write_error(out, e) from None
    st = circuit.stats()
    if args.json:       # one JSON object: the statistics and the files written
        print(json.dumps({**st, "wrote": [str(p) for p in written],
                          "compile_seconds": round(info["compile_s"], 6),
                          "compile_cached": bool(info["cached"]),
                          "compile_waited": bool(info.get("waited", False))}))
    elif args.stats:
        print(circuit.describe())
    if written and not args.json:
        print(f"wrote {', '.join(str(p) for p in written)} ({st['and']} AND gates)")
    print_warnings(info["warnings"])
    return 0


def withhold(circuit) -> int:
    """Checked mode found an overflow: say so (then the range warnings that name where it
    may have happened), print no result, exit status 4."""
    from .checked import OverflowWithheld
    why = OverflowWithheld()
    print(why, file=sys.stderr)
    print_warnings(getattr(circuit, "warnings", ()))
    return why.exit_code
