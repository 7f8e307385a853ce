"""Incoming files: what kind they are, whether they fit, and storing them without metadata."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from domain.values import AttachmentKind
from storage.media import MediaError, strip_metadata
from bot.config import LimitsConfig
from storage.repositories import StoredFile, Store


@dataclass(frozen=True)
class Incoming:
    kind: AttachmentKind
    file_id: str
    size: int | None
    mime_type: str | None
    file_name: str | None


def incoming_file(message: Message) -> Incoming | None:
    """The file carried by a message, if it is a kind we accept (stickers and GIFs are not)."""
    if message.photo:
        p = message.photo[-1]  # the largest size
        return Incoming(AttachmentKind.PHOTO, p.file_id, p.file_size, "image/jpeg", None)
    if message.document:
        d = message.document
        return Incoming(AttachmentKind.DOCUMENT, d.file_id, d.file_size, d.mime_type, d.file_name)
    if message.voice:
        v = message.voice
        return Incoming(AttachmentKind.VOICE, v.file_id, v.file_size, v.mime_type, None)
    if message.video:
        v = message.video
        return Incoming(AttachmentKind.VIDEO, v.file_id, v.file_size, v.mime_type, v.file_name)
    if message.video_note:
        v = message.video_note
        return Incoming(AttachmentKind.VIDEO, v.file_id, v.file_size, "video/mp4", None)
    if message.audio:
        a = message.audio
        return Incoming(AttachmentKind.AUDIO, a.file_id, a.file_size, a.mime_type, a.file_name)
    return None


def caption_not_kept(message: Message) -> str | None:
    """What to tell a reporter whose file came with a caption: the report keeps the file only
    (its free text lives in its own, encrypted answer), so they must not think it was saved."""
    if not (message.caption or "").strip():
        return None
    return _("Only the file was saved, not the text you sent with it. If that text matters, "
             "add it to your own account of what happened from the review screen, or tell "
             "the coordinator later.")


class FileTooBig(Exception):
    pass


async def save_file(
    bot: Bot, store: Store, draft_ref: str, item: Incoming, *, max_bytes: int
) -> StoredFile:
    """Download, strip image metadata, encrypt and store. Raises FileTooBig or MediaError."""
    if item.size is not None and item.size > max_bytes:
        raise FileTooBig
    buffer = await bot.download(item.file_id)
    if buffer is None:  # aiogram returns None only when given a destination
        raise MediaError("download returned nothing")
    data = buffer.getvalue()
    if len(data) > max_bytes:
        raise FileTooBig
    # CPU-bound re-encoding: off the event loop, so other reporters are not held up.
    clean = await asyncio.to_thread(strip_metadata, data, mime_type=item.mime_type,
                                    file_name=item.file_name)
    return await store.attachments.add(
        draft_ref, kind=item.kind.value, mime_type=item.mime_type, file_name=item.file_name,
        data=clean,
    )


async def store_or_explain(
    bot: Bot, store: Store, draft_ref: str, item: Incoming, limits: LimitsConfig
) -> tuple[StoredFile | None, str | None]:
    """Store a file; on a problem, the localized reason to tell the user instead."""
    try:
        return await save_file(bot, store, draft_ref, item, max_bytes=limits.max_file_bytes), None
    except (FileTooBig, TelegramBadRequest):  # Telegram refuses getFile over 20 MB
        return None, _("This file is too large: bots can receive files of up to {max_mb} MB. "
                       "Please send a smaller file, or tell the coordinator about it later."
                       ).format(max_mb=limits.max_file_mb)
    except MediaError:
        return None, _("This file could not be read. Please send it again, or in another "
                       "format.")
