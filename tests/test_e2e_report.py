"""The reporter's journey, end to end: the real bot polls the fake Bot API over HTTP."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from domain.questionnaire import ATTRIBUTION, STEPS
from domain.values import LOCALES
from emulator import FakeTelegram
from handlers.report.keyboards import ConsentAct, NavAct, ReviewAct
from storage.codes import normalize_code
from storage.models import Attachment, Case
from tests.harness import BotProcess, Reporter, fill_report, tr
from tests.media_fixtures import ogg_voice_with_tags
from tests.sample import FULL_ANSWERS, jpeg_with_gps

CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
KAZAKH = re.compile(r"[әғқңөұүһі]")
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
GPS_IFD = 0x8825

SECRET_STORY = "MARKER-7f3a9c Его били дубинкой в камере номер 12"


async def start_report(r: Reporter, locale: str) -> None:
    await r.choose_language(locale)
    await r.press("m1:report")


async def stored_cases(kua: BotProcess) -> list[Case]:
    async with kua.app.store.cases._sessions() as session:  # noqa: SLF001 - test inspection
        return list(await session.scalars(select(Case).order_by(Case.id)))


async def stored_attachments(kua: BotProcess) -> list[Attachment]:
    async with kua.app.store.cases._sessions() as session:  # noqa: SLF001
        return list(await session.scalars(select(Attachment).order_by(Attachment.id)))


def assert_language(texts: list[str], locale: str, typed: tuple[str, ...]) -> None:
    """Every screen after the language choice is in that language (what the reporter typed and
    the facility-code example excepted)."""
    screens = texts[1:]  # the first is the language picker, in Telegram's language
    joined = "\n".join(screens)
    for literal in (*typed, "ЕС-164/1"):
        joined = joined.replace(literal, "")
    if locale == "kk":
        assert KAZAKH.search(joined), "no Kazakh letters in the Kazakh journey"
    elif locale == "ru":
        assert CYRILLIC.search(joined) and not KAZAKH.search(joined)
    else:
        assert not CYRILLIC.search(joined), CYRILLIC.search(joined)


@pytest.mark.parametrize("locale", LOCALES)
async def test_complete_report(locale: str, fake: FakeTelegram, kua: BotProcess, reporter: Reporter) -> None:
    await start_report(reporter, locale)
    await reporter.consent()
    await fill_report(reporter, narrative=SECRET_STORY, photo=jpeg_with_gps())

    review = reporter.last_text()
    assert tr(locale, "Review and send") in review
    # The account is attributed: the reporter was told by the person.
    assert tr(locale, ATTRIBUTION["person"]) in review
    assert "MARKER-7f3a9c" in review
    assert tr(locale, "Karaganda region") in review

    # Edit one answer from the review screen: the region.
    await reporter.review(ReviewAct.EDIT, step=2)  # "Where"
    await reporter.answer("facility_kind", "colony")
    await reporter.answer("region", "pavlodar")
    await reporter.say("ЕС-164/1")
    review = reporter.last_text()
    assert tr(locale, "Pavlodar region") in review and tr(locale, "Karaganda region") not in review

    await reporter.review(ReviewAct.SEND)
    done = reporter.window_text()
    match = CODE.search(done)
    assert match, done
    assert normalize_code(match.group()) is not None
    # The urgent checklist: its own short message beside the window.
    assert any(
        tr(locale, "Because the person may be in danger, in the next 24 hours:") in (m.text or "")
        for m in reporter.present()
    )

    cases = await stored_cases(kua)
    assert len(cases) == 1
    case = cases[0]
    assert case.status == "new" and case.urgent
    assert case.region == "pavlodar" and case.facility_kind == "colony"
    assert case.locale == locale
    assert case.code_hash != match.group() and len(case.code_hash) == 64
    private = await kua.app.store.cases.private_answers(case.id)
    assert private["narrative"] == {"text": SECRET_STORY}
    assert "narrative" not in case.answers  # free text only encrypted

    # The photo is stored, encrypted, with its EXIF/GPS removed.
    files = await stored_attachments(kua)
    assert [(f.case_id, f.kind) for f in files] == [(case.id, "photo")]
    image = Image.open(io.BytesIO(await kua.app.store.attachments.content(files[0].id)))
    assert dict(image.getexif().get_ifd(GPS_IFD)) == {} and not image.getexif()

    assert_language(reporter.bot_texts(), locale, (SECRET_STORY,))
    assert not fake.forwards


async def test_non_urgent_report_has_no_checklist(reporter: Reporter, kua: BotProcess) -> None:
    await start_report(reporter, "en")
    await reporter.consent()
    await fill_report(reporter, narrative="He was humiliated.", answers={**FULL_ANSWERS, "danger": ["none"]})
    await reporter.review(ReviewAct.SEND)
    assert CODE.search(reporter.window_text())
    assert not any("next 24 hours" in (m.text or "") for m in reporter.present())
    assert not (await stored_cases(kua))[0].urgent


async def test_restart_mid_report_keeps_every_answer(reporter: Reporter, kua: BotProcess) -> None:
    await start_report(reporter, "ru")
    await reporter.consent()
    await reporter.answer("relation", "spouse")
    await reporter.answer("person_agrees", "yes")
    await reporter.multi("danger", "no_contact")
    await reporter.answer("facility_kind", "police")

    await kua.restart()  # the process dies and comes back; drafts live in the database

    await reporter.answer("region", "almaty_city")  # the live button still works
    await reporter.say("ИВС ДП г. Алматы")
    await reporter.answer("last_incident", "today")
    await kua.restart()
    await reporter.say("hello?")  # any message brings the current question back with a hint
    assert tr("ru", "Please choose one of the buttons below.") in reporter.last_text()
    await reporter.answer("ongoing", "no")
    await reporter.multi("methods", "beating")
    await reporter.nav("narrative", NavAct.SKIP)
    await reporter.answer("knowledge", "saw")
    await reporter.nav("perpetrators", NavAct.SKIP)
    await reporter.nav("perpetrator_names", NavAct.SKIP)
    for qid in ("injuries", "medical"):
        await reporter.nav(qid, NavAct.SKIP)
    await reporter.nav("person_name", NavAct.SKIP)
    for qid in ("age_group", "sex", "lawyer_access", "complaints", "reprisals"):
        await reporter.nav(qid, NavAct.SKIP)
    await reporter.nav("files", NavAct.SKIP)
    await reporter.answer("contact", "no")
    review = reporter.last_text()
    for label in (
        "Husband, wife or partner",
        "No contact, whereabouts unknown",
        "Almaty (city)",
        "Today or yesterday",
    ):
        assert tr("ru", label) in review, label
    assert "ИВС ДП г. Алматы" in review
    await reporter.review(ReviewAct.SEND)
    assert CODE.search(reporter.window_text())


async def test_language_change_mid_report(reporter: Reporter, kua: BotProcess) -> None:
    await start_report(reporter, "ru")
    await reporter.consent()
    await reporter.answer("relation", "sibling")
    await reporter.answer("person_agrees", "yes")
    await reporter.command("language")
    await reporter.press("l1:kk")
    # The same question again, now in Kazakh; the earlier answer is kept.
    assert (
        tr("kk", "Is the person in danger right now? Choose everything that applies, then press Done.")
        in reporter.last_text()
    )
    await reporter.multi("danger", "none")
    await reporter.nav("facility_kind", NavAct.BACK)
    await reporter.nav("danger", NavAct.BACK)
    await reporter.nav("person_agrees", NavAct.BACK)
    assert "✅ " + tr("kk", "Brother or sister") in [t for t, _d in reporter.screen().buttons()]


async def test_save_for_later_and_continue(reporter: Reporter, kua: BotProcess) -> None:
    await start_report(reporter, "en")
    await reporter.consent(ConsentAct.STATS)
    await reporter.answer("relation", "child")
    await reporter.answer("person_agrees", "yes")
    await reporter.nav("danger", NavAct.LATER)
    assert "kept for 7 days" in reporter.last_text()
    await reporter.say("some text while paused")  # not taken as an answer
    await reporter.press("d1:resume")
    assert "Is the person in danger right now?" in reporter.last_text()
    await reporter.command("report")
    await reporter.press("d1:resume")
    await reporter.multi("danger", "threats")


async def test_cancel_deletes_the_draft(reporter: Reporter, kua: BotProcess) -> None:
    await start_report(reporter, "en")
    await reporter.consent()
    await reporter.answer("relation", "child")
    await reporter.answer("person_agrees", "yes")
    await reporter.nav("danger", NavAct.CANCEL)
    await reporter.press("x1:yes")
    assert "Your answers were deleted." in reporter.last_text()
    await reporter.press("m1:report")
    assert "Before you start" in reporter.last_text()  # a fresh draft starts with consent


async def test_untouched_draft_expires(reporter: Reporter, kua: BotProcess) -> None:
    await start_report(reporter, "en")
    await reporter.consent()
    await reporter.answer("relation", "child")
    await reporter.answer("person_agrees", "yes")
    kua.clock.advance(days=7, minutes=1)
    await reporter.say("anyone?")
    assert "Please use the menu below." in reporter.last_text()
    await reporter.press("m1:report")
    assert "Before you start" in reporter.last_text()  # a new draft, not the old one


async def test_draft_lives_a_fixed_time_from_its_start(
    reporter: Reporter, kua: BotProcess, fake: FakeTelegram
) -> None:
    await start_report(reporter, "en")
    await reporter.consent()
    await reporter.answer("relation", "child")
    await reporter.answer("person_agrees", "yes")
    await reporter.nav("danger", NavAct.SKIP)
    await reporter.answer("facility_kind", "colony")
    await reporter.answer("region", "kostanay")
    await reporter.nav("facility_name", NavAct.SKIP)
    await reporter.nav("last_incident", NavAct.SKIP)
    await reporter.nav("ongoing", NavAct.SKIP)
    await reporter.nav("methods", NavAct.SKIP)
    await reporter.user.send_voice(ogg_voice_with_tags(), duration=4)
    await reporter.settle()
    assert [f.kind for f in await stored_attachments(kua)] == ["voice"]
    kua.clock.advance(days=6)
    await reporter.answer("knowledge", "saw")  # touched on day 6
    kua.clock.advance(days=1, hours=1)
    await reporter.say("still there?")
    assert "expired and was deleted" in reporter.last_text()
    assert not await stored_attachments(kua)  # its files went with it
    assert not await stored_cases(kua)


async def test_voice_message_as_free_text(reporter: Reporter, kua: BotProcess) -> None:
    """A spoken answer is stored as an encrypted file and counts as the answer."""
    await start_report(reporter, "ru")
    await reporter.consent()
    await reporter.answer("relation", "parent")
    await reporter.answer("person_agrees", "yes")
    await reporter.multi("danger", "none")
    await reporter.answer("facility_kind", "police")
    await reporter.answer("region", "shymkent")
    await reporter.user.send_voice(ogg_voice_with_tags(), duration=2)  # the place's name, spoken
    await reporter.settle()
    assert tr("ru", "When did it last happen?") in reporter.last_text()
    await reporter.nav("last_incident", NavAct.LATER)
    await reporter.press("m1:report")  # "Continue my report (step 4 of 13)"
    await reporter.nav("last_incident", NavAct.BACK)  # back to the spoken answer
    assert "✅" not in str(reporter.screen().buttons())
    await reporter.say("ИВС Шымкента")  # a typed answer replaces it; the recording is kept
    files = await stored_attachments(kua)
    assert [(f.kind, f.case_id) for f in files] == [("voice", None)]


def test_steps_are_thirteen() -> None:
    assert len(STEPS) + 1 == 13


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
