"""Volunteer service tasks end to end over real HTTP against a real `jifen-server serve`
process: staff post a task (the CLI), a station kiosk of its community pulls it, a
resident claims it there, the station records it done, and the award follows from the
task — on the kiosk (pending, then confirmed) and on the server (the posting names the
completion, which names the claim and the task); the kiosk refuses a second claim, a done
without a claim and a full task up front; ``reproject --check`` agrees afterwards."""

import pytest

from kiosk import errors as E
from tests.server.conftest import CARD_A  # an SQ01 resident; S01 serves SQ01

CARD_C = "5106810100002"  # another SQ01 resident


def test_post_claim_done_award_on_both_sides(server, make_kiosk):
    posted = server.json("task", "post", "--community", "SQ01", "--rule", "TJJF", "--title", "调解楼上楼下噪音纠纷",
                         "--slots", "1")
    task = posted["id"]
    on_server = server.json("balance", CARD_A)["confirmed"]
    k = make_kiosk("k1")
    assert k.sync().ok and k.recorder.accepts("task_claim") and k.recorder.accepts("task_done")
    offered = next(t for t in k.tasks(CARD_A) if t["id"] == task)
    assert (offered["points"], offered["rule"], offered["taken"], offered["mine"]) == (8, "TJJF", 0, None)
    before = k.balance(CARD_A).available

    with pytest.raises(E.TaskRefused) as refused:
        k.finish_task(CARD_A, task, "op1")
    assert refused.value.key == "task_unclaimed"
    claim = k.claim_task(CARD_A, task, "op1", receipt=True)
    with pytest.raises(E.TaskRefused) as refused:
        k.claim_task(CARD_A, task, "op1")
    assert refused.value.key == "task_claimed"
    with pytest.raises(E.TaskRefused) as refused:
        k.claim_task(CARD_C, task, "op1")  # one place, taken
    assert refused.value.key == "task_full"
    done = k.finish_task(CARD_A, task, "op1", receipt=True)
    assert (done.event.rule, done.event.points, done.event.claim) == ("TJJF", 8, claim.id)
    assert done.after == before + 8 and k.balance(CARD_A).pending == 8

    assert k.sync().ok
    assert k.balance(CARD_A).confirmed == before + 8 and k.balance(CARD_A).pending == 0
    assert next(t for t in k.tasks(CARD_A) if t["id"] == task)["mine"] == "done"
    shown = server.json("task", "show", task)
    assert [(c["claim"], c["resident"], c["done_event"]) for c in shown["claims"]] == [(claim.id, CARD_A, done.id)]
    assert server.json("balance", CARD_A)["confirmed"] == on_server + 8

    server.cli("task", "close", task)
    assert k.sync().ok
    assert next(t for t in k.tasks(CARD_A) if t["id"] == task)["open"] is False
    server.stop()
    assert server.cli("reproject", "--check").returncode == 0
