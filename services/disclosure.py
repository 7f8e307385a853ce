"""Small-number protection for published figures: no figure, and no difference of figures,
may count between 1 and k−1 cases (k = ``stats.min_cell``).

Suppressing cells below k in each table is not enough when periods can be chosen freely:
"region X, Jan–Dec" minus "region X, Feb–Dec" is region X in January, which may be 1. So every
series (the cases of one category, month by month) is cut once, from the whole of the data,
into **atoms** — calendar years, refined into quarters and those into months only where every
part holds 0 or at least k cases; a year below k is merged with the next. A figure for a period
is published exactly only if the period takes each atom whole or not at all (by its cases);
then every published figure, and every difference of published figures, is a sum of atoms:
0 or at least k. Otherwise it shows "x" (hidden), and a figure below k shows "<k".

Within a table whose categories add up to the total (every case has one region, or "not
stated"), the total minus the shown cells gives the sum of the hidden ones. So hidden cells
are added (smallest first) until that sum itself is safe: at least k, and a whole-atom figure
of the series "cases in any of the hidden categories" — or until the whole table is hidden.

Pure functions over aggregated counts; no database, no Telegram.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Mark(StrEnum):
    SHOWN = "shown"
    SMALL = "small"  # 1..k-1 cases: shown as "<k"
    HIDDEN = "hidden"  # at least k, but showing it would let a small figure be worked out


@dataclass(frozen=True)
class Figure:
    mark: Mark
    value: int | None  # only when shown

    @property
    def shown(self) -> bool:
        return self.mark is Mark.SHOWN


def month_index(month: str) -> int:
    """'2026-03' → a running month number (year*12 + month-1)."""
    year, _, mm = month.partition("-")
    number = int(mm)
    if not 1 <= number <= 12:
        raise ValueError(month)
    return int(year) * 12 + number - 1


def month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Span:
    """The months the data covers, widened to whole calendar years."""

    first: int
    last: int

    @classmethod
    def covering(cls, months: Iterable[int], *also: int) -> Span:
        found = [*months, *also]
        low, high = min(found), max(found)
        return cls(low - low % 12, high - high % 12 + 11)


Series = Mapping[int, int]  # month index → cases
Atom = tuple[int, int, int]  # first month, last month, cases


def _count(series: Series, first: int, last: int) -> int:
    return sum(n for m, n in series.items() if first <= m <= last)


def atoms(series: Series, span: Span, k: int) -> list[Atom]:
    """The series cut into calendar pieces each holding 0 or at least k cases (see above)."""

    def ok(n: int) -> bool:
        return n == 0 or n >= k

    years: list[Atom] = []
    for start in range(span.first, span.last + 1, 12):
        years.append((start, start + 11, _count(series, start, start + 11)))
    # A year below k merges with the next one (the last with the one before).
    merged: list[Atom] = []
    pending: Atom | None = None
    for year in years:
        if pending is not None:
            year = (pending[0], year[1], pending[2] + year[2])
            pending = None
        if ok(year[2]):
            merged.append(year)
        else:
            pending = year
    if pending is not None:
        if merged:
            first, _, n = merged.pop()
            merged.append((first, pending[1], n + pending[2]))
        else:
            merged.append(pending)  # all the data holds fewer than k cases
    result: list[Atom] = []
    for first, last, n in merged:
        if last - first != 11:  # merged years stay whole
            result.append((first, last, n))
            continue
        quarters = [(q, q + 2, _count(series, q, q + 2)) for q in range(first, last + 1, 3)]
        if not all(ok(q[2]) for q in quarters):
            result.append((first, last, n))
            continue
        for q_first, q_last, q_n in quarters:
            months = [(m, m, series.get(m, 0)) for m in range(q_first, q_last + 1)]
            if all(ok(m[2]) for m in months):
                result.extend(months)
            else:
                result.append((q_first, q_last, q_n))
    return result


def aligned(series: Series, cut: Sequence[Atom], first: int, last: int) -> bool:
    """Whether [first, last] takes each atom's cases whole or not at all."""
    for a_first, a_last, n in cut:
        if n == 0 or a_last < first or a_first > last:
            continue
        inside = _count(series, max(first, a_first), min(last, a_last))
        if inside not in (0, n):
            return False
    return True


def figure(series: Series, span: Span, k: int, first: int, last: int) -> Figure:
    """One category's figure for the months [first, last]."""
    n = _count(series, first, last)
    if 0 < n < k:
        return Figure(Mark.SMALL, None)
    if n and not aligned(series, atoms(series, span, k), first, last):
        return Figure(Mark.HIDDEN, None)
    return Figure(Mark.SHOWN, n)


def protect_table(
    cells: Mapping[str, Series], total_known: int | None, span: Span, k: int, first: int, last: int
) -> dict[str, Figure]:
    """Figures of a table whose categories add up to the total (see the module's docstring).

    ``total_known`` is the period's total if it can be known (shown, or the sum of a fully
    shown table); None if it cannot, and then hiding single cells is enough.
    """
    figures = {c: figure(s, span, k, first, last) for c, s in cells.items()}
    if total_known is None:
        return figures
    counts = {c: _count(s, first, last) for c, s in cells.items()}
    hidden = {c for c, f in figures.items() if not f.shown}
    while hidden and len(hidden) < len(cells):
        union: dict[int, int] = {}
        for c in hidden:
            for m, n in cells[c].items():
                union[m] = union.get(m, 0) + n
        rest = sum(counts[c] for c in hidden)
        if rest >= k and aligned(union, atoms(union, span, k), first, last):
            break
        # Hide the smallest shown non-empty cell next (an empty one hides nothing).
        candidates = [c for c in cells if c not in hidden and counts[c] > 0]
        if not candidates:
            break
        nxt = min(candidates, key=lambda c: (counts[c], c))
        hidden.add(nxt)
        figures[nxt] = Figure(Mark.HIDDEN, None)
    return figures
