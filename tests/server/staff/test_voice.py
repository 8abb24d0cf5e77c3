"""Residents' letters and requests on the server: a ``voice`` event becomes an item of its
resident's community; staff who may act there assign, reply and mark it done (each step
audited, logged and sent to the community's kiosks); a manager of another community can
neither see nor handle it; the resident's first rating of a done item counts, a second is
kept and reviewed; the monthly report counts them."""

import json
import sqlite3

import pytest

from server.cli import main
from server.services import projector, reports, voice
from server.services.staff import SYSTEM
from server.store import ledger
from sync import codec, tracking
from sync.calendar import local_month
from tests.conftest import HOUR, T0
from tests.server.staff.conftest import SQ01_CARD, SQ02_CARD


def letter(k, card, channel="letter", text="村口路灯坏了三天了"):
    return k.voice(card, channel, text)


def rate(k, card, code, stars):
    return k.rate(card, code, stars)


def push(k, *events):
    resp = k.push(k.batch(*events))
    assert resp.status_code == 200, resp.text
    return resp


@pytest.fixture
def letters(enrolled):
    """A letter from an SQ01 resident at S01 and a request from an SQ02 resident at S02."""
    k1, k2 = enrolled(1, "S01"), enrolled(2, "S02")
    a, b = letter(k1, SQ01_CARD), letter(k2, SQ02_CARD, "request")
    push(k1, a)
    push(k2, b)
    return {"SQ01": a.code, "SQ02": b.code, "k1": k1, "k2": k2}


def feed_row(ctx, code):
    with ctx.store.read() as db:
        row = db.sql.execute("SELECT scope, data FROM feed WHERE kind = 'voice_reply' AND key = ?", [code]).fetchone()
    return row[0], json.loads(row[1])


def test_a_letter_becomes_an_item_of_its_residents_community_and_reaches_its_kiosks(ctx, letters):
    item = voice.item(ctx, SYSTEM, letters["SQ01"])
    assert (item["community"], item["status"], item["channel"], item["text"]) == ("SQ01", "open", "letter", "村口路灯坏了三天了")
    assert [s["step"] for s in item["steps"]] == ["received"]
    scope, data = feed_row(ctx, letters["SQ01"])
    assert scope == "community:SQ01" and data["status"] == "open" and data["resident"] == SQ01_CARD and "text" not in data


def test_assign_reply_done_over_the_api_each_audited_logged_and_published(client, login, ctx, letters):
    code, cm = letters["SQ01"], login("community_manager")
    assert client.post(f"/api/voice/{code}/done", headers=cm).status_code == 409  # no reply yet
    assert client.post(f"/api/voice/{code}/assign", json={"staff": "cmo"}, headers=cm).json()["assignee"] == "cmo"
    assert client.post(f"/api/voice/{code}/reply", json={"text": "已报修，明天修好"}, headers=cm).json()["status"] == "replied"
    out = client.post(f"/api/voice/{code}/done", headers=cm).json()
    assert out["status"] == "done" and out["done_at"] >= out["replied_at"]
    assert client.post(f"/api/voice/{code}/reply", json={"text": "again"}, headers=cm).status_code == 409  # closed

    item = client.get(f"/api/voice/{code}", headers=login("auditor")).json()
    assert [s["step"] for s in item["steps"]] == ["received", "assigned", "replied", "done"]
    assert [s["actor"] for s in item["steps"][1:]] == ["cmo"] * 3
    audit = client.get("/api/audit-log", headers=login("admin")).json()
    assert [(r["action"], r["subject"]) for r in audit if r["action"].startswith("voice_")] == [
        ("voice_assign", code), ("voice_reply", code), ("voice_done", code)]
    _, data = feed_row(ctx, code)
    assert (data["status"], data["reply"]) == ("done", "已报修，明天修好")


def test_a_manager_of_another_community_neither_sees_nor_handles_it(client, login, letters):
    cm = login("community_manager")  # cmo manages SQ01 only
    listed = client.get("/api/voice", headers=cm).json()
    assert [r["code"] for r in listed] == [letters["SQ01"]]
    other = letters["SQ02"]
    assert client.get(f"/api/voice/{other}", headers=cm).status_code == 403
    for step, body in (("assign", {"staff": "cmo"}), ("reply", {"text": "x"}), ("done", None)):
        assert client.post(f"/api/voice/{other}/{step}", json=body, headers=cm).status_code == 403
    assert client.get(f"/api/voice?community=SQ02", headers=cm).status_code == 403
    # nor can it be given to them, nor is an auditor or reconciler a handler
    assert client.post(f"/api/voice/{other}/assign", json={"staff": "cmo"}, headers=login("admin")).status_code == 422
    assert client.post(f"/api/voice/{other}/reply", json={"text": "x"}, headers=login("auditor")).status_code == 403
    assert {r["code"] for r in client.get("/api/voice", headers=login("reconciler")).json()} == {letters["SQ01"], letters["SQ02"]}


def test_bad_input_is_refused_naming_the_problem(client, login, letters):
    admin = login("admin")
    resp = client.get("/api/voice/0001-0001-0", headers=admin)
    assert resp.status_code == 422 and "check digit" in resp.json()["error"]["message"]
    assert client.get(f"/api/voice/{tracking.tracking_code('K0999', 7)}", headers=admin).status_code == 404
    resp = client.post(f"/api/voice/{letters['SQ01']}/reply", json={"text": "字" * 1001}, headers=admin)
    assert resp.status_code == 422 and "1000" in resp.json()["error"]["message"]
    assert client.get("/api/voice?status=lost", headers=admin).status_code == 422


def test_the_first_rating_of_a_done_item_counts_and_a_second_is_reviewed(ctx, letters, clock):
    code, k1 = letters["SQ01"], letters["k1"]
    push(k1, rate(k1, SQ01_CARD, code, 5))  # not done yet: kept, reviewed, not counted
    clock.advance(2 * HOUR)
    voice.reply(ctx, SYSTEM, code, "已修好")
    voice.done(ctx, SYSTEM, code)
    push(k1, rate(k1, SQ01_CARD, code, 4), rate(k1, SQ02_CARD, code, 1))
    push(k1, rate(k1, SQ01_CARD, code, 1))
    item = voice.item(ctx, SYSTEM, code)
    assert item["stars"] == 4 and item["steps"][-1]["step"] == "rated"
    with ctx.store.read() as db:
        reasons = [i["detail"]["reason"] for i in ledger.list_reviews(db) if i["kind"] == "voice_rating_refused"]
    assert reasons == ["not_done", "other_resident", "rated"]
    assert feed_row(ctx, code)[1]["stars"] == 4

    rep = reports.report(ctx, SYSTEM, "voice", local_month(T0), lang="zh")
    rows = {(r["community"], r["channel"]): r for r in rep["rows"]}
    assert rows[("SQ01", "letter")] | {} == rows[("SQ01", "letter")] and rows[("SQ01", "letter")]["handled"] == 1
    assert rows[("SQ01", "letter")]["median_handle_s"] >= 2 * 3600 and rows[("SQ01", "letter")]["share_4_5"] == 100.0
    assert rows[("SQ02", "request")]["handled"] == 0 and rows[("SQ02", "request")]["share_4_5"] is None
    assert rep["labels"]["share_4_5"] == "满意率(%)" and rep["totals"]["received"] == 2


def test_the_public_handling_log_masks_the_name_and_hides_the_words(ctx, letters):
    code = letters["SQ01"]
    voice.reply(ctx, SYSTEM, code, "已修好")
    log = voice.public_log(ctx, code)
    with ctx.store.read() as db:
        name = db.sql.execute("SELECT name FROM residents WHERE card = ?", [SQ01_CARD]).fetchone()[0]
    assert log["name"] != name and log["name"][0] == name[0] and "*" in log["name"]
    assert "text" not in log and all("actor" not in s for s in log["steps"])
    assert [s["step"] for s in log["steps"]] == ["received", "replied"] and log["steps"][1]["reply"] == "已修好"
    assert [r["code"] for r in voice.public_month(ctx, "SQ01", local_month(T0))] == [code]


def test_the_cli_lists_replies_and_closes(settings, letters, capsys):
    data, code = str(settings.data_dir), letters["SQ01"]
    assert main(["voice", "list", "--status", "open", "--json", "--data", data]) == 0
    assert code in capsys.readouterr().out
    assert main(["voice", "reply", code, "--text", "收到", "--staff", "cmo", "--data", data]) == 0
    assert main(["voice", "done", letters["SQ02"], "--staff", "cmo", "--data", data]) == 2  # another community's
    assert main(["voice", "done", code, "--staff", "cmo", "--json", "--data", data]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["status"] == "done"
    assert main(["report", "voice", "--month", local_month(T0), "--format", "csv", "--data", data]) == 0
    assert "满意率" in capsys.readouterr().out


def test_a_rebuild_from_the_log_keeps_the_handled_and_rated_items_and_names_an_edited_letter(ctx, settings, letters, tmp_path):
    """Letters, their handling and ratings beside the ledger: ``reproject --check`` finds the
    stored ledger equal to the one rebuilt from the log (the items are staff state, kept), a
    full rebuild leaves every item and step as it was, and an item whose words no longer
    match its signed event is named."""
    code, k1 = letters["SQ01"], letters["k1"]
    push(k1, rate(k1, SQ01_CARD, code, 5))  # not done: reviewed
    voice.reply(ctx, SYSTEM, code, "已修好")
    voice.done(ctx, SYSTEM, code)
    push(k1, rate(k1, SQ01_CARD, code, 4), k1.award(SQ01_CARD, "ZYFW", 10))  # a posting beside them
    before = voice.item(ctx, SYSTEM, code)
    assert before["stars"] == 4

    out = projector.rebuild(ctx, tmp_path / "scratch.db")
    assert out.ok, out.differences
    assert projector.rebuild(ctx, tmp_path / "scratch.db", replace=True).ok
    assert voice.item(ctx, SYSTEM, code) == before

    conn = sqlite3.connect(settings.db_path)
    with conn:
        conn.execute("UPDATE voice_items SET text = '路灯好好的' WHERE code = ?", [code])
    conn.close()
    out = projector.rebuild(ctx, tmp_path / "scratch.db")
    assert not out.ok and out.differences[0]["table"] == "voice_items", out.differences
