"""Cells made of unit grids against the unit grids beneath them (read side).

Re-dividing a community (``services/grids.py``) ends its unit grids and starts new ones, but
does not re-draw the responsibility cells built on the old ones: a cell keeps listing codes
whose versions have ended (the code may even be reused by a new grid of another shape). This
check says which cells to re-draw, and which unit grids in force no cell holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from gridcity.adapters.db.tables import GridCell, GridCellMember, GridLayer
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.errors import InvalidInput
from gridcity.domain.layers import CellShape
from gridcity.services.deps import ServiceDeps
from gridcity.services.grids import UNIT_LAYER, valid_at
from gridcity.services.layers import cell_scope, layer_row, moment_of, rules_of

_CHUNK = 900  # IN-list size that every database accepts


@dataclass(frozen=True)
class StaleCell:
    """A cell in force whose member grids were (or are to be) re-divided while it stays on."""

    layer: str
    code: str
    name: str
    valid_from: datetime
    ended: tuple[str, ...]  # member grids whose version the cell was drawn on ends
    ended_at: datetime  # when the first of them ends
    missing: tuple[str, ...]  # of those, the codes that no unit grid in force carries at ``at``


@dataclass(frozen=True)
class LayerStaleness:
    """What a layer made of unit grids no longer matches: stale cells and unheld grids."""

    layer: str
    at: datetime
    stale: tuple[StaleCell, ...]
    unheld: tuple[str, ...]  # unit grids in force at ``at`` in scope that no cell holds


def layer_staleness(
    deps: ServiceDeps,
    actor: Actor,
    layer_code: str,
    *,
    at: datetime | None = None,
    parent: str | None = None,
) -> LayerStaleness:
    """Stale cells of one layer made of unit grids, and the unit grids none of its cells holds."""
    require(actor, Permission.GRID_READ)
    moment = moment_of(deps, at)
    with deps.db.read() as session:
        layer = layer_row(session, layer_code)
        if rules_of(session, layer).shape is not CellShape.UNIT_GRIDS:
            raise InvalidInput(
                "layer_not_of_unit_grids",
                "Layer %(layer)s is not made of unit grids, so re-dividing grids leaves it as it is",
                layer=layer.code,
            )
        stale = _stale(session, actor, layer, moment, parent)
        unheld = _unheld(session, actor, layer, moment, parent)
    return LayerStaleness(layer.code, moment, tuple(stale), tuple(unheld))


def stale_cells(
    deps: ServiceDeps, actor: Actor, *, parent: str | None = None, at: datetime | None = None
) -> list[StaleCell]:
    """Stale cells of every layer made of unit grids, with member grids under ``parent``."""
    require(actor, Permission.GRID_READ)
    moment = moment_of(deps, at)
    found: list[StaleCell] = []
    with deps.db.read() as session:
        for layer in session.scalars(sa.select(GridLayer).order_by(GridLayer.code)):
            if layer.code == UNIT_LAYER or layer.kind == UNIT_LAYER:
                continue
            try:
                shape = rules_of(session, layer).shape
            except InvalidInput:
                continue  # a layer without a known scheme has no member grids to check
            if shape is CellShape.UNIT_GRIDS:
                found += _stale(session, actor, layer, moment, parent)
    return found


def _stale(
    session: Session, actor: Actor, layer: GridLayer, at: datetime, parent: str | None
) -> list[StaleCell]:
    """Cells in force at ``at`` holding a grid whose drawn-on version ends before the cell does."""
    rules = rules_of(session, layer)
    grid = aliased(GridCell, name="member_grid")
    unit = sa.select(GridLayer.id).where(GridLayer.code == UNIT_LAYER).scalar_subquery()
    drawn_on = sa.and_(  # the version of the member grid in force when the cell was drawn
        grid.layer_id == unit,
        grid.code == GridCellMember.grid_code,
        grid.valid_from <= GridCell.valid_from,
        sa.or_(grid.valid_to.is_(None), grid.valid_to > GridCell.valid_from),
    )
    query = (
        sa.select(
            GridCell.code,
            GridCell.name,
            GridCell.valid_from,
            GridCellMember.grid_code,
            grid.valid_to,
        )
        .join(GridCellMember, GridCellMember.cell_id == GridCell.id)
        .join(grid, drawn_on)
        .where(GridCell.layer_id == layer.id, valid_at(at), cell_scope(rules, actor))
        .where(
            grid.valid_to.is_not(None),
            sa.or_(GridCell.valid_to.is_(None), grid.valid_to < GridCell.valid_to),
        )
        .order_by(GridCell.code, GridCellMember.grid_code)
    )
    if parent:
        query = query.where(GridCellMember.grid_code.startswith(parent, autoescape=True))
    names: dict[str, tuple[str, datetime]] = {}
    ended: dict[str, list[str]] = {}
    first_end: dict[str, datetime] = {}
    for code, name, valid_from, member, ends in session.execute(query):
        names[code] = (name, valid_from)
        ended.setdefault(code, []).append(member)
        if ends is not None and (code not in first_end or ends < first_end[code]):
            first_end[code] = ends
    in_force = _unit_codes_in_force(session, sorted({g for m in ended.values() for g in m}), at)
    return [
        StaleCell(
            layer=layer.code,
            code=code,
            name=names[code][0],
            valid_from=names[code][1],
            ended=tuple(members),
            ended_at=first_end[code],
            missing=tuple(g for g in members if g not in in_force),
        )
        for code, members in ended.items()
    ]


def _unit_codes_in_force(session: Session, codes: list[str], at: datetime) -> set[str]:
    """Which of these codes a unit grid in force at ``at`` carries."""
    unit = sa.select(GridLayer.id).where(GridLayer.code == UNIT_LAYER).scalar_subquery()
    found: set[str] = set()
    for start in range(0, len(codes), _CHUNK):
        found.update(
            session.scalars(
                sa.select(GridCell.code).where(
                    GridCell.layer_id == unit,
                    GridCell.code.in_(codes[start : start + _CHUNK]),
                    valid_at(at),
                )
            )
        )
    return found


def _unheld(
    session: Session, actor: Actor, layer: GridLayer, at: datetime, parent: str | None
) -> list[str]:
    """Unit grids in force at ``at`` in the actor's scope that no cell of the layer holds then."""
    unit = sa.select(GridLayer.id).where(GridLayer.code == UNIT_LAYER).scalar_subquery()
    query = sa.select(GridCell.code).where(GridCell.layer_id == unit, valid_at(at))
    if not actor.scope.everything:
        prefixes = sorted(actor.scope.divisions)
        if not prefixes:
            return []
        query = query.where(sa.or_(*[GridCell.code.startswith(p) for p in prefixes]))
    if parent:
        query = query.where(GridCell.code.startswith(parent, autoescape=True))
    held = set(
        session.scalars(
            sa.select(GridCellMember.grid_code)
            .join(GridCell, GridCell.id == GridCellMember.cell_id)
            .where(GridCell.layer_id == layer.id, valid_at(at))
        )
    )
    return sorted(code for code in session.scalars(query) if code not in held)
