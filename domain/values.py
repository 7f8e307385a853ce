"""Domain enums: statuses, and the consent text version.

The questionnaire's option values live in `questionnaire.py`; only values other parts of the
system branch on are enums here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from domain.i18n import N_

# Bump when the consent screen's meaning changes: each case records the version it agreed to.
CONSENT_VERSION = "2026-11-25"

LOCALES = ("kk", "ru", "en")


def telegram_locale(user: _HasLanguage | None) -> str | None:
    """The user's Telegram interface language (``User.language_code``), if it is one of ours."""
    code = (user.language_code or "").split("-")[0].lower() if user else ""
    return code if code in LOCALES else None


class _HasLanguage(Protocol):
    @property
    def language_code(self) -> str | None: ...


LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


class CaseStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    REFERRED = "referred"
    CLOSED = "closed"


STATUS_LABELS = {
    CaseStatus.NEW: N_("Received, waiting for a coordinator"),
    CaseStatus.IN_PROGRESS: N_("A coordinator is working on it"),
    CaseStatus.WAITING: N_("Waiting for your answer"),
    CaseStatus.REFERRED: N_("Passed on for legal help"),
    CaseStatus.CLOSED: N_("Closed"),
}


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    VOICE = "voice"
    VIDEO = "video"
    AUDIO = "audio"
