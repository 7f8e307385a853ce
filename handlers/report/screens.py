"""Texts of the report's screens, rendered in the current locale. Pure functions: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from domain.i18n import N_
from domain.questionnaire import (
    ORDER,
    QUESTIONS,
    REVIEW_STEP_TITLE,
    STEPS,
    Kind,
    step_number,
)
from domain.rights import RISK
from domain.textlimits import TEXT_LIMIT, pack, split_text, visible_length
from handlers.render import render_sections
from handlers.rights import Deployment, render_page_screen
from handlers.settings import Config

REVIEW_EXCERPTS = (700, 300, 120)  # shrink free-text excerpts until the review fits one message


def progress_line(qid: str, answers: Mapping[str, Any]) -> str:
    """ "Question 5 of 19 · Where": counts only the questions that apply to this report (the
    count changes when an answer changes what follows), with the section's name."""
    applicable = [q for q in ORDER if QUESTIONS[q].applies(answers)]
    number = applicable.index(qid) + 1 if qid in applicable else 1
    step = STEPS[step_number(qid) - 1]
    return (
        "<b>"
        + escape(
            _("Question {number} of {total} · {section}").format(
                number=number, total=len(applicable), section=_(step.title)
            )
        )
        + "</b>"
    )


FILE_KIND_LABELS = {
    "photo": N_("photo"),
    "document": N_("document"),
    "voice": N_("voice message"),
    "video": N_("video"),
    "audio": N_("audio"),
}


def question_text(
    qid: str,
    answers: Mapping[str, Any],
    *,
    max_files: int,
    max_mb: int,
    long_limit: int,
    file_kinds: Sequence[str] = (),
    hint: str | None = None,
    note: str | None = None,
    receiving: bool = False,
    cleaning: str | None = None,
) -> str:
    question = QUESTIONS[qid]
    parts = [progress_line(qid, answers)]
    if note:
        parts.append("✓ " + escape(note))
    if hint:
        parts.append("⚠ " + escape(hint))
    prompt = _(question.prompt)
    if question.kind is Kind.FILES:
        prompt = prompt.format(max_files=max_files, max_mb=max_mb)
    parts.append(escape(prompt))
    if question.kind is Kind.FILES and cleaning:
        parts.append("<i>" + escape(cleaning) + "</i>")  # what is removed from each type
    if question.kind is Kind.TEXT:
        limit = question.max_len or long_limit
        parts.append("<i>" + escape(_("Up to {limit} characters.").format(limit=limit)) + "</i>")
        parts.append("<i>" + escape(_("A voice message can identify the speaker by their voice.")) + "</i>")
    if question.kind is Kind.FILES and (file_kinds or receiving):
        # One status line per file, updated in place (the files themselves are deleted).
        lines = [
            escape(
                _("File {number}: {kind}, saved.").format(
                    number=i + 1, kind=_(FILE_KIND_LABELS.get(kind, FILE_KIND_LABELS["document"]))
                )
            )
            for i, kind in enumerate(file_kinds)
        ]
        if receiving:
            lines.append(escape(_("File {number}: receiving…").format(number=len(file_kinds) + 1)))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def reprisal_note() -> str:
    return escape(
        _(
            "You said the person does not agree to this report. Reports can lead to "
            "pressure on the person inside. Coordinators will take this into account "
            "and will not act without talking to you first."
        )
    )


def review_text(answers: dict[str, Any], file_kinds: Sequence[str], hint: str | None = None) -> str:
    head = [
        "<b>" + escape(_(REVIEW_STEP_TITLE)) + "</b>",
        escape(
            _(
                "Please check your answers. To change something, press the section's button "
                "below. Nothing is sent until you press “Send the report”."
            )
        ),
    ]
    if hint:
        head.insert(1, "⚠ " + escape(hint))
    if answers.get("person_agrees") == "no":
        head.append("⚠ " + reprisal_note())
    for excerpt in REVIEW_EXCERPTS:
        sections = [html for _index, html in render_sections(answers, file_kinds, excerpt=excerpt)]
        text = "\n\n".join(head + sections)
        if visible_length(text) <= TEXT_LIMIT:
            return text
    return text  # the smallest excerpts always fit: the questionnaire's labels are short


STORY_PAGE = 3500  # characters of one text per page
PAGE_LIMIT = TEXT_LIMIT - 200  # a page with its header and buttons' room, within one message


def story_pages(answers: Mapping[str, Any]) -> list[str]:
    """The reporter's free-text answers in full, cut on spaces into window-sized pages."""
    pieces: list[str] = []
    for qid in ORDER:
        value = answers.get(qid)
        if QUESTIONS[qid].kind is not Kind.TEXT or not isinstance(value, dict):
            continue
        title = "<b>" + escape(_(QUESTIONS[qid].title)) + "</b>"
        for index, chunk in enumerate(split_text(str(value.get("text") or ""), STORY_PAGE)):
            pieces.append((title if index == 0 else "…") + "\n" + escape(chunk))
    pages = pack(pieces, PAGE_LIMIT)  # short answers share a page
    if not pages:
        pages = [escape(_("There is no written text in this report."))]
    total = len(pages)
    return [
        f"<i>{escape(_('Page {page} of {total}').format(page=i + 1, total=total))}</i>\n\n{page}"
        for i, page in enumerate(pages)
    ]


def consent_text(ngo_name: str) -> str:
    ngo = ngo_name or _("the human rights organisation that runs this bot")
    return "\n\n".join(
        [
            "<b>" + escape(_("Before you start")) + "</b>",
            escape(
                _(
                    "Your report goes only to the coordinators of {ngo}. They will not see your "
                    "name, username or phone number."
                ).format(ngo=ngo)
            ),
            escape(
                _(
                    "Your answers and files are stored encrypted. Your Telegram account is not "
                    "stored with the report. After sending, you get a case code to follow the "
                    "case from any account."
                )
            ),
            "<b>"
            + escape(_("About legal risk"))
            + "</b>\n"
            + "\n".join(
                "• " + escape(line)
                for line in (
                    _(
                        "The law punishes reports the person knows to be false. Write only what you "
                        "know, and say how you know it."
                    ),
                    _(
                        "A report to us is not a public post. Still, do not name officers in public: in "
                        "2020 prison colonies sued a rights defender over public posts, and won."
                    ),
                    _(
                        "No report is free of legal risk: before any official complaint, ask a lawyer "
                        "(the organisation can help you find one)."
                    ),
                )
            ),
            escape(_("Your choices (tap to change):")),
        ]
    )


def risk_text(config: Config) -> str:
    """The consent's "read more": the rights library's risk page, not a copy of it."""
    return render_page_screen(RISK, 0, Deployment.of(config))


def submitted_text(code: str, contact: bool) -> str:
    parts = [
        "<b>" + escape(_("Your report has been received.")) + "</b>",
        escape(_("Your case code:")) + f"\n<code>{escape(code)}</code>",
        escape(
            _(
                "With this code you, or someone you trust, can follow the case and add "
                "information from any Telegram account."
            )
        ),
        escape(
            _(
                "Keep it safe: write it on paper or remember it. Do not keep it in your "
                "phone's notes or photos, and do not share it with anyone you do not trust."
            )
        ),
        escape(_("What happens next: a coordinator will read your report."))
        + " "
        + escape(
            _("They may write to you here; notifications will look neutral.")
            if contact
            else _("You chose not to be contacted, so use your code to check the case.")
        ),
        escape(
            _(
                "When you have written the code down, press the button below: this chat "
                "will then keep no trace of the report."
            )
        ),
    ]
    return "\n\n".join(parts)


def urgent_checklist() -> str:
    items = (
        _("Write down now everything you know: dates, places, names or roles, what was said."),
        _(
            "Try to get a lawyer to the person. If the chosen lawyer cannot come within 24 hours "
            "of detention, the investigator must offer another one; legal aid is free in cases "
            "set by law."
        ),
        _(
            "If there are injuries, photograph them as early as possible, with a ruler or a coin "
            "for scale and the date, and ask for a medical examination."
        ),
        _("Keep clothes with blood or damage, and copies of every document, complaint and answer."),
        _(
            "Torture complaints are investigated by the prosecutor's office. The organisation can "
            "help you write one."
        ),
        _("Never ask the detained person to take risks to collect evidence."),
    )
    return (
        "<b>"
        + escape(_("Because the person may be in danger, in the next 24 hours:"))
        + "</b>\n"
        + "\n".join("• " + escape(i) for i in items)
    )


def paused_text(days: int) -> str:
    return escape(
        ngettext(
            "Your answers are kept for {days} day from when you started. To continue, press the "
            "button below or send /report.",
            "Your answers are kept for {days} days from when you started. To continue, press the "
            "button below or send /report.",
            days,
        ).format(days=days)
    )
