"""Counties (issue 15) and a kiosk of release 1: in a deployment that sets no counties
(every community in the default county), a release-1 kiosk still mirrors its shop's
residents, still receives every community's board as a global row, and its lookup of a
resident it does not mirror is answered as before (never ``other_county``). When a community
moves county, a release-1 kiosk (which ignores ``serves`` rows) drops what left its view
through the deletion rows it always read (``data`` null), and gets it back likewise."""

from server.services import counties, manage
from server.services.enroll import enroll_code
from server.services.reports import publish_board
from server.services.staff import SYSTEM
from sync.calendar import local_month
from tests.compat.v1 import wire as v1
from tests.compat.v1.kiosk import V1Kiosk
from tests.conftest import T0
from tests.server.conftest import CARD_B
from tests.server.kiosk_double import KioskDouble


def test_a_single_county_deployment_looks_the_same_to_a_release_1_kiosk(app_server, clock):
    server = app_server
    publish_board(server.ctx, SYSTEM, local_month(clock.now))
    k = V1Kiosk(server.client, 7, lambda: T0)
    k.enroll(enroll_code(server.ctx, SYSTEM, "S01")["code"])
    k.pull()  # decodes under release 1's strict structs
    residents = {r.community for r in k.mirror.values() if isinstance(r, v1.ResidentRec)}
    boards = {key.split("/")[0] for kind, key in k.mirror if kind == "board"}
    assert residents == {"SQ01"} and boards == {"SQ01", "SQ02", "SQ03"}
    assert "offers" in k.skipped


def test_a_lookup_without_counties_is_answered_as_before(app_server, clock):
    kiosk = KioskDouble(app_server.client, 1, clock)  # at S01; CARD_B is of SQ02, the same (default) county
    assert kiosk.enroll(enroll_code(app_server.ctx, SYSTEM, "S01")["code"]).status_code == 200
    resp = kiosk.lookup(CARD_B)
    assert resp.status_code == 200, resp.text
    assert resp.json()["community"] == "SQ02"


def held(k: V1Kiosk) -> tuple[set[str], set[str]]:
    """The communities of the residents and of the boards a release-1 kiosk holds."""
    residents = {r.community for r in k.mirror.values() if isinstance(r, v1.ResidentRec)}
    return residents, {key.split("/")[0] for (kind, key), rec in k.mirror.items() if kind == "board" and rec is not None}


def test_a_release_1_kiosk_drops_a_community_that_moved_county_and_gets_it_back(app_server, clock):
    ctx = app_server.ctx
    counties.put_county(ctx, SYSTEM, "XQ01", "广汉市")
    counties.put_county(ctx, SYSTEM, "XQ02", "什邡市")
    for community, county in (("SQ01", "XQ01"), ("SQ03", "XQ01"), ("SQ02", "XQ02")):
        counties.set_community_county(ctx, SYSTEM, community, county)
    manage.set_shop_serves(ctx, SYSTEM, "S01", ["SQ01", "SQ03"])
    publish_board(ctx, SYSTEM, local_month(clock.now))
    k = V1Kiosk(app_server.client, 7, lambda: T0)
    k.enroll(enroll_code(ctx, SYSTEM, "S01")["code"])
    k.pull()
    assert held(k) == ({"SQ01", "SQ03"}, {"SQ01", "SQ03"})
    counties.set_community_county(ctx, SYSTEM, "SQ03", "XQ02")
    k.pull()
    assert held(k) == ({"SQ01"}, {"SQ01"})
    assert not [card for (kind, card), rec in k.mirror.items() if kind == "balance" and rec is not None and card.startswith("51068103")]
    counties.set_community_county(ctx, SYSTEM, "SQ03", "XQ01")
    k.pull()
    assert held(k) == ({"SQ01", "SQ03"}, {"SQ01", "SQ03"})
