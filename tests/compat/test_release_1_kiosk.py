"""The current server against a kiosk of release 1 (its frozen wire schema and batch
builder): what the server learned since must not break a kiosk that never heard of it."""

from server.services.enroll import enroll_code
from server.services.staff import SYSTEM
from tests.compat.v1 import wire as v1
from tests.compat.v1.kiosk import V1Kiosk
from tests.conftest import T0


def test_a_release_1_kiosk_enrols_pulls_pushes_every_kind_it_knows_and_reads_the_result(app_server):
    server = app_server
    k = V1Kiosk(server.client, 7, lambda: T0)
    k.enroll(enroll_code(server.ctx, SYSTEM, "S01")["code"])
    k.pull()  # every page decodes under release 1's strict structs
    assert "accepts" in k.skipped  # newer than release 1: skipped, never fatal
    records = k.mirror.values()
    card = next(r.card for r in records if isinstance(r, v1.ResidentRec) and r.status == "active")
    rule = next(r for r in records if isinstance(r, v1.RuleRec) and r.kind != "prohibited" and r.status == "active")
    good = next(r for r in records if isinstance(r, v1.GoodRec) and r.status == "active")
    before = k.mirror[("balance", card)].points if ("balance", card) in k.mirror else 0

    events = []
    eid, n = k.next_id()
    events.append(v1.StockIn(id=eid, kseq=n, at=T0, operator="op1", items=[v1.StockLine(sku=good.sku, qty=2)]))
    eid, n = k.next_id()
    events.append(v1.Award(id=eid, kseq=n, at=T0, operator="op1", resident=card, rule=rule.code, points=rule.points))
    eid, n = k.next_id()
    redeem = v1.Redeem(id=eid, kseq=n, at=T0, operator="op1", resident=card,
                       items=[v1.Item(sku=good.sku, qty=1, price=good.price)], total=good.price)
    events.append(redeem)
    eid, n = k.next_id()
    events.append(v1.Void(id=eid, kseq=n, at=T0, operator="op1", target=redeem.id, reason="entered twice"))

    assert k.push(*events).status == "applied"
    k.pull()
    assert k.mirror[("balance", card)].points == before + rule.points  # the void took the redemption back
    assert "projected" in k.skipped  # the confirmation row (PROTOCOL § 4.8): newer than release 1, skipped


def test_a_release_1_kiosk_syncs_against_a_server_that_projects_in_a_separate_process(server_dir):
    """Acknowledged first, projected later (``JIFEN_PROJECTION=separate``): a release-1 kiosk
    knows no ``projected`` row; its pushes are acknowledged, and once the projector ran its
    pull brings the balance with them in it."""
    from server.services import projector
    from server.settings import Settings
    from tests.conftest import InProcessServer

    server = InProcessServer(Settings(data_dir=server_dir, clock=lambda: T0, projection="separate")).start()
    try:
        k = V1Kiosk(server.client, 8, lambda: T0)
        k.enroll(enroll_code(server.ctx, SYSTEM, "S01")["code"])
        k.pull()
        records = k.mirror.values()
        card = next(r.card for r in records if isinstance(r, v1.ResidentRec) and r.status == "active")
        rule = next(r for r in records if isinstance(r, v1.RuleRec) and r.kind != "prohibited" and r.status == "active")
        before = k.mirror[("balance", card)].points if ("balance", card) in k.mirror else 0
        eid, n = k.next_id()
        assert k.push(v1.Award(id=eid, kseq=n, at=T0, operator="op1", resident=card, rule=rule.code, points=rule.points)).status == "applied"
        k.pull()
        assert (k.mirror[("balance", card)].points if ("balance", card) in k.mirror else 0) == before  # acknowledged, not yet projected
        assert projector.project_pending(server.ctx) == 1
        k.pull()
        assert k.mirror[("balance", card)].points == before + rule.points
        assert "projected" in k.skipped and "offers" in k.skipped
    finally:
        server.stop()
