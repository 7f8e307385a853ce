"""Kill test: the real `python -m bot` process, SIGKILLed at random moments while reporters
tap, type, press Send and while cards are delivered — on SQLite and on PostgreSQL
(KUA_TEST_DATABASE_URL). Afterwards: every update was answered, none applied twice (each
multi-select holds exactly what was ticked), no question asked again once answered, every
case's code seen by its reporter, no duplicate case, no duplicate topic; duplicate cards only
in the window the README names, and counted (printed).

KUA_KILLS sets the number of kills: 4 by default; KUA_KILL_SEED another plan (each kill is a restart of the process, seconds
of imports on a small machine); a soak run sets 20 or more. The seeded plan spreads them over the
journeys and the delivery of the cards either way."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import sys
from pathlib import Path

from sqlalchemy import select

from domain.questionnaire import ORDER
from emulator import FakeTelegram
from handlers.report.keyboards import ReviewAct
from storage.db import make_engine, make_sessionmaker, upgrade_to_head
from storage.keys import load_crypto
from storage.models import Case
from storage.repositories import Store
from tests.harness import Reporter, fill_report, make_config
from tests.sample import FULL_ANSWERS
from tests.test_delivery import COORDINATOR, FORUM_ID, cards, forum  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parent.parent
KILLS = int(os.environ.get("KUA_KILLS", "4"))
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
QUERY_INVALID = "query is too old"
NOT_MODIFIED = "message is not modified"


class KilledBot:
    """`python -m bot` as a child process, killed with SIGKILL on a random plan."""

    def __init__(
        self, fake: FakeTelegram, env: dict[str, str], cwd: Path, *, seed: int, kills: int, actions: int
    ) -> None:
        self.fake = fake
        self.env = env
        self.cwd = cwd
        self.rng = random.Random(seed)
        self.kills_left = kills
        self.actions_left = actions
        self.kills = 0
        self.process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._runs = 0

    async def start(self) -> None:
        polls = len(self.fake.calls("getUpdates"))
        self._runs += 1
        log = open(self.cwd / f"bot-{self._runs}.log", "wb")  # noqa: SIM115, ASYNC230 - child's stderr, open while it runs
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=self.cwd,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
        log.close()
        for _ in range(3000):
            if len(self.fake.calls("getUpdates")) > polls:
                return
            assert self.process.returncode is None, (self.cwd / f"bot-{self._runs}.log").read_text()
            await asyncio.sleep(0.05)
        raise TimeoutError("the bot did not start polling")

    async def kill(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.kills += 1

    async def kill_soon(self) -> None:
        """SIGKILL within the next moments (while the last update is being handled), restart."""
        async with self._lock:
            await asyncio.sleep(self.rng.uniform(0.0, 0.4))
            await self.kill()
            await self.start()

    async def settle(self) -> None:
        """Called by Reporter after each action: sometimes kill first, then wait until quiet."""
        self.actions_left = max(1, self.actions_left - 1)
        if self.kills_left > 0 and self.rng.random() < self.kills_left / self.actions_left:
            self.kills_left -= 1
            await self.kill_soon()
        async with self._lock:
            pass
        # Event-driven: Kua polls again only once the batch was handled and confirms it with
        # that request's offset, so "polling, nothing unconfirmed, nothing in flight" means
        # done, after a restart too (the killed bot's updates stay unconfirmed until handled).
        await self.fake.until_polling(timeout=180)

    async def quiet(self, quiet: float = 0.6) -> None:
        """Until every update was handled: the bot polls again only after finishing a batch, so
        a getUpdates waiting with nothing left to take means the batch before it is done."""
        for _ in range(600):
            await self.fake.idle(quiet=quiet, timeout=180)
            if self.fake.updates.polling and not self.fake.updates.untaken():
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("the bot did not come back to polling")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def screens(r: Reporter) -> list[str]:
    """The question of each screen the reporter was shown, in order."""
    shown = []
    for message in r.fake.transcript(r.chat_id):
        if not message.from_bot:
            continue
        for _text, data in message.buttons():
            if data and data[:3] in ("a1:", "n1:"):
                shown.append(data.split(":")[1])
                break
    return shown


async def test_sigkill_at_random_moments_loses_and_repeats_nothing_on_sqlite(
    fake: FakeTelegram,
    tmp_path: Path,
    forum,  # noqa: F811 - the fixture imported above
) -> None:
    await kill_run(fake, tmp_path, forum, f"sqlite+aiosqlite:///{tmp_path / 'data' / 'kua.sqlite3'}")


async def test_sigkill_at_random_moments_loses_and_repeats_nothing_on_postgresql(
    fake: FakeTelegram,
    tmp_path: Path,
    forum,  # noqa: F811 - the fixture imported above
    pg_database: str,
) -> None:
    await kill_run(fake, tmp_path, forum, pg_database)


async def kill_run(fake: FakeTelegram, tmp_path: Path, forum, database: str) -> None:  # noqa: F811
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUA_")}
    env.update(
        {
            "KUA_TELEGRAM__TOKEN": fake.token,
            "KUA_TELEGRAM__API_BASE": fake.base_url,
            "KUA_APP__DATA_DIR": str(tmp_path / "data"),
            "KUA_DATABASE__URL": database,
            "KUA_COORDINATION__CHAT_ID": str(FORUM_ID),
            "KUA_COORDINATION__COORDINATORS": str(COORDINATOR),
            "KUA_APP__DEFAULT_LOCALE": "en",
            "PYTHONPATH": str(ROOT),
            # The scripted reporters tap as fast as the bot answers: not a flood to slow down.
            "KUA_LIMITS__FLOOD_UPDATES": "100000",
        }
    )
    await upgrade_to_head(database)
    reporters_count = 2
    bot = KilledBot(
        fake,
        env,
        tmp_path,
        seed=int(os.environ.get("KUA_KILL_SEED", "20261201")),
        kills=KILLS,
        actions=reporters_count * 36,
    )
    await bot.start()
    pressed: list[str] = []
    try:
        reporters = [
            Reporter(fake, fake.user(930000001 + i, first_name="K", language_code="en"), bot)  # type: ignore[arg-type]  # a KilledBot serves as its BotProcess
            for i in range(reporters_count)
        ]

        async def journey(r: Reporter, index: int) -> None:
            await r.choose_language("en")
            await r.press("m1:report")
            await r.consent()
            await fill_report(r, narrative=f"KILL-{index} what happened")
            await r.review(ReviewAct.SEND)

        await asyncio.gather(*(journey(r, i) for i, r in enumerate(reporters)))
        while bot.kills_left > 0:  # the rest of the kills while cards are being delivered
            bot.kills_left -= 1
            await bot.kill_soon()
        await bot.quiet(quiet=2.0)
    finally:
        await bot.stop()
    assert bot.kills >= KILLS

    config = make_config(fake, tmp_path, KUA_DATABASE__URL=database)
    crypto, _ = load_crypto(config.security, config.data_dir, create=False)
    engine = make_engine(database)
    try:
        store = Store(make_sessionmaker(engine), crypto)
        async with store.cases._sessions() as session:  # noqa: SLF001
            stored = list((await session.scalars(select(Case).order_by(Case.id))).all())
    finally:
        await engine.dispose()

    # Every update answered: each button press got its answerCallbackQuery (a press that met
    # a dead bot may be answered after Telegram's 15 s: that refusal is Telegram's, counted).
    answered = {c.params.get("callback_query_id") for c in fake.calls("answerCallbackQuery")}
    pressed = [cb.id for cb in fake.callbacks.values()]
    assert set(pressed) <= answered
    late = [r for r in fake.errors if QUERY_INVALID in (r.description or "")]
    # An update killed before its commit is applied again: an edit it had made already is
    # repeated and Telegram says "not modified" (harmless; counted, not hidden).
    repeated = [r for r in fake.errors if NOT_MODIFIED in (r.description or "")]
    fake.errors[:] = [
        r
        for r in fake.errors
        if QUERY_INVALID not in (r.description or "") and NOT_MODIFIED not in (r.description or "")
    ]

    # No question asked again once a later one was shown.
    for r in reporters:
        order = [ORDER.index(q) for q in screens(r) if q in ORDER]
        assert order == sorted(order), screens(r)

    # None applied twice: every multi-select holds exactly what was ticked once.
    assert len(stored) == reporters_count, "a duplicate case (the Send window, issue 9)"
    for case in stored:
        for qid in ("danger", "methods", "perpetrators", "complaints"):
            assert sorted(case.answers[qid]) == sorted(FULL_ANSWERS[qid]), qid

    # Every case's code seen by its reporter.
    seen = {store.cases.code_key(c) for r in reporters for t in r.bot_texts() for c in CODE.findall(t)}
    assert {case.code_hash for case in stored} <= seen

    # No duplicate topic; every card delivered (duplicates only in the named window).
    ids = [case.id for case in stored]
    found = cards(fake, FORUM_ID)
    assert sorted(found) == ids
    assert len(forum.topics) == len(ids)
    duplicates = sum(len(v) - 1 for v in found.values())
    print(
        f"\nkills={bot.kills} duplicate cards={duplicates} late callback answers={len(late)} "
        f"repeated edits={len(repeated)}"
    )
