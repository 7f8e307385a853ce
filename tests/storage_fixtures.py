"""Database helpers for storage tests: an isolated engine per test, on SQLite or PostgreSQL.

PostgreSQL runs only when ``KUA_TEST_DATABASE_URL`` is set. Each test gets a fresh schema
(``kua_test_<purpose>_<random>``) and an engine whose connections have ``search_path`` set
to it, so tests never see each other's tables (nor the ones other modules create in
``public``), and migrations/alembic_version land in that schema too. The schema is dropped
afterwards, also when the test fails.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage.crypto import Crypto
from storage.db import make_engine
from storage.sqlite_direct import close_direct

PG_URL_ENV = "KUA_TEST_DATABASE_URL"

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

# Parametrize storage tests with BACKENDS; the PostgreSQL case skips without a database.
BACKENDS = [
    pytest.param(SQLITE, id=SQLITE),
    pytest.param(
        POSTGRESQL,
        id=POSTGRESQL,
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not os.environ.get(PG_URL_ENV), reason=f"{PG_URL_ENV} is not set"),
        ],
    ),
]


def pg_url() -> str:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(f"{PG_URL_ENV} is not set")
    return url


def make_crypto() -> Crypto:
    return Crypto([Crypto.generate_key()], "test-hmac-secret-" + "x" * 32)


class FakeClock:
    """A controllable ``clock`` for TTL tests (aware UTC datetimes, like utcnow)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@asynccontextmanager
async def pg_schema_engine(base_url: str, purpose: str) -> AsyncIterator[AsyncEngine]:
    """An engine confined to a fresh PostgreSQL schema, dropped on exit."""
    if not re.fullmatch(r"[a-z0-9_]{1,20}", purpose):
        raise ValueError(f"bad schema purpose {purpose!r}")
    # Random suffix: several test runs (or xdist workers) may share the database.
    schema = f"kua_test_{purpose}_{uuid.uuid4().hex[:12]}"
    # NullPool: the admin engine is used twice and must hold no connection in between.
    admin = create_async_engine(base_url, poolclass=NullPool)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_async_engine(base_url, connect_args={"server_settings": {"search_path": schema}})
        try:
            yield engine
        finally:
            # Close pooled connections first, or DROP SCHEMA could wait on their locks.
            await engine.dispose()
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        await admin.dispose()


@asynccontextmanager
async def isolated_engine(
    backend: str, tmp_path: Path, purpose: str, *, sqlite_foreign_keys: bool = True
) -> AsyncIterator[AsyncEngine]:
    """An empty database for one test: a tmp SQLite file, or a fresh PostgreSQL schema."""
    if backend == SQLITE:
        # A file, not :memory:, so the pool has real separate connections (and locks).
        engine = make_engine(
            f"sqlite+aiosqlite:///{tmp_path / 'kua.sqlite3'}",
            sqlite_foreign_keys=sqlite_foreign_keys,
        )
        try:
            yield engine
        finally:
            await close_direct(engine)
            await engine.dispose()
    elif backend == POSTGRESQL:
        async with pg_schema_engine(pg_url(), purpose) as engine:
            yield engine
    else:
        raise ValueError(f"unknown backend {backend!r}")
