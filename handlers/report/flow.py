"""Moving through the report: showing a question, advancing, the review, pausing, submitting.

Handlers call these; they hold the rules that are not specific to one kind of update. Every
screen is drawn into the chat's one window (handlers.window): the draft keeps its message id.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from html import escape

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from domain.i18n import N_
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
from handlers import window
from handlers.common import main_menu
from handlers.report.draft import Draft, load_draft, save_draft
from handlers.report.files import cleaning_wording
from handlers.report.keyboards import (
    consent_keyboard,
    draft_keyboard,
    question_keyboard,
    review_keyboard,
    saved_keyboard,
    story_keyboard,
)
from handlers.report.screens import (
    consent_text,
    paused_text,
    question_text,
    review_text,
    story_pages,
    submitted_text,
    urgent_checklist,
)
from handlers.report.states import question_state, screen, screen_of
from handlers.settings import Config
from services import limits as rate
from services.spam import is_blocked
from storage.repositories import Consent, Store, Submission, SubmittedCase

log = logging.getLogger(__name__)

# A spam-blocked sender (services.spam) is told only what a busy queue would say.
BLOCKED_ANSWER = N_("Your report cannot be accepted at the moment. Please try again later.")

SENT_KEY = "sent"  # after Send: the draft ref whose case code is kept until saved
CHECKLIST_KEY = "checklist"  # the urgent checklist's message, removed with the code


def lifetime(config: Config) -> timedelta:
    return timedelta(days=config.retention.draft_days)


async def _draw(
    bot: Bot,
    chat_id: int,
    draft: Draft,
    text: str,
    markup: InlineKeyboardMarkup | None,
    *,
    fresh: bool = False,
) -> None:
    draft.ui = await window.draw(bot, chat_id, draft.ui, text, markup, fresh=fresh)


async def file_count(store: Store, draft: Draft) -> int:
    return len(await store.attachments.for_draft(draft.draft_ref))


async def ask(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    draft: Draft,
    qid: str,
    config: Config,
    store: Store,
    *,
    hint: str | None = None,
    note: str | None = None,
    fresh: bool = False,
    receiving: bool = False,
) -> None:
    question = QUESTIONS[qid]
    kinds = (
        [f.kind for f in await store.attachments.for_draft(draft.draft_ref)]
        if question.kind is Kind.FILES
        else []
    )
    text = question_text(
        qid,
        draft.answers,
        max_files=config.limits.max_files_per_case,
        max_mb=config.limits.max_file_mb,
        long_limit=config.limits.max_text_chars,
        file_kinds=kinds,
        hint=hint,
        note=note,
        receiving=receiving,
        cleaning=cleaning_wording(config.limits) if question.kind is Kind.FILES else None,
    )
    await _draw(
        bot,
        chat_id,
        draft,
        text,
        question_keyboard(question, draft.answers.get(qid), draft.pending.get(qid)),
        fresh=fresh,
    )
    await state.set_state(question_state(qid))
    await save_draft(state, draft)


async def show_review(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    draft: Draft,
    config: Config,
    store: Store,
    *,
    hint: str | None = None,
    fresh: bool = False,
) -> None:
    draft.answers = prune(draft.answers)
    draft.editing = False
    # Never show the review with a required or applicable question unanswered.
    for qid in ORDER:
        if (
            QUESTIONS[qid].applies(draft.answers)
            and qid not in draft.answers
            and QUESTIONS[qid].kind is not Kind.FILES
        ):
            await ask(bot, chat_id, state, draft, qid, config, store, fresh=fresh)
            return
    kinds = [f.kind for f in await store.attachments.for_draft(draft.draft_ref)]
    await _draw(
        bot,
        chat_id,
        draft,
        review_text(draft.answers, kinds, hint=hint),
        review_keyboard(draft.answers),
        fresh=fresh,
    )
    await state.set_state(screen("review"))
    await save_draft(state, draft)


async def show_story(bot: Bot, chat_id: int, state: FSMContext, draft: Draft, page: int) -> None:
    """The reporter's own account in full, paged within Telegram's limit, in the window."""
    pages = story_pages(draft.answers)
    page = max(0, min(page, len(pages) - 1))
    await _draw(bot, chat_id, draft, pages[page], story_keyboard(page, len(pages)))
    await save_draft(state, draft)


async def advance(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    draft: Draft,
    after: str,
    config: Config,
    store: Store,
    *,
    note: str | None = None,
) -> None:
    """After answering `after`: the next question, or back to the review when editing."""
    draft.answers = prune(draft.answers)
    nxt = next_question(draft.answers, after)
    if draft.editing and (nxt is None or STEP_OF[nxt] != STEP_OF[after]):
        nxt = None
    if nxt is None:
        await show_review(bot, chat_id, state, draft, config, store, hint=None)
    else:
        await ask(bot, chat_id, state, draft, nxt, config, store, note=note)


async def show_consent(
    bot: Bot, chat_id: int, state: FSMContext, draft: Draft, config: Config, *, fresh: bool = False
) -> None:
    await _draw(
        bot, chat_id, draft, consent_text(config.ngo.name), consent_keyboard(draft.consent), fresh=fresh
    )
    await state.set_state(screen("consent"))
    await save_draft(state, draft)


async def begin(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    config: Config,
    store: Store,
    *,
    fresh: bool = False,
) -> None:
    """A new draft, starting with the consent screen, in the chat's window."""
    ui = (await state.get_data()).get(window.UI_KEY)
    draft = Draft(
        draft_ref=store.attachments.new_draft_ref(),
        started=store.clock(),
        ui=ui if isinstance(ui, int) else None,
    )
    await state.set_data({})
    await show_consent(bot, chat_id, state, draft, config, fresh=fresh)


async def current_screen(state: FSMContext) -> str | None:
    """The state to show again: a question id, "consent", "review" or "submitted"."""
    raw = await state.get_state()
    name = screen_of(raw)
    if name is None:
        return None
    if name in ("paused", "cancel"):
        draft = await load_draft(state)
        return draft.paused if draft else None
    return name


async def redisplay(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    config: Config,
    store: Store,
    *,
    hint: str | None = None,
    fresh: bool = False,
) -> bool:
    """Show the current screen of the draft again (after a pause, a restart, a language change).

    Returns False when there is no usable draft (none, or expired: then it is discarded).
    """
    target = await current_screen(state)
    if target == "submitted":
        return await show_sent_again(bot, chat_id, state, store, fresh=fresh)
    draft = await load_draft(state)
    if draft is None or target is None:
        return False
    if draft.expired(store.clock(), lifetime(config)):
        await discard(state, store, draft)
        await window.Window(bot, chat_id, state).show(
            _("Your unfinished report expired and was deleted. You can start a new one."),
            main_menu(),
            fresh=fresh,
        )
        return True
    sent = await store.cases.sent(draft.draft_ref)
    if sent is not None:  # Send went through before a restart: the code, not the review
        await show_submitted(
            bot,
            chat_id,
            state,
            draft.draft_ref,
            sent,
            draft.ui,
            contact=draft.answers.get("contact") == "yes",
            fresh=fresh,
        )
        return True
    draft.paused = None
    if target == "consent":
        await show_consent(bot, chat_id, state, draft, config, fresh=fresh)
    elif target == "review":
        await show_review(bot, chat_id, state, draft, config, store, hint=hint, fresh=fresh)
    elif target in QUESTIONS:
        await ask(bot, chat_id, state, draft, target, config, store, hint=hint, fresh=fresh)
    else:
        return False
    return True


async def pause(bot: Bot, chat_id: int, state: FSMContext, config: Config, *, fresh: bool = False) -> None:
    draft = await load_draft(state)
    target = await current_screen(state)
    if draft is None or target is None or target == "submitted":
        return
    draft.paused = target
    await _draw(
        bot,
        chat_id,
        draft,
        paused_text(config.retention.draft_days),
        main_menu(draft_step(target)),
        fresh=fresh,
    )
    await state.set_state(screen("paused"))
    await save_draft(state, draft)


def draft_step(target: str) -> int:
    """The step number shown for a draft's screen."""
    if target in QUESTIONS:
        return step_number(target)
    return TOTAL_STEPS if target == "review" else 1


async def offer_resume(bot: Bot, chat_id: int, state: FSMContext, *, fresh: bool = False) -> None:
    target = await current_screen(state)
    await window.Window(bot, chat_id, state).show(
        _("You have an unfinished report (step {step}). Continue it, or start over?").format(
            step=draft_step(target or "consent")
        ),
        draft_keyboard(),
        fresh=fresh,
    )


async def discard(state: FSMContext, store: Store, draft: Draft | None) -> None:
    """Drop the draft and its files; the window stays the chat's window."""
    if draft is not None:
        await store.attachments.discard_draft(draft.draft_ref)
    ui = draft.ui if draft is not None else (await state.get_data()).get(window.UI_KEY)
    await state.clear()
    if ui is not None:
        await state.set_data({window.UI_KEY: ui})


async def edit_step(
    bot: Bot, chat_id: int, state: FSMContext, draft: Draft, step: int, config: Config, store: Store
) -> None:
    qid = first_of_step(step, draft.answers)
    if qid is None:
        await show_review(bot, chat_id, state, draft, config, store)
        return
    draft.editing = True
    await ask(bot, chat_id, state, draft, qid, config, store)


# --- Send ---------------------------------------------------------------------------------


async def submit(
    bot: Bot, user_id: int, chat_id: int, state: FSMContext, draft: Draft, config: Config, store: Store
) -> None:
    """Send the draft, once: a second Send of the same draft shows the case it became."""
    case = await store.cases.sent(draft.draft_ref)
    if case is None:
        if not await rate.may_submit(store, user_id, config.limits.reports_per_day):
            await show_review(
                bot,
                chat_id,
                state,
                draft,
                config,
                store,
                hint=_(
                    "You have already sent several reports today. To protect the queue from "
                    "floods, please wait a few hours before sending another one. Your answers are "
                    "kept."
                ),
            )
            return
        if await is_blocked(store, user_id):  # closed as spam before: nothing is stored
            await store.attachments.discard_draft(draft.draft_ref)
            ui = await window.draw(bot, chat_id, draft.ui, escape(_(BLOCKED_ANSWER)))
            await state.clear()
            await state.set_data({window.UI_KEY: ui})
            return
        case = await store.cases.submit(
            user_id,
            chat_id,
            Submission(
                answers=draft.answers,
                consent=_consent(draft),
                draft_ref=draft.draft_ref,
                locale=get_i18n().current_locale,
            ),
        )
        log.info("case %s submitted (urgent=%s, consent %s)", case.id, case.urgent, CONSENT_VERSION)
        await surge_check(bot, config, store)
    # The case is committed before anything else: losing the draft now loses nothing.
    await show_submitted(
        bot, chat_id, state, draft.draft_ref, case, draft.ui, contact=draft.answers.get("contact") == "yes"
    )


def _consent(draft: Draft) -> Consent:
    """The contact choice is the answer to step 12 (asked once); the rest from the consent."""
    c = draft.consent
    return Consent(contact=draft.answers.get("contact") == "yes", share=c.share, stats=c.stats)


async def show_submitted(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    draft_ref: str,
    case: SubmittedCase,
    ui: int | None,
    *,
    contact: bool,
    checklist: int | None = None,
    fresh: bool = False,
) -> None:
    """The code in the window, with "I have saved the code"; the urgent checklist below."""
    if case.code is None:  # already saved: nothing to show any more
        await finish(bot, chat_id, state, draft_ref)
        return
    ui = await window.draw(
        bot, chat_id, ui, submitted_text(case.code, contact), saved_keyboard(), fresh=fresh
    )
    if case.urgent and checklist is None:
        checklist = await window.send(bot, chat_id, urgent_checklist())
    await state.set_state(screen("submitted"))
    await state.set_data(
        {window.UI_KEY: ui, SENT_KEY: draft_ref, CHECKLIST_KEY: checklist, "contact": contact}
    )


async def show_sent_again(
    bot: Bot, chat_id: int, state: FSMContext, store: Store, *, fresh: bool = False
) -> bool:
    """/start (or anything) before "I have saved the code": the code again, until saved."""
    data = await state.get_data()
    draft_ref = data.get(SENT_KEY)
    if not isinstance(draft_ref, str):
        return False
    case = await store.cases.sent(draft_ref)
    if case is None:
        return False
    await show_submitted(
        bot,
        chat_id,
        state,
        draft_ref,
        case,
        data.get(window.UI_KEY),
        contact=bool(data.get("contact")),
        checklist=data.get(CHECKLIST_KEY),
        fresh=fresh,
    )
    return True


async def code_saved(bot: Bot, chat_id: int, state: FSMContext, store: Store) -> None:
    """ "I have saved the code": the code is no longer kept, and the chat shows one neutral
    line."""
    data = await state.get_data()
    draft_ref = data.get(SENT_KEY)
    if isinstance(draft_ref, str):
        await store.cases.code_saved(draft_ref)
    await window.drop(bot, chat_id, data.get(CHECKLIST_KEY))
    await finish(bot, chat_id, state, draft_ref)


async def finish(bot: Bot, chat_id: int, state: FSMContext, draft_ref: object) -> None:
    ui = (await state.get_data()).get(window.UI_KEY)
    ui = await window.draw(bot, chat_id, ui if isinstance(ui, int) else None, window.neutral_line())
    await state.clear()
    await state.set_data({window.UI_KEY: ui})


async def surge_check(bot: Bot, config: Config, store: Store) -> None:
    """Alert the admins, at most once an hour, when new reports per hour exceed the limit."""
    count = await rate.surge_to_report(store, config.limits.surge_per_hour)
    if count is None:
        return
    with get_i18n().use_locale(config.app.default_locale):  # staff, not the reporter
        text = _(
            "⚠ Unusually many new reports: {count} in the last hour (the alert limit is "
            "{limit}). This may be a flood of fake reports."
        ).format(count=count, limit=config.limits.surge_per_hour)
    for admin in config.coordination.admins:
        with contextlib.suppress(TelegramAPIError):  # an admin who never started the bot
            await bot.send_message(admin, text)
