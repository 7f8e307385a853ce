"""Custody: who accessed a case's full content, and when (audit events in case_events).

Kinds: ``opened_full`` (a coordinator pressed Open and received the full details; with no
actor: the details were posted in the coordinators' group, group_shows = "full"),
``file_sent`` (a file was sent to a coordinator, or posted in the coordinators' group, with the
SHA-256 of the bytes sent) and ``exported`` (an export that included the case). Coordinators are
staff named in the config, so their ids are stored; a reporter's never is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import Crypto
from storage.models import CaseEvent

Clock = Callable[[], datetime]


class CustodyKind(StrEnum):
    OPENED_FULL = "opened_full"
    FILE_SENT = "file_sent"
    EXPORTED = "exported"


CUSTODY_KINDS = frozenset(k.value for k in CustodyKind)


@dataclass(frozen=True)
class CustodyEvent:
    at: datetime
    kind: CustodyKind
    actor_id: int | None  # the coordinator; None when posted to the group by the bot
    data: dict[str, Any]


class CustodyRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], crypto: Crypto, clock: Clock):
        self._sessions = sessions
        self._crypto = crypto
        self._clock = clock

    async def record(
        self, case_id: int, kind: CustodyKind, *, actor_id: int | None, data: dict[str, Any] | None = None
    ) -> datetime:
        """One access, committed at once: it stays recorded even if what follows fails."""
        at = self._clock()
        async with self._sessions() as session:
            session.add(
                CaseEvent(
                    case_id=case_id,
                    at=at,
                    actor_kind="coordinator" if actor_id is not None else "system",
                    actor_id=actor_id,
                    kind=kind.value,
                    data=dict(data or {}),
                )
            )
            await session.commit()
        return at

    async def file_sent(
        self, case_id: int, *, file_id: int, number: int, data: bytes, to: str, actor_id: int | None
    ) -> datetime:
        """A file posted to the group ("group") or to a coordinator ("private"), with the
        SHA-256 of exactly what was sent."""
        return await self.record(
            case_id,
            CustodyKind.FILE_SENT,
            actor_id=actor_id,
            data={"file": file_id, "number": number, "to": to, "sha256": hashlib.sha256(data).hexdigest()},
        )

    async def trail(self, case_id: int) -> list[CustodyEvent]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind.in_(CUSTODY_KINDS))
                .order_by(CaseEvent.id)
            )
            return [
                CustodyEvent(at=e.at, kind=CustodyKind(e.kind), actor_id=e.actor_id, data=dict(e.data or {}))
                for e in rows
            ]
