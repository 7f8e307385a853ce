"""Background housekeeping: expired drafts and their files are deleted."""
from __future__ import annotations

import asyncio
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


async def housekeeping(store: Store, fsm: SQLAlchemyStorage, config: Config,
                       interval: float = INTERVAL) -> None:
    while True:
        try:
            drafts, files = await purge_expired_drafts(store, fsm, config)
            if drafts or files:
                log.info("purged %d expired drafts and %d draft files", drafts, files)
        except Exception as exc:  # noqa: BLE001 - keep the loop alive; retried next round
            log.error("housekeeping failed: %s", type(exc).__name__)
        await asyncio.sleep(interval)
