"""/stats for coordinators and admins, in private or in the coordinators' group.

The figures come from services.stats (only cases whose reporter agreed; small numbers
protected); this module only words them, in the coordinator's language, and draws the charts.
The operator's `python -m bot stats` renders the same texts and charts (bot/cli_advocacy.py).
"""

from __future__ import annotations

from html import escape

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    MediaUnion,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.i18n import N_
from domain.questionnaire import QUESTIONS
from domain.values import CaseStatus
from domain.workflow import CLOSE_LABELS, STATUS_NAMES, CloseReason
from handlers.coordinator import staff_only
from handlers.render import option_label
from handlers.settings import Config
from services import stats as stats_service
from services.charts import Bar, bar_chart
from services.disclosure import Figure, Mark, month_index
from storage.repositories import Store

PRESETS = (
    ("this_month", N_("This month")),
    ("last_3", N_("Last 3 months")),
    ("last_12", N_("Last 12 months")),
    ("all", N_("All time")),
)
TITLES = {
    "region": N_("By region"),
    "facility_kind": N_("By kind of place"),
    "methods": N_("By what was done"),
    "perpetrators": N_("By who did it"),
    "urgency": N_("By urgency"),
    "status": N_("By status"),
    "close_reason": N_("By closing reason"),
    "knowledge": N_("By how the reporter knows"),
    "person_agrees": N_("By whether the person agrees"),
}
NOT_STATED = N_("Not stated")
NOT_CLOSED = N_("Not closed")
URGENT = N_("Urgent")
NOT_URGENT = N_("Not urgent")
BAD_PERIOD = N_("Send /stats, or /stats 2026-01 2026-06 for the months from January to June 2026.")


class StatsCb(CallbackData, prefix="st1"):
    period: str


# --- words ---------------------------------------------------------------------------------------


def category_label(dimension: str, code: str) -> str:
    if code == stats_service.NOT_STATED:
        return _(NOT_STATED)
    if dimension == "urgency":
        return _(URGENT) if code == "yes" else _(NOT_URGENT)
    if dimension == "status":
        return _(STATUS_NAMES[CaseStatus(code)])
    if dimension == "close_reason":
        return _(NOT_CLOSED) if code == stats_service.OPEN else _(CLOSE_LABELS[CloseReason(code)])
    qid = stats_service.BY_ID[dimension].source.name
    question = QUESTIONS.get(qid)
    return option_label(question, code) if question else code


def figure_text(f: Figure, min_cell: int) -> str:
    if f.mark is Mark.SHOWN:
        return str(f.value)
    return f"<{min_cell}" if f.mark is Mark.SMALL else "x"


def period_line(report: stats_service.Report) -> str:
    return _("Period: {first} – {last}").format(first=_month(report.first), last=_month(report.last))


def _month(month: str) -> str:
    year, _sep, mm = month.partition("-")
    return f"{mm}.{year}"


def report_text(report: stats_service.Report) -> str:
    """The report as HTML: categories with no cases are left out, to fit a phone."""
    k = report.min_cell
    lines = [
        "<b>" + escape(_("Statistics")) + "</b>",
        escape(period_line(report)),
        escape(_("Cases: {total}").format(total=figure_text(report.total, k))),
    ]
    for dimension, rows in report.tables.items():
        shown = [(code, f) for code, f in rows if not (f.shown and f.value == 0)]
        if not shown:
            continue
        lines.append("")
        lines.append(f"<b>{escape(_(TITLES[dimension]))}</b>")
        lines += [
            f"{escape(category_label(dimension, code))}: {escape(figure_text(f, k))}" for code, f in shown
        ]
    lines.append("")
    lines.append("<i>" + escape(legend(k)) + "</i>")
    return "\n".join(lines)


def legend(k: int) -> str:
    return _(
        "Only reports whose senders agreed to anonymised figures are counted, by the month "
        "they were sent. “<{k}”: fewer than {k} cases. “x”: hidden so that a small number "
        "cannot be worked out from the other figures."
    ).format(k=k)


def _bars(dimension: str, rows: list[tuple[str, Figure]], k: int) -> list[Bar]:
    return [
        Bar(
            category_label(dimension, code),
            stats_service.shown_value(f),
            "" if f.shown else figure_text(f, k),
        )
        for code, f in rows
        if not (f.shown and f.value == 0)
    ]


def report_charts(report: stats_service.Report) -> list[tuple[str, bytes]]:
    """(file name, PNG): cases per month, by region, by what was done."""
    k = report.min_cell
    note = period_line(report)
    months = [
        Bar(_month(m), stats_service.shown_value(f), "" if f.shown else figure_text(f, k))
        for m, f in report.months
    ]
    charts = [("cases-per-month.png", bar_chart(_("Cases per month"), months, horizontal=False, note=note))]
    for dimension, name in (("region", "by-region.png"), ("methods", "by-method.png")):
        bars = _bars(dimension, report.tables[dimension], k)
        if bars:
            charts.append((name, bar_chart(_(TITLES[dimension]), bars, horizontal=True, note=note)))
    return charts


def period_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code, label in PRESETS:
        kb.button(text=_(label), callback_data=StatsCb(period=code))
    kb.adjust(2)
    return kb.as_markup()


def parse_period(args: str | None) -> stats_service.Period | None:
    """ "" → all time; "2026-03" → that month; "2026-01 2026-06" → those months. None: invalid."""
    parts = (args or "").split()
    if not parts:
        return stats_service.Period(None, None)
    if len(parts) > 2:
        return None
    try:
        indices = [month_index(p) for p in parts]
    except ValueError:
        return None
    if any(len(p) != 7 for p in parts) or indices[0] > indices[-1]:
        return None
    return stats_service.Period(parts[0], parts[-1])


# --- handlers ------------------------------------------------------------------------------------


async def _send(
    bot: Bot, chat_id: int, thread: int | None, store: Store, config: Config, period: stats_service.Period
) -> None:
    report = await stats_service.build(store.stats, period, min_cell=config.stats.min_cell, now=store.clock())
    await bot.send_message(
        chat_id, report_text(report), reply_markup=period_keyboard(), message_thread_id=thread
    )
    media: list[MediaUnion] = [
        InputMediaPhoto(media=BufferedInputFile(png, filename=name)) for name, png in report_charts(report)
    ]
    await bot.send_media_group(chat_id, media, message_thread_id=thread)


async def cmd_stats(message: Message, command: CommandObject, bot: Bot, store: Store, config: Config) -> None:
    period = parse_period(command.args)
    if period is None:
        await message.answer(_(BAD_PERIOD))
        return
    await _send(
        bot,
        message.chat.id,
        message.message_thread_id if message.is_topic_message else None,
        store,
        config,
        period,
    )


async def on_period(
    query: CallbackQuery, callback_data: StatsCb, bot: Bot, store: Store, config: Config
) -> None:
    try:
        period = stats_service.preset(callback_data.period, store.clock())
    except ValueError:
        await query.answer(_("This button is out of date."))
        return
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    await _send(
        bot,
        message.chat.id,
        message.message_thread_id if message.is_topic_message else None,
        store,
        config,
        period,
    )


def make_router() -> Router:
    router = Router(name="stats")
    router.message.filter(staff_only)
    router.callback_query.filter(staff_only)
    router.message.register(cmd_stats, Command("stats"))
    router.callback_query.register(on_period, StatsCb.filter())
    return router
