"""The receipt after each transaction: event id, the short code the resident can quote,
items, points before and after, and a QR code drawn with half blocks (black on white, so
a phone can read it on any terminal theme). The same text is already saved for the
printer. Esc or F10 returns; Enter does nothing here, so a scanner's second Enter cannot
close the receipt before the resident has seen it.
"""

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static

from kiosk import receipts
from kiosk.screens.base import KioskScreen


class ReceiptScreen(KioskScreen):
    DEFAULT_CSS = """
    ReceiptScreen #receipt-row { height: 1fr; }
    ReceiptScreen #receipt { width: 1fr; padding: 0 1; }
    ReceiptScreen #qr { width: auto; color: black; background: white; }
    """
    BINDINGS = [
        Binding("f10", "back", "key_done"),
        Binding("escape", "back", "key_done", show=False),
    ]

    def __init__(self, receipt: receipts.Receipt, path: Path) -> None:
        super().__init__()
        self.receipt = receipt
        self.path = path

    def title_text(self) -> str:
        return self.tr("receipt_title_" + self.receipt.kind)

    def body(self) -> ComposeResult:
        with Horizontal(id="receipt-row"):
            yield Static("\n".join(receipts.render(self.receipt, self.lang)[1:]), id="receipt", markup=False)
            yield Static("\n".join(receipts.qr_lines(self.receipt.qr_payload)), id="qr", markup=False)

    def fill(self) -> None:
        self.say("receipt_saved", path=self.path.name)

    def action_back(self) -> None:
        self.app.pop_screen()
