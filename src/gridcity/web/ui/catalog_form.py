"""The structured edit form of a catalog class: rows of filing criteria and form fields (added
and removed in the browser), a time-limit table by urgency × area class. The form posts plain
aligned lists; this module turns them into the data the domain's ``parse_*`` checks, and the
stored data back into what the form shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gridcity.domain.catalog import AreaClass, FieldType, TimeUnit, Urgency
from gridcity.domain.errors import InvalidInput
from gridcity.web.i18n import N_, gettext_

# Rows: urgency (unspecified first: the 济源 examples say none), columns: area class.
URGENCIES = ("", Urgency.URGENT.value, Urgency.NORMAL.value)
AREAS = ("", AreaClass.A.value, AreaClass.B.value, AreaClass.C.value)
UNIT_LABELS = {
    TimeUnit.WORKING_HOURS.value: N_("working hours"),
    TimeUnit.WORKING_DAYS.value: N_("working days"),
    TimeUnit.NATURAL_HOURS.value: N_("natural hours"),
    TimeUnit.NATURAL_DAYS.value: N_("natural days"),
}
URGENCY_LABELS = {"": N_("Urgency unspecified"), "urgent": N_("Urgent"), "normal": N_("Normal")}
AREA_LABELS = {"": N_("Area unspecified"), "A": N_("Area A"), "B": N_("Area B"), "C": N_("Area C")}
TYPE_LABELS = {
    FieldType.TEXT.value: N_("Text"),
    FieldType.NUMBER.value: N_("Number"),
    FieldType.CHOICE.value: N_("Choice"),
    FieldType.BOOL.value: N_("Yes/no"),
}
SECTIONS = {
    "filing_criteria": N_("Filing criteria"),
    "time_limits": N_("Time limits"),
    "form_fields": N_("Form fields"),
}
_SEPARATORS = ("，", "、", ";", "；", "\n")


def _aligned(section: str, *columns: Sequence[str] | None) -> list[tuple[str, ...]]:
    """The rows of a section's aligned lists; lists of different lengths are refused."""
    given = [list(c or []) for c in columns]
    if len({len(c) for c in given}) > 1:
        raise InvalidInput(
            "invalid_form_rows",
            "The rows of %(section)s are incomplete; reload the page and try again",
            section=gettext_(SECTIONS[section]),
        )
    return list(zip(*given, strict=True))


def filing_rows(codes: Sequence[str] | None, texts: Sequence[str] | None) -> list[dict[str, Any]]:
    """Filing criteria as typed; a row left blank is dropped."""
    return [
        {"code": code.strip(), "text": text.strip()}
        for code, text in _aligned("filing_criteria", codes, texts)
        if code.strip() or text.strip()
    ]


def _amount(text: str) -> int | str:
    """The typed amount as a number when it is one; otherwise as typed, for the domain to refuse."""
    value = text.strip()
    return int(value) if value.isascii() and value.isdigit() else value


def limit_rows(
    cells: Sequence[str] | None,
    amounts: Sequence[str] | None,
    units: Sequence[str] | None,
    notes: Sequence[str] | None,
) -> list[dict[str, Any]]:
    """Time limits from the table: one per cell with an amount; ``cell`` is "urgency:area"."""
    out: list[dict[str, Any]] = []
    for cell, amount, unit, note in _aligned("time_limits", cells, amounts, units, notes):
        if not amount.strip():
            continue
        urgency, _, area = cell.partition(":")
        out.append(
            {
                "amount": _amount(amount),
                "unit": unit,
                "urgency": urgency or None,
                "area_class": area or None,
                "note": note,
            }
        )
    return out


def _choices(text: str) -> list[str]:
    """Choices typed in one box, separated by commas, 、, semicolons or lines."""
    for sep in _SEPARATORS:
        text = text.replace(sep, ",")
    return [c.strip() for c in text.split(",") if c.strip()]


def field_rows(
    names: Sequence[str] | None,
    labels_zh: Sequence[str] | None,
    labels_en: Sequence[str] | None,
    types: Sequence[str] | None,
    required: Sequence[str] | None,
    choices: Sequence[str] | None,
) -> list[dict[str, Any]]:
    """Extra form fields as typed; a row without name and label is dropped."""
    rows = _aligned("form_fields", names, labels_zh, labels_en, types, required, choices)
    return [
        {
            "name": name.strip(),
            "label_zh": label_zh.strip(),
            "label_en": label_en.strip(),
            "type": kind,
            "required": flag == "1",
            "choices": _choices(options),
        }
        for name, label_zh, label_en, kind, flag, options in rows
        if name.strip() or label_zh.strip()
    ]


@dataclass(frozen=True)
class LimitCell:
    """One cell of the time-limit table as the form shows it."""

    key: str  # "urgency:area"
    amount: str
    unit: str
    note: str


def limit_table(limits: Sequence[dict[str, Any]]) -> list[tuple[str, list[LimitCell]]]:
    """The time-limit table: one row per urgency, one cell per area class."""
    by_key = {(t.get("urgency") or "", t.get("area_class") or ""): t for t in limits}
    table: list[tuple[str, list[LimitCell]]] = []
    for urgency in URGENCIES:
        cells = []
        for area in AREAS:
            found = by_key.get((urgency, area), {})
            cells.append(
                LimitCell(
                    f"{urgency}:{area}",
                    str(found.get("amount", "")),
                    str(found.get("unit", TimeUnit.WORKING_HOURS.value)),
                    str(found.get("note", "")),
                )
            )
        table.append((urgency, cells))
    return table


def form_state(
    filing: Sequence[dict[str, Any]], fields: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """The rows the browser starts with (stored, or as typed before a refusal)."""
    return {
        "filing": [
            {"code": str(f.get("code", "")), "text": str(f.get("text", ""))} for f in filing
        ],
        "fields": [
            {
                "name": str(f.get("name", "")),
                "label_zh": str(f.get("label_zh", "")),
                "label_en": str(f.get("label_en", "")),
                "type": str(f.get("type", FieldType.TEXT.value)),
                "required": "1" if f.get("required") else "",
                "choices": "，".join(str(c) for c in f.get("choices", [])),
            }
            for f in fields
        ],
    }
