"""The kk and ru catalogs pass hunspell (kk_KZ, ru_RU) with the project's word lists, and the
word lists hold only words the dictionaries lack and the catalogs use (no stale entries that
could hide a later misspelling)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "spellcheck.sh"
DICTS = {"kk": "kk_KZ", "ru": "ru_RU"}


def _dictionaries() -> set[str]:
    if not shutil.which("hunspell"):
        return set()
    listing = subprocess.run(
        ["hunspell", "-D"], capture_output=True, text=True, stdin=subprocess.DEVNULL
    ).stderr
    return {name for name in DICTS.values() if re.search(rf"/{name}$", listing, re.M)}


pytestmark = pytest.mark.skipif(
    _dictionaries() != set(DICTS.values()),
    reason="hunspell with kk_KZ and ru_RU is not installed "
    "(apt-get install hunspell hunspell-kk hunspell-ru)",
)


def word_list(locale: str) -> list[str]:
    lines = (ROOT / "locales" / locale / "spelling.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_spellcheck_finds_no_unknown_words() -> None:
    result = subprocess.run(
        ["bash", str(SCRIPT), "kk", "ru"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0 and not result.stdout, result.stdout + result.stderr


def test_spellcheck_reports_a_misspelling(tmp_path: Path) -> None:
    """The check can fail: a catalog with a typo is reported with the word and its msgid."""
    copy = tmp_path / "repo"
    (copy / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, copy / "scripts")
    for locale in DICTS:
        (copy / "locales" / locale / "LC_MESSAGES").mkdir(parents=True)
        shutil.copy(ROOT / "locales" / locale / "spelling.txt", copy / "locales" / locale)
    (copy / "locales" / "ru" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Your report has been received."\nmsgstr "Ваше обращение палучено."\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        ["bash", str(copy / "scripts" / "spellcheck.sh"), "ru"],
        cwd=copy,
        capture_output=True,
        text=True,
        env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert result.stdout.strip() == 'ru: палучено\t(in "Your report has been received.")'


@pytest.mark.parametrize("locale", sorted(DICTS))
def test_word_lists_hold_only_missing_words_the_catalog_uses(locale: str) -> None:
    words = word_list(locale)
    assert words == sorted(set(words)), "keep the list sorted, without repeats"
    known = subprocess.run(
        ["hunspell", "-i", "UTF-8", "-d", DICTS[locale], "-G"],
        input="\n".join(words),
        capture_output=True,
        text=True,
    ).stdout.split()
    assert not known, f"{locale}: the dictionary already knows {known}"
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    text = " ".join(
        s
        for m in catalog
        if m.id
        for s in (m.string if isinstance(m.string, tuple | list) else (m.string or "",))
    )
    used = set(re.findall(r"[^\W\d_]+", text.lower()))
    stale = [w for w in words if w.lower() not in used]
    assert not stale, f"{locale}: not used in the catalog any more: {stale}"
