"""What the coordinators read: queue pages, the channel and the notes of a case (HTML, current
locale). No Telegram ids and no reporter identities ever appear here: the case has none."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from aiogram.utils.i18n import gettext as _

from domain.card import status_line
from domain.questionnaire import QUESTIONS
from domain.render import answer_text
from domain.textlimits import TEXT_LIMIT, visible_length
from storage.casework import CaseView, ChannelMessage

PAGE_SIZE = 10
CHUNK = 3000  # characters of one free text per piece (long texts are cut into several)


def pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def age_text(created_at: datetime, now: datetime) -> str:
    delta = max(now - created_at, timedelta())
    if delta < timedelta(hours=1):
        return _("{minutes} min").format(minutes=int(delta.total_seconds() // 60))
    if delta < timedelta(hours=48):
        return _("{hours} h").format(hours=int(delta.total_seconds() // 3600))
    return _("{days} d").format(days=delta.days)


def queue_line(view: CaseView, now: datetime) -> str:
    parts = [f"#{view.id}" + (" 🔴" if view.urgent else ""), escape(status_line(view))]
    for qid, value in (("facility_kind", view.facility_kind), ("region", view.region)):
        parts.append(answer_text(QUESTIONS[qid], value) if value else "—")
    parts.append(escape(age_text(view.created_at, now)))
    return " · ".join(parts)


def queue_text(views: Sequence[CaseView], total: int, page: int, now: datetime) -> str:
    if total == 0:
        return escape(_("No open cases."))
    head = _("Open cases: {total} (page {page} of {pages})").format(
        total=total, page=page + 1, pages=pages(total))
    lines = [f"<b>{escape(head)}</b>", escape(_("Urgent first, then oldest."))]
    lines += [queue_line(view, now) for view in views]
    lines.append(escape(_("Send /case N to see a case.")))
    return "\n".join(lines)


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _pieces(text: str) -> list[str]:
    """A free text, escaped, in pieces short enough for one message each."""
    return [escape(text[i:i + CHUNK]) for i in range(0, len(text), CHUNK)] or [""]


def _pack(parts: Sequence[str]) -> list[str]:
    """Parts joined into as few messages as Telegram's limit allows."""
    messages: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}\n\n{part}" if current else part
        if current and visible_length(candidate) > TEXT_LIMIT:
            messages.append(current)
            current = part
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def channel_texts(case_id: int, messages: Sequence[ChannelMessage]) -> list[str]:
    """The anonymous channel of a case, oldest first; empty if nothing was exchanged."""
    if not messages:
        return []
    title = _("Messages of case #{number}").format(number=case_id)
    parts = [f"<b>{escape(title)}</b>"]
    for m in messages:
        if m.direction == "to_reporter":
            head = "→ " + _("{when}, to the reporter:").format(when=_when(m.created_at))
        else:
            head = "← " + _("{when}, from the reporter:").format(when=_when(m.created_at))
        if m.file_ids:
            head += " " + _("(files: {count})").format(count=len(m.file_ids))
        pieces = _pieces(m.text) if m.text else []
        parts.append(f"<i>{escape(head)}</i>" + (f"\n{pieces[0]}" if pieces else ""))
        parts += pieces[1:]
    return _pack(parts)


def notes_texts(case_id: int, notes: Sequence[tuple[datetime, int | None, str]]) -> list[str]:
    """Internal notes (never relayed to the reporter)."""
    if not notes:
        return []
    title = _("Internal notes of case #{number}").format(number=case_id)
    parts = [f"<b>{escape(title)}</b>"]
    for at, _actor, text in notes:
        pieces = _pieces(text)
        parts.append(f"<i>{escape(_when(at))}</i>\n{pieces[0]}")
        parts += pieces[1:]
    return _pack(parts)
