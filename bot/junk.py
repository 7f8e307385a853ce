"""Updates of a type this aiogram does not know (a newer Bot API) are skipped quietly.

aiogram would warn with the whole update dumped into the message — the reporter's text
included — and under warnings-as-errors even fail. Here: one line with the update id only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

log = logging.getLogger("kua.updates")


class KnownTypesMiddleware(BaseMiddleware):
    """``dp.update.outer_middleware(KnownTypesMiddleware())``."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Update):
            try:
                event.event_type  # noqa: B018 - raises for a type aiogram does not know
            except UpdateTypeLookupError:
                log.info("update %s skipped: a type this version does not handle", event.update_id)
                return UNHANDLED
        return await handler(event, data)
