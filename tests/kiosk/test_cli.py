"""The jifen-kiosk command line: --json output, translated messages, exit codes, no
tracebacks. Runs in-process on a kiosk enrolled through the fake server."""

import io
import json
import warnings
import subprocess
import sys

import pytest

from kiosk import cli
from kiosk.service import system_clock
from tests.conftest import Clock
from tests.kiosk.fakeserver import CARD, CARD2, OP1_PIN, SUP1_PIN


@pytest.fixture
def clock() -> Clock:
    return Clock(system_clock())  # the CLI reads the real clock; the lease must be fresh


@pytest.fixture
def run(kiosk, capsys, monkeypatch):
    monkeypatch.setenv("JIFEN_OPERATOR_PIN", OP1_PIN)  # a script's way; a person is asked
    data = str(kiosk.settings.data_dir)
    kiosk.close()

    def run_(*argv: str, lang: str | None = "en") -> tuple[int, dict | str]:
        args = [argv[0], "--data", data, *argv[1:]] + (["--lang", lang] if lang else [])
        code = cli.main(args)
        out, err = capsys.readouterr()
        if "--json" in argv:
            return code, json.loads(out)
        return code, out + err

    return run_


def test_award_balance_status_history_json(run):
    code, out = run("award", "--resident", CARD, "--rule", "V01", "--operator", "op1", "--json")
    assert code == 0 and out == {"id": "K0001-1"}
    code, out = run("balance", CARD, "--json")
    assert (code, out) == (0, {"card": CARD, "confirmed": 100, "pending": 10, "available": 110,
                               "unsynced": 1, "unconfirmed": 0, "state": "pending"})
    code, out = run("balance", CARD)
    assert code == 0 and "(waiting to sync (1 events))" in out
    code, out = run("status", "--json")
    assert code == 0 and out["kiosk"] == "K0001" and out["shop"] == "S01" and out["pending_events"] == 1
    assert out["last_pull_at"] and out["reachable"] is True and out["revoked"] is False
    code, out = run("history", CARD, "--json")
    assert [e["id"] for e in out["events"]] == ["K0001-1"] and out["events"][0]["synced"] is False


@pytest.fixture
def with_supervisor(server):
    """sup1 on the server before the kiosk's first pull (ask for it before ``run``)."""
    server.add_supervisor()


def test_redeem_void_stock_in(with_supervisor, run, monkeypatch):
    code, out = run("redeem", "--resident", CARD, "--item", "OIL", "--item", "TOWEL:2", "--operator", "op1", "--json")
    assert code == 0 and out["id"] == "K0001-1"
    assert run("balance", CARD, "--json")[1]["available"] == 40
    monkeypatch.setenv("JIFEN_OPERATOR_PIN", SUP1_PIN)
    code, out = run("void", "K0001-1", "--reason", "退货", "--operator", "sup1", "--json")
    assert code == 0 and out["id"] == "K0001-2"
    monkeypatch.setenv("JIFEN_OPERATOR_PIN", OP1_PIN)
    code, out = run("stock-in", "--item", "RICE:5", "--operator", "op1", "--json")
    assert code == 0 and out["id"] == "K0001-3"
    assert run("balance", CARD, "--json")[1]["available"] == 100


def test_refusal_is_a_sentence_and_nonzero(run):
    code, out = run("redeem", "--resident", CARD2, "--item", "OIL:1", "--operator", "op1", "--json")
    assert code == 1 and out["error"] == "insufficient_balance" and out["available"] == 0
    code, text = run("redeem", "--resident", CARD2, "--item", "OIL:1", "--operator", "op1")
    assert code == 1 and "Not enough points" in text and "Traceback" not in text
    code, text = run("redeem", "--resident", CARD2, "--item", "OIL:1", "--operator", "op1", lang=None)
    assert code == 1 and "积分不足" in text  # Chinese by default
    code, text = run("award", "--resident", "404404", "--rule", "V01", "--operator", "op1")
    assert code == 1 and "404404" in text
    code, text = run("redeem", "--resident", CARD, "--item", "OIL:lots", "--operator", "op1")
    assert code == 1 and "Invalid quantity" in text


def test_sync_offline_exit_code(run, kiosk):
    from kiosk.store import Store

    store = Store(kiosk.settings.db_path)
    store.set_meta(server_url="http://127.0.0.1:9")  # nothing listens on the discard port
    store.close()
    code, out = run("sync", "--json")
    assert code == cli.EXIT_OFFLINE and out["problem"] == "offline" and out["ok"] is False
    assert run("status", "--json")[1]["reachable"] is False


def test_unenrolled_and_no_subcommand(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("JIFEN_LANG", "en")
    assert cli.main(["status", "--data", str(tmp_path / "x"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["enrolled"] is False
    assert cli.main(["award", "--data", str(tmp_path / "x"), "--resident", CARD, "--rule", "V01", "--operator", "op1"]) == 1
    assert "not enrolled" in capsys.readouterr().err


def test_the_data_folder_given_before_the_subcommand_is_the_one_used(run, kiosk, capsys):
    """``jifen-kiosk --data DIR status`` (as the app is opened) reads DIR, not the default
    folder: it names the enrolled kiosk, in the language given before the subcommand too."""
    data = str(kiosk.settings.data_dir)
    assert cli.main(["--data", data, "--lang", "en", "status", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["enrolled"] is True and out["kiosk"] == "K0001"
    assert cli.main(["--data", data, "--lang", "zh", "balance", "bad card!"]) == 1
    assert "无效" in capsys.readouterr().err


def test_console_script_runs_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "kiosk.cli", "balance", "bad card!", "--data", str(tmp_path)],
                          capture_output=True, text=True, env={"JIFEN_LANG": "zh", "PATH": ""})
    assert proc.returncode == 1 and "无效" in proc.stderr and "Traceback" not in proc.stderr


def test_every_subcommand_is_documented():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    helps = {a.dest: a.help for a in sub._choices_actions}
    assert set(helps) == set(sub.choices) and all(helps.values())


def test_codes_typed_full_width_padded_or_in_any_case_are_the_same_code(run):
    full_width_card = "".join(chr(ord(c) + 0xFEE0) for c in CARD)
    code, _ = run("award", "--resident", f"\u3000{full_width_card}\r\n", "--rule", "ｖ０１", "--operator", "OP1\t")
    assert code == 0
    code, _ = run("redeem", "--resident", CARD, "--item", " ｔｏｗｅｌ :２", "--operator", "op1")
    assert code == 0
    code, out = run("balance", CARD, "--json")
    assert out["pending"] == 0  # +10 awarded, 2 towels at 5 spent


def test_an_invalid_code_says_what_a_valid_one_looks_like(run):
    code, out = run("balance", "12", lang="zh")
    assert code == 1 and "卡号是 4 到 32 位数字或字母，例如 5101810000001" in out
    code, out = run("award", "--resident", CARD, "--rule", "V 01", "--operator", "op1", lang="zh")
    assert code == 1 and "例如 V01" in out


def test_recording_without_the_operators_pin_is_refused(run, monkeypatch):
    """The attack: ``--operator op1`` and no PIN recorded an award in op1's name."""
    monkeypatch.setenv("JIFEN_OPERATOR_PIN", "0000")
    code, out = run("award", "--resident", CARD, "--rule", "V01", "--operator", "op1", "--json")
    assert (code, out["error"]) == (1, "signin_wrong")
    monkeypatch.setenv("JIFEN_OPERATOR_PIN", SUP1_PIN)
    code, out = run("award", "--resident", CARD, "--rule", "V01", "--operator", "op1", "--json")
    assert (code, out["error"]) == (1, "signin_wrong")  # another operator's PIN is no PIN
    assert run("history", CARD, "--json")[1]["events"] == []


def test_a_void_needs_a_supervisors_pin(run, monkeypatch):
    assert run("award", "--resident", CARD, "--rule", "V01", "--operator", "op1", "--json")[0] == 0
    code, out = run("void", "K0001-1", "--reason", "x", "--operator", "op1", "--json")
    assert (code, out["error"]) == (1, "signin_not_supervisor")


def test_without_the_variable_the_pin_is_asked_for_without_echo(run, monkeypatch):
    monkeypatch.delenv("JIFEN_OPERATOR_PIN")
    asked = []
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: asked.append(prompt) or OP1_PIN)
    monkeypatch.setattr(cli.sys, "stdin", _Terminal())
    assert run("award", "--resident", CARD, "--rule", "V01", "--operator", "op1", "--json")[0] == 0
    assert asked == ["PIN (op1): "]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_pin_piped_in_is_read_without_an_english_warning(run, monkeypatch, capsys):
    monkeypatch.delenv("JIFEN_OPERATOR_PIN")
    monkeypatch.setattr(cli.sys, "stdin", io.StringIO(OP1_PIN + "\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # getpass's GetPassWarning would raise
        code, out = run("award", "--resident", CARD, "--rule", "V01", "--operator", "op1", "--json")
    assert code == 0 and out["id"] == "K0001-1"
    monkeypatch.setattr(cli.sys, "stdin", io.StringIO(""))  # nothing piped: told how to give a PIN
    code, out = run("award", "--resident", CARD, "--rule", "V01", "--operator", "op1", "--json")
    assert (code, out["error"]) == (1, "signin_no_pin")

