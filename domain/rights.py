"""The rights library ("Know your rights"), declared once as data.

Every text is a msgid (marked with N_, translated when shown), so a lawyer or a translator edits
the pages in the gettext catalogs without touching code. The facts come from
shared/CONTENT.md only, and each fact is said once. Each page ends with its full sources line,
the date the pages were checked and "This is not legal advice"; the screens before the last
carry a short pointer to it instead, so that every screen fits an old phone (at most
SCREEN_LIMIT characters in any language).

A few paragraphs depend on the deployment (the organisation's name and contacts, whether it has
a lawyer, the retention settings, plural forms): they are `Slot`s and `IfLawyer`s, rendered by
handlers/rights.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.i18n import N_

# The day the pages were last checked against CONTENT.md: change it whenever a page's text
# changes. A lawyer's review (ngo.legal_reviewed_on) older than this does not cover the text.
CHECKED_ON = date(2026, 12, 1)

SCREEN_LIMIT = 900  # characters: about one screen of an old Android phone, in kk/ru/en

CHECKED_LINE = N_("Checked on {date}. This is not legal advice.")
REVIEWED_LINE = N_("Reviewed by {who} on {date}. This is not legal advice.")
POINTER_LINE = N_("This is not legal advice. Sources and date: on the last screen.")


@dataclass(frozen=True)
class Attestation:
    """The last line of a page: who checked it and when."""

    msgid: str
    day: date
    who: str = ""


def attestation(reviewed_on: date | None, reviewed_by: str) -> Attestation:
    """ "Reviewed by ..." only for a lawyer's review of the current text; "Checked on" otherwise."""
    if reviewed_on is not None and reviewed_by and reviewed_on >= CHECKED_ON:
        return Attestation(REVIEWED_LINE, reviewed_on, reviewed_by)
    return Attestation(CHECKED_LINE, CHECKED_ON)


class Slot(StrEnum):
    """A paragraph filled in from the configuration when the page is shown."""

    NGO_CONTACTS = "ngo_contacts"  # the deploying organisation's contacts, only when configured
    DRAFT_RETENTION = "draft_retention"  # retention.draft_days
    CLOSED_RETENTION = "closed_retention"  # retention.closed_case_days


@dataclass(frozen=True)
class IfLawyer:
    """A paragraph that may promise the organisation's lawyer only when ngo.lawyer is set."""

    with_lawyer: str  # may use {lawyer}: how to reach the lawyer
    without: str


@dataclass(frozen=True)
class Bullets:
    """A list of short points, shown one per line."""

    items: tuple[str, ...]


Item = str | Bullets | Slot | IfLawyer  # a paragraph msgid, a list of points, or a slot


@dataclass(frozen=True)
class Screen:
    items: tuple[Item, ...]
    heading: str | None = None  # an optional subheading msgid


@dataclass(frozen=True)
class Page:
    id: str  # short and stable: it is part of callback data
    title: str
    screens: tuple[Screen, ...]
    sources: str  # "Sources: ..." msgid


RISK = "risk"
DETAINED = "detained"
EVIDENCE = "evidence"
COMPLAIN = "complain"
DIGITAL = "digital"
STORED = "stored"

LIBRARY_TITLE = N_("Know your rights")
LIBRARY_INTRO = IfLawyer(
    N_(
        "Short guides for relatives, written from the law and public sources. They are general "
        "information, not advice on your case: the organisation's lawyer can advise you. Choose "
        "a topic."
    ),
    N_(
        "Short guides for relatives, written from the law and public sources. They are general "
        "information, not advice on your case: for that, ask a lawyer. Choose a topic."
    ),
)

ANONYMOUS_APPEALS = N_(
    "State bodies do not consider anonymous appeals unless they report a crime. For an official "
    "investigation, a relative will usually have to sign a complaint; the organisation can help "
    "you write it."
)
NEVER_ASK = N_("Never ask the detained person to take risks to collect evidence.")

PAGES: tuple[Page, ...] = (
    Page(
        RISK,
        N_("Reporting safely"),
        (
            Screen(
                heading=N_("What the law says"),
                items=(
                    N_(
                        "Many relatives fear being punished for “false information”. Here is what the "
                        "law says, and how to lower the risk."
                    ),
                    Bullets(
                        (
                            # CONTENT: the law punishes reports the person knows to be false; whether an
                            # honest mistake is safe is unconfirmed for Kazakh case law, so it is not said.
                            N_(
                                "Criminal Code Art. 419 punishes a report of a crime that the person knows to "
                                "be false: up to 5 years in prison, or 3 to 8 years if it accuses someone of a "
                                "grave or corruption crime. So report only what you know, and say how you "
                                "know it."
                            ),
                            N_(
                                "Criminal Code Art. 274 (spreading knowingly false information) has been used "
                                "against activists: a prison-rights defender was investigated under it twice, "
                                "and both cases were closed."
                            ),
                        )
                    ),
                ),
            ),
            Screen(
                heading=N_("Defamation and lawsuits"),
                items=(
                    Bullets(
                        (
                            N_(
                                "Defamation is an administrative offence (Administrative Code Art. 73-3: a "
                                "fine or a short arrest). Insult is reported to remain a crime (Criminal Code "
                                "Art. 131)."
                            ),
                            N_(
                                "Under Civil Code Art. 143 a person or an organisation can sue to refute "
                                "information that damages their honour, dignity or business reputation, and "
                                "the one who spread it must prove it true."
                            ),
                            N_(
                                "In such lawsuits a statement to an organisation or an official counts as "
                                "spreading information, even when made to one person (Supreme Court "
                                "resolution No. 6 of 18 December 1992)."
                            ),
                        )
                    ),
                ),
            ),
            Screen(
                heading=N_("What happened to others"),
                items=(
                    N_(
                        "In 2020 prison colonies sued the prison-rights defender Elena Semenova over "
                        "Facebook posts retelling what prisoners had told her. The colonies won, even "
                        "where she had recordings of her calls with the prisoners."
                    ),
                    N_(
                        "A complaint to an authority can count as spreading too: in February 2026 a "
                        "woman in Mangystau region was fined under Administrative Code Art. 73-3 over a "
                        "complaint she had sent to a government department."
                    ),
                    # Not "a confidential report is safe": a report to the NGO is a statement to an
                    # organisation, which the resolution above counts as spreading.
                    N_(
                        "A report through this bot goes only to the organisation's coordinators and is "
                        "not a public post. Still, like any statement to an organisation, it could count "
                        "as “spreading” in a lawsuit."
                    ),
                ),
            ),
            Screen(
                heading=N_("How to lower the risk"),
                items=(
                    Bullets(
                        (
                            N_(
                                "Say where each fact comes from: “I saw it myself”, “my son told me at a "
                                "visit on 3 May”, “the lawyer told me”."
                            ),
                            N_(
                                "Opinions are treated differently from statements of fact: “I think this is "
                                "cruel” is an opinion; “he hit my son on 3 May” is a fact you may have to "
                                "prove."
                            ),
                            N_("Give dates, places, injuries and witnesses rather than labels or insults."),
                            N_("Keep copies of documents, complaints and answers."),
                            N_("Do not name officers in public posts."),
                        )
                    ),
                ),
            ),
            Screen(
                heading=N_("Before an official complaint"),
                items=(
                    IfLawyer(
                        N_(
                            "No report is completely free of legal risk. Before any official complaint, "
                            "the organisation's lawyer can advise you: {lawyer}"
                        ),
                        N_(
                            "No report is completely free of legal risk. Before any official complaint, "
                            "ask a lawyer for advice; the organisation can help you find one."
                        ),
                    ),
                ),
            ),
        ),
        N_(
            "Sources: Criminal, Administrative and Civil Codes of Kazakhstan (adilet.zan.kz); "
            "Supreme Court resolution No. 6 of 18 December 1992 (zakonpravo.kz); Mediazona, "
            "2 October 2020; ACCA and KIBHR (bureau.kz); Zakon.kz, February 2026; Adil Soz."
        ),
    ),
    Page(
        DETAINED,
        N_("Rights of a detained person"),
        (
            Screen(
                heading=N_("Torture is a crime"),
                items=(
                    N_(
                        "Cruel, inhuman or degrading treatment and torture by an official or a person "
                        "acting in an official capacity, or by others at their instigation or with their "
                        "consent, are crimes under Criminal Code Art. 146. It is punished more severely "
                        "when done to a minor or a pregnant woman, by a group, or repeatedly."
                    ),
                    N_(
                        "Since 2023 a court cannot give a suspended sentence for torture (Criminal Code "
                        "Art. 63)."
                    ),
                    N_(
                        "Torture complaints are investigated by the prosecutor's office. Rights groups "
                        "report that complaints classed as “cruel treatment” may still be handled by the "
                        "police."
                    ),
                ),
            ),
            Screen(
                heading=N_("A lawyer and a doctor"),
                items=(
                    N_(
                        "Try to get a lawyer to the person. If the chosen lawyer cannot come within 24 "
                        "hours of detention, the investigator must offer another one; legal aid is free "
                        "in cases set by law."
                    ),
                    N_(
                        "The new Constitution, in force since 1 July 2026, is reported to require that a "
                        "detained person be told their rights, including to a lawyer and an interpreter, "
                        "at the moment of detention, and to limit detention without a court decision to "
                        "48 hours (72 in exceptional cases). Check the details with a lawyer."
                    ),
                    N_(
                        "If the person was hurt, ask for a medical examination and for the injuries to be "
                        "recorded as soon as possible. Whether a forensic examination must be given on "
                        "request: check with a lawyer."
                    ),
                ),
            ),
            Screen(
                heading=N_("Complaints"),
                items=(
                    ANONYMOUS_APPEALS,
                    N_("A convicted person can complain personally or through a lawyer."),
                    NEVER_ASK,
                ),
            ),
        ),
        N_(
            "Sources: Criminal Code of Kazakhstan (adilet.zan.kz); UN Committee against Torture, "
            "CAT/C/KAZ/CO/4 (2023), and the government's follow-up (May 2024); Kazinform, "
            "December 2025; press reports on the 2026 Constitution."
        ),
    ),
    Page(
        EVIDENCE,
        N_("Documenting injuries and evidence"),
        (
            Screen(
                heading=N_("Injuries and records"),
                items=(
                    Bullets(
                        (
                            N_(
                                "Photograph injuries as early as possible, with a ruler or a coin for scale, "
                                "and note the date."
                            ),
                            N_("Keep the original photo files."),
                            N_("Keep clothes with blood or damage."),
                            N_(
                                "Write down dates, places, what was said, and the names or roles of "
                                "witnesses."
                            ),
                            N_("Keep copies of medical records and of every complaint and answer."),
                            N_(
                                "If the person can, they should describe the room and the officers: their "
                                "appearance, ranks or names if known."
                            ),
                        )
                    ),
                    N_(
                        "If there are injuries, ask for a medical examination and for the injuries to be "
                        "recorded."
                    ),
                ),
            ),
            Screen(
                heading=N_("Keep the person safe"),
                items=(
                    NEVER_ASK,
                    N_(
                        "Do not promise the person protection that nobody can guarantee. Share what they "
                        "told you only with their informed agreement, which they may take back."
                    ),
                    # The same condition as above: a complaint shares the person's account.
                    N_(
                        "With the person's agreement, complain promptly to the prosecutor's office; the "
                        "organisation can help you write the complaint."
                    ),
                    N_(
                        "Photos sent “as file” keep hidden data, which may include where the picture was "
                        "taken. The bot removes it from pictures before storing them, but Telegram "
                        "receives the file as you send it."
                    ),
                ),
            ),
        ),
        N_(
            "Sources: the Istanbul Protocol (2022 edition) and PHR's Istanbul Protocol toolkit; "
            "advice of the prosecutor's office."
        ),
    ),
    Page(
        COMPLAIN,
        N_("Where else to complain"),
        (
            Screen(
                heading=N_("In Kazakhstan"),
                items=(
                    N_(
                        "The prosecutor's office supervises places of detention and investigates torture "
                        "complaints. The Human Rights Commissioner said in December 2025 that every "
                        "torture complaint his office receives goes at once to the prosecutor's office."
                    ),
                    N_(
                        "The Human Rights Commissioner in the Republic of Kazakhstan (Ombudsman) keeps "
                        "complaint files confidential until a decision, needs written consent to "
                        "disclose private details, and answers within 15 working days."
                    ),
                    N_(
                        "The National Preventive Mechanism against torture has worked since 2014 with the "
                        "Ombudsman and members from NGOs."
                    ),
                    # Anonymous appeals are explained once, on the detained person's page.
                    Slot.NGO_CONTACTS,
                ),
            ),
            Screen(
                heading=N_("The UN and NGOs"),
                items=(
                    N_(
                        "When the ways of complaining inside Kazakhstan have been used, an individual "
                        "complaint can go to the UN Committee against Torture (Kazakhstan accepted this "
                        "in 2008) or to the UN Human Rights Committee (since 30 September 2009). "
                        "Relatives have filed such complaints successfully."
                    ),
                    N_(
                        "The NGO Coalition of Kazakhstan against torture receives complaints. The "
                        "Kazakhstan International Bureau for Human Rights and Rule of Law (KIBHR, "
                        "bureau.kz) supports victims."
                    ),
                ),
            ),
        ),
        N_(
            "Sources: Kazinform, December 2025; UN Committee against Torture, CAT/C/KAZ/CO/4 "
            "(2023), and the government's follow-up (May 2024), docstore.ohchr.org; KIBHR "
            "(bureau.kz)."
        ),
    ),
    Page(
        DIGITAL,
        N_("Digital safety"),
        (
            Screen(
                heading=N_("Who can see this chat"),
                items=(
                    N_(
                        "Chats with bots are not end-to-end encrypted: Telegram's servers can see them. "
                        "Only secret chats are, and bots cannot use them."
                    ),
                    N_(
                        "Anyone who can open your phone can read this chat. After sending your report "
                        "you can delete the chat: your report stays with the organisation, and your case "
                        "code still works."
                    ),
                    N_(
                        "Notifications from this bot look neutral. In the report you can also ask for "
                        "silent notifications."
                    ),
                ),
            ),
            Screen(
                heading=N_("Deleting this chat"),
                items=(
                    N_(
                        "To delete this chat, use “Erase this chat” (/erase): the bot deletes the "
                        "messages of this chat from the last 48 hours, yours and its own. Telegram allows "
                        "bots no more, so delete older messages yourself: open this chat's menu in "
                        "Telegram and choose “Delete chat” or “Clear history”."
                    ),
                    N_(
                        "So that “Erase this chat” can work, the bot notes the numbers of the messages "
                        "in this chat (never their text), encrypted, for 48 hours."
                    ),
                ),
            ),
            Screen(
                heading=N_("Files and your case code"),
                items=(
                    N_(
                        "Photos sent “as file” keep hidden data, which may include where the picture was "
                        "taken. Photos sent as a photo are re-encoded by Telegram. The bot removes hidden "
                        "data from pictures before storing them, but Telegram receives the file as you "
                        "send it."
                    ),
                    N_(
                        "Write your case code on paper or remember it. Do not keep it in your phone's "
                        "notes or photos. Anyone who has the code can read the coordinators' messages "
                        "and add to the case."
                    ),
                    N_(
                        "The code is stored only in a scrambled form, so nobody can tell it to you "
                        "again if you lose it."
                    ),
                ),
            ),
        ),
        N_(
            "Sources: Telegram Bot API (deleteMessage); Telegram's documentation on secret "
            "chats; this bot's settings."
        ),
    ),
    Page(
        STORED,
        N_("What happens to your report"),
        (
            Screen(
                heading=N_("Who reads it"),
                items=(
                    N_(
                        "Your report goes only to the coordinators of {ngo}. They see your answers and "
                        "files, but not your name, username, phone number or Telegram account."
                    ),
                    N_(
                        "A coordinator can write to you through this bot only if you agreed. Your "
                        "choices from the first screen are stored with the report."
                    ),
                    N_(
                        "Your chat number, needed to write back to you, is stored (encrypted) only if "
                        "you agreed to be contacted."
                    ),
                ),
            ),
            Screen(
                heading=N_("What is stored"),
                items=(
                    N_(
                        "Stored encrypted: what you write in your own words, names, the place's name, "
                        "your files (pictures without their hidden data) and the messages between you "
                        "and the coordinators."
                    ),
                    N_(
                        "Stored without encryption, to sort cases and count them anonymously: the "
                        "answers you chose with buttons, such as the kind of place, the region and what "
                        "was done."
                    ),
                    N_(
                        "Never stored with the report: your Telegram id, username, name or phone "
                        "number. To find your reports under “My reports”, the bot keeps a scrambled code "
                        "made from your account with a secret key kept apart from the database."
                    ),
                ),
            ),
            Screen(
                heading=N_("For how long"),
                items=(
                    Slot.DRAFT_RETENTION,
                    Slot.CLOSED_RETENTION,
                    N_(
                        "“Forget me” (/forget) removes every link between this Telegram account and "
                        "your reports. The reports stay with the coordinators, with no link to you, and "
                        "their case codes still open them."
                    ),
                ),
            ),
        ),
        N_("Sources: this bot's source code and its settings."),
    ),
)

PAGE_BY_ID: dict[str, Page] = {page.id: page for page in PAGES}


def paragraphs(page: Page) -> list[str]:
    """Every msgid of a page (for checks), in reading order."""
    out = [page.title, page.sources]
    for screen in page.screens:
        if screen.heading:
            out.append(screen.heading)
        for item in screen.items:
            if isinstance(item, Bullets):
                out.extend(item.items)
            elif isinstance(item, IfLawyer):
                out.extend((item.with_lawyer, item.without))
            elif not isinstance(item, Slot):
                out.append(item)
    return out
