"""Operator sign-in: operator id, then PIN, then Enter. Wrong PINs count towards a
lockout kept by ``kiosk.counter``; the screen only shows what it decided."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from kiosk.errors import SignInRefused
from kiosk.screens.base import KioskScreen


class SignInScreen(KioskScreen):
    BINDINGS = [Binding("escape", "clear", "key_back", show=False)]

    def title_text(self) -> str:
        return self.tr("signin_title")

    def body(self) -> ComposeResult:
        yield Static(self.tr("signin_hint"), classes="hint", markup=False)
        yield Input(placeholder=self.tr("signin_id"), id="op", max_length=32)
        yield Input(placeholder=self.tr("signin_pin"), id="pin", password=True, max_length=32)
        yield Static("", id="spacer")

    def on_mount(self) -> None:
        self.query_one("#op", Input).focus()

    @on(Input.Submitted, "#op")
    def _next(self) -> None:
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    def _sign_in(self) -> None:
        op_input, pin_input = self.query_one("#op", Input), self.query_one("#pin", Input)
        try:
            operator = self.app.counter.sign_in(op_input.value, pin_input.value)
        except SignInRefused as exc:
            pin_input.value = ""
            self.say_error(exc)
            (pin_input if op_input.value.strip() else op_input).focus()
            return
        self.app.signed_in(operator)

    def action_clear(self) -> None:
        for input_ in self.query(Input):
            input_.value = ""
        self.query_one("#op", Input).focus()
