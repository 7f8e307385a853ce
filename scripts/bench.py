"""Benchmarks: FSM storage, report submission, and one report end to end. Prints figures only.

    .venv/bin/python scripts/bench.py [--postgres postgresql+asyncpg://...] [--reports N]

Run from the repository root. Everything is created in a temporary directory (and, with
--postgres, in a throwaway schema dropped afterwards); nothing is left behind. Timings depend on
the machine and on what else it is doing: compare runs on the same machine, and never turn
these figures into assertions in tests.

* FSM storage: get_data / set_data / update_data of SQLAlchemyStorage with a realistic
  encrypted draft, sequentially on one key and with 20 keys written concurrently.
* Report submission: ``store.cases.submit`` of a complete draft (tests/sample.py FULL_ANSWERS
  plus private free text).
* End to end: the real bot polling the fake Bot API server, driven by a reporter pressing
  buttons from /start to the submitted case. The harness's settle() waits for fixed quiet
  periods after every step, so wall time says little about the bot; the figures that do are
  the number of Bot API requests the bot made and the time the dispatcher spent handling the
  reporter's updates.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiogram.fsm.storage.base import StorageKey  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from storage.crypto import Crypto  # noqa: E402
from storage.db import make_engine, make_sessionmaker, upgrade, upgrade_to_head  # noqa: E402
from storage.fsm import SQLAlchemyStorage  # noqa: E402
from storage.repositories import Consent, Store, Submission  # noqa: E402
from tests.sample import FULL_ANSWERS, jpeg_with_gps  # noqa: E402
from tests.storage_fixtures import pg_schema_engine  # noqa: E402

CONCURRENT_KEYS = 20
BOT_ID = 123456
USER_ID = 987654321
STORY = (
    "Его задержали на улице и отвезли в ИВС. Там трое сотрудников били его дубинкой по ногам и "
    "спине, надевали пакет на голову и требовали подписать признание. Врача не вызвали, "
    "адвоката не пустили. "
) * 4  # about 800 characters, like a typical narrative
PRIVATE_TEXT = {
    "narrative": {"text": STORY},
    "perpetrator_names": {"text": "Капитан Н., старший лейтенант К. (знаю со слов сына)"},
    "person_name": {"text": "А. С."},
}
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


# --- figures ---------------------------------------------------------------------------------


@dataclass
class Sample:
    """Latencies (seconds) of `count` operations that took `wall` seconds together."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else math.nan

    def pct(self, p: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return math.nan
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        return f"{value:,.1f}" if isinstance(value, float) else str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, cells)])


async def timed(sample: Sample, call: Callable[[], Awaitable[Any]]) -> None:
    started = time.perf_counter()
    await call()
    sample.latencies.append(time.perf_counter() - started)


# --- databases -----------------------------------------------------------------------------------


@dataclass
class Database:
    name: str
    engine: AsyncEngine


@asynccontextmanager
async def sqlite_database(tmp: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
    await upgrade_to_head(url)  # the real schema, as scripts/migrate.sh makes it
    engine = make_engine(url)  # WAL, busy timeout, foreign keys: as the bot runs it
    try:
        yield Database("SQLite", engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgres_database(url: str) -> AsyncIterator[Database]:
    """A fresh schema (migrated to head) reached through search_path; dropped on exit."""
    if make_url(url).get_backend_name() != "postgresql":
        raise SystemExit(f"--postgres needs a postgresql+asyncpg:// URL, not {url!r}")
    async with pg_schema_engine(url, "bench") as engine:  # the tests' throwaway schema
        await upgrade(engine)
        yield Database("PostgreSQL", engine)


def make_crypto() -> Crypto:
    return Crypto([Crypto.generate_key()], "bench-hmac-secret-" + "x" * 32)


def draft_data() -> dict[str, Any]:
    """What the bot keeps in FSM data near the end of a report (handlers.report.draft.Draft)."""
    from handlers.report.draft import Draft

    draft = Draft(
        draft_ref=uuid.uuid4().hex,
        started=datetime.now(UTC),
        answers={**FULL_ANSWERS, **PRIVATE_TEXT},
        ui=4242,
    )
    return draft.to_data()


# --- FSM storage -------------------------------------------------------------------------------


def key(n: int) -> StorageKey:
    return StorageKey(bot_id=BOT_ID, chat_id=USER_ID + n, user_id=USER_ID + n)


async def bench_fsm(db: Database, ops: int) -> list[list[Any]]:
    storage = SQLAlchemyStorage(make_sessionmaker(db.engine), make_crypto())
    data = draft_data()
    keys = [key(n) for n in range(CONCURRENT_KEYS)]
    for k in keys:
        await storage.set_data(k, data)
    for _ in range(5):  # warm-up: open the pool's connections, fill statement caches
        await asyncio.gather(*(storage.get_data(k) for k in keys))
        await asyncio.gather(*(storage.update_data(k, {"ui": 1}) for k in keys))

    counter = iter(range(10**9))
    operations: dict[str, Callable[[StorageKey], Awaitable[Any]]] = {
        "get_data": storage.get_data,
        "set_data": lambda k: storage.set_data(k, data),
        "update_data": lambda k: storage.update_data(k, {"ui": next(counter)}),
    }
    rows: list[list[Any]] = []
    for name, op in operations.items():
        sample = Sample()
        started = time.perf_counter()
        for _ in range(ops):
            await timed(sample, partial(op, keys[0]))
        sample.wall = time.perf_counter() - started
        rows.append([db.name, "sequential, 1 key", name, sample.rate, sample.pct(50), sample.pct(95)])

        sample = Sample()
        per_key = max(1, ops // CONCURRENT_KEYS)

        async def worker(
            k: StorageKey,
            op: Callable[[StorageKey], Awaitable[Any]] = op,
            sample: Sample = sample,
            per_key: int = per_key,
        ) -> None:
            for _ in range(per_key):
                await timed(sample, partial(op, k))

        started = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in keys))
        sample.wall = time.perf_counter() - started
        rows.append(
            [db.name, f"{CONCURRENT_KEYS} keys at once", name, sample.rate, sample.pct(50), sample.pct(95)]
        )
    await storage.close()
    return rows


# --- report submission -------------------------------------------------------------------------


async def bench_submit(db: Database, reports: int) -> list[Any]:
    store = Store(make_sessionmaker(db.engine), make_crypto())
    answers = {**FULL_ANSWERS, **PRIVATE_TEXT}

    def submission() -> Submission:
        return Submission(
            answers=answers, consent=Consent(), draft_ref=store.attachments.new_draft_ref(), locale="ru"
        )

    for _ in range(5):  # warm-up
        await store.cases.submit(USER_ID, USER_ID, submission())

    def submit(n: int) -> Awaitable[Any]:
        return store.cases.submit(USER_ID + n, USER_ID + n, submission())

    sample = Sample()
    started = time.perf_counter()
    for n in range(reports):
        await timed(sample, partial(submit, n))
    sample.wall = time.perf_counter() - started
    return [db.name, reports, sample.rate, sample.pct(50), sample.pct(95)]


# --- end to end --------------------------------------------------------------------------------


@dataclass
class EndToEnd:
    wall: float
    updates: int
    requests: Counter[str]
    polls: int
    handling: Sample  # the dispatcher's time per update
    api_view: Sample  # per update: from getUpdates handing it out to the bot's last request
    size: int  # bytes of the photo sent


async def bench_e2e(tmp: Path) -> EndToEnd:
    from emulator import FakeTelegram
    from handlers.report.keyboards import ReviewAct
    from tests.harness import BotProcess, Reporter, fill_report, make_config

    async with FakeTelegram() as fake:
        taken: list[float] = []  # when getUpdates handed out updates (fake clock)
        poll = fake.updates.poll

        async def recording_poll(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
            batch = await poll(*args, **kwargs)
            taken.extend(fake.now() for _ in batch)
            return batch

        fake.updates.poll = recording_poll  # type: ignore[method-assign]

        config = make_config(fake, tmp / "e2e", KUA_LOGGING__LEVEL="WARNING")
        bot = BotProcess(config, fake)
        await bot.start()
        try:
            # The dispatcher's whole handling of each update: middlewares, handlers, database,
            # Bot API calls (polling runs every update as its own task through this method).
            assert bot.app is not None
            dp = bot.app.dispatcher
            process = dp._process_update  # noqa: SLF001 - benchmark instrumentation
            handling = Sample()

            async def timed_process(*args: Any, **kwargs: Any) -> bool:
                started = time.perf_counter()
                try:
                    return await process(*args, **kwargs)
                finally:
                    handling.latencies.append(time.perf_counter() - started)

            dp._process_update = timed_process  # type: ignore[method-assign]  # noqa: SLF001

            user = fake.user(USER_ID, first_name="Bench", language_code="ru")
            reporter = Reporter(fake, user, bot)
            photo = jpeg_with_gps()
            first = len(fake.requests)
            taken.clear()
            started = time.perf_counter()
            await reporter.choose_language("en")
            await reporter.press("m1:report")
            await reporter.consent()
            await fill_report(
                reporter,
                narrative=STORY,
                photo=photo,
                names=PRIVATE_TEXT["perpetrator_names"]["text"],
                person=PRIVATE_TEXT["person_name"]["text"],
            )
            await reporter.review(ReviewAct.SEND)
            wall = time.perf_counter() - started
            if not CODE.search(reporter.last_text()):
                raise RuntimeError("the end-to-end report was not submitted: " + reporter.last_text()[:200])
            fake.assert_no_errors()
        finally:
            await bot.stop()

    requests = fake.requests[first:]
    made = Counter(r.method for r in requests if r.method != "getUpdates")
    api_view = Sample()
    for i, at in enumerate(taken):
        until = taken[i + 1] if i + 1 < len(taken) else math.inf
        last = [r.time for r in requests if r.method != "getUpdates" and at <= r.time < until]
        if last:
            api_view.latencies.append(max(last) - at)
    handling.wall = sum(handling.latencies)
    api_view.wall = sum(api_view.latencies)
    return EndToEnd(
        wall=wall,
        updates=len(handling.latencies),
        requests=made,
        polls=sum(1 for r in requests if r.method == "getUpdates"),
        handling=handling,
        api_view=api_view,
        size=len(photo),
    )


# --- main ------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="kua-bench-") as tmpdir:
        tmp = Path(tmpdir)
        databases: list[Callable[[], AbstractAsyncContextManager[Database]]] = [lambda: sqlite_database(tmp)]
        if args.postgres:
            databases.append(lambda: postgres_database(args.postgres))

        fsm_rows: list[list[Any]] = []
        submit_rows: list[list[Any]] = []
        for open_database in databases:
            async with open_database() as db:
                fsm_rows += await bench_fsm(db, args.ops)
                submit_rows.append(await bench_submit(db, args.reports))

        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"Machine: {os.cpu_count()} CPUs, load average {load} (figures vary with load)")
        print()
        size = len(make_crypto().encrypt_json(draft_data()))
        print(
            f"FSM storage: SQLAlchemyStorage, encrypted draft of {size:,} bytes; "
            f"{args.ops} operations per row"
        )
        print(table(["database", "mode", "operation", "ops/s", "p50 ms", "p95 ms"], fsm_rows))
        print(
            f"({CONCURRENT_KEYS} keys at once: ops/s is the total, p50/p95 the latency of each "
            "operation while all keys are busy)"
        )
        print()
        print("Report submission: store.cases.submit() of a complete draft (FULL_ANSWERS + private text)")
        print(table(["database", "reports", "reports/s", "p50 ms", "p95 ms"], submit_rows))
        print()

        if args.no_e2e:
            return
        e2e = await bench_e2e(tmp)
        h, v = e2e.handling, e2e.api_view
        print(
            "End to end: one complete report (/start, language, consent, every question, "
            f"a {e2e.size:,}-byte photo, review, send) through the fake Bot API, SQLite"
        )
        methods = ", ".join(f"{m} {n}" for m, n in e2e.requests.most_common())
        print(
            table(
                ["measure", "value"],
                [
                    ["wall time, incl. the harness's quiet-period waits (s)", round(e2e.wall, 2)],
                    ["updates sent by the reporter", e2e.updates],
                    ["Bot API requests made by the bot (without getUpdates)", sum(e2e.requests.values())],
                    ["getUpdates calls", e2e.polls],
                    ["bot handling, all updates (ms)", h.wall * 1000],
                    ["bot handling per update, p50 (ms)", h.pct(50)],
                    ["bot handling per update, p95 (ms)", h.pct(95)],
                    ["bot handling per update, max (ms)", h.pct(100)],
                    ["fake's view: update taken -> bot's last request, p50 (ms)", v.pct(50)],
                    ["fake's view: update taken -> bot's last request, p95 (ms)", v.pct(95)],
                ],
            )
        )
        print(f"requests by method: {methods}")
    if not args.no_updates:
        # Kua beside a bare aiogram bot on the same fake Bot API (scripts/bench_updates.py).
        print()
        sys.path.insert(0, str(ROOT / "scripts"))
        import bench_updates  # type: ignore[import-not-found]  # a sibling script, found on sys.path

        await bench_updates.main(bench_updates.parse_args([]))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also benchmark PostgreSQL (postgresql+asyncpg://...), in a throwaway schema",
    )
    parser.add_argument(
        "--reports", type=int, default=100, metavar="N", help="submissions to time per database (default 100)"
    )
    parser.add_argument(
        "--ops", type=int, default=400, metavar="N", help="FSM operations per row of the table (default 400)"
    )
    parser.add_argument("--no-e2e", action="store_true", help="skip the end-to-end report")
    parser.add_argument(
        "--no-updates", action="store_true", help="skip Kua vs bare aiogram (scripts/bench_updates.py)"
    )
    args = parser.parse_args(argv)
    if args.reports < 1 or args.ops < 1:
        parser.error("--reports and --ops must be at least 1")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
