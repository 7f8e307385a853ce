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


def question_of(state: str | None) -> str | None:
    """The question id a state string stands for, or None for screens and other states."""
    if not state or not state.startswith("Report:"):
        return None
    name = state.split(":", 1)[1]
    return name if name in ORDER else None


def in_report(state: str | None) -> bool:
    return state is not None and state.startswith("Report:")
