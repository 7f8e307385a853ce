"""The coordinators' workflow: statuses, what may follow what, and what the reporter is told.

new → in progress (Take) → waiting for reporter ↔ in progress → referred → closed; reopen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

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


# --- the rules of a change, decided here and applied by the repository in one transaction ------
# (storage.casework evaluates them on the case's row as it reads it under its lock, so that two
# coordinators pressing at once are decided on the same state).


class InvalidTransition(Exception):
    """The case cannot move to that status from where it is."""


def reporter_is_told(status: CaseStatus | None) -> bool:
    """Is the reporter sent a (neutral) notice for a case that moved to `status`?"""
    return status in REPORTER_NOTICES


def notice_for(target: CaseStatus, close_reason: CloseReason | None) -> CaseStatus | None:
    """The status the reporter is told about after a change, None for nobody told. Spam is
    closed without telling anyone: the sender should learn nothing from it."""
    if close_reason is CloseReason.SPAM or not reporter_is_told(target):
        return None
    return target


def reaches_reporter(*, contactable: bool, unreachable: bool) -> bool:
    """A notice is queued only for a reporter who agreed to be contacted and has not blocked the bot."""
    return contactable and not unreachable


@dataclass(frozen=True)
class Take:
    """What pressing Take does to a case in status `current`."""

    target: CaseStatus
    reopens: bool  # a closed case: its old outcome and any spam block no longer apply
    only_if_unassigned: bool  # an open case is taken only while nobody has it
    notify: CaseStatus | None

    @property
    def event(self) -> str:
        return "reopen" if self.reopens else "take"


def take(current: CaseStatus) -> Take:
    reopens = current is CaseStatus.CLOSED
    target = CaseStatus.IN_PROGRESS if current in (CaseStatus.NEW, CaseStatus.CLOSED) else current
    notify = target if target is not current and reporter_is_told(target) else None
    return Take(target, reopens, not reopens, notify)


def after_give_up(current: CaseStatus) -> CaseStatus:
    """A case given up is unassigned again; one just taken is new again (its reminders restart)."""
    return CaseStatus.NEW if current is CaseStatus.IN_PROGRESS else current


@dataclass(frozen=True)
class Move:
    """A status change as the rules allow it: the case's new values, its history entry, and the
    status the reporter is told about (None: nobody is told)."""

    target: CaseStatus
    referral: str | None
    close_reason: str | None
    duplicate_of: int | None
    notify: CaseStatus | None
    data: dict[str, Any]

    @property
    def closes(self) -> bool:
        return self.target is CaseStatus.CLOSED


def check_duplicate(case_id: int, close_reason: CloseReason | None, duplicate_of: int | None) -> None:
    """Closing as a duplicate needs another case (whether it exists, the repository checks)."""
    if close_reason is CloseReason.DUPLICATE and (duplicate_of is None or duplicate_of == case_id):
        raise InvalidTransition("a duplicate needs the other case")


def move(
    current: CaseStatus,
    current_referral: str | None,
    target: CaseStatus,
    *,
    referral: Referral | None = None,
    close_reason: CloseReason | None = None,
    duplicate_of: int | None = None,
) -> Move:
    """The change from `current` to `target`, or InvalidTransition. A referral is kept while the
    case stays referred, waits or closes, and dropped when work on it resumes."""
    if not can_move(current, target):
        raise InvalidTransition(current)
    if target is CaseStatus.REFERRED and referral is None:
        raise InvalidTransition("a referral needs its kind")
    if target is CaseStatus.CLOSED and close_reason is None:
        raise InvalidTransition("closing needs a reason")
    kept = current_referral if target is not CaseStatus.IN_PROGRESS else None
    duplicate = duplicate_of if close_reason is CloseReason.DUPLICATE else None
    data: dict[str, Any] = {"from": current.value, "to": target.value}
    if referral:
        data["referral"] = referral.value
    if close_reason:
        data["reason"] = close_reason.value
    if duplicate is not None:
        data["duplicate_of"] = duplicate
    return Move(
        target=target,
        referral=referral.value if referral else kept,
        close_reason=close_reason.value if close_reason else None,
        duplicate_of=duplicate,
        notify=notice_for(target, close_reason),
        data=data,
    )


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
