"""The coordinators' workflow: statuses, what may follow what, and what the reporter is told.

new → in progress (Take) → waiting for reporter ↔ in progress → referred → closed; reopen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from domain.i18n import N_
from domain.questionnaire import QUESTIONS
from domain.values import CaseStatus


class Referral(StrEnum):
    LAWYER = "lawyer"
    PROSECUTOR = "prosecutor"
    OMBUDSMAN = "ombudsman"


class CloseReason(StrEnum):
    RESOLVED = "resolved"
    NOT_CONFIRMED = "not_confirmed"
    DUPLICATE = "duplicate"
    NO_CONTACT = "no_contact"
    WITHDRAWN = "withdrawn"
    SPAM = "spam"


REFERRAL_LABELS = {
    Referral.LAWYER: N_("Referred to a lawyer"),
    Referral.PROSECUTOR: N_("Referred to the prosecutor's office"),
    Referral.OMBUDSMAN: N_("Referred to the Ombudsman / NPM"),
}

CLOSE_LABELS = {
    CloseReason.RESOLVED: N_("Resolved"),
    CloseReason.NOT_CONFIRMED: N_("Not confirmed"),
    CloseReason.DUPLICATE: N_("Duplicate"),
    CloseReason.NO_CONTACT: N_("No contact"),
    CloseReason.WITHDRAWN: N_("Withdrawn"),
    CloseReason.SPAM: N_("Spam"),
}

# Coordinator-facing status names (the reporter sees STATUS_LABELS in domain.values).
STATUS_NAMES = {
    CaseStatus.NEW: N_("New"),
    CaseStatus.IN_PROGRESS: N_("In progress"),
    CaseStatus.WAITING: N_("Waiting for the reporter"),
    CaseStatus.REFERRED: N_("Referred"),
    CaseStatus.CLOSED: N_("Closed"),
}

OPEN_STATUSES = frozenset({CaseStatus.NEW, CaseStatus.IN_PROGRESS, CaseStatus.WAITING, CaseStatus.REFERRED})

ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.WAITING, CaseStatus.REFERRED, CaseStatus.CLOSED}),
    CaseStatus.WAITING: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.REFERRED, CaseStatus.CLOSED}),
    CaseStatus.REFERRED: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.IN_PROGRESS}),  # reopen
}

# Changes the reporter is told about (if they agreed to be contacted), in their language.
REPORTER_NOTICES = {
    CaseStatus.IN_PROGRESS: N_("A coordinator has taken up your report."),
    CaseStatus.WAITING: N_(
        "The coordinator needs more information from you. Open your report to see their question."
    ),
    CaseStatus.REFERRED: N_(
        "Your report has been passed on for legal help. A coordinator will tell you more."
    ),
    CaseStatus.CLOSED: N_("Work on your report has finished. You can still open it with your code."),
}


def can_move(current: CaseStatus, target: CaseStatus) -> bool:
    return target in ALLOWED[current]


def needs_confirmation(target: CaseStatus) -> bool:
    """Closing ends the work on a case (and tells the reporter): it is asked twice."""
    return target is CaseStatus.CLOSED


def spam_block_for(reason: CloseReason | None, days: int) -> timedelta | None:
    """Closing as spam keeps that reporter link from submitting for `days`."""
    return timedelta(days=days) if reason is CloseReason.SPAM and days > 0 else None


@dataclass(frozen=True)
class QueueFilter:
    """Which open cases /queue shows (always urgent first, then oldest).

    Packed into callback data as one short code: "" (all), "u" (urgent), "n" (unassigned),
    "m" (mine), "s.<status>", "r.<region>", "k.<place kind>".
    """

    urgent: bool = False
    unassigned: bool = False
    mine: bool = False
    status: CaseStatus | None = None
    region: str | None = None
    kind: str | None = None

    def code(self) -> str:
        if self.urgent:
            return "u"
        if self.unassigned:
            return "n"
        if self.mine:
            return "m"
        if self.status:
            return f"s.{self.status.value}"
        if self.region:
            return f"r.{self.region}"
        if self.kind:
            return f"k.{self.kind}"
        return ""

    @classmethod
    def parse(cls, code: str) -> QueueFilter:
        """The filter of a code; ValueError for anything else (a forged button)."""
        if code in ("", "u", "n", "m"):
            return cls(urgent=code == "u", unassigned=code == "n", mine=code == "m")
        prefix, _dot, value = code.partition(".")
        if prefix == "s":
            status = CaseStatus(value)
            if status not in OPEN_STATUSES:
                raise ValueError(code)
            return cls(status=status)
        if prefix in ("r", "k") and value:
            question = QUESTIONS["region" if prefix == "r" else "facility_kind"]
            if value not in {o.value for o in question.options}:
                raise ValueError(code)
            return cls(region=value) if prefix == "r" else cls(kind=value)
        raise ValueError(code)
