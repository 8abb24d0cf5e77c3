"""Finding residents at the counter: by exact card, by phone tail, by any fragment of the
name — served by indexes (kiosk migration 3), with the same answers a scan would give."""

import random

import pytest

from kiosk.store import Store

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
