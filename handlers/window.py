"""One window per private chat: a single bot message, edited in place.

A reporter's phone may be searched, so the conversation does not pile up: every screen of the
report and of the follow-up is drawn into the same message (as aiogram_dialog keeps a dialog
in one message). A new message is sent only when Telegram no longer lets the bot edit the old
one (deleted by the user, or too old); the stale one is then deleted. What the reporter sends
is deleted once stored (`remove`).

The window's message id lives in the FSM data under `UI_KEY` (the draft keeps it there too),
so it survives restarts and every router finds the same window.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers.telegram_errors import not_modified

UI_KEY = "ui"
# Telegram lets a bot delete a private chat's messages for 48 hours; keep clear of the edge.
DELETABLE_FOR = timedelta(hours=47)


class _Drawn:
    """What each window shows now, in this process's memory only (a digest, no text), so
    that drawing the same screen again costs no request Telegram would refuse as "not
    modified". Bounded; after a restart an edit simply goes out once more."""

    LIMIT = 20_000

    def __init__(self) -> None:
        self._digests: OrderedDict[tuple[int, int], str] = OrderedDict()
        self._sent: OrderedDict[tuple[int, int], datetime] = OrderedDict()

    def sent(self, message: Message) -> None:
        """Remember when Telegram says it sent a message (its clock, not ours)."""
        self._sent[(message.chat.id, message.message_id)] = message.date
        while len(self._sent) > self.LIMIT:
            self._sent.popitem(last=False)

    def too_old(self, chat_id: int, message_id: int, now: datetime | None) -> bool:
        """Known to be past Telegram's deletion window (48 hours, with a margin)."""
        at = self._sent.get((chat_id, message_id))
        return at is not None and now is not None and now - at >= DELETABLE_FOR

    @staticmethod
    def digest(text: str, markup: InlineKeyboardMarkup | None) -> str:
        payload = text + "\0" + (markup.model_dump_json() if markup is not None else "")
        return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()

    def same(self, chat_id: int, message_id: int, digest: str) -> bool:
        return self._digests.get((chat_id, message_id)) == digest

    def remember(self, chat_id: int, message_id: int, digest: str) -> None:
        self._digests[(chat_id, message_id)] = digest
        self._digests.move_to_end((chat_id, message_id))
        while len(self._digests) > self.LIMIT:
            self._digests.popitem(last=False)


_drawn = _Drawn()


async def draw(
    bot: Bot,
    chat_id: int,
    current: int | None,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    fresh: bool = False,
) -> int:
    """Show `text` in the window; returns the window's message id (new if it had to move).

    `fresh`: move the window to the bottom of the chat (after a typed command, or when a
    message the reporter must read was sent below it).
    """
    digest = _drawn.digest(text, markup)
    if current is not None and not fresh:
        if _drawn.same(chat_id, current, digest):
            return current
        try:
            await bot.edit_message_text(text, chat_id=chat_id, message_id=current, reply_markup=markup)
            _drawn.remember(chat_id, current, digest)
            return current
        except TelegramBadRequest as exc:
            if not_modified(exc):
                _drawn.remember(chat_id, current, digest)
                return current
            # Gone or no longer editable: a new window below, and the stale one removed.
    sent = await bot.send_message(chat_id, text, reply_markup=markup)
    _drawn.remember(chat_id, sent.message_id, digest)
    _drawn.sent(sent)
    if current is not None and current != sent.message_id:
        await drop(bot, chat_id, current, now=sent.date)
    return sent.message_id


async def send(bot: Bot, chat_id: int, text: str) -> int:
    """A message beside the window (the urgent checklist), to be dropped later."""
    sent = await bot.send_message(chat_id, text)
    _drawn.sent(sent)
    return sent.message_id


async def drop(bot: Bot, chat_id: int, message_id: int | None, *, now: datetime | None = None) -> None:
    """Delete a bot message; past Telegram's 48 hours, blank it to a neutral line instead.

    `now`: Telegram's current time, when known (the date of a message it just sent).
    """
    if message_id is None:
        return
    if not _drawn.too_old(chat_id, message_id, now):
        try:
            await bot.delete_message(chat_id, message_id)
            return
        except TelegramBadRequest:
            pass
    with contextlib.suppress(TelegramBadRequest):
        await bot.edit_message_text(neutral_line(), chat_id=chat_id, message_id=message_id, reply_markup=None)


async def remove(message: Message) -> None:
    """Delete what the reporter sent (typed answer, voice, file, command) once it is handled.

    Bots may delete incoming messages in private chats within 48 hours; a failure (too old,
    already deleted by the user) leaves nothing to do.
    """
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()


def neutral_line() -> str:
    """What a closed window says: nothing about what happened in this chat."""
    return _("All done. Send /start whenever you need the menu.")


@dataclass
class Window:
    """The window of one chat in one update: draws, remembers its id in the FSM data."""

    bot: Bot
    chat_id: int
    state: FSMContext

    async def current(self) -> int | None:
        value = (await self.state.get_data()).get(UI_KEY)
        return value if isinstance(value, int) else None

    async def show(
        self, text: str, markup: InlineKeyboardMarkup | None = None, *, fresh: bool = False
    ) -> int:
        current = await self.current()
        message_id = await draw(self.bot, self.chat_id, current, text, markup, fresh=fresh)
        if message_id != current:
            await self.state.update_data({UI_KEY: message_id})
        return message_id

    async def close(self) -> None:
        """Replace the window with one neutral line, without buttons."""
        await self.show(neutral_line())
