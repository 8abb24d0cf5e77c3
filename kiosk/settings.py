"""The kiosk's one settings object, loaded at the entry point and passed down.

Everything a kiosk needs to know before it opens its database: where its data lives,
which language to speak, and how patient to be with the network. ``from_env`` is what
``jifen-kiosk`` calls (flags over environment over defaults); nothing deeper reads the
environment. ``load`` builds the same object from arguments alone (tests, scripts).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kiosk.i18n import resolve_lang
from sync.protocol import DEFAULT_PULL_LIMIT, KIOSK_BATCH_EVENTS

DEFAULT_DATA = Path("jifen-data") / "kiosk"

#: setting -> environment variable. README.md lists them.
ENV = {"data_dir": "JIFEN_KIOSK_DATA", "lang": "JIFEN_LANG", "crash_at": "JIFEN_CRASH_AT",
       "printer": "JIFEN_KIOSK_PRINTER", "check_url": "JIFEN_KIOSK_CHECK_URL", "db_wait": "JIFEN_KIOSK_DB_WAIT", "max_pages": "JIFEN_KIOSK_MAX_PAGES"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA
    lang: str = "zh"
    #: seconds for connect and for each read; a hung server must not hang a sync for long
    timeout: float = 10.0
    pull_limit: int = DEFAULT_PULL_LIMIT
    batch_events: int = KIOSK_BATCH_EVENTS
    #: shown to central staff next to the kiosk id at enrolment
    label: str = "jifen-kiosk"
    #: the receipt printer (kiosk.printer): ``usb:VID:PID``, ``tcp:HOST[:PORT]`` or
    #: ``serial:DEVICE[:BAUD]``; None: receipts are only saved
    printer: str | None = None
    #: the public receipt check page printed on receipts (QR and text); None: the server's
    #: ``/check`` (the address enrolment gave), which residents' phones must then reach
    check_url: str | None = None
    #: seconds a write waits for another program holding the database, then a plain refusal
    db_wait: float = 30.0
    #: the most pages (4 KiB) the database may grow to; None: SQLite's own limit
    max_pages: int | None = None
    #: test only: the crash point (``<point>[:<n>]``, sync.crashpoint) the entry point arms
    crash_at: str | None = None

    @property
    def db_path(self) -> Path:
        return self.data_dir / "kiosk.db"

    @property
    def key_path(self) -> Path:
        return self.data_dir / "kiosk.key"

    @property
    def log_path(self) -> Path:
        """Technical detail (exception text, tracebacks): the operator sees sentences only."""
        return self.data_dir / "kiosk.log"

    @property
    def pepper_path(self) -> Path:
        """The PIN pepper (``sync.passwords.pepper``): beside the key, never in the database."""
        return self.data_dir / "pin.pepper"


def load(data_dir: str | os.PathLike | None = None, lang: str | None = None, **overrides) -> Settings:
    """Settings from arguments alone: ``data_dir`` (default ``jifen-data/kiosk``), ``lang``
    (``zh`` or ``en``, default Chinese) and any other field."""
    return Settings(data_dir=Path(data_dir or DEFAULT_DATA), lang=resolve_lang(lang), **overrides)


def from_env(environ: Mapping[str, str], data_dir: str | os.PathLike | None = None, lang: str | None = None,
             **overrides) -> Settings:
    """Settings for one process: the flags (``--data``, ``--lang``, ``overrides``), then the
    variables of ``ENV``, then the defaults."""
    return Settings(data_dir=Path(data_dir or environ.get(ENV["data_dir"]) or DEFAULT_DATA),
                    lang=resolve_lang(lang, environ.get(ENV["lang"])),
                    crash_at=environ.get(ENV["crash_at"]) or None, **{**_from_environ(environ), **overrides})


def _from_environ(environ: Mapping[str, str]) -> dict:
    found: dict = {}
    for name, convert in (("printer", str), ("check_url", str), ("db_wait", float), ("max_pages", int)):
        if environ.get(ENV[name]):
            found[name] = convert(environ[ENV[name]])
    return found
