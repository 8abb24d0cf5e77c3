"""Audit: re-derive everything the server believes from the stored signed bytes.

Every stored batch must verify under the key its kiosk held for that batch's seq
(``kiosk_keys``: a rotated kiosk's old batches under its old key), or the server key for
central batches, over the exact stored bytes; each kiosk's applied batches must form an unbroken
hash chain 1..n that ends where ``kiosks`` says; the events rows must be the events in
those bytes; every event's postings must sum to zero; and the balance and stock caches
must equal the fold of postings and stock moves; the month sums the reports read
(``server.store.reports``) must be the sums of the postings they cover; and every signed checkpoint must be the
chain over the batches and postings stored now (``server.services.checkpoint``).
What no kiosk signs is checked by ``server.services.integrity``: every batch's postings and
stock moves re-derived from its signed bytes, every kiosk key's trace to an enrolment or a
signed rotation, the audit log's hash chain and triggers, and the staff-side state against
the newest checkpoint's. Any difference is a failure.
"""

from dataclasses import dataclass

from schema.types import CENTRAL_KIOSK, GENESIS
import json

from server.services.checkpoint import check_checkpoints
from server.services.context import Context
from server.services.integrity import Findings, check_caches, check_effects, check_state
from server.services.staff import Principal, record, require
from server.store import catalog, chain, ledger, log
from server.store import reports as sums
from sync import codec, kinds
from sync.keys import key_for_seq
from sync.signing import BadKey, BadSignature, VerifyKey


@dataclass
class AuditReport(Findings):
    batches: int = 0
    kiosks: int = 0
    events: int = 0
    postings: int = 0
    unprojected: int = 0  # batches acknowledged and not yet projected when the audit read

    def as_dict(self) -> dict:
        return {"ok": self.ok, "batches": self.batches, "kiosks": self.kiosks, "events": self.events,
                "postings": self.postings, "unprojected": self.unprojected, "failures": self.failures,
                "unproven": self.unproven}


#: where the last staff-run audit's outcome is kept (``meta``), for pages that cannot wait for one
LAST_AUDIT = "last_audit"


def run_audit(ctx: Context, who: Principal) -> dict:
    """The audit run by a staff member: its outcome is kept (``last_result``) and audited."""
    require(who, "audit.run")
    report = audit(ctx)
    out = {"at": ctx.now(), "by": who.username} | report.as_dict()
    summary = {k: out[k] for k in ("at", "by", "ok", "batches", "kiosks", "events", "postings")} | {"failures": len(report.failures)}
    with ctx.store.write() as db:
        catalog.set_meta_value(db, LAST_AUDIT, json.dumps(summary))
        record(db, ctx, who, "audit_run", None, {"ok": report.ok, "failures": len(report.failures)})
    return out


def last_result(ctx: Context, who: Principal) -> dict | None:
    """The outcome of the last staff-run audit (``at``, ``by``, ``ok``, counts, number of
    ``failures``), or None if none was run."""
    require(who, "report.read")
    with ctx.store.read() as db:
        kept = catalog.meta_value(db, LAST_AUDIT)
    return json.loads(kept) if kept else None


def audit(ctx: Context) -> AuditReport:
    """The whole audit; one kiosk's batches in memory at a time."""
    report = AuditReport()
    with ctx.store.read() as db:
        kiosks = {k["id"]: k for k in chain.list_kiosks(db)}
        unprojected = log.unprojected(db)  # acknowledged, not yet in the ledger (background projection)
        for kiosk_id in sorted(set(chain.batch_kiosks(db)) | set(kiosks)):
            rows = chain.batches_in_order(db, kiosk_id)
            stored_events = ledger.event_ids_by_batch(db, kiosk_id)
            check_kiosk_chain(ctx, report, kiosk_id, kiosks, rows, stored_events, chain.key_history(db, kiosk_id), unprojected)
            report.batches += len(rows)
            report.events += sum(len(v) for v in stored_events.values())
        check_ledger(db, report)
        check_month_sums(db, report)
        check_effects(db, report, {k: v for k, v in kiosks.items() if k != CENTRAL_KIOSK}, unprojected=unprojected)
        report.unprojected = len(unprojected)
        check_checkpoints(ctx, db, report)
        check_state(ctx, db, report)
    report.kiosks = len(kiosks)
    return report


def check_kiosk_chain(ctx: Context, report: AuditReport, kiosk_id: str, kiosks: dict, rows: list[dict], stored_events: dict,
                      key_history: list[tuple[int, str]], unprojected: set[tuple[str, int]] = frozenset()) -> None:
    if kiosk_id == CENTRAL_KIOSK:
        key, domain, type_ = ctx.key.public_hex, "central", kinds.central_batch_type()
    elif kiosk_id in kiosks:
        key, domain, type_ = key_history, "batch", kinds.batch_type()
        if not key or key_for_seq(key, 2**53) != kiosks[kiosk_id]["public_key"]:
            report.fail("keys", kiosk_id, "the kiosk's current key is not the newest in its key history")
    else:
        report.fail("chain", kiosk_id, f"{len(rows)} stored batches name kiosk {kiosk_id}, which is not enrolled")
        return
    last_hash, next_kseq = check_chain(ctx, report, kiosk_id, rows, key, domain, type_, stored_events, unprojected)
    if kiosk_id in kiosks:
        k = kiosks[kiosk_id]
        applied = sum(1 for r in rows if r["status"] == "applied")
        if (k["next_seq"], k["last_hash"], k["next_kseq"]) != (applied + 1, last_hash, next_kseq):
            report.fail("chain", kiosk_id, f"kiosks row says next seq {k['next_seq']}, last hash {k['last_hash'][:12]}…, "
                        f"next event seq {k['next_kseq']}; the stored batches say {applied + 1}, {last_hash[:12]}…, {next_kseq}")


def check_chain(ctx, report, kiosk_id, rows, key, domain, type_, stored_events, unprojected=frozenset()) -> tuple[str, int]:
    """Check one kiosk's stored batches; return (last applied hash, next event seq).
    ``key`` is the signing key, or a kiosk's key history: each batch verifies under the
    key valid for its seq (sync.keys)."""
    prev, expect_seq, next_kseq = GENESIS, 1, 1
    for row in rows:
        subject = f"{kiosk_id}/{row['seq']}"
        body = bytes(row["body"])
        try:
            signer = key if isinstance(key, str) else key_for_seq(key, row["seq"])
            if signer is None:
                raise BadSignature(f"no key of kiosk {kiosk_id} covers batch {row['seq']}")
            ctx.verify_key(signer).verify(domain, body, row["signature"])
        except (BadSignature, BadKey) as exc:
            report.fail("signature", subject, str(exc))
        if codec.digest(body) != row["hash"]:
            report.fail("hash", subject, "stored hash is not the SHA-256 of the stored bytes")
        try:
            batch = codec.decode(body, type_)
        except codec.DecodeError as exc:
            report.fail("decode", subject, exc.message)
            continue
        if (batch.seq, batch.prev) != (row["seq"], row["prev"]) or getattr(batch, "kiosk", kiosk_id) != kiosk_id:
            report.fail("decode", subject, "the bytes name a different kiosk, seq or prev than the row")
        if row["status"] != "applied":
            continue
        if row["seq"] != expect_seq:
            report.fail("chain", subject, f"applied batch {row['seq']} where {expect_seq} was expected")
        if batch.prev != prev:
            report.fail("chain", subject, "prev does not match the hash of the batch before it")
        ids = [ev.id for ev in batch.events]
        if (kiosk_id, row["seq"]) not in unprojected and stored_events.get((kiosk_id, row["seq"]), []) != ids:
            report.fail("events", subject, "the events table does not hold exactly this batch's events")
        prev, expect_seq = row["hash"], row["seq"] + 1
        next_kseq = batch.events[-1].kseq + 1 if batch.events else next_kseq
    return prev, next_kseq


def check_ledger(db, report: AuditReport) -> None:
    for event, total in ledger.unbalanced_events(db):
        report.fail("postings", event, f"postings sum to {total}, not 0")
    report.postings = ledger.posting_count(db)
    check_caches(db, report)


def check_month_sums(db, report: AuditReport) -> None:
    """Each month sum (``flow_sums``, ``card_sums``, ``shop_sums``, ``goods_sums``) against the
    postings up to the sums' mark: an edited, added or missing row is named."""
    for table, key, held, given in sums.sums_drift(db):
        counted = sums.SUMS[table][1]

        def said(values) -> str:
            return "no row" if values is None else ", ".join(f"{c} {v}" for c, v in zip(counted, values, strict=True))
        report.fail("month sums", f"{table} {'/'.join(str(k) for k in key)}",
                    f"the table holds {said(held)}; the postings it sums give {said(given)}")
