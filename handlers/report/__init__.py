"""The reporter's journey: consent, the questionnaire, review and submission.

Handlers are thin: they check that an update fits the current question, store the answer in the
draft and let `flow` show what comes next. Every state also has a catch-all that answers
unexpected input with a hint and shows the question again, keeping all answers.
"""
from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Config
from domain.i18n import N_
from domain.questionnaire import ORDER, QUESTIONS, SKIPPED, STEPS, Kind, Option, previous_question
from handlers.common import Menu, MenuAction, main_menu
from handlers.report import flow
from handlers.report.draft import Draft, load_draft, save_draft
from handlers.report.files import caption_not_kept, incoming_file, store_or_explain
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
    cancel_keyboard,
    consent_keyboard,
    question_keyboard,
    risk_back_keyboard,
)
from handlers.report.screens import answered_text, consent_text, question_text, risk_text
from handlers.report.states import Report, question_of, question_state, screen
from storage.repositories import Consent, Store

log = logging.getLogger(__name__)

STALE = N_("This button is out of date.")


# --- starting, resuming, cancelling -------------------------------------------------------------

async def _start_or_resume(bot: Bot, chat_id: int, state: FSMContext, config: Config,
                           store: Store) -> None:
    raw = await state.get_state()
    if raw == Report.paused.state:
        if await flow.redisplay(bot, chat_id, state, config, store):
            return
    elif raw is not None and raw.startswith("Report:"):
        await flow.offer_resume(bot, chat_id, state)
        return
    await flow.begin(bot, chat_id, state, config, store)


async def cmd_report(message: Message, bot: Bot, state: FSMContext, config: Config,
                     store: Store) -> None:
    await _start_or_resume(bot, message.chat.id, state, config, store)


async def menu_report(query: CallbackQuery, bot: Bot, state: FSMContext, config: Config,
                      store: Store) -> None:
    await query.answer()
    await _start_or_resume(bot, query.message.chat.id, state, config, store)


async def on_draft_choice(query: CallbackQuery, callback_data: DraftCb, bot: Bot,
                          state: FSMContext, config: Config, store: Store) -> None:
    await query.answer()
    await _drop_buttons(query)
    chat_id = query.message.chat.id
    if callback_data.act is DraftAct.RESTART:
        await flow.discard(state, store, await load_draft(state))
        await flow.begin(bot, chat_id, state, config, store)
    elif not await flow.redisplay(bot, chat_id, state, config, store):
        await flow.begin(bot, chat_id, state, config, store)


async def cmd_cancel(message: Message, bot: Bot, state: FSMContext) -> None:
    await _confirm_cancel(bot, message.chat.id, state)


async def _confirm_cancel(bot: Bot, chat_id: int, state: FSMContext) -> None:
    draft = await load_draft(state)
    if draft is None:
        await state.clear()
        await bot.send_message(chat_id, _("There is no unfinished report to delete."),
                               reply_markup=main_menu())
        return
    await flow.retire_ui(bot, chat_id, draft)
    if draft.paused is None:
        draft.paused = await flow.current_screen(state)
    await state.set_state(screen("cancel"))
    sent = await bot.send_message(chat_id, _("Delete all your answers and files from this "
                                             "report?"), reply_markup=cancel_keyboard())
    draft.ui = sent.message_id
    await save_draft(state, draft)


async def on_cancel_choice(query: CallbackQuery, callback_data: CancelCb, bot: Bot,
                           state: FSMContext, config: Config, store: Store) -> None:
    await query.answer()
    chat_id = query.message.chat.id
    if callback_data.act is CancelAct.YES:
        await _drop_buttons(query)
        await flow.discard(state, store, await load_draft(state))
        await bot.send_message(chat_id, _("Your answers were deleted."), reply_markup=main_menu())
    else:
        await flow.redisplay(bot, chat_id, state, config, store)


# --- consent --------------------------------------------------------------------------------

async def on_consent(query: CallbackQuery, callback_data: ConsentCb, bot: Bot,
                     state: FSMContext, config: Config, store: Store) -> None:
    draft = await load_draft(state)
    if draft is None:
        await query.answer(_(STALE))
        return
    act = callback_data.act
    c = draft.consent
    toggles = {
        ConsentAct.CONTACT: Consent(not c.contact, c.share, c.stats),
        ConsentAct.SHARE: Consent(c.contact, not c.share, c.stats),
        ConsentAct.STATS: Consent(c.contact, c.share, not c.stats),
    }
    await query.answer()
    if act in toggles:
        draft.consent = toggles[act]
        await save_draft(state, draft)
        await query.message.edit_reply_markup(reply_markup=consent_keyboard(draft.consent))
    elif act is ConsentAct.MORE:
        await query.message.edit_text(risk_text(), reply_markup=risk_back_keyboard())
    elif act is ConsentAct.BACK:
        await query.message.edit_text(consent_text(config.ngo.name),
                                      reply_markup=consent_keyboard(draft.consent))
    elif act is ConsentAct.START:
        # The contact question starts from the consent choice; the reporter can still change it.
        draft.answers["contact"] = "yes" if draft.consent.contact else "no"
        await flow.ask(bot, query.message.chat.id, state, draft, ORDER[0], config, store)
    elif act is ConsentAct.CANCEL:
        await _drop_buttons(query)
        await flow.discard(state, store, draft)
        await bot.send_message(query.message.chat.id, _("The report was cancelled. Nothing was "
                                                        "stored."), reply_markup=main_menu())


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


async def on_answer(query: CallbackQuery, callback_data: Ans, bot: Bot, state: FSMContext,
                    config: Config, store: Store) -> None:
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
        await save_draft(state, draft)
        await query.message.edit_reply_markup(
            reply_markup=question_keyboard(question, None, draft.pending[qid]))
        return
    draft.answers[qid] = value
    await _mark_answered(query, draft, qid, config)
    await flow.advance(bot, query.message.chat.id, state, draft, qid, config, store)


def _toggle(selected: list[str], option: Option, options: tuple[Option, ...]) -> list[str]:
    if option.value in selected:
        return [v for v in selected if v != option.value]
    exclusive = {o.value for o in options if o.exclusive}
    if option.exclusive:
        return [option.value]
    return [v for v in selected if v not in exclusive] + [option.value]


async def _mark_answered(query: CallbackQuery, draft: Draft, qid: str, config: Config) -> None:
    """Replace the answered question's buttons with the answer, so the chat reads as a record."""
    base = question_text(qid, max_files=config.limits.max_files_per_case,
                         max_mb=config.limits.max_file_mb,
                         long_limit=config.limits.max_text_chars, file_count=0)
    draft.ui = None
    try:
        await query.message.edit_text(answered_text(base, qid, draft.answers.get(qid)),
                                      reply_markup=None)
    except TelegramBadRequest:
        pass  # the message is gone or unchanged; the answer is stored all the same


async def on_nav(query: CallbackQuery, callback_data: Nav, bot: Bot, state: FSMContext,
                 config: Config, store: Store) -> None:
    qid, act = callback_data.q, callback_data.act
    draft = await _current(query, state, qid)
    if draft is None:
        return
    question = QUESTIONS[qid]
    chat_id = query.message.chat.id
    if act is NavAct.DONE and question.kind is Kind.MULTI and not draft.pending.get(qid):
        await query.answer(_("Choose at least one option, or press “{skip}”.").format(
            skip=_(question.skip) if question.skip else _("Back")), show_alert=True)
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
        await _mark_answered(query, draft, qid, config)
        await flow.advance(bot, chat_id, state, draft, qid, config, store)


# --- answers by message -----------------------------------------------------------------------

async def _asked(state: FSMContext) -> tuple[str, Draft] | None:
    """The question being asked and the draft, when a message can answer it."""
    qid = question_of(await state.get_state())
    draft = await load_draft(state)
    return None if qid is None or draft is None else (qid, draft)


def _asking(kind: Kind) -> StateFilter:
    return StateFilter(*(question_state(q.id) for q in QUESTIONS.values() if q.kind is kind))


async def on_text(message: Message, bot: Bot, state: FSMContext, config: Config,
                  store: Store) -> None:
    asked = await _asked(state)
    if asked is None:
        return
    qid, draft = asked
    limit = QUESTIONS[qid].max_len or config.limits.max_text_chars
    text = message.text.strip()
    if not text or text.startswith("/"):
        await flow.ask(bot, message.chat.id, state, draft, qid, config, store,
                       hint=_("Please write your answer as text, or send a voice message."))
        return
    if len(text) > limit:
        await flow.ask(bot, message.chat.id, state, draft, qid, config, store, hint=_(
            "Your text is {length} characters long; the limit here is {limit}. Please shorten "
            "it and send it again, or send a voice message.").format(length=len(text),
                                                                      limit=limit))
        return
    draft.answers[qid] = {"text": text}
    await flow.advance(bot, message.chat.id, state, draft, qid, config, store)


async def on_voice_answer(message: Message, bot: Bot, state: FSMContext, config: Config,
                          store: Store) -> None:
    asked = await _asked(state)
    if asked is None:
        return
    qid, draft = asked
    stored = await _store_file(message, bot, state, draft, qid, config, store)
    if stored is not None:
        draft.answers[qid] = {"voice": stored}
        await flow.advance(bot, message.chat.id, state, draft, qid, config, store)


async def on_file(message: Message, bot: Bot, state: FSMContext, config: Config,
                  store: Store) -> None:
    asked = await _asked(state)
    if asked is None:
        return
    qid, draft = asked
    if incoming_file(message) is None:
        await flow.ask(bot, message.chat.id, state, draft, qid, config, store, hint=_(
            "Please send a photo, a document, a voice message or a video, or press Done."))
        return
    if await _store_file(message, bot, state, draft, qid, config, store) is not None:
        await flow.ask(bot, message.chat.id, state, draft, qid, config, store,
                       hint=caption_not_kept(message))


async def _store_file(message: Message, bot: Bot, state: FSMContext, draft: Draft, qid: str,
                      config: Config, store: Store) -> int | None:
    """Store the message's file for the draft; on any problem, say so and ask again."""
    item = incoming_file(message)
    limits = config.limits
    hint = None
    if item is None:
        hint = _("Please send a photo, a document, a voice message or a video.")
    elif await flow.file_count(store, draft) >= limits.max_files_per_case:
        hint = _("This report already has {max_files} files, the most one report can hold. A "
                 "coordinator can ask you for more later.").format(
            max_files=limits.max_files_per_case)
    else:
        stored, hint = await store_or_explain(bot, store, draft.draft_ref, item, limits)
        if stored is not None:
            return stored.id
    await flow.ask(bot, message.chat.id, state, draft, qid, config, store, hint=hint)
    return None


# --- review -----------------------------------------------------------------------------------

async def on_review(query: CallbackQuery, callback_data: ReviewCb, bot: Bot, state: FSMContext,
                    config: Config, store: Store) -> None:
    draft = await load_draft(state)
    if draft is None:
        await query.answer(_(STALE))
        return
    await query.answer()
    chat_id = query.message.chat.id
    act = callback_data.act
    if act is ReviewAct.EDIT and 0 <= callback_data.step < len(STEPS):
        await flow.edit_step(bot, chat_id, state, draft, callback_data.step, config, store)
    elif act is ReviewAct.SEND:
        await flow.submit(bot, query.from_user.id, chat_id, state, draft, config, store)
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


async def on_unexpected(message: Message, bot: Bot, state: FSMContext, config: Config,
                        store: Store) -> None:
    """Stickers, locations, contacts, text where a button is expected...: hint, ask again."""
    raw = await state.get_state()
    qid = question_of(raw)
    if raw == Report.paused.state:
        await flow.offer_resume(bot, message.chat.id, state)
        return
    if raw == Report.cancel.state:
        await _confirm_cancel(bot, message.chat.id, state)
        return
    hint = _(HINTS[QUESTIONS[qid].kind]) if qid else _("Please use the buttons below.")
    if not await flow.redisplay(bot, message.chat.id, state, config, store, hint=hint):
        await state.clear()
        await message.answer(_("Please use the menu below."), reply_markup=main_menu())


async def _drop_buttons(query: CallbackQuery) -> None:
    try:
        await query.message.edit_reply_markup(reply_markup=None)
    except TelegramBadRequest:
        pass


def make_router() -> Router:
    """A fresh router (the app can be built more than once per process, e.g. in tests)."""
    router = Router(name="report")
    router.message.register(cmd_report, Command("report"))
    router.callback_query.register(menu_report, Menu.filter(F.act == MenuAction.REPORT))
    router.callback_query.register(on_draft_choice, DraftCb.filter(), StateFilter(Report))
    router.message.register(cmd_cancel, Command("cancel"))
    router.callback_query.register(on_cancel_choice, CancelCb.filter(), StateFilter(Report.cancel))
    router.callback_query.register(on_consent, ConsentCb.filter(), StateFilter(Report.consent))
    router.callback_query.register(on_answer, Ans.filter(), StateFilter(Report))
    router.callback_query.register(on_nav, Nav.filter(), StateFilter(Report))
    router.message.register(on_text, _asking(Kind.TEXT), F.text)
    router.message.register(on_voice_answer, _asking(Kind.TEXT), F.voice)
    router.message.register(on_file, _asking(Kind.FILES))
    router.callback_query.register(on_review, ReviewCb.filter(), StateFilter(Report.review))
    router.message.register(on_unexpected, StateFilter(Report))
    return router
