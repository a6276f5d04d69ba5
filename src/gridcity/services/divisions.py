"""Administrative divisions: create, edit, list, and their boundaries as GeoJSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import Division
from gridcity.adapters.geo import area_m2, to_geojson
from gridcity.adapters.spatial_index import bump_version
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.boundaries import as_multipolygon, check_inside_parent
from gridcity.domain.divisions import (
    CHILD_LEVEL,
    DivisionLevel,
    parent_code,
    validate_code,
    validate_parent,
)
from gridcity.domain.errors import Conflict, InvalidInput, NotFound
from gridcity.services import audit
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.pagination import Page, paginate

# The spatial_state counter that tells every process its division index is stale.
DIVISIONS_STATE = "divisions"


@dataclass(frozen=True)
class DivisionView:
    """A division as shown to people (boundary left out; see ``boundaries_geojson``)."""

    id: int
    code: str
    level: DivisionLevel
    name: str
    parent_code: str | None
    area_m2: float | None
    has_boundary: bool
    is_active: bool

    @classmethod
    def of(cls, row: Division) -> DivisionView:
        """Read model from a row."""
        return cls(
            id=row.id,
            code=row.code,
            level=DivisionLevel(row.level),
            name=row.name,
            parent_code=parent_code(row.code),
            area_m2=row.area_m2,
            has_boundary=row.geom is not None,
            is_active=row.is_active,
        )


def _scoped(actor: Actor, query: Any) -> Any:
    """Limit a division query to what the actor may see (ancestors too, for context)."""
    if actor.scope.everything:
        return query
    prefixes = sorted(actor.scope.divisions)
    if not prefixes:
        return query.where(sa.false())
    visible = [Division.code.startswith(p) for p in prefixes]
    ancestors = {p[:n] for p in prefixes for n in (6, 9) if len(p) > n}
    if ancestors:
        visible.append(Division.code.in_(sorted(ancestors)))
    return query.where(sa.or_(*visible))


def _get_row(session: Session, actor: Actor, code: str) -> Division:
    row: Division | None = session.scalar(
        _scoped(actor, sa.select(Division).where(Division.code == code))
    )
    if row is None:
        raise NotFound("division_not_found", "No division with code %(code)s", code=code)
    return row


def _boundary(session: Session, code: str, geom: BaseGeometry | None) -> BaseGeometry | None:
    if geom is None:
        return None
    multi = as_multipolygon(geom)
    parent = parent_code(code)
    if parent is not None:
        parent_geom = session.scalar(sa.select(Division.geom).where(Division.code == parent))
        check_inside_parent(multi, parent_geom)
    return multi


def create_division(
    deps: ServiceDeps,
    actor: Actor,
    *,
    code: str,
    name: str,
    level: DivisionLevel,
    boundary: BaseGeometry | None = None,
    info: RequestInfo,
) -> DivisionView:
    """Add a district, subdistrict or community under its parent (found from the code)."""
    require(actor, Permission.ORG_WRITE)
    code = validate_code(code.strip(), level)
    name = _clean_name(name)
    now = deps.clock()
    with deps.db.transaction() as session:
        row = add_division_row(
            session, code=code, name=name, level=level, boundary=boundary, now=now
        )
        audit.append(
            session,
            at=now,
            actor=actor,
            action="division.created",
            target_type="division",
            target_id=code,
            detail={"name": name, "level": level.value, "area_m2": round(row.area_m2 or 0, 1)},
            info=info,
        )
        bump_version(session, DIVISIONS_STATE, now)
        return DivisionView.of(row)


def add_division_row(
    session: Session,
    *,
    code: str,
    name: str,
    level: DivisionLevel,
    boundary: BaseGeometry | None,
    now: datetime,
) -> Division:
    """In the caller's transaction: a new division under its existing parent (no audit)."""
    if session.scalar(sa.select(Division.id).where(Division.code == code)) is not None:
        raise Conflict("division_code_taken", "Division code %(code)s already exists", code=code)
    parent_row = None
    parent = parent_code(code)
    validate_parent(code, level, parent)
    if parent is not None:
        parent_row = session.scalar(sa.select(Division).where(Division.code == parent))
        if parent_row is None:
            raise InvalidInput(
                "division_parent_missing_row",
                "Parent division %(parent)s does not exist yet",
                parent=parent,
            )
    row = Division(
        code=code,
        level=level.value,
        name=name,
        parent_id=parent_row.id if parent_row else None,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    geom = _boundary(session, code, boundary)
    row.set_geometry(geom)
    row.area_m2 = area_m2(geom) if geom is not None else None
    session.add(row)
    session.flush()
    return row


def update_division(
    deps: ServiceDeps,
    actor: Actor,
    code: str,
    *,
    name: str | None = None,
    boundary: BaseGeometry | None = None,
    is_active: bool | None = None,
    info: RequestInfo,
) -> DivisionView:
    """Rename a division, replace its boundary or (de)activate it; codes never change."""
    require(actor, Permission.ORG_WRITE)
    now = deps.clock()
    with deps.db.transaction() as session:
        row = _get_row(session, actor, code)
        changes = change_division_row(
            session, row, name=name, boundary=boundary, is_active=is_active, now=now
        )
        if changes:
            audit.append(
                session,
                at=now,
                actor=actor,
                action="division.updated",
                target_type="division",
                target_id=code,
                detail=changes,
                info=info,
            )
            bump_version(session, DIVISIONS_STATE, now)
        return DivisionView.of(row)


def change_division_row(
    session: Session,
    row: Division,
    *,
    name: str | None = None,
    boundary: BaseGeometry | None = None,
    is_active: bool | None = None,
    now: datetime,
) -> dict[str, Any]:
    """In the caller's transaction: apply the changes to a division; returns them (old, new)."""
    changes: dict[str, Any] = {}
    if name is not None and _clean_name(name) != row.name:
        changes["name"] = [row.name, _clean_name(name)]
        row.name = _clean_name(name)
    if boundary is not None:
        geom = _boundary(session, row.code, boundary)
        row.set_geometry(geom)
        old_area = row.area_m2
        row.area_m2 = area_m2(geom) if geom is not None else None
        changes["boundary"] = [round(old_area or 0, 1), round(row.area_m2 or 0, 1)]
    if is_active is not None and is_active != row.is_active:
        changes["is_active"] = [row.is_active, is_active]
        row.is_active = is_active
    if changes:
        row.updated_at = now
    return changes


def get_division(deps: ServiceDeps, actor: Actor, code: str) -> DivisionView:
    """One division by code, if in the actor's scope."""
    require(actor, Permission.ORG_READ)
    with deps.db.read() as session:
        return DivisionView.of(_get_row(session, actor, code))


def list_divisions(
    deps: ServiceDeps,
    actor: Actor,
    *,
    q: str = "",
    level: DivisionLevel | None = None,
    parent: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[DivisionView]:
    """Divisions in scope, searchable by name or code prefix, ordered by code."""
    require(actor, Permission.ORG_READ)
    query = _scoped(actor, sa.select(Division)).order_by(Division.code)
    if q.strip():
        term = q.strip()
        query = query.where(
            sa.or_(
                Division.name.contains(term, autoescape=True),
                Division.code.startswith(term, autoescape=True),
            )
        )
    if level is not None:
        query = query.where(Division.level == level.value)
    if parent:
        query = query.where(Division.code.startswith(parent), Division.code != parent)
    with deps.db.read() as session:
        return paginate(session, query, page=page, per_page=per_page, convert=DivisionView.of)


def boundaries_geojson(
    deps: ServiceDeps,
    actor: Actor,
    *,
    level: DivisionLevel | None = None,
    parent: str | None = None,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the boundaries in scope, for the map."""
    require(actor, Permission.MAP_VIEW)
    query = _scoped(actor, sa.select(Division)).where(Division.geom.is_not(None))
    if level is not None:
        query = query.where(Division.level == level.value)
    if parent:
        query = query.where(Division.code.startswith(parent))
    with deps.db.read() as session:
        rows = session.scalars(query.order_by(Division.code)).all()
        features = [
            {
                "type": "Feature",
                "id": row.code,
                "geometry": to_geojson(row.geom),
                "properties": {
                    "code": row.code,
                    "name": row.name,
                    "level": row.level,
                    "area_m2": round(row.area_m2 or 0, 1),
                },
            }
            for row in rows
            if row.geom is not None
        ]
    return {"type": "FeatureCollection", "features": features}


def count_by_level(deps: ServiceDeps, actor: Actor) -> dict[str, int]:
    """How many divisions of each level the actor can see."""
    require(actor, Permission.ORG_READ)
    query = _scoped(actor, sa.select(Division.level, sa.func.count()).group_by(Division.level))
    with deps.db.read() as session:
        counts = {str(level): int(n) for level, n in session.execute(query).all()}
    return {level.value: counts.get(level.value, 0) for level in DivisionLevel}


def child_level(level: DivisionLevel) -> DivisionLevel | None:
    """Level of the children of a division (None for a community)."""
    return CHILD_LEVEL[level]


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("name_length", "A name needs 1 to 100 characters")
    return name
