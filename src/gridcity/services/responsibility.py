"""Responsibility (定人定岗定责, 逐级分包): people on posts for grids and divisions, and the two
questions asked of them — who answers for this grid at this moment (``responsible_for``), and
which unit grids have no supervisor or grid worker on them now (``uncovered_grids``).

Assignment days and shifts are local (Beijing) time. Both questions read the assignments with
one SQL statement each, narrowed to the days that can matter, and keep those in force at the
moment with the pure rule ``domain.responsibility.in_force`` (shifts, overnight ones included).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from gridcity.adapters.db.tables import (
    Assignment,
    GridCell,
    GridCellMember,
    GridLayer,
    User,
)
from gridcity.adapters.geo import to_geojson
from gridcity.domain.access import Actor, Permission, Scope, require
from gridcity.domain.errors import NotFound
from gridcity.domain.layer_schemes import UNIT_RULES
from gridcity.domain.layers import LayerRules, Scheme
from gridcity.domain.responsibility import (
    ALL_WEEKDAYS,
    CELL_POSTS,
    NamedShift,
    Post,
    in_force,
    parse_shift,
    weekdays_of,
)
from gridcity.services.deps import ServiceDeps
from gridcity.services.grids import UNIT_LAYER, valid_at
from gridcity.services.layers import (
    CHINA_TZ,
    cell_scope,
    moment_of,
    rules_of,
    scheme_of,
    scheme_rules,
)
from gridcity.services.shifts import named_shifts

# Order of the answer: the grid itself, the patrol area holding it, then up the divisions.
VIA_ORDER = ("grid", "responsibility", "community", "subdistrict", "district")
_LEVEL_BY_LENGTH = {12: "community", 9: "subdistrict", 6: "district"}
_POST_ORDER = {post: index for index, post in enumerate(Post)}


@dataclass(frozen=True)
class AssignmentView:
    """One assignment with the person's name and phone; ``layer``/``cell`` or ``division`` is set."""

    id: int
    user_id: int
    username: str
    display_name: str
    phone: str
    post: str
    layer: str | None
    cell: str | None
    division: str | None
    shift: str
    starts_on: date
    ends_on: date | None
    note: str
    weekdays: tuple[int, ...] = tuple(sorted(ALL_WEEKDAYS))

    @classmethod
    def of(cls, row: Assignment, user: User, layer_code: str | None) -> AssignmentView:
        """Read model from an assignment, its person and the code of its layer."""
        return cls(
            id=row.id,
            user_id=row.user_id,
            username=user.username,
            display_name=user.display_name,
            phone=user.phone,
            post=row.post,
            layer=layer_code,
            cell=row.cell_code,
            division=row.division_code,
            shift=row.shift,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            note=row.note,
            weekdays=tuple(sorted(weekdays_of(row.weekdays))),
        )


@dataclass(frozen=True)
class Responsible:
    """An assignment in force, and why it answers: ``via`` is one of ``VIA_ORDER``."""

    via: str
    assignment: AssignmentView


@dataclass(frozen=True)
class Responsibility:
    """Who answers for one grid cell at one moment."""

    layer: str
    code: str
    name: str
    at: datetime
    people: tuple[Responsible, ...]


def _reaches(scope: Scope, division: str) -> bool:
    """True when a division lies in a scope, or holds part of it (a leader above the scope)."""
    return scope.everything or any(
        division.startswith(p) or p.startswith(division) for p in scope.divisions
    )


def _first_day(local: datetime) -> date:
    """Earliest last day an assignment in force at ``local`` can have (overnight shifts)."""
    return local.date() - timedelta(days=1)


# --- reading --------------------------------------------------------------------------------


def list_assignments(
    deps: ServiceDeps,
    actor: Actor,
    *,
    user_id: int | None = None,
    division: str | None = None,
    cell: str | None = None,
    at: datetime | None = None,
) -> list[AssignmentView]:
    """Assignments whose target the actor's scope reaches; only those in force when ``at`` is set."""
    require(actor, Permission.GRID_READ)
    query = (
        sa.select(Assignment, User, GridLayer.code)
        .join(User, User.id == Assignment.user_id)
        .outerjoin(GridLayer, GridLayer.id == Assignment.layer_id)
        .order_by(Assignment.starts_on, Assignment.id)
    )
    if user_id is not None:
        query = query.where(Assignment.user_id == user_id)
    if division is not None:
        query = query.where(Assignment.division_code == division)
    if cell is not None:
        query = query.where(Assignment.cell_code == cell)
    local = moment_of(deps, at).astimezone(CHINA_TZ) if at is not None else None
    if local is not None:
        query = query.where(*_may_hold(local))
    with deps.db.read() as session:
        rows = session.execute(query).all()
        schemes = _schemes(session)
        named = named_shifts(session)
    return [
        AssignmentView.of(row, user, layer_code)
        for row, user, layer_code in rows
        if _reaches(actor.scope, _division_of(row, schemes))
        and (local is None or holds(row, local, named))
    ]


def holds(row: Assignment, local: datetime, named: dict[str, NamedShift]) -> bool:
    """True when a stored assignment is in force at a local moment (shift, days, weekdays)."""
    return in_force(
        row.starts_on,
        row.ends_on,
        parse_shift(row.shift, named),
        local,
        weekdays_of(row.weekdays),
    )


def _may_hold(local: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    """SQL narrowing to assignments whose days can hold ``local`` (the shift decides the rest)."""
    return (
        Assignment.starts_on <= local.date(),
        sa.or_(Assignment.ends_on.is_(None), Assignment.ends_on >= _first_day(local)),
    )


def _schemes(session: Session) -> dict[int, LayerRules]:
    """Every layer's rules by layer id (layers without a known scheme left out)."""
    layers = session.scalars(sa.select(GridLayer)).all()
    rules = scheme_rules(session)
    found: dict[int, Scheme | None] = {layer.id: scheme_of(session, layer) for layer in layers}
    return {layer_id: rules[scheme] for layer_id, scheme in found.items() if scheme is not None}


def _division_of(row: Assignment, schemes: dict[int, LayerRules]) -> str:
    """The division an assignment's target lies in ('' when its layer has no scheme)."""
    if row.division_code is not None:
        return row.division_code
    rules = schemes.get(row.layer_id or 0)
    return rules.division_of(row.cell_code or "") if rules is not None else ""


def responsible_for(
    deps: ServiceDeps,
    actor: Actor,
    code: str,
    *,
    layer: str = UNIT_LAYER,
    at: datetime | None = None,
) -> Responsibility:
    """Everyone answering for a grid cell at ``at`` (default: now): on the cell itself, on a
    responsibility grid holding it, and the leaders of its community, subdistrict and district."""
    require(actor, Permission.GRID_READ)
    moment = moment_of(deps, at)
    local = moment.astimezone(CHINA_TZ)
    with deps.db.read() as session:
        target = session.scalar(sa.select(GridLayer).where(GridLayer.code == layer))
        if target is None:
            raise _cell_not_found(layer, code)
        rules = rules_of(session, target)
        rules.check_code(code)
        where = rules.division_of(code)
        name = session.scalar(
            sa.select(GridCell.name).where(
                GridCell.layer_id == target.id, GridCell.code == code, valid_at(moment)
            )
        )
        if name is None or not _reaches(actor.scope, where):
            raise _cell_not_found(layer, code)
        chain = [where[:n] for n in (12, 9, 6) if n <= len(where)]
        holder = aliased(GridLayer)
        holding = (
            sa.exists()
            .where(
                GridCellMember.grid_code == code,
                GridCell.id == GridCellMember.cell_id,
                GridCell.layer_id == Assignment.layer_id,
                GridCell.code == Assignment.cell_code,
                holder.id == GridCell.layer_id,
                holder.is_active.is_(True),
                valid_at(moment),
            )
            .correlate(Assignment)
        )
        rows = session.execute(
            sa.select(Assignment, User, GridLayer.code)
            .join(User, User.id == Assignment.user_id)
            .outerjoin(GridLayer, GridLayer.id == Assignment.layer_id)
            .where(
                sa.or_(
                    sa.and_(Assignment.layer_id == target.id, Assignment.cell_code == code),
                    holding if layer == UNIT_LAYER else sa.false(),
                    Assignment.division_code.in_(chain),
                ),
                *_may_hold(local),
            )
        )
        named = named_shifts(session)
        people = [
            Responsible(_via(row, target.id, code), AssignmentView.of(row, user, layer_code))
            for row, user, layer_code in rows
            if holds(row, local, named)
        ]
    people.sort(
        key=lambda r: (
            VIA_ORDER.index(r.via),
            _POST_ORDER[Post(r.assignment.post)],
            r.assignment.username,
        )
    )
    return Responsibility(layer, code, name, moment, tuple(people))


def _cell_not_found(layer: str, code: str) -> NotFound:
    """The refusal for a cell that does not exist (then) or lies outside the reader's scope."""
    if layer == UNIT_LAYER:
        return NotFound("grid_not_found", "No unit grid with code %(code)s", code=code)
    return NotFound(
        "layer_cell_not_found", "No cell %(code)s in layer %(layer)s", code=code, layer=layer
    )


def _via(row: Assignment, layer_id: int, code: str) -> str:
    """Why an assignment answers for the cell asked about."""
    if row.division_code is not None:
        return _LEVEL_BY_LENGTH[len(row.division_code)]
    if row.layer_id == layer_id and row.cell_code == code:
        return "grid"
    return "responsibility"


def uncovered_grids(
    deps: ServiceDeps, actor: Actor, *, at: datetime | None = None, parent: str | None = None
) -> list[str]:
    """Codes of the unit grids in scope (under ``parent``) with no supervisor or grid worker in
    force at ``at`` (default: now), neither on the grid nor on a responsibility grid holding it."""
    require(actor, Permission.GRID_READ)
    with deps.db.read() as session:
        rows = _uncovered(session, actor, moment_of(deps, at), parent, with_geometry=False)
    return [row.code for row in rows]


def uncovered_geojson(
    deps: ServiceDeps, actor: Actor, *, at: datetime | None = None, parent: str | None = None
) -> dict[str, Any]:
    """The uncovered unit grids (see ``uncovered_grids``) as a GeoJSON FeatureCollection."""
    require(actor, Permission.GRID_READ)
    with deps.db.read() as session:
        rows = _uncovered(session, actor, moment_of(deps, at), parent, with_geometry=True)
    features = [
        {
            "type": "Feature",
            "id": row.code,
            "geometry": to_geojson(row.geom),
            "properties": {
                "code": row.code,
                "name": row.name,
                "community_code": row.community_code,
            },
        }
        for row in rows
        if row.geom is not None
    ]
    return {"type": "FeatureCollection", "features": features}


def _uncovered(
    session: Session, actor: Actor, moment: datetime, parent: str | None, *, with_geometry: bool
) -> list[Any]:
    """Unit grid rows (code, name, community, geometry?) in scope that nobody covers at ``moment``."""
    local = moment.astimezone(CHINA_TZ)
    unit = session.scalar(sa.select(GridLayer).where(GridLayer.code == UNIT_LAYER))
    if unit is None:
        return []
    named = named_shifts(session)
    covering = {
        (layer_id, cell)
        for layer_id, cell, shift, starts_on, ends_on, weekdays in session.execute(
            sa.select(
                Assignment.layer_id,
                Assignment.cell_code,
                Assignment.shift,
                Assignment.starts_on,
                Assignment.ends_on,
                Assignment.weekdays,
            ).where(Assignment.post.in_([p.value for p in CELL_POSTS]), *_may_hold(local))
        )
        if in_force(starts_on, ends_on, parse_shift(shift, named), local, weekdays_of(weekdays))
    }
    covered = {cell for layer_id, cell in covering if layer_id == unit.id}
    covered |= _grids_held(session, moment, {pair for pair in covering if pair[0] != unit.id})
    columns: list[Any] = [GridCell.code, GridCell.name, GridCell.community_code]
    if with_geometry:
        columns.append(GridCell.geom)
    query = (
        sa.select(*columns)
        .where(GridCell.layer_id == unit.id, valid_at(moment), cell_scope(UNIT_RULES, actor))
        .order_by(GridCell.code)
    )
    if parent:
        query = query.where(GridCell.code.startswith(parent, autoescape=True))
    return [row for row in session.execute(query) if row.code not in covered]


def _grids_held(
    session: Session, moment: datetime, cells: Iterable[tuple[int | None, str | None]]
) -> set[str]:
    """Unit grids of the given cells (layer id, code) in force at ``moment`` in active layers."""
    wanted = set(cells)
    if not wanted:
        return set()
    rows = session.execute(
        sa.select(GridCell.layer_id, GridCell.code, GridCellMember.grid_code)
        .join(GridCellMember, GridCellMember.cell_id == GridCell.id)
        .join(GridLayer, GridLayer.id == GridCell.layer_id)
        .where(GridLayer.is_active.is_(True), valid_at(moment))
    )
    return {grid for layer_id, code, grid in rows if (layer_id, code) in wanted}
