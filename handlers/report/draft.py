"""The draft report, as kept (encrypted) in the FSM storage between updates."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiogram.fsm.context import FSMContext

from storage.repositories import Consent

__all__ = ["Consent", "Draft", "load_draft", "save_draft"]


@dataclass
class Draft:
    draft_ref: str  # links uploaded files to this draft without any user id
    started: datetime
    answers: dict[str, Any] = field(default_factory=dict)
    consent: Consent = field(default_factory=Consent)
    editing: bool = False  # came from the review screen: return there after the step
    pending: dict[str, list[str]] = field(default_factory=dict)  # multi-selects in progress
    ui: int | None = None  # the message whose buttons are live
    paused: str | None = None  # state to resume when the reporter saved for later

    def expired(self, now: datetime, lifetime: timedelta) -> bool:
        # Drafts live a fixed time from their start, so their files can be purged safely.
        return now - self.started > lifetime

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["started"] = self.started.isoformat()
        data["consent"] = self.consent.as_dict()
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Draft | None:
        try:
            return cls(
                draft_ref=str(data["draft_ref"]),
                started=datetime.fromisoformat(data["started"]),
                answers=dict(data.get("answers") or {}),
                consent=Consent.from_dict(data.get("consent")),
                editing=bool(data.get("editing")),
                pending={k: list(v) for k, v in (data.get("pending") or {}).items()},
                ui=data.get("ui"),
                paused=data.get("paused"),
            )
        except (KeyError, TypeError, ValueError):
            return None


async def load_draft(state: FSMContext) -> Draft | None:
    return Draft.from_data(await state.get_data())


async def save_draft(state: FSMContext, draft: Draft) -> None:
    await state.set_data(draft.to_data())
