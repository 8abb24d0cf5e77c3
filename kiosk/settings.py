"""The kiosk's one settings object, loaded at the entry point and passed down.

Everything a kiosk needs to know before it opens its database: where its data lives,
which language to speak, and how patient to be with the network.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from kiosk.i18n import resolve_lang
from sync.protocol import DEFAULT_PULL_LIMIT, KIOSK_BATCH_EVENTS

DEFAULT_DATA = Path("jifen-data") / "kiosk"


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

    @property
    def db_path(self) -> Path:
        return self.data_dir / "kiosk.db"

    @property
    def key_path(self) -> Path:
        return self.data_dir / "kiosk.key"


def load(data_dir: str | os.PathLike | None = None, lang: str | None = None, **overrides) -> Settings:
    """Settings for one process: explicit arguments, then env ``JIFEN_KIOSK_DATA``."""
    data = Path(data_dir or os.environ.get("JIFEN_KIOSK_DATA") or DEFAULT_DATA)
    return Settings(data_dir=data, lang=resolve_lang(lang), **overrides)
