"""书记信箱 and 村民说事 at the station: a resident's letters and requests, where each stands
and its reply (the ``voice_reply`` feed), a new one recorded, and a done one rated.

``VoiceScreen`` lists the resident's items, newest first, with this kiosk's own not yet on
the server marked 待同步; the highlighted one's reply is shown below. F2 writes a letter to
the secretary, F3 records a request (``VoiceWriteScreen``). A done item not yet rated
takes the resident's stars: typed into the stars field (one digit, 1 to 5) and Enter, then
confirmed; a scan landing there is no star and is refused whole, never cut to its first
digit. The resident comes back by card (the find screen, F5 on the resident view) or by
the tracking code on their slip, typed or scanned on the find screen.
"""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from kiosk.i18n import t
from kiosk.screens.base import KioskScreen, cell, refill
from kiosk.screens.confirm import ConfirmScreen
from sync import codes
from sync.calendar import local_dt
from sync.kinds.voice import CATEGORIES

COLUMNS = ("col_tracking", "col_channel", "col_category", "col_time", "col_voice_status", "col_stars")


def stars_text(n: int) -> str:
    return "★" * n + "☆" * (5 - n)


class VoiceScreen(KioskScreen):
    TYPE_INTO = "#stars"
    DEFAULT_CSS = """
    VoiceScreen #items { height: 1fr; }
    VoiceScreen #reply { height: auto; max-height: 8; padding: 0 1; }
    """
    BINDINGS = [
        Binding("f2", "write('letter')", "key_letter"),
        Binding("f3", "write('request')", "key_request"),
        Binding("escape", "back", "key_back"),
    ]

    def __init__(self, card: str, name: str, code: str | None = None) -> None:
        super().__init__()
        self.card, self.resident_name = card, name
        self.code = code  # the item to show first (the resident came with its tracking code)
        self.items: list[dict] = []

    def title_text(self) -> str:
        return self.tr("voice_title", name=self.resident_name, card=self.card)

    def body(self) -> ComposeResult:
        table = DataTable(id="items", cursor_type="row", zebra_stripes=True)
        table.add_columns(*(self.tr(k) for k in COLUMNS))
        yield table
        yield Static("", id="reply", markup=False)
        yield Input(placeholder=self.tr("field_stars"), id="stars", max_length=40)

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#items", DataTable)
        keys = [row.value for row in table.rows]
        if self.code in keys:
            table.move_cursor(row=keys.index(self.code))
        self._show()
        table.focus()

    def fill(self) -> None:
        self.items = self.app.service.voices(self.card)
        refill(self.query_one("#items", DataTable), (
            (i["code"], (cell(i["code"]), cell(self.tr("voice_channel_" + i["channel"])),
                         cell(self.tr("voice_cat_" + i["category"])), cell(local_dt(i["at"]).strftime("%m-%d %H:%M")),
                         cell(self.tr("voice_status_" + i["status"])),
                         cell(stars_text(i["stars"] or i["rated_here"]) if (i["stars"] or i["rated_here"]) else None)))
            for i in self.items))
        if not self.items:
            self.say("voice_none")
        self._show()

    def synced(self) -> None:
        self.fill()

    def selected(self) -> dict | None:
        table = self.query_one("#items", DataTable)
        if not table.row_count:
            return None
        code = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((i for i in self.items if i["code"] == code), None)

    @on(DataTable.RowHighlighted, "#items")
    def _show(self) -> None:
        item = self.selected()
        reply = self.query_one("#reply", Static)
        if item is None:
            reply.update("")
            return
        lines = [self.tr("voice_reply_of", code=item["code"], channel=self.tr("voice_channel_" + item["channel"]),
                         category=self.tr("voice_cat_" + item["category"]),
                         status=self.tr("voice_status_" + item["status"]),
                         reply=item["reply"] or self.tr("voice_reply_none"))]
        if item["stars"]:
            lines.append(self.tr("voice_rated_line", stars=stars_text(item["stars"])))
        elif item["rated_here"]:
            lines.append(self.tr("voice_rated_here", stars=stars_text(item["rated_here"])))
        elif item["may_rate"]:
            lines.append(self.tr("voice_may_rate"))
        reply.update("\n".join(lines))
        if self.items and (self._message is None or self._message[0] in ("voice_hint", "voice_may_rate")):
            self.say("voice_may_rate" if item["may_rate"] else "voice_hint")

    @on(Input.Submitted, "#stars")
    def _rate(self, event: Input.Submitted) -> None:
        text = codes.clean(event.value)
        event.input.value = ""
        item = self.selected()
        if item is None or not text:
            return
        if text not in ("1", "2", "3", "4", "5"):
            self.say("invalid_input", error=True, what=t("field_stars", self.lang), value=text[:20])
            return
        reason = self.app.service.rating_refusal(self.card, item["code"])
        if reason is not None:
            self.say("voice_" + reason, error=True, code=item["code"])
            return
        stars = int(text)
        question = self.tr("confirm_rating", name=self.resident_name, card=self.card, code=item["code"],
                           stars=stars_text(stars))
        self.app.push_screen(ConfirmScreen(question), lambda yes: self._record(yes, item["code"], stars))

    def _record(self, yes: bool | None, code: str, stars: int) -> None:
        if not yes:
            return
        svc = self.app.service
        self.app.record(lambda op: svc.rate_voice(self.card, code, stars, op, receipt=True))

    def action_write(self, channel: str) -> None:
        self.app.push_screen(VoiceWriteScreen(self.card, self.resident_name, channel))


class VoiceWriteScreen(KioskScreen):
    """A new letter or request: a category, the resident's words, a confirm step; the slip
    (its receipt) carries the tracking code."""

    DEFAULT_CSS = """
    VoiceWriteScreen #categories { height: 1fr; }
    """
    BINDINGS = [
        Binding("f10", "confirm", "key_confirm"),
        Binding("escape", "back", "key_back"),
    ]

    def __init__(self, card: str, name: str, channel: str) -> None:
        super().__init__()
        self.card, self.resident_name, self.channel = card, name, channel
        self.done = False

    def title_text(self) -> str:
        return self.tr("voice_write_title_" + self.channel, name=self.resident_name, card=self.card)

    def body(self) -> ComposeResult:
        table = DataTable(id="categories", cursor_type="row", zebra_stripes=True)
        table.add_columns(self.tr("col_category"))
        yield table
        yield Input(placeholder=self.tr("voice_text"), id="text", max_length=1000)

    def on_mount(self) -> None:
        super().on_mount()
        self.say("voice_write_pick")
        self.query_one("#categories", DataTable).focus()

    def fill(self) -> None:
        refill(self.query_one("#categories", DataTable),
               ((c, (cell(self.tr("voice_cat_" + c)),)) for c in CATEGORIES))

    @on(DataTable.RowSelected, "#categories")
    def _to_text(self) -> None:
        self.query_one("#text", Input).focus()

    @on(Input.Submitted, "#text")
    def _submitted(self) -> None:
        self.action_confirm()

    def action_confirm(self) -> None:
        if self.done:
            return
        table = self.query_one("#categories", DataTable)
        category = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        text = self.query_one("#text", Input).value.strip()
        if not text:
            self.say("voice_text_empty", error=True)
            self.query_one("#text", Input).focus()
            return
        question = self.tr("confirm_voice", name=self.resident_name, card=self.card,
                           channel=self.tr("voice_channel_" + self.channel), category=self.tr("voice_cat_" + category))
        self.app.push_screen(ConfirmScreen(question, text), lambda yes: self._record(yes, category, text))

    def _record(self, yes: bool | None, category: str, text: str) -> None:
        if not yes or self.done:
            return
        svc = self.app.service
        if self.app.record(lambda op: svc.voice(self.card, self.channel, category, text, op, receipt=True)):
            self.done = True
