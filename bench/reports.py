"""Monthly reports at the city's scale: the public board and shop settlement, built by
``server.services.reports.report`` over the programme's residents and 3.2 million events
(history spread over three years, written straight into the database).
"""

import time
from pathlib import Path

from server.services import open_context
from server.settings import Settings
from sync.calendar import local_month

from bench.data import T0, write_server_history
from bench.harness import Figure, Spread, timed


def report_figures(sizes, cards: list[str], server_data: Path, work: Path, log) -> list[Figure]:
    try:
        from server.services.reports import report
        from server.services.staff import SYSTEM
    except ImportError as exc:  # the reports are being built alongside this benchmark
        return [Figure(name="reports", title="monthly board and settlement", unit="s", value=Spread(0, 0, 0, 0),
                       notes=f"not measured: {exc}")]
    t, _ = timed(lambda: write_server_history(server_data / "server.db", sizes.board_events, cards))
    log(f"  {sizes.board_events:,} events of history written in {t:.1f}s")
    ctx = open_context(Settings(data_dir=server_data))
    month = local_month(T0 - 40 * 86_400_000)  # the last full month of the history
    figures = []
    try:
        for kind in ("board", "settlement"):
            times, out = [], None
            for _ in range(sizes.repeats):
                t = time.perf_counter()
                out = report(ctx, SYSTEM, kind, month)
                times.append(time.perf_counter() - t)
            s = Spread.of(times)
            log(f"  {kind} {month}: {s.median:.2f}s, {len(out['rows'])} rows")
            figures.append(Figure(
                name=f"report_{kind}", title=f"monthly {kind} ({month}) at {len(cards):,} residents, "
                                             f"{sizes.board_events:,} events", unit="s", value=s, target="≤ 2 s",
                met=s.median <= 2, extra={"rows": len(out["rows"]), "month": month}))
    finally:
        ctx.close()
    return figures
