"""Administrative divisions: district (区/县) → subdistrict (街道/乡镇) → community (社区/村).

Codes follow GB/T 2260 (6 digits for the district) and GB/T 10114 (3 more digits for the
subdistrict); communities add 3 digits. We store the *full* code: 6, 9 or 12 digits.
"""

from __future__ import annotations

import re
from enum import StrEnum

from gridcity.domain.errors import InvalidInput


class DivisionLevel(StrEnum):
    """The three levels of the administrative hierarchy we manage."""

    DISTRICT = "district"
    SUBDISTRICT = "subdistrict"
    COMMUNITY = "community"


CODE_LENGTH = {
    DivisionLevel.DISTRICT: 6,
    DivisionLevel.SUBDISTRICT: 9,
    DivisionLevel.COMMUNITY: 12,
}
PARENT_LEVEL = {
    DivisionLevel.DISTRICT: None,
    DivisionLevel.SUBDISTRICT: DivisionLevel.DISTRICT,
    DivisionLevel.COMMUNITY: DivisionLevel.SUBDISTRICT,
}
CHILD_LEVEL = {
    DivisionLevel.DISTRICT: DivisionLevel.SUBDISTRICT,
    DivisionLevel.SUBDISTRICT: DivisionLevel.COMMUNITY,
    DivisionLevel.COMMUNITY: None,
}
_DIGITS = re.compile(r"^[0-9]+$")  # not \d: it accepts other scripts' digits
# GB/T 2260 province prefixes (11 Beijing … 65 Xinjiang, 71 Taiwan, 81/82 HK/Macao).
PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)


def level_of(code: str) -> DivisionLevel:
    """Level implied by the length of a full division code."""
    for level, length in CODE_LENGTH.items():
        if len(code) == length:
            return level
    raise InvalidInput(
        "division_code_length",
        "Division code %(code)s must have 6, 9 or 12 digits",
        code=code,
    )


def validate_code(code: str, level: DivisionLevel) -> str:
    """Return the code if it is well formed for the level, else refuse with the reason."""
    if not _DIGITS.match(code or ""):
        raise InvalidInput(
            "division_code_digits", "Division code %(code)s must be digits only", code=code
        )
    if len(code) != CODE_LENGTH[level]:
        raise InvalidInput(
            "division_code_length",
            "A code at this level must have %(length)s digits, got %(code)s",
            length=CODE_LENGTH[level],
            code=code,
        )
    if code[:2] not in PROVINCE_PREFIXES:
        raise InvalidInput(
            "division_code_province",
            "Division code %(code)s does not start with a GB/T 2260 province code",
            code=code,
        )
    if code[4:6] == "00" or code[2:6] == "0000":
        raise InvalidInput(
            "division_code_not_county",
            "Code %(code)s names a province or prefecture, not a county-level district",
            code=code,
        )
    if level is not DivisionLevel.DISTRICT and code[-3:] == "000":
        raise InvalidInput(
            "division_code_zero_segment",
            "The last 3 digits of %(code)s must not be 000",
            code=code,
        )
    return code


def parent_code(code: str) -> str | None:
    """Code of the parent division, or None for a district."""
    level = level_of(code)
    parent = PARENT_LEVEL[level]
    return None if parent is None else code[: CODE_LENGTH[parent]]


def validate_parent(code: str, level: DivisionLevel, parent: str | None) -> None:
    """Refuse a division whose parent is missing or is not its code prefix."""
    expected = PARENT_LEVEL[level]
    if expected is None:
        if parent is not None:
            raise InvalidInput("division_parent_unexpected", "A district has no parent division")
        return
    if parent is None:
        raise InvalidInput(
            "division_parent_missing", "A subdistrict or community needs a parent division"
        )
    if parent != code[: CODE_LENGTH[expected]]:
        raise InvalidInput(
            "division_parent_mismatch",
            "Code %(code)s does not start with its parent's code %(parent)s",
            code=code,
            parent=parent,
        )
