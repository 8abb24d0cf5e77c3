"""Volunteer service tasks (mediation, repairs, collecting residents' concerns): staff post
them for a community, worth a rule's points; residents claim and complete them at a
station kiosk (``task_claim``, ``task_done`` events), and the award follows from the task.

A task is staff state, posted and closed here (``task.manage``: admin, or a community
manager of its community; everyone reads, scoped), each in one transaction with its audit
row and its ``task`` feed row, so the kiosks of its community can offer it. Its points are
its rule's value when it was posted; a prohibited-conduct rule cannot be a task's. Its
claims and completions come from the signed log: the projector folds them
(``sync.kinds.task_claim``, ``sync.kinds.task_done``), stores those that count
(``receive``) and moves the task's feed row, so kiosks see places taken and work done; those
that do not count are kept as recorded and reviewed (``task_refused``)."""

from schema.wire import TaskClaimRec, TaskRec
from server.errors import Conflict, Invalid, NotFound
from server.services import feed
from server.services.context import Context
from server.services.staff import Principal, record, require, scope_filter
from server.store import Tx, catalog
from server.store import tasks as store
from sync.names import name_problem
from sync.postings import TaskInfo
from sync.projection import Rows

STATUSES = ("open", "closed")
MAX_SLOTS = 1000
LIST_LIMIT = 500


# ---------------------------------------------------------------- from the projection


def view_of(db: Tx, ids: set[str]) -> dict[str, TaskInfo]:
    """The tasks a chunk's claims and completions name, for its ``View``."""
    return store.infos(db, ids) if ids else {}


def homes_of(db: Tx, cards: set[str]) -> dict[str, str]:
    """The communities of the residents a chunk's task events name."""
    return catalog.resident_communities(db, cards) if cards else {}


def receive(db: Tx, rows: Rows) -> None:
    """Store the claims and completions of a projected chunk that count, and move the feed
    row of each task they touch. Written by the projector in the chunk's transaction."""
    store.insert_claims(db, rows.claims)
    store.set_done(db, rows.dones)
    publish(db, sorted(rows.tasks))


def publish(db: Tx, ids: list[str]) -> None:
    for task_id in ids:
        row = store.task(db, task_id)
        if row is not None:
            feed.publish(db, "task", record_of(row, store.claims(db, task_id)))


def record_of(row: dict, claims: list[dict]) -> TaskRec:
    return TaskRec(id=row["id"], community=row["community"], title=row["title"], rule=row["rule"], points=row["points"],
                   slots=row["slots"], status=row["status"], posted_at=row["posted_at"],
                   claims=[TaskClaimRec(card=c["resident"], event=c["claim"], done=c["done_event"] is not None) for c in claims])


# ---------------------------------------------------------------- staff


def post(ctx: Context, who: Principal, community: str, rule: str, title: str, slots: int = 1) -> dict:
    """Post a task for ``community`` worth ``rule``'s points, for up to ``slots`` residents."""
    require(who, "task.manage", community)
    problem = name_problem(title, "a task's title")
    if problem:
        raise Invalid(problem, field="title")
    if not isinstance(slots, int) or isinstance(slots, bool) or not 1 <= slots <= MAX_SLOTS:
        raise Invalid(f"slots must be a whole number from 1 to {MAX_SLOTS}", field="slots", slots=str(slots)[:20])
    with ctx.store.write() as db:
        if catalog.row_by_key(db, "communities", community) is None:
            raise NotFound("community", community)
        r = catalog.row_by_key(db, "rules", rule)
        if r is None:
            raise NotFound("rule", rule)
        if r["status"] != "active":
            raise Invalid(f"rule {rule} is retired: a task names an active rule", rule=rule, field="rule")
        if r["kind"] == "prohibited" or r["points"] <= 0:
            raise Invalid(f"rule {rule} deducts points: a task names a rule that awards them", rule=rule, field="rule")
        n = store.next_number(db)
        row = {"id": f"T{n}", "n": n, "community": community, "title": title.strip(), "rule": rule, "points": r["points"],
               "slots": slots, "posted_by": who.username, "posted_at": ctx.now()}
        store.insert_task(db, row)
        record(db, ctx, who, "task_post", row["id"], {"community": community, "rule": rule, "points": r["points"], "slots": slots})
        publish(db, [row["id"]])
        return store.task(db, row["id"])


def close(ctx: Context, who: Principal, task_id: str) -> dict:
    """Close an open task: claims acknowledged from now on do not count; claims made before
    may still be completed."""
    require(who, "task.manage")
    with ctx.store.write() as db:
        row = _visible(db, who, "task.manage", task_id)
        if not store.close(db, row["id"], who.username, ctx.now()):
            raise Conflict(f"task {row['id']} is already closed", task=row["id"], state=row["status"])
        record(db, ctx, who, "task_close", row["id"], {"community": row["community"]})
        publish(db, [row["id"]])
        return store.task(db, row["id"])


def list_tasks(ctx: Context, who: Principal, community: str | None = None, status: str | None = None,
               limit: int = 200) -> list[dict]:
    """Tasks ``who`` may see, newest first, with how many claimed and completed each."""
    require(who, "task.read")
    if status is not None and status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}", status=str(status)[:20])
    allowed = scope_filter(who, community)
    with ctx.store.read() as db:
        return store.list_tasks(db, allowed, status, min(max(int(limit), 1), LIST_LIMIT))


def overview(ctx: Context, who: Principal, community: str | None = None, status: str | None = None) -> dict:
    """The console's task page: the tasks ``who`` may see, and the rules a task may name
    (active, awarding points)."""
    rows = list_tasks(ctx, who, community, status)
    with ctx.store.read() as db:
        rules = [r for r in catalog.list_rows(db, "rules") if r["kind"] != "prohibited" and r["status"] == "active"]
    return {"tasks": rows, "rules": rules}


def task(ctx: Context, who: Principal, task_id: str) -> dict:
    """One task with its claims and completions (each with the resident's name)."""
    require(who, "task.read")
    with ctx.store.read() as db:
        row = _visible(db, who, "task.read", task_id)
        claims = store.claims(db, row["id"])
        names = {c: r["name"] for c, r in catalog.rows_by_keys(db, "residents", {c["resident"] for c in claims}).items()}
        rule = catalog.row_by_key(db, "rules", row["rule"]) or {}
        return row | {"rule_name": rule.get("name", row["rule"]),
                      "claims": [c | {"resident_name": names.get(c["resident"], "")} for c in claims]}


def _visible(db: Tx, who: Principal, permission: str, task_id: str) -> dict:
    """The task, if ``who`` may ``permission`` in its community (404, 403 otherwise)."""
    row = store.task(db, str(task_id).strip().upper())
    if row is None:
        raise NotFound("task", str(task_id)[:32])
    require(who, permission, row["community"])
    return row
