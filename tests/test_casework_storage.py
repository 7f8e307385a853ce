"""storage.casework on SQLite and PostgreSQL: the queue's keyset pages walk every open case
once in order, filters, the atomic Take under concurrency, spam blocks and re-alerts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.values import CaseStatus
from domain.workflow import CloseReason, QueueFilter
from storage.casework import AlreadyTaken, NotOwner
from storage.db import make_sessionmaker, upgrade
from storage.models import Case, LimitMark, OutboxItem
from storage.outbox import OutboxKind
from storage.repositories import Consent, Store, Submission
from tests.sample import FULL_ANSWERS
from tests.storage_fixtures import BACKENDS, FakeClock, isolated_engine, make_crypto


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with isolated_engine(request.param, tmp_path, "casework") as engine:
        await upgrade(engine)
        yield engine


@pytest.fixture
def store(engine: AsyncEngine) -> Store:
    return Store(make_sessionmaker(engine), make_crypto(), FakeClock())


async def submit(store: Store, user_id: int = 1, **answers: object) -> int:
    clock = store.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(minutes=1))
    case = await store.cases.submit(
        user_id,
        user_id,
        Submission(
            answers={**FULL_ANSWERS, **answers},
            consent=Consent(),
            draft_ref=store.attachments.new_draft_ref(),
            locale="ru",
        ),
    )
    return case.id


async def test_keyset_pages_walk_the_queue_in_order(store: Store) -> None:
    ids = {n: await submit(store, danger=["ongoing"] if n % 4 == 0 else ["none"]) for n in range(23)}
    await store.casework.set_status(ids[5], CaseStatus.CLOSED, 7, close_reason=CloseReason.SPAM)
    expected = [ids[n] for n in range(23) if n % 4 == 0 and n != 5] + [
        ids[n] for n in range(23) if n % 4 and n != 5
    ]
    seen: list[int] = []
    after = None
    while True:
        views, total, more = await store.casework.queue(after=after, limit=5)
        assert total == 22
        seen += [v.id for v in views]
        if not more:
            break
        after = views[-1].id
    assert seen == expected


async def test_filters(store: Store) -> None:
    urgent = await submit(store, danger=["ongoing"], region="astana")
    calm = await submit(store, danger=["none"], facility_kind="colony")
    await store.casework.take(calm, 7)
    cases = store.casework

    async def ids(code: str, me: int = 7) -> list[int]:
        return [v.id for v in (await cases.queue(QueueFilter.parse(code), coordinator_id=me))[0]]

    assert await ids("") == [urgent, calm]
    assert await ids("u") == [urgent]
    assert await ids("n") == [urgent]
    assert await ids("m") == [calm] and await ids("m", me=8) == []
    assert await ids("s.in_progress") == [calm]
    assert await ids("r.astana") == [urgent]
    assert await ids("k.colony") == [calm]
    for forged in ("x", "s.closed", "r.mars", "k.", "s.nonsense"):
        with pytest.raises(ValueError):  # noqa: PT011 - parse() promises a ValueError, whatever its text
            QueueFilter.parse(forged)


async def test_take_is_atomic_under_concurrency(store: Store) -> None:
    case_id = await submit(store)
    results = await asyncio.gather(
        *(store.casework.take(case_id, 100 + n) for n in range(6)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, AlreadyTaken)]
    assert len(winners) == 1 and len(losers) == 5
    assert {loser.assignee_id for loser in losers} == {winners[0].assignee_id}
    kinds = [kind for _at, _k, _a, kind, _d in await store.casework.events(case_id)]
    assert kinds.count("take") == 1
    with pytest.raises(NotOwner):
        await store.casework.hand_over(case_id, 999, 100)


async def test_spam_block_runs_for_its_days_and_reopening_lifts_it(store: Store) -> None:
    case_id = await submit(store, user_id=42)
    key = store.cases.reporter_key(42)
    assert not await store.casework.spam_blocked(key)
    await store.casework.set_status(
        case_id, CaseStatus.CLOSED, 7, close_reason=CloseReason.SPAM, spam_block=timedelta(days=30)
    )
    assert await store.casework.spam_blocked(key)
    assert not await store.casework.spam_blocked(store.cases.reporter_key(43))
    clock = store.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(days=31))
    assert not await store.casework.spam_blocked(key)  # over
    clock.advance(timedelta(days=-31))
    await store.casework.take(case_id, 7)  # reopened
    assert not await store.casework.spam_blocked(key)


async def test_urgent_realerts_after_ack_then_hourly_until_taken(store: Store) -> None:
    case_id = await submit(store, danger=["ongoing"])
    await submit(store, danger=["none"])
    clock = store.clock
    assert isinstance(clock, FakeClock)
    ack, hour = timedelta(minutes=120), timedelta(hours=1)
    clock.advance(timedelta(minutes=119))
    assert await store.casework.due_realerts(ack, hour) == []
    clock.advance(timedelta(minutes=2))
    assert await store.casework.due_realerts(ack, hour) == [case_id]
    assert await store.casework.due_realerts(ack, hour) == []  # done, also for other instances
    clock.advance(timedelta(minutes=61))
    assert await store.casework.due_realerts(ack, hour) == [case_id]
    await store.casework.take(case_id, 7)
    clock.advance(timedelta(hours=5))
    assert await store.casework.due_realerts(ack, hour) == []


# --- the queue at scale: indexes, totals, reminder rounds --------------------------------------
FILTER_CODES = ("", "u", "n", "m", "s.waiting", "r.astana", "k.colony")


def case_rows(store: Store, count: int, **values: object) -> list[dict[str, object]]:
    """Cases written straight into the table (as a bulk import would), spread over filters."""
    at = store.clock()
    statuses = ("new", "in_progress", "waiting", "referred", "closed")
    rows = []
    for n in range(count):
        status = statuses[n % 5]
        row: dict[str, object] = {
            "code_hash": f"{n:064x}",
            "status": status,
            "urgent": n % 3 == 0,
            "facility_kind": ("colony", "sizo")[n % 2],
            "region": ("astana", "almaty", None)[n % 3],
            "answers": {},
            "locale": "ru",
            "consent_version": "1",
            "consent_contact": False,
            "consent_share": False,
            "consent_stats": False,
            "silent": False,
            "unreachable": False,
            "created_at": at - timedelta(minutes=count - n),
            "updated_at": at,
            "assignee_id": None if status == "new" or n % 7 == 0 else 7 + n % 2,
        }
        row.update(values)
        rows.append(row)
    return rows


async def add_cases(engine: AsyncEngine, rows: list[dict[str, object]]) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(Case), rows)


async def test_every_filter_reads_its_index_in_order(engine: AsyncEngine, store: Store) -> None:
    """No full scan and no sort for any filter, first page or deep: the plan of every query
    /queue sends (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN with sorts and sequential
    scans priced out, so a Sort left in the plan means no index gives the order)."""
    await add_cases(engine, case_rows(store, 300))
    sent: list[tuple[str, Any]] = []

    def capture(_conn: object, _cursor: object, statement: str, params: object, *_rest: object) -> None:
        if "FROM cases" in statement and not statement.startswith("EXPLAIN"):
            sent.append((statement, params))

    sqlite = engine.dialect.name == "sqlite"
    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        for code in FILTER_CODES:
            f = QueueFilter.parse(code)
            first, _total, _more = await store.casework.queue(f, coordinator_id=7, limit=3)
            assert first, code
            await store.casework.queue(f, coordinator_id=7, after=first[-1].id, limit=3)
            non_urgent = [v.id for v in (await store.casework.queue(f, coordinator_id=7, limit=60))[0]]
            await store.casework.queue(f, coordinator_id=7, after=non_urgent[-1], limit=3)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    pages = [(stmt, params) for stmt, params in sent if "ORDER BY" in stmt]
    assert len(pages) >= len(FILTER_CODES) * 3
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        if not sqlite:
            await raw.execute("SET enable_seqscan = off")
            await raw.execute("SET enable_sort = off")
        for statement, params in pages:
            if sqlite:
                cursor = await raw.execute("EXPLAIN QUERY PLAN " + statement, params)
                plan = [row[3] for row in await cursor.fetchall()]
                assert not any("TEMP B-TREE" in line for line in plan), (statement, plan)
                assert all("USING" in line and "INDEX" in line for line in plan), (statement, plan)
            else:
                plan = [row[0] for row in await raw.fetch("EXPLAIN " + statement, *params)]
                assert not any("Sort" in line or "Seq Scan" in line for line in plan), (statement, plan)
                assert any("Index Scan" in line for line in plan), (statement, plan)


async def test_totals_follow_every_change_of_a_case(engine: AsyncEngine, store: Store) -> None:
    """The totals come from counters the database keeps: after bulk rows, submissions, takes,
    hand-overs, give-ups, closes and reopens, each filter's total is its number of cases."""
    await add_cases(engine, case_rows(store, 40))
    a = await submit(store, danger=["ongoing"], region="astana", facility_kind="colony")
    b = await submit(store, danger=["none"], region="almaty")
    await store.casework.take(a, 7)
    await store.casework.hand_over(a, 7, 8)
    await store.casework.take(b, 7)
    await store.casework.set_status(b, CaseStatus.WAITING, 7)
    await store.casework.give_up(a, 8)
    await store.casework.set_status(b, CaseStatus.CLOSED, 7, close_reason=CloseReason.RESOLVED)
    await store.casework.take(b, 8)  # reopened
    async with engine.begin() as conn:
        await conn.execute(delete(Case).where(Case.id == 3))
    for me in (7, 8, 9):
        for code in FILTER_CODES:
            f = QueueFilter.parse(code)
            views, total, more = await store.casework.queue(f, coordinator_id=me, limit=500)
            assert not more
            assert total == len(views), (code, me)
    for status in (CaseStatus.WAITING, CaseStatus.IN_PROGRESS):
        views, total, _more = await store.casework.queue(QueueFilter(status=status), limit=500)
        assert total == len(views) and all(v.status is status for v in views)


async def test_a_reminder_round_over_many_cases_commits_in_batches(engine: AsyncEngine, store: Store) -> None:
    """1,200 cases due at once: marked in batches (one short transaction each, so reporters get
    the database between them) and announced by one digest, not 1,200 messages; a second round
    finds nothing; a later round with three due cases reminds each of them."""
    await add_cases(engine, case_rows(store, 1200, status="new", assignee_id=None, urgent=False))
    clock = store.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(hours=13))
    commits: list[int] = []
    updates: list[tuple[str, object]] = []
    event.listen(engine.sync_engine, "commit", lambda _conn: commits.append(1))

    def count(_conn: object, _cursor: object, statement: str, params: object, *_rest: object) -> None:
        if statement.startswith("UPDATE cases"):
            updates.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", count)

    async def reporter_writes() -> int:
        done = 0
        while len(commits) < 3:  # a report submitted while the round runs
            await submit(store, user_id=100 + done)
            done += 1
            await asyncio.sleep(0)
        return done

    writer = asyncio.create_task(reporter_writes())
    round_ = await store.casework.due_reminders(timedelta(hours=12), batch=100)
    assert await asyncio.wait_for(writer, 30) >= 1
    assert round_.marked == 1200 and round_.digest and round_.each == []
    assert len(updates) == 13  # 12 full batches and the empty one that ends the round
    assert len(commits) >= 13
    if engine.dialect.name == "sqlite":  # each batch finds its rows by id, not by a scan
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            cursor = await raw.execute("EXPLAIN QUERY PLAN " + updates[0][0], updates[0][1])
            plan = [row[3] for row in await cursor.fetchall()]
        assert "PRIMARY KEY" in plan[0] and "ix_cases_reminders" in plan[-1], plan

    async def reminders() -> list[OutboxItem]:
        async with make_sessionmaker(engine)() as session:
            return list(
                await session.scalars(select(OutboxItem).where(OutboxItem.kind == OutboxKind.REMINDER.value))
            )

    [digest] = await reminders()
    assert digest.case_id is None and digest.payload == {"digest": True}
    again = await store.casework.due_reminders(timedelta(hours=12), batch=100)
    assert again.marked == 0 and len(await reminders()) == 1


async def test_a_few_due_cases_are_reminded_one_by_one(store: Store) -> None:
    few = [await submit(store, user_id=500 + n) for n in range(3)]
    taken = await submit(store, user_id=600)
    await store.casework.take(taken, 7)
    clock = store.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(hours=13))
    round_ = await store.casework.due_reminders(timedelta(hours=12))
    assert round_.each == few and round_.marked == 3 and not round_.digest
    assert (await store.casework.due_reminders(timedelta(hours=12))).marked == 0
    clock.advance(timedelta(hours=13))  # still not taken: reminded again
    assert (await store.casework.due_reminders(timedelta(hours=12))).each == few


async def test_urgent_realerts_are_capped_per_round(store: Store) -> None:
    ids = [await submit(store, danger=["ongoing"]) for _ in range(4)]
    clock = store.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(hours=3))
    ack, hour = timedelta(minutes=120), timedelta(hours=1)
    assert await store.casework.due_realerts(ack, hour, up_to=3) == ids[:3]
    assert await store.casework.due_realerts(ack, hour, up_to=3) == ids[3:]  # the rest next round
    assert await store.casework.due_realerts(ack, hour, up_to=3) == []


async def test_housekeeping_deletes_in_batches(engine: AsyncEngine, store: Store) -> None:
    """A purge of many rows is several short transactions, each a bounded set-based DELETE."""
    old = store.clock() - timedelta(days=30)
    async with engine.begin() as conn:
        await conn.execute(insert(LimitMark), [{"key_hash": f"{n:064x}", "at": old} for n in range(2500)])
        await conn.execute(insert(LimitMark), [{"key_hash": "k" * 64, "at": store.clock()}])
    deletes: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.startswith("DELETE FROM limit_marks"):
            deletes.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    assert await store.limits.prune() == 2500
    assert len(deletes) == 3  # 1,000 + 1,000 + 500
    async with make_sessionmaker(engine)() as session:
        assert list(await session.scalars(select(LimitMark.key_hash))) == ["k" * 64]
