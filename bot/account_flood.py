"""A flood limit per account, as the outermost update middleware.

More than `limits.flood_updates` updates from one account within `limits.flood_seconds`: the
account gets one polite "slow down", and its updates are ignored for a minute (nothing is
handled, so the draft is untouched). Callback queries are still answered, so no button spins.

Counted in memory per instance under a keyed hash (no Telegram id is kept, not even here); a
flood spread over many instances is slowed on each of them alike.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, TelegramObject, Update, User
from aiogram.utils.i18n import I18n

from bot.config import LimitsConfig
from handlers.common import SLOW_DOWN
from storage.crypto import Crypto

MUTE_SECONDS = 60.0
MAX_TRACKED = 50_000  # accounts within one window before quiet ones are looked for again


class FloodLimit:
    """The rule, apart from aiogram: `hit(key, now)` says whether to handle, warn or drop."""

    HANDLE, WARN, DROP = "handle", "warn", "drop"

    def __init__(self, updates: int, seconds: float, mute: float = MUTE_SECONDS) -> None:
        self.updates = updates
        self.seconds = seconds
        self.mute = mute
        self._seen: dict[str, deque[float]] = {}
        self._muted: dict[str, float] = {}
        self._sweep_at = -math.inf

    def hit(self, key: str, now: float) -> str:
        if now >= self._sweep_at or len(self._seen) > MAX_TRACKED:
            self._forget_quiet(now)
        until = self._muted.get(key)
        if until is not None:
            if now < until:
                return self.DROP
            del self._muted[key]
        seen = self._seen.setdefault(key, deque())
        seen.append(now)
        while seen and seen[0] <= now - self.seconds:
            seen.popleft()
        if len(seen) > self.updates:
            self._muted[key] = now + self.mute
            seen.clear()
            return self.WARN
        return self.HANDLE

    def tracked(self) -> int:
        """Accounts remembered now (counted or muted)."""
        return len(self._seen.keys() | self._muted.keys())

    def _forget_quiet(self, now: float) -> None:
        # Once every window: an account with no update inside the window has nothing left to
        # count, and an ended mute says nothing; forgetting them changes no verdict. So only
        # the accounts of the last window or two are kept, not every account ever seen.
        self._seen = {k: s for k, s in self._seen.items() if s and s[-1] > now - self.seconds}
        self._muted = {k: until for k, until in self._muted.items() if until > now}
        self._sweep_at = now + self.seconds


class FloodMiddleware(BaseMiddleware):
    def __init__(
        self, limits: LimitsConfig, crypto: Crypto, i18n: I18n, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rule = FloodLimit(limits.flood_updates, limits.flood_seconds)
        self.crypto = crypto
        self.i18n = i18n
        self.clock = clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat = data.get("event_chat")
        if user is None or chat is None or chat.type != "private":
            return await handler(event, data)  # groups: coordinators, with their own rules
        verdict = self.rule.hit(self.crypto.keyed_hash("flood", user.id), self.clock())
        if verdict == FloodLimit.HANDLE:
            return await handler(event, data)
        bot: Bot = data["bot"]
        query = event.callback_query if isinstance(event, Update) else None
        try:
            if isinstance(query, CallbackQuery):
                await query.answer()  # no spinning button, and nothing else
            if verdict == FloodLimit.WARN:
                locale = (
                    user.language_code
                    if user.language_code in ("kk", "ru", "en")
                    else self.i18n.default_locale
                )
                await bot.send_message(chat.id, self.i18n.gettext(SLOW_DOWN, locale=locale))
        except TelegramAPIError:
            pass  # a flood that cannot be told so is still dropped
        return None
