"""Event isolation without a lock per user forever.

aiogram's SimpleEventIsolation keeps one asyncio.Lock per StorageKey in a plain dict and never
drops it, so memory grows with every account that ever wrote to the bot. Here a lock lives
only while someone holds or waits for it (a WeakValueDictionary: the holders' references keep it
alive), so the structure is bounded by the updates in flight.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey


class BoundedEventIsolation(BaseEventIsolation):
    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[Hashable, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        async with lock:  # `lock` is referenced here until released: it stays in the dict
            yield

    async def close(self) -> None:
        self._locks.clear()
