"""The names coordinators go by, as Telegram gives them to the bot.

Looked up with getChatMember in the coordinators' group (else getChat of their private chat)
and cached for a while: a coordinator is named in answers, hand-over menus and histories,
never a reporter (a case holds no reporter identity to name).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)

TTL = 3600.0  # seconds a looked-up name is kept


class CoordinatorNames:
    def __init__(self, group_id: int, *, ttl: float = TTL) -> None:
        self.group_id = group_id
        self.ttl = ttl
        self._cache: dict[int, tuple[float, str]] = {}

    def remember(self, user_id: int, name: str) -> None:
        """A name just seen on an update (the presser's own): no request needed."""
        if name:
            self._cache[user_id] = (time.monotonic(), name)

    async def name(self, bot: Bot, user_id: int) -> str:
        cached = self._cache.get(user_id)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        found = await self._look_up(bot, user_id)
        if found:
            self.remember(user_id, found)
            return found
        return cached[1] if cached else _("a coordinator")

    async def names(self, bot: Bot, user_ids: Iterable[int]) -> dict[int, str]:
        return {user_id: await self.name(bot, user_id) for user_id in dict.fromkeys(user_ids)}

    async def _look_up(self, bot: Bot, user_id: int) -> str | None:
        if self.group_id:
            try:
                member = await bot.get_chat_member(self.group_id, user_id)
                return member.user.full_name
            except TelegramAPIError as exc:
                log.info("a coordinator's name is not known in the group (%s)", type(exc).__name__)
        try:
            chat = await bot.get_chat(user_id)
        except TelegramAPIError as exc:
            log.info("a coordinator's name could not be looked up (%s)", type(exc).__name__)
            return None
        parts = [chat.first_name or "", chat.last_name or ""]
        return " ".join(p for p in parts if p) or chat.title or None
