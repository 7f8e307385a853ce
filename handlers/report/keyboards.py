"""Callback data and keyboards of the report. Keyboards are pure functions of what they show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.questionnaire import STEPS, Kind, Option, Question
from domain.rights import EVIDENCE, RISK
from handlers.guide_links import link_button, next_screen_button
from handlers.report.draft import Consent

# Questions that offer a page of the rights library (shown in the window, with the way back).
GUIDE_LINKS = {"perpetrator_names": RISK, "files": EVIDENCE}


class Ans(CallbackData, prefix="a1"):
    q: str
    v: str


class NavAct(StrEnum):
    SKIP = "skip"
    BACK = "back"
    DONE = "done"
    LATER = "later"
    CANCEL = "cancel"


class Nav(CallbackData, prefix="n1"):
    q: str  # the question the button belongs to: a button of another question is stale
    act: NavAct


class ConsentAct(StrEnum):
    CONTACT = "contact"
    SHARE = "share"
    STATS = "stats"
    MORE = "more"
    BACK = "back"
    START = "start"
    CANCEL = "cancel"


class ConsentCb(CallbackData, prefix="k1"):
    act: ConsentAct


class ReviewAct(StrEnum):
    EDIT = "edit"
    SEND = "send"
    STORY = "story"  # the full story, page `step`
    BACK = "back"  # from the story to the review
    LATER = "later"
    CANCEL = "cancel"


class ReviewCb(CallbackData, prefix="r1"):
    act: ReviewAct
    step: int = -1


class SavedCb(CallbackData, prefix="s1"):
    """ "I have saved the code" under the case code."""


class DraftAct(StrEnum):
    RESUME = "resume"
    RESTART = "restart"


class DraftCb(CallbackData, prefix="d1"):
    act: DraftAct


class CancelAct(StrEnum):
    YES = "yes"
    NO = "no"


class CancelCb(CallbackData, prefix="x1"):
    act: CancelAct


class _Rows:
    """What question_keyboard needs of InlineKeyboardBuilder (button, add, adjust, as_markup),
    without the builder's deep copies of every button: each answer draws a question keyboard,
    and those copies were about a tenth of the CPU of an update (docs/performance.md)."""

    def __init__(self) -> None:
        self.buttons: list[InlineKeyboardButton] = []
        self.sizes: tuple[int, ...] = (1,)

    def button(self, *, text: str, callback_data: CallbackData) -> None:
        self.buttons.append(InlineKeyboardButton(text=text, callback_data=callback_data.pack()))

    def add(self, button: InlineKeyboardButton) -> None:
        self.buttons.append(button)

    def adjust(self, *sizes: int) -> None:
        self.sizes = sizes or (1,)

    def as_markup(self) -> InlineKeyboardMarkup:
        # InlineKeyboardBuilder.adjust's rule: the sizes in turn, then the last one again.
        rows: list[list[InlineKeyboardButton]] = []
        row: list[InlineKeyboardButton] = []
        sizes = iter(self.sizes)
        size = next(sizes)
        for button in self.buttons:
            if len(row) >= size:
                rows.append(row)
                size = next(sizes, size)
                row = []
            row.append(button)
        if row:
            rows.append(row)
        return InlineKeyboardMarkup(inline_keyboard=rows)


def _nav_row(kb: _Rows, qid: str, *, back: bool) -> None:
    buttons = []
    if back:
        buttons.append(("« " + _("Back"), NavAct.BACK))
    buttons += [("💾 " + _("Save for later"), NavAct.LATER), ("✖ " + _("Cancel"), NavAct.CANCEL)]
    for text, act in buttons:
        kb.button(text=text, callback_data=Nav(q=qid, act=act))


def question_keyboard(
    question: Question, current: Any, pending: Sequence[str] | None
) -> InlineKeyboardMarkup:
    options = question.choices()
    marked: frozenset[str] = frozenset()
    if question.kind in (Kind.CHOICE, Kind.MULTI):
        chosen = set(pending or []) if question.kind is Kind.MULTI else {current}
        marked = frozenset(option.value for option in options if option.value in chosen)
    try:
        locale = get_i18n().current_locale
    except LookupError:  # no translation context: nothing to key the labels by
        return _question_keyboard(question, options, marked)
    # A keyboard is a pure function of what it shows; building one (a dozen pydantic buttons,
    # their callback data packed) cost about 0.15-0.25 ms per answer. (_Rows is in the key:
    # tests compare its keyboards with InlineKeyboardBuilder's.)
    key = (_Rows, question.id, locale, options, marked)
    markup = _keyboards.get(key)
    if markup is None:
        markup = _keyboards[key] = _question_keyboard(question, options, marked)
        while len(_keyboards) > _KEYBOARDS_KEPT:
            _keyboards.pop(next(iter(_keyboards)))
    return markup


# Drawn keyboards, by what they show (questions x languages x ticked options: a few hundred in
# use; bounded, the oldest dropped first). Nobody changes a keyboard once built.
_KEYBOARDS_KEPT = 2048
_keyboards: dict[tuple[Any, ...], InlineKeyboardMarkup] = {}


def _question_keyboard(
    question: Question, options: tuple[Option, ...], marked: frozenset[str]
) -> InlineKeyboardMarkup:
    kb = _Rows()
    sizes: list[int] = []
    if question.kind in (Kind.CHOICE, Kind.MULTI):
        for option in options:
            label = _(option.short or option.label) if option.translate else option.label
            mark = "✅ " if option.value in marked else ""
            kb.button(text=mark + label, callback_data=Ans(q=question.id, v=option.value))
        full, rest = divmod(len(options), question.columns)
        sizes += [question.columns] * full + ([rest] if rest else [])
    if question.kind in (Kind.MULTI, Kind.FILES):
        kb.button(text="✔ " + _("Done"), callback_data=Nav(q=question.id, act=NavAct.DONE))
        sizes.append(1)
    if question.skip:
        kb.button(text=_(question.skip), callback_data=Nav(q=question.id, act=NavAct.SKIP))
        sizes.append(1)
    if question.id in GUIDE_LINKS:
        kb.add(link_button(GUIDE_LINKS[question.id]))
        sizes.append(1)
    _nav_row(kb, question.id, back=True)
    sizes += [2, 1]
    kb.adjust(*sizes)
    return kb.as_markup()


def consent_keyboard(consent: Consent) -> InlineKeyboardMarkup:
    def tick(on: bool) -> str:
        return "✅ " if on else "⬜ "

    kb = InlineKeyboardBuilder()
    kb.button(
        text=tick(consent.share) + _("Ask me before passing it on"),
        callback_data=ConsentCb(act=ConsentAct.SHARE),
    )
    kb.button(
        text=tick(consent.stats) + _("Count in anonymous statistics"),
        callback_data=ConsentCb(act=ConsentAct.STATS),
    )
    kb.button(text="ℹ " + _("About legal risk"), callback_data=ConsentCb(act=ConsentAct.MORE))
    kb.button(text="▶ " + _("Start the report"), callback_data=ConsentCb(act=ConsentAct.START))
    kb.button(text="✖ " + _("Cancel"), callback_data=ConsentCb(act=ConsentAct.CANCEL))
    kb.adjust(1)
    return kb.as_markup()


def risk_back_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="« " + _("Back"), callback_data=ConsentCb(act=ConsentAct.BACK))
    kb.add(next_screen_button(RISK, 1))  # the rest of the risk page, as the library shows it
    return kb.as_markup()


def review_keyboard(answers: Mapping[str, Any]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for index, _step in enumerate(STEPS):  # the numbers of the sections shown above
        kb.button(text=f"✏ {index + 1}", callback_data=ReviewCb(act=ReviewAct.EDIT, step=index))
    extra = 0
    if any(isinstance(v, dict) and v.get("text") for v in answers.values()):
        kb.button(text="📖 " + _("Read my full text"), callback_data=ReviewCb(act=ReviewAct.STORY, step=0))
        extra = 1
    kb.add(link_button(RISK))  # the last moment to read about the legal risk before sending
    kb.button(text="📨 " + _("Send the report"), callback_data=ReviewCb(act=ReviewAct.SEND))
    kb.button(text="💾 " + _("Save for later"), callback_data=ReviewCb(act=ReviewAct.LATER))
    kb.button(text="✖ " + _("Cancel"), callback_data=ReviewCb(act=ReviewAct.CANCEL))
    kb.adjust(
        *([4] * (len(STEPS) // 4)), *([len(STEPS) % 4] if len(STEPS) % 4 else []), *([1] * extra), 1, 1, 2
    )
    return kb.as_markup()


def story_keyboard(page: int, pages: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    row = 0
    if page > 0:
        kb.button(text="‹ " + _("Previous"), callback_data=ReviewCb(act=ReviewAct.STORY, step=page - 1))
        row += 1
    if page + 1 < pages:
        kb.button(text=_("Next") + " ›", callback_data=ReviewCb(act=ReviewAct.STORY, step=page + 1))
        row += 1
    kb.button(text="« " + _("Back to the review"), callback_data=ReviewCb(act=ReviewAct.BACK))
    kb.adjust(*([row] if row else []), 1)
    return kb.as_markup()


def saved_keyboard() -> InlineKeyboardMarkup:
    """Under the case code: the one button that clears it from the chat."""
    kb = InlineKeyboardBuilder()
    kb.button(text="✔ " + _("I have saved the code"), callback_data=SavedCb())
    return kb.as_markup()


def draft_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="▶ " + _("Continue"), callback_data=DraftCb(act=DraftAct.RESUME))
    kb.button(text="🗑 " + _("Start over"), callback_data=DraftCb(act=DraftAct.RESTART))
    kb.adjust(1)
    return kb.as_markup()


def cancel_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, delete my answers"), callback_data=CancelCb(act=CancelAct.YES))
    kb.button(text=_("No, go back to the report"), callback_data=CancelCb(act=CancelAct.NO))
    kb.adjust(1)
    return kb.as_markup()
