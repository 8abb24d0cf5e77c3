"""What the operator sees when the machinery fails: a printer out of paper or unplugged (the
record and the saved receipt are kept, F4 prints again), a database another program holds
(a plain sentence, nothing recorded), and a receipt recorded offline marked 待同步.
Codes are typed as one burst, as a scanner does."""

import sqlite3
from dataclasses import replace

from kiosk.app import KioskApp
from tests.kiosk.app.conftest import SIZE, burst, message_text, screen_name, signed_in, typed
from tests.kiosk.fakeserver import CARD
from tests.kiosk.test_printer import PAPER_OK, PAPER_OUT, RT_STATUS_PAPER, tcp_printer  # noqa: F401 - a fixture


async def award_v01(pilot) -> None:
    await signed_in(pilot)
    await burst(pilot, *typed(CARD + "\n"), "f2", *typed("V01\n"))
    await burst(pilot, "enter")  # yes, once the question is up


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def test_a_printer_out_of_paper_keeps_the_record_and_f4_prints_again(shop_kiosk, tcp_printer):
    p = tcp_printer(PAPER_OUT)
    shop_kiosk.settings = replace(shop_kiosk.settings, printer=p.spec)
    app = KioskApp(shop_kiosk, auto_sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await award_v01(pilot)
        await settle(pilot)
        assert screen_name(app) == "ReceiptScreen"
        assert "打印机没纸了" in message_text(app) and "F4" in message_text(app)
        event = app.screen.receipt.event_id
        assert (shop_kiosk.settings.data_dir / "receipts" / f"{event}.txt").exists()
        assert event in [r["id"] for r in shop_kiosk.history(CARD)]
        assert p.wait_job() == RT_STATUS_PAPER  # asked for paper, printed nothing
        p.paper = PAPER_OK
        await burst(pilot, "f4")
        await settle(pilot)
        assert "凭条已打印" in message_text(app)
        assert "积分凭条".encode("gb18030") in p.wait_job()


async def test_an_unplugged_printer_is_said_in_plain_chinese(shop_kiosk):
    shop_kiosk.settings = replace(shop_kiosk.settings, printer="tcp:127.0.0.1:9")
    app = KioskApp(shop_kiosk, auto_sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await award_v01(pilot)
        await settle(pilot)
        assert "打印机连不上" in message_text(app)
        assert app.screen.receipt.event_id in [r["id"] for r in shop_kiosk.history(CARD)]


async def test_a_receipt_recorded_offline_is_marked_pending(shop_kiosk, server):
    server.down = True
    assert not shop_kiosk.sync().ok and not shop_kiosk.status()["reachable"]
    app = KioskApp(shop_kiosk, auto_sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await award_v01(pilot)
        assert "待同步" in str(app.screen.query_one("#receipt").render())
        saved = shop_kiosk.settings.data_dir / "receipts" / f"{app.screen.receipt.event_id}.txt"
        assert "待同步" in saved.read_text(encoding="utf-8")


async def test_a_database_another_program_holds_is_said_and_nothing_recorded(shop_kiosk, open_service):
    shop_kiosk.close()
    svc = open_service(db_wait=0.2)
    before = svc.status()["pending_events"]
    holder = sqlite3.connect(svc.settings.db_path, isolation_level=None)
    app = KioskApp(svc, auto_sync=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await signed_in(pilot)
            await burst(pilot, *typed(CARD + "\n"), "f2", *typed("V01\n"))
            holder.execute("BEGIN EXCLUSIVE")
            await burst(pilot, "enter")
            assert screen_name(app) != "ReceiptScreen"
            assert "本机数据库正被其他程序占用" in message_text(app)
            assert "database" not in message_text(app).lower()
    finally:
        holder.rollback()
        holder.close()
    assert svc.status()["pending_events"] == before
