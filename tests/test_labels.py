"""Every button label fits a phone, in every language: ≤ 32 characters in a one-column row,
≤ 18 in a two-column row, ≤ 10 in rows of three or more (the questionnaire's keyboards, the
consent, the review, the main menu, the window's own buttons)."""

from __future__ import annotations

import pytest
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from bot.i18n import LOCALES_DIR
from domain.questionnaire import QUESTIONS
from domain.values import LOCALES
from handlers.common import main_menu
from handlers.report.keyboards import (
    cancel_keyboard,
    consent_keyboard,
    draft_keyboard,
    question_keyboard,
    review_keyboard,
    saved_keyboard,
    story_keyboard,
)
from storage.repositories import Consent

LIMITS = {1: 32, 2: 18}
MANY = 10

_i18n = I18n(path=LOCALES_DIR, default_locale="en", domain="messages")


def keyboards() -> list[tuple[str, InlineKeyboardMarkup]]:
    shown = [(q.id, question_keyboard(q, None, [])) for q in QUESTIONS.values()]
    return [
        *shown,
        ("consent", consent_keyboard(Consent())),
        ("review", review_keyboard({"narrative": {"text": "x"}})),
        ("story", story_keyboard(1, 3)),
        ("menu", main_menu()),
        ("menu with a draft", main_menu(3)),
        ("saved", saved_keyboard()),
        ("draft", draft_keyboard()),
        ("cancel", cancel_keyboard()),
    ]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_button_label_fits_its_row(locale: str) -> None:
    too_long = []
    with _i18n.context(), _i18n.use_locale(locale):
        for name, keyboard in keyboards():
            for row in keyboard.inline_keyboard:
                limit = LIMITS.get(len(row), MANY)
                too_long += [(name, len(row), b.text) for b in row if len(b.text) > limit]
    assert not too_long, too_long


def test_regions_are_in_two_columns() -> None:
    with _i18n.context(), _i18n.use_locale("en"):
        rows = question_keyboard(QUESTIONS["region"], None, []).inline_keyboard
    assert [len(r) for r in rows[:10]] == [2] * 10
