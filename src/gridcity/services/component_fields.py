"""Checking the fields of a component batch, column by column (used by ``component_checks``).

A census column repeats a few values down a million rows (one state, a handful of departments
and dates), so each check runs once per distinct value and the answers are mapped back onto
the rows; rows are visited one by one only to name the ones at fault, or for values that are
truly per row (extension attributes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from gridcity.domain.census import CensusProblem
from gridcity.domain.components import (
    NAME_MAX,
    ComponentState,
    check_attributes,
    parse_accuracy,
    parse_state,
)
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.services.component_types import ClassRow, NewComponents, parse_census_date

T = TypeVar("T")


class Problems:
    """Collects row problems; stops keeping (not counting) them after a cap to bound memory."""

    CAP = 10_000

    def __init__(self) -> None:
        self.items: list[CensusProblem] = []
        self.total = 0

    def add(self, row: int, column: str, error: DomainError) -> None:
        """One problem from a domain refusal."""
        self.total += 1
        if len(self.items) < self.CAP:
            self.items.append(CensusProblem.of(row, column, error))

    def new(self, row: int, column: str, code: str, message: str, /, **params: object) -> None:
        """One problem from its code and message."""
        self.add(row, column, InvalidInput(code, message, **params))


def column_of(values: list[str] | None, n: int) -> list[str]:
    """A column's values, or blanks when the batch does not have the column."""
    return values if values is not None else [""] * n


def rows_with(values: Sequence[T], bad: set[T] | dict[T, Any]) -> list[int]:
    """Positions of the rows whose value is one of ``bad`` (only called when some are)."""
    return [i for i, value in enumerate(values) if value in bad]


def mapped(values: list[str], mapping: Mapping[str, T]) -> list[T]:
    """Each row's value looked up in a mapping of the distinct values."""
    return list(map(mapping.__getitem__, values))


# --- fields ------------------------------------------------------------------------------------


def text_column(batch: NewComponents, column: str, limit: int, problems: Problems) -> list[str]:
    """A text column, stripped, each value at most ``limit`` characters."""
    values: list[str] | None = getattr(batch, column)
    if values is None:
        return [""] * len(batch)
    distinct = set(values)
    stripped = {v: v.strip() for v in distinct}
    too_long = {v for v, s in stripped.items() if len(s) > limit}
    for i in rows_with(values, too_long) if too_long else []:
        problems.new(
            batch.rows[i],
            column,
            "text_too_long",
            "At most %(limit)s characters, got %(n)s",
            limit=limit,
            n=len(stripped[values[i]]),
        )
    if all(v == s for v, s in stripped.items()):
        return values  # nothing to strip: the column is used as it is
    return mapped(values, stripped)


def name_column(
    batch: NewComponents,
    used: Sequence[ClassRow],
    class_index: NDArray[np.int64],
    problems: Problems,
) -> list[str]:
    """Each row's name, or its class's name where it gives none."""
    class_names = np.asarray([c.name for c in used] + [""], dtype=object)
    own = np.asarray(text_column(batch, "name", NAME_MAX, problems), dtype=object)
    blank = own == ""
    own[blank] = class_names[class_index[blank]]
    names: list[str] = own.tolist()
    return names


def department_column(
    batch: NewComponents,
    column: str,
    departments: Mapping[str, int],
    problems: Problems,
    fallback: NDArray[np.int64] | None = None,
) -> NDArray[np.int64]:
    """Department ids of a column (0 where none), the fallback where a row names none."""
    values: list[str] | None = getattr(batch, column)
    n = len(batch)
    base = fallback if fallback is not None else np.zeros(n, dtype=np.int64)
    if values is None:
        return base.copy()
    found: dict[str, int] = {}
    unknown: set[str] = set()
    for value in set(values):
        ref = value.strip()
        found[value] = departments.get(ref, 0) if ref else -1  # -1: not given
        if ref and not found[value]:
            unknown.add(value)
    for i in rows_with(values, unknown) if unknown else []:
        problems.new(
            batch.rows[i],
            column,
            "unknown_department",
            "No active department %(ref)s (give its credit code or its name)",
            ref=values[i].strip(),
        )
    ids = np.fromiter(map(found.__getitem__, values), np.int64, n)
    return np.where(ids == -1, base, ids)


def refuse_missing_competent(
    batch: NewComponents,
    used: Sequence[ClassRow],
    class_index: NDArray[np.int64],
    competent: NDArray[np.int64],
    problems: Problems,
) -> None:
    """Rows with neither a competent department nor a class default (known classes only)."""
    refs = column_of(batch.competent, len(batch))
    for i in np.flatnonzero((competent == 0) & (class_index >= 0)):
        if refs[i].strip():
            continue  # an unknown department: already a problem
        problems.new(
            batch.rows[i],
            "competent",
            "missing_competent_department",
            "No competent department given, and class %(code)s has no default department",
            code=used[class_index[i]].code,
        )


def _distinct(
    batch: NewComponents,
    column: str,
    parse: Callable[[str], T],
    problems: Problems,
    default: T,
) -> tuple[list[str], dict[str, T]]:
    """A column's values and each distinct value parsed once (``default`` for a blank one);
    refused values name their rows."""
    values: list[str] = column_of(getattr(batch, column), len(batch))
    found: dict[str, T] = {}
    refused: dict[str, DomainError] = {}
    for value in set(values):
        try:
            found[value] = parse(value) if value.strip() else default
        except DomainError as exc:
            refused[value] = exc
            found[value] = default
    for i in rows_with(values, refused) if refused else []:
        problems.add(batch.rows[i], column, refused[values[i]])
    return values, found


def _parsed(
    batch: NewComponents,
    column: str,
    parse: Callable[[str], str],
    problems: Problems,
    default: str,
) -> list[str]:
    """A column of codes parsed once per distinct value."""
    if getattr(batch, column) is None:
        return [default] * len(batch)
    values, found = _distinct(batch, column, parse, problems, default)
    return mapped(values, found)


def state_column(batch: NewComponents, problems: Problems) -> list[str]:
    """Each row's state (intact where none is given)."""
    return _parsed(
        batch, "state", lambda v: parse_state(v).value, problems, ComponentState.INTACT.value
    )


def accuracy_column(batch: NewComponents, problems: Problems) -> list[str]:
    """Each row's accuracy class ('' where none is given)."""
    return _parsed(
        batch, "accuracy", lambda v: a.value if (a := parse_accuracy(v)) else "", problems, ""
    )


def date_columns(
    batch: NewComponents, today: date, problems: Problems
) -> tuple[list[str], list[str]]:
    """Census dates (today where none; not in the future) and change dates (between the
    census date and today), as ISO text."""
    n = len(batch)
    values, census = _distinct(batch, "census_date", parse_census_date, problems, today)
    future = {v for v, d in census.items() if d > today}
    for i in rows_with(values, future) if future else []:
        problems.new(
            batch.rows[i],
            "census_date",
            "census_date_in_future",
            "The census date %(value)s is in the future",
            value=census[values[i]].isoformat(),
        )
    census_text = mapped(values, {v: d.isoformat() for v, d in census.items()})
    if batch.changed_on is None:
        return census_text, [""] * n
    changes, changed = _distinct(batch, "changed_on", parse_census_date, problems, date.min)
    given = {v for v, d in changed.items() if d != date.min}
    if given:
        census_day = np.fromiter(
            map({v: d.toordinal() for v, d in census.items()}.__getitem__, values), np.int64, n
        )
        change_day = np.fromiter(
            map({v: d.toordinal() for v, d in changed.items()}.__getitem__, changes), np.int64, n
        )
        wrong = (change_day != date.min.toordinal()) & (
            (change_day < census_day) | (change_day > today.toordinal())
        )
        for i in np.flatnonzero(wrong).tolist():
            problems.new(
                batch.rows[i],
                "changed_on",
                "invalid_change_date",
                "The change date %(value)s must lie between the census date and today",
                value=changed[changes[i]].isoformat(),
            )
    return census_text, mapped(
        changes, {v: "" if d == date.min else d.isoformat() for v, d in changed.items()}
    )


def attribute_column(
    batch: NewComponents,
    used: Sequence[ClassRow],
    class_index: NDArray[np.int64],
    problems: Problems,
) -> list[str]:
    """Extension attributes as JSON text, checked against the class's form fields."""
    n = len(batch)
    with_fields = np.asarray([bool(c.fields) for c in used] + [False])[class_index]
    given = batch.attributes
    if given is None and not with_fields.any():
        return ["{}"] * n
    out = ["{}"] * n
    values = given if given is not None else [{}] * n
    for i in np.flatnonzero(with_fields | np.fromiter(map(bool, values), bool, n)):
        if class_index[i] < 0:
            continue
        try:
            checked = check_attributes(used[class_index[i]].fields, values[i])
        except DomainError as exc:
            problems.add(batch.rows[i], "attributes", exc)
            continue
        out[i] = json.dumps(checked, ensure_ascii=False) if checked else "{}"
    return out
