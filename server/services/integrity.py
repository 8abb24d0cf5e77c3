"""What a database editor could change with no signature showing it, and how audit sees it.

Batches are signed by kiosks, but the postings and stock moves the server derived from
them, the staff tables, the kiosk key history and the audit log are not. This module:

* re-derives every projected batch's postings and stock moves from its stored signed bytes
  (``sync.projection.rederive``: the projector's own fold) and compares them, row by row, with those stored — a kiosk's
  batches a range at a time (``EFFECTS_CHUNK``), so memory stays bounded at city scale;
* checks that every kiosk key traces to a used enrolment code or to a rotation request
  its previous key signed, and that the server sealed the binding (domain ``kiosk-key``)
  when it made it; rows written before migration 8 carry no trace: a kiosk's first one must
  still name a used enrolment code, a later one is listed as *unproven*;
* checks the audit log's hash chain and that its append-only triggers are the schema's;
* computes the state a checkpoint seals (``sync.checkpoint.state_body``: a digest per
  table of staff, roles and scopes, token hashes, kiosk keys, enrolment codes, resolutions
  and pending ones, and the audit chain's head) and compares the current rows with the
  newest sealed ones: a row added, changed or removed since must be explained by an audit
  row after the sealed head that names it with an action that changes that table.
"""

import re
from dataclasses import dataclass, field

from schema.server_db import MIGRATIONS, POSTGRESQL_TRIGGERS
from schema.types import CENTRAL_KIOSK, GENESIS
from schema.wire import RotateRequest
from server.services.context import Context
from server.store import chain
from server.store import integrity as store
from server.store import ledger
from server.store.staff import audit_chain_rows
from sync import checkpoint as cp
from sync import codec, kinds
from sync.keys import rotate_proof_message
from sync.ledger import Target
from sync.projection import Unprojectable, rederive
from sync.signing import BadKey, BadSignature

#: Batches of one kiosk re-derived per query round.
EFFECTS_CHUNK = 200

#: table -> the audit actions (with the row key's subject) that may add, change or remove a row.
#: Kiosk keys are never changed or removed; new ones are checked by their traces.
EXPLAINED_BY: dict[str, frozenset[str]] = {
    "staff": frozenset({"staff_add", "staff_disable", "staff_password"}),
    "staff_communities": frozenset({"staff_add"}),
    "staff_tokens": frozenset({"sign_in", "sign_out", "staff_disable", "staff_password"}),
    "kiosk_keys": frozenset(),
    "enroll_codes": frozenset({"enroll_code", "kiosk_rotate"}),
    "resolutions": frozenset({"review_resolve", "review_approve"}),
    "pending_resolutions": frozenset({"review_propose", "review_decline", "review_approve"}),
}

#: The append-only triggers as the migrations create them (SQLite keeps the statement text).
APPEND_ONLY_TRIGGERS: dict[str, str] = {
    m.group(2): m.group(1)
    for _, sql in MIGRATIONS for m in re.finditer(r"(CREATE TRIGGER (\w+) .*?END)", sql, re.DOTALL)
}


@dataclass
class Findings:
    failures: list[dict] = field(default_factory=list)
    unproven: list[dict] = field(default_factory=list)  # old key rows no trace was kept for

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, check: str, subject: str, message: str) -> None:
        self.failures.append({"check": check, "subject": subject, "message": message})


# ---------------------------------------------------------------- kiosk key traces


def key_trace(ctx: Context, kiosk: str, public_key: str, from_seq: int, enroll_code: str | None = None,
              rotation: bytes | None = None, rotation_signature: str | None = None) -> dict:
    """The trace a new ``kiosk_keys`` row is stored with, sealed by the server key."""
    sealed = ctx.key.sign("kiosk-key", cp.key_trace(kiosk, public_key, from_seq, enroll_code,
                                                    codec.digest(rotation) if rotation is not None else None))
    return {"enroll_code": enroll_code, "rotation": rotation, "rotation_signature": rotation_signature, "sealed": sealed}


def check_keys(ctx: Context, db, report: Findings) -> None:
    first_traced = store.traces_from(db)
    codes = store.enroll_codes(db)
    by_kiosk: dict[str, list[dict]] = {}
    for row in store.all_key_rows(db):
        by_kiosk.setdefault(row["kiosk"], []).append(row)
    for kiosk in chain.list_kiosks(db):
        rows = by_kiosk.pop(kiosk["id"], [])
        if not rows:
            report.fail("keys", kiosk["id"], f"kiosk {kiosk['id']} has no key history: it was never enrolled")
        for i, row in enumerate(rows):
            _check_key(ctx, report, row, rows[i - 1] if i else None, codes, row["id"] >= first_traced)
    for kiosk, rows in by_kiosk.items():
        report.fail("keys", kiosk, f"{len(rows)} key rows name kiosk {kiosk}, which is not enrolled")


def _check_key(ctx: Context, report: Findings, row: dict, before: dict | None, codes: dict, traced: bool) -> None:
    kiosk, key = row["kiosk"], row["public_key"]
    subject = f"{kiosk}/key {row['id']}"
    what = f"key {key[:12]}… of kiosk {kiosk} (from batch {row['from_seq']})"
    code = codes.get(row["enroll_code"]) if row["enroll_code"] else None
    if not traced:
        if before is None:
            if not any(c["kiosk"] == kiosk and c["used_at"] is not None and c["rekey"] is None for c in codes.values()):
                report.fail("keys", subject, f"{what}: no used enrolment code names kiosk {kiosk}: it was never enrolled")
        else:
            report.unproven.append({"subject": subject, "message": f"{what} was added before traces were kept (schema 8)"})
        return
    rotation = bytes(row["rotation"]) if row["rotation"] is not None else None
    try:
        ctx.verify_key(ctx.key.public_hex).verify(
            "kiosk-key", cp.key_trace(kiosk, key, row["from_seq"], row["enroll_code"],
                                      codec.digest(rotation) if rotation is not None else None), row["sealed"] or "")
    except (BadSignature, BadKey):
        report.fail("keys", subject, f"{what} was not bound by the server: no enrolment or rotation it sealed gives this key")
        return
    if row["enroll_code"] is not None:
        if code is None or code["used_at"] is None or code["kiosk"] != kiosk or (code["rekey"] is None) != (before is None):
            report.fail("keys", subject, f"{what}: its enrolment code is not a used code for kiosk {kiosk}")
    elif rotation is not None and before is not None:
        try:
            req = codec.decode(rotation, RotateRequest)
            ctx.verify_key(before["public_key"]).verify("rotate", rotation, row["rotation_signature"] or "")
            ctx.verify_key(key).verify("rotate", rotate_proof_message(req.kiosk, req.from_seq, req.public_key), req.proof)
            if (req.kiosk, req.public_key, req.from_seq) != (kiosk, key, row["from_seq"]):
                raise BadSignature("the rotation request names another kiosk, key or seq")
        except (codec.DecodeError, BadSignature, BadKey) as exc:
            report.fail("keys", subject, f"{what}: its rotation is not signed by the key before it: {exc}")
    else:
        report.fail("keys", subject, f"{what} traces to no enrolment code and no signed rotation")


# ---------------------------------------------------------------- audit chain and triggers


def check_triggers(db, report: Findings) -> None:
    present = store.triggers(db)
    expected = POSTGRESQL_TRIGGERS if store.dialect(db) == "postgresql" else APPEND_ONLY_TRIGGERS
    for name, sql in expected.items():
        if name not in present:
            report.fail("triggers", name, f"trigger {name} is missing: the audit log is not append-only")
        elif " ".join(present[name].split()) != " ".join(sql.split()):  # the same statement, however laid out
            report.fail("triggers", name, f"trigger {name} differs from the schema's: {present[name]!r}")


def check_audit_chain(db, report: Findings, at_id: int = 0) -> tuple[int, str, str | None]:
    """Check every row's hash follows from the row before; returns (last id, head, the
    stored hash of row ``at_id``)."""
    head, last, at_hash, chained = GENESIS, 0, None, False
    while rows := audit_chain_rows(db, last):
        for r in rows:
            if r["id"] != last + 1:
                report.fail("audit_log", f"audit/{last + 1}", f"audit rows {last + 1}..{r['id'] - 1} were removed")
            expect = cp.audit_row_hash(head, r)
            if r["hash"] is None and chained:
                report.fail("audit_log", f"audit/{r['id']}", f"audit row {r['id']} carries no hash: it was inserted")
            elif r["hash"] is not None:
                chained = True
                if r["hash"] != expect:
                    report.fail("audit_log", f"audit/{r['id']}", f"audit row {r['id']} ({r['action']} {r['subject']}) was "
                                "edited, inserted or follows a removed row: its hash does not follow from the row before")
                expect = r["hash"]
            head, last = expect, r["id"]
            if r["id"] == at_id:
                at_hash = r["hash"] or head
    return last, head, at_hash


# ---------------------------------------------------------------- sealed state


def current_state(db) -> dict[str, dict[str, str]]:
    """{table: {key: row digest}} of every tracked table now."""
    return {t: {r[0]: cp.row_digest(r[1:]) for r in store.tracked_rows(db, t)} for t in store.TRACKED}


def state_tables(rows: dict[str, dict[str, str]]) -> dict[str, str]:
    return {t: cp.table_digest(keyed.items()) for t, keyed in rows.items()}


def seal_state(ctx: Context, db, n: int, audit_id: int, audit_head: str) -> bytes:
    """Sign and store the state of checkpoint ``n``; the row digests replace the last ones."""
    rows = current_state(db)
    body = cp.state_body(n, audit_id, audit_head, state_tables(rows))
    store.insert_state(db, n, body, ctx.key.sign("checkpoint-state", body))
    store.replace_sealed_rows(db, rows)
    return body


def sealed_state(db, n: int) -> tuple[bytes, str] | None:
    """(signed state bytes, signature) of checkpoint ``n``, if it sealed one."""
    row = store.state_of(db, n)
    return (bytes(row["body"]), row["signature"]) if row else None


def check_state(ctx: Context, db, report: Findings) -> tuple[int, str]:
    """Triggers, the audit chain, key traces and the state against the newest sealed one;
    returns the audit chain's (last id, head)."""
    check_triggers(db, report)
    check_keys(ctx, db, report)
    sealed = None
    for row in store.states(db):
        try:
            ctx.verify_key(ctx.key.public_hex).verify("checkpoint-state", bytes(row["body"]), row["signature"])
            sealed = codec.decode(bytes(row["body"]), dict)
        except (BadSignature, codec.DecodeError) as exc:
            report.fail("checkpoint", f"state/{row['n']}", f"the sealed state of checkpoint {row['n']} does not verify: {exc}")
    at_id = sealed["audit"]["id"] if sealed else 0
    last, head, at_hash = check_audit_chain(db, report, at_id)
    if sealed is None:
        return last, head
    n = sealed["n"]
    if at_id and at_hash != sealed["audit"]["head"]:
        report.fail("audit_log", f"audit/{at_id}", f"the audit log up to row {at_id} is not what checkpoint {n} sealed "
                    "(rows edited, removed or inserted before it)")
    old = store.sealed_rows(db)
    if state_tables({t: old.get(t, {}) for t in store.TRACKED}) != sealed["tables"]:
        report.fail("checkpoint", f"state/{n}", f"the row digests kept for checkpoint {n} were changed")
        return last, head
    explained = store.audit_explanations(db, at_id)
    for table, keyed in current_state(db).items():
        before = old.get(table, {})
        for key in sorted(set(keyed) | set(before)):
            if keyed.get(key) == before.get(key):
                continue
            change = "added" if key not in before else "removed" if key not in keyed else "changed"
            if table == "kiosk_keys" and change == "added":
                continue
            subject = key.split("\n")[0]
            if not any((a, subject) in explained for a in EXPLAINED_BY[table]):
                report.fail(table, f"{table}/{key.replace(chr(10), '/')}",
                            f"{table} row {key.replace(chr(10), ' ')!r} was {change} after checkpoint {n} "
                            "with no audit log entry that does so")
    return last, head


# ---------------------------------------------------------------- effects re-derived


def check_effects(db, report: Findings, kiosks: dict[str, dict], unlogged: set[tuple[str, int]] | None = None,
                  unprojected: set[tuple[str, int]] = frozenset()) -> None:
    """Compare every projected batch's stored postings and stock moves with those its
    signed bytes give (only the batches in ``unlogged``, when given); the batches in
    ``unprojected`` are acknowledged and not yet in the ledger."""
    for kiosk_id in sorted(set(kiosks) | {CENTRAL_KIOSK}):
        shop = "" if kiosk_id == CENTRAL_KIOSK else kiosks[kiosk_id]["shop"]
        type_ = kinds.central_batch_type() if kiosk_id == CENTRAL_KIOSK else kinds.batch_type()
        lo, hi = store.kiosk_seq_range(db, kiosk_id)
        if unlogged is not None:
            seqs = [s for k, s in unlogged if k == kiosk_id]
            if not seqs:
                continue
            lo, hi = min(seqs), max(seqs)
        for start in range(lo, hi + 1, EFFECTS_CHUNK):
            _check_range(db, report, kiosk_id, shop, type_, start, min(start + EFFECTS_CHUNK - 1, hi), unprojected)


def _check_range(db, report, kiosk_id, shop, type_, lo, hi, unprojected=frozenset()) -> None:
    posts: dict[int, list] = {}
    for seq, pid, ev, account, amount in store.stored_postings(db, kiosk_id, lo, hi):
        posts.setdefault(seq, []).append((pid, (ev, account, amount)))
    moves: dict[int, list] = {}
    for seq, rowid, ev, s, sku, delta in store.stored_moves(db, kiosk_id, lo, hi):
        moves.setdefault(seq, []).append((rowid, (ev, s, sku, delta)))
    applied = store.award_values_applied(db, kiosk_id, lo, hi)
    for seq, body in store.applied_bodies(db, kiosk_id, lo, hi):
        if (kiosk_id, seq) in unprojected:
            continue
        try:
            events = list(codec.decode(body, type_).events)
        except codec.DecodeError:
            continue  # reported by the chain check
        targets = [kinds.kind_of(ev).target(ev) for ev in events if kinds.kind_of(ev).reverses]
        ids = {ev.id for ev in events}
        stored_targets: dict[str, Target] = ledger.void_targets(db, targets) if targets else {}
        by = store.voided_by(db, targets) if targets else {}
        voided = {t for t, v in by.items() if v is not None and v not in ids}
        stored_targets = {t: v for t, v in stored_targets.items() if t not in ids}
        try:
            want_p, want_m = rederive(events, kiosk_id, shop, stored_targets, voided, applied)
        except Unprojectable as exc:
            report.fail("effects", f"{kiosk_id}/{seq}", f"batch {kiosk_id}/{seq}: {exc}")
            continue
        _compare(report, f"{kiosk_id}/{seq}", "posting", posts.get(seq, []), [(p.event, p.account, p.amount) for p in want_p])
        _compare(report, f"{kiosk_id}/{seq}", "stock move", moves.get(seq, []),
                 [(m.event, m.shop, m.sku, m.delta) for m in want_m])


def _compare(report, subject: str, what: str, stored: list[tuple[int, tuple]], want: list[tuple]) -> None:
    if [r for _, r in stored] == want:
        return
    left = list(want)
    for rowid, r in stored:
        if r in left:
            left.remove(r)
        else:
            report.fail("effects", f"{subject}/{what} {rowid}",
                        f"batch {subject}: stored {what} {rowid} {list(r)} is not what its signed bytes give")
    for r in left:
        report.fail("effects", subject, f"batch {subject}: its signed bytes give {what} {list(r)}, which is not stored")
    if not left and len(stored) == len(want):
        report.fail("effects", subject, f"batch {subject}: its {what}s are stored in another order than written")


def check_caches(db, report: Findings) -> None:
    """The balance and stock caches against the fold of postings and moves (SQLite sums)."""
    folded = {a: p for a, p in ledger.account_sums(db).items() if p}
    cached = {a: p for a, p in ledger.balance_cache(db).items() if p}
    for account in sorted(set(folded) | set(cached)):
        if folded.get(account, 0) != cached.get(account, 0):
            report.fail("balances", account, f"cache says {cached.get(account, 0)}, postings sum to {folded.get(account, 0)}")
    sfold = {k: q for k, q in ledger.stock_fold(db).items() if q}
    scache = {k: q for k, q in ledger.stock_cache(db).items() if q}
    for key in sorted(set(sfold) | set(scache)):
        if sfold.get(key, 0) != scache.get(key, 0):
            report.fail("stock", "/".join(key), f"cache says {scache.get(key, 0)}, stock moves sum to {sfold.get(key, 0)}")
