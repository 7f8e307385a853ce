"""The report questionnaire, declared once.

Handlers, the review screen, the stored summary and (later) the coordinator card all read this
definition, so a question is added or changed here only. Labels are msgids marked with `N_`;
they are translated when rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from domain.i18n import N_

# The value stored for "Don't know" / "Skip".
SKIPPED = "-"

Answers = Mapping[str, Any]


class Kind(StrEnum):
    CHOICE = "choice"  # one button
    MULTI = "multi"  # several buttons with ticks, then Done
    TEXT = "text"  # free text or a voice message
    FILES = "files"  # attachments, then Done


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    translate: bool = True  # years are shown as they are
    exclusive: bool = False  # in a multi-select, choosing it clears the others ("none")
    # A shorter label for the button, where the full one does not fit a phone's row
    # (tests/test_labels.py); the review and the card keep the full label.
    short: str | None = None


@dataclass(frozen=True)
class AnswerIs:
    """Holds when the answer to question `qid` is one of `values`."""

    qid: str
    values: frozenset[str]

    def __call__(self, answers: Answers) -> bool:
        return answers.get(self.qid) in self.values

    def reads(self) -> frozenset[str]:
        """The questions whose answers this condition depends on."""
        return frozenset({self.qid})


@dataclass(frozen=True)
class AnswerIsNot:
    """Holds when the answer to question `qid` is none of `values` (None: not answered)."""

    qid: str
    values: frozenset[str | None]

    def __call__(self, answers: Answers) -> bool:
        return answers.get(self.qid) not in self.values

    def reads(self) -> frozenset[str]:
        return frozenset({self.qid})


@dataclass(frozen=True)
class AllOf:
    """Holds when every one of `conditions` does."""

    conditions: tuple[AnswerIs | AnswerIsNot, ...]

    def __call__(self, answers: Answers) -> bool:
        return all(condition(answers) for condition in self.conditions)

    def reads(self) -> frozenset[str]:
        return frozenset().union(*(condition.reads() for condition in self.conditions))


# When a question is asked: data, not code, so that the diagram, the check of forged answers
# and the review can all read it.
Condition = AnswerIs | AnswerIsNot | AllOf


def answer_is(qid: str, *values: str) -> AnswerIs:
    return AnswerIs(qid, frozenset(values))


def answer_is_not(qid: str, *values: str | None) -> AnswerIsNot:
    return AnswerIsNot(qid, frozenset(values))


@dataclass(frozen=True)
class Question:
    id: str
    kind: Kind
    prompt: str
    title: str  # short label used on the review screen and the card
    options: tuple[Option, ...] = ()
    options_fn: Callable[[], tuple[Option, ...]] | None = None
    skip: str | None = None  # label of the "Don't know"/"Skip" button; None = required
    when: Condition | None = None  # asked only if this holds
    private: bool = False  # free text, names: encrypted at rest, never in the clear
    columns: int = 1
    max_len: int | None = 300  # characters of free text; None: the configured long-text limit

    def choices(self) -> tuple[Option, ...]:
        return self.options_fn() if self.options_fn else self.options

    def option(self, value: str) -> Option | None:
        return next((o for o in self.choices() if o.value == value), None)

    def applies(self, answers: Answers) -> bool:
        return self.when is None or self.when(answers)


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    questions: tuple[Question, ...] = field(default_factory=tuple)


DONT_KNOW = N_("Don't know")
SKIP = N_("Skip")
NOT_SAY = N_("Prefer not to say")
YES_NO = (Option("yes", N_("Yes")), Option("no", N_("No")))


def _years() -> tuple[Option, ...]:
    this = datetime.now(UTC).year
    years = tuple(Option(str(y), str(y), translate=False) for y in range(this, this - 6, -1))
    return (*years, Option("older", N_("Earlier")))


MONTHS = tuple(
    Option(f"{i:02d}", label)
    for i, label in enumerate(
        (
            N_("January"),
            N_("February"),
            N_("March"),
            N_("April"),
            N_("May"),
            N_("June"),
            N_("July"),
            N_("August"),
            N_("September"),
            N_("October"),
            N_("November"),
            N_("December"),
        ),
        start=1,
    )
)

REGIONS = (
    Option("astana", N_("Astana (city)")),
    Option("almaty_city", N_("Almaty (city)")),
    Option("shymkent", N_("Shymkent (city)")),
    Option("abai", N_("Abai region"), short=N_("Abai")),
    Option("akmola", N_("Akmola region"), short=N_("Akmola")),
    Option("aktobe", N_("Aktobe region"), short=N_("Aktobe")),
    Option("almaty_reg", N_("Almaty region"), short=N_("Almaty reg.")),
    Option("atyrau", N_("Atyrau region"), short=N_("Atyrau")),
    Option("east_kz", N_("East Kazakhstan region"), short=N_("East Kazakhstan")),
    Option("zhambyl", N_("Zhambyl region"), short=N_("Zhambyl")),
    Option("zhetysu", N_("Zhetysu region"), short=N_("Zhetysu")),
    Option("karaganda", N_("Karaganda region"), short=N_("Karaganda")),
    Option("kostanay", N_("Kostanay region"), short=N_("Kostanay")),
    Option("kyzylorda", N_("Kyzylorda region"), short=N_("Kyzylorda")),
    Option("mangystau", N_("Mangystau region"), short=N_("Mangystau")),
    Option("north_kz", N_("North Kazakhstan region"), short=N_("North Kazakhstan")),
    Option("pavlodar", N_("Pavlodar region"), short=N_("Pavlodar")),
    Option("turkistan", N_("Turkistan region"), short=N_("Turkistan")),
    Option("ulytau", N_("Ulytau region"), short=N_("Ulytau")),
    Option("west_kz", N_("West Kazakhstan region"), short=N_("West Kazakhstan")),
)

# Danger flags: any of these makes the case urgent.
DANGER_FLAGS = ("ongoing", "no_contact", "medical", "threats", "transfer", "self_harm")

# How the reporter knows: drives the attributed wording of every rendering.
ATTRIBUTION = {
    "saw": N_("The reporter says they saw this themselves"),
    "person": N_("According to the detained person, as told to the reporter"),
    "lawyer": N_("According to a lawyer, as told to the reporter"),
    "detainees": N_("According to other detainees, as passed on to the reporter"),
    "documents": N_("According to documents the reporter has seen"),
    "others": N_("According to what the reporter heard from others"),
}
UNATTRIBUTED = N_("Source of this information not stated")

STEPS: tuple[Step, ...] = (
    Step(
        "relation",
        N_("You and the person"),
        (
            Question(
                "relation",
                Kind.CHOICE,
                N_("Who are you to the person this happened to?"),
                N_("Relation"),
                (
                    Option("parent", N_("Mother or father")),
                    Option("spouse", N_("Husband, wife or partner"), short=N_("Spouse or partner")),
                    Option("sibling", N_("Brother or sister")),
                    Option("child", N_("Son or daughter")),
                    Option("relative", N_("Other relative")),
                    Option("self", N_("I am the person")),
                    Option("witness", N_("Witness")),
                    Option("lawyer", N_("Lawyer")),
                    Option("other", N_("Other")),
                ),
                skip=NOT_SAY,
                columns=2,
            ),
            # Acting without the person's agreement can expose them to reprisals inside: the
            # coordinators see the answer on the card, and "no" shows a short note before Send.
            Question(
                "person_agrees",
                Kind.CHOICE,
                N_("Does the person know about this report, and agree to it?"),
                N_("The person knows and agrees"),
                (
                    Option("yes", N_("Yes")),
                    Option("no", N_("No")),
                    Option("could_not_ask", N_("Could not ask")),
                ),
                when=answer_is_not("relation", "self"),
            ),
        ),
    ),
    Step(
        "danger",
        N_("Danger now"),
        (
            Question(
                "danger",
                Kind.MULTI,
                N_("Is the person in danger right now? Choose everything that applies, then press Done."),
                N_("Danger now"),
                (
                    Option("ongoing", N_("Ill-treatment is still going on")),
                    Option(
                        "no_contact",
                        N_("No contact, whereabouts unknown"),
                        short=N_("No contact, whereabouts?"),
                    ),
                    Option("medical", N_("Urgently needs medical help")),
                    Option("threats", N_("Threats after a complaint")),
                    Option("transfer", N_("About to be transferred")),
                    Option(
                        "self_harm",
                        N_("Hunger strike or risk of self-harm"),
                        short=N_("Hunger strike or self-harm"),
                    ),
                    Option("none", N_("None of these"), exclusive=True),
                ),
                skip=DONT_KNOW,
            ),
        ),
    ),
    Step(
        "place",
        N_("Where"),
        (
            Question(
                "facility_kind",
                Kind.CHOICE,
                N_("Where is or was the person held?"),
                N_("Kind of place"),
                (
                    Option(
                        "police",
                        N_("Police station or temporary detention (IVS)"),
                        short=N_("Police station or IVS"),
                    ),
                    Option(
                        "sizo",
                        N_("Pre-trial detention centre (SIZO)"),
                        short=N_("Pre-trial detention (SIZO)"),
                    ),
                    Option("colony", N_("Colony or prison"), short=N_("Colony, prison")),
                    Option("special", N_("Special detention centre")),
                    Option(
                        "psych", N_("Psychiatric or addiction centre"), short=N_("Psychiatric or drug clinic")
                    ),
                    Option(
                        "military",
                        N_("Military unit or military detention"),
                        short=N_("Military unit or guardhouse"),
                    ),
                    Option("other", N_("Other place")),
                ),
                skip=DONT_KNOW,
            ),
            Question(
                "region",
                Kind.CHOICE,
                N_("In which region or city?"),
                N_("Region"),
                REGIONS,
                skip=DONT_KNOW,
                columns=2,
            ),
            Question(
                "facility_name",
                Kind.TEXT,
                N_(
                    "What is the name or number of the place? For example, “ЕС-164/1” or "
                    "“IVS of the city police department”."
                ),
                N_("Name or number of the place"),
                skip=DONT_KNOW,
                private=True,
            ),
        ),
    ),
    Step(
        "time",
        N_("When"),
        (
            Question(
                "last_incident",
                Kind.CHOICE,
                N_("When did it last happen?"),
                N_("Last incident"),
                (
                    Option("today", N_("Today or yesterday")),
                    Option("week", N_("This week")),
                    Option("month", N_("This month")),
                    Option("earlier", N_("Earlier")),
                ),
                skip=DONT_KNOW,
            ),
            Question(
                "incident_year",
                Kind.CHOICE,
                N_("In which year?"),
                N_("Year"),
                options_fn=_years,
                skip=DONT_KNOW,
                when=answer_is("last_incident", "earlier"),
                columns=3,
            ),
            Question(
                "incident_month",
                Kind.CHOICE,
                N_("In which month?"),
                N_("Month"),
                MONTHS,
                skip=DONT_KNOW,
                columns=3,
                when=AllOf(
                    (
                        answer_is("last_incident", "earlier"),
                        answer_is_not("incident_year", None, SKIPPED, "older"),
                    )
                ),
            ),
            Question(
                "ongoing",
                Kind.CHOICE,
                N_("Is it still happening?"),
                N_("Still happening"),
                YES_NO,
                skip=DONT_KNOW,
                columns=2,
            ),
        ),
    ),
    Step(
        "what",
        N_("What happened"),
        (
            Question(
                "methods",
                Kind.MULTI,
                N_("What was done to the person? Choose everything that applies, then press Done."),
                N_("What was done"),
                (
                    Option("beating", N_("Beating")),
                    Option("positions", N_("Stress positions")),
                    Option("suffocation", N_("Suffocation")),
                    Option("electric", N_("Electric shocks")),
                    Option(
                        "sexual", N_("Sexual violence or threats of it"), short=N_("Sexual violence, threats")
                    ),
                    Option("family", N_("Threats against the family")),
                    Option(
                        "deprivation",
                        N_("Denied sleep, food, water or medical care"),
                        short=N_("Denied sleep, food, water, care"),
                    ),
                    Option("solitary", N_("Solitary confinement")),
                    Option("humiliation", N_("Humiliation")),
                    Option("forced_sign", N_("Forced to sign something")),
                    Option("other", N_("Something else")),
                ),
                skip=DONT_KNOW,
            ),
            Question(
                "narrative",
                Kind.TEXT,
                N_(
                    "Tell in your own words what happened: when, where, what was done, what was said. "
                    "Write only what you know, and say how you know it. You can also send a voice "
                    "message."
                ),
                N_("In the reporter's words"),
                skip=SKIP,
                private=True,
                max_len=None,
            ),
        ),
    ),
    Step(
        "source",
        N_("How you know"),
        (
            Question(
                "knowledge",
                Kind.CHOICE,
                N_("How do you know what happened?"),
                N_("How the reporter knows"),
                (
                    Option("saw", N_("I saw it myself")),
                    Option("person", N_("The person told me")),
                    Option("lawyer", N_("A lawyer told me")),
                    Option("detainees", N_("Other detainees told me")),
                    Option("documents", N_("From documents")),
                    Option("others", N_("I heard it from others")),
                ),
            ),
        ),
    ),
    Step(
        "who",
        N_("Who did it"),
        (
            Question(
                "perpetrators",
                Kind.MULTI,
                N_("Who did it? Choose everything that applies, then press Done."),
                N_("Who did it"),
                (
                    Option("police", N_("Police or investigators")),
                    Option("prison", N_("Prison or detention staff")),
                    Option("special_unit", N_("Special unit")),
                    Option(
                        "detainees",
                        N_("Other detainees, on staff's orders"),
                        short=N_("Detainees on staff's orders"),
                    ),
                    Option("medical", N_("Medical staff")),
                    Option("unknown", N_("Unknown"), exclusive=True),
                ),
                skip=DONT_KNOW,
            ),
            Question(
                "perpetrator_names",
                Kind.TEXT,
                N_(
                    "If you know names, ranks or badge numbers, you can write them here. Name someone "
                    "only if you are sure, and say how you know. Do not post these names publicly: "
                    "prison colonies have sued a rights defender over published accounts, and won. You "
                    "can skip this and tell a coordinator later."
                ),
                N_("Names, ranks"),
                skip=SKIP,
                private=True,
                max_len=600,
            ),
        ),
    ),
    Step(
        "injuries",
        N_("Injuries and medical help"),
        (
            Question(
                "injuries",
                Kind.CHOICE,
                N_("Are there visible injuries?"),
                N_("Visible injuries"),
                YES_NO,
                skip=DONT_KNOW,
                columns=2,
            ),
            Question(
                "medical",
                Kind.CHOICE,
                N_("Was the person examined by a doctor?"),
                N_("Medical examination"),
                (
                    Option("recorded", N_("Examined, injuries recorded")),
                    Option("refused", N_("Asked for it, but was refused")),
                    Option("not_examined", N_("Not examined")),
                ),
                skip=DONT_KNOW,
            ),
        ),
    ),
    Step(
        "person",
        N_("The person"),
        (
            Question(
                "person_name",
                Kind.TEXT,
                N_("The person's name or initials. This is optional: you can tell the coordinator later."),
                N_("Name or initials"),
                skip=N_("I'll tell the coordinator later"),
                private=True,
            ),
            Question(
                "age_group",
                Kind.CHOICE,
                N_("How old is the person?"),
                N_("Age"),
                (
                    Option("minor", N_("Under 18")),
                    Option("18_29", N_("18–29")),
                    Option("30_49", N_("30–49")),
                    Option("50_plus", N_("50 or older"), short=N_("50+")),
                ),
                skip=DONT_KNOW,
                columns=2,
            ),
            Question(
                "sex",
                Kind.CHOICE,
                N_("Is the person a man or a woman?"),
                N_("Sex"),
                (
                    Option("male", N_("A man")),
                    Option("female", N_("A woman")),
                ),
                skip=NOT_SAY,
                columns=2,
            ),
            Question(
                "lawyer_access",
                Kind.CHOICE,
                N_("Does the person have a lawyer?"),
                N_("Lawyer"),
                (
                    Option("yes", N_("Yes")),
                    Option("no", N_("No")),
                    Option(
                        "denied",
                        N_("A lawyer was refused or not let in"),
                        short=N_("Lawyer refused or not let in"),
                    ),
                ),
                skip=DONT_KNOW,
            ),
        ),
    ),
    Step(
        "complaints",
        N_("Complaints"),
        (
            Question(
                "complaints",
                Kind.MULTI,
                N_("Has anyone already complained? Choose everything that applies, then press Done."),
                N_("Complaints made"),
                (
                    Option("none", N_("No complaints yet"), exclusive=True),
                    Option("prosecutor", N_("Prosecutor's office")),
                    Option("police", N_("Police")),
                    Option(
                        "ombudsman",
                        N_("Ombudsman or the National Preventive Mechanism"),
                        short=N_("Ombudsman or NPM"),
                    ),
                    Option("court", N_("Court")),
                    Option("un", N_("UN committee")),
                    Option("other", N_("Elsewhere")),
                ),
                skip=DONT_KNOW,
            ),
            Question(
                "reprisals",
                Kind.CHOICE,
                N_("Since then, has there been pressure or revenge against the person or the family?"),
                N_("Pressure or reprisals"),
                YES_NO,
                skip=DONT_KNOW,
                columns=2,
            ),
            Question(
                "reprisal_details",
                Kind.TEXT,
                N_("Briefly, what happened after the complaint?"),
                N_("About the reprisals"),
                skip=SKIP,
                private=True,
                max_len=1000,
                when=answer_is("reprisals", "yes"),
            ),
        ),
    ),
    Step(
        "evidence",
        N_("Evidence"),
        (
            Question(
                "files",
                Kind.FILES,
                N_(
                    "If you have photos of injuries, documents, voice recordings or videos, send them "
                    "now, one by one. Up to {max_files} files, each up to {max_mb} MB. Send pictures as "
                    "photos, not as files: a file keeps the place and phone model inside. Keep the "
                    "originals on your phone. Press Done when you have finished."
                ),
                N_("Files"),
                skip=SKIP,
            ),
        ),
    ),
    Step(
        "contact",
        N_("Staying in touch"),
        (
            Question(
                "contact",
                Kind.CHOICE,
                N_(
                    "May a coordinator write back to you through this bot? They will not see your name "
                    "or account."
                ),
                N_("Coordinators may write back"),
                YES_NO,
                columns=2,
            ),
            Question(
                "silent",
                Kind.CHOICE,
                N_("Should our notifications arrive silently, without sound?"),
                N_("Silent notifications"),
                YES_NO,
                columns=2,
                when=answer_is("contact", "yes"),
            ),
        ),
    ),
)

REVIEW_STEP_TITLE = N_("Review and send")
TOTAL_STEPS = len(STEPS) + 1  # the review is the last step

QUESTIONS: dict[str, Question] = {q.id: q for s in STEPS for q in s.questions}
STEP_OF: dict[str, int] = {q.id: i for i, s in enumerate(STEPS) for q in s.questions}
ORDER: tuple[str, ...] = tuple(q.id for s in STEPS for q in s.questions)
PRIVATE_FIELDS = frozenset(q.id for q in QUESTIONS.values() if q.private)


def step_number(qid: str) -> int:
    """1-based step number of a question, as shown to the reporter."""
    return STEP_OF[qid] + 1


def next_question(answers: Answers, after: str | None) -> str | None:
    """The next applicable question after `after` (None: the first), or None at the end."""
    start = 0 if after is None else ORDER.index(after) + 1
    for qid in ORDER[start:]:
        if QUESTIONS[qid].applies(answers):
            return qid
    return None


def previous_question(answers: Answers, before: str) -> str | None:
    for qid in reversed(ORDER[: ORDER.index(before)]):
        if QUESTIONS[qid].applies(answers):
            return qid
    return None


def first_of_step(step_index: int, answers: Answers) -> str | None:
    for q in STEPS[step_index].questions:
        if q.applies(answers):
            return q.id
    return None


def prune(answers: dict[str, Any]) -> dict[str, Any]:
    """Drop answers to questions that no longer apply (e.g. after an edit changed a condition).

    Repeated until stable, since conditions chain (month depends on year depends on "earlier").
    """
    while True:
        kept = {k: v for k, v in answers.items() if k not in QUESTIONS or QUESTIONS[k].applies(answers)}
        if kept == answers:
            return kept
        answers = kept


def is_urgent(answers: Answers) -> bool:
    danger = answers.get("danger")
    return isinstance(danger, list) and any(flag in DANGER_FLAGS for flag in danger)


def validate_answer(question: Question, value: Any) -> bool:
    """Whether a stored/forged value is acceptable for this question."""
    if value == SKIPPED:
        return question.skip is not None
    if question.kind is Kind.CHOICE:
        return isinstance(value, str) and question.option(value) is not None
    if question.kind is Kind.MULTI:
        return (
            isinstance(value, list)
            and bool(value)
            and all(isinstance(v, str) and question.option(v) for v in value)
        )
    return True
