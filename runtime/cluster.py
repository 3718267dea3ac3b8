"""One party's coordinator of a sharded run: its own Dask cluster, the manifest, the outcomes.

Each party runs its own Dask cluster (a local one of N worker processes, or an existing one
through its scheduler's address); the two clusters never meet, so a worker of one party
never sees the other party's rows or keys. The coordinator (this module, in the party's
``yaogc run`` process):

1. meets the other party's coordinator over its own TLS connection (``--listen`` /
   ``--connect``) and agrees on the manifest (:mod:`.shards`): circuit hash, N, K and the
   rows per shard, retries, and the listening party's worker endpoints, which its workers
   report once they are bound (ports ``PORT+1 .. PORT+N`` after the coordinator's, or any
   free port for port 0, or an explicit list);
2. has worker i of its cluster run shard i (:mod:`.shard_worker`): one ordinary two-party
   session with worker i of the other party's cluster, with its own handshake, base OTs,
   offset R and TLS connection;
3. reports each shard's outcome to the other coordinator as it ends. Both coordinators decide
   alike from the two outcomes of a shard: done if both finished; otherwise a rerun with fresh
   keys while ``retries`` allow; otherwise the whole run fails on both sides with a message
   naming the shard and each side's phase (no output of a failed run is returned);
4. gathers the outputs in record order.

Security model: semi-honest, as for every run; TLS with pinned certificates keeps outsiders
out of the coordinators' connection and of every worker pair's.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from yaogc.circuits.circuit import Circuit
from yaogc.circuits.errors import InputError

from . import handshake as hs
from . import net
from . import shards as sh
from .channel import SMALL_MESSAGE
from .errors import NetworkError, PeerAborted
from .inputs import PartyInputs
from .progress import ShardProgress
from .shard_worker import ShardTask, run_shard, stop_event_name
from .tls import TLSConfig

EXTRA = "pip install 'yaogc[cluster]'"
GRACE = 5.0   # seconds our side of a failed pair has to report its own failure


def _dask():
    try:
        import dask
        import distributed
    except ImportError:
        raise InputError(f"--workers and --scheduler need Dask: {EXTRA}") from None
    return dask, distributed


@contextlib.contextmanager
def local_cluster(n: int, *, processes: bool = True):
    """A Dask client of a new local cluster of ``n`` single-threaded workers (processes, or
    threads of this process with ``processes=False``), closed on exit. A worker that dies
    fails its task at once (no silent rerun by Dask: a shard reruns only by ``retries``)."""
    dask, distributed = _dask()
    if n < 1:
        raise InputError(f"--workers {n}: need at least 1 worker")
    # worker processes fork from a server that has imported Dask and yaogc once, instead of
    # each starting an interpreter and importing them (seconds each on a busy machine); the
    # setting holds while the cluster lives, for the processes that replace dead workers too
    with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                          "distributed.worker.multiprocessing-method": "forkserver"}):
        if processes:
            _preload_forkserver()
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1,
                                           processes=processes, dashboard_address=":0",
                                           silence_logs=logging.CRITICAL)
        try:
            client = distributed.Client(cluster)
        except BaseException:
            cluster.close()
            raise
        try:
            yield client
        finally:
            client.close()
            cluster.close()


def _preload_forkserver() -> None:
    """Add yaogc's runtime to what Dask's fork server imports before forking workers (it
    has no effect once that server runs)."""
    from distributed.utils import get_mp_context
    ctx = get_mp_context()      # sets Dask's own preload list first
    from multiprocessing import forkserver
    have = list(getattr(forkserver._forkserver, "_preload_modules", []) or [])
    ctx.set_forkserver_preload(have + ["yaogc.runtime.worker_init", "yaogc.runtime.shard_worker",
                                       "yaogc.runtime.protocol", "yaogc.gc"])


_ADDRESS = re.compile(r"(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+)"
                      r":([0-9]{1,5})/?")


def _check_address(address: str) -> None:
    """Refuse what is no scheduler address before Dask sees it (it may wait on a default
    port for 'tcp://HOST', or fail inside)."""
    m = _ADDRESS.fullmatch(str(address).strip())
    if m is None or not 0 < int(m.group(1)) < 65536:
        raise InputError(f"--scheduler {address}: not a Dask scheduler address; expected "
                         f"tcp://HOST:PORT (or tls://HOST:PORT)")


def connect_scheduler(address: str, timeout: float):
    """A Dask client of an existing cluster (this party's own) at ``address``."""
    _check_address(address)
    _, distributed = _dask()
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = distributed.Client(address, timeout=timeout)
        except BaseException as e:     # handed to the waiting thread below
            box["error"] = e
    # Dask's timeout bounds the TCP connect only: a service that accepts and never answers
    # would hold the client's handshake for ever, so the wait is bounded here
    th = threading.Thread(target=connect, name="yaogc-scheduler", daemon=True)
    th.start()
    th.join(timeout)
    if th.is_alive():
        raise NetworkError(f"the Dask scheduler at {address} did not answer within "
                           f"{timeout:g} s", phase="cluster")
    e = box.get("error")
    if e is None:
        return box["client"]
    if isinstance(e, (OSError, TimeoutError)):
        raise NetworkError(f"cannot reach the Dask scheduler at {address}: {e}",
                           phase="cluster") from None
    if isinstance(e, (ValueError, TypeError)):
        raise InputError(f"--scheduler {address}: not a Dask scheduler address ({e}); "
                         f"expected tcp://HOST:PORT") from None
    if isinstance(e, Exception):
        raise NetworkError(f"the service at {address} does not answer as a Dask scheduler "
                           f"({type(e).__name__})", phase="cluster") from None
    raise e


@dataclass
class ShardedResult:
    """One party's view of a finished sharded run (like a RunResult, plus the shards)."""

    role: str
    party: str
    outputs: list[dict[str, Any]]     # one dict per row, in record order
    batch: bool
    stats: dict[str, Any] = field(default_factory=dict)
    shards: list[dict[str, Any]] = field(default_factory=list)   # each shard's worker report

    def json_outputs(self, circuit: Circuit) -> Any:
        rows = [{o.name: o.type.to_json(row[o.name]) for o in circuit.outputs if o.name in row}
                for row in self.outputs]
        return rows if self.batch else rows[0]


def _slice(inputs: PartyInputs, lo: int, hi: int) -> PartyInputs:
    return PartyInputs(inputs.rows[lo:hi], inputs.bits[lo:hi], inputs.wires, True)


class _Control:
    """The connection to the other coordinator: a reader thread queueing its messages, and
    pings so that a silent peer is noticed within the timeout while the workers run."""

    def __init__(self, ch, events: queue.Queue, timeout: float):
        self.ch, self.events = ch, events
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.bye = threading.Event()
        self._reader: threading.Thread | None = None
        self._every = max(0.2, min(5.0, timeout / 4))

    def send(self, kind: sh.Ctl, msg: dict | None = None) -> None:
        with self._lock:
            self.ch.send_msg(kind, sh.encode(msg or {}), flush=True)

    def recv(self, kind: sh.Ctl, what: str) -> dict:
        # within the timeout as a whole: pings alone must not hold this side forever
        self.ch.set_deadline(self.ch.timeout, f"the other coordinator's {what}")
        try:
            while True:
                got, data = self.ch.recv_msg_any(SMALL_MESSAGE)
                if got != sh.Ctl.PING:
                    break
        finally:
            self.ch.set_deadline(None)
        if got != kind:
            raise hs.ProtocolError(f"expected the other coordinator's {what}, got message "
                                   f"kind {got}", phase=self.ch.phase)
        return sh.decode(data, what)

    def start(self) -> None:
        self._reader = threading.Thread(target=self._read, name="yaogc-control", daemon=True)
        self._reader.start()
        threading.Thread(target=self._ping, name="yaogc-ping", daemon=True).start()

    def _read(self) -> None:
        try:
            while True:
                kind, data = self.ch.recv_msg_any(SMALL_MESSAGE)
                if kind == sh.Ctl.BYE:
                    self.bye.set()
                    return
                if kind != sh.Ctl.PING:
                    self.events.put(("peer", kind, data))
        except (NetworkError, OSError, ValueError) as e:
            # OSError, ValueError: the channel was shut under the read, once the run ended
            if not self._stop.is_set():
                self.events.put(("peer-error", e if isinstance(e, NetworkError) else
                                 NetworkError(f"the connection failed: {e}", phase="run")))
            self.bye.set()      # the connection is gone: no goodbye is left to wait for

    def _ping(self) -> None:
        while not self._stop.wait(self._every):
            try:
                # never after this side's goodbye: the peer stops reading at the goodbye, and
                # closing with a frame unread makes its kernel reset the connection, which
                # can discard the peer's own goodbye before this side has read it (this side
                # then waited out the whole wait for it)
                with self._lock:
                    if self._stop.is_set():
                        return
                    self.ch.send_msg(sh.Ctl.PING, sh.encode({}), flush=True)
            except NetworkError:
                return

    def finish(self, wait: float) -> None:
        """Say goodbye and wait (bounded) for the other coordinator's; then close."""
        self._stop.set()
        with contextlib.suppress(NetworkError, OSError):
            self.send(sh.Ctl.BYE)
            self.bye.wait(wait)
        self._close()

    def abort(self, reason: str) -> None:
        self._stop.set()
        with contextlib.suppress(NetworkError, OSError):
            with self._lock:
                self.ch.abort(reason[:4000], close=False)
        self._close()

    def _close(self) -> None:
        # a reader still blocked is woken, and has ended, before the descriptor is closed:
        # closed under it, its number could go to the next run's connection, and the read
        # would take that connection's bytes
        self.ch.shutdown()
        if self._reader is not None:
            self._reader.join(1.0)
        self.ch.close()


class _Coordinator:
    """The event loop of one party's coordinator (see the module docstring)."""

    def __init__(self, client, circuit: Circuit, roles: hs.Roles, role: str,
                 inputs: PartyInputs, n: int, *, retries: int, timeout: float, tls,
                 insecure_plain_tcp: bool, engine: str | None,
                 on_phase: Callable[[int, str], None] | None, progress: ShardProgress):
        self.client, self.circuit, self.roles, self.role = client, circuit, roles, role
        self.inputs, self.n, self.retries, self.timeout = inputs, n, retries, timeout
        self.task_kw = dict(role=role, garbler=roles.garbler, tls=tls, timeout=timeout,
                            insecure_plain_tcp=insecure_plain_tcp, engine=engine,
                            on_phase=on_phase)
        self.own_wires = bool(inputs.wires.size)
        self.progress = progress
        self.run = secrets.token_hex(8)
        self.events: queue.Queue = queue.Queue()
        self.futures: dict[tuple[int, int], Any] = {}
        self.phase: dict[tuple[int, int], str] = {}
        self.worker: dict[tuple[int, int], str] = {}
        self.endpoints: dict[tuple[int, int], tuple[str, int]] = {}
        self.mine: dict[tuple[int, int], dict] = {}
        self.theirs: dict[tuple[int, int], dict] = {}
        self.attempt = [0] * n
        self.done: dict[int, dict] = {}
        self.rows: list[int] = []
        self.ctl: _Control | None = None
        self._circuit_ref = None
        self._shipped_for: list[int] | None = None
        self.schedule_seconds = 0.0
        self.grace: dict[tuple[int, int], float] = {}   # when to stop waiting for our side
        # when to stop waiting for the other side's report of an attempt ours has reported:
        # both ends of a shard's session end together, so it is due within the timeout (a
        # peer that pings but never reports would hold this party forever)
        self.awaiting: dict[tuple[int, int], float] = {}

    # -- workers ---------------------------------------------------------------------------
    def check_capacity(self) -> None:
        """Refuse a cluster with fewer worker threads than shards (they run at once)."""
        info = self.client.scheduler_info()
        threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
        if threads < self.n:
            raise InputError(f"--workers {self.n}: this party's Dask cluster has {threads} "
                             f"worker thread{'s' if threads != 1 else ''}; each of the {self.n} "
                             "shards needs one at the same time")

    def _workers(self) -> list[str]:
        return sorted(self.client.scheduler_info().get("workers", {}))

    def _submit(self, shard: int, attempt: int, *, listen=None, connect=None) -> None:
        first = sh.starts(self.rows)
        # a side without inputs, or with one row for the whole batch (each shard's session
        # broadcasts it), sends what it has to every shard
        part = (_slice(self.inputs, first[shard], first[shard + 1])
                if self.own_wires and self.inputs.k == sum(self.rows) else self.inputs)
        task = ShardTask(self.run, shard, attempt, inputs=part, listen=listen, connect=connect,
                         **self.task_kw)
        if attempt > 0:
            self._ship()    # a worker that died may have taken copies of the circuit with it
        workers = self._workers()
        prefer = [workers[(shard + attempt) % len(workers)]] if workers else None
        fut = self.client.submit(run_shard, task, self._circuit_ref, pure=False,
                                 key=f"yaogc-shard-{self.run}-{shard}-{attempt}",
                                 workers=prefer, allow_other_workers=True, retries=0)
        self.futures[(shard, attempt)] = fut
        fut.add_done_callback(lambda f, k=(shard, attempt): self.events.put(("done", k)))

    def _ship(self) -> None:
        """Schedule the circuit once, for every shard size, and send it with its Schedules
        once to each worker (not with every task)."""
        from yaogc.circuits.schedule import cached_schedules
        from yaogc.gc.workload import plan_for
        t = time.perf_counter()
        for size in sorted(set(self.rows)):
            plan_for(self.circuit, size, self.task_kw["engine"])
        self.schedule_seconds += time.perf_counter() - t
        shipped = (self.circuit, cached_schedules(self.circuit))
        self._circuit_ref = self.client.scatter([shipped], broadcast=True, hash=False)[0]
        self._shipped_for = sorted(set(self.rows))

    def _on_event(self, event) -> None:
        msg = event[1] if isinstance(event, tuple) else event
        self.events.put(("event", msg))

    # -- the run ---------------------------------------------------------------------------
    def start(self, ch, listen_spec: list[tuple[str, int]] | None,
              connect_host: str | None, connect_list: list[tuple[str, int]] | None,
              listed: bool) -> tuple[int, bool, sh.Manifest]:
        """Hello and manifest on the coordinators' channel; then every shard's first attempt."""
        self.ctl = ctl = _Control(ch, self.events, self.timeout)
        digest = hs.circuit_hash(self.circuit)
        ch.phase = "manifest"
        mine = sh.describe(digest, self.roles, self.role, self.n,
                           self.inputs.k if self.own_wires else None, self.retries, listed)
        ctl.send(sh.Ctl.HELLO, mine)
        theirs = sh.validate_hello(ctl.recv(sh.Ctl.HELLO, "hello"))
        k = sh.check_hello(mine, theirs)
        if self.own_wires and self.inputs.k == 1:     # this side's one row to every row
            hs.check_broadcast(k, self.role, self.role, self.inputs.max_batch, hs.SEMI_HONEST)
        listed = listed or theirs.get("listed") is True or k != 1
        self.rows = sh.split_rows(k, self.n)
        self.client.subscribe_topic(f"yaogc-{self.run}", self._on_event)
        if self._shipped_for != sorted(set(self.rows)):
            self._ship()    # a side without inputs learns the shard sizes only now
        if listen_spec is not None:
            for i, ep in enumerate(listen_spec):
                self._submit(i, 0, listen=ep)
            eps = self._await_endpoints()
            manifest = sh.Manifest(digest, self.rows, eps)
            ctl.send(sh.Ctl.MANIFEST, manifest.to_json())
            ctl.recv(sh.Ctl.ACK, "acknowledgement of the manifest")
        else:
            manifest = sh.check_manifest(ctl.recv(sh.Ctl.MANIFEST, "manifest"), self.rows,
                                         digest)
            ctl.send(sh.Ctl.ACK)
            for i in range(self.n):
                target = connect_list[i] if connect_list else sh.reachable(
                    manifest.endpoints[i], connect_host)
                self.endpoints[(i, 0)] = target
                self._submit(i, 0, connect=target)
        ch.phase = "run"
        self.transport = {"tls": getattr(ch, "tls_version", None),
                          "peer_fingerprint": getattr(ch, "peer_fingerprint", None)}
        ctl.start()
        return k, listed, manifest

    def _await_endpoints(self) -> list[tuple[str, int]]:
        """Wait until every shard's listening worker has reported where it accepts."""
        # within the timeout, so this side names the late workers before the other side's
        # wait for the manifest ends
        deadline = time.monotonic() + 0.9 * self.timeout
        later = []      # sessions that ended after listening: for the main loop
        while len([k for k in self.endpoints if k[1] == 0]) < self.n:
            left = deadline - time.monotonic()
            if left <= 0:
                missing = [i + 1 for i in range(self.n) if (i, 0) not in self.endpoints]
                raise NetworkError(f"the workers of shards {missing} did not start listening "
                                   f"within {0.9 * self.timeout:g} s", phase="manifest")
            try:
                ev = self.events.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if ev[0] == "event":
                self._event(ev[1])
            elif ev[0] == "done" and ev[1] not in self.endpoints:
                o = self._report(ev[1])
                raise NetworkError(f"shard {ev[1][0] + 1}: this party's worker could not "
                                   f"listen: {o.get('error')}", phase="manifest")
            else:
                later.append(ev)
        for ev in later:
            self.events.put(ev)
        return [self.endpoints[(i, 0)] for i in range(self.n)]

    def _event(self, msg: dict) -> None:
        try:
            key = (int(msg["shard"]), int(msg["attempt"]))
        except (KeyError, TypeError, ValueError):
            return
        self.worker[key] = msg.get("worker") or self.worker.get(key, "")
        if msg.get("kind") == "phase":
            self.phase[key] = msg.get("phase")
        elif msg.get("kind") == "endpoint":
            self.endpoints[key] = (msg["host"], int(msg["port"]))
            if key[1] > 0 and key not in self.mine:
                self.ctl.send(sh.Ctl.ENDPOINT, {"shard": key[0], "attempt": key[1],
                                                "host": msg["host"], "port": int(msg["port"])})

    def _local_done(self, key: tuple[int, int]) -> None:
        """Our worker's side of a shard attempt ended: record and report it."""
        if key not in self.mine:
            self._record(key, self._report(key))

    def _report(self, key: tuple[int, int]) -> dict:
        fut = self.futures[key]
        try:
            rep = fut.result()
        except BaseException as e:  # noqa: BLE001 - the worker died or the task was lost
            where = self.worker.get(key) or "its Dask worker"
            why = ("died" if type(e).__name__ == "KilledWorker"
                   else f"failed ({type(e).__name__}: {e})")
            rep = {"ok": False, "phase": self.phase.get(key, "start"),
                   # 'its': the report is read on both sides (this party, the other party)
                   "error": f"its worker {where} {why}"}
        return rep

    def _record(self, key: tuple[int, int], rep: dict) -> None:
        self.mine[key] = rep
        if key not in self.theirs:
            self.awaiting[key] = time.monotonic() + self.timeout
        out = {"shard": key[0], "attempt": key[1], "ok": bool(rep.get("ok")),
               "phase": rep.get("phase"), "error": rep.get("error"),
               "and_gates": int(rep.get("stats", {}).get("and_gates", 0))}
        self.ctl.send(sh.Ctl.OUTCOME, out)
        self._decide(key)

    def _peer(self, kind: int, data: bytes) -> None:
        if kind == sh.Ctl.OUTCOME:
            o = sh.validate_outcome(sh.decode(data, "shard report"), self.n, self.retries)
            key = (o["shard"], o["attempt"])
            self.theirs[key] = o
            if not o["ok"] and key not in self.mine and key in self.futures:
                # the pair is broken: our side cannot finish either. It usually says so at
                # once (the connection closed, or its worker died); wait a little for its
                # own report, then stop waiting
                self.grace[key] = time.monotonic() + min(GRACE, self.timeout)
            self._decide(key)
        elif kind == sh.Ctl.ENDPOINT:
            msg = sh.decode(data, "endpoint")
            shard = msg.get("shard")
            if type(shard) is not int or not 0 <= shard < self.n:
                raise hs.ProtocolError("the other coordinator named a shard that does not "
                                       "exist", phase="run")
            ep = sh.check_endpoint([msg.get("host"), msg.get("port")], "endpoint")
            attempt = self.attempt[shard]
            if msg.get("attempt") != attempt:
                raise hs.ProtocolError("the other coordinator's endpoint is for another "
                                       "attempt", phase="run")
            target = (self._connect_list[shard] if self._connect_list
                      else sh.reachable(ep, self._connect_host))
            self.endpoints[(shard, attempt)] = target
            self._submit(shard, attempt, connect=target)
        else:
            raise hs.ProtocolError(f"unexpected message kind {kind} from the other "
                                   "coordinator", phase="run")

    def _decide(self, key: tuple[int, int]) -> None:
        shard, attempt = key
        if key not in self.mine or key not in self.theirs or shard in self.done:
            return
        if attempt != self.attempt[shard]:
            return
        mine, theirs = self.mine[key], self.theirs[key]
        if mine.get("ok") and theirs["ok"]:
            self.done[shard] = mine
            self.progress.update(len(self.done), sum(self.rows[s] for s in self.done),
                                 sum(d["stats"]["and_gates"] for d in self.done.values()))
            return
        if attempt < self.retries:
            self.attempt[shard] = attempt + 1
            if self._listening is not None:    # a fresh listener: fresh keys, new session
                self._submit(shard, attempt + 1, listen=self._listening[shard])
            return
        raise sh.ShardFailed(sh.outcome_message(shard, self.rows, attempt + 1, mine, theirs),
                             phase="run")

    def _expire(self) -> None:
        now = time.monotonic()
        for key, until in list(self.awaiting.items()):
            if key in self.theirs or key[0] in self.done or key[1] != self.attempt[key[0]]:
                del self.awaiting[key]
            elif now >= until:
                raise NetworkError(f"the other party's coordinator did not report the outcome "
                                   f"of shard {key[0]} within {self.timeout:g} s of this "
                                   f"side's", phase="run")
        for key, until in list(self.grace.items()):
            if key in self.mine:
                del self.grace[key]
            elif now >= until:
                del self.grace[key]
                self.futures[key].cancel()
                self._record(key, {"ok": False, "phase": self.phase.get(key, "start"),
                                   "error": "stopped: the other party's worker of this shard "
                                            "failed"})

    def loop(self) -> None:
        while len(self.done) < self.n:
            self._expire()
            try:
                ev = self.events.get(timeout=0.5 if self.grace or self.awaiting else None)
            except queue.Empty:
                continue
            if ev[0] == "done":
                self._local_done(ev[1])
            elif ev[0] == "event":
                self._event(ev[1])
            elif ev[0] == "peer":
                self._peer(ev[1], ev[2])
            elif ev[0] == "peer-error":
                e = ev[1]
                if isinstance(e, PeerAborted):
                    raise e
                raise NetworkError(f"the other party's coordinator: {e.detail}",
                                   phase=e.phase or "run")

    def give_up(self) -> None:
        """Cancel the shards and tell those already running to stop waiting for their
        peers (a worker listening for a peer that will never come is free at once)."""
        with contextlib.suppress(Exception):
            _, distributed = _dask()
            distributed.Event(stop_event_name(self.run), client=self.client).set()
        self.cancel()

    def cancel(self) -> None:
        for f in self.futures.values():
            with contextlib.suppress(Exception):
                f.cancel()
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(f"yaogc-{self.run}")

    _listening: list[tuple[str, int]] | None = None
    _connect_host: str | None = None
    _connect_list: list[tuple[str, int]] | None = None


def run_sharded(circuit: Circuit, who: str, inputs: Any = None, *, workers: int,
                client=None, scheduler: str | None = None,
                listen: tuple[str, int] | None = None, connect: tuple[str, int] | None = None,
                endpoints: list[tuple[str, int]] | None = None, tls=None,
                timeout: float = 60.0, retries: int = 0, insecure_plain_tcp: bool = False,
                garbler: str | None = None, engine: str | None = None,
                on_listening: Callable[[str, int], None] | None = None,
                on_phase: Callable[[int, str], None] | None = None,
                progress: bool | None = False, processes: bool = True,
                max_batch: int | None = None) -> ShardedResult:
    """Run one party of a sharded two-party run over ``workers`` worker pairs.

    The party's cluster: ``client`` (a ``distributed.Client`` of this party's own cluster),
    else ``scheduler`` (the address of one), else a new local cluster of ``workers`` worker
    processes (threads with ``processes=False``), closed at the end. Exactly one of
    ``listen=(host, port)`` (this coordinator accepts there; its workers on the next
    ``workers`` ports, or any free ones for port 0, or on ``endpoints``) and
    ``connect=(host, port)`` (the other coordinator; its workers connect where the manifest
    says, or to ``endpoints``). ``on_phase(shard, phase)`` runs on the worker as each
    shard's session enters a phase. ``retries``: reruns of a failed shard, with fresh keys
    (both parties must give the same number). Raises ``ShardFailed`` (naming the shard and
    each side's phase) if a shard fails for good; no outputs then.
    """
    from .protocol import own_inputs
    if (listen is None) == (connect is None):
        raise InputError("give exactly one of listen=(host, port) and connect=(host, port)")
    timeout = net.check_timeout(timeout)
    if not 1 <= workers <= sh.MAX_SHARDS:
        raise InputError(f"--workers {workers}: give 1..{sh.MAX_SHARDS} worker pairs")
    if not 0 <= retries <= sh.MAX_RETRIES:
        raise InputError(f"--retries {retries}: give 0..{sh.MAX_RETRIES}")
    roles, role, own = own_inputs(circuit, who, inputs, garbler=garbler)
    if max_batch is not None:     # this side's one row serves at most that many rows
        own.max_batch = hs.check_max_batch(max_batch)
    sized = bool(own.wires.size) and own.k > 1    # K known before the other party is met
    if sized:
        sh.split_rows(own.k, workers)   # refuses a batch too small, naming the sizes
    if endpoints is not None and len(endpoints) != workers:
        raise InputError(f"{len(endpoints)} worker endpoints for {workers} worker pairs")
    if listen is not None:
        listening = list(endpoints) if endpoints else sh.port_range(listen[0], listen[1], workers)
    else:
        listening = None
    bar = ShardProgress(workers, label=f"{role}: ", enabled=progress)
    with contextlib.ExitStack() as stack:
        if client is None:
            if scheduler is not None:
                client = connect_scheduler(scheduler, timeout)
                stack.callback(client.close)
            else:
                client = stack.enter_context(local_cluster(workers, processes=processes))
        if isinstance(tls, TLSConfig):
            # the workers read the files where they run (another directory, with --scheduler)
            tls = TLSConfig(tls.cert.absolute(), tls.key.absolute(), tls.peer_cert.absolute())
        co = _Coordinator(client, circuit, roles, role, own, workers, retries=retries,
                          timeout=timeout, tls=tls, insecure_plain_tcp=insecure_plain_tcp,
                          engine=engine, on_phase=on_phase, progress=bar)
        co.check_capacity()   # refuse a cluster too small before meeting the other party
        t_prep = time.perf_counter()
        if sized:
            # the circuit, scheduled, goes to the workers before the other party is met
            co.rows = sh.split_rows(own.k, workers)
            co._ship()
        t_prep = time.perf_counter() - t_prep
        scheduled_before = co.schedule_seconds
        co._listening = listening
        co._connect_host = connect[0] if connect is not None else None
        co._connect_list = endpoints if connect is not None else None
        if listen is not None:
            ch = net.listen(listen[0], listen[1], timeout, tls, on_listening=on_listening,
                            insecure_plain_tcp=insecure_plain_tcp, phase="manifest")
        else:
            ch = net.connect(connect[0], connect[1], timeout, tls,
                             insecure_plain_tcp=insecure_plain_tcp, phase="manifest")
        t0 = time.perf_counter()   # connected: waiting for the other party is not counted
        wall0 = time.time()
        try:
            bar.restart()
            k, listed, manifest = co.start(ch, listening, co._connect_host,
                                           endpoints if connect is not None else None,
                                           bool(own.batch))
            t_manifest = time.perf_counter()
            co.loop()
        except BaseException as e:
            co.give_up()
            if co.ctl is not None:
                co.ctl.abort(str(e).splitlines()[0] if str(e) else type(e).__name__)
            else:
                with contextlib.suppress(Exception):
                    ch.abort(str(e).splitlines()[0])
                ch.close()
            raise
        finally:
            bar.close()
        co.ctl.finish(min(timeout, 10.0))
        co.cancel()
        t_end = time.perf_counter()
        wall_end = time.time()
    res = _result(co, role, roles, k, listed, manifest, t0, t_manifest, t_end,
                  co.schedule_seconds - scheduled_before, wall0, wall_end)
    res.stats["prepare_seconds"] = round(t_prep, 6)
    return res


def _result(co: _Coordinator, role, roles, k, listed, manifest, t0, t_manifest,
            t_end, scheduled_during: float, wall0: float, wall_end: float) -> ShardedResult:
    reps = [co.done[i] for i in range(co.n)]
    outputs = [row for rep in reps for row in rep["outputs"]]
    ands = sum(r["stats"]["and_gates"] for r in reps)
    total = t_end - t0
    # a session's own time, from its connection to its outputs (a listening worker's wait
    # for its peer to connect is the coordinators' time, not the session's)
    longest = max(r["stats"]["total_seconds"] for r in reps)
    # while any pair's session ran (from the first connection to the last end)
    busy = (min(wall_end, max(r["session_end"] for r in reps))
            - max(wall0, min(r["session_start"] for r in reps)))
    stats = {
        "and_gates": ands, "batch": k, "shards": co.n, "rows": manifest.rows,
        "bytes_sent": sum(r["stats"]["bytes_sent"] for r in reps),
        "bytes_received": sum(r["stats"]["bytes_received"] for r in reps),
        "manifest_seconds": round(t_manifest - t0, 6),
        "total_seconds": round(total, 6),
        "longest_shard_seconds": round(longest, 6),
        "schedule_seconds": round(co.schedule_seconds, 6),
        # the coordinators' share of the run: the time no pair's session was running, less
        # scheduling (which a run on one pair pays too): manifest, dispatch, each worker's
        # preparation before it connects, outcomes, gathering
        "coordinator_seconds": round(max(0.0, total - scheduled_during - busy), 6),
        # how unevenly the pairs ran: the sessions' span beyond the slowest session
        "skew_seconds": round(max(0.0, busy - longest), 6),
        "and_per_second": round(ands / total, 1) if total > 0 else 0.0,
        "attempts": sum(a + 1 for a in co.attempt),
        **co.transport,
    }
    keep = ("shard", "attempt", "worker", "pid", "seconds", "cpu_seconds", "cpu_tables_seconds")
    shards = [{key: r.get(key) for key in keep} | {"stats": r["stats"]} for r in reps]
    return ShardedResult(role, roles.party_of(role), outputs, listed, stats, shards)
