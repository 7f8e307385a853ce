"""What handlers, views and the delivery worker may know of a case: no identities, no free text.

``CaseView`` lives here, below ``storage/``, so that the card and the other views (handlers/coordinator/card.py)
render it without importing the repositories; storage.casework builds it from a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.values import CaseStatus

__all__ = ["CaseRow", "CaseView"]


class CaseRow(Protocol):
    """The columns of a stored case (storage.models.Case) a view is made of."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def urgent(self) -> bool: ...
    @property
    def facility_kind(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def answers(self) -> dict[str, Any] | None: ...
    @property
    def locale(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def assignee_id(self) -> int | None: ...
    @property
    def referral(self) -> str | None: ...
    @property
    def close_reason(self) -> str | None: ...
    @property
    def unreachable(self) -> bool: ...
    @property
    def contact_enc(self) -> bytes | None: ...
    @property
    def silent(self) -> bool: ...
    @property
    def group_chat_id(self) -> int | None: ...
    @property
    def topic_id(self) -> int | None: ...
    @property
    def card_message_id(self) -> int | None: ...
    @property
    def duplicate_of(self) -> int | None: ...


@dataclass(frozen=True)
class CaseView:
    """What handlers and the delivery worker may know of a case (no identities, no free text)."""

    id: int
    status: CaseStatus
    urgent: bool
    facility_kind: str | None
    region: str | None
    answers: dict[str, Any]
    locale: str
    created_at: datetime
    assignee_id: int | None
    referral: str | None
    close_reason: str | None
    unreachable: bool
    contactable: bool
    silent: bool
    group_chat_id: int | None
    topic_id: int | None
    card_message_id: int | None
    duplicate_of: int | None = None

    @classmethod
    def of(cls, c: CaseRow) -> CaseView:
        return cls(
            id=c.id,
            status=CaseStatus(c.status),
            urgent=c.urgent,
            facility_kind=c.facility_kind,
            region=c.region,
            answers=dict(c.answers or {}),
            locale=c.locale,
            created_at=c.created_at,
            assignee_id=c.assignee_id,
            referral=c.referral,
            close_reason=c.close_reason,
            unreachable=c.unreachable,
            contactable=c.contact_enc is not None,
            silent=c.silent,
            group_chat_id=c.group_chat_id,
            topic_id=c.topic_id,
            card_message_id=c.card_message_id,
            duplicate_of=c.duplicate_of,
        )
