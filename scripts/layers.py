"""Print the imports that break the one-way layering, and the import circles; exit 1 if any.

    python scripts/layers.py

The layers, top to bottom (LAYERS below is the one place they are written down):

    bot/                  wiring, runners, workers, the config loader, command-line tools
    handlers/             routers: parse an update, call a use case, show a view
    services/             use cases: submit, open by code, casework, limits, privacy, stats
    storage/              SQL, the key file, migrations; takes URLs and keys as arguments
    domain/               pure: questionnaire, values, workflow rules, case views

A module may import its own layer or any layer below it. An import of a higher layer, or a
circle of modules importing each other (within a layer too), is listed with the importing
file's length. Every import counts, also those inside functions or under TYPE_CHECKING: each
still ties the lower module to the higher one.

``emulator/`` (the fake Bot API used by the tests and the demo) stands apart: it imports none
of the layers, and none of them imports it (the demo starts the bot as a separate process).
Circles are looked for among the layers only: the emulator is a test tool with its own shape.

Texts live with the views. Only ``handlers/`` writes user-visible texts (msgids) and translates
them; ``domain/`` may hold msgids as data (the questionnaire, the rights pages, the labels of
the workflow: ``N_("…")``, never translated there); ``bot/`` may translate a msgid it imports
from ``handlers/`` (a middleware's one-line answer) but declares none. A msgid declared, or a
translation made, anywhere else is listed as a "text" finding.

tests/test_layers.py runs this check on the tree and on small planted trees.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Bottom first; packages in one tuple form one layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("domain",),
    ("storage",),
    ("services",),
    ("handlers",),
    ("bot",),
)
STANDALONE: tuple[str, ...] = ("emulator",)  # imports no layer, imported by none
RANK = {package: i for i, layer in enumerate(LAYERS) for package in layer}
PACKAGES = (*RANK, *STANDALONE)


@dataclass(frozen=True)
class Finding:
    kind: str  # "up", "apart" (to or from a standalone package), "circle" or "text"
    text: str


def modules(root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports (a ``from pkg import mod`` names the module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    resolved = set()
    for target in targets:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# gettext's names: a call of one with a string literal declares a msgid; importing or calling
# one of them (or an I18n's method) translates.
MSGID_CALLS = frozenset({"_", "N_", "__", "gettext", "ngettext", "lazy_gettext", "lazy_ngettext"})
TRANSLATING = frozenset({"gettext", "ngettext", "lazy_gettext", "lazy_ngettext", "get_i18n", "I18n"})
DECLARE_MSGIDS = frozenset({"handlers", "domain"})
TRANSLATE = frozenset({"handlers", "bot"})


def _called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def text_findings(name: str, path: Path, where: str) -> list[Finding]:
    """Msgids declared, or translations made, outside the layers allowed to (module docstring)."""
    package = name.split(".")[0]
    if package not in RANK:
        return []
    findings = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and _called_name(node) in MSGID_CALLS:
            literal = (
                node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
            )
            if literal and package not in DECLARE_MSGIDS:
                findings.append(Finding("text", f"text: {where} line {node.lineno} declares a msgid"))
            elif package not in TRANSLATE and _called_name(node) != "N_":
                findings.append(Finding("text", f"text: {where} line {node.lineno} translates"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aiogram.utils.i18n"):
            used = {alias.name for alias in node.names} & TRANSLATING
            if used and package not in TRANSLATE:
                findings.append(
                    Finding("text", f"text: {where} line {node.lineno} imports {', '.join(sorted(used))}")
                )
    return findings


def check(root: Path = ROOT) -> list[Finding]:
    """Every upward import, every import to or from a standalone package, every circle of the layers."""
    known = modules(root)
    graph = {name: imports(name, path, known) for name, path in known.items()}

    def where(name: str) -> str:
        path = known[name]
        return f"{path.relative_to(root)} ({len(path.read_text(encoding='utf-8').splitlines())} lines)"

    findings = []
    for name in sorted(graph):
        source = name.split(".")[0]
        for target in sorted(graph[name]):
            destination = target.split(".")[0]
            if source == destination:
                continue
            if source in STANDALONE or destination in STANDALONE:
                findings.append(Finding("apart", f"apart: {where(name)} imports {target}"))
            elif RANK[destination] > RANK[source]:
                findings.append(Finding("up", f"up: {where(name)} imports {target}"))

    def in_layers(name: str) -> bool:
        return name.split(".")[0] in RANK

    layered = {
        name: {t for t in targets if in_layers(t)} for name, targets in graph.items() if in_layers(name)
    }
    for component in circles(layered):
        files = ", ".join(where(m) for m in component)
        findings.append(Finding("circle", f"circle: {files}"))
    for name in sorted(known):
        findings += text_findings(name, known[name], where(name))
    return findings


def main() -> int:
    findings = check()
    for finding in findings:
        print(finding.text)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
