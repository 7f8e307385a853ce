"""The rights library's callback data, and the buttons that open a page from the report.

Apart from handlers/rights.py so that the report's keyboards can offer a page without importing
the library's handlers (which look at the report's state to offer the way back).
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from domain.i18n import N_
from domain.rights import DIGITAL, EVIDENCE, RISK

# The buttons that open a page from elsewhere (the report's screens).
LINKS = {
    RISK: N_("Read about the risks"),
    EVIDENCE: N_("How to document injuries"),
    DIGITAL: N_("Keep safe"),
}
LINK_ICONS = {RISK: "⚖", EVIDENCE: "📷", DIGITAL: "🔒"}


class GuideAct(StrEnum):
    INDEX = "i"  # the list of pages
    SHOW = "s"  # a page's screen
    OPEN = "o"  # a page's screen, opened from a screen of the report
    BACK = "b"  # leave the library: the report's screen again, or the menu


class Guide(CallbackData, prefix="g1"):
    act: GuideAct
    page: str = ""
    n: int = 0
    r: int = 0  # 1: opened from the report, so "back" returns to it


def link_button(page_id: str) -> InlineKeyboardButton:
    """A button on a report screen that shows a page in the window, with the way back."""
    return InlineKeyboardButton(
        text=LINK_ICONS[page_id] + " " + _(LINKS[page_id]),
        callback_data=Guide(act=GuideAct.OPEN, page=page_id, r=1).pack(),
    )


def next_screen_button(page_id: str, index: int) -> InlineKeyboardButton:
    """ "Next »" to a page's screen `index`: for a report screen that shows the screen before it
    (the consent's "read more")."""
    return InlineKeyboardButton(
        text=_("Next") + " »", callback_data=Guide(act=GuideAct.OPEN, page=page_id, n=index, r=1).pack()
    )
