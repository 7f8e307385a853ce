"""Exactly once per update, through the real Dispatcher (mocked session, SQLite and PostgreSQL):
state and data are written once at the end with the update id, an update delivered again is
not applied again, and a handler that fails or is killed mid-way leaves nothing half-written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, Message, Update
from sqlalchemy import event

from bot.callbacks import AnswerTracker, CallbackGuard
from bot.exactly_once import ExactlyOnceMiddleware
from storage.base import Base
from storage.db import make_sessionmaker
from storage.fsm import AppliedUpdates, FsmRecord, SQLAlchemyStorage
from storage.sqlite_direct import direct_for
from tests.mocked_bot import MockedSession
from tests.storage_fixtures import BACKENDS, isolated_engine, make_crypto

USER = 700000123
runs: list[str] = []


async def on_text(message: Message, state: FSMContext) -> None:
    runs.append(message.text or "")
    if message.text == "boom":
        await state.set_state("Report:half")
        await state.update_data(answer="half")
        raise RuntimeError("a bug after the first writes")
    if message.text == "slow":
        await state.set_state("Report:half")
        await asyncio.sleep(3600)  # killed here
    # The shape of flow.ask(): state, draft, a message, the draft again.
    await state.set_state("Report:next")
    await state.update_data(answer=message.text)
    await message.answer("next question")
    data = await state.get_data()
    await state.update_data(ui=42, count=data.get("count", 0) + 1)


async def on_press(query: CallbackQuery) -> None:
    runs.append(f"press:{query.data}")  # does not answer: the guard does


@pytest.fixture(params=BACKENDS)
async def setup(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async with isolated_engine(request.param, tmp_path, "once") as engine:
        async with engine.begin() as conn:
            await conn.run_sync(
                Base.metadata.create_all,
                tables=[Base.metadata.tables[t.__tablename__] for t in (FsmRecord, AppliedUpdates)],
            )
        fsm = SQLAlchemyStorage(make_sessionmaker(engine), make_crypto())
        dp = Dispatcher(storage=fsm)
        dp.update.outer_middleware(ExactlyOnceMiddleware(fsm))
        dp.callback_query.outer_middleware(CallbackGuard())
        router = Router()
        router.message.register(on_text)
        router.callback_query.register(on_press)
        dp.include_router(router)
        session = MockedSession()
        session.middleware(AnswerTracker())
        bot = Bot("123456:TEST", session=session)
        runs.clear()
        yield dp, bot, fsm, engine, session


def text_update(update_id: int, text: str) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1,
                "text": text,
                "chat": {"id": USER, "type": "private"},
                "from": {"id": USER, "is_bot": False, "first_name": "U"},
            },
        }
    )


def key() -> StorageKey:
    return StorageKey(bot_id=123456, chat_id=USER, user_id=USER)


async def test_an_update_delivered_again_is_not_applied_again(setup: Any) -> None:
    dp, bot, fsm, _engine, session = setup
    await dp.feed_update(bot, text_update(10, "parent"))
    await dp.feed_update(bot, text_update(10, "parent"))  # Telegram sends it again
    assert runs == ["parent"]
    assert await fsm.get_data(key()) == {"answer": "parent", "ui": 42, "count": 1}
    assert session.counts["sendMessage"] == 1
    await dp.feed_update(bot, text_update(11, "sizo"))  # the next one is applied
    assert runs == ["parent", "sizo"] and (await fsm.get_data(key()))["count"] == 2


async def test_state_data_and_update_id_are_written_in_one_transaction(setup: Any) -> None:
    dp, bot, _fsm, engine, _session = setup
    commits = []

    def count(_conn: Any) -> None:
        commits.append(1)

    def below(kind: str, _sql: str) -> None:  # SQLite: the FSM's path below SQLAlchemy
        if kind == "commit":
            commits.append(1)

    direct = direct_for(engine)
    event.listen(engine.sync_engine, "commit", count)
    if direct is not None:
        direct.listeners.append(below)
    try:
        await dp.feed_update(bot, text_update(20, "parent"))
    finally:
        event.remove(engine.sync_engine, "commit", count)
        if direct is not None:
            direct.listeners.remove(below)
    assert len(commits) == 1  # three writes in the handler, one transaction


async def test_a_failing_handler_leaves_state_and_data_as_they_were(setup: Any) -> None:
    dp, bot, fsm, _engine, _session = setup
    await dp.feed_update(bot, text_update(30, "parent"))
    with pytest.raises(RuntimeError):
        await dp.feed_update(bot, text_update(31, "boom"))
    assert await fsm.get_state(key()) == "Report:next"
    assert (await fsm.get_data(key()))["answer"] == "parent"
    await dp.feed_update(bot, text_update(31, "boom2"))  # not recorded: may come again
    assert runs[-1] == "boom2"


async def test_an_update_killed_mid_way_writes_nothing(setup: Any) -> None:
    dp, bot, fsm, _engine, _session = setup
    task = asyncio.create_task(dp.feed_update(bot, text_update(40, "slow")))
    while "slow" not in runs:  # noqa: ASYNC110 - the handler under test appends to a plain list
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await fsm.get_state(key()) is None and await fsm.get_data(key()) == {}
    await fsm.set_data(key(), {"outside": True})  # outside an update: written at once
    assert await fsm.get_data(key()) == {"outside": True}


async def test_a_callback_nobody_answered_is_answered_once(setup: Any) -> None:
    dp, bot, _fsm, _engine, session = setup
    update = Update.model_validate(
        {
            "update_id": 50,
            "callback_query": {
                "id": "cb50",
                "chat_instance": "c",
                "data": "x",
                "from": {"id": USER, "is_bot": False, "first_name": "U"},
                "message": {
                    "message_id": 1,
                    "date": 1,
                    "chat": {"id": USER, "type": "private"},
                    "text": "screen",
                },
            },
        }
    )
    await dp.feed_update(bot, update)
    await dp.feed_update(bot, update)  # delivered again: answered quietly, not applied
    assert runs == ["press:x"]
    assert session.counts["answerCallbackQuery"] == 2  # once each time, never left spinning


async def test_an_edit_repeated_by_a_re_applied_update_counts_as_done() -> None:
    from aiogram.exceptions import TelegramBadRequest
    from aiogram.methods import EditMessageReplyMarkup, SendMessage

    from bot.exactly_once import RepeatedEditIsDone

    class NotModified(MockedSession):
        async def make_request(self, bot: Bot, method: Any, timeout: int | None = None) -> Any:
            raise TelegramBadRequest(
                method=method,
                message="Bad Request: message is not modified: specified new message content ...",
            )

    session = NotModified()
    session.middleware(RepeatedEditIsDone())
    bot = Bot("123456:TEST", session=session)
    assert await bot(EditMessageReplyMarkup(chat_id=1, message_id=2)) is True
    with pytest.raises(TelegramBadRequest):  # only edits: a send is never "not modified"
        await bot(SendMessage(chat_id=1, text="x"))
