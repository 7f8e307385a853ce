"""The FSM's path below SQLAlchemy on SQLite (storage/sqlite_direct.py): the same SQL and values
as through a session, whole transactions, and a loop that never waits for SQLite's locks."""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_driver
from storage.base import Base
from storage.db import SQLITE_POOL_SIZE, Write, apply_write, make_engine, make_sessionmaker
from storage.fsm import AppliedUpdates, FsmRecord, SQLAlchemyStorage
from storage.sqlite_direct import DirectSqlite, close_direct, direct_for
from tests.storage_fixtures import make_crypto

TABLE: Any = FsmRecord.__table__
WHEN = datetime(2026, 12, 1, 18, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'direct.sqlite3'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all, tables=[TABLE])
    try:
        yield engine
    finally:
        await close_direct(engine)
        await engine.dispose()


def direct(engine: AsyncEngine) -> DirectSqlite:
    found = direct_for(engine)
    assert found is not None
    return found


def insert_row(key: str, state: str = "Report:q1") -> Write:
    return Write(
        insert(TABLE).values(
            key=bindparam("k"), state=bindparam("s"), data=bindparam("d"), updated_at=bindparam("u")
        ),
        {"k": key, "s": state, "d": b"\x00token", "u": WHEN},
    )


READ = select(TABLE.c.state, TABLE.c.data, TABLE.c.updated_at).where(TABLE.c.key == bindparam("k"))


def test_only_a_database_file_has_the_direct_path(tmp_path: Path) -> None:
    assert direct_for(make_engine("sqlite+aiosqlite:///:memory:")) is None
    assert direct_for(make_engine("postgresql+asyncpg://u@127.0.0.1:1/x")) is None
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'f.sqlite3'}")
    assert direct_for(engine) is direct_for(engine) is not None  # one per engine


async def test_the_same_sql_as_sqlalchemy_sends_and_values_round_trip(engine: AsyncEngine) -> None:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        sent.append(sql)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await apply_write(session, insert_row("via-session"))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert sent == [direct(engine).compiled(insert_row("x").statement, ["d", "k", "s", "u"]).sql]

    await direct(engine).transaction([insert_row("direct")])
    # Written below SQLAlchemy, read through it (and the other way round): the same values,
    # the UTC datetime included (SQLAlchemy's own storage format for it on SQLite).
    async with make_sessionmaker(engine)() as session:
        stored = (await session.execute(READ, {"k": "direct"})).one()
    assert tuple(stored) == ("Report:q1", b"\x00token", WHEN)
    assert direct(engine).read_one(READ, {"k": "via-session"}) == ("Report:q1", b"\x00token", WHEN)
    assert direct(engine).read_one(READ, {"k": "absent"}) is None


async def test_otherwise_runs_only_when_nothing_was_changed(engine: AsyncEngine) -> None:
    change = update(TABLE).where(TABLE.c.key == bindparam("k")).values(state=bindparam("s"))
    absent = Write(change, {"k": "new", "s": "Report:q2"}, otherwise=insert_row("new", "Report:q2"))
    await direct(engine).transaction([absent])  # no row: the INSERT ran
    assert direct(engine).read_one(READ, {"k": "new"}) == ("Report:q2", b"\x00token", WHEN)
    present = Write(change, {"k": "new", "s": "Report:q3"}, otherwise=insert_row("new", "never"))
    await direct(engine).transaction([present])  # the UPDATE changed it: no INSERT (no conflict)
    assert direct(engine).read_one(READ, {"k": "new"}) == ("Report:q3", b"\x00token", WHEN)


async def test_a_failing_statement_rolls_the_whole_transaction_back(engine: AsyncEngine) -> None:
    await direct(engine).transaction([insert_row("first")])
    with pytest.raises(IntegrityError):  # as SQLAlchemy raises it (callers treat both alike)
        # The second row is new, the third repeats the first's key: nothing of it stays.
        await direct(engine).transaction([insert_row("second"), insert_row("first")])
    assert direct(engine).read_one(READ, {"k": "second"}) is None
    await direct(engine).transaction([insert_row("third")])  # the connection is usable again
    assert direct(engine).read_one(READ, {"k": "third"}) is not None
    # ...the same failure as through a session.
    with pytest.raises(IntegrityError):
        async with make_sessionmaker(engine)() as session, session.begin():
            await apply_write(session, insert_row("first"))


async def test_many_rows_in_one_statement(engine: AsyncEngine) -> None:
    rows = [{"k": f"key{n}", "s": None, "d": None, "u": WHEN} for n in range(3)]
    statement = insert(TABLE).values(
        key=bindparam("k"), state=bindparam("s"), data=bindparam("d"), updated_at=bindparam("u")
    )
    seen: list[tuple[str, str]] = []
    direct(engine).listeners.append(lambda kind, sql: seen.append((kind, sql.split(" ", 1)[0])))
    await direct(engine).transaction([Write(statement, rows)])
    assert seen == [("statement", "INSERT"), ("commit", "")]  # one statement, one commit
    for n in range(3):
        assert direct(engine).read_one(READ, {"k": f"key{n}"}) == (None, None, WHEN)


async def test_a_writer_in_another_process_is_waited_for_off_the_loop(engine: AsyncEngine) -> None:
    """Another process (a CLI command) holding SQLite's write lock: the bot's write waits on its
    thread (busy_timeout), its reads go on (WAL), and the event loop keeps running."""
    await direct(engine).transaction([insert_row("held")])
    database = engine.url.database
    assert database is not None
    locked, release = threading.Event(), threading.Event()

    def other_process() -> None:
        conn = sqlite3.connect(database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE fsm_records SET state = 'by-the-cli' WHERE key = 'held'")
        locked.set()
        release.wait(5)
        conn.execute("COMMIT")
        conn.close()

    holder = threading.Thread(target=other_process)
    holder.start()
    try:
        assert await asyncio.to_thread(locked.wait, 5)
        write = asyncio.create_task(direct(engine).transaction([insert_row("after")]))
        ticks, started = 0, time.monotonic()
        while time.monotonic() - started < 0.3:  # the loop is free while the write waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks >= 10 and not write.done()
        # A read meanwhile sees the last committed state, at once (WAL: readers never wait).
        assert direct(engine).read_one(READ, {"k": "held"}) == ("Report:q1", b"\x00token", WHEN)
        release.set()
        await asyncio.wait_for(write, 5)
    finally:
        release.set()
        await asyncio.to_thread(holder.join, 5)
    assert direct(engine).read_one(READ, {"k": "held"})[0] == "by-the-cli"  # type: ignore[index]
    assert direct(engine).read_one(READ, {"k": "after"}) is not None


async def test_closed_connections_open_again_when_used(engine: AsyncEngine) -> None:
    await direct(engine).transaction([insert_row("one")])
    await direct(engine).close()
    await direct(engine).close()  # twice is fine (the app and aiogram may both close)
    assert direct(engine).read_one(READ, {"k": "one"}) is not None
    await direct(engine).transaction([insert_row("two")])


async def test_the_pool_keeps_its_connections_under_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sixteen statements in flight at once, round after round: the connections are opened once
    and kept (an overflow connection is closed when returned, and opening one costs a thread,
    the PRAGMAs and the schema parsed again)."""
    opened: list[int] = []
    open_connection = sqlite_driver.open_connection

    def counted(*args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return open_connection(*args, **kwargs)

    monkeypatch.setattr(sqlite_driver, "open_connection", counted)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.sqlite3'}")

    async def statement() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await asyncio.sleep(0.01)  # still checked out while the others ask

    try:
        for _round in range(5):
            await asyncio.gather(*(statement() for _ in range(16)))
    finally:
        await engine.dispose()
    assert len(opened) <= SQLITE_POOL_SIZE, len(opened)


async def test_an_update_whose_first_write_lost_a_race_is_retried_and_applied(
    engine: AsyncEngine,
) -> None:
    """Another instance on the same file wrote the key's first row between this update's read
    and its INSERT: the INSERT fails (as SQLAlchemy's IntegrityError), the next attempt updates."""
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all, tables=[cast(Any, AppliedUpdates.__table__)])
    fsm = SQLAlchemyStorage(make_sessionmaker(engine), make_crypto())
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    unit = await fsm.open_unit(key, update_id=7)
    assert unit is not None and not unit.row_exists
    await fsm.set_state(key, "Report:q1")  # buffered in the unit
    other = SQLAlchemyStorage(make_sessionmaker(engine), make_crypto())
    # Outside this unit (a fresh context: another instance's update).
    await asyncio.create_task(other.set_state(key, "Report:elsewhere"), context=contextvars.Context())
    await fsm.commit_unit(unit)
    assert await fsm.get_state(key) == "Report:q1"  # this update's write, on the second attempt
    assert (await fsm.open_unit(key, update_id=7)) is None  # and its id is recorded
