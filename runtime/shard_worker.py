"""One shard of a sharded run, as a task on a Dask worker of one party's own cluster.

The task runs one ordinary two-party session (:func:`yaogc.runtime.protocol.run_party`:
handshake, base OTs, a fresh offset R and tweaks, its own TLS connection) on its shard's rows
with the other party's worker for the same shard, and tells its coordinator what it is doing
through Dask's event log (topic ``yaogc-<run id>``): the endpoint it listens on, and each
protocol phase as it starts. It never raises for a failed session: it returns the phase and
the message, so the coordinator can name them (a worker that dies returns nothing, and Dask
reports that instead). Semi-honest model, as for every run.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable

from yaogc.circuits.errors import YaogcError

from .net import STOP_POLL_S
from .shards import WILDCARDS


@dataclass
class ShardTask:
    """Everything one shard's worker needs; pickled to the worker by Dask."""

    run: str                 # run id: the event topic
    shard: int
    attempt: int
    role: str                # garbler or evaluator
    garbler: str             # the garbling party's name
    inputs: Any              # this party's PartyInputs for the shard's rows (or None)
    listen: tuple[str, int] | None = None
    connect: tuple[str, int] | None = None
    tls: Any = None          # a TLSConfig (its files must be readable on the worker)
    timeout: float = 60.0
    insecure_plain_tcp: bool = False
    engine: str | None = None
    on_phase: Callable[[int, str], None] | None = None   # (shard, phase), on the worker


def _worker():
    try:
        from distributed import get_worker
        return get_worker()
    except (ImportError, ValueError):   # not inside a Dask worker: no events
        return None


def stop_event_name(run: str) -> str:
    """The Dask ``Event`` a coordinator sets when it gives run ``run`` up."""
    return f"yaogc-stop-{run}"


def _stop_asker(run: str, every: float = STOP_POLL_S):
    """``stop()`` for :func:`run_party`: whether this run's coordinator gave it up, asked of
    the scheduler at most every ``every`` seconds. A shard still waiting for its peer worker
    ends then, not at the end of its timeout (the worker's thread is free for the next run)."""
    try:
        from distributed import Event, get_client
        # the client of the worker running this task, found now: the task's thread state
        # names the worker only while the task starts
        event = Event(stop_event_name(run), client=get_client())
    except (ImportError, ValueError):   # not inside a Dask worker: nobody can stop it
        return None
    last = [0.0]

    def stop() -> str | None:
        now = time.monotonic()
        if now - last[0] < every:
            return None
        last[0] = now
        # a worker in the coordinator's own process shares its client, which closes with
        # the cluster: nobody is left to wait for then
        if getattr(event.client, "status", "closed") in ("closing", "closed"):
            return "the cluster's client closed"
        try:
            return "the coordinator gave the run up" if event.is_set() else None
        except Exception:   # noqa: BLE001 - the scheduler unreachable: the timeout holds
            return None
    return stop


def _host_of(address: str) -> str:
    """The host of a Dask worker address (``tcp://10.0.0.5:40123`` -> ``10.0.0.5``)."""
    rest = address.split("://", 1)[-1]
    host = rest.rsplit(":", 1)[0] if ":" in rest else rest.split("/", 1)[0]
    return host.strip("[]") or "127.0.0.1"


def run_shard(task: ShardTask, shipped: tuple) -> dict[str, Any]:
    """Run one shard's session; returns ``ok``, and the outputs and stats or the phase and
    error, with this worker's wall and CPU time for the session.

    ``shipped``: the circuit and the Schedules the coordinator made for it (sent once to
    each worker), so no worker schedules the circuit again."""
    from yaogc.circuits.schedule import adopt_schedules
    from .protocol import run_party
    circuit, schedules = shipped
    adopt_schedules(circuit, schedules)
    worker = _worker()
    address = getattr(worker, "address", "") if worker is not None else ""
    topic = f"yaogc-{task.run}"
    state = {"phase": "connect"}

    def tell(kind: str, **what) -> None:
        if worker is not None:
            worker.log_event(topic, dict(what, kind=kind, shard=task.shard,
                                         attempt=task.attempt, worker=address))

    def on_phase(phase: str) -> None:
        state["phase"] = phase
        tell("phase", phase=phase)
        if task.on_phase is not None:
            task.on_phase(task.shard, phase)

    def on_listening(host: str, port: int) -> None:
        shown = _host_of(address) if host in WILDCARDS and address else host
        tell("endpoint", host=shown, port=port)

    t0, c0 = time.perf_counter(), time.process_time()
    kw = dict(tls=task.tls, timeout=task.timeout, insecure_plain_tcp=task.insecure_plain_tcp,
              garbler=task.garbler, on_phase=on_phase, progress=False, engine=task.engine,
              stop=_stop_asker(task.run) if worker is not None else None)
    if task.listen is not None:
        kw.update(listen=task.listen, on_listening=on_listening)
    else:
        kw.update(connect=task.connect)
    base = {"shard": task.shard, "attempt": task.attempt, "worker": address, "pid": os.getpid()}
    try:
        res = run_party(circuit, task.role, task.inputs, **kw)
    except YaogcError as e:
        return dict(base, ok=False, phase=getattr(e, "phase", None) or state["phase"],
                    error=getattr(e, "detail", None) or str(e),
                    seconds=time.perf_counter() - t0, cpu_seconds=time.process_time() - c0)
    except Exception as e:  # noqa: BLE001 - a bug in yaogc: carried back as a failure
        return dict(base, ok=False, phase=state["phase"],
                    error=f"internal error (a bug in yaogc): {type(e).__name__}: {e}",
                    seconds=time.perf_counter() - t0, cpu_seconds=time.process_time() - c0)
    ended = time.time()
    return dict(base, ok=True, phase="done", outputs=res.outputs, stats=res.stats,
                # wall-clock instants (comparable between this party's processes) of the
                # session's connection and its end
                session_start=ended - res.stats["total_seconds"], session_end=ended,
                listed=res.batch, seconds=time.perf_counter() - t0,
                cpu_seconds=time.process_time() - c0,
                cpu_tables_seconds=res.marks["cpu_end"] - res.marks["cpu_tables"])
