"""Unit grids: re-divide a community (keeping history through validity dates) and read grids
as they are now or as they were at any moment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import Division, GridCell, GridCellMember, GridLayer
from gridcity.adapters.geo import area_m2, to_geojson
from gridcity.adapters.spatial_index import bump_version
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.divisions import DivisionLevel, validate_code
from gridcity.domain.errors import Conflict, InvalidInput, NotFound
from gridcity.domain.grid_cover import (
    assign_grid_codes,
    check_attributes,
    check_cell_shape,
    check_cover,
)
from gridcity.services import audit
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.pagination import Page, paginate

UNIT_LAYER = "unit"
GRIDS_STATE = "grids"
_CHUNK = 900  # IN-list size that every database accepts


class CellInput(NamedTuple):
    """One grid of a re-division: its code (None: next free sequence), lon/lat shape, attributes."""

    code: str | None
    geometry: BaseGeometry
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class GridView:
    """One version of a unit grid as shown to people (geometry left out; see ``grids_geojson``)."""

    code: str
    name: str
    community_code: str
    area_m2: float
    attributes: dict[str, Any]
    valid_from: datetime
    valid_to: datetime | None

    @classmethod
    def of(cls, row: GridCell) -> GridView:
        """Read model from a row."""
        return cls(
            code=row.code,
            name=row.name,
            community_code=row.community_code or row.code[:12],
            area_m2=float(row.attributes.get("area_m2") or 0.0),
            attributes=dict(row.attributes),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
        )


@dataclass(frozen=True)
class AffectedCell:
    """A cell made of unit grids that holds grids a re-division replaces (it is not re-drawn)."""

    layer: str
    code: str
    name: str


@dataclass(frozen=True)
class Redivision:
    """What a re-division did, and which cells built on the old grids now need re-drawing."""

    community_code: str
    valid_from: datetime
    ended: int
    created: tuple[str, ...]
    affected: tuple[AffectedCell, ...] = ()


def check_aware(moment: datetime, field: str) -> datetime:
    """The moment itself when it carries a time zone; naive times are ambiguous and refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            "time_zone_missing",
            "%(field)s needs a time zone offset, e.g. 2026-03-01T08:00:00+08:00",
            field=field,
        )
    return moment


def valid_at(at: datetime) -> sa.ColumnElement[bool]:
    """Grid versions in force at ``at``: valid_from ≤ at < valid_to (open-ended when NULL)."""
    return sa.and_(
        GridCell.valid_from <= at,
        sa.or_(GridCell.valid_to.is_(None), GridCell.valid_to > at),
    )


# --- the write path -----------------------------------------------------------------------


def replace_community_grids(
    deps: ServiceDeps,
    actor: Actor,
    community_code: str,
    cells: Iterable[tuple[str | None, BaseGeometry, Mapping[str, Any]]],
    *,
    valid_from: datetime,
    info: RequestInfo,
) -> Redivision:
    """Replace a community's grids from ``valid_from`` on, all-or-nothing, keeping the old ones."""
    require(actor, Permission.GRID_WRITE)
    community_code = validate_code(community_code.strip(), DivisionLevel.COMMUNITY)
    check_aware(valid_from, "valid_from")
    codes, shapes, attributes = checked_cells(community_code, [CellInput(*cell) for cell in cells])
    now = deps.clock()
    with deps.db.transaction() as session:
        layer_id = unit_layer_id(session, now)
        ended = write_redivision(
            session,
            actor,
            community_code,
            list(zip(codes, shapes, attributes, strict=True)),
            layer_id=layer_id,
            valid_from=valid_from,
            now=now,
        )
        affected = cells_on_grids_of(session, [community_code], valid_from)
        bump_version(session, GRIDS_STATE, now)
        audit.append(
            session,
            at=now,
            actor=actor,
            action="grid.redivided",
            target_type="community",
            target_id=community_code,
            detail={
                "ended": ended,
                "created": len(codes),
                "valid_from": valid_from.isoformat(),
                "affected_cells": [f"{a.layer}:{a.code}" for a in affected],
            },
            info=info,
        )
    return Redivision(community_code, valid_from, ended, tuple(codes), tuple(affected))


def checked_cells(
    community_code: str, given: Sequence[CellInput]
) -> tuple[list[str], list[MultiPolygon], list[dict[str, Any]]]:
    """Codes (missing ones assigned), shapes and attributes of a community's new grids, checked."""
    codes = assign_grid_codes(community_code, [c.code for c in given])
    shapes = [check_cell_shape(code, c.geometry) for code, c in zip(codes, given, strict=True)]
    attributes = [
        check_attributes(code, c.attributes) for code, c in zip(codes, given, strict=True)
    ]
    return codes, shapes, attributes


def write_redivision(
    session: Session,
    actor: Actor,
    community_code: str,
    cells: Sequence[tuple[str, MultiPolygon, dict[str, Any]]],
    *,
    layer_id: int,
    valid_from: datetime,
    now: datetime,
) -> int:
    """In the caller's transaction: check checked cells against the community, end its grids in
    force, add the new ones; returns how many ended (no audit, no version bump)."""
    codes = [code for code, _, _ in cells]
    boundary = _community_boundary(session, actor, community_code)
    _check_geometry(community_code, boundary, codes, [shape for _, shape, _ in cells])
    ended = _end_current(session, layer_id, community_code, valid_from)
    for code, shape, attrs in cells:
        session.add(_new_cell(layer_id, code, shape, attrs, valid_from, now))
    return ended


def cells_on_grids_of(
    session: Session, communities: Sequence[str], valid_from: datetime
) -> list[AffectedCell]:
    """Cells of other layers in force after ``valid_from`` that hold grids of these communities
    (a re-division from ``valid_from`` replaces all of them, and does not re-draw the cells)."""
    found: set[tuple[str, str, str]] = set()
    ordered = sorted(set(communities))
    for start in range(0, len(ordered), _CHUNK):
        rows = session.execute(
            sa.select(GridLayer.code, GridCell.code, GridCell.name)
            .join(GridCell, GridCell.layer_id == GridLayer.id)
            .join(GridCellMember, GridCellMember.cell_id == GridCell.id)
            .where(
                sa.func.substr(GridCellMember.grid_code, 1, 12).in_(
                    ordered[start : start + _CHUNK]
                ),
                sa.or_(GridCell.valid_to.is_(None), GridCell.valid_to > valid_from),
            )
        )
        found.update((layer, code, name) for layer, code, name in rows)
    return [AffectedCell(*row) for row in sorted(found)]


def unit_layer_id(session: Session, now: datetime) -> int:
    """Id of the unit grid layer (the migration creates it; recreated if a database lost it)."""
    found = session.scalar(sa.select(GridLayer.id).where(GridLayer.code == UNIT_LAYER))
    if found is not None:
        return int(found)
    layer = GridLayer(
        kind=UNIT_LAYER,
        code=UNIT_LAYER,
        name="单元网格",
        description="",
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(layer)
    session.flush()
    return layer.id


def _community_boundary(session: Session, actor: Actor, code: str) -> BaseGeometry:
    """The community's boundary, or a refusal when it is unknown, out of scope or undrawn."""
    # The row stays locked until commit, so two re-divisions of one community run one after the
    # other and the second sees the first's grids (PostgreSQL; SQLite has one writer anyway).
    row = session.scalar(sa.select(Division).where(Division.code == code).with_for_update())
    if row is None or not actor.scope.covers_division(code):
        raise NotFound("division_not_found", "No division with code %(code)s", code=code)
    if row.geom is None:
        raise InvalidInput(
            "community_without_boundary",
            "Community %(code)s has no boundary yet; draw or import it before its grids",
            code=code,
        )
    return row.geom


def _check_geometry(
    community_code: str, boundary: BaseGeometry, codes: list[str], shapes: list[Any]
) -> None:
    """Check the cover in lon/lat, with the community's own geodesic m² per square degree."""
    m2_per_unit = area_m2(boundary) / boundary.area if boundary.area > 0 else 0.0
    check_cover(community_code, boundary, codes, shapes, m2_per_unit=m2_per_unit)


def _end_current(session: Session, layer_id: int, community_code: str, at: datetime) -> int:
    """Close the community's grids in force, refusing a date not after its last re-division."""
    of_community = sa.and_(GridCell.layer_id == layer_id, GridCell.community_code == community_code)
    last = session.scalar(sa.select(sa.func.max(GridCell.valid_from)).where(of_community))
    if last is not None and last >= at:
        raise Conflict(
            "grid_redivision_order",
            "Community %(community)s was last re-divided from %(last)s; a new division must start later",
            community=community_code,
            last=last.isoformat(),
        )
    result = session.execute(
        sa.update(GridCell)
        .where(of_community, GridCell.valid_to.is_(None))
        .values(valid_to=at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


def _new_cell(
    layer_id: int,
    code: str,
    shape: BaseGeometry,
    attributes: dict[str, Any],
    valid_from: datetime,
    now: datetime,
) -> GridCell:
    """A new grid row; the area is always computed (geodesic, m²), never taken from input."""
    name = str(attributes.pop("name", "") or "")[:100]
    attributes["area_m2"] = round(area_m2(shape), 2)
    cell = GridCell(
        layer_id=layer_id,
        code=code,
        name=name,
        community_code=code[:12],
        attributes=attributes,
        valid_from=valid_from,
        valid_to=None,
        created_at=now,
    )
    cell.set_geometry(shape)
    return cell


# --- reading ------------------------------------------------------------------------------


def _unit_grids(actor: Actor, at: datetime) -> sa.Select[GridCell]:
    """Unit grid versions in force at ``at`` that the actor's data scope covers."""
    query = (
        sa.select(GridCell)
        .join(GridLayer, GridLayer.id == GridCell.layer_id)
        .where(GridLayer.code == UNIT_LAYER, valid_at(at))
    )
    if actor.scope.everything:
        return query
    prefixes = sorted(actor.scope.divisions)
    if not prefixes:
        return query.where(sa.false())
    return query.where(sa.or_(*[GridCell.code.startswith(p) for p in prefixes]))


def get_grid(deps: ServiceDeps, actor: Actor, code: str, *, at: datetime | None = None) -> GridView:
    """The unit grid with this code as it was at ``at`` (default: now), if in scope."""
    require(actor, Permission.GRID_READ)
    moment = check_aware(at, "at") if at is not None else deps.clock()
    with deps.db.read() as session:
        row = session.scalar(_unit_grids(actor, moment).where(GridCell.code == code))
        if row is None:
            raise NotFound("grid_not_found", "No unit grid with code %(code)s", code=code)
        return GridView.of(row)


def list_grids(
    deps: ServiceDeps,
    actor: Actor,
    *,
    community: str | None = None,
    q: str = "",
    at: datetime | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[GridView]:
    """Unit grids in scope at ``at`` (default: now), by community and code prefix or name."""
    require(actor, Permission.GRID_READ)
    moment = check_aware(at, "at") if at is not None else deps.clock()
    query = _unit_grids(actor, moment).order_by(GridCell.code)
    if community:
        query = query.where(GridCell.community_code == community)
    if q.strip():
        term = q.strip()
        query = query.where(
            sa.or_(
                GridCell.code.startswith(term, autoescape=True),
                GridCell.name.contains(term, autoescape=True),
            )
        )
    with deps.db.read() as session:
        return paginate(session, query, page=page, per_page=per_page, convert=GridView.of)


def grids_geojson(
    deps: ServiceDeps, actor: Actor, *, parent: str | None = None, at: datetime | None = None
) -> dict[str, Any]:
    """Unit grids in scope (under a district, subdistrict or community code), as GeoJSON."""
    require(actor, Permission.GRID_READ)
    moment = check_aware(at, "at") if at is not None else deps.clock()
    query = _unit_grids(actor, moment).where(GridCell.geom.is_not(None)).order_by(GridCell.code)
    if parent:
        query = query.where(GridCell.code.startswith(parent, autoescape=True))
    with deps.db.read() as session:
        features = [_feature(row) for row in session.scalars(query)]
    return {"type": "FeatureCollection", "features": features}


def _feature(row: GridCell) -> dict[str, Any]:
    """One grid as a GeoJSON feature (lon/lat, EPSG:4490)."""
    assert row.geom is not None
    view = GridView.of(row)
    return {
        "type": "Feature",
        "id": view.code,
        "geometry": to_geojson(row.geom),
        "properties": {
            **view.attributes,
            "code": view.code,
            "name": view.name,
            "community_code": view.community_code,
            "valid_from": view.valid_from.isoformat(),
            "valid_to": view.valid_to.isoformat() if view.valid_to else None,
        },
    }
