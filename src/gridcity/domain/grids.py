"""Unit grid codes (单元网格标识码): 15 digits = district 6 + subdistrict 3 + community 3 +
sequence 3 (GB/T 30428.1; standards.md §1.1). Sequences run west→east, then north→south."""

from __future__ import annotations

import re

from gridcity.domain.divisions import DivisionLevel, validate_code
from gridcity.domain.errors import InvalidInput

GRID_CODE_LENGTH = 15
MAX_SEQUENCE = 999
_DIGITS = re.compile(r"^[0-9]{15}$")


def validate_grid_code(code: str) -> str:
    """Return the code if it is a well-formed unit grid code, else refuse with the reason."""
    if not _DIGITS.match(code or ""):
        raise InvalidInput(
            "grid_code_format", "A unit grid code has 15 digits, got %(code)s", code=code
        )
    validate_code(code[:12], DivisionLevel.COMMUNITY)
    if code[12:] == "000":
        raise InvalidInput(
            "grid_code_sequence", "The grid sequence of %(code)s must not be 000", code=code
        )
    return code


def community_of(grid_code: str) -> str:
    """The 12-digit community code a unit grid belongs to."""
    return grid_code[:12]


def grid_code(community_code: str, sequence: int) -> str:
    """The unit grid code of the n-th grid (1-based) of a community."""
    validate_code(community_code, DivisionLevel.COMMUNITY)
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise InvalidInput(
            "grid_sequence_range",
            "A community can hold at most %(max)s unit grids, got number %(n)s",
            max=MAX_SEQUENCE,
            n=sequence,
        )
    return f"{community_code}{sequence:03d}"
