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
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import TelegramMethod
from aiogram.types import Update

from bot.app import App, build_app
from bot.config import load_config
from handlers.report.keyboards import (
    Ans,
    CancelAct,
    CancelCb,
    ConsentAct,
    ConsentCb,
    Nav,
    NavAct,
    ReviewAct,
    ReviewCb,
)
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

    async def message(self, **content: Any) -> list[TelegramMethod[Any]]:
        """A private message of any kind (a sticker, a location...)."""
        uid = next(self.ids)
        message = {
            "message_id": uid,
            "date": 1,
            "chat": {"id": USER, "type": "private"},
            "from": self._user(),
        }
        return await self.feed({"update_id": uid, "message": {**message, **content}})

    def window(self) -> tuple[int, str, list[str]]:
        """The reporter's window as last drawn: message id, text and buttons' data."""
        for method, message in reversed(self.session.messages):
            if message.chat.id == USER and method.__api_method__ in ("sendMessage", "editMessageText"):
                return message.message_id, str(getattr(method, "text", "")), buttons(method)
        raise AssertionError("no window was drawn")

    async def tap(self, data: str) -> list[TelegramMethod[Any]]:
        """Press a button on the window (data checked to be on it, like a real finger)."""
        message_id, _text, shown = self.window()
        assert data in shown, (data, shown)
        return await self.press(data, message_id=message_id)

    async def draft(self) -> tuple[str | None, dict[str, Any]]:
        key = StorageKey(bot_id=BOT_ID, chat_id=USER, user_id=USER)
        return await self.app.fsm.get_state(key), await self.app.fsm.get_data(key)

    async def report(self) -> None:
        """Russian chosen, consent given: the first question is on the window."""
        await self.text("/start")
        await self.tap("l1:ru")
        await self.tap("m1:report")
        await self.tap(ConsentCb(act=ConsentAct.START).pack())

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


# --- the report's branches ----------------------------------------------------------------------


def sent_to_reporter(requests: list[TelegramMethod[Any]]) -> list[Any]:
    return [r for r in requests if r.__api_method__ in ("sendMessage", "editMessageText")]


async def test_an_answer_moves_to_the_next_question_in_the_same_window(fed: Fed) -> None:
    await fed.report()
    window, _text, shown = fed.window()
    assert Ans(q="relation", v="parent").pack() in shown
    requests = await fed.tap(Ans(q="relation", v="parent").pack())
    assert len(answers(requests)) == 1
    assert [r.__api_method__ for r in sent_to_reporter(requests)] == ["editMessageText"]
    assert fed.window()[0] == window  # edited in place, nothing new in the chat
    state, data = await fed.draft()
    assert state == "Report:person_agrees" and data["answers"]["relation"] == "parent"


async def test_a_sticker_where_a_button_is_expected_gets_a_hint_and_is_deleted(fed: Fed) -> None:
    await fed.report()
    before = await fed.draft()
    requests: list[Any] = await fed.message(
        sticker={
            "file_id": "s",
            "file_unique_id": "su",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    )
    deleted = [r.message_id for r in requests if r.__api_method__ == "deleteMessage"]
    assert len(deleted) == 1  # the sticker: nothing the reporter sends stays
    assert tr("ru", "Please choose one of the buttons below.") in fed.window()[1]
    assert await fed.draft() == before


async def test_a_button_of_another_question_is_out_of_date_and_changes_nothing(fed: Fed) -> None:
    await fed.report()
    before = await fed.draft()
    requests: list[Any] = await fed.press(
        Nav(q="knowledge", act=NavAct.SKIP).pack(), message_id=fed.window()[0]
    )
    assert names(requests) == ["answerCallbackQuery"]
    assert requests[0].text == tr("ru", "This button is out of date.")
    assert await fed.draft() == before


async def test_a_forged_answer_value_is_refused_and_changes_nothing(fed: Fed) -> None:
    await fed.report()
    before = await fed.draft()
    requests: list[Any] = await fed.press(Ans(q="relation", v="martian").pack(), message_id=fed.window()[0])
    assert len(answers(requests)) == 1 and not sent_to_reporter(requests)
    assert await fed.draft() == before


async def _to_the_place_name(fed: Fed) -> None:
    await fed.report()
    await fed.tap(Ans(q="relation", v="parent").pack())
    await fed.tap(Ans(q="person_agrees", v="yes").pack())
    await fed.tap(Nav(q="danger", act=NavAct.SKIP).pack())
    await fed.tap(Ans(q="facility_kind", v="police").pack())
    await fed.tap(Ans(q="region", v="astana").pack())
    assert (await fed.draft())[0] == "Report:facility_name"


async def test_a_typed_answer_is_deleted_and_kept_encrypted_in_the_draft(fed: Fed) -> None:
    await _to_the_place_name(fed)
    requests: list[Any] = await fed.text("ИВС г. Астаны")
    assert [r.__api_method__ for r in requests if r.__api_method__ == "deleteMessage"] == ["deleteMessage"]
    state, data = await fed.draft()
    assert data["answers"]["facility_name"] == {"text": "ИВС г. Астаны"}
    assert state != "Report:facility_name"
    assert tr("ru", "Saved.") in fed.window()[1]


async def test_an_over_long_answer_is_refused_with_the_limit_and_not_stored(fed: Fed) -> None:
    await _to_the_place_name(fed)
    await fed.text("я" * 301)  # the place name allows 300 characters
    state, data = await fed.draft()
    assert state == "Report:facility_name" and "facility_name" not in data["answers"]
    assert "301" in fed.window()[1] and "300" in fed.window()[1]


async def test_a_second_tap_on_the_same_screen_counts_once(fed: Fed) -> None:
    await fed.report()
    window = fed.window()[0]
    await fed.press(Ans(q="relation", v="parent").pack(), message_id=window)
    second: list[Any] = await fed.press(Ans(q="relation", v="sibling").pack(), message_id=window)
    assert len(answers(second)) == 1 and not sent_to_reporter(second)
    _state, data = await fed.draft()
    assert data["answers"]["relation"] == "parent"


async def test_cancel_asks_first_no_keeps_the_draft_yes_deletes_it(fed: Fed) -> None:
    await fed.report()
    await fed.tap(Ans(q="relation", v="parent").pack())
    await fed.tap(Nav(q="person_agrees", act=NavAct.CANCEL).pack())
    assert CancelCb(act=CancelAct.YES).pack() in fed.window()[2]
    await fed.tap(CancelCb(act=CancelAct.NO).pack())
    state, data = await fed.draft()
    assert state == "Report:person_agrees" and data["answers"]["relation"] == "parent"
    await fed.tap(Nav(q="person_agrees", act=NavAct.CANCEL).pack())
    await fed.tap(CancelCb(act=CancelAct.YES).pack())
    state, data = await fed.draft()
    assert state is None and not data.get("answers")
    assert "m1:report" in fed.window()[2]  # back on the menu


async def test_save_for_later_leaves_the_menu_and_continue_comes_back_to_the_question(fed: Fed) -> None:
    await fed.report()
    await fed.tap(Ans(q="relation", v="parent").pack())
    await fed.tap(Nav(q="person_agrees", act=NavAct.LATER).pack())
    assert (await fed.draft())[1]["answers"]["relation"] == "parent"
    await fed.text("/start")
    assert "m1:report" in fed.window()[2]
    await fed.tap("m1:report")
    shown = fed.window()[2]
    if "d1:resume" in shown:  # a saved draft is offered first
        await fed.tap("d1:resume")
    assert Ans(q="person_agrees", v="yes").pack() in fed.window()[2]


async def test_review_of_an_unfinished_report_cannot_be_sent_by_a_forged_button(fed: Fed) -> None:
    await fed.report()
    requests: list[Any] = await fed.press(ReviewCb(act=ReviewAct.SEND).pack(), message_id=fed.window()[0])
    assert len(answers(requests)) == 1 and not sent_to_reporter(requests)
    assert await fed.app.store.cases.count_since(timedelta(days=1)) == 0  # no case was made
    assert (await fed.draft())[0] == "Report:relation"


# --- other branches -----------------------------------------------------------------------------


async def test_help_and_language_commands_answer_in_the_chosen_language(fed: Fed) -> None:
    await fed.text("/start")
    await fed.press("l1:kk")
    await fed.text("/language")
    assert sorted(d for d in fed.window()[2] if d.startswith("l1:")) == ["l1:en", "l1:kk", "l1:ru"]
    await fed.press("l1:en", message_id=fed.window()[0])
    await fed.text("/help")
    assert fed.window()[1] and all(ch.lower() < "а" or ch.lower() > "я" for ch in fed.window()[1])


async def test_coordinator_commands_from_someone_who_is_not_a_coordinator_get_nothing(fed: Fed) -> None:
    # In the coordinators' group: silence (a stranger who got in learns nothing, not even that
    # the command exists); in a private chat: the reporter's menu, never a queue.
    assert await fed.text("/queue", chat_id=GROUP) == []
    assert await fed.text("/case 1", chat_id=GROUP) == []
    assert await fed.text("/mine", chat_id=GROUP) == []
    await fed.text("/start")
    await fed.tap("l1:ru")
    requests = await fed.text("/queue")
    assert "m1:report" in fed.window()[2]
    assert all(getattr(r, "chat_id", USER) == USER for r in requests)
