"""No Telegram ids in Redis: event isolation and the flood gate's windows use keyed hashes
(run when KUA_TEST_REDIS_URL is set)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from emulator import FakeTelegram
from storage.crypto import Crypto
from storage.redis_keys import HashedKeyBuilder
from tests.harness import BotProcess, Reporter, make_config

REDIS_URL = os.environ.get("KUA_TEST_REDIS_URL", "")
USER_ID = 7391846250


def test_the_key_builder_keeps_ids_out_and_isolates_like_aiogram() -> None:
    crypto = Crypto([Crypto.generate_key()], "s" * 40)
    keys = HashedKeyBuilder(crypto)
    a = StorageKey(bot_id=123456, chat_id=USER_ID, user_id=USER_ID)
    b = StorageKey(bot_id=123456, chat_id=-1001234567890, user_id=USER_ID)
    built = [keys.build(a, "lock"), keys.build(a, "data"), keys.build(b, "lock")]
    assert len(set(built)) == 3 and all(k.startswith("kua:") for k in built)
    assert not any(str(USER_ID) in k or "1234567890" in k or "123456" in k for k in built)
    assert keys.build(a, "lock") == HashedKeyBuilder(crypto).build(a, "lock")  # stable
    assert str(USER_ID) not in keys.chat_ref(USER_ID)


@pytest.mark.skipif(not REDIS_URL, reason="KUA_TEST_REDIS_URL is not set")
async def test_after_a_journey_with_redis_isolation_no_redis_command_carries_a_telegram_id(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    from redis.asyncio import Redis

    seen: list[str] = []
    monitor_client = Redis.from_url(REDIS_URL)
    ready = asyncio.Event()

    async def watch() -> None:
        async with monitor_client.monitor() as monitor:
            ready.set()
            async for command in monitor.listen():
                seen.append(str(command.get("command", "")))

    watcher = asyncio.create_task(watch())
    await asyncio.wait_for(ready.wait(), 5)
    kua = BotProcess(make_config(fake, tmp_path, KUA_REDIS__URL=REDIS_URL), fake)
    await kua.start()
    try:
        r = Reporter(fake, fake.user(USER_ID, first_name="Redis", language_code="ru"), kua)
        await r.choose_language("ru")
        fake.fail_next("sendMessage", retry_after=1)  # a flood-control window in Redis too
        await r.press("m1:report")
        await r.consent()
        await r.answer("relation", "parent")
        await r.answer("person_agrees", "yes")  # asked when the report is about someone else
        await r.multi("danger", "none")
        await r.answer("facility_kind", "sizo")
        # The journey went on: the one window now asks the region question.
        assert any(data.startswith("a1:region:") for _, data in r.screen().buttons())
    finally:
        await kua.stop()
        watcher.cancel()
        with contextlib.suppress(BaseException):
            await watcher
        await monitor_client.aclose()
    ours = [c for c in seen if "kua:" in c]
    assert any("kua:lock:" in c for c in ours), "isolation went through Redis"
    assert any("kua:flood:" in c for c in ours), "the flood window went through Redis"
    # Other tests may share this Redis: look for *this* user's id in every command seen.
    assert not [c for c in seen if str(USER_ID) in c]
