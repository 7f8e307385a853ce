"""Domain tables. Nothing here identifies a reporter: ids appear only as keyed hashes, and
free text, names, file names, files and chat ids are Fernet tokens."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, UTCDateTime, utcnow


class Account(Base):
    """Per-Telegram-account preferences, keyed by HMAC("account", user id)."""

    __tablename__ = "accounts"

    account_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    locale: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Case(Base):
    __tablename__ = "cases"

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

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", cascade="all, delete-orphan", passive_deletes=True
    )


class Attachment(Base):
    """A file: stored encrypted, image metadata stripped. Belongs to a draft until submitted."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    # Random token held in the (encrypted) draft; links files to a draft without any user id.
    draft_ref: Mapped[str | None] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    case: Mapped[Case | None] = relationship(back_populates="attachments")
