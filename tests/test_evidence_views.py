"""The evidence texts and names, without the bot: the receipt, the coordinators' record and
the names files are sent back under."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
from aiogram.utils.i18n import I18n

from bot.i18n import LOCALES_DIR
from domain.textlimits import TEXT_LIMIT, visible_length
from domain.values import CaseStatus
from handlers.evidence import receipt_text, record_text
from storage.casework import CaseView
from storage.custody import CustodyEvent, CustodyKind
from storage.media import delivery_name
from storage.repositories import FileRecord

_i18n = I18n(path=LOCALES_DIR, default_locale="en", domain="messages")
AT = datetime(2026, 12, 1, 9, 50, 7, tzinfo=UTC)


def _record(number: int, **kw: object) -> FileRecord:
    values: dict[str, object] = {
        "id": 100 + number,
        "number": number,
        "kind": "document",
        "file_type": "pdf",
        "received_type": "pdf",
        "size": 2048,
        "metadata_removed": True,
        "received_at": AT,
        "size_received": 4096,
        "sha256_received": f"{number:064x}",
        "sha256_stored": f"{number + 50:064x}",
        "name": None,
    }
    values.update(kw)
    return FileRecord(**values)  # type: ignore[arg-type]


def _view() -> CaseView:
    return CaseView(
        id=7,
        status=CaseStatus.NEW,
        urgent=False,
        facility_kind=None,
        region=None,
        answers={},
        locale="ru",
        created_at=AT,
        assignee_id=None,
        referral=None,
        close_reason=None,
        unreachable=False,
        contactable=False,
        silent=False,
        group_chat_id=None,
        topic_id=None,
        card_message_id=None,
    )


@pytest.mark.parametrize(
    ("original", "file_type", "kind", "expected"),
    [
        ("akt.pdf", "pdf", "document", "akt.pdf"),
        ("C:\\Users\\Gulnara\\Desktop\\справка.docx", "docx", "document", "справка.docx"),
        ("../../etc/passwd", None, "document", "passwd"),
        ("IMG_0001.HEIC", "jpeg", "document", "IMG_0001.jpg"),  # stored as JPEG
        ("IMG_0002.JPG", "jpeg", "document", "IMG_0002.JPG"),
        (None, "ogg", "voice", "case7-2.ogg"),
        (None, None, "photo", "case7-2.jpg"),
        (None, None, "document", "case7-2"),  # another type, no name: no invented extension
        ("scan\x00\u202e.pdf", "pdf", "document", "scan.pdf"),
        ("x" * 500 + ".pdf", "pdf", "document", "x" * 116 + ".pdf"),
    ],
)
def test_files_go_back_under_their_original_name(
    original: str | None, file_type: str | None, kind: str, expected: str
) -> None:
    assert delivery_name(original, file_type, kind, "case7-2") == expected


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_receipt_lists_time_and_hash_as_received_only(locale: str) -> None:
    records = [_record(1, name="Гульнара.pdf"), _record(2, kind="photo", file_type="jpeg")]
    with _i18n.context(), _i18n.use_locale(locale):
        text = receipt_text(_view(), records, locale)
    for r in records:
        assert r.sha256_received in text and r.sha256_stored not in text
    assert "Гульнара" not in text  # no names on a screen that may be seen
    assert "09:50:07 UTC" in text and visible_length(text) <= TEXT_LIMIT


def test_record_shows_both_hashes_marks_and_who_opened() -> None:
    records = [
        _record(1, name="akt.pdf"),
        _record(2, kind="photo", file_type="jpeg", received_type="heic"),
        _record(3, file_type=None, received_type=None, metadata_removed=False, name="notes.txt"),
    ]
    trail = [
        CustodyEvent(AT, CustodyKind.OPENED_FULL, None, {"to": "group"}),
        CustodyEvent(AT, CustodyKind.OPENED_FULL, 770011223, {}),
        CustodyEvent(AT, CustodyKind.FILE_SENT, 770011223, {"number": 1}),
        CustodyEvent(AT, CustodyKind.FILE_SENT, None, {"number": 2, "to": "group"}),
        CustodyEvent(AT, CustodyKind.EXPORTED, 770044556, {}),
    ]
    with _i18n.context(), _i18n.use_locale("en"):
        text = html.unescape(record_text(7, records, trail))
    for r in records:
        assert r.sha256_received in text and r.sha256_stored in text
    assert "akt.pdf" in text and "HEIC → JPEG" in text
    assert text.count("Metadata not removed") == 1
    assert "2026-12-01 09:50:07 UTC: opened by coordinator 770011223" in text
    assert "file 2 sent to the coordinators' group" in text
    assert "09:50:07 UTC: posted in full in the coordinators' group" in text
    assert "exported by coordinator 770044556" in text


def test_a_long_custody_trail_keeps_the_record_within_one_message() -> None:
    records = [_record(n) for n in range(1, 11)]
    trail = [
        CustodyEvent(AT + timedelta(minutes=i), CustodyKind.OPENED_FULL, 770011223, {}) for i in range(300)
    ]
    with _i18n.context(), _i18n.use_locale("ru"):
        text = record_text(7, records, trail)
    assert visible_length(text) <= TEXT_LIMIT
    assert all(r.sha256_stored in text for r in records)  # the files' record is never cut
    assert (AT + timedelta(minutes=299)).strftime("%H:%M") in text  # the latest access stays
