"""Division codes: GB/T 2260 district (6) + subdistrict (3) + community (3)."""

from __future__ import annotations

import pytest

from gridcity.domain.divisions import (
    DivisionLevel,
    level_of,
    parent_code,
    validate_code,
    validate_parent,
)
from gridcity.domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("110101", DivisionLevel.DISTRICT),
        ("320582", DivisionLevel.DISTRICT),
        ("110101001", DivisionLevel.SUBDISTRICT),
        ("320582107234", DivisionLevel.COMMUNITY),
    ],
)
def test_well_formed_codes_are_accepted_at_their_level(code: str, level: DivisionLevel) -> None:
    assert validate_code(code, level) == code
    assert level_of(code) is level


@pytest.mark.parametrize(
    ("code", "level", "reason"),
    [
        ("11010A", DivisionLevel.DISTRICT, "division_code_digits"),
        ("11010", DivisionLevel.DISTRICT, "division_code_length"),
        ("110101001", DivisionLevel.DISTRICT, "division_code_length"),
        ("990101", DivisionLevel.DISTRICT, "division_code_province"),
        ("110000", DivisionLevel.DISTRICT, "division_code_not_county"),
        ("110100", DivisionLevel.DISTRICT, "division_code_not_county"),
        ("110101000", DivisionLevel.SUBDISTRICT, "division_code_zero_segment"),
        ("110101001000", DivisionLevel.COMMUNITY, "division_code_zero_segment"),
        ("", DivisionLevel.DISTRICT, "division_code_digits"),
    ],
)
def test_malformed_codes_are_refused_with_a_reason(
    code: str, level: DivisionLevel, reason: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_code(code, level)
    assert refused.value.code == reason


def test_the_parent_code_is_the_code_prefix() -> None:
    assert parent_code("110101") is None
    assert parent_code("110101001") == "110101"
    assert parent_code("110101001002") == "110101001"


def test_a_parent_must_be_the_prefix_and_a_district_has_none() -> None:
    validate_parent("110101001", DivisionLevel.SUBDISTRICT, "110101")
    for code, level, parent, reason in [
        ("110101001", DivisionLevel.SUBDISTRICT, "110102", "division_parent_mismatch"),
        ("110101001", DivisionLevel.SUBDISTRICT, None, "division_parent_missing"),
        ("110101", DivisionLevel.DISTRICT, "110000", "division_parent_unexpected"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            validate_parent(code, level, parent)
        assert refused.value.code == reason


def test_a_code_of_unknown_length_has_no_level() -> None:
    with pytest.raises(InvalidInput):
        level_of("1101010")
