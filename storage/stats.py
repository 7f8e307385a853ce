"""Aggregate reads for statistics and exports, and the exports' audit trail.

Counting is done by the database (GROUP BY), never by loading cases into Python: a statistics
request returns one row per (month, value), however many cases there are. Only cases whose
reporter agreed to anonymised figures (``consent_stats``) are ever counted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, cast, func, literal, select, true
from sqlalchemy import case as sql_case
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import Crypto
from storage.models import Attachment, Case, CaseEvent, Export

Clock = Callable[[], datetime]

# What a statistic counts by: a column of the case, or an answer (one value, or a list of them).
COLUMN = "column"
ANSWER = "answer"
ANSWERS = "answers"  # a multi-select answer: a case counts once under each value it has


@dataclass(frozen=True)
class Source:
    kind: str  # COLUMN | ANSWER | ANSWERS
    name: str


@dataclass(frozen=True)
class CaseRecord:
    """One case as an export sees it; the private parts only when asked for."""

    id: int
    created_at: datetime
    updated_at: datetime
    status: str
    urgent: bool
    facility_kind: str | None
    region: str | None
    referral: str | None
    close_reason: str | None
    closed_at: datetime | None
    answers: dict[str, Any]
    consent: dict[str, bool]
    locale: str
    history: list[tuple[datetime, str, dict[str, Any]]]  # (at, kind, data): no actor ids
    private: dict[str, Any] | None = None  # free text and names (with_text only)
    files: list[tuple[str, int]] | None = None  # (kind, size) (with_text only)


def month_of(column: Any, dialect: str) -> ColumnElement[str]:
    """'YYYY-MM' of a UTC timestamp, in SQL (SQLite keeps ISO text; PostgreSQL a timestamptz)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.substr(column, 1, 7)


class StatsRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], crypto: Crypto, clock: Clock):
        self._sessions = sessions
        self._crypto = crypto
        self._clock = clock

    async def monthly(self, source: Source) -> list[tuple[str, str | None, int]]:
        """(month, value, cases) over every consenting case; value None = not stated."""
        async with self._sessions() as session:
            dialect = session.get_bind().dialect.name
            month = month_of(Case.created_at, dialect).label("month")
            counted = Case.consent_stats.is_(True)
            if source.kind == COLUMN:
                column = getattr(Case, source.name)
                value: ColumnElement[Any] = (
                    sql_case((column.is_(True), literal("yes")), else_=literal("no"))
                    if source.name == "urgent"
                    else column
                )
                query = select(month, value.label("value"), func.count(Case.id)).where(counted)
            elif source.kind == ANSWER:
                value = Case.answers[source.name].as_string()
                query = select(month, value.label("value"), func.count(Case.id)).where(counted)
            else:
                element = _elements(Case.answers, source.name, dialect)
                query = (
                    select(month, element.c.value.label("value"), func.count(Case.id))
                    .select_from(Case)
                    .join(element, true())
                    .where(counted)
                )
            rows = await session.execute(query.group_by(month, "value").order_by(month))
            return [(m, None if v is None else str(v), int(n)) for m, v, n in rows]

    # --- exports -----------------------------------------------------------------------------
    async def export_cases(
        self, *, since: str | None, until: str | None, with_text: bool, batch: int = 2000
    ) -> AsyncIterator[CaseRecord]:
        """Cases reported in [since, until] (months, inclusive), oldest first, in batches.

        Without text: only cases whose reporter agreed to anonymised use, and nothing private.
        With text (admins): every case, with its consent flags, so the reader can honour them.
        """
        last_id = 0
        while True:
            async with self._sessions() as session:
                dialect = session.get_bind().dialect.name
                month = month_of(Case.created_at, dialect)
                where = [Case.id > last_id]
                if since:
                    where.append(month >= since)
                if until:
                    where.append(month <= until)
                if not with_text:
                    where.append(Case.consent_stats.is_(True))
                columns = [
                    Case.id,
                    Case.created_at,
                    Case.updated_at,
                    Case.status,
                    Case.urgent,
                    Case.facility_kind,
                    Case.region,
                    Case.referral,
                    Case.close_reason,
                    Case.closed_at,
                    Case.answers,
                    Case.consent_contact,
                    Case.consent_share,
                    Case.consent_stats,
                    Case.locale,
                ]
                if with_text:  # the encrypted free text is read only when it is exported
                    columns.append(Case.private_enc)
                cases = list(
                    await session.execute(select(*columns).where(and_(*where)).order_by(Case.id).limit(batch))
                )
                if not cases:
                    return
                ids = [c.id for c in cases]
                history: dict[int, list[tuple[datetime, str, dict[str, Any]]]] = {}
                for case_id, at, kind, data in await session.execute(
                    select(CaseEvent.case_id, CaseEvent.at, CaseEvent.kind, CaseEvent.data)
                    .where(CaseEvent.case_id.in_(ids), CaseEvent.kind.in_(("take", "status")))
                    .order_by(CaseEvent.id)
                ):
                    history.setdefault(case_id, []).append((at, kind, dict(data or {})))
                files: dict[int, list[tuple[str, int]]] = {}
                if with_text:
                    for case_id, kind, size in await session.execute(
                        select(Attachment.case_id, Attachment.kind, Attachment.size)
                        .where(Attachment.case_id.in_(ids))
                        .order_by(Attachment.id)
                    ):
                        if case_id is not None:  # (never: the query asks for these cases' files)
                            files.setdefault(case_id, []).append((kind, size))
            for c in cases:
                yield CaseRecord(
                    id=c.id,
                    created_at=c.created_at,
                    updated_at=c.updated_at,
                    status=c.status,
                    urgent=c.urgent,
                    facility_kind=c.facility_kind,
                    region=c.region,
                    referral=c.referral,
                    close_reason=c.close_reason,
                    closed_at=c.closed_at,
                    answers=dict(c.answers or {}),
                    consent={
                        "contact": c.consent_contact,
                        "share": c.consent_share,
                        "stats": c.consent_stats,
                    },
                    locale=c.locale,
                    history=history.get(c.id, []),
                    private=(self._crypto.decrypt_json(c.private_enc) if c.private_enc else {})
                    if with_text
                    else None,
                    files=files.get(c.id, []) if with_text else None,
                )
            last_id = ids[-1]

    async def record_export(
        self,
        *,
        actor_kind: str,
        actor_id: int | None,
        fmt: str,
        with_text: bool,
        since: str | None,
        until: str | None,
        case_count: int,
    ) -> int:
        async with self._sessions() as session:
            row = Export(
                at=self._clock(),
                actor_kind=actor_kind,
                actor_id=actor_id,
                format=fmt,
                with_text=with_text,
                since=since,
                until=until,
                case_count=case_count,
            )
            session.add(row)
            await session.commit()
            return row.id

    async def exports(self) -> list[Export]:
        async with self._sessions() as session:
            return list(await session.scalars(select(Export).order_by(Export.id)))

    # --- the case sheet --------------------------------------------------------------------------
    async def share_consent(self, case_id: int) -> bool:
        """Whether the reporter agreed the case may be shared (after asking again)."""
        async with self._sessions() as session:
            return bool(await session.scalar(select(Case.consent_share).where(Case.id == case_id)))

    async def record_case_event(self, case_id: int, actor_id: int, kind: str, data: dict[str, Any]) -> None:
        async with self._sessions() as session:
            session.add(
                CaseEvent(
                    case_id=case_id,
                    at=self._clock(),
                    actor_kind="coordinator",
                    actor_id=actor_id,
                    kind=kind,
                    data=data,
                )
            )
            await session.commit()


def _elements(answers: Any, key: str, dialect: str) -> Any:
    """The values of a list answer as rows (a "Don't know" string gives none)."""
    if dialect == "postgresql":
        value = answers[key]
        safe = sql_case((func.json_typeof(value) == "array", value), else_=cast(literal("[]"), answers.type))
        return func.json_array_elements_text(safe).table_valued("value")
    path = f"$.{key}"
    # json_each of a non-array yields the scalar itself: feed it an empty array instead.
    safe = sql_case(
        (func.json_type(answers, path) == "array", func.json_extract(answers, path)), else_=literal("[]")
    )
    return func.json_each(safe).table_valued("value")
