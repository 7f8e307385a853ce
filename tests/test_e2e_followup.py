"""The reporter after submitting: My reports, news shown on tap, adding information, and opening
a case with its code from another account (limited guessing)."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select

from emulator import FakeTelegram
from handlers.report.keyboards import NavAct, ReviewAct, SavedCb
from storage.models import Attachment, CaseMessage
from storage.outbox import OutboxKind
from tests.harness import BotProcess, Reporter, fill_report, tr
from tests.sample import jpeg_with_gps

CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


async def submit_report(r: Reporter, locale: str = "en") -> str:
    await r.choose_language(locale)
    await r.press("m1:report")
    await r.consent()
    await fill_report(r, narrative="He was beaten on 3 May.")
    await r.review(ReviewAct.SEND)
    match = CODE.search(r.window_text())
    assert match
    await r.press(SavedCb().pack())  # the code leaves the chat
    return match.group()


async def wait_for_text(r: Reporter, needle: str, timeout: float = 10.0) -> str:
    """The delivery worker polls the outbox; wait until its message has arrived."""
    for _ in range(int(timeout / 0.1)):
        if needle in r.last_text():
            return r.last_text()
        await asyncio.sleep(0.1)
        await r.settle()
    raise AssertionError(f"{needle!r} never arrived; last: {r.last_text()!r}")


async def outbox_kinds(kua: BotProcess) -> list[str]:
    from storage.models import OutboxItem

    async with kua.app.store.cases._sessions() as session:  # noqa: SLF001
        return list(await session.scalars(select(OutboxItem.kind).order_by(OutboxItem.id)))


async def test_my_reports_news_and_adding_information(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    await submit_report(reporter)
    await reporter.command("myreports")
    assert "Your reports." in reporter.last_text()
    assert ": Received, waiting for a coordinator" in reporter.last_text()
    await reporter.press("f1:open:1")
    assert "Received, waiting for a coordinator" in reporter.last_text()
    assert "No messages yet." in reporter.last_text()

    await kua.app.store.casework.message_to_reporter(1, 4242, "Can you tell us the date?")
    notice = await wait_for_text(reporter, "You have something new.")
    assert "date" not in notice and "report" not in notice  # neutral: content only on tap
    await reporter.press("f1:read:1")
    assert "Can you tell us the date?" in reporter.last_text()
    await reporter.press("f1:list:0")
    assert "🔔" not in str(reporter.screen().buttons())  # read now

    await reporter.press("f1:open:1")
    await reporter.press("f1:add:1")
    await reporter.say("It was on 3 May, at night.")
    assert "Saved: 1." in reporter.window_text()
    await reporter.user.send_photo(jpeg_with_gps(), caption="his arm")
    await reporter.settle()
    await reporter.user.send_sticker()
    await reporter.settle()
    assert "Please send text, a photo" in reporter.window_text()
    assert "Saved: 2." in reporter.window_text()
    # What the reporter sent is gone from the chat once stored.
    assert all(m.from_bot for m in reporter.present())
    await reporter.press("f1:open:1")  # Done
    shown = reporter.last_text()
    assert "It was on 3 May, at night." in shown and "(files: 1)" in shown

    async with kua.app.store.cases._sessions() as session:  # noqa: SLF001
        messages = list(await session.scalars(select(CaseMessage).order_by(CaseMessage.id)))
        files = list(await session.scalars(select(Attachment).where(Attachment.message_id.is_not(None))))
    assert [m.direction for m in messages] == ["to_reporter", "from_reporter", "from_reporter"]
    assert b"3 May" not in (messages[1].text_enc or b"")  # encrypted at rest
    assert [(f.case_id, f.message_id) for f in files] == [(1, messages[2].id)]
    kinds = await outbox_kinds(kua)
    assert kinds.count(OutboxKind.TO_GROUP.value) == 2
    assert not fake.forwards


async def test_open_with_code_from_another_account(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    code = await submit_report(reporter, "ru")
    phone = Reporter(fake, fake.user(111222333, first_name="New", language_code="ru"), kua)
    await phone.choose_language("ru")
    await phone.press("m1:my")
    assert (
        tr(
            "ru",
            "There are no reports linked to this account. If you have a case code, "
            "you can open the report with it.",
        )
        in phone.last_text()
    )
    await phone.press("f1:code:0")
    await phone.say(code.lower().replace("-", " ").replace("0", "o"))  # typed loosely
    await phone.press("f1:stay:1")  # opened elsewhere: write back to the old account? no
    assert tr("ru", "Received, waiting for a coordinator") in phone.last_text()
    await phone.press("f1:list:0")
    assert "f1:open:1" in str(phone.screen().buttons())


async def test_wrong_codes_are_limited(fake: FakeTelegram, kua: BotProcess, reporter: Reporter) -> None:
    code = await submit_report(reporter)
    guesser = Reporter(fake, fake.user(444555666, first_name="G", language_code="en"), kua)
    await guesser.choose_language("en")
    for _attempt in range(5):  # the configured limit per hour
        await guesser.press("f1:code:0" if _attempt else "m1:my")
        if not _attempt:
            await guesser.press("f1:code:0")
        await guesser.say("AAAA-BBBB-CCCC")
        assert "No report has this code" in guesser.last_text()
    await guesser.press("f1:code:0")  # "Try again"
    await guesser.say(code)  # even the right code: the limit comes first
    assert "Too many wrong codes" in guesser.last_text()
    kua.clock.advance(hours=1, minutes=1)
    await guesser.press("f1:list:0")
    await guesser.press("f1:code:0")
    await guesser.say(code)
    await guesser.press("f1:stay:1")
    assert "Received, waiting for a coordinator" in guesser.last_text()


async def test_someone_elses_case_cannot_be_opened_by_button(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    await submit_report(reporter)
    other = Reporter(fake, fake.user(777888999, first_name="O", language_code="en"), kua)
    await other.choose_language("en")
    await other.user.press_data("f1:open:1")
    await other.user.press_data("f1:add:1")
    await other.settle()
    assert "Status:" not in "\n".join(other.bot_texts())
    assert [a.text for a in other.user.callback_answers][-2:] == ["This button is out of date."] * 2


async def test_adding_information_keeps_an_open_draft(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    await submit_report(reporter)
    await reporter.command("report")
    await reporter.consent()
    await reporter.answer("relation", "spouse")
    await reporter.answer("person_agrees", "yes")
    await reporter.nav("danger", NavAct.LATER)
    await reporter.press("m1:my")
    await reporter.press("f1:open:1")
    await reporter.press("f1:add:1")
    await reporter.say("More details.")
    await reporter.press("f1:open:1")  # Done
    await reporter.command("report")
    assert "Is the person in danger right now?" in reporter.last_text()
