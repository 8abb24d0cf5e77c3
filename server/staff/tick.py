"""The server's periodic chores, as a Litestar lifespan hook: put due rule changes into
effect, raise review items for quarantined requests and long-held gaps, refresh this month's and last month's boards in the feed, and sign a checkpoint
when the batch log has grown. Every ``settings.tick_seconds`` (``JIFEN_TICK_SECONDS``,
default 300; 0 turns it off).
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from litestar import Litestar

from server.services.checkpoint import make_checkpoint
from server.services.context import Context
from server.services.manage import apply_due
from server.services.reports import current_months, publish_board
from server.services.staff import SYSTEM
from server.services.watch import raise_items

log = logging.getLogger("jifen.server.tick")


def tick(ctx: Context) -> dict:
    """One round of chores; returns what it did (for logs and tests)."""
    done = {"rule_changes": apply_due(ctx), "boards": 0} | raise_items(ctx)
    for month in current_months(ctx.now()):
        done["boards"] += publish_board(ctx, SYSTEM, month)["communities_changed"]
    done["checkpoint"] = make_checkpoint(ctx)["n"]
    return done


async def _loop(ctx: Context, seconds: float) -> None:
    while True:
        await anyio.sleep(seconds)
        try:
            await anyio.to_thread.run_sync(tick, ctx)
        except Exception:  # a failed round is logged and tried again next time
            log.exception("periodic tick failed")


@asynccontextmanager
async def periodic(app: Litestar) -> AsyncIterator[None]:
    seconds = app.state.ctx.settings.tick_seconds
    if seconds <= 0:
        yield
        return
    async with anyio.create_task_group() as tg:
        tg.start_soon(_loop, app.state.ctx, seconds)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()
