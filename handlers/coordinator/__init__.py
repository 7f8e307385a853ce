"""The coordinators' side: the case card, the queue, and replies to reporters.

Every update is checked for the role (config.coordination.coordinators / admins) and the chat
(the coordinators' group or the coordinator's private chat) by the router's own filter; anyone
else pressing a coordinator button gets one neutral answer, and their messages fall through to
the reporter's handlers (in private) or are ignored (in groups).

Nothing said in the group is ever relayed: a message reaches a reporter only through the
explicit Reply → preview → Send flow in the coordinator's private chat.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandObject, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Config
from domain.card import card_text, full_texts, status_line
from domain.i18n import N_
from domain.values import CaseStatus
from domain.workflow import CloseReason, Referral
from handlers.coordinator.keyboards import (
    PREFIXES,
    CaseAct,
    CaseCb,
    PreviewAct,
    PreviewCb,
    QueueCb,
    StatusCb,
    card_keyboard,
    preview_keyboard,
    queue_keyboard,
    status_keyboard,
)
from handlers.coordinator.views import (
    PAGE_SIZE,
    channel_texts,
    notes_texts,
    pages,
    queue_text,
)
from storage.casework import CaseNotFound, CaseView, InvalidTransition
from storage.outbox import OutboxKind
from storage.repositories import Store

log = logging.getLogger(__name__)

NOT_AVAILABLE = N_("This action is not available.")
STALE = N_("This button is out of date.")
NO_CASE = N_("No such case.")
MAX_MESSAGE = 3500  # characters of a reply or note (the preview must fit in one message)
PHOTO_LIMIT = 10 * 1024 * 1024  # larger photos go as documents
EXTENSIONS = {"photo": "jpg", "voice": "ogg", "video": "mp4", "audio": "mp3"}
DESTINY = "coordinator"  # the coordinator's input is kept apart from any report of theirs


class CoordInput(StatesGroup):
    reply = State()
    note = State()
    preview = State()


# --- who may act ---------------------------------------------------------------------------------

def is_staff(config: Config, user_id: int) -> bool:
    c = config.coordination
    return user_id in c.coordinators or user_id in c.admins


async def staff_only(event: TelegramObject, config: Config) -> bool:
    """A coordinator or admin, in the coordinators' group or their own private chat."""
    user = getattr(event, "from_user", None)
    if user is None or not is_staff(config, user.id):
        return False
    if isinstance(event, Message):
        chat = event.chat
    elif isinstance(event, CallbackQuery) and event.message is not None:
        chat = event.message.chat
    else:
        return False
    if chat.type == "private":
        return chat.id == user.id
    return config.coordination.has_group and chat.id == config.coordination.chat_id


def input_context(bot: Bot, storage: BaseStorage, user_id: int) -> FSMContext:
    return FSMContext(storage=storage, key=StorageKey(bot_id=bot.id, chat_id=user_id,
                                                      user_id=user_id, destiny=DESTINY))


class Awaiting(Filter):
    """The coordinator's private input is in one of these states; passes it on as `pending`."""

    def __init__(self, *states: State) -> None:
        self.states = {s.state for s in states}

    async def __call__(self, event: TelegramObject, bot: Bot,
                       fsm_storage: BaseStorage) -> bool | dict[str, FSMContext]:
        user = getattr(event, "from_user", None)
        if user is None:
            return False
        ctx = input_context(bot, fsm_storage, user.id)
        return {"pending": ctx} if await ctx.get_state() in self.states else False


# --- helpers -------------------------------------------------------------------------------------

async def _card(view: CaseView, store: Store, config: Config) -> tuple[str, InlineKeyboardMarkup]:
    files = await store.attachments.for_case(view.id)
    elsewhere = await store.followup.opened_elsewhere_at(view.id)
    return (card_text(view, file_count=len(files), opened_elsewhere=elsewhere),
            card_keyboard(view, group_shows=config.coordination.group_shows))


def _is_delivered_card(query: CallbackQuery, view: CaseView) -> bool:
    """The card the delivery worker posted (and refreshes itself), not a /case copy."""
    m = query.message
    return (m is not None and view.card_message_id == m.message_id
            and view.group_chat_id == m.chat.id)


async def _show_card(query: CallbackQuery, view: CaseView, store: Store, config: Config) -> None:
    """Bring a /case copy of the card up to date; the delivered card is the worker's to refresh
    (editing it here too would race the worker's edit)."""
    if _is_delivered_card(query, view) or not isinstance(query.message, Message):
        return
    text, markup = await _card(view, store, config)
    await _edit(query.message, text=text, markup=markup)


async def _edit(message: Message, *, text: str | None = None,
                markup: InlineKeyboardMarkup | None = None) -> None:
    try:
        if text is not None:
            await message.edit_text(text, reply_markup=markup)
        else:
            await message.edit_reply_markup(reply_markup=markup)
    except TelegramBadRequest as exc:  # not modified (a double tap) or gone: nothing to do
        log.info("card edit skipped: %s", type(exc).__name__)


def _cancel_markup(case_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Cancel"), callback_data=PreviewCb(act=PreviewAct.CANCEL, case=case_id))
    return kb.as_markup()


async def _private(bot: Bot, user_id: int, text: str,
                   markup: InlineKeyboardMarkup | None = None) -> Message | None:
    """A message to the coordinator's private chat; None if they never opened it."""
    try:
        return await bot.send_message(user_id, text, reply_markup=markup)
    except TelegramForbiddenError:
        return None
    except TelegramBadRequest as exc:
        if "chat not found" in str(exc).lower():
            return None
        raise


async def _no_private_chat(query: CallbackQuery) -> None:
    await query.answer(_("Open a private chat with the bot first (press Start there), then try "
                         "again."), show_alert=True)


# --- /queue and /case ----------------------------------------------------------------------------

async def _queue_page(store: Store, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    views, total = await store.casework.queue(offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    if not views and page > 0:  # the queue shrank since this page was shown
        page = max(0, pages(total) - 1)
        views, total = await store.casework.queue(offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    return queue_text(views, total, page, store.clock()), queue_keyboard(page, pages(total))


async def cmd_queue(message: Message, store: Store) -> None:
    text, markup = await _queue_page(store, 0)
    await message.answer(text, reply_markup=markup)


async def on_queue_page(query: CallbackQuery, callback_data: QueueCb, store: Store) -> None:
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    buttons = [b.callback_data or "" for row in (markup.inline_keyboard if markup else [])
               for b in row]
    if not any(data.startswith(QueueCb.__prefix__ + QueueCb.__separator__) for data in buttons):
        await query.answer(_(STALE))  # only a queue page turns into another page
        return
    await query.answer()
    text, new_markup = await _queue_page(store, max(0, callback_data.page))
    await _edit(message, text=text, markup=new_markup)


async def cmd_case(message: Message, command: CommandObject, store: Store,
                   config: Config) -> None:
    arg = (command.args or "").strip().lstrip("#")
    if not arg:
        await message.answer(_("Send /case and the case number, e.g. /case 12."))
        return
    view = await store.casework.get(int(arg)) if arg.isdigit() and len(arg) < 10 else None
    if view is None:
        await message.answer(_(NO_CASE))
        return
    text, markup = await _card(view, store, config)
    await message.answer(text, reply_markup=markup)


# --- the card's buttons --------------------------------------------------------------------------

async def on_take(query: CallbackQuery, callback_data: CaseCb, store: Store,
                  config: Config) -> None:
    view = await store.casework.get(callback_data.case)
    if view is None:
        await query.answer(_(NO_CASE))
        return
    if view.status not in (CaseStatus.NEW, CaseStatus.CLOSED):
        # Someone took it meanwhile: taking is not a way to grab a colleague's case.
        await query.answer(_("This case is already taken."))
        return
    try:
        view = await store.casework.take(view.id, query.from_user.id)
    except (InvalidTransition, CaseNotFound):
        await query.answer(_("This change is not possible now."))
        return
    await query.answer(_("You have taken case #{number}.").format(number=view.id))
    await _show_card(query, view, store, config)


async def on_open(query: CallbackQuery, callback_data: CaseCb, bot: Bot, store: Store,
                  config: Config) -> None:
    """Full details, files and messages, sent to the pressing coordinator only; deleted later."""
    view = await store.casework.get(callback_data.case)
    if view is None:
        await query.answer(_(NO_CASE))
        return
    files = await store.attachments.for_case(view.id)
    texts = full_texts(view, await store.casework.private(view.id), len(files))
    texts += channel_texts(view.id, await store.casework.channel(view.id))
    texts += notes_texts(view.id, await store.casework.note_texts(view.id))
    user_id = query.from_user.id
    minutes = config.coordination.private_view_minutes
    delete_at = store.clock() + timedelta(minutes=minutes)

    async def sent(message: Message) -> None:
        # Scheduled as soon as it exists: a crash mid-way leaves nothing behind for good.
        await store.outbox.add(OutboxKind.DELETE, case_id=view.id, available_at=delete_at,
                               payload={"chat_id": message.chat.id,
                                        "message_id": message.message_id})

    first = await _private(bot, user_id, texts[0])
    if first is None:
        await _no_private_chat(query)
        return
    await query.answer(_("Sent to you in private."))
    await sent(first)
    for text in texts[1:]:
        await sent(await bot.send_message(user_id, text))
    for number, stored in enumerate(files, start=1):
        data = await store.attachments.content(stored.id)
        name = f"case{view.id}-{number}.{EXTENSIONS.get(stored.kind, 'bin')}"
        caption = _("Case #{number}, file {index} of {count}").format(
            number=view.id, index=number, count=len(files))
        upload = BufferedInputFile(data, filename=name)  # a new upload, never a forward
        message = None
        if stored.kind == "photo" and stored.size <= PHOTO_LIMIT:
            try:
                message = await bot.send_photo(user_id, upload, caption=caption)
            except TelegramBadRequest:  # not acceptable as a photo: the file as it is
                message = None
        if message is None:
            message = await bot.send_document(user_id, upload, caption=caption)
        await sent(message)
    await sent(await bot.send_message(user_id, _(
        "These messages will be deleted in {minutes} min.").format(minutes=minutes)))


async def on_status(query: CallbackQuery, callback_data: CaseCb, store: Store) -> None:
    view = await store.casework.get(callback_data.case)
    if view is None:
        await query.answer(_(NO_CASE))
        return
    if view.status is CaseStatus.CLOSED:
        await query.answer(_(STALE))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _edit(query.message, markup=status_keyboard(view))


async def on_back(query: CallbackQuery, callback_data: CaseCb, store: Store,
                  config: Config) -> None:
    view = await store.casework.get(callback_data.case)
    if view is None:
        await query.answer(_(NO_CASE))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _edit(query.message,
                    markup=card_keyboard(view, group_shows=config.coordination.group_shows))


async def on_status_change(query: CallbackQuery, callback_data: StatusCb, store: Store,
                           config: Config) -> None:
    referral = close_reason = None
    try:
        if callback_data.to is CaseStatus.REFERRED:
            referral = Referral(callback_data.detail)
        elif callback_data.to is CaseStatus.CLOSED:
            close_reason = CloseReason(callback_data.detail)
    except ValueError:
        await query.answer(_(STALE))
        return
    try:
        view = await store.casework.set_status(callback_data.case, callback_data.to,
                                               query.from_user.id, referral=referral,
                                               close_reason=close_reason)
    except CaseNotFound:
        await query.answer(_(NO_CASE))
        return
    except InvalidTransition:
        await query.answer(_("This change is not possible now."))
        return
    await query.answer(_("Status: {status}").format(status=status_line(view)))
    await _show_card(query, view, store, config)


# --- reply to the reporter and internal notes (in the coordinator's private chat) ----------------

async def on_write(query: CallbackQuery, callback_data: CaseCb, bot: Bot,
                   fsm_storage: BaseStorage, store: Store) -> None:
    view = await store.casework.get(callback_data.case)
    if view is None:
        await query.answer(_(NO_CASE))
        return
    reply = callback_data.act is CaseAct.REPLY
    if reply and (not view.contactable or view.unreachable):
        await query.answer(_("The reporter cannot receive messages."), show_alert=True)
        return
    if reply:
        prompt = _("Write your message for the reporter of case #{number}. You will see it "
                   "before it is sent.").format(number=view.id)
    else:
        prompt = _("Write an internal note for case #{number}. Notes stay with the "
                   "coordinators and are never sent to the reporter.").format(number=view.id)
    ctx = input_context(bot, fsm_storage, query.from_user.id)
    await _drop_prompt(bot, query.from_user.id, await ctx.get_data())  # an earlier, unfinished one
    await ctx.clear()
    sent = await _private(bot, query.from_user.id, prompt, _cancel_markup(view.id))
    if sent is None:
        await _no_private_chat(query)
        return
    await ctx.set_state(CoordInput.reply if reply else CoordInput.note)
    await ctx.set_data({"case": view.id, "prompt": sent.message_id})
    await query.answer(_("I have written to you in private."))


async def _drop_prompt(bot: Bot, chat_id: int, data: dict[str, object]) -> None:
    """The prompt's Cancel button has done its job once the text is in (or it is replaced)."""
    for key in ("prompt", "preview"):
        message_id = data.get(key)
        if not isinstance(message_id, int):
            continue
        try:
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                                reply_markup=None)
        except TelegramBadRequest:  # deleted by the coordinator, or already without buttons
            pass


async def on_input_text(message: Message, bot: Bot, pending: FSMContext, store: Store) -> None:
    text = (message.text or "").strip()
    data = await pending.get_data()
    case_id = int(data.get("case", 0))
    if not text or len(text) > MAX_MESSAGE:
        await message.answer(_("Please send a text of up to {limit} characters.").format(
            limit=MAX_MESSAGE))
        return
    await _drop_prompt(bot, message.chat.id, data)
    if await pending.get_state() == CoordInput.note.state:
        try:
            await store.casework.add_note(case_id, message.from_user.id, text)
        except CaseNotFound:
            await pending.clear()
            await message.answer(_(NO_CASE))
            return
        await pending.clear()
        await message.answer(_("The note was added to case #{number}. It stays with the "
                               "coordinators.").format(number=case_id))
        return
    head = _("This will be sent to the reporter of case #{number}:").format(number=case_id)
    preview = await message.answer(f"<b>{escape(head)}</b>\n\n{escape(text)}",
                                   reply_markup=preview_keyboard(case_id))
    await pending.set_state(CoordInput.preview)
    await pending.set_data({"case": case_id, "text": text, "preview": preview.message_id})


async def on_input_other(message: Message) -> None:
    await message.answer(_("Please send the message as text."))


async def on_preview_waiting(message: Message) -> None:
    await message.answer(_("Press Send, Edit or Cancel under the preview."))


async def cmd_cancel_input(message: Message, bot: Bot, pending: FSMContext) -> None:
    await _drop_prompt(bot, message.chat.id, await pending.get_data())
    await pending.clear()
    await message.answer(_("Cancelled. Nothing was sent."))


async def on_preview(query: CallbackQuery, callback_data: PreviewCb, bot: Bot,
                     fsm_storage: BaseStorage, store: Store) -> None:
    ctx = input_context(bot, fsm_storage, query.from_user.id)
    state = await ctx.get_state()
    data = await ctx.get_data()
    act = callback_data.act
    current = (state is not None and state.startswith("CoordInput:")
               and data.get("case") == callback_data.case)
    message = query.message if isinstance(query.message, Message) else None
    # Send and Edit only on the preview now pending (an older preview shows another text).
    if not current or (act is not PreviewAct.CANCEL and (
            state != CoordInput.preview.state or message is None
            or message.message_id != data.get("preview"))):
        await query.answer(_(STALE))
        return
    if act is PreviewAct.CANCEL:
        await ctx.clear()
        await query.answer()
        if message:
            await _edit(message, text=_("Cancelled. Nothing was sent."))
        return
    if act is PreviewAct.EDIT:
        await ctx.set_state(CoordInput.reply)
        await ctx.set_data({"case": callback_data.case,
                            "prompt": message.message_id if message else None})
        await query.answer()
        if message:
            await _edit(message, text=_("Write the new message for the reporter of case "
                                        "#{number}.").format(number=callback_data.case),
                        markup=_cancel_markup(callback_data.case))
        return
    view = await store.casework.get(callback_data.case)
    if view is None or not view.contactable or view.unreachable:
        await ctx.clear()
        await query.answer(_("The reporter cannot receive messages."), show_alert=True)
        return
    await store.casework.message_to_reporter(view.id, query.from_user.id, str(data["text"]))
    await ctx.clear()
    await query.answer(_("Sent."))
    if message:
        # The text itself does not stay on the coordinator's screen.
        await _edit(message, text=_("Your message was sent to the reporter of case #{number}. "
                                    "They get a notification without its content.").format(
                                        number=view.id))


# --- everyone else -------------------------------------------------------------------------------

async def stale_button(query: CallbackQuery) -> None:
    await query.answer(_(STALE))


async def refuse(query: CallbackQuery) -> None:
    """Not a coordinator (or not in their chats): one neutral line, nothing about any case."""
    await query.answer(_(NOT_AVAILABLE))


def make_router() -> Router:
    """A fresh router (the app can be built more than once per process, e.g. in tests)."""
    staff = Router(name="coordinator")
    staff.message.filter(staff_only)
    staff.callback_query.filter(staff_only)
    staff.message.register(cmd_queue, Command("queue"))
    staff.message.register(cmd_case, Command("case"))
    # Forged numbers beyond any case or page (and beyond the database's integers): stale.
    staff.callback_query.register(stale_button, F.data.startswith(PREFIXES),
                                  F.data.regexp(r"\d{10}", mode="search"))
    staff.callback_query.register(on_queue_page, QueueCb.filter())
    staff.callback_query.register(on_take, CaseCb.filter(F.act == CaseAct.TAKE))
    staff.callback_query.register(on_open, CaseCb.filter(F.act == CaseAct.OPEN))
    staff.callback_query.register(on_status, CaseCb.filter(F.act == CaseAct.STATUS))
    staff.callback_query.register(on_back, CaseCb.filter(F.act == CaseAct.BACK))
    staff.callback_query.register(on_write, CaseCb.filter(F.act.in_({CaseAct.REPLY,
                                                                      CaseAct.NOTE})))
    staff.callback_query.register(on_status_change, StatusCb.filter())
    staff.callback_query.register(on_preview, PreviewCb.filter())
    staff.callback_query.register(stale_button, F.data.startswith(PREFIXES))

    # The coordinator's private input; commands other than /cancel pass on to other handlers.
    private = F.chat.type == "private"
    writing = Awaiting(CoordInput.reply, CoordInput.note)
    staff.message.register(cmd_cancel_input, private, Command("cancel"),
                           Awaiting(CoordInput.reply, CoordInput.note, CoordInput.preview))
    not_command = ~F.text.startswith("/")
    staff.message.register(on_input_text, private, writing, F.text, not_command)
    staff.message.register(on_input_other, private, writing, not_command)
    staff.message.register(on_preview_waiting, private, Awaiting(CoordInput.preview),
                           not_command)

    others = Router(name="coordinator-refusal")
    others.callback_query.register(refuse, F.data.startswith(PREFIXES))

    router = Router(name="coordination")
    router.include_routers(staff, others)
    return router
