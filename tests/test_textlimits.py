"""One text splitter and one packer for Telegram's limits; one place for Telegram's error kinds."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.methods import SendMessage

from domain.textlimits import pack, split_text, visible_length
from handlers import telegram_errors


def test_split_cuts_on_spaces_and_loses_no_word() -> None:
    text = " ".join(f"w{i}" for i in range(3000))
    pieces = split_text(text, 1000)
    assert all(len(p) <= 1000 and p == p.strip() for p in pieces)
    assert " ".join(pieces) == text
    assert split_text("x" * 2500, 1000) == ["x" * 1000, "x" * 1000, "x" * 500]  # no space: hard
    assert split_text("   ", 10) == [] and split_text(" short ", 10) == ["short"]


def test_pack_fills_messages_up_to_the_limit() -> None:
    parts = ["<b>a</b>" + "x" * 40, "y" * 40, "z" * 40]
    packed = pack(parts, limit=90)
    assert packed == [parts[0] + "\n\n" + parts[1], parts[2]]
    assert all(visible_length(m) <= 90 for m in packed)


def _bad(description: str) -> TelegramBadRequest:
    return TelegramBadRequest(SendMessage(chat_id=1, text="t"), description)


def test_error_kinds_are_told_apart() -> None:
    assert telegram_errors.not_modified(_bad("Bad Request: message is not modified: specified new ..."))
    assert telegram_errors.thread_gone(_bad("Bad Request: message thread not found"))
    assert telegram_errors.edit_gone(_bad("Bad Request: message to edit not found"))
    assert not telegram_errors.thread_gone(_bad("Bad Request: message to edit not found"))
    assert telegram_errors.delete_gone(_bad("Bad Request: message to delete not found"))
    assert telegram_errors.chat_unreachable(_bad("Bad Request: chat not found"))
    blocked = TelegramForbiddenError(
        SendMessage(chat_id=1, text="t"), "Forbidden: bot was blocked by the user"
    )
    assert telegram_errors.chat_unreachable(blocked) and not telegram_errors.chat_gone(blocked)
    assert not telegram_errors.not_modified(ValueError("message is not modified"))
    assert not telegram_errors.chat_unreachable(_bad("Bad Request: message is too long"))
