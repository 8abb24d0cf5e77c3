"""A rogue community manager, over real HTTP against a real `jifen-server serve` (issue 11,
High 1): an SQ01 resident overdrawn at S02, a shop of SQ02; SQ01's manager resolved it with
``charge-shop`` and 1,000,000 points, which was accepted, and SQ02's manager could not see
the item. Now the manager is refused, SQ02's manager sees it, and the same resolution by a
reconciler only waits for a second person."""

import sqlite3

import httpx

from server.services import open_context
from server.services.staff import SYSTEM, add_staff
from server.settings import Settings
from tests.conftest import Clock
from tests.server.conftest import CARD_A
from tests.server.kiosk_double import KioskDouble

PASSWORD = "correct horse 1"
ACCOUNTS = {"cm1": ("community_manager", ["SQ01"]), "cm2": ("community_manager", ["SQ02"]),
            "rex": ("reconciler", []), "rita": ("reconciler", [])}


def totals(server) -> tuple[int, int]:
    """Shop S02's account and the resident's balance, from the server's database."""
    with sqlite3.connect(server.data / "server.db") as db:
        shop = db.execute("SELECT coalesce(sum(amount), 0) FROM postings WHERE account = 'shop:S02'").fetchone()[0]
        resident = db.execute("SELECT coalesce(sum(amount), 0) FROM postings WHERE account = ?", (f"resident:{CARD_A}",)).fetchone()[0]
    return shop, resident


def test_a_community_manager_cannot_mint_points_or_bill_another_community(server):
    ctx = open_context(Settings(data_dir=server.data))
    try:
        for name, (role, comms) in ACCOUNTS.items():
            add_staff(ctx, SYSTEM, name, role, PASSWORD, comms)
    finally:
        ctx.close()
    with httpx.Client(base_url=server.url, timeout=30) as c:
        k = KioskDouble(c, 7, Clock())
        assert k.enroll(server.enroll_code("S02")).status_code == 200
        assert k.push(k.batch(k.redeem(CARD_A, ("TOWEL", 400, 50)))).status_code == 200  # far beyond the balance

        def as_(name: str) -> dict:
            resp = c.post("/api/session", json={"username": name, "password": PASSWORD})
            assert resp.status_code == 200, resp.text
            return {"Authorization": f"Bearer {resp.json()['token']}"}

        [item] = [i for i in c.get("/api/reviews?open=true", headers=as_("rex")).json()
                  if i["kind"] == "overdraft" and i["resident"] == CARD_A]
        before = totals(server)
        attack = {"action": "charge-shop", "points": 1_000_000, "note": "本社区居民"}
        resp = c.post(f"/api/reviews/{item['id']}/resolve", headers=as_("cm1"), json=attack)
        assert resp.status_code == 403, resp.text
        resp = c.post(f"/api/reviews/{item['id']}/resolve", headers=as_("cm1"), json={**attack, "action": "adjust"})
        assert resp.status_code == 403, resp.text  # the item touches SQ02 too
        assert item["id"] in {i["id"] for i in c.get("/api/reviews", headers=as_("cm2")).json()}
        resp = c.post(f"/api/reviews/{item['id']}/resolve", headers=as_("rex"), json=attack)
        assert resp.status_code == 200 and resp.json()["status"] == "pending"
        assert c.post(f"/api/reviews/{item['id']}/approve", headers=as_("rex"), json={"note": "自批"}).status_code == 403
        assert totals(server) == before  # nothing moved: not the shop's settlement, not the resident's balance
        resp = c.post(f"/api/reviews/{item['id']}/decline", headers=as_("rita"), json={"note": "远超欠分"})
        assert resp.status_code == 200 and resp.json()["status"] == "open"
        resp = c.post(f"/api/reviews/{item['id']}/resolve", headers=as_("rita"), json={**attack, "points": None})
        assert resp.status_code == 200 and resp.json()["status"] == "resolved"  # what clears the overdraft: one person
        shop, resident = totals(server)
        assert resident == 0 and shop == before[0] + before[1]  # the shop bears exactly the overdraft
