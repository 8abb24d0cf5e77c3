"""The ledger is a projection of the signed log: rebuilding it from the log gives exactly the
stored ledger, and ``reproject --check`` names an edited posting, balance, counter or
review item."""

import sqlite3

import pytest

from server.services import projector
from server.store import log
from tests.server.conftest import CARD_A, CARD_B


def fill(enrolled):
    a, b = enrolled(1, "S01"), enrolled(2, "S02")
    a.push(a.batch(a.award(CARD_A, "ZYFW", 10), a.redeem(CARD_A, ("SOAP", 1, 30))))  # an overdraft: a review item
    b.push(b.batch(b.award(CARD_B, "TJJF", 8)))
    a.push(a.batch(a.stock_in(("SOAP", 12)), a.award(CARD_B, "LLHZ", 5)))


def edit(settings, sql: str):
    conn = sqlite3.connect(settings.db_path)
    with conn:
        assert conn.execute(sql).rowcount >= 1, sql
    conn.close()


def check(ctx, tmp_path) -> projector.Rebuild:
    return projector.rebuild(ctx, tmp_path / "scratch.db")


def test_everything_acknowledged_is_projected_and_a_rebuild_gives_the_stored_ledger(enrolled, ctx, tmp_path):
    fill(enrolled)
    with ctx.store.read() as db:
        assert log.head(db) == log.projected(db) >= 3 and not log.unprojected(db)
    out = check(ctx, tmp_path)
    assert out.ok, out.differences
    assert out.events >= 5 and not list(tmp_path.glob("scratch.db*"))


@pytest.mark.parametrize("table, sql", [
    ("postings", "UPDATE postings SET amount = amount + 1 WHERE id = (SELECT max(id) FROM postings)"),
    ("balances", "UPDATE balances SET points = points + 7 WHERE account LIKE 'resident:%'"),
    ("award_counts", "UPDATE award_counts SET n = n + 1"),
    ("review_items", "UPDATE review_items SET detail = '{}' WHERE kind = 'overdraft'"),
])
def test_check_names_an_edited_ledger_table(enrolled, ctx, settings, tmp_path, table, sql):
    fill(enrolled)
    edit(settings, sql)
    out = check(ctx, tmp_path)
    assert not out.ok and out.differences[0]["table"] == table, out.differences


def test_a_rebuild_replaces_an_edited_ledger_and_the_check_then_passes(enrolled, ctx, settings, tmp_path):
    fill(enrolled)
    edit(settings, "UPDATE balances SET points = points + 7 WHERE account LIKE 'resident:%'")
    assert not projector.rebuild(ctx, tmp_path / "scratch.db", replace=True).ok
    assert check(ctx, tmp_path).ok




def test_in_background_mode_the_ack_comes_first_and_the_ledger_follows(server_dir, clock):
    import time

    from litestar.testing import TestClient

    from server.app import create_app
    from server.services.enroll import enroll_code
    from server.services.staff import SYSTEM
    from server.settings import Settings
    from tests.server.kiosk_double import KioskDouble

    with TestClient(create_app(Settings(data_dir=server_dir, clock=clock, projection="background"))) as client:
        ctx = client.app.state.ctx
        assert ctx.projector is not None
        k = KioskDouble(client, 1, clock)
        assert k.enroll(enroll_code(ctx, SYSTEM, "S01")["code"]).status_code == 200
        for _ in range(3):
            assert k.push(k.batch(k.award(CARD_A, "ZYFW", 10))).status_code == 200
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with ctx.store.read() as db:
                if log.projected(db) == log.head(db):
                    break
            time.sleep(0.05)
        with ctx.store.read() as db:
            assert log.projected(db) == log.head(db)
            assert db.sql.execute("SELECT count(*) FROM events WHERE kiosk = ?", [k.id]).fetchone()[0] == 3
        assert projector.rebuild(ctx, server_dir / "scratch.db").ok


def test_a_void_in_a_later_batch_than_its_target_is_rederived_by_audit_as_projected(enrolled, ctx, tmp_path):
    """Regression (simulation seed 1): once a void is projected its target is stored as
    voided — by that very void. Audit re-derives the void's batch from the signed bytes and
    must read the target as voided *before* it only when another, earlier void undid it."""
    from server.services.audit import audit

    a = enrolled(1, "S01")
    award, redeem = a.award(CARD_A, "ZYFW", 10), a.redeem(CARD_B, ("SOAP", 1, 30))
    assert a.push(a.batch(award, redeem)).status_code == 200
    first, second = a.void(award.id), a.void(redeem.id)
    assert a.push(a.batch(first)).status_code == 200
    assert a.push(a.batch(second)).status_code == 200
    again = a.void(award.id)  # a repeated void: reviewed, moves nothing
    assert a.push(a.batch(again)).status_code == 200
    with ctx.store.read() as db:
        moved = {r[0]: r[1] for r in db.sql.execute(
            "SELECT event, count(*) FROM postings WHERE event IN (?, ?, ?) GROUP BY event", [first.id, second.id, again.id])}
        reviewed = db.sql.execute("SELECT kind FROM review_items WHERE event = ?", [again.id]).fetchall()
    assert moved == {first.id: 2, second.id: 2} and reviewed == [("void_repeated",)]
    report = audit(ctx)
    assert report.ok, report.failures
    assert check(ctx, tmp_path).ok
