"""The current server knows volunteer service tasks (event kinds ``task_claim``,
``task_done``, feed kind ``task``); a kiosk of release 1 beside a current one at the same
shop keeps pulling and pushing: it skips the feed kind it never heard of, its own awards
apply, and the current kiosk's claim and completion award the task's points."""

from server.services import tasks
from server.services.enroll import enroll_code
from server.services.staff import SYSTEM
from server.store import ledger
from tests.compat.release1 import award_once
from tests.compat.v1.kiosk import V1Kiosk
from tests.conftest import T0, Clock
from tests.server.conftest import CARD_A
from tests.server.kiosk_double import KioskDouble


def test_a_release_1_kiosk_syncs_beside_tasks_claimed_and_done(app_server):
    server = app_server
    task = tasks.post(server.ctx, SYSTEM, "SQ01", "ZYFW", "帮孤寡老人打扫院子", slots=3)
    now = KioskDouble(server.client, 23, Clock())
    assert now.enroll(enroll_code(server.ctx, SYSTEM, "S01")["code"]).status_code == 200
    claim = now.claim(CARD_A, task["id"])
    assert now.push(now.batch(claim)).status_code == 200

    old = V1Kiosk(server.client, 24, lambda: T0)
    old.enroll(enroll_code(server.ctx, SYSTEM, "S01")["code"])
    old.pull()
    assert "task" in old.skipped and not any(kind == "task" for kind, _ in old.mirror)
    before, points = award_once(old, CARD_A)
    assert now.push(now.batch(now.done(CARD_A, task["id"], claim.id, "ZYFW", task["points"]))).status_code == 200
    old.pull()
    assert old.mirror[("balance", CARD_A)].points == before + points + task["points"]
    with server.ctx.store.read() as db:
        assert ledger.balances_of(db, {f"resident:{CARD_A}"})[f"resident:{CARD_A}"] == before + points + task["points"]
