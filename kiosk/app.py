"""The kiosk at the counter: a Textual app handed its ``KioskService``.

The app owns what the screens share: the signed-in operator, the language, the status
figures, background sync and the one ``record`` path every transaction goes through.
Sync runs in a thread worker (the only place that touches the network) with back-off and
posts ``SyncDone`` back; widgets change only in message handlers, so a hanging server
never freezes a screen. Recording is local and never waits on the network.
"""

import logging

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer

from kiosk import printer, receipts
from kiosk.background import Backoff, SyncOutcome, probe_backoff, probe_once, sync_once
from kiosk.counter import Operator
from kiosk.errors import KioskError
from kiosk.i18n import t
from kiosk.service import KioskService
from kiosk.settings import Settings
from sync.calendar import local_dt
from kiosk.typeahead import TypeAhead

#: seconds after a transaction before it is uploaded (a burst of scans shares one round)
SYNC_AFTER_RECORD = 2.0
#: how often the status figures are re-read from the database between syncs
STATUS_EVERY = 5.0


class SyncDone(Message):
    """A background sync round finished (posted from the worker thread)."""

    def __init__(self, outcome: SyncOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class ProbeDone(Message):
    """A health probe finished (posted from the worker thread): does the server answer?"""

    def __init__(self, up: bool) -> None:
        super().__init__()
        self.up = up


class Recorded(Message):
    """A transaction was recorded and committed; its receipt is on screen."""

    def __init__(self, event_id: str, kind: str) -> None:
        super().__init__()
        self.event_id = event_id
        self.kind = kind


class Printed(Message):
    """A receipt went to the printer (posted from the print worker); ``error`` if it did not."""

    def __init__(self, event_id: str, error: KioskError | None) -> None:
        super().__init__()
        self.event_id = event_id
        self.error = error


class KioskApp(App):
    TITLE = "jifen"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #title { height: 1; text-style: bold; padding: 0 1; background: $boost; }
    #message { height: auto; max-height: 3; padding: 0 1; color: $success; }
    #message.error { color: $error; text-style: bold; }
    DataTable { height: 1fr; }
    Input { margin: 0 1; }
    .hint { padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("f5", "sync_now", "key_sync"),
        Binding("f12", "switch_lang", "key_lang"),
        Binding("ctrl+q", "quit", "key_quit", show=False, priority=True),
        # shown in the key bar only on a revoked kiosk, so the key bar says why keys are dimmed
        Binding("f11", "revoked_notice", "key_revoked"),
    ]

    def __init__(self, service: KioskService, *, lang: str = "zh", auto_sync: bool = True,
                 backoff: Backoff | None = None, probe_every: float | None = None) -> None:
        super().__init__()
        self.service = service
        self.lang = lang
        self.auto_sync = auto_sync
        self.backoff = backoff or Backoff()
        self.counter = service.counter
        self.operator: Operator | None = None
        self.status: dict = service.status()
        self.syncing = False
        self.sync_problem: tuple[str, dict] | None = None
        self._next_sync: Timer | None = None
        #: seconds between health probes while the server answers (0: none); on with auto_sync
        self.probe = probe_backoff(probe_every) if probe_every else probe_backoff() if auto_sync else None
        self.server_up: bool | None = None  # what the last probe found (None: no probe yet)
        self._recording = False
        self.typeahead = TypeAhead(self)

    async def on_event(self, event: events.Event) -> None:
        # every key typed goes through the type-ahead queue, so a burst follows focus changes
        if isinstance(event, events.Key) and not event.is_forwarded and not self.typeahead.is_released(event):
            self.typeahead.hold(event)
            return
        await super().on_event(event)

    @property
    def revoked(self) -> bool:
        return bool(self.status.get("revoked"))

    def on_mount(self) -> None:
        from kiosk.screens.signin import SignInScreen

        self.push_screen(SignInScreen())
        self.set_interval(STATUS_EVERY, self.refresh_status)
        if self.auto_sync and self.status["enrolled"]:
            self.start_sync()
        if self.probe is not None and self.status["enrolled"]:
            self._probe_in_thread()

    # ------------------------------------------------------------ session

    def signed_in(self, operator: Operator) -> None:
        from kiosk.screens.find import FindScreen

        self.operator = operator
        self.switch_screen(FindScreen())

    def action_sign_out(self) -> None:
        from kiosk.screens.signin import SignInScreen

        self.operator = None
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(SignInScreen())

    # ------------------------------------------------------------ recording

    def record(self, do) -> str | None:
        """Run one recording call ``do(operator_id) -> Recorded`` (recorded with
        ``receipt=True``) and show its receipt, built from what the recording transaction
        returned; returns the event id.

        The one path every transaction takes: a second call while one is running (a
        scanner's double Enter) does nothing, and a refusal becomes a sentence on the
        current screen with nothing recorded.
        """
        if self._recording or self.operator is None:
            return None
        self._recording = True
        try:
            recorded = do(self.operator.id)
        except KioskError as exc:
            self.screen.say_error(exc)
            return None
        finally:
            self._recording = False
        receipt = receipts.build(recorded, pending=not self.status.get("reachable"))
        try:
            path = receipts.save(receipt, self.lang, self.service.settings.data_dir)
        except OSError as exc:  # recorded and committed; only the receipt file is missing
            self.log_error("saving receipt %s failed: %r", receipt.event_id, exc)
            path = None
        self.refresh_status()
        from kiosk.screens.receipt import ReceiptScreen

        self.pop_screen()  # the action screen: done with it, back to where it came from after the receipt
        self.push_screen(ReceiptScreen(receipt, path))
        self.post_message(Recorded(recorded.id, receipt.kind))
        self.print_receipt(receipt)
        return recorded.id

    def log_error(self, text: str, *args) -> None:
        """Technical detail for the kiosk's log file (``kiosk.cli`` sets it up), never the screen."""
        logging.getLogger("kiosk.app").warning(text, *args)

    def print_receipt(self, receipt: receipts.Receipt) -> None:
        """Send ``receipt`` to the kiosk's printer, if it has one, in a thread worker (a
        printer that hangs must not freeze the counter); ``Printed`` reports back."""
        if self.service.settings.printer:
            self._print_in_thread(self.service.settings.printer, receipt, self.lang)

    @work(thread=True, exit_on_error=False, group="print")
    def _print_in_thread(self, spec: str, receipt: receipts.Receipt, lang: str) -> None:
        try:
            printer.print_receipt(spec, receipt, lang)
        except KioskError as exc:
            self.post_message(Printed(receipt.event_id, exc))
        else:
            self.post_message(Printed(receipt.event_id, None))

    def on_printed(self, message: Printed) -> None:
        printed = getattr(self.screen, "printed", None)
        if printed is not None and self.screen.is_mounted:
            printed(message)

    # ------------------------------------------------------------ status

    def refresh_status(self) -> None:
        self.status = self.service.status()
        for screen in self.screen_stack:
            screen.refresh_bindings()
        self.screen.query("StatusBar").refresh()

    def status_lines(self) -> tuple[str, str]:
        st, lang = self.status, self.lang
        up = st.get("reachable") if self.server_up is None else self.server_up
        state = "st_revoked" if st.get("revoked") else "st_syncing" if self.syncing else "st_online" if up else "st_offline"
        parts = [f"{st.get('shop_name') or st.get('shop') or '—'} · {st.get('kiosk') or '—'}",
                 t(state, lang),
                 t("st_unsynced", lang, n=st.get("pending_events", 0)),
                 t("st_last", lang, ago=self._ago(st.get("last_pull_at")))]
        if self.operator:
            parts.append(self.operator.name)
        return " │ ".join(parts), self._warning()

    def _warning(self) -> str:
        st, lang = self.status, self.lang
        if st.get("revoked"):
            return t("warn_revoked", lang)
        if st.get("stopped_reason"):
            return t("warn_stopped", lang, reason=st["stopped_reason"])
        if st.get("enrolled") and not st.get("lease_remaining_seconds"):
            return t("warn_lease", lang)
        if st.get("clock_wrong"):
            cw = st["clock_wrong"]
            return t("warn_clock", lang, reading=_minute(cw["reading"]), at=_minute(cw["at"]))
        if st.get("checkpoint_alert"):
            return t("warn_checkpoint", lang)
        if self.server_up is False:
            return t("warn_unreachable", lang)
        if self.sync_problem and not (self.server_up and self.sync_problem[0] == "offline"):
            return t(self.sync_problem[0], lang, **self.sync_problem[1])
        if st.get("offline_mode") and st.get("last_pull_at") is not None:
            return t("warn_offline_long", lang)
        return ""

    def _ago(self, ms: int | None) -> str:
        if not ms:
            return t("never", self.lang)
        minutes = max(0, self.service.clock() - ms) // 60_000
        if minutes < 1:
            return t("ago_now", self.lang)
        if minutes < 60:
            return t("ago_min", self.lang, n=minutes)
        if minutes < 48 * 60:
            return t("ago_hour", self.lang, n=minutes // 60)
        return t("ago_day", self.lang, n=minutes // 1440)

    # ------------------------------------------------------------ sync

    def action_sync_now(self) -> None:
        if self.syncing:
            self.notify(t("sync_busy", self.lang))
            return
        self.start_sync()

    def start_sync(self) -> None:
        if self._next_sync is not None:
            self._next_sync.stop()
            self._next_sync = None
        self.syncing = True
        self.screen.query("StatusBar").refresh()
        self._sync_in_thread()

    def on_recorded(self, message: Recorded) -> None:
        """Upload soon after a transaction while the server answers, so the unsynced count
        drops without the operator pressing F5; while it does not, keep the back-off."""
        if self.auto_sync and not self.syncing and self.backoff.failures == 0:
            if self._next_sync is not None:
                self._next_sync.stop()
            self._next_sync = self.set_timer(SYNC_AFTER_RECORD, self.start_sync)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "revoked_notice":
            return self.revoked  # hidden from the key bar unless revoked
        return True

    def action_revoked_notice(self) -> None:
        self.notify(t("kiosk_revoked", self.lang), severity="error")

    @work(thread=True, exit_on_error=False, group="probe", exclusive=True)
    def _probe_in_thread(self) -> None:
        self.post_message(ProbeDone(probe_once(self.service)))

    def on_probe_done(self, message: ProbeDone) -> None:
        """Follow the server within seconds: the status bar changes as soon as a probe finds
        it gone or back, and a server that is back gets what is waiting at once."""
        came_back = message.up and self.server_up is False
        self.server_up = message.up
        if came_back and not self.syncing:
            self.start_sync()
        self.screen.query("StatusBar").refresh()
        if self.probe is not None:
            self.set_timer(self.probe.next_delay(message.up), self._probe_in_thread)

    @work(thread=True, exit_on_error=False, group="sync")
    def _sync_in_thread(self) -> None:
        # blocking network I/O lives here only; the result travels back as a message
        self.post_message(SyncDone(sync_once(self.service)))

    def on_sync_done(self, message: SyncDone) -> None:
        result = message.outcome.result
        self.syncing = False
        self.sync_problem = None if result.ok else (result.problem or "error", result.detail)
        if result.ok or result.problem == "offline":
            self.server_up = result.ok  # the round just found out; the next probe goes on from here
        delay = self.backoff.next_delay(result.ok)
        if self.auto_sync:
            self._next_sync = self.set_timer(delay, self.start_sync)
        self.status = message.outcome.status
        for screen in self.screen_stack:
            screen.refresh_bindings()
        self.screen.query("StatusBar").refresh()
        synced = getattr(self.screen, "synced", None)
        if synced is not None and self.screen.is_mounted:
            synced()  # balances and stock may have moved

    # ------------------------------------------------------------ quitting

    async def action_quit(self) -> None:
        """Ctrl+Q: records not yet on the server are safe on disk, but the operator should
        know that closing now leaves them there until the kiosk next runs online."""
        pending = self.service.status().get("pending_events", 0)
        if not pending:
            self.exit()
            return
        from kiosk.screens.confirm import ConfirmScreen

        self.push_screen(ConfirmScreen(t("confirm_quit_unsynced", self.lang, n=pending)),
                         lambda yes: self.exit() if yes else None)

    def action_help_quit(self) -> None:
        """Ctrl+C (Textual's own hint that it does not quit), in the operator's language."""
        self.notify(t("quit_hint", self.lang), title=t("key_quit", self.lang), markup=False)

    # ------------------------------------------------------------ language

    def action_switch_lang(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"
        relang = getattr(self.screen, "relang", None)
        if relang is not None:
            self.run_worker(relang(), group="relang")


def run(settings: Settings) -> int:
    """``jifen-kiosk`` with no subcommand: open the app on the kiosk's data folder."""
    service = KioskService(settings)
    try:
        if not service.kiosk_id:
            print(t("not_enrolled", settings.lang))
            return 1
        KioskApp(service, lang=settings.lang).run()
    finally:
        service.close()
    return 0


def _minute(ms: int) -> str:
    return local_dt(ms).strftime("%Y-%m-%d %H:%M")
