"""The coordinators' workflow: statuses, what may follow what, and what the reporter is told.

new → in progress (Take) → waiting for reporter ↔ in progress → referred → closed; reopen.
"""
from __future__ import annotations

from enum import StrEnum

from domain.i18n import N_
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

OPEN_STATUSES = frozenset({CaseStatus.NEW, CaseStatus.IN_PROGRESS, CaseStatus.WAITING,
                           CaseStatus.REFERRED})

ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.WAITING, CaseStatus.REFERRED,
                                       CaseStatus.CLOSED}),
    CaseStatus.WAITING: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.REFERRED,
                                   CaseStatus.CLOSED}),
    CaseStatus.REFERRED: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.IN_PROGRESS}),  # reopen
}

# Changes the reporter is told about (if they agreed to be contacted), in their language.
REPORTER_NOTICES = {
    CaseStatus.IN_PROGRESS: N_("A coordinator has taken up your report."),
    CaseStatus.WAITING: N_("The coordinator needs more information from you. Open your report "
                           "to see their question."),
    CaseStatus.REFERRED: N_("Your report has been passed on for legal help. A coordinator will "
                            "tell you more."),
    CaseStatus.CLOSED: N_("Work on your report has finished. You can still open it with your "
                          "code."),
}


def can_move(current: CaseStatus, target: CaseStatus) -> bool:
    return target in ALLOWED[current]
