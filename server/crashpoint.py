"""Test-only fault hook: ``JIFEN_CRASH_AT=<point>[:<n>]`` makes the server SIGKILL itself
the n-th time (default 1st) it reaches the named point, so the crash suite can kill it at
exact places — mid-ingest, between postings and commit — not only at random times.

Unset (always, in production) it costs one dict lookup per point. Points:
``server.push.verified`` (batch verified, nothing written), ``server.apply.after_postings``
(inside the transaction), ``server.push.before_commit``, ``server.push.after_commit``
(durable, reply not sent).
"""

import os
import signal

_point, _, _n = (os.environ.get("JIFEN_CRASH_AT") or "").partition(":")
_left = {_point: int(_n or 1)} if _point.startswith("server.") else {}


def crash_point(name: str) -> None:
    if name in _left:
        _left[name] -= 1
        if _left[name] <= 0:
            os.kill(os.getpid(), signal.SIGKILL)
