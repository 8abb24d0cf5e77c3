"""Queries on volunteer service tasks (``tasks``: staff state) and their claims
(``task_claims``: projected from the signed log; server migration 21)."""

from collections.abc import Iterable

from server.store.chunked import rows_in
from server.store.tx import Tx
from sync.postings import TaskInfo

_COLUMNS = "id, n, community, title, rule, points, slots, status, posted_by, posted_at, closed_by, closed_at"
_CLAIMS = "claim, task, resident, kiosk, at, received_at, done_event, done_at"


def next_number(db: Tx) -> int:
    return db.sql.execute("SELECT coalesce(max(n), 0) + 1 FROM tasks").fetchone()[0]


def insert_task(db: Tx, row: dict) -> None:
    db.sql.execute(f"INSERT INTO tasks({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def task(db: Tx, task_id: str) -> dict | None:
    rows = list(db.sql.query(f"SELECT {_COLUMNS} FROM tasks WHERE id = ?", [task_id]))
    return rows[0] if rows else None


def close(db: Tx, task_id: str, who: str, at: int) -> bool:
    """Close an open task; False if it was not open (closed already, by someone else)."""
    cur = db.sql.execute("UPDATE tasks SET status = 'closed', closed_by = ?, closed_at = ? WHERE id = ? AND status = 'open'",
                         [who, at, task_id])
    return cur.rowcount == 1


def list_tasks(db: Tx, communities: list[str] | None, status: str | None = None, limit: int = 500) -> list[dict]:
    """Tasks newest first with how many claimed and completed them; ``communities`` None: every one."""
    where, args = [], []
    if communities is not None:
        if not communities:
            return []
        where.append(f"t.community IN ({', '.join('?' * len(communities))})")
        args += communities
    if status is not None:
        where.append("t.status = ?")
        args.append(status)
    sql = (f"SELECT {', '.join('t.' + c.strip() for c in _COLUMNS.split(','))},"
           " (SELECT count(*) FROM task_claims c WHERE c.task = t.id) AS claimed,"
           " (SELECT count(*) FROM task_claims c WHERE c.task = t.id AND c.done_event IS NOT NULL) AS completed"
           f" FROM tasks t {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY t.n DESC LIMIT ?")
    return list(db.sql.query(sql, [*args, limit]))


def claims(db: Tx, task_id: str) -> list[dict]:
    return list(db.sql.query(f"SELECT {_CLAIMS} FROM task_claims WHERE task = ? ORDER BY at, claim", [task_id]))


def infos(db: Tx, ids: Iterable[str]) -> dict[str, TaskInfo]:
    """What the claims and completions naming these tasks need to know of each (``sync.kinds.task_claim``)."""
    ids = sorted(ids)
    claimed: dict[str, dict[str, tuple[str, str | None]]] = {}
    for claim, task_id, card, done in rows_in(db, "SELECT claim, task, resident, done_event FROM task_claims WHERE task IN ({})", ids):
        claimed.setdefault(task_id, {})[claim] = (card, done)
    return {i: TaskInfo(community, rule, points, slots, closed_at, claimed.get(i, {})) for i, community, rule, points, slots, closed_at
            in rows_in(db, "SELECT id, community, rule, points, slots, closed_at FROM tasks WHERE id IN ({})", ids)}


def insert_claims(db: Tx, rows: list[dict]) -> None:
    if rows:
        db.sql.executemany(f"INSERT INTO task_claims({_CLAIMS}) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
                           [[r["claim"], r["task"], r["resident"], r["kiosk"], r["at"], r["received_at"]] for r in rows])


def set_done(db: Tx, dones: list[tuple[str, str, int]]) -> None:
    """(claim, done event, done at) of each completion that counted."""
    if dones:
        db.sql.executemany("UPDATE task_claims SET done_event = ?, done_at = ? WHERE claim = ?",
                           [[done, at, claim] for claim, done, at in dones])


def communities_of(db: Tx, ids: Iterable[str]) -> dict[str, str | None]:
    """Each task's community (None: open to every community); unknown tasks left out."""
    return dict(rows_in(db, "SELECT id, community FROM tasks WHERE id IN ({})", sorted(ids)))
