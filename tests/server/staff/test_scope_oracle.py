"""A community manager learns nothing about other communities from a refusal: another
community's card answers a change and an import exactly as a read does (404, as if it
did not exist), and another community's kiosk's key history is 403, as for one that
does not exist."""

from tests.server.staff.conftest import SQ02_CARD

NEW = {"name": "赵新", "phone": "13800001111", "community": "SQ01"}


def test_a_put_of_another_communitys_card_answers_like_a_read(client, login):
    h = login("community_manager")
    read = client.get(f"/api/residents/{SQ02_CARD}", headers=h)
    put = client.put(f"/api/residents/{SQ02_CARD}", headers=h, json=NEW)
    assert read.status_code == put.status_code == 404
    assert put.json()["error"] == read.json()["error"]  # it said "registered in a community that is not yours"
    assert "not yours" not in put.text


def test_an_import_of_another_communitys_card_answers_like_a_read(client, login):
    h = login("community_manager")
    read = client.get(f"/api/residents/{SQ02_CARD}", headers=h).json()["error"]["message"]
    csv = f"card,name,phone,community\n{SQ02_CARD},赵新,13800001111,SQ01\n".encode()
    out = client.post("/api/residents/import?lang=en", headers=h, content=csv).json()
    assert [r["reason"] for r in out["refused"]] == [read]
    assert "not yours" not in str(out)


def test_another_communitys_kiosk_key_history_is_403_like_a_missing_one(client, login, enrolled):
    k1, k2 = enrolled(1, "S01"), enrolled(2, "S02")  # S01 is in SQ01, S02 in SQ02
    h = login("community_manager")
    assert client.get(f"/api/kiosks/{k1.id}/keys", headers=h).status_code == 200
    other = client.get(f"/api/kiosks/{k2.id}/keys", headers=h)
    missing = client.get("/api/kiosks/K9999/keys", headers=h)
    assert other.status_code == missing.status_code == 403
    assert other.json()["error"]["code"] == missing.json()["error"]["code"] == "forbidden"
    assert client.get(f"/api/kiosks/{k2.id}/keys", headers=login("auditor")).status_code == 200
    assert client.get("/api/kiosks/K9999/keys", headers=login("auditor")).status_code == 404
