"""The read side of the unit grids for people: one grid's details with its history across
re-divisions, the cells of the other layers holding it and who answers for it, per-grid figures
for choropleth maps, and search by code prefix or name."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import Assignment, Division, GridCell, GridCellMember, GridLayer
from gridcity.adapters.geo import area_m2
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.errors import InvalidInput, NotFound
from gridcity.domain.gridgen import DEFAULT_TARGET_AREA_M2
from gridcity.domain.responsibility import CELL_POSTS, in_force, parse_shift, weekdays_of
from gridcity.services import locate, responsibility
from gridcity.services.deps import ServiceDeps
from gridcity.services.grids import UNIT_LAYER, GridView, check_aware, valid_at
from gridcity.services.layers import CHINA_TZ
from gridcity.services.responsibility import Responsible
from gridcity.services.shifts import named_shifts

NOMINAL_AREA_M2 = DEFAULT_TARGET_AREA_M2  # the standard's 万米 cell
# Two grid versions "cover the same ground" when they share more than this (m²): shared edges
# and float noise along them stay far below it.
SHARED_GROUND_M2 = 1.0
SEARCH_LIMIT = 20
_ONE_DAY = timedelta(days=1)
# Choropleth classes of the deviation from the nominal area, in percent.
DEVIATION_BREAKS = (-50.0, -20.0, 20.0, 50.0)


class Figure(StrEnum):
    """A per-grid figure a choropleth can show; each is computed from stored data."""

    AREA = "area_m2"  # geodesic area, m²
    DEVIATION = "area_deviation"  # % above (+) or below (−) the nominal 10,000 m²
    REDIVISIONS = "redivisions"  # re-divisions of the grid's community up to the moment
    PEOPLE = "people"  # supervisors and grid workers on duty for the grid at the moment


@dataclass(frozen=True)
class GridVersion:
    """One version of a unit grid in a history list."""

    code: str
    area_m2: float
    valid_from: datetime
    valid_to: datetime | None


@dataclass(frozen=True)
class LayerCellRef:
    """The cell of another layer that holds a grid."""

    layer: str
    layer_name: str
    code: str
    name: str


@dataclass(frozen=True)
class GridDetails:
    """A unit grid as of a moment, where it lies, and what it was before and became after."""

    grid: GridView
    at: datetime  # the moment asked about
    in_force: bool  # False: the code was retired before the moment asked about
    community_name: str
    subdistrict_code: str
    subdistrict_name: str
    versions: tuple[GridVersion, ...]  # every version of this code, newest first
    replaced: tuple[GridVersion, ...]  # earlier grids on this ground, ended when this began
    replaced_by: tuple[GridVersion, ...]  # later grids on this ground, begun when this ended
    layer_cells: tuple[LayerCellRef, ...]  # cells of the other active layers holding it
    responsible: tuple[Responsible, ...]  # who answers for it at the moment (in force only)

    @property
    def deviation_percent(self) -> float:
        """Area above (+) or below (−) the nominal 10,000 m², in percent."""
        return deviation_percent(self.grid.area_m2)


@dataclass(frozen=True)
class GridMatch:
    """A search hit: a unit grid in force, with its community's name."""

    code: str
    name: str
    community_code: str
    community_name: str
    area_m2: float


@dataclass(frozen=True)
class SearchResult:
    """Grids whose code starts with the query (or whose name contains it), first ones only."""

    query: str
    matches: tuple[GridMatch, ...]
    total: int


def deviation_percent(area: float) -> float:
    """How far an area lies from the nominal unit grid area, in percent."""
    return round((area / NOMINAL_AREA_M2 - 1.0) * 100.0, 1)


def _moment(deps: ServiceDeps, at: datetime | None) -> datetime:
    return check_aware(at, "at") if at is not None else deps.clock()


def _unit_versions(actor: Actor) -> sa.Select[GridCell]:
    """Every version of every unit grid that the actor's data scope covers."""
    query = (
        sa.select(GridCell)
        .join(GridLayer, GridLayer.id == GridCell.layer_id)
        .where(GridLayer.code == UNIT_LAYER)
    )
    if actor.scope.everything:
        return query
    prefixes = sorted(actor.scope.divisions)
    if not prefixes:
        return query.where(sa.false())
    return query.where(sa.or_(*[GridCell.code.startswith(p) for p in prefixes]))


# --- one grid -------------------------------------------------------------------------------


def grid_details(
    deps: ServiceDeps, actor: Actor, code: str, *, at: datetime | None = None
) -> GridDetails:
    """The grid in force at ``at`` (default now), else its last version before; with history."""
    require(actor, Permission.GRID_READ)
    moment = _moment(deps, at)
    with deps.db.read() as session:
        rows = session.scalars(
            _unit_versions(actor).where(GridCell.code == code).order_by(GridCell.valid_from.desc())
        ).all()
        started = [r for r in rows if r.valid_from <= moment]
        if not started:
            raise NotFound("grid_not_found", "No unit grid with code %(code)s", code=code)
        row = started[0]
        current = row.valid_to is None or row.valid_to > moment
        versions = tuple(_version(r) for r in rows)
        names = _names(session, [row.code[:12], row.code[:9]])
        replaced = _neighbours_in_time(session, actor, row, before=True)
        replaced_by = _neighbours_in_time(session, actor, row, before=False)
        layers = session.execute(sa.select(GridLayer.code, GridLayer.name))
        layer_names = {layer.code: layer.name for layer in layers}
        inside = row.geom.representative_point() if row.geom is not None else None
        grid = GridView.of(row)
    people: tuple[Responsible, ...] = ()
    cells: tuple[LayerCellRef, ...] = ()
    if current and inside is not None:
        people = responsibility.responsible_for(deps, actor, code, at=moment).people
        cells = _layer_cells(deps, actor, inside.x, inside.y, moment, layer_names)
    return GridDetails(
        grid=grid,
        at=moment,
        in_force=current,
        community_name=names.get(code[:12], ""),
        subdistrict_code=code[:9],
        subdistrict_name=names.get(code[:9], ""),
        versions=versions,
        replaced=replaced,
        replaced_by=replaced_by,
        layer_cells=cells,
        responsible=people,
    )


def _layer_cells(
    deps: ServiceDeps,
    actor: Actor,
    lon: float,
    lat: float,
    moment: datetime,
    layer_names: dict[str, str],
) -> tuple[LayerCellRef, ...]:
    """The cells of the other active layers at a point inside the grid."""
    try:
        found = locate.locate_point(deps, actor, lon, lat, at=moment)
    except NotFound:  # a grid outside every district boundary: no layer can hold it either
        return ()
    return tuple(
        LayerCellRef(c.layer, layer_names.get(c.layer, c.layer), c.cell.code, c.cell.name)
        for c in found.layers
        if c.cell is not None
    )


def _version(row: GridCell) -> GridVersion:
    return GridVersion(
        code=row.code,
        area_m2=float(row.attributes.get("area_m2") or 0.0),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


def _names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Division names by code."""
    rows = session.execute(sa.select(Division.code, Division.name).where(Division.code.in_(codes)))
    return {row.code: row.name for row in rows}


def _neighbours_in_time(
    session: Session, actor: Actor, row: GridCell, *, before: bool
) -> tuple[GridVersion, ...]:
    """Grids of the same community on the same ground that ended when this one began (before)
    or began when this one ended (after): what a re-division turned into what."""
    if row.geom is None:
        return ()
    if before:
        joint = GridCell.valid_to == row.valid_from
    elif row.valid_to is None:
        return ()
    else:
        joint = GridCell.valid_from == row.valid_to
    # The bounding-box columns narrow the candidates before any geometry is read.
    min_x, min_y, max_x, max_y = row.geom.bounds
    candidates = session.scalars(
        _unit_versions(actor)
        .where(
            GridCell.community_code == row.community_code,
            joint,
            GridCell.id != row.id,
            GridCell.min_x <= max_x,
            GridCell.max_x >= min_x,
            GridCell.min_y <= max_y,
            GridCell.max_y >= min_y,
        )
        .order_by(GridCell.code)
    ).all()
    return tuple(_version(c) for c in candidates if _shared_m2(row.geom, c.geom) > SHARED_GROUND_M2)


def _shared_m2(a: BaseGeometry, b: BaseGeometry | None) -> float:
    """Geodesic area two lon/lat geometries have in common, in m²."""
    if b is None or not a.intersects(b):
        return 0.0
    return area_m2(a.intersection(b))


# --- search ----------------------------------------------------------------------------------


def search_grids(
    deps: ServiceDeps,
    actor: Actor,
    query: str,
    *,
    at: datetime | None = None,
    limit: int = SEARCH_LIMIT,
) -> SearchResult:
    """Grids in force whose code starts with ``query`` (digits) or whose name contains it."""
    require(actor, Permission.GRID_READ)
    term = query.strip()
    if not term:
        raise InvalidInput("grid_search_empty", "Type a grid code, the start of one, or a name")
    moment = _moment(deps, at)
    if term.isascii() and term.isdigit():
        matching = GridCell.code.startswith(term, autoescape=True)
    else:
        matching = GridCell.name.contains(term, autoescape=True)
    scoped = _unit_versions(actor).where(valid_at(moment), matching)
    with deps.db.read() as session:
        total = session.scalar(sa.select(sa.func.count()).select_from(scoped.subquery())) or 0
        rows = session.scalars(scoped.order_by(GridCell.code).limit(max(1, limit))).all()
        names = _names(session, {r.code[:12] for r in rows})
    matches = tuple(
        GridMatch(
            code=r.code,
            name=r.name,
            community_code=r.code[:12],
            community_name=names.get(r.code[:12], ""),
            area_m2=float(r.attributes.get("area_m2") or 0.0),
        )
        for r in rows
    )
    return SearchResult(query=term, matches=matches, total=int(total))


# --- outlines for maps -----------------------------------------------------------------------


@dataclass(frozen=True)
class Outlines:
    """Unit grids in force for drawing: codes, names and lon/lat shapes, in code order."""

    codes: list[str]
    names: list[str]
    shapes: list[BaseGeometry]


def grid_outlines(
    deps: ServiceDeps, actor: Actor, *, parent: str | None = None, at: datetime | None = None
) -> Outlines:
    """The unit grids in force at ``at`` (default now) in scope, under ``parent`` if given."""
    require(actor, Permission.GRID_READ)
    moment = _moment(deps, at)
    query = _unit_versions(actor).where(valid_at(moment), GridCell.geom.is_not(None))
    if parent:
        query = query.where(GridCell.code.startswith(parent, autoescape=True))
    outlines = Outlines([], [], [])
    with deps.db.read() as session:
        rows = session.execute(
            query.with_only_columns(GridCell.code, GridCell.name, GridCell.geom).order_by(
                GridCell.code
            )
        ).all()
    for code, name, geom in rows:
        outlines.codes.append(code)
        outlines.names.append(name or "")
        outlines.shapes.append(geom)
    return outlines


# --- figures for choropleths ----------------------------------------------------------------


def grid_figure(
    deps: ServiceDeps,
    actor: Actor,
    figure: Figure,
    *,
    parent: str | None = None,
    at: datetime | None = None,
) -> dict[str, float]:
    """The figure of every unit grid in force at ``at`` in scope (under ``parent``), by code."""
    require(actor, Permission.GRID_READ)
    moment = _moment(deps, at)
    current = _unit_versions(actor).where(valid_at(moment))
    if parent:
        current = current.where(GridCell.code.startswith(parent, autoescape=True))
    with deps.db.read() as session:
        if figure is Figure.REDIVISIONS:
            return _redivisions(session, actor, current, moment)
        if figure is Figure.PEOPLE:
            return _people(session, current, moment)
        rows = session.execute(current.with_only_columns(GridCell.code, GridCell.attributes)).all()
    areas = {code: float((attrs or {}).get("area_m2") or 0.0) for code, attrs in rows}
    if figure is Figure.DEVIATION:
        return {code: deviation_percent(area) for code, area in areas.items()}
    return areas


def _redivisions(
    session: Session, actor: Actor, current: sa.Select[GridCell], moment: datetime
) -> dict[str, float]:
    """Per grid: how often its community was divided again after its first division."""
    divisions = (
        _unit_versions(actor)
        .where(GridCell.valid_from <= moment)
        .with_only_columns(
            GridCell.community_code,
            sa.func.count(sa.distinct(GridCell.valid_from)).label("n"),
        )
        .group_by(GridCell.community_code)
    )
    per_community = {code: int(n) for code, n in session.execute(divisions).all()}
    codes = session.scalars(current.with_only_columns(GridCell.code)).all()
    return {code: float(max(per_community.get(code[:12], 1) - 1, 0)) for code in codes}


def _people(session: Session, current: sa.Select[GridCell], moment: datetime) -> dict[str, float]:
    """Per grid: supervisors and grid workers on duty at ``moment``, on the grid itself or on a
    cell of an active layer made of it (a responsibility grid), each person counted once."""
    local = moment.astimezone(CHINA_TZ)
    on_duty = session.execute(
        sa.select(
            Assignment.user_id,
            Assignment.layer_id,
            Assignment.cell_code,
            Assignment.shift,
            Assignment.starts_on,
            Assignment.ends_on,
            Assignment.weekdays,
        ).where(
            Assignment.post.in_([p.value for p in CELL_POSTS]),
            Assignment.cell_code.is_not(None),
            Assignment.starts_on <= local.date(),
            # An overnight shift of yesterday may still hold: the shift decides below.
            sa.or_(Assignment.ends_on.is_(None), Assignment.ends_on >= local.date() - _ONE_DAY),
        )
    )
    people: dict[tuple[int | None, str | None], set[int]] = {}
    named = named_shifts(session)
    for user_id, layer_id, cell, shift, starts_on, ends_on, weekdays in on_duty:
        if in_force(starts_on, ends_on, parse_shift(shift, named), local, weekdays_of(weekdays)):
            people.setdefault((layer_id, cell), set()).add(user_id)
    held: dict[str, set[int]] = {}
    if people:
        members = session.execute(
            sa.select(GridCell.layer_id, GridCell.code, GridCellMember.grid_code)
            .join(GridCellMember, GridCellMember.cell_id == GridCell.id)
            .join(GridLayer, GridLayer.id == GridCell.layer_id)
            .where(GridLayer.is_active.is_(True), valid_at(moment))
        )
        for layer_id, cell, grid in members:
            held.setdefault(grid, set()).update(people.get((layer_id, cell), ()))
    rows = session.execute(current.with_only_columns(GridCell.layer_id, GridCell.code))
    return {
        code: float(len(people.get((layer_id, code), set()) | held.get(code, set())))
        for layer_id, code in rows
    }


def class_breaks(values: Sequence[float], figure: Figure, classes: int = 5) -> list[float]:
    """Upper bounds of all choropleth classes but the last (which is open): a value falls in
    the first class whose bound it does not exceed."""
    if figure in (Figure.REDIVISIONS, Figure.PEOPLE):
        # Whole numbers: 0, 1, 2, … each its own class, the last one open.
        return [float(n) for n in range(classes - 1)]
    if figure is Figure.DEVIATION:
        # Fixed and symmetric around the nominal area: "within ±20 %" reads the same everywhere.
        return list(DEVIATION_BREAKS)
    ordered = sorted(values)
    if not ordered:
        return []
    # Quantiles, rounded to 100 m² so that the legend reads well.
    picks = (ordered[math.ceil(len(ordered) * k / classes) - 1] for k in range(1, classes))
    return sorted({float(round(v / 100.0) * 100.0) for v in picks})
