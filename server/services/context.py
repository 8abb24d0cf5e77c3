"""What every use case needs: settings (with the clock), the store and the server key.

Also the conditions a service raises that are not protocol errors (the CLI's lookups),
each named for what was not found and carrying the offending id.
"""

from dataclasses import dataclass, field

from server.keys import load_or_create_key
from server.services.throttle import SignInThrottle
from server.settings import Settings
from server.store import Store, catalog, open_store
from sync.signing import SigningKey, VerifyKey


class NotFound(LookupError):
    """Base for a named thing that does not exist; ``key`` is the id that was asked for."""

    what = "thing"

    def __init__(self, key: str):
        super().__init__(f"{self.what} {key} does not exist")
        self.key = key


class ShopNotFound(NotFound):
    what = "shop"


class KioskNotFound(NotFound):
    what = "kiosk"


class ResidentNotFound(NotFound):
    what = "resident"


class ServerKeyChanged(RuntimeError):
    """server.key does not match the key this database was created with: every stored
    central batch and every kiosk's pinned key would stop verifying."""

    def __init__(self, stored: str, loaded: str):
        super().__init__(f"server.key holds public key {loaded} but the database was made with {stored}")
        self.stored = stored
        self.loaded = loaded


@dataclass
class Context:
    settings: Settings
    store: Store
    key: SigningKey
    _verify_keys: dict[str, VerifyKey] = field(default_factory=dict)
    #: failed staff sign-ins (server.services.throttle), in this process's memory
    signins: SignInThrottle = field(default_factory=SignInThrottle)

    def now(self) -> int:
        return self.settings.clock()

    def verify_key(self, public_hex: str) -> VerifyKey:
        """Parsed once per key: parsing costs more than a verify."""
        vk = self._verify_keys.get(public_hex)
        if vk is None:
            vk = self._verify_keys[public_hex] = VerifyKey(public_hex)
        return vk

    def close(self) -> None:
        self.store.close()


def open_context(settings: Settings) -> Context:
    """Open the data dir: migrate the database, load (or create) the key, pin it in meta."""
    store = open_store(settings.db_path)
    key = load_or_create_key(settings.key_path)
    with store.write() as db:
        stored = catalog.meta_value(db, "server_public_key")
        if stored is None:
            catalog.set_meta_value(db, "server_public_key", key.public_hex)
    if stored is not None and stored != key.public_hex:
        store.close()
        raise ServerKeyChanged(stored, key.public_hex)
    return Context(settings=settings, store=store, key=key)
