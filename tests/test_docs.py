"""The questionnaire diagram in docs/ and in the README is the one the step definitions produce."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "questionnaire_diagram.py"
DIAGRAM = ROOT / "docs" / "questionnaire.mmd"
README = ROOT / "README.md"
REGENERATE = "run `python scripts/questionnaire_diagram.py > docs/questionnaire.mmd`"
MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("questionnaire_diagram", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_diagram_file_is_current() -> None:
    expected = _script().render()
    assert DIAGRAM.exists(), f"docs/questionnaire.mmd is missing: {REGENERATE}"
    assert DIAGRAM.read_text(encoding="utf-8") == expected, f"docs/questionnaire.mmd is stale: {REGENERATE}"


def test_readme_embeds_the_current_diagram() -> None:
    expected = _script().render()
    blocks = MERMAID_BLOCK.findall(README.read_text(encoding="utf-8"))
    assert blocks, "README.md has no ```mermaid block with the questionnaire"
    assert expected in blocks, (
        f"the questionnaire diagram in README.md is stale: {REGENERATE}, then paste "
        "docs/questionnaire.mmd into the ```mermaid block of README.md"
    )


def test_conditional_questions_are_labelled() -> None:
    """Every question asked only sometimes has a labelled edge into it and a way around it."""
    from domain.questionnaire import QUESTIONS

    script = _script()
    edges = script.edges()
    for qid, question in QUESTIONS.items():
        if question.when is None:
            continue
        into = [(source, label) for source, target, label in edges if target == qid]
        assert into and all(label for _source, label in into), (qid, into)
        for source, _label in into:
            assert (source, "otherwise") in [(s, label) for s, _t, label in edges], (qid, source)
