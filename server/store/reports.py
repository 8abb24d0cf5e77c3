"""Read-only queries behind the reports: the board, settlement, issued/spent, coverage and
kiosk health. Times are event times (``postings.at``), windows are [start, end) in UTC ms
of a local month (``sync.calendar.month_bounds``).

A void's meaning follows its target, found by the ``target`` field of the void's bytes.
"""

from schema.types import CENTRAL_KIOSK
from server.store.tx import Tx
from sync import kinds
from sync.chunks import marks


def _target() -> str:
    """Join each event of a reversing kind (a void) to its target as ``t``. The tags are
    the registry's own identifiers, written into the SQL so the planner sees constants."""
    tags = kinds.tags(reverses=True)
    assert all(t.replace("_", "").isalpha() and t.islower() for t in tags), tags
    listed = ", ".join(f"'{t}'" for t in tags)
    return f"LEFT JOIN events t ON e.kind IN ({listed}) AND t.id = json_extract(e.body, '$.target')"
_CARD = "substr(p.account, 10)"  # after 'resident:'


def _in(values: tuple[str, ...]) -> str:
    return f"({marks(len(values))})"


def earned(db: Tx, start: int, end: int, communities: list[str] | None) -> list[dict]:
    """(community, card, name, points) earned in the window: events of the kinds on the
    board (awards) and voids of them."""
    board = kinds.tags(on_board=True)
    where, params = "", [start, end, *board, *board]
    if communities is not None:
        where = f"AND r.community IN ({marks(len(communities))})"
        params += communities
    return list(db.sql.query(
        f"""SELECT r.community, r.card, r.name, sum(p.amount) AS points
            FROM postings p JOIN events e ON e.id = p.event {_target()}
            JOIN residents r ON r.card = {_CARD}
            WHERE p.account LIKE 'resident:%' AND p.at >= ? AND p.at < ?
              AND (e.kind IN {_in(board)} OR t.kind IN {_in(board)}) {where}
            GROUP BY r.card ORDER BY r.community, r.card""",
        params,
    ))


def resident_flows(db: Tx, start: int, end: int) -> list[dict]:
    """Resident-side postings in the window by community, event kind, void target kind and rule."""
    return list(db.sql.query(
        f"""SELECT r.community, e.kind, t.kind AS target_kind,
                   coalesce(json_extract(e.body, '$.rule'), json_extract(t.body, '$.rule')) AS rule,
                   count(*) AS n, sum(p.amount) AS points
            FROM postings p JOIN events e ON e.id = p.event {_target()}
            JOIN residents r ON r.card = {_CARD}
            WHERE p.account LIKE 'resident:%' AND p.at >= ? AND p.at < ?
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""",
        [start, end],
    ))


def shop_postings(db: Tx, shop: str, start: int, end: int) -> list[dict]:
    """Postings to ``shop:<id>`` in the window, by event kind and (for voids) target kind."""
    return list(db.sql.query(
        f"""SELECT e.kind, t.kind AS target_kind, count(*) AS n, sum(p.amount) AS points
            FROM postings p JOIN events e ON e.id = p.event {_target()}
            WHERE p.account = ? AND p.at >= ? AND p.at < ? GROUP BY 1, 2 ORDER BY 1, 2""",
        ["shop:" + shop, start, end],
    ))


def redemption_bodies(db: Tx, shop: str, start: int, end: int) -> list[tuple[str, bytes, bytes | None]]:
    """(kind, body, target body) of events of the kinds that hand out goods (redemptions)
    and voids of them at ``shop``."""
    out = kinds.tags(hands_out_goods=True)
    return db.sql.execute(
        f"""SELECT e.kind, e.body, t.body FROM events e {_target()}
            WHERE e.shop = ? AND e.at >= ? AND e.at < ? AND (e.kind IN {_in(out)} OR t.kind IN {_in(out)})
            ORDER BY e.at, e.id""",
        [shop, start, end, *out, *out],
    ).fetchall()


def coverage(db: Tx, start: int, end: int) -> list[dict]:
    return list(db.sql.query(
        """SELECT c.id AS community, c.name, c.street,
                  count(r.card) AS residents,
                  sum(r.status = 'active') AS active,
                  sum(r.status = 'retired') AS retired,
                  (SELECT count(DISTINCT e.resident) FROM events e JOIN residents r2 ON r2.card = e.resident
                    WHERE r2.community = c.id AND e.kiosk != ? AND e.at >= ? AND e.at < ?) AS seen_this_month
           FROM communities c LEFT JOIN residents r ON r.community = c.id
           GROUP BY c.id ORDER BY c.id""",
        [CENTRAL_KIOSK, start, end],
    ))


def kiosk_rows(db: Tx, start: int, end: int) -> list[dict]:
    return list(db.sql.query(
        """SELECT k.id AS kiosk, k.shop, s.community, k.label, k.status, k.enrolled_at,
                  k.last_push_at, k.last_pull_at, k.clock_skew_ms, k.next_seq - 1 AS applied_batches,
                  (SELECT count(*) FROM batches b WHERE b.kiosk = k.id AND b.status = 'held') AS held_batches,
                  (SELECT count(*) FROM batches b WHERE b.kiosk = k.id AND b.applied_at >= ? AND b.applied_at < ?) AS batches_in_month,
                  (SELECT count(*) FROM quarantine q WHERE q.kiosk = k.id) AS quarantined,
                  (SELECT count(*) FROM review_items i WHERE i.kiosk = k.id AND i.kind = 'fork') AS forks,
                  (SELECT count(*) FROM review_items i WHERE i.kiosk = k.id AND i.status = 'open') AS open_reviews,
                  (SELECT max(e.received_at - e.at) FROM events e
                    WHERE e.kiosk = k.id AND e.batch_seq = k.next_seq - 1) AS last_batch_lag_ms
           FROM kiosks k JOIN shops s ON s.id = k.shop ORDER BY k.id""",
        [start, end],
    ))


def account_sum(db: Tx, account: str, start: int, end: int) -> int:
    return db.sql.execute(
        "SELECT coalesce(sum(amount), 0) FROM postings WHERE account = ? AND at >= ? AND at < ?", [account, start, end]
    ).fetchone()[0]


def shift_closes(db: Tx, start: int, end: int) -> list[dict]:
    """The shift reports kiosks sent, closed in [start, end), newest first (events_kind_at)."""
    return list(db.sql.query(
        """SELECT e.id, e.kiosk, k.shop, s.community, e.at, e.operator, e.body
           FROM events e JOIN kiosks k ON k.id = e.kiosk JOIN shops s ON s.id = k.shop
           WHERE e.kind = 'shift_close' AND e.at >= ? AND e.at < ?
           ORDER BY e.at DESC, e.id""",
        [start, end],
    ))


def fleet_gauges(db: Tx, silent_before: int) -> dict:
    """What /metrics reads at each scrape, in one pass per table: kiosks by status, active
    kiosks not heard from since ``silent_before``, batches applied and held, open review
    items, and the newest checkpoint's size and time."""
    by_status = {row["status"]: row["n"] for row in db.sql.query("SELECT status, count(*) AS n FROM kiosks GROUP BY status")}
    silent = db.sql.execute(
        """SELECT count(*) FROM kiosks WHERE status = 'active'
           AND coalesce(max(coalesce(last_push_at, 0), coalesce(last_pull_at, 0)), 0) < ?""", [silent_before]
    ).fetchone()[0]
    batches = {row["status"]: row["n"] for row in db.sql.query("SELECT status, count(*) AS n FROM batches GROUP BY status")}
    reviews = db.sql.execute("SELECT count(*) FROM review_items WHERE status = 'open'").fetchone()[0]
    last = db.sql.execute("SELECT size, at FROM checkpoints ORDER BY n DESC LIMIT 1").fetchone()
    return {"kiosks": by_status, "silent": silent, "batches": batches, "open_reviews": reviews,
            "checkpoint_size": last[0] if last else 0, "checkpoint_at": last[1] if last else None}
