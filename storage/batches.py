"""Housekeeping deletes in bounded batches: one set-based DELETE of at most `batch` rows per
short transaction, so a purge of 100,000 rows never holds SQLite's write lock (or PostgreSQL's
row locks) for long and reporters' writes get in between batches."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

BATCH = 1000
# Between batches: longer than SQLite's busy handler sleeps between its tries (up to 25 ms
# early on), so a reporter's write waiting for the lock gets it before the next batch does.
PAUSE = 0.05


async def delete_in_batches(
    sessions: async_sessionmaker[AsyncSession],
    key: InstrumentedAttribute[Any],
    *where: Any,
    batch: int = BATCH,
) -> int:
    """Delete the rows of `key`'s table matching `where`, `batch` at a time; how many went."""
    total = 0
    while True:
        async with sessions() as session:
            result = await session.execute(
                delete(key.class_)
                .where(key.in_(select(key).where(*where).limit(batch)))
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        total += count
        if count < batch:
            return total
        await asyncio.sleep(PAUSE)  # let waiting writers in
