"""Grid layers besides the unit grids: create, switch on and off, re-draw a layer's cells
(all-or-nothing, checked by the layer's scheme, keeping the old cells as history), and read the
cells in force at any moment. Every change bumps the ``grids`` counter, so each process's point
index (``services/locate.py``) is rebuilt and answers the new cells."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gridcity.adapters.db.engine import lock_rows
from gridcity.adapters.db.tables import (
    GridCell,
    GridCellMember,
    GridLayer,
    GridLayerScheme,
    LayerSchemeSetting,
)
from gridcity.adapters.geo import to_geojson
from gridcity.adapters.spatial_index import bump_version
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import Conflict, InvalidInput, NotFound
from gridcity.domain.layer_schemes import (
    SEED_SETTINGS,
    STRUCTURE,
    SchemeSettings,
    build_rules,
)
from gridcity.domain.layers import (
    DEFAULT_SCHEME,
    CellShape,
    LayerRules,
    Scheme,
    check_layer_code,
    parse_scheme,
)
from gridcity.services import audit
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.grids import GRIDS_STATE, UNIT_LAYER, check_aware, valid_at

CHINA_TZ = ZoneInfo("Asia/Shanghai")
SCHEME_TABLE = cast(sa.Table, LayerSchemeSetting.__table__)
_EDITABLE = frozenset(s.value for s in Scheme if s is not Scheme.UNIT)
_CHUNK = 900  # IN-list size that every database accepts
_SHAPE_WORDS = {
    CellShape.POLYGON: "a polygon (geometry)",
    CellShape.UNIT_GRIDS: "a list of unit grids (grids)",
    CellShape.DIVISION: "its division only (no geometry, no grids)",
}


@dataclass(frozen=True)
class LayerView:
    """A layer with its scheme and how many cells are in force now."""

    code: str
    kind: str
    scheme: str | None
    name: str
    description: str
    is_active: bool
    cells: int
    code_pattern: str | None
    division_level: str | None


@dataclass(frozen=True)
class LayerCell:
    """A cell in force, with its geometry (for building on it, e.g. the demo city)."""

    code: str
    name: str
    geometry: BaseGeometry
    attributes: dict[str, Any]


# --- shared helpers (also used by the responsibility service) ------------------------------


def layer_row(session: Session, code: str, *, for_update: bool = False) -> GridLayer:
    """The layer with this code, or a refusal."""
    query = sa.select(GridLayer).where(GridLayer.code == code)
    row = session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound("layer_not_found", "No grid layer with code %(code)s", code=code)
    return row


def scheme_of(session: Session, layer: GridLayer) -> Scheme | None:
    """The layer's scheme: its own row, else the one scheme of its kind (None: unknown)."""
    stored = session.scalar(
        sa.select(GridLayerScheme.scheme).where(GridLayerScheme.layer_id == layer.id)
    )
    if stored is not None:
        return Scheme(stored)
    return DEFAULT_SCHEME.get(layer.kind)


def rules_of(session: Session, layer: GridLayer, *, hold: bool = False) -> LayerRules:
    """The rules of a layer (its scheme's stored settings), or a refusal when its scheme is unknown.

    ``hold`` keeps the scheme's settings from changing until the caller commits (a drawing
    checked against a format must be stored in that format).
    """
    scheme = scheme_of(session, layer)
    if scheme is None:
        raise InvalidInput(
            "layer_scheme_missing",
            "Layer %(layer)s has no known scheme; create layers through the layer service",
            layer=layer.code,
        )
    if hold:
        lock_rows(session, SCHEME_TABLE, SCHEME_TABLE.c.scheme == scheme.value, shared=True)
    return scheme_rules(session)[scheme]


def scheme_settings(session: Session) -> dict[Scheme, SchemeSettings]:
    """Every scheme's settings as stored; a scheme without a row keeps its seed values."""
    found = dict(SEED_SETTINGS)
    for row in session.scalars(sa.select(LayerSchemeSetting)):
        if row.scheme in _EDITABLE:
            found[Scheme(row.scheme)] = SchemeSettings(
                marker=row.marker,
                level=DivisionLevel(row.division_level),
                sequence_digits=row.sequence_digits,
                name_zh=row.name_zh,
                name_en=row.name_en,
            )
    return found


def scheme_rules(session: Session) -> dict[Scheme, LayerRules]:
    """The rules in force of every scheme (the unit grid code is fixed)."""
    return {s: build_rules(s, settings) for s, settings in scheme_settings(session).items()}


def cell_scope(rules: LayerRules, actor: Actor) -> sa.ColumnElement[bool]:
    """Cells the actor's data scope reaches: in, or around, a division of the scope."""
    if actor.scope.everything:
        return sa.true()
    prefixes = sorted({rules.scope_prefix(p) for p in actor.scope.divisions})
    if not prefixes:
        return sa.false()
    return sa.or_(*[GridCell.code.startswith(p, autoescape=True) for p in prefixes])


def moment_of(deps: ServiceDeps, at: datetime | None) -> datetime:
    """``at`` checked for a time zone, or now."""
    return check_aware(at, "at") if at is not None else deps.clock()


def _view(
    layer: GridLayer, scheme: Scheme | None, cells: int, rules_by: dict[Scheme, LayerRules]
) -> LayerView:
    """Read model of a layer."""
    rules = rules_by[scheme] if scheme is not None else None
    return LayerView(
        code=layer.code,
        kind=layer.kind,
        scheme=scheme.value if scheme is not None else None,
        name=layer.name,
        description=layer.description,
        is_active=layer.is_active,
        cells=cells,
        code_pattern=rules.pattern if rules else None,
        division_level=rules.level.value if rules else None,
    )


def _count(session: Session, layer_id: int, at: datetime) -> int:
    """Cells of a layer in force at ``at``."""
    query = sa.select(sa.func.count()).where(GridCell.layer_id == layer_id, valid_at(at))
    return int(session.scalar(query) or 0)


# --- layers ---------------------------------------------------------------------------------


def create_layer(
    deps: ServiceDeps,
    actor: Actor,
    *,
    code: str,
    name: str,
    scheme: str,
    description: str = "",
    info: RequestInfo,
) -> LayerView:
    """A new, active, empty layer of a scheme (admin)."""
    require(actor, Permission.GRID_WRITE)
    code = check_layer_code(code.strip())
    chosen = parse_scheme(scheme)
    if chosen is Scheme.UNIT:
        raise InvalidInput("layer_unit_exists", "There is one unit grid layer; it already exists")
    name = _clean_name(name)
    now = deps.clock()
    with deps.db.transaction() as session:
        if session.scalar(sa.select(GridLayer.id).where(GridLayer.code == code)) is not None:
            raise Conflict("layer_code_taken", "A layer with code %(code)s exists", code=code)
        layer = GridLayer(
            kind=STRUCTURE[chosen].kind.value,
            code=code,
            name=name,
            description=description.strip()[:500],
            is_active=True,
            created_at=now,
            updated_at=now,
        )
        session.add(layer)
        session.flush()
        session.add(GridLayerScheme(layer_id=layer.id, scheme=chosen.value))
        bump_version(session, GRIDS_STATE, now)  # the locator answers every active layer
        audit.append(
            session,
            at=now,
            actor=actor,
            action="layer.created",
            target_type="grid_layer",
            target_id=code,
            detail={"scheme": chosen.value, "name": name},
            info=info,
        )
        return _view(layer, chosen, 0, scheme_rules(session))


def update_layer(
    deps: ServiceDeps,
    actor: Actor,
    code: str,
    *,
    name: str | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    info: RequestInfo,
) -> LayerView:
    """Rename, describe, or switch a layer on or off (admin); the unit layer stays on."""
    require(actor, Permission.GRID_WRITE)
    now = deps.clock()
    with deps.db.transaction() as session:
        layer = layer_row(session, code, for_update=True)
        if is_active is False and layer.code == UNIT_LAYER:
            raise InvalidInput("layer_unit_always_on", "The unit grid layer cannot be switched off")
        changes: dict[str, Any] = {}
        for key, value in (
            ("name", _clean_name(name) if name is not None else None),
            ("description", description.strip()[:500] if description is not None else None),
            ("is_active", is_active),
        ):
            if value is not None and getattr(layer, key) != value:
                changes[key] = [getattr(layer, key), value]
                setattr(layer, key, value)
        if changes:
            layer.updated_at = now
            if "is_active" in changes:
                bump_version(session, GRIDS_STATE, now)
            audit.append(
                session,
                at=now,
                actor=actor,
                action="layer.updated",
                target_type="grid_layer",
                target_id=code,
                detail=changes,
                info=info,
            )
        return _view(
            layer, scheme_of(session, layer), _count(session, layer.id, now), scheme_rules(session)
        )


def _clean_name(name: str) -> str:
    """A name with its white space tidied, 1–100 characters."""
    cleaned = " ".join(name.split())
    if not 1 <= len(cleaned) <= 100:
        raise InvalidInput("name_length", "A name needs 1 to 100 characters")
    return cleaned


def list_layers(deps: ServiceDeps, actor: Actor) -> list[LayerView]:
    """Every layer, with its scheme and the number of cells in force now (all staff)."""
    require(actor, Permission.GRID_READ)
    now = deps.clock()
    with deps.db.read() as session:
        rows = session.execute(
            sa.select(GridLayer, GridLayerScheme.scheme)
            .outerjoin(GridLayerScheme, GridLayerScheme.layer_id == GridLayer.id)
            .order_by(GridLayer.id)
        ).all()
        counted = session.execute(
            sa.select(GridCell.layer_id, sa.func.count())
            .where(valid_at(now))
            .group_by(GridCell.layer_id)
        )
        counts = {layer_id: int(n) for layer_id, n in counted}
        rules_by = scheme_rules(session)
    return [
        _view(
            layer,
            Scheme(scheme) if scheme else DEFAULT_SCHEME.get(layer.kind),
            counts.get(layer.id, 0),
            rules_by,
        )
        for layer, scheme in rows
    ]


def get_layer(deps: ServiceDeps, actor: Actor, code: str) -> LayerView:
    """One layer by code."""
    require(actor, Permission.GRID_READ)
    with deps.db.read() as session:
        layer = layer_row(session, code)
        return _view(
            layer,
            scheme_of(session, layer),
            _count(session, layer.id, deps.clock()),
            scheme_rules(session),
        )


# --- reading cells ------------------------------------------------------------------------


def _cells_query(
    session: Session, actor: Actor, layer_code: str, at: datetime, parent: str | None
) -> tuple[GridLayer, LayerRules, sa.Select[GridCell]]:
    """The layer, its rules and the query of its cells in force in the actor's scope."""
    layer = layer_row(session, layer_code)
    rules = rules_of(session, layer)
    query = (
        sa.select(GridCell)
        .where(GridCell.layer_id == layer.id, valid_at(at), cell_scope(rules, actor))
        .where(GridCell.geom.is_not(None))
        .order_by(GridCell.code)
    )
    if parent:
        query = query.where(GridCell.code.startswith(rules.scope_prefix(parent), autoescape=True))
    return layer, rules, query


def layer_cells_geojson(
    deps: ServiceDeps,
    actor: Actor,
    layer_code: str,
    *,
    at: datetime | None = None,
    parent: str | None = None,
) -> dict[str, Any]:
    """A layer's cells in force at ``at`` (default: now) within the actor's scope, as GeoJSON."""
    require(actor, Permission.GRID_READ)
    moment = moment_of(deps, at)
    with deps.db.read() as session:
        layer, rules, query = _cells_query(session, actor, layer_code, moment, parent)
        rows = session.scalars(query).all()
        members = (
            _members(session, [r.id for r in rows]) if rules.shape is CellShape.UNIT_GRIDS else {}
        )
    features = [_feature(layer, rules, row, members.get(row.id)) for row in rows]
    return {"type": "FeatureCollection", "features": features}


def cells_in_force(
    deps: ServiceDeps, actor: Actor, layer_code: str, *, at: datetime | None = None
) -> list[LayerCell]:
    """A layer's cells in force at ``at`` within the actor's scope, with shapely geometries."""
    require(actor, Permission.GRID_READ)
    with deps.db.read() as session:
        _layer, _rules, query = _cells_query(session, actor, layer_code, moment_of(deps, at), None)
        return [
            LayerCell(r.code, r.name, r.geom, dict(r.attributes))
            for r in session.scalars(query)
            if r.geom is not None
        ]


def _members(session: Session, cell_ids: list[int]) -> dict[int, list[str]]:
    """Unit grid codes of each unit-grid cell, by cell id."""
    found: dict[int, list[str]] = {}
    for start in range(0, len(cell_ids), _CHUNK):
        rows = session.execute(
            sa.select(GridCellMember.cell_id, GridCellMember.grid_code)
            .where(GridCellMember.cell_id.in_(cell_ids[start : start + _CHUNK]))
            .order_by(GridCellMember.cell_id, GridCellMember.grid_code)
        )
        for cell_id, grid in rows:
            found.setdefault(cell_id, []).append(grid)
    return found


def _feature(
    layer: GridLayer, rules: LayerRules, row: GridCell, grids: list[str] | None
) -> dict[str, Any]:
    """One cell as a GeoJSON feature (lon/lat, EPSG:4490)."""
    assert row.geom is not None
    properties: dict[str, Any] = {
        **row.attributes,
        "code": row.code,
        "name": row.name,
        "layer": layer.code,
        "kind": layer.kind,
        "scheme": rules.scheme.value,
        "division_code": rules.division_of(row.code),
        "valid_from": row.valid_from.isoformat(),
        "valid_to": row.valid_to.isoformat() if row.valid_to else None,
    }
    if grids is not None:
        properties["grids"] = grids
    return {
        "type": "Feature",
        "id": row.code,
        "geometry": to_geojson(row.geom),
        "properties": properties,
    }
