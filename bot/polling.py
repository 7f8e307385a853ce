"""Long polling that confirms an update only after it was handled, and survives junk.

aiogram's own loop confirms an update (the next getUpdates' ``offset``) as soon as it has
*started* a task for it, so a kill while handling loses that update; and it validates the
whole batch at once, so a single update it cannot parse fails every getUpdates from then on
and polling never moves again. Here:

* each batch is handled concurrently (event isolation still orders one user's updates), and
  the next getUpdates — which confirms the batch — is sent only when all of it was handled;
  an update handled twice after a kill is recognised by bot.exactly_once;
* updates are parsed one by one; one that cannot be parsed is skipped with a log line that
  carries its id only (never its content), and polling goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

log = logging.getLogger("kua.polling")
POLL_TIMEOUT = 30  # seconds of long polling
_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)


class GetRawUpdates(GetUpdates):
    """getUpdates answering plain dicts, parsed one by one by the caller."""

    __returning__ = list[dict[str, Any]]


def parse_updates(bot: Bot, raw: list[Any]) -> tuple[list[Update], int | None]:
    """The updates that parse, and the offset confirming the whole batch."""
    updates: list[Update] = []
    highest: int | None = None
    for item in raw:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if isinstance(update_id, int):
            highest = update_id if highest is None else max(highest, update_id)
        try:
            updates.append(Update.model_validate(item, context={"bot": bot}))
        except Exception as exc:  # noqa: BLE001 - pydantic errors quote the content: type only
            log.warning(
                "update %s skipped: it could not be parsed (%s)",
                update_id if isinstance(update_id, int) else "without an id",
                type(exc).__name__,
            )
    return updates, None if highest is None else highest + 1


async def handle_update(dp: Dispatcher, bot: Bot, update: Update) -> None:
    """Feed one update; a failure is logged by type only (messages may quote user text)."""
    try:
        response = await dp.feed_update(bot, update)
        if isinstance(response, TelegramMethod):  # a webhook-style answer
            await bot(response)
    except Exception as exc:  # noqa: BLE001 - one update must not stop the others
        log.error("update %s failed: %s", update.update_id, type(exc).__name__)


async def poll_until_stopped(
    dp: Dispatcher,
    bot: Bot,
    stop: asyncio.Event,
    *,
    allowed_updates: list[str] | None = None,
    timeout: int = POLL_TIMEOUT,
) -> None:
    """Fetch, handle, confirm — until ``stop`` is set (a batch in progress is finished)."""
    backoff = Backoff(config=_BACKOFF)
    offset: int | None = None
    request_timeout = int((bot.session.timeout or 60) + timeout)
    # dp._handle_update_tasks is where aiogram (and the tests' settle()) see running updates.
    running: set[asyncio.Task[Any]] = dp._handle_update_tasks  # noqa: SLF001
    me = await bot.me()
    log.info("polling as @%s", me.username)
    while not stop.is_set():
        fetch = asyncio.ensure_future(
            bot(
                GetRawUpdates(offset=offset, timeout=timeout, allowed_updates=allowed_updates),
                request_timeout=request_timeout,
            )
        )
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            fetch.cancel()
            raise
        finally:
            stopping.cancel()
        if not fetch.done():  # stopped while waiting: nothing was taken, nothing to confirm
            fetch.cancel()
            with contextlib.suppress(BaseException):
                await fetch
            break
        try:
            raw = fetch.result()
        except Exception as exc:  # noqa: BLE001 - Telegram or the network: try again
            log.warning("getUpdates failed (%s); retrying in %.1fs", type(exc).__name__, backoff.next_delay)
            await backoff.asleep()
            continue
        backoff.reset()
        updates, next_offset = parse_updates(bot, raw)
        if next_offset is not None:
            offset = next_offset
        tasks = [asyncio.create_task(handle_update(dp, bot, update)) for update in updates]
        running.update(tasks)
        for task in tasks:
            task.add_done_callback(running.discard)
        if tasks:
            try:
                await asyncio.gather(*tasks)
            except asyncio.CancelledError:
                # Cancelled from outside (like a kill): nothing of this batch is confirmed,
                # so Telegram delivers it again and bot.exactly_once sorts out what was applied.
                for task in tasks:
                    task.cancel()
                raise
    if offset is not None:
        # Confirm the last batch before leaving (a graceful stop does not repeat it).
        with contextlib.suppress(Exception):
            await bot(GetRawUpdates(offset=offset, timeout=0, limit=1), request_timeout=10)
    log.info("polling stopped")


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event):  # type: ignore[no-untyped-def]
    """SIGINT / SIGTERM set ``stop`` (a graceful stop)."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
