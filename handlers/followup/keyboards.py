"""Callback data of the reporter's follow-up (My reports, reading news, adding information)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder


class FollowAct(StrEnum):
    LIST = "list"  # My reports
    OPEN = "open"  # one case: status and the channel
    READ = "read"  # from a neutral notification: show the news
    ADD = "add"  # add information or files
    CODE = "code"  # open a case with its code
    CLOSE = "close"  # close the window to a neutral line
    MOVE = "move"  # opened with the code here: coordinators may write to this account
    STAY = "stay"  # ... or not


class FollowCb(CallbackData, prefix="f1"):
    act: FollowAct
    case: int = 0


def news_keyboard(case_id: int) -> InlineKeyboardMarkup:
    """Under a neutral notification: the content shows only after this tap."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Read"), callback_data=FollowCb(act=FollowAct.READ, case=case_id))
    return kb.as_markup()
