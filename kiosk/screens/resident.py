"""Resident view: confirmed, pending and available points, this month's rank in the
community (shown as "—" until the server publishes boards), and the resident's history.
F2 awards or deducts, F3 redeems, F4 shows the resident's letters and requests (书记信箱,
村民说事: ``kiosk.screens.voice``), F6 the volunteer tasks of the resident's community
(``kiosk.screens.tasks``).

The history is the whole one when the server offers it: every entry at every shop,
station and central adjustment, fetched once per visit in a worker (``HistoryFetched``)
with the confirmed balance it adds up to, this kiosk's records the server does not have
yet on top (marked 待同步). Offline, or from a server that does not offer it, the screen
shows this kiosk's own records and says they are partial."""

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from kiosk.errors import KioskError, NotOffered, Offline
from kiosk.i18n import TABLE, balance_state_text, month_text
from kiosk.screens.base import KioskScreen, cell
from kiosk.service import History, sync_mark
from sync.calendar import local_dt

LOCAL_COLUMNS = ("col_time", "col_event", "col_kind", "col_points", "col_where", "col_status")
WHOLE_COLUMNS = ("col_time", "col_receipt", "col_kind", "col_points", "col_where", "col_balance")


class HistoryFetched(Message):
    """The whole history arrived from the server (posted from the worker), or ``error``."""

    def __init__(self, card: str, history: History | None, error: KioskError | None) -> None:
        super().__init__()
        self.card = card
        self.history = history
        self.error = error


class ResidentScreen(KioskScreen):
    BINDINGS = [
        Binding("f2", "award", "key_award"),
        Binding("f3", "redeem", "key_redeem"),
        Binding("f4", "voice", "key_voice"),
        Binding("f6", "tasks", "key_tasks"),
        Binding("escape", "back", "key_back"),
    ]

    def __init__(self, card: str) -> None:
        super().__init__()
        self.card = card
        self.row = {}
        self.whole: History | None = None  # the server's history, once fetched
        self.fetching = False
        self.partial = False  # asked and could not get it, or the server does not offer it

    def title_text(self) -> str:
        self.row = self.app.service.resident(self.card) or {"name": "?", "community": "?", "status": "?"}
        return f"{self.row['name']}  {self.card}  ·  {self.app.service.community_name(self.row['community'])}"

    def body(self) -> ComposeResult:
        yield Static("", id="balance", markup=False)
        yield Static("", id="rank", markup=False)
        yield Static(self.tr("res_history"), id="history_hint", classes="hint", markup=False)
        yield DataTable(id="history", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        svc = self.app.service
        if svc.offered("history") and not self.app.revoked:
            self.fetching = True
            self._fetch(self.card)
        else:
            self.partial = True
        super().on_mount()

    @work(thread=True, exit_on_error=False, group="history", exclusive=True)
    def _fetch(self, card: str) -> None:
        try:
            history = self.app.service.whole_history(card)
        except KioskError as exc:
            self.post_message(HistoryFetched(card, None, exc))
        else:
            self.post_message(HistoryFetched(card, history, None))

    def on_history_fetched(self, message: HistoryFetched) -> None:
        self.fetching = False
        self.whole = message.history
        self.partial = message.history is None
        if isinstance(message.error, Offline):
            self.app.log_error("history of %s: %s", message.card, message.error.why)
        elif message.error is not None and not isinstance(message.error, NotOffered):
            self.say_error(message.error)
        if self.is_mounted:
            self.fill()

    def fill(self) -> None:
        svc = self.app.service
        bal = svc.balance(self.card)
        self.query_one("#balance", Static).update(
            self.tr("res_balance", confirmed=bal.confirmed, pending=bal.pending, available=bal.available,
                    state=balance_state_text(bal.state, bal.unsynced, bal.unconfirmed, self.lang)))
        # the newest public board pulled from the server; "—" until one is published
        rank = svc.rank(self.card)
        shown = self.tr("res_rank_of", **{**rank, "month": month_text(rank["month"], self.lang)}) if rank else "—"
        self.query_one("#rank", Static).update(self.tr("res_rank", rank=shown))
        if self.row.get("status") == "retired":
            self.say("resident_retired", error=True, card=self.card)
        elif self.row.get("visitor") and self.row.get("county") is not None:
            self.say("res_other_county", county=self.row.get("county_name") or self.row["county"])
        elif self.row.get("visitor"):
            self.say("res_visitor")
        if self.whole is not None:
            self._fill_whole(self.whole)
        else:
            self._fill_local()

    def _fill_local(self) -> None:
        svc = self.app.service
        hint = "res_history_loading" if self.fetching else "res_history_partial" if self.partial else "res_history"
        self.query_one("#history_hint", Static).update(self.tr(hint))
        table = self._table(LOCAL_COLUMNS)
        where = f"{svc.shop_name} {svc.kiosk_id or ''}".strip()
        for h in svc.history(self.card, 30):
            state = self.tr("voided_mark") if h["voided_by"] else self.tr(mark) if (mark := sync_mark(h)) else ""
            table.add_row(cell(_when(h["at"])), cell(h["id"]), cell(self._kind(h["kind"])), cell(f"{h['points']:+d}", right=True),
                          cell(where), cell(state), key=h["id"])

    def _fill_whole(self, whole: History) -> None:
        svc = self.app.service
        entries = whole.entries
        key, fields = ("res_history_cut", {"shown": len(entries), "opening": whole.opening}) if whole.count > len(entries) else ("res_history_whole", {})
        self.query_one("#history_hint", Static).update(self.tr(key, count=whole.count, balance=whole.balance, **fields))
        table = self._table(WHOLE_COLUMNS)
        # this kiosk's records the server did not have when it answered (recorded since, or not synced)
        known = {e["event"] for e in entries}
        since = entries[-1]["at"] if entries and whole.count > len(entries) else 0
        where = f"{svc.shop_name} {svc.kiosk_id or ''}".strip()
        for h in svc.history(self.card, 30):
            if h["id"] not in known and h["at"] >= since:
                table.add_row(cell(_when(h["at"])), cell(h["id"]), cell(self._kind(h["kind"])),
                              cell(f"{h['points']:+d}", right=True), cell(where),
                              cell(self.tr(mark) if (mark := sync_mark(h)) else ""), key=h["id"])
        for e in entries:
            place = self.tr("where_central") if e["kiosk"] == "C" else f"{e['shop_name'] or e['shop'] or ''} {e['kiosk']}".strip()
            table.add_row(cell(_when(e["at"])), cell(e["receipt"]), cell(self._kind(e["kind"])),
                          cell(f"{e['points']:+d}", right=True), cell(place), cell(e["balance"], right=True), key=e["event"])

    def _table(self, columns: tuple[str, ...]) -> DataTable:
        table = self.query_one("#history", DataTable)
        table.clear(columns=True)
        table.add_columns(*(self.tr(k) for k in columns))
        return table

    def _kind(self, kind: str) -> str:
        return self.tr("kind_" + kind if "kind_" + kind in TABLE else "kind_other")

    def synced(self) -> None:
        self.fill()

    def action_award(self) -> None:
        from kiosk.screens.award import AwardScreen

        self.app.push_screen(AwardScreen(self.card, self.row.get("name", "")))

    def action_voice(self) -> None:
        from kiosk.screens.voice import VoiceScreen

        self.app.push_screen(VoiceScreen(self.card, self.row.get("name", "")))

    def action_tasks(self) -> None:
        from kiosk.screens.tasks import TasksScreen

        self.app.push_screen(TasksScreen(self.card, self.row.get("name", "")))

    def action_redeem(self) -> None:
        from kiosk.screens.redeem import RedeemScreen

        self.app.push_screen(RedeemScreen(self.card, self.row.get("name", "")))


def _when(ms: int) -> str:
    return local_dt(ms).strftime("%m-%d %H:%M")
