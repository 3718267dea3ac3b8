"""Both parties of a run on one machine: two processes talking over loopback TCP (or TLS).

This is what ``yaogc demo``, the tests and the benchmarks use. Each party runs in its own
process (forked where the platform allows, so the parsed circuit and its cached Schedule are
inherited rather than rebuilt), the garbler listens on an ephemeral port of 127.0.0.1 and the
evaluator connects to it. Inputs are checked in the calling process before either starts.
Semi-honest model by default (see ``yaogc.runtime.protocol``); ``malicious=True`` runs dual
execution (``yaogc.runtime.dualex``).
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.errors import YaogcError

from .errors import NetworkError
from .net import check_timeout
from .protocol import RunResult, prepare, run_party


class PartyFailed(NetworkError):
    """A party process died without reporting (killed, or crashed outside yaogc)."""


@dataclass
class LocalRun:
    """Both parties' outcomes: a RunResult, or the exception that party ended with."""

    garbler: RunResult | BaseException
    evaluator: RunResult | BaseException

    def check(self) -> "LocalRun":
        """Raise the first party's error, if any (the garbler's first)."""
        for r in (self.garbler, self.evaluator):
            if isinstance(r, BaseException):
                raise r
        return self


def _context(method: str):
    try:
        return mp.get_context(method)
    except ValueError:
        return mp.get_context("spawn")


def _party(conn, circuit, who, inputs, kw, hook) -> None:
    if "listen" in kw:
        kw = dict(kw, on_listening=lambda host, port: conn.send(("port", port)))
    run_in_child(conn, lambda: run_party(circuit, who, inputs, on_phase=hook, **kw))


def run_in_child(conn, call: Callable[[], Any]) -> None:
    """In a child process: run ``call`` and send its outcome to the parent through ``conn``:
    ("ok", result), ("error", a yaogc error) or ("bug", the trace of anything else)."""
    try:
        conn.send(("ok", call()))
    except YaogcError as e:
        conn.send(("error", e))
    except BaseException as e:  # noqa: BLE001 - a bug: carried to the parent with its trace
        conn.send(("bug", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))
    finally:
        conn.close()


def _message(conn, wait: float):
    if conn.poll(wait):
        try:
            return conn.recv()
        except EOFError:
            pass
    return None


def _result(msg, proc, who: str) -> RunResult | BaseException:
    if msg is not None and msg[0] in ("ok", "error"):
        return msg[1]
    if msg is not None and msg[0] == "bug":
        return RuntimeError(f"{who} process failed: {msg[1]}")
    proc.join(5)
    return PartyFailed(f"the {who} process ended without a result (exit code {proc.exitcode})")


def _faults(faults: dict, role: str) -> dict:
    return {"testing_faults": faults[role]} if faults.get(role) is not None else {}


def _reap(proc) -> None:
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()


def run_local(circuit: Circuit, garbler_inputs: Any = None, evaluator_inputs: Any = None, *,
              garbler: str | None = None, tls: tuple | None = None, timeout: float = 60.0,
              on_phase: dict[str, Callable[[str], None]] | None = None,
              raise_errors: bool = True, start_method: str = "fork",
              engine: str | None = None, malicious: bool = False,
              testing_faults: dict | None = None) -> LocalRun:
    """Run both parties in two processes over loopback; returns both RunResults.

    ``*_inputs``: one dict of name -> value or a list of dicts (a batch), as for
    :func:`yaogc.runtime.protocol.run_party`. ``tls``: (garbler TLSConfig, evaluator
    TLSConfig) or None for plain TCP. ``on_phase``: per role, a callback run in that party's
    process at the start of each phase (the fault tests use it). With ``raise_errors=False``
    a failed party's exception is returned in its place.

    ``start_method``: "fork" (default) shares the parent's parsed and scheduled circuit with
    both children; "forkserver" or "spawn" start them from clean processes that schedule the
    circuit themselves before connecting, as two separately started ``yaogc run`` commands
    do. Forked children first write to memory they share with the parent copy-on-write, which
    costs them about 3 ms on their first AND layer of AES-128; the benchmarks use "forkserver"
    so their figures are what two independent processes get. ``on_phase`` hooks need "fork".

    ``malicious``: dual execution (both parties garble and evaluate, see
    :mod:`yaogc.runtime.dualex`); ``testing_faults``: per role, a ``dualex.Faults`` that
    makes that party deviate (the tests of cheating detection).
    """
    on_phase = on_phase or {}
    timeout = check_timeout(timeout)
    # check both sides' inputs here, and schedule the circuit once for both children
    _, _, g_in = prepare(circuit, "garbler", garbler_inputs, garbler=garbler)
    _, _, e_in = prepare(circuit, "evaluator", evaluator_inputs, garbler=garbler)
    ctx = _context(start_method)
    g_tls, e_tls = tls if tls is not None else (None, None)
    common = {"timeout": timeout, "garbler": garbler, "engine": engine}
    if malicious:
        common["malicious"] = True
    faults = testing_faults or {}
    g_rx, g_tx = ctx.Pipe(duplex=False)
    g_proc = ctx.Process(target=_party, name="yaogc-garbler", daemon=True,
                         args=(g_tx, circuit, "garbler", g_in,
                               dict(common, listen=("127.0.0.1", 0), tls=g_tls,
                                    **_faults(faults, "garbler")),
                               on_phase.get("garbler")))
    g_proc.start()
    g_tx.close()
    first = _message(g_rx, timeout + 30)
    if first is None or first[0] != "port":
        g_res = _result(first, g_proc, "garbler")
        _reap(g_proc)
        run = LocalRun(g_res, PartyFailed("the evaluator did not start: the garbler failed"))
        return run.check() if raise_errors else run
    port = first[1]
    e_rx, e_tx = ctx.Pipe(duplex=False)
    e_proc = ctx.Process(target=_party, name="yaogc-evaluator", daemon=True,
                         args=(e_tx, circuit, "evaluator", e_in,
                               dict(common, connect=("127.0.0.1", port), tls=e_tls,
                                    **_faults(faults, "evaluator")),
                               on_phase.get("evaluator")))
    e_proc.start()
    e_tx.close()
    wait = 4 * timeout + 30
    e_res = _result(_message(e_rx, wait), e_proc, "evaluator")
    g_res = _result(_message(g_rx, wait), g_proc, "garbler")
    _reap(e_proc)
    _reap(g_proc)
    run = LocalRun(g_res, e_res)
    return run.check() if raise_errors else run
