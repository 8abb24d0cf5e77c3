"""The staff console at the city's scale: every page a staff member opens, requested from a
real ``jifen-server serve`` process over HTTP by a signed-in admin, timed per page (median
and p95 against the issue's 300 ms), beside two limits measured in the same run — the
round trip of the server's most trivial answer (``/v1/health``) and the page's use case
called alone, in this process, on the same database (``use case``): what is left between
the two is rendering and HTTP.

The database: the programme (``bench.data.programme``), ``board_events`` of history ending
just before now recorded by enrolled kiosks (so this month and last month are full), one
resident with a long history, open review items on real events, shift reports, staff
accounts and a year of audit rows. Built once per size under ``--work``
(``console-<residents>-<events>``) and reused when that folder is given again.

Timings are client-side on loopback with a kept-alive connection: an upper bound on the
server's own time (the health round trip shows what HTTP alone costs).
"""

import json
import random
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from schema.types import GENESIS
from schema.wire import ShiftClose, StockCount
from server.services import open_context
from server.services.reports import caught_up
from server.services.staff import SYSTEM, add_staff
from server.settings import Settings
from sync.calendar import local_month, month_bounds
from sync.checkpoint import audit_row_hash

from bench.audit import enroll_direct
from bench.data import PRICES, RULE_POINTS, connect_durable, event_row, write_server_history
from bench.harness import Figure, Spread
from bench.procs import ServerProcess, prepare_server

#: bumped whenever what ``prepare_console`` writes changes (a cached folder of another version is not reused)
DATA_VERSION = 2
PASSWORD = "bench-console-password"
#: the kiosk that recorded the long-history resident's events (not enrolled: history only)
LONG_KIOSK = "K88888888"
TARGET_MS = 300
#: per size: events of the one long-history resident, open review items, audit rows, kiosks
EXTRAS = {"full": (5_000, 3_000, 50_000, 100), "quick": (2_000, 1_000, 10_000, 50), "tiny": (200, 40, 300, 6)}
#: readings per page (after one warm-up request), and the time one page may take in all
SAMPLES = {"full": 20, "quick": 12, "tiny": 3}
PAGE_BUDGET_S = 40.0
#: the community whose own board is timed besides the city's, and an audit page deep in the log
COMMUNITY = "SQ07"
AUDIT_BEFORE = 300
REPORTS = ("board", "settlement", "issued", "coverage", "kiosks", "shifts")
REFERENCE = ("rules", "goods", "shops", "communities", "operators", "kiosks")
STAFF = (("recon1", "reconciler", ()), ("audit1", "auditor", ()), ("cm01", "community_manager", ("SQ01",)),
         ("cm02", "community_manager", ("SQ02", "SQ03")))


# ---------------------------------------------------------------- the database


def prepare_console(sizes, cards: list[str], work: Path, log) -> Path:
    """The console's database for ``sizes`` (built once; the folder holds ``ready`` after)."""
    data = work / f"console-v{DATA_VERSION}-{sizes.residents}-{sizes.board_events}"
    if (data / "ready").exists():
        log(f"  console data reused from {data}")
        return data
    if data.exists():
        shutil.rmtree(data)
    prepare_server(data, sizes.residents, cache=work / "server-prepared")
    long_n, n_reviews, n_audit, n_kiosks = EXTRAS[sizes.name]
    now = int(time.time() * 1000)
    end = now - 3 * 86_400_000  # the history's last events fall around now (±3 days at full size)
    keys = enroll_direct(data, n_kiosks)
    shops = {k: shop for k, (_, shop) in keys.items()}
    t = time.perf_counter()
    heads = write_server_history(data / "server.db", sizes.board_events, cards, kiosk_shops=shops, end=end)
    log(f"  {sizes.board_events:,} events of history written in {time.perf_counter() - t:.1f}s")
    long_kiosk = next(iter(shops))
    heads |= write_server_history(data / "server.db", long_n, [long_card(cards)], kiosk_shops={LONG_KIOSK: shops[long_kiosk]},
                                  end=end, seed=7)
    conn = connect_durable(data / "server.db")
    try:
        conn.execute("BEGIN")
        _kiosk_state(conn, heads, now)
        _shift_closes(conn, heads, shops, now)
        _reviews(conn, n_reviews, long_card(cards))
        _audit_rows(conn, n_audit, now)
        conn.execute("COMMIT")
    finally:
        conn.close()
    ctx = open_context(Settings(data_dir=data))
    try:
        add_staff(ctx, SYSTEM, "admin", "admin", PASSWORD)
        for username, role, communities in STAFF:
            add_staff(ctx, SYSTEM, username, role, PASSWORD, communities)
        t = time.perf_counter()
        caught_up(ctx)  # the month sums over the history written above (the server's tick would do it too)
        log(f"  month sums caught up over the history in {time.perf_counter() - t:.1f}s")
    finally:
        ctx.close()
    (data / "ready").write_text("ok\n")
    return data


def long_card(cards: list[str]) -> str:
    return cards[len(cards) // 2]


def _kiosk_state(conn, heads: dict[str, tuple[int, int]], now: int) -> None:
    """Each enrolled kiosk's chain head and last contact as its history left them; one in
    ten silent for two days (the dashboard lists those)."""
    for i, (kiosk, (seq, last_at)) in enumerate(sorted(heads.items())):
        seen = now - (2 * 86_400_000 if i % 10 == 0 else 600_000 + i * 1000)
        conn.execute("UPDATE kiosks SET next_seq = ?, last_push_at = ?, last_pull_at = ? WHERE id = ?",
                     [seq + 1, seen, seen, kiosk])


def _shift_closes(conn, heads: dict[str, tuple[int, int]], shops: dict[str, str], now: int) -> None:
    """A shift report per kiosk per day for the last 60 days, with counted stock (a few off)."""
    rng = random.Random("console:shifts")
    rows = []
    for kiosk, shop in shops.items():
        seq = heads.get(kiosk, (1, 0))[0]
        for day in range(60):
            at = now - day * 86_400_000 - 3_600_000
            counts = [StockCount(sku=s, expected=(e := rng.randrange(10, 80)), counted=e - (rng.random() < 0.1))
                      for s in PRICES]
            ev = ShiftClose(id=f"{kiosk}-{10**8 + day}", kseq=10**8 + day, at=at, operator="op1", first_kseq=1, events=rng.randrange(20, 120),
                            awarded=rng.randrange(0, 900), deducted=0, redeemed=rng.randrange(0, 600), counts=counts)
            rows.append(event_row(ev, kiosk, seq, at, shop))
    conn.executemany("INSERT INTO events(id, kiosk, batch_seq, kseq, kind, at, received_at, resident, operator, shop, body)"
                     " VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)


def _reviews(conn, n: int, long: str) -> None:
    """Open review items on stored events, of the kinds a push raises on them (a tenth on
    the long-history resident)."""
    awards = conn.execute("SELECT id, kiosk, shop, resident, at, json_extract(body, '$.rule'), json_extract(body, '$.points')"
                          " FROM events WHERE kind = 'award' AND rowid % 997 = 0 LIMIT ?", [n]).fetchall()
    redeems = conn.execute("SELECT id, kiosk, shop, resident, at, json_extract(body, '$.total') FROM events"
                           " WHERE kind = 'redeem' AND rowid % 499 = 0 LIMIT ?", [n // 3]).fetchall()
    mine = conn.execute("SELECT id, kiosk, shop, resident, at, json_extract(body, '$.rule'), json_extract(body, '$.points')"
                        " FROM events WHERE resident = ? AND kind = 'award' LIMIT ?", [long, max(1, n // 10)]).fetchall()
    rows = []
    for i, (ev, kiosk, shop, card, at, rule, points) in enumerate(awards[:n - len(redeems) - len(mine)] + mine):
        if i % 2:
            kind, detail = "rule_value_mismatch", {"rule": rule, "recorded": points, "current": RULE_POINTS[rule] + 5}
        else:
            kind, detail = "cap_exceeded", {"rule": rule, "period": "d", "count": 3, "cap": 2}
        rows.append((kind, at + 60_000, kiosk, ev, card, shop, json.dumps(detail, sort_keys=True)))
    for ev, kiosk, shop, card, at, total in redeems:
        rows.append(("overdraft", at + 60_000, kiosk, ev, card, shop,
                     json.dumps({"balance_after": -total // 2, "total": total, "shop": shop}, sort_keys=True)))
    rows.sort(key=lambda r: r[1])
    conn.executemany("INSERT INTO review_items(kind, created_at, kiosk, event, resident, shop, detail) VALUES (?,?,?,?,?,?,?)", rows)


def _audit_rows(conn, n: int, now: int) -> None:
    """A year of staff actions, as the use cases write them."""
    rng = random.Random("console:audit")
    users = ["admin"] + [s[0] for s in STAFF]
    makers = [
        ("sign_in", lambda u: (u, {})),
        ("sign_out", lambda u: (u, {})),
        ("resident_put", lambda u: (f"5106810{rng.randrange(1, 9)}{rng.randrange(1, 99999):05d}",
                                    {"outcome": "changed", "community": "SQ01", "status": "active"})),
        ("review_resolve", lambda u: (str(rng.randrange(1, 3000)), {"action": "accept", "points": None, "event": None,
                                                                    "note": "已核实", "kind": "cap_exceeded"})),
        ("enroll_code", lambda u: ("S01", {"expires_at": now})),
        ("board_publish", lambda u: ("2026-10", {"moved": 120})),
        ("residents_import", lambda u: ("SQ02", {"added": 12, "updated": 3, "unchanged": 400, "refused": 1, "encoding": "gb18030"})),
        ("checkpoint", lambda u: (str(rng.randrange(1, 400)), {"size": 1000, "head": "0" * 64})),
    ]
    last_id, head = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone() or (0, GENESIS)
    rows = []
    for i in range(n):
        action, make = makers[rng.randrange(len(makers))]
        user = users[rng.randrange(len(users))]
        subject, detail = make(user)
        row = {"id": last_id + 1 + i, "at": now - 365 * 86_400_000 + i * (365 * 86_400_000 // n), "staff": user,
               "action": action, "subject": subject, "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True)}
        head = audit_row_hash(head, row)
        rows.append(row | {"hash": head})
    conn.executemany("INSERT INTO audit_log(id, at, staff, action, subject, detail, hash)"
                     " VALUES (:id, :at, :staff, :action, :subject, :detail, :hash)", rows)


# ---------------------------------------------------------------- the pages


def register_csv(cards: list[str], n: int) -> bytes:
    """A register as Chinese spreadsheet software writes it (GB18030): half known residents
    with a new phone, half new ones, a few refused lines."""
    lines = ["卡号,姓名,手机,社区"]
    for i in range(n):
        if i % 50 == 49:
            lines.append(f"BAD{i},,123,SQ01")
        elif i % 2:
            lines.append(f"{cards[i * 7 % len(cards)]},王小明,139{i:08d},SQ{i % 120 + 1:02d}")
        else:
            lines.append(f"5106819{i:06d},李新{i % 10},138{i:08d},SQ{i % 120 + 1:02d}")
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def pages(cards: list[str], month: str, review_ids: list[int], register: bytes) -> list[tuple[str, str, dict]]:
    """(name, path, options) of every page timed; options: ``post`` (multipart files) and
    ``use`` (the use case alone: a callable of (ctx, who))."""
    from server.services import counties, dashboard, history, manage, register as reg, review, staff
    from server.services import reports as rep

    card = long_card(cards)
    some = cards[len(cards) // 3]
    out = [
        ("dashboard", "/", {"use": lambda ctx, who: dashboard.overview(ctx, who)}),
        ("search_name", "/residents?q=王", {"use": lambda ctx, who: manage.find_residents(ctx, who, "王")}),
        ("search_initials", "/residents?q=zx", {"use": lambda ctx, who: manage.find_residents(ctx, who, "zx")}),
        ("search_card", f"/residents?q={some}", {"use": lambda ctx, who: manage.find_residents(ctx, who, some)}),
        ("search_phone_tail", "/residents?q=1234", {"use": lambda ctx, who: manage.find_residents(ctx, who, "1234")}),
        ("resident_long", f"/residents/{card}", {"use": lambda ctx, who: history.resident_history(ctx, who, card)}),
        ("resident_long_oldest", f"/residents/{card}?before=2", {"use": lambda ctx, who: history.resident_history(ctx, who, card, before=2)}),
        ("resident_typical", f"/residents/{some}", {"use": lambda ctx, who: history.resident_history(ctx, who, some)}),
        ("reviews", "/reviews", {"use": lambda ctx, who: review.page_of_items(ctx, who, True, None, None, 51)}),
        ("reviews_all", "/reviews?show=all", {"use": lambda ctx, who: review.page_of_items(ctx, who, False, None, None, 51)}),
    ]
    for i, item in enumerate(review_ids):
        out.append((f"review_item_{i + 1}", f"/reviews/{item}", {"use": lambda ctx, who, item=item: review.show_item(ctx, who, item)}))
    for kind in REPORTS:
        use = {"use": lambda ctx, who, kind=kind: rep.report(ctx, who, kind, month)}
        out.append((f"report_{kind}", f"/reports/{kind}?month={month}", use))
        for fmt in ("csv", "xlsx"):
            out.append((f"report_{kind}_{fmt}", f"/reports/{kind}/download?format={fmt}&month={month}", use))
    # one community's board: what is printed for a notice board and downloaded to be checked
    use = {"use": lambda ctx, who: rep.report(ctx, who, "board", month, COMMUNITY)}
    out.append(("report_board_one", f"/reports/board?month={month}&community={COMMUNITY}", use))
    out.append(("report_board_one_print", f"/reports/board/print?month={month}&community={COMMUNITY}", use))
    for fmt in ("csv", "xlsx"):
        out.append((f"report_board_one_{fmt}", f"/reports/board/download?format={fmt}&month={month}&community={COMMUNITY}", use))
    out.append(("report_issued_page_2", f"/reports/issued?month={month}&page=2", {}))
    for table in REFERENCE:
        out.append((f"reference_{table}", f"/reference?table={table}",
                    {"use": lambda ctx, who, table=table: manage.list_reference(ctx, who, table)}))
    out += [
        ("rule_history", "/reference/rules/LJFL/history", {"use": lambda ctx, who: manage.rule_history(ctx, who, "LJFL")}),
        ("counties", "/counties", {"use": lambda ctx, who: counties.overview(ctx, who)}),
        ("staff", "/staff", {"use": lambda ctx, who: staff.list_staff(ctx, who)}),
        ("audit_log", "/audit", {"use": lambda ctx, who: staff.audit_page(ctx, who, None, None, None, 201)}),
        ("audit_log_page_100", f"/audit?before={AUDIT_BEFORE}", {"use": lambda ctx, who: staff.audit_page(ctx, who, None, None, AUDIT_BEFORE, 201)}),
        ("audit_log_filtered", "/audit?staff=recon1&action=sign_in",
         {"use": lambda ctx, who: staff.audit_page(ctx, who, "recon1", "sign_in", None, 201)}),
        ("import_form", "/import", {}),
        ("import_preview", "/import/preview", {"post": {"file": ("register.csv", register, "text/csv")},
                                               "use": lambda ctx, who: reg.preview(ctx, who, register, None, "zh")}),
    ]
    return out


def sign_in(client: httpx.Client) -> str:
    """Sign in as ``admin`` the way a browser does; returns the CSRF token of the session."""
    form = client.get("/signin")
    token = re.search(r'name="_csrf" value="([^"]+)"', form.text).group(1)
    r = client.post("/signin", data={"_csrf": token, "username": "admin", "password": PASSWORD, "next": "/"})
    if r.status_code != 303:
        raise RuntimeError(f"sign-in failed: HTTP {r.status_code} {r.text[:300]}")
    page = client.get("/")
    return re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)


def timings(fn: Callable[[], object], samples: int, budget_s: float = PAGE_BUDGET_S) -> list[float]:
    """Milliseconds of ``samples`` calls after one warm-up (fewer when the page is so slow
    that the budget runs out, but at least three)."""
    fn()
    out, started = [], time.perf_counter()
    while len(out) < samples and (len(out) < 3 or time.perf_counter() - started < budget_s):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def console_figures(sizes, cards: list[str], work: Path, log) -> list[Figure]:
    t = time.perf_counter()
    data = prepare_console(sizes, cards, work, log)
    log(f"  console data ready in {time.perf_counter() - t:.1f}s")
    now = int(time.time() * 1000)
    month = local_month(month_bounds(local_month(now))[0] - 1)  # last month: a full one
    samples = SAMPLES[sizes.name]
    with ServerProcess(data) as server:
        ctx = open_context(Settings(data_dir=data))
        try:
            with httpx.Client(base_url=server.url, timeout=120) as client:
                csrf = sign_in(client)
                from server.services import review
                ids = [r["id"] for r in review.page_of_items(ctx, SYSTEM, True, None, None, 3)]
                mine = review.list_items(ctx, SYSTEM, open_only=True)
                ids += [r["id"] for r in mine if r.get("resident") == long_card(cards)][:1]
                health = Spread.of(timings(lambda: _ok(client.get("/v1/health")), samples * 3))
                log(f"  /v1/health {health.median:.2f} ms")
                figures = []
                for name, path, opts in pages(cards, month, ids, register_csv(cards, 2000 if sizes.name != "tiny" else 50)):
                    if "post" in opts:
                        def call(path=path, files=opts["post"]):
                            return _ok(client.post(path, files=files, headers={"X-CSRF-Token": csrf}))
                    else:
                        def call(path=path):
                            return _ok(client.get(path))
                    size = len(call().content)
                    value = Spread.of(timings(call, samples))
                    baseline = {"health": health}
                    if "use" in opts:
                        baseline["use case"] = Spread.of(timings(lambda use=opts["use"]: use(ctx, SYSTEM), max(3, samples // 2), 20))
                    worst = value.p95 if value.p95 is not None else value.max
                    extra = {"path": path, "bytes": size, "month": month}
                    if "format=csv" in path:  # streamed: when the first rows reach the client, beside the whole file
                        first = Spread.of(timings(lambda path=path: _first_byte(client, path), samples))
                        extra["first_byte_ms"] = {"median": round(first.median, 1), "p95": round(first.p95 or first.max, 1)}
                        log(f"  {name:<24} first byte median {first.median:8.1f} ms  p95 {first.p95 or first.max:8.1f} ms")
                    log(f"  {name:<24} median {value.median:8.1f} ms  p95 {worst:8.1f} ms  {size:>9,} bytes")
                    figures.append(Figure(
                        name=f"console_{name}", title=f"console page {path} ({sizes.residents:,} residents, "
                                                      f"{sizes.board_events:,} events)",
                        unit="ms", value=value, target=f"≤ {TARGET_MS} ms (p95)", met=worst <= TARGET_MS, baseline=baseline,
                        ratios={k: value.median / b.median for k, b in baseline.items() if b.median > 0},
                        extra=extra))
        finally:
            ctx.close()
    return figures


def _first_byte(client: httpx.Client, path: str) -> None:
    """A download until its first bytes arrive; the connection is closed there."""
    with client.stream("GET", path) as r:
        _ok(r)
        next(r.iter_raw())


def _ok(r: httpx.Response) -> httpx.Response:
    if r.status_code != 200:
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: HTTP {r.status_code} {r.text[:300]}")
    return r


def table(figures: list[Figure]) -> str:
    """The console's figures, one line a page: median and p95 against the target, and the limits."""
    head = f"{'page':<28} {'median ms':>10} {'p95 ms':>8} {'target':>8} {'met':>4} {'use case ms':>12} {'health ms':>10} {'bytes':>10}"
    lines = [head, "-" * len(head)]
    for f in figures:
        if not f.name.startswith("console_"):
            continue
        v, use, health = f.value, f.baseline.get("use case"), f.baseline.get("health")
        p95 = v.p95 if v.p95 is not None else v.max
        lines.append(f"{f.name[8:]:<28} {v.median:>10.1f} {p95:>8.1f} {TARGET_MS:>8} {'yes' if f.met else 'NO':>4} "
                     f"{(f'{use.median:.1f}' if use else '-'):>12} {(f'{health.median:.2f}' if health else '-'):>10} "
                     f"{f.extra.get('bytes', 0):>10,}")
    return "\n".join(lines)
