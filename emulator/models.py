"""What the fake remembers: messages, files, topics, callbacks and API calls."""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class MessageEdit:
    """The state of a message right after one edit."""

    date: int
    text: str | None
    caption: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None


@dataclass(eq=False)
class FakeMessage:
    """One message of a chat transcript, sent by a user or by the bot.

    ``entities`` belong to ``text`` for text messages and to ``caption`` otherwise.
    ``reply_markup`` is the markup as sent (reply keyboards included), whereas
    ``raw`` - the Bot API Message - only carries inline keyboards, like Telegram.
    ``content`` holds the kind-specific Message fields (``photo``, ``document``...).
    """

    message_id: int
    chat: dict[str, Any]
    sender: dict[str, Any]
    date: int
    kind: str
    text: str | None = None
    caption: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    message_thread_id: int | None = None
    is_topic_message: bool = False
    content: dict[str, Any] = field(default_factory=dict)
    reply_to: FakeMessage | None = None
    data: bytes | None = None  # bytes of the (largest) file, if the message has one
    file_id: str | None = None
    deleted: bool = False
    edit_date: int | None = None
    edits: list[MessageEdit] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"])

    @property
    def from_bot(self) -> bool:
        return bool(self.sender["is_bot"])

    @property
    def from_id(self) -> int:
        return int(self.sender["id"])

    @property
    def inline_keyboard(self) -> dict[str, Any] | None:
        """The reply markup if it is an InlineKeyboardMarkup."""
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            return self.reply_markup
        return None

    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline buttons as (text, callback_data) in reading order; URL & co. have None."""
        keyboard = self.inline_keyboard
        if keyboard is None:
            return []
        return [(b["text"], b.get("callback_data")) for row in keyboard["inline_keyboard"] for b in row]

    @property
    def raw(self) -> dict[str, Any]:
        """The Bot API Message object, as the bot sees it now."""
        return self._api(with_reply=True)

    def _api(self, *, with_reply: bool) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.message_thread_id is not None:
            message["message_thread_id"] = self.message_thread_id
        if self.is_topic_message:
            message["is_topic_message"] = True
        if self.reply_to is not None and with_reply:
            # Telegram does not nest replies any deeper.
            message["reply_to_message"] = self.reply_to._api(with_reply=False)  # noqa: SLF001 - the same class
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.text is not None:
            message["text"] = self.text
            if self.entities:
                message["entities"] = self.entities
        if self.caption is not None:
            message["caption"] = self.caption
            if self.entities:
                message["caption_entities"] = self.entities
        message.update(self.content)
        if self.inline_keyboard is not None:
            message["reply_markup"] = self.inline_keyboard
        return message

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else f"user {self.from_id}"
        body = self.text if self.text is not None else self.caption
        flags = " deleted" if self.deleted else ""
        return f"<FakeMessage #{self.message_id} in {self.chat_id} from {who}: {self.kind} {body!r}{flags}>"


@dataclass(eq=False)
class StoredFile:
    """A file known to the fake: sent by a user or uploaded by the bot."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo", "document", "voice", ... (file_ids are not interchangeable)
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    file_path: str | None = None  # set by getFile
    path_issued_at: float | None = None
    sizes: list[dict[str, Any]] | None = None  # for the largest size of a photo: all its PhotoSizes

    def __repr__(self) -> str:
        return f"<StoredFile {self.file_id} {self.kind} {len(self.data)} bytes>"


@dataclass(eq=False)
class FakeTopic:
    """A forum topic created by the bot."""

    chat_id: int
    message_thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    deleted: bool = False


@dataclass(eq=False)
class CallbackQuery:
    """A button press, kept so that answerCallbackQuery can be checked."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    date: float
    answer: CallbackAnswer | None = None


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot answered to a button press."""

    callback_query_id: str
    data: str | None
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(eq=False)
class RecordedRequest:
    """One Bot API call as received, with the fake's response once there is one."""

    method: str
    params: dict[str, Any]  # JSON, integer and boolean fields decoded
    files: dict[str, bytes]  # multipart uploads by field name
    chat_id: int | str | None
    time: float  # FakeTelegram.now() on arrival
    status: int | None = None
    response: dict[str, Any] | None = None  # None while in flight, or if dropped

    @property
    def ok(self) -> bool:
        return self.response is not None and bool(self.response.get("ok"))

    @property
    def description(self) -> str | None:
        return None if self.response is None else self.response.get("description")

    def __str__(self) -> str:
        """One line, long values abbreviated: ``sendMessage(chat_id=1, text='hi') -> ok``."""
        shortener = reprlib.Repr()
        shortener.maxstring = shortener.maxother = 120
        params = ", ".join(f"{key}={shortener.repr(value)}" for key, value in self.params.items())
        if self.response is None:
            outcome = "no response (yet)"
        else:
            outcome = "ok" if self.ok else f"{self.status} {self.description}"
        return f"{self.method}({params}) -> {outcome}"
