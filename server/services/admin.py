"""Staff use cases behind the CLI: listing reference data, a resident's balance,
revoking a kiosk, listing review items."""

import json

from server.errors import NotFound
from server.services.context import Context
from server.store import catalog, chain, ledger
from sync.ledger import resident_account

LISTABLE = ("shops", "rules", "goods", "residents", "operators", "kiosks", "communities")


def listing(ctx: Context, what: str) -> list[dict]:
    if what not in LISTABLE:
        raise ValueError(f"cannot list {what!r}; choose from {', '.join(LISTABLE)}")
    with ctx.store.read() as db:
        rows = catalog.list_rows(db, what)
    if what == "operators":
        for r in rows:
            r.pop("pin_hash", None)  # a PIN hash is for kiosks, not for screens and logs
    return rows


def balance(ctx: Context, card: str, recent: int = 20) -> dict:
    """The confirmed balance (sum of postings) and the most recent postings."""
    account = resident_account(card)
    with ctx.store.read() as db:
        resident = catalog.row_by_key(db, "residents", card)
        if resident is None:
            raise NotFound("resident", card)
        return {
            "card": card,
            "name": resident["name"],
            "community": resident["community"],
            "status": resident["status"],
            "confirmed": ledger.account_total(db, account),
            "recent": ledger.recent_postings(db, account, recent),
        }


def revoke(ctx: Context, kiosk: str) -> dict:
    """Mark a kiosk revoked: its pushes are quarantined, its pulls say so and carry no lease."""
    with ctx.store.write() as db:
        row = chain.kiosk_by_id(db, kiosk)
        if row is None:
            raise NotFound("kiosk", kiosk)
        chain.set_kiosk_status(db, kiosk, "revoked")
    return {"kiosk": kiosk, "status": "revoked", "was": row["status"]}


def reviews(ctx: Context, open_only: bool = False) -> list[dict]:
    with ctx.store.read() as db:
        return ledger.list_reviews(db, open_only)


def quarantined(ctx: Context, kiosk: str | None = None) -> list[dict]:
    with ctx.store.read() as db:
        rows = chain.quarantine_rows(db, kiosk)
    for r in rows:
        r["headers"] = json.loads(r["headers"])
        r["size"] = len(r.pop("body"))
    return rows
