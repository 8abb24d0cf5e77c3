"""Volunteer tasks at the station's counter: F6 on the resident view lists the tasks of the
resident's community, F2 claims the highlighted one for the card after a confirm step, F3
records it done and the task's own points follow; a second claim is refused with its reason
before anything is recorded."""

import pytest

from kiosk.pending import decode_event
from schema.wire import AcceptsRec, TaskClaimRec, TaskRec
from sync.protocol import BASE_EVENT_KINDS
from tests.kiosk.app.conftest import burst, message_text, screen_name, signed_in, typed
from tests.kiosk.conftest import COUNTER_T0
from tests.kiosk.fakeserver import CARD, CARD2


@pytest.fixture
def with_task(shop_kiosk, server):
    server.put("accepts", "events", AcceptsRec(events=sorted(BASE_EVENT_KINDS | {"task_claim", "task_done"})))
    server.put("task", "T1", TaskRec(id="T1", community="C001", title="调解邻里纠纷", rule="V01", points=10, slots=2,
                                     status="open", posted_at=COUNTER_T0, claims=[]))
    assert shop_kiosk.sync().ok
    return shop_kiosk


async def test_claim_then_done_records_the_tasks_points(run, posted, with_task):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD + "\n"))
        before = with_task.balance(CARD).available
        await burst(pilot, "f6")
        assert screen_name(app) == "TasksScreen"
        await burst(pilot, "f2")
        assert screen_name(app) == "ConfirmScreen"
        await burst(pilot, "enter")
        assert [m.kind for m in posted] == ["task_claim"] and screen_name(app) == "ReceiptScreen"
        await burst(pilot, "escape")  # the receipt, back to the resident
        await burst(pilot, "f6")
        assert screen_name(app) == "TasksScreen"
        await burst(pilot, "f2", "enter")
        assert len(posted) == 1 and "已经认领" in message_text(app)
        await burst(pilot, "f3")
        assert screen_name(app) == "ConfirmScreen"
        await burst(pilot, "enter")
        assert [m.kind for m in posted] == ["task_claim", "task_done"]
        done = decode_event(with_task.store.event_row(posted[1].event_id)["body"])
        assert (done.rule, done.points, done.claim) == ("V01", 10, posted[0].event_id)
        assert with_task.balance(CARD).available == before + 10


async def test_a_full_task_says_so_before_a_claim_is_tried(run, posted, shop_kiosk, server):
    server.put("accepts", "events", AcceptsRec(events=sorted(BASE_EVENT_KINDS | {"task_claim", "task_done"})))
    server.put("task", "T2", TaskRec(id="T2", community="C001", title="便民维修", rule="V01", points=5, slots=1,
                                     status="open", posted_at=COUNTER_T0,
                                     claims=[TaskClaimRec(card=CARD2, event="K0009-1", done=False)]))
    assert shop_kiosk.sync().ok
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD + "\n"))
        await burst(pilot, "f6")
        table = app.screen.query_one("#tasks")
        assert [str(c) for c in table.get_row_at(0)][-2:] == ["1/1", "名额已满"]
        await burst(pilot, "f2")
        assert not posted and "名额已满" in message_text(app)
