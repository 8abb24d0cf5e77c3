"""Who may do what over /api: sign-in and tokens, each role's allowed and denied calls,
and community scope (a community manager never sees another community's data)."""

import pytest

from server.services.staff import TOKEN_TTL_MS
from server.store import staff as staffq
from tests.server.staff.conftest import PASSWORD, SQ01_CARD, SQ02_CARD

MONTH = "2026-01"
ROLES = ("admin", "reconciler", "community_manager", "auditor")


def code_of(resp) -> str:
    return resp.json()["error"]["code"]


# ---------------------------------------------------------------- tokens


def test_sign_in_and_out(client):
    resp = client.post("/api/session", json={"username": "ada", "password": PASSWORD})
    assert resp.status_code == 200
    token = resp.json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/session", headers=h).json()["role"] == "admin"
    assert client.delete("/api/session", headers=h).status_code == 200
    resp = client.get("/api/session", headers=h)
    assert resp.status_code == 401 and code_of(resp) == "unauthorized"


@pytest.mark.parametrize("username,password", [("ada", "wrong password"), ("nobody", PASSWORD), ("", "")])
def test_bad_credentials_are_refused(client, username, password):
    resp = client.post("/api/session", json={"username": username, "password": password})
    assert resp.status_code == 401 and code_of(resp) == "unauthorized"


def test_token_is_stored_hashed(client, ctx):
    token = client.post("/api/session", json={"username": "ada", "password": PASSWORD}).json()["token"]
    with ctx.store.read() as db:
        stored = [r[0] for r in db.sql.execute("SELECT token_hash FROM staff_tokens")]
    assert token not in stored and len(stored) == 1


def test_expired_token_is_refused(client, login, clock):
    h = login("admin")
    assert client.get("/api/staff", headers=h).status_code == 200
    clock.advance(TOKEN_TTL_MS)
    resp = client.get("/api/staff", headers=h)
    assert resp.status_code == 401 and code_of(resp) == "unauthorized"


def test_disabled_account_is_signed_out_everywhere(client, login):
    h_rex = login("reconciler")
    assert client.post("/api/staff/rex/disable", headers=login("admin")).status_code == 200
    assert client.get("/api/reviews", headers=h_rex).status_code == 401
    assert client.post("/api/session", json={"username": "rex", "password": PASSWORD}).status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic YWRhOmFkYQ=="])
def test_no_valid_token_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    for path in ("/api/staff", "/api/reviews", f"/api/reports/board?month={MONTH}", f"/api/residents/{SQ01_CARD}"):
        resp = client.get(path, headers=headers)
        assert resp.status_code == 401 and code_of(resp) == "unauthorized", path


# ---------------------------------------------------------------- role matrix

RESIDENT = {"name": "赵新", "phone": "13800001111", "community": "SQ01"}
CALLS = {
    # name: (method, path, json, allowed roles)
    "list staff": ("GET", "/api/staff", None, {"admin", "auditor"}),
    "add staff": ("POST", "/api/staff", {"username": "newbie", "role": "auditor", "password": "longenough"}, {"admin"}),
    "disable staff": ("POST", "/api/staff/aud/disable", None, {"admin"}),
    "audit log": ("GET", "/api/audit-log", None, {"admin", "auditor"}),
    "list reviews": ("GET", "/api/reviews", None, set(ROLES)),
    "put own resident": ("PUT", f"/api/residents/{SQ01_CARD}", RESIDENT, {"admin", "community_manager"}),
    "put rule": ("PUT", "/api/rules/LJFL", {"points": 3}, {"admin"}),
    "put good": ("PUT", "/api/goods/SOAP", {"name": "肥皂", "unit": "块", "price": 35}, {"admin"}),
    "put shop": ("PUT", "/api/shops/S09", {"name": "新店", "community": "SQ01", "kind": "shop"}, {"admin"}),
    "put community": ("PUT", "/api/communities/SQ09", {"name": "新社区", "street": "雒城街道"}, {"admin"}),
    "put operator": ("PUT", "/api/operators/op77", {"shop": "S01", "name": "王芳", "pin": "432100"}, {"admin"}),
    "reset pin": ("POST", "/api/operators/op1/pin", {"pin": "864200"}, {"admin"}),
    "retire operator": ("POST", "/api/operators/sup1/retire", None, {"admin"}),
    "retire good": ("POST", "/api/goods/SOAP/retire", None, {"admin"}),
    "enroll code": ("POST", "/api/enroll-codes", {"shop": "S01"}, {"admin"}),
    "board report": ("GET", f"/api/reports/board?month={MONTH}", None, set(ROLES)),
    "settlement": ("GET", f"/api/reports/settlement?month={MONTH}&format=csv", None, set(ROLES)),
    "publish board": ("POST", f"/api/boards/{MONTH}/publish", None, {"admin", "reconciler"}),
    "make checkpoint": ("POST", "/api/checkpoints", None, {"admin", "reconciler"}),
    "list checkpoints": ("GET", "/api/checkpoints", None, set(ROLES)),
    "shift reports": ("GET", f"/api/shifts?month={MONTH}", None, set(ROLES)),
    "stock differences": ("GET", f"/api/reports/shifts?month={MONTH}&format=csv", None, set(ROLES)),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("call", sorted(CALLS))
def test_role_matrix(client, login, ctx, role, call):
    method, path, body, allowed = CALLS[call]
    headers = login(role)

    def actions() -> int:
        with ctx.store.read() as db:
            return sum(r["action"] != "sign_in" for r in staffq.audit_rows(db, limit=100_000))

    before = actions()
    resp = client.request(method, path, headers=headers, json=body)
    if role in allowed:
        assert resp.status_code in (200, 201), resp.text
    else:
        assert resp.status_code == 403 and code_of(resp) == "forbidden", resp.text
        assert actions() == before  # a refusal does nothing


def test_kiosk_revoke_is_admin_only(client, login, kiosk):
    for role in ("reconciler", "community_manager", "auditor"):
        assert client.post(f"/api/kiosks/{kiosk.id}/revoke", headers=login(role)).status_code == 403
    assert client.post(f"/api/kiosks/{kiosk.id}/revoke", headers=login("admin")).json()["status"] == "revoked"


# ---------------------------------------------------------------- community scope


def test_community_manager_cannot_read_another_communitys_resident(client, login):
    h = login("community_manager")
    assert client.get(f"/api/residents/{SQ01_CARD}", headers=h).json()["card"] == SQ01_CARD
    resp = client.get(f"/api/residents/{SQ02_CARD}", headers=h)
    assert resp.status_code == 404 and code_of(resp) == "not_found" and "郝" not in resp.text
    assert client.get(f"/api/residents/{SQ02_CARD}", headers=login("auditor")).status_code == 200


def test_community_manager_lists_only_its_residents(client, login):
    h = login("community_manager")
    rows = client.get("/api/residents", headers=h).json()
    assert rows and {r["community"] for r in rows} == {"SQ01"}
    resp = client.get("/api/residents?community=SQ02", headers=h)
    assert resp.status_code == 403 and code_of(resp) == "forbidden"


def test_community_manager_cannot_write_another_community(client, login):
    h = login("community_manager")
    resp = client.put(f"/api/residents/{SQ02_CARD}", headers=h, json=RESIDENT | {"community": "SQ02"})
    assert resp.status_code == 403
    # nor move someone else's resident into its own community: to it, that card is missing
    resp = client.put(f"/api/residents/{SQ02_CARD}", headers=h, json=RESIDENT)
    assert resp.status_code == 404 and code_of(resp) == "not_found"


def test_community_manager_reports_are_scoped(client, login):
    h = login("community_manager")
    resp = client.get(f"/api/reports/coverage?month={MONTH}", headers=h)
    assert [r["community"] for r in resp.json()["rows"]] == ["SQ01"]
    resp = client.get(f"/api/reports/coverage?month={MONTH}&community=SQ02", headers=h)
    assert resp.status_code == 403
    all_rows = client.get(f"/api/reports/coverage?month={MONTH}", headers=login("auditor")).json()["rows"]
    assert [r["community"] for r in all_rows] == ["SQ01", "SQ02", "SQ03"]


def test_community_manager_sees_and_resolves_only_its_review_items(client, login, items):
    h = login("community_manager")
    listed = client.get("/api/reviews", headers=h).json()
    assert {i["id"] for i in listed} == {items["SQ01"]}
    resp = client.get(f"/api/reviews/{items['SQ02']}", headers=h)
    assert resp.status_code == 403 and code_of(resp) == "forbidden"
    resp = client.post(f"/api/reviews/{items['SQ02']}/resolve", headers=h, json={"action": "accept", "note": "看过"})
    assert resp.status_code == 403
    resp = client.post(f"/api/reviews/{items['SQ01']}/resolve", headers=h, json={"action": "accept", "note": "看过"})
    assert resp.status_code == 200


def test_auditor_cannot_resolve(client, login, items):
    resp = client.post(f"/api/reviews/{items['SQ01']}/resolve", headers=login("auditor"), json={"action": "accept", "note": "x"})
    assert resp.status_code == 403 and code_of(resp) == "forbidden"


def test_staff_api_is_in_the_openapi_schema(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    for p in ("/api/session", "/api/reviews/{item}/resolve", "/api/reports/{kind}", "/api/residents/import", "/api/checkpoints"):
        assert p in paths
    assert "/v1/push" in paths


def test_password_change_own_and_by_admin(client, login):
    h = login("auditor")
    resp = client.put("/api/staff/aud/password", headers=h, json={"password": "a new password", "current": "wrong"})
    assert resp.status_code == 403
    assert client.put("/api/staff/rex/password", headers=h, json={"password": "a new password"}).status_code == 403
    resp = client.put("/api/staff/aud/password", headers=h, json={"password": "a new password", "current": PASSWORD})
    assert resp.status_code == 200 and resp.json()["tokens_revoked"] == 1
    assert client.get("/api/reviews", headers=h).status_code == 401  # signed out everywhere
    assert client.post("/api/session", json={"username": "aud", "password": "a new password"}).status_code == 200
    assert client.put("/api/staff/rex/password", headers=login("admin"), json={"password": "reset by admin"}).status_code == 200
    assert client.post("/api/session", json={"username": "rex", "password": "reset by admin"}).status_code == 200
