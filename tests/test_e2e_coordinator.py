"""The coordinators' side end to end: the real bot polls the fake Bot API; coordinators, an
outsider and a reporter act in the coordinators' group and in private.

Cases are made through storage (tests.harness.submit_case) or by a reporter going through the
questionnaire. The delivery worker (bot/delivery.py) runs inside the bot: it posts each case's
card in the group, refreshes it after every change and sends the reporter's neutral notices;
most tests bring a copy of the card into the group with /case N (which the handlers keep up to
date themselves), and one works the delivered card.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

import bot.delivery as delivery_module
from domain.values import CaseStatus
from domain.workflow import CloseReason
from emulator import FakeGroup, FakeMessage, FakeTelegram, FakeUser
from handlers.coordinator.keyboards import (
    CaseAct,
    CaseCb,
    ConfirmCb,
    MenuAct,
    MenuCb,
    PreviewAct,
    PreviewCb,
    QueueCb,
    StatusCb,
)
from handlers.report.keyboards import ReviewAct
from storage.models import OutboxItem
from tests.harness import (
    BotProcess,
    Clock,
    Reporter,
    coordination_env,
    fill_report,
    find_button,
    make_config,
    submit_case,
    tr,
)
from tests.sample import jpeg_with_gps

GROUP = -1004400110022
AIGERIM = 770011223  # coordinator
BOLAT = 770044556  # admin
DANA = 770077889  # coordinator who never opened a private chat with the bot
OUTSIDER = 880011223  # a member of the group without a role
REPORTER = 987654321
VIEW_MINUTES = 7

NOT_AVAILABLE = "This action is not available."
STALE = "This button is out of date."
NO_CASE = "No such case."
NOT_POSSIBLE = "This change is not possible now."


def en(msgid: str) -> str:
    return tr("en", msgid)


@dataclass
class Staff:
    fake: FakeTelegram
    bot: BotProcess
    group: FakeGroup
    aigerim: FakeUser  # in private
    bolat: FakeUser
    dana: FakeUser
    outsider: FakeUser

    def in_group(self, user: FakeUser) -> FakeUser:
        return self.group.users[user.id]

    @property
    def store(self) -> Any:
        assert self.bot.app is not None
        return self.bot.app.store

    async def settle(self) -> None:
        """Until the bot is idle and the delivery worker has sent everything due."""
        for _ in range(400):
            await self.bot.settle()
            if not await self._due():
                await self.bot.settle()
                if not await self._due():
                    return
            await asyncio.sleep(0.03)
        raise TimeoutError(f"outbox items stay due: {await self._due()}")

    async def submit(self, user_id: int, **kwargs: Any) -> int:
        """A case (tests.harness.submit_case), its card delivered by the worker."""
        case_id = await submit_case(self.bot, user_id, **kwargs)
        await self.settle()
        return case_id

    async def _due(self) -> list[tuple[str, int | None]]:
        now = self.store.clock()
        return [
            (i.kind, i.case_id) for i in await outbox(self) if i.status == "pending" and i.available_at <= now
        ]

    async def press(self, user: FakeUser, message: FakeMessage, data: str) -> str:
        """Press the button with this callback data (it must be on the message)."""
        callback = await user.press(find_button(message, data), message=message)
        await self.settle()
        return callback

    async def forge(self, user: FakeUser, message: FakeMessage, data: str) -> str:
        callback = await user.press_data(data, message)
        await self.settle()
        return callback

    def answer(self, callback_id: str) -> Any:
        answer = self.fake.callbacks[callback_id].answer
        assert answer is not None, "the button press was not answered"
        return answer

    async def command(self, user: FakeUser, text: str) -> None:
        await user.send_text(text)
        await self.settle()

    async def card(self, case_id: int, user: FakeUser | None = None) -> FakeMessage:
        """The case card brought into the group (or `user`'s chat) with /case N."""
        who = user or self.in_group(self.aigerim)
        asked = await who.send_text(f"/case {case_id}")
        await self.settle()
        note = CaseCb(act=CaseAct.NOTE, case=case_id).pack()
        return next(
            m
            for m in who.bot_messages()
            if m.message_id > asked.message_id and note in [d for _t, d in m.buttons()]
        )

    def fresh(self, message: FakeMessage) -> FakeMessage:
        found = self.fake.find_message(message.chat_id, message.message_id)
        assert found is not None
        return found


@pytest.fixture(autouse=True)
def _quick_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery_module, "POLL_INTERVAL", 0.03)
    monkeypatch.setattr(delivery_module, "CARD_WAIT_DELAY", timedelta(seconds=0.2))


@pytest.fixture
async def staff(fake: FakeTelegram, tmp_path: Path, clock: Clock) -> AsyncIterator[Staff]:
    # The reporter of the cases made through storage: the worker's notices reach them.
    fake.user(REPORTER, "Гульнара", "Сейткали", "gulnara_s", "ru", started=True)
    aigerim = fake.user(AIGERIM, "Айгерим", "Нурланова", "aigerim_ngo", "en", started=True)
    bolat = fake.user(BOLAT, "Болат", "Ахметов", "bolat_admin", "en", started=True)
    dana = fake.user(DANA, "Дана", "Сапарова", "dana_ngo", "en")
    outsider = fake.user(OUTSIDER, "Марат", "Чужой", "marat_x", "en", started=True)
    group = fake.group(
        GROUP,
        "Kua coordinators",
        members={AIGERIM: "administrator", BOLAT: "creator", DANA: "member", OUTSIDER: "member"},
    )
    env = coordination_env(
        GROUP,
        (AIGERIM, DANA),
        (BOLAT,),
        KUA_APP__DEFAULT_LOCALE="en",
        KUA_COORDINATION__PRIVATE_VIEW_MINUTES=str(VIEW_MINUTES),
    )
    process = BotProcess(make_config(fake, tmp_path, **env), fake, clock)
    await process.start()
    staff = Staff(fake, process, group, aigerim, bolat, dana, outsider)
    yield staff
    await process.stop()
    assert_no_leaks(staff, reporter_written_to=False)  # after every test, whatever it did


async def outbox(staff: Staff, kind: str | None = None) -> list[OutboxItem]:
    async with staff.store.cases._sessions() as session:  # noqa: SLF001 - test inspection
        query = select(OutboxItem).order_by(OutboxItem.id)
        if kind is not None:
            query = query.where(OutboxItem.kind == kind)
        return list(await session.scalars(query))


async def event_kinds(staff: Staff, case_id: int) -> list[tuple[str, int | None, dict[str, Any]]]:
    return [
        (kind, actor, data)
        for _at, _actor_kind, actor, kind, data in await staff.store.casework.events(case_id)
        if kind not in ("delivered", "opened_full")
    ]  # (the system's and custody's own)


def texts(user: FakeUser) -> list[str]:
    return [m.text or m.caption or "" for m in user.bot_messages(include_deleted=True)]


# --- the card: /case, Take -----------------------------------------------------------------------


async def test_case_command_and_take(staff: Staff) -> None:
    case_id = await staff.submit(REPORTER, narrative="NARRATIVE-take-1")
    a = staff.in_group(staff.aigerim)

    await staff.command(a, "/case 99")
    assert a.last_bot_message().text == en(NO_CASE)
    await staff.command(a, "/case")
    assert "/case 12" in a.last_bot_message().text

    card = await staff.card(case_id)
    assert f"#{case_id}" in card.text and "URGENT" in card.text
    assert "NARRATIVE" not in card.text  # the group shows a summary
    data = [d for _t, d in card.buttons()]
    for act in (CaseAct.TAKE, CaseAct.OPEN, CaseAct.STATUS, CaseAct.REPLY, CaseAct.NOTE):
        assert CaseCb(act=act, case=case_id).pack() in data

    callback = await staff.press(a, card, CaseCb(act=CaseAct.TAKE, case=case_id).pack())
    assert staff.answer(callback).text == f"You have taken case #{case_id}."
    view = await staff.store.casework.get(case_id)
    assert view.status is CaseStatus.IN_PROGRESS and view.assignee_id == AIGERIM
    card = staff.fresh(card)
    assert "Taken by" in card.text and en("In progress") in card.text
    assert CaseCb(act=CaseAct.TAKE, case=case_id).pack() not in [d for _t, d in card.buttons()]
    events = await event_kinds(staff, case_id)
    assert [(k, actor) for k, actor, _d in events] == [("take", AIGERIM)]
    # The card is refreshed and the reporter told, through the outbox.
    assert any(i.payload.get("refresh") for i in await outbox(staff, "card"))
    assert [i.payload for i in await outbox(staff, "status_notice")] == [{"status": "in_progress"}]

    # A second coordinator cannot grab it by a stale Take.
    callback = await staff.forge(
        staff.in_group(staff.bolat), card, CaseCb(act=CaseAct.TAKE, case=case_id).pack()
    )
    # ...and is told who has it, by the name Telegram gives the bot for her.
    assert staff.answer(callback).text == (f"Case #{case_id} is already taken by Айгерим Нурланова.")
    assert (await staff.store.casework.get(case_id)).assignee_id == AIGERIM


# --- Open: the private view ----------------------------------------------------------------------


async def test_open_sends_details_privately_and_schedules_their_deletion(staff: Staff) -> None:
    photo = jpeg_with_gps()
    case_id = await staff.submit(
        REPORTER,
        narrative="NARRATIVE-open-2 <b>не тег</b>",
        files=(("photo", photo), ("document", b"%PDF-1.4 fake")),
    )
    await staff.store.casework.message_from_reporter(case_id, "ADDED-BY-REPORTER-3")
    await staff.store.casework.add_note(case_id, BOLAT, "INTERNAL-NOTE-4")
    card = await staff.card(case_id)
    before = staff.store.clock()

    callback = await staff.press(
        staff.in_group(staff.aigerim), card, CaseCb(act=CaseAct.OPEN, case=case_id).pack()
    )
    assert staff.answer(callback).text == "Sent to you in private."
    private = staff.aigerim.bot_messages()
    joined = "\n".join(texts(staff.aigerim))
    for marker in (
        "NARRATIVE-open-2 <b>не тег</b>",
        "ЕС-164/1",
        "ADDED-BY-REPORTER-3",
        "INTERNAL-NOTE-4",
        f"{VIEW_MINUTES} min",
    ):
        assert marker in joined, marker
    # The files are new uploads of the stored bytes, never forwards or copies.
    photos = [m for m in private if m.kind == "photo"]
    documents = [m for m in private if m.kind == "document"]
    assert len(photos) == 1 and len(documents) == 1
    assert photos[0].data == photo and documents[0].data == b"%PDF-1.4 fake"
    assert not staff.fake.calls("forwardMessage") and not staff.fake.calls("copyMessage")
    assert all(r.files for r in staff.fake.calls("sendPhoto") + staff.fake.calls("sendDocument"))
    # Nothing of it in the group, nothing to anyone else.
    group_text = "\n".join(m.text or m.caption or "" for m in staff.group.transcript())
    for marker in ("NARRATIVE", "ADDED-BY-REPORTER", "INTERNAL-NOTE", "ЕС-164/1"):
        assert marker not in group_text
    assert staff.bolat.bot_messages() == [] and staff.fake.transcript(REPORTER) == []

    # Every message sent is scheduled for deletion after private_view_minutes.
    deletes = await outbox(staff, "delete")
    assert sorted(i.payload["message_id"] for i in deletes) == [m.message_id for m in private]
    assert {i.payload["chat_id"] for i in deletes} == {AIGERIM}
    for item in deletes:
        due = item.available_at - before
        assert timedelta(minutes=VIEW_MINUTES) <= due < timedelta(minutes=VIEW_MINUTES, seconds=30)
        assert item.available_at > staff.store.clock()  # not yet due


async def test_open_without_a_private_chat_asks_to_start_the_bot(staff: Staff) -> None:
    case_id = await staff.submit(REPORTER)
    card = await staff.card(case_id)
    dana = staff.in_group(staff.dana)
    for act in (CaseAct.OPEN, CaseAct.REPLY, CaseAct.NOTE):
        callback = await staff.press(dana, card, CaseCb(act=act, case=case_id).pack())
        answer = staff.answer(callback)
        assert answer.show_alert and "private chat with the bot first" in answer.text
    assert await outbox(staff, "delete") == []
    # Telegram refused the messages (403) — expected here, not a broken request.
    refused = [r for r in staff.fake.errors if r.status == 403 and r.chat_id == DANA]
    assert len(refused) == 3
    staff.fake.errors[:] = [r for r in staff.fake.errors if r not in refused]
    # Her first private text is not taken for a reply: no reply was started.
    await staff.command(staff.dana, "hello")
    assert (await staff.store.casework.channel(case_id)) == []
    assert await outbox(staff, "to_reporter") == []


# --- statuses ------------------------------------------------------------------------------------


async def test_status_changes_referral_close_and_reopen(staff: Staff) -> None:
    case_id = await staff.submit(REPORTER)
    a = staff.in_group(staff.aigerim)
    card = await staff.card(case_id)
    await staff.press(a, card, CaseCb(act=CaseAct.TAKE, case=case_id).pack())

    async def menu() -> FakeMessage:
        """Status on the card opens a menu of one's own, as a new message under the card."""
        before = len(staff.group.transcript())
        await staff.press(a, staff.fresh(card), CaseCb(act=CaseAct.STATUS, case=case_id).pack())
        [opened] = [m for m in staff.group.transcript()[before:] if m.from_bot]
        assert opened.reply_to is not None and opened.reply_to.message_id == card.message_id
        return opened

    async def choose(data: str) -> str:
        return await staff.press(a, await menu(), data)

    # Status, then Cancel: the card keeps its own buttons all along, nothing changed.
    buttons_before = [d for _t, d in staff.fresh(card).buttons()]
    opened = await menu()
    shown = [d for _t, d in opened.buttons()]
    assert StatusCb(case=case_id, to=CaseStatus.WAITING).pack() in shown
    assert StatusCb(case=case_id, to=CaseStatus.CLOSED, detail="spam").pack() in shown
    assert [d for _t, d in staff.fresh(card).buttons()] == buttons_before
    await staff.press(a, opened, MenuCb(act=MenuAct.CANCEL, case=case_id).pack())
    assert staff.fresh(opened).buttons() == []

    await choose(StatusCb(case=case_id, to=CaseStatus.WAITING).pack())
    assert (await staff.store.casework.get(case_id)).status is CaseStatus.WAITING
    assert en("Waiting for the reporter") in staff.fresh(card).text

    callback = await choose(StatusCb(case=case_id, to=CaseStatus.REFERRED, detail="lawyer").pack())
    view = await staff.store.casework.get(case_id)
    assert view.status is CaseStatus.REFERRED and view.referral == "lawyer"
    assert en("Referred to a lawyer") in staff.answer(callback).text
    assert en("Referred to a lawyer") in staff.fresh(card).text

    # Closing asks first; Back returns to the choices; Yes closes.
    opened = await menu()
    await staff.press(a, opened, StatusCb(case=case_id, to=CaseStatus.CLOSED, detail="resolved").pack())
    assert (await staff.store.casework.get(case_id)).status is CaseStatus.REFERRED
    asked = staff.fresh(opened)
    assert f"Close case #{case_id} as “Resolved”?" in asked.text
    await staff.press(a, asked, MenuCb(act=MenuAct.STATUS, case=case_id).pack())
    assert StatusCb(case=case_id, to=CaseStatus.CLOSED, detail="resolved").pack() in [
        d for _t, d in staff.fresh(opened).buttons()
    ]
    await staff.press(
        a, staff.fresh(opened), StatusCb(case=case_id, to=CaseStatus.CLOSED, detail="resolved").pack()
    )
    await staff.press(a, staff.fresh(opened), ConfirmCb(case=case_id, reason=CloseReason.RESOLVED).pack())
    view = await staff.store.casework.get(case_id)
    assert view.status is CaseStatus.CLOSED and view.close_reason == "resolved"
    closed = [d for _t, d in staff.fresh(card).buttons()]
    assert CaseCb(act=CaseAct.TAKE, case=case_id).pack() in closed  # "Reopen"
    assert CaseCb(act=CaseAct.STATUS, case=case_id).pack() not in closed

    # Reopened by the admin, a second coordinator: the old referral label goes too.
    await staff.press(
        staff.in_group(staff.bolat), staff.fresh(card), CaseCb(act=CaseAct.TAKE, case=case_id).pack()
    )
    view = await staff.store.casework.get(case_id)
    assert view.status is CaseStatus.IN_PROGRESS and view.assignee_id == BOLAT
    assert view.close_reason is None and view.referral is None
    assert en("Referred to a lawyer") not in staff.fresh(card).text

    events = await event_kinds(staff, case_id)
    assert [(k, actor, d.get("to"), d.get("referral"), d.get("reason")) for k, actor, d in events] == [
        ("take", AIGERIM, None, None, None),
        ("status", AIGERIM, "waiting", None, None),
        ("status", AIGERIM, "referred", "lawyer", None),
        ("status", AIGERIM, "closed", None, "resolved"),
        ("reopen", BOLAT, None, None, None),
    ]


async def test_forged_and_invalid_status_buttons_are_answered(staff: Staff) -> None:
    case_id = await staff.submit(REPORTER)
    a = staff.in_group(staff.aigerim)
    card = await staff.card(case_id)
    await staff.press(a, card, CaseCb(act=CaseAct.STATUS, case=case_id).pack())
    menu = staff.group.transcript()[-1]
    assert StatusCb(case=case_id, to=CaseStatus.CLOSED, detail="spam").pack() in [
        d for _t, d in menu.buttons()
    ]
    on_menu = {  # pressed on her own menu
        StatusCb(case=999, to=CaseStatus.CLOSED, detail="spam").pack(): NO_CASE,
        StatusCb(case=case_id, to=CaseStatus.WAITING).pack(): NOT_POSSIBLE,  # new → waiting
        StatusCb(case=case_id, to=CaseStatus.NEW).pack(): NOT_POSSIBLE,
        StatusCb(case=case_id, to=CaseStatus.REFERRED, detail="nonsense").pack(): STALE,
        StatusCb(case=case_id, to=CaseStatus.CLOSED).pack(): STALE,  # closing needs a reason
        ConfirmCb(case=case_id, reason=CloseReason.DUPLICATE).pack(): STALE,  # no other case
        f"s1:{case_id}:bogus:": STALE,
        f"s1:{2**40}:closed:spam": STALE,
    }
    on_card = {
        CaseCb(act=CaseAct.STATUS, case=999).pack(): NO_CASE,
        CaseCb(act=CaseAct.OPEN, case=999).pack(): NO_CASE,
        f"c1:explode:{case_id}": STALE,
        f"cq2:{'9' * 50}": STALE,  # numbers beyond any case, page or database integer
        f"c1:take:{'9' * 30}": STALE,
        QueueCb(after=1).pack(): STALE,  # the card is no queue page
        # Status choices pressed anywhere but on one's own menu are refused.
        StatusCb(
            case=case_id, to=CaseStatus.CLOSED, detail="spam"
        ).pack(): "This menu belongs to the coordinator who opened it. Press the button on the card "
        "to open your own.",
    }
    for message, cases in ((menu, on_menu), (card, on_card)):
        for data, expected in cases.items():
            callback = await staff.forge(a, message, data)
            assert staff.answer(callback).text == en(expected), data
    assert staff.fresh(card).edits == []
    view = await staff.store.casework.get(case_id)
    assert view.status is CaseStatus.NEW and await event_kinds(staff, case_id) == []
    await staff.command(a, f"/case {case_id}")  # still working
    assert any(f"#{case_id}" in m.text for m in a.bot_messages()[-2:])


# --- reply to the reporter, notes ----------------------------------------------------------------


async def test_reply_with_preview_edit_cancel_and_send(staff: Staff) -> None:
    case_id = await staff.submit(REPORTER)
    a_group = staff.in_group(staff.aigerim)
    a = staff.aigerim
    card = await staff.card(case_id)
    reply = CaseCb(act=CaseAct.REPLY, case=case_id).pack()

    # Replying on a case nobody has taken takes it.
    callback = await staff.press(a_group, card, reply)
    assert staff.answer(callback).text == (
        f"You have taken case #{case_id}. I have written to you in private."
    )
    assert (await staff.store.casework.get(case_id)).assignee_id == AIGERIM
    assert f"Write your message for the reporter of case #{case_id}" in a.last_bot_message().text

    await a.send_sticker()
    await staff.settle()
    assert a.last_bot_message().text == "Please send the message as text."

    await staff.command(a, "FIRST-DRAFT")
    preview = a.last_bot_message()
    assert preview.text.startswith(f"This will be sent to the reporter of case #{case_id}:")
    assert "FIRST-DRAFT" in preview.text
    # Left unanswered, the preview (the text) goes like an Open view does.
    [gone] = [i for i in await outbox(staff, "delete") if i.payload["message_id"] == preview.message_id]
    minutes = (gone.available_at - gone.created_at).total_seconds() / 60
    assert gone.payload["chat_id"] == AIGERIM
    assert round(minutes, 2) == staff.bot.config.coordination.private_view_minutes
    await staff.press(a, preview, PreviewCb(act=PreviewAct.EDIT, case=case_id).pack())
    assert "Write the new message" in staff.fresh(preview).text
    assert "FIRST-DRAFT" not in staff.fresh(preview).text

    await staff.command(a, "SECOND-DRAFT")
    preview = a.last_bot_message()
    assert "SECOND-DRAFT" in preview.text
    await staff.press(a, preview, PreviewCb(act=PreviewAct.CANCEL, case=case_id).pack())
    assert staff.fresh(preview).text == "Cancelled. Nothing was sent."
    # The cancelled preview can't be sent by a forged press either.
    callback = await staff.forge(a, staff.fresh(preview), PreviewCb(act=PreviewAct.SEND, case=case_id).pack())
    assert staff.answer(callback).text == en(STALE)
    assert await staff.store.casework.channel(case_id) == []
    assert await outbox(staff, "to_reporter") == []

    # Ordinary discussion in the group is never relayed.
    await staff.command(a_group, "GROUP-CHATTER: let's reply tomorrow")
    await staff.command(staff.in_group(staff.outsider), "GROUP-CHATTER 2")
    assert await outbox(staff, "to_reporter") == []

    # Now for real; a command while writing is still a command, and text after it is the reply.
    await staff.press(a_group, staff.fresh(card), reply)
    await staff.command(a, "/queue")
    assert f"#{case_id}" in a.last_bot_message().text
    final = "Здравствуйте! FINAL-MESSAGE <b>5 > 3</b> & co"
    await staff.command(a, final)
    preview = a.last_bot_message()
    assert final in preview.text
    callback = await staff.press(a, preview, PreviewCb(act=PreviewAct.SEND, case=case_id).pack())
    assert staff.answer(callback).text == "Sent."
    # Neither the preview's text nor what she typed stays on her phone: the preview says it
    # was sent (and goes with its scheduled deletion).
    assert staff.fresh(preview).text == (
        f"Your message was sent to the reporter of case #{case_id}. "
        "They get a notification without its content."
    )
    assert not staff.fresh(preview).buttons()
    typed = [
        m
        for m in staff.fake.transcript(AIGERIM)
        if not m.from_bot and (m.text or "") in (final, "FIRST-DRAFT", "SECOND-DRAFT")
    ]
    assert len(typed) == 3 and all(m.deleted for m in typed)
    assert final not in "\n".join(m.text or "" for m in a.bot_messages())

    [message] = await staff.store.casework.channel(case_id)
    assert (message.direction, message.text) == ("to_reporter", final)
    [item] = await outbox(staff, "to_reporter")
    assert item.payload == {"message": message.id} and item.case_id == case_id
    assert [(k, actor) for k, actor, _d in await event_kinds(staff, case_id)] == [
        ("take", AIGERIM),
        ("message_out", AIGERIM),
    ]
    # Pressing Send again does nothing more.
    callback = await staff.forge(a, a.last_bot_message(), PreviewCb(act=PreviewAct.SEND, case=case_id).pack())
    assert staff.answer(callback).text == en(STALE)
    assert len(await outbox(staff, "to_reporter")) == 1
    group_text = "\n".join(m.text or "" for m in staff.group.transcript() if m.from_bot)
    assert "FINAL-MESSAGE" not in group_text and "DRAFT" not in group_text


async def test_reply_is_not_offered_when_the_reporter_cannot_be_contacted(staff: Staff) -> None:
    case_id = await staff.submit(REPORTER, contact="no")
    card = await staff.card(case_id)
    reply = CaseCb(act=CaseAct.REPLY, case=case_id).pack()
    assert reply not in [d for _t, d in card.buttons()]
    callback = await staff.forge(staff.in_group(staff.aigerim), card, reply)
    assert staff.answer(callback).show_alert
    assert staff.aigerim.bot_messages() == []


async def test_note_stays_internal(staff: Staff) -> None:
    case_id = await staff.submit(REPORTER)
    card = await staff.card(case_id)
    await staff.press(staff.in_group(staff.bolat), card, CaseCb(act=CaseAct.NOTE, case=case_id).pack())
    b = staff.bolat
    assert "internal note" in b.last_bot_message().text
    await b.send_photo(jpeg_with_gps())
    await staff.settle()
    assert b.last_bot_message().text == "Please send the message as text."
    await staff.command(b, "NOTE-SECRET-42: called the lawyer")
    assert b.last_bot_message().text.startswith(f"The note was added to case #{case_id}")
    # Stored: what he typed does not stay in his chat with the bot.
    [typed] = [
        m
        for m in staff.fake.transcript(BOLAT)
        if not m.from_bot and (m.text or "").startswith("NOTE-SECRET-42")
    ]
    assert typed.deleted

    notes = await staff.store.casework.note_texts(case_id)
    assert [(actor, text) for _at, actor, text in notes] == [(BOLAT, "NOTE-SECRET-42: called the lawyer")]
    assert [(k, actor) for k, actor, _d in await event_kinds(staff, case_id)] == [("note", BOLAT)]
    kinds = {i.kind for i in await outbox(staff)}
    assert kinds <= {"card", "urgent"}  # nothing for the reporter
    assert await staff.store.casework.channel(case_id) == []
    # The next private text is no note any more: it goes to the ordinary handlers.
    await staff.command(b, "NOTE-SECRET-43")
    assert len(await staff.store.casework.note_texts(case_id)) == 1


# --- /queue --------------------------------------------------------------------------------------


async def test_queue_urgent_first_then_oldest_with_pages(staff: Staff, clock: Clock) -> None:
    urgent = {4, 9}
    for number in range(1, 13):
        danger = ["ongoing"] if number in urgent else ["none"]
        assert await staff.submit(REPORTER, danger=danger) == number
        clock.advance(minutes=5)
    await staff.store.casework.set_status(
        5, CaseStatus.CLOSED, AIGERIM, close_reason=CloseReason.DUPLICATE, duplicate_of=4
    )
    clock.advance(hours=3)
    expected = [4, 9, 1, 2, 3, 6, 7, 8, 10, 11, 12]
    line = re.compile(r"^#(\d+)( 🔴)?", re.MULTILINE)

    def data(message: FakeMessage) -> list[str | None]:
        return [d for _t, d in message.buttons()]

    for user in (staff.in_group(staff.aigerim), staff.bolat):  # in the group and in private
        await staff.command(user, "/queue")
        page = user.last_bot_message()
        found = line.findall(page.text or "")
        assert [int(n) for n, _u in found] == expected[:10]
        assert {int(n) for n, mark in found if mark} == urgent
        assert "Open cases: 11 · all open cases · 1–10" in page.text
        assert "Karaganda region" in page.text and "4 h" in page.text
        following = QueueCb(after=expected[9], n=10).pack()  # keyset: after the last shown
        assert following in data(page) and QueueCb().pack() not in data(page)
        assert all(len(d.encode()) <= 64 for d in data(page))

        await staff.press(user, page, following)
        page = staff.fresh(page)
        assert [int(n) for n, _u in line.findall(page.text or "")] == expected[10:]
        assert "· 11–11" in page.text
        assert QueueCb().pack() in data(page)  # back to the first page; no Next
        assert not [d for d in data(page) if d.startswith("cq2::") and d != QueueCb().pack()]
        await staff.press(user, page, QueueCb().pack())
        assert [int(n) for n, _u in line.findall(staff.fresh(page).text or "")] == expected[:10]

    # The queue shrank to one page: an old "Next" shows the first page there is.
    await staff.store.casework.set_status(12, CaseStatus.CLOSED, BOLAT, close_reason=CloseReason.WITHDRAWN)
    await staff.settle()
    page = staff.bolat.last_bot_message()
    await staff.forge(staff.bolat, page, QueueCb(after=expected[9], n=10).pack())
    page = staff.fresh(page)
    assert [int(n) for n, _u in line.findall(page.text or "")] == expected[:10]
    assert "Open cases: 10 · all open cases · 1–10" in page.text
    assert not [d for d in data(page) if d.startswith("cq2::") and d.split(":")[2] != "0"]


async def test_empty_queue(staff: Staff) -> None:
    await staff.command(staff.aigerim, "/queue")
    assert staff.aigerim.last_bot_message().text == "No open cases."


# --- the outsider --------------------------------------------------------------------------------


async def test_outsider_is_refused_and_learns_nothing(staff: Staff) -> None:
    case_id = await staff.submit(REPORTER, narrative="NARRATIVE-outsider")
    card = await staff.card(case_id)
    o_group = staff.in_group(staff.outsider)
    presses = [
        CaseCb(act=act, case=case_id).pack()
        for act in (CaseAct.TAKE, CaseAct.OPEN, CaseAct.STATUS, CaseAct.REPLY, CaseAct.NOTE)
    ]
    forged = [
        StatusCb(case=case_id, to=CaseStatus.CLOSED, detail="spam").pack(),
        CaseCb(act=CaseAct.BACK, case=case_id).pack(),
        StatusCb(case=999, to=CaseStatus.CLOSED, detail="spam").pack(),
        QueueCb(page=1).pack(),
        PreviewCb(act=PreviewAct.SEND, case=case_id).pack(),
    ]
    for data in presses:
        callback = await staff.press(o_group, card, data)
        answer = staff.answer(callback)
        assert answer.text == en(NOT_AVAILABLE) and not answer.show_alert
    for data in forged:
        callback = await staff.forge(o_group, card, data)
        assert staff.answer(callback).text == en(NOT_AVAILABLE)
    assert staff.fresh(card).edits == []

    # /queue and /case in the group: ignored.
    in_group = len(staff.group.transcript())
    await staff.command(o_group, "/queue")
    await staff.command(o_group, f"/case {case_id}")
    await staff.command(o_group, f"/case@{staff.fake.bot_username} {case_id}")
    assert [m for m in staff.group.transcript()[in_group:] if m.from_bot] == []

    # In private they are a stranger to the coordinators' side: the ordinary reporter's answers.
    o = staff.outsider
    await staff.command(o, "/queue")
    await staff.command(o, f"/case {case_id}")
    callback = await staff.forge(o, o.last_bot_message(), presses[0])
    assert staff.answer(callback).text == en(NOT_AVAILABLE)
    seen = "\n".join(texts(o))
    assert en("Please use the menu below.") in seen  # the reporter's side answered
    assert f"#{case_id}" not in seen and "Open cases" not in seen and "NARRATIVE" not in seen

    view = await staff.store.casework.get(case_id)
    assert view.status is CaseStatus.NEW and view.assignee_id is None
    assert await event_kinds(staff, case_id) == []
    assert {i.kind for i in await outbox(staff)} <= {"card", "urgent"}


async def test_coordinator_commands_only_in_their_group(staff: Staff) -> None:
    """A coordinator's /case in another group would show the case there: ignored."""
    case_id = await staff.submit(REPORTER)
    other = staff.fake.group(-1001111111111, "Family chat", members={AIGERIM: "member"})
    await staff.command(other.users[AIGERIM], f"/case {case_id}")
    await staff.command(other.users[AIGERIM], "/queue")
    assert [m for m in other.transcript() if m.from_bot] == []


# --- a whole journey, with the leak checks -------------------------------------------------------


async def test_reporter_to_coordinator_journey_leaks_nothing(staff: Staff) -> None:
    user = staff.fake.user(
        REPORTER, first_name="Гульнара", last_name="Сейткали", username="gulnara_s", language_code="ru"
    )
    reporter = Reporter(staff.fake, user, staff.bot)
    await reporter.choose_language("ru")
    await reporter.press("m1:report")
    await reporter.consent()
    await fill_report(reporter, narrative="JOURNEY-NARRATIVE", photo=jpeg_with_gps())
    await reporter.review(ReviewAct.SEND)
    [case_id] = [v.id for v in (await staff.store.casework.queue())[0]]

    a_group = staff.in_group(staff.aigerim)
    card = await staff.card(case_id)
    await staff.press(a_group, card, CaseCb(act=CaseAct.TAKE, case=case_id).pack())
    await staff.press(a_group, staff.fresh(card), CaseCb(act=CaseAct.OPEN, case=case_id).pack())
    assert "JOURNEY-NARRATIVE" in "\n".join(texts(staff.aigerim))
    await staff.press(a_group, staff.fresh(card), CaseCb(act=CaseAct.REPLY, case=case_id).pack())
    await staff.command(staff.aigerim, "Please tell us more, JOURNEY-REPLY")
    await staff.press(
        staff.aigerim, staff.aigerim.last_bot_message(), PreviewCb(act=PreviewAct.SEND, case=case_id).pack()
    )
    await staff.command(a_group, "Aigerim here: I will call the lawyer")
    assert len(await outbox(staff, "to_reporter")) == 1
    assert not staff.fake.forwards and not staff.fake.calls("copyMessage")
    assert_no_leaks(staff)


def assert_no_leaks(staff: Staff, *, reporter_written_to: bool = True) -> None:
    """No request to the reporter's chat names a coordinator (id, names, username); no request
    to the group or a coordinator's chat names the reporter."""
    coordinators = [staff.aigerim, staff.bolat, staff.dana]
    coordinator_marks = [str(u.id) for u in coordinators] + [
        u.profile[k] for u in coordinators for k in ("first_name", "last_name", "username")
    ]
    reporter = staff.fake.known_user(REPORTER)
    assert reporter is not None
    assert reporter is not None
    reporter_marks = [str(REPORTER)] + [reporter.profile[k] for k in ("first_name", "last_name", "username")]

    def found(mark: str, body: str) -> bool:
        if mark.isdigit():  # an id, not the same digits inside another number
            return re.search(rf"(?<!\d){mark}(?!\d)", body) is not None
        return mark in body

    for request in staff.fake.requests:
        body = json.dumps(request.params, ensure_ascii=False)
        if request.chat_id == REPORTER:
            assert not [m for m in coordinator_marks if found(m, body)], str(request)
        if request.chat_id == GROUP or request.chat_id in {u.id for u in coordinators}:
            assert not [m for m in reporter_marks if found(m, body)], str(request)
    if reporter_written_to:  # (notices): so the check above means something
        assert any(r.chat_id == REPORTER for r in staff.fake.requests)


# --- the card the delivery worker posted ---------------------------------------------------------


async def test_working_the_delivered_card(staff: Staff, clock: Clock) -> None:
    case_id = await staff.submit(REPORTER, narrative="NARRATIVE-delivered")
    await staff.settle()
    view = await staff.store.casework.get(case_id)
    assert view.group_chat_id == GROUP and view.card_message_id is not None
    card = staff.fake.find_message(GROUP, view.card_message_id)
    assert card is not None and "NARRATIVE" not in card.text
    a_group = staff.in_group(staff.aigerim)
    reporter = staff.fake.known_user(REPORTER)
    assert reporter is not None

    # Take: the worker refreshes the card; the reporter gets the neutral status notice.
    await staff.press(a_group, card, CaseCb(act=CaseAct.TAKE, case=case_id).pack())
    card = staff.fresh(card)
    assert "Taken by" in card.text and en("In progress") in card.text
    assert tr("ru", "There is an update for you. Tap “Read” to see it.") in reporter.last_bot_message().text

    # Status on the delivered card: a menu of Aigerim's own; Bolat's press on it is refused.
    await staff.press(a_group, card, CaseCb(act=CaseAct.STATUS, case=case_id).pack())
    menu = staff.group.transcript()[-1]
    waiting = StatusCb(case=case_id, to=CaseStatus.WAITING).pack()
    callback = await staff.press(staff.in_group(staff.bolat), menu, waiting)
    assert "belongs to the coordinator who opened it" in staff.answer(callback).text
    assert (await staff.store.casework.get(case_id)).status is CaseStatus.IN_PROGRESS
    await staff.press(a_group, menu, waiting)
    card = staff.fresh(card)
    assert en("Waiting for the reporter") in card.text
    assert CaseCb(act=CaseAct.STATUS, case=case_id).pack() in [d for _t, d in card.buttons()]
    assert (await staff.store.casework.get(case_id)).status is CaseStatus.WAITING

    # Reply: the reporter gets a neutral notification only; the text shows on tap (follow-up).
    await staff.press(a_group, card, CaseCb(act=CaseAct.REPLY, case=case_id).pack())
    await staff.command(staff.aigerim, "DELIVERED-REPLY: did they see a doctor?")
    await staff.press(
        staff.aigerim, staff.aigerim.last_bot_message(), PreviewCb(act=PreviewAct.SEND, case=case_id).pack()
    )
    notice = reporter.last_bot_message()
    assert notice.text == tr("ru", "You have something new. Tap “Read” to see it.")
    assert all("DELIVERED-REPLY" not in t for t in texts(reporter))

    # Open: the private view disappears after private_view_minutes.
    before = {m.message_id for m in staff.aigerim.bot_messages()}
    await staff.press(a_group, staff.fresh(card), CaseCb(act=CaseAct.OPEN, case=case_id).pack())
    view_messages = [m for m in staff.aigerim.bot_messages() if m.message_id not in before]
    assert any("NARRATIVE-delivered" in (m.text or "") for m in view_messages)
    shown = {m.message_id for m in view_messages}
    opened = len([i for i in await outbox(staff, "delete") if i.payload["message_id"] in shown])
    assert opened == len(view_messages) >= 2
    clock.advance(minutes=VIEW_MINUTES - 1)
    await staff.settle()
    assert not any(staff.fresh(m).deleted for m in view_messages)
    clock.advance(minutes=2)
    await staff.settle()
    deleted = [m for m in view_messages if staff.fresh(m).deleted]
    assert len(deleted) == opened
    assert not any("NARRATIVE-delivered" in (m.text or "") for m in staff.aigerim.bot_messages())
    assert {i.status for i in await outbox(staff, "delete")} == {"done"}

    # The reporter reads the reply on tap, then adds information with a photo.
    rep = Reporter(staff.fake, reporter, staff.bot)
    await rep.press(f"f1:read:{case_id}")
    assert "DELIVERED-REPLY: did they see a doctor?" in rep.last_text()
    await rep.press(f"f1:add:{case_id}")
    await rep.say("ADDED-BY-REPORTER: yes, on 4 May")
    await rep.user.send_photo(jpeg_with_gps())
    await staff.settle()
    in_group = [m.text or "" for m in staff.group.transcript() if m.from_bot]
    notice_text = en("The reporter added information to case #{number}.").format(number=case_id)
    assert sum(notice_text in t for t in in_group) == 2
    assert not any("ADDED-BY-REPORTER" in t for t in in_group)  # summary: content stays out
    # ...and a coordinator sees it privately with Open.
    before = {m.message_id for m in staff.aigerim.bot_messages()}
    await staff.press(a_group, staff.fresh(card), CaseCb(act=CaseAct.OPEN, case=case_id).pack())
    seen = [m for m in staff.aigerim.bot_messages() if m.message_id not in before]
    assert any("ADDED-BY-REPORTER" in (m.text or "") for m in seen)
    assert any(m.kind == "photo" for m in seen)

    # Closing: the reporter is told, neutrally, in their language (which status: on "Read").
    await staff.press(a_group, staff.fresh(card), CaseCb(act=CaseAct.STATUS, case=case_id).pack())
    menu = staff.group.transcript()[-1]
    await staff.press(
        a_group, menu, StatusCb(case=case_id, to=CaseStatus.CLOSED, detail=CloseReason.RESOLVED.value).pack()
    )
    await staff.press(a_group, staff.fresh(menu), ConfirmCb(case=case_id, reason=CloseReason.RESOLVED).pack())
    assert (await staff.store.casework.get(case_id)).status is CaseStatus.CLOSED
    assert reporter.last_bot_message().text == tr("ru", "There is an update for you. Tap “Read” to see it.")
    assert not staff.fake.forwards
    assert_no_leaks(staff)


# --- coordinators who also use the bot as reporters; other settings ------------------------------


async def test_a_coordinators_own_report_is_untouched_by_a_note(staff: Staff) -> None:
    case_id = await staff.submit(REPORTER)
    me = Reporter(staff.fake, staff.bolat, staff.bot)
    await me.choose_language("en")
    await me.press("m1:report")
    await me.consent()
    await me.answer("relation", "sibling")
    await me.answer("person_agrees", "yes")  # now on the "danger" question

    card = await staff.card(case_id)
    await staff.press(staff.in_group(staff.bolat), card, CaseCb(act=CaseAct.NOTE, case=case_id).pack())
    await me.say("NOTE-FROM-A-REPORTING-COORDINATOR")
    notes = await staff.store.casework.note_texts(case_id)
    assert [text for _at, _who, text in notes] == ["NOTE-FROM-A-REPORTING-COORDINATOR"]
    # The prompt's Cancel is gone; the report goes on where it was, with its answers.
    [prompt] = [m for m in staff.bolat.bot_messages() if "internal note" in (m.text or "")]
    assert prompt.buttons() == []
    await me.multi("danger", "none")
    await me.answer("facility_kind", "colony")
    assert staff.bot.app is not None
    key = StorageKey(bot_id=staff.fake.bot_id, chat_id=BOLAT, user_id=BOLAT)
    assert await staff.bot.app.fsm.get_state(key) == "Report:region"
    assert (await staff.bot.app.fsm.get_data(key))["answers"]["relation"] == "sibling"


async def test_an_older_preview_cannot_send_the_newer_text(staff: Staff) -> None:
    case_id = await staff.submit(REPORTER)
    a = staff.aigerim
    card = await staff.card(case_id)
    reply = CaseCb(act=CaseAct.REPLY, case=case_id).pack()
    await staff.press(staff.in_group(a), card, reply)
    await staff.command(a, "OLD-TEXT")
    old = a.last_bot_message()
    await staff.press(staff.in_group(a), staff.fresh(card), reply)  # started again
    assert staff.fresh(old).buttons() == []  # the old preview lost its buttons
    await staff.command(a, "NEW-TEXT")
    callback = await staff.forge(a, staff.fresh(old), PreviewCb(act=PreviewAct.SEND, case=case_id).pack())
    assert staff.answer(callback).text == en(STALE)
    assert await staff.store.casework.channel(case_id) == []
    await staff.press(a, a.last_bot_message(), PreviewCb(act=PreviewAct.SEND, case=case_id).pack())
    assert [m.text for m in await staff.store.casework.channel(case_id)] == ["NEW-TEXT"]


async def test_full_cards_have_no_open_button_and_topics_get_answers_in_place(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    aigerim = fake.user(AIGERIM, "Айгерим", username="aigerim_ngo", language_code="en", started=True)
    fake.user(REPORTER, "Гульнара", language_code="ru", started=True)
    forum = fake.group(GROUP, "Kua coordinators", is_forum=True, members={AIGERIM: "administrator"})
    env = coordination_env(GROUP, (AIGERIM,), group_shows="full", KUA_APP__DEFAULT_LOCALE="en")
    process = BotProcess(make_config(fake, tmp_path, **env), fake)
    await process.start()
    try:
        staff = Staff(
            fake,
            process,
            forum,
            aigerim,
            aigerim,
            aigerim,
            aigerim,
        )
        case_id = await staff.submit(REPORTER)
        view = await staff.store.casework.get(case_id)
        assert view.topic_id is not None
        a = forum.users[AIGERIM]
        asked = await a.send_text(f"/case {case_id}", message_thread_id=view.topic_id)
        await staff.settle()
        answer, history = [m for m in a.bot_messages() if m.message_id > asked.message_id]
        assert answer.message_thread_id == view.topic_id == history.message_thread_id
        assert f"History of case #{case_id}" in history.text
        assert CaseCb(act=CaseAct.OPEN, case=case_id).pack() not in [d for _t, d in answer.buttons()]
        await staff.press(a, answer, CaseCb(act=CaseAct.TAKE, case=case_id).pack())
        assert "Taken by" in staff.fresh(answer).text
        assert "Taken by" in fake.find_message(GROUP, view.card_message_id).text
    finally:
        await process.stop()
