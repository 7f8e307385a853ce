"""What reaches a reporter's phone outside the window: neutral by default.

A lock-screen preview or a glance at the chat list must not tell anyone what this chat is
about, so these texts carry no word for report, torture, case, complaint, police or prison in
any language (tests/test_notices.py checks every catalog). They live in the catalogs: the
deploying organisation may reword them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from domain.i18n import N_
from handlers.followup.keyboards import news_keyboard


class Notice(StrEnum):
    NEWS = "news"  # a coordinator wrote
    STATUS = "status"  # the case moved on
    REMINDER = "reminder"  # something waits for the reporter
    OPENED_ELSEWHERE = "opened_elsewhere"  # the code was used from another account


TEXTS = {
    Notice.NEWS: N_("You have something new. Tap “Read” to see it."),
    Notice.STATUS: N_("There is an update for you. Tap “Read” to see it."),
    Notice.REMINDER: N_("A reminder is waiting for you. Tap “Read” to see it."),
    Notice.OPENED_ELSEWHERE: N_(
        "Your code has just been used from another Telegram account. "
        "If this was not you, contact the organisation."
    ),
}

# Words a neutral notice must never contain, in lower case: stems match the start of a word
# (catching Russian and Kazakh inflections), short words match whole words only. The report is
# «обращение» in Russian (locales/GLOSSARY.md); «сообщени» stays, as the older word for it.
FORBIDDEN_STEMS = {
    "en": (
        "report",
        "tortur",
        "case",
        "complain",
        "police",
        "prison",
        "detain",
        "detention",
        "jail",
        "colony",
    ),
    "ru": (
        "обращени",
        "сообщени",
        "жалоб",
        "пытк",
        "полици",
        "тюрьм",
        "колони",
        "заявлени",
        "отчёт",
        "отчет",
        "изолятор",
        "сизо",
        "донос",
        "заключ",
    ),
    "kk": ("хабарлама", "шағым", "азапта", "полиц", "түрме", "колони", "арыз", "есеп", "қамау"),
}
FORBIDDEN_WORDS = {
    "en": (),
    "ru": ("дело", "дела", "делу", "делом", "деле"),
    "kk": ("іс", "ісі", "істі", "ісіңіз", "ісіңізді"),
}


def forbidden_in(text: str, locale: str) -> list[str]:
    """The forbidden words found in `text` (checked against every language's list: a
    Russian word in a Kazakh text reveals as much)."""
    words = re.findall(r"\w+", text.lower())
    found = []
    for lang in FORBIDDEN_STEMS:
        found += [w for w in words if w.startswith(FORBIDDEN_STEMS[lang])]
        found += [w for w in words if w in FORBIDDEN_WORDS[lang]]
    return found


def notice(kind: Notice) -> str:
    """The text in the current locale."""
    return _(TEXTS[kind])


def opened_elsewhere_notice(locale: str) -> str:
    with get_i18n().use_locale(locale):
        return notice(Notice.OPENED_ELSEWHERE)


def reporter_notice(which: Notice, case_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """A neutral notice (HTML) with its Read button: the content shows only after the tap."""
    return escape(notice(which)), news_keyboard(case_id)
