"""The questionnaire as data: ordering, conditions, urgency, and renderings that fit Telegram."""

from __future__ import annotations

import pytest
from aiogram.utils.i18n import I18n

from bot.i18n import LOCALES_DIR
from domain.questionnaire import (
    ATTRIBUTION,
    ORDER,
    QUESTIONS,
    SKIPPED,
    STEPS,
    AllOf,
    AnswerIs,
    AnswerIsNot,
    Kind,
    is_urgent,
    next_question,
    previous_question,
    prune,
    validate_answer,
)
from domain.textlimits import CALLBACK_DATA_LIMIT, TEXT_LIMIT, visible_length
from domain.values import LOCALES
from handlers.render import render_sections
from handlers.report.keyboards import Ans, Nav, NavAct, ReviewAct, ReviewCb
from handlers.report.screens import review_text
from tests.sample import FULL_ANSWERS

i18n = I18n(path=LOCALES_DIR, default_locale="en", domain="messages")


def test_thirteen_steps_with_review() -> None:
    assert len(STEPS) == 12  # + the review screen = 13 steps, as the design lists them


def test_conditions_follow_answers() -> None:
    answers = {"last_incident": "week"}
    assert next_question(answers, "last_incident") == "ongoing"
    answers = {"last_incident": "earlier"}
    assert next_question(answers, "last_incident") == "incident_year"
    answers["incident_year"] = "2024"
    assert next_question(answers, "incident_year") == "incident_month"
    assert previous_question(answers, "incident_month") == "incident_year"
    answers["incident_year"] = "older"
    assert next_question(answers, "incident_year") == "ongoing"


def test_conditions_are_data_about_earlier_choices() -> None:
    """Every condition is a declared object (no code), reading only choices asked before it with
    values those questions offer: the diagram and the check of forged answers can read it."""
    for position, qid in enumerate(ORDER):
        condition = QUESTIONS[qid].when
        if condition is None:
            continue
        assert isinstance(condition, AnswerIs | AnswerIsNot | AllOf), qid
        parts = condition.conditions if isinstance(condition, AllOf) else (condition,)
        for part in parts:
            asked = QUESTIONS[part.qid]
            assert ORDER.index(part.qid) < position and asked.kind is Kind.CHOICE, (qid, part.qid)
            offered = {o.value for o in asked.choices()} | {SKIPPED, None}
            assert set(part.values) <= offered, (qid, part.values)
        assert condition.reads() == {part.qid for part in parts}


def test_prune_drops_answers_that_no_longer_apply() -> None:
    answers = {
        "last_incident": "today",
        "incident_year": "2024",
        "incident_month": "03",
        "contact": "no",
        "silent": "yes",
    }
    assert prune(answers) == {"last_incident": "today", "contact": "no"}


@pytest.mark.parametrize(
    ("danger", "urgent"),
    [
        (["ongoing"], True),
        (["none"], False),
        (SKIPPED, False),
        (["self_harm", "transfer"], True),
    ],
)
def test_urgency(danger, urgent) -> None:
    assert is_urgent({"danger": danger}) is urgent


def test_forged_values_are_rejected() -> None:
    assert not validate_answer(QUESTIONS["region"], "moscow")
    assert not validate_answer(QUESTIONS["knowledge"], SKIPPED)  # required: no skip
    assert validate_answer(QUESTIONS["methods"], ["beating"])
    assert not validate_answer(QUESTIONS["methods"], [])


def test_every_callback_fits_64_bytes() -> None:
    datas = [Nav(q=q, act=a).pack() for q in ORDER for a in NavAct]
    datas += [Ans(q=q.id, v=o.value).pack() for q in QUESTIONS.values() for o in q.choices()]
    datas += [ReviewCb(act=a, step=len(STEPS) - 1).pack() for a in ReviewAct]
    assert max(len(d.encode()) for d in datas) <= CALLBACK_DATA_LIMIT


@pytest.mark.parametrize("locale", LOCALES)
def test_every_rendering_is_attributed(locale: str) -> None:
    with i18n.context(), i18n.use_locale(locale):
        for source, line in ATTRIBUTION.items():
            text = "\n".join(h for _i, h in render_sections({**FULL_ANSWERS, "knowledge": source}, []))
            assert i18n.gettext(line, locale=locale) in text


@pytest.mark.parametrize("locale", LOCALES)
def test_longest_review_fits_one_message(locale: str) -> None:
    answers = dict(FULL_ANSWERS)
    answers["last_incident"] = "earlier"
    answers["incident_year"] = "older"
    answers["reprisals"] = "yes"
    for q in QUESTIONS.values():
        if q.kind is Kind.TEXT:
            answers[q.id] = {"text": "Ж<&>" * ((q.max_len or 3500) // 4)}
        if q.kind is Kind.MULTI:
            answers[q.id] = [o.value for o in q.choices() if not o.exclusive]
    with i18n.context(), i18n.use_locale(locale):
        text = review_text(answers, ["photo"] * 10)
    assert visible_length(text) <= TEXT_LIMIT
