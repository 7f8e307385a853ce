"""The reporter's words are not lost: text or files sent outside any report or question.

A reporter who simply types an answer to a coordinator (or uses Telegram's Reply on the news
notice) is asked "Add this to report #N?" — or which report, if the account has several — and,
on yes, it is added exactly as "Add information" adds it. Until the answer, the text waits in
the (encrypted) conversation data and files in encrypted storage; "No" discards both.

Like every screen, the question and its outcome are drawn in the chat's one window
(handlers/window.py), and what the reporter sent is removed from the chat once kept (or
refused): a searched phone shows neither the words nor that they were added to a report.
"""

from __future__ import annotations

import logging
from html import escape

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.values import CaseStatus
from handlers import window
from handlers.followup.keyboards import FollowAct, FollowCb
from handlers.report.files import incoming_file, store_or_explain
from handlers.settings import Config
from handlers.start import show_menu
from storage.casework import CaseView
from storage.repositories import Store

log = logging.getLogger(__name__)

MAX_CHARS = 3500  # as "Add information"
KEY = "loose"  # in the conversation data: {"text", "files": [ids], "ref": draft ref, "ask"}
CHOICES = 6  # reports offered at most (the newest)


class LooseCb(CallbackData, prefix="lw1"):
    """Add what was sent to this report (0 = do not add, discard it)."""

    case: int


def _keyboard(cases: list[CaseView]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if len(cases) == 1:
        kb.button(text=_("Yes, add it"), callback_data=LooseCb(case=cases[0].id))
    else:
        for view in cases:
            kb.button(text=_("Report #{number}").format(number=view.id), callback_data=LooseCb(case=view.id))
    kb.button(text=_("No, do not add it"), callback_data=LooseCb(case=0))
    kb.adjust(1)
    return kb.as_markup()


def _replied_case(message: Message) -> int | None:
    """The report of the news notice this message replies to (Telegram's Reply)."""
    replied = message.reply_to_message
    markup = replied.reply_markup if replied is not None else None
    for row in markup.inline_keyboard if markup else []:
        for button in row:
            try:
                data = FollowCb.unpack(button.callback_data or "")
            except (TypeError, ValueError):
                continue
            if data.act is FollowAct.READ:
                return data.case
    return None


async def _cases(store: Store, user_id: int) -> list[CaseView]:
    cases = await store.casework.cases_of(store.cases.reporter_key(user_id))
    open_cases = [c for c in cases if c.status is not CaseStatus.CLOSED]
    return (open_cases or cases)[:CHOICES]


async def on_loose(message: Message, bot: Bot, state: FSMContext, config: Config, store: Store) -> None:
    if message.from_user is None:  # a channel post: no reporter
        raise SkipHandler
    cases = await _cases(store, message.from_user.id)
    if not cases:
        raise SkipHandler  # no report to add to: the ordinary answer
    pending = dict((await state.get_data()).get(KEY) or {})
    text = (message.text or message.caption or "").strip()
    shown = window.Window(bot, message.chat.id, state)
    if message.text is None:
        item = incoming_file(message)
        if item is None:
            raise SkipHandler  # stickers, locations...: the ordinary answer
        ref = str(pending.get("ref") or store.attachments.new_draft_ref())
        stored, problem = await store_or_explain(bot, store, ref, item, config.limits)
        if stored is None:
            await window.remove(message)
            await shown.show(escape(problem or ""), fresh=True)
            return
        pending["files"] = [*pending.get("files", []), stored.id]
        pending["ref"] = ref
    so_far = str(pending.get("text") or "")
    joined = f"{so_far}\n\n{text}" if so_far and text else (so_far or text)
    if len(joined) > MAX_CHARS:
        await window.remove(message)
        await shown.show(
            escape(
                _(
                    "Your text is {length} characters long; the limit here is {limit}. Please "
                    "shorten it and send it again, or send a voice message. (Your message was "
                    "removed from the chat.)"
                ).format(length=len(joined), limit=MAX_CHARS)
            ),
            fresh=True,
        )
        return
    pending["text"] = joined
    replied = _replied_case(message)
    if replied is not None and any(c.id == replied for c in cases):
        cases = [c for c in cases if c.id == replied]
    if len(cases) == 1:
        question = _("Add this to report #{number}? The coordinators will see it.").format(number=cases[0].id)
    else:
        question = _("Which report should this be added to? The coordinators will see it.")
    # Kept (encrypted) until the answer: it need not stay on the phone. The question moves the
    # window below (a Reply on a news notice may be far down the chat); one question at a time.
    await window.remove(message)
    pending["ask"] = await shown.show(escape(question), _keyboard(cases), fresh=True)
    await state.update_data({KEY: pending})


async def on_choice(
    query: CallbackQuery, callback_data: LooseCb, bot: Bot, state: FSMContext, config: Config, store: Store
) -> None:
    data = await state.get_data()
    pending = data.get(KEY)
    message = query.message if isinstance(query.message, Message) else None
    if not pending or message is None or message.message_id != pending.get("ask"):
        await query.answer(_("This button is out of date."))
        return
    files = [int(f) for f in pending.get("files", [])]
    text = str(pending.get("text") or "") or None
    if callback_data.case:
        owned = {c.id for c in await store.casework.cases_of(store.cases.reporter_key(query.from_user.id))}
        if callback_data.case not in owned:
            await query.answer(_("This button is out of date."))
            return
        await store.casework.message_from_reporter(callback_data.case, text, files)
        done = _("Added to report #{number}. The coordinators will see it.").format(number=callback_data.case)
    else:
        if pending.get("ref"):
            await store.attachments.discard_draft(str(pending["ref"]))
        done = _("Not added. Nothing of it was kept.")
    data.pop(KEY, None)
    await state.set_data(data)
    await query.answer()
    # The outcome above the menu, in the window: the next tap draws over it.
    await show_menu(bot, message.chat.id, state, config, store, prefix=escape(done))


def make_router() -> Router:
    """Registered just before the fallback, for messages outside any conversation."""
    router = Router(name="loose-words")
    router.message.register(on_loose, StateFilter(None), ~F.text.startswith("/"))
    router.callback_query.register(on_choice, LooseCb.filter())
    return router
