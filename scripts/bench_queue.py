"""Benchmark of /queue and each of its filters with many cases. Prints figures only.

    .venv/bin/python scripts/bench_queue.py [--postgres postgresql+asyncpg://...] [--sizes 10000,100000]

Run from the repository root. Each size gets a fresh database (a temporary SQLite file and,
with --postgres, the tests' throwaway schema, dropped afterwards) migrated to the head, filled
with that many cases (85 % open, 10 % urgent, spread over statuses, regions, place kinds and
five coordinators), then every query /queue runs is timed: the first page of each filter and
a page deep in the queue (keyset: after a case far down). Figures are the median of several
runs in milliseconds; they depend on the machine and its load — compare runs on one machine,
never turn them into assertions.
"""

from __future__ import annotations

import argparse
import asyncio
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

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from domain.questionnaire import QUESTIONS  # noqa: E402
from domain.workflow import QueueFilter  # noqa: E402
from storage.casework import CaseworkRepository  # noqa: E402
from storage.crypto import Crypto  # noqa: E402
from storage.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from storage.models import Case  # noqa: E402
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


def rows(count: int, seed: int = 1) -> list[dict[str, object]]:
    rnd = random.Random(seed)
    regions = [o.value for o in QUESTIONS["region"].options]
    kinds = [o.value for o in QUESTIONS["facility_kind"].options]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    out = []
    for n in range(count):
        status = rnd.choices(["new", "in_progress", "waiting", "referred", "closed"], [30, 30, 15, 10, 15])[0]
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


async def fill(engine: AsyncEngine, count: int) -> None:
    data = rows(count)
    async with engine.begin() as conn:
        for i in range(0, len(data), CHUNK):
            await conn.execute(insert(Case), data[i : i + CHUNK])


async def timed(call) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        await call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


async def bench(engine: AsyncEngine, label: str, count: int) -> None:
    await upgrade(engine)
    began = time.perf_counter()
    await fill(engine, count)
    filled = time.perf_counter() - began
    repo = CaseworkRepository(
        make_sessionmaker(engine), Crypto([Crypto.generate_key()], "b" * 40), lambda: datetime.now(UTC)
    )
    print(f"\n{label}, {count:,} cases (filled in {filled:.1f} s)")
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL (postgresql+asyncpg://...)")
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    for count in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
            try:
                await bench(engine, "SQLite", count)
            finally:
                await engine.dispose()
        if args.postgres:
            async with pg_schema_engine(args.postgres, "benchq") as engine:
                await bench(engine, "PostgreSQL", count)


if __name__ == "__main__":
    asyncio.run(main())
