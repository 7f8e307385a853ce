"""One flood-control gate for every request the bot sends (handlers and workers alike).

Telegram answers 429 with ``retry_after`` when a chat (or the bot as a whole) gets too many
requests, and counts whatever arrives inside that window against the bot. So:

* a 429 for a chat closes the gate to that chat until ``retry_after`` has passed; a 429 for
  a request without a chat (answerCallbackQuery…) closes it to every chat;
* every request first waits until its chat's gate (and the global one) is open — the
  delivery worker, the handlers and the error handler all go through the same gate, because
  it is a middleware of the Bot's session;
* the request that hit the 429 is sent again after the window (up to ``RETRIES`` times, when
  the wait is at most ``MAX_WAIT``), so a message to a reporter is not dropped; a longer
  wait is left to the caller (the outbox re-schedules its item);
* a dropped connection or a 5xx on a request to a private chat (or without a chat) is tried
  again a few times after a short pause; group messages are the outbox's job, which has its
  own backoff and exactly-once bookkeeping.

With ``redis.url`` set the windows are shared by every instance (keys hold a keyed hash of
the chat id, never the id). Times are wall-clock seconds so that instances agree.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("kua.flood")

RETRIES = 5  # a request that met 429 is sent again this many times at most
MAX_WAIT = 60.0  # seconds: a longer retry_after goes back to the caller
TRANSIENT_RETRIES = 3  # 5xx / dropped connection to a private chat
TRANSIENT_PAUSE = 0.5  # seconds, doubled each time

_ALL = "all"


class FloodGate:
    """Windows during which nothing may be sent: per chat, and for every chat."""

    def __init__(
        self,
        *,
        chat_ref: Callable[[str], str],
        redis: Redis | None = None,
        prefix: str = "kua:flood",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._chat_ref = chat_ref  # chat id → keyed hash (Redis keys never hold an id)
        self._redis = redis
        self._prefix = prefix
        self._clock = clock
        self._until: dict[str, float] = {}

    def _key(self, chat: str | None) -> str:
        return _ALL if chat is None else self._chat_ref(chat)

    def _redis_key(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    async def until(self, chat: str | None) -> float:
        """When the gate to ``chat`` (None: a request without a chat) opens again."""
        keys = [_ALL] if chat is None else [_ALL, self._key(chat)]
        until = max((self._until.get(key, 0.0) for key in keys), default=0.0)
        if self._redis is not None:
            try:
                values = await self._redis.mget([self._redis_key(key) for key in keys])
            except Exception as exc:  # noqa: BLE001 - Redis down: the local view still holds
                log.warning("flood gate: Redis unavailable (%s)", type(exc).__name__)
            else:
                for value in values:
                    if value is not None:
                        until = max(until, float(value))
        return until

    async def remaining(self, chat: str | None) -> float:
        """Seconds until the gate to ``chat`` opens (0 when open)."""
        return max(0.0, await self.until(chat) - self._clock())

    async def wait(self, chat: str | None) -> None:
        # The gate can live in Redis, shared with other processes: no Event to wait on, so re-read it.
        while (left := await self.remaining(chat)) > 0:  # noqa: ASYNC110 - see above
            await asyncio.sleep(left)

    async def close_for(self, chat: str | None, seconds: float) -> None:
        """Telegram said ``retry_after`` for ``chat`` (None: for everything)."""
        key = self._key(chat)
        until = self._clock() + seconds
        if until <= self._until.get(key, 0.0):
            return
        self._until[key] = until
        if self._redis is not None:
            try:
                # PX expiry: the key disappears with its window.
                await self._redis.set(self._redis_key(key), repr(until), px=max(1, math.ceil(seconds * 1000)))
            except Exception as exc:  # noqa: BLE001 - other instances learn it from Telegram
                log.warning("flood gate: Redis unavailable (%s)", type(exc).__name__)
        # Forget passed windows now and then so the dict stays small.
        if len(self._until) > 1024:
            now = self._clock()
            self._until = {k: v for k, v in self._until.items() if v > now}


def chat_of(method: TelegramMethod[Any]) -> str | None:
    """The chat a request goes to, as a string; None for requests without one."""
    chat_id = getattr(method, "chat_id", None)
    return None if chat_id is None else str(chat_id)


def is_private(chat: str | None) -> bool:
    # Private chats have positive ids; groups and channels negative ones (or @usernames).
    return chat is not None and chat.lstrip("-").isdigit() and not chat.startswith("-")


class FloodControlMiddleware(BaseRequestMiddleware):
    """``bot.session.middleware(FloodControlMiddleware(gate))``."""

    def __init__(self, gate: FloodGate) -> None:
        self.gate = gate

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        receiving = isinstance(method, GetUpdates)  # (a name: `method` keeps its generic type)
        if receiving:  # receiving, not sending: never held back
            return await make_request(bot, method)
        chat = chat_of(method)
        flood_retries = transient_retries = 0
        while True:
            await self.gate.wait(chat)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                await self.gate.close_for(chat, exc.retry_after)
                log.info(
                    "flood control: %s paused for %ss (%s)",
                    "every chat" if chat is None else "a chat",
                    exc.retry_after,
                    method.__api_method__,
                )
                flood_retries += 1
                if flood_retries > RETRIES or exc.retry_after > MAX_WAIT:
                    raise
            except (TelegramServerError, TelegramNetworkError) as exc:
                if not (chat is None or is_private(chat)) or transient_retries >= TRANSIENT_RETRIES:
                    raise
                transient_retries += 1
                log.info("%s failed (%s); trying again", method.__api_method__, type(exc).__name__)
                await asyncio.sleep(TRANSIENT_PAUSE * 2 ** (transient_retries - 1))
