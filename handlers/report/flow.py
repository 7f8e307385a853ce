"""Moving through the report: showing a question, advancing, the review, pausing, submitting.

Handlers call these; they hold the rules that are not specific to one kind of update.
"""
from __future__ import annotations

import logging
from html import escape
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import get_i18n

from bot.config import Config
from domain.questionnaire import (
    ORDER,
    QUESTIONS,
    STEP_OF,
    TOTAL_STEPS,
    Kind,
    first_of_step,
    next_question,
    prune,
    step_number,
)
from domain.values import CONSENT_VERSION
from handlers.common import main_menu
from handlers.report.draft import Draft, load_draft, save_draft
from handlers.report.files import cleaning_wording
from handlers.report.keyboards import consent_keyboard, draft_keyboard, question_keyboard, review_keyboard
from handlers.report.keyboards import submitted_keyboard
from handlers.report.screens import consent_text, paused_text, question_text, review_text, submitted_text
from handlers.report.states import question_state, screen
from storage.repositories import Store, Submission
from usecases.spam import BLOCKED_ANSWER, is_blocked

log = logging.getLogger(__name__)


def lifetime(config: Config) -> timedelta:
    return timedelta(days=config.retention.draft_days)


async def retire_ui(bot: Bot, chat_id: int, draft: Draft) -> None:
    """Take the buttons off the previous screen so only the current one is live."""
    if draft.ui is None:
        return
    message_id, draft.ui = draft.ui, None
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                            reply_markup=None)
    except TelegramBadRequest:
        pass  # already without buttons, or deleted by the user: nothing to retire


async def file_count(store: Store, draft: Draft) -> int:
    return len(await store.attachments.for_draft(draft.draft_ref))


async def ask(
    bot: Bot, chat_id: int, state: FSMContext, draft: Draft, qid: str, config: Config,
    store: Store, *, hint: str | None = None,
) -> None:
    question = QUESTIONS[qid]
    count = await file_count(store, draft) if question.kind is Kind.FILES else 0
    text = question_text(
        qid, max_files=config.limits.max_files_per_case, max_mb=config.limits.max_file_mb,
        long_limit=config.limits.max_text_chars, file_count=count, hint=hint,
        cleaning=cleaning_wording(config.limits) if question.kind is Kind.FILES else None,
    )
    await retire_ui(bot, chat_id, draft)
    await state.set_state(question_state(qid))
    await save_draft(state, draft)
    sent = await bot.send_message(
        chat_id, text,
        reply_markup=question_keyboard(question, draft.answers.get(qid), draft.pending.get(qid)),
    )
    draft.ui = sent.message_id
    await save_draft(state, draft)


async def show_review(
    bot: Bot, chat_id: int, state: FSMContext, draft: Draft, config: Config, store: Store
) -> None:
    draft.answers = prune(draft.answers)
    draft.editing = False
    # Never show the review with a required or applicable question unanswered.
    for qid in ORDER:
        if QUESTIONS[qid].applies(draft.answers) and qid not in draft.answers \
                and QUESTIONS[qid].kind is not Kind.FILES:
            await ask(bot, chat_id, state, draft, qid, config, store)
            return
    kinds = [f.kind for f in await store.attachments.for_draft(draft.draft_ref)]
    await retire_ui(bot, chat_id, draft)
    await state.set_state(screen("review"))
    await save_draft(state, draft)
    sent = await bot.send_message(chat_id, review_text(draft.answers, kinds),
                                  reply_markup=review_keyboard(draft.answers))
    draft.ui = sent.message_id
    await save_draft(state, draft)


async def advance(
    bot: Bot, chat_id: int, state: FSMContext, draft: Draft, after: str, config: Config,
    store: Store,
) -> None:
    """After answering `after`: the next question, or back to the review when editing."""
    draft.answers = prune(draft.answers)
    nxt = next_question(draft.answers, after)
    if draft.editing and (nxt is None or STEP_OF[nxt] != STEP_OF[after]):
        nxt = None
    if nxt is None:
        await show_review(bot, chat_id, state, draft, config, store)
    else:
        await ask(bot, chat_id, state, draft, nxt, config, store)


async def show_consent(bot: Bot, chat_id: int, state: FSMContext, draft: Draft,
                       config: Config) -> None:
    await retire_ui(bot, chat_id, draft)
    await state.set_state(screen("consent"))
    sent = await bot.send_message(chat_id, consent_text(config.ngo.name),
                                  reply_markup=consent_keyboard(draft.consent))
    draft.ui = sent.message_id
    await save_draft(state, draft)


async def begin(
    bot: Bot, chat_id: int, state: FSMContext, config: Config, store: Store
) -> None:
    """A new draft, starting with the consent screen."""
    draft = Draft(draft_ref=store.attachments.new_draft_ref(), started=store.clock())
    await state.set_data({})
    await show_consent(bot, chat_id, state, draft, config)


async def current_screen(state: FSMContext) -> str | None:
    """The state to show again: a question id, "consent" or "review"."""
    raw = await state.get_state()
    if raw is None or not raw.startswith("Report:"):
        return None
    name = raw.split(":", 1)[1]
    if name in ("paused", "cancel"):
        draft = await load_draft(state)
        return draft.paused if draft else None
    return name


async def redisplay(
    bot: Bot, chat_id: int, state: FSMContext, config: Config, store: Store,
    *, hint: str | None = None,
) -> bool:
    """Show the current screen of the draft again (after a pause, a restart, a language change).

    Returns False when there is no usable draft (none, or expired: then it is discarded).
    """
    draft = await load_draft(state)
    target = await current_screen(state)
    if draft is None or target is None:
        return False
    if draft.expired(store.clock(), lifetime(config)):
        await discard(state, store, draft)
        await bot.send_message(chat_id, _("Your unfinished report expired and was deleted. "
                                          "You can start a new one."),
                               reply_markup=main_menu())
        return True
    draft.paused = None
    if hint and target not in QUESTIONS:
        await bot.send_message(chat_id, "⚠ " + escape(hint))
    if target == "consent":
        await show_consent(bot, chat_id, state, draft, config)
    elif target == "review":
        await show_review(bot, chat_id, state, draft, config, store)
    elif target in QUESTIONS:
        await ask(bot, chat_id, state, draft, target, config, store, hint=hint)
    else:
        return False
    return True


async def pause(bot: Bot, chat_id: int, state: FSMContext, config: Config) -> None:
    draft = await load_draft(state)
    target = await current_screen(state)
    if draft is None or target is None:
        return
    await retire_ui(bot, chat_id, draft)
    draft.paused = target
    await state.set_state(screen("paused"))
    await save_draft(state, draft)
    await bot.send_message(chat_id, paused_text(config.retention.draft_days),
                           reply_markup=main_menu(draft_step(target)))


def draft_step(target: str) -> int:
    """The step number shown for a draft's screen."""
    if target in QUESTIONS:
        return step_number(target)
    return TOTAL_STEPS if target == "review" else 1


async def offer_resume(bot: Bot, chat_id: int, state: FSMContext) -> None:
    target = await current_screen(state)
    await bot.send_message(
        chat_id,
        _("You have an unfinished report (step {step}). Continue it, or start over?").format(
            step=draft_step(target or "consent")),
        reply_markup=draft_keyboard(),
    )


async def discard(state: FSMContext, store: Store, draft: Draft | None) -> None:
    if draft is not None:
        await store.attachments.discard_draft(draft.draft_ref)
    await state.clear()


async def edit_step(bot: Bot, chat_id: int, state: FSMContext, draft: Draft, step: int,
                    config: Config, store: Store) -> None:
    qid = first_of_step(step, draft.answers)
    if qid is None:
        await show_review(bot, chat_id, state, draft, config, store)
        return
    draft.editing = True
    await ask(bot, chat_id, state, draft, qid, config, store)


async def submit(bot: Bot, user_id: int, chat_id: int, state: FSMContext, draft: Draft,
                 config: Config, store: Store) -> None:
    sent_today = await store.cases.count_recent(user_id, timedelta(days=1))
    if sent_today >= config.limits.reports_per_day:
        await bot.send_message(chat_id, _(
            "You have already sent several reports today. Please wait a few hours before "
            "sending another one. Your answers are kept."))
        return
    if await is_blocked(store, user_id):  # closed as spam before: nothing is stored
        await state.clear()
        await store.attachments.discard_draft(draft.draft_ref)
        await retire_ui(bot, chat_id, draft)
        await bot.send_message(chat_id, _(BLOCKED_ANSWER))
        return
    case = await store.cases.submit(
        user_id, chat_id,
        Submission(answers=draft.answers, consent=draft.consent, draft_ref=draft.draft_ref,
                   locale=get_i18n().current_locale),
    )
    # The case is committed before anything else: losing the draft now loses nothing.
    await state.clear()
    await retire_ui(bot, chat_id, draft)
    log.info("case %s submitted (urgent=%s, consent %s)", case.id, case.urgent, CONSENT_VERSION)
    await bot.send_message(
        chat_id, submitted_text(case.code, case.urgent, draft.answers.get("contact") == "yes"),
        reply_markup=submitted_keyboard(),
    )

