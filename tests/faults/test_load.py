"""Suite 5, load: 200+ simulated kiosks push signed batches and pull pages concurrently
against a real ``jifen-server serve`` on loopback for a bounded time. Zero lost or
duplicated events and zero errors are asserted; ack latency (p50/p99), throughput and the
server's memory are printed, never asserted (no timed assertions).

On SQLite and on PostgreSQL (``backends``), the same load and the same assertions.
Default: 6 s; JIFEN_LONG=1: 120 s. JIFEN_LOAD_KIOSKS overrides the number of kiosks.
"""

import asyncio
import logging
import os
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec
import pytest

from schema.types import CENTRAL_KIOSK, GENESIS
from schema.wire import Award, EnrollRequest, PullRequest
from server.services import open_context
from server.services.enroll import enroll_code
from server.services.staff import SYSTEM
from server.store import catalog
from sync import codec
from sync.batch import build_batch, event_id
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE
from sync.signing import SigningKey, VerifyKey
from tests.e2e.conftest import ServerProcess, free_port
from tests.faults.backends import BACKENDS
from tests.faults.conftest import LONG

KIOSKS = int(os.environ.get("JIFEN_LOAD_KIOSKS", 200))
SECONDS = 120 if LONG else 6


@dataclass
class LoadKiosk:
    key: SigningKey
    code: str
    id: str = ""
    seq: int = 0
    prev: str = GENESIS
    kseq: int = 0
    cursor: int = 0
    acked_events: int = 0
    unacked: tuple[bytes, str, int] | None = None  # (body, signature, events) sent, no ack yet
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pulls: int = 0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def enroll(client: httpx.AsyncClient, k: LoadKiosk) -> None:
    proof = k.key.sign("enroll", f"{k.code}\n{k.key.public_hex}".encode())
    body = codec.encode(EnrollRequest(v=1, code=k.code, public_key=k.key.public_hex, label="load", proof=proof))
    r = await client.post("/v1/enroll", content=body)
    assert r.status_code == 200, r.text
    k.id = msgspec.json.decode(r.content)["kiosk"]


async def push(client: httpx.AsyncClient, k: LoadKiosk, body: bytes, signature: str, n: int) -> bool:
    t = time.perf_counter()
    try:
        r = await client.post("/v1/push", content=body, headers={HEADER_KIOSK: k.id, HEADER_SIGNATURE: signature})
    except httpx.HTTPError as exc:
        k.errors.append(f"push {type(exc).__name__}")
        return False
    k.latencies.append(time.perf_counter() - t)
    if r.status_code != 200:
        k.errors.append(f"push {r.status_code} {r.text[:200]}")
        return False
    k.acked_events += n
    k.unacked = None
    return True


async def run_kiosk(client: httpx.AsyncClient, k: LoadKiosk, cards: list[str], until: float, server_key: VerifyKey, rng: random.Random) -> None:
    while time.monotonic() < until:
        if k.unacked is None:
            events = []
            for _ in range(rng.randint(1, 5)):
                k.kseq += 1
                events.append(Award(id=event_id(k.id, k.kseq), kseq=k.kseq, at=int(time.time() * 1000), operator="op1",
                                    resident=rng.choice(cards), rule="ZYFW", points=10))
            k.seq += 1
            body = build_batch(k.id, k.seq, k.prev, int(time.time() * 1000), events)
            k.prev = codec.digest(body)
            k.unacked = (body, k.key.sign("batch", body), len(events))
        if not await push(client, k, *k.unacked):
            await asyncio.sleep(0.05)
            continue
        if rng.random() < 0.3:
            req = PullRequest(v=1, kiosk=k.id, cursor=k.cursor, limit=500, nonce=rng.randbytes(16).hex(), clock=int(time.time() * 1000))
            body = codec.encode(req)
            try:
                r = await client.post("/v1/pull", content=body, headers={HEADER_KIOSK: k.id, HEADER_SIGNATURE: k.key.sign("pull", body)})
            except httpx.HTTPError as exc:
                k.errors.append(f"pull {type(exc).__name__}")
                continue
            if r.status_code != 200:
                k.errors.append(f"pull {r.status_code} {r.text[:200]}")
                continue
            if k.pulls % 10 == 0:
                server_key.verify("response", r.content, r.headers[HEADER_SIGNATURE])
            k.pulls += 1
            k.cursor = msgspec.json.decode(r.content)["next"]
    while k.unacked is not None and not k.errors:  # finish the batch in flight, exactly once
        await push(client, k, *k.unacked)


async def drive(url: str, kiosks: list[LoadKiosk], cards: list[str], server_key: VerifyKey) -> None:
    limits = httpx.Limits(max_connections=len(kiosks) + 10, max_keepalive_connections=len(kiosks) + 10)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60, headers={"content-type": "application/json"}) as client:
        for i in range(0, len(kiosks), 50):
            await asyncio.gather(*(enroll(client, k) for k in kiosks[i:i + 50]))
        until = time.monotonic() + SECONDS
        await asyncio.gather(*(run_kiosk(client, k, cards, until, server_key, random.Random(i)) for i, k in enumerate(kiosks)))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_200_kiosks_push_and_pull_at_once_without_loss_or_error(server_db):
    data = server_db.data
    ctx = open_context(server_db.settings())
    try:
        codes = [enroll_code(ctx, SYSTEM, ("S01", "S02")[i % 2])["code"] for i in range(KIOSKS)]
        server_key = VerifyKey(ctx.key.public_hex)
        with ctx.store.read() as db:
            cards = [r["card"] for r in catalog.list_rows(db, "residents")]
    finally:
        ctx.close()
    kiosks = [LoadKiosk(SigningKey(os.urandom(32)), code) for code in codes]
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a log line per request would load the driver
    srv = ServerProcess(data, free_port()).start()
    try:
        rss_before = rss_kib(srv.proc.pid)
        started = time.monotonic()
        asyncio.run(drive(srv.url, kiosks, cards, server_key))
        elapsed = time.monotonic() - started
        rss_after = rss_kib(srv.proc.pid)
    finally:
        srv.stop()
    errors = [e for k in kiosks for e in k.errors]
    assert not errors, errors[:10]
    with server_db.connect() as db:
        rows = dict((r[0], r[1:]) for r in db.execute(
            "SELECT kiosk, count(*), count(DISTINCT kseq), max(kseq) FROM events WHERE kiosk != ? GROUP BY kiosk", [CENTRAL_KIOSK]))
    for k in kiosks:
        assert rows.get(k.id, (0, 0, 0)) == (k.kseq, k.kseq, k.kseq or None) or (k.kseq == 0 and k.id not in rows), (k.id, rows.get(k.id), k.kseq)
        assert k.acked_events == k.kseq
    lat = sorted(x for k in kiosks for x in k.latencies)
    events = sum(k.kseq for k in kiosks)
    print(f"\nload on {server_db.backend}: {len(kiosks)} kiosks, {elapsed:.1f} s, {len(lat)} pushes ({len(lat) / elapsed:.0f}/s), "
          f"{sum(k.pulls for k in kiosks)} pulls, {events} events ({events / elapsed:.0f}/s); "
          f"ack latency p50 {statistics.median(lat) * 1000:.1f} ms, p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms; "
          f"server RSS {rss_before / 1024:.1f} -> {rss_after / 1024:.1f} MiB")
