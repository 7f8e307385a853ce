"""Benchmark: /stats and export with many cases, on SQLite and PostgreSQL. Prints figures only.

    .venv/bin/python scripts/bench_stats.py [--postgres postgresql+asyncpg://...]
                                            [--cases 10000 100000]

Run from the repository root. Cases are seeded with bulk inserts into a temporary SQLite file
(and, with --postgres, a throwaway schema dropped afterwards). Figures: seconds for building the
statistics (all time, and the last 12 months: the SQL aggregation plus the protection), for
rendering the three charts, and for a JSON and a CSV export without text and a JSON export with
text (free text decrypted case by case). Never turn these into assertions in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram.utils.i18n import I18n  # noqa: E402

from bot.i18n import LOCALES_DIR  # noqa: E402
from domain.questionnaire import QUESTIONS  # noqa: E402
from handlers.stats import report_charts  # noqa: E402
from services import export as export_service  # noqa: E402
from services import stats as stats_service  # noqa: E402
from storage.db import load_models, make_engine, make_sessionmaker  # noqa: E402
from storage.repositories import Store  # noqa: E402
from tests.advocacy_fixtures import NOW, Seed, seed  # noqa: E402
from tests.storage_fixtures import FakeClock, make_crypto, pg_schema_engine  # noqa: E402

REGIONS = [o.value for o in QUESTIONS["region"].choices()]
KINDS = [o.value for o in QUESTIONS["facility_kind"].choices()]
METHODS = [o.value for o in QUESTIONS["methods"].choices()]


def seeds(n: int, rng: random.Random) -> list[Seed]:
    out = []
    for _ in range(n):
        year = rng.choice((2024, 2025, 2026))
        month = rng.randint(1, 11 if year == 2026 else 12)
        closed = rng.random() < 0.3
        out.append(
            Seed(
                f"{year}-{month:02d}",
                region=rng.choice(REGIONS),
                facility_kind=rng.choice(KINDS),
                methods=rng.sample(METHODS, rng.randint(1, 3)),
                perpetrators=[rng.choice(("police", "prison", "special_unit"))],
                urgent=rng.random() < 0.2,
                status="closed" if closed else "new",
                close_reason="resolved" if closed else None,
                consent_stats=rng.random() < 0.9,
                private={"narrative": {"text": "x" * 400}},
                day=rng.randint(1, 28),
            )
        )
    return out


@asynccontextmanager
async def sqlite_engine() -> AsyncIterator[object]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
        try:
            yield engine
        finally:
            await engine.dispose()


async def timed(label: str, coro) -> object:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = await coro
    print(f"  {label:<44} {time.perf_counter() - start:8.2f} s")
    return result


async def run(engine, n: int) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        await conn.run_sync(load_models().create_all)
    store = Store(make_sessionmaker(engine), make_crypto(), FakeClock(NOW))
    rng = random.Random(n)
    await timed(f"seed {n} cases (bulk insert)", seed(store, seeds(n, rng)))
    report = await timed(
        "stats, all time",
        stats_service.build(store.stats, stats_service.Period(None, None), min_cell=5, now=NOW),
    )
    await timed(
        "stats, last 12 months",
        stats_service.build(store.stats, stats_service.preset("last_12", NOW), min_cell=5, now=NOW),
    )
    i18n = I18n(path=LOCALES_DIR, default_locale="ru", domain="messages")

    async def charts() -> None:
        with i18n.context(), i18n.use_locale("ru"):
            report_charts(report)  # type: ignore[arg-type]

    await timed("three charts (PNG)", charts())

    def translate(msgid: str, locale: str) -> str:
        return i18n.gettext(msgid, locale=locale)

    for fmt, with_text in (("json", False), ("csv", False), ("json", True)):
        out = io.StringIO()
        request = export_service.ExportRequest(
            fmt=fmt, since=None, until=None, with_text=with_text, actor_kind="operator"
        )
        count = await timed(
            f"export {fmt}{' with text' if with_text else ''}",
            export_service.write(store.stats, request, out, translate, now=NOW),
        )
        print(f"  {'':<44} {count} cases, {len(out.getvalue()) / 1e6:.1f} MB")


async def main(args: argparse.Namespace) -> None:
    for n in args.cases:
        print(f"SQLite, {n} cases")
        async with sqlite_engine() as engine:
            await run(engine, n)
        if args.postgres:
            print(f"PostgreSQL, {n} cases")
            async with pg_schema_engine(args.postgres, "benchstats") as engine:
                await run(engine, n)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KUA_TEST_DATABASE_URL"),
        help="PostgreSQL URL (default: $KUA_TEST_DATABASE_URL)",
    )
    parser.add_argument("--cases", type=int, nargs="+", default=[10_000, 100_000])
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
