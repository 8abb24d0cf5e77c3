"""County-scoped feeds (issue 15): the programme's communities dealt out over several
counties (``--counties N``, the demo generator's option), against a real server.

1. first sync of a new kiosk whose shop serves every community of its county, beside the
   same run's first sync of a kiosk mirroring the whole programme in one county (the
   single-county worst case, ``serve_all``), both in this process;
2. the signed on-demand lookup of a resident of another county (``POST /v1/lookup/resident``,
   the statement verified), beside the same run's ``/v1/health`` round trip.
"""

from pathlib import Path

from kiosk import settings as kiosk_settings
from kiosk.service import KioskService
from server.services.context import open_context
from server.services.demo import generate, load
from server.services.manage import set_shop_serves
from server.services.staff import SYSTEM
from server.settings import Settings
from server.store import catalog

from bench.data import COMMUNITIES, SEED
from bench.harness import Figure, Spread, timed
from bench.procs import ServerProcess, issue_codes, prepare_server

LOOKUPS = 50  # signed lookups a run times (the default allowance is 200 a kiosk a day)


def prepare_counties(data: Path, residents: int, counties: int) -> dict[str, list[str]]:
    """A server folder with the programme over ``counties`` counties, S01 serving every
    community of its county; each county's cards."""
    ctx = open_context(Settings(data_dir=data))
    try:
        prog = generate(residents, COMMUNITIES, SEED, counties)
        load(ctx, prog, SEED)
        with ctx.store.read() as db:
            county_of = catalog.community_counties(db)
            home = catalog.county_of_shop(db, "S01")
        set_shop_serves(ctx, SYSTEM, "S01", sorted(c for c, k in county_of.items() if k == home))
        by_county: dict[str, list[str]] = {}
        for r in prog.residents:
            by_county.setdefault(county_of[r["community"]], []).append(r["card"])
        return {"home": home, **by_county}
    finally:
        ctx.close()


def _first_sync(srv: ServerProcess, data: Path, code: str) -> tuple[float, KioskService, int]:
    svc = KioskService(kiosk_settings.load(data, lang="en", timeout=60.0))
    svc.enroll(srv.url, code)
    elapsed, result = timed(svc.sync)
    if not result.ok:
        raise RuntimeError(f"first sync failed: {result}")
    mirrored = svc.store.db.conn.execute("SELECT count(*) FROM residents").fetchone()[0]  # the bench's own look
    return elapsed, svc, mirrored


def counties_figures(sizes, counties: int, work: Path, log) -> list[Figure]:
    counties = max(counties, 2)
    cards = prepare_counties(work / "server-counties", sizes.residents, counties)
    home = cards.pop("home")
    away = [c for k, cs in cards.items() if k != home for c in cs]
    figures = []
    with ServerProcess(work / "server-counties") as srv:
        times, svc, mirrored = [], None, 0
        for r in range(sizes.repeats):
            (code,) = issue_codes(srv.data, "S01", 1)
            elapsed, svc, mirrored = _first_sync(srv, work / f"kiosk-county-{r}", code)
            times.append(elapsed)
            log(f"  county first sync {r + 1}: {elapsed:.1f}s, {mirrored:,} residents mirrored of {sizes.residents:,}")
            if r < sizes.repeats - 1:
                svc.close()
        try:
            lookups, health = [], []
            for card in (away * LOOKUPS)[:LOOKUPS]:
                health.append(timed(svc.probe)[0] * 1000)
                lookups.append(timed(lambda: svc.online.statement(card))[0] * 1000)
        finally:
            svc.close()
    with ServerProcess(prepare_server(work / "server-county-base", sizes.residents, cache=work / "server-prepared")) as base:
        (code,) = issue_codes(base.data, "S01", 1, serve_all=True)
        whole, other, whole_mirrored = _first_sync(base, work / "kiosk-county-base", code)
        other.close()
    t, w = Spread.of(times), Spread.of([whole])
    figures.append(Figure(
        name="county_first_sync", title=f"first sync of a kiosk mirroring its county: {mirrored:,} of {sizes.residents:,} "
                                         f"residents ({counties} counties, in process)",
        unit="s", value=t, target="a county's share of the whole-programme first sync", met=t.median < w.median,
        baseline={"whole_programme_first_sync": w}, ratios={"of_whole": round(t.median / w.median, 3)},
        extra={"mirrored": mirrored, "whole_mirrored": whole_mirrored, "counties": counties}))
    lk, hp = Spread.of(lookups), Spread.of(health)
    figures.append(Figure(
        name="county_signed_lookup", title="signed lookup of another county's resident (POST /v1/lookup/resident, verified)",
        unit="ms", value=lk, target="p99 ≤ 250 ms (a counter waits on it)", met=(lk.p99 or lk.max) <= 250,
        baseline={"health_round_trip": hp}, ratios={"of_health": round(lk.median / hp.median, 2)}))
    return figures
