"""Residents' voice (书记信箱 letters, 村民说事 requests): receiving them from kiosk batches,
staff handling them (assign, reply, mark done), the resident's rating, the public handling
log and the monthly figures.

An item arrives as a ``voice`` event in a signed batch and is stored by ``receive`` in the
transaction that applies the batch, under its resident's community; a rating that counts
(``sync.kinds.voice_rating`` decides) is stored the same way. Staff act on an item of a
community they may act in (``voice.handle``: admin, or a community manager of its
community; everyone reads, scoped as ``review.read`` is): one transaction each, with its
handling step (``voice_steps``, appended only), its audit row and the item's ``voice_reply``
feed row, so the kiosks of its community show the resident where it stands. The status
goes ``open`` → ``assigned`` → ``replied`` → ``done``; a reply may follow another, and an
item is reassigned at will until it is done; once done it is closed (``Conflict``).

The public handling log (``public_log``, ``public_month``) shows each step with the
resident's name masked and told apart by the card's last four (``sync.board.board_name``)
and never the resident's own words or a staff member's username: what the programme
promises to publish, for a public page to mount. On the public page a done item may be
rated once by its tracking code and the last four digits of its resident's phone
(``rate_public``: a code can be guessed; five wrong tries lock the item's public rating,
and a resident with no phone on file rates at a kiosk, where the card must match;
docs/SECURITY.md); a later rating from a kiosk is then kept and reviewed as ``rated``, as
a second kiosk rating is."""

import hmac
from statistics import median

from schema.wire import Voice, VoiceReplyRec
from server.errors import Conflict, Invalid, NotFound, PublicRatingRefused
from server.services import feed
from server.services.context import Context
from server.services.staff import Principal, principal_of, record, require, scope_filter
from server.store import Tx, catalog
from server.store import staff as staff_store
from server.store import voice as store
from sync import kinds, tracking
from sync.board import board_name
from sync.calendar import month_bounds
from sync.kinds.voice import CHANNELS, text_problem
from sync.postings import VoiceInfo

STATUSES = ("open", "assigned", "replied", "done")
#: the statuses an item may be in for each staff step
_FROM = {"assign": ("open", "assigned", "replied"), "reply": ("open", "assigned", "replied"), "done": ("replied",)}
LIST_LIMIT = 500


# ---------------------------------------------------------------- from kiosk batches


def view_of(db: Tx, codes: set[str]) -> dict[str, VoiceInfo]:
    """The items the ratings of a batch name, for its ``View``."""
    return store.infos(db, codes) if codes else {}


def receive(db: Tx, events: list, ratings: dict[str, tuple[str, int]], kiosk: str, shop: str, now: int) -> None:
    """Store the letters and requests of a projected batch (``events``: its ``voice`` and
    ``voice_rating`` events), and the ratings that count (``Plan.ratings``: tracking code ->
    (event, stars)); ``now``: when the batch was acknowledged. Written by the projector in
    the transaction that projects the batch (``server.services.projector``)."""
    letters = [ev for ev in events if kinds.tag_of(ev) == "voice"]
    communities = catalog.resident_communities(db, [ev.resident for ev in letters]) if letters else {}
    for ev in letters:
        _receive(db, ev, communities[ev.resident], kiosk, shop, now)
    at_of = {ev.id: ev.at for ev in events}
    for code, (event, stars) in sorted(ratings.items()):
        store.set_rating(db, code, stars, at_of[event], event)
        store.append_step(db, code, at_of[event], kiosk, "rated", {"stars": stars, "event": event})
        _publish(db, store.item(db, code))


def _receive(db: Tx, ev: Voice, community: str, kiosk: str, shop: str, now: int) -> None:
    store.insert_item(db, {"code": ev.code, "event": ev.id, "channel": ev.channel, "category": ev.category,
                           "resident": ev.resident, "community": community, "kiosk": kiosk, "shop": shop or None,
                           "text": ev.text, "at": ev.at, "received_at": now})
    store.append_step(db, ev.code, ev.at, kiosk, "received", {"event": ev.id})
    _publish(db, store.item(db, ev.code))


def _publish(db: Tx, row: dict) -> None:
    rec = VoiceReplyRec(code=row["code"], resident=row["resident"], channel=row["channel"], category=row["category"],
                        at=row["at"], status=row["status"], reply=row["reply"], replied_at=row["replied_at"],
                        done_at=row["done_at"], stars=row["stars"])
    feed.publish(db, "voice_reply", rec, shop=row["community"])


# ---------------------------------------------------------------- staff


def list_items(ctx: Context, who: Principal, community: str | None = None, status: str | None = None,
               channel: str | None = None, month: str | None = None, limit: int = 200) -> list[dict]:
    """Items ``who`` may see, newest first, filtered by community, status, channel and the
    month they were recorded in."""
    require(who, "voice.read")
    if status is not None and status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}", status=status[:20])
    if channel is not None and channel not in CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(CHANNELS)}", channel=channel[:20])
    start, end = _month(month) if month else (None, None)
    allowed = scope_filter(who, community)
    with ctx.store.read() as db:
        return store.list_items(db, allowed, status, channel, start, end, min(max(int(limit), 1), LIST_LIMIT))


def item(ctx: Context, who: Principal, code: str) -> dict:
    """One item with its resident's name and every handling step."""
    require(who, "voice.read")
    with ctx.store.read() as db:
        row = _visible(db, who, "voice.read", code)
        resident = catalog.row_by_key(db, "residents", row["resident"]) or {}
        return row | {"resident_name": resident.get("name", ""), "steps": store.steps(db, row["code"])}


def assign(ctx: Context, who: Principal, code: str, staff: str) -> dict:
    """Give the item to a staff account that may handle it."""
    require(who, "voice.handle")
    with ctx.store.write() as db:
        row = _visible(db, who, "voice.handle", code)
        target = staff_store.staff_by_name(db, str(staff or "").strip())
        if target is None:
            raise NotFound("staff", str(staff)[:32])
        them = principal_of(target)
        if target["status"] != "active" or not them.can("voice.handle") or not them.sees(row["community"]):
            raise Invalid(f"staff {them.username} may not handle letters and requests of community {row['community']}",
                          staff=them.username, community=row["community"], field="staff")
        return _step(ctx, db, who, row, "assign", {"status": "assigned", "assignee": them.username}, {"to": them.username})


def handlers(ctx: Context, who: Principal, code: str) -> list[str]:
    """The staff accounts the item may be assigned to (active, allowed to handle items of
    its community), for the console's choice."""
    require(who, "voice.handle")
    with ctx.store.read() as db:
        row = _visible(db, who, "voice.handle", code)
        return sorted(s["username"] for s in staff_store.list_staff(db) if s["status"] == "active"
                      and (p := principal_of(s)).can("voice.handle") and p.sees(row["community"]))


def reply(ctx: Context, who: Principal, code: str, text: str) -> dict:
    """Answer the resident; the reply reaches the kiosks of the item's community."""
    require(who, "voice.handle")
    problem = text_problem(text, "a reply")
    if problem:
        raise Invalid(problem, item=str(code)[:40], field="reply")
    with ctx.store.write() as db:
        row = _visible(db, who, "voice.handle", code)
        now = ctx.now()
        return _step(ctx, db, who, row, "reply", {"status": "replied", "reply": text, "replied_at": now}, {"text": text})


def done(ctx: Context, who: Principal, code: str) -> dict:
    """Mark a replied item done: the resident may rate it from now on."""
    require(who, "voice.handle")
    with ctx.store.write() as db:
        row = _visible(db, who, "voice.handle", code)
        if row["status"] == "open" or row["status"] == "assigned":
            raise Conflict(f"{row['code']} has no reply yet: reply before marking it done", item=row["code"], state=row["status"])
        return _step(ctx, db, who, row, "done", {"status": "done", "done_at": ctx.now()}, {})


def _step(ctx: Context, db: Tx, who: Principal, row: dict, action: str, fields: dict, detail: dict) -> dict:
    code = row["code"]
    if not store.set_state(db, code, _FROM[action], **fields):
        raise Conflict(f"{code} is {row['status']}: it can no longer be changed", item=code, state=row["status"])
    step = {"assign": "assigned", "reply": "replied", "done": "done"}[action]
    store.append_step(db, code, ctx.now(), who.username, step, detail)
    record(db, ctx, who, f"voice_{action}", code, detail | {"community": row["community"]})
    fresh = store.item(db, code)
    _publish(db, fresh)
    return fresh


def _visible(db: Tx, who: Principal, permission: str, code: str) -> dict:
    """The item, if ``who`` may ``permission`` in its community (404 for an unknown code,
    403 for another community's)."""
    code = _code(code)
    row = store.item(db, code)
    if row is None:
        raise NotFound("voice item", code)
    require(who, permission, row["community"])
    return row


def _code(code: str) -> str:
    """The stored form of a typed tracking code; ``Invalid`` naming it otherwise."""
    try:
        return tracking.normalise(code)
    except tracking.InvalidTracking as exc:
        raise Invalid(str(exc), item=exc.value, field="code") from None


def _month(month: str) -> tuple[int, int]:
    try:
        year, mon = str(month).split("-")
        if len(year) != 4 or len(mon) != 2 or not 1 <= int(mon) <= 12:
            raise ValueError
        return month_bounds(month)
    except ValueError:
        raise Invalid(f"month must be YYYY-MM, not {str(month)[:20]!r}", month=str(month)[:20]) from None


# ---------------------------------------------------------------- the public handling log


def _public(db: Tx, row: dict, names: dict[str, str]) -> dict:
    steps = [{"at": s["at"], "step": s["step"]} | ({"reply": s["detail"]["text"]} if s["step"] == "replied" else {})
             | ({"stars": s["detail"]["stars"]} if s["step"] == "rated" else {}) for s in store.steps(db, row["code"])]
    return {"code": row["code"], "channel": row["channel"], "category": row["category"], "community": row["community"],
            "name": board_name(names.get(row["resident"], ""), row["resident"]), "at": row["at"], "status": row["status"],
            "reply": row["reply"], "done_at": row["done_at"], "stars": row["stars"], "steps": steps}


def public_log(ctx: Context, code: str) -> dict:
    """One item's public handling log by its tracking code (no sign-in): each step, the
    resident's name masked, the replies; never the resident's words, phone or staff
    usernames. ``public_rating``: for a done, unrated item whether the public page takes
    its rating (``_public_rating``), else None."""
    code = _code(code)
    with ctx.store.read() as db:
        row = store.item(db, code)
        if row is None:
            raise NotFound("voice item", code)
        resident = catalog.row_by_key(db, "residents", row["resident"]) or {}
        rating = _public_rating(db, row, resident) if row["status"] == "done" and row["stars"] is None else None
        return _public(db, row, {row["resident"]: resident.get("name", "")}) | {"public_rating": rating}


def public_month(ctx: Context, community: str, month: str) -> list[dict]:
    """The public handling log of every item of ``community`` recorded in ``month``."""
    start, end = _month(month)
    with ctx.store.read() as db:
        rows = store.month_items(db, start, end, [community])
        names = {r["resident"]: (catalog.row_by_key(db, "residents", r["resident"]) or {}).get("name", "") for r in rows}
        return [_public(db, r, names) for r in reversed(rows)]


#: the actor of a rating given on the public page (no account, no kiosk)
PUBLIC = "public"


#: wrong phone digits after which an item is no longer rated on the public page
PUBLIC_TRIES = 5


def _phone_tail(phone: str | None) -> str | None:
    """The last four digits of a phone on file; None when there is none to ask for."""
    tail = (phone or "").strip()[-4:]
    return tail if len(tail) == 4 and tail.isascii() and tail.isdigit() else None


def _public_rating(db: Tx, row: dict, resident: dict) -> str:
    """Whether the public page takes a rating of this done, unrated item: ``open`` (with
    the phone's last four), ``locked`` (``PUBLIC_TRIES`` wrong) or ``no_phone``."""
    if store.public_failures(db, row["code"]) >= PUBLIC_TRIES:
        return "locked"
    return "open" if _phone_tail(resident.get("phone")) else "no_phone"


def rate_public(ctx: Context, code: str, stars: int, phone_tail: str) -> dict:
    """The resident's stars for a done item, given on the public page by its tracking code
    and the last four digits of the phone the resident is registered with: once
    (``Conflict`` when it is rated, not done yet). Logged as a ``rated`` step by ``public``
    and sent to the community's kiosks like a kiosk's rating.

    Wrong digits are refused (``PublicRatingRefused``, ``wrong_phone``) and counted
    (``voice_rate_failures``, committed though the rating is refused); from the
    ``PUBLIC_TRIES``-th the item is ``locked`` on the public page, right digits or not, and
    is rated at a kiosk (where the card must match). A resident with no phone on file rates
    at a kiosk too (``no_phone``). The digits are compared in constant time; every refusal
    here is for an item whose public log anyone can read already."""
    code = _code(code)
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise Invalid("stars must be a whole number from 1 to 5", item=code, field="stars")
    given = (phone_tail or "").strip()
    if not (len(given) == 4 and given.isascii() and given.isdigit()):
        raise Invalid("the phone's last four digits must be four digits", item=code, field="phone_tail")
    with ctx.store.write() as db:
        row = store.item(db, code)
        if row is None:
            raise NotFound("voice item", code)
        if row["status"] != "done":
            raise Conflict(f"{code} is not done yet: it can be rated once done", item=code, state=row["status"])
        if row["stars"] is not None:
            raise Conflict(f"{code} is already rated", item=code, state="rated")
        resident = catalog.row_by_key(db, "residents", row["resident"]) or {}
        state = _public_rating(db, row, resident)
        if state != "open":
            raise PublicRatingRefused(code, state)
        if not hmac.compare_digest(given.encode(), _phone_tail(resident["phone"]).encode()):
            failures = store.add_public_failure(db, code)  # kept: the refusal is raised once committed
            wrong = PublicRatingRefused(code, "wrong_phone", PUBLIC_TRIES - failures) if failures < PUBLIC_TRIES \
                else PublicRatingRefused(code, "locked")
        else:
            wrong = None
            now = ctx.now()
            store.set_rating(db, code, stars, now, PUBLIC)
            store.append_step(db, code, now, PUBLIC, "rated", {"stars": stars, "event": None})
            _publish(db, store.item(db, code))
    if wrong is not None:
        raise wrong
    return {"code": code, "stars": stars}


def public_summary(ctx: Context, community: str, month: str) -> list[dict]:
    """The monthly figures of one community (``summary_rows``), for the public page."""
    start, end = _month(month)
    with ctx.store.read() as db:
        names = {c["id"]: c["name"] for c in catalog.list_rows(db, "communities")}
        if community not in names:
            raise NotFound("community", community)
        return summary_rows(store.month_items(db, start, end, [community]), names)


def communities(ctx: Context) -> list[dict]:
    """Every community (id, name), for the public page's index."""
    with ctx.store.read() as db:
        return [{"id": c["id"], "name": c["name"]} for c in catalog.list_rows(db, "communities")]


# ---------------------------------------------------------------- the monthly figures


def summary_rows(items: list[dict], community_names: dict[str, str]) -> list[dict]:
    """Per community and channel: received, handled (done), the median time from recording
    to done (seconds), rated, rated 4 or 5, and that share of the rated (percent, one
    decimal; None when none was rated)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in items:
        groups.setdefault((r["community"], r["channel"]), []).append(r)
    rows = []
    for (community, channel), rs in sorted(groups.items()):
        handled = [r for r in rs if r["status"] == "done"]
        rated = [r["stars"] for r in rs if r["stars"] is not None]
        good = sum(s >= 4 for s in rated)
        rows.append({"community": community, "community_name": community_names.get(community, community), "channel": channel,
                     "received": len(rs), "handled": len(handled),
                     "median_handle_s": int(median((r["done_at"] - r["at"]) // 1000 for r in handled)) if handled else None,
                     "rated": len(rated), "rated_4_5": good,
                     "share_4_5": round(100 * good / len(rated), 1) if rated else None})
    return rows


VOICE_COLUMNS = ["community", "community_name", "channel", "received", "handled", "median_handle_s", "rated", "rated_4_5",
                 "share_4_5"]


def report_body(db: Tx, start: int, end: int, allowed: list[str] | None) -> dict:
    """The ``voice`` report of ``server.services.reports``: one row per community and channel."""
    names = {c["id"]: c["name"] for c in catalog.list_rows(db, "communities")}
    rows = summary_rows(store.month_items(db, start, end, allowed), names)
    rated = sum(r["rated"] for r in rows)
    good = sum(r["rated_4_5"] for r in rows)
    return {"columns": VOICE_COLUMNS, "rows": rows,
            "totals": {"received": sum(r["received"] for r in rows), "handled": sum(r["handled"] for r in rows),
                       "rated": rated, "rated_4_5": good, "share_4_5": round(100 * good / rated, 1) if rated else None}}




