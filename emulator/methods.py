"""Bot API methods (except the update/webhook ones, which live in server.py)."""

from __future__ import annotations

import io
import itertools
import mimetypes
from collections.abc import Awaitable, Callable
from typing import Any

from PIL import Image, UnidentifiedImageError

from .actors import FakeGroup, FakeUser
from .errors import ApiError, bad_request, chat_not_found
from .html import utf16_len
from .models import CallbackAnswer, FakeMessage, FakeTopic, MessageEdit, StoredFile
from .validation import (
    CHAT_ACTIONS,
    Params,
    ScopeKey,
    Upload,
    bot_commands,
    caption_text,
    command_scope,
    language_code,
    message_text,
    reply_markup,
    request_caption,
)
from .world import DEFAULT_SIZE, World

Handler = Callable[[Params], Awaitable[Any]]
Chat = FakeUser | FakeGroup

DELETE_WINDOW = 48 * 3600  # seconds during which messages can be deleted for everyone
CALLBACK_ANSWER_WINDOW = 15  # seconds Telegram waits for answerCallbackQuery
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files
PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024
UPLOAD_LIMIT = 50 * 1024 * 1024
TOPIC_ICON_COLORS = frozenset({7322096, 16766590, 13338331, 9367192, 16749490, 16478047})
ANSWER_TEXT_LIMIT = 200
BOT_TEXT_LIMITS = {"name": 64, "description": 512, "short_description": 120}
MEDIA_KINDS = ("photo", "video", "document", "audio", "voice", "animation")
_MIME_TYPES = {
    "document": "application/octet-stream",
    "audio": "audio/mpeg",
    "voice": "audio/ogg",
    "video": "video/mp4",
    "animation": "video/mp4",
}
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": True,
    "can_edit_stories": True,
    "can_delete_stories": True,
    "can_send_welcome_messages": True,
    "can_pin_messages": True,
    "can_manage_topics": True,
}


class BotApi:
    """Implements the Bot API methods on top of a World, validating like Telegram."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._media_groups = itertools.count(10_000_000)

    def handlers(self) -> dict[str, Handler]:
        """Canonical method name -> implementation."""
        handlers: dict[str, Handler] = {
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "answerCallbackQuery": self.answer_callback_query,
            "sendMediaGroup": self.send_media_group,
            "copyMessage": self.copy_message,
            "forwardMessage": self.forward_message,
            "getFile": self.get_file,
            "sendChatAction": self.send_chat_action,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "createForumTopic": self.create_forum_topic,
            "editForumTopic": self.edit_forum_topic,
            "deleteForumTopic": self.delete_forum_topic,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
        }
        for kind in MEDIA_KINDS:
            handlers["send" + kind.capitalize()] = self._media_sender(kind)
        for field in BOT_TEXT_LIMITS:
            suffix = "".join(part.capitalize() for part in field.split("_"))
            handlers["setMy" + suffix] = self._bot_text_setter(field)
            handlers["getMy" + suffix] = self._bot_text_getter(field)
        return handlers

    # --- shared checks ----------------------------------------------------------------

    def _chat(self, params: Params, name: str = "chat_id", *, writing: bool = True) -> Chat:
        """The target chat; ``writing`` requests also need a private chat to be open."""
        chat = self.world.chat(params.chat_id(name))
        if chat is None:
            raise chat_not_found()
        if writing and isinstance(chat, FakeUser):
            if chat.id in self.world.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user", rule_violation=False)
            if chat.id not in self.world.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _message(self, chat: Chat, params: Params, missing: str) -> FakeMessage:
        """The (undeleted) message ``message_id`` of ``chat``; 400 ``missing`` otherwise."""
        message_id = params.require_int("message_id", "message identifier is not specified")
        message = self.world.find_message(chat.chat_id, message_id)
        if message is None or message.deleted:
            raise bad_request(missing)
        return message

    def _thread(self, chat: Chat, params: Params) -> tuple[int | None, bool]:
        """(message_thread_id, is_topic_message) for a new message."""
        thread_id = params.get_int("message_thread_id")
        if thread_id is None:
            return None, False
        if isinstance(chat, FakeGroup):
            if chat.is_forum:
                topic = chat.find_topic(thread_id)
                if topic is not None and not topic.deleted:
                    return thread_id, True
            elif self.world.find_message(chat.chat_id, thread_id) is not None:
                return thread_id, False  # a reply thread of a non-forum group
        raise bad_request("message thread not found")

    def _reply_to(self, chat: Chat, params: Params) -> FakeMessage | None:
        reply = params.get_json("reply_parameters", error="can't parse reply parameters JSON object")
        if reply is None:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise bad_request("can't parse reply parameters JSON object")
        target_chat = chat.chat_id
        if reply.get("chat_id") is not None:
            other = self.world.chat(reply["chat_id"])
            if other is None:
                raise chat_not_found()
            target_chat = other.chat_id
        message = self.world.find_message(target_chat, reply["message_id"])
        if message is None or message.deleted:
            if reply.get("allow_sending_without_reply") and target_chat == chat.chat_id:
                return None
            raise bad_request("message to be replied not found")
        return message

    def _bot_message(
        self, chat: Chat, params: Params, kind: str, *, with_markup: bool = True, **fields: Any
    ) -> FakeMessage:
        """Validate the common send parameters and add the bot's message to the chat."""
        thread_id, in_topic = self._thread(chat, params)
        markup = reply_markup(params, private=isinstance(chat, FakeUser)) if with_markup else None
        reply_to = self._reply_to(chat, params)
        return self.world.add_message(
            chat.chat,
            self.world.bot_user,
            kind,
            reply_markup=markup,
            message_thread_id=thread_id,
            is_topic_message=in_topic,
            reply_to=reply_to,
            **fields,
        )

    # --- sending ----------------------------------------------------------------------

    async def send_message(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params)
        text, entities = message_text(params)
        options = params.get_json(
            "link_preview_options", error="can't parse link preview options JSON object"
        )
        if options is not None and not isinstance(options, dict):
            raise bad_request("can't parse link preview options JSON object")
        return self._bot_message(chat, params, "text", text=text, entities=entities).raw

    def _media_sender(self, kind: str) -> Handler:
        async def send(params: Params) -> dict[str, Any]:
            chat = self._chat(params)
            content, stored = self._media(kind, params.input_file(kind), params)
            caption, entities = request_caption(params)
            message = self._bot_message(
                chat, params, kind, caption=caption, entities=entities, content=content,
                data=stored.data, file_id=stored.file_id,
            )  # fmt: skip
            return message.raw

        return send

    def _media(
        self, kind: str, value: Upload | str | None, params: Params
    ) -> tuple[dict[str, Any], StoredFile]:
        """The kind-specific Message fields for a sent file, and the file holding its bytes.

        ``value`` is an upload (stored now) or the file_id of a known file of the same kind.
        """
        source = self._source_file(value, kind)
        if kind == "photo":
            if isinstance(source, StoredFile) and source.sizes is not None:
                return {"photo": source.sizes}, source
            sizes, largest = self.world.photo_sizes(source.data)
            return {"photo": sizes}, largest
        if isinstance(source, StoredFile):
            stored = source
        else:
            name = source.filename
            mime = mimetypes.guess_type(name)[0] if kind in ("document", "audio") else None
            stored = self.world.store_file(
                kind, source.data, file_name=name, mime_type=mime or _MIME_TYPES[kind]
            )
        obj = self.world.file_object
        duration = params.get_int("duration") or 0
        width = params.get_int("width") or DEFAULT_SIZE[0]
        height = params.get_int("height") or DEFAULT_SIZE[1]
        if kind == "video":
            return {"video": obj(stored, width=width, height=height, duration=duration)}, stored
        if kind == "animation":
            animation = obj(stored, width=width, height=height, duration=duration)
            return {"animation": animation, "document": obj(stored)}, stored
        if kind == "voice":
            return {"voice": obj(stored, duration=duration)}, stored
        if kind == "audio":
            extra = {k: v for k in ("title", "performer") if (v := params.get_str(k)) is not None}
            return {"audio": obj(stored, duration=duration, **extra)}, stored
        return {"document": obj(stored)}, stored

    def _source_file(self, value: Upload | str | None, kind: str) -> Upload | StoredFile:
        """A validated upload, or the known file a file_id refers to."""
        if value is None:
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, Upload):
            limit = PHOTO_UPLOAD_LIMIT if kind == "photo" else UPLOAD_LIMIT
            if len(value.data) > limit:
                raise ApiError(413, "Request Entity Too Large")
            if not value.data:
                raise bad_request("file must be non-empty")
            if kind == "photo":
                _check_photo(value.data)
            return value
        if value.startswith(("http://", "https://")):
            raise bad_request("the fake Bot API can't fetch files by URL; upload them or use a file_id")
        stored = self.world.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind and not (kind == "document" and stored.kind == "animation"):
            raise bad_request("type of file mismatch")
        return stored

    async def send_media_group(self, params: Params) -> list[dict[str, Any]]:
        chat = self._chat(params)
        media = params.get_json("media", error="can't parse media JSON object")
        if not isinstance(media, list) or not all(isinstance(item, dict) for item in media):
            raise bad_request("can't parse media JSON object")
        if not 2 <= len(media) <= 10:
            raise bad_request("media group must include 2-10 items")
        kinds = [item.get("type") for item in media]
        if any(kind not in ("photo", "video", "document", "audio") for kind in kinds):
            raise bad_request("unsupported media type in a media group")
        for alone in ("document", "audio"):
            if alone in kinds and set(kinds) != {alone}:
                raise bad_request(f"{alone}s can't be mixed with other media types")
        prepared = []
        for item, kind in zip(media, kinds, strict=True):
            value = item.get("media")
            source = params.attached(value) if isinstance(value, str) else None
            content, stored = self._media(kind, source, Params(item, {}))
            caption = caption_text(item.get("caption"), item.get("parse_mode"), item.get("caption_entities"))
            prepared.append((kind, caption, content, stored))
        group_id = str(next(self._media_groups))
        messages = []
        for kind, (text, entities), content, stored in prepared:
            content["media_group_id"] = group_id
            messages.append(
                self._bot_message(
                    chat,
                    params,
                    kind,
                    with_markup=False,
                    caption=text,
                    entities=entities,
                    content=content,
                    data=stored.data,
                    file_id=stored.file_id,
                )
            )
        return [message.raw for message in messages]

    def _source_message(self, params: Params) -> FakeMessage:
        source_chat = self._chat(params, "from_chat_id", writing=False)
        message = self._message(source_chat, params, "message to copy not found")
        if message.kind.startswith("forum_topic_"):
            raise bad_request("message can't be copied")
        return message

    async def copy_message(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params)
        source = self._source_message(params)
        caption, entities = source.caption, source.entities
        if source.text is None and params.has("caption"):
            caption, entities = request_caption(params)
        content = {k: v for k, v in source.content.items() if k not in ("forward_origin", "media_group_id")}
        copy = self._bot_message(
            chat, params, source.kind, text=source.text, caption=caption, entities=list(entities),
            content=content, data=source.data, file_id=source.file_id,
        )  # fmt: skip
        return {"message_id": copy.message_id}

    async def forward_message(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params)
        source = self._source_message(params)
        thread_id, in_topic = self._thread(chat, params)
        # Forwarding a forward keeps the original origin.
        origin = source.content.get("forward_origin") or {
            "type": "user",
            "date": source.date,
            "sender_user": source.sender,
        }
        content = {k: v for k, v in source.content.items() if k != "media_group_id"}
        forward = self.world.add_message(
            chat.chat, self.world.bot_user, source.kind, text=source.text, caption=source.caption,
            entities=list(source.entities), content={**content, "forward_origin": origin},
            data=source.data, file_id=source.file_id, message_thread_id=thread_id, is_topic_message=in_topic,
        )  # fmt: skip
        self.world.forwards.append(forward)
        return forward.raw

    async def send_chat_action(self, params: Params) -> bool:
        chat = self._chat(params)
        if params.get_str("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._thread(chat, params)
        return True

    # --- editing and deleting ---------------------------------------------------------

    def _editable(self, params: Params) -> FakeMessage:
        if params.has("inline_message_id"):
            raise bad_request("the fake Bot API has no inline messages")
        message = self._message(self._chat(params), params, "message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _commit_edit(
        self,
        message: FakeMessage,
        text: str | None,
        caption: str | None,
        entities: list[dict[str, Any]],
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Store an edit, or refuse it if nothing would change."""
        if (text, caption, entities, markup) == (
            message.text,
            message.caption,
            message.entities,
            message.inline_keyboard,
        ):
            raise bad_request(_NOT_MODIFIED)
        message.text, message.caption, message.entities = text, caption, entities
        if markup is not None or message.inline_keyboard is not None:
            message.reply_markup = markup  # an edit without markup removes the inline keyboard
        message.edit_date = int(self.world.now())
        message.edits.append(MessageEdit(message.edit_date, text, caption, entities, message.reply_markup))
        return message.raw

    def _new_markup(self, message: FakeMessage, params: Params) -> dict[str, Any] | None:
        return reply_markup(params, inline_only=True, private=message.chat["type"] == "private")

    async def edit_message_text(self, params: Params) -> dict[str, Any]:
        message = self._editable(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = message_text(params)
        return self._commit_edit(message, text, None, entities, self._new_markup(message, params))

    async def edit_message_caption(self, params: Params) -> dict[str, Any]:
        message = self._editable(params)
        if message.kind not in MEDIA_KINDS:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = request_caption(params)
        return self._commit_edit(message, None, caption, entities, self._new_markup(message, params))

    async def edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        message = self._editable(params)
        markup = self._new_markup(message, params)
        return self._commit_edit(message, message.text, message.caption, message.entities, markup)

    def _check_deletable(self, chat: Chat, message: FakeMessage) -> None:
        if message.kind == "forum_topic_created":
            raise bad_request("message can't be deleted")
        if isinstance(chat, FakeGroup) and chat.bot_status == "administrator":
            return  # an admin bot may delete anything, however old
        if isinstance(chat, FakeGroup) and not message.from_bot:
            raise bad_request("message can't be deleted")
        if self.world.now() - message.date >= DELETE_WINDOW:
            raise bad_request("message can't be deleted for everyone")

    async def delete_message(self, params: Params) -> bool:
        chat = self._chat(params)
        message = self._message(chat, params, "message to delete not found")
        self._check_deletable(chat, message)
        message.deleted = True
        return True

    async def delete_messages(self, params: Params) -> bool:
        chat = self._chat(params)
        ids = params.get_json("message_ids", error="can't parse message identifiers JSON object")
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise bad_request("can't parse message identifiers JSON object")
        if not ids:
            raise bad_request("message identifiers are not specified")
        if len(ids) > 100:
            raise bad_request("too many message identifiers specified")
        found = [self.world.find_message(chat.chat_id, message_id) for message_id in ids]
        messages = [m for m in found if m is not None and not m.deleted]  # missing ones are skipped
        for message in messages:
            self._check_deletable(chat, message)
        for message in messages:
            message.deleted = True
        return True

    # --- callbacks and files ----------------------------------------------------------

    async def answer_callback_query(self, params: Params) -> bool:
        callback = self.world.callbacks.get(params.get_str("callback_query_id") or "")
        if (
            callback is None
            or callback.answer is not None
            or self.world.now() - callback.date > CALLBACK_ANSWER_WINDOW
        ):
            raise bad_request(_QUERY_INVALID)
        text = params.get_str("text")
        if text is not None and utf16_len(text) > ANSWER_TEXT_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        callback.answer = CallbackAnswer(
            callback_query_id=callback.id,
            data=callback.data,
            text=text,
            show_alert=params.get_bool("show_alert"),
            url=params.get_str("url"),
        )
        return True

    async def get_file(self, params: Params) -> dict[str, Any]:
        stored = self.world.files.get(params.require_str("file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        path = self.world.issue_file_path(stored)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": path,
        }

    # --- bot settings --------------------------------------------------------------------

    def _scope(self, params: Params) -> ScopeKey:
        scope = command_scope(params.get_json("scope", error="can't parse BotCommandScope JSON object"))
        kind, chat_id, user_id = scope
        if chat_id is None:
            return scope
        chat = self.world.chat(chat_id)
        if chat is None:
            raise chat_not_found()
        if kind != "chat" and not isinstance(chat, FakeGroup):
            raise bad_request("can't use this scope in private chats")
        if kind == "chat_member" and (not isinstance(chat, FakeGroup) or user_id not in chat.members):
            raise bad_request("user not found")
        return (kind, chat.chat_id, user_id)

    async def set_my_commands(self, params: Params) -> bool:
        if not params.has("commands"):
            raise bad_request('parameter "commands" is required')
        commands = bot_commands(params.get_json("commands", error="can't parse commands JSON object"))
        key = (self._scope(params), language_code(params))
        if commands:
            self.world.bot_commands[key] = commands
        else:
            self.world.bot_commands.pop(key, None)
        return True

    async def get_my_commands(self, params: Params) -> list[dict[str, str]]:
        return list(self.world.bot_commands.get((self._scope(params), language_code(params)), []))

    async def delete_my_commands(self, params: Params) -> bool:
        self.world.bot_commands.pop((self._scope(params), language_code(params)), None)
        return True

    def _bot_text_setter(self, field: str) -> Handler:
        async def setter(params: Params) -> bool:
            value = params.get_str(field) or ""
            if len(value) > BOT_TEXT_LIMITS[field]:
                raise bad_request(f"bot {field.replace('_', ' ')} is too long")
            key = (field, language_code(params))
            if value:
                self.world.bot_texts[key] = value
            else:
                self.world.bot_texts.pop(key, None)
            return True

        return setter

    def _bot_text_getter(self, field: str) -> Handler:
        async def getter(params: Params) -> dict[str, str]:
            return {field: self.world.bot_texts.get((field, language_code(params)), "")}

        return getter

    # --- chats and topics ---------------------------------------------------------------------

    def _forum(self, params: Params) -> FakeGroup:
        chat = self._chat(params)
        if not isinstance(chat, FakeGroup) or not chat.is_forum:
            raise bad_request("the chat is not a forum")
        if chat.bot_status != "administrator" or not chat.bot_rights.get("can_manage_topics", True):
            raise bad_request("not enough rights to manage topics")
        return chat

    def _topic(self, group: FakeGroup, params: Params) -> FakeTopic:
        topic = group.find_topic(params.require_int("message_thread_id"))
        if topic is None or topic.deleted:
            raise bad_request("message thread not found")
        return topic

    @staticmethod
    def _topic_name(name: str | None) -> str:
        if not name or not 1 <= len(name) <= 128:
            raise bad_request("topic name must have 1-128 characters")
        return name

    async def create_forum_topic(self, params: Params) -> dict[str, Any]:
        group = self._forum(params)
        name = self._topic_name(params.get_str("name"))
        icon_color = params.get_int("icon_color")
        if icon_color is None:
            icon_color = 7322096
        elif icon_color not in TOPIC_ICON_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")
        emoji = params.get_str("icon_custom_emoji_id")
        created: dict[str, Any] = {"name": name, "icon_color": icon_color}
        if emoji is not None:
            created["icon_custom_emoji_id"] = emoji
        # Like Telegram, the topic's id is the id of its "topic created" service message.
        service = self.world.add_message(
            group.chat, self.world.bot_user, "forum_topic_created",
            content={"forum_topic_created": created}, is_topic_message=True,
        )  # fmt: skip
        service.message_thread_id = service.message_id
        group.topics.append(FakeTopic(group.chat_id, service.message_id, name, icon_color, emoji))
        return {"message_thread_id": service.message_id, **created}

    async def edit_forum_topic(self, params: Params) -> bool:
        group = self._forum(params)
        topic = self._topic(group, params)
        name = params.get_str("name")
        emoji = params.get_str("icon_custom_emoji_id")
        new_name = topic.name if name is None else self._topic_name(name)
        new_emoji = topic.icon_custom_emoji_id if emoji is None else emoji
        if (new_name, new_emoji) == (topic.name, topic.icon_custom_emoji_id):
            raise bad_request("TOPIC_NOT_MODIFIED")
        edited: dict[str, Any] = {}
        if name is not None:
            edited["name"] = new_name
        if emoji is not None:
            edited["icon_custom_emoji_id"] = new_emoji
        topic.name, topic.icon_custom_emoji_id = new_name, new_emoji
        self.world.add_message(
            group.chat, self.world.bot_user, "forum_topic_edited", content={"forum_topic_edited": edited},
            message_thread_id=topic.message_thread_id, is_topic_message=True,
        )  # fmt: skip
        return True

    async def delete_forum_topic(self, params: Params) -> bool:
        group = self._forum(params)
        topic = self._topic(group, params)
        topic.deleted = True
        for message in group.transcript():
            if message.message_thread_id == topic.message_thread_id:
                message.deleted = True  # a topic goes away with all its messages
        return True

    async def get_chat(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params, writing=False)
        return {
            **chat.chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    async def get_chat_member(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params, writing=False)
        user_id = params.require_int("user_id")
        if user_id == self.world.bot_id:
            user = self.world.bot_user
        else:
            known = self.world.known_user(user_id)
            if known is None:
                raise bad_request("user not found")
            user = known.profile
        if isinstance(chat, FakeGroup):
            status = chat.member_status(user_id)
        elif user_id in (chat.id, self.world.bot_id):
            status = "member"
        else:
            raise bad_request("user not found")
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "administrator":
            member.update(_ADMIN_RIGHTS)
            if user_id == self.world.bot_id and isinstance(chat, FakeGroup):
                member.update(chat.bot_rights)
        elif status == "creator":
            member["is_anonymous"] = False
        return member


def _check_photo(data: bytes) -> None:
    """Telegram only accepts real images within its dimension limits as photos."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        raise bad_request("IMAGE_PROCESS_FAILED") from None
    if width + height > 10000 or max(width, height) > 20 * min(width, height):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
