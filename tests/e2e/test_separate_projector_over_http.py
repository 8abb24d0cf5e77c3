"""The projector in its own process: `jifen-server serve` with ``JIFEN_PROJECTION=separate``
acknowledges and never projects; `jifen-server project` folds the log behind it, sharing the
SQLite file (WAL). Kiosks over real HTTP see their batches acknowledged at once and confirmed
(PROTOCOL § 4.8) once the projector has run — and the ledger is the fold of the log."""

import os
import threading
import time

from kiosk import settings as kiosk_settings
from kiosk.service import KioskService
from tests.e2e.conftest import ProjectorProcess, ServerProcess, free_port


def test_kiosks_are_acknowledged_by_serve_and_confirmed_by_a_separate_projector(server_dir, tmp_path):
    srv = ServerProcess(server_dir, free_port()).start({**os.environ, "JIFEN_PROJECTION": "separate"})
    projector = ProjectorProcess(server_dir)
    kiosks: list[KioskService] = []
    try:
        operators = {}
        for name, shop, op in (("a", "S01", "op1"), ("b", "S02", "op2")):
            k = KioskService(kiosk_settings.load(tmp_path / name, lang="en", timeout=3.0, batch_events=5))
            k.enroll(srv.url, srv.enroll_code(shop))
            assert k.sync().ok
            kiosks.append(k)
            operators[k.kiosk_id] = op
        cards = {k.kiosk_id: [r["card"] for r in k.store._rows("SELECT card FROM residents WHERE status = 'active' ORDER BY card LIMIT 3")]
                 for k in kiosks}
        before = {k.kiosk_id: {c: k.balance(c).confirmed for c in cards[k.kiosk_id]} for k in kiosks}
        for k in kiosks:
            for i in range(12):
                k.award(cards[k.kiosk_id][i % 3], "ZYFW", operators[k.kiosk_id])

        # acknowledged by serve, not projected: nothing projects them while no projector runs
        for k in kiosks:
            assert k.sync().ok and k.status()["pending_events"] == 0
        time.sleep(0.5)
        head, cursor = projector.positions()
        assert head > cursor
        for k in kiosks:
            assert k.status()["unconfirmed_events"] == 12
            held = {c: k.balance(c) for c in cards[k.kiosk_id]}
            assert all(b.confirmed == before[k.kiosk_id][c] and b.pending > 0 for c, b in held.items())

        # the projector alone, while the kiosks go on recording and syncing
        projector.start()
        stop = threading.Event()

        def keep_going(k: KioskService) -> None:
            while not stop.is_set():
                k.award(cards[k.kiosk_id][0], "ZYFW", operators[k.kiosk_id])
                k.sync()

        threads = [threading.Thread(target=keep_going, args=(k,)) for k in kiosks]
        for t in threads:
            t.start()
        time.sleep(2)
        stop.set()
        for t in threads:
            t.join(30)
        for k in kiosks:
            assert k.sync().ok
        assert projector.caught_up(), projector.log.read_text()[-2000:]

        # confirmation arrives: nothing unconfirmed, nothing pending, the kiosk's balance is the server's
        for k in kiosks:
            assert k.sync().ok
            st = k.status()
            assert (st["pending_events"], st["unconfirmed_events"]) == (0, 0)
            for c in cards[k.kiosk_id]:
                b = k.balance(c)
                assert b.pending == 0 and b.confirmed == srv.json("balance", c)["confirmed"]
            assert all(h["confirmed"] for h in k.history(cards[k.kiosk_id][0]))
        assert projector.stop() == 0  # SIGTERM ends its loop cleanly
        assert srv.cli("audit").returncode == 0
        assert srv.cli("reproject", "--check").returncode == 0
    finally:
        projector.stop()
        for k in kiosks:
            k.close()
        srv.stop()


def test_a_staff_charge_waits_for_the_separate_projector_and_is_refused_while_it_is_stopped(server_dir):
    """Central batches beside a separate projector (issue 14): ``serve`` only logs a staff
    correction (the projector folds it), and ``charge-shop``, which reads the resident's
    balance, is refused ``409 ledger_behind`` while the ledger is behind the log and the
    projector is stopped, and waits for it once it runs: the overdraft it clears counts the
    redemption logged just before."""
    import httpx

    from server.services import open_context
    from server.services.staff import SYSTEM, add_staff
    from server.settings import Settings
    from tests.conftest import Clock
    from tests.e2e.test_review_attack_over_http import PASSWORD, totals
    from tests.server.conftest import CARD_A
    from tests.server.kiosk_double import KioskDouble

    ctx = open_context(Settings(data_dir=server_dir))
    try:
        for name in ("rex", "rita"):
            add_staff(ctx, SYSTEM, name, "reconciler", PASSWORD, [])
    finally:
        ctx.close()
    env = {**os.environ, "JIFEN_PROJECTION": "separate", "JIFEN_PROJECTION_WAIT_SECONDS": "1"}
    srv = ServerProcess(server_dir, free_port()).start(env)
    projector = ProjectorProcess(server_dir)
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            def as_(name: str) -> dict:
                resp = c.post("/api/session", json={"username": name, "password": PASSWORD})
                assert resp.status_code == 200, resp.text
                return {"Authorization": f"Bearer {resp.json()['token']}"}

            k = KioskDouble(c, 7, Clock())
            assert k.enroll(srv.enroll_code("S02")).status_code == 200
            assert k.push(k.batch(k.redeem(CARD_A, ("TOWEL", 400, 50)))).status_code == 200  # far beyond the balance
            projector.start()
            assert projector.caught_up(), projector.log.read_text()[-2000:]
            [item] = [i for i in c.get("/api/reviews?open=true", headers=as_("rex")).json()
                      if i["kind"] == "overdraft" and i["resident"] == CARD_A]
            assert projector.stop() == 0

            # one more redemption logged, nobody projecting it: the ledger is behind the log
            assert k.push(k.batch(k.redeem(CARD_A, ("TOWEL", 1, 50)))).status_code == 200
            before = totals(srv)
            head, cursor = projector.positions()
            charge = {"action": "charge-shop", "note": "超市未核验余额"}
            resp = c.post(f"/api/reviews/{item['id']}/resolve", headers=as_("rex"), json=charge)
            assert resp.status_code == 409, resp.text
            error = resp.json()["error"]
            assert (error["code"], error["action"], error["detail"]["behind"]) == ("ledger_behind", "retry", head - cursor)
            assert totals(srv) == before and projector.positions() == (head, cursor)  # nothing done, nothing projected

            # the projector runs again: the charge waits for it (a client retries ledger_behind while
            # the process starts) and clears the overdraft as it now is
            projector.start()
            deadline = time.monotonic() + 30
            while (resp := c.post(f"/api/reviews/{item['id']}/resolve", headers=as_("rex"), json=charge)).status_code == 409 \
                    and resp.json()["error"]["code"] == "ledger_behind" and time.monotonic() < deadline:
                pass
            assert resp.status_code == 200, resp.text
            owed = -totals(srv)[1]
            assert owed > 0 and resp.json()["points"] == owed and resp.json()["status"] == "pending"  # beyond the item's own: a second person
            assert projector.stop() == 0

            # approved with no projector running: serve logs the central batch and does not fold it
            resp = c.post(f"/api/reviews/{item['id']}/approve", headers=as_("rita"), json={"note": "同意"})
            assert resp.status_code == 200 and resp.json()["status"] == "resolved", resp.text
            head, cursor = projector.positions()
            assert head == cursor + 1 and totals(srv)[1] == -owed
            projector.start()
            assert projector.caught_up(), projector.log.read_text()[-2000:]
            assert totals(srv)[1] == 0
        assert projector.stop() == 0
        assert srv.cli("audit").returncode == 0
        assert srv.cli("reproject", "--check").returncode == 0
    finally:
        projector.stop()
        srv.stop()
