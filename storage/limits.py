"""Rate limits that hold across /forget, /language and /start.

Each counted action is one row keyed by HMAC("limit:<kind>", user id). That hash is used for
nothing else, so it links to no stored case or account, and Forget me has nothing to remove:
the marks simply expire (`prune`, from the retention round).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.batches import delete_in_batches
from storage.crypto import Crypto
from storage.models import LimitMark

Clock = Callable[[], datetime]

CODE = "code"  # a wrong case code
REPORT = "report"  # a submitted report
SURGE = "surge"  # an alert to the admins about many new reports (subject 0: the whole bot)
LONGEST_WINDOW = timedelta(days=1)  # no limit counts further back: older marks are useless


def limit_key(crypto: Crypto, kind: str, subject: int) -> str:
    return crypto.keyed_hash("limit:" + kind, subject)


class LimitRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], crypto: Crypto, clock: Clock):
        self._sessions = sessions
        self._crypto = crypto
        self._clock = clock

    def key(self, kind: str, subject: int) -> str:
        return limit_key(self._crypto, kind, subject)

    async def count(self, kind: str, subject: int, within: timedelta) -> int:
        async with self._sessions() as session:
            return int(
                await session.scalar(
                    select(func.count(LimitMark.id)).where(
                        LimitMark.key_hash == self.key(kind, subject), LimitMark.at >= self._clock() - within
                    )
                )
                or 0
            )

    async def mark(self, kind: str, subject: int) -> None:
        async with self._sessions() as session:
            session.add(LimitMark(key_hash=self.key(kind, subject), at=self._clock()))
            await session.commit()

    async def prune(self) -> int:
        return await delete_in_batches(
            self._sessions, LimitMark.id, LimitMark.at < self._clock() - LONGEST_WINDOW
        )
