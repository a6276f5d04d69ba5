"""Professional departments (专业部门) and the unified social credit code (统一社会信用代码, GB 32100-2015)."""

from __future__ import annotations

from enum import StrEnum

from gridcity.domain.errors import InvalidInput

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class DepartmentKind(StrEnum):
    """What sort of body a department is; its case role (主管/权属/养护) is set per component later."""

    GOVERNMENT = "government"
    PUBLIC_INSTITUTION = "public_institution"
    ENTERPRISE = "enterprise"
    SUBDISTRICT_OFFICE = "subdistrict_office"
    OTHER = "other"


class CenterKind(StrEnum):
    """The two axes of the model: supervision (监督中心) and command (指挥中心)."""

    SUPERVISION = "supervision_center"
    COMMAND = "command_center"


def uscc_check_char(first17: str) -> str:
    """Check character of a unified social credit code from its first 17 characters."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Return the normalised code if its format and check character are right, else refuse."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        raise InvalidInput(
            "uscc_length", "A unified social credit code has 18 characters, got %(n)s", n=len(code)
        )
    bad = [ch for ch in code if ch not in USCC_ALPHABET]
    if bad:
        raise InvalidInput(
            "uscc_charset",
            "Character %(ch)s is not allowed in a unified social credit code",
            ch=bad[0],
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidInput(
            "uscc_checksum", "Unified social credit code %(code)s fails its check digit", code=code
        )
    return code
