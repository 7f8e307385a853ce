"""The case sheet: a DOCX in the chosen language with the attributed facts, what is not known,
the files, the status history and the complaint checklist; no reporter identity; sent
privately with protect_content, deleted later, recorded; missing items become questions
through the Reply flow's preview."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import docx
import pytest
from aiogram.utils.i18n import I18n

from bot.i18n import LOCALES_DIR
from emulator import FakeTelegram
from handlers import sheet as sheet_doc
from handlers.advocacy import SHEET_WHO
from handlers.coordinator.keyboards import PreviewAct, PreviewCb
from handlers.sheet_keyboards import SheetAskCb, SheetCb
from tests.advocacy_fixtures import NOW, Seed, add_case, seeded_store
from tests.harness import BotProcess, coordination_env, make_config, submit_case, tr
from tests.sample import jpeg_with_gps

ATTRIBUTION = "According to the detained person, as told to the reporter"


def text_of(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs)


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
async def test_sheet_in_each_language_with_attribution_and_checklist(tmp_path: Path, locale: str) -> None:
    async with seeded_store("sqlite", tmp_path, "sheet") as store:
        case_id = await add_case(
            store,
            Seed(
                "2026-03",
                private={"narrative": {"text": "Его били в ИВС"}, "facility_name": "ИВС ГУВД"},
                answers={"complaints": ["prosecutor"]},
            ),
            files=[("photo", b"x" * 3000, "IMG_0001.jpg")],
            events=[
                ("take", {"from": "new"}),
                ("note", {}),
                ("status", {"from": "in_progress", "to": "referred", "referral": "prosecutor"}),
            ],
        )
        view = await store.casework.get(case_id)
        assert view is not None
        private = await store.casework.private(case_id)
        files = await store.attachments.for_case(case_id)
        events = await store.casework.events(case_id)
    i18n = I18n(path=LOCALES_DIR, default_locale="en", domain="messages")
    with i18n.context(), i18n.use_locale(locale):
        data = sheet_doc.build(view, private, files, events, share_consent=True, now=NOW)
    text = text_of(data)
    assert tr(locale, ATTRIBUTION) in text
    assert tr(locale, "Facts as reported") in text
    assert "Его били в ИВС" in text and "ИВС ГУВД" in text
    assert tr(locale, "What a complaint still needs") in text
    assert "☑ " + tr(locale, "Photographs of the injuries, taken early, with a scale and the date") in text
    assert "☐ " + tr(locale, "Witnesses: their names or roles") in text
    assert (
        "☑ "
        + tr(
            locale,
            "A complaint already made at home (the UN Committee against "
            "Torture takes complaints after domestic remedies)",
        )
        in text
    )
    assert "IMG_0001" not in text  # original file names can identify the sender
    assert "2026-03-10" in text  # the history, by date
    assert len(docx.Document(io.BytesIO(data)).paragraphs) < 80  # one to two pages


def test_what_is_missing_follows_the_answers() -> None:
    from storage.repositories import StoredFile

    answers = {
        "last_incident": "earlier",
        "incident_year": "-",
        "facility_kind": "sizo",
        "region": "astana",
        "medical": "recorded",
        "person_agrees": "yes",
    }
    codes = [i.code for i in sheet_doc.missing(answers, [StoredFile(1, "document", 10)])]
    assert "dates" in codes and "place" in codes  # the year and the place's name are unknown
    assert "medical" not in codes and "consent" not in codes
    assert "photos" in codes and "domestic" in codes


# --- through the bot -----------------------------------------------------------------------------

GROUP = -1004400110055
AIGERIM = 770033001  # coordinator who takes the case
DANA = 770033002  # another coordinator
REPORTER = 987654321


async def test_sheet_from_the_case_view_for_the_assigned_coordinator(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    group = fake.group(GROUP, "Coordinators", members={AIGERIM: "member", DANA: "member"})
    kua = BotProcess(
        make_config(
            fake,
            tmp_path,
            **coordination_env(GROUP, (AIGERIM, DANA), KUA_COORDINATION__PRIVATE_VIEW_MINUTES="4"),
        ),
        fake,
    )
    fake.user(
        REPORTER,
        first_name="Гульнара",
        last_name="Сейткали",
        username="gulnara_s",
        language_code="ru",
        started=True,
    )
    await kua.start()
    try:
        assert kua.app is not None
        store = kua.app.store
        case_id = await submit_case(
            kua, REPORTER, narrative="Сына избили в СИЗО", files=(("photo", jpeg_with_gps()),)
        )
        for _ in range(200):  # the card is delivered before it is taken
            await kua.settle()
            view = await store.casework.get(case_id)
            if view is not None and view.card_message_id is not None:
                break
            await asyncio.sleep(0.05)
        await store.casework.take(case_id, AIGERIM)
        aigerim = fake.user(AIGERIM, language_code="kk", started=True)
        dana = fake.user(DANA, started=True)
        in_group = group.users[AIGERIM]
        await in_group.send_text(f"/case {case_id}")
        await kua.settle()
        card = next(
            m for m in in_group.bot_messages() if SheetCb(case=case_id).pack() in [d for _t, d in m.buttons()]
        )

        # Another coordinator may not make it.
        callback = await group.users[DANA].press_data(SheetCb(case=case_id).pack(), card)
        await kua.settle()
        assert fake.callbacks[callback].answer.text == tr("ru", SHEET_WHO)
        assert not dana.bot_messages()

        await in_group.press_data(SheetCb(case=case_id).pack(), card)
        await kua.settle()
        await aigerim.press_data(SheetCb(case=case_id, lang="kk").pack())
        await kua.settle()
        document = next(m for m in aigerim.bot_messages() if m.kind == "document")
        assert fake.calls("sendDocument")[-1].params.get("protect_content") is True
        assert document.data is not None
        text = text_of(document.data)
        assert tr("kk", ATTRIBUTION) in text and "Сына избили в СИЗО" in text
        for identity in ("Гульнара", "Сейткали", "gulnara_s", str(REPORTER)):
            assert identity not in text
        events = await store.casework.events(case_id)
        assert [(kind, data) for _at, _ak, actor, kind, data in events if kind == "sheet_made"] == [
            ("sheet_made", {"lang": "kk"})
        ]

        # A missing item becomes a question for the reporter, previewed, then sent.
        ask = aigerim.last_bot_message()
        assert SheetAskCb(case=case_id, item="witnesses").pack() in [d for _t, d in ask.buttons()]
        asked = await aigerim.press_data(SheetAskCb(case=case_id, item="witnesses").pack(), ask)
        await kua.settle()
        assert fake.callbacks[asked].answer is not None
        assert not fake.callbacks[asked].answer.text
        preview = aigerim.last_bot_message()
        question = tr(
            "ru",
            "Did anyone else see or hear what happened? Their names or roles "
            "(for example, a cellmate) are enough.",
        )
        assert question in preview.text
        await aigerim.press_data(PreviewCb(act=PreviewAct.SEND, case=case_id).pack(), preview)
        await kua.settle()
        channel = await store.casework.channel(case_id)
        assert [m.text for m in channel if m.direction == "to_reporter"] == [question]

        # Deleted after private_view_minutes.
        kua.clock.advance(seconds=4 * 60 + 5)
        fake.advance(4 * 60 + 5)
        for _ in range(100):
            await kua.settle()
            if fake.find_message(AIGERIM, document.message_id).deleted:
                break
            await asyncio.sleep(0.05)
        assert fake.find_message(AIGERIM, document.message_id).deleted
    finally:
        await kua.stop()
