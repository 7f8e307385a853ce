"""Callback data and keyboards of the case card (coordinators only)."""
from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.values import CaseStatus
from domain.workflow import CLOSE_LABELS, REFERRAL_LABELS, can_move
from handlers.sheet_keyboards import sheet_button
from storage.casework import CaseView


class CaseAct(StrEnum):
    TAKE = "take"
    OPEN = "open"
    STATUS = "status"
    REPLY = "reply"
    NOTE = "note"
    BACK = "back"


class CaseCb(CallbackData, prefix="c1"):
    act: CaseAct
    case: int


class StatusCb(CallbackData, prefix="s1"):
    case: int
    to: CaseStatus
    detail: str = ""  # the referral kind or the close reason


def card_keyboard(view: CaseView, *, group_shows: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if view.status in (CaseStatus.NEW, CaseStatus.CLOSED):
        kb.button(text=_("Take") if view.status is CaseStatus.NEW else _("Reopen"),
                  callback_data=CaseCb(act=CaseAct.TAKE, case=view.id))
    if group_shows == "summary":
        kb.button(text=_("Open"), callback_data=CaseCb(act=CaseAct.OPEN, case=view.id))
    if view.status is not CaseStatus.CLOSED:
        kb.button(text=_("Status"), callback_data=CaseCb(act=CaseAct.STATUS, case=view.id))
    if view.contactable and not view.unreachable:
        kb.button(text=_("Reply to reporter"), callback_data=CaseCb(act=CaseAct.REPLY,
                                                                    case=view.id))
    kb.button(text=_("Note"), callback_data=CaseCb(act=CaseAct.NOTE, case=view.id))
    kb.add(sheet_button(view.id))  # advocacy: the case sheet (handlers/advocacy.py)
    kb.adjust(2)
    return kb.as_markup()


def status_keyboard(view: CaseView) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if can_move(view.status, CaseStatus.WAITING):
        kb.button(text=_("Waiting for the reporter"),
                  callback_data=StatusCb(case=view.id, to=CaseStatus.WAITING))
    if view.status in (CaseStatus.WAITING, CaseStatus.REFERRED):
        kb.button(text=_("In progress"),
                  callback_data=StatusCb(case=view.id, to=CaseStatus.IN_PROGRESS))
    if can_move(view.status, CaseStatus.REFERRED):
        for referral, label in REFERRAL_LABELS.items():
            kb.button(text=_(label), callback_data=StatusCb(case=view.id, to=CaseStatus.REFERRED,
                                                            detail=referral.value))
    for reason, label in CLOSE_LABELS.items():
        kb.button(text="✖ " + _(label), callback_data=StatusCb(case=view.id, to=CaseStatus.CLOSED,
                                                               detail=reason.value))
    kb.button(text="« " + _("Back"), callback_data=CaseCb(act=CaseAct.BACK, case=view.id))
    kb.adjust(1)
    return kb.as_markup()


class QueueCb(CallbackData, prefix="cq1"):
    """A page of /queue (0-based)."""

    page: int


class PreviewAct(StrEnum):
    SEND = "send"
    EDIT = "edit"
    CANCEL = "cancel"


class PreviewCb(CallbackData, prefix="cp1"):
    """Under the preview of a reply to the reporter, in the coordinator's private chat."""

    act: PreviewAct
    case: int


# Every callback prefix of the coordinators' side: anyone else pressing one is refused.
PREFIXES = tuple(f"{cls.__prefix__}{cls.__separator__}"
                 for cls in (CaseCb, StatusCb, QueueCb, PreviewCb))


def queue_keyboard(page: int, pages: int) -> InlineKeyboardMarkup | None:
    kb = InlineKeyboardBuilder()
    if page > 0:
        kb.button(text="« " + _("Previous"), callback_data=QueueCb(page=page - 1))
    if page + 1 < pages:
        kb.button(text=_("Next") + " »", callback_data=QueueCb(page=page + 1))
    if not list(kb.buttons):
        return None
    kb.adjust(2)
    return kb.as_markup()


def preview_keyboard(case_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Send"), callback_data=PreviewCb(act=PreviewAct.SEND, case=case_id))
    kb.button(text=_("Edit"), callback_data=PreviewCb(act=PreviewAct.EDIT, case=case_id))
    kb.button(text=_("Cancel"), callback_data=PreviewCb(act=PreviewAct.CANCEL, case=case_id))
    kb.adjust(1, 2)
    return kb.as_markup()
