"""The register import: a community register CSV, as Chinese spreadsheet software writes
it, previewed and then committed exactly as previewed, all or nothing.

The upload is bytes: UTF-8 (with or without a byte-order mark) or GBK/GB18030, found by
trying strict UTF-8 first, then GB18030; text that decodes under neither, or decodes to
replacement, control or private-use characters, is refused whole — nothing is ever stored
garbled. Headers in Chinese or English (卡号,姓名,手机,社区[,状态] or
card,name,phone,community[,status]); ``community`` may instead be given for the file.

``preview`` says what would be added, changed (before and after) and refused (each with
its line and the reason in words) and returns a ``token``: a SHA-256 over the upload, the
community, the acting staff account and that plan. ``commit`` takes the same bytes and the
token, plans again inside its write transaction and applies only if the plan is the one
previewed — if the file, a resident or the staff account's reach changed meanwhile, it
refuses plainly and applies nothing. Everything it applies, its feed rows and its audit
row are one transaction. ``import_residents`` is both at once (the one-step import).
"""

import csv
import hashlib
import io
import json
import re
import unicodedata

from server.errors import Conflict, Invalid
from server.reports.labels import refusal
from server.services import feed
from server.services.context import Context
from server.services.manage import resident_problem
from server.services.staff import Principal, record, require, scope_filter
from server.store import catalog
from sync import codes

#: the largest register accepted (a community's register is a few thousand lines)
MAX_REGISTER_BYTES = 2 * 1024 * 1024
MAX_ROWS = 50_000
#: the longest value of any column (a name is at most 100)
MAX_FIELD_CHARS = 200
#: header as written (after NFKC, trimmed, lower case) -> column
HEADERS = {
    "card": "card", "卡号": "card", "居民卡号": "card",
    "name": "name", "姓名": "name", "名字": "name",
    "phone": "phone", "手机": "phone", "手机号": "phone", "手机号码": "phone", "电话": "phone",
    "community": "community", "社区": "community", "社区编号": "community",
    "status": "status", "状态": "status",
}
#: status as written -> stored
STATUS_WORDS = {"": "active", "active": "active", "在册": "active", "在用": "active", "有效": "active",
                "retired": "retired", "注销": "retired", "已注销": "retired", "停用": "retired"}
BAD_CATEGORIES = ("Cc", "Cf", "Co", "Cs", "Cn")


def decode_register(content: bytes) -> tuple[str, str]:
    """(text, encoding name) of an uploaded register; ``Invalid`` naming the problem when it
    is too large, neither UTF-8 nor GB18030, or holds characters no register has."""
    if len(content) > MAX_REGISTER_BYTES:
        raise Invalid(f"the register is {len(content)} bytes; at most {MAX_REGISTER_BYTES} bytes per import",
                      bytes=len(content), limit=MAX_REGISTER_BYTES)
    if not content.strip():
        raise Invalid("the register is empty")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Invalid("the register is UTF-16 text (\"Unicode text\"): save it as CSV (UTF-8) or CSV and try again")
    text, encoding = None, None
    for name in ("utf-8-sig", "gb18030"):
        try:
            text, encoding = content.decode(name), ("utf-8" if name == "utf-8-sig" else name)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise Invalid("the register is neither UTF-8 nor GBK/GB18030 text: save it as CSV (UTF-8) and try again")
    for n, line in enumerate(text.splitlines(), start=1):
        bad = next((ch for ch in line if ch == "\ufffd" or (unicodedata.category(ch) in BAD_CATEGORIES and ch != "\t")), None)
        if bad is not None:
            raise Invalid(f"line {n} holds a character U+{ord(bad):04X} that no register has: the file is not "
                          f"{encoding} text as saved, or is damaged", line=n, encoding=encoding)
    return text, encoding


def _rows(text: str, community: str | None):
    """(line, row or None, refusal or None) for each data line; ``Invalid`` for a bad header."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise Invalid(f"the header line is not CSV: {exc}") from None
    columns = [HEADERS.get(unicodedata.normalize("NFKC", h).strip().lower()) for h in header]
    missing = [c for c in ("card", "name", "phone") if c not in columns] + ([] if community or "community" in columns else ["community"])
    if missing:
        raise Invalid(f"the CSV header lacks {', '.join(missing)} (卡号,姓名,手机,社区 or card,name,phone,community)",
                      columns=",".join(h[:20] for h in header)[:200])
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # an unclosed quote, a value past the csv module's own limit (128 KiB)
            why = f"a value longer than {MAX_FIELD_CHARS} characters" if "field limit" in str(exc) else f"not CSV ({exc})"
            raise Invalid(f"line {reader.line_num} holds {why}: nothing was imported", line=reader.line_num) from None
        line = reader.line_num
        if line > MAX_ROWS + 1:
            raise Invalid(f"at most {MAX_ROWS} rows per import", limit=MAX_ROWS)
        if not any(v.strip() for v in values):
            continue
        if any(len(v) > MAX_FIELD_CHARS for v in values):
            yield line, None, ("field_too_long", {"limit": MAX_FIELD_CHARS})
            continue
        if len(values) > len(columns):
            yield line, None, ("extra_values", {})
            continue
        raw = {c: v for c, v in zip(columns, values) if c}
        status = raw.get("status", "").strip()
        yield line, {
            "card": codes.normalise_or_keep("card", raw.get("card")).strip(),
            "name": unicodedata.normalize("NFC", raw.get("name") or "").strip(),
            "phone": re.sub(r"[\s-]", "", codes.clean(raw.get("phone") or "")),
            "community": codes.clean(raw.get("community") or "") or community,
            "status": STATUS_WORDS.get(status.lower(), status),
        }, None


def _plan(db, who: Principal, text: str, community: str | None, lang: str) -> dict:
    added, changed, refused, seen = [], [], [], {}
    unchanged = 0
    lines = list(_rows(text, community))
    # the communities and the residents the register names, read in bulk (one query per 500 cards)
    rows = {"communities": {c["id"]: c for c in catalog.list_rows(db, "communities")},
            "residents": catalog.rows_by_keys(db, "residents", [r["card"] for _, r, _ in lines if r])}

    def known(table: str, key: str) -> dict | None:
        return rows[table].get(key)

    for line, row, problem in lines:
        card = row["card"] if row else ""
        if row is not None:
            problem = resident_problem(db, row, who, known)
            if problem is None and card in seen:
                problem = ("duplicate", {"card": card, "line": seen[card]})
        if problem:
            code, fields = problem
            refused.append({"line": line, "card": card[:40], "code": code, "reason": refusal(code, fields, lang)})
            continue
        seen[card] = line
        old = known("residents", card)
        if old is None:
            added.append({"line": line} | row)
        elif any(old.get(k) != v for k, v in row.items()):
            changed.append({"line": line, "card": card, "before": {k: old.get(k) for k in row}, "after": row})
        else:
            unchanged += 1
    return {"added": added, "changed": changed, "unchanged": unchanged, "refused": refused}


def _token(content: bytes, community: str | None, who: Principal, plan: dict) -> str:
    bound = {"content": hashlib.sha256(content).hexdigest(), "community": community, "staff": who.username,
             "added": plan["added"], "changed": plan["changed"], "unchanged": plan["unchanged"],
             "refused": [(r["line"], r["card"], r["code"]) for r in plan["refused"]]}
    return hashlib.sha256(json.dumps(bound, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _start(who: Principal, community: str | None) -> str | None:
    require(who, "resident.write")
    if community is not None:
        community = codes.clean(community)
        scope_filter(who, community)
    return community


def preview(ctx: Context, who: Principal, content: bytes, community: str | None = None, lang: str = "zh") -> dict:
    """What importing ``content`` would do, changing nothing: ``added`` rows, ``changed``
    (``before``/``after``), ``refused`` (``line``, ``card``, ``code``, ``reason`` in ``lang``),
    ``counts``, the ``encoding`` found, and the ``token`` that ``commit`` needs."""
    community = _start(who, community)
    text, encoding = decode_register(content)
    with ctx.store.read() as db:
        plan = _plan(db, who, text, community, lang)
    counts = {"added": len(plan["added"]), "changed": len(plan["changed"]), "unchanged": plan["unchanged"],
              "refused": len(plan["refused"])}
    return plan | {"token": _token(content, community, who, plan), "encoding": encoding, "community": community,
                   "counts": counts, "rows": sum(counts.values())}


def commit(ctx: Context, who: Principal, content: bytes, token: str | None, community: str | None = None,
           lang: str = "zh") -> dict:
    """Apply exactly what ``preview`` showed for the same ``content`` under ``token``:
    ``Conflict`` (nothing applied) when the plan is no longer that one. ``token`` None
    applies whatever the plan is now (the one-step import)."""
    community = _start(who, community)
    text, encoding = decode_register(content)
    with ctx.store.write() as db:
        plan = _plan(db, who, text, community, lang)
        now_token = _token(content, community, who, plan)
        if token is not None and token != now_token:
            raise Conflict("the register or the residents it names changed since the preview: preview it again "
                           "(nothing was imported)", token=token[:64])
        for row in plan["added"] + [c["after"] for c in plan["changed"]]:
            row = {k: row[k] for k in ("card", "name", "phone", "community", "status")}
            if catalog.row_by_key(db, "residents", row["card"]) is None:
                catalog.insert_row(db, "residents", row)
            else:
                catalog.update_row(db, "residents", row)
            feed.publish_rows(db, "resident", [row])
        counts = {"added": len(plan["added"]), "updated": len(plan["changed"]), "unchanged": plan["unchanged"]}
        record(db, ctx, who, "residents_import", community, counts | {"refused": len(plan["refused"]), "encoding": encoding})
    refused = [{k: r[k] for k in ("line", "card", "code", "reason")} for r in plan["refused"]]
    return counts | {"refused": refused, "rows": sum(counts.values()) + len(refused), "token": now_token, "encoding": encoding}


def import_residents(ctx: Context, who: Principal, content: bytes | str, community: str | None = None,
                     lang: str = "zh") -> dict:
    """The one-step import: plan and apply in one transaction (refused rows are reported and
    skipped, the rest applied together)."""
    return commit(ctx, who, content.encode("utf-8") if isinstance(content, str) else content, None, community, lang)
