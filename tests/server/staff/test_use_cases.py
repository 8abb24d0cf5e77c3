"""One use case per staff action: ``jifen-server`` and the staff API call the same
functions, so each writes the same audit row, and the permission check, the change and
the audit row are one transaction (an audit insert that fails takes the change with it)."""

import sqlite3

import pytest

from server.cli import main
from server.services import enroll, manage, review, staff
from server.services.staff import SYSTEM
from server.store import catalog
from tests.server.staff.conftest import ROLE_USER

MONTH = "2025-11"
REGISTER = "card,name,phone,community\n5106810199001,周新华,13811112222,SQ01\n"


def last_audit(ctx) -> dict:
    return staff.audit_log(ctx, SYSTEM)[-1]


def cli(settings, *argv) -> int:
    return main([*argv, "--data", str(settings.data_dir), "--json"])


def shape(row: dict) -> tuple:
    return row["staff"], row["action"], sorted(row["detail"])


@pytest.fixture
def two_kiosks(items):
    return items["k1"].id, items["k2"].id


# name -> (CLI argv, API (path, json or raw body[, method; POST if not given]), whether both sides act on the same subject)
CASES = {
    "enroll code": (lambda k, i, f: ["enroll-code", "--shop", "S01"], lambda k, i: ("/api/enroll-codes", {"shop": "S01"}), True),
    "revoke": (lambda k, i, f: ["revoke", k[0]], lambda k, i: (f"/api/kiosks/{k[1]}/revoke", None), False),
    "kiosk rotate": (lambda k, i, f: ["kiosk", "rotate", k[0]], lambda k, i: (f"/api/kiosks/{k[1]}/rotate", None), False),
    "staff add": (lambda k, i, f: ["staff", "add", "bob", "--role", "auditor"],
                  lambda k, i: ("/api/staff", {"username": "bea", "role": "auditor", "password": "long enough 1"}), False),
    "staff disable": (lambda k, i, f: ["staff", "disable", "aud"], lambda k, i: ("/api/staff/cmo/disable", None), False),
    "board publish": (lambda k, i, f: ["report", "board", "--month", MONTH, "--publish"],
                      lambda k, i: (f"/api/boards/{MONTH}/publish", None), True),
    "residents import": (lambda k, i, f: ["residents", "import", str(f)], lambda k, i: ("/api/residents/import", REGISTER.encode()), True),
    "review resolve": (lambda k, i, f: ["review", "resolve", str(i["SQ01"]), "--action", "accept", "--note", "ok"],
                       lambda k, i: (f"/api/reviews/{i['SQ02']}/resolve", {"action": "accept", "note": "ok"}), False),
    "rule set": (lambda k, i, f: ["rule", "set", "ZYFW", "--points", "12"], lambda k, i: ("/api/rules/ZYFW", {"points": 13}, "PUT"), True),
    "good set": (lambda k, i, f: ["good", "set", "SOAP", "--name", "肥皂", "--unit", "块", "--price", "31"],
                 lambda k, i: ("/api/goods/SOAP", {"name": "肥皂", "unit": "块", "price": 32}, "PUT"), True),
    "good retire": (lambda k, i, f: ["good", "retire", "SOAP"], lambda k, i: ("/api/goods/TOWEL/retire", None), False),
    "shop set": (lambda k, i, f: ["shop", "set", "S01", "--name", "一号店", "--community", "SQ01", "--kind", "shop"],
                 lambda k, i: ("/api/shops/S01", {"name": "一号超市", "community": "SQ01", "kind": "shop"}, "PUT"), True),
    "community set": (lambda k, i, f: ["community", "set", "SQ01", "--name", "一社区"],
                      lambda k, i: ("/api/communities/SQ01", {"name": "一号社区"}, "PUT"), True),
    "operator set": (lambda k, i, f: ["operator", "set", "op1", "--shop", "S01", "--name", "刘阿姨"],
                     lambda k, i: ("/api/operators/op1", {"shop": "S01", "name": "刘姐"}, "PUT"), True),
    "operator pin": (lambda k, i, f: ["operator", "pin", "op1"], lambda k, i: ("/api/operators/sup1/pin", {}), False),
    "operator retire": (lambda k, i, f: ["operator", "retire", "op1"], lambda k, i: ("/api/operators/sup1/retire", None), False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_and_api_write_the_same_audit_row(case, settings, ctx, client, login, two_kiosks, items, tmp_path, monkeypatch, capsys):
    argv, api, same_subject = CASES[case]
    register = tmp_path / "register.csv"
    register.write_text(REGISTER, encoding="utf-8")
    monkeypatch.setenv("JIFEN_STAFF_PASSWORD", "long enough 1")
    headers = login("admin")  # signing in is audited too: before the CLI's row
    assert cli(settings, *argv(two_kiosks, items, register), "--staff", ROLE_USER["admin"]) == 0, capsys.readouterr().err
    by_cli = last_audit(ctx)
    path, body, *method = api(two_kiosks, items)
    sent = {"content": body} if isinstance(body, bytes) else {"json": body}
    resp = client.request(method[0] if method else "POST", path, headers=headers, **sent)
    assert resp.status_code in (200, 201), resp.text
    by_api = last_audit(ctx)
    assert by_api["id"] == by_cli["id"] + 1
    assert shape(by_cli) == shape(by_api)
    assert (by_cli["subject"] == by_api["subject"]) is same_subject


def test_the_cli_without_staff_acts_as_the_local_admin(settings, ctx, monkeypatch, capsys):
    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    assert cli(settings, "enroll-code", "--shop", "S01") == 0
    row = last_audit(ctx)
    assert (row["staff"], row["action"], row["subject"]) == ("local:ops", "enroll_code", "S01")


def test_cli_with_staff_applies_that_accounts_role(settings, capsys):
    assert cli(settings, "enroll-code", "--shop", "S01", "--staff", ROLE_USER["auditor"]) == 2
    assert "may not kiosk.manage" in capsys.readouterr().err


def operator_row(ctx, op: str) -> dict:
    with ctx.store.read() as db:
        return catalog.row_by_key(db, "operators", op)


@pytest.fixture
def audit_down(settings):
    """From now on every audit insert fails, as a crash between change and audit would."""
    conn = sqlite3.connect(settings.db_path)
    conn.execute("CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit is down'); END")
    conn.commit()
    yield
    conn.execute("DROP TRIGGER audit_down")
    conn.commit()
    conn.close()


def test_a_failed_audit_insert_rolls_the_change_back(ctx, settings, two_kiosks, items, principal, request):
    admin = principal("admin")
    kiosks = {k["id"]: k["status"] for k in manage.list_reference(ctx, admin, "kiosks")}
    goods = manage.list_reference(ctx, admin, "goods")
    accounts = staff.list_staff(ctx, admin)
    op1 = operator_row(ctx, "op1")
    codes = sqlite3.connect(settings.db_path).execute("SELECT count(*) FROM enroll_codes").fetchone()[0]
    request.getfixturevalue("audit_down")
    attempts = [
        lambda: manage.revoke_kiosk(ctx, admin, two_kiosks[0]),
        lambda: enroll.enroll_code(ctx, admin, "S01"),
        lambda: manage.put_good(ctx, admin, goods[0]["sku"], "改名", goods[0]["unit"], goods[0]["price"] + 1),
        lambda: manage.retire_good(ctx, admin, goods[0]["sku"]),
        lambda: manage.reset_operator_pin(ctx, admin, "op1"),
        lambda: staff.add_staff(ctx, admin, "bob", "auditor", "long enough 1"),
        lambda: staff.disable_staff(ctx, admin, "aud"),
        lambda: review.resolve(ctx, admin, items["SQ01"], "accept", "ok"),
    ]
    for attempt in attempts:
        with pytest.raises(sqlite3.IntegrityError, match="audit is down"):
            attempt()
    assert {k["id"]: k["status"] for k in manage.list_reference(ctx, admin, "kiosks")} == kiosks
    assert manage.list_reference(ctx, admin, "goods") == goods
    assert staff.list_staff(ctx, admin) == accounts
    assert operator_row(ctx, "op1") == op1  # the PIN hash too
    assert sqlite3.connect(settings.db_path).execute("SELECT count(*) FROM enroll_codes").fetchone()[0] == codes
    assert review.show_item(ctx, admin, items["SQ01"])["status"] == "open"
