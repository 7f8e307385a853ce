"""Alembic migrations (stairway, full cycle, schema == models) and the storage.db helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DatabaseError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import migrate
from storage import db
from tests.storage_fixtures import BACKENDS, isolated_engine


def revisions_in_order() -> list[tuple[str, str]]:
    """(revision, the one below it or "base"), oldest first."""
    script = ScriptDirectory.from_config(db.alembic_config("sqlite+aiosqlite://"))
    # A branched history would make "one step down" ambiguous: keep it linear.
    assert len(script.get_heads()) == 1, "migration history must have a single head"
    revs = list(script.walk_revisions("base", "heads"))
    revs.reverse()
    return [(r.revision, r.down_revision or "base") for r in revs]  # type: ignore[misc]


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    # Migrations run with SQLite foreign keys off, as in production (see storage.db).
    async with isolated_engine(request.param, tmp_path, "mig", sqlite_foreign_keys=False) as engine:
        yield engine


def test_revision_ids_are_readable() -> None:
    revs = revisions_in_order()
    assert revs[0] == ("0001", "base")
    for number, (rev, _down) in enumerate(revs, start=1):
        assert rev == f"{number:04d}", "revision ids are 0001, 0002, ... in order"


async def test_stairway(engine: AsyncEngine) -> None:
    # Each migration must upgrade, downgrade cleanly, and upgrade again (catches downgrades
    # that leave something behind and upgrades that are not re-runnable after one).
    for revision, below in revisions_in_order():
        await db.upgrade(engine, revision)
        assert await db.current_revisions(engine) == {revision}
        await db.downgrade(engine, below)
        assert await db.current_revisions(engine) == (set() if below == "base" else {below})
        await db.upgrade(engine, revision)
    assert await db.current_revision_is_head(engine)


async def test_full_cycle(engine: AsyncEngine) -> None:
    assert not await db.current_revision_is_head(engine)
    await db.upgrade(engine, "head")
    assert await db.current_revision_is_head(engine)
    assert "fsm_records" in await table_names(engine)
    await db.downgrade(engine, "base")
    assert await table_names(engine) <= {"alembic_version"}  # nothing else left behind
    assert await db.current_revisions(engine) == set()
    await db.upgrade(engine, "head")
    assert await db.current_revision_is_head(engine)


async def test_schema_matches_models(engine: AsyncEngine) -> None:
    await db.upgrade(engine, "head")
    metadata = db.load_models()

    def diff(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with engine.connect() as conn:
        diffs = await conn.run_sync(diff)
    assert diffs == [], (
        "the models and the migrations disagree; write a migration "
        "(alembic revision --autogenerate --rev-id NNNN -m ...)"
    )


# --- storage.db helpers (SQLite; PostgreSQL is covered by the tests above) ------------------------
async def test_upgrade_to_head_by_url(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "kua.sqlite3"  # parent dirs are created
    url = f"sqlite+aiosqlite:///{path}"
    await db.upgrade_to_head(url)
    engine = db.make_engine(url)
    try:
        await db.check_database(engine)
        assert await db.current_revision_is_head(engine)
    finally:
        await engine.dispose()


async def test_env_py_url_path(tmp_path: Path) -> None:
    # Without a shared connection env.py makes its own engine from sqlalchemy.url and runs
    # asyncio.run(), which needs a thread without a running loop (as in the alembic CLI).
    url = f"sqlite+aiosqlite:///{tmp_path / 'kua.sqlite3'}"
    await asyncio.to_thread(command.upgrade, db.alembic_config(url), "head")
    engine = db.make_engine(url)
    try:
        assert await db.current_revision_is_head(engine)
    finally:
        await engine.dispose()


async def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'a' / 'kua.sqlite3'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
    finally:
        await engine.dispose()
    engine = db.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'kua.sqlite3'}", sqlite_foreign_keys=False)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 0
    finally:
        await engine.dispose()


async def test_check_database_propagates_errors(tmp_path: Path) -> None:
    (tmp_path / "not-a-db").write_bytes(b"this is not an sqlite file" * 100)
    engine = db.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'not-a-db'}")
    try:
        with pytest.raises(DatabaseError, match="file is not a database"):
            await db.check_database(engine)
    finally:
        await engine.dispose()


def test_alembic_config_is_cwd_independent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = db.alembic_config("postgresql+asyncpg://u:p%40ss@h/db")
    assert cfg.get_main_option("sqlalchemy.url") == "postgresql+asyncpg://u:p%40ss@h/db"
    assert Path(cfg.get_main_option("script_location") or "").is_absolute()
    assert db.head_revisions() == {revisions_in_order()[-1][0]}


# --- python -m bot.migrate ------------------------------------------------------------------------
def test_migrate_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kua.sqlite3'}"
    monkeypatch.setattr(migrate, "_database_url", lambda: url)
    head = revisions_in_order()[-1][0]

    assert migrate.main(["current"]) == 0
    assert capsys.readouterr().out.startswith("none")
    assert migrate.main(["upgrade"]) == 0
    assert capsys.readouterr().out.strip() == f"{head} (head)"
    assert migrate.main(["downgrade", "base"]) == 0
    assert capsys.readouterr().out.startswith("none")
    assert migrate.main(["upgrade", "head"]) == 0
    assert migrate.main(["current"]) == 0
    assert capsys.readouterr().out.strip().endswith(f"{head} (head)")


def test_migrate_cli_config_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bot.config

    def broken(*_args: object, **_kwargs: object) -> object:
        raise bot.config.ConfigError("database.url", "database.url is invalid: try\nagain")

    monkeypatch.setattr(bot.config, "load_config", broken)
    with pytest.raises(SystemExit) as info:
        migrate.main(["current"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "database.url is invalid" in err
