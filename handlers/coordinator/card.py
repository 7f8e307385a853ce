"""The case card the coordinators see, and the full view sent on demand (current locale)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _

from domain.case import CaseView
from domain.questionnaire import QUESTIONS
from domain.textlimits import TEXT_LIMIT, pack, split_text, visible_length
from domain.workflow import CLOSE_LABELS, REFERRAL_LABELS, STATUS_NAMES, CloseReason, Referral
from handlers.render import answer_text, attribution, render_sections

LINE_PIECE = 3500  # characters of one piece of a line too long for a message

CARD_FIELDS = (
    "facility_kind",
    "region",
    "last_incident",
    "incident_year",
    "incident_month",
    "ongoing",
    "methods",
    "danger",
    "person_agrees",
)


def card_text(
    view: CaseView,
    *,
    file_count: int = 0,
    message_count: int = 0,
    assignee_name: str | None = None,
    opened_elsewhere: Sequence[datetime] = (),
) -> str:
    """Number, urgency, status, place, period, methods: no free text, no names, no files.

    `opened_elsewhere`: when the case was opened with its code from another account.
    """
    head = ("🔴 " + _("URGENT") + " · " if view.urgent else "") + _("Case #{number}").format(number=view.id)
    lines = [f"<b>{escape(head)}</b>", escape(_("Status: {status}").format(status=status_line(view)))]
    for qid in CARD_FIELDS:
        question = QUESTIONS[qid]
        if qid in view.answers and question.applies(view.answers):
            lines.append(f"{escape(_(question.title))}: {answer_text(question, view.answers[qid])}")
    lines.append("<i>" + escape(attribution(view.answers)) + "</i>")
    lines.append(
        escape(_("Files: {count}").format(count=file_count))
        + " · "
        + escape(_("Messages: {count}").format(count=message_count))
    )
    if view.duplicate_of:
        lines.append(escape(_("Duplicate of case #{number}").format(number=view.duplicate_of)))
    if view.assignee_id:
        lines.append(
            escape(_("Taken by:"))
            + f' <a href="tg://user?id={view.assignee_id}">'
            + escape(assignee_name or _("coordinator"))
            + "</a>"
        )
    if opened_elsewhere:
        lines.append(
            "⚠ "
            + escape(
                _("Opened from another account on {date}.").format(
                    date=opened_elsewhere[-1].strftime("%Y-%m-%d %H:%M UTC")
                )
            )
        )
    if not view.contactable:
        lines.append(escape(_("The reporter cannot be written to through the bot.")))
    elif view.unreachable:
        lines.append("⚠ " + escape(_("The reporter has blocked the bot: messages cannot reach them.")))
    return "\n".join(lines)


def status_line(view: CaseView) -> str:
    status = _(STATUS_NAMES[view.status])
    if view.referral:
        status += " · " + _(REFERRAL_LABELS[Referral(view.referral)])
    if view.close_reason:
        status += " · " + _(CLOSE_LABELS[CloseReason(view.close_reason)])
    return status


def full_texts(view: CaseView, private: Mapping[str, Any], file_count: int) -> list[str]:
    """Every answer, free text included, split into messages within Telegram's limit."""
    answers = {**view.answers, **private}
    parts = [f"<b>{escape(_('Case #{number}').format(number=view.id))}</b>"]
    parts += [html for _index, html in render_sections(answers, ["file"] * file_count, excerpt=None)]
    return pack([piece for part in parts for piece in _split(part)])


def _split(html: str) -> list[str]:
    """A section longer than one message is cut on line breaks (free text is one line)."""
    if visible_length(html) <= TEXT_LIMIT:
        return [html]
    pieces: list[str] = []
    for line in html.split("\n"):
        if visible_length(line) > TEXT_LIMIT:
            # A very long free-text line: cut on spaces, outside any tag (free text is escaped).
            pieces += split_text(line, LINE_PIECE)
        else:
            pieces.append(line)
    return pieces
