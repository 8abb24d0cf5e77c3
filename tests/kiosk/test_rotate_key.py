"""``jifen-kiosk rotate-key`` against the real server app in process (root conftest): the
kiosk switches key files only after the server's verified reply, a crash in between is
finished by the next sync, and batches signed with the old key before the rotation are
still accepted."""

import pytest

from kiosk.keys import load_key
from server.services.audit import audit
from server.services.rotate import force_rotate
from server.services.staff import SYSTEM

CARD = "5106810100001"


@pytest.fixture
def world(inprocess_kiosk, wire, app_server):
    """An enrolled kiosk, its wire to the server, and the server's context."""
    svc = inprocess_kiosk("kiosk", seed=bytes([7]) * 32)
    return svc, wire, app_server.ctx


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
    transport.lose_replies = 1  # the server switches, the kiosk never hears it
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
    transport.lose_replies = 1  # the server binds the new key; the kiosk never hears it
    with pytest.raises(Exception):
        svc.rotate_key(out["code"], seed=bytes([9]) * 32)
    assert svc.rotation_pending()
    if recover == "rerun":  # the code is used up, but the server already holds our new key
        assert svc.rotate_key(out["code"])["from_seq"] == 1
    res = svc.sync()
    assert res.ok and not svc.rotation_pending(), res
    assert svc.status()["pending_events"] == 0
    assert audit(ctx).ok
