"""``jifen-server``: run the server and do the staff chores from the server machine.

One table, ``COMMANDS``, names every subcommand with its handler and help; the one parser
is built from it and README.md documents each row (a test checks). Handlers call the very
same use-case functions as the staff API (``server.staff.api``), so a permission check,
a change and its audit row are one transaction whichever way in.

Who acts: ``--staff USER`` names a staff account (its role and community scope apply, as
over the API); without it the command acts as ``local:<os user>``, an admin, because
whoever can read the data folder holds everything in it anyway.

Every subcommand takes ``--data DIR`` after its name (default ./jifen-data/server),
``--database URL`` (a PostgreSQL database instead of the data folder's SQLite file) and
``--json`` for machine-readable output: operators and checks script these commands.
Exit status: 0 done, 1 audit found a failure, 2 bad input or not allowed (unknown shop,
kiosk, card), 3 conflict (already resolved, taken).
"""

import argparse
import getpass
import ipaddress
import json
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from schema.wire import CheckpointRec
from server.errors import Invalid, ServerKeyChanged
from server.files import PRIVATE_UMASK
from server.reports.render import FORMATS, render, render_bytes
from server.services import checkpoint, enroll, manage, open_context, projector, receipt, register, reports, review, rotate, staff, tasks, voice
from server.services.audit import audit
from server.services.demo import demo_data, generate
from server.services.demo_station import demo_station
from server.settings import DEFAULT_DATA, Settings
from server.store.backup import BackupCorrupt, DatabaseInUse
from server.store.db import MigrationRefused
from server.store.pg_backup import ToolFailed, ToolMissing
from sync import calendar, codec, codes, crashpoint
from sync.protocol import ProtocolError

#: seconds the server keeps an idle HTTP connection open
KEEP_ALIVE_SECONDS = 30

PASSWORD_ENV = "JIFEN_STAFF_PASSWORD"
PIN_ENV = "JIFEN_OPERATOR_PIN"  # a PIN on the command line would sit in the shell history


@dataclass(frozen=True)
class Command:
    """One subcommand. ``run(ctx, who, args)`` for a command on the opened data folder;
    ``run(settings, args)`` when ``opens`` is False (it handles the folder itself)."""

    name: str  # words: "kiosk rotate"
    help: str
    run: Callable[..., int]
    args: Callable[[argparse.ArgumentParser], None] = lambda p: None
    acts: bool = True  # takes --staff: a staff use case, permission-checked and audited
    opens: bool = True


def emit(args, obj, text: str) -> int:
    print(json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1) if args.json else text)
    return 0


def positional(name: str, **kw) -> Callable[[argparse.ArgumentParser], None]:
    """The ``args`` of a command whose only argument is ``name``."""
    return lambda p: p.add_argument(name, **kw)


# ---------------------------------------------------------------- running and the data folder


def _serve_args(p):
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8470)
    p.add_argument("--cert", type=Path, default=None, metavar="FILE", help="serve HTTPS with this PEM certificate (chain)")
    p.add_argument("--key", type=Path, default=None, metavar="FILE", help="the certificate's PEM private key")
    p.add_argument("--insecure-http", action="store_true",
                   help="serve plain HTTP on an address other machines reach (pull pages carry residents' data unencrypted)")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reached only from this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any address


def serve(settings: Settings, args) -> int:
    import uvicorn  # only the serve command needs it

    from server.app import create_app

    if (settings.tls_cert is None) != (settings.tls_key is None):
        print("jifen-server: --cert and --key go together", file=sys.stderr)
        return 2
    if settings.tls_cert is None and not is_loopback(settings.host) and not args.insecure_http:
        print(f"jifen-server: refusing plain HTTP on {settings.host}: other machines would send and receive residents' data "
              "and staff passwords unencrypted; give --cert FILE --key FILE, serve on 127.0.0.1 behind a TLS proxy "
              "(JIFEN_FORWARDED_ALLOW_IPS names it), or pass --insecure-http", file=sys.stderr)
        return 2
    ctx = open_context(settings)  # an empty data folder gets its first admin account
    try:
        staff.ensure_first_admin(ctx)
    finally:
        ctx.close()
    tls = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)} if settings.tls_cert else {}
    # X-Forwarded-For names the client (whose address the /v1 and sign-in limits key on)
    # only when it comes from a proxy named in settings.forwarded_allow_ips.
    proxy = {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips} if settings.forwarded_allow_ips else {"proxy_headers": False}
    # keep idle connections longer than a kiosk does (5 s, kiosk/client.py): with equal
    # timeouts the server could close a connection just as a kiosk reuses it
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info",
                timeout_keep_alive=KEEP_ALIVE_SECONDS, **proxy, **tls)
    return 0


def backup(settings: Settings, args) -> int:
    from server.services.backup import backup as run_backup

    out = run_backup(settings, args.file)
    return emit(args, out, f"backup written to {out['file']} ({out['bytes']} bytes)")


def restore(settings: Settings, args) -> int:
    from server.services.backup import restore as run_restore

    out = run_restore(settings, args.file)
    return emit(args, out, f"restored {out['restored']}; {out['kiosks']} kiosks will resend what the backup lacks"
                           + (f"; the previous database is kept as {out['previous']}" if out["previous"] else ""))


def _demo_args(p):
    p.add_argument("--residents", type=int, default=2000)
    p.add_argument("--communities", type=int, default=12)
    p.add_argument("--counties", type=int, default=1, help="more than 1: the communities dealt out over that many counties")
    p.add_argument("--no-activity", action="store_true",
                   help="only the programme: no demo station kiosk with its letters, requests, ratings and tasks")


def demo(ctx, who, args) -> int:
    out = demo_data(ctx, args.residents, args.communities, counties=args.counties)
    if not args.no_activity:
        out |= demo_station(ctx, generate(args.residents, args.communities))
    return emit(args, out, ", ".join(f"{k}: {v}" for k, v in out.items()))


def _audit_args(p):
    p.add_argument("--held", type=Path, metavar="FILE",
                   help="also prove checkpoints kept elsewhere (a JSON list of a kiosk's pulled checkpoints) against the stored log")


def _reproject_args(p):
    p.add_argument("--check", action="store_true",
                   help="only compare: rebuild into a scratch copy and name the first difference (exit 1 on any)")


def reproject(ctx, who, args) -> int:
    """Rebuild the ledger from the signed log into a scratch copy in the data folder and
    compare it with the stored one (on PostgreSQL the copy is made from one snapshot of the
    database); without ``--check`` the stored ledger then takes the rebuilt rows (SQLite
    only: refused on PostgreSQL, exit 2). Exit 1 when they differ (``--check``), naming the
    first difference."""
    out = projector.rebuild(ctx, ctx.settings.data_dir / "reproject-scratch.db", replace=not args.check)
    first = out.differences[0] if out.differences else None
    text = (f"rebuilt {out.events} events from the log: the stored ledger is the same" if out.ok else
            f"rebuilt {out.events} events from the log: {out.counted} rows differ; first in {first['table']}: "
            f"stored {first['stored']}, rebuilt {first['rebuilt']}" + (f" ({first['note']})" if first.get("note") else ""))
    if not args.check and not out.ok:
        text += "\nthe stored ledger tables now hold the rebuilt rows (review items kept as stored)"
    emit(args, out.as_dict(), text)
    return 1 if args.check and not out.ok else 0


def _project_args(p):
    p.add_argument("--once", action="store_true", help="project what is logged now, then exit")


def project(ctx, who, args) -> int:
    """Run the projector alone (``JIFEN_PROJECTION=separate`` on the serving process): fold
    the log into the ledger behind the acknowledgements, looking for new batches every
    ``projection_poll_seconds``, until SIGTERM or SIGINT; ``--once``: what is logged now."""
    if args.once:
        n = projector.project_pending(ctx)
        head, cursor = projector.lag(ctx)
        return emit(args, {"events": n, "log": head, "projected": cursor}, f"projected {n} events; the ledger holds the log up to {cursor} of {head}")
    halt = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: halt.set())
    print(f"jifen-server project: following the log of {ctx.settings.store_location}", file=sys.stderr, flush=True)
    projector.follow(ctx, halt, ctx.settings.projection_poll_seconds)
    return 0


def run_audit(ctx, who, args) -> int:
    """The audit; with ``--held FILE`` each checkpoint in FILE (as a kiosk keeps them) is
    proven against the server's log too. Exit 1 on any failure."""
    report = audit(ctx)
    held = []
    if args.held:
        raw = json.loads(args.held.read_text(encoding="utf-8"))
        held = [codec.decode(json.dumps(r).encode(), CheckpointRec) for r in (raw if isinstance(raw, list) else [raw])]
        for rec in held:
            for f in checkpoint.check_held(ctx, rec):
                report.fail(f["check"], f["subject"], f["message"])
    out = report.as_dict() | ({"held_checkpoints": len(held)} if args.held else {})
    counts = (f"{report.batches} batches, {len(held)} held checkpoints" if args.held else
              f"{report.batches} batches, {report.kiosks} kiosks, {report.events} events, {report.postings} postings")
    emit(args, out, "\n".join([f"{f['check']}\t{f['subject']}\t{f['message']}" for f in report.failures]
                              + [f"audit {'passed' if report.ok else 'FAILED'}: {counts}, {len(report.failures)} failures"]))
    return 0 if report.ok else 1


# ---------------------------------------------------------------- kiosks


def _shop_arg(p):
    p.add_argument("--shop", required=True)


def enroll_code(ctx, who, args) -> int:
    out = enroll.enroll_code(ctx, who, args.shop)
    return emit(args, out, f"enrolment code for {out['shop']}: {out['code']}")


def revoke(ctx, who, args) -> int:
    out = manage.revoke_kiosk(ctx, who, args.kiosk)
    return emit(args, out, f"kiosk {out['kiosk']} revoked")


def kiosk_expire_pins(ctx, who, args) -> int:
    out = manage.expire_kiosk_pins(ctx, who, args.kiosk)
    return emit(args, out, f"kiosk {out['kiosk']} lost: PINs of {', '.join(out['expired']) or 'no operator'} at {out['shop']} "
                           f"no longer work; give each a new one (jifen-server operator pin ID)")


def kiosk_rotate(ctx, who, args) -> int:
    out = rotate.force_rotate(ctx, who, args.kiosk)
    return emit(args, out, f"kiosk {out['kiosk']}: key retired from batch {out['from_seq']}; re-enrolment code {out['code']} "
                           f"(on the kiosk: jifen-kiosk rotate-key --code {out['code']})")


def kiosk_keys(ctx, who, args) -> int:
    rows = rotate.key_history(ctx, who, args.kiosk)
    return emit(args, rows, "\n".join(f"{r['public_key']}\tfrom batch {r['from_seq']}\t{'retired' if r['retired_at'] else 'current'}" for r in rows))


# ---------------------------------------------------------------- residents and reference data


def _list_args(p):
    p.add_argument("what", choices=manage.LISTABLE)
    p.add_argument("--reason", default=None, help="residents: why full phone numbers are needed (recorded; else masked)")


def listing(ctx, who, args) -> int:
    rows = manage.list_reference(ctx, who, args.what, args.reason)
    return emit(args, rows, "\n".join("\t".join(str(v) for v in r.values()) for r in rows))


def balance(ctx, who, args) -> int:
    out = manage.get_resident(ctx, who, args.card)
    return emit(args, out, f"{out['card']} {out['name']}: {out['confirmed']} points")


def _import_args(p):
    p.add_argument("file", type=Path)
    p.add_argument("--community", help="community of every row (else a 社区 / community column)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--preview", action="store_true", help="only show what would be added, changed and refused, and the token")
    how.add_argument("--commit", metavar="TOKEN", help="apply exactly what --preview showed under TOKEN (refused if anything changed)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the reasons rows are refused")


def residents_import(ctx, who, args) -> int:
    if args.file.stat().st_size > register.MAX_REGISTER_BYTES:
        raise Invalid(f"{args.file} is larger than {register.MAX_REGISTER_BYTES} bytes: split the register")
    content = args.file.read_bytes()
    if args.preview:
        out = register.preview(ctx, who, content, args.community, args.lang)
        lines = [f"+ line {r['line']}\t{r['card']}\t{r['name']}\t{r['community']}" for r in out["added"]]
        lines += [f"~ line {c['line']}\t{c['card']}\t" + ", ".join(f"{k}: {c['before'][k]} -> {v}" for k, v in c["after"].items()
                                                              if c["before"][k] != v) for c in out["changed"]]
        lines += [f"! line {r['line']}\t{r['card']}\t{r['reason']}" for r in out["refused"]]
        n = out["counts"]
        lines.append(f"{n['added']} to add, {n['changed']} to change, {n['unchanged']} unchanged, {n['refused']} refused ({out['encoding']})")
        lines.append(f"to apply exactly this: jifen-server residents import {args.file} --commit {out['token']}")
        return emit(args, out, "\n".join(lines))
    out = (register.commit(ctx, who, content, args.commit, args.community, args.lang) if args.commit
           else register.import_residents(ctx, who, content, args.community, args.lang))
    lines = [f"line {r['line']}\t{r['card']}\t{r['reason']}" for r in out["refused"]]
    lines.append(f"{out['added']} added, {out['updated']} updated, {out['unchanged']} unchanged, {len(out['refused'])} refused")
    return emit(args, out, "\n".join(lines))


# ---------------------------------------------------------------- rules, goods, shops, communities, operators


def cap(text: str) -> int | None:
    """A cap as typed: a number, or ``none`` to take the cap away."""
    value = codes.clean(text).lower()
    return None if value == "none" else int(value)


def _rule_args(p):
    p.add_argument("code")
    given = {"default": argparse.SUPPRESS}  # only the fields given change
    p.add_argument("--name", **given)
    p.add_argument("--kind", choices=("basic", "encouraged", "prohibited"), **given)
    p.add_argument("--points", type=int, help="awarded (basic, encouraged) or deducted (prohibited: negative)", **given)
    p.add_argument("--cap-day", type=cap, metavar="N|none", help="times a resident may earn it per programme day", **given)
    p.add_argument("--cap-month", type=cap, metavar="N|none", help="times per programme month", **given)
    p.add_argument("--status", choices=manage.STATUSES, **given)
    p.add_argument("--effective-at", metavar="TIME", help="YYYY-MM-DD, YYYY-MM-DD HH:MM (Asia/Shanghai) or ISO 8601 with an offset; default now")


def rule_set(ctx, who, args) -> int:
    fields = {f: getattr(args, f) for f in manage.RULE_FIELDS if hasattr(args, f)}
    if not fields:
        raise Invalid("say what changes: --name, --kind, --points, --cap-day, --cap-month or --status")
    try:
        when = None if args.effective_at is None else calendar.parse_local(args.effective_at)
    except ValueError as exc:
        raise Invalid(f"--effective-at: {exc}") from None
    out = manage.change_rule(ctx, who, args.code, fields, when)
    return emit(args, out, f"rule {out['rule']}: change {out['change']} "
                + ("in effect now" if out["applied"] else f"waits until {_local(out['effective_at'])}"))


def rule_changes(ctx, who, args) -> int:
    rows = manage.rule_history(ctx, who, args.code)
    return emit(args, rows, "\n".join(f"{r['id']}\t{_local(r['effective_at'])}\t"
                                      f"{'applied' if r['applied_at'] is not None else 'waiting'}\t{r['staff']}\t"
                                      f"{json.dumps(r['fields'], ensure_ascii=False, sort_keys=True)}" for r in rows))


def _local(ms: int) -> str:
    return calendar.local_dt(ms).strftime("%Y-%m-%d %H:%M")


def _good_args(p):
    p.add_argument("sku")
    p.add_argument("--name", required=True)
    p.add_argument("--unit", required=True, help="what one is: 瓶, 袋, kg")
    p.add_argument("--price", type=int, required=True, help="points")
    p.add_argument("--status", choices=manage.STATUSES, default="active")


def _done(args, kind: str, out: dict) -> int:
    """A put's or a retirement's outcome: ``good SOAP added``, ``operator op7 retired (was active)``."""
    return emit(args, out, f"{kind} {out[kind]} " + (out["outcome"] if "outcome" in out else f"retired (was {out['was']})"))


def good_set(ctx, who, args) -> int:
    return _done(args, "good", manage.put_good(ctx, who, args.sku, args.name, args.unit, args.price, args.status))


def good_retire(ctx, who, args) -> int:
    return _done(args, "good", manage.retire_good(ctx, who, args.sku))


def _shop_set_args(p):
    p.add_argument("shop")
    p.add_argument("--name", required=True)
    p.add_argument("--community", required=True)
    p.add_argument("--kind", required=True, choices=("shop", "station"), help="a points-exchange shop or a service station")


def shop_set(ctx, who, args) -> int:
    return _done(args, "shop", manage.put_shop(ctx, who, args.shop, args.name, args.community, args.kind))


def _serves_args(p):
    p.add_argument("shop")
    p.add_argument("communities", nargs="*", metavar="COMMUNITY", help="none: the shop's own community")


def shop_serves(ctx, who, args) -> int:
    out = manage.set_shop_serves(ctx, who, args.shop, args.communities)
    return emit(args, out, f"shop {out['shop']} serves {', '.join(out['serves']) or '-'}")


def _community_args(p):
    p.add_argument("community")
    p.add_argument("--name", required=True)
    p.add_argument("--street", default="")


def community_set(ctx, who, args) -> int:
    return _done(args, "community", manage.put_community(ctx, who, args.community, args.name, args.street))


def _county_args(p):
    p.add_argument("county")
    p.add_argument("--name", required=True)


def county_set(ctx, who, args) -> int:
    return _done(args, "county", manage.put_county(ctx, who, args.county, args.name))


def _community_county_args(p):
    p.add_argument("community")
    p.add_argument("county", nargs="?", default="", help="none: back in the default county")


def community_county(ctx, who, args) -> int:
    out = manage.set_community_county(ctx, who, args.community, args.county)
    return emit(args, out, f"community {out['community']} in county {out['county'] or '(default)'}"
                           f" (was {out['was'] or '(default)'})")


def county_list(ctx, who, args) -> int:
    rows = manage.list_counties(ctx, who)
    return emit(args, rows, "\n".join(f"{r['id']}\t{r['name']}\t{r['communities']}" for r in rows) or "no counties: one default county")


def _operator_args(p):
    p.add_argument("operator")
    p.add_argument("--shop", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=("operator", "supervisor"), default="operator")
    p.add_argument("--status", choices=manage.STATUSES, default="active")


def operator_set(ctx, who, args) -> int:
    return _done(args, "operator", manage.put_operator(ctx, who, args.operator, args.shop, args.name, args.role, args.pin, args.status))


def operator_pin(ctx, who, args) -> int:
    out = manage.reset_operator_pin(ctx, who, args.operator, args.pin)
    return emit(args, out, f"operator {out['operator']} ({out['shop']}): new PIN "
                + (f"{out['pin']} (shown once)" if "pin" in out else f"from ${PIN_ENV}")
                + "; the shop's kiosks take it at their next sync")


def operator_retire(ctx, who, args) -> int:
    return _done(args, "operator", manage.retire_operator(ctx, who, args.operator))


# ---------------------------------------------------------------- review queue


def _review_list_args(p):
    p.add_argument("--open", action="store_true", help="only open items")


def review_list(ctx, who, args) -> int:
    rows = review.list_items(ctx, who, args.open, None, with_evidence=args.json)
    return emit(args, rows, "\n".join(f"{r['id']}\t{r['kind']}\t{r['status']}\t{r['kiosk'] or ''}\t{r['event'] or ''}\t"
                                      f"{json.dumps(r['detail'], ensure_ascii=False)}" for r in rows))


def _review_show_args(p):
    p.add_argument("item", type=int)
    p.add_argument("--lang", choices=("zh", "en"), default="zh")


def review_show(ctx, who, args) -> int:
    out = review.describe_item(ctx, who, args.item, args.lang)
    return emit(args, out, "\n".join(out["lines"]))


def _resolve_args(p):
    p.add_argument("item", type=int)
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--action", choices=review.ACTIONS)
    how.add_argument("--approve", action="store_true", help="approve the resolution another staff member proposed")
    how.add_argument("--decline", action="store_true", help="decline (or withdraw your own) proposed resolution")
    p.add_argument("--points", type=int)
    p.add_argument("--note", required=True)


def review_resolve(ctx, who, args) -> int:
    if not args.staff:  # the resolution is signed into a central event under a staff id
        raise Invalid("review resolve needs --staff USER: the staff account resolving it")
    if args.action is None:
        out = review.decide(ctx, who, args.item, args.approve, args.note)
    else:
        out = review.resolve(ctx, who, args.item, args.action, args.note, args.points)
    if out["status"] == "pending":
        return emit(args, out, f"review item {out['review']}: {out['action']} of {out['points']} points exceeds the item's "
                    f"{out['bound']}; proposed, awaiting a second staff member's --approve")
    if out["status"] == "open":
        return emit(args, out, f"review item {out['review']}: proposed {out['declined']} declined; the item stays open")
    return emit(args, out, f"review item {out['review']} resolved: {out['action']}"
                + (f", {out['points']} points ({out['event']})" if out["event"] else "")
                + (f", approved by {out['approved_by']}" if out.get("approved_by") else ""))


# ---------------------------------------------------------------- letters and requests


def _voice_list_args(p):
    p.add_argument("--community")
    p.add_argument("--status", choices=voice.STATUSES)
    p.add_argument("--channel", choices=("letter", "request"))
    p.add_argument("--month", help="YYYY-MM: recorded in this month")


def voice_list(ctx, who, args) -> int:
    rows = voice.list_items(ctx, who, args.community, args.status, args.channel, args.month, voice.LIST_LIMIT)
    return emit(args, rows, "\n".join(f"{r['code']}\t{r['channel']}\t{r['category']}\t{r['community']}\t{r['status']}\t"
                                      f"{r['assignee'] or ''}\t{r['stars'] or ''}" for r in rows))


def _voice_code(p):
    p.add_argument("code", help="the tracking code on the resident's slip")


def voice_show(ctx, who, args) -> int:
    out = voice.item(ctx, who, args.code)
    steps = [f"  {s['at']}\t{s['step']}\t{s['actor']}\t{json.dumps(s['detail'], ensure_ascii=False)}" for s in out["steps"]]
    return emit(args, out, "\n".join([f"{out['code']} {out['channel']} {out['category']} {out['status']}", out["text"],
                                       f"reply: {out['reply']}", *steps]))


def voice_assign(ctx, who, args) -> int:
    out = voice.assign(ctx, who, args.code, args.to)
    return emit(args, out, f"{out['code']} assigned to {out['assignee']}")


def voice_reply(ctx, who, args) -> int:
    out = voice.reply(ctx, who, args.code, args.text)
    return emit(args, out, f"{out['code']} replied")


def voice_done(ctx, who, args) -> int:
    out = voice.done(ctx, who, args.code)
    return emit(args, out, f"{out['code']} done")


def _voice_assign_args(p):
    _voice_code(p)
    p.add_argument("--to", required=True, help="the staff account that handles it")


def _voice_reply_args(p):
    _voice_code(p)
    p.add_argument("--text", required=True, help="the reply the resident and the public handling log read")


# ---------------------------------------------------------------- volunteer service tasks


def _task_post_args(p):
    p.add_argument("--community", required=True)
    p.add_argument("--rule", required=True, help="the rule whose points completing it awards")
    p.add_argument("--title", required=True, help="what the task is (mediation, a repair, collecting concerns ...)")
    p.add_argument("--slots", type=int, default=1, help="how many residents may claim it (default 1)")


def task_post(ctx, who, args) -> int:
    out = tasks.post(ctx, who, args.community, args.rule, args.title, args.slots)
    return emit(args, out, f"task {out['id']} posted for {out['community']}: {out['points']} points ({out['rule']}), {out['slots']} places")


def task_list(ctx, who, args) -> int:
    rows = tasks.list_tasks(ctx, who, args.community, args.status, tasks.LIST_LIMIT)
    return emit(args, rows, "\n".join(f"{r['id']}\t{r['community']}\t{r['status']}\t{r['rule']}\t{r['points']}\t"
                                      f"{r['claimed']}/{r['slots']}\t{r['completed']}\t{r['title']}" for r in rows))


def task_show(ctx, who, args) -> int:
    out = tasks.task(ctx, who, args.task)
    claims = [f"  {c['claim']}\t{c['resident']}\t{c['at']}\t{c['done_event'] or ''}" for c in out["claims"]]
    return emit(args, out, "\n".join([f"{out['id']} {out['community']} {out['status']} {out['rule']} {out['points']}",
                                       out["title"], *claims]))


def task_close(ctx, who, args) -> int:
    out = tasks.close(ctx, who, args.task)
    return emit(args, out, f"task {out['id']} closed")


def _task_list_args(p):
    p.add_argument("--community")
    p.add_argument("--status", choices=tasks.STATUSES)


# ---------------------------------------------------------------- staff accounts and the audit log


def _staff_add_args(p):
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=staff.ROLES)
    p.add_argument("--community", action="append", default=[], help="a community a community_manager manages (repeatable)")


def staff_password(ctx, who, args) -> int:
    """A new password for an account (from $JIFEN_STAFF_PASSWORD, else generated and shown
    once on this terminal); ``admin``'s is also kept in the data folder's admin-password.txt."""
    password = args.password or secrets.token_hex(12)
    out = staff.set_password(ctx, who, args.username, password)
    text = f"staff {out['username']}: new password set, {out['tokens_revoked']} sessions signed out"
    if args.username == "admin":
        out["kept_in"] = str(staff.keep_admin_password(ctx, password))
        text += f"; kept in {out['kept_in']}"
    if not args.password:
        out["password"] = password
        text += f"; password {password} (shown once)"
    return emit(args, out, text)


def staff_add(ctx, who, args) -> int:
    out = staff.add_staff(ctx, who, args.username, args.role, args.password, args.community)
    text = f"staff {out['username']} ({out['role']}) added"
    if "password" in out:
        text += f"; password {out['password']} (shown once)"
    return emit(args, out, text)


def staff_list(ctx, who, args) -> int:
    rows = staff.list_staff(ctx, who)
    return emit(args, rows, "\n".join(f"{r['username']}\t{r['role']}\t{r['status']}\t{','.join(r['communities'])}" for r in rows))


def staff_disable(ctx, who, args) -> int:
    out = staff.disable_staff(ctx, who, args.username)
    return emit(args, out, f"staff {out['username']} disabled ({out['tokens_revoked']} tokens revoked)")


def staff_lockouts(ctx, who, args) -> int:
    rows = staff.sign_in_lockouts(ctx, who, args.all)
    return emit(args, rows, "\n".join(f"{r['username'] or '(any username)'}\t{r['address']}\tuntil {r['until']}\tlevel {r['level']}"
                                      for r in rows) or "no sign-in lockouts in force")


def _log_args(p):
    p.add_argument("--staff", dest="who", help="only this account's actions")
    p.add_argument("--action")
    p.add_argument("--since", type=int, default=0, help="only entries after this id")


def staff_log(ctx, who, args) -> int:
    rows = staff.audit_log(ctx, who, args.who, args.action, args.since)
    return emit(args, rows, "\n".join(f"{r['id']}\t{r['at']}\t{r['staff']}\t{r['action']}\t{r['subject'] or ''}\t"
                                      f"{json.dumps(r['detail'], ensure_ascii=False, sort_keys=True)}" for r in rows))


# ---------------------------------------------------------------- reports and checkpoints


def _report_args(p):
    p.add_argument("kind", choices=reports.KINDS)
    p.add_argument("--month", required=True, help="YYYY-MM (Asia/Shanghai)")
    p.add_argument("--community")
    p.add_argument("--format", dest="fmt", choices=list(FORMATS), default="table",
                   help="table (default: headers and readable values), csv, xlsx (needs --output), html, json")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of headers and values (default zh)")
    p.add_argument("--output", type=Path, help="write to this file instead of stdout")
    p.add_argument("--publish", action="store_true", help="(board) also publish it to the kiosks' feed")


def report(ctx, who, args) -> int:
    if args.publish:
        if args.kind != "board":
            raise Invalid("--publish is for the board")
        reports.publish_board(ctx, who, args.month)
    fmt = "json" if args.json else args.fmt
    if fmt == "xlsx" and not args.output:
        raise Invalid("--format xlsx writes a workbook: give --output FILE")
    out = reports.report(ctx, who, args.kind, args.month, args.community, args.lang)
    if args.output:
        args.output.write_bytes(render_bytes(out, fmt))
    else:
        text = render(out, fmt)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def keys_export(ctx, who, args) -> int:
    data = receipt.published_keys(ctx)
    args.file.write_bytes(data)
    return emit(args, {"file": str(args.file), "bytes": len(data)}, f"published keys written to {args.file} (check receipts: jifen-verify --keys {args.file} PAYLOAD)")


def make_checkpoint(ctx, who, args) -> int:
    out = checkpoint.make_checkpoint(ctx, who)
    return emit(args, out, f"checkpoint {out['n']}: {out['size']} batches, head {out['head']}" + ("" if out["new"] else " (unchanged)"))


COMMANDS: tuple[Command, ...] = (
    Command("serve", "run the HTTP server (migrates the database first)", serve, _serve_args, acts=False, opens=False),
    Command("backup", "copy the database to FILE while the server runs (SQLite online backup; pg_dump on PostgreSQL)", backup, positional("file", type=Path), acts=False, opens=False),
    Command("restore", "replace a STOPPED server's database with the backup FILE", restore, positional("file", type=Path), acts=False, opens=False),
    Command("demo-data", "load realistic demo data (idempotent)", demo, _demo_args, acts=False),
    Command("audit", "re-verify every stored batch, chain and ledger total", run_audit, _audit_args, acts=False),
    Command("reproject", "rebuild the ledger from the signed log (--check: only compare it with the stored one)", reproject,
            _reproject_args, acts=False),
    Command("project", "run the projector alone: fold the acknowledged log into the ledger (serve with JIFEN_PROJECTION=separate)",
            project, _project_args, acts=False),
    Command("enroll-code", "issue a one-time kiosk enrolment code", enroll_code, _shop_arg),
    Command("revoke", "revoke a kiosk (stolen, retired)", revoke, positional("kiosk")),
    Command("kiosk rotate", "retire a kiosk's key now (it may have leaked) and issue a re-enrolment code for a new one", kiosk_rotate, positional("kiosk")),
    Command("kiosk expire-pins", "a lost kiosk: the PINs of its shop's operators stop working until each is reset", kiosk_expire_pins,
            positional("kiosk")),
    Command("kiosk keys", "every key a kiosk has held and the batches each signs", kiosk_keys, positional("kiosk")),
    Command("list", "list reference data or kiosks", listing, _list_args),
    Command("balance", "a resident's confirmed balance and recent postings", balance, positional("card")),
    Command("residents import", "import a community register CSV (UTF-8 or GBK); --preview first, then --commit TOKEN",
            residents_import, _import_args),
    Command("rule set", "add a rule or change it, now or from --effective-at (the change waits until then)", rule_set, _rule_args),
    Command("rule changes", "every change made to a rule, applied or waiting for its time", rule_changes, positional("code")),
    Command("good set", "add or change a good (name, unit, price in points)", good_set, _good_args),
    Command("good retire", "take a good off every kiosk's shelf", good_retire, positional("sku")),
    Command("shop set", "add or change a shop or service station", shop_set, _shop_set_args),
    Command("shop serves", "set the communities whose residents a shop's kiosks mirror (none: its own)", shop_serves, _serves_args),
    Command("community set", "add or change a community", community_set, _community_args),
    Command("community county", "put a community in a county (none: the default county)", community_county, _community_county_args),
    Command("county set", "add or rename a county (a level above communities)", county_set, _county_args),
    Command("county list", "the counties and how many communities each holds", county_list),
    Command("operator set", f"add or change a kiosk operator (a new one's PIN from ${PIN_ENV})", operator_set, _operator_args),
    Command("operator pin", f"reset an operator's PIN (from ${PIN_ENV}, else 6 digits shown once)", operator_pin, positional("operator")),
    Command("operator retire", "retire an operator: their shop's kiosks refuse their sign-in", operator_retire, positional("operator")),
    Command("review list", "list review items", review_list, _review_list_args),
    Command("review show", "one review item's evidence written for a person (who, where, when, events, balance)", review_show,
            _review_show_args),
    Command("review resolve", "resolve a review item once, or --approve / --decline a proposed resolution (--staff names who)",
            review_resolve, _resolve_args),
    Command("voice list", "list residents' letters (书记信箱) and requests (村民说事)", voice_list, _voice_list_args),
    Command("voice show", "one letter or request: what the resident wrote and every handling step", voice_show, _voice_code),
    Command("voice assign", "give a letter or request to a staff account that may handle it", voice_assign, _voice_assign_args),
    Command("voice reply", "answer a letter or request (the resident's kiosk shows it)", voice_reply, _voice_reply_args),
    Command("voice done", "mark a replied letter or request done: the resident may rate it", voice_done, _voice_code),
    Command("task post", "post a volunteer service task for a community, worth a rule's points", task_post, _task_post_args),
    Command("task list", "list volunteer service tasks with their claims and completions", task_list, _task_list_args),
    Command("task show", "one volunteer task and every claim and completion of it", task_show, positional("task")),
    Command("task close", "close a volunteer task: no more claims count; claims made may still be completed", task_close,
            positional("task")),
    Command("staff add", f"add an account (password from ${PASSWORD_ENV}, else generated and shown once)", staff_add, _staff_add_args),
    Command("staff list", "list accounts", staff_list),
    Command("staff password", f"set an account's password (from ${PASSWORD_ENV}, else generated and shown once; admin's is kept in admin-password.txt) and sign it out everywhere",
            staff_password, positional("username")),
    Command("staff disable", "disable an account and sign it out everywhere", staff_disable, positional("username")),
    Command("staff lockouts", "sign-in lockouts in force (--all: of the last day), by username and client address", staff_lockouts,
            lambda p: p.add_argument("--all", action="store_true", help="also those that ended, of the last day")),
    Command("staff log", "the audit log of staff actions", staff_log, _log_args, acts=False),
    Command("report", "monthly reports and the public board", report, _report_args),
    Command("keys export", "write the published keys (server's, every kiosk's with the receipt seqs each signs), signed by the server key, to FILE",
            keys_export, positional("file", type=Path), acts=False),
    Command("checkpoint", "sign a checkpoint over the whole batch log", make_checkpoint),
)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory (default: %(default)s)")
    common.add_argument("--database", metavar="URL",
                        help="a postgresql:// URL to run on (default: $JIFEN_DATABASE, else server.db in --data)")
    common.add_argument("--json", action="store_true", help="print machine-readable JSON")
    acting = argparse.ArgumentParser(add_help=False)
    acting.add_argument("--staff", help="act as this staff account (its role and scope apply; default: local:<os user>, admin)")
    p = argparse.ArgumentParser(prog="jifen-server", description="Central server of the jifen points programme.")
    groups: dict[tuple[str, ...], argparse._SubParsersAction] = {(): p.add_subparsers(dest="command", required=True)}
    for cmd in COMMANDS:
        *path, leaf = cmd.name.split()
        for depth in range(len(path)):  # a group ("kiosk", "staff", ...) the first time it is named
            key = tuple(path[:depth + 1])
            if key not in groups:
                g = groups[key[:-1]].add_parser(key[-1], help=f"{key[-1]} commands")
                groups[key] = g.add_subparsers(dest=f"{'_'.join(key)}_command", required=True)
        s = groups[tuple(path)].add_parser(leaf, parents=[common, acting] if cmd.acts else [common], help=cmd.help)
        cmd.args(s)
        s.set_defaults(handler=cmd)
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
    os.umask(PRIVATE_UMASK)  # whatever this process creates (databases, backups, reports, logs): its user's only
    args = build_parser().parse_args(argv)
    cmd: Command = args.handler
    flags = {"host": args.host, "port": args.port, "tls_cert": args.cert, "tls_key": args.key} if cmd.name == "serve" else {}
    if args.database:
        flags["database"] = args.database
    settings = Settings.from_env(os.environ, data_dir=args.data, **flags)
    args.password = os.environ.get(PASSWORD_ENV) or None  # read here, at the entry point, for `staff add`
    args.pin = os.environ.get(PIN_ENV) or None  # and for `operator set`, `operator pin`
    try:
        crashpoint.arm(settings.crash_at, "server", kill_self)
    except ValueError as exc:
        print(f"jifen-server: {exc}", file=sys.stderr)
        return 2
    try:
        if not cmd.opens:
            return cmd.run(settings, args)
        ctx = open_context(settings)
        try:
            named = getattr(args, "staff", None)
            who = staff.acting_as(ctx, named) if named else staff.local_principal(os_user())
            return cmd.run(ctx, who, args)
        finally:
            ctx.close()
    except ProtocolError as exc:  # the use cases' refusals (server.errors: not found, forbidden, conflict, ...)
        print(f"jifen-server: {exc.message}", file=sys.stderr)
        return 3 if exc.code == "conflict" else 2
    except (ServerKeyChanged, BackupCorrupt, DatabaseInUse, MigrationRefused, ToolMissing, ToolFailed) as exc:
        print(f"jifen-server: {exc}", file=sys.stderr)
        return 2


def kill_self() -> None:
    """What an armed crash point does: the end a pulled plug gives, with no clean-up."""
    os.kill(os.getpid(), signal.SIGKILL)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment or the password database
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
