"""Rules, goods, shops, communities and operators managed with ``jifen-server``: each
command changes the data, moves its feed row (a kiosk gets it on its next pull), writes its
audit row, refuses a community manager (reference data is the admin's), and refuses bad
input with a message naming the problem and nothing changed."""

import json

import pytest

from server.cli import main
from server.services import manage, staff
from server.services.staff import SYSTEM
from server.store import catalog
from sync.calendar import parse_local
from sync.passwords import verify as check_pin
from tests.server.helpers import reply_of
from tests.server.staff.conftest import ROLE_USER


def cli(settings, capsys, *argv) -> tuple[int, object, str]:
    """(exit status, the --json output or None, stderr) of one command on the test's data."""
    code = main([*argv, "--data", str(settings.data_dir), "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


@pytest.fixture
def pulls(kiosk, ctx):
    """``pulls()``: the (kind, key, data) rows kiosk K0001 (shop S01) gets since the last call."""
    cursor = [reply_of(kiosk.pull(limit=5000), ctx)["next"]]

    def changes() -> list[tuple[str, str, dict]]:
        reply = reply_of(kiosk.pull(cursor=cursor[0], limit=5000), ctx)
        cursor[0] = reply["next"]
        return [(c["kind"], c["key"], c["data"]) for c in reply["changes"]]

    return changes


def last_audit(ctx) -> dict:
    return staff.audit_log(ctx, SYSTEM)[-1]


def audited(ctx, action: str, subject: str) -> dict:
    row = last_audit(ctx)
    assert (row["action"], row["subject"]) == (action, subject)
    assert row["staff"].startswith("local:")  # without --staff: the local admin
    return row


# ---------------------------------------------------------------- each command does its job


def test_rule_set_now_reaches_kiosks(settings, ctx, pulls, capsys):
    code, out, _ = cli(settings, capsys, "rule", "set", "ｚｙｆｗ ", "--points", "12", "--cap-day", "2")
    assert code == 0 and out["rule"] == "ZYFW" and out["applied"] is True
    [(kind, key, data)] = pulls()
    assert (kind, key, data["points"], data["cap_day"]) == ("rule", "ZYFW", 12, 2)
    assert audited(ctx, "rule_change", "ZYFW")["detail"]["fields"] == {"points": 12, "cap_day": 2}
    assert cli(settings, capsys, "rule", "set", "ZYFW", "--cap-day", "none")[0] == 0
    assert [d["cap_day"] for _, _, d in pulls()] == [None]


def test_a_dated_rule_change_waits_for_its_time_and_is_listed(settings, ctx, clock, pulls, capsys):
    when = "2030-01-01 08:00"
    code, out, _ = cli(settings, capsys, "rule", "set", "ZYFW", "--points", "15", "--effective-at", when)
    assert code == 0 and out["applied"] is False and out["effective_at"] == parse_local(when)
    assert pulls() == []
    code, changes, _ = cli(settings, capsys, "rule", "changes", "zyfw")
    assert code == 0 and [(c["fields"], c["effective_at"], c["applied_at"]) for c in changes] == [({"points": 15}, parse_local(when), None)]
    assert audited(ctx, "rule_change", "ZYFW")["detail"]["effective_at"] == parse_local(when)
    clock.now = parse_local(when)
    assert manage.apply_due(ctx) == 1
    assert [(k, d["points"]) for k, _, d in pulls()] == [("rule", 15)]
    main(["rule", "changes", "ZYFW", "--data", str(settings.data_dir)])
    assert "2030-01-01 08:00\tapplied" in capsys.readouterr().out


def test_a_new_rule_is_made_whole(settings, ctx, pulls, capsys):
    code, out, _ = cli(settings, capsys, "rule", "set", "QJ01", "--name", "清洁家园", "--kind", "encouraged", "--points", "5")
    assert code == 0 and out["applied"] is True
    [(kind, key, data)] = pulls()
    assert (kind, key, data["name"], data["status"]) == ("rule", "QJ01", "清洁家园", "active")


def test_good_set_and_retire(settings, ctx, pulls, capsys):
    code, out, _ = cli(settings, capsys, "good", "set", "ｓｏａｐ２", "--name", "香皂", "--unit", "块", "--price", "35")
    assert code == 0 and out == {"good": "SOAP2", "outcome": "added"}
    assert audited(ctx, "good_put", "SOAP2")["detail"]["price"] == 35
    code, out, _ = cli(settings, capsys, "good", "retire", "soap2")
    assert code == 0 and out == {"good": "SOAP2", "status": "retired", "was": "active"}
    assert audited(ctx, "good_retire", "SOAP2")["detail"] == {"was": "active"}
    assert [(k, key, d["status"]) for k, key, d in pulls()] == [("good", "SOAP2", "retired")]  # one row per good: its newest


def test_shop_and_community_set(settings, ctx, pulls, capsys):
    code, out, _ = cli(settings, capsys, "community", "set", "SQ09", "--name", "新华社区", "--street", "雒城街道")
    assert code == 0 and out == {"community": "SQ09", "outcome": "added"}
    assert audited(ctx, "community_put", "SQ09")["detail"]["name"] == "新华社区"
    code, out, _ = cli(settings, capsys, "shop", "set", "\u3000S09", "--name", "新华超市", "--community", "SQ09", "--kind", "shop")
    assert code == 0 and out == {"shop": "S09", "outcome": "added"}
    assert audited(ctx, "shop_put", "S09")["detail"]["community"] == "SQ09"
    assert [(k, key) for k, key, _ in pulls()] == [("community", "SQ09"), ("shop", "S09")]


def test_operator_set_pin_and_retire(settings, ctx, pulls, capsys, monkeypatch):
    monkeypatch.setenv("JIFEN_OPERATOR_PIN", "２４６８００")
    code, out, _ = cli(settings, capsys, "operator", "set", "OP7", "--shop", "S01", "--name", "王芳")
    assert code == 0 and out == {"operator": "op7", "outcome": "added"}
    assert audited(ctx, "operator_put", "op7")["detail"]["pin_changed"] is True
    [(kind, key, data)] = pulls()
    assert (kind, key) == ("operator", "op7") and check_pin("246800", data["pin_hash"])

    monkeypatch.delenv("JIFEN_OPERATOR_PIN")
    code, out, _ = cli(settings, capsys, "operator", "pin", "op7")
    assert code == 0 and out["operator"] == "op7" and len(out["pin"]) == 6 and out["pin"].isdigit()
    row = audited(ctx, "operator_pin", "op7")
    assert row["detail"] == {"shop": "S01", "generated": True} and out["pin"] not in json.dumps(row)
    [(_, _, data)] = pulls()
    assert check_pin(out["pin"], data["pin_hash"]) and not check_pin("246800", data["pin_hash"])

    code, out, _ = cli(settings, capsys, "operator", "retire", "op7")
    assert code == 0 and out == {"operator": "op7", "status": "retired", "was": "active"}
    audited(ctx, "operator_retire", "op7")
    assert [(key, d["status"]) for _, key, d in pulls()] == [("op7", "retired")]


def test_text_output_is_plain_and_shows_a_generated_pin_once(settings, capsys):
    assert main(["operator", "pin", "op1", "--data", str(settings.data_dir)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("operator op1 (S01): new PIN ") and "(shown once)" in text


def test_kiosk_ids_are_read_as_typed(settings, kiosk, capsys):
    code, keys, _ = cli(settings, capsys, "kiosk", "keys", f" {kiosk.id.lower()}\t")
    assert code == 0 and len(keys) == 1
    code, out, _ = cli(settings, capsys, "revoke", kiosk.id.lower().replace("0", "０"))
    assert code == 0 and out["kiosk"] == kiosk.id


# ---------------------------------------------------------------- who may

CATALOG_COMMANDS = {
    "rule set": ["rule", "set", "ZYFW", "--points", "12"],
    "good set": ["good", "set", "SOAP", "--name", "肥皂", "--unit", "块", "--price", "31"],
    "good retire": ["good", "retire", "SOAP"],
    "shop set": ["shop", "set", "S01", "--name", "改名", "--community", "SQ01", "--kind", "shop"],
    "community set": ["community", "set", "SQ01", "--name", "改名"],
    "operator set": ["operator", "set", "op1", "--shop", "S01", "--name", "改名"],
    "operator pin": ["operator", "pin", "op1"],
    "operator retire": ["operator", "retire", "op1"],
    "county set": ["county", "set", "XQ01", "--name", "广汉市"],
    "community county": ["community", "county", "SQ01"],
}


def snapshot(ctx) -> tuple:
    with ctx.store.read() as db:
        return catalog.feed_high_water(db), len(staff.audit_log(ctx, SYSTEM, limit=10_000))


@pytest.mark.parametrize("command", sorted(CATALOG_COMMANDS))
def test_a_community_manager_may_not_change_reference_data(command, settings, ctx, capsys):
    """Reference data reaches every community's kiosks: only an admin changes it, even for
    the manager's own community (SQ01 here)."""
    before = snapshot(ctx)
    code, out, err = cli(settings, capsys, *CATALOG_COMMANDS[command], "--staff", ROLE_USER["community_manager"])
    assert code == 2 and out is None and "may not catalog.write" in err
    assert snapshot(ctx) == before
    code, _, err = cli(settings, capsys, *CATALOG_COMMANDS[command], "--staff", ROLE_USER["admin"])
    assert code == 0, err
    assert last_audit(ctx)["staff"] == ROLE_USER["admin"]


def test_a_community_manager_may_read_rule_changes(settings, capsys):
    assert cli(settings, capsys, "rule", "set", "ZYFW", "--points", "12")[0] == 0
    code, rows, _ = cli(settings, capsys, "rule", "changes", "ZYFW", "--staff", ROLE_USER["community_manager"])
    assert code == 0 and [r["fields"] for r in rows] == [{"points": 12}]


def test_a_community_manager_may_not_list_counties(settings, capsys):
    """A county's figures cover communities a manager does not manage: central staff only."""
    assert cli(settings, capsys, "county", "set", "XQ01", "--name", "广汉市")[0] == 0
    code, out, err = cli(settings, capsys, "county", "list", "--staff", ROLE_USER["community_manager"])
    assert code == 2 and out is None and "may not county.read" in err
    for role in ("auditor", "reconciler"):
        code, rows, err = cli(settings, capsys, "county", "list", "--staff", ROLE_USER[role])
        assert code == 0 and [r["id"] for r in rows] == ["XQ01"], err


# ---------------------------------------------------------------- bad input

BAD = {
    "sku": (["good", "set", "BAD!", "--name", "x", "--unit", "个", "--price", "1"], "not a SKU: 'BAD!'"),
    "price": (["good", "set", "SOAP", "--name", "肥皂", "--unit", "块", "--price", "-1"], "price is a whole number"),
    "unknown good": (["good", "retire", "NOPE"], "good NOPE does not exist"),
    "award sign": (["rule", "set", "ZYFW", "--points", "-3"], "a prohibited rule deducts"),
    "kind changes": (["rule", "set", "ZYFW", "--kind", "prohibited", "--points", "-3"], "a rule's kind never changes"),
    "no fields": (["rule", "set", "ZYFW"], "say what changes"),
    "time": (["rule", "set", "ZYFW", "--points", "3", "--effective-at", "next week"], "--effective-at: not a time: 'next week'"),
    "dated new rule": (["rule", "set", "QJ01", "--name", "x", "--kind", "basic", "--points", "1", "--effective-at", "2030-01-01"],
                       "a new rule starts now"),
    "new rule half": (["rule", "set", "QJ01", "--points", "1"], "a rule needs a name"),
    "unknown rule": (["rule", "changes", "NOPE"], "rule NOPE does not exist"),
    "community": (["shop", "set", "S09", "--name", "新店", "--community", "SQ99", "--kind", "shop"], "community SQ99 does not exist"),
    "community id": (["community", "set", "社区", "--name", "新社区"], "a community needs an id code"),
    "new operator without a pin": (["operator", "set", "op9", "--shop", "S01", "--name", "王芳"], "a new operator needs a PIN"),
    "moved operator": (["operator", "set", "op1", "--shop", "S02", "--name", "刘阿姨"], "an operator's shop never changes"),
    "operator id": (["operator", "pin", "张三"], "operator 张三 does not exist"),
    "unknown operator": (["operator", "retire", "nobody"], "operator nobody does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_naming_the_problem_and_changes_nothing(case, settings, ctx, capsys):
    argv, says = BAD[case]
    before = snapshot(ctx)
    code, out, err = cli(settings, capsys, *argv)
    assert code == 2 and out is None and says in err, err
    assert snapshot(ctx) == before


def test_a_bad_pin_is_refused(settings, ctx, capsys, monkeypatch):
    monkeypatch.setenv("JIFEN_OPERATOR_PIN", "12")
    before = snapshot(ctx)
    for argv in (["operator", "pin", "op1"], ["operator", "set", "op9", "--shop", "S01", "--name", "王芳"]):
        code, _, err = cli(settings, capsys, *argv)
        assert code == 2 and "a PIN is 6-8 digits" in err
    assert snapshot(ctx) == before


def test_an_operator_of_an_unknown_shop_is_refused(settings, ctx, capsys, monkeypatch):
    monkeypatch.setenv("JIFEN_OPERATOR_PIN", "123456")
    before = snapshot(ctx)
    code, _, err = cli(settings, capsys, "operator", "set", "op9", "--shop", "S99", "--name", "王芳")
    assert code == 2 and "shop S99 does not exist" in err
    assert snapshot(ctx) == before


def test_a_number_that_is_no_number_is_a_usage_error(settings, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["good", "set", "SOAP", "--name", "肥皂", "--unit", "块", "--price", "cheap", "--data", str(settings.data_dir)])
    assert exit_.value.code == 2 and "--price: invalid int value: 'cheap'" in capsys.readouterr().err
