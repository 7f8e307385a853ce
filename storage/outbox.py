"""The durable outbox: everything the bot must send because of a stored change.

Items are added in the same transaction as the change (`enqueue` takes the caller's session),
so a crash can never keep the change and lose the message. Workers claim items with a lease:
one UPDATE that only succeeds on unclaimed (or expired) rows, the same on SQLite and
PostgreSQL, so two instances never send the same item.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.base import affected
from storage.batches import delete_in_batches
from storage.crypto import Crypto
from storage.models import OutboxItem

Clock = Callable[[], datetime]


class OutboxKind(StrEnum):
    CARD = "card"  # post (or refresh) the case card in the coordinators' chat
    DETAILS = "details"  # group_shows = "full": the whole report and its files, after the card
    URGENT = "urgent"  # tell the on-call coordinators privately
    REMINDER = "reminder"  # a case still new after the configured time
    TO_GROUP = "to_group"  # the reporter added something: into the case's topic/thread
    TO_REPORTER = "to_reporter"  # neutral notice of a coordinator's message
    STATUS_NOTICE = "status_notice"  # tell the reporter about a status change
    UNREACHABLE = "unreachable"  # the reporter blocked the bot: tell the coordinators
    DELETE = "delete"  # delete a message later (private case views)
    UNPOST = "unpost"  # retention: remove a purged case's topic (or card) from the coordinators' chat


class ItemStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # gave up (a permanent error); kept for the operator


@dataclass(frozen=True)
class OutboxJob:
    id: int
    kind: OutboxKind
    case_id: int | None
    payload: dict[str, Any]
    text: str | None  # decrypted payload text, if any
    attempts: int
    claim: str


def enqueue(
    session: AsyncSession,
    crypto: Crypto,
    kind: OutboxKind,
    *,
    case_id: int | None = None,
    payload: dict[str, Any] | None = None,
    text: str | None = None,
    available_at: datetime | None = None,
    now: datetime,
) -> OutboxItem:
    """Add an item in the caller's transaction (committed with the change that caused it)."""
    item = OutboxItem(
        kind=kind.value,
        case_id=case_id,
        payload=payload or {},
        payload_enc=crypto.encrypt_text(text) if text is not None else None,
        status=ItemStatus.PENDING.value,
        attempts=0,
        available_at=available_at or now,
        created_at=now,
    )
    session.add(item)
    return item


class OutboxRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], crypto: Crypto, clock: Clock):
        self._sessions = sessions
        self._crypto = crypto
        self._clock = clock

    async def add(self, kind: OutboxKind, **kwargs: Any) -> None:
        async with self._sessions() as session:
            enqueue(session, self._crypto, kind, now=self._clock(), **kwargs)
            await session.commit()

    async def claim(self, *, limit: int = 10, lease: timedelta = timedelta(seconds=60)) -> list[OutboxJob]:
        """Atomically take up to `limit` due items for `lease` (then they may be re-claimed)."""
        now = self._clock()
        claim = secrets.token_hex(8)
        due = (
            select(OutboxItem.id)
            .where(
                OutboxItem.status == ItemStatus.PENDING.value,
                OutboxItem.available_at <= now,
                or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now),
            )
            .order_by(OutboxItem.id)
            .limit(limit)
        )
        async with self._sessions() as session:
            # The claim condition is re-checked by the UPDATE itself: on PostgreSQL a row another
            # worker claimed meanwhile no longer matches after its lock is released.
            await session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.id.in_(due.scalar_subquery()),
                    OutboxItem.status == ItemStatus.PENDING.value,
                    or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now),
                )
                .values(claimed_by=claim, claimed_until=now + lease, attempts=OutboxItem.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
            rows = (
                await session.scalars(
                    select(OutboxItem).where(OutboxItem.claimed_by == claim).order_by(OutboxItem.id)
                )
            ).all()
        return [
            OutboxJob(
                id=r.id,
                kind=OutboxKind(r.kind),
                case_id=r.case_id,
                payload=dict(r.payload or {}),
                text=self._crypto.decrypt_text(r.payload_enc) if r.payload_enc else None,
                attempts=r.attempts,
                claim=claim,
            )
            for r in rows
        ]

    async def _finish(self, job: OutboxJob, **values: Any) -> bool:
        async with self._sessions() as session:
            result = await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == job.id, OutboxItem.claimed_by == job.claim)
                .values(**values)
            )
            await session.commit()
            return bool(affected(result))

    async def complete(self, job: OutboxJob) -> bool:
        """Mark done; False if the lease was lost meanwhile (another worker took over)."""
        return await self._finish(
            job, status=ItemStatus.DONE.value, done_at=self._clock(), claimed_until=None, payload_enc=None
        )

    async def retry(self, job: OutboxJob, *, delay: timedelta, error: str) -> bool:
        return await self._finish(
            job,
            available_at=self._clock() + delay,
            claimed_by=None,
            claimed_until=None,
            last_error=error[:120],
        )

    async def give_up(self, job: OutboxJob, *, error: str) -> bool:
        return await self._finish(
            job, status=ItemStatus.FAILED.value, claimed_until=None, last_error=error[:120]
        )

    async def prune(self, older_than: timedelta) -> int:
        """Forget items sent more than `older_than` ago (in batches); failed ones stay for
        the operator."""
        return await delete_in_batches(
            self._sessions,
            OutboxItem.id,
            OutboxItem.status == ItemStatus.DONE.value,
            OutboxItem.done_at < self._clock() - older_than,
        )

    async def counts(self) -> dict[str, int]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(OutboxItem.status, func.count(OutboxItem.id)).group_by(OutboxItem.status)
            )
            return dict(rows.all())
