"""Case codes: 12 Crockford base32 symbols (60 random bits), shown as ``K7MQ-4XTP-9RWD``.

A code is the only thing that lets someone reopen a case from another account, so it is drawn
from ``secrets`` and stored only as a keyed hash. Input is forgiving: people copy codes by hand,
from paper, or type them on a Russian keyboard.
"""

from __future__ import annotations

import secrets
import unicodedata

__all__ = ["ALPHABET", "CODE_LENGTH", "format_code", "new_case_code", "normalize_code"]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
CODE_LENGTH = 12  # 12 × 5 bits = 60 bits
GROUP = 4

# Characters that are ignored anywhere in the input: separators people add or copy along.
_SEPARATORS = frozenset(
    "-_\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"  # hyphens, dashes, minus
)

# Upper-case look-alikes → canonical symbol. Crockford's own rules (O→0, I/L→1) plus Cyrillic
# letters that look like Latin ones, for codes typed on a Russian/Kazakh layout.
_ALIASES = {
    "O": "0",
    "I": "1",
    "L": "1",
    "А": "A",
    "В": "B",
    "Е": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "0",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "Х": "X",
}

# Long enough for any sensible spacing of a 12-symbol code; anything longer is not a code.
_MAX_INPUT = 64


def new_case_code() -> str:
    """A fresh canonical code (12 symbols, no separators)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """The canonical 12-symbol form of a typed code, or None if it cannot be one."""
    if not text or len(text) > _MAX_INPUT:
        return None
    # NFKC folds full-width and other compatibility forms (e.g. "Ｋ７") to plain characters.
    text = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    for ch in text:
        if ch.isspace() or ch in _SEPARATORS:
            continue
        up = ch.upper()
        up = _ALIASES.get(up, up)
        if len(up) != 1 or up not in ALPHABET:  # e.g. "U", "ß".upper() == "SS", punctuation
            return None
        out.append(up)
    if len(out) != CODE_LENGTH:
        return None
    return "".join(out)


def format_code(canonical: str) -> str:
    """``"K7MQ4XTP9RWD"`` → ``"K7MQ-4XTP-9RWD"``. Raises ValueError for a non-canonical code."""
    if len(canonical) != CODE_LENGTH or any(ch not in ALPHABET for ch in canonical):
        raise ValueError("not a canonical case code")
    return "-".join(canonical[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))
