"""What the layer admin screen needs besides the layer service: when each layer's cells are in
force, and what it hands to the one write path (``layer_drawing.replace_layer_cells``): cells
drawn from unit grids on the map (keeping the attributes of the cells they continue) and cells
read from an uploaded feature file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from gridcity.adapters.db.tables import GridCell, GridLayer
from gridcity.adapters.geojson_files import Feature
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.errors import InvalidInput
from gridcity.domain.layer_schemes import STRUCTURE
from gridcity.domain.layers import CellShape, Scheme
from gridcity.services import layers
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.grids import valid_at
from gridcity.services.layer_drawing import CellInput, Drawing, replace_layer_cells

# Attributes the write path computes, and properties that an exported cell carries about its
# layer or validity: never taken from a drawing or a file as the cell's own attributes.
COMPUTED = frozenset({"area_m2", "division_code", "grid_count"})
EXPORTED = frozenset({"layer", "kind", "scheme", "valid_from", "valid_to", "grids", "id"})
TEXT_KEYS = ("code", "division", "name")


@dataclass(frozen=True)
class Validity:
    """When a layer's cells hold: since when those in force now, and the next drawing's start."""

    since: datetime | None  # the earliest start among the cells in force now
    next_from: datetime | None  # a drawing already written that starts later


def layer_validity(deps: ServiceDeps, actor: Actor) -> dict[str, Validity]:
    """For every layer with cells: since when its cells in force hold, and what starts later."""
    require(actor, Permission.GRID_READ)
    now = deps.clock()
    with deps.db.read() as session:
        since = dict(
            session.execute(
                sa.select(GridLayer.code, sa.func.min(GridCell.valid_from))
                .join(GridCell, GridCell.layer_id == GridLayer.id)
                .where(valid_at(now))
                .group_by(GridLayer.code)
            ).all()
        )
        later = dict(
            session.execute(
                sa.select(GridLayer.code, sa.func.min(GridCell.valid_from))
                .join(GridCell, GridCell.layer_id == GridLayer.id)
                .where(GridCell.valid_from > now)
                .group_by(GridLayer.code)
            ).all()
        )
    return {code: Validity(since.get(code), later.get(code)) for code in {*since, *later}}


def redraw_from_grids(
    deps: ServiceDeps,
    actor: Actor,
    layer_code: str,
    cells: Sequence[CellInput],
    *,
    valid_from: datetime,
    info: RequestInfo,
) -> Drawing:
    """Re-draw a layer of unit-grid cells from the map; a cell keeping its code keeps its
    attributes (the map edits only membership and names)."""
    require(actor, Permission.GRID_WRITE)
    kept = {
        cell.code: {k: v for k, v in cell.attributes.items() if k not in COMPUTED}
        for cell in layers.cells_in_force(deps, actor, layer_code, at=valid_from)
    }
    given = [
        replace(cell, attributes=kept.get(cell.code, {}))
        if cell.code and not cell.attributes
        else cell
        for cell in cells
    ]
    return replace_layer_cells(deps, actor, layer_code, given, valid_from=valid_from, info=info)


def redraw_from_features(
    deps: ServiceDeps,
    actor: Actor,
    layer_code: str,
    features: Sequence[Feature],
    *,
    valid_from: datetime,
    info: RequestInfo,
) -> Drawing:
    """Re-draw a layer from a file's features (stored CRS): ``code`` or ``division``, ``name``,
    the polygon (or, for cells of unit grids, a ``grids`` list), the other properties as
    attributes. A layer's own GeoJSON export reads back as it was."""
    require(actor, Permission.GRID_WRITE)
    if not features:
        raise InvalidInput("layer_file_empty", "The file holds no cells")
    scheme = layers.get_layer(deps, actor, layer_code).scheme
    shape = STRUCTURE[Scheme(scheme)].shape if scheme else CellShape.POLYGON
    cells = [_cell(feature, shape) for feature in features]
    return replace_layer_cells(deps, actor, layer_code, cells, valid_from=valid_from, info=info)


def _cell(feature: Feature, shape: CellShape) -> CellInput:
    """One feature as a cell of a layer whose cells have this shape."""
    props = feature.properties
    if shape is CellShape.POLYGON and feature.geometry is None:
        raise InvalidInput(
            "layer_file_feature",
            "Feature %(index)s cannot be used: %(why)s",
            index=feature.index,
            why=feature.problem or "no geometry",
        )
    text = {key: _text(props.get(key)) for key in TEXT_KEYS}
    division = text["division"] or _text(props.get("division_code"))
    attributes: dict[str, Any] = {
        key: value
        for key, value in props.items()
        if key not in TEXT_KEYS and key not in COMPUTED and key not in EXPORTED
    }
    return CellInput(
        code=text["code"] or None,
        division=None if text["code"] else (division or None),
        name=text["name"],
        geometry=feature.geometry if shape is CellShape.POLYGON else None,
        grids=_grids(feature) if shape is CellShape.UNIT_GRIDS else (),
        attributes=attributes,
    )


def _grids(feature: Feature) -> tuple[str, ...]:
    """The unit grids of a feature: a ``grids`` list, or text separated by commas or spaces."""
    value = feature.properties.get("grids")
    items = value if isinstance(value, list) else str(value or "").replace(",", " ").split()
    return tuple(_text(item) for item in items if _text(item))


def _text(value: object) -> str:
    """A property as text: whole numbers without ".0" (codes often come as numbers)."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
