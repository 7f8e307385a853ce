"""`python -m emulator.demo`: Kua in a browser, without Telegram.

Starts the Bot API emulator (the same one the tests use), the real bot as its own process
(`python -m bot`) polling it, and the demo page at http://127.0.0.1:8090/ (KUA_DEMO_PORT changes
the port). Everything lives in a fresh temporary directory — the demo's config, its SQLite
database and its keys — which is removed when the demo stops (Ctrl-C or SIGTERM). Nothing is sent
anywhere: the bot's only server is the emulator on 127.0.0.1, and none of the operator's own KUA_*
settings (a real token, a real database) reach the demo's bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .server import FakeTelegram
from .web import DemoWeb, Person

PORT_ENV = "KUA_DEMO_PORT"
LOCALE_ENV = "KUA_DEMO_LOCALE"  # the group's language (and the default); English unless set
DEFAULT_PORT = 8090
ROOT = Path(__file__).resolve().parent.parent
TOKEN = "7000000001:DEMO-not-a-real-token"  # noqa: S105 - the emulator's, not a secret
BOT_ID = 7000000001
BOT_USERNAME = "kua_demo_bot"
GROUP_ID = -1007000000001
GROUP_TITLE = "Coordinators (demo)"
STOP_GRACE = 15.0  # seconds the bot gets to stop before it is killed

# The demo's cast. The names are made up; ids are in no real range that matters.
PEOPLE = (
    Person("reporter-a", "Reporter A", 7100000001, "reporter", "Aru", "ru"),
    Person("reporter-b", "Reporter B", 7100000002, "reporter", "Bota", "kk"),
    Person("coordinator-1", "Coordinator 1", 7200000001, "coordinator", "Dana", "en"),
    Person("coordinator-2", "Coordinator 2", 7200000002, "coordinator", "Erlan", "ru"),
    Person("outsider", "Outsider", 7300000001, "outsider", "Farid", "en"),
)
COORDINATORS = [p.user_id for p in PEOPLE if p.role == "coordinator"]
ON_CALL = COORDINATORS[:1]


def demo_config(data_dir: Path, locale: str = "en") -> str:
    """The demo bot's config.toml: a forum group of two coordinators, the first one on call."""
    ids = ", ".join(map(str, COORDINATORS))
    key_file = (data_dir.parent / "keys.json").as_posix()
    return f"""# Written by python -m emulator.demo; removed with its directory when the demo stops.
[app]
data_dir = "{data_dir.as_posix()}"
default_locale = "{locale}"

[telegram]
token = "{TOKEN}"
mode = "polling"

[database]
url = ""

[security]
key_file = "{key_file}"

[coordination]
chat_id = {GROUP_ID}
coordinators = [{ids}]
admins = [{COORDINATORS[0]}]
on_call = [{", ".join(map(str, ON_CALL))}]
group_shows = "summary"
private_view_minutes = 10

[ngo]
name = "Demo NGO"
contacts = "This is a demo: no real contacts."
"""


def bot_environment(workdir: Path, api_base: str) -> dict[str, str]:
    """The bot's environment: the caller's, less every KUA_* setting, plus the demo's own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KUA_")}
    env.update(
        {
            "KUA_CONFIG": str(workdir / "config.toml"),
            "KUA_TELEGRAM__API_BASE": api_base,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def demo_locale() -> str:
    raw = os.environ.get(LOCALE_ENV, "").strip() or "en"
    if raw not in ("kk", "ru", "en"):
        raise SystemExit(f"kua demo: {LOCALE_ENV} must be kk, ru or en, not {raw!r}")
    return raw


def demo_port() -> int:
    raw = os.environ.get(PORT_ENV, "").strip()
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SystemExit(f"kua demo: {PORT_ENV} must be a port number (1-65535), not {raw!r}")
    return int(raw)


def _load_libc() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _load_libc()  # loaded here: the child between fork and exec must not import or load
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Linux: the bot gets SIGTERM if the demo itself is killed, so no orphan keeps polling.
    if _LIBC is not None and sys.platform.startswith("linux"):
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Demo:
    def __init__(self, workdir: Path, port: int, locale: str = "en") -> None:
        self.workdir = workdir
        self.port = port
        self.locale = locale
        self.fake = FakeTelegram(token=TOKEN, bot_id=BOT_ID, bot_username=BOT_USERNAME)
        for person in PEOPLE:
            # Coordinators have opened their chat with the bot before (it writes to them there);
            # reporters start from an empty chat, as a relative who has just found the bot.
            self.fake.user(
                person.user_id,
                person.first_name,
                language_code=person.language_code,
                started=person.role == "coordinator",
            )
        members = {p.user_id: "member" for p in PEOPLE if p.role != "reporter"}
        members[COORDINATORS[0]] = "creator"
        group = self.fake.group(GROUP_ID, GROUP_TITLE, is_forum=True, members=members)
        self.web = DemoWeb(self.fake, PEOPLE, group)
        self.bot: subprocess.Popen[bytes] | None = None

    async def run(self, stop: asyncio.Event) -> int:
        (self.workdir / "config.toml").write_text(
            demo_config(self.workdir / "data", self.locale), encoding="utf-8"
        )
        await self.fake.start()
        try:
            try:
                await self.web.start(self.port)
            except OSError as exc:
                print(
                    f"kua demo: cannot listen on 127.0.0.1:{self.port} ({exc.strerror}); "
                    f"set {PORT_ENV} to a free port",
                    file=sys.stderr,
                )
                return 2
            env = bot_environment(self.workdir, self.fake.base_url)
            migrate = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "bot.migrate", "upgrade"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if migrate.returncode != 0:
                print(f"kua demo: preparing the demo database failed:\n{migrate.stderr}", file=sys.stderr)
                return 1
            # Popen returns once the child is started; the demo then polls it (_until_stopped).
            self.bot = subprocess.Popen(  # noqa: ASYNC220 - see above
                [sys.executable, "-m", "bot"],
                cwd=ROOT,
                env=env,
                start_new_session=True,  # Ctrl-C is the demo's
                preexec_fn=_die_with_parent,
            )
            print(
                f"kua demo: open http://127.0.0.1:{self.web.port}/ — a demo: nothing leaves "
                f"this computer. Data: {self.workdir} (removed on exit). Ctrl-C stops.",
                flush=True,
            )
            return await self._until_stopped(stop)
        finally:
            await self._stop_bot()
            await self.web.stop()
            await self.fake.stop()

    async def _until_stopped(self, stop: asyncio.Event) -> int:
        if self.bot is None:
            raise RuntimeError("the bot process was not started")
        while not stop.is_set():
            code = self.bot.poll()
            if code is not None:
                print(f"kua demo: the bot stopped (exit code {code}); stopping the demo", file=sys.stderr)
                return 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
        return 0

    async def _stop_bot(self) -> None:
        bot, self.bot = self.bot, None
        if bot is None or bot.poll() is not None:
            return
        bot.terminate()  # aiogram stops polling on SIGTERM
        try:
            await asyncio.to_thread(bot.wait, STOP_GRACE)
        except subprocess.TimeoutExpired:
            bot.kill()
            await asyncio.to_thread(bot.wait)


async def _main(workdir: Path, port: int, locale: str) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return await Demo(workdir, port, locale).run(stop)


def main() -> int:
    port, locale = demo_port(), demo_locale()
    workdir = Path(tempfile.mkdtemp(prefix="kua-demo-"))
    try:
        return asyncio.run(_main(workdir, port, locale))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"kua demo: stopped; removed {workdir}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
