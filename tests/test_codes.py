from __future__ import annotations

from collections import Counter

import pytest

from storage.codes import ALPHABET, CODE_LENGTH, format_code, new_case_code, normalize_code


def test_alphabet_is_crockford() -> None:
    assert ALPHABET == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert len(set(ALPHABET)) == 32  # 5 bits per symbol
    assert CODE_LENGTH * 5 >= 60


def test_new_codes_have_the_right_shape_and_do_not_repeat() -> None:
    codes = [new_case_code() for _ in range(10_000)]
    assert all(len(c) == 12 and set(c) <= set(ALPHABET) for c in codes)
    assert len(set(codes)) == len(codes)
    assert all(normalize_code(c) == c for c in codes[:100])


def test_symbols_are_roughly_uniform() -> None:
    # 120k symbols over 32 values: ~3750 each; a biased generator would be far off.
    counts = Counter("".join(new_case_code() for _ in range(10_000)))
    assert set(counts) == set(ALPHABET)
    assert min(counts.values()) > 3_000 and max(counts.values()) < 4_500


def test_format_groups_in_fours() -> None:
    assert format_code("K7MQ4XTP9RWD") == "K7MQ-4XTP-9RWD"
    with pytest.raises(ValueError, match="not a canonical case code"):
        format_code("K7MQ-4XTP-9RWD")
    with pytest.raises(ValueError, match="not a canonical case code"):
        format_code("K7MQ4XTP9RWU")


@pytest.mark.parametrize(
    "typed",
    [
        "K7MQ4XTP9RWD",
        "K7MQ-4XTP-9RWD",
        "k7mq-4xtp-9rwd",
        "  K7MQ 4XTP 9RWD \n",
        "K7MQ—4XTP–9RWD",  # em/en dashes from autocorrect
        "K7MQ\u22124XTP\u20119RWD",  # minus sign, non-breaking hyphen
        "Ｋ７ＭＱ-４ＸＴＰ-９ＲＷＤ",  # full-width
        "К7МQ-4ХТР-9RWD",  # Cyrillic К, М, Х, Т, Р typed on a Russian layout
        "к7мq 4хтр 9rwd",  # ... in lower case
    ],
)
def test_normalize_accepts_what_people_type(typed: str) -> None:
    assert normalize_code(typed) == "K7MQ4XTP9RWD"


def test_normalize_maps_look_alikes() -> None:
    assert normalize_code("OOOO-IIII-LLLL") == "000011111111"
    assert normalize_code("oooo-iiii-llll") == "000011111111"
    assert normalize_code("ОООО-0000-0000") == "000000000000"  # Cyrillic О
    assert normalize_code("АВЕК-МНОР-СТХ0") == "ABEKMH0PCTX0"
    assert normalize_code("авек-мнор-стх0") == "ABEKMH0PCTX0"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "K7MQ-4XTP-9RW",  # too short
        "K7MQ-4XTP-9RWDD",  # too long
        "K7MQ-4XTP-9RWU",  # U is not in the alphabet
        "K7MQ-4XTP-9RW!",
        "K7MQ.4XTP.9RWD",
        "K7MQ-4XTP-9RWЖ",  # a Cyrillic letter with no Latin look-alike
        "ßßßßßß",  # upper-cases to "SS" each: must not sneak in
        "K" * 1000,
        "/start",
    ],
)
def test_normalize_rejects(typed: str) -> None:
    assert normalize_code(typed) is None
