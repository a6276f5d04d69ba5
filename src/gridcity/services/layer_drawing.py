"""Re-drawing a grid layer: every cell of the layer replaced from a date on, all-or-nothing,
checked by the layer's scheme (``domain/layers.py``), the old cells kept as history. The write
bumps the ``grids`` counter, so each process's point index answers the new cells."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import Division, GridCell, GridCellMember, GridLayer
from gridcity.adapters.geo import area_m2
from gridcity.adapters.spatial_index import bump_version
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import Conflict, InvalidInput, NotFound
from gridcity.domain.grid_cover import check_attributes, check_cell_shape
from gridcity.domain.layers import (
    CellShape,
    LayerRules,
    check_geometry,
    check_members,
    dynamic_codes,
    plan_codes,
)
from gridcity.services import audit
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.grids import GRIDS_STATE, UNIT_LAYER, check_aware, valid_at
from gridcity.services.layers import CHINA_TZ, layer_row, rules_of

_CHUNK = 900  # IN-list size that every database accepts


@dataclass(frozen=True)
class CellInput:
    """One cell of a drawing: its code (or the division to number it in), name, shape, attributes.

    Depending on the scheme the shape is a ``geometry`` (lon/lat), a list of unit ``grids``, or
    nothing (the division's own boundary).
    """

    code: str | None = None
    division: str | None = None
    name: str = ""
    geometry: BaseGeometry | None = None
    grids: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Drawing:
    """What a re-drawing did."""

    layer: str
    valid_from: datetime
    ended: int
    created: tuple[str, ...]


# --- the write path ----------------------------------------------------------------------


def replace_layer_cells(
    deps: ServiceDeps,
    actor: Actor,
    layer_code: str,
    cells: Iterable[CellInput],
    *,
    valid_from: datetime,
    info: RequestInfo,
) -> Drawing:
    """Replace every cell of a layer from ``valid_from`` on, all-or-nothing, keeping the old ones."""
    require(actor, Permission.GRID_WRITE)
    check_aware(valid_from, "valid_from")
    given = list(cells)
    now = deps.clock()
    with deps.db.transaction() as session:
        layer = layer_row(session, layer_code, for_update=True)
        rules = rules_of(session, layer, hold=True)
        if not rules.writable:
            raise InvalidInput(
                "layer_unit_grids",
                "Unit grids are re-divided one community at a time, not replaced as a layer",
            )
        codes = plan_codes(rules, [(c.code, c.division) for c in given])
        divisions = _division_boundaries(session, actor, {rules.division_of(c) for c in codes})
        attributes = [
            check_attributes(code, c.attributes) for code, c in zip(codes, given, strict=True)
        ]
        shapes = _shapes(session, rules, codes, given, divisions, valid_from)
        check_geometry(rules, codes, shapes, divisions, m2_per_unit=_m2_per_unit(divisions))
        if rules.dynamic_code:
            given_dynamic = [a.pop("dynamic_code", None) for a in attributes]
            drawn_on = valid_from.astimezone(CHINA_TZ).date()
            for attrs, value in zip(
                attributes,
                dynamic_codes(rules, codes, shapes, given_dynamic, drawn_on),
                strict=True,
            ):
                attrs["dynamic_code"] = value
        ended = _end_current(session, layer, valid_from)
        _insert(session, layer.id, rules, codes, given, shapes, attributes, valid_from, now)
        bump_version(session, GRIDS_STATE, now)
        audit.append(
            session,
            at=now,
            actor=actor,
            action="layer.redrawn",
            target_type="grid_layer",
            target_id=layer.code,
            detail={"ended": ended, "created": len(codes), "valid_from": valid_from.isoformat()},
            info=info,
        )
    return Drawing(layer.code, valid_from, ended, tuple(codes))


def _division_boundaries(
    session: Session, actor: Actor, codes: set[str]
) -> dict[str, BaseGeometry]:
    """Boundaries of the divisions the cells belong to; unknown, out-of-scope or undrawn refused."""
    found: dict[str, BaseGeometry | None] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        found.update(
            session.execute(
                sa.select(Division.code, Division.geom).where(Division.code.in_(chunk))
            ).all()
        )
    for code in ordered:
        if code not in found or not actor.scope.covers_division(code):
            raise NotFound("division_not_found", "No division with code %(code)s", code=code)
        if found[code] is None:
            raise InvalidInput(
                "layer_division_without_boundary",
                "Division %(code)s has no boundary yet; draw or import it before its cells",
                code=code,
            )
    return {code: geom for code, geom in found.items() if geom is not None}


def _shapes(
    session: Session,
    rules: LayerRules,
    codes: Sequence[str],
    given: Sequence[CellInput],
    divisions: Mapping[str, BaseGeometry],
    valid_from: datetime,
) -> list[BaseGeometry]:
    """Each cell's geometry: drawn, the union of its unit grids, or its division's boundary."""
    for code, cell in zip(codes, given, strict=True):
        _check_given_as(rules, code, cell)
    if rules.shape is CellShape.DIVISION:
        return [check_cell_shape(c, divisions[rules.division_of(c)]) for c in codes]
    if rules.shape is CellShape.POLYGON:
        return [
            check_cell_shape(c, cell.geometry)
            for c, cell in zip(codes, given, strict=True)
            if cell.geometry is not None
        ]
    members = [tuple(cell.grids) for cell in given]
    check_members(rules, codes, members)
    grids = _unit_grids_at(session, sorted({g for m in members for g in m}), valid_from)
    return [
        check_cell_shape(code, shapely.union_all([grids[g] for g in grid_codes]))
        for code, grid_codes in zip(codes, members, strict=True)
    ]


def _check_given_as(rules: LayerRules, code: str, cell: CellInput) -> None:
    """A cell comes as the scheme wants it: a polygon, a list of unit grids, or neither."""
    if rules.shape is CellShape.POLYGON and (cell.geometry is None or cell.grids):
        raise InvalidInput(
            "layer_cell_shape",
            "Cell %(code)s needs a polygon geometry and no unit grids",
            code=code,
        )
    if rules.shape is CellShape.UNIT_GRIDS and cell.geometry is not None:
        raise InvalidInput(
            "layer_cell_shape",
            "Cell %(code)s is made of unit grids: list them and give no geometry",
            code=code,
        )
    if rules.shape is CellShape.DIVISION and (cell.geometry is not None or cell.grids):
        raise InvalidInput(
            "layer_cell_shape",
            "Cell %(code)s is a whole division: give neither geometry nor unit grids",
            code=code,
        )


def _unit_grids_at(session: Session, codes: list[str], at: datetime) -> dict[str, BaseGeometry]:
    """Geometries of unit grids in force at ``at``; a grid not in force then is refused."""
    unit = sa.select(GridLayer.id).where(GridLayer.code == UNIT_LAYER).scalar_subquery()
    found: dict[str, BaseGeometry] = {}
    for start in range(0, len(codes), _CHUNK):
        chunk = codes[start : start + _CHUNK]
        rows = session.execute(
            sa.select(GridCell.code, GridCell.geom).where(
                GridCell.layer_id == unit, GridCell.code.in_(chunk), valid_at(at)
            )
        )
        found.update({code: geom for code, geom in rows if geom is not None})
    for code in codes:
        if code not in found:
            raise InvalidInput(
                "layer_grid_unknown",
                "Unit grid %(grid)s is not in force at %(at)s",
                grid=code,
                at=at.isoformat(),
            )
    return found


def _m2_per_unit(divisions: Mapping[str, BaseGeometry]) -> float:
    """Square metres per square degree around the divisions (geodesic, measured once)."""
    sample = next(iter(divisions.values()), None)
    if sample is None or sample.area <= 0:
        return 0.0
    return float(area_m2(sample) / sample.area)


def _end_current(session: Session, layer: GridLayer, at: datetime) -> int:
    """Close the layer's cells in force, refusing a date not after its last drawing."""
    last = session.scalar(
        sa.select(sa.func.max(GridCell.valid_from)).where(GridCell.layer_id == layer.id)
    )
    if last is not None and last >= at:
        raise Conflict(
            "layer_redraw_order",
            "Layer %(layer)s was last drawn from %(last)s; a new drawing must start later",
            layer=layer.code,
            last=last.isoformat(),
        )
    result = session.execute(
        sa.update(GridCell)
        .where(GridCell.layer_id == layer.id, GridCell.valid_to.is_(None))
        .values(valid_to=at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


def _insert(
    session: Session,
    layer_id: int,
    rules: LayerRules,
    codes: Sequence[str],
    given: Sequence[CellInput],
    shapes: Sequence[BaseGeometry],
    attributes: Sequence[dict[str, Any]],
    valid_from: datetime,
    now: datetime,
) -> None:
    """New cell rows (area always computed) and, for unit-grid cells, their member grids."""
    rows: list[GridCell] = []
    for code, cell, shape, attrs in zip(codes, given, shapes, attributes, strict=True):
        division = rules.division_of(code)
        attrs["area_m2"] = round(area_m2(shape), 2)
        attrs["division_code"] = division
        if cell.grids:
            attrs["grid_count"] = len(cell.grids)
        row = GridCell(
            layer_id=layer_id,
            code=code,
            name=" ".join(cell.name.split())[:100],
            community_code=division if rules.level is DivisionLevel.COMMUNITY else None,
            attributes=attrs,
            valid_from=valid_from,
            valid_to=None,
            created_at=now,
        )
        row.set_geometry(shape)
        rows.append(row)
    session.add_all(rows)
    session.flush()
    members = [
        {"cell_id": row.id, "grid_code": grid}
        for row, cell in zip(rows, given, strict=True)
        for grid in cell.grids
    ]
    if members:
        session.execute(sa.insert(GridCellMember), members)
