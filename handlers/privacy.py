"""Erase this chat (/erase, menu) and Forget me (/forget), each after a confirmation.

Both work at any point, mid-report too (this router comes before the report's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from enum import StrEnum
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers import window
from handlers.common import Menu, MenuAction, main_menu, main_menu_text, message_of
from handlers.report import flow, states
from handlers.report.draft import load_draft, save_draft
from handlers.settings import Config
from storage.privacy import DELETE_WINDOW
from storage.repositories import Store
from storage.untraced import untraced

log = logging.getLogger(__name__)

# Telegram counts the 48 hours on its own clock: ids this close to the limit are left alone
# (deleteMessages fails as a whole on a message it may no longer delete).
SAFETY_MARGIN = timedelta(minutes=5)
BATCH = 100  # deleteMessages takes at most 100 ids
MAX_RETRY_AFTER = 30.0


class PrivacyAct(StrEnum):
    ERASE = "erase"
    FORGET = "forget"
    KEEP = "keep"


class PrivacyCb(CallbackData, prefix="pv1"):
    act: PrivacyAct


def _confirm_keyboard(act: PrivacyAct, yes: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=yes, callback_data=PrivacyCb(act=act))
    kb.button(text=_("No, keep everything"), callback_data=PrivacyCb(act=PrivacyAct.KEEP))
    kb.adjust(1)
    return kb.as_markup()


def _lines(question: str, *lines: str) -> str:
    return "<b>" + escape(question) + "</b>\n" + "\n".join(escape(line) for line in lines)


async def ask_erase(bot: Bot, chat_id: int, state: FSMContext, *, fresh: bool = False) -> None:
    # Three short lines before an irreversible step: what goes, what stays, what to do first.
    await _in_window(
        bot,
        chat_id,
        state,
        _lines(
            _("Erase this chat?"),
            _(
                "Deleted: the messages of this chat from the last 48 hours, yours and the bot's "
                "(Telegram allows no more), and any unfinished report."
            ),
            _(
                "Kept: the reports you have sent, with the coordinators. Older messages only you can "
                "delete: delete the whole chat in Telegram."
            ),
            _(
                "First write down your case codes: the messages showing them are deleted too. This "
                "cannot be undone."
            ),
        ),
        _confirm_keyboard(PrivacyAct.ERASE, _("Yes, erase this chat")),
        fresh=fresh,
    )


async def _in_window(
    bot: Bot, chat_id: int, state: FSMContext, text: str, markup: InlineKeyboardMarkup, *, fresh: bool
) -> None:
    """A confirmation in the chat's window (the draft, if any, keeps the window's id)."""
    draft = await load_draft(state)
    if draft is not None:
        draft.ui = await window.draw(bot, chat_id, draft.ui, text, markup, fresh=fresh)
        await save_draft(state, draft)
    else:
        await window.Window(bot, chat_id, state).show(text, markup, fresh=fresh)


async def cmd_erase(message: Message, bot: Bot, state: FSMContext) -> None:
    await window.remove(message)
    await ask_erase(bot, message.chat.id, state, fresh=True)


async def menu_erase(query: CallbackQuery, bot: Bot, state: FSMContext) -> None:
    await query.answer()
    await ask_erase(bot, message_of(query).chat.id, state)


async def cmd_forget(message: Message, bot: Bot, state: FSMContext) -> None:
    await window.remove(message)
    await _in_window(
        bot,
        message.chat.id,
        state,
        _lines(
            _("Forget this account?"),
            _(
                "Deleted: your language choice, any unfinished report and every link between this "
                "Telegram account and your reports. Coordinators can no longer write to you."
            ),
            _(
                "Kept: your reports, with no link to you; their case codes still open them. The "
                "messages in this chat stay too."
            ),
            _(
                "First keep your case codes safe, and use /erase if you want this chat deleted. This "
                "cannot be undone."
            ),
        ),
        _confirm_keyboard(PrivacyAct.FORGET, _("Yes, forget me")),
        fresh=True,
    )


async def on_choice(
    query: CallbackQuery, callback_data: PrivacyCb, bot: Bot, state: FSMContext, config: Config, store: Store
) -> None:
    chat_id = message_of(query).chat.id
    if callback_data.act is PrivacyAct.KEEP:
        await query.answer(_("Nothing was deleted."))
        raw = await state.get_state()
        if states.redrawable(raw) and await flow.redisplay(  # back to the question
            bot, chat_id, state, config, store
        ):
            return
        await window.Window(bot, chat_id, state).show(
            main_menu_text(),
            main_menu(flow.draft_step(t) if (t := await flow.current_screen(state)) else None),
        )
        return
    await query.answer()
    await _drop_draft(state, store)
    if callback_data.act is PrivacyAct.ERASE:
        await erase_chat(bot, chat_id, store)
        await bot.send_message(chat_id, escape(_("Done.")))  # recorded: a later erase removes it
    else:
        await store.privacy.forget(query.from_user.id, chat_id)
        with untraced():  # nothing may link this chat to stored data any more
            with contextlib.suppress(TelegramBadRequest):
                await message_of(query).delete()
            await bot.send_message(chat_id, escape(_("Done.")))


async def _drop_draft(state: FSMContext, store: Store) -> None:
    """The draft (state, answers, files) and any other conversation state of this chat."""
    data = await state.get_data()
    draft_ref = data.get("draft_ref")
    if isinstance(draft_ref, str):
        await store.attachments.discard_draft(draft_ref)
    sent = data.get(flow.SENT_KEY)
    if isinstance(sent, str):  # a case code not yet saved: the bot stops keeping it
        await store.cases.code_saved(sent)
    delete = getattr(state.storage, "delete", None)
    if delete is not None:
        await delete(state.key)  # the row itself, not an emptied one
    else:
        await state.clear()


async def erase_chat(bot: Bot, chat_id: int, store: Store) -> int:
    """Delete every recorded message of the chat that Telegram still allows; returns how many
    ids were asked for. The trace entries dealt with are dropped."""
    traced = await store.trace.messages(chat_id)
    cutoff = store.clock() - DELETE_WINDOW + SAFETY_MARGIN
    ids = sorted({m.message_id for m in traced if m.sent_at > cutoff})
    for start in range(0, len(ids), BATCH):
        await _delete_batch(bot, chat_id, ids[start : start + BATCH])
    await store.trace.forget_rows([m.row_id for m in traced])
    return len(ids)


async def _delete_batch(bot: Bot, chat_id: int, ids: list[int]) -> None:
    for attempt in range(2):
        try:
            await bot.delete_messages(chat_id, ids)
            return
        except TelegramRetryAfter as exc:
            if attempt or exc.retry_after > MAX_RETRY_AFTER:
                break
            await asyncio.sleep(exc.retry_after)
        except TelegramBadRequest:
            break
    # One by one: whatever Telegram still allows goes; the rest is skipped.
    for message_id in ids:
        try:
            await bot.delete_message(chat_id, message_id)
        except TelegramBadRequest:
            continue
        except TelegramRetryAfter:
            log.warning("erase: flood control; %d messages left", len(ids))
            return


def make_router() -> Router:
    router = Router(name="privacy")
    router.message.register(cmd_erase, Command("erase"))
    router.message.register(cmd_forget, Command("forget"))
    router.callback_query.register(menu_erase, Menu.filter(F.act == MenuAction.ERASE))
    router.callback_query.register(on_choice, PrivacyCb.filter())
    return router
