"""Print the report questionnaire as a Mermaid flowchart, generated from domain.questionnaire.

    python scripts/questionnaire_diagram.py > docs/questionnaire.mmd

Steps become subgraphs, questions nodes (English prompt, shortened), and the path between them
edges. A question's ``when`` is a lambda, so its edge labels are found by evaluation: for each
step, every combination of answers to the step's choice questions (each option, and "Don't
know" / "Skip" where offered) is walked through the step the way ``next_question`` does; where
one question can lead to several next ones, each edge is labelled with the answers that take it
(the last one, which skips the conditional questions, with "otherwise").

The output is deterministic and does not depend on the date (the year options change every
year, so a condition on them is written as the answers that do *not* qualify when that is
shorter). tests/test_docs.py fails when docs/questionnaire.mmd or the README's copy is stale.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from domain.questionnaire import (  # noqa: E402 - after the sys.path set-up
    ORDER,
    QUESTIONS,
    REVIEW_STEP_TITLE,
    SKIPPED,
    STEPS,
    Kind,
    Question,
    Step,
)

PROMPT_CHARS = 60
CONSENT, REVIEW, SUBMITTED = "consent", "review", "submitted"

Edge = tuple[str, str, str]  # (from, to, label); "" is no label
Combo = tuple[tuple[str, Any], ...]  # the answers given so far, as sorted (question, value) pairs


# --- what can be answered ----------------------------------------------------------------------


def _answers_of(question: Question) -> list[tuple[Any, str]]:
    """The values a choice question can take, with their English labels, in button order."""
    values = [(o.value, o.label) for o in question.choices()]
    if question.skip is not None:
        values.append((SKIPPED, question.skip))
    return values


def _placeholder(question: Question) -> Any:
    """A stand-in answer for a question whose value is not varied (free text, files...)."""
    if question.kind is Kind.MULTI:
        return [question.choices()[0].value]
    if question.kind is Kind.TEXT:
        return {"text": "…"}
    return SKIPPED


def _varied(step: Step) -> list[Question]:
    """The choice questions whose answers can decide which of the step's questions are asked:
    those before its last conditional question."""
    conditional = [i for i, q in enumerate(step.questions) if q.when is not None]
    if not conditional:
        return []
    return [q for q in step.questions[: conditional[-1]] if q.kind is Kind.CHOICE]


# --- walking a step ---------------------------------------------------------------------------


def _step_edges(step: Step, entry: str, exit_: str) -> list[Edge]:
    """The step's edges from `entry` through its questions to `exit_`, labelled where needed."""
    varied = _varied(step)
    # reached[a][b]: the answers given up to `a` on the walks that go from `a` to `b`.
    reached: dict[str, dict[str, set[Combo]]] = {}
    asked: set[str] = set()
    for values in itertools.product(*(_answers_of(q) for q in varied)):
        chosen = {q.id: value for q, (value, _label) in zip(varied, values, strict=True)}
        answers: dict[str, Any] = {}
        previous = entry
        for question in step.questions:
            if not question.applies(answers):
                continue
            asked.add(question.id)
            reached.setdefault(previous, {}).setdefault(question.id, set()).add(_combo(answers))
            answers[question.id] = chosen.get(question.id, _placeholder(question))
            previous = question.id
        reached.setdefault(previous, {}).setdefault(exit_, set()).add(_combo(answers))

    for question in step.questions:
        if question.when is None:
            continue
        if question.id not in asked:
            raise ValueError(f"{question.id!r} is never asked, whatever the answers in its step")
        if all(question.id in path for path in _paths(reached, entry, exit_)):
            raise ValueError(
                f"{question.id!r} is always asked: its condition must depend on answers to "
                f"choice questions earlier in step {step.id!r} for this diagram to show it"
            )

    edges: list[Edge] = []
    for source, targets in reached.items():
        ordered = sorted(targets, key=lambda t: ORDER.index(t) if t in QUESTIONS else len(ORDER))
        if len(ordered) == 1:
            edges.append((source, ordered[0], ""))
            continue
        everything = set().union(*targets.values())
        for target in ordered[:-1]:
            try:
                label = _describe(targets[target], everything)
            except ValueError as exc:
                raise ValueError(f"edge {source} -> {target}: {exc}") from None
            edges.append((source, target, label))
        edges.append((source, ordered[-1], "otherwise"))
    return edges


def _combo(answers: Mapping[str, Any]) -> Combo:
    return tuple(sorted((k, v) for k, v in answers.items() if QUESTIONS[k].kind is Kind.CHOICE))


def _paths(reached: dict[str, dict[str, set[Combo]]], start: str, end: str) -> Iterable[list[str]]:
    if start == end:
        yield [end]
        return
    for target in reached.get(start, {}):
        for rest in _paths(reached, target, end):
            yield [start, *rest]


def _describe(taken: set[Combo], everything: set[Combo]) -> str:
    """The shortest condition on the answers so far that holds for `taken` and for none of the
    other combinations in `everything`, as "Title: value" clauses joined by "and"."""
    rows = [dict(c) for c in everything]
    variables = sorted({k for row in rows for k in row}, key=ORDER.index)
    for size in range(1, len(variables) + 1):
        for chosen in itertools.combinations(variables, size):
            outcome: dict[tuple[Any, ...], bool] = {}
            consistent = True
            for combo, row in zip(everything, rows, strict=True):
                key = tuple(row.get(v) for v in chosen)
                if outcome.setdefault(key, combo in taken) != (combo in taken):
                    consistent = False
                    break
            if not consistent:
                continue
            # A conjunction of per-question conditions, if the qualifying answers allow one.
            accepted = [{key[i] for key, ok in outcome.items() if ok} for i in range(size)]
            if all(ok == all(key[i] in accepted[i] for i in range(size)) for key, ok in outcome.items()):
                seen = [{key[i] for key in outcome} for i in range(size)]
                return " and ".join(
                    _clause(QUESTIONS[qid], accepted[i], seen[i]) for i, qid in enumerate(chosen)
                )
    raise ValueError("this condition cannot be written as simple per-question clauses")


def _clause(question: Question, accepted: set[Any], seen: set[Any]) -> str:
    labels = dict(_answers_of(question))
    labels[None] = "not asked"
    order = [v for v, _label in _answers_of(question)] + [None]
    rejected = seen - accepted
    if len(accepted) <= len(rejected):
        return f"{question.title}: " + " / ".join(labels[v] for v in order if v in accepted)
    return f"{question.title}: not " + " / ".join(labels[v] for v in order if v in rejected)


# --- the whole conversation ----------------------------------------------------------------------


def edges() -> list[Edge]:
    """Every edge from consent to submission; step boundaries are spliced out."""
    graph: list[Edge] = [(CONSENT, _entry(0), "")]
    for index, step in enumerate(STEPS):
        graph += _step_edges(step, _entry(index), _exit(index))
        following = _entry(index + 1) if index + 1 < len(STEPS) else REVIEW
        graph.append((_exit(index), following, ""))
    graph.append((REVIEW, SUBMITTED, "Send"))
    for index in range(len(STEPS)):
        for pseudo in (_entry(index), _exit(index)):
            graph = _splice(graph, pseudo)
    rank = {name: i for i, name in enumerate((CONSENT, *ORDER, REVIEW, SUBMITTED))}
    return sorted(graph, key=lambda e: (rank[e[0]], rank[e[1]]))


def _entry(index: int) -> str:
    return f"<entry {index}>"


def _exit(index: int) -> str:
    return f"<exit {index}>"


def _splice(graph: list[Edge], node: str) -> list[Edge]:
    """Replace a -> node -> b by a -> b (labels joined)."""
    outgoing = [e for e in graph if e[0] == node]
    result: list[Edge] = []
    for edge in graph:
        if edge[1] == node:
            for _n, target, label in outgoing:
                joined = "; ".join(x for x in (edge[2], label) if x)
                if (edge[0], target, joined) not in result:
                    result.append((edge[0], target, joined))
        elif edge[0] != node:
            result.append(edge)
    return result


def shorten(prompt: str, limit: int = PROMPT_CHARS) -> str:
    """The prompt's first sentence (or what comes before a colon), cut at a word to `limit`."""
    text = " ".join(prompt.split())
    for stop in (". ", "? ", ": "):
        head, sep, _rest = text.partition(stop)
        if sep:
            text = head + ("?" if stop == "? " else "")
    text = text.rstrip(".")
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _quote(text: str) -> str:
    """Mermaid label text in double quotes (entity codes for the characters that break it)."""
    return '"' + text.replace("&", "#amp;").replace('"', "#quot;") + '"'


def _node_id(name: str) -> str:
    return name if name in (CONSENT, REVIEW, SUBMITTED) else f"q_{name}"


def render() -> str:
    lines = ["flowchart TD", f"    {CONSENT}([{_quote('Consent')}])"]
    for index, step in enumerate(STEPS, start=1):
        lines.append(f"    subgraph s{index}[{_quote(f'{index}. {step.title}')}]")
        for question in step.questions:
            lines.append(f"        {_node_id(question.id)}[{_quote(shorten(question.prompt))}]")
        lines.append("    end")
    lines.append(f"    {REVIEW}([{_quote(f'{len(STEPS) + 1}. {REVIEW_STEP_TITLE}')}])")
    lines.append(f"    {SUBMITTED}([{_quote('Submitted')}])")
    for source, target, label in edges():
        arrow = f" -->|{_quote(label)}| " if label else " --> "
        lines.append(f"    {_node_id(source)}{arrow}{_node_id(target)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
