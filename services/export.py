"""Exports of cases, shaped after the HURIDOCS Events Standard Formats: one *event* per case,
with its *acts* (what was done), the *victim*, the *perpetrators*, the *place*, the dates, the
*source of information* with its attribution, and the case's status history. Values are stable
codes; their labels in English and Russian are in the export's thesauri (HURIDOCS's
micro-thesauri), so a spreadsheet or a documentation system can show either.

Without ``with_text`` an export holds no free text, no names, no place name, no files and no
contact data, and only cases whose reporter agreed to anonymised use. With it (admins, for the
organisation's own case documentation) it adds the free-text answers and the files' kind and
size, for every case, each with its consent flags. Contact data and file contents never leave.

Every export is written to the exports audit table, however it was made.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from domain.questionnaire import ATTRIBUTION, QUESTIONS, SKIPPED, UNATTRIBUTED, Kind
from domain.values import CaseStatus
from domain.workflow import CLOSE_LABELS, REFERRAL_LABELS, STATUS_NAMES
from storage.stats import CaseRecord, StatsRepository

FORMAT = "kua-huridocs-events"
VERSION = 1
UNKNOWN = "unknown"  # "Don't know", "Prefer not to say" or not asked
LABEL_LOCALES = ("en", "ru")

Translate = Callable[[str, str], str]  # (msgid, locale) → text

# Coded answers exported, by where they go in the event (question ids of the questionnaire).
CODED_FIELDS = (
    "relation",
    "danger",
    "facility_kind",
    "region",
    "last_incident",
    "incident_year",
    "incident_month",
    "ongoing",
    "methods",
    "knowledge",
    "perpetrators",
    "injuries",
    "medical",
    "age_group",
    "sex",
    "lawyer_access",
    "complaints",
    "reprisals",
)
PRIVATE_FIELDS = ("narrative", "facility_name", "perpetrator_names", "person_name", "reprisal_details")
CSV_COLUMNS = (
    "event_id",
    "reported_on",
    "updated_on",
    "urgent",
    "status",
    "referral",
    "close_reason",
    "closed_on",
    *CODED_FIELDS,
    "consent_stats",
    "consent_share",
)
CSV_TEXT_COLUMNS = (*PRIVATE_FIELDS, "files")


@dataclass(frozen=True)
class ExportRequest:
    fmt: str  # json | csv
    since: str | None
    until: str | None
    with_text: bool
    actor_kind: str  # admin | operator
    actor_id: int | None = None


def _code(value: Any) -> str:
    return UNKNOWN if value in (None, SKIPPED, "") else str(value)


def _codes(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _text(value: Any) -> str | None:
    if value in (None, SKIPPED):
        return None
    if isinstance(value, dict):
        if "voice" in value:
            return "(voice message)"
        return str(value.get("text", ""))
    return str(value)


def _date(at: datetime | None) -> str | None:
    return at.date().isoformat() if at else None


def thesauri(translate: Translate) -> dict[str, list[dict[str, str]]]:
    """Every code an export may hold, with its labels in English and Russian."""

    def entry(code: str, msgid: str | None) -> dict[str, str]:
        out = {"code": code}
        for loc in LABEL_LOCALES:
            out[loc] = translate(msgid, loc) if msgid else code
        return out

    result: dict[str, list[dict[str, str]]] = {}
    for qid in CODED_FIELDS:
        q = QUESTIONS[qid]
        result[qid] = [entry(o.value, o.label if o.translate else None) for o in q.choices()]
        result[qid].append(entry(UNKNOWN, "Don't know"))
    result["attribution"] = [entry(code, msgid) for code, msgid in ATTRIBUTION.items()]
    result["attribution"].append(entry(UNKNOWN, UNATTRIBUTED))
    result["status"] = [entry(s.value, STATUS_NAMES[s]) for s in CaseStatus]
    result["referral"] = [entry(r.value, label) for r, label in REFERRAL_LABELS.items()]
    result["close_reason"] = [entry(r.value, label) for r, label in CLOSE_LABELS.items()]
    return result


def event(record: CaseRecord, translate: Translate) -> dict[str, Any]:
    a = record.answers
    knowledge = a.get("knowledge")
    source_code = knowledge if isinstance(knowledge, str) and knowledge in ATTRIBUTION else UNKNOWN
    attribution = ATTRIBUTION.get(source_code, UNATTRIBUTED)
    ev: dict[str, Any] = {
        "event_id": f"kua-{record.id}",
        "reported_on": _date(record.created_at),
        "updated_on": _date(record.updated_at),
        "urgent": record.urgent,
        "danger": _codes(a.get("danger")),
        "dates": {
            "last_incident": _code(a.get("last_incident")),
            "year": _code(a.get("incident_year")),
            "month": _code(a.get("incident_month")),
            "ongoing": _code(a.get("ongoing")),
        },
        "place": {"kind": _code(record.facility_kind), "region": _code(record.region)},
        "acts": [{"method": m} for m in _codes(a.get("methods"))],
        "victim": {
            "age_group": _code(a.get("age_group")),
            "sex": _code(a.get("sex")),
            "lawyer_access": _code(a.get("lawyer_access")),
        },
        "perpetrators": [{"kind": p} for p in _codes(a.get("perpetrators"))],
        "injuries": {"visible": _code(a.get("injuries")), "medical": _code(a.get("medical"))},
        "complaints": {"made": _codes(a.get("complaints")), "reprisals": _code(a.get("reprisals"))},
        "source": {
            "relation": _code(a.get("relation")),
            "attribution": source_code,
            "attribution_text": {loc: translate(attribution, loc) for loc in LABEL_LOCALES},
        },
        "status": {
            "current": record.status,
            "referral": record.referral,
            "close_reason": record.close_reason,
            "closed_on": _date(record.closed_at),
        },
        "status_history": [_history(at, kind, data) for at, kind, data in record.history],
        "consent": dict(record.consent),
    }
    if record.private is not None:
        p = record.private
        ev["place"]["name"] = _text(p.get("facility_name"))
        ev["victim"]["name"] = _text(p.get("person_name"))
        ev["perpetrator_names"] = _text(p.get("perpetrator_names"))
        ev["source"]["narrative"] = _text(p.get("narrative"))
        ev["complaints"]["reprisal_details"] = _text(p.get("reprisal_details"))
        ev["files"] = [{"kind": kind, "size": size} for kind, size in record.files or []]
    return ev


def _history(at: datetime, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"at": at.isoformat(timespec="seconds"), "kind": kind, "from": data.get("from")}
    item["to"] = CaseStatus.IN_PROGRESS.value if kind == "take" else data.get("to")
    for key in ("referral", "reason"):
        if key in data:
            item[key] = data[key]
    return item


def csv_row(record: CaseRecord) -> list[str]:
    a = record.answers
    values: dict[str, str] = {
        "event_id": f"kua-{record.id}",
        "reported_on": _date(record.created_at) or "",
        "updated_on": _date(record.updated_at) or "",
        "urgent": "yes" if record.urgent else "no",
        "status": record.status,
        "referral": record.referral or "",
        "close_reason": record.close_reason or "",
        "closed_on": _date(record.closed_at) or "",
        "consent_stats": "yes" if record.consent["stats"] else "no",
        "consent_share": "yes" if record.consent["share"] else "no",
    }
    for qid in CODED_FIELDS:
        value = a.get(qid)
        if qid == "facility_kind":
            value = record.facility_kind
        elif qid == "region":
            value = record.region
        if QUESTIONS[qid].kind is Kind.MULTI:
            values[qid] = ";".join(_codes(value)) or UNKNOWN
        else:
            values[qid] = _code(value)
    row = [values[c] for c in CSV_COLUMNS]
    if record.private is not None:
        row += [_text(record.private.get(f)) or "" for f in PRIVATE_FIELDS]
        row.append(";".join(f"{kind}:{size}" for kind, size in record.files or []))
    return row


async def write(
    repo: StatsRepository, request: ExportRequest, out: TextIO, translate: Translate, *, now: datetime
) -> int:
    """Write the export to ``out`` (streamed, case by case); record it; return the case count."""
    cases = repo.export_cases(since=request.since, until=request.until, with_text=request.with_text)
    if request.fmt not in ("json", "csv"):
        raise ValueError(request.fmt)
    count = 0
    try:
        if request.fmt == "json":
            head = {
                "format": FORMAT,
                "version": VERSION,
                "generated_at": now.isoformat(timespec="seconds"),
                "period": {"since": request.since, "until": request.until},
                "with_text": request.with_text,
                "thesauri": thesauri(translate),
            }
            text = json.dumps(head, ensure_ascii=False, indent=1)
            out.write(text[:-2] + ',\n "events": [')
            async for record in cases:
                out.write(
                    ("," if count else "") + "\n  " + json.dumps(event(record, translate), ensure_ascii=False)
                )
                count += 1
            out.write('\n ],\n "count": ' + str(count) + "\n}\n")
        elif request.fmt == "csv":
            writer = csv.writer(out)
            writer.writerow([*CSV_COLUMNS, *(CSV_TEXT_COLUMNS if request.with_text else ())])
            async for record in cases:
                writer.writerow(csv_row(record))
                count += 1
    finally:
        # Recorded even when cut short: whatever was written has left the system.
        await repo.record_export(
            actor_kind=request.actor_kind,
            actor_id=request.actor_id,
            fmt=request.fmt,
            with_text=request.with_text,
            since=request.since,
            until=request.until,
            case_count=count,
        )
    return count
