"""/export for admins, and the case sheet for admins and the case's coordinator.

Both go to the requester's private chat only, with protect_content, and are deleted after
coordination.private_view_minutes (through the outbox, so a restart does not forget it).
Every export is recorded in the exports audit table; every case sheet is a "sheet_made" event
of its case.
"""

from __future__ import annotations

import io
from datetime import timedelta
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandObject
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.i18n import N_
from domain.values import LANGUAGE_NAMES, LOCALES
from handlers import sheet as sheet_doc
from handlers.common import send_private
from handlers.coordinator import CoordInput, input_context, staff_only
from handlers.coordinator.keyboards import preview_keyboard
from handlers.settings import Config
from handlers.sheet_keyboards import SheetAskCb, SheetCb
from handlers.stats import parse_period
from services import export as export_service
from storage.casework import CaseView
from storage.outbox import OutboxKind
from storage.repositories import Store

NOT_AVAILABLE = N_("This action is not available.")
NO_CASE = N_("No such case.")
EXPORT_USAGE = N_(
    "Send /export json or /export csv, optionally with months, e.g. /export csv "
    "2026-01 2026-12. Add the word “text” to include free text and names."
)
SHEET_WHO = N_("Only an administrator or the coordinator who took the case can make its sheet.")
UPLOAD_LIMIT = 50 * 1024 * 1024  # what a bot may upload to Telegram
OPEN_PRIVATE = N_("Open a private chat with the bot first (press Start there), then try again.")


def _is_admin(config: Config, user_id: int) -> bool:
    return user_id in config.coordination.admins


async def _schedule_delete(store: Store, config: Config, message: Message, case_id: int | None) -> None:
    at = store.clock() + timedelta(minutes=config.coordination.private_view_minutes)
    await store.outbox.add(
        OutboxKind.DELETE,
        case_id=case_id,
        available_at=at,
        payload={"chat_id": message.chat.id, "message_id": message.message_id},
    )


# --- /export -------------------------------------------------------------------------------------


def parse_export(args: str | None) -> export_service.ExportRequest | None:
    words = (args or "").split()
    with_text = "text" in words
    words = [w for w in words if w != "text"]
    if not words or words[0] not in ("json", "csv"):
        return None
    period = parse_period(" ".join(words[1:]))
    if period is None:
        return None
    return export_service.ExportRequest(
        fmt=words[0], since=period.since, until=period.until, with_text=with_text, actor_kind="admin"
    )


async def cmd_export(
    message: Message, command: CommandObject, bot: Bot, store: Store, config: Config, i18n: I18n
) -> None:
    user = message.from_user
    if user is None or message.chat.type != "private" or not _is_admin(config, user.id):
        await message.answer(_("Only administrators can export, in a private chat with the bot."))
        return
    request = parse_export(command.args)
    if request is None:
        await message.answer(_(EXPORT_USAGE))
        return
    request = export_service.ExportRequest(
        fmt=request.fmt,
        since=request.since,
        until=request.until,
        with_text=request.with_text,
        actor_kind="admin",
        actor_id=user.id,
    )
    buf = io.StringIO()
    count = await export_service.write(
        store.stats, request, buf, lambda msgid, locale: i18n.gettext(msgid, locale=locale), now=store.clock()
    )
    body = buf.getvalue().encode("utf-8")
    if len(body) > UPLOAD_LIMIT:
        await message.answer(
            _(
                "The export is too large to send through Telegram. Ask the "
                "operator to run: python -m bot export"
            )
        )
        return
    name = f"kua-export-{store.clock():%Y%m%d}.{request.fmt}"
    minutes = config.coordination.private_view_minutes
    sent = await bot.send_document(
        message.chat.id,
        BufferedInputFile(body, filename=name),
        caption=_("Export: {count} cases. It will be deleted in {minutes} min.").format(
            count=count, minutes=minutes
        ),
        protect_content=True,
    )
    await _schedule_delete(store, config, sent, None)


# --- the case sheet ------------------------------------------------------------------------------


def _may_make_sheet(config: Config, view: CaseView, user_id: int) -> bool:
    return _is_admin(config, user_id) or view.assignee_id == user_id


def language_keyboard(case_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for locale in LOCALES:
        kb.button(text=LANGUAGE_NAMES[locale], callback_data=SheetCb(case=case_id, lang=locale))
    kb.adjust(3)
    return kb.as_markup()


def ask_keyboard(case_id: int, items: list[sheet_doc.Item]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for item in items:
        kb.button(text="? " + _(item.text)[:60], callback_data=SheetAskCb(case=case_id, item=item.code))
    kb.adjust(1)
    return kb.as_markup()


async def on_sheet(
    query: CallbackQuery, callback_data: SheetCb, bot: Bot, store: Store, config: Config, i18n: I18n
) -> None:
    view = await store.casework.get(callback_data.case)
    if view is None:
        await query.answer(_(NO_CASE))
        return
    user_id = query.from_user.id
    if not _may_make_sheet(config, view, user_id):
        await query.answer(_(SHEET_WHO), show_alert=True)
        return
    if callback_data.lang not in LOCALES:
        asked = await send_private(
            bot,
            user_id,
            _("Case sheet of case #{number}: in which language?").format(number=view.id),
            language_keyboard(view.id),
        )
        if asked is None:
            await query.answer(_(OPEN_PRIVATE), show_alert=True)
            return
        await query.answer()
        return
    files = await store.attachments.for_case(view.id)
    private = await store.casework.private(view.id)
    events = await store.casework.events(view.id)
    consent = await store.stats.share_consent(view.id)
    with i18n.use_locale(callback_data.lang):
        document = sheet_doc.build(view, private, files, events, share_consent=consent, now=store.clock())
    minutes = config.coordination.private_view_minutes
    try:
        sent = await bot.send_document(
            user_id,
            BufferedInputFile(document, filename=f"case-{view.id}-{callback_data.lang}.docx"),
            caption=_("Case sheet of case #{number}. It will be deleted in {minutes} min.").format(
                number=view.id, minutes=minutes
            ),
            protect_content=True,
        )
    except (TelegramForbiddenError, TelegramBadRequest):
        await query.answer(_(OPEN_PRIVATE), show_alert=True)
        return
    await query.answer()
    await store.stats.record_case_event(view.id, user_id, "sheet_made", {"lang": callback_data.lang})
    await _schedule_delete(store, config, sent, view.id)
    lacking = sheet_doc.missing({**view.answers, **private}, files)
    if lacking and view.contactable and not view.unreachable:
        ask = await bot.send_message(
            user_id,
            _(
                "Ask the reporter about what is missing? Each "
                "button prepares a question; you see it "
                "before it is sent."
            ),
            reply_markup=ask_keyboard(view.id, lacking),
        )
        await _schedule_delete(store, config, ask, view.id)


async def on_ask(
    query: CallbackQuery,
    callback_data: SheetAskCb,
    bot: Bot,
    fsm_storage: BaseStorage,
    store: Store,
    config: Config,
    i18n: I18n,
) -> None:
    """The question goes into the existing Reply flow as a preview: Send, Edit or Cancel."""
    view = await store.casework.get(callback_data.case)
    if view is None:
        await query.answer(_(NO_CASE))
        return
    if not _may_make_sheet(config, view, query.from_user.id):
        await query.answer(_(SHEET_WHO), show_alert=True)
        return
    if not view.contactable or view.unreachable:
        await query.answer(_("The reporter cannot receive messages."), show_alert=True)
        return
    files = await store.attachments.for_case(view.id)
    private = await store.casework.private(view.id)
    item = next(
        (i for i in sheet_doc.missing({**view.answers, **private}, files) if i.code == callback_data.item),
        None,
    )
    if item is None:
        await query.answer(_("This button is out of date."))
        return
    # In the reporter's language: it is their question.
    text = i18n.gettext(item.question, locale=view.locale)
    await query.answer()
    head = _("This will be sent to the reporter of case #{number}:").format(number=view.id)
    preview = await bot.send_message(
        query.from_user.id, f"<b>{escape(head)}</b>\n\n{escape(text)}", reply_markup=preview_keyboard(view.id)
    )
    ctx = input_context(bot, fsm_storage, query.from_user.id)
    await ctx.set_state(CoordInput.preview)
    await ctx.set_data({"case": view.id, "text": text, "preview": preview.message_id})


async def refuse(query: CallbackQuery) -> None:
    await query.answer(_(NOT_AVAILABLE))


def make_router() -> Router:
    staff = Router(name="advocacy")
    staff.message.filter(staff_only)
    staff.callback_query.filter(staff_only)
    staff.message.register(cmd_export, Command("export"))
    staff.callback_query.register(on_sheet, SheetCb.filter())
    staff.callback_query.register(on_ask, SheetAskCb.filter())
    # Anyone else pressing these buttons: one neutral answer.
    others = Router(name="advocacy-refusal")
    others.callback_query.register(refuse, F.data.startswith(("sh1:", "sq1:", "st1:")))
    router = Router(name="advocacy-all")
    router.include_routers(staff, others)
    return router
