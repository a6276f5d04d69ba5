"""Districts, subdistricts and communities from and to feature files.

An import creates the divisions that do not exist yet and updates the names and boundaries of
those that do, parents before children, in one transaction. Every feature is checked first
(code, level, name, boundary, parent in the file or the database, boundary inside its
parent's, data scope) and all problems are reported together; one problem and nothing is
written. Rows are written through the same helpers as ``create_division``/``update_division``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
import sqlalchemy as sa
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import Division
from gridcity.adapters.geojson_files import Feature
from gridcity.adapters.spatial_index import bump_version
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.boundaries import as_multipolygon, check_inside_parent
from gridcity.domain.divisions import DivisionLevel, level_of, parent_code, validate_code
from gridcity.domain.errors import InvalidInput
from gridcity.domain.imports import N_, ImportRefused, Problem
from gridcity.services import audit, divisions
from gridcity.services.data_versions import Versions, hold_unchanged
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.feature_checks import checked_geometry

MAX_NAME = 100
EXPORT_COLUMNS = ("code", "name", "level", "parent_code", "area_m2")
_SAME_TOLERANCE = 1e-10  # degrees (~0.01 mm): a boundary this close to the stored one is unchanged


@dataclass(frozen=True)
class DivisionRow:
    """A feature that passed the checks of its own."""

    index: int
    code: str
    level: DivisionLevel
    name: str  # "" keeps the name of an existing division
    boundary: MultiPolygon


@dataclass(frozen=True)
class DivisionImport:
    """What an import did, or (dry run) would do."""

    source: str
    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: int
    dry_run: bool


def import_divisions(
    deps: ServiceDeps,
    actor: Actor,
    features: Sequence[Feature],
    *,
    info: RequestInfo,
    source: str,
    dry_run: bool = False,
    unchanged_since: Versions | None = None,
) -> DivisionImport:
    """Create or update every division in ``features`` (stored CRS), all-or-nothing.

    ``unchanged_since``: as for ``grid_import.import_grids``, the versions a dry run saw.
    """
    require(actor, Permission.ORG_WRITE)
    rows, problems = _parse(features)
    # A parent with problems of its own is reported once, not again as missing for each child.
    named = {_text(f.properties.get("code")) for f in features}
    if dry_run:
        with deps.db.read() as session:
            existing = _checked(session, actor, rows, problems, named, source)
            created, updated = _plan(rows, existing)
        return DivisionImport(source, created, updated, len(rows) - len(created + updated), True)
    now = deps.clock()
    with deps.db.transaction() as session:
        if unchanged_since is not None:
            hold_unchanged(session, unchanged_since, now)
        existing = _checked(session, actor, rows, problems, named, source)
        created, updated = _plan(rows, existing)
        for row in sorted(rows, key=lambda r: (len(r.code), r.code)):
            if row.code in updated:
                old = existing[row.code]
                divisions.change_division_row(
                    session,
                    old,
                    name=row.name or None,
                    boundary=None if _same(old.geom, row.boundary) else row.boundary,
                    now=now,
                )
            elif row.code in created:
                divisions.add_division_row(
                    session,
                    code=row.code,
                    name=row.name,
                    level=row.level,
                    boundary=row.boundary,
                    now=now,
                )
        if created or updated:
            bump_version(session, divisions.DIVISIONS_STATE, now)
        audit.append(
            session,
            at=now,
            actor=actor,
            action="division.imported",
            target_type="file",
            target_id=Path(source).name,
            detail={
                "file": Path(source).name,
                "created": len(created),
                "updated": len(updated),
                "unchanged": len(rows) - len(created + updated),
            },
            info=info,
        )
    return DivisionImport(source, created, updated, len(rows) - len(created + updated), False)


def _parse(features: Sequence[Feature]) -> tuple[list[DivisionRow], list[Problem]]:
    """Rows with a good code, level, name and boundary; a problem for every other feature."""
    problems: list[Problem] = []
    if not features:
        problems.append(Problem(None, "", N_("The file holds no features")))
    rows: list[DivisionRow] = []
    first: dict[str, int] = {}
    for feature in features:
        code = _text(feature.properties.get("code"))
        found = len(problems)
        level = _level(feature, code, problems)
        if code and code in first:
            problems.append(
                Problem(
                    feature.index,
                    code,
                    N_("The division code repeats feature %(first)s"),
                    {"first": first[code]},
                )
            )
        first.setdefault(code, feature.index)
        name = _text(feature.properties.get("name"))
        if len(name) > MAX_NAME:
            problems.append(Problem(feature.index, code, "A name needs 1 to 100 characters"))
        boundary = checked_geometry(feature, code, problems, as_multipolygon)
        if level is not None and boundary is not None and len(problems) == found:
            rows.append(DivisionRow(feature.index, code, level, name, boundary))
    return rows, problems


def _text(value: object) -> str:
    """A property as text: whole numbers without ".0" (DBF and CSV turn codes into numbers)."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _level(feature: Feature, code: str, problems: list[Problem]) -> DivisionLevel | None:
    """The level the code's length gives, checked against a ``level`` property if any."""
    try:
        if not code:
            raise InvalidInput("division_code_missing", "The feature has no code property")
        level = level_of(code)
        validate_code(code, level)
    except InvalidInput as exc:
        problems.append(Problem.of(feature.index, code, exc))
        return None
    declared = _text(feature.properties.get("level")).lower()
    if declared and declared != level.value:
        problems.append(
            Problem(
                feature.index,
                code,
                N_("The level says %(declared)s, but a code of %(n)s digits is a %(level)s"),
                {"declared": declared, "n": len(code), "level": level.value},
            )
        )
        return None
    return level


def _checked(
    session: Session,
    actor: Actor,
    rows: list[DivisionRow],
    problems: list[Problem],
    named: set[str],
    source: str,
) -> dict[str, Division]:
    """Existing divisions (and parents) by code, or ImportRefused listing every problem."""
    in_file = {row.code: row for row in rows}
    wanted = set(in_file) | {p for p in map(parent_code, in_file) if p is not None}
    existing = {
        row.code: row
        for row in session.scalars(sa.select(Division).where(Division.code.in_(sorted(wanted))))
    }
    for row in rows:
        if parent_code(row.code) not in named - set(in_file):
            problems += _row_problems(row, actor, in_file, existing)
    if problems:
        raise ImportRefused(source, problems)
    return existing


def _row_problems(
    row: DivisionRow,
    actor: Actor,
    in_file: Mapping[str, DivisionRow],
    existing: Mapping[str, Division],
) -> list[Problem]:
    """Scope, a name for a new division, the parent and the boundary inside the parent's."""
    if not actor.scope.covers_division(row.code):
        return [Problem(row.index, row.code, N_("The division is outside your data scope"))]
    found: list[Problem] = []
    if row.code not in existing and not row.name:
        found.append(Problem(row.index, row.code, N_("A new division needs a name")))
    parent = parent_code(row.code)
    if parent is None:
        return found
    parent_geom: BaseGeometry | None
    if parent in in_file:
        parent_geom = in_file[parent].boundary
    elif parent in existing:
        parent_geom = existing[parent].geom
    else:
        message = "Parent division %(parent)s does not exist yet"
        return [*found, Problem(row.index, row.code, message, {"parent": parent})]
    try:
        check_inside_parent(row.boundary, parent_geom)
    except InvalidInput as exc:
        found.append(Problem.of(row.index, row.code, exc))
    return found


def _plan(
    rows: list[DivisionRow], existing: Mapping[str, Division]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Codes to create and codes whose name or boundary changes, in code order."""
    created = sorted(row.code for row in rows if row.code not in existing)
    updated = sorted(
        row.code
        for row in rows
        if row.code in existing
        and (
            (row.name and row.name != existing[row.code].name)
            or not _same(existing[row.code].geom, row.boundary)
        )
    )
    return tuple(created), tuple(updated)


def _same(stored: BaseGeometry | None, given: BaseGeometry) -> bool:
    """True when a stored boundary is the given one (up to vertex order and float noise)."""
    if stored is None:
        return False
    return bool(
        shapely.equals_exact(
            shapely.normalize(stored), shapely.normalize(given), tolerance=_SAME_TOLERANCE
        )
    )


def export_divisions(
    deps: ServiceDeps, actor: Actor, *, level: DivisionLevel | None = None
) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """Divisions in scope (not their ancestors) that have a boundary, in code order."""
    require(actor, Permission.ORG_READ)
    # Not divisions._scoped: it adds the ancestors for navigation, but a download is data.
    query = sa.select(Division).where(Division.geom.is_not(None))
    if not actor.scope.everything:
        owned = [Division.code.startswith(p) for p in sorted(actor.scope.divisions)]
        query = query.where(sa.or_(*owned) if owned else sa.false())
    if level is not None:
        query = query.where(Division.level == level.value)
    with deps.db.read() as session:
        found = session.scalars(query.order_by(Division.code)).all()
        return [
            (
                row.geom,
                {
                    "code": row.code,
                    "name": row.name,
                    "level": row.level,
                    "parent_code": parent_code(row.code),
                    "area_m2": round(row.area_m2 or 0.0, 1),
                },
            )
            for row in found
            if row.geom is not None
        ]
