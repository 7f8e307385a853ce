"""Shared fixtures: the fake Bot API server and the real bot polling it."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakeapi import FakeTelegram
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
    user = fake.user(987654321, first_name="Гульнара", last_name="Сейткали",
                     username="gulnara_s", language_code="ru")
    return Reporter(fake, user, kua)


@pytest.fixture(autouse=True)
def _collect_garbage_per_test():
    """Unclosed resources surface in the test that leaked them, not in a later one."""
    import gc

    yield
    gc.collect()
