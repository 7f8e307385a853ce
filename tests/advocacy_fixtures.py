"""Seeded cases for the statistics, export and case-sheet tests (and the benchmark).

Cases go in with bulk inserts, as a real database would hold them: closed answers in the clear,
free text encrypted, no identities (only keyed hashes).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from storage.db import load_models, make_sessionmaker
from storage.models import Attachment, Case, CaseEvent
from storage.repositories import Store
from tests.storage_fixtures import FakeClock, isolated_engine, make_crypto

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


@dataclass
class Seed:
    """One case to insert: the month it was reported and what differs from the defaults."""

    month: str  # "2026-03"
    region: str | None = "karaganda"
    facility_kind: str | None = "sizo"
    methods: list[str] | str = field(default_factory=lambda: ["beating"])
    perpetrators: list[str] | str = field(default_factory=lambda: ["police"])
    knowledge: str = "person"
    urgent: bool = False
    status: str = "new"
    close_reason: str | None = None
    consent_stats: bool = True
    consent_share: bool = True
    answers: Mapping[str, Any] = field(default_factory=dict)
    private: Mapping[str, Any] = field(default_factory=dict)
    day: int = 10


@asynccontextmanager
async def seeded_store(
    backend: str, tmp_path: Path, purpose: str = "adv", clock: FakeClock | None = None
) -> AsyncIterator[Store]:
    async with isolated_engine(backend, tmp_path, purpose) as engine:
        async with engine.begin() as conn:
            await conn.run_sync(load_models().create_all)
        yield Store(make_sessionmaker(engine), make_crypto(), clock or FakeClock(NOW))


def case_row(store: Store, seed: Seed, *, contact_chat: int | None = None) -> dict[str, Any]:
    year, month = (int(p) for p in seed.month.split("-"))
    at = datetime(year, month, seed.day, 9, 30, tzinfo=UTC)
    answers: dict[str, Any] = {
        "relation": "parent",
        "danger": ["ongoing"] if seed.urgent else ["none"],
        "facility_kind": seed.facility_kind or "-",
        "region": seed.region or "-",
        "last_incident": "week",
        "ongoing": "yes",
        "methods": seed.methods,
        "knowledge": seed.knowledge,
        "perpetrators": seed.perpetrators,
        "injuries": "yes",
        "medical": "refused",
        "age_group": "18_29",
        "sex": "male",
        "lawyer_access": "denied",
        "complaints": ["none"],
        "reprisals": "no",
        "contact": "yes" if contact_chat else "no",
        **seed.answers,
    }
    crypto = store.crypto
    return {
        "code_hash": secrets.token_hex(32),
        "reporter_hash": secrets.token_hex(32),
        "status": seed.status,
        "urgent": seed.urgent,
        "facility_kind": seed.facility_kind,
        "region": seed.region,
        "answers": answers,
        "private_enc": crypto.encrypt_json(dict(seed.private)),
        "contact_enc": crypto.encrypt_text(str(contact_chat)) if contact_chat else None,
        "silent": False,
        "locale": "ru",
        "consent_version": "2026-11-25",
        "consent_contact": bool(contact_chat),
        "consent_share": seed.consent_share,
        "consent_stats": seed.consent_stats,
        "created_at": at,
        "updated_at": at,
        "close_reason": seed.close_reason,
        "closed_at": at if seed.status == "closed" else None,
    }


async def seed(store: Store, seeds: Iterable[Seed], *, chunk: int = 2000) -> None:
    rows = [case_row(store, s) for s in seeds]
    async with store.cases._sessions() as session:  # noqa: SLF001 - a test seeding its data
        for i in range(0, len(rows), chunk):
            await session.execute(insert(Case), rows[i : i + chunk])
        await session.commit()


async def add_case(
    store: Store,
    s: Seed,
    *,
    files: Iterable[tuple[str, bytes, str]] = (),
    events: Iterable[tuple[str, dict[str, Any]]] = (),
    contact_chat: int | None = None,
) -> int:
    """One case with its files (kind, content, original name) and events; returns its id."""
    async with store.cases._sessions() as session:  # noqa: SLF001
        case = Case(**case_row(store, s, contact_chat=contact_chat))
        session.add(case)
        await session.flush()
        for kind, data, name in files:
            session.add(
                Attachment(
                    case_id=case.id,
                    kind=kind,
                    mime_type=None,
                    size=len(data),
                    name_enc=store.crypto.encrypt_text(name),
                    content_enc=store.crypto.encrypt(data),
                    created_at=case.created_at,
                )
            )
        for kind, event_data in events:
            session.add(
                CaseEvent(
                    case_id=case.id,
                    at=case.created_at,
                    actor_kind="coordinator",
                    actor_id=4242,
                    kind=kind,
                    data=event_data,
                )
            )
        await session.commit()
        return case.id
