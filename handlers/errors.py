"""Errors in one place: logged without any user data, answered with a localized apology.

Callbacks are answered by bot.callbacks.CallbackGuard; here a private chat gets the apology
in its window, with the menu (a message of its own only when the window cannot be found, e.g.
the storage itself failed) — never while Telegram's flood-control window for that chat is open
(it would only prolong it). Errors in groups are logged and nothing is said there: the
coordinators' chat is not the place for it.
"""

from __future__ import annotations

import logging
from typing import Protocol

from aiogram import Bot, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

from handlers import window
from handlers.common import main_menu

log = logging.getLogger("kua.errors")


class FloodWindow(Protocol):
    """What the apology needs of bot.flood.FloodGate (injected as ``flood_gate``)."""

    async def remaining(self, chat: str | None) -> float: ...


async def on_error(
    event: ErrorEvent, bot: Bot, flood_gate: FloodWindow | None = None, state: FSMContext | None = None
) -> None:
    exc = event.exception
    # Only the type and the frames: exception messages may quote what the user sent.
    log.error(
        "update %s failed: %s",
        event.update.update_id,
        type(exc).__name__,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    update = event.update
    chat = None
    if update.message is not None:
        chat = update.message.chat
    elif update.callback_query is not None and update.callback_query.message is not None:
        chat = update.callback_query.message.chat
    if chat is None or chat.type != "private":
        return
    chat_id = chat.id
    if flood_gate is not None and await flood_gate.remaining(str(chat_id)) > 0:
        return
    text = _("Something went wrong on our side. Your answers are kept; please try again in a minute.")
    try:
        if state is not None and await _in_window(bot, chat_id, state, text):
            return
        await bot.send_message(chat_id, text, reply_markup=main_menu())
    except Exception:  # noqa: BLE001 - the apology itself failed (network): nothing more to do
        log.warning("could not send the error notice")


async def _in_window(bot: Bot, chat_id: int, state: FSMContext, text: str) -> bool:
    """The apology drawn in the chat's window; False when the window cannot be read."""
    try:
        current = (await state.get_data()).get(window.UI_KEY)
    except Exception:  # noqa: BLE001 - the storage may be what failed: a message of its own then
        return False
    shown = await window.draw(bot, chat_id, current if isinstance(current, int) else None, text, main_menu())
    if shown != current:
        try:
            await state.update_data({window.UI_KEY: shown})
        except Exception:  # noqa: BLE001 - shown already; the next screen finds its way (a new window)
            log.warning("could not record the window after an error")
    return True


def make_router() -> Router:
    """A fresh router (the app can be built more than once per process, e.g. in tests)."""
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
