"""Keys typed faster than the screen changes land where the operator sees focus next.

A barcode scanner types a whole code and Enter in a few milliseconds, and people type
``op1⇥1234⏎`` without waiting. Textual hands each key to the widget focused *at the moment
the app reads it*, but what a key causes (Enter submits, a handler moves focus, a screen is
pushed, a language switch recomposes) happens later, in other widgets' message queues, and
a ``focus()`` is itself queued behind keys already typed. So the keys of a burst used to
reach the old field or the old screen: ``op11234`` in the operator id, ``SOAP5`` as a goods
code, a highlighted row opened instead of the scanned card.

The cure is one rule for the whole app: keys are held in arrival order and released one at
a time, each only when everything the previous one caused has settled: for a few turns of
the event loop no widget, screen or the app itself has a message waiting (focus changes and
screen pushes are such messages) and no recompose is running. Nothing is dropped; a key is
released after ``SETTLE_LIMIT`` seconds even if something keeps the app busy, so the kiosk
never stops taking keys. Characters typed while a list has focus go to the screen's code
field (``KioskScreen.TYPE_INTO``), so a scan's Enter never opens the highlighted row.

One more rule follows from "keys land where the operator sees focus": a question
(a screen with ``ASKS = True``, the confirm dialog) is answered only by keys typed after it
was on screen; a scanner's trailing CR LF typed before the question appeared is not a yes.
"""

import asyncio
from collections import deque
from time import monotonic

from textual import events

#: seconds a held key waits at most for the app to settle before it is released anyway
SETTLE_LIMIT = 1.0
#: consecutive turns of the event loop with every queue empty that count as settled: a
#: handler that awaits (a mount, a screen push) leaves its queue empty for a turn or two
#: while the messages it posts to its children are still on their way
QUIET_ROUNDS = 5


class TypeAhead:
    """The app's key queue. ``hold`` takes a key as it arrives; a task releases them in order."""

    def __init__(self, app) -> None:
        self.app = app
        self._held: deque[events.Key] = deque()
        self._releasing: events.Key | None = None
        self._task: asyncio.Task | None = None

    @property
    def pending(self) -> int:
        """Keys typed but not yet handed to a widget (a test waits for 0)."""
        return len(self._held) + (self._releasing is not None)

    def is_released(self, event: events.Key) -> bool:
        return event is self._releasing

    def hold(self, event: events.Key) -> None:
        self._held.append(event)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._release_all())

    async def _release_all(self) -> None:
        while self._held:
            typed = self._held.popleft()
            await self._settled()
            if self._answered_too_early(typed):
                continue
            key = events.Key(typed.key, typed.character)
            key.time = typed.time
            key.set_sender(self.app)
            self._releasing = key
            try:
                self.app.post_message(key)
                await self._settled()
            finally:
                self._releasing = None

    def _answered_too_early(self, typed: events.Key) -> bool:
        screen = self.app.screen
        return getattr(screen, "ASKS", False) and typed.time < getattr(screen, "shown_at", 0.0)

    async def _settled(self) -> None:
        deadline = monotonic() + SETTLE_LIMIT
        quiet = 0
        while quiet < QUIET_ROUNDS and monotonic() < deadline:
            await asyncio.sleep(0)
            quiet = 0 if self._busy() else quiet + 1

    def _busy(self) -> bool:
        app = self.app
        if self._in_flight(app):  # focus changes and screen pushes are callbacks on the app's queue
            return True
        if any(w.group == "relang" and not w.is_finished for w in app.workers):
            return True
        return any(self._in_flight(node) for node in list(app._registry))

    @staticmethod
    def _in_flight(node) -> bool:
        return not node._message_queue.empty()
