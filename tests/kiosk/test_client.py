"""The sync client: nothing is read before it verifies, and every failure is one Offline."""

import httpx
import pytest

from kiosk.client import Client
from kiosk.errors import Offline, Rejected
from schema.wire import ErrorBody, ErrorReply
from sync import codec
from sync.protocol import HEADER_SIGNATURE
from sync.signing import SigningKey
from tests.kiosk.fakeserver import SERVER_SEED

SERVER = SigningKey(SERVER_SEED)
KIOSK = SigningKey(bytes([1]) * 32)
BODY = b'{"x":1}'


def client_answering(handler) -> Client:
    return Client("http://central.test", KIOSK, kiosk="K0001", server_key=SERVER.public_hex,
                  transport=httpx.MockTransport(handler))


def signed(status: int, body: bytes, key: SigningKey = SERVER) -> httpx.Response:
    return httpx.Response(status, content=body, headers={HEADER_SIGNATURE: key.sign("response", body)})


def error_body(request: str | None) -> bytes:
    return codec.encode(ErrorReply(error=ErrorBody(code="fork", message="fork at 3", action="stop", detail={"seq": 3}),
                                   request=request))


@pytest.mark.parametrize(
    "respond",
    [
        lambda req: (_ for _ in ()).throw(httpx.ConnectError("refused", request=req)),
        lambda req: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=req)),
        lambda req: httpx.Response(502, content=b"<html>bad gateway</html>"),
        lambda req: signed(200, b'{"not":"a reply"}'),
        lambda req: signed(200, b"\xff\xfe garbage"),
        lambda req: signed(409, error_body(codec.digest(BODY)), key=SigningKey(bytes([7]) * 32)),
        lambda req: signed(409, error_body(codec.digest(b"some other request"))),
        lambda req: signed(409, error_body(None)),
    ],
    ids=["refused", "timeout", "proxy-html", "wrong-shape", "garbage", "other-key", "other-request", "no-request"],
)
def test_every_failure_is_offline(respond):
    with client_answering(respond) as client, pytest.raises(Offline):
        client.push(BODY, "ab" * 64)


def test_verified_error_reply_is_rejected_with_its_action():
    seen = {}

    def respond(request):
        seen.update(request.headers)
        return signed(409, error_body(codec.digest(request.content)))

    with client_answering(respond) as client, pytest.raises(Rejected) as info:
        client.push(BODY, "ab" * 64)
    assert (info.value.code, info.value.action, info.value.detail) == ("fork", "stop", {"seq": 3})
    assert seen["jifen-kiosk"] == "K0001" and seen["jifen-signature"] == "ab" * 64


def test_bad_server_url_is_offline():
    with Client("not a url at all", KIOSK, server_key=SERVER.public_hex) as client, pytest.raises(Offline):
        client.push(BODY, "ab" * 64)
