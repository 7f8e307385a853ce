"""The reporter's journey: consent, the questionnaire, review and submission.

Handlers are thin: they check that an update fits the current question, store the answer in the
draft and let `flow` show what comes next. Every state also has a catch-all that answers
unexpected input with a hint and shows the question again, keeping all answers.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from domain.i18n import N_
from domain.questionnaire import ORDER, QUESTIONS, SKIPPED, STEPS, Kind, Option, previous_question
from handlers import window
from handlers.common import Menu, MenuAction, main_menu, message_of
from handlers.report import flow
from handlers.report.draft import Draft, load_draft, save_draft
from handlers.report.files import caption_not_kept, incoming_file, store_or_explain, stored_notice
from handlers.report.keyboards import (
    Ans,
    CancelAct,
    CancelCb,
    ConsentAct,
    ConsentCb,
    DraftAct,
    DraftCb,
    Nav,
    NavAct,
    ReviewAct,
    ReviewCb,
    SavedCb,
    cancel_keyboard,
    risk_back_keyboard,
)
from handlers.report.screens import risk_text
from handlers.report.states import Report, in_report, question_of, question_state, screen
from handlers.settings import Config
from storage.repositories import Consent, Store, StoredFile

log = logging.getLogger(__name__)

STALE = N_("This button is out of date.")
SAVED = N_("Saved.")


# --- starting, resuming, cancelling -------------------------------------------------------------


async def _start_or_resume(
    bot: Bot, chat_id: int, state: FSMContext, config: Config, store: Store, *, fresh: bool = False
) -> None:
    raw = await state.get_state()
    if raw in (screen("paused").state, screen("submitted").state):
        if await flow.redisplay(bot, chat_id, state, config, store, fresh=fresh):
            return
    elif in_report(raw):
        await flow.offer_resume(bot, chat_id, state, fresh=fresh)
        return
    await flow.begin(bot, chat_id, state, config, store, fresh=fresh)


async def cmd_report(message: Message, bot: Bot, state: FSMContext, config: Config, store: Store) -> None:
    await window.remove(message)
    await _start_or_resume(bot, message.chat.id, state, config, store, fresh=True)


async def menu_report(
    query: CallbackQuery, bot: Bot, state: FSMContext, config: Config, store: Store
) -> None:
    await query.answer()
    await _start_or_resume(bot, message_of(query).chat.id, state, config, store)


async def on_draft_choice(
    query: CallbackQuery, callback_data: DraftCb, bot: Bot, state: FSMContext, config: Config, store: Store
) -> None:
    await query.answer()
    chat_id = message_of(query).chat.id
    if callback_data.act is DraftAct.RESTART:
        await flow.discard(state, store, await load_draft(state))
        await flow.begin(bot, chat_id, state, config, store)
    elif not await flow.redisplay(bot, chat_id, state, config, store):
        await flow.begin(bot, chat_id, state, config, store)


async def cmd_cancel(message: Message, bot: Bot, state: FSMContext) -> None:
    await window.remove(message)
    await _confirm_cancel(bot, message.chat.id, state, fresh=True)


async def _confirm_cancel(bot: Bot, chat_id: int, state: FSMContext, *, fresh: bool = False) -> None:
    draft = await load_draft(state)
    if draft is None:
        if await state.get_state() != screen("submitted").state:
            ui = await window.Window(bot, chat_id, state).current()
            await state.clear()
            await state.set_data({window.UI_KEY: ui} if ui else {})
        await window.Window(bot, chat_id, state).show(
            _("There is no unfinished report to delete."), main_menu(), fresh=fresh
        )
        return
    if draft.paused is None:
        draft.paused = await flow.current_screen(state)
    draft.ui = await window.draw(
        bot,
        chat_id,
        draft.ui,
        _("Delete all your answers and files from this report?"),
        cancel_keyboard(),
        fresh=fresh,
    )
    await state.set_state(screen("cancel"))
    await save_draft(state, draft)


async def on_cancel_choice(
    query: CallbackQuery, callback_data: CancelCb, bot: Bot, state: FSMContext, config: Config, store: Store
) -> None:
    await query.answer()
    chat_id = message_of(query).chat.id
    if callback_data.act is CancelAct.YES:
        await flow.discard(state, store, await load_draft(state))
        await window.Window(bot, chat_id, state).show(_("Your answers were deleted."), main_menu())
    else:
        await flow.redisplay(bot, chat_id, state, config, store)


# --- consent --------------------------------------------------------------------------------


async def on_consent(
    query: CallbackQuery, callback_data: ConsentCb, bot: Bot, state: FSMContext, config: Config, store: Store
) -> None:
    draft = await load_draft(state)
    if draft is None:
        await query.answer(_(STALE))
        return
    act = callback_data.act
    c = draft.consent
    toggles = {
        ConsentAct.SHARE: Consent(c.contact, not c.share, c.stats),
        ConsentAct.STATS: Consent(c.contact, c.share, not c.stats),
    }
    await query.answer()
    if act in toggles:
        draft.consent = toggles[act]
        await flow.show_consent(bot, message_of(query).chat.id, state, draft, config)
    elif act is ConsentAct.MORE:
        await _in_window(bot, query, state, draft, risk_text(config), risk_back_keyboard())
    elif act is ConsentAct.BACK:
        await flow.show_consent(bot, message_of(query).chat.id, state, draft, config)
    elif act is ConsentAct.START:
        # "May coordinators write back?" is asked once, in the questionnaire (step 12).
        await flow.ask(bot, message_of(query).chat.id, state, draft, ORDER[0], config, store)
    elif act is ConsentAct.CANCEL:
        await flow.discard(state, store, draft)
        await window.Window(bot, message_of(query).chat.id, state).show(
            _("The report was cancelled. Nothing was stored."), main_menu()
        )


async def _in_window(
    bot: Bot,
    query: CallbackQuery,
    state: FSMContext,
    draft: Draft,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    draft.ui = await window.draw(bot, message_of(query).chat.id, draft.ui, text, markup)
    await save_draft(state, draft)


# --- answers by button ------------------------------------------------------------------------


async def _current(query: CallbackQuery, state: FSMContext, qid: str) -> Draft | None:
    """The draft, if `qid` is the question being asked now; otherwise answer as stale."""
    if question_of(await state.get_state()) != qid:
        await query.answer(_(STALE))
        return None
    draft = await load_draft(state)
    if draft is None:
        await query.answer(_(STALE))
    return draft


async def on_answer(
    query: CallbackQuery, callback_data: Ans, bot: Bot, state: FSMContext, config: Config, store: Store
) -> None:
    qid, value = callback_data.q, callback_data.v
    draft = await _current(query, state, qid)
    if draft is None:
        return
    question = QUESTIONS[qid]
    option = question.option(value)
    if option is None or question.kind not in (Kind.CHOICE, Kind.MULTI):
        await query.answer(_(STALE))  # a forged or outdated value: keep everything as it is
        return
    await query.answer()
    if question.kind is Kind.MULTI:
        draft.pending[qid] = _toggle(draft.pending.get(qid, []), option, question.choices())
        await flow.ask(bot, message_of(query).chat.id, state, draft, qid, config, store)
        return
    draft.answers[qid] = value
    await flow.advance(bot, message_of(query).chat.id, state, draft, qid, config, store)


def _toggle(selected: list[str], option: Option, options: tuple[Option, ...]) -> list[str]:
    if option.value in selected:
        return [v for v in selected if v != option.value]
    exclusive = {o.value for o in options if o.exclusive}
    if option.exclusive:
        return [option.value]
    return [v for v in selected if v not in exclusive] + [option.value]


async def on_nav(
    query: CallbackQuery, callback_data: Nav, bot: Bot, state: FSMContext, config: Config, store: Store
) -> None:
    qid, act = callback_data.q, callback_data.act
    draft = await _current(query, state, qid)
    if draft is None:
        return
    question = QUESTIONS[qid]
    chat_id = message_of(query).chat.id
    if act is NavAct.DONE and question.kind is Kind.MULTI and not draft.pending.get(qid):
        await query.answer(
            _("Choose at least one option, or press “{skip}”.").format(
                skip=_(question.skip) if question.skip else _("Back")
            ),
            show_alert=True,
        )
        return
    if act is NavAct.SKIP and not question.skip:
        await query.answer(_(STALE))
        return
    await query.answer()
    if act is NavAct.LATER:
        await flow.pause(bot, chat_id, state, config)
    elif act is NavAct.CANCEL:
        await _confirm_cancel(bot, chat_id, state)
    elif act is NavAct.BACK:
        previous = previous_question(draft.answers, qid)
        if draft.editing or previous is None:
            draft.editing = False
            if previous is None:
                await flow.show_consent(bot, chat_id, state, draft, config)
                return
            await flow.show_review(bot, chat_id, state, draft, config, store)
            return
        await flow.ask(bot, chat_id, state, draft, previous, config, store)
    else:
        if act is NavAct.SKIP:
            draft.answers[qid] = SKIPPED
            draft.pending.pop(qid, None)
        elif question.kind is Kind.MULTI:
            draft.answers[qid] = draft.pending.pop(qid)
        elif question.kind is Kind.FILES:
            draft.answers[qid] = "done"
        await flow.advance(bot, chat_id, state, draft, qid, config, store)


# --- answers by message -----------------------------------------------------------------------


async def _asked(state: FSMContext) -> tuple[str, Draft] | None:
    """The question being asked and the draft, when a message can answer it."""
    qid = question_of(await state.get_state())
    draft = await load_draft(state)
    return None if qid is None or draft is None else (qid, draft)


def _asking(kind: Kind) -> StateFilter:
    return StateFilter(*(question_state(q.id) for q in QUESTIONS.values() if q.kind is kind))


async def on_text(message: Message, bot: Bot, state: FSMContext, config: Config, store: Store) -> None:
    asked = await _asked(state)
    if asked is None:
        return
    qid, draft = asked
    limit = QUESTIONS[qid].max_len or config.limits.max_text_chars
    text = (message.text or "").strip()  # (registered for F.text: never None)
    # Whatever it was, it does not stay on screen: the window says what happened.
    await window.remove(message)
    if not text or text.startswith("/"):
        await flow.ask(
            bot,
            message.chat.id,
            state,
            draft,
            qid,
            config,
            store,
            hint=_("Please write your answer as text, or send a voice message."),
        )
        return
    if len(text) > limit:
        await flow.ask(
            bot,
            message.chat.id,
            state,
            draft,
            qid,
            config,
            store,
            hint=_(
                "Your text is {length} characters long; the limit here is {limit}. Please shorten "
                "it and send it again, or send a voice message. (Your message was removed from "
                "the chat.)"
            ).format(length=len(text), limit=limit),
        )
        return
    draft.answers[qid] = {"text": text}
    await flow.advance(bot, message.chat.id, state, draft, qid, config, store, note=_(SAVED))


async def on_voice_answer(
    message: Message, bot: Bot, state: FSMContext, config: Config, store: Store
) -> None:
    asked = await _asked(state)
    if asked is None:
        return
    qid, draft = asked
    stored = await _store_file(message, bot, state, draft, qid, config, store)
    if stored is not None:
        draft.answers[qid] = {"voice": stored.id}
        await flow.advance(bot, message.chat.id, state, draft, qid, config, store, note=_(SAVED))


async def on_file(message: Message, bot: Bot, state: FSMContext, config: Config, store: Store) -> None:
    asked = await _asked(state)
    if asked is None:
        return
    qid, draft = asked
    if incoming_file(message) is None:
        await window.remove(message)
        await flow.ask(
            bot,
            message.chat.id,
            state,
            draft,
            qid,
            config,
            store,
            hint=_("Please send a photo, a document, a voice message or a video, or press Done."),
        )
        return
    stored = await _store_file(message, bot, state, draft, qid, config, store)
    if stored is not None:
        notes = [n for n in (stored_notice(stored), caption_not_kept(message)) if n]
        await flow.ask(
            bot,
            message.chat.id,
            state,
            draft,
            qid,
            config,
            store,
            note=_(SAVED),
            hint=" ".join(notes) or None,
        )


async def _store_file(
    message: Message, bot: Bot, state: FSMContext, draft: Draft, qid: str, config: Config, store: Store
) -> StoredFile | None:
    """Store the message's file for the draft; on any problem, say so and ask again.

    The reporter's message is deleted either way: stored, the window says so; refused, the
    window says why.
    """
    item = incoming_file(message)
    limits = config.limits
    hint = None
    if item is None:
        hint = _("Please send a photo, a document, a voice message or a video.")
    elif await flow.file_count(store, draft) >= limits.max_files_per_case:
        hint = _(
            "This report already has {max_files} files, the most one report can hold. A "
            "coordinator can ask you for more later."
        ).format(max_files=limits.max_files_per_case)
    else:
        if QUESTIONS[qid].kind is Kind.FILES:  # its status line, while it downloads
            await flow.ask(bot, message.chat.id, state, draft, qid, config, store, receiving=True)
        stored, hint = await store_or_explain(bot, store, draft.draft_ref, item, limits)
        if stored is not None:
            await window.remove(message)
            return stored
    await window.remove(message)
    await flow.ask(bot, message.chat.id, state, draft, qid, config, store, hint=hint)
    return None


# --- review -----------------------------------------------------------------------------------


async def on_review(
    query: CallbackQuery, callback_data: ReviewCb, bot: Bot, state: FSMContext, config: Config, store: Store
) -> None:
    draft = await load_draft(state)
    if draft is None:
        await query.answer(_(STALE))
        return
    await query.answer()
    chat_id = message_of(query).chat.id
    act = callback_data.act
    if act is ReviewAct.EDIT and 0 <= callback_data.step < len(STEPS):
        await flow.edit_step(bot, chat_id, state, draft, callback_data.step, config, store)
    elif act is ReviewAct.SEND:
        await flow.submit(bot, query.from_user.id, chat_id, state, draft, config, store)
    elif act is ReviewAct.STORY:
        await flow.show_story(bot, chat_id, state, draft, callback_data.step)
    elif act is ReviewAct.LATER:
        await flow.pause(bot, chat_id, state, config)
    elif act is ReviewAct.CANCEL:
        await _confirm_cancel(bot, chat_id, state)
    else:
        await flow.show_review(bot, chat_id, state, draft, config, store)


# --- anything else while a report is open ----------------------------------------------------

HINTS = {
    Kind.CHOICE: N_("Please choose one of the buttons below."),
    Kind.MULTI: N_("Please choose with the buttons below, then press Done."),
    Kind.TEXT: N_("Please write your answer as text, or send a voice message."),
    Kind.FILES: N_("Please send a photo, a document, a voice message or a video, or press Done."),
}


async def on_unexpected(message: Message, bot: Bot, state: FSMContext, config: Config, store: Store) -> None:
    """Stickers, locations, contacts, text where a button is expected...: hint, ask again.

    The message is deleted: nothing the reporter sends stays in the chat.
    """
    await window.remove(message)
    raw = await state.get_state()
    qid = question_of(raw)
    if raw == screen("paused").state:
        await flow.offer_resume(bot, message.chat.id, state)
        return
    if raw == screen("cancel").state:
        await _confirm_cancel(bot, message.chat.id, state)
        return
    hint = _(HINTS[QUESTIONS[qid].kind]) if qid else _("Please use the buttons below.")
    if not await flow.redisplay(bot, message.chat.id, state, config, store, hint=hint):
        await flow.discard(state, store, None)
        await window.Window(bot, message.chat.id, state).show(_("Please use the menu below."), main_menu())


async def on_saved(query: CallbackQuery, bot: Bot, state: FSMContext, store: Store) -> None:
    """ "I have saved the code": the code, the checklist and the report leave the chat."""
    await query.answer()
    await flow.code_saved(bot, message_of(query).chat.id, state, store)


def make_router() -> Router:
    """A fresh router (the app can be built more than once per process, e.g. in tests)."""
    router = Router(name="report")
    router.message.register(cmd_report, Command("report"))
    router.callback_query.register(menu_report, Menu.filter(F.act == MenuAction.REPORT))
    router.callback_query.register(on_draft_choice, DraftCb.filter(), StateFilter(Report))
    router.message.register(cmd_cancel, Command("cancel"))
    router.callback_query.register(on_cancel_choice, CancelCb.filter(), StateFilter(screen("cancel")))
    router.callback_query.register(on_consent, ConsentCb.filter(), StateFilter(screen("consent")))
    router.callback_query.register(on_answer, Ans.filter(), StateFilter(Report))
    router.callback_query.register(on_nav, Nav.filter(), StateFilter(Report))
    router.message.register(on_text, _asking(Kind.TEXT), F.text)
    router.message.register(on_voice_answer, _asking(Kind.TEXT), F.voice)
    router.message.register(on_file, _asking(Kind.FILES))
    router.callback_query.register(on_review, ReviewCb.filter(), StateFilter(screen("review")))
    router.callback_query.register(on_saved, SavedCb.filter(), StateFilter(screen("submitted")))
    router.message.register(on_unexpected, StateFilter(Report))
    return router
