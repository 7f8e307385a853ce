"""Every text that reaches a reporter outside the window reads neutral on a lock screen, in kk,
ru and en: no word for report, torture, case, complaint, police or prison."""

from __future__ import annotations

import pytest
from aiogram.utils.i18n import I18n

from bot.i18n import LOCALES_DIR
from domain.values import LOCALES
from domain.workflow import REPORTER_NOTICES
from handlers.common import SLOW_DOWN
from handlers.followup.notices import TEXTS, forbidden_in

_i18n = I18n(path=LOCALES_DIR, default_locale="en", domain="messages")

# Sent beside or instead of the window: notices, the flood warning, the last word of
# Erase / Forget me, and the line a closed window keeps.
OUTSIDE_THE_WINDOW = (
    *TEXTS.values(),
    SLOW_DOWN,
    "Done.",
    "All done. Send /start whenever you need the menu.",
)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("msgid", OUTSIDE_THE_WINDOW)
def test_text_outside_the_window_is_neutral(locale: str, msgid: str) -> None:
    text = _i18n.gettext(msgid, locale=locale)
    assert text and not forbidden_in(text, locale), (locale, text, forbidden_in(text, locale))


@pytest.mark.parametrize("locale", LOCALES)
def test_the_check_catches_revealing_words(locale: str) -> None:
    """The word lists would have caught the old status notices, in every language."""
    for msgid in REPORTER_NOTICES.values():
        text = _i18n.gettext(msgid, locale=locale)
        assert text != msgid or locale == "en"
        assert forbidden_in(text, locale), (locale, text)
