"""The current kiosk against a server of the release before online lookup and history: such
a server has no ``/v1/lookup`` or ``/v1/history`` route and answers them, signed, with its
``404 not_found`` (``request`` null: no route read the body). The kiosk takes that as "not
available here" and goes on with what it holds, exactly as when it is offline; and a kiosk
of release 1 skips the ``offers`` feed row it does not know."""

import pytest

from kiosk import errors as E
from kiosk.app import KioskApp
from server.services.enroll import enroll_code
from server.services.staff import SYSTEM
from tests.compat.v1.kiosk import V1Kiosk
from tests.conftest import T0, AppTransport
from tests.kiosk.app.conftest import SIZE, burst, message_text, screen_name, signed_in, typed
from tests.server.conftest import CARD_A, CARD_B


class ReleaseBeforeLookup(AppTransport):
    """The real app, reached as a server of the release before: its lookup and history
    paths go to a path the app does not route, so the app's own signed 404 answers them,
    as the earlier release's does."""

    @staticmethod
    def call(request):
        method, path, body, headers = AppTransport.call(request)
        if path in ("/v1/lookup", "/v1/history"):
            path = "/v1/not-in-this-release" + path
        return method, path, body, headers


@pytest.fixture
def older(inprocess_kiosk, app_server):
    svc = inprocess_kiosk("k1", lang="zh")  # it learnt the offers row from the current server
    older = ReleaseBeforeLookup(app_server)
    svc.enrolment.transport = older  # and then its server is rolled back a release
    return svc, older


def test_a_404_from_an_older_server_is_not_available(older):
    svc, wire = older
    for ask in (svc.look_up, svc.whole_history):
        with pytest.raises(E.NotOffered):
            ask(CARD_B)
    assert [r.status_code for _, r in wire.seen[-2:]] == [404, 404]
    assert svc.sync().ok  # and nothing else minds


async def test_the_counter_falls_back_to_what_the_kiosk_holds(older):
    svc, _ = older
    app = KioskApp(svc, lang="zh", auto_sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD_B + "\n"))
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert screen_name(app) == "FindScreen" and f"没有找到：{CARD_B}" in message_text(app)
        await burst(pilot, *typed(CARD_A + "\n"))
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert screen_name(app) == "ResidentScreen"
        assert str(app.screen.query_one("#history_hint").render()) == "离线：仅显示本机记录，不完整"


def test_a_release_1_kiosk_skips_the_offers_row(app_server):
    k = V1Kiosk(app_server.client, 7, lambda: T0)
    k.enroll(enroll_code(app_server.ctx, SYSTEM, "S01")["code"])
    k.pull()
    assert "offers" in k.skipped
