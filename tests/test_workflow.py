"""The coordinators' workflow rules, decided without a database (domain.workflow)."""

from __future__ import annotations

import pytest

from domain import workflow
from domain.values import CaseStatus
from domain.workflow import CloseReason, InvalidTransition, Referral


def test_spam_closes_silently_other_closings_tell_the_reporter() -> None:
    spam = workflow.move(CaseStatus.IN_PROGRESS, None, CaseStatus.CLOSED, close_reason=CloseReason.SPAM)
    assert spam.closes and spam.notify is None
    done = workflow.move(CaseStatus.IN_PROGRESS, None, CaseStatus.CLOSED, close_reason=CloseReason.WITHDRAWN)
    assert done.notify is CaseStatus.CLOSED


def test_a_referral_is_kept_until_work_resumes() -> None:
    referred = workflow.move(CaseStatus.IN_PROGRESS, None, CaseStatus.REFERRED, referral=Referral.LAWYER)
    assert referred.referral == Referral.LAWYER.value and referred.data["referral"] == Referral.LAWYER.value
    closed = workflow.move(
        CaseStatus.REFERRED, "lawyer", CaseStatus.CLOSED, close_reason=CloseReason.WITHDRAWN
    )
    assert closed.referral == "lawyer"
    assert workflow.move(CaseStatus.REFERRED, "lawyer", CaseStatus.IN_PROGRESS).referral is None


@pytest.mark.parametrize(
    ("current", "target", "kwargs"),
    [
        (CaseStatus.NEW, CaseStatus.WAITING, {}),  # not allowed from new
        (CaseStatus.IN_PROGRESS, CaseStatus.REFERRED, {}),  # a referral needs its kind
        (CaseStatus.IN_PROGRESS, CaseStatus.CLOSED, {}),  # closing needs a reason
    ],
)
def test_changes_the_rules_refuse(current: CaseStatus, target: CaseStatus, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidTransition):
        workflow.move(current, None, target, **kwargs)  # type: ignore[arg-type]


def test_a_duplicate_needs_another_case() -> None:
    for other in (None, 5):
        with pytest.raises(InvalidTransition):
            workflow.check_duplicate(5, CloseReason.DUPLICATE, other)
    workflow.check_duplicate(5, CloseReason.DUPLICATE, 4)
    change = workflow.move(
        CaseStatus.NEW, None, CaseStatus.CLOSED, close_reason=CloseReason.DUPLICATE, duplicate_of=4
    )
    assert change.duplicate_of == 4 and change.data["duplicate_of"] == 4


def test_take_reopens_a_closed_case_and_takes_an_open_one_only_if_free() -> None:
    reopen = workflow.take(CaseStatus.CLOSED)
    assert (reopen.target, reopen.reopens, reopen.only_if_unassigned, reopen.event) == (
        CaseStatus.IN_PROGRESS,
        True,
        False,
        "reopen",
    )
    fresh = workflow.take(CaseStatus.NEW)
    assert fresh.only_if_unassigned and fresh.notify is CaseStatus.IN_PROGRESS and fresh.event == "take"
    waiting = workflow.take(CaseStatus.WAITING)  # a given-up case keeps its status: nobody is told
    assert waiting.target is CaseStatus.WAITING and waiting.notify is None


def test_who_is_told() -> None:
    assert not workflow.reporter_is_told(CaseStatus.NEW)
    assert all(workflow.reporter_is_told(s) for s in CaseStatus if s is not CaseStatus.NEW)
    assert workflow.reaches_reporter(contactable=True, unreachable=False)
    assert not workflow.reaches_reporter(contactable=True, unreachable=True)
    assert not workflow.reaches_reporter(contactable=False, unreachable=False)
    assert workflow.after_give_up(CaseStatus.IN_PROGRESS) is CaseStatus.NEW
    assert workflow.after_give_up(CaseStatus.WAITING) is CaseStatus.WAITING
