"""Which counties a batch touches: what one projector per county needs to know of it.

The ledger's state is kept per county — a resident's balance, cap counters and letters by
the county the resident lives in, a shop's account, stock and kiosk events by the shop's,
a volunteer task's claims by its community's — and the programme's own accounts
(``programme:issued`` and the rest) only ever move by addition, read by no rule. So a
batch's projection reads and moves only the state of the counties it names, and each
county's projector folds the batches naming its county in log order
(``server.services.projector``): the same ledger as one fold of the whole log, which
``reproject --check`` confirms.

A batch names, when it is acknowledged (``server.services.push``): its shop's county, the
counties of the residents it names (a resident of another county served through the signed
lookup makes a cross-county batch), of the shops whose stock it moves, of the tasks it
claims or completes (a task open to every community: every county), of the letters its
ratings name, and of the earlier events its voids reverse. What cannot be told yet (a
rating of a letter not yet projected, a void whose target is not) is answered by "every
county the kiosk's waiting batches name", or every county: naming too many only orders a
batch after more, naming too few would let it pass one it must follow. A central batch
names none: every county (``server.store.log.append``).
"""

from server.store import Tx, catalog, ledger
from server.store import log as logstore
from server.store import tasks as task_store
from server.store import voice as voice_store
from sync.postings import Refs


def touched(db: Tx, kiosk: str, shop: str, refs: Refs) -> set[str] | None:
    """The counties a batch of ``kiosk`` at ``shop`` referring to ``refs`` touches; None:
    every county."""
    out = {catalog.county_of_shop(db, shop)}
    cards = set(refs.cards)
    if refs.stock:
        out |= catalog.counties_of_shops(db, {s for s, _ in refs.stock})
    if refs.tasks:
        communities = task_store.communities_of(db, refs.tasks)
        if len(communities) < len(refs.tasks) or None in communities.values():
            return None  # a task open to every community: its claims are counted across counties
        out |= catalog.counties_of_communities(db, set(communities.values()))
    if refs.voices:
        residents = voice_store.item_residents(db, refs.voices)
        if len(residents) < len(refs.voices):
            return None  # a rating of a letter not yet projected: wherever that letter waits
        cards |= set(residents.values())
    if refs.targets:
        residents = ledger.event_residents(db, refs.targets)
        cards |= {r for r in residents.values() if r}
        if len(residents) < len(refs.targets):  # a target not yet projected: in a waiting batch of this kiosk, or in this one
            waiting = logstore.kiosk_pending_counties(db, kiosk)
            if waiting is None:
                return None
            out |= waiting
    if cards:
        out |= catalog.counties_of_cards(db, cards)
    return out
