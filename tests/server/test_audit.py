"""Audit re-derives everything from the stored signed bytes and fails on any edit."""

import sqlite3

from schema.types import CENTRAL_KIOSK
from server.services.audit import audit
from tests.server.conftest import CARD_A, CARD_B


def fill(enrolled):
    a, b = enrolled(1, "S01"), enrolled(2, "S02")
    a.push(a.batch(a.award(CARD_A, "ZYFW", 10), a.redeem(CARD_A, ("SOAP", 1, 30))))
    b.push(b.batch(b.award(CARD_B, "TJJF", 8)))
    a.batch(a.award(CARD_B, "LLHZ", 5))  # batch 2 never arrives...
    a.push(a.batch(a.stock_in(("SOAP", 12))))  # ...so batch 3 stays held, and is audited too
    return a, b


def edit(settings, sql: str, params=()):
    """Change the database behind the server's back, as an attacker with the disk would."""
    conn = sqlite3.connect(settings.db_path)
    with conn:
        conn.execute(sql, params)
    conn.close()


def test_audit_passes_on_an_honest_database(enrolled, ctx):
    fill(enrolled)
    report = audit(ctx)
    assert report.ok, report.failures
    assert (report.kiosks, report.batches) == (2, 4)  # 1 central + 2 from K0001 (one held) + 1 from K0002


def test_audit_fails_after_a_stored_batch_body_is_edited(enrolled, ctx, settings):
    fill(enrolled)
    edit(settings, "UPDATE batches SET body = CAST(replace(CAST(body AS TEXT), '\"points\":10', '\"points\":99') AS BLOB)"
                   " WHERE kiosk = 'K0001' AND seq = 1")
    checks = {f["check"] for f in audit(ctx).failures}
    assert {"signature", "hash"} <= checks


def test_audit_fails_when_a_central_batch_is_edited(enrolled, ctx, settings):
    edit(settings, "UPDATE batches SET body = CAST(replace(CAST(body AS TEXT), '期初积分', '期初积分!') AS BLOB) WHERE kiosk = ?", [CENTRAL_KIOSK])
    assert "signature" in {f["check"] for f in audit(ctx).failures}


def test_audit_fails_when_a_batch_is_deleted(enrolled, ctx, settings):
    fill(enrolled)
    edit(settings, "DELETE FROM events WHERE kiosk = 'K0002'")
    edit(settings, "DELETE FROM postings WHERE event LIKE 'K0002-%'")
    edit(settings, "DELETE FROM batches WHERE kiosk = 'K0002'")
    failures = audit(ctx).failures
    assert ("chain", "K0002") in {(f["check"], f["subject"]) for f in failures}
    assert "balances" in {f["check"] for f in failures}


def test_audit_fails_when_a_balance_cache_is_edited(enrolled, ctx, settings):
    fill(enrolled)
    edit(settings, "UPDATE balances SET points = points + 1000 WHERE account = ?", [f"resident:{CARD_A}"])
    assert [(f["check"], f["subject"]) for f in audit(ctx).failures] == [("balances", f"resident:{CARD_A}")]


def test_audit_fails_when_a_posting_is_edited(enrolled, ctx, settings):
    fill(enrolled)
    edit(settings, "UPDATE postings SET amount = amount + 1 WHERE event = 'K0001-1' AND account LIKE 'resident:%'")
    assert "postings" in {f["check"] for f in audit(ctx).failures}


def sql_one(settings, sql: str, params=()):
    conn = sqlite3.connect(settings.db_path)
    value = conn.execute(sql, params).fetchone()[0]
    conn.close()
    return value


def test_audit_names_an_edited_month_sum(enrolled, ctx, settings):
    from server.services.reports import caught_up

    fill(enrolled)
    caught_up(ctx)  # the sums over every posting stored
    assert audit(ctx).ok
    month = sql_one(settings, "SELECT month FROM shop_sums LIMIT 1")
    shop = sql_one(settings, "SELECT shop FROM shop_sums WHERE month = ? AND kind = 'redeem'", [month])
    edit(settings, "UPDATE shop_sums SET points = points + 7 WHERE month = ? AND shop = ? AND kind = 'redeem'", [month, shop])
    edit(settings, "UPDATE card_sums SET board_points = board_points - 3 WHERE card = ?", [CARD_A])
    edit(settings, "INSERT INTO goods_sums(month, shop, sku, qty, points) VALUES (?, ?, 'NOPE', 1, 5)", [month, shop])
    failures = [f for f in audit(ctx).failures if f["check"] == "month sums"]
    subjects = {f["subject"] for f in failures}
    assert f"shop_sums {month}/{shop}/redeem/" in subjects and f"goods_sums {month}/{shop}/NOPE" in subjects
    assert any(s.startswith("card_sums ") and s.endswith(f"/{CARD_A}") for s in subjects), subjects
    assert len(failures) == 3 and "no row" in next(f["message"] for f in failures if "NOPE" in f["subject"])
