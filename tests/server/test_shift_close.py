"""A kiosk's shift report reaches central staff: closing a shift records a ``shift_close``
event (counted against expected stock per SKU, the shift's totals, no postings) that the
next sync sends; the server keeps it and lists it (``GET /api/shifts``, the ``shifts``
report of stock differences). A server that does not accept the kind gets nothing, and
the kiosk's sync goes on."""

import json

from kiosk import shift
from server.services import reports
from server.services.staff import SYSTEM
from sync.calendar import local_month
from tests.conftest import T0

RULE = "ZYFW"


def test_a_closed_shift_is_sent_and_listed_with_its_stock_differences(inprocess_kiosk, app_server, clock):
    svc = inprocess_kiosk("k1")
    card = svc.store._rows("SELECT card FROM residents WHERE status = 'active' ORDER BY card LIMIT 1")[0]["card"]
    svc.award(card, RULE, "op1")
    expected = svc.stock_available()
    sku, other = sorted(expected)[:2]
    rep = shift.report(svc, {sku: expected[sku] - 2, other: expected[other]}, clock())
    recorded = svc.shift_close(rep, "op1")
    assert recorded is not None and recorded.kind == "shift_close"
    assert svc.sync().ok and svc.status()["pending_events"] == 0

    month = local_month(T0)
    [sent] = reports.shifts(app_server.ctx, SYSTEM, month)["shifts"]
    assert sent["id"] == recorded.id and sent["kiosk"] == svc.kiosk_id and sent["operator"] == "op1"
    assert sent["events"] == 1 and sent["awarded"] > 0
    lines = {c["sku"]: c for c in sent["counts"]}
    assert lines[sku] == {"sku": sku, "expected": expected[sku], "counted": expected[sku] - 2, "diff": -2}
    assert lines[other]["diff"] == 0
    assert all(lines[s]["counted"] is None for s in lines if s not in (sku, other))

    diffs = reports.report(app_server.ctx, SYSTEM, "shifts", month)
    assert diffs["totals"] == {"shifts": 1, "lines": 2, "differences": 1, "net_diff": -2}
    assert {(r["sku"], r["diff"]) for r in diffs["rows"]} == {(sku, -2), (other, 0)}

    with app_server.ctx.store.read() as db:  # no postings, no stock moves
        assert db.sql.execute("SELECT count(*) FROM postings WHERE event = ?", [recorded.id]).fetchone()[0] == 0
        plan = " ".join(r[3] for r in db.sql.execute("EXPLAIN QUERY PLAN SELECT id FROM events WHERE kind = 'shift_close' AND at >= 0 AND at < 1"))
    assert "events_kind_at" in plan


def test_a_server_that_does_not_accept_shift_reports_gets_none_and_sync_goes_on(inprocess_kiosk, clock):
    svc = inprocess_kiosk("k1")
    svc.store.set_meta(accepted_kinds=json.dumps(["award", "redeem", "void", "stock_in"]))  # a release-1 server
    rep = shift.report(svc, {}, clock())
    assert svc.shift_close(rep, "op1") is None
    assert svc.status()["pending_events"] == 0 and svc.sync().ok
