"""Kiosk figures, on one kiosk that lives through them in order, against a real server:

1. first sync of a new kiosk (the ``jifen-kiosk sync`` command, its own process, so its
   peak RSS is the kiosk's alone), repeated with new kiosks;
2. a week offline: 20,000 events recorded, then one ``sync`` end to end;
3. steady-state sync with nothing new (push + pull round trip, in the running service),
   over HTTP to the server process and in-process (the same service and database, its
   wire straight into the server's ASGI app on the kiosk's thread: no socket); ``--only
   noop`` runs this figure alone, on a kiosk enrolled and synced once for it;
4. with the history topped up to a million stored events: recording one event durably,
   and resident lookups by card, name fragment and phone tail.
"""

import asyncio
import random
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from kiosk import settings as kiosk_settings
from kiosk.cli import quiet_libraries
from kiosk.service import KioskService
from server.app import create_app
from server.settings import Settings as ServerSettings
from schema.types import GENESIS
from schema.wire import Award
from sync import codec

from bench.data import EventMaker
from bench.harness import Figure, Spread, timed
from bench.procs import ServerProcess, child_env, command, issue_codes


def run_measured(args: list[str], rss_file: Path) -> tuple[float, float, int]:
    """(wall seconds, the child's own peak RSS in MB, exit status) of a child process."""
    t = time.perf_counter()
    proc = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env={**child_env(), "JIFEN_BENCH_RSS": str(rss_file)})
    elapsed = time.perf_counter() - t
    return elapsed, float(rss_file.read_text()) if rss_file.exists() else float("nan"), proc.returncode


def enroll_cli(srv: ServerProcess, data: Path) -> None:
    (code,) = issue_codes(srv.data, "S01", 1, serve_all=True)
    subprocess.run([*command("jifen-kiosk"), "enroll", "--data", str(data), "--server", srv.url, "--code", code],
                   check=True, capture_output=True, env=child_env())


def record_events(svc: KioskService, cards: list[str], n: int) -> None:
    """``n`` awards appended through the store in one transaction (recorded offline)."""
    kiosk = svc.kiosk_id
    maker = EventMaker(kiosk, cards, seed=int(time.time()))
    with svc.store.transaction():
        for _ in range(n):
            ev = maker.next()
            while not isinstance(ev, Award):
                ev = maker.next()
            svc.store.append_event(lambda kseq, ev=ev: Award(
                id=f"{kiosk}-{kseq}", kseq=kseq, at=int(time.time() * 1000), operator="op1", resident=ev.resident,
                rule=ev.rule, points=ev.points, note=""))


def top_up_history(svc: KioskService, cards: list[str], total: int) -> int:
    """Bring the kiosk's stored events to ``total``, written straight into its database as
    synced history: events chained as ``append_event`` would, in acknowledged batches of
    500 (placeholder outbox bodies: nothing on the recording path reads them)."""
    conn = svc.store.db.conn
    (have,) = conn.execute("SELECT count(*) FROM events").fetchone()
    last = conn.execute("SELECT kseq, chain FROM events ORDER BY kseq DESC LIMIT 1").fetchone()
    kseq, chain = last if last else (0, GENESIS)
    (seq,) = conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()
    kiosk = svc.kiosk_id
    maker = EventMaker(kiosk, cards, seed=7)
    at = int(time.time() * 1000) - 365 * 86_400_000
    need = total - have
    conn.execute("BEGIN")
    while need > 0:
        seq += 1
        rows = []
        for _ in range(min(500, need)):
            ev = maker.next()
            while not isinstance(ev, Award):
                ev = maker.next()
            kseq += 1
            at += 30_000
            body = codec.encode(Award(id=f"{kiosk}-{kseq}", kseq=kseq, at=at, operator="op1", resident=ev.resident,
                                      rule=ev.rule, points=ev.points, note=""))
            chain = codec.chain_hash(chain, body)
            rows.append((kseq, f"{kiosk}-{kseq}", "award", at, ev.resident, "op1", None, body, chain, seq))
        conn.executemany("INSERT INTO events (kseq, id, kind, at, resident, operator, target, body, chain, batch_seq)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        conn.execute("INSERT INTO outbox (seq, hash, prev, body, signature, created_at, sent_at, acked_at, ack_status, ack_feed)"
                     " VALUES (?, ?, ?, x'7b7d', '', ?, ?, ?, 'applied', 0)", (seq, f"{seq:064x}", f"{seq - 1:064x}", at, at, at))
        need -= len(rows)
    conn.execute("COMMIT")
    return total


class InProcess(httpx.BaseTransport):
    """A kiosk's wire straight into the server's ASGI app in this process: the request's
    method, path, body and headers as sent, the response as answered (signed by the app).

    The app runs on this transport's own event loop, its lifespan started once (``start``)
    and ended by ``close``; each request is one ``app(scope, receive, send)`` call on that
    loop. Through Litestar's ``TestClient`` every request crossed into the thread of its
    blocking portal and back, and built a second ``httpx`` request and response: profiled,
    that was most of the in-process round's time (docs/SCALING.md, no-op sync)."""

    def __init__(self, app):
        self.app = app
        self.loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._lifespan: asyncio.Task | None = None

    def start(self) -> "InProcess":
        started = asyncio.Event()
        self._stop = asyncio.Event()

        async def lifespan() -> None:  # entered and left in one task, as a server does
            async with self.app.lifespan():
                started.set()
                await self._stop.wait()

        self._lifespan = self.loop.create_task(lifespan())
        self.loop.run_until_complete(asyncio.wait([self._lifespan, self.loop.create_task(started.wait())],
                                                  return_when=asyncio.FIRST_COMPLETED))
        if self._lifespan.done():
            self._lifespan.result()  # startup failed: say why
        return self

    def close(self) -> None:
        if self._lifespan is not None:
            self._stop.set()
            self.loop.run_until_complete(self._lifespan)
            self._lifespan = None
        self.loop.close()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        status, headers, body = self.loop.run_until_complete(self._call(request))
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def _call(self, request: httpx.Request) -> tuple[int, list, bytes]:
        body = request.read()
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
            "scheme": request.url.scheme, "path": request.url.path, "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query, "root_path": "", "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80), "state": {},
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
        }
        sent = False
        reply: dict = {"status": 500, "headers": [], "body": []}

        async def receive() -> dict:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                reply["status"], reply["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                reply["body"].append(message.get("body", b""))

        await self.app(scope, receive, send)
        return reply["status"], reply["headers"], b"".join(reply["body"])


def noop_syncs(svc: KioskService, samples: int) -> Spread:
    """ms of each sync round when nothing is new, after five warm-up rounds, with the
    kiosk's logging as ``jifen-kiosk`` sets it up (this process's is Litestar's, at INFO)."""
    quiet_libraries()
    for _ in range(5):
        svc.sync()
    noop = []
    for _ in range(max(20, samples // 10)):
        elapsed, result = timed(svc.sync)
        if not result.ok:
            raise RuntimeError(f"no-op sync failed: {result}")
        noop.append(elapsed * 1000)
    return Spread.of(noop)


def noop_in_process(server_data: Path, data: Path, samples: int, over_http: Spread) -> Figure:
    """The no-op round with the server's ASGI app in this process (``InProcess``)."""
    wire = InProcess(create_app(ServerSettings(data_dir=server_data))).start()
    try:
        svc = KioskService(kiosk_settings.load(data, lang="en", timeout=60.0), transport=wire)
        try:
            n = noop_syncs(svc, samples)
        finally:
            svc.close()
    finally:
        wire.close()
    return Figure(name="noop_sync_in_process", title="steady-state sync, nothing new, in-process (the server's "
                  "ASGI app called on the kiosk's thread, no socket)", unit="ms", value=n,
                  target="≤ 1 ms median in-process", met=n.median <= 1,
                  baseline={"over_http": over_http})


def noop_figures(sizes, server_data: Path, work: Path, log) -> list[Figure]:
    """The no-op round alone (``--only noop``): one kiosk enrolled and synced once, then
    rounds with nothing new over HTTP and in-process."""
    with ServerProcess(server_data) as srv:
        data = work / "kiosk-noop"
        shutil.rmtree(data, ignore_errors=True)  # a --work folder used before: a new kiosk
        enroll_cli(srv, data)
        svc = KioskService(kiosk_settings.load(data, lang="en", timeout=60.0))
        try:
            elapsed, result = timed(svc.sync)
            if not result.ok:
                raise RuntimeError(f"first sync failed: {result}")
            log(f"  first sync: {elapsed:.1f}s")
            n = noop_syncs(svc, sizes.samples)
        finally:
            svc.close()
    http = Figure(name="noop_sync", title="steady-state sync, nothing new (push + pull round trip over HTTP)",
                  unit="ms", value=n, target="≤ 2 ms median over HTTP", met=n.median <= 2)
    return [http, noop_in_process(server_data, data, sizes.samples, n)]


def p99_of(fn, args: list) -> Spread:
    times = []
    for a in args:
        t = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - t)
    return Spread.of([x * 1000 for x in times])


def kiosk_figures(sizes, prog, server_data: Path, work: Path, log) -> list[Figure]:
    cards = [r["card"] for r in prog.residents]
    figures = []
    with ServerProcess(server_data) as srv:
        # 1. first sync, each repeat a new kiosk
        times, rss = [], []
        data = None
        for r in range(sizes.repeats):
            data = work / f"kiosk-{r}"
            enroll_cli(srv, data)
            elapsed, peak, code = run_measured([*command("jifen-kiosk"), "sync", "--data", str(data)], work / f"rss-{r}.txt")
            if code != 0:
                raise RuntimeError(f"first sync exited {code}")
            times.append(elapsed)
            rss.append(peak)
            log(f"  first sync {r + 1}: {elapsed:.1f}s, peak RSS {peak:.0f} MB")
        t, r_ = Spread.of(times), Spread.of(rss)
        figures.append(Figure(
            name="first_sync", title=f"first sync of a new kiosk: {sizes.residents:,} residents + balances + catalogue "
                                     "(jifen-kiosk sync, whole process)",
            unit="s", value=t, target="≤ 10 s, RSS ≤ 100 MB", met=t.median <= 10 and r_.max <= 100,
            extra={"kiosk_peak_rss_mb": r_.__dict__, "residents": sizes.residents}))

        svc = KioskService(kiosk_settings.load(data, lang="en", timeout=60.0))
        try:
            # 2. a week offline, then one sync
            week = []
            for r in range(sizes.repeats):
                record_events(svc, cards, sizes.week_offline)
                elapsed, result = timed(svc.sync)
                if not result.ok:
                    raise RuntimeError(f"week-offline sync failed: {result}")
                week.append(elapsed)
                log(f"  week offline {r + 1}: {sizes.week_offline} events in {elapsed:.2f}s ({result.pushed} batches)")
            w = Spread.of(week)
            figures.append(Figure(
                name="week_offline", title=f"a week offline: {sizes.week_offline:,} events pushed by one kiosk, end to end",
                unit="s", value=w, target="≤ 2 s", met=w.median <= 2,
                extra={"events_per_s": sizes.week_offline / w.median}))

            # 3. steady state: nothing new
            n = noop_syncs(svc, sizes.samples)
            figures.append(Figure(name="noop_sync", title="steady-state sync, nothing new (push + pull round trip over HTTP)",
                                  unit="ms", value=n, target="≤ 2 ms median over HTTP", met=n.median <= 2))
        finally:
            svc.close()
    # 3b. the same in-process: the server's app in this process, the kiosk's wire into it
    figures.append(noop_in_process(server_data, data, sizes.samples, figures[-1].value))

    # 4. recording and lookups with a long history (the server is no longer needed)
    svc = KioskService(kiosk_settings.load(data, lang="en"), transport=None)
    try:
        t, _ = timed(lambda: top_up_history(svc, cards, sizes.kiosk_events))
        log(f"  kiosk history topped up to {sizes.kiosk_events:,} events in {t:.1f}s")
        rng = random.Random(11)
        svc.stock_in([(sku, 10_000) for sku in ("SOAP",)], "op1", note="bench")
        award = p99_of(lambda c: svc.award(c, "ZYFW", "op1"), [rng.choice(cards) for _ in range(sizes.samples)])
        # distinct residents who can afford it (a resident redeems once here)
        able = [c for c in dict.fromkeys(rng.choice(cards) for _ in range(sizes.samples * 3))
                if svc.balance(c).available >= 30]
        redeem = p99_of(lambda c: svc.redeem(c, [("SOAP", 1)], "op1"), able[: max(20, sizes.samples // 4)])
        figures.append(Figure(
            name="record_p99", title=f"kiosk: record one award durably, {sizes.residents:,} residents and "
                                     f"{sizes.kiosk_events:,} events stored",
            unit="ms", value=award, target="p99 ≤ 5 ms", met=award.p99 is not None and award.p99 <= 5,
            extra={"redeem_ms": redeem.__dict__}))
        lookups = lookup_figures(svc, prog, sizes.samples, rng)
        figures += lookups
        from bench.counter import counter_figure

        figures.append(counter_figure(svc, [rng.choice(cards) for _ in range(50)], min(50, sizes.samples),
                                      sizes.residents, sizes.kiosk_events))
    finally:
        svc.close()
    return figures


def lookup_figures(svc: KioskService, prog, samples: int, rng: random.Random) -> list[Figure]:
    people = [rng.choice(prog.residents) for _ in range(samples)]
    by_card = p99_of(svc.find_resident, [p["card"] for p in people])
    # what an operator types: a surname and one character of the given name, or a given name
    fragments = [p["name"][:2] if i % 2 else p["name"][1:] for i, p in enumerate(people)]
    by_name = p99_of(svc.find_resident, fragments)
    by_phone = p99_of(svc.find_resident, [p["phone"][-4:] for p in people])
    n = len(prog.residents)
    return [
        Figure(name="lookup_card", title=f"kiosk: resident by card, {n:,} residents", unit="ms", value=by_card,
               target="p99 ≤ 2 ms", met=by_card.p99 is not None and by_card.p99 <= 2),
        Figure(name="lookup_name", title=f"kiosk: residents by name fragment, {n:,} residents", unit="ms", value=by_name,
               target="p99 ≤ 20 ms", met=by_name.p99 is not None and by_name.p99 <= 20),
        Figure(name="lookup_phone", title=f"kiosk: residents by phone tail, {n:,} residents", unit="ms", value=by_phone,
               target="p99 ≤ 20 ms", met=by_phone.p99 is not None and by_phone.p99 <= 20),
    ]
