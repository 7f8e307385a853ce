"""Last resort for private chats: stale buttons and messages outside any conversation."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.common import main_menu


async def stale_button(query: CallbackQuery) -> None:
    # After a restart, a deploy or a finished report, old buttons land here: say so, change nothing.
    await query.answer(_("This button is out of date."))


async def anything_else(message: Message) -> None:
    await message.answer(_("Please use the menu below."), reply_markup=main_menu())


def make_router() -> Router:
    """A fresh router (the app can be built more than once per process, e.g. in tests)."""
    router = Router(name="fallback")
    router.callback_query.register(stale_button)
    router.message.register(anything_else)
    return router
