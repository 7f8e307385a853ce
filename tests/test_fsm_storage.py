"""SQLAlchemyStorage: aiogram storage semantics (ported from aiogram's own storage tests),
encryption at rest, expiry and atomic update_data, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.base import Base
from storage.crypto import Crypto
from storage.db import make_sessionmaker
from storage.fsm import AppliedUpdates, FsmRecord, SQLAlchemyStorage, _Record
from tests.storage_fixtures import BACKENDS, FakeClock, isolated_engine, make_crypto

TTL = timedelta(hours=6)
USER_ID = 987654321012  # distinctive digits, searched for in the stored key
MARKER = "UNIQUE-DRAFT-MARKER-Ωж"


class Form(StatesGroup):
    details = State()


@dataclass
class Env:
    storage: SQLAlchemyStorage
    engine: AsyncEngine
    crypto: Crypto
    clock: FakeClock

    async def rows(self) -> list[FsmRecord]:
        async with make_sessionmaker(self.engine)() as session:
            return list((await session.scalars(select(FsmRecord))).all())

    async def count(self) -> int:
        async with make_sessionmaker(self.engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(FsmRecord)) or 0)


@pytest.fixture(params=BACKENDS)
async def env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Env]:
    async with isolated_engine(request.param, tmp_path, "fsm") as engine:
        async with engine.begin() as conn:
            # Only the table under test; the migrations have their own test.
            await conn.run_sync(
                Base.metadata.create_all,
                tables=[Base.metadata.tables[t.__tablename__] for t in (FsmRecord, AppliedUpdates)],
            )
        crypto = make_crypto()
        clock = FakeClock()
        storage = SQLAlchemyStorage(make_sessionmaker(engine), crypto, ttl=TTL, clock=clock)
        yield Env(storage=storage, engine=engine, crypto=crypto, clock=clock)
        await storage.close()


@pytest.fixture
def storage(env: Env) -> SQLAlchemyStorage:
    return env.storage


@pytest.fixture
def key() -> StorageKey:
    return StorageKey(bot_id=42, chat_id=USER_ID, user_id=USER_ID)


# --- aiogram storage semantics ------------------------------------------------------------------
async def test_set_state(storage: SQLAlchemyStorage, key: StorageKey) -> None:
    assert await storage.get_state(key) is None
    await storage.set_state(key, "state")
    assert await storage.get_state(key) == "state"
    await storage.set_state(key, None)
    assert await storage.get_state(key) is None


async def test_set_state_accepts_state_objects(storage: SQLAlchemyStorage, key: StorageKey) -> None:
    await storage.set_state(key, Form.details)
    assert await storage.get_state(key) == "Form:details"


async def test_set_data(storage: SQLAlchemyStorage, key: StorageKey) -> None:
    assert await storage.get_data(key) == {}
    await storage.set_data(key, {"foo": "bar"})
    assert await storage.get_data(key) == {"foo": "bar"}
    await storage.set_data(key, {})
    assert await storage.get_data(key) == {}


async def test_set_data_requires_a_dict(storage: SQLAlchemyStorage, key: StorageKey) -> None:
    with pytest.raises(DataNotDictLikeError):
        await storage.set_data(key, MappingProxyType({"a": 1}))
    with pytest.raises(DataNotDictLikeError):
        await storage.set_data(key, [("a", 1)])  # type: ignore[arg-type]


async def test_update_data(storage: SQLAlchemyStorage, key: StorageKey) -> None:
    assert await storage.get_data(key) == {}
    assert await storage.update_data(key, {"foo": "bar"}) == {"foo": "bar"}
    assert await storage.update_data(key, {}) == {"foo": "bar"}
    assert await storage.get_data(key) == {"foo": "bar"}
    assert await storage.update_data(key, {"baz": "spam"}) == {"foo": "bar", "baz": "spam"}
    assert await storage.get_data(key) == {"foo": "bar", "baz": "spam"}
    assert await storage.update_data(key, {"baz": "test"}) == {"foo": "bar", "baz": "test"}
    assert await storage.get_data(key) == {"foo": "bar", "baz": "test"}


async def test_get_value(storage: SQLAlchemyStorage, key: StorageKey) -> None:
    assert await storage.get_value(key, "missing") is None
    assert await storage.get_value(key, "missing", "default") == "default"
    await storage.set_data(key, {"hello": "world", "nested": {"a": [1, 2]}})
    assert await storage.get_value(key, "hello") == "world"
    assert await storage.get_value(key, "nested") == {"a": [1, 2]}
    assert await storage.get_value(key, "missing", 7) == 7


async def test_get_data_returns_a_fresh_copy(storage: SQLAlchemyStorage, key: StorageKey) -> None:
    source: dict[str, Any] = {"list": [1], "nested": {"a": 1}}
    await storage.set_data(key, source)
    source["list"].append(2)  # the caller's dict is not aliased by the storage
    got = await storage.get_data(key)
    got["list"].append(3)
    got["nested"]["a"] = 2
    got["new"] = True
    assert await storage.get_data(key) == {"list": [1], "nested": {"a": 1}}
    returned = await storage.update_data(key, {"x": 1})
    returned["y"] = 2
    assert await storage.get_data(key) == {"list": [1], "nested": {"a": 1}, "x": 1}


async def test_state_and_data_are_independent(env: Env, key: StorageKey) -> None:
    storage = env.storage
    await storage.set_state(key, "step")
    await storage.set_data(key, {"a": 1})
    await storage.set_state(key, None)  # keeps the data
    assert await storage.get_data(key) == {"a": 1}
    assert await storage.get_state(key) is None
    await storage.set_state(key, "step2")
    await storage.set_data(key, {})  # keeps the state
    assert await storage.get_state(key) == "step2"
    assert await storage.get_data(key) == {}
    assert await env.count() == 1


async def test_empty_record_leaves_no_row(env: Env, key: StorageKey) -> None:
    storage = env.storage
    await storage.set_data(key, {})
    await storage.set_state(key, None)
    await storage.update_data(key, {})
    assert await env.count() == 0
    await storage.set_data(key, {"a": 1})
    await storage.set_data(key, {})
    assert await env.count() == 0
    await storage.set_state(key, "s")
    await storage.set_state(key, None)
    assert await env.count() == 0


async def test_fsm_context_clear(env: Env, key: StorageKey) -> None:
    context = FSMContext(storage=env.storage, key=key)
    await context.set_state(Form.details)
    await context.update_data(text="draft")
    assert await context.get_state() == "Form:details"
    assert await context.get_value("text") == "draft"
    await context.clear()
    assert await context.get_state() is None
    assert await context.get_data() == {}
    assert await env.count() == 0


async def test_delete(env: Env, key: StorageKey) -> None:
    other = StorageKey(bot_id=42, chat_id=1, user_id=1)
    for k in (key, other):
        await env.storage.set_state(k, "s")
        await env.storage.set_data(k, {"a": 1})
    await env.storage.delete(key)
    await env.storage.delete(key)  # deleting an absent key is fine
    assert await env.storage.get_state(key) is None
    assert await env.storage.get_data(key) == {}
    assert await env.storage.get_data(other) == {"a": 1}
    assert await env.count() == 1


@pytest.mark.parametrize(
    "other",
    [
        StorageKey(bot_id=43, chat_id=USER_ID, user_id=USER_ID),
        StorageKey(bot_id=42, chat_id=USER_ID + 1, user_id=USER_ID),
        StorageKey(bot_id=42, chat_id=USER_ID, user_id=USER_ID + 1),
        StorageKey(bot_id=42, chat_id=USER_ID, user_id=USER_ID, thread_id=5),
        StorageKey(bot_id=42, chat_id=USER_ID, user_id=USER_ID, business_connection_id="bc"),
        StorageKey(bot_id=42, chat_id=USER_ID, user_id=USER_ID, destiny="other"),
    ],
    ids=["bot", "chat", "user", "thread", "business_connection", "destiny"],
)
async def test_keys_are_isolated(storage: SQLAlchemyStorage, key: StorageKey, other: StorageKey) -> None:
    await storage.set_state(key, "mine")
    await storage.set_data(key, {"who": "mine"})
    assert await storage.get_state(other) is None
    assert await storage.get_data(other) == {}
    await storage.set_state(other, "theirs")
    await storage.update_data(other, {"who": "theirs"})
    assert await storage.get_state(key) == "mine"
    assert await storage.get_data(key) == {"who": "mine"}
    assert await storage.get_data(other) == {"who": "theirs"}


# --- privacy --------------------------------------------------------------------------------------
async def test_data_is_encrypted_and_ids_are_hashed(env: Env, key: StorageKey) -> None:
    await env.storage.set_state(key, Form.details)
    await env.storage.set_data(key, {"text": MARKER, "user": USER_ID})
    (row,) = await env.rows()
    assert row.data is not None
    for needle in (MARKER.encode(), MARKER.encode("unicode_escape"), b"UNIQUE-DRAFT"):
        assert needle not in row.data
    assert env.crypto.decrypt_json(row.data) == {"text": MARKER, "user": USER_ID}
    assert row.state == "Form:details"  # step names stay readable
    # The key is an HMAC: fixed-length hex, no trace of the Telegram ids.
    assert len(row.key) == 64 and int(row.key, 16) >= 0
    assert str(USER_ID) not in row.key and str(USER_ID)[:6] not in row.key
    assert str(USER_ID).encode() not in row.data


async def test_key_depends_on_the_hmac_secret(env: Env, key: StorageKey) -> None:
    await env.storage.set_data(key, {"a": 1})
    other_secret = Crypto([Crypto.generate_key()], "another-hmac-secret-" + "y" * 32)
    foreign = SQLAlchemyStorage(make_sessionmaker(env.engine), other_secret)
    assert await foreign.get_data(key) == {}  # different secret: a different row key


# --- expiry ---------------------------------------------------------------------------------------
async def test_rows_expire_after_ttl(env: Env, key: StorageKey) -> None:
    storage = env.storage
    await storage.set_state(key, "step")
    await storage.set_data(key, {"text": "old draft"})
    env.clock.advance(TTL)  # exactly ttl old: still valid
    assert await storage.get_state(key) == "step"
    assert await storage.get_data(key) == {"text": "old draft"}
    env.clock.advance(timedelta(seconds=1))
    assert await storage.get_state(key) is None
    assert await storage.get_data(key) == {}
    assert await storage.get_value(key, "text") is None
    assert await env.count() == 0  # the stale row was dropped on read


async def test_writes_refresh_ttl(env: Env, key: StorageKey) -> None:
    storage = env.storage
    await storage.update_data(key, {"a": 1})
    env.clock.advance(TTL - timedelta(minutes=1))
    await storage.update_data(key, {"b": 2})
    env.clock.advance(TTL - timedelta(minutes=1))
    assert await storage.get_data(key) == {"a": 1, "b": 2}


async def test_expired_data_does_not_resurface_on_write(env: Env, key: StorageKey) -> None:
    storage = env.storage
    await storage.set_state(key, "old")
    await storage.set_data(key, {"text": "old draft"})
    env.clock.advance(TTL + timedelta(seconds=1))
    # Written without reading first, so the expired row is still there.
    await storage.set_state(key, "new")
    assert await storage.get_data(key) == {}
    assert await storage.update_data(key, {"fresh": 1}) == {"fresh": 1}
    env.clock.advance(TTL + timedelta(seconds=1))
    await storage.set_data(key, {"x": 1})
    assert await storage.get_state(key) is None


async def test_purge_expired(env: Env) -> None:
    storage = env.storage
    keys = [StorageKey(bot_id=42, chat_id=i, user_id=i) for i in range(3)]
    for k in keys:
        await storage.set_state(k, "s")
    env.clock.advance(TTL - timedelta(minutes=5))
    await storage.update_data(keys[0], {"touched": True})
    env.clock.advance(timedelta(minutes=10))
    assert await storage.purge_expired() == 2
    assert await storage.purge_expired() == 0
    assert await env.count() == 1
    assert await storage.get_data(keys[0]) == {"touched": True}


async def test_no_ttl_means_no_expiry(env: Env, key: StorageKey) -> None:
    storage = SQLAlchemyStorage(make_sessionmaker(env.engine), env.crypto, clock=env.clock)
    await storage.set_data(key, {"a": 1})
    env.clock.advance(timedelta(days=3650))
    assert await storage.get_data(key) == {"a": 1}
    assert await storage.purge_expired() == 0


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ttl must be positive"):
        SQLAlchemyStorage(None, make_crypto(), ttl=timedelta(0))  # type: ignore[arg-type]


# --- concurrency ----------------------------------------------------------------------------------
async def test_concurrent_update_data_loses_nothing(env: Env, key: StorageKey) -> None:
    # All tasks start on an absent key: this also races the first INSERT.
    results = await asyncio.gather(*(env.storage.update_data(key, {f"k{i}": i}) for i in range(20)))
    expected = {f"k{i}": i for i in range(20)}
    assert await env.storage.get_data(key) == expected
    # Serialised: exactly one update saw all 20 entries.
    assert sorted(len(r) for r in results) == list(range(1, 21))


async def test_concurrent_mixed_writes(env: Env, key: StorageKey) -> None:
    await env.storage.set_data(key, {"base": 0})
    writes: list[Awaitable[Any]] = []
    for i in range(10):
        writes.append(env.storage.update_data(key, {f"k{i}": i}))
        writes.append(env.storage.set_state(key, f"s{i}"))
    await asyncio.gather(*writes)
    assert await env.storage.get_data(key) == {"base": 0, **{f"k{i}": i for i in range(10)}}
    assert await env.storage.get_state(key) in {f"s{i}" for i in range(10)}


async def test_lost_first_insert_race_is_retried(
    env: Env, key: StorageKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate the PostgreSQL race deterministically on both databases: the first attempt
    # fails as if another transaction had inserted the key first.
    original = SQLAlchemyStorage._mutate_once  # noqa: SLF001 - wrapped to simulate the race
    calls = 0

    async def flaky(self: SQLAlchemyStorage, row_key: str, change: Callable[[_Record], _Record]) -> _Record:
        nonlocal calls
        calls += 1
        if calls == 1:
            await original(self, row_key, lambda _: _Record(state="winner", data={"w": 1}))
            raise IntegrityError("INSERT", {}, Exception("duplicate key"))
        return await original(self, row_key, change)

    monkeypatch.setattr(SQLAlchemyStorage, "_mutate_once", flaky)
    assert await env.storage.update_data(key, {"mine": 2}) == {"w": 1, "mine": 2}
    assert calls == 2
    assert await env.storage.get_state(key) == "winner"
