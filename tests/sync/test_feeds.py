"""The one table of pull-feed kinds is complete and true to the kiosk's database."""

import sqlite3

from sync.initials import initials
from schema import kiosk_db
from schema.feeds import FEEDS
from schema.wire import (
    BalanceRec,
    BoardLine,
    BoardRec,
    ChainRec,
    CheckpointNoteRec,
    CheckpointRec,
    CommunityRec,
    GoodRec,
    OperatorRec,
    ResidentRec,
    RuleRec,
    ShopRec,
    StockRec,
    TaskClaimRec,
    TaskRec,
    VoiceReplyRec,
)


def _kiosk_tables() -> dict[str, set[str]]:
    conn = sqlite3.connect(":memory:")
    conn.create_function(kiosk_db.INITIALS_FUNCTION, 1, initials)  # as the kiosk store does (migration 4)
    for _, sql in kiosk_db.pending(0):
        conn.executescript(sql)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}


def test_every_mirrored_kind_names_a_kiosk_table_and_its_key():
    tables = _kiosk_tables()
    for kind, feed in FEEDS.items():
        assert feed.kind == kind
        if feed.table is not None:
            assert feed.table_key in tables[feed.table], kind


SAMPLES = {
    "resident": ResidentRec(card="5101810000001", name="张晓明", phone_tail="1234", community="C01", status="active"),
    "rule": RuleRec(code="R01", name="分类", kind="basic", points=2, cap_day=1, cap_month=None, status="active"),
    "good": GoodRec(sku="OIL", name="油", unit="瓶", price=30, status="active"),
    "shop": ShopRec(id="S01", name="一店", community="C01", kind="shop"),
    "community": CommunityRec(id="C01", name="一区", street="街"),
    "operator": OperatorRec(id="op1", shop="S01", name="王", role="operator", pin_hash="x", status="active"),
    "stock": StockRec(shop="S01", sku="OIL", qty=3),
    "balance": BalanceRec(card="5101810000001", points=7),
    "board": BoardRec(community="C01", month="2026-11", published=1_764_000_000_000, ranked=1,
                      top=[BoardLine(rank=1, card="5101810000001", name="张*明", points=9)]),
    "checkpoint": CheckpointRec(v=1, n=1, size=1, head="0" * 64, at=1_764_000_000_000, signature="s"),
    "checkpoint_note": CheckpointNoteRec(n=1, note="o\n0\nAAAA\n\n— o AAAA\n"),
    "voice_reply": VoiceReplyRec(code="0001-0001-4", resident="5101810000001", channel="letter", category="roads",
                                 at=1_764_000_000_000, status="done", reply="已修好", replied_at=1_764_000_000_001,
                                 done_at=1_764_000_000_002, stars=None),
    "task": TaskRec(id="T1", community="C01", title="调解纠纷", rule="R01", points=8, slots=2, status="open",
                    posted_at=1_764_000_000_000, claims=[TaskClaimRec(card="5101810000001", event="K0001-1", done=False)]),
}


def test_a_records_mirror_row_has_its_tables_columns():
    tables = _kiosk_tables()
    mirrored = {k for k, f in FEEDS.items() if f.table is not None}
    assert mirrored == set(SAMPLES)
    for kind, rec in SAMPLES.items():
        feed = FEEDS[kind]
        row = feed.adapt(rec, feed.key(rec))
        assert set(row) <= tables[feed.table], kind
        assert feed.table_key in row, kind


def test_shop_scoped_kinds_take_their_scope_from_the_record_or_the_publisher():
    assert FEEDS["stock"].scope_of(StockRec(shop="S01", sku="OIL", qty=3)) == "S01"
    assert FEEDS["stock"].key(StockRec(shop="S01", sku="OIL", qty=3)) == "S01/OIL"
    assert FEEDS["chain"].scope_of(ChainRec(kiosk="K0001", next_seq=4), shop="S02") == "S02"
    assert FEEDS["chain"].table is None  # acted on by the sync round, not mirrored
    assert FEEDS["stock"].local_key("S01/OIL", "S01") == "OIL"
    assert FEEDS["stock"].local_key("S02/OIL", "S01") is None
