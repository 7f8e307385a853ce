"""Shared fixtures: the fake Bot API server and the real bot polling it."""

from __future__ import annotations

import gc
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

import bot  # noqa: F401 - first, as when the bot runs: aiogram with deferred schemas (bot.lazy_types)
from emulator import FakeTelegram
from tests.harness import BotProcess, Clock, Reporter, make_config


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server
        # Anything the bot sent that Telegram would have rejected fails the test.
        server.assert_no_errors()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def kua(fake: FakeTelegram, tmp_path: Path, clock: Clock) -> AsyncIterator[BotProcess]:
    process = BotProcess(make_config(fake, tmp_path), fake, clock)
    await process.start()
    yield process
    await process.stop()


@pytest.fixture
def reporter(fake: FakeTelegram, kua: BotProcess) -> Reporter:
    user = fake.user(
        987654321, first_name="Гульнара", last_name="Сейткали", username="gulnara_s", language_code="ru"
    )
    return Reporter(fake, user, kua)


# Files whose tests run long (child processes, a venv, thousands of updates): run first, so
# under xdist the two workers share them out instead of one finishing alone at the end.
SLOW_FIRST = (
    "test_kill.py",
    "test_install.py",
    "test_junk.py",
    "test_keyguard.py",
    "test_demo_browser.py",
    "test_e2e_scale.py",
    "test_demo_web.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: the order within a file stays


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what the imports built, so the per-test gc.collect() below scans only what
    tests made (a full collection walks ~300k objects: 0.2 s of CPU, times every test).

    The bot imports its routers (and matplotlib, through the stats charts) when it first
    builds a dispatcher; that is done here once, so those modules are frozen too. So are the
    schemas of the types every update uses (``bot.lazy_types.warm_up``, as the bot does at
    start-up): built on first use, they cost a fresh worker's first test a few hundred ms, and a
    test that waits for a quiet period (tests/test_fakeapi.py) must not depend on running after
    another test that built them.
    """
    import handlers
    from bot.lazy_types import warm_up

    handlers.get_routers()
    warm_up()
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _collect_garbage_per_test():
    """Unclosed resources surface in the test that leaked them, not in a later one."""
    yield
    gc.collect()


@pytest.fixture
async def pg_database() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test (the app's own URL), dropped afterwards."""
    base = os.environ.get("KUA_TEST_DATABASE_URL")
    if not base:
        pytest.skip("KUA_TEST_DATABASE_URL is not set")
    name = "kua_test_" + secrets.token_hex(4)
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
