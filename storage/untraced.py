"""A flag for the current task: messages the bot sends while it is set are not recorded in the
message trace (storage.privacy.TraceRepository). The recording middleware (bot.trace) reads it;
a handler sets it, e.g. for the last word of "Forget me", so nothing links that chat to stored data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = ["is_untraced", "untraced"]

_untraced: ContextVar[bool] = ContextVar("kua_untraced", default=False)


@contextlib.contextmanager
def untraced() -> Iterator[None]:
    """Messages sent inside this block are not recorded (e.g. the last word of Forget me)."""
    token = _untraced.set(True)
    try:
        yield
    finally:
        _untraced.reset(token)


def is_untraced() -> bool:
    return _untraced.get()
