"""In Chinese mode no English reaches the operator: this walks every screen of the app
(codes typed as bursts) and runs every ``jifen-kiosk`` command, refusals included, and
fails on any run of ASCII letters that is not on a small allow-list.

The allow-list, and why each may stay:
- the shop's own codes as central staff set them (kiosk K0001, shop S01, community C001,
  rules R01 V01 P01, goods OIL RICE TOWEL, operators op1 sup1): they are printed on cards,
  shelves and badges, and an operator types them;
- key caps as printed on the keyboard (F1-F12, Esc, Delete, Ctrl+Q);
- ``English``: the language switch names the other language in that language;
- in CLI output, what the operator typed and is named back (a wrong code), the server
  address they enrolled with, and a ``--flag`` to add as it must be typed.
A receipt's quote code (``XXXX-XXXX``) is removed first: it is letters by design.
Technical detail belongs in the log file (``kiosk.log``), which is checked to exist.
"""

import html
import re

import pytest

from kiosk import cli
from kiosk.app import KioskApp
from tests.kiosk.app.conftest import OP, OP_PIN, SIZE, burst, signed_in, typed
from tests.kiosk.fakeserver import OP1_PIN, CARD

CODES = ("K0001", "S01", "C001", "R01", "V01", "P01", "OIL", "RICE", "TOWEL", "op1", "sup1")
KEY_CAPS = ("f", "F", "esc", "Esc", "delete", "Delete", "Ctrl", "Q")
ALLOWED = {run for code in CODES for run in re.findall(r"[A-Za-z]+", code)} | set(KEY_CAPS) | {"English"}
QUOTE_CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}\b")


def untranslated(text: str) -> set[str]:
    return {run for run in re.findall(r"[A-Za-z]+", QUOTE_CODE.sub(" ", text)) if run not in ALLOWED}


def echoless(text: str, typed_args: list[str]) -> str:
    """The output without what the operator typed or set up: a wrong code is named back as
    typed, the server's address as enrolled, and a flag to add as it must be typed."""
    for arg in sorted({part for arg in typed_args for part in (arg, *arg.split(":"))}, key=len, reverse=True):
        if not arg.startswith("--"):
            text = text.replace(arg, " ")
    return re.sub(r"\S+://\S+|--[a-z-]+", " ", text)


def screen_text(app) -> str:
    """What the terminal shows, line by line (the screenshot's terminal lines, not its frame)."""
    lines: dict[float, list] = {}
    for m in re.finditer(r'<text [^>]*x="([\d.]+)" y="([\d.]+)"[^>]*clip-path="url\(#[^)]*-line-\d+\)"[^>]*>([^<]*)</text>',
                         app.export_screenshot()):
        lines.setdefault(float(m[2]), []).append((float(m[1]), html.unescape(m[3])))
    return "\n".join("".join(t for _, t in sorted(v)) for _, v in sorted(lines.items())).replace("\xa0", " ")


def notices(app) -> str:
    """The toasts raised so far (Textual's own, such as the Ctrl+C hint, among them)."""
    return "\n".join(f"{n.title} {n.message}" for n in app._notifications)


class Sweep:
    def __init__(self, app):
        self.app = app
        self.seen: dict[str, set[str]] = {}
        self.screens: list[str] = []

    async def look(self, pilot, where: str) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(self.app) + "\n" + notices(self.app)
        assert text.strip(), where
        self.screens.append(type(self.app.screen).__name__)
        if found := untranslated(text):
            self.seen[where] = found


async def home(pilot) -> None:
    """Back to the find screen."""
    for _ in range(6):
        if type(pilot.app.screen).__name__ == "FindScreen":
            return
        await burst(pilot, "escape")
    assert type(pilot.app.screen).__name__ == "FindScreen"


async def test_every_screen_speaks_chinese(shop_kiosk, server):
    shop_kiosk.award(CARD, "V01", OP)  # something to void, a history to show
    app = KioskApp(shop_kiosk, auto_sync=False)
    sweep = Sweep(app)
    async with app.run_test(size=SIZE) as pilot:
        await sweep.look(pilot, "sign-in")
        await burst(pilot, *typed(f"{OP}\t0000\n"))
        await sweep.look(pilot, "wrong PIN")
        await burst(pilot, *["backspace"] * 4, *typed(f"{OP_PIN}\n"))
        assert type(app.screen).__name__ == "FindScreen"
        await sweep.look(pilot, "find")
        await burst(pilot, *typed("张\n"))
        await sweep.look(pilot, "find: a list")
        await burst(pilot, *typed("9999999\n"))
        await sweep.look(pilot, "find: nobody")
        await burst(pilot, *typed(CARD + "\n"))
        await sweep.look(pilot, "resident")
        await burst(pilot, "f2")
        await sweep.look(pilot, "award")
        await burst(pilot, *typed("P01\n"))
        await sweep.look(pilot, "award: confirm")
        await burst(pilot, "enter")
        await sweep.look(pilot, "receipt")
        await pilot.press("ctrl+c")  # on a screen with no text field (there it copies)
        await sweep.look(pilot, "Ctrl+C hint")
        assert "请按 Ctrl+Q" in notices(app)  # Textual's own hint, in our words
        await burst(pilot, "f10", "f3")
        await sweep.look(pilot, "redeem")
        await burst(pilot, *typed("OIL\n"), *typed("OIL\n"), *typed("OIL\n"))
        await sweep.look(pilot, "redeem: over balance")
        await burst(pilot, "f10")
        await sweep.look(pilot, "redeem: confirm or refusal")
        await burst(pilot, "escape", "escape")
        await sweep.look(pilot, "redeem: drop the basket?")
        await burst(pilot, "enter")
        await home(pilot)
        await burst(pilot, "f7")
        await sweep.look(pilot, "void")
        await burst(pilot, "enter")
        await sweep.look(pilot, "void: reason")
        await burst(pilot, *typed("录错了\n"))
        await sweep.look(pilot, "supervisor")
        await burst(pilot, *typed("op1\t1234\n"))
        await sweep.look(pilot, "supervisor: not one")
        await home(pilot)
        await burst(pilot, "f6")
        await sweep.look(pilot, "goods received")
        await burst(pilot, *typed("RICE\n0\n"))
        await sweep.look(pilot, "goods received: bad quantity")
        await home(pilot)
        await burst(pilot, "f8")
        await sweep.look(pilot, "shift")
        await burst(pilot, "escape")
        server.down = True
        await burst(pilot, "f5")
        await sweep.look(pilot, "server down")
        assert "连不上服务器" in screen_text(app)  # the sync problem is on screen, its exception text is not
        await burst(pilot, "ctrl+q")
        await sweep.look(pilot, "quit with unsynced records")
    assert not sweep.seen, sweep.seen
    assert {"SignInScreen", "FindScreen", "ResidentScreen", "AwardScreen", "ReceiptScreen", "RedeemScreen",
            "VoidScreen", "SupervisorScreen", "StockInScreen", "ShiftScreen", "ConfirmScreen"} <= set(sweep.screens)


@pytest.fixture
def cli_run(shop_kiosk, capsys, monkeypatch):
    data = shop_kiosk.settings.data_dir
    shop_kiosk.close()  # the commands open the kiosk themselves
    monkeypatch.setenv("JIFEN_LANG", "zh")
    monkeypatch.setenv("JIFEN_OPERATOR_PIN", OP1_PIN)  # recording commands sign op1 in

    def run(*args: str) -> str:
        try:
            code = cli.main([*args, "--data", str(data)])
        except SystemExit as exit_:  # argparse's refusals end the process
            code = exit_.code
        out = capsys.readouterr()
        return f"[{code}] {out.out}{out.err}"

    return run


COMMANDS = [
    ("status",), ("balance", CARD), ("balance", "bad card!"), ("balance", "5101819999999"), ("history", CARD),
    ("find", "张"), ("find", CARD), ("find", "无此人"),
    ("award", "--resident", CARD, "--rule", "V01", "--operator", "op1"),
    ("award", "--resident", CARD, "--rule", "NOPE", "--operator", "op1"),
    ("award", "--resident", CARD, "--rule", "V01", "--operator", "nobody"),
    ("redeem", "--resident", CARD, "--item", "OIL:1", "--operator", "op1"),
    ("redeem", "--resident", CARD, "--item", "OIL:99", "--operator", "op1"),
    ("stock-in", "--item", "RICE:2", "--operator", "op1"),
    ("stock-in", "--item", "RICE:x", "--operator", "op1"),
    ("void", "K0001-1", "--reason", "录错了", "--operator", "op1"),
    ("void", "K0001-99", "--reason", "录错了", "--operator", "op1"),
    ("sync",), ("enroll", "--server", "http://127.0.0.1:9", "--code", "ABCD-EFGH-JKLM"),
    ("rotate-key",), ("history", CARD),
    ("award", "--resident", CARD), ("history", CARD, "--limit", "many"),  # argparse's own refusals
]


def test_every_command_speaks_chinese(cli_run, shop_kiosk):
    outputs = {" ".join(args): cli_run(*args) for args in COMMANDS}
    found = {cmd: untranslated(echoless(out, cmd.split())) for cmd, out in outputs.items()
             if untranslated(echoless(out, cmd.split()))}
    assert not found, {cmd: (words, outputs[cmd]) for cmd, words in found.items()}
    assert "Traceback" not in "".join(outputs.values())
    assert shop_kiosk.settings.log_path.exists()
    assert shop_kiosk.settings.log_path.stat().st_mode & 0o777 == 0o600
    logged = shop_kiosk.settings.log_path.read_text(encoding="utf-8")
    assert "insecure_server" in logged and "http://central.test" in logged  # the detail the words left out


#: what --help may leave in ASCII: what is typed as printed (the program, its commands and
#: their choices, the variables to set, a file format's name) — flags are removed by echoless
HELP_TYPED = {"jifen", "kiosk", "server", "rotate", "zh", "en", "JIFEN", "LANG", "OPERATOR", "PIN", "CA", "PEM",
              "http", "https", "JSON", "data", "h"}


def test_every_help_page_speaks_chinese(capsys, monkeypatch):
    monkeypatch.setenv("JIFEN_LANG", "zh")
    commands = [name for name in cli.build_parser("zh")._subparsers._group_actions[0].choices]
    found = {}
    for args in ([], *([name] for name in commands)):
        with pytest.raises(SystemExit) as exit_:
            cli.main([*args, "--help"])
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        words = untranslated(echoless(out, [])) - HELP_TYPED - {part for name in commands for part in name.split("-")}
        if words:
            found[" ".join(args) or "jifen-kiosk"] = (words, out)
    assert not found, found
    assert len(commands) >= 11
