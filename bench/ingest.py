"""Server ingest through the real HTTP push path, next to its raw limit and naive baseline.

* raw limit: plain ``sqlite3.executemany`` of the same rows (events and postings) into a
  fresh database with the server's schema, one transaction, durable pragmas;
* ingest: batches of 1,000 pre-signed by kiosks enrolled through /v1/enroll, pushed to a
  real ``jifen-server serve`` (``JIFEN_PROJECTION=background``: acknowledged = appended to
  the signed log) by one kiosk, and by many kiosks at once; beside each, how long until the
  projector had folded it into the ledger (confirmed);
* a week offline: 20,000 events from one kiosk in its own batches of 500, acknowledged and
  confirmed;
* projection, sustained: the whole stored log folded again into a scratch copy (what
  ``jifen-server reproject`` does), the fold and its writes alone timed;
* naive baseline: the same protocol, one HTTP request per event;
* history: the one-kiosk rate again with millions of events already stored.
"""

import shutil
from pathlib import Path

from server.services import projector
from server.store import log as logstore
from server.store import open_store
from sync.protocol import KIOSK_BATCH_EVENTS

from bench.data import EVENT_INSERT, POSTING_INSERT, EventMaker, connect_durable, event_row, posting_rows, \
    signed_batches, write_server_history
from bench.harness import Figure, Spread, timed
from bench.procs import ServerProcess, enroll_kiosks, push_batches, serving_env, wait_projected

#: events per pushed batch in the ingest figures
BATCH = 1_000


def raw_limit(work_dir: Path, events_by_kiosk: dict[str, list]) -> float:
    """events/s of plain executemany of the same event and posting rows, one transaction."""
    path = work_dir / "raw.db"
    for p in work_dir.glob("raw.db*"):
        p.unlink()
    open_store(path).close()  # the server's own schema and indexes
    ev_rows, post_rows = [], []
    for kiosk, events in events_by_kiosk.items():
        for ev in events:
            ev_rows.append(event_row(ev, kiosk, ev.kseq // BATCH + 1, ev.at))
            post_rows.extend(posting_rows(ev))
    conn = connect_durable(path)
    conn.execute("PRAGMA foreign_keys=OFF")  # no batch rows here: the events alone

    def run():
        conn.execute("BEGIN")
        conn.executemany(EVENT_INSERT, ev_rows)
        conn.executemany(POSTING_INSERT, post_rows)
        conn.execute("COMMIT")

    elapsed, _ = timed(run)
    conn.close()
    return len(ev_rows) / elapsed


def make_work(kiosks, cards: list[str], per_kiosk: int, batch: int = BATCH) -> tuple[dict, dict]:
    """(kiosk -> signed batches, kiosk -> events) for kiosks that have pushed nothing yet."""
    work, events = {}, {}
    for k in kiosks:
        evs = EventMaker(k.id, cards).take(per_kiosk)
        events[k.id] = evs
        work[k.id] = signed_batches(k.key, k.id, evs, batch)
    return work, events


def ingest_figures(sizes, cards: list[str], server_data: Path, work_dir: Path, log) -> list[Figure]:
    """ingest_1, ingest_50 (acknowledged, and confirmed beside it), week_offline,
    projection, naive — with the raw limit measured on the same rows each repeat."""
    figures = []
    with ServerProcess(server_data, env=serving_env(sizes.projection)) as srv:
        for name, n_kiosks in (("ingest_1", 1), (f"ingest_{sizes.concurrent}", sizes.concurrent)):
            per_kiosk = max(BATCH, sizes.ingest_events // n_kiosks // BATCH * BATCH)
            rates, raws, lat, errors, confirmed = [], [], [], [], []
            for r in range(sizes.repeats):
                kiosks = enroll_kiosks(srv, "S01", n_kiosks, seed=f"{name}:{r}")
                work, events = make_work(kiosks, cards, per_kiosk)
                total = sum(len(v) for v in events.values())
                run = push_batches(srv.url, work, total)
                confirmed.append(total / (wait_projected(srv.data) - run.started))
                rates.append(run.rate)
                lat += run.latencies
                errors += run.errors
                raws.append(raw_limit(work_dir, events))
                log(f"  {name} repeat {r + 1}: acknowledged {run.rate:,.0f} events/s, confirmed {confirmed[-1]:,.0f}/s "
                    f"({total} events, {len(run.errors)} errors); raw {raws[-1]:,.0f}/s")
            value, raw = Spread.of(rates), Spread.of(raws)
            one = n_kiosks == 1
            figures.append(Figure(
                name=name, title=f"acknowledged ingest over HTTP, batches of {BATCH:,}, {n_kiosks} kiosk(s) at once, "
                                 f"{sizes.residents:,} residents",
                unit="events/s", value=value, target="≥ 60,000/s and ≥ 60% of raw" if one else "≥ 60,000/s",
                met=value.median >= 60_000 and (not one or value.median >= 0.6 * raw.median),
                baseline={"raw_executemany": raw, "confirmed": Spread.of(confirmed)},
                ratios={"of_raw": value.median / raw.median},
                extra={"events_per_repeat": n_kiosks * per_kiosk, "errors": len(errors), "error_sample": errors[:3],
                       "batch_ack_s": Spread.of(lat).__dict__ if lat else None},
            ))
        figures.append(week_offline_figure(sizes, cards, srv, log))
        # naive baseline: one request per event (a batch of one), same server, same run
        # The server's per-kiosk rate limit allows bursts of 300 requests: the naive
        # sender moves to the next kiosk every 250 events, one kiosk after another.
        rates = []
        for r in range(sizes.repeats):
            per = min(250, sizes.naive_events)
            kiosks = enroll_kiosks(srv, "S01", -(-sizes.naive_events // per), seed=f"naive:{r}")
            elapsed, n, errors = 0.0, 0, 0
            for k in kiosks:
                work, events = make_work([k], cards, per, batch=1)
                run = push_batches(srv.url, work, per)
                elapsed, n, errors = elapsed + run.elapsed, n + per, errors + len(run.errors)
            rates.append(n / elapsed)
            log(f"  naive repeat {r + 1}: {rates[-1]:,.0f} events/s ({errors} errors)")
        naive = Spread.of(rates)
        one = figures[0].value
        figures.append(Figure(
            name="naive_per_event", title="baseline: one HTTP request per event", unit="events/s", value=naive,
            target="report the ratio", baseline={"ingest_1": one}, ratios={"batched_over_naive": one.median / naive.median},
        ))
        figures[0].extra["server_rss_mb"] = srv.rss()[1]
        wait_projected(srv.data)
    figures.append(projection_figure(sizes, server_data, work_dir, log))
    return figures


def week_offline_figure(sizes, cards: list[str], srv: ServerProcess, log) -> Figure:
    """A week offline from one kiosk (in its own batches of 500): acknowledged (first send
    to last reply) and confirmed (first send until the projector has it all)."""
    acks, confirmed = [], []
    for r in range(sizes.repeats):
        kiosks = enroll_kiosks(srv, "S01", 1, seed=f"week:{r}")
        work, _ = make_work(kiosks, cards, sizes.week_offline, batch=KIOSK_BATCH_EVENTS)
        run = push_batches(srv.url, work, sizes.week_offline)
        confirmed.append(wait_projected(srv.data, poll=0.005) - run.started)
        acks.append(run.elapsed)
        if run.errors:
            raise RuntimeError(f"week offline: {run.errors[:3]}")
        log(f"  week offline {r + 1}: {sizes.week_offline:,} events acknowledged in {acks[-1]:.2f}s, confirmed in {confirmed[-1]:.2f}s")
    a, c = Spread.of(acks), Spread.of(confirmed)
    return Figure(
        name="week_offline_ack", title=f"a week offline: {sizes.week_offline:,} events from one kiosk, acknowledged "
                                       "(confirmed beside it)",
        unit="s", value=a, target="acknowledged ≤ 0.5 s, confirmed ≤ 2 s", met=a.median <= 0.5 and c.median <= 2,
        baseline={"confirmed": c}, extra={"batch_events": KIOSK_BATCH_EVENTS})


def projection_figure(sizes, server_data: Path, work_dir: Path, log) -> Figure:
    """The sustained projection rate: everything the server holds in its log folded again,
    from an empty ledger, into a scratch copy — the fold and its set-based writes timed,
    not the copy. Each repeat starts from the emptied copy."""
    from server.settings import Settings

    settings = Settings(data_dir=server_data)
    rates, stored = [], 0
    for r in range(sizes.repeats):
        scratch = work_dir / "projection-scratch.db"
        store = logstore.scratch_copy(settings.db_path, scratch)
        try:
            with store.read() as db:
                batches = logstore.head(db)

            def fold_all() -> int:
                with store.write() as db:
                    return projector.catch_up_in(db, settings.projection_chunk_events)

            elapsed, stored = timed(fold_all)
        finally:
            store.close()
            for p in work_dir.glob(scratch.name + "*"):
                p.unlink()
        rates.append(stored / elapsed)
        log(f"  projection {r + 1}: {stored:,} events ({batches:,} logged batches) folded in {elapsed:.1f}s: {rates[-1]:,.0f}/s")
    v = Spread.of(rates)
    return Figure(
        name="projection", title=f"projection, sustained: the whole log ({stored:,} events) folded from an empty ledger, "
                                 f"{sizes.residents:,} residents",
        unit="events/s", value=v, target="≥ 20,000/s (10 M events stored)", met=v.median >= 20_000,
        extra={"events": stored, "chunk_events": settings.projection_chunk_events},
        notes="" if stored >= 10_000_000 else f"{stored:,} events stored, not 10 M, in this run")


def history_figure(sizes, cards: list[str], prepared: Path, work_dir: Path, log) -> Figure:
    """The one-kiosk ingest rate with 0 / mid / large histories already stored."""
    spreads = {}
    for h in sizes.history:
        data = work_dir / f"server-h{h}"
        if data.exists():
            shutil.rmtree(data)
        shutil.copytree(prepared, data)
        t, _ = timed(lambda: write_server_history(data / "server.db", h, cards))
        log(f"  history {h:,}: written in {t:.1f}s")
        rates = []
        with ServerProcess(data, env=serving_env(sizes.projection)) as srv:
            for r in range(sizes.repeats):
                kiosks = enroll_kiosks(srv, "S01", 1, seed=f"hist{h}:{r}")
                work, events = make_work(kiosks, cards, sizes.ingest_events)
                run = push_batches(srv.url, work, sizes.ingest_events)
                rates.append(run.rate)
                log(f"  history {h:,} repeat {r + 1}: {run.rate:,.0f} events/s")
        spreads[f"history_{h}"] = Spread.of(rates)
        shutil.rmtree(data)
    first, last = spreads[f"history_{sizes.history[0]}"], spreads[f"history_{sizes.history[-1]}"]
    return Figure(
        name="ingest_vs_history", title=f"one-kiosk ingest with {', '.join(f'{h:,}' for h in sizes.history)} events stored",
        unit="events/s", value=last, target="largest within 20% of empty",
        met=last.median >= 0.8 * first.median, baseline=spreads,
        ratios={"largest_over_empty": last.median / first.median},
        notes="" if sizes.history[-1] >= 10_000_000 else f"sizes reduced from 0/1M/10M to {sizes.history} for this run",
    )
