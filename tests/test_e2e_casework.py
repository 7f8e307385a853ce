"""Casework for a team, end to end (the real bot polling the fake Bot API): one owner per case
even when two coordinators press Take at once (SQLite, and two instances on PostgreSQL),
hand-over and /mine, the history, duplicates, spam that stays out, urgent re-alerts on a
controllable clock, a reporter's plain words kept, and the group's command menu."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

import bot.delivery as delivery_module
from domain.values import CaseStatus
from domain.workflow import CloseReason
from emulator import FakeMessage, FakeTelegram
from handlers.coordinator.keyboards import (
    CaseAct,
    CaseCb,
    ConfirmCb,
    HandCb,
    HistCb,
    MenuAct,
    MenuCb,
    QueueCb,
    QueuePick,
    StatusCb,
)
from handlers.loose_words import LooseCb
from handlers.report.keyboards import ReviewAct, SavedCb
from tests.harness import (
    BotProcess,
    Clock,
    Reporter,
    coordination_env,
    fill_report,
    make_config,
    submit_case,
    tr,
)
from tests.test_e2e_coordinator import (  # noqa: F401 - fixtures
    AIGERIM,
    BOLAT,
    DANA,
    GROUP,
    REPORTER,
    Staff,
    _quick_worker,
    en,
    event_kinds,
    outbox,
    staff,
    texts,
)

TAKEN_BY_AIGERIM = "is already taken by Айгерим Нурланова."
TAKEN_BY_BOLAT = "is already taken by Болат Ахметов."


@pytest.fixture(autouse=True)
def _quick_reminders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery_module, "REMINDER_INTERVAL", 0.05)


def data(message: FakeMessage) -> list[str | None]:
    return [d for _t, d in message.buttons()]


async def open_menu(staff: Staff, user, card: FakeMessage, act: CaseAct) -> FakeMessage:  # noqa: F811 - the staff fixture, passed on
    before = len(staff.fake.transcript(card.chat_id))
    await staff.press(user, staff.fresh(card), CaseCb(act=act, case=int(data(card)[0].split(":")[-1])).pack())
    [menu] = [
        m for m in staff.fake.transcript(card.chat_id)[before:] if m.from_bot and m.reply_to is not None
    ]
    return menu


# --- one owner -----------------------------------------------------------------------------------


async def test_two_coordinators_pressing_take_together_one_wins(staff: Staff) -> None:  # noqa: F811 - the fixture imported above
    case_id = await staff.submit(REPORTER)
    card = await staff.card(case_id)
    take = CaseCb(act=CaseAct.TAKE, case=case_id).pack()
    a, b = staff.in_group(staff.aigerim), staff.in_group(staff.bolat)
    # Both presses are queued before the bot polls: one getUpdates batch, handled concurrently.
    first = await a.press_data(take, card)
    second = await b.press_data(take, card)
    await staff.settle()

    view = await staff.store.casework.get(case_id)
    answers = {AIGERIM: staff.answer(first).text, BOLAT: staff.answer(second).text}
    winner = view.assignee_id
    loser = BOLAT if winner == AIGERIM else AIGERIM
    assert winner in (AIGERIM, BOLAT) and view.status is CaseStatus.IN_PROGRESS
    assert answers[winner] == f"You have taken case #{case_id}."
    expected = TAKEN_BY_AIGERIM if winner == AIGERIM else TAKEN_BY_BOLAT
    assert answers[loser] == f"Case #{case_id} {expected}"
    assert [(k, actor) for k, actor, _d in await event_kinds(staff, case_id)] == [("take", winner)]
    assert len(await outbox(staff, "status_notice")) == 1


async def test_take_across_two_instances_on_postgresql(
    fake: FakeTelegram, tmp_path: Path, pg_database: str
) -> None:
    fake.user(REPORTER, "Гульнара", language_code="ru", started=True)
    fake.user(AIGERIM, "Айгерим", "Нурланова", language_code="en", started=True)
    fake.user(BOLAT, "Болат", "Ахметов", language_code="en", started=True)
    group = fake.group(GROUP, "Kua coordinators", members={AIGERIM: "administrator", BOLAT: "creator"})
    env = coordination_env(
        GROUP, (AIGERIM,), (BOLAT,), KUA_APP__DEFAULT_LOCALE="en", KUA_DATABASE__URL=pg_database
    )
    config = make_config(fake, tmp_path, **env)
    one, two = BotProcess(config, fake), BotProcess(config, fake)
    await one.start()
    two._migrated = True  # noqa: SLF001 - the same database, migrated by the first
    await two.start()
    try:
        assert one.app is not None and two.app is not None
        case_id = await submit_case(one, REPORTER)
        # Straight through storage too: two instances' repositories racing many times.
        winners = await asyncio.gather(
            *(
                (one if n % 2 else two).app.store.casework.take(case_id, AIGERIM if n % 2 else BOLAT)
                for n in range(8)
            ),
            return_exceptions=True,
        )
        assert sum(not isinstance(w, Exception) for w in winners) == 1
        events = await one.app.store.casework.events(case_id)
        assert [kind for _at, _k, _a, kind, _d in events if kind == "take"] == ["take"]

        # And through the bots: a second case, both press at once on its card.
        other = await submit_case(two, REPORTER)
        for _ in range(100):
            if (await one.app.store.casework.get(other)).card_message_id:
                break
            await asyncio.sleep(0.05)
        view = await one.app.store.casework.get(other)
        assert view is not None and view.card_message_id is not None
        card = fake.find_message(GROUP, view.card_message_id)
        take = CaseCb(act=CaseAct.TAKE, case=other).pack()
        first = await group.users[AIGERIM].press_data(take, card)
        second = await group.users[BOLAT].press_data(take, card)
        for _ in range(3):
            await one.settle()
            await two.settle()
        answers = [fake.callbacks[c].answer.text for c in (first, second)]
        assert sum(a == f"You have taken case #{other}." for a in answers) == 1
        assert sum("is already taken by" in a for a in answers) == 1
        events = await one.app.store.casework.events(other)
        assert [kind for _at, _k, _a, kind, _d in events if kind == "take"] == ["take"]
        # Two workers may refresh the same card with the same text: Telegram says "not
        # modified" and the worker takes that as done (bot/delivery.py). And two pollers on
        # one token (no shared Redis isolation here) may both be served an update the other
        # has not confirmed yet, as Telegram does: the second answer to its button is refused
        # ("query is too old") and taken as done (bot/callbacks.py) — the take above still
        # happened once, and each press got exactly one answer.
    finally:
        await two.stop()
        await one.stop()
    # After both stopped: a worker's refresh may still have gone out while they stopped.
    harmless = ("message is not modified", "query is too old")
    fake.errors[:] = [r for r in fake.errors if not any(h in str(r) for h in harmless)]


async def test_hand_over_give_up_and_mine(staff: Staff) -> None:  # noqa: F811 - the fixture imported above
    first = await staff.submit(REPORTER)
    second = await staff.submit(REPORTER, danger=["none"])
    a = staff.in_group(staff.aigerim)
    card = await staff.card(first)
    await staff.press(a, card, CaseCb(act=CaseAct.TAKE, case=first).pack())
    await staff.command(staff.aigerim, "/mine")
    mine = staff.aigerim.last_bot_message()
    assert f"#{first}" in mine.text and f"#{second}" not in mine.text
    assert "my cases" in mine.text

    # Only the owner hands over; the colleagues are listed by their Telegram names.
    callback = await staff.press(
        staff.in_group(staff.bolat), staff.fresh(card), CaseCb(act=CaseAct.HANDOVER, case=first).pack()
    )
    assert staff.answer(callback).text.startswith("Only Айгерим Нурланова")
    menu = await open_menu(staff, a, card, CaseAct.HANDOVER)
    names = [t for t, _d in menu.buttons()]
    assert "Болат Ахметов" in names and "Дана Сапарова" in names
    assert "Айгерим Нурланова" not in names
    # Bolat cannot press Aigerim's hand-over menu.
    callback = await staff.press(staff.in_group(staff.bolat), menu, HandCb(case=first, to=BOLAT).pack())
    assert "belongs to the coordinator who opened it" in staff.answer(callback).text
    await staff.press(a, menu, HandCb(case=first, to=BOLAT).pack())
    view = await staff.store.casework.get(first)
    assert view.assignee_id == BOLAT
    assert "Болат Ахметов" in staff.fresh(card).text
    told = staff.bolat.last_bot_message().text
    assert f"handed case #{first} over to you" in told and "Айгерим Нурланова" in told

    await staff.command(staff.bolat, "/mine")
    assert f"#{first}" in staff.bolat.last_bot_message().text
    await staff.command(staff.aigerim, "/mine")
    assert staff.aigerim.last_bot_message().text == "No open cases match: my cases."

    # Bolat gives it up: unassigned and new again, Take is back on the card.
    b = staff.in_group(staff.bolat)
    menu = await open_menu(staff, b, card, CaseAct.HANDOVER)
    await staff.press(b, menu, MenuCb(act=MenuAct.GIVE_UP, case=first).pack())
    view = await staff.store.casework.get(first)
    assert view.assignee_id is None and view.status is CaseStatus.NEW
    assert CaseCb(act=CaseAct.TAKE, case=first).pack() in data(staff.fresh(card))
    kinds = [(k, actor, d.get("to")) for k, actor, d in await event_kinds(staff, first)]
    assert kinds == [("take", AIGERIM, None), ("handover", AIGERIM, BOLAT), ("give_up", BOLAT, None)]


# --- history, duplicates -------------------------------------------------------------------------


async def test_history_shows_the_timeline_with_authors(staff: Staff) -> None:  # noqa: F811 - the fixture imported above
    case_id = await staff.submit(REPORTER, files=(("document", b"%PDF-1.4 x"),))
    other = await staff.submit(REPORTER)
    a = staff.in_group(staff.aigerim)
    card = await staff.card(case_id)
    await staff.press(a, card, CaseCb(act=CaseAct.TAKE, case=case_id).pack())
    for _ in range(3):  # (enough lines for a second page)
        await staff.store.casework.add_note(case_id, BOLAT, "HISTORY-NOTE-TEXT")
    await staff.store.casework.message_to_reporter(case_id, AIGERIM, "HISTORY-REPLY-TEXT")
    await staff.store.casework.message_from_reporter(case_id, "HISTORY-ADDED-TEXT")
    await staff.press(a, staff.fresh(card), CaseCb(act=CaseAct.OPEN, case=case_id).pack())
    # Kinds written by other parts of the bot render too.
    for kind in ("opened_elsewhere", "file_sent", "exported", "sheet_made"):
        await staff.store.casework.record_event(case_id, kind, actor_id=BOLAT, actor_kind="coordinator")
    menu = await open_menu(staff, a, card, CaseAct.STATUS)
    await staff.press(a, menu, StatusCb(case=case_id, to=CaseStatus.CLOSED, detail="duplicate").pack())
    assert "duplicates which case" in staff.fresh(menu).text
    await staff.command(a, "abc")
    assert "Send the number of another existing case" in a.last_bot_message().text
    await staff.command(a, str(other))
    asked = staff.fresh(menu)
    assert f"as a duplicate of case #{other}?" in asked.text
    await staff.press(a, asked, ConfirmCb(case=case_id, reason=CloseReason.DUPLICATE, dup=other).pack())
    view = await staff.store.casework.get(case_id)
    assert view.status is CaseStatus.CLOSED and view.duplicate_of == other
    assert f"Duplicate of case #{other}" in staff.fresh(card).text

    before = len(staff.group.transcript())
    await staff.press(a, staff.fresh(card), CaseCb(act=CaseAct.HISTORY, case=case_id).pack())
    pages = [m for m in staff.group.transcript()[before:] if m.from_bot]
    [page] = pages
    assert page.text.startswith(f"History of case #{case_id} (page 1 of 2)")
    await staff.press(a, page, HistCb(case=case_id, page=1).pack())
    second = staff.fresh(page).text
    assert "(page 2 of 2)" in second
    await staff.press(a, staff.fresh(page), HistCb(case=case_id, page=0).pack())
    timeline = page.text + "\n" + second
    for expected in (
        "Submitted by the reporter",
        "Delivered to the coordinators' group",
        "Taken by Айгерим Нурланова",
        "Internal note by Болат Ахметов",
        "Айгерим Нурланова wrote to the reporter",
        "The reporter added information",
        "Айгерим Нурланова opened the full report",
        "Opened from another account with the case code",
        "A file of the case was sent to Болат Ахметов",
        "Болат Ахметов exported the case",
        "Болат Ахметов made a case sheet",
        f"Closed · Duplicate · duplicate of case #{other}",
    ):
        assert expected in timeline, expected
    # Summary mode: the texts stay behind Open.
    assert "HISTORY-" not in timeline
    # The other case shows the link too, and /case N shows the card and the history.
    await staff.command(a, f"/case {other}")
    assert f"closed case #{case_id} as a duplicate of this one" in a.last_bot_message().text
    # In the coordinator's own language (Bolat switches to Russian in private).
    await staff.command(staff.bolat, "/language")
    await staff.bolat.press_data("l1:ru", staff.bolat.last_bot_message())
    await staff.settle()
    await staff.command(staff.bolat, f"/case {case_id}")
    assert tr("ru", "Submitted by the reporter") in staff.bolat.last_bot_message().text


async def test_full_mode_history_shows_notes_and_sent_messages(fake: FakeTelegram, tmp_path: Path) -> None:
    fake.user(AIGERIM, "Айгерим", "Нурланова", language_code="en", started=True)
    fake.user(REPORTER, "Гульнара", language_code="ru", started=True)
    group = fake.group(GROUP, "Kua coordinators", members={AIGERIM: "administrator"})
    env = coordination_env(GROUP, (AIGERIM,), group_shows="full", KUA_APP__DEFAULT_LOCALE="en")
    process = BotProcess(make_config(fake, tmp_path, **env), fake)
    await process.start()
    try:
        assert process.app is not None
        case_id = await submit_case(process, REPORTER)
        await process.app.store.casework.add_note(case_id, AIGERIM, "FULL-NOTE-TEXT")
        await process.app.store.casework.message_to_reporter(case_id, AIGERIM, "FULL-REPLY")
        await group.users[AIGERIM].send_text(f"/case {case_id}")
        await process.settle()
        [history] = [
            m.text for m in group.transcript() if (m.text or "").startswith(f"History of case #{case_id}")
        ]
        assert "FULL-NOTE-TEXT" in history and "FULL-REPLY" in history
    finally:
        await process.stop()


# --- queue filters -------------------------------------------------------------------------------


async def test_queue_filters_with_buttons(staff: Staff) -> None:  # noqa: F811 - the fixture imported above
    urgent = await staff.submit(REPORTER)
    calm_colony = await staff.submit(REPORTER, danger=["none"], facility_kind="colony", region="astana")
    taken = await staff.submit(REPORTER, danger=["none"])
    await staff.store.casework.take(taken, AIGERIM)
    await staff.command(staff.aigerim, "/queue")
    page = staff.aigerim.last_bot_message()

    async def pick(message: FakeMessage, packed: str) -> str:
        await staff.press(staff.aigerim, staff.fresh(message), packed)
        return staff.fresh(message).text or ""

    def numbers(text: str | None) -> list[int]:
        import re

        return [int(n) for n in re.findall(r"^#(\d+)", text or "", re.MULTILINE)]

    assert numbers(page.text) == [urgent, calm_colony, taken]
    assert numbers(await pick(page, QueueCb(f="u").pack())) == [urgent]
    assert numbers(await pick(page, QueueCb(f="n").pack())) == [urgent, calm_colony]
    assert numbers(await pick(page, QueueCb(f="m").pack())) == [taken]
    await pick(page, QueuePick(what="s").pack())
    assert numbers(await pick(page, QueueCb(f="s.in_progress").pack())) == [taken]
    await pick(page, QueuePick(what="r").pack())
    assert numbers(await pick(page, QueueCb(f="r.astana").pack())) == [calm_colony]
    await pick(page, QueuePick(what="k").pack())
    assert numbers(await pick(page, QueueCb(f="k.colony").pack())) == [calm_colony]
    await pick(page, QueuePick(what="k").pack())
    text = await pick(page, QueueCb(f="k.military").pack())
    assert text.startswith("No open cases match:")
    callback = await staff.forge(staff.aigerim, staff.fresh(page), QueueCb(f="r.mars").pack())
    assert staff.answer(callback).text == en("This button is out of date.")
    assert all(len(d.encode()) <= 64 for d in data(staff.fresh(page)))


# --- spam ----------------------------------------------------------------------------------------


async def test_spam_blocks_the_sender_until_the_case_is_reopened(staff: Staff) -> None:  # noqa: F811 - the fixture imported above
    user = staff.fake.known_user(REPORTER)
    assert user is not None
    reporter = Reporter(staff.fake, user, staff.bot)

    async def report(narrative: str, *, accepted: bool = True) -> None:
        await reporter.command("report")
        await reporter.consent()
        await fill_report(reporter, narrative=narrative)
        await reporter.review(ReviewAct.SEND)
        await staff.settle()
        if accepted:  # the code screen waits for "I have saved the code" before a new report
            await reporter.press(SavedCb().pack())

    await reporter.choose_language("ru")
    await report("SPAM-ONE")
    [(case_id, _u)] = [(v.id, v.urgent) for v in (await staff.store.casework.queue())[0]]
    a = staff.in_group(staff.aigerim)
    card = await staff.card(case_id)
    menu = await open_menu(staff, a, card, CaseAct.STATUS)
    await staff.press(a, menu, StatusCb(case=case_id, to=CaseStatus.CLOSED, detail="spam").pack())
    assert "will not be able to submit reports" in staff.fresh(menu).text
    await staff.press(a, staff.fresh(menu), ConfirmCb(case=case_id, reason=CloseReason.SPAM).pack())
    assert (await staff.store.casework.get(case_id)).close_reason == "spam"
    sent_before = len(texts(user))

    await report("SPAM-TWO", accepted=False)
    assert reporter.last_text() == tr(
        "ru", "Your report cannot be accepted at the moment. Please try again later."
    )
    assert (await staff.store.casework.queue())[1] == 0  # nothing stored
    assert await staff.store.casework.get(case_id + 1) is None
    # The sender learnt nothing: no notice of the closing, no word of a block.
    assert "closed" not in [i.payload.get("status") for i in await outbox(staff, "status_notice")]
    assert (
        tr("ru", "Work on your report has finished. You can still open it with your code.")
        not in texts(user)[sent_before:]
    )

    # Reopening lifts the block.
    await staff.press(a, staff.fresh(card), CaseCb(act=CaseAct.TAKE, case=case_id).pack())
    await report("NOT-SPAM-THREE")
    assert await staff.store.casework.get(case_id + 1) is not None


# --- urgent cases don't wait ---------------------------------------------------------------------


async def test_urgent_case_not_taken_is_re_alerted_hourly_until_taken(
    fake: FakeTelegram, tmp_path: Path, clock: Clock
) -> None:
    fake.user(REPORTER, "Гульнара", language_code="ru", started=True)
    on_call = fake.user(AIGERIM, "Айгерим", "Нурланова", language_code="en", started=True)
    fake.user(DANA, "Дана", "Сапарова", language_code="en")  # never started the bot
    group = fake.group(GROUP, "Kua coordinators", members={AIGERIM: "administrator", DANA: "member"})
    env = coordination_env(
        GROUP, (AIGERIM, DANA), KUA_APP__DEFAULT_LOCALE="en", KUA_COORDINATION__ON_CALL=f"{AIGERIM},{DANA}"
    )
    process = BotProcess(make_config(fake, tmp_path, **env), fake, clock)
    await process.start()
    try:
        assert process.app is not None
        store = process.app.store

        async def settle() -> None:
            for _ in range(3):
                await process.settle()
                await asyncio.sleep(0.15)

        await settle()
        # At start-up the group hears that Dana cannot be alerted — by name, not by id.
        warned = [m.text for m in group.transcript() if "cannot receive urgent alerts" in (m.text or "")]
        assert len(warned) == 1 and "Дана Сапарова" in warned[0]

        case_id = await submit_case(process, REPORTER)
        await settle()
        alerts = lambda: [m for m in on_call.bot_messages() if f"Case #{case_id}" in (m.text or "")]  # noqa: E731
        reminders = lambda: [m for m in group.transcript() if "still not taken" in (m.text or "")]  # noqa: E731
        assert len(alerts()) == 1 and reminders() == []

        clock.advance(minutes=119)
        await settle()
        assert len(alerts()) == 1
        clock.advance(minutes=2)  # past urgent_ack_minutes (120)
        await settle()
        assert len(alerts()) == 2 and "Still not taken" in alerts()[-1].text
        [reminder] = reminders()
        assert "Missing:" in reminder.text and "Nobody has taken it" in reminder.text
        clock.advance(minutes=30)
        await settle()
        assert len(alerts()) == 2
        clock.advance(minutes=31)  # an hour after the re-alert
        await settle()
        assert len(alerts()) == 3 and len(reminders()) == 2

        await store.casework.take(case_id, AIGERIM)
        clock.advance(hours=2)
        await settle()
        assert len(alerts()) == 3 and len(reminders()) == 2
        # Dana was reported once (at start-up), not again at each failed alert.
        assert len([m for m in group.transcript() if "cannot receive urgent alerts" in (m.text or "")]) == 1
        fake.errors[:] = [r for r in fake.errors if r.chat_id != DANA]
    finally:
        await process.stop()


# --- the reporter's words are not lost -----------------------------------------------------------


async def test_reporters_plain_text_is_added_after_confirmation(staff: Staff) -> None:  # noqa: F811 - the fixture imported above
    first = await staff.submit(REPORTER)
    user = staff.fake.known_user(REPORTER)
    assert user is not None
    await user.send_text("PLAIN-ANSWER: he was moved yesterday")
    await staff.settle()
    ask = user.last_bot_message()
    assert ask.text == tr("ru", "Add this to report #{number}? The coordinators will see it.").format(
        number=first
    )
    typed = [m for m in staff.fake.transcript(REPORTER) if not m.from_bot]
    assert typed[-1].deleted  # kept encrypted until the answer, not on the phone
    assert await staff.store.casework.channel(first) == []
    await staff.press(user, ask, LooseCb(case=first).pack())
    [added] = await staff.store.casework.channel(first)
    assert (added.direction, added.text) == ("from_reporter", "PLAIN-ANSWER: he was moved yesterday")
    assert await outbox(staff, "to_group")
    # The question became the outcome and the menu, in the same window: nothing else is left.
    window = user.last_bot_message()
    assert window.message_id == ask.message_id
    done = tr("ru", "Added to report #{number}. The coordinators will see it.").format(number=first)
    assert (window.text or "").startswith(done) and "m1:report" in data(window)

    # With two reports, Telegram's Reply on a news notice picks that report; No keeps nothing.
    second = await staff.submit(REPORTER, danger=["none"])
    await staff.store.casework.message_to_reporter(first, AIGERIM, "A question")
    await staff.settle()
    notice = user.last_bot_message()
    await user.send_text("REPLY-ON-NOTICE", reply_to=notice)
    await staff.settle()
    ask = user.last_bot_message()
    assert data(ask) == [LooseCb(case=first).pack(), LooseCb(case=0).pack()]
    await staff.press(user, ask, LooseCb(case=0).pack())
    assert len(await staff.store.casework.channel(first)) == 2  # the question + the first
    assert await staff.store.casework.channel(second) == []
    # One window at the bottom (moved below the notice), the earlier one gone from the chat.
    shown = user.bot_messages()
    assert shown[-1].message_id == ask.message_id != window.message_id
    assert window.message_id not in [m.message_id for m in shown]
    assert (shown[-1].text or "").startswith(tr("ru", "Not added. Nothing of it was kept."))
    assert not [m for m in staff.fake.transcript(REPORTER) if not m.from_bot and not m.deleted]


# --- the group's command menu --------------------------------------------------------------------


async def test_group_command_menu_has_queue_case_and_mine(staff: Staff) -> None:  # noqa: F811 - the fixture imported above
    scope = {"type": "chat", "chat_id": GROUP}
    for locale in ("", "ru", "kk", "en"):
        assert [c["command"] for c in staff.fake.commands(scope, locale)] == ["queue", "case", "mine"]


# --- webhook mode stops gracefully ---------------------------------------------------------------


async def test_webhook_mode_stops_on_sigterm_and_releases_claimed_items(
    fake: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal
    import socket

    from sqlalchemy import select

    from bot.app import build_app, serve
    from storage.db import upgrade_to_head
    from storage.models import OutboxItem

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fake.user(REPORTER, "Гульнара", language_code="ru", started=True)
    fake.group(GROUP, "Kua coordinators", members={AIGERIM: "administrator"})
    env = coordination_env(
        GROUP,
        (AIGERIM,),
        KUA_APP__DEFAULT_LOCALE="en",
        KUA_TELEGRAM__MODE="webhook",
        KUA_TELEGRAM__WEBHOOK_URL="https://example.org/tg/hook",
        KUA_TELEGRAM__WEBHOOK_SECRET="s3cret_token",
        KUA_TELEGRAM__LISTEN_PORT=str(port),
    )
    config = make_config(fake, tmp_path, **env)
    await upgrade_to_head(config.database.url)
    app = await build_app(config)
    hooks: list[str] = []

    async def set_webhook(url: str, **_kwargs: object) -> bool:  # (not in the fake Bot API)
        hooks.append(url)
        return True

    monkeypatch.setattr(app.bot, "set_webhook", set_webhook)
    running = asyncio.create_task(serve(app, handle_signals=False))
    try:
        for _ in range(200):
            if hooks and signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
                break
            await asyncio.sleep(0.05)
        # Without its own handler SIGTERM would end the test run: never send it then.
        assert hooks and signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None)
        # Work for the delivery worker: cards to post while the signal comes.
        for _ in range(5):
            await app.store.cases.submit(REPORTER, REPORTER, _submission(app))
        await asyncio.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 30)
        now = app.store.clock()
        async with app.store.cases._sessions() as session:  # noqa: SLF001 - test inspection
            items = list(await session.scalars(select(OutboxItem)))
        # Nothing is left waiting for a lease to run out: done, or handed back.
        held = [
            i
            for i in items
            if i.status == "pending" and i.claimed_until is not None and i.claimed_until > now
        ]
        assert held == [] and any(i.status == "done" for i in items)
    finally:
        if not running.done():
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        await app.close()


def _submission(app):
    from storage.repositories import Consent, Submission
    from tests.sample import FULL_ANSWERS

    return Submission(
        answers=dict(FULL_ANSWERS),
        consent=Consent(),
        draft_ref=app.store.attachments.new_draft_ref(),
        locale="ru",
    )


async def test_the_group_speaks_coordination_locale(fake: FakeTelegram, tmp_path: Path) -> None:
    fake.user(DANA, "Дана", "Сапарова", language_code="en")  # never started the bot
    group = fake.group(GROUP, "Kua coordinators", members={DANA: "member"})
    env = coordination_env(
        GROUP,
        (DANA,),
        KUA_APP__DEFAULT_LOCALE="en",
        KUA_COORDINATION__LOCALE="kk",
        KUA_COORDINATION__ON_CALL=str(DANA),
    )
    process = BotProcess(make_config(fake, tmp_path, **env), fake)
    await process.start()
    try:
        for _ in range(100):
            if any(m.from_bot for m in group.transcript()):
                break
            await asyncio.sleep(0.05)
        [warning] = [m.text for m in group.transcript() if m.from_bot]
        assert warning == "⚠ " + tr(
            "kk",
            "{name} is on call but cannot receive urgent alerts: "
            "they have not started the bot or have blocked it. "
            "{name}, please open a private chat with the bot "
            "and press Start.",
        ).format(name="Дана Сапарова")
        fake.errors[:] = [r for r in fake.errors if r.chat_id != DANA]
    finally:
        await process.stop()
