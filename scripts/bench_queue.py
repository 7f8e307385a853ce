"""Benchmark of /queue and each of its filters with many cases, alone and while a reminder round
runs over the due cases with reporters writing at the same time. Prints figures only.

    .venv/bin/python scripts/bench_queue.py [--postgres postgresql+asyncpg://...] [--sizes 100000]

Run from the repository root. For each size two databases are filled (a temporary SQLite file
and, with --postgres, the tests' throwaway schema, dropped afterwards), migrated to the head:
every case open (60 % new, 10 % urgent, spread over statuses, regions, place kinds and five
coordinators), and 1,000 open among closed ones. Every query /queue runs is timed: the first
page of each filter and a page deep in the queue (keyset: after a case far down). Then the
default reminders are made due (every new case older than remind_after_hours, none reminded)
and a reminder round runs while a reporter submits a case every 20 ms and /queue keeps being
read: printed are the round's duration, the longest a reporter's write took (and failures),
and each filter's median and slowest first page meanwhile. Figures are in milliseconds
(medians of several runs when idle); they depend on the machine and its load — compare runs
on one machine, never turn them into assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker  # noqa: E402

from domain.questionnaire import QUESTIONS  # noqa: E402
from domain.workflow import QueueFilter  # noqa: E402
from storage import queue_counts  # noqa: E402
from storage.casework import CaseworkRepository  # noqa: E402
from storage.crypto import Crypto  # noqa: E402
from storage.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from storage.models import Case, OutboxItem  # noqa: E402
from storage.outbox import OutboxKind  # noqa: E402
from tests.storage_fixtures import pg_schema_engine  # noqa: E402

RUNS = 7
CHUNK = 5000
COORDINATORS = (770000001, 770000002, 770000003, 770000004, 770000005)
ME = COORDINATORS[0]
FILTERS = {
    "/queue (all open)": "",
    "urgent": "u",
    "unassigned": "n",
    "mine": "m",
    "status: waiting": "s.waiting",
    "region: astana": "r.astana",
    "place: colony": "k.colony",
}


def rows(count: int, open_count: int | None = None, seed: int = 1) -> list[dict[str, object]]:
    """`count` cases, the first `open_count` of them open (all when None), oldest first."""
    rnd = random.Random(seed)
    regions = [o.value for o in QUESTIONS["region"].options]
    kinds = [o.value for o in QUESTIONS["facility_kind"].options]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    opened = count if open_count is None else open_count
    closed = set(rnd.sample(range(count), count - opened))
    out = []
    for n in range(count):
        status = (
            "closed"
            if n in closed
            else rnd.choices(["new", "in_progress", "waiting", "referred"], [60, 20, 12, 8])[0]
        )
        at = start + timedelta(minutes=n * 5)
        out.append(
            {
                "code_hash": f"{n:064x}",
                "status": status,
                "urgent": rnd.random() < 0.10,
                "facility_kind": rnd.choice(kinds),
                "region": rnd.choice(regions),
                "answers": {},
                "locale": "ru",
                "consent_version": "1",
                "consent_contact": True,
                "consent_share": True,
                "consent_stats": True,
                "silent": False,
                "unreachable": False,
                "created_at": at,
                "updated_at": at,
                "assignee_id": None if status == "new" else rnd.choice(COORDINATORS),
            }
        )
    return out


async def fill(engine: AsyncEngine, count: int, open_count: int | None = None) -> None:
    """A bulk import: the counting triggers dropped meanwhile, the counts rebuilt after."""
    data = rows(count, open_count)
    async with engine.begin() as conn:
        for statement in queue_counts.drop_statements(engine.dialect.name):
            await conn.exec_driver_sql(statement)
        for i in range(0, len(data), CHUNK):
            await conn.execute(insert(Case), data[i : i + CHUNK])
        for statement in queue_counts.create_statements(engine.dialect.name):
            await conn.exec_driver_sql(statement)
        for statement in queue_counts.rebuild_statements():
            await conn.exec_driver_sql(statement)


async def timed(call) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        await call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


async def reporter(
    sessions: async_sessionmaker[AsyncSession], stop: asyncio.Event
) -> tuple[list[float], int]:
    """A reporter submitting a case every 20 ms (a row as the report path writes it): how long
    each write took, and how many failed (e.g. SQLite's lock wait ran out)."""
    waits, failed, n = [], 0, 0
    while not stop.is_set():
        n += 1
        row = rows(1)[0] | {"code_hash": f"r{n:063x}", "status": "new", "assignee_id": None}
        row["created_at"] = row["updated_at"] = datetime.now(UTC)
        began = time.perf_counter()
        try:
            async with sessions() as session:
                session.add(Case(**row))
                await session.commit()
        except Exception:  # noqa: BLE001 - counted: a reporter's lost tap
            failed += 1
        waits.append((time.perf_counter() - began) * 1000)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.02)
    return waits, failed


async def during_round(repo: CaseworkRepository, sessions: async_sessionmaker[AsyncSession]) -> None:
    stop = asyncio.Event()
    writes = asyncio.create_task(reporter(sessions, stop))
    times: dict[str, list[float]] = {name: [] for name in FILTERS}

    async def read_queue() -> None:
        while not stop.is_set():
            for name, code in FILTERS.items():
                began = time.perf_counter()
                await repo.queue(QueueFilter.parse(code), coordinator_id=ME, limit=10)
                times[name].append((time.perf_counter() - began) * 1000)
                await asyncio.sleep(0.01)

    readers = asyncio.create_task(read_queue())
    await asyncio.sleep(0.2)
    began = time.perf_counter()
    done = await repo.due_reminders(timedelta(hours=12))
    took = time.perf_counter() - began
    await asyncio.sleep(0.2)
    stop.set()
    waits, failed = await writes
    await readers
    marked = getattr(done, "marked", None)
    marked = len(done) if marked is None else marked  # type: ignore[arg-type]
    async with sessions() as session:
        items = await session.scalar(
            select(func.count(OutboxItem.id)).where(OutboxItem.kind == OutboxKind.REMINDER.value)
        )
    print(
        f"  reminder round: {marked:,} cases marked in {took:.2f} s, {items:,} reminder message(s) "
        f"queued; reporter writes meanwhile: {len(waits)}, longest {max(waits):.1f} ms, "
        f"median {statistics.median(waits):.1f} ms, failed {failed}"
    )
    print(f"  {'filter (during the round)':<26} {'median':>9} {'slowest':>9} {'reads':>6}")
    for name, values in times.items():
        if values:
            print(
                f"  {name:<26} {statistics.median(values):>6.1f} ms {max(values):>6.1f} ms {len(values):>6}"
            )


async def bench(engine: AsyncEngine, label: str, count: int, open_count: int | None) -> None:
    await upgrade(engine)
    began = time.perf_counter()
    await fill(engine, count, open_count)
    filled = time.perf_counter() - began
    sessions = make_sessionmaker(engine)
    repo = CaseworkRepository(sessions, Crypto([Crypto.generate_key()], "b" * 40), lambda: datetime.now(UTC))
    what = "all open" if open_count is None else f"{open_count:,} open"
    print(f"\n{label}, {count:,} cases, {what} (filled in {filled:.1f} s)")
    print(f"  {'filter':<22} {'open':>8} {'first page':>12} {'deep page':>12}")
    for name, code in FILTERS.items():
        f = QueueFilter.parse(code)
        _views, total, _more = await repo.queue(f, coordinator_id=ME, limit=10)
        # A case far down this filter's order: its page is found by keyset, not OFFSET.
        deep_views, _t, _m = await repo.queue(f, coordinator_id=ME, limit=max(1, total // 2))
        deep = deep_views[-1].id if deep_views else None
        first = await timed(lambda f=f: repo.queue(f, coordinator_id=ME, limit=10))
        later = await timed(lambda f=f, deep=deep: repo.queue(f, coordinator_id=ME, after=deep, limit=10))
        print(f"  {name:<22} {total:>8,} {first:>9.1f} ms {later:>9.1f} ms")
    await during_round(repo, sessions)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL (postgresql+asyncpg://...)")
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--open", default="all,1000", help="open cases per size: all and/or counts")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    opens = [None if o == "all" else int(o) for o in args.open.split(",") if o.strip()]
    for count in sizes:
        for open_count in opens:
            with tempfile.TemporaryDirectory() as tmp:
                engine = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
                try:
                    await bench(engine, "SQLite", count, open_count)
                finally:
                    await engine.dispose()
            if args.postgres:
                async with pg_schema_engine(args.postgres, "benchq") as engine:
                    await bench(engine, "PostgreSQL", count, open_count)


if __name__ == "__main__":
    asyncio.run(main())
