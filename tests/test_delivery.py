"""The outbox delivery worker (bot/delivery.py) against the fake Bot API: cards in the
coordinators' chat (forum topics or reply threads), urgent alerts, reminders, the reporter's
neutral notices, faults, restarts and two workers at once."""

from __future__ import annotations

import asyncio
import io
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import bot.delivery as delivery_module
from bot.app import build_app
from bot.delivery import Delivery, backoff
from bot.retention import retention_round
from domain.values import CaseStatus
from domain.workflow import CloseReason
from emulator import FakeGroup, FakeMessage, FakeTelegram
from handlers.coordinator.alerts import topic_name
from handlers.report.keyboards import ReviewAct
from storage.db import upgrade_to_head
from storage.outbox import OutboxKind
from storage.repositories import Consent, Store, Submission
from tests.harness import BotProcess, Reporter, fill_report, make_config, tr
from tests.sample import FULL_ANSWERS

FORUM_ID = -1001234500001
GROUP_ID = -4004005001  # an ordinary (basic) group: cards and their reply threads
COORDINATOR = 5550001
REPORTER_ID = 987650001
NARRATIVE = "NARRATIVE-MARKER they beat him at night"


@pytest.fixture(autouse=True)
def _quick_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery_module, "POLL_INTERVAL", 0.03)
    monkeypatch.setattr(delivery_module, "CARD_WAIT_DELAY", timedelta(seconds=0.2))


def group_config(fake: FakeTelegram, tmp_path: Path, chat_id: int, **env: str):
    return make_config(
        fake, tmp_path, KUA_COORDINATION__CHAT_ID=str(chat_id), KUA_APP__DEFAULT_LOCALE="en", **env
    )


@pytest.fixture
def forum(fake: FakeTelegram) -> FakeGroup:
    return fake.group(FORUM_ID, "Kua coordinators", is_forum=True, members={COORDINATOR: "administrator"})


@pytest.fixture
def group(fake: FakeTelegram) -> FakeGroup:
    return fake.group(GROUP_ID, "Kua coordinators", members={COORDINATOR: "administrator"})


@pytest.fixture
async def running(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[BotProcess]]]:
    """Start the real bot with the coordinators' chat configured: `await running(chat_id)`."""
    started: list[BotProcess] = []

    async def start(chat_id: int, **env: str) -> BotProcess:
        process = BotProcess(group_config(fake, tmp_path, chat_id, **env), fake)
        await process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        await process.stop()


async def submit(
    store: Store,
    *,
    user_id: int = REPORTER_ID,
    urgent: bool = True,
    contact: bool = True,
    narrative: str = NARRATIVE,
    photo: bytes | None = None,
    locale: str = "en",
    **changes: Any,
) -> int:
    answers = dict(FULL_ANSWERS)
    answers["narrative"] = {"text": narrative}
    answers["perpetrator_names"] = {"text": "Officer NAME-MARKER"}
    if not urgent:
        answers["danger"] = ["none"]
    if not contact:
        answers["contact"], answers["silent"] = "no", "-"
    answers.update(changes)
    draft = store.attachments.new_draft_ref()
    if photo is not None:
        await store.attachments.add(draft, kind="photo", mime_type="image/jpeg", file_name=None, data=photo)
    case = await store.cases.submit(
        user_id, user_id, Submission(answers=answers, consent=Consent(), draft_ref=draft, locale=locale)
    )
    return case.id


def image(color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG")
    return buf.getvalue()


def card_case(message: FakeMessage) -> int | None:
    """The case number of a card (the only group messages with the case buttons)."""
    for _text, data in message.buttons():
        if data and data.startswith("c1:"):
            return int(data.rsplit(":", 1)[1])
    return None


def cards(fake: FakeTelegram, chat_id: int) -> dict[int, list[FakeMessage]]:
    """Undeleted card messages per case number (an edit is the same message)."""
    found: dict[int, list[FakeMessage]] = {}
    for message in fake.transcript(chat_id):
        number = card_case(message)
        if message.from_bot and not message.deleted and number is not None:
            found.setdefault(number, []).append(message)
    return found


def group_requests(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [repr(r.params) + repr(r.files) for r in fake.requests if r.chat_id == chat_id]


async def until(check: Callable[[], Any], timeout: float = 8.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.03)


async def no_pending(store: Store) -> bool:
    return (await store.outbox.counts()).get("pending", 0) == 0


def forget_errors(fake: FakeTelegram, *descriptions: str) -> list[str]:
    """Drop the expected refusals from fake.errors; return the descriptions dropped."""
    dropped = [
        r.description or "" for r in fake.errors if any(d in (r.description or "") for d in descriptions)
    ]
    fake.errors[:] = [r for r in fake.errors if not any(d in (r.description or "") for d in descriptions)]
    return dropped


# --- cards ---------------------------------------------------------------------------------------


async def test_forum_gets_one_topic_per_case_with_its_card(
    fake: FakeTelegram, forum: FakeGroup, running
) -> None:
    kua = await running(FORUM_ID)
    store = kua.app.store
    first = await submit(store, photo=image())
    second = await submit(store, urgent=False, region="astana", facility_kind="colony")
    await until(lambda: no_pending(store), what="delivery")
    await fake.idle()

    assert [t.name for t in forum.topics] == [
        f"🔴 #{first} · Karaganda region · Pre-trial detention centre (SIZO)",
        f"#{second} · Astana (city) · Colony or prison",
    ]
    found = cards(fake, FORUM_ID)
    assert sorted(found) == [first, second] and all(len(v) == 1 for v in found.values())
    card = found[first][0]
    topic = forum.topics[0]
    assert card.message_thread_id == topic.message_thread_id and card.is_topic_message
    text = card.text or ""
    for expected in (
        f"URGENT · Case #{first}",
        "Status: New",
        "Karaganda region",
        "Pre-trial detention centre (SIZO)",
        "This week",
        "Beating",
        "Files: 1",
    ):
        assert expected in text, (expected, text)
    assert NARRATIVE not in text and "NAME-MARKER" not in text and "ЕС-164/1" not in text
    assert [d for _t, d in card.buttons()][:2] == [f"c1:take:{first}", f"c1:open:{first}"]
    view = await store.casework.get(first)
    assert (view.group_chat_id, view.topic_id, view.card_message_id) == (
        FORUM_ID,
        topic.message_thread_id,
        card.message_id,
    )
    assert topic.icon_color == delivery_module.URGENT_TOPIC_COLOR
    assert len(fake.calls("getChat")) == 1  # the forum flag is cached


async def test_ordinary_group_card_starts_the_thread_and_later_messages_reply_to_it(
    fake: FakeTelegram, group: FakeGroup, running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery_module, "REMINDER_INTERVAL", 0.1)
    kua = await running(GROUP_ID)
    store = kua.app.store
    case_id = await submit(store, urgent=False)  # (urgent ones are re-alerted too: see below)
    await until(lambda: cards(fake, GROUP_ID).get(case_id), what="the card")
    card = cards(fake, GROUP_ID)[case_id][0]
    assert card.message_thread_id is None and card.reply_to is None

    kua.clock.advance(hours=13)  # still new after remind_after_hours (12)
    await store.casework.message_from_reporter(case_id, "ADDED-MARKER more details")
    await until(lambda: len(group.transcript()) >= 3, what="reminder and notice")
    await until(lambda: no_pending(store))
    later = [m for m in group.transcript() if m.message_id != card.message_id]
    assert len(later) == 2 and all(m.reply_to is card for m in later)
    texts = " | ".join(m.text or "" for m in later)
    assert f"Case #{case_id} is still new after 12 hours" in texts
    assert f"The reporter added information to case #{case_id}." in texts
    # Summary mode: nothing the reporter wrote reaches the group.
    for request in group_requests(fake, GROUP_ID):
        assert "ADDED-MARKER" not in request and "NARRATIVE-MARKER" not in request
        assert "NAME-MARKER" not in request and "ЕС-164/1" not in request
    # Reminded once, not again at the next check.
    await asyncio.sleep(0.3)
    assert len(group.transcript()) == 3


async def test_many_cases_due_at_once_get_one_digest_not_a_reminder_each(
    fake: FakeTelegram, group: FakeGroup, running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A surge: more cases fall due in one round than are reminded one by one, so the group gets
    one message, the first page of the cases nobody has taken, and no reminder per case."""
    monkeypatch.setattr(delivery_module, "REMINDER_INTERVAL", 0.1)
    kua = await running(GROUP_ID)
    store = kua.app.store
    ids = [await submit(store, user_id=REPORTER_ID + n, urgent=False, contact=False) for n in range(7)]
    await until(lambda: len(cards(fake, GROUP_ID)) == 7, what="the cards")
    kua.clock.advance(hours=13)
    await until(lambda: len(group.transcript()) >= 8, what="the digest")
    await until(lambda: no_pending(store))
    await asyncio.sleep(0.3)  # and nothing more at the next checks
    [digest] = group.transcript()[7:]  # after the seven cards, one message
    assert digest.reply_to is None and digest.message_thread_id is None
    text = digest.text or ""
    assert text.startswith("⏰") and "Open cases: 7 · not taken by anyone · 1–7" in text
    assert all(f"#{case_id}" in text for case_id in ids)
    assert "still new after" not in text


async def test_full_mode_reuploads_the_reporters_files_as_new_messages(
    fake: FakeTelegram, forum: FakeGroup, running
) -> None:
    kua = await running(FORUM_ID, KUA_COORDINATION__GROUP_SHOWS="full")
    store = kua.app.store
    report_photo = image((30, 200, 30))
    case_id = await submit(store, photo=report_photo)
    await until(lambda: cards(fake, FORUM_ID).get(case_id), what="the card")
    card = cards(fake, FORUM_ID)[case_id][0]
    assert "c1:open" not in repr(card.buttons())  # the full text is not behind Open
    # The whole report follows its card into the topic: free text, names, files.
    await until(lambda: no_pending(store), what="the details")
    await fake.idle()
    details = [m for m in forum.transcript() if m.from_bot and m.message_id > card.message_id]
    assert [m.kind for m in details] == ["text", "photo"]
    assert NARRATIVE in (details[0].text or "") and "NAME-MARKER" in (details[0].text or "")
    assert details[1].data == report_photo
    assert all(m.message_thread_id == card.message_thread_id for m in details)
    card = details[-1]  # what the reporter adds comes after these
    photo = image((200, 30, 30))
    draft = store.attachments.new_draft_ref()
    stored = await store.attachments.add(
        draft, kind="photo", mime_type="image/jpeg", file_name="IMG_0001.jpg", data=photo
    )
    await store.casework.message_from_reporter(case_id, "ADDED-MARKER <b>not html</b>", [stored.id])
    await until(lambda: no_pending(store), what="delivery")
    await fake.idle()
    added = [m for m in forum.transcript() if m.from_bot and m.message_id > card.message_id]
    assert [m.kind for m in added] == ["text", "photo"]
    assert all(m.message_thread_id == details[0].message_thread_id for m in added)
    assert "ADDED-MARKER <b>not html</b>" in (added[0].text or "")  # escaped, shown as typed
    assert added[1].data == photo and added[1].caption == f"Case #{case_id} · 1/1"
    assert not fake.forwards and not fake.calls("copyMessage") and not fake.calls("forwardMessage")


# --- faults --------------------------------------------------------------------------------------


async def test_flood_control_errors_and_dropped_connections_still_give_one_card_each(
    fake: FakeTelegram, group: FakeGroup, running
) -> None:
    fake.fail_next("sendMessage", retry_after=1)
    fake.fail_next("sendMessage", status=500)
    fake.fail_next("sendMessage", status=502, description="Bad Gateway")
    fake.drop_next("sendMessage", times=2)
    kua = await running(GROUP_ID)
    store = kua.app.store
    ids = [await submit(store, urgent=False) for _ in range(4)]
    await until(lambda: sorted(cards(fake, GROUP_ID)) == ids, timeout=9, what="four cards")
    await until(lambda: no_pending(store))
    assert all(len(v) == 1 for v in cards(fake, GROUP_ID).values())
    refused = [r for r in fake.calls("sendMessage") if not r.ok]
    assert len(refused) == 5
    # The 429 was honoured: the next try came no sooner than retry_after.
    first = fake.calls("sendMessage")[0]
    retried = [r for r in fake.calls("sendMessage")[1:] if r.params.get("text") == first.params.get("text")]
    assert retried and retried[0].time - first.time >= 0.95


async def test_a_failed_card_after_its_topic_was_created_reuses_the_topic(
    fake: FakeTelegram, forum: FakeGroup, running
) -> None:
    fake.fail_next("sendMessage", status=500)
    kua = await running(FORUM_ID)
    case_id = await submit(kua.app.store, urgent=False)
    await until(lambda: cards(fake, FORUM_ID).get(case_id), timeout=9, what="the card")
    assert len(forum.topics) == 1
    assert cards(fake, FORUM_ID)[case_id][0].message_thread_id == forum.topics[0].message_thread_id


async def test_a_deleted_topic_is_recreated_with_the_card_on_the_next_refresh(
    fake: FakeTelegram, forum: FakeGroup, running
) -> None:
    reporter = fake.user(REPORTER_ID, first_name="Айгуль", started=True)
    kua = await running(FORUM_ID)
    store = kua.app.store
    case_id = await submit(store)
    await until(lambda: cards(fake, FORUM_ID).get(case_id), what="the card")
    old = forum.topics[0]
    await kua.app.bot.delete_forum_topic(FORUM_ID, old.message_thread_id)  # someone deletes it
    assert not cards(fake, FORUM_ID)

    await store.casework.take(case_id, COORDINATOR)  # a change: the card is refreshed
    await until(lambda: cards(fake, FORUM_ID).get(case_id), what="the card again")
    await until(lambda: no_pending(store))
    new = forum.topics[-1]
    assert new is not old and not new.deleted and len(forum.topics) == 2
    assert new.name == old.name
    card = cards(fake, FORUM_ID)[case_id][0]
    assert card.message_thread_id == new.message_thread_id
    assert "Status: In progress" in (card.text or "")
    assert forget_errors(fake, "message to edit not found", "message thread not found")
    # The reporter heard of the status change: neutral, silent, with a Read button.
    notice = reporter.last_bot_message()
    assert notice.text == "There is an update for you. Tap “Read” to see it."  # neutral
    assert notice.buttons() == [("Read", f"f1:read:{case_id}")]
    sent = [r for r in fake.calls("sendMessage") if r.chat_id == REPORTER_ID][-1]
    assert sent.params.get("disable_notification") is True


async def test_refreshes_of_a_card_already_showing_its_state_send_no_edit(
    fake: FakeTelegram, forum: FakeGroup, running
) -> None:
    """Two refreshes queued behind one change: the first shows the new state, the second finds
    the card showing it already and leaves it (Telegram would refuse "message is not modified")."""
    fake.user(REPORTER_ID, first_name="Айгуль", started=True)
    kua = await running(FORUM_ID)
    store = kua.app.store
    case_id = await submit(store)
    await until(lambda: cards(fake, FORUM_ID).get(case_id), what="the card")
    await store.casework.take(case_id, COORDINATOR)  # a change: one refresh queued
    await until(lambda: no_pending(store))
    edits = len(fake.calls("editMessageText"))
    assert edits >= 1
    for _ in range(2):  # nothing changed since: refreshes that find the card as it should be
        await store.outbox.add(OutboxKind.CARD, case_id=case_id, payload={"refresh": True})
    await until(lambda: no_pending(store))
    assert len(fake.calls("editMessageText")) == edits
    assert not [r for r in fake.errors if "not modified" in (r.description or "")]


async def test_restarts_mid_delivery_lose_and_repeat_nothing(
    fake: FakeTelegram, forum: FakeGroup, running
) -> None:
    kua = await running(FORUM_ID)
    store = kua.app.store
    ids = [await submit(store, urgent=i % 3 == 0) for i in range(20)]
    rng = random.Random(7)
    progress = []
    for _ in range(5):
        await asyncio.sleep(rng.uniform(0.02, 0.25))
        progress.append(len(cards(fake, FORUM_ID)))
        await kua.restart()
    assert any(0 < n < 20 for n in progress), progress  # some restarts hit mid-delivery
    store = kua.app.store
    await until(lambda: sorted(cards(fake, FORUM_ID)) == ids, timeout=9, what="20 cards")
    await until(lambda: no_pending(store))
    found = cards(fake, FORUM_ID)
    assert all(len(v) == 1 for v in found.values()), {k: len(v) for k, v in found.items()}
    assert len(forum.topics) == 20 and not any(t.deleted for t in forum.topics)
    for case_id in ids:  # every card sits in its own case's topic
        view = await store.casework.get(case_id)
        assert found[case_id][0].message_thread_id == view.topic_id
        assert found[case_id][0].message_id == view.card_message_id


async def test_a_worker_cancelled_anywhere_finishes_the_card_in_progress(
    fake: FakeTelegram, forum: FakeGroup, tmp_path: Path
) -> None:
    """Cancelling the worker task itself (what serve() does after its grace period): the item
    being sent is still recorded, the unstarted ones are handed back at once."""
    config = group_config(fake, tmp_path, FORUM_ID)
    await upgrade_to_head(config.database.url)
    app = await build_app(config)
    try:
        ids = [await submit(app.store, urgent=False) for _ in range(12)]
        rng = random.Random(11)
        progress = []
        for round_ in range(8):
            worker = Delivery(
                app.bot, app.store, app.config, app.i18n, worker_id=f"c{round_}", poll_interval=0.02
            )
            task = asyncio.create_task(worker.run(asyncio.Event()))
            await asyncio.sleep(rng.uniform(0.005, 0.08))
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            progress.append(len(cards(fake, FORUM_ID)))
        assert any(0 < n < 12 for n in progress), progress
        stop = asyncio.Event()
        task = asyncio.create_task(
            Delivery(app.bot, app.store, app.config, app.i18n, worker_id="last", poll_interval=0.02).run(stop)
        )
        try:
            await until(lambda: no_pending(app.store), what="the rest")  # no lease to wait out
        finally:
            stop.set()
            await task
    finally:
        await app.close()
    found = cards(fake, FORUM_ID)
    assert sorted(found) == ids and all(len(v) == 1 for v in found.values())
    assert len(forum.topics) == 12


async def test_without_a_coordinators_chat_cards_wait_and_one_warning_is_logged(
    fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kua.delivery")
    kua = BotProcess(make_config(fake, tmp_path), fake)
    await kua.start()
    try:
        for _ in range(2):
            await submit(kua.app.store, urgent=False)
        await asyncio.sleep(0.4)
        counts = await kua.app.store.outbox.counts()
        assert counts == {"pending": 2}
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == "kua.delivery"]
        assert len(warnings) == 1 and "coordination.chat_id" in warnings[0].getMessage()
    finally:
        await kua.stop()


# --- the reporter ------------------------------------------------------------------------------


async def test_a_coordinators_message_reaches_the_reporter_as_a_neutral_notice(
    fake: FakeTelegram, forum: FakeGroup, running
) -> None:
    reporter = fake.user(REPORTER_ID, first_name="Айгуль", started=True)
    kua = await running(FORUM_ID)
    store = kua.app.store
    case_id = await submit(store, locale="ru")
    await store.casework.message_to_reporter(case_id, COORDINATOR, "SECRET-REPLY come tomorrow")
    await until(lambda: reporter.bot_messages(), what="the notice")
    await until(lambda: no_pending(store))
    notice = reporter.last_bot_message()
    assert notice.buttons() and notice.buttons()[0][1] == f"f1:read:{case_id}"
    assert notice.text and "SECRET-REPLY" not in repr(
        [r.params for r in fake.requests if r.chat_id == REPORTER_ID]
    )
    assert notice.text == tr("ru", "You have something new. Tap “Read” to see it.")


async def test_a_reporter_who_blocked_the_bot_makes_the_case_unreachable(
    fake: FakeTelegram, forum: FakeGroup, running
) -> None:
    fake.user(REPORTER_ID, started=True)
    kua = await running(FORUM_ID)
    store = kua.app.store
    case_id = await submit(store)
    await until(lambda: cards(fake, FORUM_ID).get(case_id), what="the card")
    fake.block_user(REPORTER_ID)
    await store.casework.message_to_reporter(case_id, COORDINATOR, "are you safe?")
    await until(lambda: no_pending(store), what="delivery")
    await fake.idle()
    view = await store.casework.get(case_id)
    assert view.unreachable
    in_topic = [
        m
        for m in forum.transcript()
        if m.from_bot and m.message_thread_id == view.topic_id and not m.buttons()
    ]
    assert any("The reporter has blocked the bot" in (m.text or "") for m in in_topic)
    assert len(cards(fake, FORUM_ID)[case_id]) == 1
    card = cards(fake, FORUM_ID)[case_id][0]
    assert card.edits  # refreshed in place
    assert "blocked the bot" in (card.text or "") and "c1:reply" not in repr(card.buttons())
    assert (await store.outbox.counts()).get("failed", 0) == 0


# --- urgent cases -------------------------------------------------------------------------------


async def test_urgent_cases_alert_the_on_call_coordinators_who_started_the_bot(
    fake: FakeTelegram, forum: FakeGroup, running
) -> None:
    on_call = fake.user(5550002, first_name="On call", started=True)
    fake.user(5550003, first_name="Never started")  # can't be written to first
    kua = await running(FORUM_ID, KUA_COORDINATION__ON_CALL="5550002,5550003")
    store = kua.app.store
    urgent = await submit(store)
    calm = await submit(store, urgent=False)
    await until(lambda: no_pending(store), what="delivery")
    await fake.idle()
    alerts = on_call.bot_messages()
    assert len(alerts) == 1
    text = alerts[0].text or ""
    assert f"URGENT · Case #{urgent}" in text and f"#{calm}" not in text
    for expected in (
        "Pre-trial detention centre (SIZO)",
        "Karaganda region",
        "Ill-treatment is still going on",
        "Urgently needs medical help",
    ):
        assert expected in text
    assert NARRATIVE not in text and "ЕС-164/1" not in text
    view = await store.casework.get(urgent)
    assert view is not None
    keyboard = alerts[0].inline_keyboard
    assert keyboard is not None
    link = keyboard["inline_keyboard"][0][0]["url"]
    assert link == f"https://t.me/c/1234500001/{view.topic_id}/{view.card_message_id}"
    # The coordinator who never started the bot was checked at start-up and tried once for
    # the alert, then skipped, not retried; the group is told about them once, by name.
    assert (
        forget_errors(fake, "can't initiate conversation")
        == ["Forbidden: bot can't initiate conversation with a user"] * 2
    )
    told = [m.text or "" for m in forum.transcript() if "cannot receive urgent alerts" in (m.text or "")]
    assert len(told) == 1 and "Never started" in told[0] and "5550003" not in told[0]
    assert (await store.outbox.counts()).get("failed", 0) == 0


# --- the reporter's identity never reaches the coordinators ---------------------------------------


async def test_a_real_report_reaches_the_group_without_the_reporters_identity(
    fake: FakeTelegram, forum: FakeGroup, running
) -> None:
    fake.user(COORDINATOR, first_name="Coordinator", started=True)  # (checked at start-up)
    kua = await running(FORUM_ID, KUA_COORDINATION__ON_CALL=str(COORDINATOR))
    user = fake.user(
        REPORTER_ID, first_name="Гульнара", last_name="Сейткали", username="gulnara_s", language_code="ru"
    )
    r = Reporter(fake, user, kua)
    await r.choose_language("ru")
    await r.press("m1:report")
    await r.consent()
    await fill_report(r, narrative=NARRATIVE, photo=image(), names="NAME-MARKER", person="PERSON-MARKER")
    await r.review(ReviewAct.SEND)
    await until(lambda: cards(fake, FORUM_ID), what="the card")
    await until(lambda: no_pending(kua.app.store))
    await fake.idle()
    assert len(cards(fake, FORUM_ID)) == 1
    staff = [repr(q.params) + repr(q.files) for q in fake.requests if q.chat_id in (FORUM_ID, COORDINATOR)]
    assert len(staff) >= 3  # topic, card, urgent alert
    for request in staff:
        for needle in (
            str(REPORTER_ID),
            "gulnara_s",
            "Гульнара",
            "Сейткали",
            NARRATIVE,
            "NAME-MARKER",
            "PERSON-MARKER",
            "ЕС-164/1",
        ):
            assert needle not in request, needle


# --- deleting later -------------------------------------------------------------------------------


async def test_delete_items_remove_the_message_and_a_missing_one_counts_as_done(
    fake: FakeTelegram, forum: FakeGroup, running
) -> None:
    coordinator = fake.user(COORDINATOR, started=True)
    kua = await running(FORUM_ID)
    store = kua.app.store
    shown = await kua.app.bot.send_message(COORDINATOR, "private view")
    await store.outbox.add(
        OutboxKind.DELETE, payload={"chat_id": COORDINATOR, "message_id": shown.message_id}
    )
    await store.outbox.add(OutboxKind.DELETE, payload={"chat_id": COORDINATOR, "message_id": 999})
    later = await kua.app.bot.send_message(COORDINATOR, "not yet")
    await store.outbox.add(
        OutboxKind.DELETE,
        payload={"chat_id": COORDINATOR, "message_id": later.message_id},
        available_at=store.clock() + timedelta(hours=1),
    )
    await until(lambda: fake.transcript(COORDINATOR)[0].deleted, what="the deletion")
    await asyncio.sleep(0.2)
    assert await store.outbox.counts() == {"done": 2, "pending": 1}
    assert not fake.transcript(COORDINATOR)[-1].deleted
    assert coordinator.bot_messages() == [fake.transcript(COORDINATOR)[-1]]
    assert forget_errors(fake, "message to delete not found")


# --- two workers on PostgreSQL --------------------------------------------------------------------


async def test_retention_removes_a_purged_case_from_the_coordinators_chat(
    fake: FakeTelegram, forum: FakeGroup, group: FakeGroup, running
) -> None:
    """Once a closed case's personal content is purged, its topic goes with everything in it
    (full mode: the report and its files); in an ordinary group, its card."""
    fake.user(REPORTER_ID, first_name="R", started=True)  # the status notice reaches a chat

    async def purge_one(chat: int, shows: str) -> list[FakeMessage]:
        kua = await running(chat, KUA_COORDINATION__GROUP_SHOWS=shows)
        app = kua.app
        assert app is not None
        store = app.store
        case_id = await submit(store, photo=image())
        await until(lambda: no_pending(store), what="delivery")
        assert [m for m in fake.transcript(chat) if m.from_bot and not m.deleted]
        await store.casework.set_status(
            case_id, CaseStatus.CLOSED, COORDINATOR, close_reason=CloseReason.RESOLVED
        )
        await until(lambda: no_pending(store), what="the closed card")
        kua.clock.advance(days=app.config.retention.closed_case_days + 1)
        assert (await retention_round(store, app.fsm, app.config)).cases == 1
        await until(lambda: no_pending(store), what="unposting")
        view = await store.casework.get(case_id)
        assert view is not None and view.card_message_id is None and view.topic_id is None
        await kua.stop()
        return [m for m in fake.transcript(chat) if m.from_bot and not m.deleted and card_case(m) == case_id]

    assert await purge_one(FORUM_ID, "full") == []
    assert forum.topics[-1].deleted
    assert not [m for m in fake.transcript(FORUM_ID) if m.from_bot and not m.deleted]
    assert await purge_one(GROUP_ID, "summary") == []


async def test_two_workers_on_postgresql_deliver_every_card_exactly_once(
    fake: FakeTelegram, forum: FakeGroup, tmp_path: Path, pg_database: str
) -> None:
    config = group_config(fake, tmp_path, FORUM_ID, KUA_DATABASE__URL=pg_database)
    await upgrade_to_head(pg_database)
    apps = [await build_app(config), await build_app(config)]
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    try:
        store = apps[0].store
        ids = [await submit(store, urgent=i % 4 == 0) for i in range(200)]
        recorded = [0, 0]
        for n, app in enumerate(apps):
            record = app.store.casework.record_card

            async def counting(*args: Any, _n: int = n, _record=record, **kwargs: Any) -> None:
                recorded[_n] += 1
                await _record(*args, **kwargs)

            app.store.casework.record_card = counting  # type: ignore[method-assign]
        workers = [
            Delivery(app.bot, app.store, app.config, app.i18n, worker_id=f"w{n}", poll_interval=0.02)
            for n, app in enumerate(apps)
        ]
        tasks = [asyncio.create_task(w.run(stop)) for w in workers]
        await until(lambda: len(cards(fake, FORUM_ID)) == 200, timeout=60, what="200 cards")
        await until(lambda: no_pending(store))
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for app in apps:
            await app.close()
    found = cards(fake, FORUM_ID)
    assert sorted(found) == ids
    assert all(len(v) == 1 for v in found.values())
    assert len(forum.topics) == 200
    assert sum(recorded) == 200 and min(recorded) > 0, recorded  # both workers took part


# --- small pieces ---------------------------------------------------------------------------------


def test_backoff_doubles_up_to_five_minutes_with_a_little_jitter() -> None:
    seconds = [backoff(n).total_seconds() for n in (1, 2, 3, 4, 20, 50)]
    assert 1 <= seconds[0] <= 1.1 and 2 <= seconds[1] <= 2.2 and 4 <= seconds[2] <= 4.4
    assert 300 <= seconds[4] <= 330 and 300 <= seconds[5] <= 330


def test_topic_names_fit_telegrams_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiogram.utils.i18n import I18n

    from bot.i18n import LOCALES_DIR
    from domain.values import CaseStatus
    from storage.casework import CaseView

    view = CaseView(
        id=123456,
        status=CaseStatus.NEW,
        urgent=True,
        facility_kind="x" * 200,
        region=None,
        answers={},
        locale="en",
        created_at=None,  # type: ignore[arg-type]  # a topic's name needs no date
        assignee_id=None,
        referral=None,
        close_reason=None,
        unreachable=False,
        contactable=True,
        silent=False,
        group_chat_id=None,
        topic_id=None,
        card_message_id=None,
    )
    i18n = I18n(path=LOCALES_DIR, default_locale="en", domain="messages")
    with i18n.context():
        name = topic_name(view)
    assert name.startswith("🔴 #123456 · ") and len(name) == 128
