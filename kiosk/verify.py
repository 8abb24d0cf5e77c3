"""``jifen-verify --keys FILE PAYLOAD``: check a receipt offline, with no database and no
network: the keys file's signature, then the receipt (``sync.receipt``); prints what the
receipt says in Chinese (``--lang en``). Exit 0 when it verifies, 1 when it does not."""

import argparse
import sys
from pathlib import Path

from kiosk.i18n import t
from sync import kinds
from sync import receipt as sync_receipt
from sync.calendar import local_dt
from sync.protocol import ReceiptRefused
from sync.signing import VerifyKey


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="jifen-verify", description="Check a jifen receipt offline against the published keys.")
    p.add_argument("--keys", type=Path, required=True, help="the keys file of jifen-server keys export")
    p.add_argument("--server-key", default=None, help="the server key (hex or fingerprint) the keys file must be signed by")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("payload", help="the receipt's last line (the check link) or its payload")
    args = p.parse_args(argv)
    try:
        published = sync_receipt.read_keys_file(args.keys.read_bytes(), args.server_key)
        checked = sync_receipt.verify(args.payload, published)
    except OSError as exc:
        print(f"jifen-verify: {args.keys}: {exc.strerror}", file=sys.stderr)
        return 2
    except ReceiptRefused as exc:
        print(t("verify_refused", args.lang, code=exc.code, message=exc.message), file=sys.stderr)
        return 1
    ev, lang = checked.event, args.lang
    part = kinds.lookup(checked.kind).receipt(ev)
    points = sum(line.points for line in part.lines) if not part.quantities_only else None
    lines = [t("verify_ok", lang, server=VerifyKey(published.server_key).fingerprint()),
             t("receipt_title_" + checked.kind, lang), t("receipt_event", lang, id=ev.id),
             t("receipt_when", lang, at=local_dt(ev.at).strftime("%Y-%m-%d %H:%M"), kiosk=checked.receipt.kiosk, operator=ev.operator)]
    if getattr(ev, "resident", None):
        lines.append(t("verify_resident", lang, card=sync_receipt.mask_card(ev.resident)))
    if points is not None:
        lines.append(t("receipt_deduct" if points < 0 else "receipt_add", lang, n=abs(points)))
    if checked.kiosk_status == "revoked":
        lines.append(t("verify_revoked", lang))
    print("\n".join(lines))
    return 0
