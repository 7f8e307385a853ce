"""FSM states of the report: one per question (generated from the questionnaire), plus the
screens around them."""

from __future__ import annotations

from typing import cast

from aiogram.fsm.state import State, StatesGroup, StatesGroupMeta

from domain.questionnaire import ORDER

_SCREENS = ("consent", "review", "paused", "cancel", "submitted")

# Built at run time, one state per question: the type checker cannot see its attributes, so the
# states are reached through screen() and question_state().
Report = cast(
    "type[StatesGroup]",
    StatesGroupMeta(
        "Report",
        (StatesGroup,),
        {"__qualname__": "Report", **{name: State() for name in (*_SCREENS, *ORDER)}},
    ),
)


def question_state(qid: str) -> State:
    return getattr(Report, qid)


def screen(name: str) -> State:
    if name not in _SCREENS:
        raise ValueError(f"not a screen of the report: {name}")
    return getattr(Report, name)


_PREFIX = Report.__full_group_name__ + ":"


def screen_of(state: str | None) -> str | None:
    """The state's name within the report ("consent", a question id ...), or None outside it."""
    if not state or not state.startswith(_PREFIX):
        return None
    return state[len(_PREFIX) :]


def question_of(state: str | None) -> str | None:
    """The question id a state string stands for, or None for screens and other states."""
    name = screen_of(state)
    return name if name in ORDER else None


def in_report(state: str | None) -> bool:
    """Any state of the report: a question, one of its screens, paused or submitted."""
    return screen_of(state) is not None


def is_paused(state: str | None) -> bool:
    return screen_of(state) == "paused"


def is_submitted(state: str | None) -> bool:
    """The case code is on the screen, not yet confirmed as saved."""
    return screen_of(state) == "submitted"


def drafting(state: str | None) -> bool:
    """A draft open on one of its screens: in the report, neither paused nor submitted."""
    return in_report(state) and not is_paused(state) and not is_submitted(state)


def redrawable(state: str | None) -> bool:
    """A report screen to draw again after an interruption (not paused, not the question
    whether to cancel)."""
    return in_report(state) and not is_paused(state) and screen_of(state) != "cancel"
