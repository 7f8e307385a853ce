"""Limits that hold: wrong codes and the daily cap survive /forget, junk is not a code attempt,
a code opened from another account is told and confirmed, a flooding account is slowed down,
and a surge of reports alerts the admins."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.account_flood import FloodLimit
from emulator import FakeTelegram
from handlers.coordinator.card import card_text
from handlers.followup.notices import forbidden_in
from handlers.report.keyboards import ReviewAct
from storage.followup import OPENED_ELSEWHERE
from storage.models import Case
from tests.harness import BotProcess, Reporter, coordination_env, fill_report, make_config, submit_case, tr
from tests.test_e2e_window import CODE, SAVED

WRONG = "AAAA-BBBB-CCCC"


async def try_code(r: Reporter, code: str) -> str:
    await r.command("myreports")
    await r.press("f1:code:0")
    await r.say(code)
    return r.window_text()


async def forget(r: Reporter) -> None:
    await r.command("forget")
    await r.press("pv1:forget")
    await r.choose_language("en")


async def test_wrong_codes_still_refused_after_forget(fake: FakeTelegram, kua: BotProcess) -> None:
    guesser = Reporter(fake, fake.user(444555666, first_name="G", language_code="en"), kua)
    await guesser.choose_language("en")
    for _attempt in range(5):  # the configured limit per hour
        assert "No report has this code" in await try_code(guesser, WRONG)
    assert "Too many wrong codes" in await try_code(guesser, WRONG)
    await forget(guesser)
    assert "Too many wrong codes" in await try_code(guesser, WRONG)
    await guesser.command("language")
    await guesser.press("l1:ru")
    await try_code(guesser, WRONG)
    assert tr("ru", "Too many wrong codes. Please try again in an hour.") in guesser.window_text()


async def test_junk_in_code_entry_uses_no_attempt(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    await reporter.choose_language("en")
    await reporter.press("m1:my")
    await reporter.press("f1:code:0")
    for junk in ("hello", "12345", "K7MQ-4XTP", "what is a code?", "ЖЖЖЖ-ЖЖЖЖ-ЖЖЖЖ", "x" * 70):
        await reporter.say(junk)
        assert "does not look like a case code" in reporter.window_text()
        assert "f1:list:0" in str(reporter.screen().buttons())  # the way back
    assert await kua.app.store.limits.count("code", reporter.chat_id, _hour()) == 0
    await reporter.say(WRONG)  # a real try ends code-entry mode
    assert "No report has this code" in reporter.window_text()
    await reporter.say(WRONG)
    assert await kua.app.store.limits.count("code", reporter.chat_id, _hour()) == 1
    assert not any((m.text or "").startswith(WRONG) for m in reporter.present())


def _hour():
    from datetime import timedelta

    return timedelta(hours=1)


async def test_daily_cap_still_holds_after_forget(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    for _n in range(5):
        await submit_case(kua, reporter.chat_id)
    await reporter.choose_language("en")
    await forget(reporter)
    await reporter.press("m1:report")
    await reporter.consent()
    await fill_report(reporter, narrative="Sixth.")
    await reporter.review(ReviewAct.SEND)
    assert "already sent several reports today" in reporter.window_text()
    assert not CODE.search(reporter.window_text())
    async with kua.app.store.cases._sessions() as session:  # noqa: SLF001
        assert len(list(await session.scalars(select(Case.id)))) == 5


async def test_code_opened_elsewhere_is_told_and_contact_moves_on_confirmation(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    await reporter.choose_language("ru")
    await reporter.press("m1:report")
    await reporter.consent()
    await fill_report(reporter, narrative="Рассказ.")
    await reporter.review(ReviewAct.SEND)
    code = CODE.search(reporter.window_text()).group()
    await reporter.press(SAVED)
    before = len(reporter.present())

    phone = Reporter(fake, fake.user(111222333, first_name="New", language_code="ru"), kua)
    await phone.choose_language("ru")
    await try_code(phone, code)
    store = kua.app.store
    assert [k for _at, _a, _id, k, _d in await store.casework.events(1)].count(OPENED_ELSEWHERE) == 1
    when = await store.followup.opened_elsewhere_at(1)
    with kua.app.i18n.context(), kua.app.i18n.use_locale("en"):
        view = await store.casework.get(1)
        assert view is not None
        card = card_text(view, opened_elsewhere=when)
    assert "Opened from another account on" in card  # what coordinators see on the card
    # The old account got one neutral notice; the chat to write back to has not moved yet.
    notices = reporter.present()[before:]
    assert len(notices) == 1 and not forbidden_in(notices[0].text or "", "ru")
    assert await store.casework.contact_chat(1) == reporter.chat_id
    await phone.press("f1:move:1")
    assert await store.casework.contact_chat(1) == phone.chat_id


async def test_flood_gets_one_slow_down_and_the_draft_is_untouched(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    kua = BotProcess(make_config(fake, tmp_path, KUA_LIMITS__FLOOD_UPDATES="20"), fake)
    await kua.start()
    try:
        await _flood(fake, kua, Reporter(fake, fake.user(5151, language_code="en"), kua))
    finally:
        await kua.stop()


async def _flood(fake: FakeTelegram, kua: BotProcess, reporter: Reporter) -> None:
    await reporter.choose_language("en")
    await reporter.press("m1:report")
    await reporter.consent()
    await reporter.answer("relation", "parent")
    key_before = await kua.app.fsm.get_data(_key(fake, reporter))
    for n in range(40):
        await reporter.user.send_text(f"spam {n}")
    await reporter.settle()
    slow = [m for m in fake.transcript(reporter.chat_id) if m.from_bot and "slow down" in (m.text or "")]
    assert len(slow) == 1
    after = await kua.app.fsm.get_data(_key(fake, reporter))
    assert after["answers"] == key_before["answers"]


def _key(fake: FakeTelegram, r: Reporter):
    from aiogram.fsm.storage.base import StorageKey

    return StorageKey(bot_id=fake.bot_id, chat_id=r.chat_id, user_id=r.chat_id)


def test_flood_rule_mutes_for_a_minute_then_forgives() -> None:
    rule = FloodLimit(updates=20, seconds=10)
    verdicts = [rule.hit("k", 0.1 * i) for i in range(25)]
    assert verdicts[:20] == [FloodLimit.HANDLE] * 20
    assert verdicts[20] == FloodLimit.WARN and set(verdicts[21:]) == {FloodLimit.DROP}
    assert rule.hit("other", 2.0) == FloodLimit.HANDLE  # per account
    assert rule.hit("k", 62.5) == FloodLimit.HANDLE


def test_flood_rule_remembers_only_the_accounts_of_the_last_window() -> None:
    rule = FloodLimit(updates=2, seconds=10)
    for n in range(1000):
        assert rule.hit(f"account {n}", 0.001 * n) == FloodLimit.HANDLE
    assert [rule.hit("flooder", 2.0) for _ in range(4)][-2:] == [FloodLimit.WARN, FloodLimit.DROP]
    assert rule.tracked() == 1001
    # A window later the quiet accounts are forgotten; a minute later the mute too.
    assert rule.hit("late", 12.0) == FloodLimit.HANDLE
    assert rule.tracked() == 2  # "late", and "flooder" still muted
    assert rule.hit("flooder", 30.0) == FloodLimit.DROP
    assert rule.hit("later", 70.0) == FloodLimit.HANDLE
    assert rule.tracked() == 1


async def test_surge_of_reports_alerts_the_admins_once(fake: FakeTelegram, tmp_path: Path) -> None:
    admin = fake.user(7001, first_name="Admin", language_code="en", started=True)
    env = coordination_env(-1001, admins=(admin.id,), KUA_LIMITS__SURGE_PER_HOUR="2")
    fake.group(-1001, "Coordinators", members={admin.id: "administrator"})
    kua = BotProcess(make_config(fake, tmp_path, **env), fake)
    await kua.start()
    try:
        for user_id in (5001, 5002, 5003):
            await submit_case(kua, user_id)
        r = Reporter(fake, fake.user(5004, language_code="en"), kua)
        await r.choose_language("en")
        for _round in range(2):
            await r.command("report")
            await r.consent()
            await fill_report(r, narrative="Surge.")
            await r.review(ReviewAct.SEND)
            await r.press(SAVED)
        alerts = [m for m in fake.transcript(admin.id) if m.from_bot]
        # Once, in the staff's (default) language, with the figures.
        assert len(alerts) == 1 and "4" in alerts[0].text and "(порог — 2)" in alerts[0].text
    finally:
        await kua.stop()
