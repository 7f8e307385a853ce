"""The rights library: the index, page screens with Next/Back, and links from inside the report.

Everything is drawn in the chat's one window (handlers/window.py), so nothing of the library
stays on the phone beside it. A page opened from a report screen takes the window and never
touches the report's state: a typed answer still answers the question, and "Continue my
report" draws the question again (handlers/start.py); opened from the menu, the way back is the
menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.dates import long_date
from domain.i18n import N_
from domain.rights import (
    LIBRARY_INTRO,
    LIBRARY_TITLE,
    PAGE_BY_ID,
    PAGES,
    POINTER_LINE,
    Bullets,
    IfLawyer,
    Item,
    Page,
    Slot,
    attestation,
)
from handlers import window
from handlers.common import Menu, MenuAction, message_of
from handlers.guide_links import Guide, GuideAct
from handlers.settings import Config
from handlers.telegram_errors import not_modified

STALE = N_("This button is out of date.")


@dataclass(frozen=True)
class Deployment:
    """What the pages take from the configuration."""

    ngo_name: str = ""
    ngo_contacts: str = ""
    draft_days: int = 7
    closed_case_days: int = 365
    lawyer: str = ""  # how to reach the organisation's lawyer; empty: none is promised
    legal_reviewed_on: date | None = None
    legal_reviewed_by: str = ""

    @classmethod
    def of(cls, config: Config) -> Deployment:
        ngo = config.ngo
        return cls(
            ngo.name,
            ngo.contacts,
            config.retention.draft_days,
            config.retention.closed_case_days,
            ngo.lawyer,
            ngo.legal_reviewed_on,
            ngo.legal_reviewed_by,
        )


# --- rendering (pure: the current locale's gettext) ------------------------------------------


def _ngo(deployment: Deployment) -> str:
    return deployment.ngo_name or _("the human rights organisation that runs this bot")


def _slot(slot: Slot, deployment: Deployment) -> str | None:
    if slot is Slot.NGO_CONTACTS:
        if not deployment.ngo_contacts:
            return None
        heading = (
            _("Contacts of {ngo}:").format(ngo=deployment.ngo_name)
            if deployment.ngo_name
            else _("Contacts of the organisation that runs this bot:")
        )
        return escape(heading) + "\n" + escape(deployment.ngo_contacts)
    if slot is Slot.DRAFT_RETENTION:
        days = deployment.draft_days
        return escape(
            ngettext(
                "An unfinished report is kept, encrypted, for {days} day from when you started it. "
                "After that it can no longer be continued, and it is deleted with its files.",
                "An unfinished report is kept, encrypted, for {days} days from when you started it. "
                "After that it can no longer be continued, and it is deleted with its files.",
                days,
            ).format(days=days)
        )
    days = deployment.closed_case_days
    return escape(
        ngettext(
            "The personal content of a closed case (what you wrote in your own words, names, files, "
            "messages and the link to your account) is deleted {days} day after the case is "
            "closed. Anonymous figures stay.",
            "The personal content of a closed case (what you wrote in your own words, names, files, "
            "messages and the link to your account) is deleted {days} days after the case is "
            "closed. Anonymous figures stay.",
            days,
        ).format(days=days)
    )


def _paragraph(item: Item, deployment: Deployment) -> str | None:
    """One item of a screen as HTML, in the current locale (None: nothing to show)."""
    if isinstance(item, Bullets):
        return "\n".join("• " + escape(_(point)) for point in item.items)
    if isinstance(item, Slot):
        return _slot(item, deployment)
    if isinstance(item, IfLawyer):
        if deployment.lawyer:
            return escape(_(item.with_lawyer).format(lawyer=deployment.lawyer))
        return escape(_(item.without))
    return escape(_(item).format(ngo=_ngo(deployment)))


def attestation_line(deployment: Deployment) -> str:
    """ "Checked on <date>" or, after a lawyer's review of this text, "Reviewed by … on …";
    each followed by "This is not legal advice"."""
    line = attestation(deployment.legal_reviewed_on, deployment.legal_reviewed_by)
    when = long_date(line.day, get_i18n().current_locale)
    return _(line.msgid).format(date=when, who=line.who)


def render_screen(page: Page, index: int, deployment: Deployment) -> str:
    screen = page.screens[index]
    total = len(page.screens)
    title = _(page.title)
    if total > 1:
        title = _("{title} ({screen} of {screens})").format(title=title, screen=index + 1, screens=total)
    parts = ["<b>" + escape(title) + "</b>"]
    if screen.heading:
        parts.append("<b>" + escape(_(screen.heading)) + "</b>")
    parts.extend(p for p in (_paragraph(item, deployment) for item in screen.items) if p)
    if index == total - 1:  # the page ends with its sources, date and disclaimer
        parts.append("<i>" + escape(_(page.sources)) + "</i>")
        parts.append("<i>" + escape(attestation_line(deployment)) + "</i>")
    else:
        parts.append("<i>" + escape(_(POINTER_LINE)) + "</i>")
    return "\n\n".join(parts)


def render_page_screen(page_id: str, index: int, deployment: Deployment) -> str:
    """A page's screen by page id: for screens outside the library that show a page (the
    consent's "read more"), so that every page has one source."""
    return render_screen(PAGE_BY_ID[page_id], index, deployment)


def render_index(deployment: Deployment) -> str:
    return "<b>" + escape(_(LIBRARY_TITLE)) + "</b>\n\n" + (_paragraph(LIBRARY_INTRO, deployment) or "")


# --- keyboards --------------------------------------------------------------------------------


def back_button(from_report: int) -> InlineKeyboardButton:
    """Out of the library: to the report's screen it was opened from, or to the menu."""
    text = "« " + (_("Continue my report") if from_report else _("Main menu"))
    return InlineKeyboardButton(text=text, callback_data=Guide(act=GuideAct.BACK, r=from_report).pack())


def index_keyboard(from_report: int = 0) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for number, page in enumerate(PAGES, start=1):
        kb.button(
            text=f"{number}. {_(page.title)}",
            callback_data=Guide(act=GuideAct.SHOW, page=page.id, n=0, r=from_report),
        )
    kb.adjust(1)
    kb.row(back_button(from_report))
    return kb.as_markup()


def page_keyboard(page: Page, index: int, from_report: int = 0) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    row = []
    if index > 0:
        kb.button(
            text="« " + _("Back"),
            callback_data=Guide(act=GuideAct.SHOW, page=page.id, n=index - 1, r=from_report),
        )
        row.append(1)
    if index < len(page.screens) - 1:
        kb.button(
            text=_("Next") + " »",
            callback_data=Guide(act=GuideAct.SHOW, page=page.id, n=index + 1, r=from_report),
        )
        row.append(1)
    kb.button(text="☰ " + _("All topics"), callback_data=Guide(act=GuideAct.INDEX, r=from_report))
    kb.adjust(*([len(row)] if row else []), 1)
    kb.row(back_button(from_report))
    return kb.as_markup()


# --- handlers ---------------------------------------------------------------------------------


async def cmd_rights(message: Message, bot: Bot, state: FSMContext, config: Config) -> None:
    # Mid-report too: the library takes the window, the report waits where it was. (Imported
    # here: the report's package imports this module for its links and page texts.)
    from handlers.report.states import drafting

    from_report = int(drafting(await state.get_state()))
    await window.remove(message)
    await window.Window(bot, message.chat.id, state).show(
        render_index(Deployment.of(config)), index_keyboard(from_report), fresh=True
    )


async def menu_rights(query: CallbackQuery, bot: Bot, state: FSMContext, config: Config) -> None:
    await query.answer()
    await window.Window(bot, message_of(query).chat.id, state).show(
        render_index(Deployment.of(config)), index_keyboard()
    )


async def on_guide(
    query: CallbackQuery, callback_data: Guide, bot: Bot, state: FSMContext, config: Config
) -> None:
    from_report = 1 if callback_data.r else 0
    if callback_data.act is GuideAct.INDEX:
        text, markup = render_index(Deployment.of(config)), index_keyboard(from_report)
    else:
        page = PAGE_BY_ID.get(callback_data.page)
        if page is None or not 0 <= callback_data.n < len(page.screens):
            await query.answer(_(STALE))  # a page removed since, or forged data
            return
        text = render_screen(page, callback_data.n, Deployment.of(config))
        markup = page_keyboard(page, callback_data.n, from_report)
    await query.answer()
    chat_id = message_of(query).chat.id
    if callback_data.act is GuideAct.OPEN:  # from a report screen: into the window
        await window.Window(bot, chat_id, state).show(text, markup)
        return
    try:
        await bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_of(query).message_id, reply_markup=markup
        )
    except TelegramBadRequest as exc:
        if not_modified(exc):
            return  # a double tap: the screen is already shown
        await bot.send_message(chat_id, text, reply_markup=markup)  # too old to edit: anew


def make_router() -> Router:
    """A fresh router (the app can be built more than once per process, e.g. in tests)."""
    router = Router(name="rights")
    router.message.register(cmd_rights, Command("rights"))
    router.callback_query.register(menu_rights, Menu.filter(F.act == MenuAction.RIGHTS))
    # Guide BACK is handled by handlers/start.py (it draws the report's screen or the menu).
    router.callback_query.register(on_guide, Guide.filter(F.act != GuideAct.BACK))
    return router
