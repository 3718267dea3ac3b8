"""The data-owner subcommands of ``yaogc``: ``serve`` (one of the two compute servers) and
``submit`` (one data owner's inputs, and the outputs addressed to it).

Security model: semi-honest servers that do not collude (see :mod:`yaogc.runtime.servers`).
"""

from __future__ import annotations

import argparse
import json
import sys

from yaogc.circuits.errors import InputError

from .cli_net import parse_endpoint, print_outputs
from .net import check_timeout

MODEL = ("Security model: two compute servers, semi-honest and not colluding: each sees only "
         "random shares of the owners' inputs and random halves of the outputs, so neither "
         "learns any input or output; each owner learns only the outputs addressed to it. Two "
         "colluding servers learn everything; a party that deviates from the protocol is not "
         "detected. Use TLS to keep outsiders out and to bind each owner to its party name; "
         "plain TCP is allowed only on loopback unless --insecure-plain-tcp.")


def _load(args):
    from .cli import _max_gates, load_any
    from yaogc.circuits.schedule import use_disk_cache
    use_disk_cache(not args.no_cache)
    return load_any(args.file, args.define, use_cache=not args.no_cache, quiet=True,
                    max_gates=_max_gates(args), strict=args.strict, checked=args.checked)


def _owner_certs(items) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        party, sep, path = item.partition("=")
        if not sep or not party.strip() or not path.strip():
            raise InputError(f"--owner-cert {item}: expected PARTY=FILE")
        if party.strip() in out:
            raise InputError(f"--owner-cert {party.strip()}: given twice")
        out[party.strip()] = path.strip()
    return out


def _human(n: int) -> str:
    from .cli_net import _human_bytes
    return _human_bytes(n)


def cmd_serve(args) -> int:
    from .servers import serve
    from .tls import TLSConfig
    if bool(args.listen) == bool(args.connect):
        raise InputError("give exactly one of --listen HOST:PORT and --connect HOST:PORT "
                         "(the link to the other server)")
    check_timeout(args.timeout, "--timeout")
    owners = parse_endpoint(args.owners, "--owners")
    listen = parse_endpoint(args.listen, "--listen") if args.listen else None
    connect = parse_endpoint(args.connect, "--connect") if args.connect else None
    given = [args.tls_cert, args.tls_key, args.peer_cert]
    if any(given) and not all(given):
        raise InputError("TLS needs all three of --tls-cert, --tls-key and --peer-cert")
    tls = TLSConfig(args.tls_cert, args.tls_key, args.peer_cert) if all(given) else None
    if tls is not None:
        tls.context(server_side=bool(listen))     # refuse unusable files before listening
    circuit = _load(args)
    who = f"{args.role} server"

    def on_listening(what: str, host: str, port: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        label = "owners" if what == "owners" else "link"
        print(f"{who}: {label}: listening on {shown}:{port}", file=sys.stderr, flush=True)

    def log(msg: str) -> None:
        if args.verbose:
            print(f"{who}: {msg}", file=sys.stderr, flush=True)

    res = serve(circuit, args.role, owners, listen=listen, connect=connect, tls=tls,
                owner_certs=_owner_certs(args.owner_cert), timeout=args.timeout,
                insecure_plain_tcp=args.insecure_plain_tcp, on_listening=on_listening, log=log)
    st = res.stats
    from yaogc.compiler.cli import print_warnings
    if args.json or args.quiet:
        if args.json:
            print(json.dumps({"role": args.role, "program": circuit.name, **st}))
        print_warnings(getattr(circuit, "warnings", ()))
        return 0
    owner_in = sum(v["received"] for v in st["owner_bytes"].values())
    owner_out = sum(v["sent"] for v in st["owner_bytes"].values())
    # the statistics line goes to stderr, as yaogc run's and submit's do
    print(f"{who}: {circuit.name} for {len(st['parties'])} owners ({', '.join(st['parties'])}), "
          f"{st['batch']} row{'s' if st['batch'] != 1 else ''}, {st['and_gates']} AND gates; "
          f"link sent {_human(st['link_bytes_sent'])}, received "
          f"{_human(st['link_bytes_received'])}; owners sent {_human(owner_in)} here, "
          f"received {_human(owner_out)}; waited {st['waiting_seconds']:.2f} s, computed "
          f"{st['compute_seconds']:.2f} s, total {st['total_seconds']:.2f} s; "
          + ("TLS" if st.get("tls") else "plain TCP"), file=sys.stderr)
    print_warnings(getattr(circuit, "warnings", ()))
    return 0


def cmd_submit(args) -> int:
    from .cli import parse_assignments
    from .inputs import party_inputs
    from .owners import OwnerTLS, submit
    check_timeout(args.timeout, "--timeout")
    garbler = parse_endpoint(args.garbler, "--garbler")
    evaluator = parse_endpoint(args.evaluator, "--evaluator")
    for flag, (host, port) in (("--garbler", garbler), ("--evaluator", evaluator)):
        if port == 0:
            raise InputError(f"{flag} {host}:0: give the port the server printed as "
                             "'owners: listening on HOST:PORT'")
    given = [args.tls_cert, args.tls_key, args.garbler_cert, args.evaluator_cert]
    if any(given) and not all(given):
        raise InputError("TLS needs all four of --tls-cert, --tls-key, --garbler-cert and "
                         "--evaluator-cert")
    tls = OwnerTLS(*given) if all(given) else None
    if tls is not None:
        for role in ("garbler", "evaluator"):
            tls.config(role).context(server_side=False)   # refuse unusable files at once
    circuit = _load(args)
    if args.as_ not in circuit.parties:
        raise InputError(f"--as {args.as_}: not a party of {circuit.name} (parties: "
                         f"{', '.join(circuit.parties)})")
    assigned = parse_assignments(args.input or [], circuit)
    # read and mapped as run and eval read theirs (a JSON true is no number, a bad cell is
    # named by file and row)
    from .columns import read_mapped
    table, mapped = read_mapped(circuit, args.inputs, None)
    own = party_inputs(circuit, args.as_, assigned, mapped.rows if mapped else None,
                       batch=bool(table and table.batch), source=args.inputs or "",
                       unused=mapped.kept_columns if mapped else ())
    res = submit(circuit, args.as_, own, garbler=garbler, evaluator=evaluator, tls=tls,
                 timeout=args.timeout, insecure_plain_tcp=args.insecure_plain_tcp)
    from yaogc.compiler.checked import overflowed
    from yaogc.compiler.cli import print_warnings, withhold
    if overflowed(res.outputs or []):
        return withhold(circuit)
    if args.json:
        print(json.dumps({"outputs": res.json_outputs(circuit)}))
        print_warnings(getattr(circuit, "warnings", ()))
        return 0
    if not res.outputs or not res.outputs[0]:      # on stderr, as yaogc run says it
        print(f"no output of {circuit.name} is addressed to {args.as_}", file=sys.stderr)
    print_outputs(circuit, res)
    if not args.quiet:
        st = res.stats
        print(f"{args.as_}: sent {_human(st['bytes_sent'])}, received "
              f"{_human(st['bytes_received'])}, {st['total_seconds']:.2f} s; "
              + (st["tls"] or "plain TCP"), file=sys.stderr)
    print_warnings(getattr(circuit, "warnings", ()))
    return 0


def _common(p) -> None:
    from .cli import add_cache_flag
    p.add_argument("file", help="the .yao program (every server and owner uses the same)")
    p.add_argument("-D", dest="define", action="append", metavar="NAME=VALUE",
                   help="compile-time parameter (everyone must give the same)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S",
                   help="give up after this many seconds of waiting (default 60)")
    p.add_argument("--tls-cert", metavar="FILE", help="this side's certificate (PEM)")
    p.add_argument("--tls-key", metavar="FILE", help="this side's private key (PEM)")
    p.add_argument("--insecure-plain-tcp", action="store_true",
                   help="allow plain TCP to a non-loopback address: no encryption, no "
                        "authentication")
    p.add_argument("--quiet", action="store_true", help="no statistics line on stderr")
    add_cache_flag(p)


def register(sub) -> None:
    """Add ``serve`` and ``submit`` to the ``yaogc`` subcommands."""
    fmt = argparse.RawDescriptionHelpFormatter
    sv = sub.add_parser(
        "serve", help="one of the two compute servers for a program of several data owners",
        formatter_class=fmt,
        description="Run one of the two compute servers (--role garbler or evaluator) of a "
                    "program whose parties are data owners: accept the owners' input shares "
                    "on --owners, link to the other server (--listen / --connect), wait for "
                    "every owner (up to --timeout), run Yao's protocol on the shares with the "
                    "other server, and send each owner this server's half of its outputs.\n\n"
                    + MODEL,
        epilog="example (three hospitals; see the README):\n"
               "  yaogc serve hospitals.yao --role garbler --owners 127.0.0.1:7001 "
               "--listen 127.0.0.1:7000\n"
               "  yaogc serve hospitals.yao --role evaluator --owners 127.0.0.1:7002 "
               "--connect 127.0.0.1:7000\n"
               "exit status: 0 success, 2 usage or bad input, 3 network, owner or protocol "
               "failure")
    sv.add_argument("--role", required=True, choices=("garbler", "evaluator"))
    sv.add_argument("--owners", required=True, metavar="HOST:PORT",
                    help="where data owners connect (port 0: pick one, printed on stderr)")
    link = sv.add_mutually_exclusive_group(required=True)
    link.add_argument("--listen", metavar="HOST:PORT", help="wait for the other server here")
    link.add_argument("--connect", metavar="HOST:PORT", help="connect to the other server")
    sv.add_argument("--peer-cert", metavar="FILE", help="the other server's certificate (PEM), "
                    "pinned")
    sv.add_argument("--owner-cert", action="append", metavar="PARTY=FILE",
                    help="with TLS, the certificate pinned for each data owner (once per party)")
    sv.add_argument("--json", action="store_true", help="print a JSON summary: parties seen, "
                    "AND gates, bytes, times")
    sv.add_argument("--verbose", action="store_true", help="report each owner's admission or "
                    "refusal, and the start of the computation, on stderr")
    _common(sv)
    sv.set_defaults(func=cmd_serve)

    sb = sub.add_parser(
        "submit", help="one data owner: send input shares to the two servers, get its outputs",
        formatter_class=fmt,
        description="Send this party's inputs, as random XOR shares, to the two compute "
                    "servers and print the outputs addressed to it (as 'yaogc run' prints "
                    "them). A party without inputs submits too, to receive its outputs.\n\n"
                    + MODEL,
        epilog="example:\n"
               "  yaogc submit hospitals.yao --as north --garbler 127.0.0.1:7001 "
               "--evaluator 127.0.0.1:7002 --inputs north.json\n"
               "exit status: 0 success, 2 usage or bad input, 3 network, server or protocol "
               "failure")
    sb.add_argument("--as", dest="as_", required=True, metavar="PARTY",
                    help="the party this owner is")
    sb.add_argument("--garbler", required=True, metavar="HOST:PORT",
                    help="the garbling server's --owners address")
    sb.add_argument("--evaluator", required=True, metavar="HOST:PORT",
                    help="the evaluating server's --owners address")
    sb.add_argument("--input", action="append", metavar="NAME=VALUE",
                    help="one of this party's inputs; applies to every row of a batch")
    sb.add_argument("--inputs", metavar="FILE", help="this party's input values from FILE.json "
                    "or FILE.csv, as for 'yaogc run' (several rows: a batch)")
    sb.add_argument("--garbler-cert", metavar="FILE", help="the garbling server's certificate")
    sb.add_argument("--evaluator-cert", metavar="FILE",
                    help="the evaluating server's certificate")
    sb.add_argument("--json", action="store_true", help='print {"outputs": ...}')
    _common(sb)
    sb.set_defaults(func=cmd_submit)
