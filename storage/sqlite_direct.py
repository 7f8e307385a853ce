"""The FSM's hot path on SQLite, below SQLAlchemy: one read on the loop, one write in one hop.

Every update reads its FSM record once and writes it once (storage.fsm). Through an
``AsyncSession`` that cost about 0.3 ms of CPU for the read and 0.6 ms for the write
transaction, most of it SQLAlchemy's session, pool and greenlet layers and aiosqlite's
thread round trips (each about 0.08 ms: a queue, a wake-up of the connection's thread, a
wake-up of the loop, then every coroutine of the update resumed). Here the same Core
statements, compiled once by SQLAlchemy for the engine's dialect (same SQL, same bind
processing: types, UTC datetimes), run on two connections of the storage's own:

* **reads** on a plain ``sqlite3`` connection, on the event loop itself: a primary-key
  lookup in a small, hot table (about 0.01 ms); in WAL mode a reader never waits for a
  writer, so the loop is never held by a lock;
* **a write transaction** as one call on an aiosqlite connection's thread: ``BEGIN
  IMMEDIATE``, the statements, ``COMMIT`` (the commit's fsync stays off the loop). Callers
  hold ``storage.db.write_lock`` as for any other write of the bot; another process
  writing to the file makes ``BEGIN IMMEDIATE`` wait for ``busy_timeout`` on that thread.

Only for a database file (each connection to ``:memory:`` would be a database of its own).
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_driver
from storage.db import Write

__all__ = ["DirectSqlite", "close_direct", "direct_for"]

# Compiled statements kept (keyed by the statement object, which the cache keeps alive): the
# FSM's are built once, so a handful; a caller building statements anew cannot make it grow.
_CACHE_LIMIT = 256


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    defaults: Mapping[str, Any]
    statement: Any  # kept alive: the cache is keyed by its id

    def bind(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        values = []
        for name, process in zip(self.names, self.processors, strict=True):
            value = params[name] if name in params else self.defaults[name]
            values.append(value if process is None else process(value))
        return tuple(values)


class DirectSqlite:
    """Compiled statements and the two connections (opened on first use, see the module)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._url = engine.url
        self._dialect: Dialect = engine.dialect
        self._compiled: dict[tuple[int, tuple[str, ...]], _Compiled] = {}
        self._results: dict[int, tuple[Any, tuple[Callable[[Any], Any] | None, ...]]] = {}
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite_driver.BufferedConnection | None = None
        # Called on the loop with ("statement", sql) for each statement run and ("commit", "")
        # for each commit, like SQLAlchemy's engine events (tests count an update's SQL).
        self.listeners: list[Callable[[str, str], None]] = []

    # --- statements ---------------------------------------------------------------------------
    def compiled(self, statement: Any, keys: Sequence[str] = ()) -> _Compiled:
        """``statement`` as the dialect's SQL with its positional parameters, built once.
        ``keys``: the parameter names given (an INSERT without values lists their columns)."""
        cache_key = (id(statement), tuple(keys))
        found = self._compiled.get(cache_key)
        if found is None:
            if len(self._compiled) >= _CACHE_LIMIT:  # the bot's statements are built once: a few
                self._compiled.clear()
            compiled = statement.compile(dialect=self._dialect, column_keys=list(keys) or None)
            names = tuple(compiled.positiontup or ())
            processors = tuple(
                compiled.binds[name].type.dialect_impl(self._dialect).bind_processor(self._dialect)
                for name in names
            )
            defaults = {
                name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
            }
            found = _Compiled(compiled.string, names, processors, defaults, statement)
            self._compiled[cache_key] = found
        return found

    def _result_processors(self, statement: Any) -> tuple[Callable[[Any], Any] | None, ...]:
        found = self._results.get(id(statement))
        if found is None:
            if len(self._results) >= _CACHE_LIMIT:
                self._results.clear()
            processors = tuple(
                column.type.dialect_impl(self._dialect).result_processor(self._dialect, None)
                for column in statement.selected_columns
            )
            found = self._results[id(statement)] = (statement, processors)
        return found[1]

    # --- reads ------------------------------------------------------------------------------------
    def read_one(self, statement: Any, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row of a SELECT, run on the loop (point reads only: see the module)."""
        compiled = self.compiled(statement)
        self._tell("statement", compiled.sql)
        try:
            cursor = self._read_connection().execute(compiled.sql, compiled.bind(params))
            try:
                row = cursor.fetchone()
            finally:
                cursor.close()
        except sqlite3.Error as exc:
            raise DBAPIError.instance(compiled.sql, None, exc, sqlite3.Error) from exc
        if row is None:
            return None
        processors = self._result_processors(statement)
        return tuple(v if p is None else p(v) for v, p in zip(row, processors, strict=True))

    def _read_connection(self) -> sqlite3.Connection:
        if self._reader is None:
            args, kwargs = sqlite_driver.connect_args(self._url)
            # Used on the loop's thread only: sqlite3 refuses any other (SQLAlchemy's arguments allow any).
            reader = sqlite3.connect(*args, **{**kwargs, "isolation_level": None, "check_same_thread": True})
            sqlite_driver.pragmas(reader)
            self._reader = reader
        return self._reader

    # --- writes -----------------------------------------------------------------------------------
    async def transaction(self, writes: Sequence[Write]) -> None:
        """All of ``writes`` in one transaction, in one call on the writer's thread."""
        jobs = [self._job(write) for write in writes]
        writer = await self._write_connection()
        try:
            executed: list[str] = await writer.call(partial(_transaction, jobs))
        except sqlite3.Error as exc:
            # As SQLAlchemy would raise it (IntegrityError, OperationalError...): callers treat
            # both paths alike (the FSM's retry of a lost first write, the error reports).
            raise DBAPIError.instance(None, None, exc, sqlite3.Error) from exc
        for sql in executed:
            self._tell("statement", sql)
        self._tell("commit", "")

    def _tell(self, kind: str, sql: str) -> None:
        for listener in self.listeners:
            listener(kind, sql)

    def _job(self, write: Write) -> _Job:
        many = not isinstance(write.params, Mapping)
        rows: Sequence[Mapping[str, Any]] = write.params if many else [write.params]  # type: ignore[list-item,assignment]
        compiled = self.compiled(write.statement, sorted(rows[0]) if rows else ())
        bound: Any = [compiled.bind(row) for row in rows] if many else compiled.bind(rows[0])
        otherwise = None if write.otherwise is None else self._job(write.otherwise)
        return _Job(compiled.sql, bound, many, otherwise)

    async def _write_connection(self) -> sqlite_driver.BufferedConnection:
        writer = self._writer
        if writer is None:
            writer = sqlite_driver.open_connection(self._url, isolation_level=None)
            await writer
            await writer.call(sqlite_driver.pragmas)
            self._writer = writer
        return writer

    async def close(self) -> None:
        """Close both connections (they open again if used later)."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.close()


@dataclass(frozen=True)
class _Job:
    sql: str
    params: Any
    many: bool
    otherwise: _Job | None


def _run(conn: sqlite3.Connection, job: _Job, executed: list[str]) -> None:
    cursor = conn.executemany(job.sql, job.params) if job.many else conn.execute(job.sql, job.params)
    executed.append(job.sql)
    try:
        changed = cursor.rowcount
    finally:
        cursor.close()
    if job.otherwise is not None and changed == 0:
        _run(conn, job.otherwise, executed)


def _transaction(jobs: Sequence[_Job], conn: sqlite3.Connection) -> list[str]:
    """On the writer's thread: the whole transaction (autocommit connection, explicit BEGIN);
    the SQL of the statements it ran."""
    executed: list[str] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for job in jobs:
            _run(conn, job, executed)
        conn.execute("COMMIT")
        return executed
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


_directs: weakref.WeakKeyDictionary[Any, DirectSqlite] = weakref.WeakKeyDictionary()


def direct_for(engine: AsyncEngine | None) -> DirectSqlite | None:
    """The direct path for ``engine`` (one per engine) if it is an SQLite database file, else None."""
    if engine is None or engine.dialect.name != "sqlite":
        return None
    database = engine.url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or "mode=memory" in str(engine.url):
        return None
    found = _directs.get(engine.sync_engine)
    if found is None:
        found = _directs[engine.sync_engine] = DirectSqlite(engine)
    return found


async def close_direct(engine: AsyncEngine) -> None:
    """Close the direct path's connections of ``engine``, if it has them (before disposing it)."""
    found = _directs.get(engine.sync_engine)
    if found is not None:
        await found.close()
