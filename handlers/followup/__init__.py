"""The reporter after submitting: My reports, opening a case with its code, reading the
coordinators' messages (shown only on tap), and adding information or files.

Adding information has its own FSM state. An unfinished draft is paused first and resumed
afterwards, so the two never overwrite each other.
"""
from __future__ import annotations

from datetime import timedelta
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date

from bot.config import Config
from domain.values import STATUS_LABELS
from handlers.common import Menu, MenuAction, main_menu
from handlers.evidence import receipt_button
from handlers.followup.keyboards import FollowAct, FollowCb
from handlers.report import flow
from handlers.report.files import incoming_file, store_or_explain, stored_notice
from storage.casework import CaseView
from storage.codes import normalize_code
from storage.repositories import Store

ADDED_MAX_CHARS = 3500


class Follow(StatesGroup):
    code = State()  # typing a case code
    adding = State()  # adding information to a case


# --- screens -----------------------------------------------------------------------------------

def _date(view: CaseView, locale: str) -> str:
    return format_date(view.created_at.date(), format="long", locale=locale)


async def show_list(bot: Bot, chat_id: int, user_id: int, store: Store, i18n: I18n) -> None:
    views = await store.casework.cases_of(store.cases.reporter_key(user_id))
    unread = await store.casework.unread_counts([v.id for v in views])
    kb = InlineKeyboardBuilder()
    for view in views[:20]:  # newest first; older ones open with their code
        mark = "🔔 " if unread.get(view.id) else ""
        kb.button(text=mark + _("Report of {date}").format(date=_date(view, i18n.current_locale)),
                  callback_data=FollowCb(act=FollowAct.OPEN, case=view.id))
    kb.button(text="🔑 " + _("Open a report with its code"),
              callback_data=FollowCb(act=FollowAct.CODE))
    kb.adjust(1)
    if views:
        lines = [escape(_("Your reports. Press one to see its status and messages."))]
        lines += ["• " + escape(_("Report of {date}").format(date=_date(v, i18n.current_locale)))
                  + ": " + escape(_(STATUS_LABELS[v.status])) for v in views[:20]]
        text = "\n".join(lines)
    else:
        text = escape(_("There are no reports linked to this account. If you have a case code, "
                        "you can open the report with it."))
    await bot.send_message(chat_id, text, reply_markup=kb.as_markup())


async def show_case(bot: Bot, chat_id: int, view: CaseView, store: Store, i18n: I18n) -> None:
    """Status in plain words and the channel; opening it marks the coordinators' news read."""
    lines = [
        "<b>" + escape(_("Report of {date}").format(date=_date(view, i18n.current_locale)))
        + "</b>",
        escape(_("Status: {status}").format(status=_(STATUS_LABELS[view.status]))),
    ]
    messages = await store.casework.channel(view.id)
    for m in messages[-10:]:  # the latest ones; a phone screen, not an archive
        who = _("Coordinator") if m.direction == "to_reporter" else _("You")
        body = escape(m.text or "")
        if m.file_ids:
            body = (body + " " if body else "") + escape(
                _("(files: {count})").format(count=len(m.file_ids)))
        lines.append(f"<b>{escape(who)}</b>: {body}")
    if not messages:
        lines.append(escape(_("No messages yet.")))
    text = "\n\n".join(lines)
    while len(text) > 3900 and len(lines) > 3:  # keep within one message: drop the oldest
        lines.pop(2)
        text = "\n\n".join(lines)
    kb = InlineKeyboardBuilder()
    kb.button(text="✏ " + _("Add information or files"),
              callback_data=FollowCb(act=FollowAct.ADD, case=view.id))
    if await store.attachments.for_case(view.id):
        receipt_button(kb, view.id)
    kb.button(text="📂 " + _("My reports"), callback_data=FollowCb(act=FollowAct.LIST))
    kb.adjust(1)
    await bot.send_message(chat_id, text, reply_markup=kb.as_markup())
    await store.casework.mark_read(view.id)


async def _own_case(query: CallbackQuery, store: Store, case_id: int) -> CaseView | None:
    """The case, if it is linked to this account; otherwise the button is answered as stale."""
    key = store.cases.reporter_key(query.from_user.id)
    view = next((v for v in await store.casework.cases_of(key) if v.id == case_id), None)
    if view is None:
        await query.answer(_("This button is out of date."))
    return view


# --- handlers ------------------------------------------------------------------------------------

async def menu_my_reports(query: CallbackQuery, bot: Bot, store: Store, i18n: I18n) -> None:
    await query.answer()
    await show_list(bot, query.message.chat.id, query.from_user.id, store, i18n)


async def cmd_my_reports(message: Message, bot: Bot, store: Store, i18n: I18n) -> None:
    await show_list(bot, message.chat.id, message.from_user.id, store, i18n)


async def on_follow(query: CallbackQuery, callback_data: FollowCb, bot: Bot, state: FSMContext,
                    config: Config, store: Store, i18n: I18n) -> None:
    chat_id = query.message.chat.id
    act = callback_data.act
    if act is FollowAct.LIST:
        await query.answer()
        await _leave_adding(state)
        await show_list(bot, chat_id, query.from_user.id, store, i18n)
        return
    if act is FollowAct.CODE:
        await query.answer()
        await _enter(state, Follow.code, None, bot, chat_id, config)
        await bot.send_message(chat_id, escape(_(
            "Send the case code, for example K7MQ-4XTP-9RWD. Letters may be small or capital.")))
        return
    view = await _own_case(query, store, callback_data.case)
    if view is None:
        return
    await query.answer()
    if act in (FollowAct.OPEN, FollowAct.READ):
        await _leave_adding(state)
        await show_case(bot, chat_id, view, store, i18n)
    elif act is FollowAct.ADD:
        await _enter(state, Follow.adding, view.id, bot, chat_id, config)
        kb = InlineKeyboardBuilder()
        kb.button(text="✔ " + _("Done"), callback_data=FollowCb(act=FollowAct.OPEN, case=view.id))
        await bot.send_message(chat_id, escape(_(
            "Send what you want to add: text, photos, documents, voice messages or videos. Say "
            "how you know what you write. Press Done when you have finished.")),
            reply_markup=kb.as_markup())


async def on_code(message: Message, bot: Bot, state: FSMContext, config: Config, store: Store,
                  i18n: I18n) -> None:
    account = store.crypto.keyed_hash("codes", message.from_user.id)
    window = timedelta(hours=1)
    if await store.casework.code_attempts(account, window) >= config.limits.code_attempts_per_hour:
        await _leave_adding(state)
        await message.answer(escape(_("Too many wrong codes. Please try again in an hour.")),
                             reply_markup=main_menu())
        return
    canonical = normalize_code(message.text or "")
    view = (await store.casework.find_by_code_key(store.cases.code_key(canonical))
            if canonical else None)
    if view is None:
        await store.casework.record_wrong_code(account)
        await message.answer(escape(_("No report has this code. Check it and send it again, or "
                                      "press the menu button.")), reply_markup=main_menu())
        return
    await _leave_adding(state)
    await store.casework.attach(view.id, store.cases.reporter_key(message.from_user.id),
                                chat_id=message.chat.id)
    await show_case(bot, message.chat.id, view, store, i18n)


async def on_add(message: Message, bot: Bot, state: FSMContext, config: Config,
                 store: Store) -> None:
    case_id = (await state.get_data()).get("adding_case")
    if case_id is None:
        await _leave_adding(state)
        return
    if message.text:
        text = message.text.strip()
        if len(text) > ADDED_MAX_CHARS:
            await message.answer(escape(_(
                "Your text is {length} characters long; the limit here is {limit}. Please "
                "shorten it and send it again, or send a voice message.").format(
                length=len(text), limit=ADDED_MAX_CHARS)))
            return
        await store.casework.message_from_reporter(case_id, text)
        await message.answer(escape(_("Added. The coordinators will see it. Send more, or press "
                                      "Done.")))
        return
    item = incoming_file(message)
    if item is None:
        await message.answer(escape(_(
            "Please send text, a photo, a document, a voice message or a video.")))
        return
    stored, problem = await store_or_explain(bot, store, store.attachments.new_draft_ref(), item,
                                             config.limits)
    if stored is None:
        await message.answer(escape(problem or ""))
        return
    await store.casework.message_from_reporter(case_id, message.caption, [stored.id])
    notice = stored_notice(stored)
    await message.answer(escape(_("Added. The coordinators will see it. Send more, or press "
                                  "Done.") + (" " + notice if notice else "")))


async def _enter(state: FSMContext, target: State, case_id: int | None, bot: Bot, chat_id: int,
                 config: Config) -> None:
    """Switch to a follow-up state; an open draft is paused first and kept."""
    raw = await state.get_state()
    if raw is not None and raw.startswith("Report:") and raw != "Report:paused":
        await flow.pause(bot, chat_id, state, config)
    await state.update_data(adding_case=case_id)
    await state.set_state(target)


async def _leave_adding(state: FSMContext) -> None:
    """Back from a follow-up state: to the paused draft if there is one, else to no state."""
    raw = await state.get_state()
    if raw not in (Follow.code.state, Follow.adding.state):
        return
    data = await state.get_data()
    data.pop("adding_case", None)
    await state.set_data(data)
    await state.set_state("Report:paused" if data.get("draft_ref") else None)


def make_router() -> Router:
    router = Router(name="followup")
    router.callback_query.register(menu_my_reports, Menu.filter(F.act == MenuAction.MY_REPORTS))
    router.message.register(cmd_my_reports, Command("myreports"))
    router.callback_query.register(on_follow, FollowCb.filter())
    router.message.register(on_code, StateFilter(Follow.code), F.text)
    router.message.register(on_add, StateFilter(Follow.adding))
    return router
