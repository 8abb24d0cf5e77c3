"""The receipt after each transaction: event id, the short code the resident can quote,
items, points before and after, and a QR code drawn with half blocks (black on white, so
a phone can read it on any terminal theme). The same text is already saved for the
printer, and sent to the kiosk's receipt printer if it has one: a printer that fails says so
in plain words and F4 prints again. Esc or F10 returns; Enter does nothing here, so a
scanner's second Enter cannot close the receipt before the resident has seen it.
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
        Binding("f4", "reprint", "key_reprint"),
        Binding("f10", "back", "key_done"),
        Binding("escape", "back", "key_done", show=False),
    ]

    def __init__(self, receipt: receipts.Receipt, path: Path | None) -> None:
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
        if self._message is None:
            self.say("receipt_saved" if self.path else "storage_failed", error=self.path is None,
                     path=self.path.name if self.path else "")

    def printed(self, message) -> None:
        """The printer's answer (``kiosk.app.Printed``) for this receipt."""
        if message.event_id != self.receipt.event_id:
            return
        if message.error is not None:
            self.say_error(message.error)
        else:
            self.say("receipt_printed", path=self.path.name if self.path else "")

    def action_reprint(self) -> None:
        self.say("receipt_printing")
        self.app.print_receipt(self.receipt)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "reprint" and not self.app.service.settings.printer:
            return False  # no printer set: nothing to reprint on, and no key shown
        return super().check_action(action, parameters)

    def action_back(self) -> None:
        self.app.pop_screen()
