"""The public pages (server.public) over the real app: the index of published boards, one
community's board in Chinese with residents told apart by their card's last four, a clear
Chinese page for a month not published, a month written wrong or an unknown community,
English by the console's language link, and the per-address allowance."""

import html
import re

import pytest

from server.ratelimit import PageLimit
from server.errors import PagesLimited
from server.services import reports
from server.services.manage import put_resident
from server.services.staff import SYSTEM
from server.settings import Settings
from sync.board import board_name, mask_name
from tests.conftest import InProcessServer
from tests.server.conftest import CARD_A

MONTH = "2026-01"  # the test clock's month
TWIN = "5106810100999"  # a second SQ01 resident with CARD_A's name


def resident_name(ctx, card: str) -> str:
    with ctx.store.read() as db:
        from server.store import catalog

        return catalog.row_by_key(db, "residents", card)["name"]


@pytest.fixture
def published(app_server, inprocess_kiosk):
    """Two SQ01 residents of the same name, awarded at a real kiosk and synced; the board
    of MONTH published as staff publish it."""
    ctx = app_server.ctx
    name = resident_name(ctx, CARD_A)
    put_resident(ctx, SYSTEM, TWIN, name, "13800001234", "SQ01")
    kiosk = inprocess_kiosk("k1")
    kiosk.award(CARD_A, "ZYFW", "op1")
    kiosk.award(TWIN, "ZYFW", "op1")
    kiosk.award(TWIN, "ZYFW", "op1")
    assert kiosk.sync().ok and kiosk.status()["pending_events"] == 0
    reports.publish_board(ctx, SYSTEM, MONTH)
    return name


def test_the_board_is_in_chinese_and_tells_residents_apart_by_their_cards_last_four(app_server, published):
    r = app_server.client.get(f"/public/board/SQ01/{MONTH}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "龙居社区2026年1月积分榜" in page and "名次" in page and "姓名（卡号后四位）" in page and "当月积分" in page
    twin, first = board_name(published, TWIN), board_name(published, CARD_A)
    assert mask_name(published) in twin and twin != first
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]+)</td><td class=\"num\">(-?\d+)</td></tr>", page)
    assert [(rk, nm) for rk, nm, _ in rows][:2] == [("1", twin), ("2", first)]
    assert published not in page and CARD_A not in page and TWIN not in page  # neither whole name nor card
    assert "<script" not in page and "style=" not in page  # the CSP allows neither inline
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert 'href="/public/static/public.css"' in page and not re.search(r"(src|href)=\"https?://", page)


def test_the_index_lists_each_community_with_its_published_months(app_server, published):
    page = app_server.client.get("/public/").text
    for community, name in (("SQ01", "龙居社区"), ("SQ02", "大同社区")):
        assert name in page and f'href="/public/board/{community}/{MONTH}"' in page
    assert "2026年1月" in page


def test_the_style_sheet_prints_on_a4_and_comes_from_the_package(app_server):
    r = app_server.client.get("/public/static/public.css")
    assert r.status_code == 200 and "@page { size: A4;" in r.text


def test_a_month_not_published_is_a_chinese_404(app_server, published):
    r = app_server.client.get("/public/board/SQ01/2025-11")
    assert r.status_code == 404 and "龙居社区2025年11月的积分榜还没有公示" in r.text


def test_a_month_written_wrong_is_refused_saying_how_to_write_it(app_server):
    for month in ("2026-1", "202601", "2026-13", "latest"):
        r = app_server.client.get(f"/public/board/SQ01/{month}")
        assert r.status_code == 422, month
        assert f"月份“{month}”写法不对，应写成 年-月，例如 2026-01" in r.text


def test_an_unknown_community_or_page_is_a_chinese_404(app_server):
    r = app_server.client.get(f"/public/board/SQ99/{MONTH}")
    assert r.status_code == 404 and "没有编号为 SQ99 的社区" in r.text
    r = app_server.client.get("/public/nothing/here")
    assert r.status_code == 404 and "找不到这个页面" in r.text


def test_english_is_chosen_with_the_consoles_language_link(app_server, published):
    client = app_server.client
    page = client.get(f"/public/board/SQ01/{MONTH}").text
    link = re.search(r'<a class="lang" href="([^"]+)"', page).group(1)
    assert link == f"/lang/en?next=/public/board/SQ01/{MONTH}"
    r = client.get(link, follow_redirects=True)
    english = html.unescape(r.text)
    assert r.status_code == 200 and "Rank" in english and "Name (card's last four)" in english
    assert board_name(published, TWIN) in english
    client.get("/lang/zh")
    assert "名次" in client.get(f"/public/board/SQ01/{MONTH}").text


def test_an_address_that_spent_its_allowance_is_told_when_to_come_back(server_dir, clock):
    now = [1000.0]
    server = InProcessServer(Settings(data_dir=server_dir, clock=clock, public_per_second=0.5, public_burst=3)).start()
    try:
        server.ctx.pages.set_clock(lambda: now[0])
        client = server.client
        assert [client.get("/public/").status_code for _ in range(3)] == [200, 200, 200]
        r = client.get(f"/public/board/SQ01/{MONTH}")
        assert r.status_code == 429 and r.headers["retry-after"] == "2"
        assert "访问太频繁了，请 2 秒后再试" in r.text
        now[0] += 2.0  # one token back
        assert client.get("/public/").status_code == 200
        assert client.get("/public/").status_code == 429
        assert client.get("/public/static/public.css").status_code == 200  # the style sheet spends nothing
    finally:
        server.stop()


def test_the_allowance_is_per_address():
    limit = PageLimit(per_second=1.0, burst=2, clock=lambda: 0.0)
    limit.spend("10.0.0.1")
    limit.spend("10.0.0.1")
    with pytest.raises(PagesLimited) as refused:
        limit.spend("10.0.0.1")
    assert refused.value.detail["retry_after_ms"] == 1000 and refused.value.status == 429
    limit.spend("10.0.0.2")  # another address still has its own


def test_the_published_board_names_nobody_in_full(app_server, published):
    out = reports.published_board(app_server.ctx, "SQ01", MONTH)
    assert out["ranked"] == 2 and {ln["name"] for ln in out["lines"]} == {board_name(published, CARD_A), board_name(published, TWIN)}
    assert all(set(ln) == {"rank", "name", "points"} for ln in out["lines"])



def test_every_key_the_public_pages_name_is_in_their_table_in_both_languages():
    from pathlib import Path

    from server.public import i18n

    package = Path(i18n.__file__).parent
    text = "".join(p.read_text(encoding="utf-8") for p in [*package.rglob("*.html"), *package.rglob("*.py")])
    named = set(re.findall(r"""\bt\(\s*['"]([a-z][a-z0-9_]*)['"]\s*[,)]""", text))
    assert len(named) > 10, "found too few keys"
    assert not sorted(k for k in named if not i18n.has(k))
    latin = re.compile(r"[A-Za-z]{3,}")
    for key, entry in i18n.TABLE.items():
        assert set(entry) == set(i18n.LANGS) and entry["zh"] and entry["en"], key
        if key != "switch_lang":
            assert not latin.search(re.sub(r"\{[a-z_]+\}", "", entry["zh"])), (key, entry["zh"])


def test_the_demo_programme_tells_every_resident_apart_on_its_board():
    """The issue's figure: in the demo city about half the residents share their masked
    name with someone of their community; with the card's last four, nobody does."""
    from collections import Counter

    from server.services.demo import generate

    residents = generate(residents=2000, communities=12).residents
    masked = Counter((r["community"], mask_name(r["name"])) for r in residents)
    labels = Counter((r["community"], board_name(r["name"], r["card"])) for r in residents)
    shared_masked = sum(n for n in masked.values() if n > 1)
    shared_labels = sum(n for n in labels.values() if n > 1)
    print(f"demo: {shared_masked} of {len(residents)} share a masked name in their community; {shared_labels} share a board name")
    assert shared_masked > len(residents) // 4
    assert shared_labels == 0
