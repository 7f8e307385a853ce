"""Background housekeeping: retention (expired drafts and their files, long-closed cases' personal
content, the message trace: bot.retention)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.config import Config
from bot.retention import retention_round
from storage.fsm import SQLAlchemyStorage
from storage.repositories import Store

log = logging.getLogger("kua.workers")
INTERVAL = 3600.0


async def housekeeping(
    store: Store, fsm: SQLAlchemyStorage, config: Config, stop: asyncio.Event, interval: float = INTERVAL
) -> None:
    """Runs every `interval` seconds until `stop` is set; a round in progress is finished first
    (cancelling mid-query would abandon a database connection)."""
    while not stop.is_set():
        try:
            # Drafts (purge_expired_drafts), long-closed cases, the message trace.
            await retention_round(store, fsm, config)
        except Exception as exc:  # noqa: BLE001 - keep the loop alive; retried next round
            log.error("housekeeping failed: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
