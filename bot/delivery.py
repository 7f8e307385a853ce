"""The outbox delivery worker: everything the bot must send because of a stored change.

`Delivery.run` claims due outbox items (storage.outbox: an atomic lease, so several workers or
instances never take the same item), sends each to Telegram and marks it done, retried or
failed:

- flood control (429) goes through the bot-wide gate (bot.flood, a middleware of the Bot's
  session): the worker's requests wait while a window is open for their chat, and a request
  that met a 429 is sent again after it; only a wait too long for the gate comes back here,
  and the item is retried after exactly the `retry_after` Telegram asked for;
- network errors, dropped connections and 5xx are retried with exponential backoff (1, 2, 4 …
  seconds, capped at 5 minutes, plus a little jitter); a case card is never given up on such
  errors;
- any other refusal (400) is a permanent error: the item is given up and kept for the operator,
  logged with the error class and Telegram's description only.

Exactly once. The card's place (chat, topic, message) is recorded right after Telegram accepted
the card, and the item is completed right after that. Each item's "send, record, complete" runs
under `asyncio.shield`: stopping the worker — by its stop event or by cancelling it — lets the
item in progress finish and releases the items it had claimed but not started, so a graceful
stop or restart never loses or repeats a message. Only a hard kill (kill -9, power loss) inside
that sub-second window between Telegram's answer and the database write can send one message
twice: the Bot API has no idempotency keys, so no client can do better. A re-delivered card
finds its recorded place and edits it instead of posting another. If a worker dies, its items
become claimable again when their lease runs out (`LEASE`).

Messages made of several parts (an urgent alert to several coordinators, added text and files)
are not repeated either: if a part fails after others went out, the remaining parts become a
new item and this one is done. Known limit: two *different* card items of one case (its first
delivery and a refresh) claimed at the same moment by two workers could both post; a refresh
of a card not posted yet therefore first waits (`REFRESH_WAITS`) for the first delivery.

Privacy: logs carry case numbers and error classes, never message text or any chat or user id;
nothing sent to the coordinators' chat comes from the reporter's Telegram profile, and files
the reporter added are uploaded anew (never forwarded or copied from the reporter's chat).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup, Message, ReplyParameters
from aiogram.utils.i18n import I18n

from bot.config import Config
from domain.values import CaseStatus
from domain.workflow import QueueFilter, reporter_is_told
from handlers.coordinator.alerts import (
    added_notice_text,
    added_texts,
    file_captions,
    message_link,
    reminder_text,
    topic_name,
    unreachable_on_call_text,
    unreachable_text,
    urgent_alert,
)
from handlers.coordinator.card import card_text, full_texts
from handlers.coordinator.keyboards import card_keyboard
from handlers.coordinator.names import CoordinatorNames
from handlers.coordinator.views import PAGE_SIZE, queue_text
from handlers.evidence import send_file
from handlers.followup.notices import Notice, reporter_notice
from handlers.telegram_errors import (
    chat_unreachable,
    delete_gone,
    edit_gone,
    not_modified,
    thread_gone,
)
from storage.casework import CaseView
from storage.custody import CustodyKind
from storage.outbox import OutboxJob, OutboxKind
from storage.repositories import Store

log = logging.getLogger("kua.delivery")

# Module constants so that tests (and operators, through code) can tune the pace.
POLL_INTERVAL = 1.0  # seconds between polls of an empty outbox
REMINDER_INTERVAL = 60.0  # seconds between checks for cases still new
LEASE = timedelta(seconds=120)  # a claimed item is this worker's for that long
BATCH = 10  # items claimed at once
REQUEST_TIMEOUT = 30  # seconds per Bot API request (well inside the lease)

NO_GROUP_DELAY = timedelta(minutes=5)  # coordination.chat_id missing or the bot not in it
CARD_WAIT_DELAY = timedelta(seconds=3)  # a message for a thread whose card is not posted yet
BACKOFF_CAP = 300.0  # seconds
URGENT_REALERT_EVERY = timedelta(hours=1)  # urgent and not taken: alerted again this often
SHOWN_CARDS = 1000  # cards whose last shown text a worker keeps (a few hundred KB at most)
REFRESH_WAITS = 2  # a refresh of a card not posted yet first waits for the first delivery
MAX_ATTEMPTS = {  # items given up after this many attempts (cards and thread messages: never)
    OutboxKind.URGENT: 10,
    OutboxKind.TO_REPORTER: 25,
    OutboxKind.STATUS_NOTICE: 25,
    OutboxKind.DELETE: 25,
    OutboxKind.UNPOST: 25,
}
GROUP_KINDS = frozenset(
    {
        OutboxKind.CARD,
        OutboxKind.REMINDER,
        OutboxKind.TO_GROUP,
        OutboxKind.UNREACHABLE,
        OutboxKind.DETAILS,
        OutboxKind.UNPOST,
    }
)
URGENT_TOPIC_COLOR = 16478047  # red; one of the six colours Telegram allows


def _text_part(bot: Bot, chat_id: int, text: str) -> Callable[[dict[str, Any]], Awaitable[Message]]:
    """One text of a multi-part post, sent where the part is told (thread or reply)."""
    return lambda where: bot.send_message(chat_id, text, request_timeout=REQUEST_TIMEOUT, **where)


class _Retry(Exception):
    """Not an error: try this item again later."""

    def __init__(self, delay: timedelta, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay
        self.reason = reason


class _ThreadGone(Exception):
    """The case's topic or card was deleted from the coordinators' chat."""


def _describe(exc: BaseException) -> str:
    """Error class and Telegram's description: never a request's content."""
    if isinstance(exc, TelegramAPIError):
        return f"{type(exc).__name__}: {exc.message}"[:120]
    return type(exc).__name__


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … seconds (capped at BACKOFF_CAP) plus up to 10 % jitter."""
    base = min(BACKOFF_CAP, 2.0 ** max(0, min(attempts, 20) - 1))
    return timedelta(seconds=base + random.uniform(0, base / 10))  # noqa: S311 - jitter, not a secret


@dataclass(frozen=True)
class _Place:
    """Where a case's messages go in the coordinators' chat."""

    chat_id: int
    topic_id: int | None
    card_message_id: int

    def kwargs(self) -> dict[str, Any]:
        if self.topic_id is not None:
            return {"message_thread_id": self.topic_id}
        return {"reply_parameters": ReplyParameters(message_id=self.card_message_id)}


class Delivery:
    """Delivers outbox items until stopped; see the module docstring."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        config: Config,
        i18n: I18n,
        *,
        worker_id: str,
        poll_interval: float | None = None,
        reminder_interval: float | None = None,
        lease: timedelta | None = None,
    ) -> None:
        self.bot = bot
        self.store = store
        self.config = config
        self.i18n = i18n
        self.worker_id = worker_id
        self.poll_interval = POLL_INTERVAL if poll_interval is None else poll_interval
        self.reminder_interval = REMINDER_INTERVAL if reminder_interval is None else reminder_interval
        self.lease = LEASE if lease is None else lease
        self._forum: dict[int, bool] = {}
        self._held: list[OutboxJob] = []  # claimed, not started
        self._warned_no_group = False
        self._next_reminders = 0.0
        self.names = CoordinatorNames(config.coordination.chat_id)
        self._on_call_checked = False
        # What each card shows, as this worker last set it: a refresh queued behind another that
        # already showed the newest state skips the edit Telegram would refuse as "not modified".
        self._shown: OrderedDict[int, tuple[int, int, str]] = OrderedDict()
        self._unreachable_on_call: set[int] = set()  # already reported in the group

    # --- the loop ---------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        log.info("delivery worker %s started", self.worker_id)
        failures = 0
        try:
            while not stop.is_set():
                worked = False
                pause = self.poll_interval
                try:
                    if loop.time() >= self._next_reminders:
                        self._next_reminders = loop.time() + self.reminder_interval
                        await self._guarded(self._remind())
                    await self._guarded(self._claim())
                    claimed_at = loop.time()
                    worked = bool(self._held)
                    while self._held and not stop.is_set():
                        if loop.time() - claimed_at > self.lease.total_seconds() / 2:
                            break  # the rest would outlive its lease: release and re-claim
                        job = self._held.pop(0)
                        await self._guarded(self._handle(job))
                    failures = 0
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # e.g. the database is unreachable: wait longer each time, up to a minute.
                    failures += 1
                    log.exception("delivery round failed: %s", _describe(exc))
                    worked = False
                    pause = max(self.poll_interval, min(60.0, 2.0**failures))
                if self._held:
                    await self._guarded(self._release())
                if not worked:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), pause)
        except asyncio.CancelledError:
            if self._held:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._release())
            raise
        finally:
            log.info("delivery worker %s stopped", self.worker_id)

    async def _guarded(self, coro: Awaitable[Any]) -> None:
        """Run a step to its end even if the worker is cancelled meanwhile (then re-raise)."""
        task = asyncio.ensure_future(coro)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
            raise

    async def _claim(self) -> None:
        self._held.extend(await self.store.outbox.claim(limit=BATCH, lease=self.lease))

    async def _release(self) -> None:
        """Hand back items claimed but not started (another round or worker takes them)."""
        held, self._held = self._held, []
        for job in held:
            try:
                await self.store.outbox.retry(job, delay=timedelta(0), error="released")
            except Exception as exc:  # noqa: BLE001 - its lease runs out; taken again then
                log.error("could not release an outbox item: %s", type(exc).__name__)

    async def _remind(self) -> None:
        if not self._on_call_checked:
            self._on_call_checked = True
            await self._check_on_call()
        c = self.config.coordination
        try:
            due = await self.store.casework.due_reminders(timedelta(hours=c.remind_after_hours))
            urgent = await self.store.casework.due_realerts(
                timedelta(minutes=c.urgent_ack_minutes), URGENT_REALERT_EVERY
            )
        except Exception as exc:  # noqa: BLE001 - retried at the next check
            log.error("reminder check failed: %s", _describe(exc))
            return
        if due.each:
            log.info("%d case(s) still new: reminders queued", len(due.each))
        elif due.marked:
            log.info(
                "%d case(s) still new: %s",
                due.marked,
                "digest queued" if due.digest else "digest sent lately",
            )
        if urgent:
            log.info("%d urgent case(s) not taken: on-call coordinators alerted again", len(urgent))

    # --- on-call coordinators who cannot be alerted ----------------------------------------------
    async def _check_on_call(self) -> None:
        """At start-up: an on-call coordinator the bot cannot write to is named in the group
        (an alert that cannot reach anyone must not be noticed only in a log line)."""
        for user_id in self.config.coordination.on_call:
            try:
                await self.bot.send_chat_action(user_id, "typing", request_timeout=REQUEST_TIMEOUT)
            except (TelegramForbiddenError, TelegramBadRequest) as exc:
                if not chat_unreachable(exc):
                    log.warning("on-call check failed: %s", _describe(exc))
                    continue
                await self._report_unreachable_on_call(user_id)
            except Exception as exc:  # noqa: BLE001 - checked again at the next alert
                log.warning("on-call check failed: %s", _describe(exc))

    async def _report_unreachable_on_call(self, user_id: int) -> None:
        if user_id in self._unreachable_on_call or not self.config.coordination.chat_id:
            return
        try:
            name = await self.names.name(self.bot, user_id)
            with self._group_locale():
                text = unreachable_on_call_text(name)
            await self.bot.send_message(
                self.config.coordination.chat_id, text, request_timeout=REQUEST_TIMEOUT
            )
            self._unreachable_on_call.add(user_id)
        except TelegramAPIError as exc:
            log.error(
                "could not tell the group about an unreachable on-call coordinator (%s)", _describe(exc)
            )

    # --- one item -------------------------------------------------------------------------------
    async def _handle(self, job: OutboxJob) -> None:
        outbox = self.store.outbox
        case = job.case_id
        try:
            limit = MAX_ATTEMPTS.get(job.kind)
            if limit is not None and job.attempts > limit:
                log.warning("%s for case %s: gave up after %d attempts", job.kind, case, job.attempts - 1)
                await outbox.give_up(job, error="too many attempts")
                return
            await self._deliver(job)
        except _Retry as retry:
            await outbox.retry(job, delay=retry.delay, error=retry.reason)
        except TelegramRetryAfter as exc:
            log.info("%s for case %s: flood control, retry in %ss", job.kind, case, exc.retry_after)
            await outbox.retry(job, delay=timedelta(seconds=exc.retry_after), error=_describe(exc))
        except TelegramEntityTooLarge as exc:
            log.error("%s for case %s: given up (%s)", job.kind, case, _describe(exc))
            await outbox.give_up(job, error=_describe(exc))
        except (TelegramNetworkError, TelegramServerError) as exc:
            delay = backoff(job.attempts)
            log.warning(
                "%s for case %s: %s, retry in %.0fs",
                job.kind,
                case,
                type(exc).__name__,
                delay.total_seconds(),
            )
            await outbox.retry(job, delay=delay, error=_describe(exc))
        except TelegramMigrateToChat as exc:
            log.error(
                "the coordinators' group became a supergroup: set coordination.chat_id "
                "(KUA_COORDINATION__CHAT_ID) to its new id"
            )
            await outbox.retry(job, delay=NO_GROUP_DELAY, error=_describe(exc))
        except (TelegramForbiddenError, TelegramBadRequest, TelegramNotFound) as exc:
            if job.kind in GROUP_KINDS and (chat_unreachable(exc)):
                # The bot is not (or no longer) in the coordinators' chat: the operator must
                # fix it; the case must not be lost meanwhile.
                log.error(
                    "%s for case %s: cannot write to the coordinators' chat (%s); check "
                    "coordination.chat_id and that the bot is a member",
                    job.kind,
                    case,
                    _describe(exc),
                )
                await outbox.retry(job, delay=NO_GROUP_DELAY, error=_describe(exc))
            else:
                log.error("%s for case %s: given up (%s)", job.kind, case, _describe(exc))
                await outbox.give_up(job, error=_describe(exc))
        except TelegramAPIError as exc:
            delay = backoff(job.attempts)
            log.warning(
                "%s for case %s: %s, retry in %.0fs", job.kind, case, _describe(exc), delay.total_seconds()
            )
            await outbox.retry(job, delay=delay, error=_describe(exc))
        except Exception as exc:
            delay = backoff(job.attempts)
            log.exception(
                "%s for case %s failed: %s, retry in %.0fs",
                job.kind,
                case,
                type(exc).__name__,
                delay.total_seconds(),
            )
            await outbox.retry(job, delay=delay, error=type(exc).__name__)
        else:
            if not await outbox.complete(job):
                log.warning("%s for case %s: lease lost before completion", job.kind, case)

    async def _deliver(self, job: OutboxJob) -> None:
        if job.kind is OutboxKind.DELETE:
            await self._delete(job)
            return
        if job.kind is OutboxKind.UNPOST:
            await self._unpost(job)
            return
        if job.kind is OutboxKind.REMINDER and job.payload.get("digest"):
            await self._digest()
            return
        view = await self.store.casework.get(job.case_id) if job.case_id is not None else None
        if view is None:
            return  # the case is gone (purged): nothing left to say
        handler: dict[OutboxKind, Callable[[OutboxJob, CaseView], Awaitable[None]]] = {
            OutboxKind.CARD: self._card,
            OutboxKind.URGENT: self._urgent,
            OutboxKind.REMINDER: self._reminder,
            OutboxKind.TO_GROUP: self._to_group,
            OutboxKind.DETAILS: self._details,
            OutboxKind.TO_REPORTER: self._to_reporter,
            OutboxKind.STATUS_NOTICE: self._status_notice,
            OutboxKind.UNREACHABLE: self._unreachable,
        }
        await handler[job.kind](job, view)

    # --- language ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locale(self, locale: str) -> Iterator[None]:
        with self.i18n.context(), self.i18n.use_locale(locale):
            yield

    def _group_locale(self) -> contextlib.AbstractContextManager[None]:
        return self._locale(self.config.coordination.locale or self.config.app.default_locale)

    # --- the coordinators' chat ---------------------------------------------------------------
    def _group(self) -> int:
        chat_id = self.config.coordination.chat_id
        if not chat_id:
            if not self._warned_no_group:
                self._warned_no_group = True
                log.warning(
                    "coordination.chat_id is not set: cases wait in the outbox until "
                    "it is (KUA_COORDINATION__CHAT_ID)"
                )
            raise _Retry(NO_GROUP_DELAY, "no coordinators' chat configured")
        return chat_id

    async def _is_forum(self, chat_id: int) -> bool:
        if chat_id not in self._forum:
            chat = await self.bot.get_chat(chat_id, request_timeout=REQUEST_TIMEOUT)
            self._forum[chat_id] = bool(chat.is_forum)
        return self._forum[chat_id]

    async def _place(self, view: CaseView) -> _Place:
        """The case's thread in the coordinators' chat; retry later if its card isn't there."""
        chat_id = self._group()
        if view.card_message_id is None or view.group_chat_id != chat_id:
            if view.card_message_id is not None:  # the configured chat changed: post it there
                await self._refresh_card(view.id)
            raise _Retry(CARD_WAIT_DELAY, "card not posted yet")
        return _Place(chat_id, view.topic_id, view.card_message_id)

    async def _refresh_card(self, case_id: int) -> None:
        # "gone": the card or its topic was deleted, so what this worker last showed says nothing.
        await self.store.outbox.add(OutboxKind.CARD, case_id=case_id, payload={"refresh": True, "gone": True})

    async def _in_thread(self, place: _Place, send: Callable[[dict[str, Any]], Awaitable[Any]]) -> Any:
        """Send into the case's topic/thread; a deleted topic or card raises _ThreadGone."""
        try:
            return await send(place.kwargs())
        except TelegramBadRequest as exc:
            if thread_gone(exc):
                raise _ThreadGone from exc
            raise

    async def _thread_message(self, view: CaseView, text: str) -> None:
        place = await self._place(view)
        try:
            await self._in_thread(
                place,
                lambda where: self.bot.send_message(
                    place.chat_id, text, request_timeout=REQUEST_TIMEOUT, **where
                ),
            )
        except _ThreadGone:
            log.info("case %d: its topic or card was deleted; posting the card again", view.id)
            await self._refresh_card(view.id)
            raise _Retry(CARD_WAIT_DELAY, "thread deleted") from None

    # --- CARD -----------------------------------------------------------------------------------
    async def _card(self, job: OutboxJob, view: CaseView) -> None:
        chat_id = self._group()
        posted = view.card_message_id is not None and view.group_chat_id == chat_id
        if not posted and job.payload.get("refresh") and job.attempts <= REFRESH_WAITS:
            # Normally the case's first delivery is about to post it: let that one do it.
            raise _Retry(CARD_WAIT_DELAY, "card not posted yet")
        files, messages = await self.store.casework.counts(view.id)
        owner = await self.names.name(self.bot, view.assignee_id) if view.assignee_id else None
        elsewhere = await self.store.followup.opened_elsewhere_at(view.id)
        with self._group_locale():
            text = card_text(
                view,
                file_count=files,
                message_count=messages,
                assignee_name=owner,
                opened_elsewhere=elsewhere,
            )
            markup = card_keyboard(view, group_shows=self.config.coordination.group_shows)
            name = topic_name(view)
        if posted and view.card_message_id is not None:  # (posted says so; repeated for the type checker)
            shown = (chat_id, view.card_message_id, text + "\n" + markup.model_dump_json())
            if not job.payload.get("gone") and self._shown.get(view.id) == shown:
                return
            try:
                await self.bot.edit_message_text(
                    text=text,
                    chat_id=chat_id,
                    message_id=view.card_message_id,
                    reply_markup=markup,
                    request_timeout=REQUEST_TIMEOUT,
                )
                self._remember(view.id, shown)
                return
            except TelegramBadRequest as exc:
                if not_modified(exc):
                    self._remember(view.id, shown)
                    return
                if not edit_gone(exc):
                    raise
            log.info("case %d: its card was deleted; posting it again", view.id)
        # A topic recorded for this chat (its card posted, deleted, or never got through) is
        # reused: a repeated card never opens a second topic.
        await self._post_card(
            view, chat_id, text, markup, name, topic=view.topic_id if view.group_chat_id == chat_id else None
        )

    def _remember(self, case_id: int, shown: tuple[int, int, str]) -> None:
        self._shown[case_id] = shown
        self._shown.move_to_end(case_id)
        while len(self._shown) > SHOWN_CARDS:
            self._shown.popitem(last=False)

    async def _post_card(
        self,
        view: CaseView,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup,
        name: str,
        *,
        topic: int | None,
    ) -> None:
        if not await self._is_forum(chat_id):
            card = await self.bot.send_message(
                chat_id, text, reply_markup=markup, request_timeout=REQUEST_TIMEOUT
            )
            await self.store.casework.record_card(
                view.id, chat_id=chat_id, topic_id=None, message_id=card.message_id, then=self._details_kind()
            )
            log.info("case %d: card posted", view.id)
            return
        # A topic created by an earlier attempt whose card did not get through is reused.
        sent: Message | None = None
        if topic is not None:
            try:
                sent = await self.bot.send_message(
                    chat_id,
                    text,
                    reply_markup=markup,
                    message_thread_id=topic,
                    request_timeout=REQUEST_TIMEOUT,
                )
            except TelegramBadRequest as exc:
                if not thread_gone(exc):
                    raise
                log.info("case %d: its topic was deleted; creating it again", view.id)
        if sent is None:
            created = await self.bot.create_forum_topic(
                chat_id,
                name,
                icon_color=URGENT_TOPIC_COLOR if view.urgent else None,
                request_timeout=REQUEST_TIMEOUT,
            )
            topic = created.message_thread_id
            # Recorded before the card is posted: only a kill between Telegram's answer and
            # this write can leave a topic unrecorded (the same window as for cards).
            await self.store.casework.record_topic(view.id, chat_id=chat_id, topic_id=topic)
            sent = await self.bot.send_message(
                chat_id, text, reply_markup=markup, message_thread_id=topic, request_timeout=REQUEST_TIMEOUT
            )
        await self.store.casework.record_card(
            view.id, chat_id=chat_id, topic_id=topic, message_id=sent.message_id, then=self._details_kind()
        )
        log.info("case %d: card posted in its topic", view.id)

    # --- URGENT ---------------------------------------------------------------------------------
    async def _urgent(self, job: OutboxJob, view: CaseView) -> None:
        recipients = [int(u) for u in job.payload.get("to", self.config.coordination.on_call)]
        if not recipients:
            return
        chat_id = self.config.coordination.chat_id
        if job.payload.get("realert") and (view.status is not CaseStatus.NEW or view.assignee_id is not None):
            return  # taken meanwhile
        link = (
            message_link(chat_id, view.card_message_id, view.topic_id)
            if chat_id and view.group_chat_id == chat_id and view.card_message_id
            else None
        )
        with self._group_locale():
            message = urgent_alert(view, realert=bool(job.payload.get("realert")), link=link)

        async def alert(index: int) -> None:
            try:
                await self.bot.send_message(
                    recipients[index],
                    message.text,
                    reply_markup=message.markup,
                    request_timeout=REQUEST_TIMEOUT,
                )
            except (TelegramForbiddenError, TelegramBadRequest) as exc:
                if not chat_unreachable(exc):
                    raise
                # Never started the bot, blocked it, or left Telegram: nothing to retry,
                # but the group is told (once), so that someone else acts.
                log.warning(
                    "urgent case %d: an on-call coordinator cannot be reached (%s)", view.id, _describe(exc)
                )
                await self._report_unreachable_on_call(recipients[index])

        await self._in_parts(job, len(recipients), alert, lambda index: {"to": recipients[index:]})

    async def _in_parts(
        self,
        job: OutboxJob,
        count: int,
        send: Callable[[int], Awaitable[None]],
        rest: Callable[[int], dict[str, Any]],
    ) -> None:
        """Send parts in order; if one fails after others went out, the remaining parts become
        a new item (so a retry never repeats what was sent) and this one is done."""
        for index in range(count):
            try:
                await send(index)
            except (
                TelegramRetryAfter,
                TelegramNetworkError,
                TelegramServerError,
                _ThreadGone,
                _Retry,
            ) as exc:
                if index == 0:
                    raise
                if isinstance(exc, TelegramRetryAfter):
                    delay = timedelta(seconds=exc.retry_after)
                elif isinstance(exc, _Retry):
                    delay = exc.delay
                else:
                    delay = backoff(1)
                if isinstance(exc, _ThreadGone) and job.case_id is not None:
                    await self._refresh_card(job.case_id)
                    delay = CARD_WAIT_DELAY
                await self.store.outbox.add(
                    job.kind,
                    case_id=job.case_id,
                    payload={**job.payload, **rest(index)},
                    available_at=self.store.clock() + delay,
                )
                log.info(
                    "%s for case %s: %d of %d sent, the rest later (%s)",
                    job.kind,
                    job.case_id,
                    index,
                    count,
                    _describe(exc),
                )
                return

    # --- messages in the case's thread ----------------------------------------------------------
    async def _reminder(self, job: OutboxJob, view: CaseView) -> None:
        if view.status is not CaseStatus.NEW or view.assignee_id is not None:
            return  # taken meanwhile
        c = self.config.coordination
        kinds = {e.kind for e in await self.store.casework.history(view.id)}
        with self._group_locale():
            text = reminder_text(
                view,
                urgent=bool(job.payload.get("urgent")),
                urgent_ack_minutes=c.urgent_ack_minutes,
                remind_after_hours=c.remind_after_hours,
                group_shows=c.group_shows,
                kinds=kinds,
            )
        await self._thread_message(view, text)

    async def _digest(self) -> None:
        """Many cases became due at once: one message for the chat, the first page of the cases
        nobody has taken (as /queue shows it, when it is sent), instead of one per case."""
        f = QueueFilter(unassigned=True)
        views, total, _more = await self.store.casework.queue(f, limit=PAGE_SIZE)
        if not views:
            return  # all taken meanwhile
        with self._group_locale():
            text = "⏰ " + queue_text(views, total, 0, self.store.clock(), f)
        await self.bot.send_message(self._group(), text, request_timeout=REQUEST_TIMEOUT)

    async def _unreachable(self, job: OutboxJob, view: CaseView) -> None:
        with self._group_locale():
            text = unreachable_text(view)
        await self._thread_message(view, text)

    async def _to_group(self, job: OutboxJob, view: CaseView) -> None:
        place = await self._place(view)
        message_id = job.payload.get("message")
        message = next(
            (
                m
                for m in await self.store.casework.channel(view.id)
                if m.id == message_id and m.direction == "from_reporter"
            ),
            None,
        )
        if message is None:
            return  # purged meanwhile
        number = view.id
        if self.config.coordination.group_shows != "full":
            with self._group_locale():
                text = added_notice_text(number, len(message.file_ids))
            await self._post_in_thread(
                job,
                place,
                [
                    lambda where: self.bot.send_message(
                        place.chat_id, text, request_timeout=REQUEST_TIMEOUT, **where
                    )
                ],
            )
            return

        kinds = {f.id: f.kind for f in await self.store.attachments.for_case(view.id)}
        with self._group_locale():
            texts = added_texts(number, message.text or "")
            captions = file_captions(number, len(message.file_ids))
        parts: list[Callable[[dict[str, Any]], Awaitable[Any]]] = []
        for text in texts:
            parts.append(_text_part(self.bot, place.chat_id, text))
        for index, file_id in enumerate(message.file_ids):
            parts.append(
                partial(
                    self._upload,
                    place.chat_id,
                    view.id,
                    file_id,
                    kinds.get(file_id, "document"),
                    captions[index],
                )
            )
        await self._post_in_thread(job, place, parts)

    def _details_kind(self) -> OutboxKind | None:
        """With group_shows = "full" the whole report follows its card into the thread."""
        return OutboxKind.DETAILS if self.config.coordination.group_shows == "full" else None

    async def _details(self, job: OutboxJob, view: CaseView) -> None:
        if self.config.coordination.group_shows != "full":
            return  # switched to summary since: the details stay out of the group
        place = await self._place(view)
        files = list(await self.store.attachments.for_case(view.id))
        private = await self.store.casework.private(view.id)
        with self._group_locale():
            texts = full_texts(view, private, len(files))
            captions = file_captions(view.id, len(files))
        parts: list[Callable[[dict[str, Any]], Awaitable[Any]]] = []
        for text in texts:
            parts.append(_text_part(self.bot, place.chat_id, text))
        for index, stored in enumerate(files):
            parts.append(
                partial(self._upload, place.chat_id, view.id, stored.id, stored.kind, captions[index])
            )
        if int(job.payload.get("from", 0)) == 0:  # custody: the full content, to the group
            await self.store.custody.record(
                view.id, CustodyKind.OPENED_FULL, actor_id=None, data={"to": "group"}
            )
        await self._post_in_thread(job, place, parts)

    async def _post_in_thread(
        self, job: OutboxJob, place: _Place, parts: Sequence[Callable[[dict[str, Any]], Awaitable[Any]]]
    ) -> None:
        start = int(job.payload.get("from", 0))
        todo = list(parts[start:])

        async def send(index: int) -> None:
            await self._in_thread(place, todo[index])

        try:
            await self._in_parts(job, len(todo), send, lambda index: {"from": start + index})
        except _ThreadGone:
            if job.case_id is None:  # only a case's jobs post in its thread
                raise
            log.info("case %d: its topic or card was deleted; posting the card again", job.case_id)
            await self._refresh_card(job.case_id)
            raise _Retry(CARD_WAIT_DELAY, "thread deleted") from None

    async def _upload(
        self, chat_id: int, case_id: int, file_id: int, kind: str, caption: str, where: dict[str, Any]
    ) -> None:
        """A file of the case uploaded anew under its original name, protected and (pictures,
        videos) blurred; each post is a custody event (handlers.evidence)."""
        record = next(
            (r for r in await self.store.attachments.records(case_id, with_names=True) if r.id == file_id),
            None,
        )
        if record is None:
            return  # purged meanwhile
        data = await self.store.attachments.content(file_id)
        try:
            await send_file(
                self.bot,
                chat_id,
                case_id,
                record,
                data,
                caption,
                request_timeout=REQUEST_TIMEOUT,
                **where,
            )
        except TelegramEntityTooLarge:
            # Larger than the Bot API accepts (the configured file limit is meant to prevent
            # this); the coordinators still see the file count on the card.
            log.error("case %d: a file the reporter added is too large to post", case_id)
            return
        await self.store.custody.file_sent(
            case_id, file_id=record.id, number=record.number, data=data, to="group", actor_id=None
        )

    # --- the reporter ---------------------------------------------------------------------------
    async def _to_reporter(self, job: OutboxJob, view: CaseView) -> None:
        await self._notify_reporter(view, Notice.NEWS)  # neutral: a lock screen may be read

    async def _status_notice(self, job: OutboxJob, view: CaseView) -> None:
        try:
            told = reporter_is_told(CaseStatus(str(job.payload.get("status"))))
        except ValueError:
            told = False
        if not told:
            return
        await self._notify_reporter(view, Notice.STATUS)  # which status: only after "Read"

    async def _notify_reporter(self, view: CaseView, which: Notice) -> None:
        """A neutral notice with a Read button: the content shows only after the tap."""
        chat_id = await self.store.casework.contact_chat(view.id)
        if chat_id is None:
            return  # no consent to contact (or forgotten): nothing to send
        with self._locale(view.locale):
            text, markup = reporter_notice(which, view.id)
        try:
            await self.bot.send_message(
                chat_id,
                text,
                reply_markup=markup,
                disable_notification=view.silent,
                request_timeout=REQUEST_TIMEOUT,
            )
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            if not chat_unreachable(exc):
                raise
            if await self.store.casework.mark_unreachable(view.id):
                log.info("case %d: the reporter cannot be reached (%s)", view.id, type(exc).__name__)

    # --- DELETE ---------------------------------------------------------------------------------
    async def _delete(self, job: OutboxJob) -> None:
        try:
            await self.bot.delete_message(
                int(job.payload["chat_id"]), int(job.payload["message_id"]), request_timeout=REQUEST_TIMEOUT
            )
        except TelegramBadRequest as exc:
            if not delete_gone(exc):
                raise

    async def _unpost(self, job: OutboxJob) -> None:
        """Retention: the purged case's topic goes with every message in it; in an ordinary
        group (no topic), its card. Already gone counts as done."""
        chat_id, topic_id = int(job.payload["chat_id"]), job.payload.get("topic_id")
        try:
            if topic_id is not None and await self._is_forum(chat_id):
                await self.bot.delete_forum_topic(chat_id, int(topic_id), request_timeout=REQUEST_TIMEOUT)
            elif job.payload.get("message_id") is not None:
                await self.bot.delete_message(
                    chat_id, int(job.payload["message_id"]), request_timeout=REQUEST_TIMEOUT
                )
        except TelegramBadRequest as exc:
            if not (delete_gone(exc) or thread_gone(exc)):
                raise
