"""Evidence: the reporter's receipt, the coordinators' per-file record and custody trail, and
sending stored files to coordinators.

Files go to coordinators as new uploads of the stored (cleaned) bytes, under their original
names, with ``protect_content`` (no forwarding or saving from the bot's chat) and, for pictures
and videos, ``has_spoiler`` (blurred until tapped: nobody is confronted with injuries unasked).
Every file sent is a custody event with the SHA-256 of exactly the bytes sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from enum import StrEnum
from html import escape
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_datetime

from domain.i18n import N_
from handlers import window
from handlers.telegram_errors import thread_gone
from storage.casework import CaseView
from storage.custody import CustodyEvent, CustodyKind
from storage.media import FileType, delivery_name
from storage.repositories import FileRecord, Store

log = logging.getLogger(__name__)

PHOTO_LIMIT = 10 * 1024 * 1024  # sendPhoto takes up to 10 MB; larger pictures go as documents
_AS_PHOTO = frozenset({FileType.JPEG.value, FileType.PNG.value, FileType.WEBP.value})
KIND_LABELS = {
    "photo": N_("photo"),
    "document": N_("document"),
    "voice": N_("voice message"),
    "video": N_("video"),
    "audio": N_("audio"),
}


# --- the reporter's receipt ------------------------------------------------------------------


class ReceiptAct(StrEnum):
    SHOW = "show"
    REMOVE = "remove"


class ReceiptCb(CallbackData, prefix="rc1"):
    act: ReceiptAct
    case: int = 0


def receipt_button(builder: InlineKeyboardBuilder, case_id: int) -> None:
    """The button on the reporter's case screen (only for cases with files)."""
    builder.button(
        text="🧾 " + _("Evidence receipt"), callback_data=ReceiptCb(act=ReceiptAct.SHOW, case=case_id)
    )


def _utc(at: datetime | None, locale: str) -> str:
    if at is None:
        return "—"
    return format_datetime(at, "d MMMM y, HH:mm:ss", tzinfo=None, locale=locale) + " UTC"


def receipt_text(view: CaseView, records: Sequence[FileRecord], locale: str) -> str:
    """Per file: the time of receipt and the SHA-256 of the bytes as Telegram served them."""
    lines = [
        "<b>" + escape(_("Evidence receipt · case #{number}").format(number=view.id)) + "</b>",
        escape(
            _(
                "The files of this report as the bot received them from Telegram: the time "
                "of receipt (UTC) and each file's SHA-256 fingerprint. A lawyer can attach "
                "this to a complaint to show that a file was not changed after it reached "
                "the organisation. Telegram compresses photos sent as photos; send a file "
                "to keep the original. The copy kept has hidden data removed, so its own "
                "fingerprint is different; both are recorded."
            )
        ),
    ]
    for r in records:
        lines.append(
            "<b>"
            + escape(
                _("File {index}: {kind}").format(index=r.number, kind=_(KIND_LABELS.get(r.kind, r.kind)))
            )
            + "</b>\n"
            + escape(_("Received: {when}").format(when=_utc(r.received_at, locale)))
            + "\nSHA-256: <code>"
            + escape(r.sha256_received or "—")
            + "</code>"
        )
    if not records:
        lines.append(escape(_("This report has no files.")))
    return "\n\n".join(lines)


def receipt_keyboard(case_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text="🗑 " + _("Remove this receipt"), callback_data=ReceiptCb(act=ReceiptAct.REMOVE, case=case_id)
    )
    return kb.as_markup()


# A report's screen (handlers.followup.show_case), given to make_router: follow-up shows this
# module's receipt button, so this module does not import follow-up back.
ShowCase = Callable[[Bot, int, FSMContext, CaseView, Store, I18n], Awaitable[None]]


async def on_receipt(
    query: CallbackQuery,
    callback_data: ReceiptCb,
    bot: Bot,
    store: Store,
    state: FSMContext,
    i18n: I18n,
    back_to_case: ShowCase,
) -> None:
    message = query.message
    key = store.cases.reporter_key(query.from_user.id)
    view = next((v for v in await store.casework.cases_of(key) if v.id == callback_data.case), None)
    if callback_data.act is ReceiptAct.REMOVE:
        await query.answer()
        if isinstance(message, Message):
            await _remove(message)
            if (await state.get_data()).get(window.UI_KEY) == message.message_id:
                # The receipt was shown in the window, now deleted: the next screen is a new one.
                await state.update_data({window.UI_KEY: None})
            if view is not None:  # back to the report's screen the receipt was opened from
                await back_to_case(bot, message.chat.id, state, view, store, i18n)
        return
    if view is None or not isinstance(message, Message):
        await query.answer(_("This button is out of date."))
        return
    await query.answer()
    records = await store.attachments.records(view.id)
    try:  # shown in the window it was asked from
        await message.edit_text(
            receipt_text(view, records, i18n.current_locale), reply_markup=receipt_keyboard(view.id)
        )
    except TelegramBadRequest as exc:  # not modified (a double tap)
        log.info("receipt not shown: %s", type(exc).__name__)


async def _remove(message: Message) -> None:
    try:
        await message.delete()
    except TelegramBadRequest:  # past Telegram's 48 hours: leave one neutral word instead
        try:
            await message.edit_text(escape(_("Removed.")), reply_markup=None)
        except TelegramBadRequest as exc:
            log.info("receipt not removed: %s", type(exc).__name__)


def make_router(back_to_case: ShowCase) -> Router:
    async def receipt(
        query: CallbackQuery, callback_data: ReceiptCb, bot: Bot, store: Store, state: FSMContext, i18n: I18n
    ) -> None:
        await on_receipt(query, callback_data, bot, store, state, i18n, back_to_case)

    router = Router(name="evidence")
    router.callback_query.register(receipt, ReceiptCb.filter())
    return router


# --- the coordinators' record ----------------------------------------------------------------


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(size: int | None) -> str:
    if size is None:
        return "—"
    if size < 1024 * 1024:
        return _("{size} KB").format(size=max(1, round(size / 1024)))
    return _("{size} MB").format(size=f"{size / 1024 / 1024:.1f}")


def _who(actor_id: int | None) -> str:
    if actor_id is None:
        return _("the coordinators' group")
    return _("coordinator {id}").format(id=actor_id)


def _type_label(r: FileRecord) -> str:
    def label(value: str | None) -> str | None:
        return FileType(value).label if value is not None and value in FileType._value2member_map_ else None

    stored, received = label(r.file_type), label(r.received_type)
    if stored is None:
        return _("other")
    return f"{received} → {stored}" if received and received != stored else stored


def record_text(case_id: int, records: Sequence[FileRecord], trail: Sequence[CustodyEvent]) -> str:
    """Every file's integrity record and every access to the full content, for coordinators."""
    parts = ["<b>" + escape(_("Evidence record of case #{number}").format(number=case_id)) + "</b>"]
    for r in records:
        head = _("File {index}: {kind}").format(index=r.number, kind=_(KIND_LABELS.get(r.kind, r.kind)))
        details = [escape(head) + (f" · {escape(r.name)}" if r.name else "")]
        details.append(
            escape(
                _("Type: {type}, received {size}, stored {stored}").format(
                    type=_type_label(r), size=_size(r.size_received), stored=_size(r.size)
                )
            )
        )
        if r.metadata_removed is False:
            details.append("⚠ <b>" + escape(_("Metadata not removed: stored as it came.")) + "</b>")
        elif r.metadata_removed:
            details.append(escape(_("Metadata removed before storing.")))
        details.append(
            escape(_("Received: {when}").format(when=_when(r.received_at) if r.received_at else "—"))
        )
        details.append(escape(_("SHA-256 as received:")) + f" <code>{r.sha256_received or '—'}</code>")
        details.append(escape(_("SHA-256 as stored:")) + f" <code>{r.sha256_stored or '—'}</code>")
        parts.append("\n".join(details))
    if not records:
        parts.append(escape(_("No files.")))
    access = [escape(_("Access to the full content:"))]
    for e in trail:
        if e.kind is CustodyKind.OPENED_FULL and e.actor_id is None:
            line = _("{when}: posted in full in the coordinators' group")
        elif e.kind is CustodyKind.OPENED_FULL:
            line = _("{when}: opened by {who}")
        elif e.kind is CustodyKind.FILE_SENT:
            line = _("{when}: file {index} sent to {who}")
        else:
            line = _("{when}: exported by {who}")
        access.append(
            "• "
            + escape(line.format(when=_when(e.at), who=_who(e.actor_id), index=e.data.get("number", "?")))
        )
    parts.append("\n".join(access))
    return _fit("\n\n".join(parts))


def _fit(text: str, limit: int = 4000) -> str:
    """Keep within one message: the oldest access lines give way first (all stay stored)."""
    if len(text) <= limit:
        return text
    head, _sep, tail = text.rpartition("\n\n")
    lines = tail.split("\n")
    while len(head) + 2 + len("\n".join(lines)) > limit and len(lines) > 2:
        lines.pop(1)
    return f"{head}\n\n" + "\n".join(lines)


# --- sending files to coordinators -------------------------------------------------------------


async def send_file(
    bot: Bot,
    chat_id: int,
    case_id: int,
    record: FileRecord,
    data: bytes,
    caption: str,
    *,
    protect: bool = True,
    **extra: Any,
) -> Message:
    """One stored file, uploaded anew: pictures and MP4 videos blurred, the rest as documents.

    A refusal of the photo or video form falls back to a document; a refusal because the
    thread or topic is gone (handlers.telegram_errors.thread_gone) is raised for the caller."""
    name = delivery_name(record.name, record.file_type, record.kind, f"case{case_id}-{record.number}")
    upload = BufferedInputFile(data, filename=name)  # a new upload, never a forward
    common: dict[str, Any] = {"caption": caption, "protect_content": protect, **extra}
    picture = record.file_type in _AS_PHOTO or (record.file_type is None and record.kind == "photo")
    try:
        if picture and record.size <= PHOTO_LIMIT:
            return await bot.send_photo(chat_id, upload, has_spoiler=True, **common)
        if record.file_type == FileType.MP4.value:
            return await bot.send_video(chat_id, upload, has_spoiler=True, supports_streaming=True, **common)
    except TelegramBadRequest as exc:
        if thread_gone(exc):
            raise  # the place is gone, not the format: the caller handles it
        # Not acceptable as a photo or video (dimensions, codec): the file as it is.
    return await bot.send_document(chat_id, upload, **common)


async def send_case_files(
    bot: Bot,
    store: Store,
    chat_id: int,
    case_id: int,
    actor_id: int,
    sent: Callable[[Message], Awaitable[None]],
) -> int:
    """All of a case's files to a coordinator's private chat, each a custody event."""
    records = await store.attachments.records(case_id, with_names=True)
    for record in records:
        data = await store.attachments.content(record.id)
        caption = _("Case #{number}, file {index} of {count}").format(
            number=case_id, index=record.number, count=len(records)
        )
        message = await send_file(bot, chat_id, case_id, record, data, caption)
        await store.custody.file_sent(
            case_id, file_id=record.id, number=record.number, data=data, to="private", actor_id=actor_id
        )
        await sent(message)
    return len(records)
