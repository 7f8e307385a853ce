"""Last resort for private chats: stale buttons and messages outside any conversation."""
from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.common import main_menu

router = Router(name="fallback")


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    # After a restart, a deploy or a finished report, old buttons land here: say so, change nothing.
    await query.answer(_("This button is out of date."))


@router.message()
async def anything_else(message: Message) -> None:
    await message.answer(_("Please use the menu below."), reply_markup=main_menu())
