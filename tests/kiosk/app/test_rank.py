"""The resident view shows this month's rank from the public board the kiosk pulled, and
the community's name rather than its code."""

from schema.wire import BoardLine, BoardRec, CommunityRec
from tests.kiosk.app.conftest import SIZE, open_resident, sign_in
from tests.kiosk.fakeserver import CARD, CARD2


async def test_rank_comes_from_the_pulled_board(make_app, server, shop_kiosk, clock):
    server.put("community", "C001", CommunityRec(id="C001", name="龙居社区", street="雒城街道"))
    server.put(
        "board",
        "C001/2025-11",
        BoardRec(community="C001", month="2025-11", published=clock(), ranked=57,
                 top=[BoardLine(rank=1, card=CARD2, name="李*", points=40), BoardLine(rank=2, card=CARD, name="张*明", points=32)]),
    )
    assert shop_kiosk.sync().ok
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await open_resident(pilot, CARD)
        rank = str(app.screen.query_one("#rank").render())
        assert "第 2 名 / 共 57 人" in rank and "32 分" in rank
        assert "龙居社区" in app.screen.title_text()


async def test_no_board_shows_a_dash(make_app, shop_kiosk):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await open_resident(pilot, CARD)
        assert str(app.screen.query_one("#rank").render()).endswith("—")
