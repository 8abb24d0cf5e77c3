"""Shift close through the keyboard against the real server app (in process): the counts
typed as one burst, the shift closed, and the next sync brings the report to central
staff with its stock differences."""

from kiosk.app import KioskApp
from server.services import reports
from server.services.staff import SYSTEM
from sync.calendar import local_month
from tests.kiosk.app.conftest import SIZE, burst, screen_name, signed_in, typed


async def test_counts_typed_at_once_reach_central_staff_with_the_next_sync(inprocess_kiosk, app_server, clock):
    svc = inprocess_kiosk("k1", lang="zh")
    app = KioskApp(svc, lang="zh", auto_sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await burst(pilot, "f8", *typed("0\n5\n"))
        assert screen_name(app) == "ShiftScreen"
        skus = [row.value for row in app.screen.query_one("#stock").rows]
        expected = dict(app.screen.expected)
        await burst(pilot, "f10")
        await pilot.pause()
        await burst(pilot, "enter")
        assert app.screen.counted == {} and "交班报表已保存" in str(app.screen.query_one("#message").render())
        await burst(pilot, "f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert svc.status()["pending_events"] == 0
    [sent] = reports.shifts(app_server.ctx, SYSTEM, local_month(clock()))["shifts"]
    counted = {c["sku"]: c for c in sent["counts"] if c["counted"] is not None}
    assert counted == {skus[0]: {"sku": skus[0], "expected": expected[skus[0]], "counted": 0, "diff": -expected[skus[0]]},
                       skus[1]: {"sku": skus[1], "expected": expected[skus[1]], "counted": 5, "diff": 5 - expected[skus[1]]}}
    assert sent["operator"] == "op1"
