"""A resident checks a receipt in a real browser: the QR link a real kiosk printed opens
the check page in Chinese, showing what it says, that it is recorded, the balance and the
verified inclusion proof; the pasted form works; an altered receipt is refused in Chinese."""

import dataclasses
import os
import re

import pytest

from kiosk import settings as kiosk_settings
from kiosk.service import KioskService
from sync import receipt as sync_receipt
from tests.console_public.conftest import kept
from tests.e2e.conftest import ServerProcess, free_port


@pytest.fixture
def srv(server_dir):
    s = ServerProcess(server_dir, free_port()).start(env={**os.environ, "JIFEN_TICK_SECONDS": "0"})
    yield s
    s.stop()


@pytest.fixture
def recorded(srv, tmp_path):
    """Two awards at a real kiosk: the first synced and checkpointed, the second made
    offline afterwards. Returns (kiosk, first, second)."""
    kiosk = KioskService(kiosk_settings.load(tmp_path / "kiosk", lang="zh", timeout=5.0))
    kiosk.enroll(srv.url, srv.enroll_code("S01"))
    assert kiosk.sync().ok
    card = kiosk.store._rows("SELECT card FROM residents ORDER BY card LIMIT 1")[0]["card"]
    first = kiosk.award(card, "ZYFW", "op1", receipt=True)
    assert kiosk.sync().ok
    srv.cli("checkpoint")
    second = kiosk.award(card, "ZYFW", "op1", receipt=True)
    yield kiosk, first, second
    kiosk.close()


def test_a_resident_checks_a_receipt(page, srv, recorded):
    kiosk, first, second = recorded
    assert first.link.startswith(srv.url + "/check?r=")
    page.goto(first.link)
    assert page.locator("h1").inner_text() == "凭条查验"
    assert "查验通过" in page.locator("p.ok").first.inner_text()
    assert page.locator("td.event").inner_text() == first.event.id
    assert page.locator("td.status").inner_text() == "已入账"
    assert page.locator("td.points").inner_text().startswith("加 ")
    card = first.event.resident
    balance = srv.json("balance", card)["confirmed"]
    assert page.locator("td.balance").inner_text() == str(balance)
    assert "包含证明已验证" in page.locator("p.proof-ok").inner_text()
    assert page.locator("ol.path li").count() >= 1
    body = page.locator("body").inner_text()
    assert card not in body and "*" * (len(card) - 4) + card[-4:] in body
    page.screenshot(path=str(kept("public-check.png")), full_page=True)

    # the second, not yet synced: pasted into the form
    page.goto(srv.url + "/public/check")
    page.fill("textarea#r", sync_receipt.payload_of(second.link))
    page.click("button[type=submit]")
    assert page.locator("td.status").inner_text().startswith("尚未同步")
    assert page.locator("section.proof").count() == 0

    # an altered receipt: refused, in Chinese
    r = sync_receipt.decode(first.link)
    altered = sync_receipt.encode(dataclasses.replace(r, event_bytes=r.event_bytes.replace(b'"operator":"op1"', b'"operator":"op2"')))
    assert altered != sync_receipt.payload_of(first.link)
    response = page.goto(srv.url + "/public/check?r=" + altered)
    assert response.status == 400
    assert "查验不通过" in page.locator("p.error").inner_text()
    page.goto(srv.url + "/public/check?r=NOTARECEIPT")
    assert re.search("查验码|凭条", page.locator("p.error").inner_text())
