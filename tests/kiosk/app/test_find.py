"""Finding a resident on the home screen, typed as one burst: by the pinyin initials of a
name, with the count of matches when the list is cut, and communities by name."""

from schema.wire import CommunityRec, ResidentRec
from tests.kiosk.app.conftest import burst, message_text, screen_name, signed_in, typed
from tests.kiosk.fakeserver import CARD


def cells(app, column: int) -> list[str]:
    table = app.screen.query_one("#results")
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


async def test_initials_typed_at_once_open_the_only_match(run, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed("zxm\n"))  # 张晓明
        assert screen_name(app) == "ResidentScreen" and app.screen.card == CARD


async def test_initials_list_every_match_with_community_names(run, server, shop_kiosk):
    server.put("community", "C001", CommunityRec(id="C001", name="龙居社区", street="雒城街道"))
    server.put("resident", "5101810000021", ResidentRec(card="5101810000021", name="张小梅", phone_tail="2121",
                                                        community="C001", status="active"))
    assert shop_kiosk.sync().ok
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed("ZX\n"))
        assert screen_name(app) == "FindScreen" and sorted(cells(app, 1)) == ["张小梅", "张晓明"]
        assert cells(app, 3) == ["龙居社区", "龙居社区"] and "C001" not in cells(app, 3)
        assert message_text(app) == "找到 2 人：用方向键选择，回车打开"


async def test_a_cut_list_says_how_many_matched(run, server, shop_kiosk):
    for i in range(44):
        card = f"51018100001{i:02d}"
        server.put("resident", card, ResidentRec(card=card, name=f"周{'建国强'[i % 3]}{'一二三四五六七八九十'[i % 10]}",
                                                 phone_tail="0000", community="C001", status="active"))
    assert shop_kiosk.sync().ok
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed("周\n"))
        assert app.screen.query_one("#results").row_count == 20
        assert message_text(app) == "找到 44 人，显示前 20 人，请输入更多字"
        await burst(pilot, *typed("zj\n"))  # 周建…: 15 of them, all shown
        assert app.screen.query_one("#results").row_count == 15 and message_text(app).startswith("找到 15 人")
        await burst(pilot, "f12")
        await burst(pilot, *typed("z\n"))
        assert message_text(app) == "45 found, showing the first 20: type more to narrow it down"  # and 张晓明
