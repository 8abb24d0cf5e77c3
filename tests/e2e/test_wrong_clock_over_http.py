"""A kiosk whose clock is far wrong never wedges, end to end: a real `jifen-server serve`
process, the real `jifen-kiosk` command line run under libfaketime (the Debian package
`faketime`) with its clock at 1970, at 2035, or a month behind the server. Everything it
records is either synced or refused up front, and sync never stops."""

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from schema.wire import Award
from sync import codec
from sync.batch import event_id
from sync.clock import EARLIEST, refused_time
from tests.e2e.conftest import BIN, cli

LIBFAKETIME = next((p for p in (Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
                                Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"),
                                Path("/usr/lib/faketime/libfaketime.so.1")) if p.exists()), None)
pytestmark = pytest.mark.skipif(LIBFAKETIME is None, reason="libfaketime is installed by `make setup` (apt package faketime)")

RULE = "ZYFW"  # 志愿服务, encouraged, no daily cap
OPERATOR = "op1"


def kiosk(data: Path, *args: str, faketime: str | None = None, check: bool = True, as_json: bool = True):
    """`jifen-kiosk CMD --data DATA [--json] ARGS` in Chinese, its clock moved by ``faketime``
    (a FAKETIME spec: ``@1970-01-02 00:00:00`` starts the clock there, ``-30d`` shifts it)."""
    env = {**os.environ, "JIFEN_LANG": "zh", "JIFEN_OPERATOR_PIN": "1234"}  # the demo operators' PIN
    if faketime:
        env.update(LD_PRELOAD=str(LIBFAKETIME), FAKETIME=faketime, FAKETIME_DONT_RESET="1")
    proc = subprocess.run([str(BIN / "jifen-kiosk"), args[0], "--data", str(data), *(["--json"] if as_json else []), *args[1:]],
                          capture_output=True, text=True, env=env, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"jifen-kiosk {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def out(proc) -> dict:
    return json.loads(proc.stdout)


@pytest.fixture
def enrolled(tmp_path, server):
    data = tmp_path / "kiosk"
    cli("jifen-kiosk", "enroll", "--data", str(data), "--server", server.url, "--code", server.enroll_code("S01"))
    assert out(kiosk(data, "sync"))["ok"]
    return data


def a_card(data: Path) -> str:
    with sqlite3.connect(data / "kiosk.db") as db:
        return db.execute("SELECT card FROM residents WHERE status = 'active' ORDER BY card LIMIT 1").fetchone()[0]


def server_events(server, kiosk_id: str) -> list[tuple[str, int]]:
    with sqlite3.connect(server.data / "server.db") as db:
        return db.execute("SELECT id, at FROM events WHERE kiosk = ? ORDER BY id", (kiosk_id,)).fetchall()


def a_sku(data: Path) -> str:
    with sqlite3.connect(data / "kiosk.db") as db:
        return db.execute("SELECT sku FROM goods WHERE status = 'active' ORDER BY price LIMIT 1").fetchone()[0]


@pytest.mark.parametrize("faketime", ["@1970-01-02 00:00:00", "@2035-06-01 00:00:00", "-30d"],
                         ids=["1970", "2035", "a-month-behind-the-server"])
def test_a_far_wrong_clock_records_at_the_best_known_time_and_never_stops_sync(enrolled, server, faketime):
    data, card = enrolled, a_card(enrolled)
    before_ms = time.time_ns() // 1_000_000
    award = out(kiosk(data, "award", "--resident", card, "--rule", RULE, "--operator", OPERATOR, faketime=faketime))
    st = out(kiosk(data, "status", faketime=faketime))
    assert st["clock_wrong"] is not None and st["clock_wrong"]["at"] >= before_ms - 60_000
    assert "本机时钟不准" in kiosk(data, "status", faketime=faketime, as_json=False).stdout

    # redeeming with time standing still is refused up front, in plain Chinese, nothing recorded
    refused = kiosk(data, "redeem", "--resident", card, "--item", a_sku(data), "--operator", OPERATOR,
                    faketime=faketime, check=False)
    assert refused.returncode == 1 and "时钟不准" in out(refused)["message"]

    synced = out(kiosk(data, "sync", faketime=faketime))
    assert synced["ok"], synced
    st = out(kiosk(data, "status", faketime=faketime))
    assert st["pending_events"] == 0 and st["stopped_reason"] is None
    events = server_events(server, st["kiosk"])
    assert [e for e, _ in events] == [award["id"]]
    assert before_ms - 60_000 <= events[0][1] <= time.time_ns() // 1_000_000 + 60_000  # dated at the server's time

    # the clock set right again: the warning clears, recording and sync go on
    out(kiosk(data, "award", "--resident", card, "--rule", RULE, "--operator", OPERATOR))
    assert out(kiosk(data, "status"))["clock_wrong"] is None
    assert out(kiosk(data, "sync"))["ok"]
    assert len(server_events(server, st["kiosk"])) == 2


def test_a_kiosk_with_a_1970_clock_that_has_never_synced_learns_the_server_time_first(tmp_path, server):
    data = tmp_path / "kiosk"
    cli("jifen-kiosk", "enroll", "--data", str(data), "--server", server.url, "--code", server.enroll_code("S01"))
    # enrolled but never synced: no mirror yet, so nothing can be recorded; the first sync,
    # at 1970, pulls and pushes with the clock wrong and does not stop
    assert out(kiosk(data, "sync", faketime="@1970-01-02 00:00:00"))["ok"]
    award = out(kiosk(data, "award", "--resident", a_card(data), "--rule", RULE, "--operator", OPERATOR,
                      faketime="@1970-01-02 00:00:00"))
    assert out(kiosk(data, "sync", faketime="@1970-01-02 00:00:00"))["ok"]
    assert [e for e, _ in server_events(server, out(kiosk(data, "status"))["kiosk"])] == [award["id"]]


def test_a_kiosk_stopped_by_a_1970_event_from_before_the_rule_recovers_on_the_next_sync(enrolled, server):
    """The state a kiosk was left in before sync.clock: an award stored at 1970 and sync
    stopped with a (false) broken-chain alarm. The next sync re-times it and sends it."""
    from kiosk.store import Store

    store = Store(enrolled / "kiosk.db")
    kiosk_id = store.meta("kiosk_id")
    store.append_event(lambda kseq: Award(id=event_id(kiosk_id, kseq), kseq=kseq, at=86_400_000, operator=OPERATOR,
                                          resident=a_card(enrolled), rule=RULE, points=5, note=""))
    store.set_meta(stopped_reason="chain_broken: event 1")
    store.close()

    synced = out(kiosk(enrolled, "sync"))
    assert synced["ok"], synced
    st = out(kiosk(enrolled, "status"))
    assert st["pending_events"] == 0 and st["stopped_reason"] is None
    [(_, at)] = server_events(server, kiosk_id)
    assert at >= EARLIEST and refused_time(at, time.time_ns() // 1_000_000) is None


def test_an_altered_event_still_stops_sync(enrolled, server):
    """Re-timing is for a body the chain vouches for: a record changed on disk still stops."""
    card = a_card(enrolled)
    out(kiosk(enrolled, "award", "--resident", card, "--rule", RULE, "--operator", OPERATOR))
    with sqlite3.connect(enrolled / "kiosk.db") as db:
        body = db.execute("SELECT body FROM events WHERE kseq = 1").fetchone()[0]
        db.execute("UPDATE events SET body = ? WHERE kseq = 1", (body.replace(b'"at":', b'"at":1'),))
    for _ in range(2):
        res = kiosk(enrolled, "sync", check=False)
        assert res.returncode == 1 and out(res)["problem"] == "chain_broken"
    assert server_events(server, out(kiosk(enrolled, "status"))["kiosk"]) == []


def test_the_server_refuses_event_times_no_kiosk_records(enrolled, server):
    """The server side of the one rule: a batch dated 2035, signed by the kiosk's own key,
    is refused (422 invalid_batch); nothing of it is applied."""
    import httpx

    from kiosk.keys import load_key
    from schema.types import GENESIS
    from sync.batch import build_batch
    from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE

    key = load_key(enrolled / "kiosk.key")
    kiosk_id = out(kiosk(enrolled, "status"))["kiosk"]
    at = 2_064_268_800_000  # 2035-06-01
    ev = Award(id=event_id(kiosk_id, 1), kseq=1, at=at, operator=OPERATOR, resident=a_card(enrolled), rule=RULE, points=5, note="")
    body = build_batch(kiosk_id, 1, GENESIS, at, [ev])
    resp = httpx.post(server.url + "/v1/push", content=body,
                      headers={HEADER_KIOSK: kiosk_id, HEADER_SIGNATURE: key.sign("batch", body), "content-type": "application/json"})
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "invalid_batch", resp.text
    assert server_events(server, kiosk_id) == []
    assert codec.digest(body)  # the bytes were canonical: only the time was refused
