"""Reports tie out to the ledger: settlement per shop equals the shop's postings, points
issued equal the programme's postings; the public board ranks by points earned and never
shows a full name; CSV opens in spreadsheet software; the board reaches kiosks by pull."""

import csv
import io

import msgspec
import openpyxl
import pytest

from schema.wire import BoardRec
from server.cli import main
from server.services.reports import publish_board, report
from server.services.review import resolve
from server.services.staff import SYSTEM
from server.store import catalog
from sync.board import board_name
from sync.calendar import local_month, month_bounds
from tests.conftest import DAY, T0
from tests.server.helpers import reply_of
from tests.server.staff.conftest import CARD_C, SQ01_CARD, SQ02_CARD, overdraft

MONTH = local_month(T0)


@pytest.fixture
def activity(enrolled, ctx, clock):
    """A month of activity at two shops, plus one event in the next month."""
    k1, k2 = enrolled(1, "S01"), enrolled(2, "S02")
    a1 = k1.award(SQ01_CARD, "ZYFW", 10)
    a2 = k1.award(CARD_C, "LJFL", 2)
    a3 = k1.award(SQ01_CARD, "LRLJ", -5)
    a4 = k1.award(CARD_C, "TJJF", 8)
    r1 = k1.redeem(CARD_C, ("SOAP", 1, 30))
    r2 = k1.redeem(SQ01_CARD, ("SOAP", 2, 30), ("TOWEL", 1, 50))
    assert k1.push(k1.batch(a1, a2, a3, a4, r1, r2)).status_code == 200
    clock.advance(DAY)
    assert k1.push(k1.batch(k1.void(r1.id), k1.void(a4.id))).status_code == 200
    assert k2.push(k2.batch(k2.award(SQ02_CARD, "TJJF", 8), k2.redeem(SQ02_CARD, ("TOWEL", 2, 50)))).status_code == 200
    item = overdraft(k1, ctx, SQ01_CARD)
    resolve(ctx, SYSTEM, item, "charge-shop", "超市承担")
    clock.advance(40 * DAY)  # next month: must not count in MONTH
    assert k1.push(k1.batch(k1.award(CARD_C, "ZYFW", 10), k1.redeem(CARD_C, ("SALT", 1, 10)))).status_code == 200
    return {"k1": k1, "k2": k2}


def sql(ctx, query: str, *params):
    with ctx.store.read() as db:
        return db.sql.execute(query, list(params)).fetchone()[0]  # the tie-out's own SQL, independent of the store's


def test_settlement_ties_out_to_the_ledger(ctx, activity):
    start, end = month_bounds(MONTH)
    out = report(ctx, SYSTEM, "settlement", MONTH)
    rows = {r["shop"]: r for r in out["rows"]}
    for shop in ("S01", "S02"):
        posted = sql(ctx, "SELECT coalesce(sum(amount), 0) FROM postings WHERE account = ? AND at >= ? AND at < ?", f"shop:{shop}", start, end)
        r = rows[shop]
        assert r["total"] == posted == r["redeemed"] + r["voided"] + r["charged"] + r["other"]
        goods = [g for g in out["goods"] if g["shop"] == shop]
        assert sum(g["points"] for g in goods) == r["redeemed"] + r["voided"]
        moved = sql(ctx, """SELECT coalesce(-sum(m.delta), 0) FROM stock_moves m JOIN events e ON e.id = m.event
                           WHERE m.shop = ? AND e.at >= ? AND e.at < ? AND e.kind IN ('redeem', 'void')""", shop, start, end)
        assert r["goods_qty"] == sum(g["qty"] for g in goods) == moved
    assert rows["S01"]["voided"] == -30 and rows["S01"]["charged"] < 0 and rows["S02"]["redeemed"] == 100
    all_shops = sql(ctx, "SELECT sum(amount) FROM postings WHERE account LIKE 'shop:%' AND at >= ? AND at < ?", start, end)
    assert out["totals"]["total"] == all_shops


def test_issued_ties_out_to_the_programme_account(ctx, activity):
    start, end = month_bounds(MONTH)
    out = report(ctx, SYSTEM, "issued", MONTH)
    issued = -sql(ctx, "SELECT sum(amount) FROM postings WHERE account = 'programme:issued' AND at >= ? AND at < ?", start, end)
    assert out["totals"]["earned"] + out["totals"]["deducted"] == issued
    assert out["totals"]["deducted"] == -5
    by = {(r["community"], r["flow"], r["rule"]): r["points"] for r in out["rows"]}
    assert by[("SQ01", "earned", "ZYFW")] == 10 and by[("SQ01", "earned", "TJJF")] == 0  # awarded then voided
    spent = sql(ctx, """SELECT sum(p.amount) FROM postings p JOIN events e ON e.id = p.event
                        WHERE p.account LIKE 'resident:%' AND p.at >= ? AND p.at < ? AND e.kind IN ('redeem', 'void')
                          AND NOT (e.kind = 'void' AND e.id IN (SELECT voided_by FROM events WHERE kind = 'award' AND voided_by IS NOT NULL))""", start, end)
    assert out["totals"]["spent"] == spent


def test_board_ranks_points_earned_with_masked_names_told_apart_by_the_cards_last_four(ctx, activity):
    out = report(ctx, SYSTEM, "board", MONTH, "SQ01")
    with ctx.store.read() as db:
        names = {r["card"]: r["name"] for r in catalog.list_rows(db, "residents")}
    assert [(r["rank"], r["points"]) for r in out["rows"]] == [(1, 5), (2, 2)]  # 10-5; 2 (+8 voided)
    assert [r["name"] for r in out["rows"]] == [board_name(names[SQ01_CARD], SQ01_CARD), board_name(names[CARD_C], CARD_C)]
    assert all("*" in r["name"] and "card" not in r for r in out["rows"])
    from server.reports.render import render, render_bytes

    for fmt in ("csv", "html", "json"):
        text = render(out, fmt)
        for card in (SQ01_CARD, CARD_C):
            assert names[card] not in text and card not in text
            assert board_name(names[card], card) in text  # the downloads name residents as the page does
    book = openpyxl.load_workbook(io.BytesIO(render_bytes(out, "xlsx")))
    cells = {c.value for row in book.active.iter_rows() for c in row}
    assert {board_name(names[SQ01_CARD], SQ01_CARD), board_name(names[CARD_C], CARD_C)} <= cells


def test_csv_has_a_bom_and_parses(settings, activity, capsys, tmp_path):
    out_file = tmp_path / "settle.csv"
    argv = ["report", "settlement", "--month", MONTH, "--format", "csv", "--output", str(out_file), "--data", str(settings.data_dir)]
    assert main(argv) == 0
    raw = out_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {r["超市编号"] for r in rows} >= {"S01", "S02"} and "龙居社区积分兑换超市" in {r["超市"] for r in rows}
    assert main(["report", "board", "--month", MONTH, "--format", "html", "--data", str(settings.data_dir)]) == 0
    html = capsys.readouterr().out
    assert html.startswith("<!doctype html>") and "<table>" in html and "积分榜" in html


def test_api_report_formats(client, login, activity):
    h = login("auditor")
    resp = client.get(f"/api/reports/board?month={MONTH}&format=csv", headers=h)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv") and resp.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in resp.headers["content-disposition"]
    resp = client.get(f"/api/reports/kiosks?month={MONTH}&format=html", headers=h)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    for bad in (f"/api/reports/board?month=2026-13", f"/api/reports/nope?month={MONTH}", f"/api/reports/board?month={MONTH}&format=xls"):
        assert client.get(bad, headers=h).status_code == 422, bad


def test_coverage_and_kiosk_health(client, login, ctx, activity):
    cov = report(ctx, SYSTEM, "coverage", MONTH)
    assert [(r["community"], r["residents"]) for r in cov["rows"]] == [("SQ01", 10), ("SQ02", 10), ("SQ03", 10)]
    assert cov["rows"][0]["seen_this_month"] == 2
    client.post(f"/api/kiosks/{activity['k2'].id}/revoke", headers=login("admin"))
    health = {r["kiosk"]: r for r in report(ctx, SYSTEM, "kiosks", MONTH)["rows"]}
    k1, k2 = health[activity["k1"].id], health[activity["k2"].id]
    assert (k1["chain"], k1["revoked"], k1["applied_batches"], k1["held_batches"]) == ("ok", False, 4, 0)
    assert k2["revoked"] is True and k2["push_age_s"] >= 40 * 86_400
    assert k1["last_contact_at"] == max(k1["last_push_at"], k1["last_pull_at"] or 0) and k1["silent_s"] <= k1["push_age_s"]


def test_board_reaches_kiosks_by_pull(ctx, activity, clock):
    k1 = activity["k1"]
    assert publish_board(ctx, SYSTEM, MONTH)["communities_changed"] == 3
    assert publish_board(ctx, SYSTEM, MONTH)["communities_changed"] == 0  # unchanged: rows stay put
    page = reply_of(k1.pull(limit=5000), ctx)
    boards = {c["key"]: msgspec.convert(c["data"], BoardRec) for c in page["changes"] if c["kind"] == "board"}
    sq01 = boards[f"SQ01/{MONTH}"]
    assert sq01.ranked == 2 and [(ln.rank, ln.card, ln.points) for ln in sq01.top] == [(1, SQ01_CARD, 5), (2, CARD_C, 2)]
    assert all("*" in ln.name for ln in sq01.top)


@pytest.mark.parametrize("whole_month", [0, 8])  # re-ranking reads a month's lines at once, or seeks each community's
def test_the_ranked_board_follows_postings_after_a_catch_up_and_residents_who_move(ctx, activity, clock, monkeypatch, whole_month):
    from server.store import reports as q

    monkeypatch.setattr(q, "WHOLE_MONTH", whole_month)
    k1 = activity["k1"]
    nxt = local_month(clock.now)

    def lines(month, community, window=None):
        return [(r["rank"], r["name"], r["points"]) for r in report(ctx, SYSTEM, "board", month, community, window=window)["rows"]]

    with ctx.store.read() as db:
        names = {r["card"]: r for r in catalog.list_rows(db, "residents")}
    a, c = board_name(names[SQ01_CARD]["name"], SQ01_CARD), board_name(names[CARD_C]["name"], CARD_C)
    assert lines(nxt, "SQ01") == [(1, c, 10)]  # caught up and ranked
    assert k1.push(k1.batch(k1.award(SQ01_CARD, "ZYFW", 10), k1.award(SQ01_CARD, "ZYFW", 10))).status_code == 200
    assert lines(nxt, "SQ01") == [(1, a, 20), (2, c, 10)]  # the postings stored since: ranked again
    assert lines(nxt, "SQ01", window=(1, 5)) == [(2, c, 10)]
    out = report(ctx, SYSTEM, "board", nxt, "SQ01", window=(1, 5))
    assert out["row_count"] == out["totals"]["ranked"] == 2 and out["totals"]["points"] == 30
    r = names[CARD_C]
    from server.services.manage import put_resident

    put_resident(ctx, SYSTEM, CARD_C, r["name"], r["phone"], "SQ02")  # moves: every month's boards follow
    assert lines(nxt, "SQ01") == [(1, a, 20)] and lines(MONTH, "SQ01") == [(1, a, 5)]
    assert (1, c, 10) in lines(nxt, "SQ02") and (2, c, 2) in lines(MONTH, "SQ02")
