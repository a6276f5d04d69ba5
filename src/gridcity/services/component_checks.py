"""Checking a component batch (the first half of ``add_components``): classes, geometries
and their places (vectorised), the actor's data scope, the fields (``component_fields``) and
identifiers given in the batch. Problems are collected, not raised; the result is the batch as
columns ready to write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from numpy.typing import NDArray

from gridcity.domain.access import Actor
from gridcity.domain.catalog import CodeSet, parse_component_identifier
from gridcity.domain.components import (
    NOTE_MAX,
    POSITION_TEXT_MAX,
    SOURCE_MAX,
    anchor_points,
)
from gridcity.domain.errors import DomainError
from gridcity.services.component_fields import (
    Problems,
    accuracy_column,
    attribute_column,
    date_columns,
    department_column,
    name_column,
    refuse_missing_competent,
    rows_with,
    state_column,
    text_column,
)
from gridcity.services.component_types import ClassRow, NewComponents
from gridcity.services.deps import ServiceDeps
from gridcity.services.locate import MAX_BATCH, locate_points

Advance = Callable[[str, int, int], None]  # (stage, done, total)


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
    census, changed = date_columns(batch, today, problems)
    checked = Checked(
        classes=used,
        class_index=class_index,
        geoms=geoms,
        xy=xy,
        places=places,
        name=name_column(batch, used, class_index, problems),
        competent=department_column(
            batch, "competent", departments, problems, fallback[class_index]
        ),
        owner=department_column(batch, "owner", departments, problems),
        maintainer=department_column(batch, "maintainer", departments, problems),
        state=state_column(batch, problems),
        census_date=census,
        changed_on=changed,
        data_source=text_column(batch, "data_source", SOURCE_MAX, problems),
        accuracy=accuracy_column(batch, problems),
        position_text=text_column(batch, "position_text", POSITION_TEXT_MAX, problems),
        note=text_column(batch, "note", NOTE_MAX, problems),
        attributes=attribute_column(batch, used, class_index, problems),
        given=_given_identifiers(batch, code_set, used, class_index, places, problems),
    )
    refuse_missing_competent(batch, used, class_index, checked.competent, problems)
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
        for i in rows_with(codes, blank):
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
        for i in rows_with(codes, failed):
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


# --- identifiers given in the batch ------------------------------------------------------------


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
