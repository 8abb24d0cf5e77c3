"""Small assertions shared by the server tests."""

import msgspec

from server.services.manage import get_resident
from server.services.staff import SYSTEM
from tests.server.kiosk_double import verified


def reply_of(resp, ctx) -> dict:
    """A response body as a dict, after checking the server signature over it."""
    return msgspec.json.decode(verified(resp, ctx.key.public_hex))


def error_code(resp, ctx) -> str:
    return reply_of(resp, ctx)["error"]["code"]


def points(ctx, card: str) -> int:
    return get_resident(ctx, SYSTEM, card)["confirmed"]


def table_count(ctx, table: str, where: str = "1", params=()) -> int:
    with ctx.store.read() as db:  # any table, any condition: the test's own SQL
        return db.sql.execute(f"SELECT count(*) FROM {table} WHERE {where}", list(params)).fetchone()[0]


def ledger_snapshot(ctx) -> tuple:
    """Everything an applied batch would change, table by table (a dump, so raw SQL):
    compared before/after a rejection."""
    with ctx.store.read() as tx:
        db = tx.sql
        return tuple(
            db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
            for t in ("events", "postings", "balances", "stock", "award_counts", "review_items", "feed")
        ) + (db.execute("SELECT kiosk, seq, status FROM batches ORDER BY 1, 2").fetchall(),
             db.execute("SELECT id, next_seq, last_hash, next_kseq FROM kiosks ORDER BY 1").fetchall())
