"""Texts of the report's screens, rendered in the current locale. Pure functions: no I/O."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.config import Config

from domain.questionnaire import QUESTIONS, REVIEW_STEP_TITLE, STEPS, TOTAL_STEPS, Kind, step_number
from domain.render import answer_text, render_sections
from domain.rights import RISK
from domain.textlimits import TEXT_LIMIT, visible_length
from handlers.rights import Deployment, render_page_screen

REVIEW_EXCERPTS = (700, 300, 120)  # shrink free-text excerpts until the review fits one message


def step_header(number: int, title: str) -> str:
    return "<b>" + escape(
        _("Step {step} of {total} · {title}").format(step=number, total=TOTAL_STEPS, title=title)
    ) + "</b>"


def question_text(
    qid: str, *, max_files: int, max_mb: int, long_limit: int, file_count: int,
    hint: str | None = None, cleaning: str | None = None,
) -> str:
    question = QUESTIONS[qid]
    step = STEPS[step_number(qid) - 1]
    parts = [step_header(step_number(qid), _(step.title))]
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
    if question.kind is Kind.FILES and file_count:
        parts.append(escape(_("Files received so far: {count}.").format(count=file_count)))
    return "\n\n".join(parts)


def answered_text(base: str, qid: str, value: Any) -> str:
    """A question's message after it was answered: the buttons give way to the answer."""
    return base + "\n\n✅ " + answer_text(QUESTIONS[qid], value)


def review_text(answers: dict[str, Any], file_kinds: Sequence[str]) -> str:
    head = [
        step_header(TOTAL_STEPS, _(REVIEW_STEP_TITLE)),
        escape(_("Please check your answers. To change something, press the section's button "
                 "below. Nothing is sent until you press “Send the report”.")),
    ]
    for excerpt in REVIEW_EXCERPTS:
        sections = [html for _index, html in render_sections(answers, file_kinds, excerpt=excerpt)]
        text = "\n\n".join(head + sections)
        if visible_length(text) <= TEXT_LIMIT:
            return text
    return text  # the smallest excerpts always fit: the questionnaire's labels are short


def consent_text(ngo_name: str) -> str:
    ngo = ngo_name or _("the human rights organisation that runs this bot")
    return "\n\n".join([
        "<b>" + escape(_("Before you start")) + "</b>",
        escape(_("Your report goes only to the coordinators of {ngo}. They will not see your "
                 "name, username or phone number.").format(ngo=ngo)),
        escape(_("Your answers and files are stored encrypted. Your Telegram account is not "
                 "stored with the report. After sending, you get a case code to follow the "
                 "case from any account.")),
        "<b>" + escape(_("About legal risk")) + "</b>\n"
        + "\n".join("• " + escape(line) for line in (
            _("The law punishes reports the person knows to be false. Write only what you "
              "know, and say how you know it."),
            _("A report to us is not a public post. Still, do not name officers in public: in "
              "2020 prison colonies sued a rights defender over public posts, and won."),
            _("No report is free of legal risk: before any official complaint, ask a lawyer "
              "(the organisation can help you find one)."),
        )),
        escape(_("Your choices (tap to change):")),
    ])


def risk_text(config: Config) -> str:
    """The consent's "read more": the rights library's risk page, not a copy of it."""
    return render_page_screen(RISK, 0, Deployment.of(config))


def submitted_text(code: str, urgent: bool, contact: bool) -> str:
    parts = [
        "<b>" + escape(_("Your report has been received.")) + "</b>",
        escape(_("Your case code:")) + f"\n<code>{escape(code)}</code>",
        escape(_("With this code you, or someone you trust, can follow the case and add "
                 "information from any Telegram account.")),
        escape(_("Keep it safe: write it on paper or remember it. Do not keep it in your "
                 "phone's notes or photos, and do not share it with anyone you do not trust. "
                 "Then you can delete this chat.")),
        escape(_("What happens next: a coordinator will read your report.")) + " " + escape(
            _("They may write to you here; notifications will look neutral.") if contact
            else _("You chose not to be contacted, so use your code to check the case.")),
    ]
    if urgent:
        parts.append(urgent_checklist())
    return "\n\n".join(parts)


def urgent_checklist() -> str:
    items = (
        _("Write down now everything you know: dates, places, names or roles, what was said."),
        _("Try to get a lawyer to the person. If the chosen lawyer cannot come within 24 hours "
          "of detention, the investigator must offer another one; legal aid is free in cases "
          "set by law."),
        _("If there are injuries, photograph them as early as possible, with a ruler or a coin "
          "for scale and the date, and ask for a medical examination."),
        _("Keep clothes with blood or damage, and copies of every document, complaint and "
          "answer."),
        _("Torture complaints are investigated by the prosecutor's office. The organisation can "
          "help you write one."),
        _("Never ask the detained person to take risks to collect evidence."),
    )
    return ("<b>" + escape(_("Because the person may be in danger, in the next 24 hours:"))
            + "</b>\n" + "\n".join("• " + escape(i) for i in items))


def paused_text(days: int) -> str:
    return escape(ngettext(
        "Your answers are kept for {days} day from when you started. To continue, press the "
        "button below or send /report.",
        "Your answers are kept for {days} days from when you started. To continue, press the "
        "button below or send /report.",
        days,
    ).format(days=days))
