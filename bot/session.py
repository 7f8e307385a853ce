"""aiogram's HTTP session, keeping the response types it builds.

For every reply, aiogram's ``check_response`` validates it as ``Response[method.__returning__]``.
pydantic caches parametrized generic models only weakly, and such a class sits in reference
cycles, so every garbage collection dropped them and the next reply rebuilt the class and its
validator (pydantic schema generation: about a sixth of an update's CPU). The session keeps
one strong reference per result type the bot has used (a few dozen at most).
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

__all__ = ["KeptTypesSession"]

_kept: dict[Any, type[Any]] = {}


class KeptTypesSession(AiohttpSession):
    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in _kept:
            _kept[returning] = Response[returning]  # type: ignore[valid-type]  # a runtime type
        return super().check_response(bot, method, status_code, content)
