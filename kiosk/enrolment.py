"""Enrolment and key rotation: this kiosk's identity with its server, and the one place
that makes an HTTP client to that server.

``connect`` is the client factory every exchange goes through (enrolment, rotation and
sync): the server URL, pinned server key, TLS pin or CA and the plain-http rule all come
from one place, so the three cannot drift apart. Sync keeps its client between rounds
(``client``). Imports no Textual.
"""

from collections.abc import Callable
from pathlib import Path

import httpx

from kiosk import errors as E
from kiosk import tls
from kiosk.client import Client
from kiosk.keys import create_key, load_key, promote_key
from kiosk.recording import valid
from kiosk.settings import Settings
from kiosk.store import Store
from schema.wire import EnrollCode
from sync.signing import SigningKey, VerifyKey


class Enrolment:
    def __init__(self, store: Store, settings: Settings, clock: Callable[[], int],
                 transport: httpx.BaseTransport | None = None):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.transport = transport  # tests inject one; it never dials the URL
        self._client: Client | None = None
        self._client_ident: tuple | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
            self._client_ident = None

    # ------------------------------------------------------------ the client factory

    def connect(self, key: SigningKey, url: str | None = None, *, server_key: str | None = None,
                pin: str | None = None, mode: str | None = None) -> Client:
        """A client to this kiosk's server that signs with ``key``: the URL, server key, TLS
        pin (or CA) and plain-http choice that enrolment pinned. Enrolment itself, before
        anything is pinned, names the ``url`` and what it has (``server_key``, ``pin``)."""
        meta = self.store.meta
        if url is None:
            url, server_key, pin, mode = meta("server_url"), meta("server_key"), meta("tls_pin"), meta("tls_mode") or "pin"
            if self.transport is None:
                tls.check_url(url, meta("insecure_http") == "1")
        return Client(url, key, kiosk=meta("kiosk_id"), server_key=server_key, timeout=self.settings.timeout,
                      transport=self.transport, verify=tls.context(pin, mode) if pin else True)

    def client(self, key: SigningKey) -> Client:
        """The client sync keeps between rounds: making one loads the CA bundle (about
        18 ms) and a kept connection saves a TCP handshake, on every background sync."""
        meta = self.store.all_meta().get  # one read of the meta table, not seven, every round
        ident = (meta("server_url"), meta("server_key"), meta("kiosk_id"), key.public_hex,
                 meta("tls_pin"), meta("tls_mode"), meta("insecure_http"), id(self.transport), self.settings.timeout)
        if self._client_ident != ident:
            self.close()
            self._client = self.connect(key)
            self._client_ident = ident
        return self._client

    # ------------------------------------------------------------ enrolment

    def enroll(self, server_url: str, code: str, *, server_key: str | None = None, seed: bytes | None = None,
               ca: str | None = None, insecure_http: bool = False) -> dict:
        """Make a key pair here, present the public key with the code, pin the server key
        and, over https, the server's certificate (or the CA in ``ca``, PEM text).
        ``seed`` is for tests only."""
        kiosk = self.store.meta("kiosk_id")
        if kiosk:
            raise E.AlreadyEnrolled(kiosk=kiosk)
        code = valid(code.strip().upper(), EnrollCode, "enrolment code")
        if self.transport is None:
            tls.check_url(server_url, insecure_http)
        pin, mode = (ca, "ca") if ca else (None, None)
        if pin is None and server_url.lower().startswith("https:") and self.transport is None:
            pin, mode = tls.fetch_certificate(server_url, self.settings.timeout), "pin"
        path = self.settings.key_path
        key = load_key(path) if path.exists() else create_key(path, seed)
        with self.connect(key, server_url, server_key=server_key, pin=pin, mode=mode) as client:
            reply = client.enroll(code, self.settings.label, server_key)
        now = self.clock()
        self.store.set_meta(kiosk_id=reply.kiosk, shop=reply.shop, shop_name=reply.shop_name, server_url=server_url,
                            server_key=reply.server_key, enrolled_at=now, cursor=0, revoked=False, reachable=True,
                            clock_high_water=now, tls_pin=pin, tls_mode=mode, insecure_http=insecure_http)
        return {"kiosk": reply.kiosk, "shop": reply.shop, "shop_name": reply.shop_name,
                "server_key": reply.server_key, "fingerprint": VerifyKey(reply.server_key).fingerprint()}

    # ------------------------------------------------------------ key rotation

    def _paths(self) -> tuple[Path, Path, Path]:
        path = self.settings.key_path
        return path, path.with_name(path.name + ".new"), path.with_name(path.name + ".old")

    def rotation_pending(self) -> bool:
        return self._paths()[1].exists()

    def rotate_key(self, code: str | None = None, *, seed: bytes | None = None) -> dict:
        """Replace this kiosk's key. Without ``code``: ask the server to take a new key
        from the next batch on (``POST /v1/rotate``, signed by the old key). With ``code``
        (central staff retired the old key): re-enrol the new key under this kiosk's id.

        The new key waits in ``kiosk.key.new`` and the old one is kept as ``kiosk.key.old``
        until the server's verified reply; only then does ``kiosk.key`` change (one atomic
        rename). A crash in between leaves the rotation pending: the next ``sync`` asks again
        (a repeated request gets the same reply) and switches. ``seed`` is for tests only."""
        kiosk = self.store.meta("kiosk_id")
        if not kiosk:
            raise E.NotEnrolled()
        if self.store.meta("revoked") == "1":
            raise E.KioskRevoked(kiosk=kiosk)
        if code is not None:
            code = valid(code.strip().upper(), EnrollCode, "enrolment code")
        path, new_path, old_path = self._paths()
        retry = new_path.exists()
        if not retry:
            create_key(old_path, load_key(path).seed())
            create_key(new_path, seed)
            self.store.set_meta(rotate_from_seq=self.store.last_batch()[0] + 1)
        if code:
            self.store.set_meta(rotate_mode="code")
        # a retry first asks whether the server already took the new key (our own earlier
        # attempt may have got through, and a re-enrolment code works only once)
        return self.finish_rotation(code, ask_first=retry or not code)

    def finish_rotation(self, code: str | None = None, ask_first: bool = True) -> dict:
        """Get the server's verified word on the new key, then switch to it (see ``rotate_key``)."""
        path, new_path, old_path = self._paths()
        kiosk, new, old = self.store.meta("kiosk_id"), load_key(new_path), load_key(path)
        from_seq = int(self.store.meta("rotate_from_seq") or self.store.last_batch()[0] + 1)
        attempts = (["rotate"] if ask_first else []) + (["enroll"] if code else [])
        for i, attempt in enumerate(attempts):
            try:
                with self.connect(new if attempt == "enroll" else old) as client:
                    if attempt == "enroll":
                        reply = client.enroll(code, self.settings.label, self.store.meta("server_key"))
                        if reply.kiosk != kiosk:
                            raise E.RekeyWrongKiosk(other=reply.kiosk, kiosk=kiosk)
                        from_seq = reply.key_from_seq
                    else:
                        reply = client.rotate(new, from_seq)
                        # the server names from_seq: ours, or (our key already taken) the one it holds
                        if (reply.kiosk, reply.public_key) != (kiosk, new.public_hex):
                            raise E.Offline("rotation reply does not match the request")
                        from_seq = reply.from_seq
                break
            except E.Rejected:
                if i + 1 < len(attempts):
                    continue
                # refused for good (not a network failure): forget the new key, keep the old
                new_path.unlink(missing_ok=True)
                old_path.unlink(missing_ok=True)
                self.store.set_meta(rotate_from_seq=None, rotate_mode=None)
                raise
        promote_key(new_path, path)
        forced = self.store.meta("rotate_mode") == "code"
        with self.store.transaction():
            # batches the old key signed at or past from_seq (none, unless built meanwhile or
            # after a forced re-key) were never accepted: rebuilt and signed with the new key
            self.store.discard_batches_from(from_seq)
            self.store.set_meta(rotate_from_seq=None, rotate_mode=None, **({"stopped_reason": None} if forced else {}))
        old_path.unlink(missing_ok=True)
        return {"kiosk": kiosk, "from_seq": from_seq, "public_key": new.public_hex, "fingerprint": VerifyKey(new.public_hex).fingerprint()}
