"""Background housekeeping: retention (expired drafts and their files, long-closed cases' personal
content, the message trace: bot.retention)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from bot.config import Config
from storage.fsm import SQLAlchemyStorage
from storage.repositories import Store

log = logging.getLogger("kua.workers")
INTERVAL = 3600.0


async def purge_expired_drafts(store: Store, fsm: SQLAlchemyStorage, config: Config) -> tuple[int, int]:
    drafts = await fsm.purge_expired()
    # A draft lives draft_days from its start, so a file older than that belongs to no live draft.
    files = await store.attachments.purge_orphans(timedelta(days=config.retention.draft_days))
    return drafts, files


async def housekeeping(
    store: Store, fsm: SQLAlchemyStorage, config: Config, stop: asyncio.Event, interval: float = INTERVAL
) -> None:
    """Runs every `interval` seconds until `stop` is set; a round in progress is finished first
    (cancelling mid-query would abandon a database connection)."""
    while not stop.is_set():
        try:
            # Drafts (purge_expired_drafts), long-closed cases, the message trace; imported
            # here because bot.retention builds on this module.
            from bot.retention import retention_round

            await retention_round(store, fsm, config)
        except Exception as exc:  # noqa: BLE001 - keep the loop alive; retried next round
            log.error("housekeeping failed: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
