"""The jifen-server CLI: --data after the subcommand, --json output, exit codes."""

import itertools
import json
import re
import sqlite3

import pytest

from schema.types import CENTRAL_KIOSK
from server.cli import main
from tests.server.conftest import CARD_A


def run(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def jrun(capsys, *argv):
    code, out = run(capsys, *argv, "--json")
    return code, json.loads(out)


@pytest.fixture
def data(settings):
    return str(settings.data_dir)


def test_demo_data_is_idempotent(tmp_path, capsys):
    d = str(tmp_path / "srv")
    code, first = jrun(capsys, "demo-data", "--data", d, "--residents", "40", "--communities", "4")
    assert code == 0 and first["residents"] == 40 and first["central_batches"] == 1
    conn = sqlite3.connect(f"{d}/server.db")
    before = [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("feed", "batches", "postings", "residents")]
    code, second = jrun(capsys, "demo-data", "--data", d, "--residents", "40", "--communities", "4")
    after = [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("feed", "batches", "postings", "residents")]
    assert code == 0 and set(second.values()) == {0} and before == after
    code, out = run(capsys, "audit", "--data", d)
    assert code == 0 and "audit passed" in out


def test_demo_data_is_realistic(data, capsys):
    _, residents = jrun(capsys, "list", "residents", "--reason", "check demo data", "--data", data)
    assert all(re.fullmatch(r"\d{13}", r["card"]) and re.fullmatch(r"1\d{10}", r["phone"]) for r in residents)
    _, communities = jrun(capsys, "list", "communities", "--data", data)
    assert [c["name"] for c in communities[:3]] == ["龙居社区", "大同社区", "常德社区"]
    _, rules = jrun(capsys, "list", "rules", "--data", data)
    assert {r["kind"] for r in rules} == {"basic", "encouraged", "prohibited"}
    _, shops = jrun(capsys, "list", "shops", "--data", data)
    assert {s["kind"] for s in shops} == {"shop", "station"}
    _, ops = jrun(capsys, "list", "operators", "--data", data)
    assert {("op1", "S01", "operator"), ("sup1", "S01", "supervisor")} <= {(o["id"], o["shop"], o["role"]) for o in ops}
    assert all("pin_hash" not in o for o in ops)


def test_enroll_code_prints_a_one_time_code(data, capsys):
    code, out = jrun(capsys, "enroll-code", "--shop", "S01", "--data", data)
    assert code == 0 and re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", out["code"])


def test_enroll_code_for_unknown_shop_exits_2(data, capsys):
    assert main(["enroll-code", "--shop", "S99", "--data", data]) == 2
    assert "S99" in capsys.readouterr().err


def test_balance_json(data, capsys):
    code, out = jrun(capsys, "balance", CARD_A, "--data", data)
    assert code == 0 and out["card"] == CARD_A and isinstance(out["confirmed"], int)
    assert sum(p["amount"] for p in out["recent"]) == out["confirmed"]


def test_revoke_and_list_kiosks(kiosk, data, capsys):
    assert run(capsys, "revoke", kiosk.id, "--data", data)[0] == 0
    _, kiosks = jrun(capsys, "list", "kiosks", "--data", data)
    assert [(k["id"], k["status"]) for k in kiosks] == [(kiosk.id, "revoked")]
    assert main(["revoke", "K0404", "--data", data]) == 2


def test_audit_exit_code_follows_the_result(data, settings, capsys):
    assert run(capsys, "audit", "--data", data)[0] == 0
    conn = sqlite3.connect(settings.db_path)
    with conn:
        conn.execute("UPDATE batches SET signature = replace(signature, substr(signature, 1, 2), 'ff') WHERE kiosk = ?", [CENTRAL_KIOSK])
    code, report = jrun(capsys, "audit", "--data", data)
    assert code == 1 and report["ok"] is False


def test_review_list_open(kiosk, data, capsys):
    kiosk.push(kiosk.batch(kiosk.void("K0001-9")))
    code, items = jrun(capsys, "review", "list", "--open", "--data", data)
    assert code == 0 and [i["kind"] for i in items] == ["void_unknown_target"]


def test_every_command_in_the_table_is_documented_in_the_readme():
    from pathlib import Path

    from server.cli import COMMANDS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    server_table = readme.split("Server (`jifen-server`)", 1)[1].split("Server settings", 1)[0]
    documented = set()
    for usage in re.findall(r"^\| `([^`]+)`", server_table, re.M):  # "kiosk rotate KIOSK [--staff USER]"
        words = list(itertools.takewhile(lambda w: re.fullmatch(r"[a-z][a-z-]*", w), usage.split()))
        documented.add(" ".join(words))
    missing = [c.name for c in COMMANDS if c.name not in documented]
    assert not missing, f"jifen-server commands missing from README.md's command table: {missing}"
    assert documented <= {c.name for c in COMMANDS}, f"README.md documents commands that do not exist: {documented - {c.name for c in COMMANDS}}"


def test_one_parser_reaches_every_command_in_the_table():
    from server.cli import COMMANDS, build_parser

    parser = build_parser()
    for cmd in COMMANDS:
        argv = cmd.name.split()
        try:
            args = parser.parse_args([*argv, "--help"])
        except SystemExit:
            continue  # --help printed this command's own usage: it is reachable
        raise AssertionError(f"{cmd.name} parsed as {args}")


def test_a_kiosk_takes_what_the_cli_changed_on_its_next_sync(inprocess_kiosk, server_dir, monkeypatch, capsys):
    """The CLI's changes reach a real kiosk (KioskService) by its ordinary pull: a reset PIN,
    a retired operator, a retired good, a rule's new points."""
    from kiosk.counter import Counter, SignInRefused
    from kiosk.errors import OperatorRetired, SkuRetired

    svc = inprocess_kiosk()
    data = ["--data", str(server_dir)]
    monkeypatch.setenv("JIFEN_OPERATOR_PIN", "864200")
    for argv in (["operator", "pin", "op1"], ["operator", "retire", "sup1"], ["good", "retire", "SOAP"],
                 ["rule", "set", "ZYFW", "--points", "12"]):
        assert main([*argv, *data]) == 0, capsys.readouterr().err
    assert svc.sync().ok
    counter = Counter(svc.store, svc.clock)
    with pytest.raises(SignInRefused):
        counter.sign_in("op1", "1234")
    assert counter.sign_in("op1", "864200").id == "op1"
    with pytest.raises(SignInRefused):
        counter.sign_in("sup1", "9999")
    with pytest.raises(SkuRetired):
        svc.redeem(CARD_A, [("SOAP", 1)], "op1")
    with pytest.raises(OperatorRetired):
        svc.award(CARD_A, "ZYFW", "sup1")
    assert {r["code"]: r["points"] for r in svc.rules()}["ZYFW"] == 12
