"""FROZEN: a kiosk of release 1, reduced to its protocol: enrol, build and sign batches,
push, pull and mirror, decoding only with release 1's wire schema (``tests.compat.v1.wire``)
and encoding with its own canonical encoder. Never edit it to follow the current code:
it stands for the kiosks still in the field. (Signatures use ``sync.signing``: Ed25519 with
a domain prefix is the protocol itself, unchanged since release 1.)"""

import hashlib

import msgspec

from sync.signing import SigningKey, VerifyKey
from tests.compat.v1 import wire as v1

_encode = msgspec.json.Encoder(order="sorted").encode
GENESIS = "0" * 64


def build_batch(kiosk: str, seq: int, prev: str, created: int, events: list) -> bytes:
    """Release 1's batch builder: the canonical bytes of a ``Batch``."""
    return _encode(v1.Batch(v=1, kiosk=kiosk, seq=seq, prev=prev, created=created, events=events))


class V1Kiosk:
    """What a release-1 kiosk sends and how strictly it reads the answers."""

    def __init__(self, http, seed: int, clock):
        self.http = http  # an httpx.Client on the server
        self.key = SigningKey(bytes([seed]) * 32)
        self.clock = clock
        self.id = self.shop = self.server_key = None
        self.seq, self.prev, self.kseq, self.cursor = 0, GENESIS, 0, 0
        self.mirror: dict[tuple[str, str], object] = {}  # (kind, key) -> record
        self.skipped: set[str] = set()  # feed kinds it did not know

    def _read(self, resp, type_):
        VerifyKey(self.server_key).verify("response", resp.content, resp.headers["Jifen-Signature"])
        return msgspec.json.decode(resp.content, type=type_)

    def enroll(self, code: str) -> None:
        proof = self.key.sign("enroll", f"{code}\n{self.key.public_hex}".encode())
        body = _encode(v1.EnrollRequest(v=1, code=code, public_key=self.key.public_hex, label="release 1", proof=proof))
        resp = self.http.post("/v1/enroll", content=body)
        assert resp.status_code == 200, resp.text
        reply = msgspec.json.decode(resp.content, type=v1.EnrollReply)
        self.id, self.shop, self.server_key = reply.kiosk, reply.shop, reply.server_key
        self._read(resp, v1.EnrollReply)

    def next_id(self) -> tuple[str, int]:
        self.kseq += 1
        return f"{self.id}-{self.kseq}", self.kseq

    def push(self, *events) -> v1.PushReply:
        body = build_batch(self.id, self.seq + 1, self.prev, self.clock(), list(events))
        resp = self.http.post("/v1/push", content=body,
                              headers={"Jifen-Kiosk": self.id, "Jifen-Signature": self.key.sign("batch", body)})
        assert resp.status_code == 200, resp.text
        reply = self._read(resp, v1.PushReply)
        self.seq, self.prev = self.seq + 1, hashlib.sha256(body).hexdigest()
        return reply

    def pull(self) -> None:
        """Pull every page, decoding each record as release 1 does; kinds it does not know
        are skipped, as release 1 did."""
        while True:
            body = _encode(v1.PullRequest(v=1, kiosk=self.id, cursor=self.cursor, limit=500, nonce="ab" * 16,
                                          clock=self.clock(), app="jifen-kiosk 1"))
            resp = self.http.post("/v1/pull", content=body,
                                  headers={"Jifen-Kiosk": self.id, "Jifen-Signature": self.key.sign("pull", body)})
            assert resp.status_code == 200, resp.text
            page = self._read(resp, v1.PullPage)
            for ch in page.changes:
                if ch.kind not in v1.RECORD_TYPES:
                    self.skipped.add(ch.kind)
                    continue
                data = bytes(ch.data)
                self.mirror[(ch.kind, ch.key)] = None if data == b"null" else msgspec.json.decode(data, type=v1.RECORD_TYPES[ch.kind])
            self.cursor = page.next
            if not page.more:
                return
