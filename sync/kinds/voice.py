"""``voice``: a resident's letter to the secretary (书记信箱) or request (村民说事), recorded
by a service station's operator, with the tracking code printed on the resident's slip.

No postings and no stock moves: the server keeps the item (``server.services.voice``),
staff assign, reply and mark it done, and the kiosks of the resident's community pull its
status and reply (feed kind ``voice_reply``). The channel and category lists live here and
nowhere else. A server of an earlier release does not accept the kind, so a kiosk records
one only when its server's ``accepts`` row names it (``kiosk.recording``)."""

from schema.wire import Voice
from sync import tracking
from sync.kinds.base import Columns, Kind, ReceiptPart, Step, reject, screen_resident
from sync.names import name_problem
from sync.postings import Refs

#: the two channels: a letter to the secretary, a request collected at the station
CHANNELS = ("letter", "request")
#: what a letter or request is about (the words are in each interface's translation table)
CATEGORIES = ("environment", "roads", "safety", "neighbours", "elderly", "services", "suggestion", "other")
#: the longest text a letter, a request or a reply may hold (``schema.types.VoiceText``)
MAX_TEXT = 1000


def text_problem(text: str, what: str = "text") -> str | None:
    """Why ``text`` cannot be a letter's, request's or reply's words (None when it can)."""
    return name_problem(text, what, MAX_TEXT)


class VoiceKind(Kind):
    tag = "voice"
    wire = Voice
    origin = "kiosk"
    voidable = False  # what a resident said is answered, never taken back

    def refs(self, ev: Voice, refs: Refs) -> None:
        refs.cards.add(ev.resident)

    def check(self, ev: Voice) -> None:
        if ev.code != tracking.of_event(ev.id):
            raise reject(ev, f"tracking code {ev.code} is not the code of this event ({tracking.of_event(ev.id)})")
        if ev.category not in CATEGORIES:
            raise reject(ev, f"category {ev.category!r} is not one of {', '.join(CATEGORIES)}", category=ev.category)
        problem = text_problem(ev.text)
        if problem:
            raise reject(ev, problem)

    def screen(self, ev: Voice, step: Step) -> None:
        screen_resident(ev, step)

    def columns(self, ev: Voice) -> Columns:
        return Columns(operator=ev.operator, resident=ev.resident)

    def receipt(self, ev: Voice) -> ReceiptPart:
        return ReceiptPart(tracking=ev.code, topic=(ev.channel, ev.category))


KIND = VoiceKind()
