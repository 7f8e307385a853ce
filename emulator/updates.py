"""The update queue behind getUpdates, with real long polling."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .errors import ApiError

# What Telegram sends when allowed_updates was never set (or set to []).
DEFAULT_ALLOWED = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "guest_message", "inline_query",
        "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query",
        "purchased_paid_media", "poll", "poll_answer", "my_chat_member",
        "chat_join_request", "chat_boost", "removed_chat_boost", "managed_bot",
    }
)  # fmt: skip


class Notifier:
    """Wakes every current waiter at once; waiters re-check their condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        """Wait for the next notify() or ``timeout`` seconds, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)

    @staticmethod
    async def wait_any(notifiers: tuple[Notifier, ...], timeout: float) -> None:
        """Wait for the next notify() of any of ``notifiers``, or ``timeout`` seconds."""
        waits = [asyncio.ensure_future(n._event.wait()) for n in notifiers]  # noqa: SLF001 - same class
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()


class UpdateQueue:
    """Unconfirmed updates, served by getUpdates the way Telegram does.

    Updates stay queued until a later getUpdates confirms them with a higher
    ``offset``. An update counts as *taken* once a getUpdates response carried
    it (or it was skipped because the bot's allowed_updates exclude its type).
    """

    def __init__(self) -> None:
        self._pending: list[dict[str, Any]] = []
        self._next_id = 1
        self._taken_upto = 0  # highest update_id handed out (or skipped)
        self._allowed = DEFAULT_ALLOWED
        self._poll: object | None = None  # token of the most recent getUpdates
        self._closed = False
        self.polling = False  # a getUpdates is waiting right now
        self.changed = Notifier()

    def put(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self._next_id
        self._next_id += 1
        self._pending.append({"update_id": update_id, kind: payload})
        self.changed.notify()
        return update_id

    def all_taken(self) -> bool:
        return all(update["update_id"] <= self._taken_upto for update in self._pending)

    def all_confirmed(self) -> bool:
        """Every update was confirmed by a later getUpdates' offset (none is waiting, and none
        was handed out to a bot that has not asked for more since)."""
        return not self._pending

    def untaken(self) -> list[dict[str, Any]]:
        return [update for update in self._pending if update["update_id"] > self._taken_upto]

    def drop_pending(self) -> None:
        """Forget every queued update (deleteWebhook with drop_pending_updates)."""
        self._pending.clear()
        self.changed.notify()

    def open(self) -> None:
        self._closed = False

    def close(self) -> None:
        """Make waiting and future getUpdates calls return [] at once."""
        self._closed = True
        self.changed.notify()

    async def poll(
        self, offset: int | None, limit: int, timeout: float, allowed: list[str] | None
    ) -> list[dict[str, Any]]:
        if allowed is not None:
            self._allowed = frozenset(allowed) if allowed else DEFAULT_ALLOWED
        if offset is not None:
            self._confirm(offset)
        token = self._poll = object()
        self.changed.notify()  # an older getUpdates still waiting now gets its 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self.polling = True
        try:
            while True:
                if self._closed:
                    return []
                if self._poll is not token:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                        rule_violation=False,
                    )
                batch = self._take(limit)
                remaining = deadline - loop.time()
                if batch or remaining <= 0:
                    return batch
                await self.changed.wait(remaining)
        finally:
            if self._poll is token:
                self.polling = False

    def _confirm(self, offset: int) -> None:
        if offset < 0:  # keep only the last -offset updates
            self._pending = self._pending[offset:]
        else:
            self._pending = [update for update in self._pending if update["update_id"] >= offset]

    def _take(self, limit: int) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        for update in list(self._pending):
            if len(batch) == limit:
                break
            kind = next(key for key in update if key != "update_id")
            if kind not in self._allowed:
                self._pending.remove(update)  # Telegram never creates unwanted updates
            else:
                batch.append(update)
            self._taken_upto = max(self._taken_upto, update["update_id"])
        return batch
