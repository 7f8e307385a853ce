"""Markers for msgids declared as data (extracted by Babel, translated at render time)."""

from __future__ import annotations


def N_(msgid: str) -> str:  # noqa: N802 - gettext's conventional name, which pybabel extracts
    """Mark a string for extraction without translating it now (it is translated when shown)."""
    return msgid
