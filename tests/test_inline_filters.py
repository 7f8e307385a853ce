"""bot.inline_filters: magic filters give the same answers, without a trip to a thread."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import F, Router

from bot.inline_filters import inline_magic_filters


async def test_magic_filters_run_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    root, child = Router(), Router()
    child.callback_query.filter(F.data.startswith("a:"))
    child.callback_query.register(lambda: None, F.data == "a:1")
    root.include_router(child)
    assert inline_magic_filters(root) == 2

    async def no_thread(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("a magic filter went to a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    observer = child.callback_query
    router_filter = observer._handler.filters[0]  # type: ignore[index]  # noqa: SLF001
    handler_filter = observer.handlers[0].filters[0]  # type: ignore[index]
    event: Any = type("Query", (), {"data": "a:1"})()
    other: Any = type("Query", (), {"data": "b:1"})()
    assert await router_filter.call(event) is True
    assert await router_filter.call(other) is False
    assert await handler_filter.call(event) is True
    assert await handler_filter.call(other) is False
