"""A kiosk's data folder, database, key, receipts and shift reports are its user's only
(issue 11, Medium 6): a stolen kiosk's other accounts, or a copied folder's reader who is
not its owner, read none of it, even when the kiosk was started under a permissive umask."""

import os
import stat

from kiosk import receipts, shift
from tests.kiosk.fakeserver import CARD


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_everything_in_the_data_folder_is_private(kiosk):
    os.umask(0o022)
    data = kiosk.settings.data_dir
    receipt = receipts.save(receipts.build(kiosk.award(CARD, "V01", "op1", receipt=True)), "zh", data)
    report = shift.save(shift.report(kiosk, {}, kiosk.clock()), "zh", data)
    assert mode(receipt) == mode(report) == 0o600
    assert mode(data) == 0o700
    exposed = {str(p.relative_to(data)): oct(mode(p)) for p in data.rglob("*")
               if mode(p) & 0o077}
    assert exposed == {}
    assert mode(data / "kiosk.db") == 0o600
