"""Checking a component batch, column by column (the first half of ``add_components``).

A census column repeats a few values down a million rows (one state, a handful of departments
and dates), so each check runs once per distinct value and the answers are mapped back onto
the rows; rows are visited one by one only to name the ones at fault, or for values that are
truly per row (identifiers given in the file, extension attributes). Geometries, positions and
places are numpy/shapely arrays. The result is the batch as columns ready to write.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import numpy as np
import shapely
from numpy.typing import NDArray

from gridcity.domain.access import Actor
from gridcity.domain.catalog import CodeSet, parse_component_identifier
from gridcity.domain.census import CensusProblem
from gridcity.domain.components import (
    NAME_MAX,
    NOTE_MAX,
    POSITION_TEXT_MAX,
    SOURCE_MAX,
    ComponentState,
    anchor_points,
    check_attributes,
    parse_accuracy,
    parse_state,
)
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.services.component_types import ClassRow, NewComponents, parse_census_date
from gridcity.services.deps import ServiceDeps
from gridcity.services.locate import MAX_BATCH, locate_points

Advance = Callable[[str, int, int], None]  # (stage, done, total)
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


@dataclass(frozen=True)
class Places:
    """District, subdistrict, community and unit grid code of each row ('' where none)."""

    district: NDArray[np.str_]
    subdistrict: NDArray[np.str_]
    community: NDArray[np.str_]
    grid: NDArray[np.str_]


@dataclass
class Checked:
    """A checked batch as columns (one entry per row, in batch order)."""

    classes: list[ClassRow]  # the distinct classes; ``class_index`` points into it
    class_index: NDArray[np.int64]  # -1 where the row's class is unknown
    geoms: NDArray[np.object_]
    xy: NDArray[np.float64]  # anchor points; NaN where the geometry failed
    places: Places
    name: list[str]
    competent: NDArray[np.int64]  # department ids; 0 where none
    owner: NDArray[np.int64]
    maintainer: NDArray[np.int64]
    state: list[str]
    census_date: list[str]  # ISO dates
    changed_on: list[str]  # ISO dates, '' where none
    data_source: list[str]
    accuracy: list[str]
    position_text: list[str]
    note: list[str]
    attributes: list[str]  # JSON text
    given: list[str]  # identifiers given in the batch, '' where one is to be drawn


def _column(values: list[str] | None, n: int) -> list[str]:
    return values if values is not None else [""] * n


def _rows_with(values: Sequence[T], bad: set[T] | dict[T, Any]) -> list[int]:
    """Positions of the rows whose value is one of ``bad`` (only called when some are)."""
    return [i for i, value in enumerate(values) if value in bad]


def _map(values: list[str], mapping: Mapping[str, T]) -> list[T]:
    """Each row's value looked up in a mapping of the distinct values."""
    return list(map(mapping.__getitem__, values))


def check_batch(
    deps: ServiceDeps,
    actor: Actor,
    batch: NewComponents,
    *,
    code_set: CodeSet,
    classes: Mapping[str, ClassRow],
    departments: Mapping[str, int],
    today: date,
    problems: Problems,
    progress: Advance,
) -> Checked:
    """Every check of every row; problems are collected, not raised."""
    n = len(batch)
    progress("check", 0, n)
    used, class_index = _resolve_classes(batch, code_set, classes, problems)
    geoms, xy = _check_geometries(batch, problems)
    places = _locate(deps, actor, xy, batch.rows, problems, progress)
    progress("check", n // 4, n)
    fallback = np.asarray([c.department_id or 0 for c in used] + [0], dtype=np.int64)
    census, changed = _dates(batch, today, problems)
    checked = Checked(
        classes=used,
        class_index=class_index,
        geoms=geoms,
        xy=xy,
        places=places,
        name=_names(batch, used, class_index, problems),
        competent=_departments(batch, "competent", departments, problems, fallback[class_index]),
        owner=_departments(batch, "owner", departments, problems),
        maintainer=_departments(batch, "maintainer", departments, problems),
        state=_states(batch, problems),
        census_date=census,
        changed_on=changed,
        data_source=_texts(batch, "data_source", SOURCE_MAX, problems),
        accuracy=_accuracy(batch, problems),
        position_text=_texts(batch, "position_text", POSITION_TEXT_MAX, problems),
        note=_texts(batch, "note", NOTE_MAX, problems),
        attributes=_attributes(batch, used, class_index, problems),
        given=_given_identifiers(batch, code_set, used, class_index, places, problems),
    )
    _missing_competent(batch, used, class_index, checked.competent, problems)
    progress("check", n, n)
    return checked


# --- classes and geometries --------------------------------------------------------------------


def _resolve_classes(
    batch: NewComponents,
    code_set: CodeSet,
    classes: Mapping[str, ClassRow],
    problems: Problems,
) -> tuple[list[ClassRow], NDArray[np.int64]]:
    """Each row's class (its class code, or the class part of its identifier), as an index
    into the distinct classes of the batch; -1 where unknown."""
    codes = batch.class_code
    blank = {v for v in set(codes) if not v.strip()}
    if blank and batch.identifier is not None:
        codes = list(codes)
        for i in _rows_with(codes, blank):
            codes[i] = batch.identifier[i].strip()[6:-6]
    used: list[ClassRow] = []
    index: dict[str, int] = {}
    failed: dict[str, tuple[str, str, dict[str, object]]] = {}
    for value in set(codes):
        code = value.strip()
        hit = classes.get(code)
        if hit is not None:
            index[value] = len(used)
            used.append(hit)
            continue
        index[value] = -1
        if not code:
            failed[value] = ("missing_class", "No class code given", {})
        elif len(code) != code_set.class_digits or not code.isdigit():
            failed[value] = (
                "invalid_class_code",
                "A class code of %(set)s has %(digits)s digits (major + minor): %(code)s",
                {"set": code_set.key, "digits": code_set.class_digits, "code": code},
            )
        else:
            failed[value] = (
                "unknown_component_class",
                "%(set)s has no component class %(code)s",
                {"set": code_set.key, "code": code},
            )
    if failed:
        for i in _rows_with(codes, failed):
            code, message, params = failed[codes[i]]
            problems.new(batch.rows[i], "class_code", code, message, **params)
    return used, np.fromiter(map(index.__getitem__, codes), np.int64, len(codes))


def _check_geometries(
    batch: NewComponents, problems: Problems
) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """Geometries (vectorised checks) and their anchor points; NaN where a row failed."""
    geoms = np.asarray(batch.geometry, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.where(missing, -1, shapely.get_type_id(geoms))  # a missing one is -1 too
    allowed = np.isin(types, [0, 1, 3, 4, 5, 6])
    valid = allowed.copy()
    xy = np.full((len(geoms), 2), np.nan)
    # A point is valid when its coordinates are numbers, and it is its own anchor; other
    # shapes need GEOS's validity check and an anchor on the line or inside the polygon.
    points = types == 0
    xy[points] = shapely.get_coordinates(geoms[points])
    valid[points] = np.isfinite(xy[points]).all(axis=1)
    others = allowed & ~points
    valid[others] = shapely.is_valid(geoms[others])
    shapes = others & valid
    if shapes.any():
        xy[shapes] = anchor_points(geoms[shapes])
    xy[~valid] = np.nan
    for i in np.flatnonzero(~valid):
        row = batch.rows[i]
        if missing[i]:
            problems.new(row, "geometry", "missing_geometry", "A component needs a position")
        elif not allowed[i]:
            problems.new(
                row,
                "geometry",
                "invalid_geometry_type",
                "A component is a point, a line or a polygon, not %(kind)s",
                kind=geoms[i].geom_type,
            )
        else:
            problems.new(
                row,
                "geometry",
                "invalid_geometry",
                "The geometry is not valid: %(reason)s",
                reason=shapely.is_valid_reason(geoms[i]),
            )
    return geoms, xy


def _locate(
    deps: ServiceDeps,
    actor: Actor,
    xy: NDArray[np.float64],
    rows: Sequence[int],
    problems: Problems,
    progress: Advance,
) -> Places:
    """District, subdistrict, community and unit grid of each anchor point (vectorised), and
    the rows outside the managed area or outside the actor's data scope."""
    n = len(xy)
    out = {k: np.full(n, "", dtype="U15") for k in ("district", "subdistrict", "community", "grid")}
    ok = ~np.isnan(xy[:, 0])
    lonlat_ok = ok & (np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90)
    for i in np.flatnonzero(ok & ~lonlat_ok):
        problems.new(
            rows[int(i)],
            "geometry",
            "not_lonlat",
            "Coordinates are not longitude/latitude: %(x)s, %(y)s",
            x=float(xy[i, 0]),
            y=float(xy[i, 1]),
        )
    index = np.flatnonzero(lonlat_ok)
    progress("locate", 0, n)
    for start in range(0, len(index), MAX_BATCH):
        part = index[start : start + MAX_BATCH]
        found = locate_points(deps, actor, xy[part], codes_only=True)
        out["district"][part] = found.district
        out["subdistrict"][part] = found.subdistrict
        out["community"][part] = found.community
        out["grid"][part] = found.grid
        progress("locate", start + len(part), n)
    progress("locate", n, n)
    district = out["district"].astype("U6")
    for i in np.flatnonzero(lonlat_ok & (district == "")):
        problems.new(
            rows[int(i)],
            "geometry",
            "outside_managed_area",
            "The position %(x)s, %(y)s lies outside the managed area",
            x=round(float(xy[i, 0]), 6),
            y=round(float(xy[i, 1]), 6),
        )
    places = Places(
        district, out["subdistrict"].astype("U9"), out["community"].astype("U12"), out["grid"]
    )
    if not actor.scope.everything:
        _refuse_out_of_scope(actor, places, rows, problems)
    return places


def _refuse_out_of_scope(
    actor: Actor, places: Places, rows: Sequence[int], problems: Problems
) -> None:
    """Rows whose community (or, without one, subdistrict or district) the actor may not see."""
    where = np.where(
        places.community != "",
        places.community,
        np.where(places.subdistrict != "", places.subdistrict, places.district),
    )
    codes, inverse = np.unique(where, return_inverse=True)
    outside = np.asarray([bool(c) and not actor.scope.covers_division(str(c)) for c in codes])
    for i in np.flatnonzero(outside[inverse.reshape(-1)]):
        problems.new(
            rows[int(i)],
            "geometry",
            "outside_data_scope",
            "The position lies in %(code)s, outside your data scope",
            code=str(where[i]),
        )


# --- fields ------------------------------------------------------------------------------------


def _texts(batch: NewComponents, column: str, limit: int, problems: Problems) -> list[str]:
    """A text column, stripped, each value at most ``limit`` characters."""
    values: list[str] | None = getattr(batch, column)
    if values is None:
        return [""] * len(batch)
    distinct = set(values)
    stripped = {v: v.strip() for v in distinct}
    too_long = {v for v, s in stripped.items() if len(s) > limit}
    for i in _rows_with(values, too_long) if too_long else []:
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
    return _map(values, stripped)


def _names(
    batch: NewComponents,
    used: Sequence[ClassRow],
    class_index: NDArray[np.int64],
    problems: Problems,
) -> list[str]:
    """Each row's name, or its class's name where it gives none."""
    class_names = np.asarray([c.name for c in used] + [""], dtype=object)
    own = np.asarray(_texts(batch, "name", NAME_MAX, problems), dtype=object)
    blank = own == ""
    own[blank] = class_names[class_index[blank]]
    names: list[str] = own.tolist()
    return names


def _departments(
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
    for i in _rows_with(values, unknown) if unknown else []:
        problems.new(
            batch.rows[i],
            column,
            "unknown_department",
            "No active department %(ref)s (give its credit code or its name)",
            ref=values[i].strip(),
        )
    ids = np.fromiter(map(found.__getitem__, values), np.int64, n)
    return np.where(ids == -1, base, ids)


def _missing_competent(
    batch: NewComponents,
    used: Sequence[ClassRow],
    class_index: NDArray[np.int64],
    competent: NDArray[np.int64],
    problems: Problems,
) -> None:
    """Rows with neither a competent department nor a class default (known classes only)."""
    refs = _column(batch.competent, len(batch))
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
    values: list[str] = _column(getattr(batch, column), len(batch))
    found: dict[str, T] = {}
    refused: dict[str, DomainError] = {}
    for value in set(values):
        try:
            found[value] = parse(value) if value.strip() else default
        except DomainError as exc:
            refused[value] = exc
            found[value] = default
    for i in _rows_with(values, refused) if refused else []:
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
    return _map(values, found)


def _states(batch: NewComponents, problems: Problems) -> list[str]:
    """Each row's state (intact where none is given)."""
    return _parsed(
        batch, "state", lambda v: parse_state(v).value, problems, ComponentState.INTACT.value
    )


def _accuracy(batch: NewComponents, problems: Problems) -> list[str]:
    """Each row's accuracy class ('' where none is given)."""
    return _parsed(
        batch, "accuracy", lambda v: a.value if (a := parse_accuracy(v)) else "", problems, ""
    )


def _dates(batch: NewComponents, today: date, problems: Problems) -> tuple[list[str], list[str]]:
    """Census dates (today where none; not in the future) and change dates (between the
    census date and today), as ISO text."""
    n = len(batch)
    values, census = _distinct(batch, "census_date", parse_census_date, problems, today)
    future = {v for v, d in census.items() if d > today}
    for i in _rows_with(values, future) if future else []:
        problems.new(
            batch.rows[i],
            "census_date",
            "census_date_in_future",
            "The census date %(value)s is in the future",
            value=census[values[i]].isoformat(),
        )
    census_text = _map(values, {v: d.isoformat() for v, d in census.items()})
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
    return census_text, _map(
        changes, {v: "" if d == date.min else d.isoformat() for v, d in changed.items()}
    )


def _attributes(
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


def _given_identifiers(
    batch: NewComponents,
    code_set: CodeSet,
    used: Sequence[ClassRow],
    class_index: NDArray[np.int64],
    places: Places,
    problems: Problems,
) -> list[str]:
    """Identifiers given in the batch ('' where one is to be drawn), checked and unique."""
    n = len(batch)
    if batch.identifier is None:
        return [""] * n
    out = [""] * n
    seen: dict[str, int] = {}
    for i, raw in enumerate(batch.identifier):
        value = raw.strip()
        if not value:
            continue
        row = batch.rows[i]
        try:
            parts = parse_component_identifier(code_set, value)
        except DomainError as exc:
            problems.add(row, "identifier", exc)
            continue
        k = class_index[i]
        if k >= 0 and parts.class_code != used[k].code:
            problems.new(
                row,
                "identifier",
                "identifier_class_mismatch",
                "The identifier %(value)s names class %(theirs)s, the row says %(ours)s",
                value=value,
                theirs=parts.class_code,
                ours=used[k].code,
            )
        district = str(places.district[i])
        if district and parts.admin != district:
            problems.new(
                row,
                "identifier",
                "identifier_admin_mismatch",
                "The identifier %(value)s names division %(theirs)s, the position lies in %(ours)s",
                value=value,
                theirs=parts.admin,
                ours=district,
            )
        if value in seen:
            problems.new(
                row,
                "identifier",
                "duplicate_identifier",
                "The identifier %(value)s is also on row %(other)s",
                value=value,
                other=seen[value],
            )
        seen.setdefault(value, row)
        out[i] = value
    return out
