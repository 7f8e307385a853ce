"""What one update costs the database, counted (not timed): statements, commits, write
transactions; and that many reporters at once on SQLite lose nothing."""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.app import build_isolation
from emulator import FakeTelegram
from tests.harness import BotProcess, Reporter, counting, make_config
from tests.sample import FULL_ANSWERS


async def _to_first_question(reporter: Reporter) -> None:
    await reporter.choose_language("en")
    await reporter.press("m1:report")
    await reporter.consent()


async def test_answering_a_question_costs_three_statements_and_one_commit(
    reporter: Reporter, kua: BotProcess
) -> None:
    await _to_first_question(reporter)
    assert kua.app is not None
    before = reporter.window_text()
    with counting(kua.app.engine) as counts:
        await reporter.answer("relation", FULL_ANSWERS["relation"])
    assert reporter.window_text() != before  # the answer was taken: the next question shows
    # One read (FSM record, applied update ids, locale), one write transaction (the record
    # and the update's id) - see storage.db.UnitOfWork.
    assert counts["SELECT"] == 1, counts
    assert counts["statements"] <= 3, counts
    assert counts["commits"] <= 1, counts


async def test_a_typed_answer_writes_its_trace_in_the_same_commit(
    reporter: Reporter, kua: BotProcess
) -> None:
    await _to_first_question(reporter)
    for qid in ("relation", "person_agrees"):
        await reporter.answer(qid, "yes" if qid == "person_agrees" else FULL_ANSWERS["relation"])
    assert kua.app is not None
    with counting(kua.app.engine) as counts:
        await reporter.multi("danger", *FULL_ANSWERS["danger"])
    with counting(kua.app.engine) as typed:
        await reporter.answer("facility_kind", FULL_ANSWERS["facility_kind"])
        await reporter.answer("region", FULL_ANSWERS["region"])
        await reporter.say(FULL_ANSWERS["facility_name"])
    assert counts["commits"] <= len(FULL_ANSWERS["danger"]) + 1, counts
    # Three updates, the typed one recording the reporter's message and the bot's reply.
    assert typed["commits"] <= 3, typed
    assert typed["SELECT"] == 3, typed
    traced = await kua.app.store.trace.messages(reporter.chat_id)
    assert traced, "the typed answer and the reply are kept for Erase this chat"


class _Errors(logging.Handler):
    """ERROR lines of the bot (an update that failed logs one, by type only)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_sixteen_reporters_at_once_on_sqlite_lose_no_tap(fake: FakeTelegram, tmp_path: Path) -> None:
    kua = BotProcess(make_config(fake, tmp_path, KUA_LOGGING__LEVEL="WARNING"), fake)
    await kua.start()
    errors = _Errors()
    logging.getLogger("kua").addHandler(errors)
    try:
        assert kua.app is not None
        assert kua.app.engine.dialect.name == "sqlite"
        users = [fake.user(700000 + n, first_name=f"R{n}", language_code="ru") for n in range(16)]
        reporters = [Reporter(fake, user, kua) for user in users]

        async def journey(r: Reporter) -> None:
            # All 16 tap at once, without waiting for each other: their updates interleave.
            await r.choose_language("en")
            await r.press("m1:report")
            await r.consent()
            await r.answer("relation", "self")
            await r.multi("danger", *FULL_ANSWERS["danger"])
            await r.answer("facility_kind", FULL_ANSWERS["facility_kind"])

        await asyncio.gather(*(journey(r) for r in reporters))
        assert errors.lines == []
        # Every tap landed: each reporter's draft holds every answer given.
        me = await kua.app.bot.me()
        for user in users:
            data = await kua.app.fsm.get_data(StorageKey(bot_id=me.id, chat_id=user.id, user_id=user.id))
            answers = data["answers"]
            assert answers["relation"] == "self", answers
            assert sorted(answers["danger"]) == sorted(FULL_ANSWERS["danger"]), answers
            assert answers["facility_kind"] == FULL_ANSWERS["facility_kind"], answers
    finally:
        logging.getLogger("kua").removeHandler(errors)
        await kua.stop()


def test_per_user_locks_are_not_kept_forever() -> None:
    isolation = build_isolation(None, None)  # type: ignore[arg-type]

    async def main() -> int:
        for n in range(2000):
            async with isolation.lock(StorageKey(bot_id=1, chat_id=n, user_id=n)):
                pass
        gc.collect()
        return len(isolation._locks)  # type: ignore[attr-defined]  # noqa: SLF001 - the structure under test

    assert asyncio.run(main()) <= 100


def test_the_bounded_locks_still_keep_one_users_updates_apart() -> None:
    isolation = build_isolation(None, None)  # type: ignore[arg-type]
    key = StorageKey(bot_id=1, chat_id=5, user_id=5)
    inside: list[int] = []
    overlaps: list[int] = []

    async def update(n: int) -> None:
        async with isolation.lock(key):
            inside.append(n)
            if len(inside) > 1:
                overlaps.append(n)
            await asyncio.sleep(0.001)
            inside.remove(n)

    async def main() -> None:
        await asyncio.gather(*(update(n) for n in range(20)))

    asyncio.run(main())
    assert overlaps == []


def test_question_keyboards_have_the_rows_inline_keyboard_builder_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aiogram.utils.i18n import I18n
    from aiogram.utils.keyboard import InlineKeyboardBuilder

    from bot.i18n import LOCALES_DIR
    from domain.questionnaire import QUESTIONS
    from handlers.report import keyboards

    i18n = I18n(path=LOCALES_DIR, default_locale="ru", domain="messages")
    with i18n.context():
        for pending in ([], ["yes"]):
            fast = [keyboards.question_keyboard(q, None, pending).model_dump() for q in QUESTIONS.values()]
            with monkeypatch.context() as patched:
                patched.setattr(keyboards, "_Rows", InlineKeyboardBuilder)
                built = [
                    keyboards.question_keyboard(q, None, pending).model_dump() for q in QUESTIONS.values()
                ]
            assert fast == built
