"""The reporter after submitting: My reports, opening a case with its code, reading the
coordinators' messages (shown only on tap), and adding information or files.

Every screen is drawn in the chat's one window (handlers.window); what the reporter sends is
deleted once stored, and "Close" leaves one neutral line. Adding information has its own FSM
state; an unfinished draft is paused first and resumed afterwards, so the two never overwrite
each other.
"""

from __future__ import annotations

import contextlib
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date

from domain.values import STATUS_LABELS
from handlers import window
from handlers.common import Menu, MenuAction, main_menu, main_menu_text, message_of, sender_of
from handlers.evidence import receipt_button
from handlers.followup.keyboards import FollowAct, FollowCb
from handlers.followup.notices import opened_elsewhere_notice
from handlers.report import flow, states
from handlers.report.files import incoming_file, store_or_explain, stored_notice
from handlers.settings import Config
from services import limits as rate
from storage.casework import CaseView
from storage.codes import normalize_code
from storage.repositories import Store

ADDED_MAX_CHARS = 3500
ADDED_KEY = "added"  # items added in this visit, for the window's status line


class Follow(StatesGroup):
    code = State()  # typing a case code
    adding = State()  # adding information to a case


# --- screens -----------------------------------------------------------------------------------


def _date(view: CaseView, locale: str) -> str:
    return format_date(view.created_at.date(), format="long", locale=locale)


def _close_button(kb: InlineKeyboardBuilder) -> None:
    kb.button(text="✖ " + _("Close"), callback_data=FollowCb(act=FollowAct.CLOSE))


async def _show(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    text: str,
    markup: InlineKeyboardMarkup | None,
    *,
    fresh: bool = False,
) -> None:
    await window.Window(bot, chat_id, state).show(text, markup, fresh=fresh)


async def show_list(
    bot: Bot, chat_id: int, user_id: int, state: FSMContext, store: Store, i18n: I18n, *, fresh: bool = False
) -> None:
    views = await store.casework.cases_of(store.cases.reporter_key(user_id))
    unread = await store.casework.unread_counts([v.id for v in views])
    kb = InlineKeyboardBuilder()
    for view in views[:20]:  # newest first; older ones open with their code
        mark = "🔔 " if unread.get(view.id) else ""
        kb.button(
            text=mark + _("Report of {date}").format(date=_date(view, i18n.current_locale)),
            callback_data=FollowCb(act=FollowAct.OPEN, case=view.id),
        )
    kb.button(text="🔑 " + _("Open a report with its code"), callback_data=FollowCb(act=FollowAct.CODE))
    _close_button(kb)
    kb.adjust(1)
    if views:
        lines = [escape(_("Your reports. Press one to see its status and messages."))]
        lines += [
            "• "
            + escape(_("Report of {date}").format(date=_date(v, i18n.current_locale)))
            + ": "
            + escape(_(STATUS_LABELS[v.status]))
            for v in views[:20]
        ]
        text = "\n".join(lines)
    else:
        text = escape(
            _(
                "There are no reports linked to this account. If you have a case code, "
                "you can open the report with it."
            )
        )
    await _show(bot, chat_id, state, text, kb.as_markup(), fresh=fresh)


async def show_case(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    view: CaseView,
    store: Store,
    i18n: I18n,
    *,
    note: str | None = None,
) -> None:
    """Status in plain words and the channel; opening it marks the coordinators' news read."""
    lines = [
        "<b>" + escape(_("Report of {date}").format(date=_date(view, i18n.current_locale))) + "</b>",
        escape(_("Status: {status}").format(status=_(STATUS_LABELS[view.status]))),
    ]
    if note:
        lines.insert(0, "✓ " + escape(note))
    messages = await store.casework.channel(view.id)
    for m in messages[-10:]:  # the latest ones; a phone screen, not an archive
        who = _("Coordinator") if m.direction == "to_reporter" else _("You")
        body = escape(m.text or "")
        if m.file_ids:
            body = (body + " " if body else "") + escape(_("(files: {count})").format(count=len(m.file_ids)))
        lines.append(f"<b>{escape(who)}</b>: {body}")
    if not messages:
        lines.append(escape(_("No messages yet.")))
    text = "\n\n".join(lines)
    while len(text) > 3900 and len(lines) > 3:  # keep within one message: drop the oldest
        lines.pop(2)
        text = "\n\n".join(lines)
    kb = InlineKeyboardBuilder()
    kb.button(
        text="✏ " + _("Add information or files"), callback_data=FollowCb(act=FollowAct.ADD, case=view.id)
    )
    if await store.attachments.for_case(view.id):
        receipt_button(kb, view.id)
    kb.button(text="📂 " + _("My reports"), callback_data=FollowCb(act=FollowAct.LIST))
    _close_button(kb)
    kb.adjust(1)
    await _show(bot, chat_id, state, text, kb.as_markup())
    await store.casework.mark_read(view.id)


def _adding_text(added: int, hint: str | None = None) -> str:
    parts = [
        escape(
            _(
                "Send what you want to add: text, photos, documents, voice messages or videos. Say "
                "how you know what you write. Press Done when you have finished."
            )
        )
    ]
    if added:
        parts.append(
            "✓ "
            + escape(
                _("Saved: {count}. The coordinators will see it. Send more, or press Done.").format(
                    count=added
                )
            )
        )
    if hint:
        parts.append("⚠ " + escape(hint))
    return "\n\n".join(parts)


def _adding_keyboard(case_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="✔ " + _("Done"), callback_data=FollowCb(act=FollowAct.OPEN, case=case_id))
    return kb.as_markup()


def _code_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="« " + _("Back"), callback_data=FollowCb(act=FollowAct.LIST))
    return kb.as_markup()


CODE_PROMPT = "Send the case code, for example K7MQ-4XTP-9RWD. Letters may be small or capital."


async def _own_case(query: CallbackQuery, store: Store, case_id: int) -> CaseView | None:
    """The case, if it is linked to this account; otherwise the button is answered as stale."""
    key = store.cases.reporter_key(query.from_user.id)
    view = next((v for v in await store.casework.cases_of(key) if v.id == case_id), None)
    if view is None:
        await query.answer(_("This button is out of date."))
    return view


# --- handlers ------------------------------------------------------------------------------------


async def menu_my_reports(
    query: CallbackQuery, bot: Bot, state: FSMContext, config: Config, store: Store, i18n: I18n
) -> None:
    await query.answer()
    await _enter(state, None, None, bot, message_of(query).chat.id, config)
    await show_list(bot, message_of(query).chat.id, query.from_user.id, state, store, i18n)


async def cmd_my_reports(
    message: Message, bot: Bot, state: FSMContext, config: Config, store: Store, i18n: I18n
) -> None:
    await window.remove(message)
    await _enter(state, None, None, bot, message.chat.id, config)
    await show_list(bot, message.chat.id, sender_of(message).id, state, store, i18n, fresh=True)


async def on_follow(
    query: CallbackQuery,
    callback_data: FollowCb,
    bot: Bot,
    state: FSMContext,
    config: Config,
    store: Store,
    i18n: I18n,
) -> None:
    chat_id = message_of(query).chat.id
    act = callback_data.act
    if act is FollowAct.LIST:
        await query.answer()
        await _leave_adding(state)
        await show_list(bot, chat_id, query.from_user.id, state, store, i18n)
        return
    if act is FollowAct.CLOSE:
        await query.answer()
        await _leave_adding(state)
        await window.Window(bot, chat_id, state).close()
        return
    if act is FollowAct.CODE:
        await query.answer()
        await _enter(state, Follow.code, None, bot, chat_id, config)
        await _show(bot, chat_id, state, escape(_(CODE_PROMPT)), _code_keyboard())
        return
    view = await _own_case(query, store, callback_data.case)
    if view is None:
        return
    await query.answer()
    if act in (FollowAct.OPEN, FollowAct.READ):
        await _leave_adding(state)
        if (
            act is FollowAct.READ
            and message_of(query).message_id != await window.Window(bot, chat_id, state).current()
        ):
            # The neutral notice has done its job: the news shows in the window instead.
            await window.drop(bot, chat_id, message_of(query).message_id)
        await show_case(bot, chat_id, state, view, store, i18n)
    elif act is FollowAct.ADD:
        await _enter(state, Follow.adding, view.id, bot, chat_id, config)
        await _show(bot, chat_id, state, _adding_text(0), _adding_keyboard(view.id))
    elif act is FollowAct.MOVE:
        moved = await store.followup.move_contact(
            view.id, store.cases.reporter_key(query.from_user.id), chat_id
        )
        await show_case(
            bot,
            chat_id,
            state,
            view,
            store,
            i18n,
            note=_("Coordinators will write to this account from now on.") if moved else None,
        )
    elif act is FollowAct.STAY:
        await show_case(bot, chat_id, state, view, store, i18n)


async def on_code(
    message: Message, bot: Bot, state: FSMContext, config: Config, store: Store, i18n: I18n
) -> None:
    chat_id = message.chat.id
    await window.remove(message)  # a code must not stay on screen either
    canonical = normalize_code(message.text or "")
    if canonical is None:
        # Not even shaped like a code: no attempt used; a hint and the way back.
        await _show(
            bot,
            chat_id,
            state,
            "⚠ "
            + escape(
                _(
                    "This does not look like a case code: it has 12 letters and digits. Check it and "
                    "send it again."
                )
            )
            + "\n\n"
            + escape(_(CODE_PROMPT)),
            _code_keyboard(),
        )
        return
    user_id = sender_of(message).id
    await _leave_adding(state)  # code-entry mode ends with this try, right or wrong
    if not await rate.may_try_code(store, user_id, config.limits.code_attempts_per_hour):
        await _show(
            bot,
            chat_id,
            state,
            escape(_("Too many wrong codes. Please try again in an hour.")),
            _code_keyboard(),
        )
        return
    reporter = store.cases.reporter_key(user_id)
    opened = await store.followup.open_by_code(store.cases.code_key(canonical), reporter)
    if opened is None:
        await rate.wrong_code(store, user_id)
        kb = InlineKeyboardBuilder()
        kb.button(text="🔑 " + _("Try again"), callback_data=FollowCb(act=FollowAct.CODE))
        kb.button(text="« " + _("Back"), callback_data=FollowCb(act=FollowAct.LIST))
        kb.adjust(1)
        await _show(
            bot, chat_id, state, escape(_("No report has this code. Check it and try again.")), kb.as_markup()
        )
        return
    view = await store.casework.get(opened.case_id)
    if view is None:  # just opened by its code, so it exists
        raise LookupError(f"case {opened.case_id} vanished")
    if opened.previous_chat is not None and opened.previous_chat != chat_id:
        with contextlib.suppress(TelegramAPIError):  # blocked or gone: nothing to tell
            await bot.send_message(opened.previous_chat, opened_elsewhere_notice(view.locale))
    if opened.elsewhere and opened.contactable:
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("Yes, write to this account"), callback_data=FollowCb(act=FollowAct.MOVE, case=view.id)
        )
        kb.button(text=_("No"), callback_data=FollowCb(act=FollowAct.STAY, case=view.id))
        kb.adjust(1)
        await _show(
            bot,
            chat_id,
            state,
            escape(
                _(
                    "The report is open in this account now. May the coordinators write to you here "
                    "from now on (instead of the account that sent it)?"
                )
            ),
            kb.as_markup(),
        )
        return
    await show_case(bot, chat_id, state, view, store, i18n)


async def on_add(message: Message, bot: Bot, state: FSMContext, config: Config, store: Store) -> None:
    data = await state.get_data()
    case_id = data.get("adding_case")
    chat_id = message.chat.id
    if case_id is None:
        await _leave_adding(state)
        return
    added = int(data.get(ADDED_KEY) or 0)
    hint = None
    if message.text:
        text = message.text.strip()
        await window.remove(message)
        if len(text) > ADDED_MAX_CHARS:
            hint = _(
                "Your text is {length} characters long; the limit here is {limit}. Please "
                "shorten it and send it again, or send a voice message. (Your message was "
                "removed from the chat.)"
            ).format(length=len(text), limit=ADDED_MAX_CHARS)
        else:
            await store.casework.message_from_reporter(case_id, text)
            added += 1
    else:
        item = incoming_file(message)
        if item is None:
            hint = _("Please send text, a photo, a document, a voice message or a video.")
        else:
            stored, hint = await store_or_explain(
                bot, store, store.attachments.new_draft_ref(), item, config.limits
            )
            if stored is not None:
                await store.casework.message_from_reporter(case_id, message.caption, [stored.id])
                added += 1
                hint = stored_notice(stored) or None  # e.g. "metadata not removed"
        await window.remove(message)
    await state.update_data({ADDED_KEY: added})
    await _show(bot, chat_id, state, _adding_text(added, hint), _adding_keyboard(case_id))


async def _enter(
    state: FSMContext, target: State | None, case_id: int | None, bot: Bot, chat_id: int, config: Config
) -> None:
    """Switch to a follow-up screen; an open draft is paused first and kept (a saved-code
    screen is left as it is: /start shows the code again)."""
    raw = await state.get_state()
    if states.drafting(raw):
        await flow.pause(bot, chat_id, state, config)
    if target is None:
        return
    await state.update_data({"adding_case": case_id, ADDED_KEY: 0})
    await state.set_state(target)


async def _leave_adding(state: FSMContext) -> None:
    """Back from a follow-up state: to the paused draft if there is one, else to no state."""
    raw = await state.get_state()
    if raw not in (Follow.code.state, Follow.adding.state):
        return
    data = await state.get_data()
    data.pop("adding_case", None)
    data.pop(ADDED_KEY, None)
    await state.set_data(data)
    if data.get(flow.SENT_KEY):  # a code not yet saved: /start shows it again
        await state.set_state(states.screen("submitted"))
    else:
        await state.set_state(states.screen("paused") if data.get("draft_ref") else None)


async def on_stray(message: Message, bot: Bot, state: FSMContext, config: Config, store: Store) -> None:
    """A message outside any conversation: removed (nothing the reporter sends stays in the
    chat), and the menu in the window."""
    await window.remove(message)
    await _show(
        bot,
        message.chat.id,
        state,
        escape(_("Please use the menu below.")) + "\n\n" + main_menu_text(),
        main_menu(),
    )


def make_router() -> Router:
    router = Router(name="followup")
    router.callback_query.register(menu_my_reports, Menu.filter(F.act == MenuAction.MY_REPORTS))
    router.message.register(cmd_my_reports, Command("myreports"))
    router.callback_query.register(on_follow, FollowCb.filter())
    router.message.register(on_code, StateFilter(Follow.code), F.text)
    router.message.register(on_add, StateFilter(Follow.adding))
    router.message.register(on_stray, StateFilter(None))
    return router
