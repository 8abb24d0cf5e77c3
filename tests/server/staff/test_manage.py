"""Running the programme: register import with refused rows, resident and rule edits that
reach kiosks through pull, rule changes with effective dates, the append-only audit log,
and the staff CLI."""

import json
import sqlite3

import pytest

from server.cli import main
from server.services import open_context
from server.services.manage import apply_due, change_rule, get_resident, put_good
from server.services.register import import_residents
from server.services.staff import SYSTEM, ensure_first_admin
from server.staff.tick import tick
from server.store import catalog, ledger
from server.store import staff as staffq
from sync.ledger import resident_account
from sync.passwords import verify
from tests.server.helpers import reply_of
from tests.server.staff.conftest import SQ01_CARD

REGISTER = """\ufeffcard,name,phone,community
5106810199001,周新华,13811112222,SQ01
5106810199002,吴小红,138 1111 3333,SQ01
BAD!,张三,13811114444,SQ01
5106810199003,,13811115555,SQ01
5106810199004,郑强,12ab,SQ01
5106810199005,冯丽,13811116666,SQ99
5106810199001,周新华,13811112222,SQ01
5106810299006,陈静,13811117777,SQ02
5106810199007,钱伟,13811118888,SQ01,extra
"""


def test_import_reports_refused_rows_and_why(ctx, principal):
    out = import_residents(ctx, principal("community_manager"), REGISTER, lang="en")
    assert (out["added"], out["updated"], out["unchanged"]) == (2, 0, 0)
    refused = {r["line"]: r["reason"] for r in out["refused"]}
    assert sorted(refused) == [4, 5, 6, 7, 8, 9, 10]
    assert "card" in refused[4] and "name" in refused[5] and "phone" in refused[6]
    assert "SQ99 does not exist" in refused[7] and "line 2" in refused[8]
    assert "not yours" in refused[9] and "more values" in refused[10]
    with ctx.store.read() as db:
        assert catalog.row_by_key(db, "residents", "5106810199002")["phone"] == "13811113333"
        assert [i for i in range(1, 10) if catalog.feed_data(db, "resident", f"510681019900{i}") is not None] == [1, 2]
    again = import_residents(ctx, principal("admin"), REGISTER)
    assert (again["added"], again["unchanged"]) == (1, 2)  # the SQ02 row is the admin's to add


def test_import_without_a_community_column_needs_one(ctx):
    from server.errors import Invalid

    with pytest.raises(Invalid):
        import_residents(ctx, SYSTEM, "card,name,phone\n5106810199001,周新华,13811112222\n")
    out = import_residents(ctx, SYSTEM, "card,name,phone\n5106810199001,周新华,13811112222\n", community="SQ03")
    assert out["added"] == 1


def test_cli_import(settings, tmp_path, capsys):
    f = tmp_path / "register.csv"
    f.write_text(REGISTER, encoding="utf-8")
    assert main(["residents", "import", str(f), "--data", str(settings.data_dir)]) == 0
    out = capsys.readouterr().out
    assert "line 4" in out and "3 added" in out and "6 refused" in out


def test_resident_edit_reaches_kiosks(client, login, kiosk, ctx):
    cursor = reply_of(kiosk.pull(limit=5000), ctx)["next"]
    body = {"name": "郝海燕", "phone": "18000000000", "community": "SQ01", "status": "retired"}
    assert client.put(f"/api/residents/{SQ01_CARD}", headers=login("community_manager"), json=body).json()["outcome"] == "updated"
    changes = reply_of(kiosk.pull(cursor=cursor), ctx)["changes"]
    assert [(c["kind"], c["key"], c["data"]["status"], c["data"]["phone_tail"]) for c in changes] == [("resident", SQ01_CARD, "retired", "0000")]


def test_rule_change_waits_for_its_date_and_never_rewrites_events(ctx, kiosk, clock):
    award = kiosk.award(SQ01_CARD, "ZYFW", 10)
    assert kiosk.push(kiosk.batch(award)).status_code == 200
    cursor = reply_of(kiosk.pull(limit=5000), ctx)["next"]
    out = change_rule(ctx, SYSTEM, "ZYFW", {"points": 12}, effective_at=clock() + 3_600_000)
    assert out["applied"] is False
    assert reply_of(kiosk.pull(cursor=cursor), ctx)["changes"] == []
    clock.advance(3_600_000)
    assert apply_due(ctx) == 1
    changes = reply_of(kiosk.pull(cursor=cursor), ctx)["changes"]
    assert [(c["kind"], c["data"]["points"]) for c in changes] == [("rule", 12)]
    with ctx.store.read() as db:
        body = json.loads(ledger.events_by_id(db, [award.id])[0]["body"])
        assert body["points"] == 10
        assert [p["amount"] for p in ledger.recent_postings(db, resident_account(award.resident), 1000) if p["event"] == award.id] == [10]


@pytest.mark.parametrize("fields", [{"points": -3}, {"kind": "prohibited"}, {"cap_day": 0}, {"colour": "red"}])
def test_bad_rule_changes_are_refused(ctx, fields):
    from server.errors import Invalid

    with pytest.raises(Invalid):
        change_rule(ctx, SYSTEM, "ZYFW", fields)


def test_tick_applies_publishes_and_checkpoints(ctx, kiosk):
    done = tick(ctx)
    assert done["boards"] == 6 and done["checkpoint"] == 1  # 3 communities x (last month, this month)
    assert tick(ctx) == {"rule_changes": 0, "boards": 0, "checkpoint": 1, "quarantined": 0, "gap_held": 0}


def test_audit_log_is_append_only(ctx, settings, principal):
    import_residents(ctx, principal("admin"), REGISTER)
    conn = sqlite3.connect(settings.db_path)
    for sql in ("UPDATE audit_log SET staff = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    conn.close()


def test_staff_cli(settings, capsys, monkeypatch):
    data = ["--data", str(settings.data_dir)]
    monkeypatch.setenv("JIFEN_STAFF_PASSWORD", "a long password")
    assert main(["staff", "add", "mgr2", "--role", "community_manager", "--community", "SQ02", *data, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["communities"] == ["SQ02"]
    monkeypatch.delenv("JIFEN_STAFF_PASSWORD")
    assert main(["staff", "add", "aud2", "--role", "auditor", *data]) == 0
    assert "password" in capsys.readouterr().out
    assert main(["staff", "add", "aud2", "--role", "auditor", *data]) == 3  # taken
    assert main(["staff", "add", "x", "--role", "community_manager", *data]) == 2  # needs a community
    capsys.readouterr()
    assert main(["staff", "disable", "aud2", *data]) == 0
    assert "aud2 disabled" in capsys.readouterr().out
    assert main(["staff", "list", *data, "--json"]) == 0
    listed = {r["username"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed["aud2"]["status"] == "disabled" and listed["mgr2"]["communities"] == ["SQ02"]
    assert main(["staff", "log", "--action", "staff_disable", *data, "--json"]) == 0
    assert [r["subject"] for r in json.loads(capsys.readouterr().out)] == ["aud2"]


def test_first_admin(tmp_path, monkeypatch, capsys):
    from server.settings import Settings

    ctx = open_context(Settings.from_env({"JIFEN_ADMIN_PASSWORD": "chosen password"}, data_dir=tmp_path / "a"))
    out = ensure_first_admin(ctx)
    assert out["username"] == "admin" and "password" not in out and "chosen password" not in capsys.readouterr().err
    assert ensure_first_admin(ctx) is None
    ctx.close()
    ctx = open_context(Settings(data_dir=tmp_path / "b"))
    out = ensure_first_admin(ctx)
    assert out["password"] in capsys.readouterr().err
    with ctx.store.read() as db:
        stored = staffq.staff_by_name(db, "admin")["password_hash"]
    assert verify(out["password"], stored) and out["password"] not in stored
    ctx.close()


def test_operator_edit_reaches_its_shops_kiosks_only(ctx, enrolled):
    from server.services.manage import put_operator
    from server.errors import Invalid

    k1, k2 = enrolled(1, "S01"), enrolled(2, "S02")
    c1, c2 = (reply_of(k.pull(limit=5000), ctx)["next"] for k in (k1, k2))
    assert put_operator(ctx, SYSTEM, "op1", "S01", "刘阿姨", "operator", pin="2468")["outcome"] == "updated"
    [change] = reply_of(k1.pull(cursor=c1), ctx)["changes"]
    assert change["kind"] == "operator" and change["data"]["pin_hash"].startswith("scrypt$")
    assert reply_of(k2.pull(cursor=c2), ctx)["changes"] == []
    with pytest.raises(Invalid):
        put_operator(ctx, SYSTEM, "op1", "S02", "刘阿姨")


@pytest.mark.parametrize("username", ["张三", "-x", "a" * 33, "a b", ""])
def test_usernames_fit_the_staff_field_of_central_events(ctx, username):
    from server.errors import Invalid
    from server.services.staff import add_staff

    with pytest.raises(Invalid):
        add_staff(ctx, SYSTEM, username, "auditor", "long enough")


def test_codes_typed_full_width_padded_or_in_any_case_are_stored_in_one_form(ctx):
    out = import_residents(ctx, SYSTEM, "card,name,phone\n\u3000５１０６８１０１９９００８\t,孙明,13811119999\n", community="SQ01")
    assert out["added"] == 1 and out["refused"] == []
    assert get_resident(ctx, SYSTEM, " 5106810199008\r\n")["name"] == "孙明"
    assert put_good(ctx, SYSTEM, "ｓｏａｐ２ ", "肥皂", "块", 8) == {"good": "SOAP2", "outcome": "added"}
    assert put_good(ctx, SYSTEM, "soap2", "肥皂", "块", 8)["outcome"] == "unchanged"  # the same good, not a second
