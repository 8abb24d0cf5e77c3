"""Names with control characters, bidirectional overrides or bytes that were not UTF-8
are refused at every entry point (sync.names): the API's bodies, the CSV import, the CLI
and a kiosk's enrolment label. They used to be stored as given."""

import pytest

from server.cli import main
from sync.names import name_problem
from tests.server.kiosk_double import KioskDouble
from server.services.enroll import enroll_code
from server.services.staff import SYSTEM

BAD = {
    "bidi override": "张三\u202e100",
    "control": "张\x1b[2J三",
    "nul": "张\x00三",
    "line separator": "张\u2028三",
    "replacement": "张\ufffd三",
    "lone surrogate": "张\ud800三",
}


@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
def test_the_validator_refuses_each(text):
    assert name_problem(text) is not None


def test_the_validator_keeps_real_names():
    for text in ("张晓明", "Zhang Xiaoming", "O'Brien-Smith", "阿卜杜·热合曼", "👩‍👧 family"):
        assert name_problem(text) is None, text


@pytest.mark.parametrize("text", [BAD["bidi override"], BAD["control"], BAD["line separator"]])
def test_api_bodies_refuse_them(client, login, text):
    h = login("admin")
    calls = [("put", "/api/residents/5106810199999", {"name": text, "phone": "13800001111", "community": "SQ01"}),
             ("put", "/api/goods/SOAPX", {"name": text, "unit": "块", "price": 5}),
             ("put", "/api/goods/SOAPY", {"name": "香皂", "unit": text, "price": 5}),
             ("put", "/api/shops/S09", {"name": text, "community": "SQ01", "kind": "shop"}),
             ("put", "/api/communities/SQ09", {"name": text, "street": ""}),
             ("put", "/api/operators/op9", {"shop": "S01", "name": text, "pin": "482913"}),
             ("put", "/api/rules/R99", {"name": text, "kind": "basic", "points": 2})]
    for method, path, body in calls:
        resp = getattr(client, method)(path, headers=h, json=body)
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_input", (path, resp.text)
        assert "U+" in resp.json()["error"]["message"]


def test_the_csv_import_refuses_such_rows_and_files_that_are_not_utf8(client, login):
    h = login("admin")
    csv = f"card,name,phone,community\n5106810199998,{BAD['bidi override']},13800001111,SQ01\n".encode()
    resp = client.post("/api/residents/import", headers=h, content=csv)  # the register decoder refuses the file whole
    assert resp.status_code == 422 and client.get("/api/residents/5106810199998", headers=h).status_code == 404
    latin1 = "card,name,phone,community\n5106810199997,Jos\xe9,13800001111,SQ01\n".encode("latin-1")
    resp = client.post("/api/residents/import", headers=h, content=latin1)
    assert resp.status_code == 422 and "neither UTF-8 nor GBK" in resp.json()["error"]["message"]
    assert client.get("/api/residents/5106810199997", headers=h).status_code == 404


def test_the_cli_refuses_them(settings, tmp_path, capsys):
    f = tmp_path / "reg.csv"
    f.write_bytes(b"card,name,phone,community\n5106810199996,\xff\xfe,13800001111,SQ01\n")
    assert main(["residents", "import", str(f), "--data", str(settings.data_dir)]) == 2
    assert "neither UTF-8 nor GBK" in capsys.readouterr().err


def test_a_kiosk_label_with_a_bidi_override_is_refused(client, ctx, clock):
    k = KioskDouble(client, 7, clock)
    k.label = "counter \u202e1"
    resp = k.enroll(enroll_code(ctx, SYSTEM, "S01")["code"])
    assert resp.status_code == 400 and "\\u202e" in resp.json()["error"]["message"]
