"""/start, the main menu, help and the language choice (any time, mid-report too)."""
from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Config
from bot.i18n import telegram_locale
from domain.values import LOCALES
from handlers.common import Lang, Menu, MenuAction, language_keyboard, main_menu, main_menu_text
from handlers.report import flow
from storage.repositories import Store



async def _show_menu(bot: Bot, chat_id: int, state: FSMContext, config: Config) -> None:
    """The main menu; an open report is paused first so typing can't answer it by accident."""
    raw = await state.get_state()
    if raw is not None and raw.startswith("Report:") and raw != "Report:paused":
        await flow.pause(bot, chat_id, state, config)  # shows the menu with "Continue"
        return
    draft_target = await flow.current_screen(state)
    step = flow.draft_step(draft_target) if draft_target else None
    await bot.send_message(chat_id, main_menu_text(), reply_markup=main_menu(step))


async def cmd_start(message: Message, bot: Bot, state: FSMContext, config: Config,
                    has_locale: bool = False) -> None:
    if not has_locale:
        await message.answer(_("Choose your language"),
                             reply_markup=language_keyboard(telegram_locale(message.from_user)))
        return
    await _show_menu(bot, message.chat.id, state, config)


async def cmd_help(message: Message, bot: Bot, state: FSMContext, config: Config) -> None:
    await message.answer(_(
        "Use the menu buttons, or these commands:\n"
        "/report — report ill-treatment or continue your report\n"
        "/myreports — your reports and news about them\n"
        "/rights — know your rights\n"
        "/erase — erase this chat\n"
        "/forget — remove every link between this account and stored data\n"
        "/language — change the language\n"
        "/cancel — delete an unfinished report\n"
        "/start — the main menu"))
    await _show_menu(bot, message.chat.id, state, config)


async def cmd_language(message: Message, i18n: I18n) -> None:
    await message.answer(_("Choose your language"),
                         reply_markup=language_keyboard(i18n.current_locale))


async def menu_language(query: CallbackQuery, i18n: I18n) -> None:
    await query.answer()
    await query.message.answer(_("Choose your language"),
                               reply_markup=language_keyboard(i18n.current_locale))


async def on_language(query: CallbackQuery, callback_data: Lang, bot: Bot, state: FSMContext,
                      config: Config, store: Store, i18n: I18n) -> None:
    code = callback_data.code
    if code not in LOCALES:
        await query.answer(_("This button is out of date."))
        return
    await store.accounts.set_locale(query.from_user.id, code)
    await query.answer()
    try:
        await query.message.delete()  # the picker has done its job
    except TelegramBadRequest:
        pass
    chat_id = query.message.chat.id
    with i18n.use_locale(code):
        # Mid-report: the same screen again, now in the new language; no answer is lost.
        raw = await state.get_state()
        if raw is not None and raw.startswith("Report:") and raw != "Report:paused":
            if await flow.redisplay(bot, chat_id, state, config, store):
                return
        await bot.send_message(chat_id, main_menu_text(), reply_markup=main_menu(
            flow.draft_step(t) if (t := await flow.current_screen(state)) else None))


def make_router() -> Router:
    """A fresh router (the app can be built more than once per process, e.g. in tests)."""
    router = Router(name="start")
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_language, Command("language"))
    router.callback_query.register(menu_language, Menu.filter(F.act == MenuAction.LANGUAGE))
    router.callback_query.register(on_language, Lang.filter())
    return router
