"""Supervisor approval for a void: supervisor id and PIN, checked offline with the same
lockout as sign-in. ``ModalScreen[Operator | None]``: the supervisor, or None if cancelled."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from kiosk.counter import Operator
from kiosk.errors import SignInRefused
from kiosk.i18n import t


class SupervisorScreen(ModalScreen[Operator | None]):
    DEFAULT_CSS = """
    SupervisorScreen { align: center middle; }
    SupervisorScreen > Vertical { width: 60; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    SupervisorScreen #sup-message { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "no", show=False)]

    def __init__(self, event_id: str) -> None:
        super().__init__()
        self.event_id = event_id
        self._answered = False

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        with Vertical():
            yield Static(t("sup_title", lang, event=self.event_id), markup=False)
            yield Input(placeholder=t("sup_id", lang), id="sup", max_length=32)
            yield Input(placeholder=t("sup_pin", lang), id="sup-pin", password=True, max_length=32)
            yield Static("", id="sup-message", markup=False)

    def on_mount(self) -> None:
        self.query_one("#sup", Input).focus()

    @on(Input.Submitted, "#sup")
    def _next(self) -> None:
        self.query_one("#sup-pin", Input).focus()

    @on(Input.Submitted, "#sup-pin")
    def _check(self) -> None:
        if self._answered:
            return
        pin = self.query_one("#sup-pin", Input)
        try:
            sup = self.app.counter.supervisor(self.query_one("#sup", Input).value, pin.value)
        except SignInRefused as exc:
            pin.value = ""
            self.query_one("#sup-message", Static).update(t(exc.key, self.app.lang, **exc.fields))
            return
        self._answered = True
        self.dismiss(sup)

    def action_cancel(self) -> None:
        if not self._answered:
            self._answered = True
            self.dismiss(None)
