"""Users and groups that tests drive: they type, press buttons and send files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .html import utf16_len
from .models import CallbackAnswer, FakeMessage, FakeTopic, MessageEdit

if TYPE_CHECKING:
    from .world import World

# Placeholder bytes for stickers (the test never provides any).
_STICKER_BYTES = b"RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00fake-sticker!!"


def command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entity Telegram adds to a text starting with "/command"."""
    command = text.split(maxsplit=1)[0] if text.strip() else ""
    if len(command) < 2 or not command.startswith("/"):
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]


class FakeUser:
    """A user acting in one chat: their private chat with the bot, or a group.

    Every action enqueues the Update real Telegram would send and returns at
    once; call ``FakeTelegram.idle()`` to let the bot react.
    """

    def __init__(self, world: World, profile: dict[str, Any], chat_id: int) -> None:
        self._world = world
        self.profile = profile  # the Bot API User object
        self.chat_id = chat_id

    @property
    def id(self) -> int:
        return int(self.profile["id"])

    @property
    def is_private(self) -> bool:
        return self.chat_id == self.id

    @property
    def chat(self) -> dict[str, Any]:
        """The Bot API Chat object of the chat this user acts in."""
        if not self.is_private:
            return self._group().chat
        chat = {"id": self.id, "type": "private"}
        chat.update(
            {k: self.profile[k] for k in ("first_name", "last_name", "username") if k in self.profile}
        )
        return chat

    def __repr__(self) -> str:
        return f"<FakeUser {self.id} {self.profile['first_name']!r} in chat {self.chat_id}>"

    # --- sending -----------------------------------------------------------------

    async def send_text(
        self, text: str, *, message_thread_id: int | None = None, reply_to: FakeMessage | None = None
    ) -> FakeMessage:
        """A text message; "/command ..." gets its bot_command entity."""
        return self._send(
            "text",
            message_thread_id,
            reply_to=reply_to,
            text=text,
            entities=command_entities(text),
        )

    async def send_command(
        self, cmd: str, args: str = "", *, message_thread_id: int | None = None
    ) -> FakeMessage:
        """send_text("/cmd args"); the leading slash of ``cmd`` is optional."""
        text = f"/{cmd.lstrip('/')} {args}".strip()
        return await self.send_text(text, message_thread_id=message_thread_id)

    async def send_photo(
        self, data: bytes, caption: str | None = None, *, message_thread_id: int | None = None
    ) -> FakeMessage:
        """A photo: a thumbnail (when ``data`` is a real image) plus the original as the largest size."""
        sizes, largest = self._world.photo_sizes(data)
        return self._send(
            "photo",
            message_thread_id,
            caption=caption,
            content={"photo": sizes},
            data=data,
            file_id=largest.file_id,
        )

    async def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        *,
        message_thread_id: int | None = None,
    ) -> FakeMessage:
        stored = self._world.store_file("document", data, file_name=file_name, mime_type=mime_type)
        content = {"document": self._world.file_object(stored)}
        return self._send(
            "document", message_thread_id, caption=caption, content=content, data=data, file_id=stored.file_id
        )

    async def send_voice(
        self, data: bytes, duration: int = 3, *, message_thread_id: int | None = None
    ) -> FakeMessage:
        stored = self._world.store_file("voice", data, mime_type="audio/ogg")
        content = {"voice": self._world.file_object(stored, duration=duration)}
        return self._send("voice", message_thread_id, content=content, data=data, file_id=stored.file_id)

    async def send_video(
        self,
        data: bytes,
        duration: int = 3,
        caption: str | None = None,
        *,
        message_thread_id: int | None = None,
    ) -> FakeMessage:
        stored = self._world.store_file("video", data, file_name="video.mp4", mime_type="video/mp4")
        content = {"video": self._world.file_object(stored, width=1280, height=720, duration=duration)}
        return self._send(
            "video", message_thread_id, caption=caption, content=content, data=data, file_id=stored.file_id
        )

    async def send_animation(
        self, data: bytes, duration: int = 3, *, message_thread_id: int | None = None
    ) -> FakeMessage:
        """A GIF; like Telegram, the message carries both ``animation`` and ``document``."""
        stored = self._world.store_file("animation", data, file_name="animation.mp4", mime_type="video/mp4")
        content = {
            "animation": self._world.file_object(stored, width=320, height=240, duration=duration),
            "document": self._world.file_object(stored),
        }
        return self._send("animation", message_thread_id, content=content, data=data, file_id=stored.file_id)

    async def send_sticker(self, *, message_thread_id: int | None = None) -> FakeMessage:
        stored = self._world.store_file("sticker", _STICKER_BYTES)
        sticker = self._world.file_object(
            stored, type="regular", width=512, height=512, is_animated=False, is_video=False, emoji="👍"
        )
        return self._send(
            "sticker",
            message_thread_id,
            content={"sticker": sticker},
            data=stored.data,
            file_id=stored.file_id,
        )

    async def send_location(
        self, lat: float, lon: float, *, message_thread_id: int | None = None
    ) -> FakeMessage:
        return self._send(
            "location", message_thread_id, content={"location": {"latitude": lat, "longitude": lon}}
        )

    async def send_contact(
        self, phone: str, first_name: str, *, user_id: int | None = None, message_thread_id: int | None = None
    ) -> FakeMessage:
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name}
        if user_id is not None:
            contact["user_id"] = user_id
        return self._send("contact", message_thread_id, content={"contact": contact})

    async def edit_text(self, message: FakeMessage, new_text: str) -> FakeMessage:
        """Edit one of this user's text messages (an ``edited_message`` update)."""
        if message.from_bot or message.from_id != self.id or message.chat_id != self.chat_id:
            raise AssertionError(f"{self!r} can only edit their own messages in this chat, not {message!r}")
        if message.text is None or message.deleted:
            raise AssertionError(f"{message!r} is not an editable text message")
        message.text = new_text
        message.entities = command_entities(new_text)
        message.edit_date = int(self._world.now())
        message.edits.append(MessageEdit(message.edit_date, new_text, None, message.entities, None))
        if self._bot_sees(message):
            self._world.deliver("edited_message", message.raw)
        return message

    def _send(
        self, kind: str, message_thread_id: int | None, *, reply_to: FakeMessage | None = None, **fields: Any
    ) -> FakeMessage:
        in_topic = self._check_thread(message_thread_id)
        message = self._world.add_message(
            self.chat,
            self.profile,
            kind,
            message_thread_id=message_thread_id,
            is_topic_message=in_topic,
            reply_to=reply_to,
            **fields,
        )
        if self._bot_sees(message):
            self._world.deliver("message", message.raw)
        return message

    def _check_thread(self, message_thread_id: int | None) -> bool:
        """Validate a forum topic id; True if the message goes to a topic."""
        if message_thread_id is None:
            return False
        group = None if self.is_private else self._group()
        if group is None or not group.is_forum:
            raise ValueError("message_thread_id is only supported for forum topics")
        topic = group.find_topic(message_thread_id)
        if topic is None or topic.deleted:
            raise ValueError(f"no open topic {message_thread_id} in {group.title!r}")
        return True

    def _bot_sees(self, message: FakeMessage) -> bool:
        """Whether Telegram would send this message to the bot at all."""
        if self.is_private:
            self._world.started.add(self.id)
            return True
        if self._group().bot_status == "administrator":
            return True
        # Privacy mode: a non-admin bot only gets commands, mentions and replies to itself.
        body = message.text if message.text is not None else message.caption or ""
        replies_to_bot = message.reply_to is not None and message.reply_to.from_bot
        return body.startswith("/") or f"@{self._world.bot_username}" in body or replies_to_bot

    def _group(self) -> FakeGroup:
        group = self._world.chat(self.chat_id)
        if not isinstance(group, FakeGroup):
            raise TypeError(f"chat {self.chat_id} is not a group")
        return group

    # --- buttons -------------------------------------------------------------------

    async def press(self, button_text: str, *, message: FakeMessage | None = None) -> str:
        """Press an inline button of the newest bot message having it; returns the callback id.

        Buttons match by exact text first, then by substring. Raises AssertionError
        listing the available buttons if nothing (or more than one button) matches.
        """
        candidates = [message] if message is not None else list(reversed(self.bot_messages()))
        for exact in (True, False):
            for candidate in candidates:
                buttons = [
                    button
                    for row in (candidate.inline_keyboard or {"inline_keyboard": []})["inline_keyboard"]
                    for button in row
                    if (button["text"] == button_text if exact else button_text in button["text"])
                ]
                if len({button["text"] for button in buttons}) > 1:
                    raise AssertionError(
                        f"{button_text!r} is ambiguous in {candidate!r}: {[b['text'] for b in buttons]}"
                    )
                if buttons:
                    if "callback_data" not in buttons[0]:
                        raise AssertionError(f"button {buttons[0]!r} of {candidate!r} sends no callback")
                    return self._callback(candidate, buttons[0]["callback_data"])
        raise AssertionError(
            f"no inline button {button_text!r} {self._where(message)}; {self._available(candidates)}"
        )

    async def press_data(self, data: str, message: FakeMessage | None = None) -> str:
        """Send a callback query with arbitrary (possibly forged) data.

        Without ``message``, the newest bot message with an inline keyboard is used
        (or else the newest bot message).
        """
        if message is None:
            messages = self.bot_messages()
            with_keyboard = [m for m in messages if m.inline_keyboard is not None]
            if not messages:
                raise AssertionError(f"no bot message to press a button on in chat {self.chat_id}")
            message = (with_keyboard or messages)[-1]
        return self._callback(message, data)

    def _callback(self, message: FakeMessage, data: str) -> str:
        if message.deleted:
            raise AssertionError(f"{message!r} was deleted; its buttons can't be pressed")
        if message.chat_id != self.chat_id:
            raise AssertionError(f"{message!r} is not in chat {self.chat_id}")
        callback = self._world.new_callback(self.id, message, data)
        if self.is_private:
            self._world.started.add(self.id)
        self._world.deliver(
            "callback_query",
            {
                "id": callback.id,
                "from": self.profile,
                "message": message.raw,
                "chat_instance": f"ci{message.chat_id}",
                "data": data,
            },
        )
        return callback.id

    def _where(self, message: FakeMessage | None) -> str:
        return f"on {message!r}" if message is not None else f"in chat {self.chat_id}"

    @staticmethod
    def _available(messages: list[FakeMessage]) -> str:
        """The buttons of the (up to 5) newest of ``messages`` that have any."""
        keyboards = [
            f"#{m.message_id}: {[text for text, _ in m.buttons()]}" for m in messages if m.buttons()
        ][:5]
        return "available buttons: " + ("; ".join(keyboards) if keyboards else "none")

    # --- what the user sees ---------------------------------------------------------------

    def bot_messages(self, *, include_deleted: bool = False) -> list[FakeMessage]:
        """The bot's messages in this chat, oldest first."""
        return [
            m
            for m in self._world.transcript(self.chat_id)
            if m.from_bot and (include_deleted or not m.deleted)
        ]

    def last_bot_message(self) -> FakeMessage:
        messages = self.bot_messages()
        if not messages:
            raise AssertionError(f"the bot has sent nothing (undeleted) to chat {self.chat_id}")
        return messages[-1]

    def buttons(self) -> list[tuple[str, str | None]]:
        """(text, callback_data) of the newest bot message that has an inline keyboard."""
        for message in reversed(self.bot_messages()):
            if message.inline_keyboard is not None:
                return message.buttons()
        return []

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """The bot's answers to this user's button presses in this chat, in order."""
        return [
            callback.answer
            for callback in self._world.callbacks.values()
            if callback.user_id == self.id
            and callback.chat_id == self.chat_id
            and callback.answer is not None
        ]


class FakeGroup:
    """A group or supergroup (optionally a forum) the bot is a member of."""

    def __init__(self, world: World, chat: dict[str, Any], members: dict[int, str], bot_status: str) -> None:
        self._world = world
        self.chat = chat  # the Bot API Chat object
        self.members = members  # user id -> "creator" | "administrator" | "member"
        self.bot_status = bot_status
        self.bot_rights: dict[str, bool] = {}  # overrides of an administrator's default rights
        self.topics: list[FakeTopic] = []  # created by the bot, deleted ones included
        self.users: dict[int, FakeUser] = {}
        for user_id in members:
            private = world.known_user(user_id)
            if private is None:
                raise LookupError(f"group member {user_id} has no private chat with the bot")
            self.users[user_id] = FakeUser(world, private.profile, self.chat_id)

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"])

    @property
    def title(self) -> str:
        return str(self.chat["title"])

    @property
    def is_forum(self) -> bool:
        return bool(self.chat.get("is_forum"))

    def __repr__(self) -> str:
        return f"<FakeGroup {self.chat_id} {self.title!r}>"

    def transcript(self) -> list[FakeMessage]:
        return self._world.transcript(self.chat_id)

    def find_topic(self, message_thread_id: int) -> FakeTopic | None:
        return next((t for t in self.topics if t.message_thread_id == message_thread_id), None)

    def topic(self, name: str) -> FakeTopic:
        """The newest open topic with this name."""
        for topic in reversed(self.topics):
            if topic.name == name and not topic.deleted:
                return topic
        raise AssertionError(f"no open topic {name!r} in {self!r}; topics: {[t.name for t in self.topics]}")

    def member_status(self, user_id: int) -> str:
        if user_id == self._world.bot_id:
            return self.bot_status
        return self.members.get(user_id, "left")
