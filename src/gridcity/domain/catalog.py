"""The standard catalog of components and events (部件/事件, 管理事项) with versioned code sets.

Code structures follow standards.md §2.2: CJ/T 214-2007 and GB/T 30428.2-2013 use a 2-digit
major and a 2-digit minor class (component identifier 16 digits); GB/T 47678.5-2026 uses a
2-digit major and a 3-digit minor class (identifier 17 digits, matter code 11 digits) and keys a
class by (kind, code), since a component and a matter may share a code. Everything a city may
change about a class (criteria, time limits, department, form fields) is data checked here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from gridcity.domain.divisions import PROVINCE_PREFIXES
from gridcity.domain.errors import InvalidInput


class ClassKind(StrEnum):
    """What a class describes: a facility, an event (2007/2013) or a management matter (2026)."""

    COMPONENT = "component"
    EVENT = "event"
    MATTER = "matter"


class Confidence(StrEnum):
    """How sure standards.md is of a fact (its legend: ✅ certain, 🟡 probable, ❓ unverified)."""

    CERTAIN = "✅"
    PROBABLE = "🟡"
    UNVERIFIED = "❓"


class TimeUnit(StrEnum):
    """Clock of a time limit (standards.md §4.4): working hours/days, natural hours/days."""

    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    NATURAL_HOURS = "natural_hours"
    NATURAL_DAYS = "natural_days"


class Urgency(StrEnum):
    """紧急 or 一般 (standards.md §4.4)."""

    URGENT = "urgent"
    NORMAL = "normal"


class AreaClass(StrEnum):
    """Region class of a time limit: A (核心区), B, C (一般区) (standards.md §4.4)."""

    A = "A"
    B = "B"
    C = "C"


class FieldType(StrEnum):
    """Type of an extra form field of a class."""

    TEXT = "text"
    NUMBER = "number"
    CHOICE = "choice"
    BOOL = "bool"


@dataclass(frozen=True)
class CodeSet:
    """A versioned code set: its kinds and the digits of its minor class codes."""

    key: str
    name_zh: str
    name_en: str
    kinds: tuple[ClassKind, ...]
    minor_digits: int

    @property
    def class_digits(self) -> int:
        """Digits of a minor class code (major + minor)."""
        return 2 + self.minor_digits

    @property
    def identifier_digits(self) -> int:
        """Digits of a component identifier: 6 admin + class code + 6 serial."""
        return 6 + self.class_digits + 6


CJT214_2007 = "cjt214_2007"
GBT30428_2_2013 = "gbt30428_2_2013"
GBT47678_5_2026 = "gbt47678_5_2026"
_CE = (ClassKind.COMPONENT, ClassKind.EVENT)
CODE_SETS: dict[str, CodeSet] = {
    CJT214_2007: CodeSet(CJT214_2007, "CJ/T 214-2007", "CJ/T 214-2007", _CE, 2),
    GBT30428_2_2013: CodeSet(GBT30428_2_2013, "GB/T 30428.2-2013", "GB/T 30428.2-2013", _CE, 2),
    GBT47678_5_2026: CodeSet(
        GBT47678_5_2026,
        "GB/T 47678.5-2026",
        "GB/T 47678.5-2026",
        (ClassKind.COMPONENT, ClassKind.MATTER),
        3,
    ),
}
NAME_MAX = 60
TEXT_MAX = 500
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
CRITERION_CODE = re.compile(r"^[0-9A-Za-z]{1,12}$")


def parse_code_set(key: str) -> CodeSet:
    """The code set of a key, or a refusal naming the known ones."""
    found = CODE_SETS.get(key)
    if found is None:
        raise InvalidInput(
            "unknown_code_set",
            "Unknown code set %(key)s (known: %(known)s)",
            key=key,
            known=", ".join(CODE_SETS),
        )
    return found


def parse_kind(code_set: CodeSet, kind: str) -> ClassKind:
    """A kind that the code set has (events in 2007/2013, matters in 2026)."""
    for known in code_set.kinds:
        if known.value == kind:
            return known
    raise InvalidInput(
        "unknown_class_kind",
        "Code set %(set)s has no class kind %(kind)s",
        set=code_set.key,
        kind=kind,
    )


def validate_major_code(code: str) -> str:
    """A 2-digit major class code, 01–99."""
    if not re.fullmatch(r"[0-9]{2}", code) or code == "00":
        raise InvalidInput(
            "invalid_major_code", "A major class code has 2 digits, 01–99: %(code)s", code=code
        )
    return code


def validate_class_code(code_set: CodeSet, code: str) -> str:
    """A minor class code of the set: 2 + 2 digits (2007/2013) or 2 + 3 digits (2026)."""
    digits = code_set.class_digits
    if not re.fullmatch(rf"[0-9]{{{digits}}}", code):
        raise InvalidInput(
            "invalid_class_code",
            "A class code of %(set)s has %(digits)s digits (major + minor): %(code)s",
            set=code_set.key,
            digits=digits,
            code=code,
        )
    validate_major_code(code[:2])
    if int(code[2:]) == 0:
        raise InvalidInput(
            "invalid_class_code",
            "The minor part of a class code cannot be zero: %(code)s",
            code=code,
        )
    return code


def _admin_code(admin: str) -> str:
    """A 6-digit GB/T 2260 code of a province-, prefecture- or county-level division."""
    well_formed = (
        re.fullmatch(r"[0-9]{6}", admin) is not None
        and admin[:2] in PROVINCE_PREFIXES
        # a province code is XX0000; XX00YY names nothing
        and not (admin[2:4] == "00" and admin[4:6] != "00")
    )
    if not well_formed:
        raise InvalidInput(
            "invalid_admin_code",
            "An admin code is the 6-digit GB/T 2260 code of a county-level or higher division: "
            "%(code)s",
            code=admin,
        )
    return admin


def component_identifier(code_set: CodeSet, admin: str, class_code: str, serial: int) -> str:
    """部件标识码: 6 admin + class code + 6-digit serial (16 digits, or 17 for 2026)."""
    _admin_code(admin)
    validate_class_code(code_set, class_code)
    if not 1 <= serial <= 999_999:
        raise InvalidInput(
            "invalid_serial", "A component serial is 1–999999: %(serial)s", serial=serial
        )
    return f"{admin}{class_code}{serial:06d}"


@dataclass(frozen=True)
class ComponentIdentifier:
    """The parts of a component identifier."""

    admin: str
    class_code: str
    serial: int


def parse_component_identifier(code_set: CodeSet, value: str) -> ComponentIdentifier:
    """Split and check a 部件标识码 of the code set."""
    digits = code_set.identifier_digits
    if not re.fullmatch(rf"[0-9]{{{digits}}}", value):
        raise InvalidInput(
            "invalid_component_identifier",
            "A component identifier of %(set)s has %(digits)s digits: %(value)s",
            set=code_set.key,
            digits=digits,
            value=value,
        )
    admin, class_code, serial = value[:6], value[6:-6], int(value[-6:])
    _admin_code(admin)
    validate_class_code(code_set, class_code)
    if serial == 0:
        raise InvalidInput(
            "invalid_serial", "A component serial is 1–999999: %(serial)s", serial=serial
        )
    return ComponentIdentifier(admin, class_code, serial)


def matter_code(code_set: CodeSet, admin: str, class_code: str) -> str:
    """事项代码 (GB/T 47678.5-2026): 6 admin + 5-digit class code = 11 digits."""
    if code_set.key != GBT47678_5_2026:
        raise InvalidInput(
            "no_matter_code",
            "Only GB/T 47678.5-2026 has matter codes, not %(set)s",
            set=code_set.key,
        )
    return _admin_code(admin) + validate_class_code(code_set, class_code)


def parse_matter_code(value: str) -> tuple[str, str]:
    """(admin, class code) of an 11-digit 事项代码."""
    if not re.fullmatch(r"[0-9]{11}", value):
        raise InvalidInput(
            "invalid_matter_code", "A matter code has 11 digits: %(value)s", value=value
        )
    code_set = CODE_SETS[GBT47678_5_2026]
    return _admin_code(value[:6]), validate_class_code(code_set, value[6:])


@dataclass(frozen=True)
class TimeLimit:
    """One time limit; urgency or area class None means the source did not say (applies to all)."""

    amount: int
    unit: TimeUnit
    urgency: Urgency | None = None
    area_class: AreaClass | None = None
    note: str = ""


@dataclass(frozen=True)
class FilingCriterion:
    """One 立案条件 with its own code."""

    code: str
    text: str


@dataclass(frozen=True)
class FormField:
    """An extra field on the report form of a class."""

    name: str
    label_zh: str
    label_en: str
    type: FieldType
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClassRules:
    """What a city may edit on a class: criteria, time limits, department, form fields."""

    filing_criteria: tuple[FilingCriterion, ...] = ()
    closing_criteria: str = ""
    time_limits: tuple[TimeLimit, ...] = ()
    form_fields: tuple[FormField, ...] = field(default_factory=tuple)


E = TypeVar("E", bound=StrEnum)


def _enum(cls: type[E], value: object, code: str, what: str) -> E:
    """A value of an enumeration or a refusal naming the allowed ones."""
    try:
        return cls(str(value))
    except ValueError:
        raise InvalidInput(
            code,
            "Unknown %(what)s %(value)s (allowed: %(allowed)s)",
            what=what,
            value=value,
            allowed=", ".join(m.value for m in cls),
        ) from None


def _text(value: object, code: str, limit: int, *, required: bool = True) -> str:
    """A stripped string of at most ``limit`` characters."""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise InvalidInput(
            code,
            "Expected a text of 1–%(limit)s characters, got %(value)r",
            limit=limit,
            value=value,
        )
    return value.strip()


_DUPLICATE_LIMIT = {
    (False, False): "Two time limits for urgency %(urgency)s, area %(area)s",
    (True, False): "Two time limits for urgency unspecified, area %(area)s",
    (False, True): "Two time limits for urgency %(urgency)s, area unspecified",
    (True, True): "Two time limits for urgency unspecified, area unspecified",
}


def _objects(items: Iterable[object]) -> Iterable[Mapping[str, object]]:
    """The items of a list, each of which must be an object (key: value)."""
    for item in items:
        if not isinstance(item, Mapping):
            raise InvalidInput(
                "invalid_list_item",
                "Each item of the list is an object (key: value), got %(value)r",
                value=item,
            )
        yield item


def parse_time_limits(items: Iterable[Mapping[str, object]]) -> tuple[TimeLimit, ...]:
    """Time limits from plain data; one per (urgency, area class)."""
    found: list[TimeLimit] = []
    seen: set[tuple[Urgency | None, AreaClass | None]] = set()
    for item in _objects(items):
        amount = item.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= 10_000:
            raise InvalidInput(
                "invalid_time_limit", "A time limit amount is 1–10000: %(value)r", value=amount
            )
        urgency = item.get("urgency")
        area = item.get("area_class")
        limit = TimeLimit(
            amount=amount,
            unit=_enum(TimeUnit, item.get("unit"), "invalid_time_unit", "time unit"),
            urgency=None
            if urgency is None
            else _enum(Urgency, urgency, "invalid_urgency", "urgency"),
            area_class=None
            if area is None
            else _enum(AreaClass, area, "invalid_area_class", "area class"),
            note=_text(item.get("note", ""), "invalid_note", TEXT_MAX, required=False),
        )
        key = (limit.urgency, limit.area_class)
        if key in seen:
            # a missing urgency or area gets its own message, never the word "None"
            raise InvalidInput(
                "duplicate_time_limit",
                _DUPLICATE_LIMIT[(limit.urgency is None, limit.area_class is None)],
                urgency=urgency,
                area=area,
            )
        seen.add(key)
        found.append(limit)
    return tuple(found)


def parse_filing_criteria(items: Iterable[Mapping[str, object]]) -> tuple[FilingCriterion, ...]:
    """Filing criteria from plain data; each code unique within the class."""
    found: list[FilingCriterion] = []
    for item in _objects(items):
        code = item.get("code")
        if not isinstance(code, str) or not CRITERION_CODE.fullmatch(code):
            raise InvalidInput(
                "invalid_criterion_code",
                "A criterion code is 1–12 letters or digits: %(code)r",
                code=code,
            )
        if any(c.code == code for c in found):
            raise InvalidInput(
                "duplicate_criterion_code", "Two filing criteria share code %(code)s", code=code
            )
        found.append(FilingCriterion(code, _text(item.get("text"), "invalid_criterion", TEXT_MAX)))
    return tuple(found)


def parse_form_fields(items: Iterable[Mapping[str, object]]) -> tuple[FormField, ...]:
    """Extra form fields from plain data: unique names, choices only (and at least two) on choice."""
    found: list[FormField] = []
    for item in _objects(items):
        name = item.get("name")
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
            raise InvalidInput(
                "invalid_field_name",
                "A field name is lower-case letters, digits and _ (1–32, a letter first): %(name)r",
                name=name,
            )
        if any(f.name == name for f in found):
            raise InvalidInput("duplicate_field_name", "Two fields named %(name)s", name=name)
        kind = _enum(FieldType, item.get("type"), "invalid_field_type", "field type")
        raw = item.get("choices", [])
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise InvalidInput("invalid_choices", "Choices are a list of texts")
        choices = tuple(_text(c, "invalid_choices", NAME_MAX) for c in raw)
        if kind is FieldType.CHOICE and (len(choices) < 2 or len(set(choices)) != len(choices)):
            raise InvalidInput(
                "invalid_choices", "A choice field needs at least two distinct choices"
            )
        if kind is not FieldType.CHOICE and choices:
            raise InvalidInput("invalid_choices", "Only a choice field has choices")
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise InvalidInput("invalid_required", "required is true or false")
        found.append(
            FormField(
                name=name,
                label_zh=_text(item.get("label_zh"), "invalid_field_label", NAME_MAX),
                label_en=_text(
                    item.get("label_en", ""), "invalid_field_label", NAME_MAX, required=False
                ),
                type=kind,
                required=required,
                choices=choices,
            )
        )
    return tuple(found)


def validate_name(name: str) -> str:
    """A class name: 1–60 characters."""
    return _text(name, "invalid_class_name", NAME_MAX)


@dataclass(frozen=True)
class SeedEntry:
    """One row of a seed file: a standard class as standards.md gives it."""

    code_set: str
    kind: str
    level: str
    code: str
    major: str
    name_zh: str
    confidence: str
    note: str
    name_en: str = ""  # optional column; empty: the seed gives none


@dataclass(frozen=True)
class SeedTimeLimit:
    """A time-limit example of standards.md §4.4 for one class."""

    code_set: str
    kind: str
    code: str
    amount: int
    unit: str
    note: str


def check_seed(entries: Sequence[SeedEntry]) -> None:
    """Refuse a seed file whose rows break the code set's structure (a transcription error)."""
    seen: set[tuple[str, str, str]] = set()
    for entry in entries:
        code_set = parse_code_set(entry.code_set)
        parse_kind(code_set, entry.kind)
        Confidence(entry.confidence)
        if entry.level == "major":
            validate_major_code(entry.code)
        elif entry.level == "minor":
            validate_class_code(code_set, entry.code)
            if entry.code[:2] != entry.major:
                raise InvalidInput(
                    "invalid_seed",
                    "Seed %(code)s is not under major %(major)s",
                    code=entry.code,
                    major=entry.major,
                )
        else:
            raise InvalidInput("invalid_seed", "Unknown level %(level)s", level=entry.level)
        key = (entry.kind, entry.level, entry.code)
        if key in seen:
            raise InvalidInput("invalid_seed", "Seed %(code)s appears twice", code=entry.code)
        seen.add(key)
