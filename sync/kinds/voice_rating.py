"""``voice_rating``: the resident's 1-5 stars for a letter or request once it is done,
given once, at any kiosk serving the resident's community (card and tracking code).

A kiosk refuses a second rating up front when it knows of the first (its mirror of the
``voice_reply`` feed, or its own unsent rating). Two offline kiosks may still each take
one; the server never refuses a signed batch for it (a chain has no gaps, so a refusal
would hold back every later event of that kiosk). It applies the event and counts only
the first rating of a done item by the item's own resident; any other rating is kept as
recorded, counts nowhere, and raises a ``voice_rating_refused`` review item whose
``reason`` says why: ``unknown`` (no such item), ``other_resident``, ``not_done`` or
``rated`` (with the stars that count)."""

from schema.wire import VoiceRating
from sync.kinds.base import Columns, Kind, ReceiptPart, Step, screen_resident
from sync.postings import Refs, VoiceInfo


class VoiceRatingKind(Kind):
    tag = "voice_rating"
    wire = VoiceRating
    origin = "kiosk"
    voidable = False  # a rating is given once; staff see a mistaken one as it was given

    def refs(self, ev: VoiceRating, refs: Refs) -> None:
        refs.cards.add(ev.resident)
        refs.voices.add(ev.code)

    def screen(self, ev: VoiceRating, step: Step) -> None:
        screen_resident(ev, step)
        item = step.view.voices.get(ev.code)
        reason = refused(item, ev.resident)
        if reason is not None:
            detail = {"code": ev.code, "reason": reason, "stars": ev.stars}
            if reason == "rated":
                detail["counted"] = item.stars
            step.review("voice_rating_refused", ev.id, ev.resident, detail)
            return
        step.plan.ratings[ev.code] = (ev.id, ev.stars)
        # a second rating later in the same batch finds this one
        step.view.voices[ev.code] = VoiceInfo(item.resident, item.status, ev.stars)

    def columns(self, ev: VoiceRating) -> Columns:
        return Columns(operator=ev.operator, resident=ev.resident)

    def receipt(self, ev: VoiceRating) -> ReceiptPart:
        return ReceiptPart(tracking=ev.code, stars=ev.stars)


def refused(item: VoiceInfo | None, card: str) -> str | None:
    """Why a rating by ``card`` of ``item`` does not count (None: it does)."""
    if item is None:
        return "unknown"
    if item.resident != card:
        return "other_resident"
    if item.status != "done":
        return "not_done"
    if item.stars is not None:
        return "rated"
    return None


KIND = VoiceRatingKind()
