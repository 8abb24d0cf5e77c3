"""A kiosk's signed online lookup and history (issue 10, "the resident in front of the
counter"; issue 11, Medium 6): a kiosk that mirrors only its shop's communities asks the
server for one resident by exact card and for a resident's whole history. Signed like a
pull, refused for a wrong signature or a revoked kiosk, bounded per kiosk and day, and
every answered request is an audit row."""

import dataclasses

import msgspec

from schema.wire import HistoryReply, LookupReply, OffersRec
from server.services.lookup import actor
from server.services.manage import revoke_kiosk
from server.services.staff import SYSTEM
from server.store import ledger
from server.store import staff as staff_store
from sync import codec
from tests.conftest import DAY
from tests.server.conftest import CARD_A, CARD_B
from tests.server.helpers import error_code, points, reply_of, table_count
from tests.server.kiosk_double import verified
from tests.server.test_pull import pull_all


def lookup_rows(ctx, kiosk, action="kiosk_lookup") -> list[dict]:
    with ctx.store.read() as db:
        return staff_store.audit_rows(db, staff=actor(kiosk.id), action=action)


def test_a_card_of_a_community_the_kiosk_does_not_mirror_is_looked_up(kiosk, ctx, clock):
    resp = kiosk.lookup(CARD_B, nonce="ab" * 16)  # S01 serves SQ01; CARD_B lives in SQ02
    assert resp.status_code == 200, resp.text
    reply = codec.decode(verified(resp, ctx.key.public_hex), LookupReply)
    assert (reply.card, reply.community, reply.kiosk, reply.nonce) == (CARD_B, "SQ02", kiosk.id, "ab" * 16)
    assert reply.balance == points(ctx, CARD_B) and reply.name and reply.community_name != "SQ02"
    assert reply.server_time == clock.now and reply.status == "active"
    [row] = lookup_rows(ctx, kiosk)
    assert (row["subject"], row["detail"]) == (CARD_B, {"found": True, "shop": "S01"})


def test_the_card_is_normalised_as_typed_and_must_match_exactly(kiosk, ctx):
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in CARD_B)  # an input method left in full-width mode
    assert reply_of(kiosk.lookup(f"\u3000{fullwidth}\r\n"), ctx)["card"] == CARD_B
    resp = kiosk.lookup(CARD_B[:-2])  # a prefix is no search
    assert (resp.status_code, error_code(resp, ctx)) == (404, "unknown_card")
    resp = kiosk.lookup("张三")
    assert (resp.status_code, error_code(resp, ctx)) == (400, "malformed_request")
    assert "card" in resp.json()["error"]["message"]


def test_an_unknown_card_is_a_clear_error_and_is_audited(kiosk, ctx):
    resp = kiosk.lookup("9999999999999")
    assert (resp.status_code, error_code(resp, ctx)) == (404, "unknown_card")
    assert resp.json()["error"]["detail"] == {"card": "9999999999999"}
    [row] = lookup_rows(ctx, kiosk)
    assert (row["subject"], row["detail"]["found"]) == ("9999999999999", False)


def test_a_wrong_signature_is_refused_and_reveals_nothing(kiosk, enrolled, ctx):
    other = enrolled(2)
    resp = kiosk.lookup(CARD_B, key=other.key)  # signed by another kiosk's key
    assert (resp.status_code, error_code(resp, ctx)) == (401, "bad_signature")
    assert CARD_B not in resp.text and lookup_rows(ctx, kiosk) == []
    # a pull signature is no lookup signature: the domains differ
    body = kiosk.lookup(CARD_B).request.content
    resp = kiosk.client.post("/v1/lookup", content=body, headers={"Jifen-Kiosk": kiosk.id,
                                                                   "Jifen-Signature": kiosk.key.sign("pull", body)})
    assert (resp.status_code, error_code(resp, ctx)) == (401, "bad_signature")


def test_a_revoked_kiosk_is_refused(kiosk, ctx):
    revoke_kiosk(ctx, SYSTEM, kiosk.id)
    for resp in (kiosk.lookup(CARD_B), kiosk.history(CARD_A)):
        assert (resp.status_code, error_code(resp, ctx)) == (403, "kiosk_revoked")
    assert lookup_rows(ctx, kiosk) == [] and lookup_rows(ctx, kiosk, "kiosk_history") == []


def test_the_daily_allowance_is_counted_per_kiosk_and_ends_with_the_day(kiosk, enrolled, ctx, clock):
    ctx.settings = dataclasses.replace(ctx.settings, lookups_per_day=2)
    assert kiosk.lookup(CARD_B).status_code == 200
    assert kiosk.lookup("9999999999999").status_code == 404  # a miss counts too: no guessing for free
    resp = kiosk.lookup(CARD_B)
    assert (resp.status_code, error_code(resp, ctx)) == (429, "lookup_allowance")
    detail = resp.json()["error"]["detail"]
    assert detail["allowance"] == 2 and 0 < detail["retry_after_ms"] <= DAY
    assert len(lookup_rows(ctx, kiosk)) == 2  # the refused one read nothing and wrote nothing
    assert enrolled(3).lookup(CARD_B).status_code == 200  # another kiosk has its own
    assert kiosk.history(CARD_B).status_code == 200  # and history its own allowance
    clock.advance(detail["retry_after_ms"])
    assert kiosk.lookup(CARD_B).status_code == 200


def test_history_has_every_entry_across_shops_and_central_and_adds_up(kiosk, enrolled, ctx):
    with ctx.store.read() as db:
        card = min(ledger.cards_with_central_events(db))  # the demo's opening points
    other = enrolled(2, shop="S02")
    award = other.award(card, "ZYFW", 10)
    assert other.push(other.batch(award)).status_code == 200
    resp = kiosk.history(card)
    assert resp.status_code == 200, resp.text
    h = codec.decode(verified(resp, ctx.key.public_hex), HistoryReply)
    assert h.balance == points(ctx, card) and h.opening == 0 and h.count == len(h.entries)
    assert h.opening + sum(e.points for e in h.entries) == h.balance
    assert h.entries[0].event == award.id and h.entries[0].receipt == award.id
    assert (h.entries[0].shop, h.entries[0].kiosk, h.entries[0].points) == ("S02", other.id, 10)
    central = [e for e in h.entries if e.kiosk == "C"]
    assert central and all(e.receipt is None and e.shop is None for e in central)  # the opening points
    assert [e.balance for e in h.entries][0] == h.balance
    [row] = lookup_rows(ctx, kiosk, "kiosk_history")
    assert row["subject"] == card


def test_history_is_bounded_to_the_newest_entries_with_the_total_count(kiosk, ctx):
    events = [kiosk.award(CARD_A, "ZYFW", 10) for _ in range(3)]
    assert kiosk.push(kiosk.batch(*events)).status_code == 200
    whole = reply_of(kiosk.history(CARD_A), ctx)
    cut = reply_of(kiosk.history(CARD_A, limit=2), ctx)
    assert cut["count"] == whole["count"] and len(cut["entries"]) == 2
    assert cut["entries"] == whole["entries"][:2] and cut["balance"] == whole["balance"]
    assert cut["opening"] == whole["balance"] - 20
    for limit in (0, 501):
        resp = kiosk.history(CARD_A, limit=limit)
        assert (resp.status_code, error_code(resp, ctx)) == (400, "malformed_request")


def test_the_server_offers_lookup_and_history_in_its_feed(kiosk, ctx):
    changes, _ = pull_all(kiosk, ctx, limit=1000)
    [row] = [c for c in changes if c.kind == "offers"]
    assert (row.key, codec.decode(bytes(row.data), OffersRec).requests) == ("requests", ["history", "log_proofs", "lookup", "projected", "resident_lookup"])
    assert table_count(ctx, "feed", "kind = 'offers'") == 1
    assert msgspec.json.decode(bytes(row.data)) == {"requests": ["history", "log_proofs", "lookup", "projected", "resident_lookup"]}
