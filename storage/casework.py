"""Working the queue, the anonymous channel and the reporter's own view of their cases.

Every change writes its audit event and the outbox items it causes (card refresh, reporter
notices) in one transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, delete, func, literal, literal_column, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import workflow
from domain.case import CaseView as CaseView  # re-exported: the views import it from here too
from domain.values import CaseStatus
from domain.workflow import CloseReason, QueueFilter, Referral
from domain.workflow import InvalidTransition as InvalidTransition  # raised here for its callers
from storage.base import affected
from storage.batches import PAUSE
from storage.crypto import Crypto
from storage.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseMessage,
    CodeAttempt,
    OutboxItem,
    QueueCount,
    SpamBlock,
)
from storage.outbox import OutboxKind, enqueue

Clock = Callable[[], datetime]


class CaseNotFound(LookupError):
    pass


class AlreadyTaken(Exception):
    """Another coordinator owns the case (their id, for their name; None if it is closed)."""

    def __init__(self, assignee_id: int | None) -> None:
        super().__init__("already taken")
        self.assignee_id = assignee_id


class NotOwner(Exception):
    """Only the coordinator who has the case may hand it over or give it up."""


@dataclass(frozen=True)
class ChannelMessage:
    id: int
    direction: str  # to_reporter | from_reporter
    text: str | None
    created_at: datetime
    read: bool
    file_ids: tuple[int, ...]


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a case's timeline; `text` only when asked for (notes, messages)."""

    at: datetime
    kind: str
    actor_kind: str  # coordinator | reporter | system
    actor_id: int | None  # coordinators only
    data: dict[str, Any]
    text: str | None = None


@dataclass(frozen=True)
class Reminders:
    """One reminder round: the cases reminded one by one, how many were marked in all, and
    whether a digest went to the coordinators' chat instead."""

    each: list[int]
    marked: int
    digest: bool


@dataclass(frozen=True)
class QueueCursor:
    """Where a queue page ended (keyset pagination: no OFFSET over 100,000 rows)."""

    urgent: bool
    created_at: datetime
    id: int


def _queue_where(f: QueueFilter, coordinator_id: int | None) -> list[Any]:
    """The filter's conditions but urgency, which `queue` reads one value at a time.

    Open cases are `status <> 'closed'` written out as a literal: it is the predicate of the
    partial queue indexes (storage.models), and SQLite uses a partial index only for a query
    that states its predicate word for word (a bound parameter would not do)."""
    where: list[Any] = []
    if f.status:
        where.append(Case.status == f.status.value)
    else:
        where.append(Case.status != literal_column(f"'{CaseStatus.CLOSED.value}'"))
    if f.unassigned:
        where.append(Case.assignee_id.is_(None))
    if f.mine:
        where.append(Case.assignee_id == coordinator_id)
    if f.region:
        where.append(Case.region == f.region)
    if f.kind:
        where.append(Case.facility_kind == f.kind)
    return where


def _after(cursor: QueueCursor) -> Any:
    """Rows after `cursor` among cases of its urgency, oldest first: a range of the filter's
    index, (created_at, id) > (cursor's), so a deep page costs what the first one does."""
    return tuple_(Case.created_at, Case.id) > tuple_(
        literal(cursor.created_at, Case.created_at.type), literal(cursor.id, Integer())
    )


def _bucket(f: QueueFilter, coordinator_id: int | None) -> str | None:
    """The queue_counts row holding this filter's total (None: a combination it does not keep)."""
    keys = [
        key
        for key, on in (
            ("urgent", f.urgent),
            ("unassigned", f.unassigned),
            (f"mine:{coordinator_id}", f.mine and coordinator_id is not None),
            (f"status:{f.status.value if f.status else ''}", f.status is not None),
            (f"region:{f.region}", bool(f.region)),
            (f"kind:{f.kind}", bool(f.kind)),
        )
        if on
    ]
    if f.mine and coordinator_id is None:
        return None
    return "open" if not keys else keys[0] if len(keys) == 1 else None


def _still_new() -> Any:
    """`status = 'new'` for re-checking rows found by id: written so that no index serves it,
    or SQLite would walk the whole index of new cases for each batch instead of the ids."""
    return func.coalesce(Case.status, "") == CaseStatus.NEW.value


class CaseworkRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], crypto: Crypto, clock: Clock):
        self._sessions = sessions
        self._crypto = crypto
        self._clock = clock

    # --- reading --------------------------------------------------------------------------
    async def get(self, case_id: int) -> CaseView | None:
        async with self._sessions() as session:
            c = await session.get(Case, case_id)
            return CaseView.of(c) if c else None

    async def private(self, case_id: int) -> dict[str, Any]:
        async with self._sessions() as session:
            token = await session.scalar(select(Case.private_enc).where(Case.id == case_id))
        return self._crypto.decrypt_json(token) if token else {}

    async def contact_chat(self, case_id: int) -> int | None:
        """The reporter's chat id, only for cases whose reporter agreed to be contacted."""
        async with self._sessions() as session:
            token = await session.scalar(select(Case.contact_enc).where(Case.id == case_id))
        return int(self._crypto.decrypt_text(token)) if token else None

    async def queue(
        self,
        f: QueueFilter | None = None,
        *,
        coordinator_id: int | None = None,
        after: int | None = None,
        limit: int = 10,
    ) -> tuple[list[CaseView], int, bool]:
        """Open cases (or those of `f`), urgent first, then oldest: one page after case
        `after`, the total, and whether more follow.

        At most four short statements whatever the number of cases: the total from
        queue_counts, the cursor case (`after`), then the urgent cases and, if the page is not
        full, the others, each read in order from the filter's index from the cursor on."""
        f = f or QueueFilter()
        where = _queue_where(f, coordinator_id)
        async with self._sessions() as session:
            bucket = _bucket(f, coordinator_id)
            if bucket is not None:
                total = await session.scalar(select(QueueCount.n).where(QueueCount.bucket == bucket))
            else:
                urgent_only = [Case.urgent.is_(True)] if f.urgent else []
                total = await session.scalar(select(func.count(Case.id)).where(*where, *urgent_only))
            cursor = None
            if after is not None:
                row = (
                    await session.execute(select(Case.urgent, Case.created_at).where(Case.id == after))
                ).first()
                if row is not None:
                    cursor = QueueCursor(bool(row.urgent), row.created_at, after)
            rows: list[Case] = []
            for urgent in (True,) if f.urgent else (True, False):
                if cursor is not None and urgent and not cursor.urgent:
                    continue  # the cursor is past every urgent case
                query = select(Case).where(*where, Case.urgent == urgent)
                if cursor is not None and cursor.urgent == urgent:
                    query = query.where(_after(cursor))
                rows += await session.scalars(
                    query.order_by(Case.created_at, Case.id).limit(limit + 1 - len(rows))
                )
                if len(rows) > limit:
                    break
            return [CaseView.of(c) for c in rows[:limit]], int(total or 0), len(rows) > limit

    async def counts(self, case_id: int) -> tuple[int, int]:
        """(files, messages of the channel) of a case, for its card."""
        async with self._sessions() as session:
            files = await session.scalar(
                select(func.count(Attachment.id)).where(Attachment.case_id == case_id)
            )
            messages = await session.scalar(
                select(func.count(CaseMessage.id)).where(CaseMessage.case_id == case_id)
            )
            return int(files or 0), int(messages or 0)

    async def history(self, case_id: int, *, with_texts: bool = False) -> list[HistoryEntry]:
        """The case's timeline, oldest first: its submission, then every audit event.

        Note and message texts are decrypted only `with_texts` (they are content)."""
        async with self._sessions() as session:
            created = await session.scalar(select(Case.created_at).where(Case.id == case_id))
            if created is None:
                raise CaseNotFound(case_id)
            events = list(
                await session.scalars(
                    select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
                )
            )
            texts: dict[int, bytes | None] = {}
            if with_texts:
                ids = [
                    int(e.data["message"])
                    for e in events
                    if e.kind in ("message_in", "message_out") and (e.data or {}).get("message")
                ]
                if ids:
                    rows = await session.execute(
                        select(CaseMessage.id, CaseMessage.text_enc).where(CaseMessage.id.in_(ids))
                    )
                    texts = dict(rows.all())
        entries = [HistoryEntry(at=created, kind="submitted", actor_kind="reporter", actor_id=None, data={})]
        for e in events:
            data = dict(e.data or {})
            token: bytes | None = None
            if with_texts:
                token = e.text_enc if e.kind == "note" else texts.get(int(data.get("message", 0)))
            entries.append(
                HistoryEntry(
                    at=e.at,
                    kind=e.kind,
                    actor_kind=e.actor_kind,
                    actor_id=e.actor_id,
                    data=data,
                    text=self._crypto.decrypt_text(token) if token else None,
                )
            )
        return entries

    async def record_event(
        self,
        case_id: int,
        kind: str,
        *,
        actor_kind: str = "coordinator",
        actor_id: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """An audit event that changes nothing else (e.g. "opened_full")."""
        async with self._sessions() as session:
            session.add(
                CaseEvent(
                    case_id=case_id,
                    at=self._clock(),
                    actor_kind=actor_kind,
                    actor_id=actor_id,
                    kind=kind,
                    data=data or {},
                )
            )
            await session.commit()

    async def events(self, case_id: int) -> list[tuple[datetime, str, int | None, str, dict[str, Any]]]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
            return [(e.at, e.actor_kind, e.actor_id, e.kind, dict(e.data or {})) for e in rows]

    async def note_texts(self, case_id: int) -> list[tuple[datetime, int | None, str]]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == "note")
                .order_by(CaseEvent.id)
            )
            return [(e.at, e.actor_id, self._crypto.decrypt_text(e.text_enc)) for e in rows if e.text_enc]

    # --- the card's place in the coordinators' chat ------------------------------------------
    async def record_card(
        self,
        case_id: int,
        *,
        chat_id: int,
        topic_id: int | None,
        message_id: int,
        then: OutboxKind | None = None,
    ) -> None:
        """Where the card now is; `then` is enqueued in the same transaction (e.g. DETAILS)."""
        async with self._sessions() as session:
            first = await session.scalar(select(Case.card_message_id).where(Case.id == case_id))
            await session.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(group_chat_id=chat_id, topic_id=topic_id, card_message_id=message_id)
            )
            if first is None and not await session.scalar(
                select(func.count(CaseEvent.id)).where(
                    CaseEvent.case_id == case_id, CaseEvent.kind == "delivered"
                )
            ):
                session.add(
                    CaseEvent(case_id=case_id, at=self._clock(), actor_kind="system", kind="delivered")
                )
            if then is not None:
                enqueue(session, self._crypto, then, case_id=case_id, now=self._clock())
            await session.commit()

    async def record_topic(self, case_id: int, *, chat_id: int, topic_id: int) -> None:
        """A forum topic was created for the case; its card is not posted yet. Recorded at
        once, so a card repeated after a crash reuses the topic instead of opening another."""
        async with self._sessions() as session:
            await session.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(group_chat_id=chat_id, topic_id=topic_id, card_message_id=None)
            )
            await session.commit()

    async def forget_card(self, case_id: int) -> None:
        """The topic or card was deleted by someone: the next delivery creates it again."""
        async with self._sessions() as session:
            await session.execute(
                update(Case).where(Case.id == case_id).values(topic_id=None, card_message_id=None)
            )
            await session.commit()

    # --- the workflow --------------------------------------------------------------------------
    async def _change(
        self,
        session: AsyncSession,
        c: Case,
        actor_id: int,
        kind: str,
        data: dict[str, Any],
        *,
        notify_status: CaseStatus | None = None,
    ) -> None:
        now = self._clock()
        c.updated_at = now
        session.add(
            CaseEvent(case_id=c.id, at=now, actor_kind="coordinator", actor_id=actor_id, kind=kind, data=data)
        )
        enqueue(session, self._crypto, OutboxKind.CARD, case_id=c.id, payload={"refresh": True}, now=now)
        if notify_status is not None and workflow.reaches_reporter(
            contactable=c.contact_enc is not None, unreachable=c.unreachable
        ):
            enqueue(
                session,
                self._crypto,
                OutboxKind.STATUS_NOTICE,
                case_id=c.id,
                payload={"status": notify_status.value},
                now=now,
            )

    async def take(self, case_id: int, coordinator_id: int) -> CaseView:
        """Take an unassigned open case, or reopen a closed one; of two coordinators pressing
        at the same moment exactly one wins (one conditional UPDATE, on any database and
        across instances), the other gets AlreadyTaken with the winner's id."""
        async with self._sessions() as session:
            before = (
                await session.execute(select(Case.status, Case.assignee_id).where(Case.id == case_id))
            ).first()
            if before is None:
                raise CaseNotFound(case_id)
            current = CaseStatus(before.status)
            plan = workflow.take(current)
            condition = Case.status == current.value
            if plan.only_if_unassigned:
                condition = and_(condition, Case.assignee_id.is_(None))
            values: dict[str, Any] = {
                "status": plan.target.value,
                "assignee_id": coordinator_id,
                "updated_at": self._clock(),
            }
            if plan.reopens:  # the old outcome no longer applies
                values.update(closed_at=None, close_reason=None, referral=None, duplicate_of=None)
            result = await session.execute(
                update(Case)
                .where(Case.id == case_id, condition)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if not affected(result):
                await session.rollback()
                owner = await session.scalar(select(Case.assignee_id).where(Case.id == case_id))
                raise AlreadyTaken(owner)
            c = await self._locked(session, case_id)
            await session.refresh(c)
            if plan.reopens:
                await session.execute(delete(SpamBlock).where(SpamBlock.case_id == case_id))
            await self._change(
                session, c, coordinator_id, plan.event, {"from": current.value}, notify_status=plan.notify
            )
            await session.commit()
            return CaseView.of(c)

    async def hand_over(self, case_id: int, from_id: int, to_id: int) -> CaseView:
        """The owner hands the case to a colleague (only while it is still theirs)."""
        async with self._sessions() as session:
            result = await session.execute(
                update(Case)
                .where(
                    Case.id == case_id, Case.assignee_id == from_id, Case.status != CaseStatus.CLOSED.value
                )
                .values(assignee_id=to_id, updated_at=self._clock())
                .execution_options(synchronize_session=False)
            )
            if not affected(result):
                await session.rollback()
                if await session.get(Case, case_id) is None:
                    raise CaseNotFound(case_id)
                raise NotOwner(case_id)
            c = await self._locked(session, case_id)
            await session.refresh(c)
            await self._change(session, c, from_id, "handover", {"to": to_id})
            await session.commit()
            return CaseView.of(c)

    async def give_up(self, case_id: int, coordinator_id: int) -> CaseView:
        """The owner gives the case up: unassigned again (a case just taken is new again)."""
        async with self._sessions() as session:
            c = await self._locked(session, case_id)
            if c.assignee_id != coordinator_id or c.status == CaseStatus.CLOSED.value:
                raise NotOwner(case_id)
            c.assignee_id = None
            status = workflow.after_give_up(CaseStatus(c.status))
            if status.value != c.status:
                c.status = status.value
                c.reminded_at = c.realerted_at = None  # its reminders start again
            await self._change(session, c, coordinator_id, "give_up", {})
            await session.commit()
            return CaseView.of(c)

    async def set_status(
        self,
        case_id: int,
        target: CaseStatus,
        actor_id: int,
        *,
        referral: Referral | None = None,
        close_reason: CloseReason | None = None,
        duplicate_of: int | None = None,
        spam_block: timedelta | None = None,
    ) -> CaseView:
        """Move the case as domain.workflow.move allows; closing as a duplicate links both cases,
        and a `spam_block` (domain.workflow.spam_block_for) blocks the reporter link for that long
        (keyed hash), in the same transaction."""
        workflow.check_duplicate(case_id, close_reason, duplicate_of)
        async with self._sessions() as session:
            duplicate = duplicate_of if close_reason is CloseReason.DUPLICATE else None
            if duplicate is not None and await session.get(Case, duplicate) is None:
                raise CaseNotFound(duplicate)
            c = await self._locked(session, case_id)
            change = workflow.move(
                CaseStatus(c.status),
                c.referral,
                target,
                referral=referral,
                close_reason=close_reason,
                duplicate_of=duplicate_of,
            )
            c.status = change.target.value
            c.referral = change.referral
            c.close_reason = change.close_reason
            c.closed_at = self._clock() if change.closes else None
            c.duplicate_of = change.duplicate_of
            if change.duplicate_of is not None:
                session.add(
                    CaseEvent(
                        case_id=change.duplicate_of,
                        at=self._clock(),
                        actor_kind="coordinator",
                        actor_id=actor_id,
                        kind="duplicate_linked",
                        data={"case": c.id},
                    )
                )
            if spam_block and c.reporter_hash:
                session.add(
                    SpamBlock(
                        block_key=self.spam_key(c.reporter_hash),
                        case_id=c.id,
                        until=self._clock() + spam_block,
                    )
                )
            await self._change(session, c, actor_id, "status", change.data, notify_status=change.notify)
            await session.commit()
            return CaseView.of(c)

    async def add_note(self, case_id: int, actor_id: int, text: str) -> None:
        """An internal note: stays with the coordinators, never relayed."""
        async with self._sessions() as session:
            c = await self._locked(session, case_id)
            session.add(
                CaseEvent(
                    case_id=c.id,
                    at=self._clock(),
                    actor_kind="coordinator",
                    actor_id=actor_id,
                    kind="note",
                    text_enc=self._crypto.encrypt_text(text),
                )
            )
            await session.commit()

    async def mark_unreachable(self, case_id: int) -> bool:
        """The reporter blocked the bot; True the first time (tell the coordinators once)."""
        async with self._sessions() as session:
            c = await self._locked(session, case_id)
            if c.unreachable:
                return False
            c.unreachable = True
            now = self._clock()
            session.add(CaseEvent(case_id=c.id, at=now, actor_kind="system", kind="unreachable"))
            enqueue(session, self._crypto, OutboxKind.UNREACHABLE, case_id=c.id, now=now)
            enqueue(session, self._crypto, OutboxKind.CARD, case_id=c.id, payload={"refresh": True}, now=now)
            await session.commit()
            return True

    async def due_reminders(
        self,
        older_than: timedelta,
        *,
        each_up_to: int = 5,
        digest_every: timedelta = timedelta(minutes=15),
        batch: int = 500,
        pause: float = PAUSE,
    ) -> Reminders:
        """Cases still new after `older_than`, not reminded since, are marked reminded now.

        Up to `each_up_to` due cases: one reminder each, in its thread. More (a surge): one
        digest for the coordinators' chat instead (the queue of cases nobody has taken, at
        most one per `digest_every`), since a message per case would bury the chat and run
        into Telegram's limits. Marked `batch` cases per transaction with one set-based
        UPDATE, so reporters' writes get the database between batches; another instance
        running the same round marks (and announces) each case at most once."""
        now = self._clock()
        cutoff = now - older_than
        waiting = or_(
            and_(Case.reminded_at.is_(None), Case.created_at < cutoff),
            Case.reminded_at < cutoff,  # a reminder is never older than its case
        )
        due = and_(Case.status == CaseStatus.NEW.value, waiting)
        each: list[int] = []
        marked, digest, first = 0, False, True
        while True:
            async with self._sessions() as session:
                ids = sorted(
                    await session.scalars(
                        update(Case)
                        .where(
                            # Any order: each part of `due` is a range of ix_cases_reminders
                            # (ordering by id would rescan the cases marked by earlier batches).
                            Case.id.in_(select(Case.id).where(due).limit(batch)),
                            # Still due: another instance may have marked it meanwhile.
                            _still_new(),
                            waiting,
                        )
                        .values(reminded_at=now)
                        .returning(Case.id)
                        .execution_options(synchronize_session=False)
                    )
                )
                marked += len(ids)
                if first and ids and len(ids) <= each_up_to:
                    for case_id in ids:
                        enqueue(session, self._crypto, OutboxKind.REMINDER, case_id=case_id, now=now)
                    each = ids
                elif first and ids and not await self._recent_digest(session, now - digest_every):
                    enqueue(session, self._crypto, OutboxKind.REMINDER, payload={"digest": True}, now=now)
                    digest = True
                await session.commit()
            first = False
            if len(ids) < batch:
                return Reminders(each=each, marked=marked, digest=digest)
            await asyncio.sleep(pause)  # let waiting writers in (SQLite's busy wait polls)

    @staticmethod
    async def _recent_digest(session: AsyncSession, since: datetime) -> bool:
        found = await session.scalar(
            select(OutboxItem.id)
            .where(
                OutboxItem.case_id.is_(None),
                OutboxItem.kind == OutboxKind.REMINDER.value,
                OutboxItem.created_at >= since,
            )
            .limit(1)
        )
        return found is not None

    async def due_realerts(self, ack: timedelta, every: timedelta, *, up_to: int = 5) -> list[int]:
        """Urgent cases still not taken `ack` after submission, not re-alerted for `every`:
        each gets a new on-call alert and a reminder in the group; marked re-alerted now.

        At most `up_to` cases per call, oldest first (one set-based UPDATE, one short
        transaction): each alert is a private message to every on-call coordinator and one
        in the group, so a surge of urgent cases is alerted at a pace Telegram accepts; the
        rest stay due and come in the next rounds."""
        now = self._clock()
        untaken = and_(
            Case.urgent.is_(True),
            Case.assignee_id.is_(None),
            or_(Case.realerted_at.is_(None), Case.realerted_at <= now - every),
        )
        due = and_(Case.status == CaseStatus.NEW.value, Case.created_at < now - ack, untaken)
        async with self._sessions() as session:
            # Only if still due: another instance checking at the same time finds it done.
            alerted = sorted(
                await session.scalars(
                    update(Case)
                    .where(
                        Case.id.in_(
                            select(Case.id).where(due).order_by(Case.created_at, Case.id).limit(up_to)
                        ),
                        _still_new(),
                        untaken,
                    )
                    .values(realerted_at=now)
                    .returning(Case.id)
                    .execution_options(synchronize_session=False)
                )
            )
            for case_id in alerted:
                enqueue(
                    session,
                    self._crypto,
                    OutboxKind.URGENT,
                    case_id=case_id,
                    payload={"realert": True},
                    now=now,
                )
                enqueue(
                    session,
                    self._crypto,
                    OutboxKind.REMINDER,
                    case_id=case_id,
                    payload={"urgent": True},
                    now=now,
                )
                session.add(CaseEvent(case_id=case_id, at=now, actor_kind="system", kind="realerted"))
            await session.commit()
            return alerted

    # --- spam -------------------------------------------------------------------------------------
    def spam_key(self, reporter_key: str) -> str:
        return self._crypto.keyed_hash("spam", reporter_key)

    async def spam_blocked(self, reporter_key: str) -> bool:
        """A case of this reporter link was closed as spam, and the block still runs."""
        async with self._sessions() as session:
            found = await session.scalar(
                select(SpamBlock.id)
                .where(SpamBlock.block_key == self.spam_key(reporter_key), SpamBlock.until > self._clock())
                .limit(1)
            )
            return found is not None

    # --- the anonymous channel ----------------------------------------------------------------
    async def message_to_reporter(self, case_id: int, coordinator_id: int, text: str) -> int:
        async with self._sessions() as session:
            c = await self._locked(session, case_id)
            now = self._clock()
            m = CaseMessage(
                case_id=c.id,
                direction="to_reporter",
                author_id=coordinator_id,
                text_enc=self._crypto.encrypt_text(text),
                created_at=now,
            )
            session.add(m)
            await session.flush()
            session.add(
                CaseEvent(
                    case_id=c.id,
                    at=now,
                    actor_kind="coordinator",
                    actor_id=coordinator_id,
                    kind="message_out",
                    data={"message": m.id},
                )
            )
            if workflow.reaches_reporter(contactable=c.contact_enc is not None, unreachable=c.unreachable):
                enqueue(
                    session,
                    self._crypto,
                    OutboxKind.TO_REPORTER,
                    case_id=c.id,
                    payload={"message": m.id},
                    now=now,
                )
            await session.commit()
            return m.id

    async def message_from_reporter(
        self, case_id: int, text: str | None, file_ids: Sequence[int] = ()
    ) -> int:
        """What the reporter added; files must already be stored (attachments repository)."""
        async with self._sessions() as session:
            c = await self._locked(session, case_id)
            now = self._clock()
            m = CaseMessage(
                case_id=c.id,
                direction="from_reporter",
                text_enc=self._crypto.encrypt_text(text) if text else None,
                created_at=now,
                read_at=now,
            )
            session.add(m)
            await session.flush()
            if file_ids:
                await session.execute(
                    update(Attachment)
                    .where(Attachment.id.in_(file_ids))
                    .values(case_id=c.id, draft_ref=None, message_id=m.id)
                )
            session.add(
                CaseEvent(
                    case_id=c.id,
                    at=now,
                    actor_kind="reporter",
                    kind="message_in",
                    data={"message": m.id, "files": len(file_ids)},
                )
            )
            enqueue(
                session, self._crypto, OutboxKind.TO_GROUP, case_id=c.id, payload={"message": m.id}, now=now
            )
            # The card's counts of files and messages stay current.
            enqueue(session, self._crypto, OutboxKind.CARD, case_id=c.id, payload={"refresh": True}, now=now)
            await session.commit()
            return m.id

    async def channel(self, case_id: int) -> list[ChannelMessage]:
        async with self._sessions() as session:
            messages = list(
                await session.scalars(
                    select(CaseMessage).where(CaseMessage.case_id == case_id).order_by(CaseMessage.id)
                )
            )
            files = await session.execute(
                select(Attachment.message_id, Attachment.id)
                .where(Attachment.case_id == case_id, Attachment.message_id.is_not(None))
                .order_by(Attachment.id)
            )
            by_message: dict[int, list[int]] = {}
            for message_id, file_id in files:
                if message_id is not None:  # (never: the query leaves those out)
                    by_message.setdefault(message_id, []).append(file_id)
        return [
            ChannelMessage(
                id=m.id,
                direction=m.direction,
                text=self._crypto.decrypt_text(m.text_enc) if m.text_enc else None,
                created_at=m.created_at,
                read=m.read_at is not None,
                file_ids=tuple(by_message.get(m.id, ())),
            )
            for m in messages
        ]

    async def mark_read(self, case_id: int) -> None:
        async with self._sessions() as session:
            await session.execute(
                update(CaseMessage)
                .where(CaseMessage.case_id == case_id, CaseMessage.read_at.is_(None))
                .values(read_at=self._clock())
            )
            await session.commit()

    # --- the reporter's view -----------------------------------------------------------------
    async def cases_of(self, reporter_key: str) -> list[CaseView]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Case).where(Case.reporter_hash == reporter_key).order_by(Case.id.desc())
            )
            return [CaseView.of(c) for c in rows]

    async def unread_counts(self, case_ids: Sequence[int]) -> dict[int, int]:
        if not case_ids:
            return {}
        async with self._sessions() as session:
            rows = await session.execute(
                select(CaseMessage.case_id, func.count(CaseMessage.id))
                .where(CaseMessage.case_id.in_(case_ids), CaseMessage.read_at.is_(None))
                .group_by(CaseMessage.case_id)
            )
            return dict(rows.all())

    async def find_by_code_key(self, code_key: str) -> CaseView | None:
        async with self._sessions() as session:
            c = await session.scalar(select(Case).where(Case.code_hash == code_key))
            return CaseView.of(c) if c else None

    async def attach(self, case_id: int, reporter_key: str, *, chat_id: int | None) -> None:
        """Link a case to this account (opened with its code), e.g. after a lost phone.

        The chat to write back to moves along only if the reporter had agreed to contact.
        """
        async with self._sessions() as session:
            c = await self._locked(session, case_id)
            c.reporter_hash = reporter_key
            if c.contact_enc is not None and chat_id is not None:
                c.contact_enc = self._crypto.encrypt_text(str(chat_id))
                c.unreachable = False
            session.add(CaseEvent(case_id=c.id, at=self._clock(), actor_kind="reporter", kind="reattached"))
            await session.commit()

    async def code_attempts(self, account_key: str, within: timedelta) -> int:
        async with self._sessions() as session:
            return int(
                await session.scalar(
                    select(func.count(CodeAttempt.id)).where(
                        CodeAttempt.account_hash == account_key, CodeAttempt.at >= self._clock() - within
                    )
                )
                or 0
            )

    async def record_wrong_code(self, account_key: str) -> None:
        async with self._sessions() as session:
            session.add(CodeAttempt(account_hash=account_key, at=self._clock()))
            await session.commit()

    # --- helpers -------------------------------------------------------------------------------
    @staticmethod
    async def _locked(session: AsyncSession, case_id: int) -> Case:
        # FOR UPDATE on PostgreSQL: two coordinators pressing at once change the case in turn.
        c = await session.scalar(select(Case).where(Case.id == case_id).with_for_update())
        if c is None:
            raise CaseNotFound(case_id)
        return c
