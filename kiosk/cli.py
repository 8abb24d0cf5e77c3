"""``jifen-kiosk``: the kiosk's command line, for operators' scripts and for our checks.

Each subcommand takes ``--data DIR`` after its name (or before it, as the app does), ``--json`` for machine-readable
output and ``--lang zh|en`` (default: env ``JIFEN_LANG``, else Chinese). The environment is
read here and only here, into ``kiosk.settings.Settings``. Every refusal is
printed as a sentence from ``kiosk.i18n`` with a non-zero exit, never as a traceback; the
technical detail (exception text, tracebacks) goes to ``<data>/kiosk.log`` (mode 0600,
rotating), set up here for the commands and the app alike.
Recording (award, redeem, void, stock-in) signs the ``--operator`` in with their PIN, as the
app does: asked for without echo, or read from env ``JIFEN_OPERATOR_PIN`` for scripts; a
void is recorded under the supervisor who signs it in.
With no subcommand it opens the Textual app when that exists.
"""

import argparse
import functools
import getpass
import importlib
import importlib.util
import json
import logging
import logging.handlers
import os
import signal
import sys
from dataclasses import asdict

from kiosk import errors
from kiosk import settings as settings_mod
from kiosk.errors import KioskError
from kiosk.files import PRIVATE_UMASK
from kiosk.i18n import balance_state_text, resolve_lang, t
from kiosk.service import KioskService, balance_dict, sync_mark
from kiosk.settings import DEFAULT_DATA
from sync import codes, crashpoint
from sync.calendar import local_dt
from sync.initials import PYPINYIN_ENVIRONMENT

EXIT_REFUSED = 1
EXIT_OFFLINE = 3
#: the log file rotates at this size, keeping this many old files
LOG_BYTES, LOG_KEEP = 1_000_000, 3

log = logging.getLogger("kiosk")

#: libraries that log every request at INFO: a line per sync request in the kiosk's log
#: said nothing the kiosk's own lines do not, and cost each no-op round its formatting and write
QUIET_LOGGERS = ("httpx", "httpcore")


def quiet_libraries() -> None:
    """Keep ``QUIET_LOGGERS`` to warnings and worse."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def start_log(settings: settings_mod.Settings) -> None:
    """Technical detail to ``settings.log_path`` (0600: it may name residents' cards),
    never to the operator. A data folder that cannot take the log (read-only, full) must not
    stop the kiosk from answering, so the log is then left out."""
    quiet_libraries()
    path = settings.log_path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        os.chmod(path, 0o600)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_KEEP,
                                                       encoding="utf-8")
    except OSError:
        # nowhere to write it; Python's last-resort handler would print it to the operator
        logging.getLogger().addHandler(logging.NullHandler())
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.name = "jifen-kiosk-log"
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.name == handler.name]:  # main() run twice in one process
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _common(p: argparse.ArgumentParser, h) -> None:
    p.add_argument("--data", default=None, metavar=h("mv_dir"), help=h("data", default=DEFAULT_DATA))
    p.add_argument("--json", action="store_true", help=h("json"))
    p.add_argument("--lang", choices=("zh", "en"), default=None, help=h("lang"))


def _items(p: argparse.ArgumentParser, h, required_qty: bool) -> None:
    form = h("mv_item_qty") if required_qty else h("mv_item")
    p.add_argument("--item", dest="items", action="extend", nargs="+", required=True, metavar=form,
                   help=h("item", form=form))


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, with its own words (``usage:``) in the parser's language."""

    lang = "en"

    def add_usage(self, usage, actions, groups, prefix=None):
        if prefix is None:  # argparse's own prefix; '' when it names a command's program
            prefix = t("help_usage", self.lang) + " "
        super().add_usage(usage, actions, groups, prefix=prefix)


class _Parser(argparse.ArgumentParser):
    """argparse in the operator's language: its refusals (a flag missing, a wrong choice)
    become one sentence, and ``--help`` (its section titles, its own ``-h`` line and every
    command's words) comes from the translation table."""

    def __init__(self, *args, lang: str = "en", **kwargs):
        formatter = type("Formatter", (_Formatter,), {"lang": lang})
        super().__init__(*args, add_help=False, formatter_class=formatter, **kwargs)
        self.lang = lang
        self._positionals.title = t("help_positionals", lang)
        self._optionals.title = t("help_options", lang)
        self.add_argument("-h", "--help", action="help", help=t("help_help", lang))

    def error(self, message: str):
        self.exit(2, t("usage_error", self.lang, message=message) + "\n")


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    def h(key: str, **fields) -> str:
        return t(f"help_{key}", lang, **fields)

    parser = _Parser(prog="jifen-kiosk", description=h("description"), lang=lang)
    parser.add_argument("--data", dest="top_data", default=None, metavar=h("mv_dir"), help=h("top_data"))
    parser.add_argument("--lang", dest="top_lang", choices=("zh", "en"), default=None, help=h("lang"))
    sub = parser.add_subparsers(dest="command", metavar=h("mv_command"), title=h("commands"),
                                parser_class=functools.partial(_Parser, lang=lang))

    def command(name: str):
        return sub.add_parser(name, help=h(f"cmd_{name}"), description=h(f"cmd_{name}"))

    p = command("enroll")
    p.add_argument("--server", required=True, metavar=h("mv_url"), help=h("server"))
    p.add_argument("--code", required=True, metavar=h("mv_code"), help=h("enrol_code"))
    p.add_argument("--server-key", default=None, metavar=h("mv_hex"), help=h("server_key"))
    p.add_argument("--ca", default=None, metavar=h("mv_file"), help=h("ca"))
    p.add_argument("--insecure-http", action="store_true", help=h("insecure_http"))
    p.add_argument("--label", default=None, metavar=h("mv_text"), help=h("label"))
    _common(p, h)

    p = command("rotate-key")
    p.add_argument("--code", default=None, metavar=h("mv_code"), help=h("rotate_code"))
    _common(p, h)

    p = command("award")
    p.add_argument("--resident", required=True, metavar=h("mv_card"), help=h("resident"))
    p.add_argument("--rule", required=True, metavar=h("mv_code"), help=h("rule"))
    p.add_argument("--operator", required=True, metavar=h("mv_id"), help=h("operator"))
    p.add_argument("--note", default="", metavar=h("mv_text"), help=h("note"))
    _common(p, h)

    p = command("redeem")
    p.add_argument("--resident", required=True, metavar=h("mv_card"), help=h("resident"))
    _items(p, h, required_qty=False)
    p.add_argument("--operator", required=True, metavar=h("mv_id"), help=h("operator"))
    _common(p, h)

    p = command("void")
    p.add_argument("event_id", metavar=h("mv_event"), help=h("event_id"))
    p.add_argument("--reason", required=True, metavar=h("mv_text"), help=h("reason"))
    p.add_argument("--operator", required=True, metavar=h("mv_id"), help=h("operator"))
    _common(p, h)

    p = command("stock-in")
    _items(p, h, required_qty=True)
    p.add_argument("--operator", required=True, metavar=h("mv_id"), help=h("operator"))
    p.add_argument("--note", default="", metavar=h("mv_text"), help=h("note"))
    _common(p, h)

    p = command("sync")
    p.add_argument("--resume", action="store_true", help=h("resume"))
    _common(p, h)

    p = command("status")
    _common(p, h)

    p = command("balance")
    p.add_argument("card", metavar=h("mv_card"), help=h("card"))
    _common(p, h)

    p = command("history")
    p.add_argument("card", metavar=h("mv_card"), help=h("card"))
    p.add_argument("--limit", type=int, default=20, metavar=h("mv_n"), help=h("limit"))
    _common(p, h)

    p = command("find")
    p.add_argument("text", metavar=h("mv_text"), help=h("find_text"))
    _common(p, h)
    return parser


#: arguments that are codes, and their kind in sync.codes (typed full-width, padded, any case)
CODE_ARGS = {"resident": "card", "card": "card", "rule": "rule", "operator": "operator", "code": "enrol"}


def _normalise_codes(args: argparse.Namespace) -> None:
    for name, kind in CODE_ARGS.items():
        if getattr(args, name, None) is not None:
            setattr(args, name, errors.code(kind, getattr(args, name)))


def _parse_items(raw: list[str]) -> list[tuple[str, int | str]]:
    lines = []
    for item in raw:
        sku, _, qty = codes.clean(item).partition(":")
        qty = codes.clean(qty)
        lines.append((errors.code("sku", sku), int(qty) if qty.lstrip("-").isdigit() else (qty or 1)))
    return lines


def _when(ms: int | None, lang: str) -> str:
    return local_dt(ms).strftime("%Y-%m-%d %H:%M") if ms else t("never", lang)


def _ask_pin(prompt: str) -> str:
    """The PIN, unechoed at a terminal; from a pipe, its first line (getpass would read it
    too, but only after an English warning that the input may be echoed)."""
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line.strip():
        raise EOFError
    return line.rstrip("\r\n")


def _signed_in(svc: KioskService, operator: str, lang: str, supervisor: bool) -> str:
    """The operator's id once their PIN passes the counter's check (same lockout as the app)."""
    if svc.kiosk_id is None:
        raise errors.NotEnrolled()  # before asking anyone for a PIN
    pin = os.environ.get("JIFEN_OPERATOR_PIN")
    if pin is None:
        try:
            pin = _ask_pin(t("sup_pin" if supervisor else "signin_pin", lang) + f" ({operator}): ")
        except EOFError:  # no terminal to ask on (a script): say how to give it
            raise errors.SignInRefused("signin_no_pin", operator=operator) from None
    check = svc.counter.supervisor if supervisor else svc.counter.sign_in
    return check(operator, pin).id


def _run(args: argparse.Namespace, svc: KioskService, lang: str) -> tuple[dict, str, int]:
    """(JSON result, human text, exit code) of one command."""
    cmd = args.command
    _normalise_codes(args)
    if cmd == "enroll":
        ca = open(args.ca, encoding="ascii").read() if args.ca else None
        info = svc.enroll(args.server, args.code, server_key=args.server_key, ca=ca, insecure_http=args.insecure_http)
        return info, t("enrolled", lang, **info), 0
    if cmd == "rotate-key":
        info = svc.rotate_key(args.code)
        return info, t("key_rotated", lang, **info), 0
    if cmd in ("award", "redeem", "void", "stock-in"):
        op = _signed_in(svc, args.operator, lang, supervisor=cmd == "void")
        if cmd == "award":
            rec = svc.award(args.resident, args.rule, op, args.note)
        elif cmd == "redeem":
            rec = svc.redeem(args.resident, _parse_items(args.items), op)
        elif cmd == "void":
            rec = svc.void(args.event_id, args.reason, op)
        else:
            rec = svc.stock_in(_parse_items(args.items), op, args.note)
        return {"id": rec.id}, t("recorded", lang, id=rec.id), 0
    if cmd == "sync":
        if args.resume:
            svc.resume()
        res = svc.sync()
        if res.ok:
            return asdict(res), t("sync_ok", lang, pushed=res.pushed, pulled=res.pulled), 0
        log.info("sync: %s %s", res.problem, res.detail)  # the words leave the technical detail out
        text = t(res.problem, lang, **res.detail)
        return {**asdict(res), "message": text}, text, EXIT_OFFLINE if res.problem == "offline" else EXIT_REFUSED
    if cmd == "status":
        st = svc.status()
        lines = [t("status_kiosk", lang, kiosk=st["kiosk"], shop=st["shop"], shop_name=st["shop_name"]),
                 t("status_pending", lang, pending=st["pending_events"]),
                 *([t("status_unconfirmed", lang, n=st["unconfirmed_events"])] if st["unconfirmed_events"] else []),
                 t("status_last", lang, push=_when(st["last_push_at"], lang), pull=_when(st["last_pull_at"], lang)),
                 t("status_online" if st["reachable"] else "status_offline", lang),
                 t("status_lease", lang, hours=round(st["lease_remaining_seconds"] / 3600, 1))]
        if st["revoked"]:
            lines.append(t("kiosk_revoked", lang))
        elif st["stopped_reason"]:
            lines.append(t("sync_stopped", lang, reason=st["stopped_reason"]))
        if st["clock_wrong"]:
            cw = st["clock_wrong"]
            lines.append(t("status_clock", lang, reading=_when(cw["reading"], lang), at=_when(cw["at"], lang)))
        if st["checkpoint_alert"]:
            lines.append(t("warn_checkpoint", lang, alert=st["checkpoint_alert"]).rstrip())
        return st, "\n".join(lines), 0
    if cmd == "balance":
        bal = svc.balance(args.card)
        if svc.resident(bal.card) is None and not bal.confirmed and not bal.pending:
            raise errors.UnknownResident(card=bal.card)
        state = balance_state_text(bal.state, bal.unsynced, bal.unconfirmed, lang)
        return balance_dict(bal), t("balance_line", lang, **asdict(bal), state=state), 0
    if cmd == "history":
        rows = svc.history(args.card, args.limit)
        text = "\n".join(
            f"{_when(r['at'], lang)}  {r['id']:<14} {t('kind_' + r['kind'], lang):<8} {r['points']:+d}"
            + (f"  [{t(mark, lang)}]" if (mark := sync_mark(r)) else "")
            + (f"  [{t('voided_mark', lang)} {r['voided_by']}]" if r["voided_by"] else "")
            for r in rows
        ) or t("no_history", lang)
        return {"card": args.card, "events": rows}, text, 0
    if cmd == "find":
        rows = svc.find_resident(codes.clean(args.text))
        return {"residents": rows}, "\n".join(
            f"{r['card']}  {r['name']}  *{r['phone_tail']}  {t('status_' + r['status'], lang)}" for r in rows), 0
    raise AssertionError(cmd)


def main(argv: list[str] | None = None) -> int:
    """The console script: ``_main``, and a reader that stops reading (``| head``) ends it quietly."""
    for name, value in PYPINYIN_ENVIRONMENT.items():  # before pypinyin's first import (its reason there)
        os.environ.setdefault(name, value)
    try:
        code = _main(argv)
        sys.stdout.flush()  # inside the try: a small output meets the closed pipe only here
        return code
    except BrokenPipeError:
        # what was not printed is not wanted; point stdout at /dev/null so the interpreter's
        # own flush at exit does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv: list[str] | None) -> int:
    os.umask(PRIVATE_UMASK)  # whatever the kiosk creates (database, receipts, shift reports, logs): its user's only
    parser = build_parser(_lang_of(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    if args.command is None:
        settings = settings_mod.from_env(os.environ, args.top_data, args.top_lang)
        start_log(settings)
        crashpoint.arm(settings.crash_at, "kiosk", kill_self)
        if importlib.util.find_spec("kiosk.app") is not None:
            return importlib.import_module("kiosk.app").run(settings) or 0
        parser.print_help()
        return 0
    overrides = {"label": args.label} if getattr(args, "label", None) else {}
    # ``jifen-kiosk --data DIR enroll …`` means DIR as much as ``enroll --data DIR`` does
    settings = settings_mod.from_env(os.environ, args.data or args.top_data, args.lang or args.top_lang, **overrides)
    lang = settings.lang
    start_log(settings)
    try:
        crashpoint.arm(settings.crash_at, "kiosk", kill_self)
        svc = KioskService(settings)
        try:
            result, text, code = _run(args, svc, lang)
        finally:
            svc.close()
    except KioskError as exc:
        log.info("%s refused: %s %s", args.command, exc.key, exc.fields)
        message = t(exc.key, lang, **exc.fields)
        _emit(args, {"error": exc.key, "message": message, **exc.fields}, message, err=True)
        return EXIT_OFFLINE if exc.key == "offline" else EXIT_REFUSED
    except Exception:  # the operator gets a sentence, the log the traceback
        log.exception("%s failed", args.command)
        message = t("internal_error", lang)
        _emit(args, {"error": "internal", "message": message}, message, err=True)
        return EXIT_REFUSED
    _emit(args, result, text, err=code != 0)
    return code


def _lang_of(argv: list[str]) -> str:
    """The language asked for, before the arguments are parsed (for argparse's refusals)."""
    flag = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--lang"), None)
    return resolve_lang(flag, os.environ.get(settings_mod.ENV["lang"]))


def kill_self() -> None:
    """What an armed crash point does: the end a pulled plug gives, with no clean-up."""
    os.kill(os.getpid(), signal.SIGKILL)


def _emit(args: argparse.Namespace, data: dict, text: str, err: bool) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, default=str))
    else:
        print(text, file=sys.stderr if err else sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
