"""``jifen-server``: run the server and do the staff chores that have no screen yet.

Every subcommand takes ``--data DIR`` after its name (default ./jifen-data/server) and
``--json`` for machine-readable output: operators and checks script these commands.
Exit status: 0 done, 1 audit found a failure, 2 bad input (unknown shop, kiosk, card).
"""

import argparse
import json
import os
import sys
from pathlib import Path

from server.services import open_context
from server.services.admin import LISTABLE, balance, listing, reviews, revoke
from server.services.audit import audit
from server.services.demo import demo_data
from server.services.enroll import enroll_code
from server.settings import DEFAULT_DATA, Settings
from server.staff import cli as staff_cli
from sync.protocol import ProtocolError


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory (default: %(default)s)")
    common.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p = argparse.ArgumentParser(prog="jifen-server", description="Central server of the jifen points programme.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", parents=[common], help="run the HTTP server (migrates the database first)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8470)
    s.add_argument("--cert", type=Path, default=None, metavar="FILE", help="serve HTTPS with this PEM certificate (chain)")
    s.add_argument("--key", type=Path, default=None, metavar="FILE", help="the certificate's PEM private key")

    s = sub.add_parser("backup", parents=[common], help="copy the database to FILE while the server runs (SQLite online backup)")
    s.add_argument("file", type=Path)

    s = sub.add_parser("restore", parents=[common], help="replace a STOPPED server's database with the backup FILE")
    s.add_argument("file", type=Path)

    s = sub.add_parser("demo-data", parents=[common], help="load realistic demo data (idempotent)")
    s.add_argument("--residents", type=int, default=2000)
    s.add_argument("--communities", type=int, default=12)

    s = sub.add_parser("enroll-code", parents=[common], help="issue a one-time kiosk enrolment code")
    s.add_argument("--shop", required=True)

    s = sub.add_parser("list", parents=[common], help="list reference data or kiosks")
    s.add_argument("what", choices=LISTABLE)

    s = sub.add_parser("balance", parents=[common], help="a resident's confirmed balance and recent postings")
    s.add_argument("card")

    s = sub.add_parser("revoke", parents=[common], help="revoke a kiosk (stolen, retired)")
    s.add_argument("kiosk")

    sub.add_parser("audit", parents=[common], help="re-verify every stored batch, chain and ledger total")

    s = sub.add_parser("review", help="review items for central staff")
    rsub = s.add_subparsers(dest="review_command", required=True)
    r = rsub.add_parser("list", parents=[common], help="list review items")
    r.add_argument("--open", action="store_true", help="only open items")
    staff_cli.add_parsers(sub, rsub, common)  # staff, review resolve, report, checkpoint, residents
    return p


def main(argv: list[str] | None = None) -> int:
    """The console script: ``_main``, and a reader that stops reading (``| head``) ends it quietly."""
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
    args = build_parser().parse_args(argv)
    settings = Settings(data_dir=args.data, **({"host": args.host, "port": args.port} if args.command == "serve" else {}))
    if args.command == "serve":
        if (args.cert is None) != (args.key is None):
            print("jifen-server: --cert and --key go together", file=sys.stderr)
            return 2
        return serve(settings, args.cert, args.key)
    if args.command in ("backup", "restore"):
        return backup_or_restore(settings, args)
    ctx = open_context(settings)
    try:
        return run(ctx, args)
    except ProtocolError as exc:  # the use cases' refusals (server.errors: not found, forbidden, conflict, ...)
        print(f"jifen-server: {exc.message}", file=sys.stderr)
        return 3 if exc.code == "conflict" else 2
    finally:
        ctx.close()


def run(ctx, args) -> int:
    handled = staff_cli.run(ctx, args, emit)
    if handled is not None:
        return handled
    if args.command == "demo-data":
        return emit(args, demo_data(ctx, args.residents, args.communities), "demo data")
    if args.command == "enroll-code":
        out = enroll_code(ctx, args.shop)
        return emit(args, out, f"enrolment code for {out['shop']}: {out['code']}")
    if args.command == "list":
        rows = listing(ctx, args.what)
        return emit(args, rows, "\n".join("\t".join(str(v) for v in r.values()) for r in rows))
    if args.command == "balance":
        out = balance(ctx, args.card)
        return emit(args, out, f"{out['card']} {out['name']}: {out['confirmed']} points")
    if args.command == "revoke":
        out = revoke(ctx, args.kiosk)
        return emit(args, out, f"kiosk {out['kiosk']} revoked")
    if args.command == "audit":
        report = audit(ctx)
        text = "\n".join([f"{f['check']}\t{f['subject']}\t{f['message']}" for f in report.failures]
                         + [f"audit {'passed' if report.ok else 'FAILED'}: {report.batches} batches, {report.kiosks} kiosks, "
                            f"{report.events} events, {report.postings} postings, {len(report.failures)} failures"])
        emit(args, report.as_dict(), text)
        return 0 if report.ok else 1
    if args.command == "review":
        rows = reviews(ctx, args.open)
        return emit(args, rows, "\n".join(f"{r['id']}\t{r['kind']}\t{r['status']}\t{r['kiosk'] or ''}\t{r['event'] or ''}\t"
                                          f"{json.dumps(r['detail'], ensure_ascii=False)}" for r in rows))
    raise AssertionError(args.command)


def emit(args, obj, text: str) -> int:
    if args.json:
        print(json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1))
    elif isinstance(obj, dict) and text in ("demo data",):
        print(", ".join(f"{k}: {v}" for k, v in obj.items()))
    else:
        print(text)
    return 0


def backup_or_restore(settings: Settings, args) -> int:
    from server.services.backup import backup, restore
    from server.errors import ServerKeyChanged
    from server.store.backup import BackupCorrupt, DatabaseInUse

    try:
        if args.command == "backup":
            out = backup(settings, args.file)
            return emit(args, out, f"backup written to {out['file']} ({out['bytes']} bytes)")
        out = restore(settings, args.file)
        return emit(args, out, f"restored {out['restored']}; {out['kiosks']} kiosks will resend what the backup lacks"
                               + (f"; the previous database is kept as {out['previous']}" if out["previous"] else ""))
    except (BackupCorrupt, ServerKeyChanged, DatabaseInUse) as exc:
        print(f"jifen-server: {exc}", file=sys.stderr)
        return 2


def serve(settings: Settings, cert: Path | None = None, key: Path | None = None) -> int:
    import uvicorn  # only the serve command needs it

    from server.app import create_app
    from server.services.staff import ensure_first_admin

    ctx = open_context(settings)  # an empty data folder gets its first admin account
    try:
        ensure_first_admin(ctx)
    finally:
        ctx.close()
    tls = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)} if cert else {}
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", **tls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
