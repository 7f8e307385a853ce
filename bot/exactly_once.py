"""Every update applied exactly once: its FSM state, its draft and its id in one transaction.

The middleware sits inside aiogram's FSM middleware (so inside the key's event-isolation
lock) and gives each update a unit of work (storage.fsm.SQLAlchemyStorage.open_unit): the
handlers' set_state / set_data / update_data on the update's own key are buffered and
written once at the end, together with the update id. An update whose id is already
recorded for the key (Telegram delivering it again after a kill) is not handled again; only
its callback, if any, is answered so the button does not spin.

A handler that raises changes nothing in the FSM: the update was not applied (the error
handler apologises and the reporter repeats the step).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update

from bot.i18n import PRELOADED_LOCALE
from handlers.telegram_errors import not_modified
from storage.db import UnitOfWork
from storage.fsm import SQLAlchemyStorage

log = logging.getLogger("kua.updates")


class ExactlyOnceMiddleware(BaseMiddleware):
    """Register with ``dp.update.outer_middleware(...)`` after the Dispatcher is built."""

    def __init__(self, fsm: SQLAlchemyStorage) -> None:
        self.fsm = fsm

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        state = data.get("state")
        if (
            not isinstance(event, Update)
            or not isinstance(state, FSMContext)
            or state.storage is not self.fsm
        ):
            return await handler(event, data)
        async with UnitOfWork(self.fsm.sessions) as work:
            # The update's one read: its FSM record, its applied ids and the stored locale.
            unit = await self.fsm.open_unit(state.key, event.update_id)
            if unit is None:
                log.info("update %s was applied already: not applied again", event.update_id)
                await _quiet_answer(event, data.get("bot"))
                return None
            if "locale" in unit.also:
                data[PRELOADED_LOCALE] = unit.also["locale"]
            try:
                result = await handler(event, data)
            except BaseException:
                self.fsm.close_unit(unit)
                # Nothing of the update is applied, but what it put on the screen is still
                # recorded for "Erase this chat".
                with contextlib.suppress(Exception):
                    await work.write_pending()
                raise
            # The update's one write transaction (storage.db.UnitOfWork: send, then write).
            await self.fsm.commit_unit(unit, also=work.take_pending())
            return result


async def _quiet_answer(update: Update, bot: Bot | None) -> None:
    if update.callback_query is None or bot is None:
        return
    with contextlib.suppress(Exception):  # answered the first time, or too old: either is fine
        await bot.answer_callback_query(update.callback_query.id)


class RepeatedEditIsDone(BaseRequestMiddleware):
    """``bot.session.middleware(RepeatedEditIsDone())``: an edit Telegram refuses as "message
    is not modified" already shows what it asked for — as when an update killed before its
    commit is applied again and repeats its edits. Treated as done, so the update goes on
    (and its FSM changes are written) instead of failing over it."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if not method.__api_method__.startswith("edit") or not not_modified(exc):
                raise
            log.info("%s: not modified (already as asked)", method.__api_method__)
            return True
