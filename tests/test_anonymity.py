"""What a seized server would show: no reporter identity and no free text in the clear — in the
database file, the data directory, or the logs."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.logs import setup_logging
from emulator import FakeTelegram
from handlers.report.keyboards import NavAct, ReviewAct
from storage.models import Case
from tests.harness import BotProcess, Reporter, fill_report
from tests.sample import FULL_ANSWERS, jpeg_with_gps

USER_ID = 987654321
MARKER = "MARKER-d41d8c"
NARRATIVE = f"{MARKER} Сына избили в ИВС, сотрудник Ержанов угрожал"
NAMES = "капитан Ержанов, жетон 0451"
PERSON = "Даурен Ахметов"
IDENTITY = ("987654321", "gulnara_s", "Гульнара", "Сейткали")
SECRETS = (MARKER, "избили", "Ержанов", "Даурен", "Ахметов", "жетон 0451")


async def full_journey(r: Reporter, *, contact: str = "yes") -> None:
    await r.choose_language("ru")
    await r.press("m1:report")
    await r.consent()
    await fill_report(
        r,
        narrative=NARRATIVE,
        names=NAMES,
        person=PERSON,
        photo=jpeg_with_gps(),
        answers={**FULL_ANSWERS, "contact": contact},
    )
    await r.review(ReviewAct.SEND)


def raw_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


async def test_nothing_identifying_or_private_in_the_data_directory(
    tmp_path: Path, fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    await full_journey(reporter)
    # A second reporter leaves a draft half-way, with free text in it.
    other = Reporter(fake, fake.user(555000111, first_name="Асель", username="asel_k"), kua)
    await other.choose_language("kk")
    await other.press("m1:report")
    await other.consent()
    await other.answer("relation", "spouse")
    await other.answer("person_agrees", "yes")
    await other.nav("danger", NavAct.SKIP)
    await other.answer("facility_kind", "colony")
    await other.answer("region", "kostanay")
    await other.say(f"{MARKER} колония")

    await kua.stop()  # flush everything to the files
    blob = raw_bytes(tmp_path / "data")
    assert blob, "the data directory is empty?"
    for needle in (*IDENTITY, *SECRETS, "555000111", "asel_k", "Асель"):
        assert needle.encode() not in blob, f"{needle!r} is stored in the clear"
        assert needle.encode("utf-16-le") not in blob


async def test_case_record_links_to_no_account(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    await full_journey(reporter, contact="no")
    async with kua.app.store.cases._sessions() as session:  # noqa: SLF001
        case = (await session.scalars(select(Case))).one()
    row = {c.name: getattr(case, c.name) for c in Case.__table__.columns}
    flat = repr(row)
    for needle in IDENTITY:
        assert needle not in flat
    assert case.contact_enc is None  # no consent to contact: no chat id at all
    assert case.reporter_hash == kua.app.store.cases.reporter_key(USER_ID)
    assert str(USER_ID) not in case.reporter_hash


async def test_chat_id_kept_encrypted_only_with_consent(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    await full_journey(reporter, contact="yes")
    async with kua.app.store.cases._sessions() as session:  # noqa: SLF001
        case = (await session.scalars(select(Case))).one()
    assert case.contact_enc and str(USER_ID).encode() not in case.contact_enc
    assert kua.app.store.crypto.decrypt_text(case.contact_enc) == str(USER_ID)


async def test_logs_of_a_full_journey_carry_no_identity_or_text(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter, caplog: pytest.LogCaptureFixture
) -> None:
    stream = io.StringIO()
    setup_logging("DEBUG", stream)  # what an operator's log file would hold
    caplog.set_level(logging.DEBUG)
    try:
        await full_journey(reporter)
        await reporter.command("start")
        await reporter.user.send_sticker()
        await reporter.settle()
    finally:
        logging.getLogger().handlers[:] = [
            h
            for h in logging.getLogger().handlers
            if not isinstance(h, logging.StreamHandler) or h.stream is not stream
        ]
    written = stream.getvalue()
    assert "submitted" in written  # the log is not empty: the journey was logged
    # Our own records, before any filter: no name, username, message text.
    raw = "\n".join(r.getMessage() for r in caplog.records)
    for needle in (*IDENTITY[1:], *SECRETS):
        assert needle not in raw, needle
        assert needle not in written, needle
    # The operator's log masks ids, whatever library wrote the record.
    assert str(USER_ID) not in written


async def test_a_crash_is_logged_without_content_and_keeps_the_draft(
    fake: FakeTelegram,
    kua: BotProcess,
    reporter: Reporter,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def explode(*_args, **_kwargs):
        raise ValueError(f"cannot store {NARRATIVE} from {USER_ID}")

    await reporter.choose_language("en")
    await reporter.press("m1:report")
    await reporter.consent()
    await fill_report(reporter, narrative=NARRATIVE)
    stream = io.StringIO()
    setup_logging("INFO", stream)
    monkeypatch.setattr(kua.app.store.cases, "submit", explode)
    review = reporter.screen()
    await reporter.review(ReviewAct.SEND)
    assert "Something went wrong on our side. Your answers are kept" in reporter.last_text()
    # Said in the window (with the menu), not in a message of its own left on the phone.
    assert [m.message_id for m in reporter.present()] == [review.message_id]
    assert "m1:report" in [d for _t, d in reporter.screen().buttons()]
    written = stream.getvalue()
    assert "ValueError" in written and "message withheld" in written
    assert MARKER not in written and str(USER_ID) not in written
    monkeypatch.undo()
    await reporter.command("report")  # the draft is still there
    await reporter.press("d1:resume")
    await reporter.review(ReviewAct.SEND)
    assert "Your report has been received." in reporter.window_text()
