"""The coordinators' side: the case card, the queue, and replies to reporters.

Every update is checked for the role (config.coordination.coordinators / admins) and the chat
(the coordinators' group or the coordinator's private chat) by the router's own filter; anyone
else pressing a coordinator button gets one neutral answer, and their messages fall through to
the reporter's handlers (in private) or are ignored (in groups).

Nothing said in the group is ever relayed: a message reaches a reporter only through the
explicit Reply → preview → Send flow in the coordinator's private chat.

A team works the queue: Take is atomic (storage decides, with one conditional UPDATE, and the
loser is told who has the case, by the name Telegram gives the bot); the status and hand-over
menus are new messages under the card that belong to the coordinator who opened them (others'
presses are refused), so the shared card's buttons never change under anyone's finger; closing
asks for confirmation. What a coordinator types is deleted from their chat once stored.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from html import escape
from typing import Any

from aiogram import BaseMiddleware, Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.i18n import N_
from domain.values import CaseStatus
from domain.workflow import (
    CLOSE_LABELS,
    CloseReason,
    QueueFilter,
    Referral,
    can_move,
    needs_confirmation,
    spam_block_for,
)
from handlers.common import send_private, sender_of
from handlers.coordinator.card import card_text, full_texts, status_line
from handlers.coordinator.keyboards import (
    MENU_PREFIXES,
    PREFIXES,
    CaseAct,
    CaseCb,
    ConfirmCb,
    HandCb,
    HistCb,
    MenuAct,
    MenuCb,
    PreviewAct,
    PreviewCb,
    QueueCb,
    QueuePick,
    StatusCb,
    card_keyboard,
    confirm_keyboard,
    handover_keyboard,
    history_keyboard,
    menu_cancel_keyboard,
    preview_keyboard,
    queue_keyboard,
    queue_pick_keyboard,
    status_keyboard,
)
from handlers.coordinator.names import CoordinatorNames
from handlers.coordinator.views import (
    PAGE_SIZE,
    channel_texts,
    history_pages,
    notes_texts,
    queue_text,
)
from handlers.evidence import record_text, send_case_files
from handlers.settings import Config
from storage.casework import AlreadyTaken, CaseNotFound, CaseView, InvalidTransition, NotOwner
from storage.custody import CustodyKind
from storage.outbox import OutboxKind
from storage.repositories import Store

log = logging.getLogger(__name__)

NOT_AVAILABLE = N_("This action is not available.")
STALE = N_("This button is out of date.")
NO_CASE = N_("No such case.")
MAX_MESSAGE = 3500  # characters of a reply or note (the preview must fit in one message)
DESTINY = "coordinator"  # the coordinator's input is kept apart from any report of theirs
MENU_DESTINY = "coordinator-menus"  # the menus each coordinator opened (theirs alone to press)
MENUS_KEPT = 20


class CoordInput(StatesGroup):
    reply = State()
    note = State()
    preview = State()
    duplicate = State()  # the number of the case this one duplicates


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
    return FSMContext(
        storage=storage, key=StorageKey(bot_id=bot.id, chat_id=user_id, user_id=user_id, destiny=DESTINY)
    )


class Awaiting(Filter):
    """The coordinator's private input is in one of these states; passes it on as `pending`."""

    def __init__(self, *states: State) -> None:
        self.states = {s.state for s in states}

    async def __call__(
        self, event: TelegramObject, bot: Bot, fsm_storage: BaseStorage
    ) -> bool | dict[str, FSMContext]:
        user = getattr(event, "from_user", None)
        if user is None:
            return False
        ctx = input_context(bot, fsm_storage, user.id)
        return {"pending": ctx} if await ctx.get_state() in self.states else False


# --- helpers -------------------------------------------------------------------------------------


async def _card(
    view: CaseView, store: Store, config: Config, bot: Bot, names: CoordinatorNames
) -> tuple[str, InlineKeyboardMarkup]:
    files, messages = await store.casework.counts(view.id)
    owner = await names.name(bot, view.assignee_id) if view.assignee_id else None
    elsewhere = await store.followup.opened_elsewhere_at(view.id)
    return (
        card_text(
            view, file_count=files, message_count=messages, assignee_name=owner, opened_elsewhere=elsewhere
        ),
        card_keyboard(view, group_shows=config.coordination.group_shows),
    )


def _is_delivered_card(query: CallbackQuery, view: CaseView) -> bool:
    """The card the delivery worker posted (and refreshes itself), not a /case copy."""
    m = query.message
    return m is not None and view.card_message_id == m.message_id and view.group_chat_id == m.chat.id


async def _show_card(
    query: CallbackQuery, view: CaseView, store: Store, config: Config, bot: Bot, names: CoordinatorNames
) -> None:
    """Bring a /case copy of the card up to date; the delivered card is the worker's to refresh
    (editing it here too would race the worker's edit)."""
    if _is_delivered_card(query, view) or not isinstance(query.message, Message):
        return
    text, markup = await _card(view, store, config, bot, names)
    await _edit(query.message, text=text, markup=markup)


async def _edit(
    message: Message, *, text: str | None = None, markup: InlineKeyboardMarkup | None = None
) -> None:
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


async def _no_private_chat(query: CallbackQuery) -> None:
    await query.answer(
        _("Open a private chat with the bot first (press Start there), then try again."), show_alert=True
    )


# --- /queue, /mine and /case --------------------------------------------------------------------


async def _queue_page(
    store: Store, f: QueueFilter, user_id: int, after: int, shown: int
) -> tuple[str, InlineKeyboardMarkup]:
    views, total, more = await store.casework.queue(
        f, coordinator_id=user_id, after=after or None, limit=PAGE_SIZE
    )
    if not views and after:  # the queue shrank since this page was shown: the first page
        shown = 0
        views, total, more = await store.casework.queue(f, coordinator_id=user_id, limit=PAGE_SIZE)
    last = views[-1].id if views else None
    return (
        queue_text(views, total, shown, store.clock(), f),
        queue_keyboard(f, last, shown, shown + len(views), more),
    )


async def cmd_queue(message: Message, store: Store) -> None:
    if message.from_user is None:  # a channel post: nobody to show a queue to
        return
    text, markup = await _queue_page(store, QueueFilter(), message.from_user.id, 0, 0)
    await message.answer(text, reply_markup=markup)


async def cmd_mine(message: Message, store: Store) -> None:
    if message.from_user is None:  # a channel post: nobody to show a queue to
        return
    text, markup = await _queue_page(store, QueueFilter(mine=True), message.from_user.id, 0, 0)
    await message.answer(text, reply_markup=markup)


def _is_queue_message(query: CallbackQuery) -> bool:
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    buttons = [b.callback_data or "" for row in (markup.inline_keyboard if markup else []) for b in row]
    prefixes = (QueueCb.__prefix__ + QueueCb.__separator__, QueuePick.__prefix__ + QueuePick.__separator__)
    return any(data.startswith(prefixes) for data in buttons)


async def on_queue_page(query: CallbackQuery, callback_data: QueueCb, store: Store) -> None:
    if not _is_queue_message(query):
        await query.answer(_(STALE))  # only a queue page turns into another page
        return
    try:
        f = QueueFilter.parse(callback_data.f)
    except ValueError:
        await query.answer(_(STALE))
        return
    await query.answer()
    text, markup = await _queue_page(
        store,
        f,
        query.from_user.id,
        max(0, callback_data.after),
        max(0, callback_data.n) if callback_data.after else 0,
    )
    if isinstance(query.message, Message):
        await _edit(query.message, text=text, markup=markup)


async def on_queue_pick(query: CallbackQuery, callback_data: QueuePick) -> None:
    if not _is_queue_message(query) or callback_data.what not in ("s", "r", "k"):
        await query.answer(_(STALE))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _edit(query.message, markup=queue_pick_keyboard(callback_data.what))


async def _history_page(
    store: Store, bot: Bot, names: CoordinatorNames, config: Config, case_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    entries = await store.casework.history(case_id, with_texts=config.coordination.group_shows == "full")
    ids = [e.actor_id for e in entries if e.actor_id is not None]
    ids += [int(e.data["to"]) for e in entries if e.kind == "handover" and isinstance(e.data.get("to"), int)]
    texts = history_pages(case_id, entries, await names.names(bot, ids))
    page = min(max(0, page), len(texts) - 1)
    return texts[page], history_keyboard(case_id, page, len(texts))


async def cmd_case(
    message: Message, command: CommandObject, bot: Bot, store: Store, config: Config, names: CoordinatorNames
) -> None:
    arg = (command.args or "").strip().lstrip("#")
    if not arg:
        await message.answer(_("Send /case and the case number, e.g. /case 12."))
        return
    view = await store.casework.get(int(arg)) if arg.isdigit() and len(arg) < 10 else None
    if view is None:
        await message.answer(_(NO_CASE))
        return
    text, markup = await _card(view, store, config, bot, names)
    await message.answer(text, reply_markup=markup)
    history, more = await _history_page(store, bot, names, config, view.id, 0)
    await message.answer(history, reply_markup=more)


async def on_history(
    query: CallbackQuery,
    callback_data: CaseCb,
    view: CaseView,
    bot: Bot,
    store: Store,
    config: Config,
    names: CoordinatorNames,
) -> None:
    """The timeline, as a new message next to the card (the card stays as it is)."""
    if not isinstance(query.message, Message):
        await query.answer(_(NO_CASE))
        return
    await query.answer()
    text, markup = await _history_page(store, bot, names, config, view.id, 0)
    await query.message.reply(text, reply_markup=markup)


async def on_history_page(
    query: CallbackQuery,
    callback_data: HistCb,
    view: CaseView,
    bot: Bot,
    store: Store,
    config: Config,
    names: CoordinatorNames,
) -> None:
    await query.answer()
    text, markup = await _history_page(store, bot, names, config, view.id, callback_data.page)
    if isinstance(query.message, Message):
        await _edit(query.message, text=text, markup=markup)


# --- the card's buttons --------------------------------------------------------------------------


async def _taken_by(
    query: CallbackQuery, bot: Bot, names: CoordinatorNames, case_id: int, owner: int | None
) -> None:
    if owner is None:
        await query.answer(_("This change is not possible now."))
    elif owner == query.from_user.id:
        await query.answer(_("Case #{number} is already yours.").format(number=case_id))
    else:
        await query.answer(
            _("Case #{number} is already taken by {name}.").format(
                number=case_id, name=await names.name(bot, owner)
            ),
            show_alert=True,
        )


async def on_take(
    query: CallbackQuery,
    callback_data: CaseCb,
    bot: Bot,
    store: Store,
    config: Config,
    names: CoordinatorNames,
) -> None:
    try:
        view = await store.casework.take(callback_data.case, query.from_user.id)
    except CaseNotFound:
        await query.answer(_(NO_CASE))
        return
    except AlreadyTaken as taken:
        await _taken_by(query, bot, names, callback_data.case, taken.assignee_id)
        return
    await query.answer(_("You have taken case #{number}.").format(number=view.id))
    await _show_card(query, view, store, config, bot, names)


async def on_open(
    query: CallbackQuery, callback_data: CaseCb, view: CaseView, bot: Bot, store: Store, config: Config
) -> None:
    """Full details, files and messages, sent to the pressing coordinator only; deleted later."""
    files = await store.attachments.for_case(view.id)
    texts = full_texts(view, await store.casework.private(view.id), len(files))
    texts += channel_texts(view.id, await store.casework.channel(view.id))
    texts += notes_texts(view.id, await store.casework.note_texts(view.id))
    user_id = query.from_user.id
    minutes = config.coordination.private_view_minutes
    delete_at = store.clock() + timedelta(minutes=minutes)

    async def sent(message: Message) -> None:
        # Scheduled as soon as it exists: a crash mid-way leaves nothing behind for good.
        await store.outbox.add(
            OutboxKind.DELETE,
            case_id=view.id,
            available_at=delete_at,
            payload={"chat_id": message.chat.id, "message_id": message.message_id},
        )

    first = await send_private(bot, user_id, texts[0])
    if first is None:
        await _no_private_chat(query)
        return
    await query.answer(_("Sent to you in private."))
    await sent(first)
    await store.custody.record(view.id, CustodyKind.OPENED_FULL, actor_id=user_id)
    for text in texts[1:]:
        await sent(await bot.send_message(user_id, text))
    await send_case_files(bot, store, user_id, view.id, user_id, sent)
    await sent(
        await bot.send_message(
            user_id,
            record_text(
                view.id,
                await store.attachments.records(view.id, with_names=True),
                await store.custody.trail(view.id),
            ),
        )
    )
    await sent(
        await bot.send_message(
            user_id, _("These messages will be deleted in {minutes} min.").format(minutes=minutes)
        )
    )


# --- menus that belong to the coordinator who opened them ---------------------------------------


def menu_context(bot: Bot, storage: BaseStorage, user_id: int) -> FSMContext:
    return FSMContext(
        storage=storage, key=StorageKey(bot_id=bot.id, chat_id=user_id, user_id=user_id, destiny=MENU_DESTINY)
    )


async def _own_menu(bot: Bot, storage: BaseStorage, user_id: int, menu: Message, card: Message) -> None:
    ctx = menu_context(bot, storage, user_id)
    menus = [m for m in (await ctx.get_data()).get("menus", []) if isinstance(m, dict)]
    menus.append({"chat": menu.chat.id, "menu": menu.message_id, "card": card.message_id})
    await ctx.set_data({"menus": menus[-MENUS_KEPT:]})


class OwnMenu(Filter):
    """The pressed message is a menu this coordinator opened; passes on its record as `menu`."""

    async def __call__(
        self, query: CallbackQuery, bot: Bot, fsm_storage: BaseStorage
    ) -> bool | dict[str, dict[str, int]]:
        message = query.message
        if message is None:
            return False
        ctx = menu_context(bot, fsm_storage, query.from_user.id)
        for menu in (await ctx.get_data()).get("menus", []):
            if (
                isinstance(menu, dict)
                and menu.get("chat") == message.chat.id
                and menu.get("menu") == message.message_id
            ):
                return {"menu": menu}
        return False


class CaseFound(Filter):
    """Resolves the pressed button's case: passes its view on as `view`. A case that no longer
    exists (purged, or a forged number) is answered "No such case" here, once, and no handler
    of this router runs for it (later answers of the same query are not sent: bot.callbacks)."""

    async def __call__(
        self, query: CallbackQuery, callback_data: CallbackData, store: Store
    ) -> bool | dict[str, CaseView]:
        case = getattr(callback_data, "case", None)
        view = await store.casework.get(case) if isinstance(case, int) else None
        if view is None:
            await query.answer(_(NO_CASE))
            return False
        return {"view": view}


async def _open_menu(
    query: CallbackQuery, bot: Bot, fsm_storage: BaseStorage, text: str, markup: InlineKeyboardMarkup
) -> None:
    """A menu as a new message under the card: the card's buttons stay the same for all."""
    card = query.message
    if not isinstance(card, Message):
        await query.answer(_(STALE))
        return
    await query.answer()
    menu = await card.reply(text, reply_markup=markup)
    await _own_menu(bot, fsm_storage, query.from_user.id, menu, card)


async def _close_menu(query: CallbackQuery, text: str) -> None:
    if isinstance(query.message, Message):
        await _edit(query.message, text=escape(text), markup=None)


async def _refresh_copy(
    bot: Bot, view: CaseView, menu: dict[str, int], store: Store, config: Config, names: CoordinatorNames
) -> None:
    """The /case copy the menu was opened from (the delivered card is the worker's)."""
    chat_id, card_id = menu.get("chat"), menu.get("card")
    if not isinstance(card_id, int) or (view.card_message_id == card_id and view.group_chat_id == chat_id):
        return
    text, markup = await _card(view, store, config, bot, names)
    try:
        await bot.edit_message_text(text=text, chat_id=chat_id, message_id=card_id, reply_markup=markup)
    except TelegramBadRequest as exc:
        log.info("card copy edit skipped: %s", type(exc).__name__)


def _menu_head(view: CaseView, who: str) -> str:
    return escape(
        _("Case #{number} · status: {status}. Menu of {name}:").format(
            number=view.id, status=status_line(view), name=who
        )
    )


async def on_status(
    query: CallbackQuery,
    callback_data: CaseCb,
    view: CaseView,
    bot: Bot,
    fsm_storage: BaseStorage,
    store: Store,
    names: CoordinatorNames,
) -> None:
    if view.status is CaseStatus.CLOSED:
        await query.answer(_(STALE))
        return
    who = await names.name(bot, query.from_user.id)
    await _open_menu(query, bot, fsm_storage, _menu_head(view, who), status_keyboard(view))


async def on_back(query: CallbackQuery) -> None:
    """The Back of a status menu on the card itself (before menus were messages of their own)."""
    await query.answer(_(STALE))


async def on_status_change(
    query: CallbackQuery,
    callback_data: StatusCb,
    view: CaseView,
    bot: Bot,
    fsm_storage: BaseStorage,
    store: Store,
    config: Config,
    names: CoordinatorNames,
    menu: dict[str, int],
) -> None:
    referral = close_reason = None
    try:
        if callback_data.to is CaseStatus.REFERRED:
            referral = Referral(callback_data.detail)
        elif callback_data.to is CaseStatus.CLOSED:
            close_reason = CloseReason(callback_data.detail)
    except ValueError:
        await query.answer(_(STALE))
        return
    if not can_move(view.status, callback_data.to):
        await query.answer(_("This change is not possible now."))
        return
    message = query.message if isinstance(query.message, Message) else None
    if close_reason is CloseReason.DUPLICATE:
        await query.answer()
        pending = input_context(bot, fsm_storage, query.from_user.id)
        await _drop_prompt(bot, query.from_user.id, await pending.get_data())
        await pending.set_state(CoordInput.duplicate)
        await pending.set_data({"case": view.id, "chat": menu["chat"], "menu": menu["menu"]})
        if message:
            await _edit(
                message,
                text=escape(
                    _("Case #{number} duplicates which case? Send its number here, e.g. 12.").format(
                        number=view.id
                    )
                ),
                markup=menu_cancel_keyboard(view.id),
            )
        return
    if close_reason is not None and needs_confirmation(callback_data.to):
        await query.answer()
        if message:
            await _edit(
                message,
                text=escape(_confirm_text(view.id, close_reason)),
                markup=confirm_keyboard(view.id, close_reason),
            )
        return
    await _apply(query, bot, store, config, names, menu, view.id, callback_data.to, referral=referral)


def _confirm_text(case_id: int, reason: CloseReason, dup: int = 0) -> str:
    if dup:
        return _(
            "Close case #{number} as a duplicate of case #{other}? Both cases will show the link."
        ).format(number=case_id, other=dup)
    text = _("Close case #{number} as “{reason}”?").format(number=case_id, reason=_(CLOSE_LABELS[reason]))
    if reason is CloseReason.SPAM:
        return (
            text
            + " "
            + _("Its sender will not be able to submit reports for a while; reopening the case lifts that.")
        )
    return text + " " + _("The reporter is told that work on the report has finished.")


async def _apply(
    query: CallbackQuery,
    bot: Bot,
    store: Store,
    config: Config,
    names: CoordinatorNames,
    menu: dict[str, int],
    case_id: int,
    target: CaseStatus,
    *,
    referral: Referral | None = None,
    close_reason: CloseReason | None = None,
    duplicate_of: int | None = None,
) -> None:
    try:
        view = await store.casework.set_status(
            case_id,
            target,
            query.from_user.id,
            referral=referral,
            close_reason=close_reason,
            duplicate_of=duplicate_of,
            spam_block=spam_block_for(close_reason, config.limits.spam_block_days),
        )
    except CaseNotFound:
        await query.answer(_(NO_CASE))
        return
    except InvalidTransition:
        await query.answer(_("This change is not possible now."))
        return
    line = _("Status: {status}").format(status=status_line(view))
    await query.answer(line)
    await _close_menu(query, _("Case #{number}: {status}").format(number=view.id, status=line))
    await _refresh_copy(bot, view, menu, store, config, names)


async def on_confirm(
    query: CallbackQuery,
    callback_data: ConfirmCb,
    bot: Bot,
    store: Store,
    config: Config,
    names: CoordinatorNames,
    menu: dict[str, int],
) -> None:
    dup = callback_data.dup or None
    if (callback_data.reason is CloseReason.DUPLICATE) != (dup is not None):
        await query.answer(_(STALE))
        return
    await _apply(
        query,
        bot,
        store,
        config,
        names,
        menu,
        callback_data.case,
        CaseStatus.CLOSED,
        close_reason=callback_data.reason,
        duplicate_of=dup,
    )


async def on_menu(
    query: CallbackQuery,
    callback_data: MenuCb,
    view: CaseView,
    bot: Bot,
    fsm_storage: BaseStorage,
    store: Store,
    config: Config,
    names: CoordinatorNames,
    menu: dict[str, int],
) -> None:
    if callback_data.act is MenuAct.CANCEL:
        pending = input_context(bot, fsm_storage, query.from_user.id)
        if await pending.get_state() == CoordInput.duplicate.state:
            await pending.clear()
        await query.answer()
        await _close_menu(query, _("Cancelled. Nothing was changed."))
        return
    if callback_data.act is MenuAct.STATUS:
        if view.status is CaseStatus.CLOSED:
            await query.answer(_(STALE))
            return
        await query.answer()
        if isinstance(query.message, Message):
            who = await names.name(bot, query.from_user.id)
            await _edit(query.message, text=_menu_head(view, who), markup=status_keyboard(view))
        return
    try:  # give up
        view = await store.casework.give_up(view.id, query.from_user.id)
    except NotOwner:
        await query.answer(_("This change is not possible now."))
        return
    await query.answer(_("You gave up case #{number}.").format(number=view.id))
    await _close_menu(query, _("Case #{number} is not taken by anyone now.").format(number=view.id))
    await _refresh_copy(bot, view, menu, store, config, names)


def _colleagues(config: Config, me: int) -> list[int]:
    c = config.coordination
    return [uid for uid in dict.fromkeys((*c.coordinators, *c.admins)) if uid != me]


async def on_handover(
    query: CallbackQuery,
    callback_data: CaseCb,
    view: CaseView,
    bot: Bot,
    fsm_storage: BaseStorage,
    store: Store,
    config: Config,
    names: CoordinatorNames,
) -> None:
    if view.status is CaseStatus.CLOSED or view.assignee_id is None:
        await query.answer(_(STALE))
        return
    if view.assignee_id != query.from_user.id:
        await query.answer(
            _("Only {name}, who has case #{number}, can hand it over.").format(
                name=await names.name(bot, view.assignee_id), number=view.id
            ),
            show_alert=True,
        )
        return
    people = [(uid, await names.name(bot, uid)) for uid in _colleagues(config, view.assignee_id)]
    text = escape(_("Hand case #{number} over to:").format(number=view.id))
    await _open_menu(query, bot, fsm_storage, text, handover_keyboard(view.id, people))


async def on_hand_to(
    query: CallbackQuery,
    callback_data: HandCb,
    bot: Bot,
    store: Store,
    config: Config,
    names: CoordinatorNames,
    menu: dict[str, int],
) -> None:
    if callback_data.to not in _colleagues(config, query.from_user.id):
        await query.answer(_(STALE))
        return
    try:
        view = await store.casework.hand_over(callback_data.case, query.from_user.id, callback_data.to)
    except CaseNotFound:
        await query.answer(_(NO_CASE))
        return
    except NotOwner:
        await query.answer(_("This change is not possible now."))
        return
    name = await names.name(bot, callback_data.to)
    await query.answer(_("Case #{number} is now with {name}.").format(number=view.id, name=name))
    await _close_menu(query, _("Case #{number} is now with {name}.").format(number=view.id, name=name))
    await _refresh_copy(bot, view, menu, store, config, names)
    me = await names.name(bot, query.from_user.id)
    await send_private(
        bot,
        callback_data.to,
        escape(
            _("{name} handed case #{number} over to you. Send /case {number} to see it.").format(
                name=me, number=view.id
            )
        ),
    )


async def menu_of_another(query: CallbackQuery, bot: Bot, fsm_storage: BaseStorage) -> None:
    """A menu button pressed by someone who did not open that menu."""
    if await OwnMenu()(query, bot, fsm_storage):
        await query.answer(_(STALE))
        return
    await query.answer(
        _(
            "This menu belongs to the coordinator who opened it. Press the button "
            "on the card to open your own."
        ),
        show_alert=True,
    )


# --- reply to the reporter and internal notes (in the coordinator's private chat) ----------------


async def on_write(
    query: CallbackQuery,
    callback_data: CaseCb,
    view: CaseView,
    bot: Bot,
    fsm_storage: BaseStorage,
    store: Store,
    config: Config,
    names: CoordinatorNames,
) -> None:
    reply = callback_data.act is CaseAct.REPLY
    if reply and (not view.contactable or view.unreachable):
        await query.answer(_("The reporter cannot receive messages."), show_alert=True)
        return
    took = False
    if reply and view.assignee_id is None and view.status is not CaseStatus.CLOSED:
        # Writing to the reporter is working the case: whoever writes first has it.
        try:
            view = await store.casework.take(view.id, query.from_user.id)
            took = True
        except AlreadyTaken:
            view = await store.casework.get(view.id) or view
        if took:
            await _show_card(query, view, store, config, bot, names)
    if reply:
        prompt = _(
            "Write your message for the reporter of case #{number}. You will see it before it is sent."
        ).format(number=view.id)
    else:
        prompt = _(
            "Write an internal note for case #{number}. Notes stay with the "
            "coordinators and are never sent to the reporter."
        ).format(number=view.id)
    ctx = input_context(bot, fsm_storage, query.from_user.id)
    await _drop_prompt(bot, query.from_user.id, await ctx.get_data())  # an earlier, unfinished one
    await ctx.clear()
    sent = await send_private(bot, query.from_user.id, prompt, _cancel_markup(view.id))
    if sent is None:
        await _no_private_chat(query)
        return
    await ctx.set_state(CoordInput.reply if reply else CoordInput.note)
    await ctx.set_data({"case": view.id, "prompt": sent.message_id})
    if took:
        await query.answer(
            _("You have taken case #{number}. I have written to you in private.").format(number=view.id)
        )
    else:
        await query.answer(_("I have written to you in private."))


async def _drop_prompt(bot: Bot, chat_id: int, data: dict[str, object]) -> None:
    """The prompt's Cancel button has done its job once the text is in (or it is replaced)."""
    for key in ("prompt", "preview"):
        message_id = data.get(key)
        if not isinstance(message_id, int):
            continue
        with contextlib.suppress(
            TelegramBadRequest
        ):  # deleted by the coordinator, or already without buttons
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)


async def on_input_text(
    message: Message, bot: Bot, pending: FSMContext, store: Store, config: Config
) -> None:
    text = (message.text or "").strip()
    data = await pending.get_data()
    case_id = int(data.get("case", 0))
    if not text or len(text) > MAX_MESSAGE:
        await message.answer(_("Please send a text of up to {limit} characters.").format(limit=MAX_MESSAGE))
        return
    await _drop_prompt(bot, message.chat.id, data)
    if await pending.get_state() == CoordInput.note.state:
        try:
            await store.casework.add_note(case_id, sender_of(message).id, text)
        except CaseNotFound:
            await pending.clear()
            await message.answer(_(NO_CASE))
            return
        await pending.clear()
        await _delete_typed(message)
        await message.answer(
            _("The note was added to case #{number}. It stays with the coordinators.").format(number=case_id)
        )
        return
    head = _("This will be sent to the reporter of case #{number}:").format(number=case_id)
    preview = await message.answer(
        f"<b>{escape(head)}</b>\n\n{escape(text)}", reply_markup=preview_keyboard(case_id)
    )
    await pending.set_state(CoordInput.preview)
    await pending.set_data({"case": case_id, "text": text, "preview": preview.message_id})
    await _delete_typed(message)  # kept (encrypted) with the pending reply; the preview shows it
    # A preview left unanswered does not keep the text on the coordinator's phone: it goes like
    # an Open view (Send deletes it at once).
    await store.outbox.add(
        OutboxKind.DELETE,
        case_id=case_id,
        available_at=store.clock() + timedelta(minutes=config.coordination.private_view_minutes),
        payload={"chat_id": message.chat.id, "message_id": preview.message_id},
    )


async def _delete_typed(message: Message) -> None:
    """What a coordinator typed does not stay on their phone once the bot has it."""
    try:
        await message.delete()
    except TelegramBadRequest as exc:  # too old, or already deleted
        log.info("typed message not deleted: %s", type(exc).__name__)


async def on_duplicate_number(message: Message, bot: Bot, pending: FSMContext, store: Store) -> None:
    """The other case's number, typed after choosing "Duplicate" on one's own menu."""
    data = await pending.get_data()
    if data.get("chat") != message.chat.id:
        raise SkipHandler  # typed elsewhere: not an answer to that menu
    case_id, menu_id = int(data.get("case", 0)), data.get("menu")
    arg = (message.text or "").strip().lstrip("#")
    other = await store.casework.get(int(arg)) if arg.isdigit() and len(arg) < 10 else None
    if other is None or other.id == case_id:
        await message.answer(
            _("Send the number of another existing case, e.g. 12, or press Cancel on the menu.")
        )
        return
    await pending.clear()
    await _delete_typed(message)
    if isinstance(menu_id, int):
        try:
            await bot.edit_message_text(
                text=escape(_confirm_text(case_id, CloseReason.DUPLICATE, other.id)),
                chat_id=message.chat.id,
                message_id=menu_id,
                reply_markup=confirm_keyboard(case_id, CloseReason.DUPLICATE, other.id),
            )
        except TelegramBadRequest as exc:
            log.info("duplicate menu edit skipped: %s", type(exc).__name__)


async def on_input_other(message: Message) -> None:
    await message.answer(_("Please send the message as text."))


async def on_preview_waiting(message: Message) -> None:
    await message.answer(_("Press Send, Edit or Cancel under the preview."))


async def cmd_cancel_input(message: Message, bot: Bot, pending: FSMContext) -> None:
    await _drop_prompt(bot, message.chat.id, await pending.get_data())
    await pending.clear()
    await message.answer(_("Cancelled. Nothing was sent."))


async def on_preview(
    query: CallbackQuery, callback_data: PreviewCb, bot: Bot, fsm_storage: BaseStorage, store: Store
) -> None:
    ctx = input_context(bot, fsm_storage, query.from_user.id)
    state = await ctx.get_state()
    data = await ctx.get_data()
    act = callback_data.act
    current = state in CoordInput and data.get("case") == callback_data.case
    message = query.message if isinstance(query.message, Message) else None
    # Send and Edit only on the preview now pending (an older preview shows another text).
    if not current or (
        act is not PreviewAct.CANCEL
        and (
            state != CoordInput.preview.state or message is None or message.message_id != data.get("preview")
        )
    ):
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
        await ctx.set_data({"case": callback_data.case, "prompt": message.message_id if message else None})
        await query.answer()
        if message:
            await _edit(
                message,
                text=_("Write the new message for the reporter of case #{number}.").format(
                    number=callback_data.case
                ),
                markup=_cancel_markup(callback_data.case),
            )
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
        # The text itself leaves the coordinator's screen at once: the preview becomes the
        # confirmation, and goes when its scheduled deletion comes (on_input_text).
        await _edit(
            message,
            text=_(
                "Your message was sent to the reporter of case #{number}. "
                "They get a notification without its content."
            ).format(number=view.id),
        )


# --- everyone else -------------------------------------------------------------------------------


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(_(STALE))


async def refuse(query: CallbackQuery) -> None:
    """Not a coordinator (or not in their chats): one neutral line, nothing about any case."""
    await query.answer(_(NOT_AVAILABLE))


class NamesMiddleware(BaseMiddleware):
    """Hands `names` (one cache per router) to the handlers, and remembers the presser's own
    name as Telegram sent it (the router's filter has already checked the role)."""

    def __init__(self) -> None:
        self.names: CoordinatorNames | None = None

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if self.names is None:
            self.names = CoordinatorNames(data["config"].coordination.chat_id)
        user = data.get("event_from_user")
        if user is not None:
            self.names.remember(user.id, user.full_name)
        data["names"] = self.names
        return await handler(event, data)


def make_router() -> Router:
    """A fresh router (the app can be built more than once per process, e.g. in tests)."""
    staff = Router(name="coordinator")
    staff.message.filter(staff_only)
    staff.callback_query.filter(staff_only)
    names = NamesMiddleware()
    staff.message.middleware(names)
    staff.callback_query.middleware(names)
    staff.message.register(cmd_queue, Command("queue"))
    staff.message.register(cmd_mine, Command("mine"))
    staff.message.register(cmd_case, Command("case"))
    # Forged numbers beyond any case or page (and beyond the database's integers): stale.
    # (A hand-over names a colleague by user id, which may be long: checked against the config.)
    numbered = tuple(p for p in PREFIXES if p != HandCb.__prefix__ + HandCb.__separator__)
    staff.callback_query.register(
        stale_button, F.data.startswith(numbered), F.data.regexp(r"\d{10}", mode="search")
    )
    staff.callback_query.register(stale_button, HandCb.filter(F.case >= 2**31))
    found = CaseFound()  # the case of the button, as `view`; "No such case" answered once
    staff.callback_query.register(on_queue_page, QueueCb.filter())
    staff.callback_query.register(on_queue_pick, QueuePick.filter())
    staff.callback_query.register(on_take, CaseCb.filter(F.act == CaseAct.TAKE))
    staff.callback_query.register(on_open, CaseCb.filter(F.act == CaseAct.OPEN), found)
    staff.callback_query.register(on_status, CaseCb.filter(F.act == CaseAct.STATUS), found)
    staff.callback_query.register(on_back, CaseCb.filter(F.act == CaseAct.BACK))
    staff.callback_query.register(on_history, CaseCb.filter(F.act == CaseAct.HISTORY), found)
    staff.callback_query.register(on_handover, CaseCb.filter(F.act == CaseAct.HANDOVER), found)
    staff.callback_query.register(on_write, CaseCb.filter(F.act.in_({CaseAct.REPLY, CaseAct.NOTE})), found)
    staff.callback_query.register(on_history_page, HistCb.filter(), found)
    # Menus: only the coordinator who opened one may press its buttons.
    staff.callback_query.register(on_status_change, StatusCb.filter(), OwnMenu(), found)
    staff.callback_query.register(on_confirm, ConfirmCb.filter(), OwnMenu())
    staff.callback_query.register(on_menu, MenuCb.filter(), OwnMenu(), found)
    staff.callback_query.register(on_hand_to, HandCb.filter(), OwnMenu())
    staff.callback_query.register(menu_of_another, F.data.startswith(MENU_PREFIXES))
    staff.callback_query.register(on_preview, PreviewCb.filter())
    staff.callback_query.register(stale_button, F.data.startswith(PREFIXES))

    # The other case's number for "Duplicate", typed where the menu is (group or private).
    staff.message.register(
        on_duplicate_number, Awaiting(CoordInput.duplicate), F.text, ~F.text.startswith("/")
    )
    # The coordinator's private input; commands other than /cancel pass on to other handlers.
    private = F.chat.type == "private"
    writing = Awaiting(CoordInput.reply, CoordInput.note)
    staff.message.register(
        cmd_cancel_input,
        private,
        Command("cancel"),
        Awaiting(CoordInput.reply, CoordInput.note, CoordInput.preview, CoordInput.duplicate),
    )
    not_command = ~F.text.startswith("/")
    staff.message.register(on_input_text, private, writing, F.text, not_command)
    staff.message.register(on_input_other, private, writing, not_command)
    staff.message.register(on_preview_waiting, private, Awaiting(CoordInput.preview), not_command)

    others = Router(name="coordinator-refusal")
    others.callback_query.register(refuse, F.data.startswith(PREFIXES))

    router = Router(name="coordination")
    router.include_routers(staff, others)
    return router
