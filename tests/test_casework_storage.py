"""storage.casework on SQLite and PostgreSQL: the queue's keyset pages walk every open case
once in order, filters, the atomic Take under concurrency, spam blocks and re-alerts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from domain.values import CaseStatus
from domain.workflow import CloseReason, QueueFilter
from storage.casework import AlreadyTaken, NotOwner
from storage.db import make_sessionmaker, upgrade
from storage.repositories import Consent, Store, Submission
from tests.sample import FULL_ANSWERS
from tests.storage_fixtures import BACKENDS, FakeClock, isolated_engine, make_crypto


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with isolated_engine(request.param, tmp_path, "casework") as engine:
        await upgrade(engine)
        yield Store(make_sessionmaker(engine), make_crypto(), FakeClock())


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
