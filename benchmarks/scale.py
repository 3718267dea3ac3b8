"""Sharded runs over 1, 2 and 4 worker pairs on loopback: how the rate scales, and the model.

Each case is a batch of a real workload (AES-128 from the Bristol reference circuits, and the
logistic-regression scoring program ``examples/logistic_score.yao``) of the same number of rows
per pair at every N (so each pair does the same work, and K grows with N), run by two coordinators
in this process, each with its own local Dask cluster of N worker processes (the garbler's and
the evaluator's; never one shared), over TLS 1.3 on 127.0.0.1. Cluster start and one small
warm-up run (workers import and load the compiled kernels) are outside every figure.
Figures, from the evaluator coordinator's result:

- ``and_per_s``: AND gates of the batch over the coordinator's wall time (connection made to
  outputs gathered); ``per_pair_and_per_s`` that over N;
- ``bytes_per_and``: every byte both directions, all pairs, per AND;
- ``cpu_and_per_s_per_pair``: for each shard, its AND gates over the larger of its two
  workers' CPU time for the whole session (handshake, OT, tables, outputs), median over the
  shards: the rate one pair reaches when each worker has a core of its own. On a 2-core
  machine the wall-clock total cannot grow with N (4 pairs are 8 busy processes on 2 cores);
  this is the figure that says whether a pair slows down when there are more of them;
- ``coordinator_seconds`` / ``coordinator_share``: the run's wall time while no pair's session
  ran, less scheduling (manifest, dispatch, each worker's preparation before it connects,
  outcome reports, gathering), and its share of the run; ``skew_seconds``: how much longer the
  sessions' span was than the slowest session (pairs that started late on a busy machine);
- ``projection``: the model of ``docs/SCALING.md`` fed with this machine's figures: N pairs on
  N machine pairs, each pair with its own link of ``--link-gbps``, all sharing an uplink of
  ``--uplink-gbps``, each given 10 seconds of work, with the coordinator's measured fixed and
  per-shard seconds.

    python benchmarks/scale.py [--json] [--quick] [--pairs 1,2,4] [--link-gbps 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "circuits" / "bristol"
SCORING = ROOT / "examples" / "logistic_score.yao"


def workloads(quick: bool, reference: Path) -> list[tuple[str, object, int]]:
    """(name, circuit, rows per pair): several seconds of work per pair on this machine."""
    from yaogc.circuits.bristol import load_circuit
    from yaogc.compiler import compile_file
    aes = load_circuit(str(reference / "aes_128.txt"))
    score = compile_file(SCORING)
    return [("aes_128", aes, 60 if quick else 300), ("logistic_score", score, 30 if quick else 150)]


def rows_for(circuit, k: int, seed: int):
    """Random test inputs of each party (test data, not key material)."""
    from yaogc.runtime.handshake import resolve_roles
    rng = np.random.default_rng(seed)
    roles = resolve_roles(circuit)
    out = {roles.garbler: [], roles.evaluator: []}
    for _ in range(k):
        row = {roles.garbler: {}, roles.evaluator: {}}
        for p in circuit.inputs:
            if p.name == "in1" or p.name == "in2":
                row[p.party][p.name] = int.from_bytes(rng.bytes(p.width // 8), "big")
            elif str(p.type).startswith("fix32_16["):
                row[p.party][p.name] = [round(float(x), 3) for x in rng.uniform(-1, 1, 8)]
            else:
                row[p.party][p.name] = round(float(rng.uniform(-1, 1)), 3)
        for party in out:
            out[party].append(row[party])
    return out[roles.garbler], out[roles.evaluator]


def certificates(d: Path):
    from yaogc.runtime.tls import TLSConfig, generate_certificate
    gk, gc = generate_certificate("garbler", d)
    ek, ec = generate_certificate("evaluator", d)
    return TLSConfig(gc, gk, ec), TLSConfig(ec, ek, gc)


def sharded_pair(circuit, g_rows, e_rows, n, clients, tls):
    """Both coordinators in threads; (garbler's, evaluator's) ShardedResult."""
    from yaogc.runtime.cluster import run_sharded
    out, port, ready = {}, {}, threading.Event()

    def side(name):
        try:
            if name == "g":
                out[name] = run_sharded(circuit, "garbler", g_rows, workers=n, client=clients[0],
                                        listen=("127.0.0.1", 0), tls=tls[0], timeout=120,
                                        on_listening=lambda h, p: (port.update(p=p),
                                                                   ready.set()))
            else:
                ready.wait(120)
                out[name] = run_sharded(circuit, "evaluator", e_rows, workers=n,
                                        client=clients[1], connect=("127.0.0.1", port["p"]),
                                        tls=tls[1], timeout=120)
        except BaseException as e:  # noqa: BLE001 - reported below
            out[name] = e
            ready.set()

    threads = [threading.Thread(target=side, args=(s,)) for s in ("g", "e")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in out.values():
        if isinstance(r, BaseException):
            raise r
    return out["g"], out["e"]


def measure(name, circuit, per_pair, n, tls) -> dict:
    from yaogc.runtime.cluster import local_cluster
    k = per_pair * n        # the same work per pair at every N
    g_rows, e_rows = rows_for(circuit, k, seed=k)
    t = time.perf_counter()
    with local_cluster(n) as gc, local_cluster(n) as ec:
        gc.wait_for_workers(n, timeout=120)
        ec.wait_for_workers(n, timeout=120)
        start = time.perf_counter() - t
        sharded_pair(circuit, g_rows[:n], e_rows[:n], n, (gc, ec), tls)   # warm-up
        g, e = sharded_pair(circuit, g_rows, e_rows, n, (gc, ec), tls)
    st = e.stats
    by_shard = {s["shard"]: s for s in g.shards}
    cpu_rates, tables_rates = [], []
    for s in e.shards:
        other = by_shard[s["shard"]]
        ands = s["stats"]["and_gates"]
        cpu_rates.append(ands / max(s["cpu_seconds"], other["cpu_seconds"]))
        tables_rates.append(ands / max(s["cpu_tables_seconds"], other["cpu_tables_seconds"]))
    ands = st["and_gates"]
    return {
        "case": name, "pairs": n, "batch": k, "and_gates": ands,
        "cluster_start_seconds": round(start, 3),
        "total_seconds": st["total_seconds"],
        "and_per_s": round(ands / st["total_seconds"]),
        "per_pair_and_per_s": round(ands / st["total_seconds"] / n),
        "bytes_per_and": round((st["bytes_sent"] + st["bytes_received"]) / ands, 3),
        "cpu_and_per_s_per_pair": round(statistics.median(cpu_rates)),
        "cpu_tables_and_per_s_per_pair": round(statistics.median(tables_rates)),
        "schedule_seconds": st["schedule_seconds"],
        "manifest_seconds": st["manifest_seconds"],
        "longest_shard_seconds": st["longest_shard_seconds"],
        "coordinator_seconds": st["coordinator_seconds"],
        # each pair's own fixed cost: handshake, base OTs, OT extension, first table byte
        "pair_setup_seconds": round(statistics.median(s["stats"]["setup_seconds"]
                                                      for s in e.shards), 4),
        "coordinator_share": round(st["coordinator_seconds"] / st["total_seconds"], 4),
        "skew_seconds": st["skew_seconds"],
        "engines": sorted({s["stats"]["engine"] for s in g.shards + e.shards}),
    }


def projection(records: list[dict], link_gbps: float, uplink_gbps: float,
               pairs=(1, 2, 4, 8, 16, 32, 64), seconds_per_pair: float = 10.0) -> list:
    """The model of docs/SCALING.md for each workload, from its measured figures: N pairs on
    N machine pairs, each pair with a link of ``link_gbps``, all pairs sharing the two
    institutions' uplink of ``uplink_gbps``; each pair given ``seconds_per_pair`` of work
    at its own rate (the batch grows with N), plus the coordinator's fixed and per-shard
    seconds fitted on the measured runs."""
    out = []
    for case in sorted({r["case"] for r in records}):
        rs = sorted((r for r in records if r["case"] == case), key=lambda r: r["pairs"])
        r_cpu = rs[0]["cpu_and_per_s_per_pair"]
        b = statistics.median(r["bytes_per_and"] for r in rs)
        per_pair = min(r_cpu, link_gbps * 1e9 / 8 / b)     # what one pair's CPU and link allow
        uplink = uplink_gbps * 1e9 / 8 / b                  # what the shared uplink carries
        xs = [r["pairs"] for r in rs]
        ys = [r["coordinator_seconds"] for r in rs]
        slope = max(0.0, float(np.polyfit(xs, ys, 1)[0])) if len(set(xs)) > 1 else 0.0
        fixed = max(0.0, float(np.mean(ys) - slope * np.mean(xs)))
        setup = statistics.median(r["pair_setup_seconds"] for r in rs)
        for n in pairs:
            work = n * per_pair * seconds_per_pair
            rate = min(n * per_pair, uplink)
            t = setup + work / rate + fixed + slope * n
            out.append({"case": case, "pairs": n, "per_pair_and_per_s": round(per_pair),
                        "bound": ("uplink" if n * per_pair > uplink else
                                  "cpu" if per_pair == r_cpu else "link"),
                        "and_per_s": round(work / t),
                        "coordinator_seconds": round(fixed + slope * n, 3),
                        "pair_setup_seconds": round(setup, 3),
                        "efficiency": round(work / t / (n * per_pair), 4)})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--quick", action="store_true", help="smaller batches")
    ap.add_argument("--pairs", default="1,2,4", help="worker pairs to run (default 1,2,4)")
    ap.add_argument("--link-gbps", type=float, default=1.0,
                    help="each pair's link in the projection (default 1 Gbit/s)")
    ap.add_argument("--uplink-gbps", type=float, default=100.0,
                    help="the link between the two institutions that all pairs share, in "
                         "the projection (default 100 Gbit/s)")
    ap.add_argument("--reference", type=Path, default=REFERENCE,
                    help="folder of the Bristol reference circuits")
    args = ap.parse_args(argv)
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("scale: needs Dask: pip install 'yaogc[cluster]'", file=sys.stderr)
        return 2
    if not args.reference.is_dir():
        print(f"scale: reference circuits not found in {args.reference}", file=sys.stderr)
        return 2
    import logging
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    pairs = [int(p) for p in args.pairs.split(",")]
    records = []
    with tempfile.TemporaryDirectory() as d:
        tls = certificates(Path(d))
        for name, circuit, per_pair in workloads(args.quick, args.reference):
            for n in pairs:
                rec = measure(name, circuit, per_pair, n, tls)
                records.append(rec)
                if not args.json:
                    print(f"{name:15s} K={rec['batch']:5d} pairs={n}: {rec['and_per_s'] / 1e6:6.2f} M AND/s "
                          f"({rec['per_pair_and_per_s'] / 1e6:.2f} M per pair), CPU-bound "
                          f"{rec['cpu_and_per_s_per_pair'] / 1e6:.2f} M AND/s per pair "
                          f"(tables only {rec['cpu_tables_and_per_s_per_pair'] / 1e6:.2f} M), "
                          f"{rec['bytes_per_and']:.2f} B/AND, {rec['total_seconds']:.2f} s, "
                          f"coordinator {rec['coordinator_seconds']:.2f} s "
                          f"({100 * rec['coordinator_share']:.1f}%)", flush=True)
    proj = projection(records, args.link_gbps, args.uplink_gbps)
    if args.json:
        print(json.dumps({"runs": records, "link_gbps": args.link_gbps,
                          "uplink_gbps": args.uplink_gbps, "projection": proj}, indent=1))
    else:
        for p in proj:
            print(f"projection {p['case']:15s} {p['pairs']:3d} pairs: "
                  f"{p['and_per_s'] / 1e6:8.2f} M AND/s ({p['bound']}-bound, coordinator "
                  f"{p['coordinator_seconds']:.2f} s, efficiency {100 * p['efficiency']:.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
