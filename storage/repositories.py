"""Repositories: the only API the handlers use to read and write data.

Each method is one unit of work (its own session and commit), so no database connection is held
while the bot talks to Telegram. Telegram ids enter here and leave only as keyed hashes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.questionnaire import PRIVATE_FIELDS, SKIPPED, is_urgent
from domain.values import CONSENT_VERSION, CaseStatus
from storage.base import affected, utcnow
from storage.batches import delete_in_batches
from storage.casework import CaseworkRepository
from storage.codes import format_code, new_case_code
from storage.crypto import Crypto
from storage.custody import CustodyRepository
from storage.db import joined
from storage.followup import FollowupRepository
from storage.limits import REPORT, LimitRepository, limit_key
from storage.models import Account, Attachment, Case, LimitMark, SentDraft
from storage.outbox import OutboxKind, OutboxRepository, enqueue
from storage.privacy import PrivacyRepository, TraceRepository
from storage.stats import StatsRepository

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Consent:
    contact: bool = True
    share: bool = True
    stats: bool = True

    def as_dict(self) -> dict[str, bool]:
        return {"contact": self.contact, "share": self.share, "stats": self.stats}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Consent:
        data = data or {}
        return cls(**{k: bool(data.get(k, True)) for k in ("contact", "share", "stats")})


@dataclass(frozen=True)
class Submission:
    """A finished draft, as the report handlers hand it over."""

    answers: Mapping[str, Any]
    consent: Consent
    draft_ref: str
    locale: str


@dataclass(frozen=True)
class SubmittedCase:
    id: int
    # Grouped for reading; kept encrypted with the sent draft until the reporter saved it
    # (None afterwards), otherwise only as a keyed hash.
    code: str | None
    urgent: bool


@dataclass(frozen=True)
class StoredFile:
    id: int
    kind: str
    size: int
    metadata_removed: bool = True
    file_type: str | None = None  # storage.media.FileType value


@dataclass(frozen=True)
class Received:
    """A file as it arrived from Telegram, before cleaning: when, its hash and its size."""

    at: datetime
    sha256: str
    size: int


@dataclass(frozen=True)
class FileRecord:
    """A file's integrity record. ``name`` (the original file name) is for coordinators only."""

    id: int
    number: int  # 1-based position among the case's (or draft's) files
    kind: str
    file_type: str | None  # of the stored bytes
    received_type: str | None  # as received (HEIC is stored as JPEG)
    size: int
    metadata_removed: bool | None  # None: stored before the record was kept
    received_at: datetime | None
    size_received: int | None
    sha256_received: str | None
    sha256_stored: str | None
    name: str | None = None


class _Repository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], crypto: Crypto, clock: Clock):
        self._sessions = joined(sessions)  # the update's shared session inside a unit of work
        self._crypto = crypto
        self._clock = clock


class AccountRepository(_Repository):
    def _key(self, user_id: int) -> str:
        return self._crypto.keyed_hash("account", user_id)

    def locale_query(self) -> tuple[Any, Callable[[int], dict[str, Any]]]:
        """get_locale as a scalar subquery, to be read together with other things: the query
        (built once, bound parameter ``locale_account``) and that parameter for a user."""
        accounts = Account.__table__.c  # Core columns: read along the FSM's Core SELECT
        query = select(accounts.locale).where(accounts.account_hash == bindparam("locale_account"))
        return query.scalar_subquery(), lambda user_id: {"locale_account": self._key(user_id)}

    async def get_locale(self, user_id: int) -> str | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(Account.locale).where(Account.account_hash == self._key(user_id))
            )

    async def set_locale(self, user_id: int, locale: str) -> None:
        key = self._key(user_id)
        async with self._sessions() as session:
            account = await session.get(Account, key)
            if account is None:
                session.add(Account(account_hash=key, locale=locale, created_at=self._clock()))
            else:
                account.locale = locale
                account.updated_at = self._clock()
            try:
                await session.commit()
            except IntegrityError:  # a concurrent first write won; ours is the newer choice
                await session.rollback()
                await session.execute(
                    update(Account).where(Account.account_hash == key).values(locale=locale)
                )
                await session.commit()


class CaseRepository(_Repository):
    def reporter_key(self, user_id: int) -> str:
        return self._crypto.keyed_hash("reporter", user_id)

    def sent_key(self, draft_ref: str) -> str:
        return self._crypto.keyed_hash("sent", draft_ref)

    async def sent(self, draft_ref: str) -> SubmittedCase | None:
        """The case a draft became, with its code while not yet saved; None if never sent."""
        async with self._sessions() as session:
            row = await session.get(SentDraft, self.sent_key(draft_ref))
            if row is None:
                return None
            code = self._crypto.decrypt_text(row.code_enc) if row.code_enc else None
            return SubmittedCase(id=row.case_id, code=code, urgent=row.urgent)

    async def code_saved(self, draft_ref: str) -> None:
        """The reporter has saved the code: the bot no longer keeps it in any readable form."""
        async with self._sessions() as session:
            await session.execute(
                update(SentDraft).where(SentDraft.draft_key == self.sent_key(draft_ref)).values(code_enc=None)
            )
            await session.commit()

    async def purge_sent(self, older_than: timedelta) -> int:
        return await delete_in_batches(
            self._sessions, SentDraft.draft_key, SentDraft.created_at < self._clock() - older_than
        )

    async def count_since(self, within: timedelta) -> int:
        """New cases of the whole bot in the last `within` (for the surge alert)."""
        async with self._sessions() as session:
            return int(
                await session.scalar(
                    select(func.count(Case.id)).where(Case.created_at >= self._clock() - within)
                )
                or 0
            )

    async def submit(self, user_id: int, chat_id: int, sub: Submission) -> SubmittedCase:
        """Store the case and attach the draft's files, in one transaction.

        Idempotent per draft: a second Send (double tap, re-delivery, retry after a kill)
        returns the case the first one stored. The code is kept encrypted with the sent draft
        until the reporter saved it, and the report is counted for the daily limit, all in
        the same transaction.
        """
        existing = await self.sent(sub.draft_ref)
        if existing is not None:
            return existing
        answers = dict(sub.answers)
        public = {k: v for k, v in answers.items() if k not in PRIVATE_FIELDS}
        private = {k: v for k, v in answers.items() if k in PRIVATE_FIELDS and v != SKIPPED}
        contact = answers.get("contact") == "yes"
        urgent = is_urgent(answers)
        for _attempt in range(3):  # a code collision at 60 bits is near-impossible; still handled
            code = new_case_code()
            case = Case(
                code_hash=self.code_key(code),
                reporter_hash=self.reporter_key(user_id),
                status=CaseStatus.NEW.value,
                urgent=urgent,
                facility_kind=_clear(answers.get("facility_kind")),
                region=_clear(answers.get("region")),
                answers=public,
                private_enc=self._crypto.encrypt_json(private),
                contact_enc=self._crypto.encrypt_text(str(chat_id)) if contact else None,
                silent=contact and answers.get("silent") == "yes",
                locale=sub.locale,
                consent_version=CONSENT_VERSION,
                consent_contact=sub.consent.contact,
                consent_share=sub.consent.share,
                consent_stats=sub.consent.stats,
                created_at=self._clock(),
                updated_at=self._clock(),
            )
            async with self._sessions() as session:
                session.add(case)
                try:
                    await session.flush()
                except IntegrityError:
                    await session.rollback()
                    continue
                now = self._clock()
                session.add(
                    SentDraft(
                        draft_key=self.sent_key(sub.draft_ref),
                        case_id=case.id,
                        code_enc=self._crypto.encrypt_text(format_code(code)),
                        urgent=urgent,
                        created_at=now,
                    )
                )
                session.add(LimitMark(key_hash=limit_key(self._crypto, REPORT, user_id), at=now))
                await session.execute(
                    update(Attachment)
                    .where(Attachment.draft_ref == sub.draft_ref)
                    .values(case_id=case.id, draft_ref=None)
                )
                # Delivery to the coordinators is committed with the case: never one without
                # the other.
                enqueue(session, self._crypto, OutboxKind.CARD, case_id=case.id, now=now)
                if urgent:
                    enqueue(session, self._crypto, OutboxKind.URGENT, case_id=case.id, now=now)
                try:
                    await session.commit()
                except IntegrityError:  # a concurrent Send of the same draft won
                    await session.rollback()
                    existing = await self.sent(sub.draft_ref)
                    if existing is not None:
                        return existing
                    continue
                return SubmittedCase(id=case.id, code=format_code(code), urgent=urgent)
        raise RuntimeError("could not allocate a unique case code")

    def code_key(self, canonical_code: str) -> str:
        return self._crypto.keyed_hash("code", canonical_code.replace("-", ""))

    async def count_recent(self, user_id: int, within: timedelta) -> int:
        since = self._clock() - within
        async with self._sessions() as session:
            return int(
                await session.scalar(
                    select(func.count(Case.id)).where(
                        Case.reporter_hash == self.reporter_key(user_id), Case.created_at >= since
                    )
                )
                or 0
            )

    async def private_answers(self, case_id: int) -> dict[str, Any]:
        async with self._sessions() as session:
            token = await session.scalar(select(Case.private_enc).where(Case.id == case_id))
        return self._crypto.decrypt_json(token) if token else {}


class AttachmentRepository(_Repository):
    @staticmethod
    def new_draft_ref() -> str:
        return secrets.token_hex(16)

    async def add(
        self,
        draft_ref: str,
        *,
        kind: str,
        mime_type: str | None,
        file_name: str | None,
        data: bytes,
        received: Received | None = None,
        file_type: str | None = None,
        received_type: str | None = None,
        metadata_removed: bool = True,
    ) -> StoredFile:
        """Store cleaned bytes with their integrity record (``received``: before cleaning;
        without it, the stored bytes are taken as received, e.g. files made by the bot)."""
        now = self._clock()
        stored_hash = hashlib.sha256(data).hexdigest()
        item = Attachment(
            draft_ref=draft_ref,
            kind=kind,
            mime_type=mime_type,
            size=len(data),
            name_enc=self._crypto.encrypt_text(file_name) if file_name else None,
            content_enc=self._crypto.encrypt(data),
            created_at=now,
            file_type=file_type,
            received_type=received_type or file_type,
            metadata_removed=metadata_removed,
            received_at=received.at if received else now,
            size_received=received.size if received else len(data),
            sha256_received=received.sha256 if received else stored_hash,
            sha256_stored=stored_hash,
        )
        async with self._sessions() as session:
            session.add(item)
            await session.commit()
            return StoredFile(
                id=item.id,
                kind=item.kind,
                size=item.size,
                metadata_removed=metadata_removed,
                file_type=file_type,
            )

    _FILE_COLUMNS = (
        Attachment.id,
        Attachment.kind,
        Attachment.size,
        Attachment.metadata_removed,
        Attachment.file_type,
    )

    @staticmethod
    def _stored(r: Any) -> StoredFile:
        return StoredFile(
            id=r.id,
            kind=r.kind,
            size=r.size,
            metadata_removed=r.metadata_removed is not False,
            file_type=r.file_type,
        )

    async def for_draft(self, draft_ref: str) -> list[StoredFile]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(*self._FILE_COLUMNS).where(Attachment.draft_ref == draft_ref).order_by(Attachment.id)
            )
            return [self._stored(r) for r in rows]

    async def for_case(self, case_id: int) -> list[StoredFile]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(*self._FILE_COLUMNS).where(Attachment.case_id == case_id).order_by(Attachment.id)
            )
            return [self._stored(r) for r in rows]

    async def records(self, case_id: int, *, with_names: bool = False) -> list[FileRecord]:
        """The integrity record of every file of a case, in order; names only if asked."""
        async with self._sessions() as session:
            rows = (
                await session.execute(  # every column but the content
                    select(
                        Attachment.id,
                        Attachment.kind,
                        Attachment.file_type,
                        Attachment.received_type,
                        Attachment.size,
                        Attachment.metadata_removed,
                        Attachment.received_at,
                        Attachment.size_received,
                        Attachment.sha256_received,
                        Attachment.sha256_stored,
                        Attachment.name_enc,
                    )
                    .where(Attachment.case_id == case_id)
                    .order_by(Attachment.id)
                )
            ).all()
        return [
            FileRecord(
                id=a.id,
                number=number,
                kind=a.kind,
                file_type=a.file_type,
                received_type=a.received_type,
                size=a.size,
                metadata_removed=a.metadata_removed,
                received_at=a.received_at,
                size_received=a.size_received,
                sha256_received=a.sha256_received,
                sha256_stored=a.sha256_stored,
                name=(self._crypto.decrypt_text(a.name_enc) if with_names and a.name_enc else None),
            )
            for number, a in enumerate(rows, start=1)
        ]

    async def content(self, attachment_id: int) -> bytes:
        async with self._sessions() as session:
            token = await session.scalar(select(Attachment.content_enc).where(Attachment.id == attachment_id))
        if token is None:
            raise LookupError(attachment_id)
        return self._crypto.decrypt(token)

    async def discard_draft(self, draft_ref: str) -> int:
        async with self._sessions() as session:
            result = await session.execute(delete(Attachment).where(Attachment.draft_ref == draft_ref))
            await session.commit()
            return affected(result) or 0

    async def purge_orphans(self, older_than: timedelta) -> int:
        """Delete files of drafts that can no longer be submitted (drafts expire)."""
        cutoff = self._clock() - older_than
        # Small batches: each row holds a whole (encrypted) file.
        return await delete_in_batches(
            self._sessions,
            Attachment.id,
            Attachment.case_id.is_(None),
            Attachment.created_at < cutoff,
            batch=100,
        )


class Store:
    """The repositories, built once at start-up and injected into handlers as `store`."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], crypto: Crypto, clock: Clock = utcnow
    ) -> None:
        self.crypto = crypto
        self.clock = clock
        # One session per update inside a unit of work (storage.db.UnitOfWork), shared by all.
        sessions = joined(sessions)
        self.accounts = AccountRepository(sessions, crypto, clock)
        self.cases = CaseRepository(sessions, crypto, clock)
        self.attachments = AttachmentRepository(sessions, crypto, clock)
        self.outbox = OutboxRepository(sessions, crypto, clock)
        self.casework = CaseworkRepository(sessions, crypto, clock)
        self.trace = TraceRepository(sessions, crypto, clock)
        self.privacy = PrivacyRepository(sessions, crypto, clock)
        self.stats = StatsRepository(sessions, crypto, clock)
        self.custody = CustodyRepository(sessions, crypto, clock)
        self.limits = LimitRepository(sessions, crypto, clock)
        self.followup = FollowupRepository(sessions, crypto, clock)


def _clear(value: Any) -> str | None:
    return None if value in (None, SKIPPED) else str(value)
