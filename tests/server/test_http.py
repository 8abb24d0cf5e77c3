"""The HTTP edge: every response signed, every error in the one shape, never a traceback."""

from sync.protocol import ERRORS
from tests.server.helpers import reply_of


def test_health_is_signed_and_names_the_key(client, ctx):
    resp = client.get("/v1/health")
    assert reply_of(resp, ctx) == {"ok": True, "server_key": ctx.key.public_hex, "v": 1}


def test_unknown_path_is_a_signed_not_found(client, ctx):
    resp = client.get("/v2/anything")
    assert resp.status_code == 404
    assert reply_of(resp, ctx)["error"]["code"] == "not_found"


def test_wrong_method_is_a_signed_method_not_allowed(client, ctx):
    resp = client.get("/v1/push")
    assert resp.status_code == 405
    assert reply_of(resp, ctx)["error"]["code"] == "method_not_allowed"


def test_error_body_shape_is_stable(client, ctx):
    err = reply_of(client.post("/v1/pull", content=b"{}"), ctx)["error"]
    assert set(err) == {"code", "message", "action", "detail"}
    assert err["code"] == "missing_header" and err["action"] == ERRORS["missing_header"][1]


def test_unexpected_failure_is_an_internal_error_not_a_traceback(client, ctx, monkeypatch):
    import server.app

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(server.app, "pull", boom)
    resp = client.post("/v1/pull", content=b"{}", headers={"Jifen-Kiosk": "K0001", "Jifen-Signature": "00"})
    assert resp.status_code == 500
    body = reply_of(resp, ctx)
    assert body["error"]["code"] == "internal_error" and "disk" not in resp.text


def test_litestar_errors_name_the_problem(client, ctx, settings):
    assert "/v2/anything" in reply_of(client.get("/v2/anything"), ctx)["error"]["message"]
    assert "GET" in reply_of(client.get("/v1/pull"), ctx)["error"]["message"]
    big = reply_of(client.post("/v1/enroll", content=b"x" * (settings.max_body_bytes + 1)), ctx)["error"]
    assert (big["code"], big["detail"]["limit"]) == ("body_too_large", settings.max_body_bytes)
