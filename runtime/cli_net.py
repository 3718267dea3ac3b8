"""The networked subcommands of ``yaogc``: ``run`` (one party of a two-party run), ``demo``
(both parties locally) and ``certs`` (a key and self-signed certificate for TLS).

Security model: semi-honest by default. Each party learns only the outputs addressed to it,
provided both follow the protocol; TLS with pinned certificates keeps outsiders out. ``run
--malicious`` runs dual execution (``yaogc.runtime.dualex``): a deviating peer is detected,
up to one leaked bit.
"""

from __future__ import annotations

import argparse
import json
import sys

from yaogc.circuits.errors import InputError

from .net import check_timeout

SEMI_HONEST = ("Security model: semi-honest (honest-but-curious): each party learns only the "
               "outputs addressed to it if both follow the protocol; a party that deviates is "
               "not detected. Use TLS (--tls-cert/--tls-key/--peer-cert) to keep outsiders "
               "out; plain TCP is allowed only on loopback unless --insecure-plain-tcp, and "
               "then anyone on the path can read the results or impersonate the peer.")
MALICIOUS = ("With --malicious (both sides must give it): dual execution (Mohassel-Franklin "
             "2006, Huang-Katz-Evans 2012) with KOS15 OT extension: the circuit is garbled "
             "once by each side and the two results are compared before any is revealed. A "
             "peer that deviates is caught (exit 3, no output printed) or gets a correct "
             "result; it can learn at most one bit of the other's inputs (by whether the run "
             "aborts: selective failure), and is caught with probability at least 1/2 when "
             "it tries. A party's one row is applied to the peer's rows only with --max-batch "
             "(each row is an evaluation on that party's input). About twice the time and "
             "bytes of a semi-honest run (more where outputs go to one party only: one more "
             "OT per such output bit in each execution).")


def _positive_rows(text: str) -> int:
    try:
        k = int(text)
    except ValueError:
        k = 0
    if k < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number of rows, got "
                                         f"{text!r}")
    return k


def parse_endpoint(text: str, flag: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPv6]:PORT`` -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise InputError(f"{flag} {text}: expected HOST:PORT (port 0 picks a free port)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    p = int(port)
    if p > 65535:
        raise InputError(f"{flag} {text}: port {p} is outside 0..65535")
    if p == 0 and flag == "--connect":
        raise InputError(f"{flag} {text}: port 0 only makes sense with --listen; connect to the "
                         "port the other party printed as 'listening on HOST:PORT'")
    return host, p


def _party_of(items) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, sep, who = item.partition("=")
        if not sep or not name.strip() or not who.strip():
            raise InputError(f"--party-of {item}: expected INPUT=PARTY (e.g. in3=garbler)")
        out[name.strip()] = who.strip()
    return out


def _tls(args):
    given = [args.tls_cert, args.tls_key, args.peer_cert]
    if not any(given):
        return None
    if not all(given):
        raise InputError("TLS needs all three of --tls-cert, --tls-key and --peer-cert")
    from .tls import TLSConfig
    cfg = TLSConfig(args.tls_cert, args.tls_key, args.peer_cert)
    cfg.context(server_side=bool(args.listen))  # refuse unusable files before connecting
    return cfg


def _human_bytes(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _secs(s: float) -> str:
    return f"{s:.2f} s" if s >= 1 else f"{s * 1e3:.1f} ms"


def stats_line(st: dict) -> str:
    """The run summary: every phase the user waited for, each with its own time."""
    before = ""
    if "compile_seconds" in st:
        how = " (compiled by another process)" if st.get("compile_waited") else \
            " (cached)" if st.get("compile_cached") else ""
        before = f"compile {_secs(st['compile_seconds'])}{how}, "
    if "schedule_seconds" in st:
        before += f"schedule {_secs(st['schedule_seconds'])}, "
    # setup ends at the first table: a dual execution's second OT comes after it
    ot = (f", OT {_secs(st['ot_seconds'])} (both executions)" if st.get("mode") == "malicious"
          else f" (OT {_secs(st['ot_seconds'])})")
    return (f"{st['and_gates']} AND gates, sent {_human_bytes(st['bytes_sent'])}, received "
            f"{_human_bytes(st['bytes_received'])}; {before}setup "
            f"{_secs(st['setup_seconds'])}{ot}, garbled circuit "
            f"{_secs(st['gc_seconds'])}, total {_secs(st['total_seconds'])}; "
            + transport_line(st))


def transport_line(st: dict) -> str:
    """What protected the connection: the TLS version and the pinned peer's fingerprint."""
    if st.get("tls"):
        return (f"{st['tls']}, peer certificate SHA-256 "
                f"{st.get('peer_fingerprint') or 'unknown'}")
    return "plain TCP (not encrypted, peer not authenticated)"


def print_outputs(circuit, result, out=None, indent: str = "") -> None:
    """The outputs of a run as lines ``name = value`` on ``out`` (standard output as the
    command has it when called: the command's guarded stream)."""
    from .cli import format_value
    out = sys.stdout if out is None else out
    rows = result.outputs
    for i, row in enumerate(rows):
        prefix = f"{indent}[{i}] " if result.batch else indent
        for o in circuit.outputs:
            if o.name in row and o.name != "_overflow":   # checked mode's bit (clear here)
                print(f"{prefix}{o.name} = {format_value(o.type.to_json(row[o.name]))}", file=out)


def cmd_run(args) -> int:
    from .cli import EXIT_OK, load_any, parse_assignments
    from .handshake import assign_parties, resolve_roles, resolve_self
    from .inputs import party_inputs
    from .protocol import run_party

    if bool(args.listen) == bool(args.connect):
        raise InputError("give exactly one of --listen HOST:PORT and --connect HOST:PORT")
    check_timeout(args.timeout, "--timeout")
    from yaogc.circuits.schedule import use_disk_cache
    use_disk_cache(not args.no_cache)
    compiled: dict = {}
    from .cli import _max_gates
    circuit = load_any(args.file, args.define, use_cache=not args.no_cache, quiet=args.quiet,
                       info=compiled, max_gates=_max_gates(args), strict=args.strict,
                       checked=args.checked, schedule_next=True)
    roles = resolve_roles(circuit, args.garbler)
    circuit = assign_parties(circuit, _party_of(args.party_of), roles)
    role = resolve_self(roles, args.as_)
    party = roles.party_of(role)
    assigned = parse_assignments(args.input or [], circuit)
    from .columns import read_mapped
    table, mapped = read_mapped(circuit, args.inputs, args.columns, args.output)
    own = party_inputs(circuit, party, assigned, mapped.rows if mapped else None,
                       batch=bool(table and table.batch), source=args.inputs or "",
                       unused=mapped.kept_columns if mapped else ())
    tls = _tls(args)
    listen = parse_endpoint(args.listen, "--listen") if args.listen else None
    connect = parse_endpoint(args.connect, "--connect") if args.connect else None

    def on_listening(host: str, port: int) -> None:
        # --quiet: no such line, so on a failure the error is the first line; but a port the
        # system picked (--listen HOST:0) is still printed, the other party needs it
        if args.quiet and listen is not None and listen[1] != 0:
            return
        shown = f"[{host}]" if ":" in host else host
        print(f"listening on {shown}:{port}", file=sys.stderr, flush=True)

    def on_scheduled(seconds: float) -> None:
        if seconds >= (1.0 if sys.stderr.isatty() else 10.0) and not args.quiet:
            print(f"{circuit.name}: scheduled in {seconds:.1f} s", file=sys.stderr, flush=True)

    if args.workers is not None or args.scheduler is not None:
        if args.malicious:
            raise InputError("--malicious (dual execution) runs on one pair of processes; it "
                             "cannot be combined with --workers or --scheduler")
        return _run_sharded(args, circuit, role, party, roles, own, tls, listen, connect,
                            on_listening, compiled, mapped)
    faults = None
    if args.malicious:
        from .dualex import Faults
        faults = Faults.from_env()   # only with YAOGC_TESTING=1: the cheating-party tests
    res = run_party(circuit, role, own, listen=listen, connect=connect, tls=tls,
                    timeout=args.timeout, insecure_plain_tcp=args.insecure_plain_tcp,
                    garbler=roles.garbler, on_listening=on_listening,
                    progress=False if args.quiet else None, on_scheduled=on_scheduled,
                    engine=args.engine, malicious=args.malicious, max_batch=args.max_batch,
                    testing_faults=faults)
    return report(args, circuit, party, role, res, compiled, mapped, stats_line,
                  mode=" dual execution," if args.malicious else "")


def report(args, circuit, party: str, role: str, res, compiled: dict, mapped, summary,
           mode: str = "", **more) -> int:
    """Print a finished run: its outputs (or JSON with ``more``), then ``summary(stats)``;
    ``--output`` writes them to a file too."""
    from .cli import EXIT_OK
    res.stats["compile_seconds"] = compiled.get("compile_seconds", 0.0)
    res.stats["compile_cached"] = compiled.get("cached", False)
    res.stats["compile_waited"] = compiled.get("waited", False)
    from yaogc.compiler.checked import overflowed
    from yaogc.compiler.cli import print_warnings, withhold
    if overflowed(res.outputs or []):
        return withhold(circuit)
    if args.json:
        _write_results(args, circuit, res, mapped)
        print(json.dumps({"outputs": res.json_outputs(circuit), "stats": res.stats, **more}))
        print_warnings(getattr(circuit, "warnings", ()))
        return EXIT_OK
    if not res.outputs or not res.outputs[0]:
        print(f"no output of {circuit.name} is addressed to {party}", file=sys.stderr)
    _write_results(args, circuit, res, mapped)
    print_outputs(circuit, res)
    if not args.quiet:
        print(f"{party} ({role}):{mode} {summary(res.stats)}", file=sys.stderr)
    print_warnings(getattr(circuit, "warnings", ()))
    return EXIT_OK


def _write_results(args, circuit, res, mapped) -> None:
    if args.output:
        from .results import records, write_output
        write_output(args.output, circuit, records(circuit, res.outputs,
                                                   mapped.kept if mapped else None))


def quiet_dask() -> None:
    """Silence Dask's own log lines (a worker lost, a task failed, a scheduler gone, with
    tracebacks): they came before the run's messages, and every failure that matters reaches
    the user as yaogc's own error. Dask's logging setup gives some of its loggers
    (distributed.client) levels and handlers of their own, which the parent's level does not
    reach."""
    import logging
    import distributed  # noqa: F401  (sets up those loggers)
    for name in ["distributed", *logging.root.manager.loggerDict]:
        if name == "distributed" or name.startswith("distributed."):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _run_sharded(args, circuit, role, party, roles, own, tls, listen, connect, on_listening,
                 compiled, mapped) -> int:
    """``run --workers N``: the batch sharded over N worker pairs on this party's own Dask
    cluster (:mod:`yaogc.runtime.cluster`)."""
    from .cli import UsageError
    from .cluster import run_sharded
    from .shards import parse_endpoints
    quiet_dask()
    if args.workers is None:
        raise UsageError("--scheduler needs --workers N: the number of worker pairs (the "
                         "other party gives the same N)")
    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: give at least 1 worker pair")
    if args.retries < 0:
        raise UsageError(f"--retries {args.retries}: give 0 or more")
    endpoints = (parse_endpoints(args.worker_endpoints, args.workers)
                 if args.worker_endpoints else None)
    res = run_sharded(circuit, role, own, workers=args.workers, scheduler=args.scheduler,
                      listen=listen, connect=connect, endpoints=endpoints, tls=tls,
                      timeout=args.timeout, retries=args.retries,
                      insecure_plain_tcp=args.insecure_plain_tcp, garbler=roles.garbler,
                      engine=args.engine, on_listening=on_listening,
                      progress=False if args.quiet else None, max_batch=args.max_batch)
    return report(args, circuit, party, role, res, compiled, mapped, sharded_line,
                  shards=res.shards)


def sharded_line(st: dict) -> str:
    """The summary of a sharded run: shards, rows, rate, bytes, and where the time went."""
    from .progress import _si
    return (f"{st['shards']} worker pairs, {st['batch']} rows, {st['and_gates']} AND gates, "
            f"{_si(st['and_per_second'])} AND/s, sent {_human_bytes(st['bytes_sent'])}, "
            f"received {_human_bytes(st['bytes_received'])}; schedule "
            f"{_secs(st['schedule_seconds'])}, manifest {_secs(st['manifest_seconds'])}, "
            f"slowest shard {_secs(st['longest_shard_seconds'])}, coordinator "
            f"{_secs(st['coordinator_seconds'])}, total {_secs(st['total_seconds'])}; "
            + transport_line(st))


def cmd_demo(args) -> int:
    check_timeout(args.timeout, "--timeout")
    if args.example == "scoring":
        from .demo_scoring import run_scoring_demo
        return run_scoring_demo(json_out=args.json, timeout=args.timeout)
    from .demo import run_demo
    return run_demo(args.example, json_out=args.json, timeout=args.timeout)


def cmd_certs(args) -> int:
    from .cli import EXIT_OK
    from .tls import certificate_fingerprint, generate_certificate
    key, crt = generate_certificate(args.name, args.out, overwrite=args.force)
    print(key)
    print(crt)
    if not args.quiet:
        print(f"SHA-256 fingerprint of {crt.name}: {certificate_fingerprint(crt)}\n"
              f"Give {crt.name} to the other party (compare the fingerprint by phone); keep "
              f"{key.name} secret.", file=sys.stderr)
    return EXIT_OK


def register(sub) -> None:
    from .cli import add_cache_flag
    """Add ``run``, ``demo`` and ``certs`` to the ``yaogc`` subcommands."""
    fmt = argparse.RawDescriptionHelpFormatter
    run = sub.add_parser(
        "run", help="one party of a two-party garbled-circuit run over the network",
        formatter_class=fmt,
        description="Run one party of Yao's protocol: the garbler or the evaluator. Start one "
                    "side with --listen and the other with --connect; each gives only its own "
                    "inputs and learns only the outputs addressed to it.\n\n" + SEMI_HONEST
                    + "\n\n" + MALICIOUS,
        epilog="examples:\n"
               "  yaogc run aes_128.txt --as garbler --listen 127.0.0.1:7000 --input in1=0x0011..\n"
               "  yaogc run aes_128.txt --as evaluator --connect 127.0.0.1:7000 --input in2=0x..\n"
               "  yaogc run score.yao --as vendor --listen 0.0.0.0:7000 --workers 4 --inputs w.json\n"
               "  yaogc run score.yao --as clinic --connect vendor:7000 --workers 4 --inputs p.csv\n"
               "exit status: 0 success, 2 usage or bad input, 3 network, peer or protocol failure")
    run.add_argument("file", help="Bristol (Fashion or the older Format) or native circuit, "
                                  "or a .yao program")
    run.add_argument("--as", dest="as_", required=True, metavar="ROLE|PARTY",
                     help="garbler, evaluator, or a party the program declares")
    where = run.add_mutually_exclusive_group(required=True)
    where.add_argument("--listen", metavar="HOST:PORT",
                       help="wait for the peer here (port 0: pick one, printed on stderr)")
    where.add_argument("--connect", metavar="HOST:PORT", help="connect to the listening peer")
    run.add_argument("--input", action="append", metavar="NAME=VALUE",
                     help="one of this party's inputs (decimal or 0x-hex, bool, [1,2,3], "
                          "decimals for fixed-point); applies to every row of a batch; given "
                          "alone, against the peer's batch of K rows, to every one of the K")
    run.add_argument("--inputs", metavar="FILE", help="input values from FILE.json (an object, "
                     "or a list of objects: a batch) or FILE.csv (header of input names, one "
                     "row per instance)")
    run.add_argument("-D", dest="define", action="append", metavar="NAME=VALUE",
                     help="compile-time parameter (programs only; both sides must agree)")
    run.add_argument("--garbler", metavar="PARTY",
                     help="the party that garbles (default: the first the program declares)")
    run.add_argument("--party-of", action="append", metavar="INPUT=PARTY",
                     help="give an input to another party (Bristol files: in1 is the "
                          "garbler's, the others the evaluator's)")
    run.add_argument("--tls-cert", metavar="FILE", help="this party's certificate (PEM)")
    run.add_argument("--tls-key", metavar="FILE", help="this party's private key (PEM)")
    run.add_argument("--peer-cert", metavar="FILE", help="the peer's own certificate (PEM, exactly one), pinned by its "
                          "SHA-256 fingerprint")
    run.add_argument("--insecure-plain-tcp", action="store_true",
                     help="allow plain TCP to a non-loopback address: no encryption, no "
                          "authentication of the peer")
    run.add_argument("--malicious", action="store_true",
                     help="dual execution: detect a peer that deviates from the protocol (at "
                          "most one bit leaks to it); the peer must give --malicious too")
    run.add_argument("--max-batch", type=_positive_rows, metavar="K",
                     help="apply this party's one row to at most K rows of the peer (each "
                          "is an evaluation on this party's input, the peer learning its "
                          "outputs of each); default: any number, once only with --malicious")
    run.add_argument("--timeout", type=float, default=60.0, metavar="S",
                     help="give up when the peer is silent this long (default 60)")
    run.add_argument("--engine", choices=("auto", "numpy", "native"), default=None,
                     help="garbling engine of this party: the compiled AES-NI kernel (native), "
                          "numpy, or the cheaper for the workload (auto, the default; "
                          "$YAOGC_ENGINE when not given); the peer chooses its own")
    run.add_argument("--quiet", action="store_true",
                     help="no progress line or statistics, and no 'listening on' line "
                          "unless --listen picks a free port (port 0)")
    from .cli import add_table_flags
    add_table_flags(run)
    shard = run.add_argument_group(
        "sharded runs (pip install 'yaogc[cluster]')",
        "Split the batch over N worker pairs: this party's own Dask cluster runs N sessions "
        "with the other party's cluster, worker i with worker i. The coordinators meet at "
        "--listen/--connect HOST:PORT; the listening party's workers accept on the N ports "
        "after PORT (any free ports for port 0) unless --worker-endpoints lists them.")
    shard.add_argument("--workers", type=int, metavar="N",
                       help="worker pairs (both parties give the same N); without "
                            "--scheduler, a local Dask cluster of N worker processes")
    shard.add_argument("--scheduler", metavar="ADDRESS",
                       help="use this party's existing Dask cluster (tcp://HOST:PORT)")
    shard.add_argument("--worker-endpoints", metavar="HOST:PORT,..",
                       help="N endpoints: where the listening party's workers accept, or "
                            "where the connecting party's workers connect")
    shard.add_argument("--retries", type=int, default=0, metavar="K",
                       help="rerun a failed shard up to K times, with fresh keys (both "
                            "parties give the same K; default 0)")
    add_cache_flag(run)
    run.add_argument("--json", action="store_true",
                     help='print {"outputs": ..., "stats": ...} (outputs: a list for a batch)')
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="a built-in example, every party as a local process",
                          description="Run a built-in example with every party as a separate "
                          "process over loopback TCP, printing what each learned and the "
                          "run's statistics.\n\n" + SEMI_HONEST, formatter_class=fmt)
    demo.add_argument("example", nargs="?", choices=("stats", "scoring", "three-hospitals"),
                      default="stats",
                      help="stats: two hospitals' joint mean and variance (default); scoring: "
                           "a model holder's logistic regression scores a hospital's 569 "
                           "records (needs yaogc[ml]); three-hospitals: three hospitals as "
                           "data owners of two compute servers (yaogc serve / submit), twelve "
                           "readings each, the mean and variance to all three")
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.add_argument("--timeout", type=float, default=60.0, metavar="S")
    demo.set_defaults(func=cmd_demo)

    certs = sub.add_parser("certs", help="generate a key and self-signed certificate for TLS",
                           description="Write NAME.key (ECDSA P-256, mode 0600) and a "
                           "self-signed NAME.crt (PEM) and print their paths. Give NAME.crt to "
                           "the other party, who pins it with --peer-cert.")
    certs.add_argument("name", help="the party's name (file names NAME.key, NAME.crt)")
    certs.add_argument("--out", default=".", metavar="DIR", help="directory (default .)")
    certs.add_argument("--force", action="store_true", help="overwrite existing files")
    certs.add_argument("--quiet", action="store_true", help="print only the two paths")
    certs.set_defaults(func=cmd_certs)
