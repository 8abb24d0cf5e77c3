"""Enrolment: one-time codes, proof of key possession, kiosk ids in order."""

from server.services.enroll import enroll_code
from server.services.staff import SYSTEM
from sync.signing import SigningKey
from tests.server.helpers import error_code, reply_of
from tests.server.kiosk_double import KioskDouble


def test_enroll_assigns_ids_in_order_and_pins_server_key(client, ctx, clock):
    first, second = KioskDouble(client, 1, clock), KioskDouble(client, 2, clock)
    r1 = first.enroll(enroll_code(ctx, SYSTEM, "S01")["code"])
    r2 = second.enroll(enroll_code(ctx, SYSTEM, "S02")["code"])
    assert r1.status_code == r2.status_code == 200
    a, b = reply_of(r1, ctx), reply_of(r2, ctx)
    assert (a["kiosk"], a["shop"], b["kiosk"], b["shop"]) == ("K0001", "S01", "K0002", "S02")
    assert a["server_key"] == ctx.key.public_hex
    assert a["shop_name"] == "龙居社区积分兑换超市"


def test_reused_code_is_refused(client, ctx, clock):
    code = enroll_code(ctx, SYSTEM, "S01")["code"]
    assert KioskDouble(client, 1, clock).enroll(code).status_code == 200
    again = KioskDouble(client, 2, clock).enroll(code)
    assert again.status_code == 403
    assert error_code(again, ctx) == "bad_enroll_code"


def test_expired_code_is_refused(client, ctx, clock, settings):
    code = enroll_code(ctx, SYSTEM, "S01")["code"]
    clock.advance(settings.enroll_code_ttl_seconds * 1000 + 1)
    resp = KioskDouble(client, 1, clock).enroll(code)
    assert resp.status_code == 403 and error_code(resp, ctx) == "bad_enroll_code"


def test_unknown_code_is_refused(client, ctx, clock):
    resp = KioskDouble(client, 1, clock).enroll("AAAA-BBBB-CCCC")
    assert resp.status_code == 403 and error_code(resp, ctx) == "bad_enroll_code"


def test_bad_proof_is_refused_and_keeps_the_code(client, ctx, clock):
    code = enroll_code(ctx, SYSTEM, "S01")["code"]
    k = KioskDouble(client, 1, clock)
    resp = client.post("/v1/enroll", content=k.enroll_request(code, proof_key=SigningKey(bytes([9]) * 32)))
    assert resp.status_code == 401 and error_code(resp, ctx) == "bad_signature"
    assert k.enroll(code).status_code == 200  # the failed attempt did not burn the code


def test_malformed_enroll_body_names_the_problem(client, ctx):
    resp = client.post("/v1/enroll", content=b'{"v":1,"code":"nope"}')
    assert resp.status_code == 400
    body = reply_of(resp, ctx)
    assert body["error"]["code"] == "malformed_request"
    assert "code" in body["error"]["message"] or "public_key" in body["error"]["message"]
