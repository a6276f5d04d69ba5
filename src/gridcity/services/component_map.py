"""The component map (部件图层): tiles of clusters or points at any zoom, the components near a
point (the picker), and the choices a filter panel offers.

Answers come from this process's in-memory ``ComponentIndex`` (decision 0011). Each call reads
the ``components`` counter in ``spatial_state`` (one cheap query); when another process (or
this one) has written since, only the rows with a later ``change_seq`` are read and patched in,
so 1,000,000 components are loaded once per process, not once per change. Permission
COMPONENT_READ; the data scope is a mask like the filters: a component is visible when its
community (the district of its identifier, when it lies in no community) is in the actor's
division scope, or its competent department is in their department scope.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.component_index import Clusters, ComponentIndex, Points, Where
from gridcity.adapters.component_tiling import INDEX_ZOOM, ROW_DTYPE, STATES, Rows, check_tile
from gridcity.adapters.db.tables import CatalogClass, Component, Department, SpatialState
from gridcity.domain import coords
from gridcity.domain.access import Actor, Permission, Scope, require
from gridcity.domain.components import ComponentState, parse_state
from gridcity.domain.errors import InvalidInput
from gridcity.services.catalog import active_code_set
from gridcity.services.component_writes import COMPONENTS_STATE
from gridcity.services.deps import ServiceDeps

MAX_ZOOM = 22
MAX_POINTS = 2000  # a tile with more components than this answers clusters
# Below POINT_ZOOM a tile lists its components only when they are few (dots 16 px apart on
# average): 2,000 dots on a city-zoom tile are a smudge, and its neighbours would show circles.
POINT_ZOOM = 15
SPARSE_POINTS = 256
CELLS = (1, 2, 4, 8, 16, 32, 64)  # cluster grid sizes a tile may be split into (per side)
DEFAULT_CELLS = 4  # 4 × 4 cells of 64 px on a 256 px tile: room for a labelled circle each
MAX_FILTER_VALUES = 200
NEAR_MAX_RADIUS_M = 500.0
NEAR_MAX_LIMIT = 50
READ_CHUNK = 65_536  # rows fetched at a time; a cancelled build stops between two fetches
DISPLAY_CRS = ("wgs84", "gcj02")  # CGCS2000 is WGS-84 at map precision (decision 0001)


@dataclass(frozen=True)
class MapFilter:
    """What a request shows: classes (two digits: a whole major class), states, departments."""

    class_codes: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    department_ids: tuple[int, ...] = ()

    def key(self) -> str:
        """A canonical text of the filter (for cache tags)."""
        return "|".join(
            (
                ",".join(sorted(self.class_codes)),
                ",".join(sorted(self.states)),
                ",".join(str(d) for d in sorted(self.department_ids)),
            )
        )


@dataclass(frozen=True)
class TileView:
    """One tile's components that pass the filter, as points or clusters, and the counter
    value (``seq``) and ``tag`` that identify this answer until the inventory changes."""

    z: int
    x: int
    y: int
    seq: int
    tag: str
    total: int
    cells: int
    points: Points | None
    clusters: Clusters | None

    @property
    def kind(self) -> str:
        """``points`` or ``clusters``."""
        return "points" if self.points is not None else "clusters"


@dataclass(frozen=True)
class NearComponent:
    """A component near a point, with its distance."""

    identifier: str
    name: str
    class_code: str
    state: str
    lon: float
    lat: float
    distance_m: float


@dataclass(frozen=True)
class NearView:
    """Components near a point, nearest first."""

    seq: int
    items: list[NearComponent]


@dataclass(frozen=True)
class ClassChoice:
    """A component class that occurs in the inventory (within the actor's scope)."""

    code: str
    major: str
    name: str
    initials: str
    count: int


@dataclass(frozen=True)
class DepartmentChoice:
    """A competent department of components in the actor's scope."""

    id: int
    name: str
    count: int


@dataclass(frozen=True)
class FilterChoices:
    """What the filter panel offers: classes (with their major classes' names), departments."""

    classes: list[ClassChoice]
    majors: dict[str, str]
    departments: list[DepartmentChoice]
    seq: int


# --- the index of this process ---------------------------------------------------------------


def _counter(session: Session) -> int:
    """The inventory's change counter (0 before the first write)."""
    value = session.scalar(
        sa.select(SpatialState.version).where(SpatialState.name == COMPONENTS_STATE)
    )
    return int(value or 0)


# The columns of ROW_DTYPE, computed by the database (both dialects): digit strings packed as
# int(digits) * 32 + length, class and state as class_id * 8 + state number.
_STATE_NUMBER = " ".join(f"WHEN '{state}' THEN {i}" for i, state in enumerate(STATES))
_PLACE = "COALESCE(community_code, substr(identifier, 1, 6))"
_ROWS_SQL = (
    "SELECT id, CAST(identifier AS BIGINT) * 32 + length(identifier), "
    f"class_id * 8 + CASE state {_STATE_NUMBER} ELSE {len(STATES) - 1} END, "
    f"competent_department_id, CAST({_PLACE} AS BIGINT) * 32 + length({_PLACE}), x, y "
    "FROM component"
)


class BuildCancelled(Exception):
    """A build of the index was called off before it finished (the process is stopping)."""


def _never() -> bool:
    return False


def _chunks(cursor: Any, cancelled: Callable[[], bool]) -> Iterator[tuple[Any, ...]]:
    """The cursor's rows, fetched ``READ_CHUNK`` at a time, stopping when ``cancelled()``."""
    while True:
        if cancelled():
            raise BuildCancelled
        chunk = cursor.fetchmany(READ_CHUNK)
        if not chunk:
            return
        yield from chunk


def _rows(session: Session, after: int | None, cancelled: Callable[[], bool] = _never) -> Rows:
    """Every component (``after`` None) or those written after counter value ``after``, as one
    structured array (read through the driver's cursor: a million rows load in seconds)."""
    sql = _ROWS_SQL if after is None else f"{_ROWS_SQL} WHERE change_seq > {int(after)}"
    raw = session.connection().connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(sql)
        return np.fromiter(_chunks(cursor, cancelled), dtype=ROW_DTYPE)
    finally:
        cursor.close()


def _class_codes(session: Session) -> dict[int, str]:
    """The code of every component class (a few hundred rows)."""
    rows = session.execute(
        sa.select(CatalogClass.id, CatalogClass.code).where(CatalogClass.kind == "component")
    )
    return {int(i): str(code) for i, code in rows}


def _display(crs: str) -> coords.Conversion | None:
    """The shift from stored lon/lat into the map's coordinates (None: none needed)."""
    return coords.wgs84_to_gcj02_array if crs == "gcj02" else None


def component_index(
    deps: ServiceDeps, crs: str = "wgs84", *, cancelled: Callable[[], bool] = _never
) -> ComponentIndex:
    """This process's index, brought up to date with the database (one query when it is).

    One build or patch at a time: a caller that finds another one building waits for it and
    takes its result. ``cancelled`` is asked between chunks of rows; when it answers True the
    build stops with ``BuildCancelled`` and the index stays as it was."""
    maps = deps.component_maps
    with deps.db.read() as session:
        seq = _counter(session)
        current = maps.get(crs)
        if current is not None and current.seq == seq:
            return current
    with maps.lock:
        with deps.db.read() as session:
            seq = _counter(session)
            current = maps.get(crs)
            if current is not None and current.seq == seq:
                return current  # another request brought it up to date meanwhile
            # The counter is read before the rows: a write committed in between is in the rows
            # and read again by the next patch, which is harmless (its ids are replaced).
            if current is None or current.seq > seq:  # a restored or emptied database
                started = time.perf_counter()
                rows = _rows(session, None, cancelled)
                fresh = ComponentIndex.build(rows, seq, _class_codes(session), _display(crs))
                took = time.perf_counter() - started
            else:
                rows = _rows(session, current.seq, cancelled)
                fresh = current.patched(rows, seq, _class_codes(session), _display(crs))
                took = None
        if cancelled():  # called off while it encoded: keep nothing, as a stopped build
            raise BuildCancelled
        if took is not None:
            maps.build_seconds[crs] = took
        maps.put(crs, fresh)
        return fresh


# --- checks ---------------------------------------------------------------------------------


def parse_filter(
    class_codes: Iterable[str] = (),
    states: Iterable[str] = (),
    department_ids: Iterable[int] = (),
    *,
    include_removed: bool = False,
) -> MapFilter:
    """A checked filter. No states given: every state but removed (``include_removed`` adds it)."""
    codes = tuple(dict.fromkeys(c.strip() for c in class_codes if c.strip()))
    depts = tuple(dict.fromkeys(int(d) for d in department_ids))
    wanted = tuple(dict.fromkeys(parse_state(s).value for s in states if s.strip()))
    for values in (codes, depts, wanted):
        if len(values) > MAX_FILTER_VALUES:
            raise InvalidInput(
                "too_many_filter_values",
                "At most %(max)s values per filter, got %(n)s",
                max=MAX_FILTER_VALUES,
                n=len(values),
            )
    for code in codes:
        if not (code.isascii() and code.isalnum() and len(code) <= 8):
            raise InvalidInput(
                "invalid_class_filter", "%(code)s is not a class code", code=code[:20]
            )
    for dept in depts:
        if dept < 1:
            raise InvalidInput(
                "invalid_department_filter", "%(id)s is not a department id", id=dept
            )
    if not wanted:
        wanted = tuple(s.value for s in ComponentState if s is not ComponentState.REMOVED)
    if include_removed and ComponentState.REMOVED.value not in wanted:
        wanted += (ComponentState.REMOVED.value,)
    return MapFilter(codes, wanted, depts)


def parse_crs(crs: str) -> str:
    """``wgs84`` (also for CGCS2000) or ``gcj02``: the coordinates of the map's basemap."""
    text = crs.strip().lower()
    if text == "cgcs2000":
        return "wgs84"
    if text not in DISPLAY_CRS:
        raise InvalidInput(
            "invalid_display_crs",
            "The map's coordinates are WGS84, CGCS2000 or GCJ02, not %(crs)s",
            crs=crs[:20],
        )
    return text


def _where(index: ComponentIndex, actor: Actor, chosen: MapFilter) -> Where:
    return index.where(
        class_codes=chosen.class_codes,
        states=chosen.states,
        department_ids=chosen.department_ids,
        scope=actor.scope,
    )


def _scope_key(scope: Scope) -> str:
    if scope.everything:
        return "*"
    return ",".join(sorted(scope.divisions)) + "/" + ",".join(map(str, sorted(scope.departments)))


# --- use cases -------------------------------------------------------------------------------


def component_tile(
    deps: ServiceDeps,
    actor: Actor,
    z: int,
    x: int,
    y: int,
    *,
    class_codes: Sequence[str] = (),
    states: Sequence[str] = (),
    department_ids: Sequence[int] = (),
    include_removed: bool = False,
    crs: str = "wgs84",
    cells: int = DEFAULT_CELLS,
    max_points: int = MAX_POINTS,
) -> TileView:
    """The components of Web-Mercator tile (z, x, y) in the actor's scope that pass the filters:
    points when at most ``max_points`` (from zoom ``POINT_ZOOM`` on; below it at most
    ``SPARSE_POINTS``), else clusters on a ``cells × cells`` grid (all staff)."""
    require(actor, Permission.COMPONENT_READ)
    if not check_tile(z, x, y, MAX_ZOOM):
        raise InvalidInput(
            "invalid_tile",
            "No tile %(z)s/%(x)s/%(y)s (zoom 0–%(max)s, x and y 0 to 2^zoom − 1)",
            z=z,
            x=x,
            y=y,
            max=MAX_ZOOM,
        )
    if cells not in CELLS:
        raise InvalidInput(
            "invalid_cells",
            "A tile is split into 1, 2, 4, 8, 16, 32 or 64 cells per side, not %(cells)s",
            cells=cells,
        )
    if not 0 <= max_points <= MAX_POINTS:
        raise InvalidInput("invalid_max_points", "At most %(max)s points per tile", max=MAX_POINTS)
    chosen = parse_filter(class_codes, states, department_ids, include_removed=include_removed)
    display = parse_crs(crs)
    index = component_index(deps, display)
    bits = min(int(cells).bit_length() - 1, INDEX_ZOOM - z)
    limit = max_points if z >= POINT_ZOOM else min(max_points, SPARSE_POINTS)
    tile = index.tile(z, x, y, _where(index, actor, chosen), max_points=limit, cell_bits=bits)
    text = f"{index.seq}|{display}|{cells}|{max_points}|{chosen.key()}|{_scope_key(actor.scope)}"
    tag = hashlib.sha256(text.encode()).hexdigest()[:24]
    return TileView(z, x, y, index.seq, tag, tile.total, 1 << bits, tile.points, tile.clusters)


def components_near(
    deps: ServiceDeps,
    actor: Actor,
    lon: float,
    lat: float,
    *,
    radius_m: float = 30.0,
    limit: int = 10,
    class_codes: Sequence[str] = (),
    states: Sequence[str] = (),
    department_ids: Sequence[int] = (),
    include_removed: bool = False,
    crs: str = "wgs84",
) -> NearView:
    """The components within ``radius_m`` of a point (in the map's coordinates), nearest first,
    for picking one on the map (all staff, within their scope)."""
    require(actor, Permission.COMPONENT_READ)
    coords.check_lonlat(np.array([[lon, lat]], dtype=np.float64))
    if not 0 < radius_m <= NEAR_MAX_RADIUS_M:
        raise InvalidInput(
            "invalid_radius",
            "The radius is more than 0 and at most %(max)s m, got %(value)s",
            max=NEAR_MAX_RADIUS_M,
            value=radius_m,
        )
    if not 1 <= limit <= NEAR_MAX_LIMIT:
        raise InvalidInput(
            "invalid_limit", "Ask for 1 to %(max)s components, got %(value)s",
            max=NEAR_MAX_LIMIT, value=limit,
        )  # fmt: skip
    chosen = parse_filter(class_codes, states, department_ids, include_removed=include_removed)
    index = component_index(deps, parse_crs(crs))
    found = index.near(lon, lat, radius_m, _where(index, actor, chosen), limit=limit)
    names = _names(deps, found.ids)
    assert found.distance_m is not None
    items = [
        NearComponent(
            identifier=found.identifiers[i],
            name=names.get(found.ids[i], ""),
            class_code=found.class_codes[i],
            state=found.states[i],
            lon=float(found.x[i]),
            lat=float(found.y[i]),
            distance_m=round(float(found.distance_m[i]), 2),
        )
        for i in range(len(found.ids))
    ]
    return NearView(index.seq, items)


def _names(deps: ServiceDeps, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    with deps.db.read() as session:
        rows = session.execute(sa.select(Component.id, Component.name).where(Component.id.in_(ids)))
        return {int(i): str(name) for i, name in rows}


def filter_choices(deps: ServiceDeps, actor: Actor, *, crs: str = "wgs84") -> FilterChoices:
    """The classes and competent departments of the components the actor may see, with how
    many components each has (every state but removed), for a filter panel (all staff)."""
    require(actor, Permission.COMPONENT_READ)
    index = component_index(deps, parse_crs(crs))
    chosen = parse_filter()
    where = _where(index, actor, chosen)
    data, tables = index.data, index.tables
    mask = where.mask(data, 0, len(data))
    cls = data.cls if mask is None else data.cls[mask]
    dept = data.dept if mask is None else data.dept[mask]
    class_counts = np.bincount(cls, minlength=len(tables.class_codes))
    dept_counts = np.bincount(dept, minlength=len(tables.department_ids))
    present_classes = {
        tables.class_codes[i]: int(n) for i, n in enumerate(class_counts.tolist()) if n
    }
    present_depts = {
        tables.department_ids[i]: int(n) for i, n in enumerate(dept_counts.tolist()) if n
    }
    with deps.db.read() as session:
        classes, majors = _class_names(session, set(present_classes))
        query = sa.select(Department.id, Department.name).where(
            Department.id.in_(list(present_depts))
        )
        departments = {int(i): str(name) for i, name in session.execute(query)}
    class_list = [
        ClassChoice(code, code[:2], *classes.get(code, ("", "")), count)
        for code, count in sorted(present_classes.items())
    ]
    dept_list = sorted(
        (DepartmentChoice(i, departments.get(i, str(i)), n) for i, n in present_depts.items()),
        key=lambda d: d.name,
    )
    return FilterChoices(class_list, majors, dept_list, index.seq)


def _class_names(
    session: Session, codes: set[str]
) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Name and pinyin initials of component classes (the active code set's first), and the
    names of their major classes."""
    if not codes:
        return {}, {}
    active = active_code_set(session)
    rows = session.execute(
        sa.select(
            CatalogClass.code,
            CatalogClass.level,
            CatalogClass.name_zh,
            CatalogClass.initials,
            CatalogClass.code_set,
        ).where(
            CatalogClass.kind == "component",
            CatalogClass.code.in_(sorted(codes | {c[:2] for c in codes})),
        )
    ).all()
    names: dict[str, tuple[str, str]] = {}
    majors: dict[str, str] = {}
    # The active set's names win over an older set's (a class code can occur in both).
    for code, level, name, initials, _set in sorted(rows, key=lambda r: r[4] == active):
        if level == "major":
            majors[code] = name
        else:
            names[code] = (name, initials)
    return names, majors
