"""Phone-sized screens and one source per page: every rights screen and the consent screen fit
SCREEN_LIMIT characters in every language (rendered by the real code, after translation), the
consent's "read more" is the rights page itself, dates come from one constant through one
formatter, the pages say "Checked on" until a lawyer's review is configured, and no text
promises "our lawyer" unless one is configured."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR
from domain.dates import long_date
from domain.rights import (
    CHECKED_LINE,
    CHECKED_ON,
    PAGE_BY_ID,
    PAGES,
    REVIEWED_LINE,
    RISK,
    SCREEN_LIMIT,
    attestation,
)
from domain.textlimits import visible_length
from domain.values import LOCALES
from emulator import FakeTelegram
from handlers.guide_links import Guide, GuideAct
from handlers.report.keyboards import ConsentAct, ConsentCb
from handlers.report.screens import consent_text
from handlers.rights import Deployment, render_index, render_screen
from tests.harness import BotProcess, Reporter, tr

ROOT = Path(__file__).resolve().parent.parent
_i18n = I18n(path=LOCALES_DIR, default_locale="en", domain="messages")

# The longest deployment a screen must still fit with: a long name, contacts and a lawyer.
LONG = Deployment(
    ngo_name="Қазақстандық адам құқықтарын қорғау қоғамдық бірлестігі",
    ngo_contacts="Telegram: @example_ngo · +7 700 000 00 00 · example.kz",
    lawyer="Telegram: @example_lawyer",
    legal_reviewed_on=CHECKED_ON,
    legal_reviewed_by="Айгерім Сейітқали, адвокат",
)
DEPLOYMENTS = (Deployment(), LONG)


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def every_screen(locale: str, deployment: Deployment) -> list[tuple[str, str]]:
    """(where, text) of every rights and consent screen, as the bot renders it."""
    with _i18n.context(), _i18n.use_locale(locale):
        out = [
            (f"{page.id} {n + 1}", render_screen(page, n, deployment))
            for page in PAGES
            for n in range(len(page.screens))
        ]
        out.append(("index", render_index(deployment)))
        out.append(("consent", consent_text(deployment.ngo_name)))
    return out


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=["bare", "configured"])
def test_every_rights_and_consent_screen_fits_a_phone(locale: str, deployment: Deployment) -> None:
    too_long = [
        (where, visible_length(text))
        for where, text in every_screen(locale, deployment)
        if visible_length(text) > SCREEN_LIMIT
    ]
    assert not too_long, f"{locale}: over {SCREEN_LIMIT} characters: {too_long}"


@pytest.mark.parametrize("locale", LOCALES)
def test_dates_are_written_once_and_never_end_in_a_double_full_stop(locale: str) -> None:
    when = long_date(CHECKED_ON, locale)
    texts = [plain(text) for _where, text in every_screen(locale, Deployment())]
    assert any(when in text for text in texts)
    assert not [t for t in texts if ".." in t]
    assert {"en": "1 December 2026", "ru": "1 декабря 2026 года", "kk": "2026 жылғы 1 желтоқсан"}[
        locale
    ] == long_date(date(2026, 12, 1), locale)


def test_pages_say_checked_until_a_lawyer_reviewed_the_current_text() -> None:
    assert attestation(None, "").msgid == CHECKED_LINE
    assert attestation(CHECKED_ON, "").msgid == CHECKED_LINE  # nobody named: not a review
    stale = attestation(CHECKED_ON - timedelta(days=1), "A. Lawyer")  # older than the text
    assert (stale.msgid, stale.day) == (CHECKED_LINE, CHECKED_ON)
    fresh = attestation(CHECKED_ON + timedelta(days=3), "A. Lawyer")
    assert (fresh.msgid, fresh.day, fresh.who) == (REVIEWED_LINE, CHECKED_ON + timedelta(days=3), "A. Lawyer")

    page = PAGE_BY_ID[RISK]
    last = len(page.screens) - 1
    reviewed = Deployment(legal_reviewed_on=date(2027, 1, 15), legal_reviewed_by="Aigerim S.")
    with _i18n.context(), _i18n.use_locale("en"):
        checked_text = plain(render_screen(page, last, Deployment()))
        reviewed_text = plain(render_screen(page, last, reviewed))
    assert "Checked on 1 December 2026. This is not legal advice." in checked_text
    assert "Reviewed" not in checked_text
    assert "Reviewed by Aigerim S. on 15 January 2027. This is not legal advice." in reviewed_text
    with _i18n.context(), _i18n.use_locale("ru"):
        assert "Aigerim S., 15 января 2027 года" in plain(render_screen(page, last, reviewed))


def test_nothing_promises_our_lawyer_unless_one_is_configured() -> None:
    for locale in LOCALES:
        with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        for message in catalog:
            for text in message.string if isinstance(message.string, tuple | list) else (message.string,):
                assert not re.search(
                    r"\bour lawyer|наш(им|его|ему)? адвокат|біздің адвокат", text or "", re.IGNORECASE
                ), (locale, text)
    for locale in LOCALES:
        bare = " ".join(plain(t) for _w, t in every_screen(locale, Deployment()))
        configured = " ".join(plain(t) for _w, t in every_screen(locale, LONG))
        lawyer_of_org = {
            "en": "the organisation's lawyer",
            "ru": "адвокат организации",
            "kk": "ұйымның адвокаты",
        }[locale]
        assert lawyer_of_org not in bare, locale
        assert lawyer_of_org in configured and LONG.lawyer in configured, locale


@pytest.mark.parametrize("locale", LOCALES)
def test_help_lists_one_command_per_line(locale: str) -> None:
    with (ROOT / "locales" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        msgid = next(
            m.id for m in read_po(fh) if isinstance(m.id, str) and m.id.startswith("Use the menu buttons")
        )
    lines = tr(locale, msgid).split("\n")
    commands = lines[1:]
    assert len(commands) == 8
    assert all(re.fullmatch(r"/[a-z]+ — [^/]+", line) for line in commands), commands


# --- end to end: the consent's "read more" is the rights page -------------------------------


async def test_consent_read_more_shows_the_rights_page_and_comes_back(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    r = reporter
    await r.choose_language("kk")
    await r.press("m1:report")
    consent = r.screen()
    await r.press(ConsentCb(act=ConsentAct.MORE).pack())
    more = r.screen()
    assert more.message_id == consent.message_id  # the consent window shows the page
    with _i18n.context(), _i18n.use_locale("kk"):
        page_text = plain(render_screen(PAGE_BY_ID[RISK], 0, Deployment()))
    assert more.text == page_text  # the library's page itself, not a copy
    assert visible_length(more.text) <= SCREEN_LIMIT

    # Next shows the rest of the page as the library shows it, in the same window; "Continue
    # my report" brings the consent back, in place.
    await r.press(Guide(act=GuideAct.OPEN, page=RISK, n=1, r=1).pack())
    with _i18n.context(), _i18n.use_locale("kk"):
        second = plain(render_screen(PAGE_BY_ID[RISK], 1, Deployment()))
    assert r.screen().message_id == consent.message_id and r.screen().text == second
    await r.press(Guide(act=GuideAct.BACK, r=1).pack())
    assert r.screen().message_id == consent.message_id
    assert tr("kk", "Before you start") in (r.screen().text or "")
