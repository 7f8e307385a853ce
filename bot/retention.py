"""Retention, run in every housekeeping round (bot.workers).

* expired drafts and their files (purge_expired_drafts);
* the personal content of cases closed at least retention.closed_case_days ago (the anonymous
  statistics stay; open cases are never touched);
* message-trace entries past Telegram's 48-hour deletion window;
* outbox items sent more than a week ago.

Every purge deletes in bounded batches, one short transaction each (storage.batches).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.config import Config
from storage.fsm import SQLAlchemyStorage
from storage.repositories import Store

log = logging.getLogger("kua.retention")
SENT_OUTBOX_KEPT = timedelta(days=7)  # sent outbox items are kept this long (for the operator)


async def purge_expired_drafts(store: Store, fsm: SQLAlchemyStorage, config: Config) -> tuple[int, int]:
    drafts = await fsm.purge_expired()
    # A draft lives draft_days from its start, so a file older than that belongs to no live draft.
    files = await store.attachments.purge_orphans(timedelta(days=config.retention.draft_days))
    return drafts, files


@dataclass(frozen=True)
class Purged:
    drafts: int = 0
    draft_files: int = 0
    cases: int = 0
    trace: int = 0


async def retention_round(store: Store, fsm: SQLAlchemyStorage, config: Config) -> Purged:
    drafts, files = await purge_expired_drafts(store, fsm, config)
    older_than = timedelta(days=config.retention.closed_case_days)
    cases = 0
    while batch := await store.privacy.purge_closed_cases(older_than):
        cases += len(batch)
    trace = await store.trace.prune()
    # Sent drafts (idempotent Send, a code not yet saved) live as long as a draft could;
    # limit marks expire once no limit counts them.
    await store.cases.purge_sent(timedelta(days=config.retention.draft_days))
    await store.limits.prune()
    await store.outbox.prune(SENT_OUTBOX_KEPT)
    purged = Purged(drafts=drafts, draft_files=files, cases=cases, trace=trace)
    if drafts or files or cases:
        log.info("retention: purged %d expired drafts, %d draft files, %d closed cases", drafts, files, cases)
    return purged
