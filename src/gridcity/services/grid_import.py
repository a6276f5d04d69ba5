"""Unit grids from and to feature files.

An import replaces the grids of every community the file names, in one transaction, from
``valid_from`` on (the old grids stay as history). Every feature is checked first (code,
geometry, community, duplicates, overlaps, grids outside their community, gaps) and all
problems are reported together; one problem and nothing is written. The checks are those of
the write path (``grids.write_redivision``, which runs them again), with every instance found
by ``validate_grids`` on lon/lat scaled to metres. An export gives the grids in force at a moment with codes and attributes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
import sqlalchemy as sa
from pyproj import Geod
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import Division, GridCell, GridLayer
from gridcity.adapters.geojson_files import Feature
from gridcity.adapters.spatial_index import bump_version
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.errors import InvalidInput
from gridcity.domain.grid_cover import check_cell_shape
from gridcity.domain.grid_validation import FindingKind, validate_grids
from gridcity.domain.grids import community_of, validate_grid_code
from gridcity.domain.imports import N_, ImportRefused, Problem
from gridcity.services import audit, grids
from gridcity.services.data_versions import Versions, hold_unchanged
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.feature_checks import checked_geometry

CODE_KEYS = ("grid_code", "code")  # `code` too: the API's GeoJSON names it so
TEXT_ATTRIBUTES = ("name", "land_use", "management_level", "responsible_party")
MAX_CHARS = {"name": 100}  # as stored; the other attributes may have up to DEFAULT_MAX_CHARS
DEFAULT_MAX_CHARS = 200
EXPORT_COLUMNS = (
    "grid_code",
    "community_code",
    "name",
    *TEXT_ATTRIBUTES[1:],
    "area_m2",
    "valid_from",
    "valid_to",
)
_GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid, numerically
Advance = Callable[[int], None]
Progress = Callable[[str, int], Advance]
Cell = tuple[str, MultiPolygon, dict[str, Any]]


@dataclass(frozen=True)
class GridRow:
    """A feature that passed the checks of its own: code, polygon and text attributes."""

    index: int
    code: str
    shape: MultiPolygon
    attributes: dict[str, Any]


@dataclass(frozen=True)
class GridImport:
    """What an import did, or (dry run) would do."""

    source: str
    communities: tuple[str, ...]
    created: int
    ended: int
    valid_from: datetime
    dry_run: bool
    # (community, grids created, grids in force ended), in community code order
    per_community: tuple[tuple[str, int, int], ...] = ()
    affected: tuple[grids.AffectedCell, ...] = ()  # cells built on the replaced grids


def import_grids(
    deps: ServiceDeps,
    actor: Actor,
    features: Sequence[Feature],
    *,
    valid_from: datetime,
    info: RequestInfo,
    source: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    unchanged_since: Versions | None = None,
) -> GridImport:
    """Replace the grids of every community in ``features`` (stored CRS), all-or-nothing.

    ``unchanged_since``: the data versions a dry run of the same file saw; the write refuses
    when grids or divisions changed since (held until commit, so two confirmations cannot both
    pass).
    """
    require(actor, Permission.GRID_WRITE)
    grids.check_aware(valid_from, "valid_from")
    rows, problems = _parse(features)
    if dry_run:
        with deps.db.read() as session:
            groups = _checked(session, actor, rows, problems, valid_from, source, lock=False)
            current = _count_current(session, list(groups))
            affected = grids.cells_on_grids_of(session, list(groups), valid_from)
        per = _per_community(groups, current)
        return GridImport(
            source,
            tuple(groups),
            len(rows),
            sum(current.values()),
            valid_from,
            True,
            per,
            tuple(affected),
        )
    now = deps.clock()
    with deps.db.transaction() as session:
        if unchanged_since is not None:
            hold_unchanged(session, unchanged_since, now)
        groups = _checked(session, actor, rows, problems, valid_from, source, lock=True)
        advance = progress("writing unit grids", len(groups)) if progress else None
        layer_id = grids.unit_layer_id(session, now)
        ended_by: dict[str, int] = {}
        for community, cells in groups.items():
            ended_by[community] = grids.write_redivision(
                session,
                actor,
                community,
                cells,
                layer_id=layer_id,
                valid_from=valid_from,
                now=now,
            )
            if advance:
                advance(1)
        ended = sum(ended_by.values())
        affected = grids.cells_on_grids_of(session, list(groups), valid_from)
        bump_version(session, grids.GRIDS_STATE, now)
        audit.append(
            session,
            at=now,
            actor=actor,
            action="grid.imported",
            target_type="file",
            target_id=Path(source).name,
            detail={
                "file": Path(source).name,
                "communities": len(groups),
                "created": len(rows),
                "ended": ended,
                "valid_from": valid_from.isoformat(),
                "affected_cells": [f"{a.layer}:{a.code}" for a in affected],
            },
            info=info,
        )
    per = _per_community(groups, ended_by)
    return GridImport(
        source, tuple(groups), len(rows), ended, valid_from, False, per, tuple(affected)
    )


def _per_community(
    groups: Mapping[str, list[Cell]], ended: Mapping[str, int]
) -> tuple[tuple[str, int, int], ...]:
    """(community, grids created, grids ended) in code order."""
    return tuple((c, len(groups[c]), ended.get(c, 0)) for c in sorted(groups))


# --- the features on their own ---------------------------------------------------------------


def _parse(features: Sequence[Feature]) -> tuple[list[GridRow], list[Problem]]:
    """Rows with a good code, polygon and attributes; a problem for every other feature."""
    problems: list[Problem] = []
    if not features:
        problems.append(Problem(None, "", N_("The file holds no features")))
    rows: list[GridRow] = []
    first: dict[str, int] = {}
    for feature in features:
        code = _code(feature.properties)
        found = len(problems)
        attributes = _attributes(feature, code, problems)
        try:
            if not code:
                raise InvalidInput("grid_code_missing", "The feature has no grid_code property")
            validate_grid_code(code)
            if code in first:
                problems.append(
                    Problem(
                        feature.index,
                        code,
                        N_("The grid code repeats feature %(first)s"),
                        {"first": first[code]},
                    )
                )
            first.setdefault(code, feature.index)
        except InvalidInput as exc:
            problems.append(Problem.of(feature.index, code, exc))
        shape = checked_geometry(feature, code, problems, partial(check_cell_shape, code or "?"))
        if shape is not None and len(problems) == found:
            rows.append(GridRow(feature.index, code, shape, attributes))
    return rows, problems


def _text(value: object) -> str:
    """A property as text: whole numbers without ".0" (DBF and CSV turn codes into numbers)."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _code(properties: Mapping[str, Any]) -> str:
    """The grid code of a feature: its ``grid_code``, else its ``code`` property."""
    for key in CODE_KEYS:
        text = _text(properties.get(key))
        if text:
            return text
    return ""


def _attributes(feature: Feature, code: str, problems: list[Problem]) -> dict[str, Any]:
    """The known attributes as text (empty ones left out); others in the file are ignored."""
    kept: dict[str, Any] = {}
    for key in TEXT_ATTRIBUTES:
        value = feature.properties.get(key)
        if value is not None and not isinstance(value, str | int | float):
            problems.append(
                Problem(
                    feature.index,
                    code,
                    N_("Attribute %(key)s must be text or a number"),
                    {"key": key},
                )
            )
            continue
        text = _text(value)
        limit = MAX_CHARS.get(key, DEFAULT_MAX_CHARS)
        if len(text) > limit:
            problems.append(
                Problem(
                    feature.index,
                    code,
                    N_("Attribute %(key)s has %(n)s characters, more than %(max)s"),
                    {"key": key, "n": len(text), "max": limit},
                )
            )
        elif text:
            kept[key] = text
    return kept


# --- against the database and one another ----------------------------------------------------


def _checked(
    session: Session,
    actor: Actor,
    rows: list[GridRow],
    problems: list[Problem],
    valid_from: datetime,
    source: str,
    *,
    lock: bool,
) -> dict[str, list[Cell]]:
    """The cells to write by community, or ImportRefused listing every problem."""
    codes = sorted({community_of(row.code) for row in rows})
    boundaries = _boundaries(session, actor, codes, lock)
    placed: list[GridRow] = []
    for row in rows:
        community = community_of(row.code)
        if isinstance(boundaries.get(community), BaseGeometry):
            placed.append(row)
        else:
            problems.append(_unplaced(row, community, known=community in boundaries))
    problems += _late(session, [c for c in codes if c in boundaries], valid_from)
    known = {c: g for c, g in boundaries.items() if isinstance(g, BaseGeometry)}
    problems += _cover_problems(placed, known, check_gaps=not problems)
    if problems:
        raise ImportRefused(source, problems)
    groups: dict[str, list[Cell]] = defaultdict(list)
    for row in placed:
        groups[community_of(row.code)].append((row.code, row.shape, dict(row.attributes)))
    return dict(groups)


def _boundaries(
    session: Session, actor: Actor, codes: list[str], lock: bool
) -> dict[str, BaseGeometry | None]:
    """Boundary of each community in scope (None when it has none); unknown ones left out."""
    query = sa.select(Division).where(Division.code.in_(codes))
    if lock:
        # Held until commit: a concurrent re-division of the same community waits for us.
        query = query.with_for_update()
    return {
        row.code: row.geom
        for row in session.scalars(query)
        if actor.scope.covers_division(row.code)
    }


def _unplaced(row: GridRow, community: str, *, known: bool) -> Problem:
    """Why a grid's community cannot take it: unknown (or out of scope), or not drawn yet."""
    if known:
        return Problem(
            row.index,
            row.code,
            "Community %(code)s has no boundary yet; draw or import it before its grids",
            {"code": community},
        )
    return Problem(
        row.index,
        row.code,
        N_("Community %(community)s does not exist or is outside your data scope"),
        {"community": community},
    )


def _late(session: Session, communities: list[str], valid_from: datetime) -> list[Problem]:
    """Communities re-divided at or after ``valid_from``: history must stay in order."""
    last = session.execute(
        sa.select(GridCell.community_code, sa.func.max(GridCell.valid_from))
        .join(GridLayer, GridLayer.id == GridCell.layer_id)
        .where(GridLayer.code == grids.UNIT_LAYER, GridCell.community_code.in_(communities))
        .group_by(GridCell.community_code)
    ).all()
    return [
        Problem(
            None,
            str(code),
            N_(
                "Community %(community)s was last re-divided from %(last)s; the import must start later"
            ),
            {"community": str(code), "last": moment.isoformat()},
        )
        for code, moment in last
        if moment is not None and moment >= valid_from
    ]


def _cover_problems(
    rows: list[GridRow], boundaries: Mapping[str, BaseGeometry], *, check_gaps: bool
) -> list[Problem]:
    """Overlaps, grids outside their community and gaps, each instance, in local metres."""
    if not rows:
        return []
    to_metres = _local_metres(np.asarray([row.shape for row in rows], dtype=object))
    shapes = to_metres(np.asarray([row.shape for row in rows], dtype=object))
    names = sorted({community_of(row.code) for row in rows})
    areas = to_metres(np.asarray([boundaries[c] for c in names], dtype=object))
    findings = validate_grids(
        [(row.code, shape) for row, shape in zip(rows, shapes, strict=True)],
        list(zip(names, areas, strict=True)),
    )
    problems: list[Problem] = []
    gaps: dict[str, float] = defaultdict(float)
    for f in findings:
        if not f.blocking:
            continue
        if f.kind is FindingKind.OVERLAP and f.index is not None:
            other = f.params["other"]
            assert isinstance(other, int)
            problems.append(
                Problem(
                    rows[f.index].index,
                    f.code,
                    N_("The grid overlaps feature %(other)s (%(other_code)s) by %(area)s m²"),
                    {
                        "other": rows[other].index,
                        "other_code": rows[other].code,
                        "area": f.params["area"],
                    },
                )
            )
        elif f.kind is FindingKind.CROSSES_COMMUNITY and f.index is not None:
            problems.append(
                Problem(
                    rows[f.index].index,
                    f.code,
                    N_(
                        "%(area)s m² (%(pct)s%%) of the grid lies outside its community %(community)s"
                    ),
                    {
                        "area": f.params["area"],
                        "pct": f.params["pct"],
                        "community": community_of(f.code),
                    },
                )
            )
        elif f.kind is FindingKind.GAP:
            gaps[f.code] += f.amount_m2
    if check_gaps:
        problems += [
            Problem(
                None,
                community,
                "%(area)s m² of community %(code)s is covered by no grid",
                {"area": f"{area:.2f}", "code": community},
            )
            for community, area in sorted(gaps.items())
        ]
    return problems


def _local_metres(
    lonlat: npt.NDArray[np.object_],
) -> Callable[[npt.NDArray[np.object_]], npt.NDArray[np.object_]]:
    """A scaling of lon/lat into metres around the middle of the geometries.

    Scaling keeps straight edges straight, so a vertex lying on a neighbour's edge stays on
    it: checks see exactly what the write path (in lon/lat) sees. A projection would bend
    long edges differently from their chords and make overlaps of a few m² out of nothing.
    """
    min_x, min_y, max_x, max_y = shapely.total_bounds(lonlat)
    lon, lat = (min_x + max_x) / 2, (min_y + max_y) / 2
    kx = _GEOD.inv(lon, lat, lon + 0.01, lat)[2] / 0.01
    ky = _GEOD.inv(lon, lat, lon, lat + 0.01)[2] / 0.01

    def scale(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
        moved: npt.NDArray[np.object_] = shapely.transform(
            geoms, lambda xy: (xy - (lon, lat)) * (kx, ky)
        )
        return moved

    return scale


def _count_current(session: Session, communities: list[str]) -> dict[str, int]:
    """How many unit grids of each community are in force (an import would end them)."""
    found = session.execute(
        sa.select(GridCell.community_code, sa.func.count())
        .join(GridLayer, GridLayer.id == GridCell.layer_id)
        .where(
            GridLayer.code == grids.UNIT_LAYER,
            GridCell.community_code.in_(communities),
            GridCell.valid_to.is_(None),
        )
        .group_by(GridCell.community_code)
    ).all()
    return {str(code): int(n) for code, n in found}


# --- export ----------------------------------------------------------------------------------


def export_grids(
    deps: ServiceDeps, actor: Actor, *, under: str | None = None, at: datetime | None = None
) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """Unit grids in scope in force at ``at`` (default: now), under a division code, in code
    order: stored geometry at full precision and the columns of ``EXPORT_COLUMNS``."""
    require(actor, Permission.GRID_READ)
    moment = grids.check_aware(at, "at") if at is not None else deps.clock()
    query = grids._unit_grids(actor, moment).where(GridCell.geom.is_not(None))
    if under:
        query = query.where(GridCell.code.startswith(under, autoescape=True))
    with deps.db.read() as session:
        found = session.scalars(query.order_by(GridCell.code)).all()
        return [(row.geom, _exported(row)) for row in found if row.geom is not None]


def _exported(row: GridCell) -> dict[str, Any]:
    """The export columns of one grid version."""
    view = grids.GridView.of(row)
    values: dict[str, Any] = {
        "grid_code": view.code,
        "community_code": view.community_code,
        "name": view.name or None,
        "area_m2": view.area_m2,
        "valid_from": view.valid_from.isoformat(),
        "valid_to": view.valid_to.isoformat() if view.valid_to else None,
    }
    values.update({key: view.attributes.get(key) for key in TEXT_ATTRIBUTES[1:]})
    return {column: values[column] for column in EXPORT_COLUMNS}
