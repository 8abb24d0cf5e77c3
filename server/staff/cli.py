"""The staff subcommands of ``jifen-server``: ``staff``, ``review list|resolve``,
``report``, ``checkpoint``, ``residents import``, ``kiosk rotate|keys``.

Whoever runs these can read the data folder, so they act as the built-in ``system``
admin unless ``--staff USER`` names the account to act (and be audited) as; the role and
community scope of that account then apply exactly as over the API.
Exit status: 0 done, 2 bad input or not allowed, 3 conflict (already resolved, taken).
"""

import json
import os
import sys
from pathlib import Path

from schema.wire import CheckpointRec
from server.errors import Invalid
from server.reports.render import FORMATS, render
from server.services import checkpoint, manage, reports, review, rotate, staff
from server.services.audit import audit
from server.services.staff import ROLES, SYSTEM
from sync import codec

PASSWORD_ENV = "JIFEN_STAFF_PASSWORD"


def add_parsers(sub, review_sub, common) -> None:
    s = sub.add_parser("staff", help="central staff accounts and the audit log of their actions")
    ssub = s.add_subparsers(dest="staff_command", required=True)
    a = ssub.add_parser("add", parents=[common], help=f"add an account (password from ${PASSWORD_ENV}, else generated and shown once)")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--community", action="append", default=[], help="a community a community_manager manages (repeatable)")
    ssub.add_parser("list", parents=[common], help="list accounts")
    d = ssub.add_parser("disable", parents=[common], help="disable an account and sign it out everywhere")
    d.add_argument("username")
    lg = ssub.add_parser("log", parents=[common], help="the audit log of staff actions")
    lg.add_argument("--staff", dest="who")
    lg.add_argument("--action")
    lg.add_argument("--since", type=int, default=0, help="only entries after this id")

    r = review_sub.add_parser("resolve", parents=[common], help="resolve a review item once")
    r.add_argument("item", type=int)
    r.add_argument("--action", required=True, choices=review.ACTIONS)
    r.add_argument("--points", type=int)
    r.add_argument("--note", required=True)
    r.add_argument("--staff", required=True, help="the staff account resolving it")

    p = sub.add_parser("report", parents=[common], help="monthly reports and the public board")
    p.add_argument("kind", choices=reports.KINDS)
    p.add_argument("--month", required=True, help="YYYY-MM (Asia/Shanghai)")
    p.add_argument("--community")
    p.add_argument("--format", dest="fmt", choices=list(FORMATS), default="json")
    p.add_argument("--output", type=Path, help="write to this file instead of stdout")
    p.add_argument("--staff", help="act as this staff account (its scope applies)")
    p.add_argument("--publish", action="store_true", help="(board) also publish it to the kiosks' feed")

    c = sub.add_parser("checkpoint", parents=[common], help="sign a checkpoint over the whole batch log")
    c.add_argument("--staff")

    sub.choices["audit"].add_argument(
        "--held", type=Path, metavar="FILE",
        help="also prove checkpoints kept elsewhere (a JSON list of a kiosk's pulled checkpoints) against the stored log")

    k = sub.add_parser("kiosk", help="kiosk keys")
    ksub = k.add_subparsers(dest="kiosk_command", required=True)
    kr = ksub.add_parser("rotate", parents=[common], help="retire a kiosk's key now (it may have leaked) and issue a re-enrolment code for a new one")
    kr.add_argument("kiosk")
    kr.add_argument("--staff")
    kk = ksub.add_parser("keys", parents=[common], help="every key a kiosk has held and the batches each signs")
    kk.add_argument("kiosk")

    rs = sub.add_parser("residents", help="resident register")
    rsub = rs.add_subparsers(dest="residents_command", required=True)
    i = rsub.add_parser("import", parents=[common], help="import a community register CSV; reports refused rows")
    i.add_argument("file", type=Path)
    i.add_argument("--community", help="community of every row (else a 'community' column)")
    i.add_argument("--staff")


def who(ctx, args):
    name = getattr(args, "staff", None)
    return staff.acting_as(ctx, name) if name else SYSTEM


def run(ctx, args, emit) -> int | None:
    """Handle a staff subcommand; None when ``args`` is not one of them."""
    cmd = args.command
    if cmd == "staff":
        return _staff(ctx, args, emit)
    if cmd == "review" and args.review_command == "list":
        rows = review.list_items(ctx, SYSTEM, args.open, None, with_evidence=args.json)
        return emit(args, rows, "\n".join(f"{r['id']}\t{r['kind']}\t{r['status']}\t{r['kiosk'] or ''}\t{r['event'] or ''}\t"
                                          f"{json.dumps(r['detail'], ensure_ascii=False)}" for r in rows))
    if cmd == "review" and args.review_command == "resolve":
        out = review.resolve(ctx, who(ctx, args), args.item, args.action, args.note, args.points)
        return emit(args, out, f"review item {out['review']} resolved: {out['action']}"
                    + (f", {out['points']} points ({out['event']})" if out["event"] else ""))
    if cmd == "report":
        return _report(ctx, args, emit)
    if cmd == "checkpoint":
        out = checkpoint.make_checkpoint(ctx, who(ctx, args))
        return emit(args, out, f"checkpoint {out['n']}: {out['size']} batches, head {out['head']}" + ("" if out["new"] else " (unchanged)"))
    if cmd == "kiosk" and args.kiosk_command == "rotate":
        out = rotate.force_rotate(ctx, who(ctx, args), args.kiosk)
        return emit(args, out, f"kiosk {out['kiosk']}: key retired from batch {out['from_seq']}; re-enrolment code {out['code']} "
                               f"(on the kiosk: jifen-kiosk rotate-key --code {out['code']})")
    if cmd == "kiosk" and args.kiosk_command == "keys":
        rows = rotate.key_history(ctx, SYSTEM, args.kiosk)
        return emit(args, rows, "\n".join(f"{r['public_key']}\tfrom batch {r['from_seq']}\t{'retired' if r['retired_at'] else 'current'}" for r in rows))
    if cmd == "audit" and args.held:
        return _audit_held(ctx, args, emit)
    if cmd == "residents":
        out = manage.import_residents(ctx, who(ctx, args), args.file.read_text(encoding="utf-8-sig"), args.community)
        lines = [f"line {r['line']}\t{r['card']}\t{r['reason']}" for r in out["refused"]]
        lines.append(f"{out['added']} added, {out['updated']} updated, {out['unchanged']} unchanged, {len(out['refused'])} refused")
        return emit(args, out, "\n".join(lines))
    return None


def _staff(ctx, args, emit) -> int:
    c = args.staff_command
    if c == "add":
        out = staff.add_staff(ctx, SYSTEM, args.username, args.role, os.environ.get(PASSWORD_ENV) or None, args.community)
        text = f"staff {out['username']} ({out['role']}) added"
        if "password" in out:
            text += f"; password {out['password']} (shown once)"
        return emit(args, out, text)
    if c == "list":
        rows = staff.list_staff(ctx, SYSTEM)
        return emit(args, rows, "\n".join(f"{r['username']}\t{r['role']}\t{r['status']}\t{','.join(r['communities'])}" for r in rows))
    if c == "disable":
        out = staff.disable_staff(ctx, SYSTEM, args.username)
        return emit(args, out, f"staff {out['username']} disabled ({out['tokens_revoked']} tokens revoked)")
    rows = staff.audit_log(ctx, SYSTEM, args.who, args.action, args.since)
    return emit(args, rows, "\n".join(f"{r['id']}\t{r['at']}\t{r['staff']}\t{r['action']}\t{r['subject'] or ''}\t"
                                      f"{json.dumps(r['detail'], ensure_ascii=False, sort_keys=True)}" for r in rows))


def _report(ctx, args, emit) -> int:
    principal = who(ctx, args)
    if args.publish:
        if args.kind != "board":
            raise Invalid("--publish is for the board")
        reports.publish_board(ctx, principal, args.month)
    out = reports.report(ctx, principal, args.kind, args.month, args.community)
    fmt = "json" if args.json else args.fmt
    text = render(out, fmt)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _audit_held(ctx, args, emit) -> int:
    """``audit --held FILE``: the usual audit, plus each checkpoint in FILE (as a kiosk keeps
    them) proven against the server's log. Exit 1 on any failure."""
    raw = json.loads(args.held.read_text(encoding="utf-8"))
    held = [codec.decode(json.dumps(r).encode(), CheckpointRec) for r in (raw if isinstance(raw, list) else [raw])]
    report = audit(ctx)
    for rec in held:
        for f in checkpoint.check_held(ctx, rec):
            report.fail(f["check"], f["subject"], f["message"])
    out = report.as_dict() | {"held_checkpoints": len(held)}
    text = "\n".join([f"{f['check']}\t{f['subject']}\t{f['message']}" for f in report.failures]
                     + [f"audit {'passed' if report.ok else 'FAILED'}: {report.batches} batches, {len(held)} held checkpoints, "
                        f"{len(report.failures)} failures"])
    emit(args, out, text)
    return 0 if report.ok else 1
