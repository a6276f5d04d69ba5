"""Unified social credit code (GB 32100-2015): 18 characters, the last is a check character."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcity.domain.departments import USCC_ALPHABET, uscc_check_char, validate_uscc
from gridcity.domain.errors import InvalidInput

# Published codes of well-known bodies, used as ground truth for the check character.
REAL_CODES = ["91110000802100433B", "91440300708461136T"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_pass_their_check(code: str) -> None:
    assert validate_uscc(code.lower()) == code


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_any_single_changed_character_fails_the_check(body: str) -> None:
    code = body + uscc_check_char(body)
    assert validate_uscc(code) == code
    wrong = USCC_ALPHABET[(USCC_ALPHABET.index(code[-1]) + 1) % 31]
    with pytest.raises(InvalidInput) as refused:
        validate_uscc(code[:-1] + wrong)
    assert refused.value.code == "uscc_checksum"


@pytest.mark.parametrize(
    ("code", "reason"),
    [("9111000080210043", "uscc_length"), ("91110000802100433I", "uscc_charset")],
)
def test_malformed_codes_are_refused(code: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_uscc(code)
    assert refused.value.code == reason
