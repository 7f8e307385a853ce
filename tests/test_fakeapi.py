"""Tests of the fake Bot API server itself, driven by a real aiogram Bot."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    CopyTextButton,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    KeyboardButton,
    MediaUnion,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from PIL import Image

from emulator import FakeTelegram, FakeUser
from emulator.html import HtmlParseError, parse_html

USER_ID = 1001
GROUP_ID = -1001234567890


class _QuickSession(AiohttpSession):
    """aiogram's session sleeps 250 ms on close (for SSL); plain HTTP doesn't need it."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def _bot(fake: FakeTelegram, token: str | None = None) -> Bot:
    session = _QuickSession(api=TelegramAPIServer.from_base(fake.base_url))
    return Bot(token or fake.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = _bot(fake)
    yield bot
    await bot.session.close()


@pytest.fixture
async def user(fake: FakeTelegram) -> FakeUser:
    """A user who has already written to the bot (so the bot may message them)."""
    user = fake.user(USER_ID, first_name="Alice", username="alice")
    await user.send_command("start")
    return user


def _png(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, "PNG")
    return buffer.getvalue()


def _spans(entities: list[MessageEntity] | None) -> list[tuple[str, int, int]]:
    return [(e.type, e.offset, e.length) for e in entities or []]


def _keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


async def _raw(
    fake: FakeTelegram, method: str, *, token: str | None = None, **kwargs: object
) -> tuple[int, dict]:
    """Call the fake over plain HTTP (to send what aiogram would refuse to build)."""
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}/bot{token or fake.token}/{method}"
        async with session.post(url, **kwargs) as response:  # type: ignore[arg-type]
            return response.status, await response.json()


# --- HTML parser ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("<b>bold</b> <i>it</i>", "bold it", [("bold", 0, 4), ("italic", 5, 2)]),
        ("<strong>a</strong><em>b</em><u>c</u><ins>d</ins>", "abcd",
         [("bold", 0, 1), ("italic", 1, 1), ("underline", 2, 1), ("underline", 3, 1)]),
        ("<s>a</s><strike>b</strike><del>c</del>", "abc",
         [("strikethrough", 0, 1), ("strikethrough", 1, 1), ("strikethrough", 2, 1)]),
        ('<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>', "ab", [("spoiler", 0, 1), ("spoiler", 1, 1)]),
        ('<a href="https://example.com">x</a>', "x", [("text_link", 0, 1)]),
        ("<code>c</code>", "c", [("code", 0, 1)]),
        ('<pre><code class="language-python">p</code></pre>', "p", [("pre", 0, 1)]),
        ("<blockquote>q</blockquote><blockquote expandable>e</blockquote>", "qe",
         [("blockquote", 0, 1), ("expandable_blockquote", 1, 1)]),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍", [("custom_emoji", 0, 2)]),
        ("&lt;&gt;&amp;&quot;&#65;&#x42;", '<>&"AB', []),
        ("a > b & c &unknown;", "a > b & c &unknown;", []),
        ("😀<b>x</b>", "😀x", [("bold", 2, 1)]),  # offsets in UTF-16 code units
        ("<b><i>both</i></b>", "both", [("bold", 0, 4), ("italic", 0, 4)]),
    ],
)  # fmt: skip
def test_html_parser_accepts_telegram_html(
    source: str, text: str, entities: list[tuple[str, int, int]]
) -> None:
    parsed_text, parsed = parse_html(source)
    assert parsed_text == text
    assert [(e["type"], e["offset"], e["length"]) for e in parsed] == entities


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            "🏟 🏟&lt;<i    aba>",
            'Expected equal sign in declaration of an attribute of the tag "i" at byte offset 13',
        ),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
    ],
)
def test_html_parser_rejects_what_telegram_rejects(source: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as raised:
        parse_html(source)
    assert str(raised.value) == error


# --- HTTP surface -------------------------------------------------------------------


async def test_get_me_describes_the_bot(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username, me.first_name) == (123456, True, "kua_test_bot", "Kua")
    assert me.can_join_groups is True
    assert await bot.delete_webhook() is True
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.log_out() and await bot.close()
    fake.assert_no_errors()


async def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    intruder = _bot(fake, token="999:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await intruder.session.close()
    assert await _raw(fake, "getMe", token="1:bad") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )


async def test_unknown_method_is_not_found_and_names_are_case_insensitive(fake: FakeTelegram) -> None:
    assert await _raw(fake, "sendCarrierPigeon") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    status, body = await _raw(fake, "GETME")
    assert status == 200 and body["result"]["username"] == "kua_test_bot"
    assert [r.method for r in fake.errors] == ["sendCarrierPigeon"]


async def test_parameters_from_query_json_and_urlencoded(fake: FakeTelegram, user: FakeUser) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}/bot{fake.token}/sendMessage"
        async with session.get(url, params={"chat_id": str(USER_ID), "text": "by query"}) as response:
            assert (await response.json())["ok"]
        async with session.post(url, json={"chat_id": USER_ID, "text": "by json"}) as response:
            assert (await response.json())["ok"]
    status, _ = await _raw(fake, "sendMessage", data={"chat_id": str(USER_ID), "text": "by form"})
    assert status == 200
    assert [m.text for m in user.bot_messages()] == ["by query", "by json", "by form"]


async def test_requests_are_logged_with_decoded_parameters(
    fake: FakeTelegram, bot: Bot, user: FakeUser
) -> None:
    await bot.send_message(
        USER_ID, "hi", reply_markup=_keyboard(InlineKeyboardButton(text="A", callback_data="a"))
    )
    (call,) = fake.calls("sendMessage")
    assert call.chat_id == USER_ID and call.params["chat_id"] == USER_ID
    assert call.params["reply_markup"] == {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    assert call.ok and call.response is not None and call.response["result"]["text"] == "hi"
    assert "sendMessage(" in str(call) and str(call).endswith("-> ok")


# --- sending messages ------------------------------------------------------------------


async def test_send_message_returns_a_valid_message(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    sent = await bot.send_message(USER_ID, "<b>Hello</b>, <i>Alice</i>!", disable_notification=True)
    assert isinstance(sent, Message)
    assert sent.from_user is not None and sent.from_user.id == fake.bot_id and sent.from_user.is_bot
    assert (sent.chat.id, sent.chat.type, sent.chat.first_name) == (USER_ID, "private", "Alice")
    assert sent.text == "Hello, Alice!"
    assert _spans(sent.entities) == [("bold", 0, 5), ("italic", 7, 5)]
    message = user.last_bot_message()
    assert (message.message_id, message.text, message.kind) == (sent.message_id, sent.text, "text")
    assert message.from_bot and message.raw["from"]["id"] == fake.bot_id
    assert [m.from_bot for m in fake.transcript(USER_ID)] == [False, True]
    fake.assert_no_errors()


async def test_unknown_chat_and_never_started_user_are_refused(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "hello?")
    fake.user(7)  # registered, but never wrote to the bot
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
        await bot.send_message(7, "hello?")
    fake.user(8, started=True)  # talked to the bot before the test
    await bot.send_message(8, "hello!")
    assert len(fake.errors) == 2
    with pytest.raises(AssertionError, match="chat not found"):
        fake.assert_no_errors()


async def test_text_length_is_counted_after_parsing_in_utf16(bot: Bot, user: FakeUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(USER_ID, "")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER_ID, "  <b> </b>\n")
    await bot.send_message(USER_ID, "x" * 4096)
    await bot.send_message(USER_ID, "<b>" + "x" * 4096 + "</b>")  # tags don't count
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(USER_ID, "x" * 4097)
    await bot.send_message(USER_ID, "😀" * 2048)  # 4096 UTF-16 code units
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER_ID, "😀" * 2049)


async def test_text_is_trimmed_like_telegram(bot: Bot, user: FakeUser) -> None:
    sent = await bot.send_message(USER_ID, "\n  <b>hi</b> there  \n")
    assert sent.text == "hi there" and _spans(sent.entities) == [("bold", 0, 2)]


@pytest.mark.parametrize("text", ["<div>x</div>", "1 < 2", "<b>x", "<b><i>x</b></i>", "<a href='x'>y</b>"])
async def test_invalid_html_is_refused(fake: FakeTelegram, bot: Bot, user: FakeUser, text: str) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: can't parse entities: "):
        await bot.send_message(USER_ID, text)
    assert len(fake.errors) == 1 and user.bot_messages() == []


async def test_markdown_is_refused_and_plain_entities_work(
    fake: FakeTelegram, bot: Bot, user: FakeUser
) -> None:
    with pytest.raises(TelegramBadRequest, match="parse_mode"):
        await bot.send_message(USER_ID, "*bold*", parse_mode="MarkdownV2")
    sent = await bot.send_message(
        USER_ID, "<not html>", parse_mode=None, entities=[MessageEntity(type="bold", offset=1, length=3)]
    )
    assert sent.text == "<not html>" and _spans(sent.entities) == [("bold", 1, 3)]


async def test_reply_parameters(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    question = await user.send_text("question")
    answer = await bot.send_message(
        USER_ID, "answer", reply_parameters=ReplyParameters(message_id=question.message_id)
    )
    assert answer.reply_to_message is not None and answer.reply_to_message.text == "question"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(USER_ID, "x", reply_parameters=ReplyParameters(message_id=999))
    await bot.send_message(
        USER_ID, "x", reply_parameters=ReplyParameters(message_id=999, allow_sending_without_reply=True)
    )


# --- reply markup ---------------------------------------------------------------------


async def test_valid_keyboards_are_accepted(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    inline = _keyboard(
        InlineKeyboardButton(text="Data", callback_data="d" * 64),
        InlineKeyboardButton(text="Site", url="https://example.org/x"),
        InlineKeyboardButton(text="Copy", copy_text=CopyTextButton(text="secret")),
    )
    sent = await bot.send_message(USER_ID, "inline", reply_markup=inline)
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump(exclude_none=True) == inline.model_dump(exclude_none=True)
    assert user.buttons() == [("Data", "d" * 64), ("Site", None), ("Copy", None)]
    reply = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="One"), KeyboardButton(text="Two")]])
    sent = await bot.send_message(USER_ID, "reply kb", reply_markup=reply)
    assert sent.reply_markup is None  # Message.reply_markup only carries inline keyboards
    assert user.last_bot_message().reply_markup == reply.model_dump(exclude_none=True)
    await bot.send_message(USER_ID, "remove", reply_markup=ReplyKeyboardRemove())
    await bot.send_message(USER_ID, "force", reply_markup=ForceReply(input_field_placeholder="type here"))
    fake.assert_no_errors()


@pytest.mark.parametrize(
    ("button", "error"),
    [
        (InlineKeyboardButton(text="Long", callback_data="д" * 33), "BUTTON_DATA_INVALID"),  # 66 bytes
        (InlineKeyboardButton(text="Ftp", url="ftp://example.org"), "BUTTON_URL_INVALID"),
        (InlineKeyboardButton(text="Nothing"), "Text buttons are unallowed"),
        (InlineKeyboardButton(text="Two", callback_data="a", url="https://example.org"), "exactly one"),
        (InlineKeyboardButton(text="", callback_data="a"), '"text" must be a non-empty String'),
    ],
)
async def test_invalid_inline_buttons_are_refused(
    fake: FakeTelegram, bot: Bot, user: FakeUser, button: InlineKeyboardButton, error: str
) -> None:
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.send_message(USER_ID, "x", reply_markup=_keyboard(button))
    assert len(fake.errors) == 1


async def test_keyboard_size_and_shape_limits(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    rows = [[InlineKeyboardButton(text=str(i), callback_data=str(i))] for i in range(101)]
    with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
        await bot.send_message(USER_ID, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))
    for markup, error in [
        ("{not json", "can't parse reply keyboard markup JSON object"),
        ("{}", "exactly one of"),
        ('{"inline_keyboard": [], "remove_keyboard": true}', "exactly one of"),
        ('{"remove_keyboard": false}', '"remove_keyboard" must be True'),
        ('{"inline_keyboard": [{"text": "x"}]}', "Array of Arrays"),
    ]:
        status, body = await _raw(
            fake, "sendMessage", data={"chat_id": USER_ID, "text": "x", "reply_markup": markup}
        )
        assert (
            status == 400 and body["description"].startswith("Bad Request: ") and error in body["description"]
        )


# --- editing --------------------------------------------------------------------------------


async def test_edit_message_text(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    keyboard = _keyboard(InlineKeyboardButton(text="A", callback_data="a"))
    sent = await bot.send_message(USER_ID, "<b>v1</b>", reply_markup=keyboard)
    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new message content"):
        await bot.edit_message_text(
            "<b>v1</b>", chat_id=USER_ID, message_id=sent.message_id, reply_markup=keyboard
        )
    # Same text with other formatting is a modification.
    edited = await bot.edit_message_text(
        "<i>v1</i>", chat_id=USER_ID, message_id=sent.message_id, reply_markup=keyboard
    )
    assert isinstance(edited, Message) and edited.edit_date is not None
    # Leaving out reply_markup removes the inline keyboard, as on Telegram.
    await bot.edit_message_text("v2", chat_id=USER_ID, message_id=sent.message_id)
    message = user.last_bot_message()
    assert (message.text, message.reply_markup, message.buttons()) == ("v2", None, [])
    assert [e.text for e in message.edits] == ["v1", "v2"]
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=999)
    own = await user.send_text("mine")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=own.message_id)
    status, body = await _raw(
        fake,
        "editMessageText",
        data={
            "chat_id": USER_ID,
            "message_id": sent.message_id,
            "text": "v3",
            "reply_markup": '{"force_reply": true}',
        },
    )
    assert (status, body["description"]) == (400, "Bad Request: inline keyboard expected")


async def test_edit_reply_markup_and_caption(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    sent = await bot.send_message(USER_ID, "text")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=USER_ID, message_id=sent.message_id)
    keyboard = _keyboard(InlineKeyboardButton(text="B", callback_data="b"))
    await bot.edit_message_reply_markup(chat_id=USER_ID, message_id=sent.message_id, reply_markup=keyboard)
    assert user.buttons() == [("B", "b")]
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await bot.edit_message_caption(chat_id=USER_ID, message_id=sent.message_id, caption="c")
    photo = await bot.send_photo(USER_ID, BufferedInputFile(_png(), "p.png"), caption="old")
    edited = await bot.edit_message_caption(
        chat_id=USER_ID, message_id=photo.message_id, caption="<b>new</b>"
    )
    assert isinstance(edited, Message) and edited.caption == "new"
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("t", chat_id=USER_ID, message_id=photo.message_id)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.edit_message_caption(chat_id=USER_ID, message_id=photo.message_id, caption="c" * 1025)


# --- deleting -----------------------------------------------------------------------------


async def test_delete_message_rules(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    mine = await bot.send_message(USER_ID, "bot's")
    theirs = await user.send_text("user's")
    assert await bot.delete_message(USER_ID, theirs.message_id)
    assert await bot.delete_message(USER_ID, mine.message_id)
    assert [m.deleted for m in fake.transcript(USER_ID)] == [False, True, True]  # kept, marked deleted
    assert user.bot_messages() == [] and len(user.bot_messages(include_deleted=True)) == 1
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER_ID, mine.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER_ID, 999)

    old = await bot.send_message(USER_ID, "old")
    fake.advance(48 * 3600)
    with pytest.raises(TelegramBadRequest, match="message can't be deleted for everyone"):
        await bot.delete_message(USER_ID, old.message_id)
    assert not user.last_bot_message().deleted


async def test_delete_messages_in_bulk(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    ids = [(await bot.send_message(USER_ID, str(i))).message_id for i in range(3)]
    assert await bot.delete_messages(USER_ID, [*ids, 999])  # unknown ids are skipped
    assert user.bot_messages() == []
    with pytest.raises(TelegramBadRequest, match="too many message identifiers"):
        await bot.delete_messages(USER_ID, list(range(1, 102)))
    status, body = await _raw(fake, "deleteMessages", data={"chat_id": USER_ID, "message_ids": "[]"})
    assert status == 400 and "not specified" in body["description"]


# --- callbacks -----------------------------------------------------------------------------


async def test_press_creates_a_callback_query(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="✅ Confirm", callback_data="ok")],
            [InlineKeyboardButton(text="Help", url="https://example.org")],
        ]
    )
    sent = await bot.send_message(USER_ID, "sure?", reply_markup=keyboard)
    await bot.send_message(USER_ID, "no keyboard here")
    callback_id = await user.press("Confirm")  # substring match, newest message having it
    updates = await bot.get_updates(offset=0, timeout=0)
    query = updates[-1].callback_query
    assert isinstance(query, CallbackQuery)
    assert (query.id, query.data, query.from_user.id) == (callback_id, "ok", USER_ID)
    assert isinstance(query.message, Message) and query.message.message_id == sent.message_id
    assert query.chat_instance

    with pytest.raises(AssertionError, match=r"no inline button 'Cancel'.*✅ Confirm"):
        await user.press("Cancel")
    with pytest.raises(AssertionError, match="sends no callback"):
        await user.press("Help")
    forged = await user.press_data("admin:delete_all")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert updates[-1].callback_query is not None and updates[-1].callback_query.id == forged
    assert updates[-1].callback_query.data == "admin:delete_all"


async def test_answer_callback_query_rules(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    await bot.send_message(
        USER_ID, "?", reply_markup=_keyboard(InlineKeyboardButton(text="Go", callback_data="go"))
    )
    first = await user.press("Go")
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(first, text="x" * 201)
    assert await bot.answer_callback_query(first, text="Done", show_alert=True)
    with pytest.raises(
        TelegramBadRequest, match="query is too old and response timeout expired or query ID is"
    ):
        await bot.answer_callback_query(first)
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query("no-such-query")
    late = await user.press("Go")
    fake.advance(60)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(late)
    assert [(a.text, a.show_alert, a.data) for a in user.callback_answers] == [("Done", True, "go")]


# --- updates and long polling -------------------------------------------------------


async def test_user_actions_produce_valid_updates(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    await user.send_text("hello")
    await user.send_photo(_png(), caption="pic")
    await user.send_document(b"%PDF-1.4", "report.pdf", "application/pdf", caption="doc")
    await user.send_voice(b"OggS-voice", duration=5)
    await user.send_video(b"mp4-video", duration=7)
    await user.send_animation(b"gif")
    await user.send_sticker()
    await user.send_location(43.25, 76.95)
    await user.send_contact("+77001234567", "Bob")
    updates = await bot.get_updates(timeout=0)
    messages = [u.message for u in updates if u.message is not None]
    assert [m.content_type for m in messages] == [
        "text", "text", "photo", "document", "voice", "video", "animation", "sticker", "location", "contact",
    ]  # fmt: skip
    start = messages[0]
    assert start.text == "/start" and _spans(start.entities) == [("bot_command", 0, 6)]
    assert start.from_user is not None and (start.from_user.language_code, start.from_user.username) == (
        "ru",
        "alice",
    )
    assert [u.update_id for u in updates] == sorted({u.update_id for u in updates})
    photo = messages[2].photo
    assert photo is not None and (photo[-1].width, photo[-1].height) == (40, 30) and photo[0].width <= 90
    assert messages[3].document is not None and messages[3].document.file_name == "report.pdf"
    assert messages[3].caption == "doc"
    assert messages[4].voice is not None and messages[4].voice.duration == 5
    assert messages[8].location is not None and messages[8].location.latitude == 43.25
    assert [m.kind for m in fake.transcript(USER_ID)] == [m.content_type for m in messages]
    assert fake.transcript(USER_ID)[2].data == _png()


async def test_edited_message_update(bot: Bot, user: FakeUser) -> None:
    message = await user.send_text("typo")
    await user.edit_text(message, "fixed")
    updates = await bot.get_updates(timeout=0)
    edited = updates[-1].edited_message
    assert edited is not None and (edited.message_id, edited.text) == (message.message_id, "fixed")
    assert edited.edit_date is not None


async def test_offset_confirms_updates_and_limit(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(5)
    for i in range(3):
        await user.send_text(str(i))
    first = await bot.get_updates(limit=2, timeout=0)
    assert [u.message.text for u in first if u.message] == ["0", "1"]
    again = await bot.get_updates(timeout=0)  # unconfirmed updates are delivered again
    assert len(again) == 3
    rest = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["2"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0) == []


async def test_long_polling_waits_and_wakes_on_update(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(5)
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    done, _ = await asyncio.wait({poll}, timeout=0.3)
    assert not done  # honours the timeout instead of returning at once
    loop = asyncio.get_running_loop()
    sent_at = loop.time()
    await user.send_text("wake up")
    updates = await asyncio.wait_for(poll, 5)
    assert loop.time() - sent_at < 1
    assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_stop_releases_waiting_poll(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    done, _ = await asyncio.wait({poll}, timeout=0.2)
    assert not done
    await fake.stop()
    assert await asyncio.wait_for(poll, 5) == []


async def test_second_poller_conflicts_the_first(fake: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    done, _ = await asyncio.wait({first}, timeout=0.2)
    assert not done
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 5)
    assert await second == []
    fake.assert_no_errors()  # conflicts are not the bot's rule violations


async def test_allowed_updates_filters_unwanted_kinds(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    await bot.send_message(
        USER_ID, "?", reply_markup=_keyboard(InlineKeyboardButton(text="Go", callback_data="go"))
    )
    await user.press("Go")
    await user.send_text("text")
    updates = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert all(u.callback_query is None for u in updates) and updates[-1].message is not None


async def test_idle_waits_for_the_bot_to_react(fake: FakeTelegram, bot: Bot) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        await asyncio.sleep(0.05)  # some work between requests
        await message.answer(f"1: {message.text}")
        await message.answer(f"2: {message.text}")

    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        user = fake.user(5)
        await user.send_text("hi")
        await fake.idle()
        assert [m.text for m in user.bot_messages()] == ["1: hi", "2: hi"]
        await user.send_text("again")
        await fake.idle()
        assert [m.text for m in user.bot_messages()][-2:] == ["1: again", "2: again"]
    finally:
        await dispatcher.stop_polling()
        await polling
    fake.assert_no_errors()


async def test_idle_times_out_when_nobody_polls(fake: FakeTelegram) -> None:
    await fake.user(5).send_text("anyone?")
    with pytest.raises(TimeoutError, match=r"did not take 1 update\(s\).*NOT polling"):
        await fake.idle(timeout=0.2)


# --- fault injection -----------------------------------------------------------------------


async def test_injected_failures(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    fake.fail_next("sendMessage")
    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await bot.send_message(USER_ID, "x")
    fake.fail_next("sendmessage", retry_after=7, times=2)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as flood:
            await bot.send_message(USER_ID, "x")
        assert flood.value.retry_after == 7 and "Too Many Requests: retry after 7" in str(flood.value)
        fake.end_flood_windows()  # as if the 7 seconds had passed
    assert fake.flood_violations == []
    fake.drop_next("sendMessage")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER_ID, "x")
    await bot.send_message(USER_ID, "finally")
    assert [m.text for m in user.bot_messages()] == ["finally"]
    assert [r.status for r in fake.calls("sendMessage")] == [500, 429, 429, None, 200]
    fake.assert_no_errors()  # injected failures are not the bot's fault
    with pytest.raises(ValueError, match="unknown method"):
        fake.fail_next("sendPigeon")


async def test_a_request_inside_an_open_flood_window_is_refused_and_counted(
    fake: FakeTelegram, bot: Bot, user: FakeUser
) -> None:
    fake.fail_next("sendMessage", retry_after=30)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER_ID, "x")
    with pytest.raises(TelegramRetryAfter) as flood:  # the window is the chat's, not the method's
        await bot.send_photo(USER_ID, BufferedInputFile(_png(), "p.png"))
    assert 0 < flood.value.retry_after <= 30
    assert [r.method for r in fake.flood_violations] == ["sendPhoto"]
    fake.end_flood_windows()
    await bot.send_message(USER_ID, "after the window")
    assert [m.text for m in user.bot_messages()] == ["after the window"]


async def test_blocked_user(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    fake.block_user(USER_ID)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(USER_ID, "x")
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_photo(USER_ID, BufferedInputFile(_png(), "p.png"))
    assert (await bot.get_chat(USER_ID)).id == USER_ID  # reading still works
    fake.assert_no_errors()
    fake.unblock_user(USER_ID)
    await bot.send_message(USER_ID, "welcome back")


# --- files -------------------------------------------------------------------------------------


async def test_files_sent_by_users_can_be_downloaded(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    message = await user.send_document(b"secret evidence", "e.txt", "text/plain")
    assert message.file_id is not None
    file = await bot.get_file(message.file_id)
    assert file.file_size == 15 and file.file_path
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"secret evidence"
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")
    async with aiohttp.ClientSession() as session:
        for token, path in [(fake.token, "documents/unknown.bin"), ("1:wrong", file.file_path)]:
            async with session.get(f"{fake.base_url}/file/bot{token}/{path}") as response:
                assert response.status == 404
    fake.advance(3601)  # download links live for an hour
    with pytest.raises(aiohttp.ClientResponseError):
        await bot.download_file(file.file_path)


async def test_big_files_cannot_be_fetched(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    message = await user.send_video(b"v" * (20 * 1024 * 1024 + 1))
    assert message.file_id is not None
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(message.file_id)


async def test_bot_uploads_are_stored_and_reusable(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    png = _png(100, 50)
    sent = await bot.send_photo(USER_ID, BufferedInputFile(png, "p.png"), caption="<i>photo</i>")
    assert sent.photo is not None and (sent.photo[-1].width, sent.photo[-1].height) == (100, 50)
    assert sent.caption == "photo" and sent.caption_entities is not None
    assert user.last_bot_message().data == png
    again = await bot.send_photo(USER_ID, sent.photo[-1].file_id)
    assert again.photo == sent.photo
    document = await bot.send_document(USER_ID, BufferedInputFile(b"%PDF", "report.pdf"))
    assert document.document is not None and document.document.mime_type == "application/pdf"
    assert fake.files[document.document.file_id].data == b"%PDF"
    voice = await bot.send_voice(USER_ID, BufferedInputFile(b"OggS", "v.ogg"), duration=2)
    assert voice.voice is not None and voice.voice.duration == 2
    video = await bot.send_video(
        USER_ID, BufferedInputFile(b"mp4", "v.mp4"), duration=3, width=640, height=480
    )
    assert video.video is not None and (video.video.width, video.video.duration) == (640, 3)
    audio = await bot.send_audio(USER_ID, BufferedInputFile(b"ID3", "a.mp3"), title="Song")
    assert audio.audio is not None and (audio.audio.title, audio.audio.mime_type) == ("Song", "audio/mpeg")
    animation = await bot.send_animation(USER_ID, BufferedInputFile(b"GIF89a", "a.gif"))
    assert animation.animation is not None and animation.document is not None
    assert [m.kind for m in user.bot_messages()][-4:] == ["voice", "video", "audio", "animation"]
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_photo(USER_ID, document.document.file_id)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(USER_ID, "unknown-file-id")
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER_ID, BufferedInputFile(b"not an image", "x.jpg"))
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(USER_ID, sent.photo[-1].file_id, caption="c" * 1025)
    with pytest.raises(TelegramEntityTooLarge):
        await bot.send_photo(USER_ID, BufferedInputFile(b"x" * (10 * 1024 * 1024 + 1), "huge.jpg"))


async def test_send_media_group(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    photos: list[MediaUnion] = [
        InputMediaPhoto(media=BufferedInputFile(_png(), f"{i}.png"), caption=f"#{i}") for i in range(3)
    ]
    album = await bot.send_media_group(USER_ID, photos)
    assert len(album) == 3 and len({m.media_group_id for m in album}) == 1
    assert [m.caption for m in album] == ["#0", "#1", "#2"]
    with pytest.raises(TelegramBadRequest, match="2-10 items"):
        await bot.send_media_group(USER_ID, photos[:1])
    assert album[0].photo is not None
    with pytest.raises(TelegramBadRequest, match="2-10 items"):
        await bot.send_media_group(
            USER_ID, [InputMediaPhoto(media=album[0].photo[-1].file_id) for _ in range(11)]
        )
    mixed: list[MediaUnion] = [photos[0], InputMediaDocument(media=BufferedInputFile(b"doc", "d.txt"))]
    with pytest.raises(TelegramBadRequest, match="can't be mixed"):
        await bot.send_media_group(USER_ID, mixed)


async def test_copy_and_forward(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    evidence = await user.send_photo(_png(), caption="evidence")
    group = fake.group(GROUP_ID, "Moderators", members={USER_ID: "member"})
    copied = await bot.copy_message(GROUP_ID, USER_ID, evidence.message_id)
    copy = group.transcript()[-1]
    assert copy.message_id == copied.message_id and copy.kind == "photo" and copy.data == evidence.data
    assert copy.from_bot and fake.forwards == []
    forwarded = await bot.forward_message(GROUP_ID, USER_ID, evidence.message_id)
    assert forwarded.forward_origin is not None
    assert [m.message_id for m in fake.forwards] == [forwarded.message_id]
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(GROUP_ID, USER_ID, 999)


# --- chats, commands, settings -----------------------------------------------------------------


async def test_chat_action(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    assert await bot.send_chat_action(USER_ID, "typing")
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(USER_ID, "dancing")


async def test_get_chat_and_members(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    fake.group(GROUP_ID, "Moderators", members={USER_ID: "administrator", 2002: "member"})
    private = await bot.get_chat(USER_ID)
    assert (private.type, private.first_name, private.username) == ("private", "Alice", "alice")
    group = await bot.get_chat(GROUP_ID)
    assert (group.type, group.title) == ("supergroup", "Moderators")
    assert isinstance(await bot.get_chat_member(GROUP_ID, USER_ID), ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(GROUP_ID, 2002), ChatMemberMember)
    fake.user(3003)
    assert isinstance(await bot.get_chat_member(GROUP_ID, 3003), ChatMemberLeft)
    assert isinstance(await bot.get_chat_member(GROUP_ID, fake.bot_id), ChatMemberAdministrator)
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.get_chat_member(GROUP_ID, 4004)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat(-100999)


async def test_commands_per_scope_and_language(fake: FakeTelegram, bot: Bot) -> None:
    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help_me", description="Help"),
    ]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands(commands[:1], scope=BotCommandScopeAllPrivateChats(), language_code="kk")
    got = await bot.get_my_commands()
    assert [(c.command, c.description) for c in got] == [("start", "Start"), ("help_me", "Help")]
    assert fake.commands({"type": "all_private_chats"}, "kk") == [
        {"command": "start", "description": "Start"}
    ]
    assert fake.commands({"type": "all_private_chats"}) == []  # no fallback between scopes
    assert await bot.delete_my_commands()
    assert fake.commands() == []
    for bad, error in [
        ([BotCommand(command="Start", description="x")], "BOT_COMMAND_INVALID"),
        ([BotCommand(command="/start", description="x")], "BOT_COMMAND_INVALID"),
        ([BotCommand(command="x" * 33, description="x")], "BOT_COMMAND_INVALID"),
        ([BotCommand(command="start", description="d" * 257)], "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([BotCommand(command=f"c{i}", description="x") for i in range(101)], "BOT_COMMANDS_TOO_MUCH"),
    ]:
        with pytest.raises(TelegramBadRequest, match=error):
            await bot.set_my_commands(bad)
    with pytest.raises(TelegramBadRequest, match="invalid language code"):
        await bot.set_my_commands(commands, language_code="rus")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=777))


async def test_descriptions(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_my_description("d" * 512, language_code="ru")
    assert await bot.set_my_short_description("s" * 120)
    assert fake.description("ru") == "d" * 512 and fake.short_description() == "s" * 120
    assert (await bot.get_my_description(language_code="ru")).description == "d" * 512
    assert (await bot.get_my_short_description()).short_description == "s" * 120
    assert await bot.set_my_name("Куа", language_code="kk")
    assert fake.name("kk") == "Куа" and (await bot.get_my_name(language_code="kk")).name == "Куа"
    with pytest.raises(TelegramBadRequest, match="too long"):
        await bot.set_my_description("d" * 513)
    with pytest.raises(TelegramBadRequest, match="too long"):
        await bot.set_my_short_description("s" * 121)


# --- groups and forum topics ----------------------------------------------------------------


async def test_forum_topics(fake: FakeTelegram, bot: Bot) -> None:
    forum = fake.group(GROUP_ID, "Reports", is_forum=True, members={USER_ID: "administrator"})
    topic = await bot.create_forum_topic(GROUP_ID, "Case 17")
    assert topic.name == "Case 17" and topic.message_thread_id > 0
    assert forum.topic("Case 17").message_thread_id == topic.message_thread_id
    sent = await bot.send_message(GROUP_ID, "details", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id and sent.is_topic_message
    moderator = forum.users[USER_ID]
    await moderator.send_text("on it", message_thread_id=topic.message_thread_id)
    update = (await bot.get_updates(timeout=0))[-1]
    assert update.message is not None and update.message.message_thread_id == topic.message_thread_id
    assert update.message.chat.type == "supergroup" and update.message.chat.is_forum

    assert await bot.edit_forum_topic(GROUP_ID, topic.message_thread_id, name="Case 17 (closed)")
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(GROUP_ID, topic.message_thread_id, name="Case 17 (closed)")
    assert await bot.delete_forum_topic(GROUP_ID, topic.message_thread_id)
    for message in forum.transcript():  # service messages included
        Message.model_validate(message.raw)
    assert forum.topics[0].deleted and all(
        m.deleted for m in forum.transcript() if m.message_thread_id == topic.message_thread_id
    )
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(GROUP_ID, "late", message_thread_id=topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="topic name"):
        await bot.create_forum_topic(GROUP_ID, "n" * 129)


async def test_topics_need_a_forum(fake: FakeTelegram, bot: Bot, user: FakeUser) -> None:
    fake.group(GROUP_ID, "Plain")
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(GROUP_ID, "x")
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(USER_ID, "x", message_thread_id=5)


async def test_group_users_and_privacy_mode(fake: FakeTelegram, bot: Bot) -> None:
    group = fake.group(-100555, "Chat", members={USER_ID: "member"}, bot_status="member")
    member = group.users[USER_ID]
    await member.send_text("just chatting")  # a non-admin bot doesn't see this
    await member.send_command("report", "now")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["/report now"]
    assert [m.text for m in group.transcript()] == ["just chatting", "/report now"]
    keyboard = _keyboard(InlineKeyboardButton(text="X", callback_data="x"))
    sent = await bot.send_message(-100555, "pick", reply_markup=keyboard)
    await member.press("X")
    query = (await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0))[-1].callback_query
    assert query is not None and query.message is not None and query.message.chat.id == -100555
    assert isinstance(query.message, Message) and query.message.message_id == sent.message_id
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(-100555, 1)  # someone else's message, bot is no admin
