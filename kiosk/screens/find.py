"""Home screen: find a resident. The input keeps focus for the scanner: a scanned card
and Enter opens the resident at once (one primary-key lookup); a name fragment, the pinyin
initials of a name (``zsm`` for 张三明) or the last phone digits list matches in a table,
at most ``SHOWN`` of them, and when more match the message says how many. Searching
happens on Enter only, never per keystroke, so 500,000 residents cost nothing while the
operator types. F4 shows the public board (``kiosk.screens.board``).

A card this kiosk does not hold (it mirrors only the communities its shop serves) is
looked up online by exact card when the server offers it, in a worker: the operator keeps
typing meanwhile, and the answer (``LookedUp``) opens the resident, kept on the kiosk as a
visitor, or says why not (nobody holds it, the server is unreachable, today's lookups are
spent). Only the newest card asked for is opened.

A tracking code from a letter's or request's slip (``0007-0042-8``, ``sync.tracking``) opens
that resident's letters and requests at that item; a code whose check digit does not match
is refused as mistyped before anything is looked up.
"""

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input

from kiosk.errors import KioskError, NotOffered, Offline
from kiosk.screens.base import KioskScreen, cell
from sync import codes, tracking

#: rows listed for a search; when more match, the operator is told how many and asked to type more
SHOWN = 20
#: matches counted at most (each index read stops there); more reads "more than 1000"
COUNTED = 1000


class LookedUp(Message):
    """An online lookup finished (posted from the worker): ``error`` None when found."""

    def __init__(self, card: str, error: KioskError | None) -> None:
        super().__init__()
        self.card = card
        self.error = error


class FindScreen(KioskScreen):
    TYPE_INTO = "#q"
    #: the card an online lookup is running for (a newer one replaces it)
    asking: str | None = None
    BINDINGS = [
        Binding("escape", "clear", "key_find", show=False),
        Binding("f4", "board", "key_board"),
        Binding("f6", "stock", "key_stock"),
        Binding("f7", "void", "key_void"),
        Binding("f8", "shift", "key_shift"),
        Binding("f9", "app.sign_out", "key_signout"),
    ]

    def title_text(self) -> str:
        op = self.app.operator
        who = self.tr("signed_in_as", name=op.name, id=op.id) if op else ""
        return f"{self.tr('find_title')}  ·  {who}"

    def body(self) -> ComposeResult:
        yield Input(placeholder=self.tr("find_prompt"), id="q", max_length=64)
        table = DataTable(id="results", cursor_type="row", zebra_stripes=True)
        table.add_columns(*(self.tr(k) for k in ("col_card", "col_name", "col_phone", "col_community", "col_status")))
        yield table

    def on_mount(self) -> None:
        self.query_one("#q", Input).focus()
        if self.app.revoked:
            self.say("kiosk_revoked", error=True)

    def fill(self) -> None:
        pass  # results stay as found; a sync does not re-run the search

    @on(Input.Submitted, "#q")
    def _search(self, event: Input.Submitted) -> None:
        text = codes.clean(event.value)
        event.input.value = ""
        if not text:
            return
        self.asking = None  # a new search: an answer for an earlier card opens nothing
        svc = self.app.service
        if self._tracking(text):
            return
        card = codes.normalise_or_none("card", text)
        if card is not None and svc.resident(card) is not None:  # a scanned card: open it straight away
            self.open(card)
            return
        rows = svc.find_resident(text, SHOWN)
        table = self.query_one("#results", DataTable)
        table.clear()
        for r in rows:
            table.add_row(cell(r["card"]), cell(r["name"]), cell("*" + r["phone_tail"]), cell(r["community_name"]),
                          cell(self.tr("status_" + r["status"])), key=r["card"])
        if not rows and card is not None and svc.offered("lookup") and not self.app.revoked:
            self.asking = card
            self.say("lookup_busy", card=card)
            self._look_up(card)
        elif not rows:
            self.say("find_none", error=True, text=text[:40])
        elif len(rows) == 1:
            self.open(rows[0]["card"])
        else:
            found = svc.count_residents(text, COUNTED) if len(rows) == SHOWN else len(rows)
            if found > COUNTED:
                self.say("find_cut_many", n=COUNTED, shown=len(rows))
            elif found > len(rows):
                self.say("find_cut", n=found, shown=len(rows))
            else:
                self.say("find_many", n=len(rows))
            table.focus()

    def _tracking(self, text: str) -> bool:
        """A tracking code: open its resident's letters and requests there (True when the
        text was one, found or not)."""
        try:
            code = tracking.normalise(text)
        except tracking.InvalidTracking as exc:
            if exc.why == "check":
                self.say("bad_code_tracking", error=True, value=exc.value)
                return True
            return False
        svc = self.app.service
        card = svc.voice_owner(code)
        if card is None:
            self.say("voice_unknown", error=True, code=code)
            return True
        from kiosk.screens.voice import VoiceScreen

        self.say(None)
        self.app.push_screen(VoiceScreen(card, (svc.resident(card) or {}).get("name", ""), code))
        return True

    @work(thread=True, exit_on_error=False, group="lookup")
    def _look_up(self, card: str) -> None:
        try:
            self.app.service.look_up(card)
        except KioskError as exc:
            self.post_message(LookedUp(card, exc))
        else:
            self.post_message(LookedUp(card, None))

    def on_looked_up(self, message: LookedUp) -> None:
        if message.card != self.asking or not self.is_current:
            return  # another card was scanned since, or the operator moved on
        self.asking = None
        error = message.error
        if error is None:
            self.open(message.card)
        elif isinstance(error, Offline):
            self.app.log_error("online lookup of %s: %s", message.card, error.why)
            self.say("lookup_offline", error=True, card=message.card)
        elif isinstance(error, NotOffered):
            self.say("find_none", error=True, text=message.card)
        else:
            self.say_error(error)

    @on(DataTable.RowSelected, "#results")
    def _picked(self, event: DataTable.RowSelected) -> None:
        self.open(event.row_key.value)

    def open(self, card: str) -> None:
        from kiosk.screens.resident import ResidentScreen

        self.asking = None
        self.say(None)
        self.query_one("#q", Input).focus()
        self.app.push_screen(ResidentScreen(card))

    def action_clear(self) -> None:
        self.query_one("#results", DataTable).clear()
        self.say(None)
        self.query_one("#q", Input).focus()

    def action_board(self) -> None:
        from kiosk.screens.board import BoardScreen

        self.app.push_screen(BoardScreen())

    def action_stock(self) -> None:
        from kiosk.screens.stock import StockInScreen

        self.app.push_screen(StockInScreen())

    def action_void(self) -> None:
        from kiosk.screens.void import VoidScreen

        self.app.push_screen(VoidScreen())

    def action_shift(self) -> None:
        from kiosk.screens.shift import ShiftScreen

        self.app.push_screen(ShiftScreen())
