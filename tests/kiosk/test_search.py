"""Finding residents at the counter: by exact card, by phone tail, by any fragment of the
name (kiosk migration 3) or by the pinyin initials of the name (migration 4) — served by
indexes, with the same answers a scan would give, and how many matched when the list is cut."""

import random
import sqlite3

import pytest

from sync.initials import initials
from kiosk.store import Store
from schema import kiosk_db

NAMES = ["张晓明", "李建华", "王芳", "欧阳建华", "张伟", "陈小红", "建国", "司马相如之后人名很长"]


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "kiosk.db")
    rows = [("resident", f"51068101{i:05d}", {"card": f"51068101{i:05d}", "name": n, "phone_tail": f"{1000 + i}",
                                              "community": "SQ01", "status": "active"}) for i, n in enumerate(NAMES)]
    s.apply_changes(rows, {"cursor": 1})
    yield s
    s.close()


def names(rows: list[dict]) -> set[str]:
    return {r["name"] for r in rows}


def scan(text: str) -> set[str]:
    return {n for n in NAMES if text in n}


@pytest.mark.parametrize("text", ["建华", "华", "张", "晓明", "小", "欧阳", "阳建", "芳", "相如", "之后人"])
def test_name_fragment_finds_what_a_scan_finds(store, text):
    assert names(store.find_residents(text)) == scan(text)


def test_card_and_phone_tail(store):
    assert names(store.find_residents("5106810100001")) == {"李建华"}
    assert names(store.find_residents("1003")) == {"欧阳建华"}
    assert store.find_residents("9999") == []


def test_renamed_resident_is_found_by_the_new_name_only(store):
    card = "5106810100002"
    store.apply_changes([("resident", card, {"card": card, "name": "王秀英", "phone_tail": "1002",
                                             "community": "SQ01", "status": "active"})], {"cursor": 2})
    assert "王秀英" in names(store.find_residents("秀英"))
    assert "王芳" not in names(store.find_residents("芳"))  # the old gram row is stale, and checked


def test_resident_removed_from_the_mirror_is_not_found(store):
    store.apply_changes([("resident", "5106810100000", None)], {"cursor": 3})
    assert "张晓明" not in names(store.find_residents("晓明"))


def test_fragment_search_matches_a_scan_on_random_names(tmp_path):
    rng = random.Random(3)
    chars = "王李张刘陈杨建华明秀英国强小红"
    pool = ["".join(rng.choice(chars) for _ in range(rng.randrange(2, 5))) for _ in range(300)]
    s = Store(tmp_path / "k.db")
    s.apply_changes([("resident", f"C{i:06d}", {"card": f"C{i:06d}", "name": n, "phone_tail": "0000",
                                                 "community": "SQ01", "status": "active"}) for i, n in enumerate(pool)],
                    {"cursor": 1})
    for _ in range(50):
        frag = "".join(rng.choice(chars) for _ in range(rng.randrange(1, 3)))
        want = {f"C{i:06d}" for i, n in enumerate(pool) if frag in n}
        got = {r["card"] for r in s.find_residents(frag, limit=1000)}
        assert got == want, frag
    s.close()


# ---- pinyin initials (kiosk migration 4)

def add(store: Store, *named: tuple[str, str], community: str = "SQ01") -> None:
    store.apply_changes([("resident", card, {"card": card, "name": name, "phone_tail": "0000", "community": community,
                                             "status": "active"}) for card, name in named], {"cursor": 9})


@pytest.mark.parametrize(("name", "typed"), [
    ("张三明", "zsm"), ("欧阳建华", "oyjh"), ("曾小红", "zxh"), ("单田芳", "stf"),  # 曾 and 单 read as surnames
    ("阿依古丽·买买提", "ayglmmt"), ("Lily王", "lw"), ("王 Lily", "wl"), ("ＬＩ明", "lm"), ("李1", "l"),
])
def test_initials_of_a_name(name, typed):
    assert initials(name) == typed


def test_a_surname_reading_applies_to_the_first_character_only():
    assert initials("曾曾") == "zc"


@pytest.mark.parametrize("typed", ["zsm", "ZSM", "zs", "z"])
def test_initials_or_their_start_find_the_resident(store, typed):
    add(store, ("C0000001", "张三明"), ("C0000002", "赵思敏"), ("C0000003", "李三明"))
    assert {"张三明", "赵思敏"} <= names(store.find_residents(typed))
    assert "李三明" not in names(store.find_residents(typed))


def test_exact_initials_come_before_longer_ones(store):
    add(store, ("C0000001", "张三明华"), ("C0000002", "张三明"))
    assert [r["name"] for r in store.find_residents("zsm")][:2] == ["张三明", "张三明华"]


def test_renamed_resident_is_found_by_the_new_initials_only(store):
    add(store, ("C0000001", "张三明"))
    add(store, ("C0000001", "王秀英"))
    assert names(store.find_residents("zsm")) == set()
    assert names(store.find_residents("wxy")) == {"王秀英"}


def test_full_name_search_is_unchanged_by_initials(store):
    assert names(store.find_residents("张晓明")) == {"张晓明"}
    assert names(store.find_residents("zxm")) == {"张晓明"}


def test_residents_mirrored_before_migration_4_get_their_initials(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for version, sql in kiosk_db.MIGRATIONS[:3]:
        conn.executescript(sql)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '3')")
    conn.execute("INSERT INTO residents (card, name, phone_tail, community, status) VALUES ('C1', '张三明', '1', 'SQ01', 'active')")
    conn.commit()
    conn.close()
    s = Store(path)
    assert names(s.find_residents("zsm")) == {"张三明"}
    assert s.meta("schema_version") == str(kiosk_db.SCHEMA_VERSION)
    s.close()


def test_community_is_named(store):
    store.apply_changes([("community", "SQ01", {"id": "SQ01", "name": "龙居社区", "street": "雒城街道"})], {"cursor": 9})
    add(store, ("C0000001", "张三明"), community="SQ02")  # a community not mirrored: its id
    assert {r["name"]: r["community_name"] for r in store.find_residents("zsm")} == {"张三明": "SQ02"}
    assert {r["community_name"] for r in store.find_residents("建华")} == {"龙居社区"}


# ---- how many matched, when the list is cut

def test_count_says_how_many_match_beyond_the_limit(store):
    add(store, *((f"C{i:07d}", f"周{'一二三四五六七八九十'[i % 10]}{i}") for i in range(44)))
    assert len(store.find_residents("周", limit=20)) == 20
    assert store.count_residents("周", cap=1000) == 44
    assert store.count_residents("z", cap=1000) == 44 + 2  # and 张晓明, 张伟: by initials
    assert store.count_residents("周", cap=10) == 11  # capped: "more than 10"


def test_count_does_not_count_one_resident_twice(store):
    # 建华 matches 李建华 by the gram index and 建国 not at all; 欧阳建华 by the gram index too
    assert store.count_residents("建华", cap=1000) == len(scan("建华"))
    assert store.count_residents("1003", cap=1000) == 1


# ---- every lookup is an index seek

def plans(store: Store, call) -> list[str]:
    """EXPLAIN QUERY PLAN of every statement ``call`` runs on the store's connection."""
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        call()
    finally:
        store.db.conn.set_trace_callback(None)
    return [" / ".join(r[3] for r in store.db.conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            for sql in statements if sql.lstrip().upper().startswith("SELECT")]


@pytest.mark.parametrize("text", ["zsm", "张", "晓明", "1003", "5106810100001"])
def test_find_and_count_read_indexes_only(store, text):
    for plan in plans(store, lambda: (store.find_residents(text, limit=3), store.count_residents(text, cap=5))):
        assert "SCAN r" not in plan and "SCAN residents" not in plan and "SCAN g" not in plan, plan
    assert any("residents_initials" in p for p in plans(store, lambda: store.find_residents("zsm")))
