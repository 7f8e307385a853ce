"""Nothing left on the reporter's phone: the whole report in one window, what the reporter sends
deleted once stored, the code kept until "I have saved the code", and then one neutral line."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain.values import LOCALES
from emulator import FakeMessage, FakeTelegram
from handlers.report.keyboards import NavAct, ReviewAct, SavedCb
from storage.models import Case, SentDraft
from storage.repositories import Consent, Submission
from tests import media_fixtures as fx
from tests.harness import BotProcess, Reporter, fill_report, tr
from tests.sample import FULL_ANSWERS, jpeg_with_gps

CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
STORY = "MARKER-7f3a9c Его били дубинкой в камере номер 12"
NAMES = "Капитан Ержанов MARKER-names"
PERSON = "Айбек Нурланов MARKER-person"
PLACE = "ИВС-77 MARKER-place"


def six_files() -> tuple[tuple[str, bytes], ...]:
    """Six real files: unreadable bytes claiming a type are refused at intake, never stored."""
    pdf = fx.pdf_with_author()
    return (
        ("photo", jpeg_with_gps()),
        ("photo", jpeg_with_gps()),
        ("document", pdf),
        ("voice", fx.ogg_voice_with_tags()),
        ("video", fx.mp4_with_gps()),
        ("document", pdf),
    )


SAVED = SavedCb().pack()


def shown_text(message: FakeMessage) -> str:
    return (message.text or message.caption or "") + " ".join(t for t, _d in message.buttons())


def assert_nothing_revealing(r: Reporter, locale: str, code: str) -> None:
    """At most one message, and none holds an answer, a name, the story or the code."""
    shown = r.present()
    assert len(shown) <= 1, shown
    labels = [
        tr(locale, label)
        for label in ("Karaganda region", "Mother or father", "Beating", "Prison or detention staff")
    ]
    for message in shown:
        text = shown_text(message)
        for secret in ("MARKER", code, code.replace("-", ""), *labels):
            assert secret not in text, (secret, text)
        assert message.kind == "text" and message.from_bot  # nothing the reporter sent


async def full_report(r: Reporter, locale: str, *, interrupt: BotProcess | None = None) -> str:
    """A report with every free-text answer and six files; returns the code shown."""
    await r.choose_language(locale)
    await r.press("m1:report")
    r.max_present = 2  # the window and at most one other message, at any moment
    await r.consent()
    if interrupt is not None:
        await interrupt.restart()  # the process dies mid-report
        await r.command("start")  # the reporter comes back later
        assert "m1:report" in str(r.screen().buttons())
        await r.press("m1:report")  # "Continue my report"
    await fill_report(r, narrative=STORY, names=NAMES, person=PERSON, place=PLACE, files=six_files())
    assert tr(locale, "Review and send") in r.window_text()
    await r.review(ReviewAct.SEND)
    match = CODE.search(r.window_text())
    assert match, r.window_text()
    return match.group()


@pytest.mark.parametrize("locale", LOCALES)
async def test_after_saving_the_code_the_chat_shows_nothing(
    locale: str, fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    code = await full_report(reporter, locale)
    # The urgent checklist is its own short message, beside the window.
    assert any(
        tr(locale, "Because the person may be in danger, in the next 24 hours:") in (m.text or "")
        for m in reporter.present()
    )
    await reporter.press(SAVED)
    assert_nothing_revealing(reporter, locale, code)
    async with kua.app.store.cases._sessions() as session:  # noqa: SLF001 - inspection
        sent = list(await session.scalars(select(SentDraft)))
    assert [s.code_enc for s in sent] == [None]  # the bot no longer keeps the code
    assert len(await kua.app.store.attachments.for_case(sent[0].case_id)) == 6


async def test_interrupted_and_resumed_report_leaves_nothing(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    code = await full_report(reporter, "ru", interrupt=kua)
    await reporter.press(SAVED)
    assert_nothing_revealing(reporter, "ru", code)


async def test_typed_answers_are_deleted_and_the_window_says_saved(
    reporter: Reporter, kua: BotProcess
) -> None:
    await reporter.choose_language("en")
    await reporter.press("m1:report")
    await reporter.consent()
    await reporter.answer("relation", "parent")
    await reporter.answer("person_agrees", "yes")
    await reporter.multi("danger", "none")
    await reporter.answer("facility_kind", "police")
    await reporter.answer("region", "abai")
    window = reporter.screen().message_id
    typed = await reporter.user.send_text(PLACE)
    await reporter.settle()
    assert typed.deleted
    assert reporter.screen().message_id == window  # edited in place, not sent anew
    assert "Saved." in reporter.window_text()
    assert "Question 7 of" in reporter.window_text()  # counts what applies, with the section
    assert "When" in reporter.window_text()


async def test_progress_counts_only_questions_that_apply(reporter: Reporter, kua: BotProcess) -> None:
    await reporter.choose_language("en")
    await reporter.press("m1:report")
    await reporter.consent()
    await reporter.answer("relation", "self")  # "does the person agree" no longer applies
    first = re.search(r"Question (\d+) of (\d+)", reporter.window_text())
    assert first and first.group(1) == "2"
    await reporter.nav("danger", NavAct.BACK)
    await reporter.answer("relation", "parent")
    second = re.search(r"Question (\d+) of (\d+)", reporter.window_text())
    assert second and int(second.group(2)) == int(first.group(2)) + 1


async def test_code_is_shown_again_on_start_until_saved(reporter: Reporter, kua: BotProcess) -> None:
    code = await full_report(reporter, "en")
    await reporter.command("start")
    assert code in reporter.window_text()
    await kua.restart()
    await reporter.command("start")
    assert code in reporter.window_text()  # kept (encrypted) across restarts
    await reporter.press(SAVED)
    await reporter.command("start")
    assert code not in "\n".join(shown_text(m) for m in reporter.present())
    assert "m1:report" in str(reporter.screen().buttons())  # the main menu again


async def test_double_send_creates_one_case(reporter: Reporter, kua: BotProcess, fake: FakeTelegram) -> None:
    await reporter.choose_language("en")
    await reporter.press("m1:report")
    await reporter.consent()
    await fill_report(reporter, narrative=STORY)
    review = reporter.screen()
    send = next(t for t, d in review.buttons() if d == "r1:send:-1")
    await reporter.user.press(send, message=review)
    await reporter.user.press(send, message=review)  # a double tap
    await reporter.settle()
    async with kua.app.store.cases._sessions() as session:  # noqa: SLF001
        assert await session.scalar(select(func.count(Case.id))) == 1
    assert CODE.search(reporter.window_text())


async def test_send_after_a_lost_state_write_finds_the_stored_case(kua: BotProcess) -> None:
    """A kill between the case's commit and the FSM write: the retried Send finds the case
    and the same code (kept encrypted with the sent draft), never a second case."""
    store = kua.app.store
    ref = store.attachments.new_draft_ref()
    sub = Submission(answers=dict(FULL_ANSWERS), consent=Consent(), draft_ref=ref, locale="en")
    first = await store.cases.submit(5550001, 5550001, sub)
    again = await store.cases.submit(5550001, 5550001, sub)
    assert (again.id, again.code) == (first.id, first.code) and first.code
    await store.cases.code_saved(ref)
    assert (await store.cases.sent(ref)).code is None
    assert (await store.cases.submit(5550001, 5550001, sub)).id == first.id


async def test_full_story_reads_in_pages_within_the_window(reporter: Reporter, kua: BotProcess) -> None:
    long_story = " ".join(["Он рассказал, что его били каждую ночь."] * 150)  # ~6000 characters
    await reporter.choose_language("ru")
    await reporter.press("m1:report")
    await reporter.consent()
    await fill_report(reporter, narrative=long_story[:3500])
    window = reporter.screen().message_id
    await reporter.review(ReviewAct.STORY, step=0)
    assert reporter.screen().message_id == window
    assert long_story[:3000] in reporter.window_text()
    await reporter.press("r1:back:-1")
    assert tr("ru", "Review and send") in reporter.window_text()


async def test_reporter_who_says_the_person_disagrees_sees_the_note(
    reporter: Reporter, kua: BotProcess
) -> None:
    await reporter.choose_language("en")
    await reporter.press("m1:report")
    await reporter.consent()
    await fill_report(reporter, narrative=STORY, answers={**FULL_ANSWERS, "person_agrees": "no"})
    assert "does not agree" in reporter.window_text()


async def test_sent_drafts_and_limit_marks_expire_with_retention(kua: BotProcess) -> None:
    from bot.retention import retention_round

    store = kua.app.store
    ref = store.attachments.new_draft_ref()
    sub = Submission(answers=dict(FULL_ANSWERS), consent=Consent(), draft_ref=ref, locale="en")
    await store.cases.submit(5550002, 5550002, sub)
    await store.limits.mark("code", 5550002)
    await retention_round(store, kua.app.fsm, kua.config)
    assert (await store.cases.sent(ref)).code  # young: kept
    kua.clock.advance(days=kua.config.retention.draft_days, minutes=1)
    await retention_round(store, kua.app.fsm, kua.config)
    assert await store.cases.sent(ref) is None  # the code is gone with the draft's lifetime
    assert await store.limits.count("code", 5550002, timedelta(days=30)) == 0
