"""The main menu and the callback data shared by several routers."""

from __future__ import annotations

from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.i18n import N_
from domain.values import LANGUAGE_NAMES, LOCALES
from handlers.telegram_errors import chat_gone


class MenuAction(StrEnum):
    REPORT = "report"
    MY_REPORTS = "my"
    RIGHTS = "rights"
    LANGUAGE = "lang"
    ERASE = "erase"


class Menu(CallbackData, prefix="m1"):
    act: MenuAction


class Lang(CallbackData, prefix="l1"):
    code: str


# Said by the update middlewares in bot/ (bot.callbacks, bot.account_flood): the texts live here.
SLOW_DOWN = N_(
    "Please slow down a little: for the next minute, what you send will be ignored. "
    "Nothing you entered is lost."
)


def stale_text() -> str:
    """The answer to a button whose screen is gone or out of date."""
    return _("This button is out of date.")


def main_menu_text() -> str:
    return _(
        "Kua helps relatives report torture and ill-treatment of people held by the police, in "
        "detention centres or in colonies. You do not need to give your name. Your report goes "
        "to the coordinators of a human rights organisation."
    )


def main_menu(draft_step: int | None = None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if draft_step is None:
        kb.button(text="📝 " + _("Report ill-treatment"), callback_data=Menu(act=MenuAction.REPORT))
    else:
        kb.button(
            text="📝 " + _("Continue my report"),
            callback_data=Menu(act=MenuAction.REPORT),
        )
    kb.button(text="⚖ " + _("Know your rights"), callback_data=Menu(act=MenuAction.RIGHTS))
    kb.button(text="📂 " + _("My reports"), callback_data=Menu(act=MenuAction.MY_REPORTS))
    kb.button(text="🌐 " + _("Language"), callback_data=Menu(act=MenuAction.LANGUAGE))
    kb.button(text="🧹 " + _("Erase this chat"), callback_data=Menu(act=MenuAction.ERASE))
    kb.adjust(1)
    return kb.as_markup()


def language_keyboard(first: str | None) -> InlineKeyboardMarkup:
    """The three languages, each in its own name; the user's Telegram language first."""
    order = sorted(LOCALES, key=lambda code: code != first)
    kb = InlineKeyboardBuilder()
    for code in order:
        kb.button(text=LANGUAGE_NAMES[code], callback_data=Lang(code=code))
    kb.adjust(1)
    return kb.as_markup()


async def send_private(
    bot: Bot, user_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """A message to a staff member's private chat; None if they never opened it (or blocked it)."""
    try:
        return await bot.send_message(user_id, text, reply_markup=markup)
    except TelegramForbiddenError:
        return None
    except TelegramBadRequest as exc:
        if chat_gone(exc):
            return None
        raise


def message_of(query: CallbackQuery) -> Message:
    """The message whose button was pressed. CallbackGuard (bot/callbacks.py) answers presses on
    messages that are gone or too old before any handler runs, so here there always is one."""
    if not isinstance(query.message, Message):
        raise TypeError("a button press without its message got past CallbackGuard")
    return query.message


def sender_of(message: Message) -> User:
    """Who sent a message in a private chat or a group. Only channel posts have none, and no
    router here takes those."""
    if message.from_user is None:
        raise TypeError("a message without a sender (a channel post?)")
    return message.from_user
