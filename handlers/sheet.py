"""The case sheet: a one-to-two-page DOCX a lawyer can edit, in kk, ru or en.

The facts are worded as the reporter gave them and attributed ("according to the detained
person, as told to the reporter…"); nothing that identifies the reporter is in it (the case
holds nothing of the kind: no account, no chat, no name of the reporter). The checklist names
only what the organisation's guidance (shared/CONTENT.md, sections 3–5) says a complaint to the
prosecutor's office or a UN communication needs; it makes no legal claim beyond that.

Texts are rendered in the locale active when ``build`` is called (``i18n.use_locale``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram.utils.i18n import gettext as _

from domain.i18n import N_
from domain.questionnaire import QUESTIONS, SKIPPED, STEPS, Kind
from domain.values import CaseStatus
from domain.workflow import CLOSE_LABELS, REFERRAL_LABELS, STATUS_NAMES, CloseReason, Referral
from handlers.render import attribution, option_label
from storage.casework import CaseView
from storage.repositories import StoredFile

# The answer id of "does the person agree" (asked by the questionnaire; see services.stats).
PERSON_AGREES = "person_agrees"


@dataclass(frozen=True)
class Item:
    """One element a complaint needs, and whether this case has it."""

    code: str
    text: str  # msgid
    question: str  # msgid: how to ask the reporter for it
    present: bool


def _given(value: Any) -> bool:
    return value not in (None, SKIPPED, "", [])


def checklist(answers: Mapping[str, Any], files: Sequence[StoredFile]) -> dict[str, list[Item]]:
    """What a complaint to the prosecutor's office and a UN communication need (CONTENT.md)."""
    kinds = {f.kind for f in files}
    given = answers.get("complaints")
    complaints = given if isinstance(given, list) else []
    when_known = _given(answers.get("last_incident")) and (
        answers.get("last_incident") != "earlier" or _given(answers.get("incident_year"))
    )
    place_known = all(_given(answers.get(q)) for q in ("facility_kind", "region", "facility_name"))
    prosecutor = [
        Item(
            "dates",
            N_("The dates of what happened"),
            N_("When exactly did it happen? Please give the dates, even approximate ones."),
            when_known,
        ),
        Item(
            "place",
            N_("The place: its kind, region and name or number"),
            N_("Where exactly was the person held: the name or number of the place, and the room if known?"),
            place_known,
        ),
        Item(
            "account",
            N_("A description of what was done and what was said"),
            N_("Could you describe in your own words what was done to the person and what was said?"),
            _given(answers.get("narrative")),
        ),
        Item(
            "officers",
            N_("The officers' names, ranks or appearance, if known"),
            N_(
                "Do you know the names, ranks or appearance of the officers involved? Tell "
                "only what you are sure of."
            ),
            _given(answers.get("perpetrator_names")),
        ),
        Item(
            "photos",
            N_("Photographs of the injuries, taken early, with a scale and the date"),
            N_("Are there photographs of the injuries? If you can, send them with the date they were taken."),
            "photo" in kinds,
        ),
        Item(
            "medical",
            N_("Copies of medical records"),
            N_("Was the examination recorded by a doctor? Is there a copy of the medical record?"),
            answers.get("medical") == "recorded" and "document" in kinds,
        ),
        Item(
            "witnesses",
            N_("Witnesses: their names or roles"),
            N_(
                "Did anyone else see or hear what happened? Their names or roles (for "
                "example, a cellmate) are enough."
            ),
            False,
        ),
        Item(
            "signature",
            N_(
                "Someone willing to sign the complaint (anonymous appeals are "
                "not considered unless they report a crime)"
            ),
            N_(
                "Would you or another relative be willing to sign a complaint? The "
                "organisation's lawyer can help."
            ),
            False,
        ),
        Item(
            "consent",
            N_("The detained person's informed consent (it may be withdrawn)"),
            N_("Does the person agree that a complaint is made on their behalf?"),
            answers.get(PERSON_AGREES) == "yes",
        ),
    ]
    un = [
        Item(
            "domestic",
            N_(
                "A complaint already made at home (the UN Committee against "
                "Torture takes complaints after domestic remedies)"
            ),
            N_("Has a complaint been made to the prosecutor's office or a court? What was the answer?"),
            any(c in ("prosecutor", "court") for c in complaints),
        ),
        Item(
            "copies",
            N_("Copies of every complaint and every answer"),
            N_("Do you have copies of the complaints made and the answers received?"),
            any(c in ("prosecutor", "court", "police", "ombudsman", "un", "other") for c in complaints)
            and "document" in kinds,
        ),
    ]
    return {"prosecutor": prosecutor, "un": un}


def missing(answers: Mapping[str, Any], files: Sequence[StoredFile]) -> list[Item]:
    seen: set[str] = set()
    out: list[Item] = []
    for items in checklist(answers, files).values():
        for item in items:
            if not item.present and item.code not in seen:
                seen.add(item.code)
                out.append(item)
    return out


def file_lines(files: Sequence[StoredFile]) -> list[str]:
    """One line per file: what the sheet says about the evidence. (The one place to add the
    SHA-256 of each file once attachments carry it.)"""
    return [
        _("File {index}: {kind}, {size} KB").format(index=i, kind=f.kind, size=max(1, round(f.size / 1024)))
        for i, f in enumerate(files, 1)
    ]


def _value(qid: str, answers: Mapping[str, Any]) -> str | None:
    """An answer as plain text, or None when it is not known."""
    question = QUESTIONS[qid]
    value = answers.get(qid)
    if value is None or not _given(value):
        return None
    if question.kind is Kind.CHOICE:
        return option_label(question, value)
    if question.kind is Kind.MULTI:
        return ", ".join(option_label(question, v) for v in value)
    if question.kind is Kind.TEXT:
        if isinstance(value, dict) and "voice" in value:
            return _("(voice message)")
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)
    return None


def _history(events: Sequence[tuple[datetime, str, int | None, str, dict[str, Any]]]) -> list[str]:
    lines = []
    for at, _actor_kind, _actor, kind, data in events:
        if kind == "take":
            what = _(STATUS_NAMES[CaseStatus.IN_PROGRESS])
        elif kind == "status":
            what = _(STATUS_NAMES[CaseStatus(data["to"])])
            if data.get("referral"):
                what += " · " + _(REFERRAL_LABELS[Referral(data["referral"])])
            if data.get("reason"):
                what += " · " + _(CLOSE_LABELS[CloseReason(data["reason"])])
        else:
            continue  # notes, messages and views are not the case's history for a lawyer
        lines.append(f"{at:%Y-%m-%d}: {what}")
    return lines


def build(
    view: CaseView,
    private: Mapping[str, Any],
    files: Sequence[StoredFile],
    events: Sequence[tuple[datetime, str, int | None, str, dict[str, Any]]],
    *,
    share_consent: bool,
    now: datetime,
) -> bytes:
    from docx import Document  # at the first case sheet, not at start-up (docs/performance.md)
    from docx.shared import Pt

    answers = {**view.answers, **private}
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(10)

    doc.add_heading(_("Case #{number}: case sheet").format(number=view.id), level=1)
    doc.add_paragraph(
        _("Prepared on {date} from the report received on {received}. Confidential.").format(
            date=f"{now:%Y-%m-%d}", received=f"{view.created_at:%Y-%m-%d}"
        )
    )
    if share_consent:
        consent = _(
            "The reporter agreed that the case may be shared with a lawyer or an "
            "official body only after being asked again: ask them before sharing "
            "this sheet."
        )
    else:
        consent = _(
            "The reporter did not agree to the case being shared with a lawyer or an "
            "official body: do not share this sheet without asking them again."
        )
    doc.add_paragraph(consent).runs[0].bold = True

    source = attribution(answers)
    doc.add_heading(_("Facts as reported"), level=2)
    doc.add_paragraph(_("{source}:").format(source=source)).runs[0].italic = True
    unknown: list[str] = []
    for step in STEPS:
        if step.id in ("contact", "evidence"):
            continue
        for question in step.questions:
            if not question.applies(answers):
                continue
            value = _value(question.id, answers)
            if value is None:
                unknown.append(_(question.title))
                continue
            doc.add_paragraph(f"{_(question.title)}: {value}", style="List Bullet")

    doc.add_heading(_("What is not known"), level=2)
    if unknown:
        doc.add_paragraph(", ".join(unknown) + ".")
    else:
        doc.add_paragraph(_("Every question was answered."))

    doc.add_heading(_("Files"), level=2)
    lines = file_lines(files)
    for line in lines or [_("No files.")]:
        doc.add_paragraph(line, style="List Bullet" if lines else None)

    doc.add_heading(_("Status history"), level=2)
    history = _history(events)
    for line in history or [_("Received, not yet taken by a coordinator.")]:
        doc.add_paragraph(line, style="List Bullet" if history else None)

    doc.add_heading(_("What a complaint still needs"), level=2)
    titles = {
        "prosecutor": _("For a complaint to the prosecutor's office"),
        "un": _("For a communication to the UN Committee against Torture (also everything above)"),
    }
    for group, items in checklist(answers, files).items():
        doc.add_paragraph(titles[group]).runs[0].bold = True
        for item in items:
            mark = "☑" if item.present else "☐"
            doc.add_paragraph(f"{mark} {_(item.text)}")
    doc.add_paragraph(
        _(
            "Based on the organisation's guidance on documenting ill-treatment and "
            "where to complain. This is not legal advice: a lawyer decides what a "
            "complaint needs."
        )
    ).runs[0].italic = True

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
