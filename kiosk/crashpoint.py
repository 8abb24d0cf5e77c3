"""Test-only fault hook: ``JIFEN_CRASH_AT=<point>[:<n>]`` makes a kiosk process SIGKILL itself
the n-th time (default 1st) it reaches the named point, so the crash suite can kill it at
exact places — mid-recording, between a reply and its acknowledgement — not only at random times.

Unset (always, in production) it costs one dict lookup per point. Points:
``kiosk.record.before_commit`` (event inserted, not committed), ``kiosk.batch.before_commit``
(batches built and signed, not committed), ``kiosk.push.after_reply`` (the server applied
the batch, the kiosk has not noted it), ``kiosk.pull.after_reply`` (page verified, not stored).
"""

import os
import signal

_point, _, _n = (os.environ.get("JIFEN_CRASH_AT") or "").partition(":")
_left = {_point: int(_n or 1)} if _point.startswith("kiosk.") else {}


def crash_point(name: str) -> None:
    if name in _left:
        _left[name] -= 1
        if _left[name] <= 0:
            os.kill(os.getpid(), signal.SIGKILL)
