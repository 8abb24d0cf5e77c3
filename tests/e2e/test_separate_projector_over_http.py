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
