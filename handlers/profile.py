"""The bot's profile: the command menu and the descriptions, in every language (and a default for
everyone else)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from aiogram.utils.i18n import I18n

from domain.i18n import N_
from domain.values import LOCALES

log = logging.getLogger(__name__)

COMMANDS = (
    ("start", N_("Main menu")),
    ("report", N_("Report ill-treatment, or continue your report")),
    ("myreports", N_("Your reports and news about them")),
    ("rights", N_("Know your rights: short guides")),
    ("language", N_("Change the language")),
    ("cancel", N_("Delete an unfinished report")),
    ("help", N_("How to use this bot")),
    ("erase", N_("Delete the messages of this chat")),
    ("forget", N_("Remove every link between this account and stored data")),
)


def commands_for(i18n: I18n, locale: str) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=i18n.gettext(text, locale=locale)) for name, text in COMMANDS
    ]


async def set_commands(bot: Bot, i18n: I18n) -> None:
    scope = BotCommandScopeAllPrivateChats()
    for locale in LOCALES:
        await bot.set_my_commands(commands_for(i18n, locale), scope=scope, language_code=locale)
    await bot.set_my_commands(commands_for(i18n, i18n.default_locale), scope=scope)


# Shown on the bot's profile and in the empty chat before /start (setMyDescription), and on the
# profile and in shares (setMyShortDescription). Neutral on purpose: a relative's phone may be
# searched, and the profile is one tap away in the chat list; the bot explains itself inside the
# chat (the main menu), where the window is cleared. The NGO's outreach names the username.
DESCRIPTION = N_(
    "A personal assistant. Press the button below to begin; everything is explained inside the chat."
)
SHORT_DESCRIPTION = N_("A personal assistant.")
DESCRIPTION_LIMIT = 512
SHORT_DESCRIPTION_LIMIT = 120


def descriptions_for(i18n: I18n, locale: str) -> tuple[str, str]:
    """(description, short description) in `locale`; a translation over Telegram's limit falls
    back to English (and is logged), so a long translation can never stop the bot starting."""
    pairs = ((DESCRIPTION, DESCRIPTION_LIMIT), (SHORT_DESCRIPTION, SHORT_DESCRIPTION_LIMIT))
    texts = []
    for msgid, limit in pairs:
        text = i18n.gettext(msgid, locale=locale)
        if len(text) > limit:
            log.warning(
                "the %s translation of a bot description is over %d characters; using English", locale, limit
            )
            text = msgid
        texts.append(text)
    return texts[0], texts[1]


async def set_descriptions(bot: Bot, i18n: I18n) -> None:
    for locale in (*LOCALES, ""):
        description, short = descriptions_for(i18n, locale or i18n.default_locale)
        await bot.set_my_description(description=description, language_code=locale or None)
        await bot.set_my_short_description(short_description=short, language_code=locale or None)


# The coordinators' group gets its own menu (a chat scope), in every language.
GROUP_COMMANDS = (
    ("queue", N_("Open cases, urgent first, with filters")),
    ("case", N_("A case and its history: /case 12")),
    ("mine", N_("The open cases you have taken")),
)


async def set_group_commands(bot: Bot, i18n: I18n, chat_id: int) -> None:
    """/queue, /case and /mine in the coordinators' group's command menu."""
    if not chat_id:
        return
    scope = BotCommandScopeChat(chat_id=chat_id)
    try:
        for locale in (*LOCALES, ""):
            commands = [
                BotCommand(command=name, description=i18n.gettext(text, locale=locale or i18n.default_locale))
                for name, text in GROUP_COMMANDS
            ]
            await bot.set_my_commands(commands, scope=scope, language_code=locale or None)
    except TelegramAPIError as exc:  # the bot is not in that chat (yet): cases wait anyway
        log.warning("could not set the coordinators' group commands: %s", type(exc).__name__)
