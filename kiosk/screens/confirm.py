"""The confirm step before anything is recorded: a question, Enter confirms, Esc cancels.

``ModalScreen[bool]``: the caller records in the callback only when the answer is True.
The answer is given once; a second Enter (scanner, impatient finger) is ignored here.
"""

from time import monotonic

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kiosk.i18n import t


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 64; height: auto; border: thick $accent; background: $surface; padding: 1 2; }
    ConfirmScreen #buttons { height: auto; margin-top: 1; }
    ConfirmScreen Button { margin-right: 2; }
    """
    BINDINGS = [Binding("escape", "answer(False)", "no", show=False)]
    #: answered only by keys typed after it is on screen (kiosk.typeahead)
    ASKS = True

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self._answered = False
        self.shown_at = float("inf")

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        with Vertical():
            yield Static(self.question, id="question", markup=False)
            if self.detail:
                yield Static(self.detail, id="detail", markup=False)
            with Horizontal(id="buttons"):
                yield Button(t("yes", lang), id="yes", variant="success")
                yield Button(t("no", lang), id="no")

    def on_mount(self) -> None:
        self.shown_at = monotonic()
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        if not self._answered:
            self._answered = True
            self.dismiss(yes)
