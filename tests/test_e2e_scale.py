"""The same journey at scale settings: PostgreSQL for storage and drafts, Redis for event
isolation (run when KUA_TEST_DATABASE_URL / KUA_TEST_REDIS_URL are set, as CI does); and the
real `python -m bot` process polling the fake server."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from sqlalchemy import select

from emulator import FakeTelegram
from handlers.report.keyboards import NavAct, ReviewAct
from storage.db import upgrade_to_head
from storage.models import Case
from tests.harness import BotProcess, Reporter, make_config

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("KUA_TEST_REDIS_URL")


async def test_journey_on_postgresql_and_redis(fake: FakeTelegram, tmp_path: Path, pg_database: str) -> None:
    env = {"KUA_DATABASE__URL": pg_database}
    if REDIS_URL:
        env["KUA_REDIS__URL"] = REDIS_URL
    kua = BotProcess(make_config(fake, tmp_path, **env), fake)
    await kua.start()
    try:
        r = Reporter(fake, fake.user(700100200, first_name="Айгерім", language_code="kk"), kua)
        await r.choose_language("kk")
        await r.press("m1:report")
        await r.consent()
        await r.answer("relation", "parent")
        await r.answer("person_agrees", "yes")
        await kua.restart()  # the draft lives in PostgreSQL
        screen = r.screen()
        await r.user.press(screen.buttons()[0][0], message=screen)  # two quick ticks, isolated
        await r.user.press(screen.buttons()[1][0], message=screen)
        await r.settle()
        await r.nav("danger", NavAct.DONE)
        await r.answer("facility_kind", "sizo")
        await r.answer("region", "astana")
        await r.say("Тергеу изоляторы")
        await r.answer("last_incident", "week")
        await r.answer("ongoing", "yes")
        await r.multi("methods", "beating")
        await r.say("PG-MARKER әңгіме")
        await r.answer("knowledge", "saw")
        await r.multi("perpetrators", "police")
        await r.nav("perpetrator_names", NavAct.SKIP)
        for qid, value in (("injuries", "no"), ("medical", "not_examined")):
            await r.answer(qid, value)
        await r.nav("person_name", NavAct.SKIP)
        for qid, value in (("age_group", "30_49"), ("sex", "male"), ("lawyer_access", "no")):
            await r.answer(qid, value)
        await r.multi("complaints", "prosecutor")
        await r.answer("reprisals", "no")
        await r.nav("files", NavAct.DONE)
        await r.answer("contact", "no")
        await r.review(ReviewAct.SEND)
        assert "-" in r.window_text()
        async with kua.app.store.cases._sessions() as session:  # noqa: SLF001
            case = (await session.scalars(select(Case))).one()
        assert sorted(case.answers["danger"]) == ["no_contact", "ongoing"] and case.urgent
        assert case.region == "astana" and case.locale == "kk"
        assert (await kua.app.store.cases.private_answers(case.id))["narrative"] == {
            "text": "PG-MARKER әңгіме"
        }
    finally:
        await kua.stop()


async def test_python_m_bot_polls_the_configured_api_base(fake: FakeTelegram, tmp_path: Path) -> None:
    """The real entry point: config from the environment, every call to telegram.api_base."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUA_")}
    env.update(
        {
            "KUA_TELEGRAM__TOKEN": fake.token,
            "KUA_TELEGRAM__API_BASE": fake.base_url,
            "KUA_APP__DATA_DIR": str(tmp_path / "data"),
            "PYTHONPATH": str(ROOT),
        }
    )
    await upgrade_to_head(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'kua.sqlite3'}")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(600):
            if fake.calls("getUpdates"):
                break
            assert process.returncode is None, await process.stderr.read()
            await asyncio.sleep(0.05)
        user = fake.user(600700800, first_name="Test", language_code="en")
        await user.send_command("start")
        await fake.idle(quiet=0.5)
        assert next(d for _t, d in user.last_bot_message().buttons()) == "l1:en"
        assert {c["command"] for c in fake.commands({"type": "all_private_chats"}, "ru")}
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err
