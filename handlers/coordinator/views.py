"""What the coordinators read: queue pages, the channel and the notes of a case (HTML, current
locale). No Telegram ids and no reporter identities ever appear here: the case has none."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from aiogram.utils.i18n import gettext as _

from domain.i18n import N_
from domain.questionnaire import QUESTIONS
from domain.textlimits import pack, split_text, visible_length
from domain.values import CaseStatus
from domain.workflow import CLOSE_LABELS, REFERRAL_LABELS, STATUS_NAMES, CloseReason, QueueFilter, Referral
from handlers.coordinator.card import status_line
from handlers.render import answer_text, option_label
from storage.casework import CaseView, ChannelMessage, HistoryEntry

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


def filter_name(f: QueueFilter) -> str:
    if f.urgent:
        return _("urgent only")
    if f.unassigned:
        return _("not taken by anyone")
    if f.mine:
        return _("my cases")
    if f.status:
        return _(STATUS_NAMES[f.status])
    if f.region:
        return option_label(QUESTIONS["region"], f.region)
    if f.kind:
        return option_label(QUESTIONS["facility_kind"], f.kind)
    return _("all open cases")


def queue_text(
    views: Sequence[CaseView], total: int, shown_before: int, now: datetime, f: QueueFilter | None = None
) -> str:
    f = f or QueueFilter()
    if total == 0 or not views:
        if f.code():
            return escape(_("No open cases match: {filter}.").format(filter=filter_name(f)))
        return escape(_("No open cases."))
    head = _("Open cases: {total} · {filter} · {first}–{last}").format(
        total=total, filter=filter_name(f), first=shown_before + 1, last=shown_before + len(views)
    )
    lines = [f"<b>{escape(head)}</b>", escape(_("Urgent first, then oldest."))]
    lines += [queue_line(view, now) for view in views]
    lines.append(escape(_("Send /case N to see a case.")))
    return "\n".join(lines)


def when_text(at: datetime) -> str:
    return _when(at)


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _pieces(text: str) -> list[str]:
    """A free text, escaped, in pieces short enough for one message each."""
    return [escape(piece) for piece in split_text(text, CHUNK)] or [""]


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
    return pack(parts)


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
    return pack(parts)


# --- the history of a case ---------------------------------------------------------------------

HISTORY_ENTRIES = 12  # lines per page at most
HISTORY_LIMIT = 3800  # visible characters per page (under Telegram's 4096)

# One label per event kind; {who} is a coordinator's name (or "the reporter", "the bot").
# Kinds written by other parts of the bot (phone, evidence, advocacy) are rendered here too.
EVENT_LABELS = {
    "submitted": N_("Submitted by the reporter"),
    "delivered": N_("Delivered to the coordinators' group"),
    "take": N_("Taken by {who}"),
    "reopen": N_("Reopened by {who}"),
    "handover": N_("{who} handed it over to {to}"),
    "give_up": N_("{who} gave it up: nobody has it now"),
    "status": N_("{who} changed the status: {status}"),
    "duplicate_linked": N_("{who} closed case #{other} as a duplicate of this one"),
    "note": N_("Internal note by {who}"),
    "message_out": N_("{who} wrote to the reporter"),
    "message_in": N_("The reporter added information"),
    "unreachable": N_("The reporter blocked the bot"),
    "reattached": N_("Opened from another account with the case code"),
    "opened_elsewhere": N_("Opened from another account with the case code"),
    "opened_full": N_("{who} opened the full report"),
    "file_sent": N_("A file of the case was sent to {who}"),
    "exported": N_("{who} exported the case"),
    "sheet_made": N_("{who} made a case sheet"),
    "realerted": N_("Urgent and still not taken: alerted again"),
}
UNKNOWN_EVENT = N_("Other event: {kind}")


def _who(entry: HistoryEntry, names: dict[int, str]) -> str:
    if entry.actor_kind == "coordinator" and entry.actor_id is not None:
        return names.get(entry.actor_id) or _("a coordinator")
    if entry.actor_kind == "reporter":
        return _("the reporter")
    return _("the bot")


def _status_detail(data: dict[str, object]) -> str:
    try:
        status = _(STATUS_NAMES[CaseStatus(str(data.get("to")))])
    except ValueError:
        return escape(str(data.get("to")))
    if data.get("referral"):
        with contextlib.suppress(ValueError):
            status += " · " + _(REFERRAL_LABELS[Referral(str(data["referral"]))])
    if data.get("reason"):
        with contextlib.suppress(ValueError):
            status += " · " + _(CLOSE_LABELS[CloseReason(str(data["reason"]))])
    if data.get("duplicate_of"):
        status += " · " + _("duplicate of case #{number}").format(number=data["duplicate_of"])
    return status


def history_line(entry: HistoryEntry, names: dict[int, str]) -> list[str]:
    """The entry's line, then any further pieces of a long text (each fits a page)."""
    data = entry.data
    label = EVENT_LABELS.get(entry.kind)
    to = data.get("to")
    values = {
        "who": _who(entry, names),
        "to": names.get(int(to), _("a coordinator")) if isinstance(to, int) else "",
        "status": _status_detail(data) if entry.kind == "status" else "",
        "other": data.get("case", ""),
        "kind": entry.kind,
    }
    text = _(label).format(**values) if label else _(UNKNOWN_EVENT).format(**values)
    files = data.get("files")
    if isinstance(files, int) and files:
        text += " · " + _("files added: {count}").format(count=files)
    line = f"<i>{escape(_when(entry.at))}</i> · {escape(text)}"
    pieces = _pieces(entry.text) if entry.text else []
    if pieces:
        line += "\n" + pieces[0]
    return [line, *pieces[1:]]


def history_pages(case_id: int, entries: Sequence[HistoryEntry], names: dict[int, str]) -> list[str]:
    """The timeline in pages that fit one message each; the page title on every page."""
    lines = [line for e in entries for line in history_line(e, names)]
    pages_: list[list[str]] = [[]]
    size = 0
    for line in lines:
        length = visible_length(line)
        if pages_[-1] and (len(pages_[-1]) >= HISTORY_ENTRIES or size + length > HISTORY_LIMIT):
            pages_.append([])
            size = 0
        pages_[-1].append(line)
        size += length + 2
    count = len(pages_)
    out = []
    for number, page in enumerate(pages_, start=1):
        title = _("History of case #{number} (page {page} of {pages})").format(
            number=case_id, page=number, pages=count
        )
        out.append(f"<b>{escape(title)}</b>\n\n" + "\n\n".join(page))
    return out
