"""``python -m bench.postgres [--seconds S] [--events N]``: the server on PostgreSQL with one
and with two ``jifen-server serve`` processes, beside SQLite, in one run on this machine.

It starts its own throwaway PostgreSQL cluster with PostgreSQL's durable defaults (fsync
and synchronous commit on: ``tests/pgcluster.py``'s ``Cluster.start(durable=True)``) and
stops and removes it at the end; each deployment gets a fresh database with the same
programme (``bench.data.programme``). Every server runs ``JIFEN_PROJECTION=background``, so
acknowledged = appended to the signed log, as the SQLite ingest figures measure it.

* **acknowledged ingest**: ``KIOSKS`` kiosks enrolled through /v1/enroll push the same
  number of pre-signed batches of ``BATCH`` events at once (``bench.procs.push_batches``),
  events/s first send to last acknowledgement; with two processes half the kiosks push to
  each. The raw limit beside it: the SQLite server of the same run. On PostgreSQL,
  ``pg_locks`` is sampled meanwhile: how often the writer lock was held exclusively (the
  projector's chunks, staff writes), by how many pushes shared, by how many waited for.
* **sync rounds at p99 ≤ 250 ms**: kiosks loop without pause (``bench.fleet.kiosk_loop``:
  push a batch of 1–20 events, pull until nothing is left), spread over the processes,
  at 1, 2, 4 … at once for ``--seconds`` each; the figure is the most rounds/s whose round
  p99 stayed within 250 ms.
* **50,000 kiosks every minute** is 833 rounds/s: divided by the measured rounds/s of each
  deployment, how many such deployments' worth of capacity that is (an extrapolation,
  printed as one).

The load generator runs on the same machine as the servers and PostgreSQL, so every
figure is a lower bound for separate machines.
"""

import argparse
import asyncio
import math
import shutil
import tempfile
import threading
import time
from pathlib import Path

import httpx

from server.store import catalog, open_store
from server.store import log as logstore
from tests.pgcluster import Cluster, find_bin

from bench.data import programme
from bench.fleet import Stats, kiosk_loop
from bench.harness import Spread
from bench.ingest import make_work
from bench.procs import BACKGROUND, ServerProcess, enroll_kiosks, prepare_server, push_batches

KIOSKS = 8
BATCH = 100
RESIDENTS = 2_000
P99_LIMIT_MS = 250
PROVINCE_KIOSKS = 50_000
ROUND_EVERY_S = 60


def deployment(root: Path, name: str, dsn: str | None, processes: int) -> list[ServerProcess]:
    """``processes`` servers over one fresh database (SQLite in the folder, or ``dsn``)."""
    data = root / name
    prepare_server(data, RESIDENTS, database=dsn)
    env = BACKGROUND | ({"JIFEN_DATABASE": dsn} if dsn else {})
    return [ServerProcess(data, env=env).start() for _ in range(processes)]


class LockSampler(threading.Thread):
    """Samples ``pg_locks`` every ``every`` seconds while a figure runs: per sample, whether
    the writer lock is held exclusively, and how many sessions hold it shared (keyed writes:
    pushes) or wait for it."""

    def __init__(self, dsn: str, every: float = 0.01):
        super().__init__(daemon=True)
        self.dsn, self.every = dsn, every
        self.samples, self.exclusive, self.shared, self.waiting = 0, 0, 0, 0
        self._halt = threading.Event()

    def run(self) -> None:
        import psycopg
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._halt.is_set():
                rows = conn.execute(
                    "SELECT mode, granted FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND database ="
                    " (SELECT oid FROM pg_database WHERE datname = current_database())").fetchall()
                self.samples += 1
                self.exclusive += any(m == "ExclusiveLock" and g for m, g in rows)
                self.shared += sum(m == "ShareLock" and g for m, g in rows)
                self.waiting += sum(not g for _, g in rows)
                time.sleep(self.every)

    def stop(self) -> str:
        self._halt.set()
        self.join()
        n = max(1, self.samples)
        return (f"writer lock held exclusively in {self.exclusive / n:.0%} of {self.samples} samples, shared by"
                f" {self.shared / n:.2f} sessions and waited for by {self.waiting / n:.2f} on average")


def ingest(servers: list[ServerProcess], cards: list[str], events: int, dsn: str | None = None) -> tuple[float, int]:
    """(events/s acknowledged, errors) of ``KIOSKS`` kiosks pushing at once, spread over the
    servers; on PostgreSQL (``dsn``) it also prints where the writer lock went meanwhile."""
    kiosks = enroll_kiosks(servers[0], "S01", KIOSKS, seed=f"pg:{servers[0].port}")
    work, evs = make_work(kiosks, cards, max(BATCH, events // KIOSKS // BATCH * BATCH), BATCH)
    shares = [{k: w for i, (k, w) in enumerate(work.items()) if i % len(servers) == n} for n in range(len(servers))]
    runs: list = [None] * len(servers)

    def go(n: int) -> None:
        runs[n] = push_batches(servers[n].url, shares[n], sum(len(evs[k]) for k in shares[n]))

    sampler = LockSampler(dsn) if dsn else None
    if sampler:
        sampler.start()
    t = time.perf_counter()
    threads = [threading.Thread(target=go, args=(n,)) for n in range(len(servers))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    if sampler:
        print(f"    {sampler.stop()}", flush=True)
    return sum(len(v) for v in evs.values()) / elapsed, sum(len(r.errors) for r in runs)


def rounds(servers: list[ServerProcess], cards: list[str], dsn: str | None, seconds: float, log) -> list[dict]:
    """Closed-loop sync rounds at 1, 2, 4 … kiosks at once until p99 passes the limit."""
    kiosks = []
    for shop in ("S02", "ST01"):
        kiosks += enroll_kiosks(servers[0], shop, 16, seed=f"rounds:{servers[0].port}")
    store = open_store(dsn or servers[0].data / "server.db", migrate=False)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:  # the ingest figure's backlog projected first, so it does not share the rounds' time
            with store.read() as db:
                if logstore.projected(db) >= logstore.head(db):
                    break
            time.sleep(0.2)
        with store.read() as db:
            cursor = catalog.feed_high_water(db)
    finally:
        store.close()
    steps, at_once, start = [], 1, 0
    while at_once <= len(kiosks):
        batch, start = kiosks[start:start + at_once], start + at_once
        if len(batch) < at_once:
            break
        stats = Stats()

        async def main():
            clients = [httpx.AsyncClient(base_url=s.url, timeout=60) for s in servers]
            until = time.monotonic() + seconds
            try:
                await asyncio.gather(*(kiosk_loop(clients[i % len(clients)], k, cards, cursor, until, stats, think=(0, 0))
                                       for i, k in enumerate(batch)))
            finally:
                for c in clients:
                    await c.aclose()

        t = time.perf_counter()
        asyncio.run(main())
        elapsed = time.perf_counter() - t
        spread = Spread.of([r * 1000 for r in stats.round_s]) if stats.round_s else Spread(0, 0, 0, 0)
        step = {"kiosks": at_once, "rounds_per_s": stats.rounds / elapsed, "p99_ms": round(spread.p99 or spread.max, 1),
                "errors": len(stats.errors)}
        log(f"    {at_once:3d} kiosks at once: {step['rounds_per_s']:7.1f} rounds/s, round p99 {step['p99_ms']} ms,"
            f" {step['errors']} errors")
        steps.append(step)
        if step["p99_ms"] > P99_LIMIT_MS or stats.errors:
            break
        at_once *= 2
    return steps


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.postgres", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=6.0, help="seconds per step of the sync-round figure")
    ap.add_argument("--events", type=int, default=16_000, help="events pushed per ingest figure")
    args = ap.parse_args(argv)
    bindir = find_bin()
    if bindir is None:
        print("no PostgreSQL here (initdb not found): install postgresql-15")
        return 2
    log = lambda s: print(s, flush=True)  # noqa: E731
    cards = [r["card"] for r in programme(RESIDENTS).residents]
    root = Path(tempfile.mkdtemp(prefix="jifen-bench-pg-"))
    cluster = Cluster(bindir).start(durable=True)
    out: dict[str, dict] = {}
    try:
        for name, backend, n in (("sqlite_1", "sqlite", 1), ("postgres_1", "postgresql", 1), ("postgres_2", "postgresql", 2)):
            dsn = cluster.create_database(name) if backend == "postgresql" else None
            log(f"  {name}: {n} server process(es) on {backend}")
            servers = deployment(root, name, dsn, n)
            try:
                rate, errors = ingest(servers, cards, args.events, dsn)
                log(f"    acknowledged ingest: {rate:,.0f} events/s ({errors} errors)")
                out[name] = {"ingest": rate, "ingest_errors": errors}
                out[name]["rounds"] = rounds(servers, cards, dsn, args.seconds, log)
            finally:
                for s in servers:
                    s.stop()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"\nacknowledged ingest ({KIOSKS} kiosks at once, batches of {BATCH}); raw limit: SQLite, same run")
    for name in out:
        print(f"  {name:<11} {out[name]['ingest']:9,.0f} events/s  ({out[name]['ingest'] / out['sqlite_1']['ingest']:.2f}x SQLite)")
    need = PROVINCE_KIOSKS / ROUND_EVERY_S
    print(f"\nsync rounds at round p99 ≤ {P99_LIMIT_MS} ms; {PROVINCE_KIOSKS:,} kiosks every {ROUND_EVERY_S} s = {need:.0f} rounds/s")
    for name in out:
        ok = [s for s in out[name]["rounds"] if s["p99_ms"] <= P99_LIMIT_MS and not s["errors"]]
        best = max((s["rounds_per_s"] for s in ok), default=0.0)
        if best:
            print(f"  {name:<11} {best:7.1f} rounds/s within the limit; the province needs {need / best:.1f}x this,"
                  f" i.e. {math.ceil(need / best)} such deployments' worth")
        else:
            first = out[name]["rounds"][0]
            print(f"  {name:<11} no step within the limit (1 at once: {first['rounds_per_s']:.1f} rounds/s,"
                  f" p99 {first['p99_ms']} ms; {need / first['rounds_per_s']:.0f}x that rate)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
