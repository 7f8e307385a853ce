"""Statistics: exact counts of consenting cases, small-number protection (also against
differencing periods and categories), phone-sized PNG charts, and /stats through the bot."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n

from bot.i18n import LOCALES_DIR
from emulator import FakeTelegram
from handlers.stats import BAD_PERIOD, StatsCb, report_charts, report_text
from services import stats as stats_service
from services.disclosure import Figure, Mark, Span, atoms, figure, month_index, protect_table
from services.stats import Period, build
from tests.advocacy_fixtures import NOW, Seed, seed, seeded_store
from tests.harness import BotProcess, coordination_env, make_config, tr
from tests.storage_fixtures import BACKENDS

K = 5


def shown(n: int) -> Figure:
    return Figure(Mark.SHOWN, n)


SMALL = Figure(Mark.SMALL, None)
HIDDEN = Figure(Mark.HIDDEN, None)


def table(report: stats_service.Report, dimension: str) -> dict[str, Figure]:
    return dict(report.tables[dimension])


# --- the protection rules, on plain numbers ------------------------------------------------------


def series(**months: int) -> dict[int, int]:
    return {month_index(m.replace("_", "-")[1:]): n for m, n in months.items()}


SPAN_2026 = Span(month_index("2026-01"), month_index("2026-12"))


def test_a_figure_below_min_cell_is_small() -> None:
    s = series(m2026_03=3)
    assert figure(s, SPAN_2026, K, SPAN_2026.first, SPAN_2026.last) == SMALL


def test_differencing_two_periods_cannot_reveal_one_case() -> None:
    # Region X: 11 cases in February–December and one in January. Showing both "Jan–Dec: 12"
    # and "Feb–Dec: 11" would reveal that single January case.
    s = {month_index(f"2026-{m:02d}"): 1 for m in range(1, 13)}
    year = figure(s, SPAN_2026, K, month_index("2026-01"), month_index("2026-12"))
    without_january = figure(s, SPAN_2026, K, month_index("2026-02"), month_index("2026-12"))
    assert year == shown(12)
    assert without_january == HIDDEN
    # Every contiguous period either shows a sum of whole atoms or nothing at all.
    cut = atoms(s, SPAN_2026, K)
    for first in range(SPAN_2026.first, SPAN_2026.last + 1):
        for last in range(first, SPAN_2026.last + 1):
            f = figure(s, SPAN_2026, K, first, last)
            if f.shown and f.value:
                assert f.value >= K
                assert all(
                    (a[0] >= first and a[1] <= last) or a[1] < first or a[0] > last for a in cut if a[2]
                )


def test_any_two_shown_figures_of_a_series_differ_by_zero_or_at_least_min_cell() -> None:
    s = series(m2026_01=2, m2026_02=7, m2026_05=1, m2026_06=9, m2026_09=4, m2026_11=6)
    values = []
    for first in range(SPAN_2026.first, SPAN_2026.last + 1):
        for last in range(first, SPAN_2026.last + 1):
            f = figure(s, SPAN_2026, K, first, last)
            if f.shown:
                values.append(((first, last), f.value))
    assert values, "something must be publishable"
    for a, va in values:
        for b, vb in values:
            nested = a[0] <= b[0] and b[1] <= a[1]
            if nested:
                assert va - vb == 0 or va - vb >= K, (a, b, va, vb)


def test_total_minus_shown_cells_cannot_reveal_a_small_cell() -> None:
    cells = {"karaganda": series(m2026_03=6), "astana": series(m2026_03=2), "pavlodar": series(m2026_03=9)}
    figures = protect_table(cells, 17, SPAN_2026, K, SPAN_2026.first, SPAN_2026.last)
    assert figures["astana"] == SMALL
    # The smallest other cell is hidden with it, and 2 + 6 = 8 ≥ 5 is all one can work out.
    assert figures["karaganda"] == HIDDEN
    assert figures["pavlodar"] == shown(9)


def test_a_table_is_hidden_whole_when_nothing_smaller_protects_it() -> None:
    cells = {"a": series(m2026_03=6), "b": series(m2026_03=2)}
    figures = protect_table(cells, 8, SPAN_2026, K, SPAN_2026.first, SPAN_2026.last)
    assert figures == {"a": HIDDEN, "b": SMALL}


# --- on seeded cases, SQLite and PostgreSQL -------------------------------------------------------


def seeds() -> list[Seed]:
    out: list[Seed] = []
    # 2026: 12 consenting cases in Karaganda (one a month), 8 in Astana in March, 2 in Pavlodar.
    out += [Seed(f"2026-{m:02d}", methods=["beating", "electric"]) for m in range(1, 13)]
    out += [
        Seed(
            "2026-03",
            region="astana",
            facility_kind="police",
            methods=["beating"],
            perpetrators=["police", "special_unit"],
            urgent=True,
            status="closed",
            close_reason="resolved",
            knowledge="saw",
        )
        for _ in range(8)
    ]
    out += [Seed("2026-05", region="pavlodar", methods="-", knowledge="documents") for _ in range(2)]
    # Not counted: their reporters did not agree to figures.
    out += [Seed("2026-03", region="astana", consent_stats=False) for _ in range(7)]
    out += [Seed("2026-06", region="atyrau", consent_stats=False) for _ in range(3)]
    return out


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path):
    async with seeded_store(request.param, tmp_path, "stats") as s:
        await seed(s, seeds())
        yield s


async def test_only_consenting_cases_are_counted_exactly(store) -> None:
    report = await build(store.stats, Period("2026-01", "2026-12"), min_cell=K, now=NOW)
    assert report.total == shown(22)
    regions = table(report, "region")
    assert regions["karaganda"] == shown(12)
    assert regions["pavlodar"] == SMALL
    # 22 − 12 − 8 would give Pavlodar's 2, so the smallest other cell (Astana) is hidden too.
    assert regions["astana"] == HIDDEN
    assert regions["atyrau"] == shown(0)  # its three cases did not consent
    assert regions["not_stated"] == shown(0)
    methods = table(report, "methods")
    assert methods["beating"] == shown(20) and methods["electric"] == shown(12)
    perpetrators = table(report, "perpetrators")
    assert perpetrators["police"] == shown(22) and perpetrators["special_unit"] == shown(8)
    assert table(report, "urgency") == {"yes": shown(8), "no": shown(14)}
    knowledge = table(report, "knowledge")
    assert knowledge["person"] == shown(12) and knowledge["documents"] == SMALL
    assert knowledge["saw"] == HIDDEN
    assert table(report, "close_reason")["resolved"] == shown(8)
    # The seeded cases predate the question: every one is "not stated", its answers are empty cells.
    assert table(report, "person_agrees") == {
        "yes": shown(0),
        "no": shown(0),
        "could_not_ask": shown(0),
        "not_stated": shown(22),
    }


async def test_the_astana_cell_protects_pavlodar(store) -> None:
    report = await build(store.stats, Period("2026-01", "2026-12"), min_cell=K, now=NOW)
    regions = table(report, "region")
    hidden = [c for c, f in regions.items() if not f.shown]
    assert "pavlodar" in hidden and len(hidden) >= 2
    shown_sum = sum(f.value or 0 for f in regions.values() if f.shown)
    assert 22 - shown_sum >= K


async def test_a_month_of_a_small_series_is_hidden_not_published(store) -> None:
    report = await build(store.stats, Period("2026-02", "2026-12"), min_cell=K, now=NOW)
    # Karaganda's Feb–Dec (11) next to its Jan–Dec (12) would single out January's case.
    assert table(report, "region")["karaganda"] == HIDDEN


async def test_a_single_month_with_few_cases_is_small(store) -> None:
    report = await build(store.stats, Period("2026-07", "2026-07"), min_cell=K, now=NOW)
    assert report.total == SMALL
    assert all(not f.shown or f.value == 0 for f in table(report, "region").values())


# --- texts and charts ----------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
async def test_text_and_charts_in_each_language(tmp_path: Path, locale: str) -> None:
    async with seeded_store("sqlite", tmp_path, "stats") as s:
        await seed(s, seeds())
        report = await build(s.stats, Period("2026-01", "2026-12"), min_cell=K, now=NOW)
    i18n = I18n(path=LOCALES_DIR, default_locale="en", domain="messages")
    with i18n.context(), i18n.use_locale(locale):
        text = report_text(report)
        charts = report_charts(report)
    assert tr(locale, "Statistics") in text
    assert tr(locale, "Karaganda region") in text
    assert "<5" in text.replace("&lt;", "<")
    assert len(text) < 4096
    assert [name for name, _png in charts] == ["cases-per-month.png", "by-region.png", "by-method.png"]
    for _name, png in charts:
        width, height = png_size(png)
        assert width == 1080 and 400 <= height <= 2400
        from PIL import Image

        Image.open(io.BytesIO(png)).verify()


def test_kazakh_letters_are_covered_by_the_chart_font() -> None:
    import matplotlib
    from fontTools.ttLib import TTFont

    font = TTFont(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in "ӘәҒғҚқҢңӨөҰұҮүҺһІіЁё")


# --- /stats through the bot ----------------------------------------------------------------------

GROUP = -1004400110099
COORD = 770011999
OUTSIDER = 880011999


async def test_stats_in_the_group_for_a_coordinator_not_for_an_outsider(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    group = fake.group(GROUP, "Coordinators", members={COORD: "member", OUTSIDER: "member"})
    kua = BotProcess(make_config(fake, tmp_path, **coordination_env(GROUP, (COORD,))), fake)
    await kua.start()
    try:
        assert kua.app is not None
        await seed(kua.app.store, seeds())
        outsider = group.users[OUTSIDER]
        await outsider.send_text("/stats")
        await kua.settle()
        assert not group.users[COORD].bot_messages()
        coordinator = group.users[COORD]
        await coordinator.send_text("/stats 2026-01 2026-12")
        await kua.settle()
        messages = coordinator.bot_messages()
        text = next(m for m in messages if m.text and tr("ru", "Statistics") in m.text)
        assert "22" in text.text
        photos = [m for m in messages if m.content.get("photo")]
        assert len(photos) == 3
        await coordinator.press_data(StatsCb(period="last_12").pack(), text)
        await kua.settle()
        assert len([m for m in coordinator.bot_messages() if m.content.get("photo")]) == 6
        await coordinator.send_text("/stats 2026-13")
        await kua.settle()
        assert coordinator.bot_messages()[-1].text == tr("ru", BAD_PERIOD)
    finally:
        await kua.stop()
