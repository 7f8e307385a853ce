"""Running the real bot (build_app + serve: polling over HTTP) against the fake Bot API server,
and driving a reporter through it by pressing the buttons the bot actually sent."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app, serve
from bot.config import Config, load_config
from bot.i18n import LOCALES_DIR
from emulator import FakeMessage, FakeTelegram, FakeUser
from handlers.report.keyboards import Ans, ConsentAct, ConsentCb, Nav, NavAct, ReviewAct, ReviewCb
from storage.db import upgrade_to_head
from storage.sqlite_direct import direct_for
from tests.sample import FULL_ANSWERS


class Clock:
    """A controllable UTC clock for the bot (draft expiry) — starts at real time."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)


def make_config(fake: FakeTelegram, tmp_path: Path, **env: str) -> Config:
    environ = {
        "KUA_TELEGRAM__TOKEN": fake.token,
        "KUA_TELEGRAM__API_BASE": fake.base_url,
        "KUA_APP__DATA_DIR": str(tmp_path / "data"),
        "KUA_LOGGING__LEVEL": "INFO",
        # Scripted users tap faster than people: the flood limit has its own tests.
        "KUA_LIMITS__FLOOD_UPDATES": "100000",
        **env,
    }
    return load_config(environ=environ, cwd=tmp_path)


_template: Path | None = None


def _new_sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL that does not exist yet (None: another database, or one there)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    target = Path(parsed.database)
    return None if target.exists() else target


def _copy_template(template: Path, target: Path) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # as storage.db.make_engine does
    shutil.copyfile(template, target)


async def migrate(url: str) -> None:
    """upgrade_to_head(url); a new SQLite file is instead a copy of one database migrated once
    per test process (Alembic over every revision costs more than many tests that need it).

    The copy is the same file the migrations write (they hold no data, only the schema and
    alembic_version); the migrations themselves are tested in tests/test_migrations.py.
    """
    global _template  # one template per process
    target = _new_sqlite_file(url)
    if target is None:
        await upgrade_to_head(url)
        return
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="kua-migrated-"))
        atexit.register(shutil.rmtree, folder, True)
        await upgrade_to_head(f"sqlite+aiosqlite:///{folder / 'kua.sqlite3'}")
        _template = folder / "kua.sqlite3"
    _copy_template(_template, target)


class BotProcess:
    """The bot, started and stopped (or killed) like a process, but inside the test's loop."""

    def __init__(self, config: Config, fake: FakeTelegram, clock: Clock | None = None) -> None:
        self.config = config
        self.fake = fake
        self.clock = clock or Clock()
        self.app: App | None = None
        self._task: asyncio.Task[None] | None = None
        self._migrated = False

    async def start(self) -> None:
        if not self._migrated:
            await migrate(self.config.database.url)
            self._migrated = True
        self.app = await build_app(self.config, clock=self.clock.now)
        polls = len(self.fake.calls("getUpdates"))
        self._task = asyncio.create_task(serve(self.app, handle_signals=False))
        for _ in range(500):  # until the first long poll arrives: the bot is listening
            if len(self.fake.calls("getUpdates")) > polls:
                return
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise TimeoutError("the bot did not start polling")

    async def stop(self) -> None:
        """Stop abruptly (like a killed process): the task is cancelled wherever it is."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.app is not None:
            await self.app.close()
            self.app = None

    async def settle(self, timeout: float = 30) -> None:
        """Until the bot has taken every update and finished handling it.

        Kua's polling loop asks for more updates only once the last batch was handled, so the
        moment it waits in getUpdates again with nothing else in flight (the fake's
        until_polling()) it has finished: event-driven, no quiet period. The dispatcher's set of
        running update tasks is checked too, as a second witness. The delivery worker runs on
        its own timer: tests that need its sends wait for the outbox (e.g. Staff.settle).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.fake.until_polling(timeout=max(deadline - loop.time(), 0.01))
            dp = self.app.dispatcher if self.app else None
            if dp is None or not dp._handle_update_tasks:  # noqa: SLF001 - test-only insight
                return
            if loop.time() >= deadline:
                raise TimeoutError("the bot kept handling updates")
            await asyncio.sleep(0.005)

    async def restart(self) -> None:
        await self.stop()
        await self.start()


def test_database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'kua.sqlite3'}"


test_database_url.__test__ = False  # type: ignore[attr-defined]  # not a test


def postgres_url() -> str | None:
    return os.environ.get("KUA_TEST_DATABASE_URL") or None


# --- a reporter ----------------------------------------------------------------------------------

_i18n = I18n(path=LOCALES_DIR, default_locale="en", domain="messages")


def tr(locale: str, msgid: str) -> str:
    return _i18n.gettext(msgid, locale=locale)


def find_button(message: FakeMessage, data: str) -> str:
    for text, callback_data in message.buttons():
        if callback_data == data:
            return text
    raise AssertionError(f"no button {data!r} in message {message.message_id}: {message.buttons()}")


class Reporter:
    """A user who answers by pressing the buttons the bot showed (found by their callback data,
    so the same script works in every language)."""

    def __init__(self, fake: FakeTelegram, user: FakeUser, bot: BotProcess) -> None:
        self.fake = fake
        self.user = user
        self.bot = bot
        # When set: after every step, the chat may show at most this many messages.
        self.max_present: int | None = None

    async def settle(self) -> None:
        await self.bot.settle()
        if self.max_present is not None:
            shown = self.present()
            assert len(shown) <= self.max_present, shown

    @property
    def chat_id(self) -> int:
        return self.user.id

    def screen(self) -> FakeMessage:
        """The newest bot message that still has buttons."""
        for message in reversed(self.fake.transcript(self.chat_id)):
            if message.from_bot and not message.deleted and message.buttons():
                return message
        raise AssertionError("no bot message with buttons")

    def window_text(self) -> str:
        """The text of the window (the bot message with buttons)."""
        return self.screen().text or ""

    def present(self) -> list[FakeMessage]:
        """What the reporter's chat shows now."""
        return self.fake.present(self.chat_id)

    def last_text(self) -> str:
        for message in reversed(self.fake.transcript(self.chat_id)):
            if message.from_bot and not message.deleted:
                return message.text or message.caption or ""
        return ""

    def bot_texts(self) -> list[str]:
        return [m.text or m.caption or "" for m in self.fake.transcript(self.chat_id) if m.from_bot]

    async def press(self, data: str) -> None:
        screen = self.screen()
        await self.user.press(find_button(screen, data), message=screen)
        await self.settle()

    async def answer(self, qid: str, value: str) -> None:
        await self.press(Ans(q=qid, v=value).pack())

    async def nav(self, qid: str, act: NavAct) -> None:
        await self.press(Nav(q=qid, act=act).pack())

    async def multi(self, qid: str, *values: str) -> None:
        for value in values:
            await self.answer(qid, value)
        await self.nav(qid, NavAct.DONE)

    async def say(self, text: str) -> None:
        await self.user.send_text(text)
        await self.settle()

    async def command(self, command: str) -> None:
        await self.user.send_command(command)
        await self.settle()

    async def choose_language(self, locale: str) -> None:
        await self.command("start")
        await self.press(f"l1:{locale}")

    async def consent(self, *toggles: ConsentAct) -> None:
        for act in toggles:
            await self.press(ConsentCb(act=act).pack())
        await self.press(ConsentCb(act=ConsentAct.START).pack())

    async def review(self, act: ReviewAct, step: int = -1) -> None:
        await self.press(ReviewCb(act=act, step=step).pack())


async def fill_report(
    r: Reporter,
    *,
    narrative: str,
    photo: bytes | None = None,
    answers: Mapping[str, Any] = FULL_ANSWERS,
    names: str | None = None,
    person: str | None = None,
    files: tuple[tuple[str, bytes], ...] = (),
    place: str | None = None,
) -> None:
    """From the first question to the review screen, answering every question.

    ``files``: (kind, bytes) sent at the files step, kind one of photo, document, voice, video.
    """
    await r.answer("relation", answers["relation"])
    if answers["relation"] != "self":
        await r.answer("person_agrees", answers.get("person_agrees", "yes"))
    await r.multi("danger", *answers["danger"])
    await r.answer("facility_kind", answers["facility_kind"])
    await r.answer("region", answers["region"])
    await r.say(place or answers["facility_name"])
    await r.answer("last_incident", answers["last_incident"])
    await r.answer("ongoing", answers["ongoing"])
    await r.multi("methods", *answers["methods"])
    await r.say(narrative)
    await r.answer("knowledge", answers["knowledge"])
    await r.multi("perpetrators", *answers["perpetrators"])
    if names:
        await r.say(names)
    else:
        await r.nav("perpetrator_names", NavAct.SKIP)
    await r.answer("injuries", answers["injuries"])
    await r.answer("medical", answers["medical"])
    if person:
        await r.say(person)
    else:
        await r.nav("person_name", NavAct.SKIP)
    await r.answer("age_group", answers["age_group"])
    await r.answer("sex", answers["sex"])
    await r.answer("lawyer_access", answers["lawyer_access"])
    await r.multi("complaints", *answers["complaints"])
    await r.answer("reprisals", answers["reprisals"])
    if photo is not None:
        await r.user.send_photo(photo)
        await r.settle()
    for kind, data in files:
        if kind == "photo":
            await r.user.send_photo(data)
        elif kind == "document":
            await r.user.send_document(data, "statement.pdf", "application/pdf")
        elif kind == "voice":
            await r.user.send_voice(data)
        else:
            await r.user.send_video(data)
        await r.settle()
    await r.nav("files", NavAct.DONE)
    await r.answer("contact", answers["contact"])
    if answers["contact"] == "yes":
        await r.answer("silent", answers["silent"])


# --- coordinators --------------------------------------------------------------------------------


def coordination_env(
    chat_id: int,
    coordinators: tuple[int, ...] = (),
    admins: tuple[int, ...] = (),
    *,
    group_shows: str = "summary",
    **extra: str,
) -> dict[str, str]:
    """Config variables for the coordinators' group and roles (for make_config(**env))."""
    return {
        "KUA_COORDINATION__CHAT_ID": str(chat_id),
        "KUA_COORDINATION__COORDINATORS": ",".join(map(str, coordinators)),
        "KUA_COORDINATION__ADMINS": ",".join(map(str, admins)),
        "KUA_COORDINATION__GROUP_SHOWS": group_shows,
        **extra,
    }


async def submit_case(
    bot: BotProcess,
    user_id: int,
    *,
    narrative: str = "",
    files: tuple[tuple[str, bytes], ...] = (),
    locale: str = "ru",
    **answers: Any,
) -> int:
    """A submitted case straight through storage (no questionnaire); returns its number.

    ``answers`` override FULL_ANSWERS; ``files`` are (kind, bytes) stored with the case.
    """
    from storage.repositories import Consent, Submission

    assert bot.app is not None
    store = bot.app.store
    draft_ref = store.attachments.new_draft_ref()
    for kind, data in files:
        await store.attachments.add(draft_ref, kind=kind, mime_type=None, file_name=None, data=data)
    values = {**FULL_ANSWERS, **answers}
    if narrative:
        values["narrative"] = {"text": narrative}
    case = await store.cases.submit(
        user_id, user_id, Submission(answers=values, consent=Consent(), draft_ref=draft_ref, locale=locale)
    )
    return case.id


def _update_task() -> bool:
    """Is this statement run by an update's task (polling's handle_update), not a worker?"""
    task = asyncio.current_task()
    return task is not None and getattr(task.get_coro(), "__qualname__", "") == "handle_update"


@contextlib.contextmanager
def counting(engine: AsyncEngine) -> Iterator[Counter[str]]:
    """SQL statements (and by first keyword) and commits made by updates, not by the workers
    (delivery, housekeeping): tests/test_update_cost.py and scripts/bench_updates.py."""
    counts: Counter[str] = Counter()

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if _update_task():
            counts["statements"] += 1
            counts[sql.split(None, 1)[0].upper()] += 1

    def commit(_conn: Any) -> None:
        if _update_task():
            counts["commits"] += 1

    def direct(kind: str, sql: str) -> None:  # the FSM's path below SQLAlchemy (SQLite)
        if kind == "commit":
            commit(None)
        else:
            statement(None, None, sql)

    sync = engine.sync_engine
    below = direct_for(engine)
    event.listen(sync, "before_cursor_execute", statement)
    event.listen(sync, "commit", commit)
    if below is not None:
        below.listeners.append(direct)
    try:
        yield counts
    finally:
        event.remove(sync, "before_cursor_execute", statement)
        event.remove(sync, "commit", commit)
        if below is not None:
            below.listeners.remove(direct)
