"""Every callback query is answered exactly when nothing else answered it.

Telegram shows a spinner on the pressed button until the bot answers the query. Handlers
answer with what they have to say; this middleware (outer, on callback queries) answers the
rest: a neutral "out of date" alert when no handler took the query or its message is no
longer accessible to the bot (then no handler runs: they edit that message), and an empty
answer when the handler failed (handlers/errors.py apologises) or simply did not answer. The
session middleware ``AnswerTracker`` tells it which queries were answered already.

Why not aiogram's ``CallbackAnswerMiddleware`` (aiogram.utils.callback_answer): it is an inner
middleware, so it runs only once a handler's filters matched. It cannot answer a query that no
handler took (the "out of date" alert above) or whose message is gone before any filter ran,
and it answers again after a handler that answered itself. This guard keeps those guarantees
(tests/test_exactly_once.py, tests/test_junk.py) with the same one-answer-per-query contract.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, InaccessibleMessage, TelegramObject

from handlers.common import stale_text

_answered: ContextVar[set[str] | None] = ContextVar("kua_answered_callbacks", default=None)


class AnswerTracker(BaseRequestMiddleware):
    """``bot.session.middleware(AnswerTracker())``: notes the queries answered in this update;
    a query Telegram no longer accepts an answer for counts as answered (never an error), and
    the first answer wins: a second one in the same update is not sent (Telegram would refuse
    it), so a filter may answer for its handlers (e.g. "No such case") and fall through."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        query_id = method.callback_query_id if isinstance(method, AnswerCallbackQuery) else None
        if query_id is None:
            return await make_request(bot, method)
        answered = _answered.get()
        if answered is not None and query_id in answered:
            return True
        try:
            result = await make_request(bot, method)
        except TelegramBadRequest:
            # "query is too old" / "query ID is invalid": answered before (an update delivered
            # again after a crash) or too late. The spinner is gone either way; the update's
            # real work must not fail over it.
            if answered is not None:
                answered.add(query_id)
            return True
        if answered is not None:
            answered.add(query_id)
        return result


class CallbackGuard(BaseMiddleware):
    """``dp.callback_query.outer_middleware(CallbackGuard())``."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        answered: set[str] = set()
        token = _answered.set(answered)
        try:
            if event.message is None or isinstance(event.message, InaccessibleMessage):
                # Too old or deleted: the handlers would edit a message they cannot reach.
                await _answer(event, answered, stale_text(), alert=True)
                return None
            try:
                result = await handler(event, data)
            except Exception:
                # The spinner stops; the error handler says what happened (in private chats).
                await _answer(event, answered, None, alert=False)
                raise
            if result is UNHANDLED:
                await _answer(event, answered, stale_text(), alert=True)
            else:
                await _answer(event, answered, None, alert=False)
            return result
        finally:
            _answered.reset(token)


async def _answer(query: CallbackQuery, answered: set[str], text: str | None, *, alert: bool) -> None:
    if query.id in answered:
        return
    with contextlib.suppress(Exception):  # gone or the network: nothing more to do for it
        bot = query.bot
        if bot is not None:
            await bot.answer_callback_query(query.id, text=text, show_alert=alert or None)
    answered.add(query.id)
