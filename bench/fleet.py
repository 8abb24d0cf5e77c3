"""Many kiosks syncing at once: 200 simulated kiosks, each enrolled through /v1/enroll
with its own key, each looping for a bounded time: wait 2.5–7.5 s (the counter app syncs
every 60 s, so this is twelve times its rate), push one signed batch of what it recorded
meanwhile (1–20 events), pull the feed from its cursor until nothing is left. Counted: every error (transport or non-success reply), the push acknowledgement
latency, pull latency, and the server's peak RSS.

Simulated kiosks start from the feed's current position (as kiosks that already had their
first sync) and skip verifying the server's signatures, so this process's CPU goes to
load, not checks; real kiosks do verify (kiosk figures cover that path).

The server runs with ``JIFEN_PROJECTION=background`` (acknowledged = appended to the log);
every ``LAG_POLL_S`` the log head and the projector's cursor are read, and the projection lag
of a reading is how long ago the log first held a batch the ledger still lacks (an upper
bound: the batch was logged at most one poll before that).
"""

import asyncio
import os
import random
import sqlite3
import time
from pathlib import Path

import httpx

from schema.types import GENESIS
from schema.wire import PullPage, PullRequest
from sync import codec
from sync.batch import build_batch
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE, PROTOCOL_VERSION

from bench.data import EventMaker
from bench.harness import Figure, Spread
from bench.procs import ServerProcess, SimKiosk, enroll_kiosks, log_position, serving_env

SHOPS = ("S01", "S02", "ST01", "ST02", "ST03", "ST04")
THINK_S = (2.5, 7.5)  # seconds between two syncs of one kiosk
LAG_POLL_S = 0.1  # seconds between two readings of the projection lag


def lag_of(readings: list[tuple[float, int, int]]) -> list[float]:
    """Projection lag (s) at each (time, log head, cursor) reading: since the first earlier
    reading whose log head was past the cursor, plus one poll (0 when caught up)."""
    out = []
    first = 0  # readings before ``first`` had heads at or below every later cursor
    for t, head, cursor in readings:
        if cursor >= head:
            out.append(0.0)
            continue
        while readings[first][1] <= cursor:
            first += 1
        out.append(t - readings[first][0] + LAG_POLL_S)
    return out


class Stats:
    def __init__(self):
        self.acks: list[float] = []
        self.pulls: list[float] = []
        self.round_s: list[float] = []  # push and its pulls, each round
        self.errors: list[str] = []
        self.events = 0
        self.rounds = 0


async def kiosk_loop(client: httpx.AsyncClient, k: SimKiosk, cards: list[str], cursor: int, until: float,
                     stats: Stats, think: tuple[float, float] = THINK_S) -> None:
    rng = random.Random(k.id)
    maker = EventMaker(k.id, cards)
    seq, prev = 0, GENESIS
    while True:
        await asyncio.sleep(rng.uniform(*think))
        if time.monotonic() >= until:
            return
        events = maker.take(rng.randrange(1, 21))
        seq += 1
        body = build_batch(k.id, seq, prev, events[-1].at, events)
        prev = codec.digest(body)
        headers = {HEADER_KIOSK: k.id, HEADER_SIGNATURE: k.key.sign("batch", body), "Content-Type": "application/json"}
        t = start = time.perf_counter()
        try:
            r = await client.post("/v1/push", content=body, headers=headers)
            if r.status_code != 200 or b'"status":"applied"' not in r.content:
                stats.errors.append(f"push {k.id}/{seq}: HTTP {r.status_code} {r.content[:160]!r}")
                return
            stats.acks.append(time.perf_counter() - t)
            stats.events += len(events)
            more = True
            while more:
                req = codec.encode(PullRequest(v=PROTOCOL_VERSION, kiosk=k.id, cursor=cursor, limit=2000,
                                               nonce=os.urandom(16).hex(), clock=int(time.time() * 1000), app="bench"))
                t = time.perf_counter()
                r = await client.post("/v1/pull", content=req, headers={
                    HEADER_KIOSK: k.id, HEADER_SIGNATURE: k.key.sign("pull", req), "Content-Type": "application/json"})
                stats.pulls.append(time.perf_counter() - t)
                if r.status_code != 200:
                    stats.errors.append(f"pull {k.id}: HTTP {r.status_code} {r.content[:160]!r}")
                    return
                page = codec.decode(r.content, PullPage)
                cursor, more = page.next, page.more
            stats.round_s.append(time.perf_counter() - start)
            stats.rounds += 1
        except httpx.HTTPError as exc:
            stats.errors.append(f"{k.id}: {type(exc).__name__} {exc}")
            return


def fleet_figure(sizes, cards: list[str], server_data: Path, work: Path, log, fleet: int | None = None,
                 name: str = "fleet") -> Figure:
    """``fleet`` kiosks (default ``sizes.fleet``) syncing at once for ``sizes.fleet_seconds``."""
    fleet = fleet or sizes.fleet
    with ServerProcess(server_data, env=serving_env(sizes.projection)) as srv:
        kiosks = []
        for i, shop in enumerate(SHOPS):
            n = fleet // len(SHOPS) + (1 if i < fleet % len(SHOPS) else 0)
            kiosks += enroll_kiosks(srv, shop, n, seed="fleet")
        with sqlite3.connect(f"file:{srv.data / 'server.db'}?mode=ro", uri=True) as conn:
            (cursor,) = conn.execute("SELECT coalesce(max(seq), 0) FROM feed").fetchone()
        log(f"  {len(kiosks)} kiosks enrolled; running {sizes.fleet_seconds:g}s")
        stats = Stats()
        rss: list[float] = []
        readings: list[tuple[float, int, int]] = []

        async def main():
            limits = httpx.Limits(max_connections=len(kiosks) + 8, max_keepalive_connections=len(kiosks) + 8)
            async with httpx.AsyncClient(base_url=srv.url, timeout=60, limits=limits) as client:
                until = time.monotonic() + sizes.fleet_seconds

                async def sample():
                    while time.monotonic() < until:
                        rss.append(srv.rss()[0])
                        await asyncio.sleep(0.5)

                async def lag():
                    while time.monotonic() < until:
                        readings.append((time.monotonic(), *log_position(srv.data)))
                        await asyncio.sleep(LAG_POLL_S)

                await asyncio.gather(sample(), lag(), *(kiosk_loop(client, k, cards, cursor, until, stats) for k in kiosks))

        t = time.perf_counter()
        asyncio.run(main())
        elapsed = time.perf_counter() - t
        peak = srv.rss()[1]
        projector_peak = srv.projector_rss()[1]
    acks = Spread.of([a * 1000 for a in stats.acks]) if stats.acks else Spread(0, 0, 0, 0)
    pulls = Spread.of([a * 1000 for a in stats.pulls]) if stats.pulls else Spread(0, 0, 0, 0)
    lags = Spread.of(lag_of(readings)) if readings else Spread(0, 0, 0, 0)
    log(f"  {stats.rounds} rounds, {stats.events} events, {len(stats.errors)} errors, ack p99 {acks.p99} ms, "
        f"projection lag p99 {lags.p99} s, peak RSS {peak:.0f} MB")
    many = len(kiosks) >= 1000
    limit = 250 if many else 100
    return Figure(
        name=name, title=f"{len(kiosks)} kiosks syncing at once for {sizes.fleet_seconds:g} s (push ack latency; "
                            "projection lag beside it)",
        unit="ms", value=acks,
        target=f"0 errors, ack p99 ≤ {limit} ms" + ("" if many else ", RSS ≤ 150 MB, projection lag p99 ≤ 2 s"),
        met=not stats.errors and (acks.p99 or acks.max) <= limit and (many or (peak <= 150 and (lags.p99 or lags.max) <= 2)),
        baseline={"projection_lag_s": lags},
        extra={"think_s": THINK_S, "offered_rounds_per_s": len(kiosks) / (sum(THINK_S) / 2), "errors": len(stats.errors), "error_sample": stats.errors[:3], "rounds": stats.rounds,
               "events": stats.events, "rounds_per_s": stats.rounds / elapsed, "pull_ms": pulls.__dict__,
               "server_peak_rss_mb": peak, "projection": sizes.projection,
               "projector_peak_rss_mb": projector_peak, "server_rss_samples_mb": [round(x) for x in rss[::4]]},
    )
