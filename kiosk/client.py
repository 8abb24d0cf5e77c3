"""The kiosk's only network code: enrol, push a batch, pull a page, look a resident up.

Every response body is checked against the pinned server key (domain ``response``)
*before* it is decoded: bytes that do not verify are not read at all. Whatever goes wrong
on the way — no route, timeout, a proxy's HTML page, a body that does not verify or does
not decode, an error that answers some other request — becomes one ``Offline``: the kiosk
keeps recording and tries again later. A verified ``ErrorReply`` becomes ``Rejected``, and
the sync loop does what its ``action`` says.
"""

import ssl
from typing import TypeVar

import httpx

from kiosk.errors import NotOffered, Offline, Rejected
from schema.wire import (ConsistencyReply, EnrollReply, EnrollRequest, ErrorReply, HistoryReply, HistoryRequest, LookupReply, LookupRequest,
                         PullPage, PullRequest, PushReply, ResidentLookupRequest, ResidentReply, ResidentStatement,
                         RotateReply, RotateRequest)
from sync import codec
from sync.keys import rotate_proof_message
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE, HEADER_VERSION, PROTOCOL_VERSION
from sync.signing import BadKey, BadSignature, SigningKey, VerifyKey

T = TypeVar("T")


#: how long an idle connection to the server is kept for the next sync
KEEPALIVE_SECONDS = 5.0


class Client:
    """Talks to one server as one kiosk. ``transport`` lets tests pass a MockTransport."""

    def __init__(
        self,
        server_url: str,
        key: SigningKey,
        *,
        kiosk: str | None = None,
        server_key: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
    ):
        self.kiosk = kiosk
        self.key = key
        self._server = VerifyKey(server_key) if server_key else None
        self._http = httpx.Client(
            base_url=server_url.rstrip("/"),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            verify=verify,
            # an idle connection is dropped well before the server drops it (its keep-alive
            # is 30 s, server/cli.py), so a reused connection is never one the server is
            # closing at that moment (which read as "server unreachable")
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2, keepalive_expiry=KEEPALIVE_SECONDS),
            headers={HEADER_VERSION: str(PROTOCOL_VERSION), "User-Agent": "jifen-kiosk"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ calls

    def enroll(self, code: str, label: str, expected_server_key: str | None = None) -> EnrollReply:
        """Present our public key with a one-time code, and learn the server key to pin.

        With ``expected_server_key`` (read off the server by staff) the reply is verified
        under it before it is read; without it, the key the reply names is trusted on
        first use, and the reply must still verify under it."""
        proof = self.key.sign("enroll", f"{code}\n{self.key.public_hex}".encode("ascii"))
        body = codec.encode(
            EnrollRequest(v=PROTOCOL_VERSION, code=code, public_key=self.key.public_hex, label=label, proof=proof)
        )
        response = self._send("/v1/enroll", body, {})
        if expected_server_key:
            self._server = VerifyKey(expected_server_key)
            self._verify(response)
        if not response.is_success:
            # With no key given nothing is pinned yet, so this error is unverified; it
            # changes nothing on disk, it only explains the refusal.
            raise self._rejection(response, body)
        # Trust on first use: the reply names the key, and must verify under it before
        # anything in it is used.
        reply = self._decode(response.content, EnrollReply)
        try:
            self._server = VerifyKey(reply.server_key)
        except BadKey:
            raise Offline("server key is not a valid key") from None
        self._verify(response)
        self.kiosk = reply.kiosk
        return reply

    def push(self, body: bytes, signature: str) -> PushReply:
        """Send one stored, signed batch, byte for byte."""
        response = self._send("/v1/push", body, {HEADER_SIGNATURE: signature})
        return self._reply(response, body, PushReply)

    def pull(self, request: PullRequest) -> PullPage:
        body = codec.encode(request)
        response = self._send("/v1/pull", body, {HEADER_SIGNATURE: self.key.sign("pull", body)})
        return self._reply(response, body, PullPage)

    def rotate(self, new: SigningKey, from_seq: int) -> RotateReply:
        """Ask the server to take ``new`` as this kiosk's key from batch ``from_seq`` on:
        signed by the current key, with the new key's proof. Safe to repeat."""
        proof = new.sign("rotate", rotate_proof_message(self.kiosk, from_seq, new.public_hex))
        body = codec.encode(RotateRequest(v=PROTOCOL_VERSION, kiosk=self.kiosk, from_seq=from_seq, public_key=new.public_hex, proof=proof))
        response = self._send("/v1/rotate", body, {HEADER_SIGNATURE: self.key.sign("rotate", body)})
        return self._reply(response, body, RotateReply)

    def lookup(self, request: LookupRequest) -> LookupReply:
        """One resident by exact card (docs/PROTOCOL.md § 4.6)."""
        return self._ask("/v1/lookup", "lookup", request, LookupReply)

    def history(self, request: HistoryRequest) -> HistoryReply:
        """A resident's whole history, the newest ``request.limit`` entries of it."""
        return self._ask("/v1/history", "history", request, HistoryReply)

    def resident_lookup(self, request: ResidentLookupRequest) -> ResidentStatement:
        """A resident of any county as the server states it (docs/PROTOCOL.md § 4.7): the
        reply verified as every reply, then the statement's own signature (domain
        ``resident``) over its exact bytes under the pinned key, its canonical form, and
        that it answers this request. Anything amiss is ``Offline``: never used."""
        body = codec.encode(request)
        response = self._send("/v1/lookup/resident", body, {HEADER_SIGNATURE: self.key.sign("resident-lookup", body)})
        self._verify(response)
        if response.status_code == 404 and self._decode(response.content, ErrorReply).error.code == "not_found":
            raise NotOffered(request="resident_lookup")
        if not response.is_success:
            raise self._rejection(response, body)
        reply = self._decode(response.content, ResidentReply)
        signed = bytes(reply.statement)
        try:
            self._server.verify("resident", signed, reply.signature)
        except BadSignature:
            raise Offline("resident statement does not verify under the pinned server key") from None
        statement = self._decode(signed, ResidentStatement)
        if codec.encode(statement) != signed:
            raise Offline("resident statement is not in canonical form")
        if statement.nonce != request.nonce or statement.kiosk != self.kiosk or statement.card != request.card:
            raise Offline("resident statement does not answer this request (nonce, kiosk or card)")
        return statement

    def _ask(self, path: str, domain, request, type_: type[T]) -> T:
        """A signed request whose reply echoes its nonce. A server of a release before it
        has no such route and answers (signed) ``404 not_found``: ``NotOffered``."""
        body = codec.encode(request)
        response = self._send(path, body, {HEADER_SIGNATURE: self.key.sign(domain, body)})
        self._verify(response)
        if response.status_code == 404 and self._decode(response.content, ErrorReply).error.code == "not_found":
            raise NotOffered(request=domain)
        if not response.is_success:
            raise self._rejection(response, body)
        reply = self._decode(response.content, type_)
        if reply.nonce != request.nonce or reply.kiosk != self.kiosk or reply.card != request.card:
            raise Offline(f"{domain} reply does not answer this request (nonce, kiosk or card)")
        return reply

    def log_consistency(self, old: int, new: int) -> ConsistencyReply | None:
        """The Merkle log's consistency proof from tree size ``old`` to ``new``
        (``GET /v1/log/consistency``, docs/PROTOCOL.md § 13), its answer verified under the
        pinned key; None when the server answers it has no such proof (``proof_unavailable``)."""
        try:
            response = self._http.get("/v1/log/consistency", params={"old": old, "new": new})
        except (httpx.HTTPError, OSError, ValueError) as exc:
            raise Offline(f"{type(exc).__name__}: {exc}") from None
        self._verify(response)
        if response.status_code == 404 and self._decode(response.content, ErrorReply).error.code == "proof_unavailable":
            return None
        if not response.is_success:
            raise Offline(f"consistency proof {old} to {new} answered HTTP {response.status_code}")
        reply = self._decode(response.content, ConsistencyReply)
        if (reply.old, reply.new) != (old, new):
            raise Offline(f"consistency reply answers {reply.old} to {reply.new}, not {old} to {new}")
        return reply

    def health(self) -> None:
        """Is the server there? ``GET /v1/health``, its answer verified under the pinned key
        (anything else answering on that address is as good as no server); ``Offline`` if not."""
        try:
            response = self._http.get("/v1/health")
        except (httpx.HTTPError, OSError, ValueError) as exc:
            raise Offline(f"{type(exc).__name__}: {exc}") from None
        self._verify(response)
        if not response.is_success:
            raise Offline(f"health answered HTTP {response.status_code}")

    # ------------------------------------------------------------ plumbing

    def _send(self, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        if self.kiosk:
            headers = {HEADER_KIOSK: self.kiosk, **headers}
        headers["Content-Type"] = "application/json"
        try:
            return self._http.post(path, content=body, headers=headers)
        except httpx.HTTPError as exc:  # every transport failure and timeout
            raise Offline(f"{type(exc).__name__}: {exc}") from None
        except (OSError, ValueError) as exc:  # e.g. a malformed URL, a socket error outside httpx
            raise Offline(f"{type(exc).__name__}: {exc}") from None

    def _verify(self, response: httpx.Response) -> None:
        if self._server is None:
            raise Offline("no server key pinned")
        signature = response.headers.get(HEADER_SIGNATURE, "")
        try:
            self._server.verify("response", response.content, signature)
        except BadSignature:
            raise Offline(f"HTTP {response.status_code} response does not verify under the pinned server key") from None

    def _reply(self, response: httpx.Response, sent: bytes, type_: type[T]) -> T:
        self._verify(response)
        if response.is_success:
            return self._decode(response.content, type_)
        raise self._rejection(response, sent)

    def _rejection(self, response: httpx.Response, sent: bytes) -> Rejected:
        error = self._decode(response.content, ErrorReply)
        if error.request != codec.digest(sent):
            # a signed error, but for another request: a replay, not an answer to us
            raise Offline("error reply answers a different request")
        body = error.error
        return Rejected(body.code, body.action, body.message, body.detail)

    @staticmethod
    def _decode(content: bytes, type_: type[T]) -> T:
        try:
            return codec.decode(content, type_)
        except codec.DecodeError as exc:
            raise Offline(f"garbled {type_.__name__}: {exc.message}") from None
