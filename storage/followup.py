"""The reporter opening a case with its code: who may, and what coordinators are told.

A found code must not silently move a case: opening it from an account other than the one it
is linked to is an audit event ("opened_elsewhere") the coordinators see, the previous account
(if it can still be written to) gets a neutral notice, and the chat to write back to moves only
after the new account confirms (`move_contact`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import Crypto
from storage.models import Case, CaseEvent
from storage.outbox import OutboxKind, enqueue

Clock = Callable[[], datetime]

OPENED_ELSEWHERE = "opened_elsewhere"
CONTACT_MOVED = "contact_moved"


@dataclass(frozen=True)
class Opened:
    case_id: int
    elsewhere: bool  # linked to another account (or to none) until now
    previous_chat: int | None  # the chat to write back to, if any: gets a neutral notice
    contactable: bool  # the reporter had agreed to be written to


class FollowupRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], crypto: Crypto, clock: Clock):
        self._sessions = sessions
        self._crypto = crypto
        self._clock = clock

    async def open_by_code(self, code_key: str, reporter_key: str) -> Opened | None:
        """Link the case with this code to this account; None if no case has the code."""
        async with self._sessions() as session:
            c = await session.scalar(select(Case).where(Case.code_hash == code_key).with_for_update())
            if c is None:
                return None
            elsewhere = c.reporter_hash != reporter_key
            previous = (
                int(self._crypto.decrypt_text(c.contact_enc))
                if elsewhere and c.contact_enc is not None
                else None
            )
            opened = Opened(
                case_id=c.id,
                elsewhere=elsewhere,
                previous_chat=previous,
                contactable=c.contact_enc is not None,
            )
            if elsewhere:
                now = self._clock()
                c.reporter_hash = reporter_key
                c.updated_at = now
                session.add(CaseEvent(case_id=c.id, at=now, actor_kind="reporter", kind=OPENED_ELSEWHERE))
                # The card says so ("opened from another account on ...").
                enqueue(
                    session, self._crypto, OutboxKind.CARD, case_id=c.id, payload={"refresh": True}, now=now
                )
            await session.commit()
            return opened

    async def move_contact(self, case_id: int, reporter_key: str, chat_id: int) -> bool:
        """The new account confirmed: coordinators' messages go to this chat from now on."""
        async with self._sessions() as session:
            c = await session.scalar(select(Case).where(Case.id == case_id).with_for_update())
            if c is None or c.reporter_hash != reporter_key or c.contact_enc is None:
                return False
            now = self._clock()
            c.contact_enc = self._crypto.encrypt_text(str(chat_id))
            c.unreachable = False
            c.updated_at = now
            session.add(CaseEvent(case_id=c.id, at=now, actor_kind="reporter", kind=CONTACT_MOVED))
            await session.commit()
            return True

    async def opened_elsewhere_at(self, case_id: int) -> list[datetime]:
        """When the case was opened from another account (for the card and the case view)."""
        async with self._sessions() as session:
            return list(
                await session.scalars(
                    select(CaseEvent.at)
                    .where(CaseEvent.case_id == case_id, CaseEvent.kind == OPENED_ELSEWHERE)
                    .order_by(CaseEvent.id)
                )
            )
