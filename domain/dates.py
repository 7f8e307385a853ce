"""One way to write a calendar date in a sentence, per language.

Babel's "long" formats end Russian dates with "г." and start Kazakh ones with "2026 ж.", which
doubles the full stop of a sentence ("2026 г..") and reads as an abbreviation in running text.
These patterns spell the date out the way it is written in prose instead.
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

PATTERNS = {
    "en": "d MMMM y",  # 25 November 2026
    "ru": "d MMMM y 'года'",  # 25 ноября 2026 года (the month in the genitive)
    "kk": "y 'жылғы' d MMMM",  # 2026 жылғы 25 қараша
}


def long_date(day: date, locale: str) -> str:
    """`day` written out in `locale` (English for a language without a pattern)."""
    language = str(locale).split("_")[0]
    return format_date(
        day, format=PATTERNS.get(language, PATTERNS["en"]), locale=language if language in PATTERNS else "en"
    )
