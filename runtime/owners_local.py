"""Two compute servers and every data owner of a program as processes on this machine.

What the three-hospital ``yaogc demo``, the tests and ``benchmarks/owners.py`` use: the
garbling server, the evaluating server and one process per data owner, talking over loopback
TCP (or TLS) exactly as separately started ``yaogc serve`` and ``yaogc submit`` commands do.
Inputs are checked and the two-server circuit scheduled in the calling process before
anything starts (forked processes inherit the schedule). Security model:
:mod:`yaogc.runtime.servers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.errors import InputError
from yaogc.circuits.shares import shared_inputs

from . import handshake as hs
from . import sharing as sh
from .inputs import PartyInputs, party_inputs
from .local import PartyFailed, _context, _message, _reap, _result, run_in_child
from .net import check_timeout
from .owners import OwnerTLS, submit
from .protocol import plan
from .servers import serve


@dataclass
class OwnersRun:
    """Every process's outcome: a result, or the exception it ended with."""

    servers: dict[str, Any]      # role -> ServerResult or exception
    owners: dict[str, Any]       # party -> RunResult or exception

    def check(self) -> "OwnersRun":
        for r in list(self.servers.values()) + list(self.owners.values()):
            if isinstance(r, BaseException):
                raise r
        return self


def _worker(conn, fn, args, kw, report_ports: bool) -> None:
    if report_ports:
        kw = dict(kw, on_listening=lambda what, host, port: conn.send(("port", what, port)))
    run_in_child(conn, lambda: fn(*args, **kw))


def owner_inputs(circuit: Circuit, party: str, value: Any) -> PartyInputs:
    """One owner's checked inputs from a dict (one row), a list of dicts (a batch) or None."""
    if value is not None and not isinstance(value, (dict, list)):
        raise InputError(f"inputs of {party} must be a dict or a list of dicts")
    rows = value if isinstance(value, list) else None
    one = value if isinstance(value, dict) else None
    return party_inputs(circuit, party, one, rows, batch=rows is not None, source=party)


def run_owners_local(circuit: Circuit, inputs: dict[str, Any], *, timeout: float = 60.0,
                     tls: dict[str, Any] | None = None, start_method: str = "fork",
                     raise_errors: bool = True) -> OwnersRun:
    """Run both servers and every waited-for owner; returns every outcome.

    ``inputs``: party -> dict, list of dicts, or None (a party without inputs). ``tls``:
    None, or {"garbler": TLSConfig, "evaluator": TLSConfig, "owner_certs": {party: file},
    "owners": {party: OwnerTLS}}."""
    timeout = check_timeout(timeout)
    parties = sh.waited_for(circuit)
    own = {p: owner_inputs(circuit, p, inputs.get(p)) for p in parties}
    # schedule the two-server circuit once, here: both forked servers inherit it
    plan(shared_inputs(circuit), hs.Roles(*sh.SERVERS), 1)
    ctx = _context(start_method)
    procs, pipes = {}, {}

    def start(name, fn, args, kw, ports):
        rx, tx = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, name=f"yaogc-{name}", daemon=True,
                           args=(tx, fn, args, kw, ports))
        proc.start()
        tx.close()
        procs[name], pipes[name] = proc, rx

    def ports(name, n):
        got = {}
        while len(got) < n:
            msg = _message(pipes[name], timeout + 30)
            if msg is None or msg[0] != "port":
                return None, msg
            got[msg[1]] = msg[2]
        return got, None

    tls = tls or {}
    here = ("127.0.0.1", 0)
    common = {"timeout": timeout, "owner_certs": tls.get("owner_certs")}
    start("garbler", serve, (circuit, "garbler", here),
          dict(common, listen=here, tls=tls.get("garbler")), True)
    g_ports, failed = ports("garbler", 2)
    if g_ports is None:
        res = _result(failed, procs["garbler"], "garbler server")
        _reap(procs["garbler"])
        run = OwnersRun({"garbler": res}, {})
        return run.check() if raise_errors else run
    start("evaluator", serve, (circuit, "evaluator", here),
          dict(common, connect=("127.0.0.1", g_ports["link"]), tls=tls.get("evaluator")), True)
    e_ports, failed = ports("evaluator", 1)
    servers: dict[str, Any] = {}
    owners: dict[str, Any] = {}
    if e_ports is not None:
        for p in parties:
            owner_tls: OwnerTLS | None = (tls.get("owners") or {}).get(p)
            start(p, submit, (circuit, p, own[p]),
                  {"garbler": ("127.0.0.1", g_ports["owners"]),
                   "evaluator": ("127.0.0.1", e_ports["owners"]), "tls": owner_tls,
                   "timeout": timeout}, False)
    else:
        servers["evaluator"] = _result(failed, procs["evaluator"], "evaluator server")
    wait = 4 * timeout + 30
    for name in list(procs):
        if name in servers:
            continue
        res = _result(_message(pipes[name], wait), procs[name], name)
        (servers if name in sh.SERVERS else owners)[name] = res
    for proc in procs.values():
        _reap(proc)
    for p in parties:
        owners.setdefault(p, PartyFailed(f"{p} did not start: a server failed"))
    run = OwnersRun(servers, owners)
    return run.check() if raise_errors else run
