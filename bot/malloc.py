"""glibc's allocator, told to keep less freed memory (no-ops with another C library).

Threads make glibc give each of them an arena of its own, and memory freed in an arena stays
with the process: aiosqlite runs each connection in its thread, and aiogram runs every
synchronous filter (``F.data...``) through ``asyncio.to_thread``, so a busy bot ends up with
about 10 MB freed but held in a dozen arenas. Two arenas (``mallopt(M_ARENA_MAX)``, what
``MALLOC_ARENA_MAX=2`` would set, set here by the bot itself before any thread starts) and a
``malloc_trim`` every minute give most of it back (docs/performance.md, Memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
from typing import Any

M_ARENA_MAX = -8  # <malloc.h>
ARENAS = 2
TRIM_EVERY = 60.0  # seconds


@functools.cache
def _glibc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018 - present in glibc only (musl has no malloc_trim)
        return libc
    except (OSError, AttributeError):
        return None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Before the first thread: at most `arenas` malloc arenas. False when not glibc."""
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(M_ARENA_MAX, arenas))


def trim() -> bool:
    """Give the freed memory of every arena back to the system. False when not glibc."""
    libc = _glibc()
    return libc is not None and bool(libc.malloc_trim(0))


async def trim_until(stop: asyncio.Event, every: float = TRIM_EVERY) -> None:
    """trim() every `every` seconds until `stop` is set (under a millisecond each)."""
    if _glibc() is None:
        return
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        trim()
