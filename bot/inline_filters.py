"""Magic filters (``F.data.startswith(...)``) evaluated on the loop, not in a thread.

aiogram runs every callback that is not a coroutine function with ``asyncio.to_thread``,
magic filters included: each check of ``F.message.chat.type == "private"`` was a trip to the
default thread pool and back (3 per button press on the report path). A magic filter only
reads attributes of the event and compares them, so it runs inline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject

__all__ = ["inline_magic_filters"]


def _inline(check: Callable[..., Any]) -> Callable[..., Any]:
    async def inline(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    return inline


def _make_inline(filter_: FilterObject) -> None:
    # The parameters aiogram passes stay those of the original callback (computed from its
    # signature when the filter was registered); only how it is called changes.
    filter_.callback = _inline(filter_.callback)
    filter_.awaitable = True


def inline_magic_filters(root: Router) -> int:
    """Every magic filter registered under ``root`` (its routers, handlers and their own
    filters) runs inline from now on; returns how many were changed."""
    changed = 0
    for router in root.chain_tail:
        for observer in router.observers.values():
            for handler in [observer._handler, *observer.handlers]:  # noqa: SLF001 - router-level filters
                for filter_ in handler.filters or ():
                    if filter_.magic is not None and not filter_.awaitable:
                        _make_inline(filter_)
                        changed += 1
    return changed
