"""Queries on the checkpoint log and the signed checkpoints (migration 2), and the
derived effects (postings, stock moves) of one stored batch that a leaf commits to."""

from schema.types import GENESIS
from server.store.tx import Tx, limit_clause


def log_head(db: Tx) -> tuple[int, str]:
    """(size, head) of the checkpoint log."""
    row = db.sql.execute("SELECT n, head FROM checkpoint_log ORDER BY n DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def unlogged_batches(db: Tx, limit: int = -1) -> list[tuple[str, int, str]]:
    """(kiosk, seq, hash) of projected batches not yet in the checkpoint log, in the order
    they were applied (a batch acknowledged and not yet projected waits: its leaf covers
    its postings)."""
    return db.sql.execute(
        """SELECT b.kiosk, b.seq, b.hash FROM batches b
           JOIN ingest_log g ON g.kiosk = b.kiosk AND g.seq = b.seq
           LEFT JOIN checkpoint_log l ON l.kiosk = b.kiosk AND l.seq = b.seq
           WHERE b.status = 'applied' AND l.n IS NULL
             AND g.pos < coalesce((SELECT min(pos) FROM ingest_log WHERE projected = 0), g.pos + 1)
           ORDER BY b.applied_at, b.kiosk, b.seq""" + limit_clause(limit),
        [limit] if limit >= 0 else []).fetchall()


def append_log(db: Tx, n: int, kiosk: str, seq: int, leaf: str, head: str) -> None:
    db.sql.execute("INSERT INTO checkpoint_log(n, kiosk, seq, leaf, head) VALUES (?, ?, ?, ?, ?)", [n, kiosk, seq, leaf, head])


def log_rows(db: Tx) -> list[tuple[int, str, int, str, str]]:
    return db.sql.execute("SELECT n, kiosk, seq, leaf, head FROM checkpoint_log ORDER BY n").fetchall()


def batch_effects(db: Tx, kiosk: str, seq: int) -> tuple[list[tuple], list[tuple]]:
    """The postings and stock moves derived from one batch's events, in the order written."""
    postings = db.sql.execute(
        """SELECT p.event, p.account, p.amount FROM postings p JOIN events e ON e.id = p.event
           WHERE e.kiosk = ? AND e.batch_seq = ? ORDER BY p.id""", [kiosk, seq]
    ).fetchall()
    moves = db.sql.execute(
        """SELECT m.event, m.shop, m.sku, m.delta FROM stock_moves m JOIN events e ON e.id = m.event
           WHERE e.kiosk = ? AND e.batch_seq = ? ORDER BY m.rowid""", [kiosk, seq]
    ).fetchall()
    return postings, moves


def stored_batch(db: Tx, kiosk: str, seq: int) -> tuple[bytes, str] | None:
    row = db.sql.execute("SELECT body, status FROM batches WHERE kiosk = ? AND seq = ?", [kiosk, seq]).fetchone()
    return (bytes(row[0]), row[1]) if row else None


def latest_checkpoint(db: Tx) -> dict | None:
    rows = list(db.sql.query("SELECT * FROM checkpoints ORDER BY n DESC LIMIT 1"))
    return rows[0] if rows else None


def insert_checkpoint(db: Tx, n: int, size: int, head: str, at: int, body: bytes, signature: str) -> None:
    db.sql.execute(
        "INSERT INTO checkpoints(n, size, head, at, body, signature) VALUES (?, ?, ?, ?, ?, ?)",
        [n, size, head, at, body, signature],
    )


def all_checkpoints(db: Tx) -> list[dict]:
    return list(db.sql.query("SELECT * FROM checkpoints ORDER BY n"))


def log_position(db: Tx, kiosk: str, seq: int) -> int | None:
    """The log position n (from 1) of batch ``kiosk``/``seq``, or None before it is logged."""
    row = db.sql.execute("SELECT n FROM checkpoint_log WHERE kiosk = ? AND seq = ?", [kiosk, seq]).fetchone()
    return row[0] if row else None


def insert_tree_head(db: Tx, n: int, size: int, root: str, note: str) -> None:
    db.sql.execute("INSERT INTO tree_heads(n, size, root, note) VALUES (?, ?, ?, ?)", [n, size, root, note])


def tree_head(db: Tx, n: int) -> dict | None:
    rows = list(db.sql.query("SELECT * FROM tree_heads WHERE n = ?", [n]))
    return rows[0] if rows else None


def latest_tree_head(db: Tx) -> dict | None:
    rows = list(db.sql.query("SELECT * FROM tree_heads ORDER BY n DESC LIMIT 1"))
    return rows[0] if rows else None


def all_tree_heads(db: Tx) -> list[dict]:
    return list(db.sql.query("SELECT * FROM tree_heads ORDER BY n"))


def node_count(db: Tx) -> int:
    """How many leaves the stored Merkle nodes (``log_nodes``) cover."""
    row = db.sql.execute("SELECT max(idx) FROM log_nodes WHERE level = 0").fetchone()
    return row[0] + 1 if row and row[0] is not None else 0


def node(db: Tx, level: int, idx: int) -> bytes:
    row = db.sql.execute("SELECT hash FROM log_nodes WHERE level = ? AND idx = ?", [level, idx]).fetchone()
    if row is None:
        raise LookupError(f"no stored Merkle node at level {level} index {idx}")
    return bytes.fromhex(row[0])


def insert_nodes(db: Tx, rows: list[tuple[int, int, bytes]]) -> None:
    db.sql.executemany("INSERT INTO log_nodes(level, idx, hash) VALUES (?, ?, ?)", [(lv, ix, h.hex()) for lv, ix, h in rows])


def all_nodes(db: Tx) -> dict[tuple[int, int], str]:
    return {(lv, ix): h for lv, ix, h in db.sql.execute("SELECT level, idx, hash FROM log_nodes").fetchall()}


def log_leaves_from(db: Tx, start: int, size: int) -> list[str]:
    """Leaves ``start + 1`` to ``size`` of the log (positions from 1), in log order."""
    return [r[0] for r in db.sql.execute("SELECT leaf FROM checkpoint_log WHERE n > ? AND n <= ? ORDER BY n",
                                         [start, size]).fetchall()]
