"""Domain tables. Nothing here identifies a reporter: ids appear only as keyed hashes, and
free text, names, file names, files and chat ids are Fernet tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    event,
    false,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage import queue_counts
from storage.base import Base, UTCDateTime, utcnow
from storage.queue_counts import OPEN


class Account(Base):
    """Per-Telegram-account preferences, keyed by HMAC("account", user id)."""

    __tablename__ = "accounts"

    account_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    locale: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def _open(extra: str | None = None) -> dict[str, Any]:
    where = text(OPEN + (f" AND {extra}" if extra else ""))
    return {"sqlite_where": where, "postgresql_where": where}


class Case(Base):
    __tablename__ = "cases"
    # The queue's order (open first, urgent first, then oldest) and its filters, served from
    # indexes so that /queue stays quick with 100,000 cases.
    # Each filter reads its own index in the queue's order: urgent (equality, one query per
    # value) then (created_at, id); the open-case indexes are partial on exactly the predicate
    # storage.casework writes (storage.queue_counts.OPEN), which SQLite needs word for word.
    __table_args__ = (
        Index("ix_cases_queue", "status", "urgent", "created_at", "id"),  # status: X
        Index("ix_cases_open_queue", "urgent", "created_at", "id", **_open()),
        Index("ix_cases_unassigned_queue", "urgent", "created_at", "id", **_open("assignee_id IS NULL")),
        Index("ix_cases_mine_queue", "assignee_id", "urgent", "created_at", "id", **_open()),
        Index("ix_cases_region_queue", "region", "urgent", "created_at", "id", **_open()),
        Index("ix_cases_kind_queue", "facility_kind", "urgent", "created_at", "id", **_open()),
        # Reminders: new cases never reminded (by age), or reminded long ago.
        Index("ix_cases_reminders", "status", "reminded_at", "created_at"),
        # Statistics scan only the cases whose reporter agreed to figures, by date.
        Index("ix_cases_stats", "consent_stats", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # HMAC("reporter", user id): lets "My reports" find the account's cases; nulled by Forget me.
    reporter_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(24), default="new", index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Anonymous, categorical fields, kept in the clear for the queue and statistics.
    facility_kind: Mapped[str | None] = mapped_column(String(24))
    region: Mapped[str | None] = mapped_column(String(24))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Encrypted JSON of the free-text answers (narrative, names, place name...).
    private_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Encrypted chat id, only when the reporter agreed to be contacted.
    contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    silent: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(5))
    consent_version: Mapped[str] = mapped_column(String(16))
    consent_contact: Mapped[bool] = mapped_column(Boolean)
    consent_share: Mapped[bool] = mapped_column(Boolean)
    consent_stats: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The coordinators' workflow. Coordinators are staff named in the config, so their ids
    # may be stored; a reporter's never is.
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    referral: Mapped[str | None] = mapped_column(String(16))
    close_reason: Mapped[str | None] = mapped_column(String(16))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Where the case lives in the coordinators' chat: its forum topic, or its card's thread.
    group_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    topic_id: Mapped[int | None] = mapped_column(Integer)
    card_message_id: Mapped[int | None] = mapped_column(Integer)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Urgent cases nobody took: when the on-call coordinators and the group were last re-alerted.
    realerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Closed as a duplicate of that case (both cases' histories show the link).
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    # Set by the retention worker once the personal content of a long-closed case is purged.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", cascade="all, delete-orphan", passive_deletes=True
    )


class QueueCount(Base):
    """How many cases a /queue filter holds (storage.queue_counts: kept by triggers)."""

    __tablename__ = "queue_counts"

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


def _counting_triggers(target: Any, connection: Connection, tables: Any = (), **_kw: Any) -> None:
    """metadata.create_all (tests) gets the counting triggers too; migrations create their own."""
    if {"cases", "queue_counts"} <= {t.name for t in tables or ()}:
        for statement in queue_counts.create_statements(connection.dialect.name):
            connection.exec_driver_sql(statement)


event.listen(Base.metadata, "after_create", _counting_triggers)


class Attachment(Base):
    """A file: stored encrypted, metadata removed. Belongs to a draft until submitted.

    The integrity record (hash as received and as stored, time of receipt) lets a lawyer show
    that the file was not altered after it reached the organisation."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # Random token held in the (encrypted) draft; links files to a draft without any user id.
    draft_ref: Mapped[str | None] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Set for files the reporter added after submitting (they belong to that message).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("case_messages.id", ondelete="SET NULL"))
    # storage.media.FileType values of the stored bytes and as received (HEIC is stored as
    # JPEG); None for another type kept as it came (config allowing).
    file_type: Mapped[str | None] = mapped_column(String(16))
    received_type: Mapped[str | None] = mapped_column(String(16))
    # False: stored as it came (another type, allowed by the config). None: stored before 0007.
    metadata_removed: Mapped[bool | None] = mapped_column(Boolean)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    size_received: Mapped[int | None] = mapped_column(Integer)
    sha256_received: Mapped[str | None] = mapped_column(String(64))  # as Telegram served it
    sha256_stored: Mapped[str | None] = mapped_column(String(64))  # the cleaned bytes

    case: Mapped[Case | None] = relationship(back_populates="attachments")


class OutboxItem(Base):
    """Something to send to Telegram, committed with the change that caused it.

    A worker claims items atomically (claimed_by/claimed_until, a lease), sends, and marks them
    done; failures are retried with backoff. Payload text is encrypted like everything else.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "available_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(24))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payload_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseEvent(Base):
    """The audit trail: every status change, assignment, note and relayed message."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(12))  # coordinator | reporter | system
    actor_id: Mapped[int | None] = mapped_column(BigInteger)  # coordinators only
    kind: Mapped[str] = mapped_column(String(24))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # notes: encrypted


class CaseMessage(Base):
    """A message of the anonymous channel, either way; the text is encrypted."""

    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # to_reporter | from_reporter
    author_id: Mapped[int | None] = mapped_column(BigInteger)  # the coordinator; never shown
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CodeAttempt(Base):
    """Wrong case codes per account, to limit guessing (keyed by the account hash)."""

    __tablename__ = "code_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MessageTrace(Base):
    """One message of a private chat, so "Erase this chat" knows what to delete.

    Keyed by HMAC("trace", chat id); the message id is a Fernet token; no text, ever. Rows
    are useless (and deleted) after Telegram's 48-hour deletion window.
    """

    __tablename__ = "message_trace"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_key: Mapped[str] = mapped_column(String(64), index=True)
    message_enc: Mapped[bytes] = mapped_column(LargeBinary)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Export(Base):
    """The audit trail of exports: one spans many cases, so it is not a case event.

    Who (an admin's id, or the operator's command line), when, what format, whether free text
    was included, the period and how many cases left the system.
    """

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(12))  # admin | operator
    actor_id: Mapped[int | None] = mapped_column(BigInteger)  # staff only; None for the CLI
    format: Mapped[str] = mapped_column(String(8))
    with_text: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[str | None] = mapped_column(String(7))  # "YYYY-MM"
    until: Mapped[str | None] = mapped_column(String(7))
    case_count: Mapped[int] = mapped_column(Integer)


class SpamBlock(Base):
    """A reporter link blocked from submitting after a case of theirs was closed as spam.

    Keyed by HMAC("spam", reporter hash), like every other link; removed when the case is
    reopened, useless (and ignored) after `until`.
    """

    __tablename__ = "spam_blocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    block_key: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)


class SentDraft(Base):
    """A submitted draft: makes Send idempotent and keeps the case code until it was saved.

    Keyed by HMAC("sent", draft ref), the random token held in the reporter's (encrypted)
    draft, so it links to no account. The code is a Fernet token, cleared when the reporter
    presses "I have saved the code"; the row goes with retention.draft_days.
    """

    __tablename__ = "sent_drafts"

    draft_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    code_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class LimitMark(Base):
    """One counted action (a wrong code, a report, a surge alert) for rate limits.

    Keyed by HMAC("limit:<kind>", user id): a hash used nowhere else, so it survives Forget me
    without linking the account to any stored case; rows expire on their own (retention).
    """

    __tablename__ = "limit_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class KeyCheck(Base):
    """One row: a known value under the keys in use, so start-up can tell that the configured
    keys are the ones the stored data was written with (bot.keyguard)."""

    __tablename__ = "key_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Fernet token of a fixed text under the first data key of the time it was written.
    token: Mapped[bytes] = mapped_column(LargeBinary)
    # keyed_hash("key-check", fixed text): the HMAC secret must be the same one too.
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
