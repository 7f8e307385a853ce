"""Bad input in every state gets a localized answer and loses nothing; no update crashes the bot."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey

from emulator import FakeTelegram
from handlers.report.keyboards import ConsentAct, NavAct, ReviewAct
from tests.harness import BotProcess, Reporter, fill_report, tr
from tests.media_fixtures import pdf_with_author
from tests.sample import FULL_ANSWERS


async def draft_data(kua: BotProcess, fake: FakeTelegram, r: Reporter) -> tuple[str | None, dict]:
    key = StorageKey(bot_id=fake.bot_id, chat_id=r.chat_id, user_id=r.chat_id)
    return await kua.app.fsm.get_state(key), await kua.app.fsm.get_data(key)


def without_ui(data: dict) -> dict:
    """Draft content, without the id of the live message (re-asking sends a new one)."""
    return {k: v for k, v in data.items() if k not in ("ui",)}


async def junk_burst(r: Reporter, fake: FakeTelegram) -> None:
    """Everything a confused or hostile user might send, in quick succession."""
    u = r.user
    await u.send_sticker()
    await u.send_location(43.238, 76.945)
    await u.send_contact("+77010000000", "Айгуль")
    await u.send_animation(b"GIF89a-not-really")
    await r.settle()  # forged presses need a bot message to hang on
    await u.press_data("a1:region:moscow")  # a forged value
    await u.press_data("n1:knowledge:skip")  # a button of another question
    await u.press_data("r1:edit:99")  # a review section that does not exist
    await u.press_data("l1:de")  # a language we don't have
    await u.press_data("zz:garbage:" + "x" * 40)
    await u.send_text("x" * 4000)
    await r.settle()


async def test_junk_in_every_state_changes_nothing(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    r = reporter
    await junk_burst(r, fake)  # before any language is chosen
    await r.choose_language("ru")
    await junk_burst(r, fake)  # main menu, no state
    await r.press("m1:report")
    await junk_burst(r, fake)  # consent screen
    await r.consent(ConsentAct.SHARE)
    states_seen = set()

    async def burst_keeps_draft() -> None:
        state, before = await draft_data(kua, fake, r)
        await junk_burst(r, fake)
        after_state, after = await draft_data(kua, fake, r)
        assert after_state == state
        assert without_ui(after) == without_ui(before)
        states_seen.add(state)
        # The bot answered in its window (a hint and the question again); nothing the
        # reporter sent stays in the chat.
        assert r.present() and all(m.from_bot for m in r.present())

    await burst_keeps_draft()  # a choice question
    await r.answer("relation", "parent")
    await r.answer("person_agrees", "yes")
    await r.answer("danger", "ongoing")
    await burst_keeps_draft()  # a multi-select in progress keeps its ticks
    await r.nav("danger", NavAct.DONE)
    await r.answer("facility_kind", "sizo")
    await r.answer("region", "abai")
    await burst_keeps_draft()  # a text question
    await r.say("СИЗО г. Семей")
    await r.answer("last_incident", "earlier")
    await r.answer("incident_year", "2025")
    await r.answer("incident_month", "03")
    await r.answer("ongoing", "no")
    await r.multi("methods", "beating")
    await r.say("Рассказ")
    await r.answer("knowledge", "person")
    await r.nav("perpetrators", NavAct.SKIP)
    await r.nav("perpetrator_names", NavAct.SKIP)
    for qid in ("injuries", "medical"):
        await r.nav(qid, NavAct.SKIP)
    await r.nav("person_name", NavAct.SKIP)
    for qid in ("age_group", "sex", "lawyer_access", "complaints", "reprisals"):
        await r.nav(qid, NavAct.SKIP)
    await burst_keeps_draft()  # the files step
    await r.nav("files", NavAct.DONE)
    await r.answer("contact", "no")
    await burst_keeps_draft()  # the review
    await r.review(ReviewAct.LATER)
    await junk_burst(r, fake)  # paused
    await r.press("d1:resume")
    await r.review(ReviewAct.CANCEL)
    await burst_keeps_draft()  # the cancel confirmation
    await r.press("x1:no")
    _state, data = await draft_data(kua, fake, r)
    assert data["answers"]["incident_month"] == "03" and data["consent"]["share"] is False
    await r.review(ReviewAct.SEND)
    assert "-" in r.window_text() and len(states_seen) >= 6
    # Forged and stale buttons got a short, localized answer, never an error.
    answers = [a.text for a in r.user.callback_answers if a.text]
    assert tr("ru", "This button is out of date.") in answers


async def test_over_long_text_is_refused_and_kept_out(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    r = reporter
    await r.choose_language("en")
    await r.press("m1:report")
    await r.consent()
    for qid, value in (("relation", "parent"), ("person_agrees", "yes")):
        await r.answer(qid, value)
    await r.nav("danger", NavAct.SKIP)
    await r.answer("facility_kind", "police")
    await r.answer("region", "astana")
    await r.say("y" * 301)  # the place name allows 300
    assert "301 characters long; the limit here is 300" in r.last_text()
    _s, data = await draft_data(kua, fake, r)
    assert "facility_name" not in data["answers"]
    await r.say("ИВС")
    _s, data = await draft_data(kua, fake, r)
    assert data["answers"]["facility_name"] == {"text": "ИВС"}


async def test_files_limits_are_told(fake: FakeTelegram, kua: BotProcess, reporter: Reporter) -> None:
    r = reporter
    await r.choose_language("en")
    await r.press("m1:report")
    await r.consent()
    answers = dict(FULL_ANSWERS)
    # Up to the files step.
    await fill_report(r, narrative="n", answers=answers)  # reaches the review
    await r.review(ReviewAct.EDIT, step=10)  # Evidence
    assert "Up to 10 files, each up to 20 MB" in r.last_text()
    await r.user.send_document(b"\0" * (20 * 1024 * 1024 + 1), "video.mov", "video/quicktime")
    await r.settle()
    assert "too large" in r.last_text()
    await r.user.send_sticker()
    await r.settle()
    assert "Please send a photo, a document, a voice message or a video" in r.last_text()
    await r.user.send_document(b"%PDF-1.4 fake", "complaint.pdf", "application/pdf")
    await r.settle()
    assert "could not be read" in r.last_text()  # a broken PDF is not stored as it came
    await r.user.send_document(pdf_with_author(), "complaint.pdf", "application/pdf")
    await r.settle()
    assert "File 1: document, saved." in r.last_text()
    await r.nav("files", NavAct.DONE)
    assert "1 file" in r.last_text()  # back on the review


async def test_two_quick_taps(fake: FakeTelegram, kua: BotProcess, reporter: Reporter) -> None:
    r = reporter
    await r.choose_language("en")
    await r.press("m1:report")
    await r.consent()
    screen = r.screen()
    # Two taps on different answers before the bot reacts: only the first counts.
    await r.user.press("Mother or father", message=screen)
    await r.user.press("Brother or sister", message=screen)
    await r.settle()
    _s, data = await draft_data(kua, fake, r)
    assert data["answers"]["relation"] == "parent"
    assert _s == "Report:person_agrees"
    await r.answer("person_agrees", "yes")
    # Two quick ticks in a multi-select: both kept (the second is not lost to the first).
    screen = r.screen()
    await r.user.press("Ill-treatment is still going on", message=screen)
    await r.user.press("About to be transferred", message=screen)
    await r.settle()
    _s, data = await draft_data(kua, fake, r)
    assert sorted(data["pending"]["danger"]) == ["ongoing", "transfer"]


async def test_commands_are_registered_per_language(fake: FakeTelegram, kua: BotProcess) -> None:
    scope = {"type": "all_private_chats"}
    for locale in ("kk", "ru", "en"):
        commands = {c["command"]: c["description"] for c in fake.commands(scope, locale)}
        assert set(commands) == {
            "start",
            "report",
            "myreports",
            "rights",
            "language",
            "cancel",
            "help",
            "erase",
            "forget",
        }
        assert commands["language"] == tr(locale, "Change the language")
    assert fake.commands(scope, "")  # a default for every other language
