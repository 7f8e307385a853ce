"""The flood-control gate on its own, on logical time (a fake clock; sleeping advances it):
a 429 for a chat holds every later request to that chat — from any sender — until retry_after
has passed, others go on; a 429 without a chat holds everything; the request that met it is
sent again; the error handler says nothing into an open window."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter, TelegramServerError
from aiogram.methods import AnswerCallbackQuery, SendMessage, TelegramMethod
from aiogram.types import ErrorEvent, Update

import bot.flood as flood
from bot.flood import FloodControlMiddleware, FloodGate
from handlers.errors import on_error
from tests.mocked_bot import MockedSession


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Scripted(MockedSession):
    """Answers 429 (or 5xx) to the requests the test scripts; records (time, chat) of all."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.sent: list[tuple[float, str | None]] = []
        self.script: list[tuple[str | None, Exception]] = []

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        chat = flood.chat_of(method)
        self.sent.append((self.clock.now, chat))
        for index, (target, error) in enumerate(self.script):
            if target == chat:
                del self.script[index]
                raise error
        return await super().make_request(bot, method, timeout)


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch) -> tuple[Bot, Scripted, FloodGate, Clock]:
    clock = Clock()
    real_sleep = asyncio.sleep

    async def sleep(seconds: float, *args: Any) -> None:
        clock.now += seconds
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)  # the module bot.flood sleeps through
    session = Scripted(clock)
    gate = FloodGate(chat_ref=lambda chat: f"h{hash(chat)}", clock=clock)
    session.middleware(FloodControlMiddleware(gate))
    return Bot("123456:TEST", session=session), session, gate, clock


def retry_after(seconds: int) -> TelegramRetryAfter:
    return TelegramRetryAfter(
        method=SendMessage(chat_id=1, text="x"), message="Too Many", retry_after=seconds
    )


async def test_a_429_holds_that_chat_for_every_sender_and_retries_the_message(rig) -> None:
    bot, session, _gate, _clock = rig
    session.script.append(("111", retry_after(5)))
    await bot.send_message(111, "a question")  # met the 429, sent again after the window
    assert [t for t, chat in session.sent if chat == "111"] == [1000.0, 1005.0]
    session.script.append(("111", retry_after(7)))
    first = asyncio.create_task(bot.send_message(111, "from a handler"))
    await asyncio.sleep(0)
    second = asyncio.create_task(bot.send_message(111, "from the delivery worker"))
    other = asyncio.create_task(bot.send_message(222, "another chat"))
    await asyncio.gather(first, second, other)
    window_end = 1005.0 + 7
    to_111 = [t for t, chat in session.sent if chat == "111"]
    assert to_111[2] == 1005.0 and all(t >= window_end for t in to_111[3:])
    assert len(to_111) == 5


async def test_a_429_without_a_chat_holds_every_chat(rig) -> None:
    bot, session, gate, _clock = rig
    session.script.append((None, retry_after(3)))
    await bot(AnswerCallbackQuery(callback_query_id="q"))
    assert await gate.remaining("333") == 0  # the window passed while the answer waited
    session.script.append((None, retry_after(4)))
    answer = asyncio.create_task(bot(AnswerCallbackQuery(callback_query_id="q2")))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    await bot.send_message(333, "waits for the global window")
    await answer
    assert all(t >= 1003.0 + 4 for t, chat in session.sent if chat == "333")


async def test_a_private_5xx_is_tried_again_a_group_5xx_goes_back_to_the_outbox(rig) -> None:
    bot, session, _gate, _clock = rig
    error = TelegramServerError(method=SendMessage(chat_id=1, text="x"), message="Bad Gateway")
    session.script.append(("444", error))
    await bot.send_message(444, "to a reporter")
    assert [chat for _t, chat in session.sent].count("444") == 2
    session.script.append(("-100555", error))
    with pytest.raises(TelegramServerError):
        await bot.send_message(-100555, "a card")


async def test_the_error_handler_says_nothing_into_an_open_window(rig) -> None:
    bot, session, gate, _clock = rig
    update = Update.model_validate(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 1,
                "text": "x",
                "chat": {"id": 666, "type": "private"},
                "from": {"id": 666, "is_bot": False, "first_name": "U"},
            },
        }
    )
    await gate.close_for("666", 30)
    await on_error(ErrorEvent(update=update, exception=RuntimeError()), bot, gate)
    assert [chat for _t, chat in session.sent] == []
    await gate.close_for("666", 0)  # (no shorter window: still closed)
    assert await gate.remaining("666") > 0
