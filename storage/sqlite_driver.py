"""aiosqlite with one thread hop per statement (SQLAlchemy's adapter makes three or four).

aiosqlite runs every call on the connection's own thread and hands the result back to the
event loop (a queue put, a wake-up of the loop, a future). SQLAlchemy's aiosqlite adapter
makes a call each for opening the cursor, executing, fetching the rows and closing the cursor,
and pool resets and session ends roll back connections that hold no transaction. On the
report path that was 14 round trips for 3 statements and 1 commit.

``BufferedConnection`` does each statement as one call on that thread (open a cursor, execute,
fetch every row, close), and skips ``commit``/``rollback`` when no transaction is open (what
sqlite3 itself does then, minus the round trip). Everything else is aiosqlite's: the same
thread, queue, exceptions and ``sqlite3`` connection. Results are always fetched whole, as
SQLAlchemy's adapter already does for ordinary cursors; a "server-side" (streamed) result is
buffered too (the bot streams none).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.engine import URL

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "BufferedConnection",
    "BufferedCursor",
    "connect_args",
    "connector",
    "open_connection",
    "pragma_statements",
    "pragmas",
]

# How long an SQLite connection waits for another writer (the bot and the workers share
# one file) before failing with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 5000


def pragma_statements(foreign_keys: bool = True) -> list[str]:
    """What every connection of the bot sets (PRAGMAs are per connection): WAL (readers don't
    block the writer), the busy timeout, and foreign keys (off by default in SQLite)."""
    return [
        f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}",
        "PRAGMA journal_mode=WAL",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    ]


def pragmas(conn: sqlite3.Connection) -> None:
    """``pragma_statements()`` on a plain sqlite3 connection (none may run in a transaction)."""
    for pragma in pragma_statements():
        conn.execute(pragma).close()


_Outcome = tuple[Any, list[Any], int, int | None]  # description, rows, rowcount, lastrowid


def _run(conn: sqlite3.Connection, many: bool, sql: str, parameters: Any) -> _Outcome:
    """On the connection's thread: the whole statement, from cursor to closed cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class BufferedCursor:
    """The part of aiosqlite's Cursor SQLAlchemy uses; results arrive with ``execute``."""

    def __init__(self, connection: BufferedConnection) -> None:
        self._connection = connection
        self.arraysize = 1
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []
        self._next = 0

    async def __aenter__(self) -> BufferedCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, many: bool, sql: str, parameters: Any) -> BufferedCursor:
        outcome = await self._connection.statement(many, sql, parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = outcome
        self._next = 0
        return self

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> BufferedCursor:
        return await self._call(False, sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> BufferedCursor:
        return await self._call(True, sql, parameters)

    def _take(self, size: int | None) -> list[Any]:
        end = len(self._rows) if size is None else min(len(self._rows), self._next + size)
        rows = self._rows[self._next : end]
        self._next = end
        return rows

    async def fetchone(self) -> Any:
        rows = self._take(1)
        return rows[0] if rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        return self._take(self.arraysize if size is None else size)

    async def fetchall(self) -> Sequence[Any]:
        return self._take(None)

    async def close(self) -> None:
        self._rows = []
        self._next = 0


class BufferedConnection(aiosqlite.Connection):
    """aiosqlite's connection whose cursors do a statement in one call (see the module)."""

    def cursor(self) -> BufferedCursor:  # type: ignore[override]  # aiosqlite's is awaitable too
        return BufferedCursor(self)

    async def statement(self, many: bool, sql: str, parameters: Any) -> _Outcome:
        call: Callable[..., Awaitable[_Outcome]] = self._execute  # aiosqlite's is untyped
        return await call(_run, self._conn, many, sql, parameters)

    async def call(self, function: Callable[[sqlite3.Connection], Any]) -> Any:
        """``function(connection)`` on the connection's thread, in one round trip."""
        call: Callable[..., Awaitable[Any]] = self._execute  # aiosqlite's is untyped
        return await call(function, self._conn)

    def daemon_thread(self) -> None:
        self._thread.daemon = True  # as SQLAlchemy's adapter does: it never blocks exit

    async def commit(self) -> None:
        # Reading sqlite3's autocommit flag from the loop is safe: no call is running on the
        # connection's thread while SQLAlchemy asks for a commit or a rollback.
        if self._conn.in_transaction:
            await super().commit()

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


def connect_args(url: URL) -> tuple[list[Any], dict[str, Any]]:
    """The ``sqlite3.connect`` arguments SQLAlchemy derives from an ``sqlite+aiosqlite`` URL."""
    args, kwargs = url.get_dialect()().create_connect_args(url)
    return list(args), dict(kwargs)


def open_connection(url: URL, **overrides: Any) -> BufferedConnection:
    """A BufferedConnection to ``url`` (``await`` it to connect); ``overrides`` go to
    ``sqlite3.connect`` (e.g. ``isolation_level=None``)."""
    args, kwargs = connect_args(url)
    connection = BufferedConnection(
        partial(sqlite3.connect, *args, **{**kwargs, **overrides}), iter_chunk_size=64
    )
    connection.daemon_thread()
    return connection


def connector(url: URL) -> Callable[[], Any]:
    """``create_async_engine(async_creator=...)`` for an ``sqlite+aiosqlite`` URL: the same
    ``sqlite3.connect`` arguments SQLAlchemy would derive from the URL."""

    async def connect() -> BufferedConnection:
        connection = open_connection(url)
        await connection
        return connection

    return connect
