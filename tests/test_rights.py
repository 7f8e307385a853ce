"""The rights library: every screen fits Telegram, ends with its sources, the review date and
"not legal advice", is translated; and end to end: the menu, Next/Back in place, the links from
inside the report (which must not disturb it), and the bot's descriptions per language."""

from __future__ import annotations

import html
import re

import pytest
from aiogram.utils.i18n import I18n

from bot.i18n import LOCALES_DIR
from domain.dates import long_date
from domain.rights import CHECKED_LINE, CHECKED_ON, PAGES, POINTER_LINE, Slot, paragraphs
from domain.textlimits import CALLBACK_DATA_LIMIT, TEXT_LIMIT, visible_length
from domain.values import LOCALES
from emulator import FakeMessage, FakeTelegram
from handlers.guide_links import LINKS, Guide, GuideAct
from handlers.profile import DESCRIPTION, SHORT_DESCRIPTION, descriptions_for
from handlers.report.keyboards import Ans, Nav, NavAct, ReviewAct, SavedCb
from handlers.rights import (
    Deployment,
    index_keyboard,
    page_keyboard,
    render_index,
    render_screen,
)
from tests.harness import BotProcess, Reporter, tr
from tests.sample import FULL_ANSWERS

CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]", re.IGNORECASE)
KAZAKH = re.compile(r"[әғқңөұүһі]", re.IGNORECASE)
ENGLISH_SCREEN_AIM = 1500  # English runs ~30% shorter than Kazakh or Russian

_i18n = I18n(path=LOCALES_DIR, default_locale="en", domain="messages")


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


NO_DEPLOYMENT = Deployment()  # what an NGO that configured nothing gets


def rendered(locale: str, deployment: Deployment = NO_DEPLOYMENT) -> list[tuple[str, int, str]]:
    with _i18n.context(), _i18n.use_locale(locale):
        return [
            (page.id, n, render_screen(page, n, deployment))
            for page in PAGES
            for n in range(len(page.screens))
        ]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_page_ends_with_sources_date_and_disclaimer(locale: str) -> None:
    """The last screen of a page carries its full sources and the checked date; the screens
    before it say "not legal advice" and point to the last one."""
    deployment = Deployment(ngo_name="Қорғау", ngo_contacts="Telegram: @example_ngo")
    checked = tr(locale, CHECKED_LINE).format(date=long_date(CHECKED_ON, locale))
    pointer = tr(locale, POINTER_LINE)
    sources = {page.id: tr(locale, page.sources) for page in PAGES}
    last = {page.id: len(page.screens) - 1 for page in PAGES}
    for page_id, n, text in rendered(locale, deployment):
        where = f"{locale} {page_id} screen {n + 1}"
        assert visible_length(text) <= TEXT_LIMIT, where
        lines = plain(text).split("\n\n")
        if n == last[page_id]:
            assert lines[-2:] == [sources[page_id], checked], where
        else:
            assert lines[-1] == pointer and sources[page_id] not in plain(text), where
        if locale == "en":
            assert visible_length(text) <= ENGLISH_SCREEN_AIM, where
            assert "not legal advice" in lines[-1], where


def test_every_page_is_split_and_stated_once() -> None:
    assert len(PAGES) == 6 and len({p.id for p in PAGES}) == 6
    with _i18n.context(), _i18n.use_locale("kk"):
        keyboards = [index_keyboard()] + [
            page_keyboard(page, n) for page in PAGES for n in range(len(page.screens))
        ]
    for page in PAGES:
        assert page.screens and page.sources.startswith("Sources:")
    for keyboard in keyboards:
        for button in (b for row in keyboard.inline_keyboard for b in row):
            assert len(button.callback_data.encode()) <= CALLBACK_DATA_LIMIT


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_pages_are_translated(locale: str) -> None:
    """Fails until the lead has translated the pages: an untranslated page would show English."""
    msgids = [m for page in PAGES for m in paragraphs(page)]
    msgids += [LINKS[k] for k in LINKS] + [DESCRIPTION, SHORT_DESCRIPTION]
    untranslated = [m for m in msgids if tr(locale, m) == m]
    assert not untranslated, f"{locale}: {len(untranslated)} untranslated: {untranslated[:5]}"
    deployment = Deployment(draft_days=2, closed_case_days=21)
    for page_id, n, text in rendered(locale, deployment):
        body = plain(text).replace("bureau.kz", "").replace("adilet.zan.kz", "")
        assert CYRILLIC.search(body), f"{locale} {page_id} {n}"
        if locale == "kk":
            assert KAZAKH.search(body), f"kk {page_id} {n}"
    with _i18n.context(), _i18n.use_locale(locale):
        assert CYRILLIC.search(plain(render_index(Deployment())))


def test_ngo_contacts_show_only_when_configured() -> None:
    page = next(p for p in PAGES if Slot.NGO_CONTACTS in [i for s in p.screens for i in s.items])
    n = next(n for n, s in enumerate(page.screens) if Slot.NGO_CONTACTS in s.items)
    with _i18n.context(), _i18n.use_locale("en"):
        bare = render_screen(page, n, Deployment())
        named = render_screen(
            page, n, Deployment(ngo_name="Kazakh Rights <Org>", ngo_contacts="Signal: +7 700 000 00 00")
        )
    assert "Contacts of" not in bare and "+7 700" not in bare
    assert "Kazakh Rights &lt;Org&gt;" in named and "Signal: +7 700 000 00 00" in named
    assert "<Org>" not in named  # escaped


def test_retention_comes_from_the_configuration() -> None:
    stored = next(p for p in PAGES if p.id == "stored")
    with _i18n.context(), _i18n.use_locale("en"):
        text = "\n".join(
            render_screen(stored, n, Deployment(draft_days=1, closed_case_days=30))
            for n in range(len(stored.screens))
        )
    assert "for 1 day from when you started it" in text
    assert "is deleted 30 days after the case is closed" in text


def test_descriptions_fit_telegram_in_every_language() -> None:
    for locale in LOCALES:
        description, short = descriptions_for(_i18n, locale)
        assert 0 < len(description) <= 512 and 0 < len(short) <= 120, locale


# --- end to end -------------------------------------------------------------------------------


async def press_on(r: Reporter, message: FakeMessage, data: str) -> None:
    text = next(t for t, d in message.buttons() if d == data)
    await r.user.press(text, message=message)
    await r.settle()


def show(page: str, n: int) -> str:
    return Guide(act=GuideAct.SHOW, page=page, n=n).pack()


def open_(page: str) -> str:
    return Guide(act=GuideAct.OPEN, page=page, r=1).pack()


BACK_TO_REPORT = Guide(act=GuideAct.BACK, r=1).pack()


async def test_library_from_the_menu_pages_in_place(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    r = reporter
    await r.choose_language("ru")
    await r.press("m1:rights")
    index = r.screen()
    assert tr("ru", "Know your rights") in index.text
    assert len(index.buttons()) == len(PAGES) + 1  # and the way back to the menu
    assert [m.message_id for m in r.present()] == [index.message_id]  # in the menu's window

    await r.press(show("risk", 0))
    page = r.screen()
    assert page.message_id == index.message_id  # edited in place, not a new message
    assert tr("ru", "What the law says") in page.text
    for n in range(1, 5):
        await r.press(show("risk", n))
    assert tr("ru", "Before an official complaint") in r.screen().text
    assert show("risk", 5) not in [d for _t, d in r.screen().buttons()]  # no Next on the last
    await r.press(show("risk", 3))  # Back
    assert tr("ru", "How to lower the risk") in r.screen().text
    await r.press(Guide(act=GuideAct.INDEX).pack())
    assert r.screen().message_id == index.message_id
    assert len(index.edits) >= 6

    # A page that no longer exists, or a screen past the end: out of date, nothing changes.
    before = r.screen().text
    await r.user.press_data("g1:s:gone:0")
    await r.user.press_data(show("risk", 9))
    await r.settle()
    answers = [a.text for a in r.user.callback_answers[-2:]]
    assert answers == [tr("ru", "This button is out of date.")] * 2
    assert r.screen().text == before

    await r.command("rights")  # the command moves the window below, the old one goes
    assert r.screen().message_id != index.message_id
    assert tr("ru", "Know your rights") in r.screen().text
    assert [m.message_id for m in r.present()] == [r.screen().message_id]
    await r.press(Guide(act=GuideAct.BACK).pack())
    assert "m1:report" in [d for _t, d in r.screen().buttons()]  # the menu again, in place


async def test_pages_inside_the_report_leave_it_working(
    fake: FakeTelegram, kua: BotProcess, reporter: Reporter
) -> None:
    r = reporter
    await r.choose_language("en")
    await r.press("m1:report")
    await r.consent()
    a = FULL_ANSWERS
    await r.answer("relation", a["relation"])
    await r.answer("person_agrees", a["person_agrees"])
    await r.multi("danger", *a["danger"])
    await r.answer("facility_kind", a["facility_kind"])
    await r.answer("region", a["region"])
    await r.say(a["facility_name"])
    await r.answer("last_incident", a["last_incident"])
    await r.answer("ongoing", a["ongoing"])
    await r.multi("methods", *a["methods"])
    await r.say("He was beaten.")
    await r.answer("knowledge", a["knowledge"])
    await r.multi("perpetrators", *a["perpetrators"])

    # The names question offers the risk page: it takes the window (nothing beside it), and
    # the report's state is untouched.
    question = r.screen()
    assert "names, ranks" in question.text
    await r.press(open_("risk"))
    risk = r.screen()
    assert risk.message_id == question.message_id
    assert "Reporting safely (1 of 5)" in risk.text and "not legal advice" in risk.text
    await r.press(Guide(act=GuideAct.SHOW, page="risk", n=1, r=1).pack())  # paging, in the window
    assert r.screen().message_id == question.message_id
    assert BACK_TO_REPORT in [d for _t, d in r.screen().buttons()]
    assert [m.message_id for m in r.present()] == [question.message_id]

    # A typed answer still answers the question the guide was opened from.
    window = question
    await r.say("Captain N. (my son told me)")
    assert "Are there visible injuries?" in (window.text or "")

    async def on_window(data: str) -> None:
        await press_on(r, window, data)

    await on_window(Ans(q="injuries", v=a["injuries"]).pack())
    await on_window(Ans(q="medical", v=a["medical"]).pack())
    await on_window(Nav(q="person_name", act=NavAct.SKIP).pack())

    # /rights mid-report: the library in the window, "Continue my report" back to the question.
    await r.command("rights")
    window = r.screen()
    assert tr("en", "Know your rights") in (window.text or "")
    await on_window(BACK_TO_REPORT)
    assert [d for _t, d in window.buttons() if d.startswith("a1:age_group:")]
    for qid in ("age_group", "sex", "lawyer_access"):
        await on_window(Ans(q=qid, v=a[qid]).pack())
    for value in a["complaints"]:
        await on_window(Ans(q="complaints", v=value).pack())
    await on_window(Nav(q="complaints", act=NavAct.DONE).pack())
    await on_window(Ans(q="reprisals", v=a["reprisals"]).pack())

    # The files step offers the evidence page; back on the step, Done still works.
    await on_window(open_("evidence"))
    assert "Documenting injuries and evidence (1 of 2)" in (window.text or "")
    await on_window(BACK_TO_REPORT)
    await on_window(f"n1:files:{NavAct.DONE}")
    await on_window(Ans(q="contact", v=a["contact"]).pack())
    if a["contact"] == "yes":
        await on_window(Ans(q="silent", v=a["silent"]).pack())

    # The review offers the risk page too, and sending still works afterwards.
    assert "Review and send" in (window.text or "")
    await on_window(open_("risk"))
    assert "Reporting safely (1 of 5)" in (window.text or "")
    await on_window(BACK_TO_REPORT)
    assert "Review and send" in (window.text or "")
    assert [m.message_id for m in r.present()] == [window.message_id]  # one window, throughout
    await on_window(f"r1:{ReviewAct.SEND}:-1")
    assert "Your case code" in (window.text or "")

    # Under the case code only "I have saved the code": a guide opened there would stay in the
    # chat after the code is cleared (tests/test_e2e_window.py).
    assert [d for _t, d in window.buttons()] == [SavedCb().pack()]


async def test_descriptions_are_set_per_language(fake: FakeTelegram, kua: BotProcess) -> None:
    for locale in LOCALES:
        description, short = descriptions_for(_i18n, locale)
        assert fake.description(locale) == description
        assert fake.short_description(locale) == short
        assert description == tr(locale, DESCRIPTION) or len(tr(locale, DESCRIPTION)) > 512
    assert fake.description("") and fake.short_description("")  # everyone else
