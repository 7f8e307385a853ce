"""Request parameters and the Bot API's rules for them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import ApiError, bad_request, chat_not_found
from .html import HtmlParseError, parse_html, utf16_len

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

# Parameters that arrive as JSON strings in form-encoded requests.
JSON_FIELDS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "commands", "scope", "media",
        "reply_parameters", "link_preview_options", "message_ids", "allowed_updates",
    }
)  # fmt: skip

ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
        "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
        "expandable_blockquote", "code", "pre", "text_link", "text_mention", "custom_emoji",
        "date_time",
    }
)  # fmt: skip

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip

_INLINE_ACTIONS = (
    "callback_data", "url", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
_REPLY_BUTTON_REQUESTS = (
    "request_users", "request_chat", "request_managed_bot", "request_contact",
    "request_location", "request_poll", "web_app",
)  # fmt: skip
_BUTTON_STYLES = frozenset({"danger", "success", "primary"})
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_CODE = re.compile(r"[a-z]{2}")
_SCOPE_TYPES = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators",
        "chat", "chat_administrators", "chat_member",
    }
)  # fmt: skip
_TRIMMED = " \t\r\n\v\f"


@dataclass(frozen=True)
class Upload:
    """A file sent as a multipart part."""

    filename: str
    data: bytes
    content_type: str | None


# Parameters decoded for the request log, so tests can compare with Python values.
_INT_FIELDS = frozenset(
    {
        "chat_id", "from_chat_id", "message_id", "message_thread_id", "user_id", "offset",
        "limit", "timeout", "duration", "width", "height", "icon_color", "cache_time",
    }
)  # fmt: skip
_BOOL_FIELDS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "has_spoiler",
        "drop_pending_updates", "show_caption_above_media", "disable_content_type_detection",
    }
)  # fmt: skip


def decode_params(values: Mapping[str, Any]) -> dict[str, Any]:
    """Best-effort typed view of raw parameters (JSON, integer and boolean fields)."""
    decoded: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, str):
            try:
                if key in JSON_FIELDS:
                    value = json.loads(value)
                elif key in _INT_FIELDS:
                    value = int(value)
                elif key in _BOOL_FIELDS and value.lower() in ("true", "false"):
                    value = value.lower() == "true"
            except ValueError:
                pass  # left as sent; the method itself reports the problem
        decoded[key] = value
    return decoded


class Params:
    """Typed access to one request's parameters, answering 400 like Telegram does.

    Values are strings for query/form requests and JSON values for JSON bodies;
    the getters accept both.
    """

    def __init__(self, values: Mapping[str, Any], uploads: Mapping[str, Upload]) -> None:
        self.values = dict(values)
        self.uploads = dict(uploads)

    def _value(self, name: str) -> Any:
        value = self.values.get(name)
        return None if value == "" else value

    def has(self, name: str) -> bool:
        return self._value(name) is not None or name in self.uploads

    def get_str(self, name: str) -> str | None:
        value = self._value(name)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            raise bad_request(f'field "{name}" must be of type String')
        return str(value)

    def require_str(self, name: str) -> str:
        value = self.get_str(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def get_int(self, name: str) -> int | None:
        value = self._value(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise bad_request(f'field "{name}" must be of type Integer')
        try:
            return int(value)
        except ValueError:
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def require_int(self, name: str, missing: str | None = None) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(missing or f"{name} is empty")
        return value

    def get_bool(self, name: str) -> bool:
        value = self._value(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str, *, error: str) -> Any:
        """A JSON parameter, decoded; ``error`` is the 400 detail for malformed JSON."""
        value = self._value(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error) from None
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        """An integer chat id or an @username."""
        value = self.get_str(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        if value.startswith("@"):
            return value
        try:
            return int(value)
        except ValueError:
            raise chat_not_found() from None

    def input_file(self, name: str) -> Upload | str | None:
        """A file parameter: an uploaded part (directly or via attach://) or a file_id/URL."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.get_str(name)
        if value is None:
            return None
        return self.attached(value)

    def attached(self, value: str) -> Upload | str:
        """Resolve an ``attach://<part>`` reference; other strings are returned as is."""
        if not value.startswith("attach://"):
            return value
        part = value[len("attach://") :]
        if part not in self.uploads:
            raise bad_request(f'can\'t find attached file "{part}"')
        return self.uploads[part]


# --- formatted text ---------------------------------------------------------


def formatted_text(
    text: str | None, parse_mode: str | None, entities: Any
) -> tuple[str, list[dict[str, Any]]]:
    """Apply ``parse_mode`` (or explicit entities) and trim, like the Bot API.

    With a parse mode set, Telegram ignores ``entities`` altogether.
    """
    text = text or ""
    mode = (parse_mode or "").lower()
    if mode and mode != "none":
        if mode != "html":
            if mode in ("markdown", "markdownv2"):
                raise bad_request(f"fake Bot API does not support parse_mode {parse_mode!r}; use HTML")
            raise bad_request("unsupported parse_mode")
        try:
            text, parsed = parse_html(text)
        except HtmlParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    else:
        parsed = _explicit_entities(entities)
    return _trim(text, parsed)


def _explicit_entities(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("can't parse entities JSON object")
    result: list[dict[str, Any]] = []
    for entity in value:
        if not isinstance(entity, dict):
            raise bad_request("can't parse MessageEntity: object expected")
        kind, offset, length = entity.get("type"), entity.get("offset"), entity.get("length")
        if kind not in ENTITY_TYPES:
            raise bad_request(f"can't parse MessageEntity: unsupported type {kind!r}")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise bad_request("can't parse MessageEntity: offset and length must be non-negative Integers")
        required = {
            "text_link": "url",
            "text_mention": "user",
            "custom_emoji": "custom_emoji_id",
            "date_time": "unix_time",
        }.get(kind)
        if required is not None and required not in entity:
            raise bad_request(f'can\'t parse MessageEntity: field "{required}" must be specified')
        result.append(dict(entity))
    return result


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip surrounding whitespace and clip entities to what remains."""
    stripped = text.strip(_TRIMMED)
    start = utf16_len(text[: len(text) - len(text.lstrip(_TRIMMED))])
    total = utf16_len(stripped)
    result = []
    for entity in entities:
        begin = max(entity["offset"] - start, 0)
        end = min(entity["offset"] + entity["length"] - start, total)
        if end > begin:
            result.append({**entity, "offset": begin, "length": end - begin})
    return stripped, result


def message_text(params: Params) -> tuple[str, list[dict[str, Any]]]:
    """Text of sendMessage/editMessageText: 1-4096 UTF-16 units after parsing."""
    text, entities = formatted_text(
        params.get_str("text"),
        params.get_str("parse_mode"),
        params.get_json("entities", error="can't parse entities JSON object"),
    )
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return text, entities


def caption_text(
    caption: str | None, parse_mode: str | None, entities: Any
) -> tuple[str | None, list[dict[str, Any]]]:
    """A media caption: at most 1024 UTF-16 units after parsing; None if empty."""
    text, parsed = formatted_text(caption, parse_mode, entities)
    if utf16_len(text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return (text or None), parsed


def request_caption(params: Params) -> tuple[str | None, list[dict[str, Any]]]:
    """The caption, parse_mode and caption_entities parameters of a request."""
    return caption_text(
        params.get_str("caption"),
        params.get_str("parse_mode"),
        params.get_json("caption_entities", error="can't parse entities JSON object"),
    )


# --- reply markup -----------------------------------------------------------


def reply_markup(params: Params, *, inline_only: bool = False, private: bool = True) -> dict[str, Any] | None:
    """Validate the ``reply_markup`` parameter; None if absent."""
    markup = params.get_json("reply_markup", error="can't parse reply keyboard markup JSON object")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    kinds = [k for k in ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply") if k in markup]
    if len(kinds) != 1:
        raise bad_request(
            "reply markup must contain exactly one of inline_keyboard, keyboard, "
            f"remove_keyboard, force_reply; got {sorted(markup)}"
        )
    if inline_only and kinds[0] != "inline_keyboard":
        raise bad_request("inline keyboard expected")
    if kinds[0] == "inline_keyboard":
        _inline_keyboard(markup["inline_keyboard"], private=private)
    elif kinds[0] == "keyboard":
        _reply_keyboard(markup)
    elif markup[kinds[0]] is not True:
        raise bad_request(f'field "{kinds[0]}" must be True')
    elif kinds[0] == "force_reply":
        _placeholder(markup)
    return markup


def _rows(rows: Any, name: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{name}" must be an Array of Arrays')
    return rows


def _inline_keyboard(rows: Any, *, private: bool) -> None:
    rows = _rows(rows, "inline_keyboard")
    if sum(len(row) for row in rows) > 100 or any(len(row) > 8 for row in rows):
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            _inline_button(button, private=private)


def _inline_button(button: Any, *, private: bool) -> None:
    def invalid(detail: str) -> ApiError:
        return bad_request(f"can't parse inline keyboard button: {detail}")

    if not isinstance(button, dict):
        raise invalid("InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str) or not button["text"].strip():
        raise invalid('field "text" must be a non-empty String')
    if "style" in button and button["style"] not in _BUTTON_STYLES:
        raise invalid('field "style" must be one of "danger", "success", "primary"')
    actions = [name for name in _INLINE_ACTIONS if name in button]
    if not actions:
        raise invalid("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise invalid(f"exactly one button type must be used, got {actions}")
    action, value = actions[0], button[actions[0]]
    if action == "callback_data":
        if not isinstance(value, str) or not 1 <= len(value.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    elif action == "url":
        if not isinstance(value, str) or not _valid_button_url(value, schemes=("http", "https", "tg")):
            raise bad_request("BUTTON_URL_INVALID")
    elif action in ("web_app", "login_url"):
        url = value.get("url") if isinstance(value, dict) else None
        schemes = ("https",) if action == "web_app" else ("http", "https")
        if not isinstance(url, str) or not _valid_button_url(url, schemes=schemes):
            raise bad_request("BUTTON_URL_INVALID")
        if action == "web_app" and not private:
            raise bad_request("BUTTON_TYPE_INVALID")
    elif action in ("switch_inline_query", "switch_inline_query_current_chat"):
        if not isinstance(value, str):
            raise invalid(f'field "{action}" must be of type String')
    elif action == "switch_inline_query_chosen_chat":
        if not isinstance(value, dict):
            raise invalid(f'field "{action}" must be an Object')
    elif action == "copy_text":
        text = value.get("text") if isinstance(value, dict) else None
        if not isinstance(text, str) or not 1 <= len(text) <= 256:
            raise invalid("copy_text.text must have 1-256 characters")
    else:  # pay, callback_game: only valid in sendInvoice/sendGame, which the fake lacks
        raise invalid(f'"{action}" buttons are allowed only in invoice and game messages')


def _valid_button_url(url: str, *, schemes: tuple[str, ...]) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        return False
    return parts.scheme == "tg" or "." in (parts.hostname or "")


def _reply_keyboard(markup: dict[str, Any]) -> None:
    rows = _rows(markup["keyboard"], "keyboard")
    if not any(rows):
        raise bad_request("keyboard must be non-empty")
    if sum(len(row) for row in rows) > 300 or any(len(row) > 12 for row in rows):
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict):
                raise bad_request("can't parse keyboard button: KeyboardButton must be an Object")
            if not isinstance(button.get("text"), str) or not button["text"].strip():
                raise bad_request('can\'t parse keyboard button: field "text" must be a non-empty String')
            requests = [name for name in _REPLY_BUTTON_REQUESTS if name in button]
            if len(requests) > 1:
                raise bad_request(
                    f"can't parse keyboard button: at most one request field allowed, got {requests}"
                )
    _placeholder(markup)


def _placeholder(markup: dict[str, Any]) -> None:
    placeholder = markup.get("input_field_placeholder")
    if placeholder is not None and (not isinstance(placeholder, str) or not 1 <= len(placeholder) <= 64):
        raise bad_request("input field placeholder must have 1-64 characters")


# --- bot settings -------------------------------------------------------------


def language_code(params: Params) -> str:
    """The ``language_code`` parameter: empty or a two-letter ISO 639-1 code."""
    code = params.get_str("language_code") or ""
    if code and not _LANGUAGE_CODE.fullmatch(code):
        raise bad_request("invalid language code specified")
    return code


def bot_commands(value: Any) -> list[dict[str, str]]:
    """Validate setMyCommands' ``commands``: 0-100 BotCommand objects."""
    if not isinstance(value, list):
        raise bad_request("can't parse commands JSON object")
    if len(value) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    commands = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: object expected")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        commands.append({"command": command, "description": description})
    return commands


ScopeKey = tuple[str, int | str | None, int | None]


def command_scope(value: Any) -> ScopeKey:
    """A BotCommandScope reduced to (type, chat_id, user_id); chats are checked by the caller."""
    if value is None:
        return ("default", None, None)
    if not isinstance(value, dict) or value.get("type") not in _SCOPE_TYPES:
        raise bad_request("can't parse BotCommandScope: unsupported type")
    kind = value["type"]
    if kind not in ("chat", "chat_administrators", "chat_member"):
        return (kind, None, None)
    chat_id = value.get("chat_id")
    if not isinstance(chat_id, (int, str)) or isinstance(chat_id, bool):
        raise bad_request("can't parse BotCommandScope: chat_id must be specified")
    if kind != "chat_member":
        return (kind, chat_id, None)
    user_id = value.get("user_id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise bad_request("can't parse BotCommandScope: user_id must be specified")
    return (kind, chat_id, user_id)
