"""``jifen-kiosk rotate-key`` against the real server app in process: the kiosk switches
key files only after the server's verified reply, a crash in between is finished by the
next sync, and batches signed with the old key before the rotation are still accepted."""

import httpx
import pytest
from litestar.testing import TestClient

from kiosk.keys import load_key
from kiosk.service import KioskService
from kiosk.settings import Settings as KioskSettings
from server.app import create_app
from server.services import open_context
from server.services.audit import audit
from server.services.demo import demo_data
from server.services.enroll import enroll_code
from server.services.rotate import force_rotate
from server.services.staff import SYSTEM
from server.settings import Settings as ServerSettings

T0 = 1_767_225_600_000
CARD = "5106810100001"


class Clock:
    now = T0

    def __call__(self) -> int:
        return self.now


class AppTransport(httpx.BaseTransport):
    """Hands each request to the app behind Litestar's TestClient; ``drop_reply`` loses the
    next reply after the server handled it (a crash before the kiosk read it)."""

    def __init__(self, client: TestClient):
        self.client = client
        self.drop_reply = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        r = self.client.request(request.method, request.url.path, content=request.read(), headers=dict(request.headers))
        if self.drop_reply:
            self.drop_reply = False
            raise httpx.ReadError("connection lost", request=request)
        return httpx.Response(r.status_code, headers=r.headers, content=r.content)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("srv")
    ctx = open_context(ServerSettings(data_dir=path, clock=Clock()))
    demo_data(ctx, residents=30, communities=3)
    ctx.close()
    return path


@pytest.fixture
def world(tmp_path, template):
    import shutil

    shutil.copytree(template, tmp_path / "srv")
    with TestClient(create_app(ServerSettings(data_dir=tmp_path / "srv", clock=Clock()))) as client:
        transport = AppTransport(client)
        svc = KioskService(KioskSettings(data_dir=tmp_path / "kiosk"), clock=Clock(), transport=transport)
        svc.enroll("http://central.test", enroll_code(client.app.state.ctx, "S01")["code"], seed=bytes([7]) * 32)
        assert svc.sync().ok
        yield svc, transport, client.app.state.ctx
        svc.close()


def record(svc, n=1):
    for _ in range(n):
        svc.award(CARD, "ZYFW", "op1")


def test_rotate_key_switches_after_the_reply_and_old_batches_still_count(world):
    svc, _, ctx = world
    record(svc)
    assert svc.sync().ok
    record(svc)
    from kiosk.syncing import Round

    Round(svc.store, None, load_key(svc.settings.key_path), svc.clock, 500, 100).build_batches(500)  # batch 2, old key, unsent
    old = load_key(svc.settings.key_path).public_hex
    out = svc.rotate_key(seed=bytes([8]) * 32)
    assert out["from_seq"] == 3
    assert load_key(svc.settings.key_path).public_hex == out["public_key"] != old
    assert not svc.rotation_pending() and not (svc.settings.data_dir / "kiosk.key.old").exists()
    record(svc)
    res = svc.sync()
    assert res.ok and res.pushed == 2, res
    assert svc.status()["pending_events"] == 0
    report = audit(ctx)
    assert report.ok, report.failures


def test_a_crash_before_the_reply_is_finished_by_the_next_sync(world):
    svc, transport, ctx = world
    old = load_key(svc.settings.key_path).public_hex
    transport.drop_reply = True  # the server switches, the kiosk never hears it
    with pytest.raises(Exception):
        svc.rotate_key(seed=bytes([8]) * 32)
    assert load_key(svc.settings.key_path).public_hex == old
    assert svc.rotation_pending() and (svc.settings.data_dir / "kiosk.key.old").exists()
    record(svc)
    res = svc.sync()  # asks again, gets the same reply, switches, then pushes with the new key
    assert res.ok and res.pushed == 1, res
    assert load_key(svc.settings.key_path).public_hex != old and not svc.rotation_pending()
    assert audit(ctx).ok


def test_forced_rotation_stops_the_kiosk_until_it_reenrols_with_the_code(world):
    svc, _, ctx = world
    record(svc)
    out = force_rotate(ctx, SYSTEM, svc.kiosk_id)
    res = svc.sync()
    assert not res.ok and res.detail.get("code") == "key_retired", res
    info = svc.rotate_key(out["code"], seed=bytes([9]) * 32)
    assert info["from_seq"] == 1
    res = svc.sync()  # the unsent batch is re-signed with the new key
    assert res.ok and res.pushed == 1, res
    assert audit(ctx).ok


@pytest.mark.parametrize("recover", ["sync", "rerun"])
def test_a_crash_during_reenrolment_is_recovered_without_a_new_code(world, recover):
    svc, transport, ctx = world
    record(svc)
    out = force_rotate(ctx, SYSTEM, svc.kiosk_id)
    assert not svc.sync().ok  # key_retired: sync stops
    transport.drop_reply = True  # the server binds the new key; the kiosk never hears it
    with pytest.raises(Exception):
        svc.rotate_key(out["code"], seed=bytes([9]) * 32)
    assert svc.rotation_pending()
    if recover == "rerun":  # the code is used up, but the server already holds our new key
        assert svc.rotate_key(out["code"])["from_seq"] == 1
    res = svc.sync()
    assert res.ok and not svc.rotation_pending(), res
    assert svc.status()["pending_events"] == 0
    assert audit(ctx).ok
