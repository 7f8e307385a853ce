"""Telegram's error kinds, recognised in one place.

The Bot API tells most refusals apart only by their description ("Bad Request: message is not
modified"); these predicates name the kinds the bot acts on, so that a handler or worker asks
`not_modified(exc)` instead of matching words itself. Descriptions are compared in lower case.
"""

from __future__ import annotations

from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError

# Descriptions of a case's topic, or the card its thread replies to, that someone deleted.
_THREAD_GONE = (
    "message thread not found",
    "topic_deleted",
    "topic deleted",
    "message to be replied not found",
    "replied message not found",
    "topic_id_invalid",
)
_EDIT_GONE = ("message to edit not found", *_THREAD_GONE)
_NOT_MODIFIED = ("message is not modified",)
_DELETE_GONE = ("message to delete not found",)
_CHAT_GONE = ("chat not found", "user is deactivated", "peer_id_invalid")


def _says(exc: BaseException, needles: tuple[str, ...]) -> bool:
    if not isinstance(exc, TelegramAPIError):
        return False
    text = (exc.message or "").lower()
    return any(needle in text for needle in needles)


def not_modified(exc: BaseException) -> bool:
    """An edit to what the message already shows (a double tap, a repeated request)."""
    return _says(exc, _NOT_MODIFIED)


def thread_gone(exc: BaseException) -> bool:
    """The topic, or the message a thread replies to, was deleted."""
    return _says(exc, _THREAD_GONE)


def edit_gone(exc: BaseException) -> bool:
    """The message to edit (or its topic) was deleted."""
    return _says(exc, _EDIT_GONE)


def delete_gone(exc: BaseException) -> bool:
    """The message to delete is already gone."""
    return _says(exc, _DELETE_GONE)


def chat_gone(exc: BaseException) -> bool:
    """Telegram knows no such chat for the bot: never started, account deleted."""
    return _says(exc, _CHAT_GONE)


def chat_unreachable(exc: BaseException) -> bool:
    """The bot cannot write to this chat at all: blocked, never started, left, deleted."""
    return isinstance(exc, TelegramForbiddenError) or chat_gone(exc)
