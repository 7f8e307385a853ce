"""Print the imports that break the one-way layering, and the import circles; exit 1 if any.

    python scripts/layers.py

Layers, top to bottom: bot → handlers → services → storage → domain. A module may import its
own layer or any layer below it; an import of a higher layer, or a circle of modules importing
each other, is listed with the importing file's length. Every import counts, also those inside
functions or under TYPE_CHECKING: each still ties the lower module to the higher one.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("domain", "storage", "services", "handlers", "bot")  # bottom first
RANK = {name: i for i, name in enumerate(LAYERS)}


def modules() -> dict[str, Path]:
    found = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports (a ``from pkg import mod`` names the module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
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


def main() -> int:
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    lines = {name: len(path.read_text().splitlines()) for name, path in known.items()}
    upward = [
        (name, target)
        for name in sorted(graph)
        for target in sorted(graph[name])
        if RANK[target.split(".")[0]] > RANK[name.split(".")[0]]
    ]
    for name, target in upward:
        print(f"up: {known[name].relative_to(ROOT)} ({lines[name]} lines) imports {target}")
    for component in circles(graph):
        files = ", ".join(f"{known[m].relative_to(ROOT)} ({lines[m]})" for m in component)
        print(f"circle: {files}")
    return 1 if upward or circles(graph) else 0


if __name__ == "__main__":
    sys.exit(main())
