"""Signed checkpoints of the server's whole batch log (docs/PROTOCOL.md § 10).

``make_checkpoint`` appends every applied batch not yet logged (in the order they were
applied) to the checkpoint log, each as a leaf committing to the batch's exact bytes and
the postings and stock moves derived from it; then signs (domain ``checkpoint``) the
log's size and chain head, stores that, and publishes it in the feed (kind
``checkpoint``), so every kiosk keeps copies.

``check_checkpoints`` (run by ``audit``) recomputes every leaf from the stored batches and
postings, and proves each stored checkpoint's head is the chain over the first ``size``
leaves: so each newer checkpoint extends the older ones, and an edited or deleted batch
or posting shows as a failure. ``check_held`` does the same for a checkpoint held outside
the server (a kiosk's copy), which survives an attacker rewriting the server's own.

Each checkpoint from schema 17 on is also a Merkle tree head over the same leaves, signed
as a C2SP note (``server.services.tree``, docs/PROTOCOL.md § 13), which audit checks too.

Each checkpoint from schema 8 on also seals the staff-side state (``server.services.
integrity``, signed under domain ``checkpoint-state``, docs/PROTOCOL.md § 10), and none is
signed over what fails those checks (``SealRefused``). A checkpoint is signed again when
that state changed even if no batch was added.
"""

from schema.types import CENTRAL_KIOSK, GENESIS
from schema.wire import CheckpointBody, CheckpointRec
from server.errors import SealRefused
from server.services import feed, integrity, tree
from server.services.context import Context
from server.services.staff import SYSTEM, Principal, record, require
from server.store import chain
from server.store import checkpoints as store
from sync import checkpoint as cp
from sync import codec
from sync.signing import BadSignature

#: Batches logged per write transaction (about 4 ms each at 500 events a batch).
LOG_CHUNK = 100


def leaf_of(db, kiosk: str, seq: int, body: bytes) -> str:
    postings, moves = store.batch_effects(db, kiosk, seq)
    return cp.leaf(kiosk, seq, codec.digest(body), cp.effects_digest(postings, moves))


def make_checkpoint(ctx: Context, who: Principal = SYSTEM) -> dict:
    """Log new batches and sign a checkpoint; the latest one again if nothing was added."""
    require(who, "checkpoint.make")
    refuse_over_failures(ctx)
    while _log_some(ctx):  # short transactions: pushes go on between them
        pass
    with ctx.store.write() as db:
        size, head = store.log_head(db)
        latest = store.latest_checkpoint(db)
        findings = integrity.Findings()
        audit_id, audit_head = integrity.check_state(ctx, db, findings)  # again, under the write lock
        if findings.failures:
            raise SealRefused(findings.failures)
        if latest is not None and latest["size"] == size and _state_unchanged(db, latest["n"], audit_id, audit_head):
            tree.ensure(ctx, db, latest)
            return _view(latest, new=False, state=integrity.sealed_state(db, latest["n"]))
        n, now = (latest["n"] + 1 if latest else 1), ctx.now()
        body = cp.body(n, size, head, now)
        signature = ctx.key.sign("checkpoint", body)
        store.insert_checkpoint(db, n, size, head, now, body, signature)
        integrity.seal_state(ctx, db, n, audit_id, audit_head)
        tree.seal(ctx, db, n, size)
        rec = CheckpointRec(v=1, n=n, size=size, head=head, at=now, signature=signature)
        feed.publish(db, "checkpoint", rec)
        if who is not SYSTEM:
            record(db, ctx, who, "checkpoint", str(n), {"size": size, "head": head})
        return _view(store.latest_checkpoint(db), new=True, state=integrity.sealed_state(db, n))


def refuse_over_failures(ctx: Context) -> None:
    """Raise ``SealRefused`` when a batch about to be logged has stored postings or stock
    moves that differ from its signed bytes (batches already logged are held by their
    leaves, ``check_checkpoints``). The staff-side state is checked under the write lock."""
    findings = integrity.Findings()
    with ctx.store.read() as db:
        todo = {(k, s) for k, s, _ in store.unlogged_batches(db)}
        kiosks = {k["id"]: k for k in chain.list_kiosks(db) if k["id"] != CENTRAL_KIOSK}
        integrity.check_effects(db, findings, kiosks, todo)
    if findings.failures:
        raise SealRefused(findings.failures)


def _state_unchanged(db, n: int, audit_id: int, audit_head: str) -> bool:
    """Whether checkpoint ``n`` sealed the state as it is now."""
    sealed = integrity.sealed_state(db, n)
    return sealed is not None and sealed[0] == cp.state_body(n, audit_id, audit_head, integrity.state_tables(integrity.current_state(db)))


def _log_some(ctx: Context, limit: int = LOG_CHUNK) -> int:
    """Append up to ``limit`` applied batches to the log; how many were appended."""
    with ctx.store.write() as db:
        size, head = store.log_head(db)
        todo = store.unlogged_batches(db, limit)
        for kiosk, seq, _ in todo:
            body, _ = store.stored_batch(db, kiosk, seq)
            lf = leaf_of(db, kiosk, seq, body)
            size, head = size + 1, cp.extend(head, [lf])
            store.append_log(db, size, kiosk, seq, lf, head)
        tree.grow(db, size)
    return len(todo)


def list_checkpoints(ctx: Context, who: Principal) -> list[dict]:
    require(who, "report.read")
    with ctx.store.read() as db:
        return [_view(r, state=integrity.sealed_state(db, r["n"])) for r in store.all_checkpoints(db)]


def latest(ctx: Context, who: Principal) -> dict | None:
    """The last signed checkpoint, or None before the first."""
    require(who, "report.read")
    with ctx.store.read() as db:
        row = store.latest_checkpoint(db)
    return _view(row) if row else None

def _view(row: dict, new: bool | None = None, state: tuple[bytes, str] | None = None) -> dict:
    """A checkpoint for people: its fields, signed bytes and (schema 8 on) the signed state."""
    out = {k: row[k] for k in ("n", "size", "head", "at", "signature")}
    out["body"] = bytes(row["body"]).decode()
    if state is not None:
        out["state"], out["state_signature"] = state[0].decode(), state[1]
    if new is not None:
        out["new"] = new
    return out


def recomputed_heads(db, report, leaves: list[str] | None = None) -> list[str]:
    """heads[i] = chain head over the first i leaves, recomputed from stored batches and
    postings (appended to ``leaves`` when given); every difference from the stored log is reported."""
    heads, leaves = [GENESIS], [] if leaves is None else leaves
    for n, kiosk, seq, leaf, _ in store.log_rows(db):
        subject = f"{kiosk}/{seq}"
        if n != len(heads):
            report.fail("checkpoint", f"log/{n}", f"log position {n} where {len(heads)} was expected (a removed entry)")
        stored = store.stored_batch(db, kiosk, seq)
        if stored is None or stored[1] != "applied":
            report.fail("checkpoint", subject, f"log position {n} names batch {subject}, which is no longer stored")
            lf = leaf  # carry on with the recorded leaf so later positions are still checked
        else:
            lf = leaf_of(db, kiosk, seq, stored[0])
            if lf != leaf:
                report.fail("checkpoint", subject, f"batch {subject} or its postings/stock moves changed since it was checkpointed")
        heads.append(cp.extend(heads[-1], [lf]))
        leaves.append(lf)
    return heads


def check_checkpoints(ctx: Context, db, report) -> None:
    leaves: list[str] = []
    heads = recomputed_heads(db, report, leaves)
    tree.check_tree(ctx, db, report, leaves)
    prev_size, prev_n = 0, 0
    for row in store.all_checkpoints(db):
        subject = f"checkpoint/{row['n']}"
        body = bytes(row["body"])
        try:
            ctx.verify_key(ctx.key.public_hex).verify("checkpoint", body, row["signature"])
        except BadSignature as exc:
            report.fail("checkpoint", subject, f"signature: {exc}")
        try:
            b = codec.decode(body, CheckpointBody)
        except codec.DecodeError as exc:
            report.fail("checkpoint", subject, exc.message)
            continue
        if (b.n, b.size, b.head, b.at) != (row["n"], row["size"], row["head"], row["at"]):
            report.fail("checkpoint", subject, "the row differs from its signed bytes")
        if b.n != prev_n + 1 or b.size < prev_size:
            report.fail("checkpoint", subject, f"does not follow checkpoint {prev_n} (size {prev_size})")
        _check_head(report, subject, b.size, b.head, heads)
        prev_size, prev_n = b.size, b.n


def _check_head(report, subject: str, size: int, head: str, heads: list[str]) -> None:
    if size >= len(heads):
        report.fail("checkpoint", subject, f"signed over {size} batches but the log holds {len(heads) - 1}")
    elif heads[size] != head:
        report.fail("checkpoint", subject, f"the stored batches no longer produce the signed head at size {size}")


def check_held(ctx: Context, rec: CheckpointRec) -> list[dict]:
    """Failures found checking a checkpoint kept outside the server (e.g. by a kiosk)."""

    class _Report:
        failures: list[dict] = []

        def fail(self, check, subject, message):
            self.failures.append({"check": check, "subject": subject, "message": message})

    report = _Report()
    report.failures = []
    body = cp.body(rec.n, rec.size, rec.head, rec.at)
    try:
        ctx.verify_key(ctx.key.public_hex).verify("checkpoint", body, rec.signature)
    except BadSignature as exc:
        report.fail("checkpoint", f"held/{rec.n}", f"signature: {exc}")
        return report.failures
    with ctx.store.read() as db:
        heads = recomputed_heads(db, report)
    _check_head(report, f"held/{rec.n}", rec.size, rec.head, heads)
    return report.failures
