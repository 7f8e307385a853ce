"""What the bot posts by itself to the coordinators (HTML, current locale): topic names, urgent
alerts, reminders, the reporter's added information, notes about who cannot be reached.

The delivery worker (bot.delivery) only claims, renders with these functions, sends and records;
every word it sends lives here. Nothing here carries a reporter's identity: the case has none.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.questionnaire import QUESTIONS, SKIPPED
from domain.textlimits import split_text
from handlers.render import answer_text, option_label
from storage.casework import CaseView

TOPIC_NAME_LIMIT = 128
TEXT_CHUNK = 3000  # characters of the reporter's added text per group message
URGENT_FIELDS = ("facility_kind", "region", "danger")


def topic_name(view: CaseView) -> str:
    """ "#12 · Karaganda region · Pre-trial detention centre (SIZO)" in the current locale."""
    parts = [f"#{view.id}"]
    for qid, value in (("region", view.region), ("facility_kind", view.facility_kind)):
        if value and value != SKIPPED:
            parts.append(option_label(QUESTIONS[qid], value))
    name = ("🔴 " if view.urgent else "") + " · ".join(parts)
    return name[:TOPIC_NAME_LIMIT]


def message_link(chat_id: int, message_id: int, topic_id: int | None) -> str | None:
    """A t.me link to a message of a supergroup (members only); None for basic groups."""
    digits = str(chat_id)
    if not digits.startswith("-100"):
        return None
    middle = f"/{topic_id}" if topic_id else ""
    return f"https://t.me/c/{digits[4:]}{middle}/{message_id}"


def unreachable_on_call_text(name: str) -> str:
    """Posted in the group: an on-call coordinator the bot cannot write to."""
    return "⚠ " + escape(
        _(
            "{name} is on call but cannot receive urgent alerts: they have not started "
            "the bot or have blocked it. {name}, please open a private chat with the "
            "bot and press Start."
        ).format(name=name)
    )


@dataclass(frozen=True)
class Alert:
    text: str
    markup: InlineKeyboardMarkup | None


def urgent_alert(view: CaseView, *, realert: bool, link: str | None) -> Alert:
    """The private alert to on-call coordinators; a button to the card when it can be linked."""
    lines = [f"<b>🔴 {escape(_('URGENT'))} · {escape(_('Case #{number}').format(number=view.id))}</b>"]
    if realert:
        lines.append(escape(_("Still not taken by anyone. Please take it or hand it to a colleague.")))
    for qid in URGENT_FIELDS:
        question = QUESTIONS[qid]
        if qid in view.answers:
            lines.append(f"{escape(_(question.title))}: {answer_text(question, view.answers[qid])}")
    markup = None
    if link:
        kb = InlineKeyboardBuilder()
        kb.button(text=_("Open in the group"), url=link)
        markup = kb.as_markup()
    return Alert("\n".join(lines), markup)


def reminder_text(
    view: CaseView,
    *,
    urgent: bool,
    urgent_ack_minutes: int,
    remind_after_hours: int,
    group_shows: str,
    kinds: Collection[str],
) -> str:
    """A case still not taken: how long, and what nobody has done yet (from its history's kinds)."""
    if urgent:
        head = "🔴 " + escape(
            ngettext(
                "Urgent case #{number} is still not taken after {minutes} minute.",
                "Urgent case #{number} is still not taken after {minutes} minutes.",
                urgent_ack_minutes,
            ).format(number=view.id, minutes=urgent_ack_minutes)
        )
    else:
        head = "⏰ " + escape(
            ngettext(
                "Case #{number} is still new after {hours} hour: nobody has taken it yet.",
                "Case #{number} is still new after {hours} hours: nobody has taken it yet.",
                remind_after_hours,
            ).format(number=view.id, hours=remind_after_hours)
        )
    missing = [_("Nobody has taken it: press Take on the card.")]
    if "opened_full" not in kinds and group_shows == "summary":
        missing.append(_("Nobody has read the full report yet (Open)."))
    if view.contactable and not view.unreachable and "message_out" not in kinds:
        missing.append(_("Nobody has written to the reporter yet."))
    return head + "\n" + escape(_("Missing:")) + "\n" + "\n".join("• " + escape(item) for item in missing)


def unreachable_text(view: CaseView) -> str:
    """In the case's thread: the reporter blocked the bot."""
    return f"⚠ <b>{escape(_('Case #{number}').format(number=view.id))}</b>\n" + escape(
        _("The reporter has blocked the bot: messages cannot reach them.")
    )


def added_notice_text(number: int, file_count: int) -> str:
    """group_shows = summary: the reporter added something; the content stays behind Open."""
    text = "✉ " + escape(_("The reporter added information to case #{number}.").format(number=number))
    if file_count:
        text += "\n" + escape(_("Files: {count}").format(count=file_count))
    return text + "\n" + escape(_("Press Open on the card to read it."))


def added_texts(number: int, text: str) -> list[str]:
    """group_shows = full: the added text itself, under a header, in message-sized pieces."""
    header = (
        "✉ <b>"
        + escape(_("The reporter added information to case #{number}.").format(number=number))
        + "</b>"
    )
    chunks = split_text(text, TEXT_CHUNK)
    texts = [header + ("\n" + escape(chunks[0]) if chunks else "")]
    return texts + [escape(chunk) for chunk in chunks[1:]]


def file_captions(number: int, count: int) -> list[str]:
    """ "Case #12 · 1/3" under each file posted to the group."""
    case = escape(_("Case #{number}").format(number=number))
    return [f"{case} · {index}/{count}" for index in range(1, count + 1)]
