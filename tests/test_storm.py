"""Flood control and faults, end to end: while 30 % of the calls to the coordinators' group and
10 % of those to reporters answer 429 / 5xx / a dropped connection, no request reaches a chat
inside its retry_after window (the fake refuses and counts any), every card is delivered once,
every reporter sees their code, and no case is stored twice. Plus: a file's caption is never
silently dropped."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from sqlalchemy import func, select

from emulator import FakeTelegram
from handlers.report.keyboards import ReviewAct
from storage.models import Case
from tests.harness import BotProcess, Reporter, fill_report, make_config
from tests.test_delivery import (  # noqa: F401 - fixtures
    COORDINATOR,
    FORUM_ID,
    _quick_worker,
    cards,
    forum,
    until,
)

CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


class PatientBot(BotProcess):
    """In a storm a handler may wait out several retry_after windows in a row: settle longer."""

    async def settle(self, timeout: float = 30) -> None:
        for _ in range(5):
            try:
                await super().settle(timeout)
                return
            except TimeoutError:
                continue
        await super().settle()


def codes_seen(r: Reporter) -> list[str]:
    return [code for text in r.bot_texts() for code in CODE.findall(text)]


async def test_a_storm_of_429_5xx_and_drops_loses_nothing_and_never_floods(
    fake: FakeTelegram,
    tmp_path: Path,
    forum,  # noqa: F811 - the fixture imported above
) -> None:
    kua = PatientBot(
        make_config(
            fake,
            tmp_path,
            KUA_COORDINATION__CHAT_ID=str(FORUM_ID),
            KUA_COORDINATION__COORDINATORS=str(COORDINATOR),
            KUA_APP__DEFAULT_LOCALE="en",
        ),
        fake,
    )
    await kua.start()
    try:
        reporters = [
            Reporter(fake, fake.user(910000001 + i, first_name="S", language_code="en"), kua)
            for i in range(3)
        ]

        async def journey(r: Reporter, index: int) -> None:
            await r.choose_language("en")
            await r.press("m1:report")
            await r.consent()
            await fill_report(r, narrative=f"STORM-{index} what happened")
            await r.review(ReviewAct.SEND)

        fake.storm(private=0.10, group=0.30, seed=9)
        await asyncio.gather(*(journey(r, i) for i, r in enumerate(reporters)))
        store = kua.app.store
        async with store.cases._sessions() as session:  # noqa: SLF001
            count = await session.scalar(select(func.count()).select_from(Case))
            hashes = set((await session.scalars(select(Case.code_hash))).all())
            ids = sorted((await session.scalars(select(Case.id))).all())
        assert count == len(reporters)  # no case stored twice
        await until(lambda: sorted(cards(fake, FORUM_ID)) == ids, timeout=60, what="every card")
        await kua.settle()
        assert all(len(found) == 1 for found in cards(fake, FORUM_ID).values())
        assert len(forum.topics) == len(ids)
        for r in reporters:  # every code seen by its reporter
            seen = codes_seen(r)
            assert len(seen) == 1 and store.cases.code_key(seen[0]) in hashes
        assert fake.storm_faults > 10  # the storm really blew
        assert fake.flood_violations == []  # nothing sent into an open window
    finally:
        fake.storm(private=0, group=0)
        await kua.stop()


async def test_a_caption_sent_with_a_file_is_not_dropped_silently(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 10, 10)).save(buf, "JPEG")
    await reporter.choose_language("en")
    await reporter.press("m1:report")
    await reporter.consent()
    await fill_report_until_files(reporter)
    await reporter.user.send_photo(buf.getvalue(), caption="CAPTION-MARKER bruises on his back")
    await reporter.settle()
    assert "Only the file was saved, not the text you sent with it" in reporter.screen().text


async def fill_report_until_files(r: Reporter) -> None:
    """fill_report's answers up to the files question."""
    from handlers.report.keyboards import NavAct
    from tests.sample import FULL_ANSWERS as a  # noqa: N811 - read as "answers", a lot below

    await r.answer("relation", a["relation"])
    if a["relation"] != "self":
        await r.answer("person_agrees", a.get("person_agrees", "yes"))
    await r.multi("danger", *a["danger"])
    await r.answer("facility_kind", a["facility_kind"])
    await r.answer("region", a["region"])
    await r.say(a["facility_name"])
    await r.answer("last_incident", a["last_incident"])
    await r.answer("ongoing", a["ongoing"])
    await r.multi("methods", *a["methods"])
    await r.say("what happened")
    await r.answer("knowledge", a["knowledge"])
    await r.multi("perpetrators", *a["perpetrators"])
    await r.nav("perpetrator_names", NavAct.SKIP)
    await r.answer("injuries", a["injuries"])
    await r.answer("medical", a["medical"])
    await r.nav("person_name", NavAct.SKIP)
    await r.answer("age_group", a["age_group"])
    await r.answer("sex", a["sex"])
    await r.answer("lawyer_access", a["lawyer_access"])
    await r.multi("complaints", *a["complaints"])
    await r.answer("reprisals", a["reprisals"])
