"""Counties (issue 15, "scope the feed by county"): a kiosk mirrors and pulls its own
county only, a resident of another county is served through the server's signed statement
(``POST /v1/lookup/resident``) online and refused offline, a tampered statement is never
used, and a deployment without counties sees nothing change. A real kiosk (KioskService)
over the real app."""

import msgspec
import pytest

from kiosk import errors as E
from kiosk.i18n import t
from schema.wire import ResidentReply, ResidentStatement
from server.errors import Invalid, NotFound
from server.services import counties, manage
from server.services.reports import publish_board
from server.services.tasks import post
from server.services.staff import SYSTEM
from server.store import staff as staff_store
from sync import codec
from sync.calendar import local_month
from sync.signing import VerifyKey
from tests.server.conftest import CARD_A, CARD_B
from tests.server.helpers import points


def mirrored(svc, table: str, column: str) -> set[str]:
    return {r[0] for r in svc.store.db.conn.execute(f"SELECT {column} FROM {table}").fetchall()}  # the test's own look


def two_counties(ctx) -> None:
    """SQ01 and SQ03 in 广汉市 (XQ01), SQ02 in 什邡市 (XQ02)."""
    counties.put_county(ctx, SYSTEM, "XQ01", "广汉市")
    counties.put_county(ctx, SYSTEM, "XQ02", "什邡市")
    for community, county in (("SQ01", "XQ01"), ("SQ03", "XQ01"), ("SQ02", "XQ02")):
        counties.set_community_county(ctx, SYSTEM, community, county)


def test_a_kiosk_mirrors_only_its_county(inprocess_kiosk, app_server):
    ctx = app_server.ctx
    svc = inprocess_kiosk()  # at S01, of SQ01
    manage.set_shop_serves(ctx, SYSTEM, "S01", ["SQ01", "SQ02"])  # one county still: allowed
    assert svc.sync().ok and svc.resident(CARD_B) is not None
    two_counties(ctx)  # SQ02 leaves S01's county: its residents leave the kiosk
    assert svc.sync().ok
    assert mirrored(svc, "residents", "community") == {"SQ01"} and svc.resident(CARD_B) is None
    assert CARD_B not in mirrored(svc, "balances", "card")
    with pytest.raises(Invalid) as refused:
        manage.set_shop_serves(ctx, SYSTEM, "S01", ["SQ01", "SQ02"])
    assert "SQ02 is in county XQ02" in str(refused.value)
    manage.set_shop_serves(ctx, SYSTEM, "S01", ["SQ01", "SQ03"])
    assert svc.sync().ok and mirrored(svc, "residents", "community") == {"SQ01", "SQ03"}
    with pytest.raises(NotFound):
        counties.set_community_county(ctx, SYSTEM, "SQ03", "NOPE")


def test_boards_reach_their_countys_kiosks_only(inprocess_kiosk, app_server, clock):
    ctx = app_server.ctx
    two_counties(ctx)
    here, there = inprocess_kiosk("here"), inprocess_kiosk("there", shop="S02")
    publish_board(ctx, SYSTEM, local_month(clock.now))
    assert here.sync().ok and there.sync().ok
    assert {k.split("/")[0] for k in mirrored(here, "board", "key")} == {"SQ01", "SQ03"}
    assert {k.split("/")[0] for k in mirrored(there, "board", "key")} == {"SQ02"}
    counties.set_community_county(ctx, SYSTEM, "SQ03", "XQ02")  # its boards move with it
    assert there.sync().ok
    assert {k.split("/")[0] for k in mirrored(there, "board", "key")} == {"SQ02", "SQ03"}


def boards_of(svc) -> set[str]:
    return {k.split("/")[0] for k in mirrored(svc, "board", "key")}


def test_a_community_moving_county_leaves_the_old_countys_kiosks(inprocess_kiosk, app_server, clock):
    """SQ03 moves from XQ01 to XQ02: the kiosks of XQ01 drop its boards, the shop that
    served it from XQ01 drops its residents, balances and tasks; XQ02's kiosks get its
    boards, and SQ03's own station drops XQ01's boards and gets XQ02's."""
    ctx = app_server.ctx
    two_counties(ctx)
    manage.set_shop_serves(ctx, SYSTEM, "S01", ["SQ01", "SQ03"])
    post(ctx, SYSTEM, "SQ03", "ZYFW", "清理楼道")
    publish_board(ctx, SYSTEM, local_month(clock.now))
    here, there, station = inprocess_kiosk("here"), inprocess_kiosk("there", shop="S02"), inprocess_kiosk("st03", shop="ST03")
    assert here.sync().ok and mirrored(here, "residents", "community") == {"SQ01", "SQ03"}
    assert mirrored(here, "tasks", "community") == {"SQ03"} and boards_of(here) == {"SQ01", "SQ03"}
    assert boards_of(station) == {"SQ01", "SQ03"} and boards_of(there) == {"SQ02"}

    out = counties.set_community_county(ctx, SYSTEM, "SQ03", "XQ02")
    assert out["left"] > 0 and out["moved"] > 0
    assert here.sync().ok and there.sync().ok and station.sync().ok
    assert boards_of(here) == {"SQ01"} and mirrored(here, "residents", "community") == {"SQ01"}
    assert mirrored(here, "tasks", "community") == set()
    assert not {c for c in mirrored(here, "balances", "card") if c.startswith("51068103")}
    assert boards_of(there) == {"SQ02", "SQ03"}
    assert boards_of(station) == {"SQ02", "SQ03"} and mirrored(station, "residents", "community") == {"SQ03"}


def test_a_community_moving_back_comes_back_and_a_new_kiosk_pulls_the_same(inprocess_kiosk, app_server, clock):
    ctx = app_server.ctx
    two_counties(ctx)
    manage.set_shop_serves(ctx, SYSTEM, "S01", ["SQ01", "SQ03"])
    publish_board(ctx, SYSTEM, local_month(clock.now))
    here = inprocess_kiosk("here")
    counties.set_community_county(ctx, SYSTEM, "SQ03", "XQ02")
    assert here.sync().ok and boards_of(here) == {"SQ01"}
    counties.set_community_county(ctx, SYSTEM, "SQ03", "XQ01")  # S01 serves it again, as staff set
    assert here.sync().ok
    assert boards_of(here) == {"SQ01", "SQ03"} and mirrored(here, "residents", "community") == {"SQ01", "SQ03"}
    fresh = inprocess_kiosk("fresh")  # from cursor 0: every deletion row lies below the row it deletes
    for table, column in (("residents", "card"), ("balances", "card"), ("board", "key")):
        assert mirrored(fresh, table, column) == mirrored(here, table, column)


def test_without_counties_every_board_is_global_and_a_lookup_as_before(inprocess_kiosk, app_server, clock):
    svc = inprocess_kiosk()
    publish_board(app_server.ctx, SYSTEM, local_month(clock.now))
    assert svc.sync().ok and {k.split("/")[0] for k in mirrored(svc, "board", "key")} == {"SQ01", "SQ02", "SQ03"}
    row = svc.look_up(CARD_B)  # the plain lookup: a visitor of its own (default) county, full name
    assert row["county"] is None and "*" not in row["name"]


def test_another_countys_resident_is_served_online_by_a_signed_statement(inprocess_kiosk, app_server, wire):
    ctx = app_server.ctx
    two_counties(ctx)
    svc = inprocess_kiosk()
    confirmed = points(ctx, CARD_B)
    row = svc.look_up(CARD_B)
    assert (row["county"], row["county_name"], row["community"]) == ("XQ02", "什邡市", "SQ02")
    assert "*" in row["name"]  # masked, as every board shows it
    [(_, resp)] = [(q, r) for q, r in wire.seen if q.url.path == "/v1/lookup/resident"]
    reply = codec.decode(resp.content, ResidentReply)
    VerifyKey(ctx.key.public_hex).verify("resident", bytes(reply.statement), reply.signature)
    st = codec.decode(bytes(reply.statement), ResidentStatement)
    assert (st.balance, st.county, st.kiosk_county, st.kiosk) == (confirmed, "XQ02", "XQ01", svc.kiosk_id)

    assert svc.balance(CARD_B).available == confirmed
    with pytest.raises(E.RedeemRefused):  # bounded by the balance just stated
        svc.redeem(CARD_B, [("OIL5L", confirmed // 300 + 1)], "op1")
    svc.award(CARD_B, "ZYFW", "op1")  # a fresh statement asked before each transaction, then recorded
    assert len([q for q, _ in wire.seen if q.url.path == "/v1/lookup/resident"]) == 3
    assert svc.sync().ok and points(ctx, CARD_B) == confirmed + 10
    with ctx.store.read() as db:
        log = staff_store.audit_rows(db, staff=f"kiosk:{svc.kiosk_id}", action="kiosk_resident_lookup")
    assert [r["subject"] for r in log] == [CARD_B] * 3

    app_server.stop()  # offline: refused, in words, and nothing recorded
    before = svc.store.unacked_event_count()
    with pytest.raises(E.OtherCountyOnlineOnly) as refused:
        svc.award(CARD_B, "ZYFW", "op1")
    assert "外县（什邡市）居民，只能在联网时办理" in t(refused.value.key, "zh", **refused.value.fields)
    assert svc.store.unacked_event_count() == before
    svc.award(CARD_A, "ZYFW", "op1")  # its own county's residents are served offline as ever
    app_server.start()


def test_a_tampered_statement_is_never_used(inprocess_kiosk, app_server, wire):
    ctx = app_server.ctx
    two_counties(ctx)
    svc = inprocess_kiosk()

    def richer(request, resp):  # a party in the middle raises the balance and signs the reply again
        if request.url.path != "/v1/lookup/resident" or resp.status_code != 200:
            return resp
        reply = codec.decode(resp.content, ResidentReply)
        st = codec.decode(bytes(reply.statement), ResidentStatement)
        forged = codec.encode(ResidentReply(v=1, signature=reply.signature,
                                            statement=msgspec.Raw(codec.encode(msgspec.structs.replace(st, balance=99_999)))))
        headers = dict(resp.headers) | {"jifen-signature": ctx.key.sign("response", forged), "content-length": str(len(forged))}
        return type(resp)(200, headers=headers, content=forged, request=request)

    wire.rewrite = richer
    with pytest.raises(E.Offline) as refused:
        svc.look_up(CARD_B)
    assert "resident statement does not verify" in refused.value.why
    assert svc.resident(CARD_B) is None  # nothing kept

    wire.rewrite = lambda request, resp: type(resp)(200, headers=resp.headers, request=request,
                                                    content=resp.content.replace(b'"balance":', b'"balance":9'))
    with pytest.raises(E.Offline):
        svc.look_up(CARD_B)
    assert svc.resident(CARD_B) is None
