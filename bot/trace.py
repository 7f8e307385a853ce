"""Which messages exist in each private chat, so "Erase this chat" can delete them.

Incoming: an outer middleware on message updates. Outgoing: a middleware on the Bot's session
that looks at what send*/copy*/forward* calls returned. Only private chats (reporters and
coordinators talking to the bot), never groups; only message ids and times (storage.privacy).
A failure to record is logged and never stops an update or a send. Inside an update the rows
are buffered and written with the update's FSM changes in its one transaction at the end
(storage.db.UnitOfWork); elsewhere (the delivery worker) each is written at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Message, MessageId, TelegramObject

from storage.db import current_unit
from storage.repositories import Store
from storage.untraced import is_untraced

log = logging.getLogger("kua.trace")
_PREFIXES = ("send", "copy", "forward")


class IncomingTraceMiddleware(BaseMiddleware):
    """Outer middleware for `message` updates: remember the user's messages in private chats."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message) and event.chat.type == "private":
            await _record(self.store, event.chat.id, [event.message_id], event.date)
        return await handler(event, data)


class OutgoingTraceMiddleware(BaseRequestMiddleware):
    """Session middleware: remember what the bot sent to private chats."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        response = await make_request(bot, method)
        if is_untraced() or not method.__api_method__.startswith(_PREFIXES):
            return response
        result: Any = getattr(response, "result", response)  # a Response, unless a test fakes one
        items = result if isinstance(result, list) else [result]
        sent = [m for m in items if isinstance(m, Message) and m.chat.type == "private"]
        if sent:
            await _record(self.store, sent[0].chat.id, [m.message_id for m in sent], sent[0].date)
        else:
            chat_id = getattr(method, "chat_id", None)
            copies = [m.message_id for m in items if isinstance(m, MessageId)]
            # Private chat ids are the users' ids: positive. Groups and channels are negative.
            if copies and isinstance(chat_id, int) and chat_id > 0:
                await _record(self.store, chat_id, copies, None)
        return response


async def _record(store: Store, chat_id: int, message_ids: list[int], sent_at: datetime | None) -> None:
    unit = current_unit()
    if unit is not None:
        # Inside an update: written with the update's other changes in its one transaction at
        # the end (storage.db.UnitOfWork), never while the update is still talking to Telegram.
        unit.pending.append(store.trace.later(chat_id, message_ids, sent_at))
        return
    try:
        await store.trace.record(chat_id, message_ids, sent_at)
    except Exception as exc:  # noqa: BLE001 - a lost trace entry must not lose the message
        log.error("could not record a message for erasing: %s", type(exc).__name__)
