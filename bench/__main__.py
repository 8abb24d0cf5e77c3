"""``python -m bench [--quick | --tiny] [--only NAME ...]``: run the benchmarks, print a
table, write ``bench/results/latest.json``.

Sizes: the default is the issue's (500,000 residents, histories of 0 / 1M / 10M events,
200 and then 1,000 kiosks for 60 s, 3.2M events for the reports, the audit and the console); ``--quick`` shrinks them for a run of a few minutes and says so in
the results; ``--tiny`` is for the smoke test only.
"""

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bench import harness
from bench.data import programme
from bench.procs import PROJECTION_MODES, prepare_server


@dataclass(frozen=True)
class Sizes:
    name: str
    residents: int
    ingest_events: int  # per repeat, one kiosk
    concurrent: int  # kiosks pushing at once
    naive_events: int
    history: tuple[int, ...]
    week_offline: int
    kiosk_events: int  # events already stored on the kiosk for the record/lookup figures
    samples: int  # timed operations for p99 figures
    fleet: int
    fleet_many: int  # the second fleet figure's kiosks (the 1,000)
    fleet_seconds: float
    board_events: int
    repeats: int
    projection: str = "background"  # where the serving figures' server folds the log (not a size)


FULL = Sizes("full", 500_000, 100_000, 50, 2_000, (0, 1_000_000, 10_000_000), 20_000, 1_000_000, 2_000, 200, 1_000, 60, 3_200_000, 3)
QUICK = Sizes("quick", 50_000, 25_000, 50, 500, (0, 100_000, 1_000_000), 20_000, 200_000, 500, 200, 1_000, 20, 320_000, 2)
TINY = Sizes("tiny", 300, 1_000, 2, 20, (0, 1_000, 2_000), 500, 1_000, 30, 4, 8, 1.5, 2_000, 1)

BENCHES = ("ingest", "history", "kiosk", "noop", "fleet", "fleet_many", "reports", "audit", "console", "counties")
#: what runs without ``--only``: ``noop`` is the kiosk benchmark's no-op figures alone, for
#: measuring them without its first syncs, week offline and million-event history
DEFAULT = tuple(b for b in BENCHES if b != "noop")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="smaller sizes, a few minutes")
    g.add_argument("--tiny", action="store_true", help="a few seconds; for the smoke test")
    p.add_argument("--only", action="append", choices=BENCHES, help="run only this benchmark (repeatable)")
    p.add_argument("--residents", type=int, help="override the number of residents (for scaling runs)")
    p.add_argument("--fleet", type=int, help="override the number of simulated kiosks (for scaling runs)")
    p.add_argument("--counties", type=int, default=2, help="counties the county benchmark deals the communities over (2-8)")
    p.add_argument("--projection", choices=PROJECTION_MODES, default="background",
                   help="where the ingest and fleet servers fold the log: in the serving process (default) "
                        "or in a `jifen-server project` process beside it")
    p.add_argument("--out", type=Path, help="results file (default bench/results/latest.json)")
    p.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    args = p.parse_args(argv)
    sizes = TINY if args.tiny else QUICK if args.quick else FULL
    if args.residents or args.fleet:
        sizes = replace(sizes, residents=args.residents or sizes.residents, fleet=args.fleet or sizes.fleet)
    sizes = replace(sizes, projection=args.projection)
    only = args.only or list(DEFAULT)
    work = args.work or Path(tempfile.mkdtemp(prefix="jifen-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()

    def log(msg: str) -> None:
        print(f"[{time.time() - started:7.1f}s] {msg}", file=sys.stderr, flush=True)

    figures = run(sizes, only, work, log, strict=args.tiny, counties=args.counties)
    print(harness.table(figures))
    if any(f.name.startswith("console_") for f in figures):
        from bench.console import table

        print("\nconsole pages (ms, loopback round trip; use case: the page's use case alone, in-process)")
        print(table(figures))
    meta = {"sizes": asdict(sizes), "only": only, "started": started, "seconds": round(time.time() - started, 1)}
    path = harness.write(figures, meta, args.out)
    print(f"\nwritten {path} in {meta['seconds']} s ({sizes.name} sizes)")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def run(sizes: Sizes, only: list[str], work: Path, log, strict: bool = False, counties: int = 2) -> list[harness.Figure]:
    from bench import audit, console, counties as county_bench, fleet, ingest, kiosk_figures, reports

    log(f"programme: {sizes.residents:,} residents, 120 communities ({sizes.name} sizes)")
    prog = programme(sizes.residents)
    cards = [r["card"] for r in prog.residents]
    t = time.perf_counter()
    prepared = prepare_server(work / "server-fresh", sizes.residents, cache=work / "server-prepared")
    log(f"server data prepared in {time.perf_counter() - t:.1f}s")

    def fresh(name: str) -> Path:
        return prepare_server(work / name, sizes.residents, cache=work / "server-prepared")

    steps = {
        "ingest": lambda: ingest.ingest_figures(sizes, cards, fresh("server-ingest"), work, log),
        "history": lambda: [ingest.history_figure(sizes, cards, work / "server-prepared", work, log)],
        "kiosk": lambda: kiosk_figures.kiosk_figures(sizes, prog, fresh("server-kiosk"), work, log),
        "noop": lambda: kiosk_figures.noop_figures(sizes, fresh("server-noop"), work, log),
        "fleet": lambda: [fleet.fleet_figure(sizes, cards, fresh("server-fleet"), work, log)],
        "fleet_many": lambda: [fleet.fleet_figure(sizes, cards, fresh("server-fleet-many"), work, log, sizes.fleet_many,
                                                  "fleet_many")],
        "reports": lambda: report_figures(sizes, cards, fresh("server-reports"), work, log),
        "audit": lambda: audit.audit_figures(sizes, cards, fresh("server-audit"), work, log),
        "console": lambda: console.console_figures(sizes, cards, work, log),
        "counties": lambda: county_bench.counties_figures(sizes, counties, work, log),
    }
    report_figures = reports.report_figures
    figures: list[harness.Figure] = []
    for name in BENCHES:
        if name not in only:
            continue
        log(name)
        try:
            figures += steps[name]()
        except Exception as exc:  # one broken benchmark must not cost the others' figures
            log(f"  {name} FAILED: {type(exc).__name__}: {exc}")
            if strict:
                raise
            figures.append(harness.Figure(name=name, title=f"{name}: failed", unit="", value=harness.Spread(0, 0, 0, 0),
                                          met=False, notes=f"{type(exc).__name__}: {exc}"))
    del prepared
    return figures


if __name__ == "__main__":
    raise SystemExit(main())
