"""Every user-visible string exists in kk, ru and en: none missing, empty or fuzzy, and the
placeholders of each translation match its msgid's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from domain.values import LOCALES

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
KAZAKH_ONLY = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def template_ids(tmp_path_factory: pytest.TempPathFactory) -> set[str | tuple[str, ...]]:
    """Extract msgids from the code now, so a string added without a catalog entry fails."""
    # A private file: under xdist each worker extracts (one fixed path, one worker's unlink
    # pulled it from under the other's read).
    out = tmp_path_factory.mktemp("catalogs") / "extracted.pot"
    try:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                "extract",
                "-F",
                "babel.cfg",
                "-k",
                "_",
                "-k",
                "__",
                "-k",
                "N_",
                "-k",
                "ngettext:1,2",
                "--no-location",
                "--omit-header",
                "-o",
                str(out),
                ".",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        with out.open("rb") as fh:
            return {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(fh) if m.id}
    finally:
        out.unlink(missing_ok=True)


def load(locale: str):
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_complete(locale: str, template_ids) -> None:
    catalog = load(locale)
    problems: list[str] = []
    present = {m.id for m in catalog if m.id}
    for missing in sorted(map(str, template_ids - present)):
        problems.append(f"missing: {missing!r}")
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(s and s.strip() for s in strings):
            problems.append(f"empty: {ids[0]!r}")
            continue
        expected = placeholders(ids[0])
        for s in strings:
            if placeholders(s) != expected:
                problems.append(f"placeholders differ: {ids[0]!r} -> {s!r}")
    assert not problems, f"{locale}: " + "\n".join(problems)


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_translations_are_in_cyrillic(locale: str) -> None:
    """kk and ru entries are written in Cyrillic (numbers, names and codes excepted)."""
    latin_only = []
    for message in load(locale):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for s in strings:
            letters = re.sub(r"\{\w*\}|/\w+|[A-Z]{2,}[\w-]*|\S+\.\w{2,}\S*", "", s)
            if re.search(r"[A-Za-z]{3,}", letters) and not CYRILLIC.search(letters):
                latin_only.append(s)
    assert not latin_only, latin_only


def test_kazakh_catalog_uses_kazakh_letters() -> None:
    """A Kazakh catalog that is really Russian would have almost no Kazakh-specific letters."""
    entries = [m for m in load("kk") if m.id and isinstance(m.string, str) and len(m.string) > 40]
    with_kazakh = [m for m in entries if KAZAKH_ONLY.search(m.string)]
    assert entries and len(with_kazakh) / len(entries) > 0.8


# Russian uses the words locales/GLOSSARY.md fixes: the report is «обращение» («сообщение» is a
# chat message) and the reporter, in coordinator texts, «сообщивший» (not «заявитель»). Where
# «сообщение» is right although the English says "report", the msgid is listed here.
RU_REPORT_AS_MESSAGE_IS_RIGHT = (
    "Criminal Code Art. 419 punishes",  # «сообщение о преступлении»: the Code's own words
    "Sources: Criminal Code of Kazakhstan",  # «сообщения прессы»: press reports
    "The new Constitution, in force since",  # «по имеющимся сообщениям»: it is reported
)
REPORT_NOUN = re.compile(r"\breports?\b(?! (?:ill-treatment|torture|it|this))", re.IGNORECASE)


def test_russian_follows_the_glossary_for_report_and_reporter() -> None:
    wrong = []
    for message in load("ru"):
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        text = " ".join(strings)
        if "заявител" in text.lower():
            wrong.append((msgid, text))
        mentions_report = REPORT_NOUN.search(msgid) and "message" not in msgid.lower()
        as_message = "сообщени" in text.lower() and "обращени" not in text.lower()
        if mentions_report and as_message and not msgid.startswith(RU_REPORT_AS_MESSAGE_IS_RIGHT):
            wrong.append((msgid, text))
    assert not wrong, "\n".join(f"{msgid!r}: {text!r}" for msgid, text in wrong)


def test_kazakh_keeps_the_report_and_the_chat_message_apart() -> None:
    """kk «хабарлама» is the report, «хабар» a chat message (locales/GLOSSARY.md): a msgid about
    messages, and not about a report or its code, never says «хабарлама»."""
    wrong = []
    for message in load("kk"):
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        text = " ".join(strings).lower()
        about_messages = "message" in msgid.lower() and not re.search(r"report|case code", msgid, re.I)
        if about_messages and "хабарлам" in text:
            wrong.append((msgid, text))
    assert not wrong, wrong
