"""The command menu, registered once per language (and a default for everyone else)."""
from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from aiogram.utils.i18n import I18n

from domain.i18n import N_
from domain.values import LOCALES

COMMANDS = (
    ("start", N_("Main menu")),
    ("report", N_("Report ill-treatment, or continue your report")),
    ("myreports", N_("Your reports and news about them")),
    ("language", N_("Change the language")),
    ("cancel", N_("Delete an unfinished report")),
    ("help", N_("How to use this bot")),
)


def commands_for(i18n: I18n, locale: str) -> list[BotCommand]:
    return [BotCommand(command=name, description=i18n.gettext(text, locale=locale))
            for name, text in COMMANDS]


async def set_commands(bot: Bot, i18n: I18n) -> None:
    scope = BotCommandScopeAllPrivateChats()
    for locale in LOCALES:
        await bot.set_my_commands(commands_for(i18n, locale), scope=scope, language_code=locale)
    await bot.set_my_commands(commands_for(i18n, i18n.default_locale), scope=scope)
