"""Errors in one place: logged without any user data, answered with a localized apology."""
from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger("kua.errors")


async def on_error(event: ErrorEvent, bot: Bot) -> None:
    exc = event.exception
    # Only the type and the frames: exception messages may quote what the user sent.
    log.error("update %s failed: %s", event.update.update_id, type(exc).__name__,
              exc_info=(type(exc), exc, exc.__traceback__))
    update = event.update
    chat_id = None
    if update.message:
        chat_id = update.message.chat.id
    elif update.callback_query and update.callback_query.message:
        # Not answering the query here: the handler may have answered it already.
        chat_id = update.callback_query.message.chat.id
    if chat_id is None or chat_id < 0:
        return
    try:
        await bot.send_message(chat_id, _("Something went wrong on our side. Your answers are "
                                          "kept; please try again in a minute."))
    except Exception:  # noqa: BLE001 - the apology itself failed (network): nothing more to do
        log.warning("could not send the error notice")


def make_router() -> Router:
    """A fresh router (the app can be built more than once per process, e.g. in tests)."""
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
