"""A Bot session that answers every request at once without any network (aiogram's own
tests/mocked_bot.py idea): for the fast tier — many updates through the real Dispatcher.

Answers are shaped by what each method returns (a Message for sends and edits, True for
most, a File for getFile); every request is recorded in ``requests``.
"""

from __future__ import annotations

import itertools
import time
import typing
from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import TelegramMethod
from aiogram.types import Chat, File, Message, User


class MockedSession(BaseSession):
    def __init__(self, bot_id: int = 123456, keep: int | None = None) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self.messages: list[tuple[TelegramMethod[Any], Message]] = []  # sends and edits, answered
        self.counts: dict[str, int] = {}
        self.keep = keep  # keep only the newest `keep` requests (memory stays flat)
        self._ids = itertools.count(1000)
        self.bot_id = bot_id

    async def close(self) -> None:
        pass

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        self.requests.append(method)
        name = method.__api_method__
        self.counts[name] = self.counts.get(name, 0) + 1
        if self.keep is not None and len(self.requests) > self.keep:
            del self.requests[: len(self.requests) - self.keep]
            del self.messages[: max(len(self.messages) - self.keep, 0)]
        returning = method.__returning__
        options = typing.get_args(returning) or (returning,)
        if Message in options:
            message = self._message(bot, method)
            self.messages.append((method, message))
            return message
        if returning is bool or bool in options:
            return True
        if returning is User:
            return User(id=self.bot_id, is_bot=True, first_name="Kua", username="kua_test_bot")
        if returning is File:
            return File(
                file_id=str(getattr(method, "file_id", "f")),
                file_unique_id="u",
                file_size=4,
                file_path="photos/file.jpg",
            )
        if typing.get_origin(returning) is list:
            return []
        if returning is int:
            return 1
        raise TelegramBadRequest(method=method, message="Bad Request: not in the mock")

    def _message(self, bot: Bot, method: TelegramMethod[Any]) -> Message:
        chat_id = getattr(method, "chat_id", None)
        chat_id = int(chat_id) if isinstance(chat_id, int | str) and str(chat_id).lstrip("-").isdigit() else 1
        chat = Chat(id=chat_id, type="private" if chat_id > 0 else "supergroup")
        edited = getattr(method, "message_id", None) if method.__api_method__.startswith("edit") else None
        return Message.model_validate(
            {
                # An edit answers with the message it edited, a send with a new one.
                "message_id": edited if isinstance(edited, int) else next(self._ids),
                "date": int(time.time()),
                "chat": chat.model_dump(),
                "text": "ok",
                "from": {"id": self.bot_id, "is_bot": True, "first_name": "Kua"},
            },
            context={"bot": bot},
        )

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b"junk"


def use_mocked_session(bot: Bot, session: MockedSession) -> MockedSession:
    """Swap the bot's session, keeping its request middlewares (flood gate, trace...)."""
    session.middleware = bot.session.middleware
    bot.session = session
    return session
