"""Rendering a report's answers as HTML, in the current gettext locale.

Used by the review screen and every stored or forwarded summary, so all of them attribute the
account the same way ("according to the detained person…") — the reporter's protection against a
"false information" claim is that they said how they know.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any, assert_never

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from domain.i18n import N_
from domain.questionnaire import (
    ATTRIBUTION,
    SKIP,
    SKIPPED,
    STEPS,
    UNATTRIBUTED,
    Kind,
    Question,
)

# Steps whose content is an account of events, and so carries the attribution line.
ATTRIBUTED_STEPS = frozenset({"danger", "what", "who", "injuries"})
NOT_GIVEN = N_("Not given")
EXCERPT = 700  # characters of a free-text answer shown on the review screen


def option_label(question: Question, value: str) -> str:
    option = question.option(value)
    if option is None:
        return escape(value)
    return _(option.label) if option.translate else option.label


def answer_text(question: Question, value: Any, *, excerpt: int | None = None) -> str:
    """One answer as HTML-safe text."""
    if value is None:
        return "—"
    if value == SKIPPED:
        # "Don't know" and "Prefer not to say" read as answers; a bare "Skip" does not.
        return _(NOT_GIVEN) if question.skip in (None, SKIP) else _(question.skip)
    if question.kind is Kind.FILES:
        return _("Done")
    if question.kind is Kind.CHOICE:
        return option_label(question, value)
    if question.kind is Kind.MULTI:
        return ", ".join(option_label(question, v) for v in value)
    if question.kind is Kind.TEXT:
        if isinstance(value, dict) and "voice" in value:
            return _("(voice message)")
        text = value.get("text", "") if isinstance(value, dict) else str(value)
        if excerpt and len(text) > excerpt:
            text = text[:excerpt].rstrip() + "…"
        return "«" + escape(text) + "»"
    assert_never(question.kind)


def attribution(answers: Mapping[str, Any]) -> str:
    source = answers.get("knowledge")
    return _(ATTRIBUTION[source]) if source in ATTRIBUTION else _(UNATTRIBUTED)


def files_line(kinds: Sequence[str]) -> str:
    if not kinds:
        return _("no files")
    return ngettext("{count} file", "{count} files", len(kinds)).format(count=len(kinds))


def render_sections(
    answers: Mapping[str, Any], file_kinds: Sequence[str], *, excerpt: int | None = EXCERPT
) -> list[tuple[int, str]]:
    """(step index, HTML) for every step, with the attribution on the account's steps."""
    sections: list[tuple[int, str]] = []
    source = attribution(answers)
    for index, step in enumerate(STEPS):
        lines = [f"<b>{index + 1}. {escape(_(step.title))}</b>"]
        if step.id in ATTRIBUTED_STEPS:
            lines.append(f"<i>{escape(source)}:</i>")
        for question in step.questions:
            if not question.applies(answers):
                continue
            if question.kind is Kind.FILES:
                value = files_line(file_kinds)
            else:
                value = answer_text(question, answers.get(question.id), excerpt=excerpt)
            lines.append(f"{escape(_(question.title))}: {value}")
        sections.append((index, "\n".join(lines)))
    return sections
