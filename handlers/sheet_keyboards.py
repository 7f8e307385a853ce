"""The case sheet's button on the case view, and its callback data (kept apart from the
coordinator's keyboards so they can show it without importing the advocacy handlers)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _


class SheetCb(CallbackData, prefix="sh1"):
    """Make the case sheet of a case; lang "" asks which language first."""

    case: int
    lang: str = ""


class SheetAskCb(CallbackData, prefix="sq1"):
    """Turn a missing checklist item into a question for the reporter (Reply flow)."""

    case: int
    item: str


def sheet_button(case_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("Case sheet"), callback_data=SheetCb(case=case_id).pack())
