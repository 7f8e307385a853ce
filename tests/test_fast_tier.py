"""The fast tier: handler branches through the real Dispatcher of the real app (build_app), fed
with ``Dispatcher.feed_update`` over a mocked bot session (tests/mocked_bot.py, aiogram's own
idea) — no HTTP, no polling, no waiting: what the bot asked Telegram to do is in
``session.requests`` the moment feed_update returns.

Journeys and Telegram's own rules (what a message may contain, the 48-hour delete window...)
stay with the fake Bot API server (emulator/, the e2e tests); this tier is for the branches.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import TelegramMethod
from aiogram.types import Update

from bot.app import App, build_app
from bot.config import load_config
from tests.harness import migrate, tr
from tests.mocked_bot import MockedSession, use_mocked_session

BOT_ID = 123456
USER = 880000001
GROUP = -1001234500001  # the coordinators' chat
STRANGER_GROUP = -1009876500001


@dataclass
class Fed:
    app: App
    session: MockedSession
    ids: count[int]

    async def feed(self, update: dict[str, Any]) -> list[TelegramMethod[Any]]:
        """Feed one update; the requests the bot made while handling it."""
        self.session.requests.clear()
        await self.app.dispatcher.feed_update(
            self.app.bot, Update.model_validate(update, context={"bot": self.app.bot})
        )
        return list(self.session.requests)

    def _user(self) -> dict[str, Any]:
        return {"id": USER, "is_bot": False, "first_name": "A", "language_code": "ru"}

    async def text(self, text: str, chat_id: int = USER) -> list[TelegramMethod[Any]]:
        uid = next(self.ids)
        chat = (
            {"id": chat_id, "type": "private"}
            if chat_id > 0
            else {"id": chat_id, "type": "supergroup", "title": "g"}
        )
        message: dict[str, Any] = {
            "message_id": uid,
            "date": 1,
            "chat": chat,
            "from": self._user(),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self.feed({"update_id": uid, "message": message})

    async def press(self, data: str, message_id: int = 5) -> list[TelegramMethod[Any]]:
        uid = next(self.ids)
        screen = {
            "message_id": message_id,
            "date": 1,
            "chat": {"id": USER, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Kua"},
            "text": "screen",
        }
        query = {
            "id": f"cb{uid}",
            "chat_instance": "c",
            "data": data,
            "from": self._user(),
            "message": screen,
        }
        return await self.feed({"update_id": uid, "callback_query": query})


@pytest.fixture
async def fed(tmp_path: Path) -> AsyncIterator[Fed]:
    config = load_config(
        environ={
            "KUA_TELEGRAM__TOKEN": f"{BOT_ID}:TEST-token",
            "KUA_TELEGRAM__API_BASE": "http://127.0.0.1:9",  # never reached: the session is mocked
            "KUA_APP__DATA_DIR": str(tmp_path / "data"),
            "KUA_COORDINATION__CHAT_ID": str(GROUP),
            "KUA_LIMITS__FLOOD_UPDATES": "100000",
        },
        cwd=tmp_path,
    )
    await migrate(config.database.url)
    app = await build_app(config)
    session = use_mocked_session(app.bot, MockedSession(bot_id=BOT_ID))
    try:
        yield Fed(app, session, count(1))
    finally:
        await app.close()


def names(requests: list[TelegramMethod[Any]]) -> list[str]:
    return [r.__api_method__ for r in requests]


def buttons(request: TelegramMethod[Any]) -> list[str]:
    markup = getattr(request, "reply_markup", None)
    return [b.callback_data for row in (markup.inline_keyboard if markup else []) for b in row]


def answers(requests: list[TelegramMethod[Any]]) -> list[Any]:
    return [r for r in requests if r.__api_method__ == "answerCallbackQuery"]


async def test_start_in_private_asks_for_the_language_in_every_locale(fed: Fed) -> None:
    sent: list[Any] = [r for r in await fed.text("/start") if r.__api_method__ == "sendMessage"]
    assert len(sent) == 1 and sent[0].chat_id == USER
    assert sorted(buttons(sent[0])) == ["l1:en", "l1:kk", "l1:ru"]


async def test_choosing_a_language_answers_once_and_shows_the_menu_in_it(fed: Fed) -> None:
    await fed.text("/start")
    requests = await fed.press("l1:ru")
    assert len(answers(requests)) == 1
    window: list[Any] = [r for r in requests if r.__api_method__ in ("editMessageText", "sendMessage")]
    assert window and "m1:report" in buttons(window[-1])
    # The menu speaks the chosen language: its button labels are in Cyrillic.
    labels = [b.text for row in window[-1].reply_markup.inline_keyboard for b in row]
    assert all(any("а" <= ch.lower() <= "я" for ch in label) for label in labels), labels


async def test_a_forged_button_is_answered_as_out_of_date_and_changes_nothing(fed: Fed) -> None:
    await fed.text("/start")
    await fed.press("l1:ru")
    requests: list[Any] = await fed.press("zz:forged")
    assert names(requests) == ["answerCallbackQuery"]
    assert requests[0].text == tr("ru", "This button is out of date.")


async def test_the_same_button_press_delivered_twice_is_applied_once(fed: Fed) -> None:
    await fed.text("/start")
    press = {
        "update_id": 900,
        "callback_query": {
            "id": "cb900",
            "chat_instance": "c",
            "data": "l1:ru",
            "from": fed._user(),  # noqa: SLF001 - same module
            "message": {"message_id": 5, "date": 1, "chat": {"id": USER, "type": "private"}, "text": "s"},
        },
    }
    first = await fed.feed(press)
    again = await fed.feed(press)  # Telegram delivers it again (e.g. after a restart)
    assert len(answers(first)) == 1 and len(answers(again)) == 1  # never left spinning
    assert names(again) == ["answerCallbackQuery"]  # …and nothing sent or edited twice


async def test_a_group_that_is_not_the_coordinators_gets_no_answer(fed: Fed) -> None:
    assert await fed.text("/start", chat_id=STRANGER_GROUP) == []


async def test_rights_from_the_menu_opens_the_guide_with_its_topics(fed: Fed) -> None:
    await fed.text("/start")
    await fed.press("l1:ru")
    requests = await fed.press("m1:rights")
    assert len(answers(requests)) == 1
    shown = [r for r in requests if r.__api_method__ in ("editMessageText", "sendMessage")]
    assert shown and any(data.startswith("g1:") for data in buttons(shown[-1]))
