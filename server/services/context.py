"""What every use case needs: settings (with the clock), the store and the server key."""

import threading
from dataclasses import dataclass, field

from server.errors import ServerKeyChanged
from server.keys import load_or_create_key
from server.metrics import Metrics
from server.ratelimit import PageLimit, RequestLimits
from server.services import feed
from server.services.throttle import SignInThrottle
from server.settings import Settings
from server.store import Store, catalog, open_store
from sync.signing import SigningKey, VerifyKey


@dataclass
class Context:
    settings: Settings
    store: Store
    key: SigningKey
    _verify_keys: dict[str, VerifyKey] = field(default_factory=dict)
    #: failed staff sign-ins (server.services.throttle), in this process's memory
    signins: SignInThrottle = field(default_factory=SignInThrottle)
    #: the /v1 request allowances per kiosk and per client address (server.ratelimit)
    limits: RequestLimits | None = None
    #: this process's /metrics registry (server.metrics)
    metrics: Metrics = field(default_factory=Metrics)
    #: the public pages' allowance per client address (server.ratelimit)
    pages: PageLimit | None = None
    #: the background projector (``settings.projection = background``) once started; None:
    #: inline, or ``separate`` (a ``jifen-server project`` process projects)
    projector: object | None = None

    def __post_init__(self) -> None:
        self.projecting = threading.Lock()  # held by the one thread of this process that projects (projector.project_pending)
        s = self.settings
        if self.limits is None:
            self.limits = RequestLimits(s.rate_limit_per_second, s.rate_limit_burst, s.unverified_per_second, s.unverified_burst)
        if self.pages is None:
            self.pages = PageLimit(s.public_per_second, s.public_burst)

    def now(self) -> int:
        return self.settings.clock()

    def verify_key(self, public_hex: str) -> VerifyKey:
        """Parsed once per key: parsing costs more than a verify."""
        vk = self._verify_keys.get(public_hex)
        if vk is None:
            vk = self._verify_keys[public_hex] = VerifyKey(public_hex)
        return vk

    def start_projector(self) -> None:
        """``background`` mode: start the thread that projects behind the acknowledgements."""
        if self.settings.projection == "background" and self.projector is None:
            from server.services import projector  # it writes through use cases that import this module
            self.projector = projector.Background(self)
            self.projector.start()

    def close(self) -> None:
        if self.projector is not None:
            self.projector.stop()
            self.projector = None
        self.store.close()


def open_context(settings: Settings) -> Context:
    """Open the data dir: migrate the database, load (or create) the key, pin it in meta."""
    store = open_store(settings.store_location, cache_mib=settings.cache_mib)
    key = load_or_create_key(settings.key_path)
    with store.write() as db:
        stored = catalog.meta_value(db, "server_public_key")
        if stored is None:
            catalog.set_meta_value(db, "server_public_key", key.public_hex)
    if stored is not None and stored != key.public_hex:
        store.close()
        raise ServerKeyChanged(stored, key.public_hex)
    with store.write() as db:
        feed.publish_accepts(db)  # a new release may apply new event kinds
        feed.publish_missing_projected(db)  # before the offer of them: a kiosk pulls these first
        feed.publish_offers(db)  # and answer new signed requests (lookup, history), publish projected rows
        feed.publish_serves(db)  # and what each shop's kiosks mirror (from migration 9 on)
    ctx = Context(settings=settings, store=store, key=key)
    if settings.projection == "inline":
        from server.services import projector  # as in ``start_projector``
        projector.project_pending(ctx, wait=False)  # what was acknowledged before a crash, not yet projected (unless another process is at it)
    return ctx
