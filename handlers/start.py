"""/start, the main menu, help and the language choice (any time, mid-report too)."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from domain.values import LOCALES, telegram_locale
from handlers import window
from handlers.common import Lang, Menu, MenuAction, language_keyboard, main_menu, main_menu_text, message_of
from handlers.guide_links import Guide, GuideAct
from handlers.report import flow, states
from handlers.report.draft import load_draft, save_draft
from handlers.settings import Config
from storage.repositories import Store


async def show_menu(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    config: Config,
    store: Store,
    *,
    fresh: bool = False,
    prefix: str | None = None,
) -> None:
    """The main menu in the window; an open report is paused first so typing can't answer it
    by accident, and a code not yet saved is shown again instead."""
    raw = await state.get_state()
    if states.is_submitted(raw) and await flow.redisplay(bot, chat_id, state, config, store, fresh=fresh):
        return
    if states.drafting(raw):
        await flow.pause(bot, chat_id, state, config, fresh=fresh)  # the menu with "Continue"
        return
    draft_target = await flow.current_screen(state)
    step = flow.draft_step(draft_target) if draft_target and draft_target != "submitted" else None
    text = main_menu_text() if prefix is None else prefix + "\n\n" + main_menu_text()
    await window.Window(bot, chat_id, state).show(text, main_menu(step), fresh=fresh)


async def cmd_start(
    message: Message, bot: Bot, state: FSMContext, config: Config, store: Store, has_locale: bool = False
) -> None:
    await window.remove(message)
    if not has_locale:
        await window.Window(bot, message.chat.id, state).show(
            _("Choose your language"), language_keyboard(telegram_locale(message.from_user)), fresh=True
        )
        return
    await show_menu(bot, message.chat.id, state, config, store, fresh=True)


async def cmd_help(message: Message, bot: Bot, state: FSMContext, config: Config, store: Store) -> None:
    await window.remove(message)
    await show_menu(
        bot,
        message.chat.id,
        state,
        config,
        store,
        fresh=True,
        prefix=escape(
            _(
                "Use the menu buttons, or these commands:\n"
                "/report — report ill-treatment or continue your report\n"
                "/myreports — your reports and news about them\n"
                "/rights — know your rights\n"
                "/erase — erase this chat\n"
                "/forget — remove every link between this account and stored data\n"
                "/language — change the language\n"
                "/cancel — delete an unfinished report\n"
                "/start — the main menu"
            )
        ),
    )


async def cmd_language(message: Message, bot: Bot, state: FSMContext, i18n: I18n) -> None:
    await window.remove(message)
    await _pick_language(bot, message.chat.id, state, i18n, fresh=True)


async def menu_language(query: CallbackQuery, bot: Bot, state: FSMContext, i18n: I18n) -> None:
    await query.answer()
    await _pick_language(bot, message_of(query).chat.id, state, i18n)


async def _pick_language(
    bot: Bot, chat_id: int, state: FSMContext, i18n: I18n, *, fresh: bool = False
) -> None:
    draft = await load_draft(state)
    text, markup = _("Choose your language"), language_keyboard(i18n.current_locale)
    if draft is not None:  # the draft holds the window: keep it in step
        draft.ui = await window.draw(bot, chat_id, draft.ui, text, markup, fresh=fresh)
        await save_draft(state, draft)
    else:
        await window.Window(bot, chat_id, state).show(text, markup, fresh=fresh)


async def on_language(
    query: CallbackQuery,
    callback_data: Lang,
    bot: Bot,
    state: FSMContext,
    config: Config,
    store: Store,
    i18n: I18n,
) -> None:
    code = callback_data.code
    if code not in LOCALES:
        await query.answer(_("This button is out of date."))
        return
    await store.accounts.set_locale(query.from_user.id, code)
    await query.answer()
    chat_id = message_of(query).chat.id
    # The picker becomes the next screen: it is the window (adopted if it was not yet).
    data = await state.get_data()
    if data.get(window.UI_KEY) != message_of(query).message_id:
        await window.drop(bot, chat_id, data.get(window.UI_KEY))
        await state.update_data({window.UI_KEY: message_of(query).message_id})
    with i18n.use_locale(code):
        # Mid-report: the same screen again, now in the new language; no answer is lost.
        raw = await state.get_state()
        if (
            states.in_report(raw)
            and not states.is_paused(raw)
            and await flow.redisplay(bot, chat_id, state, config, store)
        ):
            return
        await show_menu(bot, chat_id, state, config, store)


async def on_guide_back(
    query: CallbackQuery, callback_data: Guide, bot: Bot, state: FSMContext, config: Config, store: Store
) -> None:
    """Out of the rights library: the report's screen it was opened from, or the menu."""
    await query.answer()
    chat_id = message_of(query).chat.id
    pressed = message_of(query).message_id
    if (await state.get_data()).get(window.UI_KEY) != pressed:
        await window.drop(bot, chat_id, pressed)  # a library screen beside the window: gone too
    raw = await state.get_state()
    if callback_data.r and states.drafting(raw) and await flow.redisplay(bot, chat_id, state, config, store):
        return
    await show_menu(bot, chat_id, state, config, store)


def make_router() -> Router:
    """A fresh router (the app can be built more than once per process, e.g. in tests)."""
    router = Router(name="start")
    router.callback_query.register(on_guide_back, Guide.filter(F.act == GuideAct.BACK))
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_language, Command("language"))
    router.callback_query.register(menu_language, Menu.filter(F.act == MenuAction.LANGUAGE))
    router.callback_query.register(on_language, Lang.filter())
    return router
