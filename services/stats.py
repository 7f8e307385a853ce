"""Statistics for a period: what is counted, by what, and with which protection.

Counting happens in the database (storage.stats, one grouped query per dimension); this module
turns those month-by-category counts into the figures one may publish (services.disclosure).
Only cases whose reporter agreed to anonymised figures are counted. Cases are counted by the
month they were reported (UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.questionnaire import QUESTIONS
from domain.values import CaseStatus
from domain.workflow import CloseReason
from services.disclosure import (
    Figure,
    Mark,
    Series,
    Span,
    figure,
    month_index,
    month_name,
    protect_table,
)
from storage.stats import ANSWER, ANSWERS, COLUMN, Source, StatsRepository

NOT_STATED = "not_stated"  # no answer, "Don't know" or "Prefer not to say"
OPEN = "open"  # close reason of a case not closed

# The "does the person agree" question (asked by the report's questionnaire): its answer id.
# When the questionnaire has no such question yet, the dimension is simply all "not stated".
PERSON_AGREES = "person_agrees"


@dataclass(frozen=True)
class Dimension:
    id: str
    source: Source
    additive: bool  # every case in exactly one category (so categories sum to the total)
    codes: tuple[str, ...]  # the categories, in display order


def _options(qid: str) -> tuple[str, ...]:
    question = QUESTIONS.get(qid)
    return tuple(o.value for o in question.choices()) if question else ()


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("region", Source(COLUMN, "region"), True, (*_options("region"), NOT_STATED)),
    Dimension(
        "facility_kind", Source(COLUMN, "facility_kind"), True, (*_options("facility_kind"), NOT_STATED)
    ),
    Dimension("methods", Source(ANSWERS, "methods"), False, _options("methods")),
    Dimension("perpetrators", Source(ANSWERS, "perpetrators"), False, _options("perpetrators")),
    Dimension("urgency", Source(COLUMN, "urgent"), True, ("yes", "no")),
    Dimension("status", Source(COLUMN, "status"), True, tuple(s.value for s in CaseStatus)),
    Dimension("close_reason", Source(COLUMN, "close_reason"), True, (*(r.value for r in CloseReason), OPEN)),
    Dimension("knowledge", Source(ANSWER, "knowledge"), True, (*_options("knowledge"), NOT_STATED)),
    Dimension("person_agrees", Source(ANSWER, PERSON_AGREES), True, (*_options(PERSON_AGREES), NOT_STATED)),
)
BY_ID = {d.id: d for d in DIMENSIONS}


@dataclass(frozen=True)
class Period:
    """Whole months, inclusive. None = from the first / to the last case."""

    since: str | None
    until: str | None

    def bounds(self, span: Span) -> tuple[int, int]:
        first = month_index(self.since) if self.since else span.first
        last = month_index(self.until) if self.until else span.last
        return first, last


def preset(name: str, now: datetime) -> Period:
    """this_month | last_3 | last_12 | all (months counted back from the current one)."""
    current = now.year * 12 + now.month - 1
    back = {"this_month": 0, "last_3": 2, "last_12": 11}
    if name == "all":
        return Period(None, None)
    if name not in back:
        raise ValueError(name)
    return Period(month_name(current - back[name]), month_name(current))


@dataclass
class Report:
    period: Period
    first: str  # the months actually covered
    last: str
    min_cell: int
    total: Figure
    months: list[tuple[str, Figure]]
    tables: dict[str, list[tuple[str, Figure]]] = field(default_factory=dict)


def _series(rows: list[tuple[str, str | None, int]], dimension: Dimension) -> dict[str, Series]:
    cells: dict[str, dict[int, int]] = {code: {} for code in dimension.codes}
    for month, value, n in rows:
        code = value if value in cells else (OPEN if dimension.id == "close_reason" else NOT_STATED)
        if code not in cells:  # a multi-select value no longer offered: not counted
            continue
        m = month_index(month)
        cells[code][m] = cells[code].get(m, 0) + n
    return dict(cells)  # (typed as read-only series)


async def build(repo: StatsRepository, period: Period, *, min_cell: int, now: datetime) -> Report:
    k = min_cell
    rows_of = {d.id: await repo.monthly(d.source) for d in DIMENSIONS}
    total_rows = rows_of["urgency"]  # every case has an urgency: its rows count every case
    total: dict[int, int] = {}
    for month, _value, n in total_rows:
        total[month_index(month)] = total.get(month_index(month), 0) + n
    current = now.year * 12 + now.month - 1
    bounds = [month_index(m) for m in (period.since, period.until) if m]
    span = Span.covering(total.keys(), current, *bounds)
    first, last = period.bounds(span)
    if period.since is None and total:
        first = min(total)
    if period.until is None:
        last = max([current, *total.keys()])
    if first > last:
        raise ValueError("the period ends before it starts")
    total_figure = figure(total, span, k, first, last)
    months = [(month_name(m), figure(total, span, k, m, m)) for m in range(first, last + 1)]
    report = Report(
        period=period,
        first=month_name(first),
        last=month_name(last),
        min_cell=k,
        total=total_figure,
        months=months,
    )

    cells_of: dict[str, dict[str, Series]] = {}
    for dimension in DIMENSIONS:
        cells_of[dimension.id] = _series(rows_of[dimension.id], dimension)
    # The total can be known if shown, or as the sum of an additive table shown in full.
    singles = {
        d.id: {c: figure(s, span, k, first, last) for c, s in cells_of[d.id].items()} for d in DIMENSIONS
    }
    known = total_figure.shown or any(
        d.additive and all(f.shown for f in singles[d.id].values()) for d in DIMENSIONS
    )
    period_total = sum(n for m, n in total.items() if first <= m <= last)
    for dimension in DIMENSIONS:
        cells = cells_of[dimension.id]
        if dimension.additive:
            figures = protect_table(cells, period_total if known else None, span, k, first, last)
        else:
            figures = singles[dimension.id]
        report.tables[dimension.id] = [(code, figures[code]) for code in dimension.codes]
    return report


def shown_value(f: Figure) -> int:
    """For charts: hidden and small figures are drawn as nothing."""
    return f.value if f.mark is Mark.SHOWN and f.value is not None else 0


def as_dict(report: Report, labels: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Any]:
    """A JSON-ready report: figures are numbers, or "<k" / "x"."""

    def cell(f: Figure) -> int | str:
        if f.mark is Mark.SHOWN:
            return f.value or 0
        return f"<{report.min_cell}" if f.mark is Mark.SMALL else "x"

    return {
        "period": {"since": report.first, "until": report.last},
        "counted": "cases whose reporter agreed to anonymised figures, by month reported (UTC)",
        "min_cell": report.min_cell,
        "legend": {
            f"<{report.min_cell}": f"fewer than {report.min_cell} cases",
            "x": "hidden so that a small figure cannot be worked out",
        },
        "total": cell(report.total),
        "by_month": {m: cell(f) for m, f in report.months},
        **{dim: {code: cell(f) for code, f in rows} for dim, rows in report.tables.items()},
    }
