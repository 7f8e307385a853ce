"""Callback data and keyboards of the coordinators' side (pure functions of what they show)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.questionnaire import QUESTIONS
from domain.values import CaseStatus
from domain.workflow import (
    CLOSE_LABELS,
    OPEN_STATUSES,
    REFERRAL_LABELS,
    STATUS_NAMES,
    CloseReason,
    QueueFilter,
    can_move,
)
from handlers.render import option_label
from handlers.sheet_keyboards import sheet_button
from storage.casework import CaseView


class CaseAct(StrEnum):
    TAKE = "take"
    OPEN = "open"
    STATUS = "status"
    REPLY = "reply"
    NOTE = "note"
    BACK = "back"
    HISTORY = "hist"
    HANDOVER = "hand"


class CaseCb(CallbackData, prefix="c1"):
    act: CaseAct
    case: int


class StatusCb(CallbackData, prefix="s1"):
    """A choice on a status menu (the menu belongs to the coordinator who opened it)."""

    case: int
    to: CaseStatus
    detail: str = ""  # the referral kind or the close reason


class ConfirmCb(CallbackData, prefix="cc1"):
    """Yes under "Close case #N as …?" on the owner's menu; `dup` is the other case."""

    case: int
    reason: CloseReason
    dup: int = 0


class MenuAct(StrEnum):
    CANCEL = "cancel"
    GIVE_UP = "giveup"
    STATUS = "status"  # back to the status choices


class MenuCb(CallbackData, prefix="cm1"):
    act: MenuAct
    case: int


class HandCb(CallbackData, prefix="ch1"):
    """Hand the case to this colleague (one of coordination.coordinators / admins)."""

    case: int
    to: int


class HistCb(CallbackData, prefix="cy1"):
    case: int
    page: int


class QueueCb(CallbackData, prefix="cq2"):
    """A page of /queue: its filter code (domain.workflow.QueueFilter), the case it follows
    (0 = the first page) and how many cases came before it (for "11–20 of 54")."""

    f: str = ""
    after: int = 0
    n: int = 0


class QueuePick(CallbackData, prefix="cqp"):
    """Show the choices of a filter: s (status), r (region), k (place kind)."""

    what: str


def card_keyboard(view: CaseView, *, group_shows: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    closed = view.status is CaseStatus.CLOSED
    if closed or view.assignee_id is None:
        kb.button(
            text=_("Reopen") if closed else _("Take"), callback_data=CaseCb(act=CaseAct.TAKE, case=view.id)
        )
    if group_shows == "summary":
        kb.button(text=_("Open"), callback_data=CaseCb(act=CaseAct.OPEN, case=view.id))
    if not closed:
        kb.button(text=_("Status"), callback_data=CaseCb(act=CaseAct.STATUS, case=view.id))
    if view.contactable and not view.unreachable:
        kb.button(text=_("Reply to reporter"), callback_data=CaseCb(act=CaseAct.REPLY, case=view.id))
    kb.button(text=_("Note"), callback_data=CaseCb(act=CaseAct.NOTE, case=view.id))
    kb.button(text=_("History"), callback_data=CaseCb(act=CaseAct.HISTORY, case=view.id))
    if not closed and view.assignee_id is not None:
        kb.button(text=_("Hand over"), callback_data=CaseCb(act=CaseAct.HANDOVER, case=view.id))
    kb.add(sheet_button(view.id))  # advocacy: the case sheet (handlers/advocacy.py)
    kb.adjust(2)
    return kb.as_markup()


def status_keyboard(view: CaseView) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if can_move(view.status, CaseStatus.WAITING):
        kb.button(
            text=_("Waiting for the reporter"), callback_data=StatusCb(case=view.id, to=CaseStatus.WAITING)
        )
    if view.status in (CaseStatus.WAITING, CaseStatus.REFERRED):
        kb.button(text=_("In progress"), callback_data=StatusCb(case=view.id, to=CaseStatus.IN_PROGRESS))
    if can_move(view.status, CaseStatus.REFERRED):
        for referral, label in REFERRAL_LABELS.items():
            kb.button(
                text=_(label),
                callback_data=StatusCb(case=view.id, to=CaseStatus.REFERRED, detail=referral.value),
            )
    for reason, label in CLOSE_LABELS.items():
        kb.button(
            text="✖ " + _(label),
            callback_data=StatusCb(case=view.id, to=CaseStatus.CLOSED, detail=reason.value),
        )
    kb.button(text="« " + _("Cancel"), callback_data=MenuCb(act=MenuAct.CANCEL, case=view.id))
    kb.adjust(1)
    return kb.as_markup()


def confirm_keyboard(case_id: int, reason: CloseReason, dup: int = 0) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, close it"), callback_data=ConfirmCb(case=case_id, reason=reason, dup=dup))
    kb.button(text="« " + _("Back"), callback_data=MenuCb(act=MenuAct.STATUS, case=case_id))
    kb.adjust(1)
    return kb.as_markup()


def menu_cancel_keyboard(case_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="« " + _("Cancel"), callback_data=MenuCb(act=MenuAct.CANCEL, case=case_id))
    return kb.as_markup()


def handover_keyboard(case_id: int, colleagues: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for user_id, name in colleagues:
        kb.button(text=name, callback_data=HandCb(case=case_id, to=user_id))
    kb.button(text=_("Give it up (unassigned)"), callback_data=MenuCb(act=MenuAct.GIVE_UP, case=case_id))
    kb.button(text="« " + _("Cancel"), callback_data=MenuCb(act=MenuAct.CANCEL, case=case_id))
    kb.adjust(1)
    return kb.as_markup()


def history_keyboard(case_id: int, page: int, pages: int) -> InlineKeyboardMarkup | None:
    kb = InlineKeyboardBuilder()
    if page > 0:
        kb.button(text="« " + _("Previous"), callback_data=HistCb(case=case_id, page=page - 1))
    if page + 1 < pages:
        kb.button(text=_("Next") + " »", callback_data=HistCb(case=case_id, page=page + 1))
    if not list(kb.buttons):
        return None
    kb.adjust(2)
    return kb.as_markup()


class PreviewAct(StrEnum):
    SEND = "send"
    EDIT = "edit"
    CANCEL = "cancel"


class PreviewCb(CallbackData, prefix="cp1"):
    """Under the preview of a reply to the reporter, in the coordinator's private chat."""

    act: PreviewAct
    case: int


# Every callback prefix of the coordinators' side: anyone else pressing one is refused.
PREFIXES = tuple(
    f"{cls.__prefix__}{cls.__separator__}"
    for cls in (CaseCb, StatusCb, QueueCb, PreviewCb, ConfirmCb, MenuCb, HandCb, HistCb, QueuePick)
)
# The buttons of menus that belong to the coordinator who opened them.
MENU_PREFIXES = tuple(f"{cls.__prefix__}{cls.__separator__}" for cls in (StatusCb, ConfirmCb, MenuCb, HandCb))


def queue_keyboard(
    f: QueueFilter, last: int | None, before: int, shown: int, more: bool
) -> InlineKeyboardMarkup:
    """Filters, then Next (keyset: after the last case shown) and First."""
    code = f.code()
    kb = InlineKeyboardBuilder()
    for label, option in ((_("🔴 Urgent"), "u"), (_("Unassigned"), "n"), (_("Mine"), "m")):
        mark = "• " if option == code else ""
        kb.button(text=mark + label, callback_data=QueueCb(f="" if option == code else option))
    kb.button(text=_("Status") + " ▸", callback_data=QueuePick(what="s"))
    kb.button(text=_("Region") + " ▸", callback_data=QueuePick(what="r"))
    kb.button(text=_("Place") + " ▸", callback_data=QueuePick(what="k"))
    sizes = [3, 3]
    nav = 0
    if before > 0 or code:
        kb.button(
            text="« " + _("First page") if before > 0 else _("All open cases"),
            callback_data=QueueCb(f=code if before > 0 else ""),
        )
        nav += 1
    if more and last is not None:
        kb.button(text=_("Next") + " »", callback_data=QueueCb(f=code, after=last, n=shown))
        nav += 1
    if nav:
        sizes.append(nav)
    kb.adjust(*sizes)
    return kb.as_markup()


def queue_pick_keyboard(what: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if what == "s":
        for status in (CaseStatus.NEW, CaseStatus.IN_PROGRESS, CaseStatus.WAITING, CaseStatus.REFERRED):
            if status in OPEN_STATUSES:
                kb.button(text=_(STATUS_NAMES[status]), callback_data=QueueCb(f=f"s.{status}"))
        kb.adjust(2)
    else:
        question = QUESTIONS["region" if what == "r" else "facility_kind"]
        for option in question.options:
            kb.button(
                text=option_label(question, option.value), callback_data=QueueCb(f=f"{what}.{option.value}")
            )
        kb.adjust(2)
    kb.row()
    back = InlineKeyboardBuilder()
    back.button(text="« " + _("Back"), callback_data=QueueCb(f=""))
    kb.attach(back)
    return kb.as_markup()


def preview_keyboard(case_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Send"), callback_data=PreviewCb(act=PreviewAct.SEND, case=case_id))
    kb.button(text=_("Edit"), callback_data=PreviewCb(act=PreviewAct.EDIT, case=case_id))
    kb.button(text=_("Cancel"), callback_data=PreviewCb(act=PreviewAct.CANCEL, case=case_id))
    kb.adjust(1, 2)
    return kb.as_markup()
