"""Incoming files: what kind they are, whether they fit, and storing them without metadata.

Every file is cleaned (storage.media.clean) off the event loop before it is stored; a file that
cannot be cleaned is never stored as it came: the reporter is told, and the draft is untouched.
The hash of the bytes as Telegram served them and the time of receipt are kept with the file
(the reporter's evidence receipt).
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from domain.values import AttachmentKind
from handlers.settings import LimitsConfig
from storage.media import ACCEPTED, MediaError, UnsupportedType, clean, sha256_hex
from storage.repositories import Received, Store, StoredFile


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
        o = message.voice
        return Incoming(AttachmentKind.VOICE, o.file_id, o.file_size, o.mime_type, None)
    if message.video:
        v = message.video
        return Incoming(AttachmentKind.VIDEO, v.file_id, v.file_size, v.mime_type, v.file_name)
    if message.video_note:
        n = message.video_note
        return Incoming(AttachmentKind.VIDEO, n.file_id, n.file_size, "video/mp4", None)
    if message.audio:
        a = message.audio
        return Incoming(AttachmentKind.AUDIO, a.file_id, a.file_size, a.mime_type, a.file_name)
    return None


def caption_not_kept(message: Message) -> str | None:
    """What to tell a reporter whose file came with a caption: the report keeps the file only
    (its free text lives in its own, encrypted answer), so they must not think it was saved."""
    if not (message.caption or "").strip():
        return None
    return _(
        "Only the file was saved, not the text you sent with it. If that text matters, "
        "add it to your own account of what happened from the review screen, or tell "
        "the coordinator later."
    )


class FileTooBig(Exception):
    pass


def accepted_types() -> str:
    return ", ".join(t.label for t in ACCEPTED)


def cleaning_wording(limits: LimitsConfig) -> str:
    """What the files step promises: exactly what is removed, and what happens to other types."""
    text = (
        _(
            "Before a file is stored, we remove: from photos (JPEG, PNG, WebP, GIF, TIFF, HEIC) "
            "the place, the camera or phone model and the dates inside them; from PDFs the "
            "author, the program and the dates in the document's properties; from videos and "
            "audio (MP4, MOV, M4A, OGG, MP3) the place, the device and the dates; from Word and "
            "Excel files (DOCX, XLSX) the author, the company and the dates in the file's "
            "properties. Names written in the file itself, or in its comments and tracked "
            "changes, stay."
        )
        + " "
        + _("HEIC photos are stored as JPEG.")
    )
    if limits.allow_other_types:
        return text + " " + _("Files of other types are stored as they came, with nothing removed.")
    return text + " " + _("Files of other types are not accepted.")


def stored_notice(stored: StoredFile) -> str | None:
    """The line a reporter must see about a stored file, if any (a file kept as it came)."""
    if stored.metadata_removed:
        return None
    return _(
        "The file was stored as it came: hidden information in files of this type (such as "
        "the author or the device) could not be removed and may show who made it."
    )


async def save_file(
    bot: Bot,
    store: Store,
    draft_ref: str,
    item: Incoming,
    *,
    max_bytes: int,
    allow_other: bool = False,
) -> StoredFile:
    """Download, clean, encrypt and store. Raises FileTooBig, MediaError or UnsupportedType."""
    if item.size is not None and item.size > max_bytes:
        raise FileTooBig
    buffer = await bot.download(item.file_id)
    if not isinstance(buffer, io.BytesIO):  # aiogram returns None only when given a destination
        raise MediaError("download returned nothing")
    data = buffer.getvalue()
    received = Received(at=store.clock(), sha256=sha256_hex(data), size=len(data))
    if len(data) > max_bytes:
        raise FileTooBig
    # Re-encoding and ffmpeg runs: off the event loop, so other reporters are not held up.
    cleaned = await asyncio.to_thread(
        clean, data, mime_type=item.mime_type, file_name=item.file_name, allow_other=allow_other
    )
    stored_type = cleaned.output_type
    return await store.attachments.add(
        draft_ref,
        kind=item.kind.value,
        mime_type=stored_type.mime_type if stored_type else item.mime_type,
        file_name=item.file_name,
        data=cleaned.data,
        received=received,
        file_type=stored_type.value if stored_type else None,
        received_type=cleaned.type.value if cleaned.type else None,
        metadata_removed=cleaned.metadata_removed,
    )


async def store_or_explain(
    bot: Bot, store: Store, draft_ref: str, item: Incoming, limits: LimitsConfig
) -> tuple[StoredFile | None, str | None]:
    """Store a file; on a problem, the localized reason to tell the user instead."""
    try:
        stored = await save_file(
            bot, store, draft_ref, item, max_bytes=limits.max_file_bytes, allow_other=limits.allow_other_types
        )
        return stored, None
    except (FileTooBig, TelegramBadRequest):  # Telegram refuses getFile over 20 MB
        return None, _(
            "This file is too large: bots can receive files of up to {max_mb} MB. "
            "Please send a smaller file, or tell the coordinator about it later."
        ).format(max_mb=limits.max_file_mb)
    except UnsupportedType:
        return None, _(
            "Files of this type are not accepted: we cannot remove the hidden "
            "information in them that may show who made them. Accepted types: "
            "{types}. You can send a photo or a screenshot of it instead."
        ).format(types=accepted_types())
    except MediaError:
        return None, _("This file could not be read. Please send it again, or in another format.")
