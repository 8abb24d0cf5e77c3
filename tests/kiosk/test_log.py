"""The kiosk's log file: its own lines at INFO, not a line per HTTP request from httpx."""

import logging

import httpx
import pytest

from kiosk.cli import QUIET_LOGGERS, log, start_log
from kiosk.settings import Settings


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    for h in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(h)
        h.close()
    root.setLevel(level)
    for name, lvl in levels.items():
        logging.getLogger(name).setLevel(lvl)


def test_the_log_keeps_the_kiosks_lines_and_not_each_request(tmp_path, restore_logging):
    settings = Settings(data_dir=tmp_path / "kiosk")
    start_log(settings)
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)), base_url="http://central.test") as c:
        c.post("/v1/pull", content=b"{}")
    log.info("sync round done")
    for h in logging.getLogger().handlers:
        h.flush()
    text = settings.log_path.read_text(encoding="utf-8")
    assert "sync round done" in text and "/v1/pull" not in text
