"""Oblivious-transfer throughput between two processes over loopback TCP.

Cases: 128 base OTs (Chou-Orlandi on P-256), the one-time IKNP setup, and 2^20 chosen-message
and correlated OTs on 128-bit labels through ``OTExtSender`` / ``OTExtReceiver``. The parent
process is the OT receiver and times each call from a start signal to its result (which
includes the sender's work, since the receiver's result depends on it); a child process is
the sender. Each record: ``case``, ``ots``, ``seconds`` (median of the repeats), ``ots_per_s``,
plus the chunk size, the bytes the receiver's channel moved, and each party's CPU time
(``receiver_cpu_s``, ``sender_cpu_s``: what the run costs on an otherwise idle machine, since
these 2-core machines are shared and wall time varies with their load).

    python benchmarks/ot.py [--json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import struct
import sys
import time


from yaogc.gc.aes import PRG
from yaogc.runtime.net import connect, listen
from yaogc.runtime.ot_base import base_ot_recv, base_ot_send
from yaogc.runtime.ot_ext import DEFAULT_CHUNK, OTExtReceiver, OTExtSender

GO = b"go"


def plan(quick: bool) -> list[tuple[str, int, int, int, int]]:
    """(case, ots, chunk, warm-up runs, timed runs) in the order both processes run them.

    The setup runs once per extension pair, so it has no warm-up; a new chunk size means a new
    pair whose setup falls in the warm-up run.
    """
    reps = 2 if quick else 5
    cases = [("base_ot_128", 128, 0, 1, 3 if quick else 10),
             ("ext_setup", 128, DEFAULT_CHUNK, 0, 1),
             ("chosen_2^20", 1 << 20, DEFAULT_CHUNK, 1, reps),
             ("correlated_2^20", 1 << 20, DEFAULT_CHUNK, 1, reps)]
    if not quick:
        cases += [("chosen_2^20", 1 << 20, 1 << 14, 1, reps),
                  ("chosen_2^20", 1 << 20, 1 << 18, 1, reps),
                  ("chosen_2^22", 1 << 22, DEFAULT_CHUNK, 1, 2)]
    return cases


def sender(port_q, quick: bool) -> None:
    ch = listen("127.0.0.1", 0, timeout=120, on_listening=lambda h, p: port_q.put(p))
    with ch:
        prg = PRG()
        ext = {}
        for case, ots, chunk, warm, reps in plan(quick):
            for _ in range(warm + reps):
                if case.startswith("chosen"):
                    m0, m1 = prg.blocks(ots), prg.blocks(ots)
                ch.recv()
                cpu = time.process_time()
                if case == "base_ot_128":
                    base_ot_send(ch, ots)
                else:
                    s = ext.get(chunk)
                    if s is None:
                        s = ext[chunk] = OTExtSender(ch, chunk)
                    if case == "ext_setup":
                        s.setup()
                    elif case.startswith("correlated"):
                        s.send_correlated(prg.blocks(1)[0], ots)
                    else:
                        s.send(m0, m1)
                # this side's CPU time, read by the receiver after it stopped its clock
                ch.send(struct.pack("<d", time.process_time() - cpu))
                ch.flush()


def receiver(port: int, quick: bool) -> list[dict]:
    records = []
    prg = PRG()
    with connect("127.0.0.1", port, timeout=120) as ch:
        ext = {}
        for case, ots, chunk, warm, reps in plan(quick):
            times, cpu_r, cpu_s, moved = [], [], [], 0
            for rep in range(warm + reps):
                choices = prg.bits(ots)
                r = ext.get(chunk) if chunk else None
                if chunk and r is None:
                    r = ext[chunk] = OTExtReceiver(ch, chunk)
                before = ch.bytes_sent + ch.bytes_received
                t0 = time.perf_counter()
                c0 = time.process_time()
                ch.send(GO)
                if case == "base_ot_128":
                    base_ot_recv(ch, choices.tolist())
                elif case == "ext_setup":
                    r.setup()
                elif case.startswith("correlated"):
                    r.recv_correlated(choices)
                else:
                    r.recv(choices)
                elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
                moved = ch.bytes_sent + ch.bytes_received - before
                sender_cpu = struct.unpack("<d", ch.recv())[0]
                if rep >= warm:
                    times.append(elapsed)
                    cpu_r.append(cpu)
                    cpu_s.append(sender_cpu)
            sec = statistics.median(times)
            records.append({"case": case, "ots": ots, "seconds": round(sec, 6),
                            "ots_per_s": round(ots / sec), "chunk": chunk,
                            "repeats": reps, "bytes": moved,
                            "receiver_cpu_s": round(statistics.median(cpu_r), 6),
                            "sender_cpu_s": round(statistics.median(cpu_s), 6)})
    return records


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON list of records")
    ap.add_argument("--quick", action="store_true", help="fewer cases and repeats")
    args = ap.parse_args(argv)
    ctx = mp.get_context("spawn")
    port_q = ctx.Queue()
    child = ctx.Process(target=sender, args=(port_q, args.quick))
    child.start()
    try:
        records = receiver(port_q.get(timeout=60), args.quick)
    finally:
        child.join(timeout=60)
    if args.json:
        print(json.dumps(records, indent=1))
    else:
        for r in records:
            print(f"{r['case']:>16} chunk {r['chunk']:>7}: {r['ots']:>8} OTs in "
                  f"{r['seconds'] * 1e3:9.2f} ms = {r['ots_per_s'] / 1e6:7.3f} M OT/s, "
                  f"{r['bytes'] / 2**20:8.2f} MiB, CPU receiver {r['receiver_cpu_s'] * 1e3:8.2f}"
                  f" ms, sender {r['sender_cpu_s'] * 1e3:8.2f} ms")
    return child.exitcode or 0


if __name__ == "__main__":
    sys.exit(main())
