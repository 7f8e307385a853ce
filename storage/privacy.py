"""Erase this chat, Forget me and retention: what the bot keeps about a chat, and letting it go.

* ``TraceRepository``: the message ids of private chats for the last 48 hours (Telegram lets a
  bot delete messages in a private chat only within that window), so "Erase this chat" knows
  what to delete. One row per message: HMAC("trace", chat id), the message id as a Fernet
  token, and the send time. Insert-only, so the handlers, the delivery worker and several
  instances writing to the same chat at once never lose an id (an encrypted list per chat
  would need a locked read-modify-write); pruned by a plain DELETE on the time. No text.
* ``PrivacyRepository``: Forget me (every link between a Telegram account and stored data)
  and the purge of long-closed cases' personal content.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.values import CaseStatus
from storage.batches import delete_in_batches
from storage.crypto import Crypto, InvalidToken
from storage.db import Write
from storage.models import (
    Account,
    Attachment,
    Case,
    CaseEvent,
    CaseMessage,
    CodeAttempt,
    MessageTrace,
    OutboxItem,
)
from storage.outbox import ItemStatus, OutboxKind, enqueue

Clock = Callable[[], datetime]

# Telegram deletes messages in private chats "for everyone" only within 48 hours.
DELETE_WINDOW = timedelta(hours=48)
# Purposes of the keyed hashes that link stored rows to a Telegram account (see Forget me).
ACCOUNT_PURPOSE = "account"  # storage.repositories.AccountRepository
REPORTER_PURPOSE = "reporter"  # storage.repositories.CaseRepository.reporter_key
CODES_PURPOSE = "codes"  # handlers.followup: wrong case codes per account
TRACE_PURPOSE = "trace"

# The trace rows of an update, written with its other writes (a Core INSERT: run through a
# session or below SQLAlchemy, storage.sqlite_direct).
_TRACE_INSERT = insert(MessageTrace.__table__)  # type: ignore[arg-type]  # a mapped class's Table


@dataclass(frozen=True)
class TracedMessage:
    row_id: int
    message_id: int
    sent_at: datetime


@dataclass(frozen=True)
class Forgotten:
    cases: int  # cases that were linked to the account (they stay, anonymous)
    contacts: int  # of those, cases that had a chat to write back to


class TraceRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], crypto: Crypto, clock: Clock):
        self._sessions = sessions
        self._crypto = crypto
        self._clock = clock

    def _key(self, chat_id: int) -> str:
        return self._crypto.keyed_hash(TRACE_PURPOSE, chat_id)

    async def record(self, chat_id: int, message_ids: Sequence[int], sent_at: datetime | None = None) -> None:
        """Remember messages of a private chat; drops the chat's entries past the window."""
        if not message_ids:
            return
        now = self._clock()
        at = sent_at or now
        key = self._key(chat_id)
        async with self._sessions() as session:
            session.add_all(
                MessageTrace(chat_key=key, sent_at=at, message_enc=self._crypto.encrypt_text(str(mid)))
                for mid in message_ids
            )
            await session.execute(
                delete(MessageTrace).where(
                    MessageTrace.chat_key == key, MessageTrace.sent_at < now - DELETE_WINDOW
                )
            )
            await session.commit()

    def later(self, chat_id: int, message_ids: Sequence[int], sent_at: datetime | None = None) -> Write:
        """``record`` as a write for the end of the update (storage.db.UnitOfWork): one INSERT
        with the update's other writes. Entries past the window go in the housekeeping prune."""
        key, at = self._key(chat_id), sent_at or self._clock()
        rows = [
            {"chat_key": key, "sent_at": at, "message_enc": self._crypto.encrypt_text(str(mid))}
            for mid in message_ids
        ]
        return Write(_TRACE_INSERT, rows)

    async def messages(self, chat_id: int) -> list[TracedMessage]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(MessageTrace.id, MessageTrace.message_enc, MessageTrace.sent_at)
                .where(MessageTrace.chat_key == self._key(chat_id))
                .order_by(MessageTrace.id)
            )
            found = []
            for row_id, token, sent_at in rows:
                try:
                    found.append(TracedMessage(row_id, int(self._crypto.decrypt_text(token)), sent_at))
                except (InvalidToken, ValueError):
                    continue  # a retired key: the entry is useless, it goes with the rest
            return found

    async def forget_rows(self, row_ids: Sequence[int]) -> None:
        """Drop the entries an erase has dealt with (newer ones, sent meanwhile, stay)."""
        if not row_ids:
            return
        async with self._sessions() as session:
            for start in range(0, len(row_ids), 500):
                await session.execute(
                    delete(MessageTrace).where(MessageTrace.id.in_(row_ids[start : start + 500]))
                )
            await session.commit()

    async def prune(self) -> int:
        """Entries past Telegram's deletion window are useless: delete them (in batches)."""
        return await delete_in_batches(
            self._sessions, MessageTrace.id, MessageTrace.sent_at < self._clock() - DELETE_WINDOW
        )


class PrivacyRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], crypto: Crypto, clock: Clock):
        self._sessions = sessions
        self._crypto = crypto
        self._clock = clock

    async def forget(self, user_id: int, chat_id: int) -> Forgotten:
        """Remove every link between this Telegram account and stored data, in one transaction.

        Gone: the language choice, wrong-code attempts, the message trace, the reporter link
        of every case, and the chat to write back to (so coordinators see the case can no
        longer be contacted; their card is refreshed). The cases stay, anonymous, and their
        codes still open them. The FSM row (draft) lives in the FSM storage: the caller
        deletes it.
        """
        h = self._crypto.keyed_hash
        reporter = h(REPORTER_PURPOSE, user_id)
        now = self._clock()
        async with self._sessions() as session:
            await session.execute(delete(Account).where(Account.account_hash == h(ACCOUNT_PURPOSE, user_id)))
            await session.execute(
                delete(CodeAttempt).where(CodeAttempt.account_hash == h(CODES_PURPOSE, user_id))
            )
            await session.execute(
                delete(MessageTrace).where(
                    MessageTrace.chat_key.in_({h(TRACE_PURPOSE, chat_id), h(TRACE_PURPOSE, user_id)})
                )
            )
            cases = list(
                await session.execute(
                    select(Case.id, Case.contact_enc.is_not(None))
                    .where(Case.reporter_hash == reporter)
                    .with_for_update()
                )
            )
            contacts = [case_id for case_id, had_contact in cases if had_contact]
            if cases:
                await session.execute(
                    update(Case)
                    .where(Case.id.in_([c for c, _ in cases]))
                    .values(reporter_hash=None, contact_enc=None, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
            for case_id in contacts:
                session.add(CaseEvent(case_id=case_id, at=now, actor_kind="system", kind="contact_removed"))
                enqueue(
                    session,
                    self._crypto,
                    OutboxKind.CARD,
                    case_id=case_id,
                    payload={"refresh": True},
                    now=now,
                )
            await session.commit()
        return Forgotten(cases=len(cases), contacts=len(contacts))

    async def purge_closed_cases(self, older_than: timedelta, *, batch: int = 200) -> list[int]:
        """Purge the personal content of cases closed at least `older_than` ago.

        Gone: free-text answers and names, the chat to write back to, the reporter link,
        files, the anonymous channel's messages, note texts and encrypted outbox texts, and
        (through an UNPOST outbox item) the case's topic or card in the coordinators' chat. Kept:
        the anonymous statistics (status, urgency, place kind, region, categorical answers,
        dates, close reason, referral) and the code hash. Open cases are never touched.
        At most `batch` cases per call (one transaction); call again until it returns none.
        """
        now = self._clock()
        cutoff = now - older_than
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(Case.id)
                    .where(
                        Case.status == CaseStatus.CLOSED.value,
                        Case.closed_at.is_not(None),
                        Case.closed_at <= cutoff,
                        Case.purged_at.is_(None),
                    )
                    .order_by(Case.id)
                    .limit(batch)
                    .with_for_update()
                )
            )  # no reopening meanwhile
            if not ids:
                return []
            await session.execute(delete(Attachment).where(Attachment.case_id.in_(ids)))
            await session.execute(delete(CaseMessage).where(CaseMessage.case_id.in_(ids)))
            await session.execute(
                update(CaseEvent)
                .where(CaseEvent.case_id.in_(ids))
                .values(text_enc=None)
                .execution_options(synchronize_session=False)
            )
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.case_id.in_(ids), OutboxItem.status != ItemStatus.PENDING.value)
                .values(payload_enc=None)
                .execution_options(synchronize_session=False)
            )
            # What the coordinators' chat holds of these cases goes too (their topic with every
            # message in it; in an ordinary group, the card), sent by the delivery worker.
            places = (
                await session.execute(
                    select(Case.id, Case.group_chat_id, Case.topic_id, Case.card_message_id).where(
                        Case.id.in_(ids), Case.group_chat_id.is_not(None)
                    )
                )
            ).all()
            for case_id, chat_id, topic_id, card_id in places:
                payload = {"chat_id": chat_id, "topic_id": topic_id, "message_id": card_id}
                enqueue(session, self._crypto, OutboxKind.UNPOST, case_id=case_id, payload=payload, now=now)
            await session.execute(
                update(Case)
                .where(Case.id.in_(ids))
                .values(
                    private_enc=None,
                    contact_enc=None,
                    reporter_hash=None,
                    purged_at=now,
                    group_chat_id=None,
                    topic_id=None,
                    card_message_id=None,
                )
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        return ids
