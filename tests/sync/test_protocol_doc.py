"""docs/PROTOCOL.md stays true: its worked example is recomputed here from the fixed keys,
and every error code the server can send is documented with its status and action."""

import re
from pathlib import Path

import msgspec
import pytest

from schema.types import GENESIS
from schema.wire import (
    Award,
    BalanceRec,
    Change,
    EnrollRequest,
    ErrorBody,
    ErrorReply,
    HistoryEntry,
    HistoryReply,
    HistoryRequest,
    Item,
    Lease,
    LookupReply,
    LookupRequest,
    Policy,
    ProjectedRec,
    PullPage,
    PullRequest,
    PushReply,
    Redeem,
    ResidentLookupRequest,
    ResidentRec,
    ResidentReply,
    ResidentStatement,
    RuleRec,
)
from sync import codec
from sync.batch import build_batch
from sync.protocol import ERRORS
from sync.signing import SigningKey, VerifyKey

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
KIOSK = SigningKey(bytes([1]) * 32)
SERVER = SigningKey(bytes([2]) * 32)
T = 1764039600000
NONCE = "00112233445566778899aabbccddeeff"


def raw(obj):
    return msgspec.Raw(codec.encode(obj))


def example_batch() -> bytes:
    return build_batch(
        "K0001",
        1,
        GENESIS,
        T + 120000,
        [
            Award(id="K0001-1", kseq=1, at=T, operator="op1", resident="5101810000001", rule="R01", points=2, note="垃圾分类"),
            Redeem(id="K0001-2", kseq=2, at=T + 60000, operator="op1", resident="5101810000001", items=[Item(sku="G01", qty=1, price=50)], total=50),
        ],
    )


def examples():
    code = "7KQ2-M9XD-4TPA"
    yield codec.encode(
        EnrollRequest(v=1, code=code, public_key=KIOSK.public_hex, label="龙居社区积分超市 1号机", proof=KIOSK.sign("enroll", (code + "\n" + KIOSK.public_hex).encode()))
    ).decode()
    body = example_batch()
    h = codec.digest(body)
    yield body.decode()
    yield h
    yield KIOSK.sign("batch", body)
    reply = codec.encode(PushReply(v=1, kiosk="K0001", seq=1, hash=h, status="applied", next_seq=2, feed=4711, server_time=T + 125000))
    yield reply.decode()
    yield SERVER.sign("response", reply)
    pull = codec.encode(PullRequest(v=1, kiosk="K0001", cursor=0, limit=2000, nonce=NONCE, clock=T + 130000, app="jifen-kiosk 0.1.0"))
    yield pull.decode()
    yield KIOSK.sign("pull", pull)
    page = codec.encode(
        PullPage(
            v=1, kiosk="K0001", nonce=NONCE, cursor=0, next=3, more=False, server_time=T + 131000, revoked=False,
            policy=Policy(lease_seconds=259200, balance_max_age_seconds=21600, offline_daily_cap=200),
            lease=Lease(kiosk="K0001", issued=T + 131000, seconds=259200),
            changes=[
                Change(kind="rule", key="R01", seq=1, data=raw(RuleRec(code="R01", name="垃圾分类", kind="basic", points=2, cap_day=1, cap_month=None, status="active"))),
                Change(kind="resident", key="5101810000001", seq=2, data=raw(ResidentRec(card="5101810000001", name="张晓明", phone_tail="6789", community="C001", status="active"))),
                Change(kind="balance", key="5101810000001", seq=3, data=raw(BalanceRec(card="5101810000001", points=152))),
            ],
        )
    )
    yield page.decode()
    yield SERVER.sign("response", page)
    err = codec.encode(
        ErrorReply(
            error=ErrorBody(code="fork", message="batch 1 of K0001 differs from the batch already accepted at that sequence", action="stop", detail={"kiosk": "K0001", "seq": 1}),
            request=h,
        )
    )
    yield err.decode()
    yield SERVER.sign("response", err)


def lookup_examples():
    """§ 8's online lookup and history (§ 4.6): a card K0001 does not mirror."""
    nonce = "ffeeddccbbaa99887766554433221100"
    card = "5101810000002"
    req = codec.encode(LookupRequest(v=1, kiosk="K0001", card=card, nonce=nonce, clock=T + 140000))
    yield req.decode()
    yield KIOSK.sign("lookup", req)
    reply = codec.encode(LookupReply(v=1, kiosk="K0001", nonce=nonce, card=card, name="李秀英", community="C002",
                                     community_name="大同社区", status="active", balance=80, feed=4712, server_time=T + 141000))
    yield reply.decode()
    yield SERVER.sign("response", reply)
    req = codec.encode(HistoryRequest(v=1, kiosk="K0001", card=card, nonce=nonce, clock=T + 150000, limit=2))
    yield req.decode()
    yield KIOSK.sign("history", req)
    reply = codec.encode(HistoryReply(
        v=1, kiosk="K0001", nonce=nonce, card=card, opening=100, balance=80, count=3, feed=4712, server_time=T + 151000,
        entries=[HistoryEntry(event="K0002-7", at=T + 30000, kind="redeem", points=-30, balance=80, kiosk="K0002", shop="S02",
                              shop_name="大同社区积分超市", receipt="K0002-7"),
                 HistoryEntry(event="C-12", at=T, kind="adjust", points=10, balance=110, kiosk="C", shop=None, shop_name=None,
                              receipt=None)]))
    yield reply.decode()
    yield SERVER.sign("response", reply)


def resident_lookup_examples():
    """§ 8's signed lookup of a resident of another county (§ 4.7): K0001 is in county
    XQ01, the resident in XQ02; the statement's bytes, its signature, the reply and its."""
    nonce = "0123456789abcdef0123456789abcdef"
    card = "5106820100001"
    req = codec.encode(ResidentLookupRequest(v=1, kiosk="K0001", card=card, nonce=nonce, clock=T + 160000))
    yield req.decode()
    yield KIOSK.sign("resident-lookup", req)
    statement = codec.encode(ResidentStatement(
        v=1, kiosk="K0001", kiosk_county="XQ01", nonce=nonce, card=card, name="王*英", community="SQ02",
        community_name="大同社区", county="XQ02", county_name="什邡市", status="active", balance=120, feed=4713, at=T + 161000))
    yield statement.decode()
    signature = SERVER.sign("resident", statement)
    yield signature
    reply = codec.encode(ResidentReply(v=1, statement=msgspec.Raw(statement), signature=signature))
    yield reply.decode()
    yield SERVER.sign("response", reply)


def test_the_resident_statement_in_the_doc_verifies_under_the_server_key():
    *_, statement, signature, reply, _ = resident_lookup_examples()
    VerifyKey(SERVER.public_hex).verify("resident", statement.encode(), signature)
    assert statement in reply  # the reply carries the statement's bytes as they were signed


def confirmation_page() -> bytes:
    """§ 4.8's pull page: batch 1's balance and the ``projected`` row that confirms it."""
    return codec.encode(PullPage(
        v=1, kiosk="K0001", nonce=CONFIRM_NONCE, cursor=4711, next=4713, more=False, server_time=T + 161000, revoked=False,
        policy=Policy(lease_seconds=259200, balance_max_age_seconds=21600, offline_daily_cap=200),
        lease=Lease(kiosk="K0001", issued=T + 161000, seconds=259200),
        changes=[Change(kind="balance", key="5101810000001", seq=4712, data=raw(BalanceRec(card="5101810000001", points=104))),
                 Change(kind="projected", key="K0001", seq=4713, data=raw(ProjectedRec(kiosk="K0001", seq=1, log=90)))]))


CONFIRM_NONCE = "0123456789abcdef0123456789abcdef"


def confirmation_examples():
    """§ 4.8: a pull after an acknowledgement at feed 4711, and the page confirming batch 1."""
    pull = codec.encode(PullRequest(v=1, kiosk="K0001", cursor=4711, limit=2000, nonce=CONFIRM_NONCE, clock=T + 160000,
                                    app="jifen-kiosk 0.1.0"))
    yield pull.decode()
    yield KIOSK.sign("pull", pull)
    page = confirmation_page()
    yield page.decode()
    yield SERVER.sign("response", page)


def test_the_confirmation_example_is_what_a_kiosk_reads_as_confirming_batch_1():
    """The balance in § 4.8's page is § 8's 152 with batch 1's award and redemption in it,
    and its ``projected`` row decodes by the feed table as batch 1 confirmed, after it."""
    from schema.feeds import FEEDS

    page = codec.decode(confirmation_page(), PullPage)
    balance, projected = page.changes
    rec = codec.decode(bytes(projected.data), FEEDS["projected"].record)
    assert (rec.kiosk, rec.seq) == ("K0001", 1) and projected.seq > balance.seq and page.next == projected.seq
    assert codec.decode(bytes(balance.data), BalanceRec).points == 152 + 2 - 50


@pytest.mark.parametrize("fragment", list(examples()) + list(lookup_examples()) + list(resident_lookup_examples())
                         + list(confirmation_examples()))
def test_worked_example_matches_the_code(fragment):
    assert fragment in DOC


def test_keys_in_doc_are_the_fixed_seeds():
    assert KIOSK.public_hex in DOC and SERVER.public_hex in DOC


def test_batch_signature_in_doc_verifies():
    body = example_batch()
    sig = re.search(r"Jifen-Signature \(domain batch\) ([0-9a-f]{128})", DOC).group(1)
    VerifyKey(KIOSK.public_hex).verify("batch", body, sig)
    assert (b"jifen/v1/batch\x00").hex() in DOC


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_every_error_code_is_documented(code):
    status, action, _ = ERRORS[code]
    assert re.search(rf"\| `{code}` \| {status} \| {action} \|", DOC), f"{code} missing from docs/PROTOCOL.md § 5"


def test_receipt_worked_example_matches_the_code():
    from sync import receipt as R

    body = example_batch()
    award = body[body.index(b'{"at":'):body.index(b'},{"at"') + 1]  # the award's exact bytes in the batch
    r = R.sign(KIOSK, "K0001", 1, award)
    assert f"receipt signature {r.signature}" in DOC
    payload = re.search(r"receipt payload ([A-Z2-7]+)", DOC).group(1)
    assert R.decode(payload) == r and payload == R.encode(r)


MOVE_NONCE = "fedcba9876543210fedcba9876543210"


def county_move_page() -> bytes:
    """§ 4.7's pull page after SQ03 moved from XQ01 to XQ02, as S01's kiosk (XQ01, serving
    SQ01 and SQ03) reads it: deletion rows for SQ03's board and its resident's rows, then
    S01's ``serves`` row without SQ03."""
    from schema.wire import ServesRec

    return codec.encode(PullPage(
        v=1, kiosk="K0001", nonce=MOVE_NONCE, cursor=4800, next=4804, more=False, server_time=T + 171000, revoked=False,
        policy=Policy(lease_seconds=259200, balance_max_age_seconds=21600, offline_daily_cap=200),
        lease=Lease(kiosk="K0001", issued=T + 171000, seconds=259200),
        changes=[Change(kind="board", key="SQ03/2025-11", seq=4801, data=None),
                 Change(kind="resident", key="5106810300001", seq=4802, data=None),
                 Change(kind="balance", key="5106810300001", seq=4803, data=None),
                 Change(kind="serves", key="S01", seq=4804, data=raw(ServesRec(shop="S01", communities=["SQ01"])))]))


def county_move_examples():
    """§ 4.7: a pull from cursor 4800 after the move, and the page that drops SQ03."""
    pull = codec.encode(PullRequest(v=1, kiosk="K0001", cursor=4800, limit=2000, nonce=MOVE_NONCE, clock=T + 170000,
                                    app="jifen-kiosk 0.1.0"))
    yield pull.decode()
    yield KIOSK.sign("pull", pull)
    page = county_move_page()
    yield page.decode()
    yield SERVER.sign("response", page)


@pytest.mark.parametrize("fragment", list(county_move_examples()))
def test_the_county_move_example_matches_the_code(fragment):
    assert fragment in DOC


def test_the_county_move_example_deletes_mirrored_rows_a_release_1_kiosk_knows():
    """Each deletion row of § 4.7's page is of a kind the kiosk mirrors, known since release
    1 (so a release-1 kiosk drops it too), and the ``serves`` row comes after them."""
    from schema.feeds import FEEDS
    from tests.compat.v1 import wire as v1

    page = codec.decode(county_move_page(), PullPage)
    *gone, serves = page.changes
    assert all(bytes(c.data) == b"null" and FEEDS[c.kind].table and c.kind in v1.RECORD_TYPES for c in gone)
    assert serves.kind == "serves" and serves.seq == page.next > max(c.seq for c in gone)
