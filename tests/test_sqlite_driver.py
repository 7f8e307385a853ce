"""storage.sqlite_driver: one thread hop per statement, with SQLAlchemy seeing what it saw
with aiosqlite's own cursors (rows, rowcount, RETURNING, errors, transactions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import make_engine
from storage.sqlite_driver import BufferedConnection


async def test_statements_rows_and_transactions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}")
    calls: list[str] = []
    execute = getattr(BufferedConnection, "_execute")  # noqa: B009 - aiosqlite's queue call

    async def counted(self: BufferedConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", "?"))
        return await execute(self, fn, *args, **kwargs)

    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
        monkeypatch.setattr(BufferedConnection, "_execute", counted)
        async with engine.begin() as conn:
            inserted = await conn.execute(text("INSERT INTO t (v) VALUES ('a'), ('b'), ('c') RETURNING id"))
            assert sorted(inserted.scalars()) == [1, 2, 3]
            updated = await conn.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))
            assert updated.rowcount == 2
        assert calls == ["_run", "_run", "commit"]  # no cursor/fetch/close hops, no empty rollback
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "a"), (2, "b!"), (3, "c!")]
            result = await conn.execute(text("SELECT v FROM t ORDER BY id"))
            assert result.fetchone() == ("a",)
            assert result.fetchmany(5) == [("b!",), ("c!",)]
            assert result.fetchone() is None

        async def failing() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (v) VALUES ('z')"))
                await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))  # unique: rolls back

        with pytest.raises(IntegrityError):
            await failing()
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 3
    finally:
        await engine.dispose()
