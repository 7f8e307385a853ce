"""What the running bot keeps out of memory: aiogram's unused type schemas and heavy libraries.

Each check runs in a child process, so that what this test process imported does not count.
No RSS figures here: they belong to scripts/bench_updates.py (docs/performance.md, Memory).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import cast

import bot.malloc
from emulator import FakeTelegram
from tests.harness import BotProcess, Reporter, migrate

ROOT = Path(__file__).resolve().parent.parent

# Loaded at the first chart, case sheet, file or migration; never to answer a reporter.
HEAVY = ("alembic", "matplotlib", "numpy", "docx", "pikepdf", "PIL", "pillow_heif", "imageio", "lxml")

# `python -m bot`, writing what it imported and which type schemas it built when it stops.
RUN_BOT = """
import atexit, json, runpy, sys
out = sys.argv[1]

def report():
    import aiogram.types as types
    built = [n for n in types.__all__ if getattr(getattr(types, n), "__pydantic_complete__", False)]
    with open(out, "w") as f:
        json.dump({"modules": sorted(sys.modules), "built": built, "all": len(types.__all__)}, f)

atexit.register(report)
sys.argv = ["bot"]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


class Polling:
    """Reporter.settle() for a bot in another process: it has finished once it polls again."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake

    async def settle(self) -> None:
        await self.fake.until_polling(timeout=30)


# The same schemas, whenever they are built: JSON schemas of the types and methods Kua uses.
SCHEMAS = """
import json, sys
if sys.argv[1] == "eager":
    import aiogram  # before bot: aiogram builds every schema at import, as it does alone
import bot.app
from aiogram import methods, types
names = ["Update", "Message", "CallbackQuery", "InlineKeyboardMarkup", "User", "Chat", "Document"]
out = {n: getattr(types, n).model_json_schema() for n in names}
for n in ["SendMessage", "EditMessageText", "AnswerCallbackQuery", "SendDocument", "GetUpdates"]:
    try:
        out[n] = getattr(methods, n).model_json_schema()
    except Exception as exc:  # e.g. InputFile has no JSON schema: compare the error then
        out[n] = repr(exc)
print(json.dumps(out, sort_keys=True, default=str))
"""


def child(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


async def test_answering_a_reporter_loads_no_heavy_library_and_few_type_schemas(tmp_path: Path) -> None:
    await migrate(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'kua.sqlite3'}")
    out = tmp_path / "imported.json"
    async with FakeTelegram() as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUA_")}
        env.update(
            KUA_TELEGRAM__TOKEN=fake.token,
            KUA_TELEGRAM__API_BASE=fake.base_url,
            KUA_APP__DATA_DIR=str(tmp_path / "data"),
            KUA_LOGGING__LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", RUN_BOT, str(out), cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            for _ in range(1200):  # until it polls: started
                if fake.calls("getUpdates") or process.returncode is not None:
                    break
                await asyncio.sleep(0.05)
            assert fake.calls("getUpdates"), "python -m bot did not start polling"
            # A reporter's first steps: /start, the language, Report, consent, an answer.
            r = Reporter(
                fake, fake.user(42, first_name="R", language_code="en"), cast(BotProcess, Polling(fake))
            )
            await r.choose_language("en")
            await r.press("m1:report")
            await r.consent()
            await r.answer("relation", "self")
            assert r.screen().buttons(), "no next question"
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)  # a graceful stop: the report is written
            _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()[-3000:]
    found = json.loads(out.read_text())
    loaded = {name.split(".")[0] for name in found["modules"]}
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    # The schemas built are those the report path reached, not aiogram's ~400.
    assert "Update" in found["built"]
    assert "Message" in found["built"]
    assert len(found["built"]) < found["all"] // 4, found["built"]


def test_deferred_schemas_are_the_ones_aiogram_builds() -> None:
    assert json.loads(child(SCHEMAS, "lazy")) == json.loads(child(SCHEMAS, "eager"))


def test_glibc_is_told_to_keep_less_freed_memory() -> None:
    if bot.malloc._glibc() is None:  # noqa: SLF001 - another C library: both are no-ops
        assert not bot.malloc.limit_arenas() and not bot.malloc.trim()
        return
    assert bot.malloc.limit_arenas()
    bot.malloc.trim()  # True or False (nothing freed to give back): no error either way


async def test_the_trimming_task_ends_with_the_bot() -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(bot.malloc.trim_until(stop, every=0.01))
    await asyncio.sleep(0.05)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, 5)
