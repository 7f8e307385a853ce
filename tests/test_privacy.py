"""Erase this chat, Forget me and retention, through the real bot and the fake Bot API."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.retention import retention_round
from bot.workers import housekeeping
from domain.values import CaseStatus
from domain.workflow import CloseReason
from emulator import FakeMessage, FakeTelegram
from handlers.report.keyboards import NavAct, ReviewAct, SavedCb
from storage.base import Base
from storage.fsm import FsmRecord
from storage.models import (
    Account,
    Attachment,
    Case,
    CaseEvent,
    CaseMessage,
    CodeAttempt,
    LimitMark,
    MessageTrace,
)
from storage.repositories import Consent, Submission
from tests.harness import BotProcess, Clock, Reporter, fill_report, make_config, tr
from tests.sample import FULL_ANSWERS, jpeg_with_gps

CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
MARKER = "MARKER-5e1c0b"
WINDOW = 48 * 3600
PG_URL = os.environ.get("KUA_TEST_DATABASE_URL")


# --- helpers -------------------------------------------------------------------------------------


def advance(kua: BotProcess, fake: FakeTelegram, **delta: float) -> None:
    """Move the bot's clock and Telegram's together."""
    seconds = timedelta(**delta).total_seconds()
    kua.clock.advance(seconds=seconds)
    fake.advance(seconds)


async def rows(kua: BotProcess, model: type[Base]) -> list[Any]:
    async with kua.app.store.cases._sessions() as session:  # noqa: SLF001 - test inspection
        return list(await session.scalars(select(model)))


async def count(kua: BotProcess, model: type[Base]) -> int:
    async with kua.app.store.cases._sessions() as session:  # noqa: SLF001
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def deletion_requests(fake: FakeTelegram, chat_id: int, since: int = 0) -> list[int]:
    """Message ids the bot asked to delete in the chat, in requests made after the `since`-th."""
    ids: list[int] = []
    calls = [c for c in fake.requests if c.method in ("deleteMessages", "deleteMessage")]
    for call in calls[since:]:
        if int(call.params["chat_id"]) != chat_id:
            continue
        if call.method == "deleteMessages":
            ids += [int(i) for i in _json(call.params["message_ids"])]
        else:
            ids.append(int(call.params["message_id"]))
    return ids


def deletion_count(fake: FakeTelegram) -> int:
    return sum(1 for c in fake.requests if c.method in ("deleteMessages", "deleteMessage"))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def age(fake: FakeTelegram, message: FakeMessage) -> float:
    return fake.now() - message.date


async def submit(r: Reporter, locale: str = "en", **answers: Any) -> str:
    await r.choose_language(locale)
    await r.press("m1:report")
    await r.consent()
    await fill_report(
        r, narrative=f"{MARKER} he was beaten", photo=jpeg_with_gps(), answers={**FULL_ANSWERS, **answers}
    )
    await r.review(ReviewAct.SEND)
    match = CODE.search(r.window_text())
    assert match, r.window_text()
    return match.group()


# --- Erase this chat -----------------------------------------------------------------------------


async def test_erase_deletes_every_message_telegram_still_allows(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    chat = reporter.chat_id
    # First batch: the language, the consent, the first questions.
    await reporter.choose_language("en")
    await reporter.press("m1:report")
    await reporter.consent()
    await reporter.answer("relation", "parent")
    await reporter.answer("person_agrees", "yes")
    await reporter.multi("danger", "ongoing")
    await reporter.answer("facility_kind", "sizo")
    await reporter.answer("region", "almaty_city")
    await reporter.say(f"{MARKER} SIZO-1")
    first = {m.message_id for m in fake.transcript(chat)}

    advance(kua, fake, hours=47)
    # Second batch, 47 hours later: the rest of the report, with a photo and free text.
    await reporter.answer("last_incident", "week")
    await reporter.answer("ongoing", "yes")
    await reporter.multi("methods", "beating")
    await reporter.say(f"{MARKER} they beat him")
    await reporter.answer("knowledge", "person")
    await reporter.nav("perpetrators", NavAct.SKIP)
    await reporter.nav("perpetrator_names", NavAct.SKIP)
    await reporter.user.send_photo(jpeg_with_gps())  # not the files step: a hint, not stored
    await reporter.settle()
    assert await count(kua, FsmRecord) == 1

    # The trace holds message ids and times only: no text, in the clear or encrypted.
    traced = await rows(kua, MessageTrace)
    assert traced
    for row in traced:
        assert MARKER.encode() not in row.message_enc
        assert kua.app.store.crypto.decrypt_text(row.message_enc).isdigit()
    await kua.app.engine.dispose()  # flush SQLite's WAL into the file
    blob = b"".join(p.read_bytes() for p in (kua.config.data_dir).rglob("*") if p.is_file())
    assert MARKER.encode() not in blob

    advance(kua, fake, hours=2)  # the first batch is now past Telegram's 48 hours
    before = deletion_count(fake)
    await reporter.command("erase")
    assert "Erase this chat?" in reporter.last_text()
    await reporter.press("pv1:erase")

    transcript = fake.transcript(chat)
    done = transcript[-1]
    requested = set(deletion_requests(fake, chat, before))
    young = {
        m.message_id for m in transcript if age(fake, m) < WINDOW - 600 and m.message_id != done.message_id
    }
    old = {m.message_id for m in transcript if age(fake, m) >= WINDOW}
    assert old == first and young, (old, first)
    assert young <= requested, young - requested  # the bot's messages and the user's
    assert not requested & old  # nothing Telegram would refuse
    assert any(not m.from_bot for m in transcript if m.message_id in young)
    # What remains younger than 48 hours: one neutral message.
    remaining = [m for m in transcript if not m.deleted and m.message_id not in old]
    assert [m.text for m in remaining] == [tr("en", "Done.")]
    assert not done.buttons()
    # The draft is gone: no FSM row, no draft files; the trace keeps only "Done.".
    assert await count(kua, FsmRecord) == 0
    assert await count(kua, Attachment) == 0
    assert await count(kua, MessageTrace) == 1

    # A later erase removes "Done." too (and its own prompt), and nothing older.
    before = deletion_count(fake)
    await reporter.command("erase")
    await reporter.press("pv1:erase")
    assert fake.transcript(chat)[-1].text == tr("en", "Done.")
    assert done.deleted
    assert not set(deletion_requests(fake, chat, before)) & old


async def test_erase_from_the_menu_and_keep(fake: FakeTelegram, kua: BotProcess, reporter: Reporter) -> None:
    await reporter.choose_language("en")
    await reporter.press("m1:report")
    await reporter.consent()
    await reporter.answer("relation", "parent")
    await reporter.answer("person_agrees", "yes")
    before = deletion_count(fake)
    await reporter.command("erase")  # mid-report
    await reporter.press("pv1:keep")
    assert reporter.user.callback_answers[-1].text == tr("en", "Nothing was deleted.")
    assert "Is the person in danger right now?" in reporter.last_text()  # back to the report
    # Nothing was erased: only the typed command left the chat, and the window moved below.
    typed = {m.message_id for m in fake.transcript(reporter.chat_id) if not m.from_bot}
    assert len(set(deletion_requests(fake, reporter.chat_id, before)) - typed) <= 1
    await reporter.multi("danger", "none")  # the report goes on
    await reporter.command("start")  # pauses the report: the menu
    await reporter.press("m1:erase")
    await reporter.press("pv1:erase")
    assert [m.text for m in fake.transcript(reporter.chat_id) if not m.deleted] == [tr("en", "Done.")]
    assert await count(kua, FsmRecord) == 0


async def test_groups_are_never_traced(fake: FakeTelegram, kua: BotProcess) -> None:
    group = fake.group(-1001234567890, title="Somewhere", members={5005: "member"})
    await group.users[5005].send_text("hello everyone")
    await kua.settle()
    assert await count(kua, MessageTrace) == 0


# --- Forget me -----------------------------------------------------------------------------------


@asynccontextmanager
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """Config variables for the backend: the default SQLite file, or a fresh PostgreSQL database
    (dropped afterwards; skipped unless KUA_TEST_DATABASE_URL is set)."""
    if backend == "sqlite":
        yield {}
        return
    if not PG_URL:
        pytest.skip("KUA_TEST_DATABASE_URL is not set")
    name = "kua_privacy_" + secrets.token_hex(4)
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield {"KUA_DATABASE__URL": make_url(PG_URL).set(database=name).render_as_string(hide_password=False)}
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_kua(
    request: pytest.FixtureRequest, fake: FakeTelegram, tmp_path: Path, clock: Clock
) -> AsyncIterator[BotProcess]:
    """The bot on SQLite, and on PostgreSQL where KUA_TEST_DATABASE_URL is set."""
    async with database_url(request.param, tmp_path) as env:
        process = BotProcess(make_config(fake, tmp_path, **env), fake, clock)
        await process.start()
        try:
            yield process
        finally:
            await process.stop()


async def all_values(kua: BotProcess) -> list[Any]:
    """Every value in every table, as stored."""
    values: list[Any] = []
    async with kua.app.engine.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        for name in names:
            for row in await conn.execute(text(f'SELECT * FROM "{name}"')):
                values += list(row)
    return values


async def test_forget_me_leaves_nothing_that_links_to_the_account(
    fake: FakeTelegram, any_kua: BotProcess
) -> None:
    kua = any_kua
    user = fake.user(987654321, first_name="Гульнара", language_code="ru")
    reporter = Reporter(fake, user, kua)
    code = await submit(reporter, "ru")
    await reporter.press(SavedCb().pack())
    await submit_second(reporter)
    await reporter.command("myreports")
    await reporter.press("f1:code:0")
    await reporter.say("AAAA-BBBB-CCCC")  # a wrong code: counted, under a hash of its own
    await reporter.command("report")
    await reporter.consent()
    await reporter.answer("relation", "sibling")  # an unfinished draft
    assert await count(kua, LimitMark) == 3 and await count(kua, Account) == 1
    assert await count(kua, MessageTrace) > 0

    store = kua.app.store
    uid = user.id
    links = {store.crypto.keyed_hash(p, uid) for p in ("account", "reporter", "trace")}
    links.add(store.crypto.keyed_hash("fsm", f"{kua.app.bot.id}:{uid}:{uid}:None:None:default"))
    assert links <= {v for v in await all_values(kua) if isinstance(v, str)}  # all linked now

    await reporter.command("forget")
    assert tr("ru", "Yes, forget me") in str(reporter.screen().buttons())
    await reporter.press("pv1:forget")
    assert reporter.last_text() == tr("ru", "Done.")

    for value in await all_values(kua):
        if isinstance(value, (dict, list)):  # JSON columns, as PostgreSQL returns them
            value = json.dumps(value)
        if isinstance(value, (bytes, memoryview)):
            value = bytes(value)
            assert str(uid).encode() not in value
        else:
            assert value not in links and str(uid) not in str(value), value
    for model in (Account, FsmRecord, CodeAttempt, MessageTrace):
        assert await count(kua, model) == 0, model
    cases = await rows(kua, Case)
    assert len(cases) == 2
    assert all(c.reporter_hash is None and c.contact_enc is None for c in cases)
    assert all(c.private_enc is not None for c in cases)  # the cases themselves stay
    # The limits stay too (two reports, one wrong code), under hashes that link to nothing.
    assert await count(kua, LimitMark) == 3
    events = await rows(kua, CaseEvent)
    assert sorted(e.case_id for e in events if e.kind == "contact_removed") == [1]
    view = await store.casework.get(1)
    assert view is not None and not view.contactable  # the card says it can't be contacted

    # My reports no longer knows this account; the language is asked again.
    await reporter.command("start")
    assert reporter.last_text() == tr("ru", "Choose your language")

    # The case still opens with its code, from another account, and is attached to it.
    phone = Reporter(fake, fake.user(111222333, first_name="New", language_code="ru"), kua)
    await phone.choose_language("ru")
    await phone.press("m1:my")
    await phone.press("f1:code:0")
    await phone.say(code)
    assert tr("ru", "Received, waiting for a coordinator") in phone.last_text()
    case = next(c for c in await rows(kua, Case) if c.id == 1)
    assert case.reporter_hash == store.cases.reporter_key(phone.user.id)


async def submit_second(r: Reporter) -> None:
    """A second report, without consent to be contacted."""
    await r.command("report")
    await r.consent()
    await fill_report(r, narrative="Second report.", answers={**FULL_ANSWERS, "contact": "no"})
    await r.review(ReviewAct.SEND)
    assert CODE.search(r.window_text())
    await r.press(SavedCb().pack())


# --- retention -----------------------------------------------------------------------------------


async def new_case(kua: BotProcess, user_id: int, *, narrative: str = MARKER) -> int:
    if kua.fake.known_user(user_id) is None:
        # A reporter who started the bot: the status notices the worker sends reach a chat
        # (otherwise whether they were sent before the end of the test decided its outcome).
        kua.fake.user(user_id, first_name="R", language_code="en", started=True)
    store = kua.app.store
    ref = store.attachments.new_draft_ref()
    await store.attachments.add(
        ref, kind="photo", mime_type="image/jpeg", file_name="a.jpg", data=b"\xff\xd8" + MARKER.encode()
    )
    case = await store.cases.submit(
        user_id,
        user_id,
        Submission(
            answers={**FULL_ANSWERS, "narrative": {"text": narrative}},
            consent=Consent(),
            draft_ref=ref,
            locale="en",
        ),
    )
    await store.casework.take(case.id, 4242)
    await store.casework.add_note(case.id, 4242, f"{MARKER} note")
    await store.casework.message_to_reporter(case.id, 4242, f"{MARKER} question")
    await store.casework.message_from_reporter(case.id, f"{MARKER} answer")
    return case.id


async def close(kua: BotProcess, case_id: int) -> None:
    await kua.app.store.casework.set_status(
        case_id, CaseStatus.CLOSED, 4242, close_reason=CloseReason.RESOLVED
    )


async def purged(kua: BotProcess, case_id: int) -> bool:
    case = next(c for c in await rows(kua, Case) if c.id == case_id)
    files = [a for a in await rows(kua, Attachment) if a.case_id == case_id]
    messages = [m for m in await rows(kua, CaseMessage) if m.case_id == case_id]
    notes = [e for e in await rows(kua, CaseEvent) if e.case_id == case_id and e.text_enc]
    if case.purged_at is None:
        assert case.private_enc is not None and files and messages and notes
        return False
    assert case.private_enc is None and case.contact_enc is None and case.reporter_hash is None
    assert not files and not messages and not notes
    # The anonymous statistics stay.
    assert case.status == "closed" and case.close_reason == "resolved" and case.urgent
    assert case.facility_kind == FULL_ANSWERS["facility_kind"]
    assert case.region == FULL_ANSWERS["region"]
    assert case.answers["methods"] == FULL_ANSWERS["methods"]
    assert case.created_at and case.closed_at
    return True


async def test_closed_cases_are_purged_exactly_when_due_open_ones_never(any_kua: BotProcess) -> None:
    kua = any_kua
    app = kua.app
    days = app.config.retention.closed_case_days
    first = await new_case(kua, 1001)
    second = await new_case(kua, 1002)
    still_open = await new_case(kua, 1003)
    untouched = await new_case(kua, 1004)  # stays "in progress"
    await close(kua, first)
    kua.clock.advance(days=1)
    await close(kua, second)
    await kua.app.store.casework.set_status(still_open, CaseStatus.WAITING, 4242)

    kua.clock.advance(days=days - 1, minutes=-1)  # one minute before the first is due
    assert (await retention_round(app.store, app.fsm, app.config)).cases == 0
    assert not await purged(kua, first)

    kua.clock.advance(minutes=2)
    assert (await retention_round(app.store, app.fsm, app.config)).cases == 1
    assert await purged(kua, first)
    assert not await purged(kua, second)
    assert (await retention_round(app.store, app.fsm, app.config)).cases == 0  # not again

    kua.clock.advance(days=1)
    assert (await retention_round(app.store, app.fsm, app.config)).cases == 1
    assert await purged(kua, second)

    kua.clock.advance(days=3 * days)
    await retention_round(app.store, app.fsm, app.config)
    assert not await purged(kua, still_open) and not await purged(kua, untouched)
    for case_id in (first, second):
        assert await kua.app.store.attachments.for_case(case_id) == []
    assert await count(kua, CaseMessage) == 4  # the two open cases' messages


async def test_drafts_are_purged_exactly_when_due_by_the_housekeeping_worker(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    await reporter.choose_language("en")
    await reporter.press("m1:report")
    await reporter.consent()
    await fill_report(reporter, narrative="A draft.", photo=jpeg_with_gps())
    assert await count(kua, FsmRecord) == 1 and await count(kua, Attachment) == 1
    draft_days = kua.config.retention.draft_days

    app = kua.app
    kua.clock.advance(days=draft_days, minutes=-1)
    purged_now = await retention_round(app.store, app.fsm, app.config)
    assert (purged_now.drafts, purged_now.draft_files) == (0, 0)
    assert await count(kua, FsmRecord) == 1 and await count(kua, Attachment) == 1

    kua.clock.advance(minutes=2)
    # The real housekeeping loop, one round.
    stop = asyncio.Event()
    worker = asyncio.create_task(housekeeping(app.store, app.fsm, app.config, stop))
    for _ in range(200):
        if await count(kua, FsmRecord) == 0 and await count(kua, Attachment) == 0:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(worker, 5)
    assert await count(kua, FsmRecord) == 0 and await count(kua, Attachment) == 0
    # The trace, too, is pruned once past 48 hours.
    assert await count(kua, MessageTrace) == 0


# --- the trace and the batches -------------------------------------------------------------------


class _Bot:
    """Just enough of a Bot for erase_chat: records what it was asked to delete."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def delete_messages(self, chat_id: int, message_ids: list[int]) -> bool:
        assert len(message_ids) <= 100
        self.batches.append(list(message_ids))
        return True


async def test_erase_in_batches_of_100_and_trace_pruned_on_write(kua: BotProcess) -> None:
    from handlers.privacy import erase_chat

    store = kua.app.store
    await store.trace.record(42, list(range(1, 31)))  # 30 old ones
    kua.clock.advance(hours=47, minutes=56)
    await store.trace.record(42, list(range(100, 330)))  # 230 younger ones
    await store.trace.record(-1005, [1, 2])  # only private chats are recorded, but: another key
    bot = _Bot()
    # The old ones are within 5 minutes of Telegram's limit: left alone (safety margin).
    assert await erase_chat(bot, 42, store) == 230  # type: ignore[arg-type]
    assert [len(b) for b in bot.batches] == [100, 100, 30]
    assert sorted(i for b in bot.batches for i in b) == list(range(100, 330))
    assert len(await store.trace.messages(42)) == 0  # dealt with
    assert len(await store.trace.messages(-1005)) == 2  # other chats untouched

    kua.clock.advance(hours=48, seconds=1)
    await store.trace.record(7, [1])  # a write prunes its own chat's stale entries
    assert len(await store.trace.messages(-1005)) == 2
    await store.trace.record(-1005, [3])
    assert [m.message_id for m in await store.trace.messages(-1005)] == [3]
    kua.clock.advance(hours=48, seconds=1)
    assert await store.trace.prune() == 2  # housekeeping: everything past the window
    assert await count(kua, MessageTrace) == 0
