"""The fake's state - users, groups, transcripts, files, bot settings - and the clock."""

from __future__ import annotations

import io
import itertools
import time
from typing import Any

from PIL import Image, UnidentifiedImageError

from .actors import FakeGroup, FakeUser
from .models import CallbackQuery, FakeMessage, StoredFile
from .updates import UpdateQueue
from .validation import ScopeKey, command_scope

BOT_FIRST_NAME = "Kua"

# Where getFile puts each kind of file, and the extension it uses.
_FILE_FOLDERS = {
    "photo": ("photos", "jpg"),
    "document": ("documents", "bin"),
    "voice": ("voice", "oga"),
    "video": ("videos", "mp4"),
    "audio": ("music", "mp3"),
    "animation": ("animations", "mp4"),
    "sticker": ("stickers", "webp"),
}

# Used for media whose bytes are not a decodable image.
DEFAULT_SIZE = (1280, 720)


class World:
    """Everything the fake Telegram knows, independent of HTTP."""

    def __init__(self, token: str, bot_id: int, bot_username: str) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": bot_username,
        }
        self.updates = UpdateQueue()
        self.files: dict[str, StoredFile] = {}  # by file_id: everything users sent and the bot uploaded
        self.forwards: list[FakeMessage] = []  # messages the bot created with forwardMessage
        self.callbacks: dict[str, CallbackQuery] = {}
        self.file_paths: dict[str, StoredFile] = {}  # issued by getFile
        self.blocked: set[int] = set()
        self.started: set[int] = set()  # users who have written to the bot
        self.bot_commands: dict[tuple[ScopeKey, str], list[dict[str, str]]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}  # (name|description|short_description, language)
        self._clock_offset = 0.0
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}
        self._messages: dict[int, list[FakeMessage]] = {}
        self._ids = itertools.count(1)

    # --- clock -----------------------------------------------------------------

    def now(self) -> float:
        """Fake epoch time: real time plus everything advance()d."""
        return time.time() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake clock forward (message dates, the 48-hour delete window...)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._clock_offset += seconds

    # --- users and groups --------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        *,
        started: bool = False,
    ) -> FakeUser:
        """Register a user (chat id == user id) and return them in their private chat.

        Like on Telegram, the bot may only message users who have written to it
        (anything sent in the private chat counts); ``started=True`` pretends
        they did so before the test. Calling it again for the same id updates
        the profile and returns the same user.
        """
        if user_id <= 0:
            raise ValueError("user ids are positive")
        profile: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            profile["last_name"] = last_name
        if username is not None:
            profile["username"] = username
        if language_code is not None:
            profile["language_code"] = language_code
        if started:
            self.started.add(user_id)
        if user_id in self._users:
            existing = self._users[user_id].profile
            existing.clear()
            existing.update(profile)  # shared with the user's group identities
            return self._users[user_id]
        user = FakeUser(self, profile, user_id)
        self._users[user_id] = user
        return user

    def group(
        self,
        chat_id: int,
        title: str,
        is_forum: bool = False,
        members: dict[int, str] | None = None,
        *,
        bot_status: str = "administrator",
        bot_rights: dict[str, bool] | None = None,
    ) -> FakeGroup:
        """Register a group the bot is in. Ids starting with -100 are supergroups.

        ``members`` maps user ids to "creator", "administrator" or "member"; unknown
        users are registered with default names. ``bot_status`` is the bot's own
        status, "administrator" (sees every message, may delete any) or "member"
        (privacy mode: only sees commands and replies to it). ``bot_rights`` overrides an
        administrator bot's rights, e.g. ``{"can_manage_topics": False}``.
        """
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id in self._groups:
            raise ValueError(f"group {chat_id} is already registered")
        supergroup = str(chat_id).startswith("-100")
        if is_forum and not supergroup:
            raise ValueError("only supergroups (ids starting with -100) can be forums")
        if bot_status not in ("administrator", "member"):
            raise ValueError('bot_status must be "administrator" or "member"')
        members = dict(members or {})
        for user_id, status in members.items():
            if status not in ("creator", "administrator", "member"):
                raise ValueError(f"unsupported member status {status!r}")
            if user_id not in self._users:
                self.user(user_id)
        chat: dict[str, Any] = {
            "id": chat_id,
            "type": "supergroup" if supergroup else "group",
            "title": title,
        }
        if is_forum:
            chat["is_forum"] = True
        group = FakeGroup(self, chat, members, bot_status)
        group.bot_rights.update(bot_rights or {})
        self._groups[chat_id] = group
        return group

    def known_user(self, user_id: int) -> FakeUser | None:
        return self._users.get(user_id)

    def chat(self, chat_id: int | str) -> FakeUser | FakeGroup | None:
        """A private chat (its user) or a group; @usernames are not supported."""
        if isinstance(chat_id, str):
            return None
        return self._users.get(chat_id) or self._groups.get(chat_id)

    def block_user(self, user_id: int) -> None:
        """From now on every request to this user's private chat gets 403 "bot was blocked"."""
        self.blocked.add(user_id)

    def unblock_user(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    # --- messages --------------------------------------------------------------

    def transcript(self, chat_id: int) -> list[FakeMessage]:
        """All messages of a chat in order, from users and the bot, deleted ones included."""
        return list(self._messages.get(chat_id, []))

    def present(self, chat_id: int) -> list[FakeMessage]:
        """What the chat shows now: its messages not deleted, as last edited (an edited
        message shows only its current text, as on a phone)."""
        return [m for m in self._messages.get(chat_id, []) if not m.deleted]

    def find_message(self, chat_id: int, message_id: int) -> FakeMessage | None:
        for message in self._messages.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def add_message(
        self, chat: dict[str, Any], sender: dict[str, Any], kind: str, **fields: Any
    ) -> FakeMessage:
        """Append a message to a chat's transcript, numbered like Telegram does (per chat)."""
        history = self._messages.setdefault(chat["id"], [])
        message = FakeMessage(
            message_id=len(history) + 1,
            chat=dict(chat),
            sender=dict(sender),
            date=int(self.now()),
            kind=kind,
            **fields,
        )
        history.append(message)
        return message

    def deliver(self, kind: str, payload: dict[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        return self.updates.put(kind, payload)

    def new_callback(self, user_id: int, message: FakeMessage, data: str | None) -> CallbackQuery:
        callback = CallbackQuery(
            id=str(4_000_000_000_000 + next(self._ids)),
            user_id=user_id,
            chat_id=message.chat_id,
            message_id=message.message_id,
            data=data,
            date=self.now(),
        )
        self.callbacks[callback.id] = callback
        return callback

    # --- files -----------------------------------------------------------------

    def store_file(
        self, kind: str, data: bytes, *, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        number = next(self._ids)
        stored = StoredFile(
            file_id=f"{kind}-{number:06d}-{self.bot_id}",
            file_unique_id=f"u{number:06d}",
            kind=kind,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def issue_file_path(self, stored: StoredFile) -> str:
        """getFile: a download path, valid for an hour of fake time."""
        if stored.file_path is None:
            folder, extension = _FILE_FOLDERS.get(stored.kind, ("documents", "bin"))
            stored.file_path = f"{folder}/file_{stored.file_unique_id}.{extension}"
            self.file_paths[stored.file_path] = stored
        stored.path_issued_at = self.now()
        return stored.file_path

    def downloadable(self, file_path: str) -> StoredFile | None:
        stored = self.file_paths.get(file_path)
        if stored is None or stored.path_issued_at is None or self.now() - stored.path_issued_at > 3600:
            return None
        return stored

    def photo_sizes(self, data: bytes) -> tuple[list[dict[str, Any]], StoredFile]:
        """PhotoSize list for an image: a 90px thumbnail (if decodable) and the original.

        Returns the sizes and the StoredFile of the largest one, which keeps ``data``.
        """
        sizes: list[dict[str, Any]] = []
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                thumbnail = image.convert("RGB")
            thumbnail.thumbnail((90, 90))
            buffer = io.BytesIO()
            thumbnail.save(buffer, "JPEG")
            small = self.store_file("photo", buffer.getvalue())
            sizes.append(self.file_object(small, width=thumbnail.width, height=thumbnail.height))
        except (UnidentifiedImageError, OSError):
            width, height = DEFAULT_SIZE
        largest = self.store_file("photo", data)
        sizes.append(self.file_object(largest, width=width, height=height))
        largest.sizes = sizes
        return sizes, largest

    @staticmethod
    def file_object(stored: StoredFile, **fields: Any) -> dict[str, Any]:
        """A Bot API file object (PhotoSize, Document, Voice...) for ``stored``."""
        result: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.file_name is not None:
            result["file_name"] = stored.file_name
        if stored.mime_type is not None:
            result["mime_type"] = stored.mime_type
        result.update(fields)
        result["file_size"] = len(stored.data)
        return result

    # --- bot settings ------------------------------------------------------------

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, str]]:
        """The command list the bot set for exactly this scope and language ([] if none)."""
        return list(self.bot_commands.get((command_scope(scope), language_code), []))

    def description(self, language_code: str = "") -> str:
        return self.bot_texts.get(("description", language_code), "")

    def short_description(self, language_code: str = "") -> str:
        return self.bot_texts.get(("short_description", language_code), "")

    def name(self, language_code: str = "") -> str:
        return self.bot_texts.get(("name", language_code), "")
