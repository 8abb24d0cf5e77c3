"""The public receipt check (``/public/check``): what a receipt says, once its kiosk
signature verifies against the server's published kiosk keys (``server.services.receipt``),
and what the server knows of it — its status (recorded, voided, under review, or not yet
synced), the resident's current balance, and that its batch is included in the newest
signed checkpoint note (the inclusion proof verified here, and shown so anyone can redo
it, docs/PROTOCOL.md § 13). Nothing beyond what the receipt's holder already knows, status
and balance: no name, no other entry. ``ReceiptRefused`` names what does not verify."""

import base64

from server.services import tree
from server.services.context import Context
from server.services.receipt import published_keys
from server.store import ledger
from sync import checkpoint as cp
from sync import kinds, merkle, note
from sync import receipt as sync_receipt
from sync.protocol import ProtocolError
from sync.signing import VerifyKey


def check_receipt(ctx: Context, text: str) -> dict:
    """The checked receipt for the public page, or ``ReceiptRefused``."""
    published = sync_receipt.read_keys_file(published_keys(ctx), ctx.key.public_hex)
    checked = sync_receipt.verify(text, published)
    ev = checked.event
    part = kinds.lookup(checked.kind).receipt(ev)
    card = getattr(ev, "resident", None)
    out = {"event": ev.id, "kind": checked.kind, "at": ev.at, "kiosk": checked.receipt.kiosk, "operator": ev.operator,
           "card": sync_receipt.mask_card(card) if card else None, "kiosk_status": checked.kiosk_status,
           "points": None if part.quantities_only else sum(line.points for line in part.lines),
           "lines": [{"qty": line.qty, "points": line.points} for line in part.lines]}
    with ctx.store.read() as db:
        [row] = ledger.events_by_id(db, [ev.id]) or [None]
        reviews = ledger.open_reviews_of_event(db, ev.id)
        balance = ledger.balances_of(db, [f"resident:{card}"]).get(f"resident:{card}", 0) if card else None
    if row is not None and bytes(row["body"]) != checked.receipt.event_bytes:
        out["status"] = "differs"  # a stored event under this id that is not the signed one
    elif reviews:
        out["status"] = "review"
    elif row is None:
        out["status"] = "unsynced"
    else:
        out["status"] = "voided" if row["voided_by"] else "recorded"
    out["balance"] = balance if row is not None else None
    out["inclusion"] = _inclusion(ctx, row) if row is not None else None
    return out


def _inclusion(ctx: Context, row: dict) -> dict | None:
    """The batch's inclusion in the newest signed tree head, verified; None before one covers it."""
    head = tree.latest(ctx)
    if head is None:
        return None
    try:
        proof = tree.inclusion(ctx, row["kiosk"], row["batch_seq"], head["size"])
    except ProtocolError:
        return None  # synced after the newest checkpoint
    signed = note.verify(head["note"], cp.log_origin(ctx.key.public_hex), VerifyKey(ctx.key.public_hex))
    nodes = [base64.b64decode(p) for p in proof.proof]
    merkle.verify_inclusion(proof.index, proof.size, merkle.leaf_hash(bytes.fromhex(proof.leaf)), nodes, signed.root)
    return {"kiosk": proof.kiosk, "seq": proof.seq, "index": proof.index, "size": proof.size, "leaf": proof.leaf,
            "proof": [n.hex() for n in nodes], "root": signed.root.hex(), "note": head["note"], "checkpoint": head["n"]}
