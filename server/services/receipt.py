"""The published keys a receipt is checked against (``jifen-server keys export``): the
server's key and every kiosk's keys with the receipt windows each signs (``sync.receipt``),
signed by the server key under domain ``keys``. Public by design: no permission needed."""

from schema.wire import KioskKeys
from server.services.context import Context
from server.store import chain
from sync import receipt as sync_receipt


def published_keys(ctx: Context) -> bytes:
    """The keys file's bytes, as of now."""
    with ctx.store.read() as db:
        kiosks = [KioskKeys(kiosk=k["id"], shop=k["shop"], status=k["status"],
                            keys=sync_receipt.key_windows(chain.key_history(db, k["id"]), k["rekey_from"]))
                  for k in chain.list_kiosks(db)]
    body = sync_receipt.keys_body(ctx.key.public_hex, ctx.now(), kiosks)
    return sync_receipt.keys_file(body, ctx.key.sign("keys", body))
