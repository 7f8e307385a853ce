"""Telegram's message limits, and how Telegram counts them (after entity parsing, in UTF-16)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
CALLBACK_ANSWER_LIMIT = 200

_TAG = re.compile(r"<[^>]+>")


def visible_length(html_text: str) -> int:
    """Length Telegram checks: tags removed, entities decoded, counted in UTF-16 code units."""
    plain = html.unescape(_TAG.sub("", html_text))
    return len(plain.encode("utf-16-le")) // 2


def split_text(text: str, size: int) -> list[str]:
    """Plain text in pieces of at most ``size`` characters: cut on the last space of a piece's
    second half where there is one, else hard; no piece starts or ends with the cut's spaces.
    The one splitter of the bot: added information, channel and notes, pages of the story."""
    pieces: list[str] = []
    text = text.strip()
    while len(text) > size:
        cut = text.rfind(" ", size // 2, size)
        cut = cut if cut > 0 else size
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def pack(parts: Sequence[str], limit: int = TEXT_LIMIT, sep: str = "\n\n") -> list[str]:
    """HTML parts (each within ``limit``) joined into as few messages as the limit allows."""
    messages: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{sep}{part}" if current else part
        if current and visible_length(candidate) > limit:
            messages.append(current)
            current = part
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages
