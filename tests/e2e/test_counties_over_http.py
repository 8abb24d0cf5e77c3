"""Two counties end to end over real HTTP (issue 15, "scope the feed by county"): a real
`jifen-server serve` over demo data generated with `demo-data --counties 2`; a kiosk in
county A (S01, 广汉市) mirrors only county A's residents, serves a county-B resident through
the server's signed statement while online, refuses them offline in plain Chinese, and
never uses a tampered statement (through a party in the middle on the wire); when a
community moves county, the old county's kiosk drops it and the new county's gets its board."""

import http.server
import threading
import time
from pathlib import Path

import httpx
import msgspec
import pytest

from kiosk import errors as E
from kiosk import settings as kiosk_settings
from kiosk.i18n import t
from kiosk.service import KioskService
from schema.wire import ResidentReply, ResidentStatement
from server.keys import load_or_create_key
from sync import codec
from sync.calendar import local_month
from tests.e2e.conftest import ServerProcess, cli, free_port

#: demo seed 2024 with 4 communities: SQ01/SQ03 in XQ01 (广汉市), SQ02/SQ04 in XQ02 (什邡市)
CARD_B = "5106810200001"  # SQ02's first resident


class Middle:
    """A party in the middle: forwards every request to the server; with ``tamper`` set,
    changes the reply of ``POST /v1/lookup/resident`` by ``tamper(body)``."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.tamper = None
        middle = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                self._forward("POST")

            def do_GET(self):  # noqa: N802
                self._forward("GET")

            def _forward(self, method):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower().startswith("jifen-") or k.lower() == "content-type"}
                try:
                    resp = httpx.request(method, middle.upstream + self.path, content=body, headers=headers, timeout=10)
                except httpx.HTTPError:  # the server is down: so is the line
                    self.close_connection = True
                    return
                content, out = resp.content, {k: v for k, v in resp.headers.items() if k.lower().startswith("jifen-")}
                if middle.tamper and self.path == "/v1/lookup/resident" and resp.status_code == 200:
                    content, out = middle.tamper(content, out)
                self.send_response(resp.status_code)
                for k, v in out.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def counties(tmp_path):
    data = tmp_path / "server"
    cli("jifen-server", "demo-data", "--data", str(data), "--residents", "40", "--communities", "4", "--counties", "2")
    srv = ServerProcess(data, free_port()).start()
    middle = Middle(srv.url)
    yield srv, middle
    middle.close()
    srv.stop()


def kiosk_via(tmp_path: Path, srv: ServerProcess, url: str, shop: str = "S01") -> KioskService:
    svc = KioskService(kiosk_settings.load(tmp_path / f"kiosk-{shop}", lang="zh", timeout=3.0))
    svc.enroll(url, srv.enroll_code(shop))
    assert svc.sync().ok
    return svc


def test_a_county_a_kiosk_serves_county_b_online_only(counties, tmp_path):
    srv, middle = counties
    listed = {c["id"]: (c["name"], c["communities"]) for c in srv.json("county", "list")}
    assert listed == {"XQ01": ("广汉市", 2), "XQ02": ("什邡市", 2)}
    svc = kiosk_via(tmp_path, srv, middle.url)
    try:
        mirror = {r[0] for r in svc.store.db.conn.execute("SELECT community FROM residents")}  # the test's own look
        assert mirror == {"SQ01"} and svc.resident(CARD_B) is None
        refused = srv.cli("shop", "serves", "S01", "SQ01", "SQ02", check=False)
        assert refused.returncode != 0 and "SQ02 is in county XQ02" in refused.stdout + refused.stderr
        srv.cli("shop", "serves", "S01", "SQ01", "SQ03")
        assert svc.sync().ok
        mirror = {r[0] for r in svc.store.db.conn.execute("SELECT community FROM residents")}
        assert mirror == {"SQ01", "SQ03"}  # county A's only

        confirmed = srv.json("balance", CARD_B)["confirmed"]
        row = svc.look_up(CARD_B)  # online: the server's signed statement
        assert (row["county"], row["county_name"], row["community"]) == ("XQ02", "什邡市", "SQ02") and "*" in row["name"]
        assert svc.balance(CARD_B).available == confirmed
        svc.award(CARD_B, "ZYFW", "op1")
        assert svc.sync().ok and srv.json("balance", CARD_B)["confirmed"] == confirmed + 10
        log = srv.json("staff", "log", "--staff", f"kiosk:{svc.kiosk_id}")
        assert [(r["action"], r["subject"]) for r in log if r["subject"] == CARD_B] == [("kiosk_resident_lookup", CARD_B)] * 2

        srv.stop()  # offline: said plainly, nothing recorded
        before = svc.status()["pending_events"]
        with pytest.raises(E.OtherCountyOnlineOnly) as offline:
            svc.award(CARD_B, "ZYFW", "op1")
        assert "外县（什邡市）居民，只能在联网时办理" in t(offline.value.key, "zh", **offline.value.fields)
        assert svc.status()["pending_events"] == before
        srv.start()

        key = load_or_create_key(srv.data / "server.key")

        def richer(content, headers):  # the balance raised, the reply signed again: the statement's own signature fails
            reply = codec.decode(content, ResidentReply)
            st = codec.decode(bytes(reply.statement), ResidentStatement)
            forged = codec.encode(ResidentReply(v=1, signature=reply.signature, statement=msgspec.Raw(
                codec.encode(msgspec.structs.replace(st, balance=99_999)))))
            return forged, {k: v for k, v in headers.items() if k.lower() != "jifen-signature"} | {
                "Jifen-Signature": key.sign("response", forged)}

        middle.tamper = richer
        with pytest.raises(E.Offline) as tampered:
            svc.look_up(CARD_B)
        assert "resident statement does not verify" in tampered.value.why
        with pytest.raises(E.OtherCountyOnlineOnly):  # no true statement: no transaction
            svc.redeem(CARD_B, [("OIL5L", 1)], "op1")
        middle.tamper = lambda content, headers: (content.replace(b'"balance":', b'"balance":9'), headers)
        with pytest.raises(E.Offline) as tampered:
            svc.look_up(CARD_B)
        assert "does not verify under the pinned server key" in tampered.value.why
        assert svc.balance(CARD_B).available == confirmed + 10  # what the last true statement said
    finally:
        svc.close()


def test_a_community_moving_county_leaves_the_kiosks_of_the_old_one(counties, tmp_path):
    """`community county` on the running server: the county-A kiosk that served SQ03 drops
    its residents and board on its next sync over HTTP; a county-B kiosk receives the board."""
    srv, _ = counties
    srv.cli("shop", "serves", "S01", "SQ01", "SQ03")
    srv.cli("report", "board", "--month", local_month(int(time.time() * 1000)), "--publish")
    here, there = kiosk_via(tmp_path, srv, srv.url), kiosk_via(tmp_path, srv, srv.url, shop="S02")

    def held(svc) -> tuple[set[str], set[str]]:  # the test's own look at the kiosk's mirror
        conn = svc.store.db.conn
        return ({r[0] for r in conn.execute("SELECT community FROM residents")},
                {r[0].split("/")[0] for r in conn.execute("SELECT key FROM board")})

    try:
        assert held(here) == ({"SQ01", "SQ03"}, {"SQ01", "SQ03"}) and held(there)[1] == {"SQ02", "SQ04"}
        srv.cli("community", "county", "SQ03", "XQ02")
        assert here.sync().ok and there.sync().ok
        assert held(here) == ({"SQ01"}, {"SQ01"})
        assert held(there)[1] == {"SQ02", "SQ03", "SQ04"}
    finally:
        here.close()
        there.close()
