"""Point location: which district, subdistrict, community, unit grid and layer cells a point
falls in, now or at any past moment, for one point or many at once.

Every call reads the ``spatial_state`` counters (one query) and reuses this process's indexes
while the counters are unchanged (see ``adapters/spatial_index.py``). Grid layers keep their
history, so a location ``at`` a past moment answers the grid version in force then
(valid_from ≤ at < valid_to); divisions carry no history and are located in their current
boundaries. A unit grid found for a point also decides its community (its code says which), so
the answer is consistent with the grid even where boundaries were redrawn since.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import Division, GridCell, GridLayer
from gridcity.adapters.spatial_index import PolygonLocator, SpatialCache, read_versions
from gridcity.domain import coords
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import InvalidInput, NotFound
from gridcity.services.deps import ServiceDeps
from gridcity.services.divisions import DIVISIONS_STATE
from gridcity.services.grids import GRIDS_STATE, UNIT_LAYER, check_aware

MAX_BATCH = 100_000
Codes = NDArray[np.str_]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FOREVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Place:
    """A division or cell: its code and name."""

    code: str
    name: str


@dataclass(frozen=True)
class LayerCell:
    """The cell of one non-unit layer that holds a point (None when the layer has none there)."""

    layer: str
    kind: str
    cell: Place | None


@dataclass(frozen=True)
class Location:
    """Where one point lies."""

    lon: float
    lat: float
    at: datetime
    district: Place
    subdistrict: Place | None
    community: Place | None
    grid: Place | None
    layers: tuple[LayerCell, ...]


@dataclass(frozen=True)
class LayerCodes:
    """One non-unit layer's cell code for each point ('' where none), with the cells' names."""

    layer: str
    kind: str
    cells: Codes
    names: dict[str, str]


@dataclass(frozen=True)
class BatchLocation:
    """Where many points lie: one code per point and level ('' where none), plus the names."""

    xy: NDArray[np.float64]
    at: datetime
    district: Codes
    subdistrict: Codes
    community: Codes
    grid: Codes
    layers: tuple[LayerCodes, ...]
    names: dict[str, str]

    @property
    def located(self) -> NDArray[np.bool_]:
        """True for points inside the managed area."""
        located: NDArray[np.bool_] = self.district != ""
        return located


# --- snapshots of the data, cached per process ---------------------------------------------


@dataclass(frozen=True)
class _LayerHistory:
    """Every version of every cell of one layer, ordered by code then start."""

    code: str
    kind: str
    codes: Codes
    names: NDArray[np.object_]
    communities: Codes
    valid_from: NDArray[np.int64]
    valid_to: NDArray[np.int64]
    geoms: NDArray[np.object_]
    changes: NDArray[np.int64]

    def period(self, moment: int) -> int:
        """Number of the stretch of time, between two validity dates, that holds ``moment``."""
        return int(np.searchsorted(self.changes, moment, side="right"))


@dataclass(frozen=True)
class _LayerIndex:
    """The cells of one layer in force during one period, with their locator."""

    code: str
    kind: str
    codes: Codes
    names: dict[str, str]
    communities: Codes
    locator: PolygonLocator

    @classmethod
    def of(cls, history: _LayerHistory, moment: int) -> _LayerIndex:
        """The cells of ``history`` valid at ``moment`` (µs since the epoch)."""
        live = (history.valid_from <= moment) & (moment < history.valid_to)
        codes = history.codes[live]
        return cls(
            code=history.code,
            kind=history.kind,
            codes=codes,
            names=dict(zip(codes.tolist(), history.names[live].tolist(), strict=True)),
            communities=history.communities[live],
            locator=PolygonLocator(history.geoms[live]),
        )

    def cells_of(self, xy: NDArray[np.float64]) -> NDArray[np.int64]:
        """Index of the cell holding each point, -1 where none."""
        return self.locator.locate(xy)


@dataclass(frozen=True)
class _Divisions:
    """Current division boundaries: one locator per level, and every division's name."""

    levels: dict[DivisionLevel, tuple[Codes, PolygonLocator]]
    names: dict[str, str]


def _micros(moment: datetime) -> int:
    """Microseconds since the epoch (exact, unlike float seconds)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _load_divisions(session: Session) -> _Divisions:
    """Read every division and index the active ones that have a boundary."""
    rows = session.execute(
        sa.select(
            Division.code, Division.level, Division.name, Division.is_active, Division.geom
        ).order_by(Division.code)
    ).all()
    levels: dict[DivisionLevel, tuple[Codes, PolygonLocator]] = {}
    for level in DivisionLevel:
        chosen = [r for r in rows if r.level == level.value and r.is_active and r.geom is not None]
        codes = np.asarray([r.code for r in chosen], dtype="U12")
        levels[level] = (codes, PolygonLocator([r.geom for r in chosen]))
    return _Divisions(levels=levels, names={r.code: r.name for r in rows})


def _load_grid_history(session: Session) -> tuple[_LayerHistory, ...]:
    """Read every version of every cell of the active layers."""
    layers = session.execute(
        sa.select(GridLayer.id, GridLayer.code, GridLayer.kind)
        .where(GridLayer.is_active.is_(True))
        .order_by(GridLayer.code)
    ).all()
    return tuple(_layer_history(session, layer.id, layer.code, layer.kind) for layer in layers)


def _layer_history(session: Session, layer_id: int, code: str, kind: str) -> _LayerHistory:
    """All versions of the cells of one layer."""
    rows = session.execute(
        sa.select(
            GridCell.code,
            GridCell.name,
            GridCell.community_code,
            GridCell.valid_from,
            GridCell.valid_to,
            GridCell.geom,
        )
        .where(GridCell.layer_id == layer_id, GridCell.geom.is_not(None))
        .order_by(GridCell.code, GridCell.valid_from)
    ).all()
    valid_from = np.asarray([_micros(r.valid_from) for r in rows], dtype=np.int64)
    valid_to = np.asarray(
        [_micros(r.valid_to) if r.valid_to else _FOREVER for r in rows], dtype=np.int64
    )
    return _LayerHistory(
        code=code,
        kind=kind,
        codes=np.asarray([r.code for r in rows], dtype="U32"),
        names=np.asarray([r.name for r in rows], dtype=object),
        communities=np.asarray([r.community_code or "" for r in rows], dtype="U12"),
        valid_from=valid_from,
        valid_to=valid_to,
        geoms=np.asarray([r.geom for r in rows], dtype=object),
        changes=np.unique(np.concatenate((valid_from, valid_to))),
    )


def _snapshot(deps: ServiceDeps, moment: datetime) -> tuple[_Divisions, list[_LayerIndex]]:
    """This process's indexes for ``moment``, rebuilt where the database says they are stale."""
    cache = deps.spatial_cache
    with deps.db.read() as session:
        versions = read_versions(session)
        division_version = versions.get(DIVISIONS_STATE, 0)
        grid_version = versions.get(GRIDS_STATE, 0)
        divisions = cache.get("divisions", division_version, lambda: _load_divisions(session))
        history = cache.get("grid-history", grid_version, lambda: _load_grid_history(session))
    micros = _micros(moment)
    layers = [_layer_index(cache, grid_version, layer, micros) for layer in history]
    return divisions, layers


def _layer_index(
    cache: SpatialCache, version: int, history: _LayerHistory, moment: int
) -> _LayerIndex:
    """The index of one layer for the period holding ``moment`` (built once per period)."""
    key = ("layer", history.code, history.period(moment))
    return cache.get(key, version, lambda: _LayerIndex.of(history, moment))


# --- locating -------------------------------------------------------------------------------


def stored_points(
    points: Sequence[Sequence[float]] | NDArray[np.float64], crs: str
) -> NDArray[np.float64]:
    """An (n, 2) array of lon/lat in the stored CRS from points given in a named system."""
    try:
        xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise InvalidInput(
            "points_shape", "Points must be pairs of numbers [longitude, latitude]"
        ) from None
    if len(xy) > MAX_BATCH:
        raise InvalidInput(
            "points_too_many",
            "At most %(max)s points per request, got %(n)s",
            max=MAX_BATCH,
            n=len(xy),
        )
    coords.check_lonlat(xy)
    return coords.to_wgs84_array(xy, crs)


def locate_points(
    deps: ServiceDeps,
    actor: Actor,
    points: Sequence[Sequence[float]] | NDArray[np.float64],
    *,
    crs: str = "cgcs2000",
    at: datetime | None = None,
    codes_only: bool = False,
) -> BatchLocation:
    """Divisions, unit grid and layer cells of many points at once (vectorised); with
    ``codes_only``, only the divisions' and unit grids' codes (no other layers, no names)."""
    require(actor, Permission.GRID_READ)
    xy = stored_points(points, crs)
    moment = check_aware(at, "at").astimezone(UTC) if at is not None else deps.clock()
    divisions, layers = _snapshot(deps, moment)
    unit = next((layer for layer in layers if layer.code == UNIT_LAYER), None)
    grid, community = _unit_grids(unit, xy)
    community = _fill(community, divisions, DivisionLevel.COMMUNITY, xy)
    subdistrict = _fill(_prefix(community, 9), divisions, DivisionLevel.SUBDISTRICT, xy)
    district = _fill(_prefix(subdistrict, 6), divisions, DivisionLevel.DISTRICT, xy)
    if codes_only:
        return BatchLocation(xy, moment, district, subdistrict, community, grid, (), {})
    others = tuple(_layer_codes(layer, xy) for layer in layers if layer is not unit)
    names = _names(divisions.names, (district, subdistrict, community))
    names.update(_names(unit.names if unit else {}, (grid,)))
    return BatchLocation(xy, moment, district, subdistrict, community, grid, others, names)


def locate_point(
    deps: ServiceDeps,
    actor: Actor,
    lon: float,
    lat: float,
    *,
    crs: str = "cgcs2000",
    at: datetime | None = None,
) -> Location:
    """Where one point lies, or a refusal when it is outside every managed district."""
    found = locate_points(deps, actor, [[lon, lat]], crs=crs, at=at)
    if not found.located[0]:
        raise NotFound(
            "outside_managed_area",
            "The point (%(lon)s, %(lat)s) lies outside the managed area",
            lon=lon,
            lat=lat,
        )
    return Location(
        lon=float(found.xy[0, 0]),
        lat=float(found.xy[0, 1]),
        at=found.at,
        district=_place(found.names, found.district[0]) or Place("", ""),
        subdistrict=_place(found.names, found.subdistrict[0]),
        community=_place(found.names, found.community[0]),
        grid=_place(found.names, found.grid[0]),
        layers=tuple(
            LayerCell(layer.layer, layer.kind, _place(layer.names, layer.cells[0]))
            for layer in found.layers
        ),
    )


def _place(names: dict[str, str], code: Any) -> Place | None:
    """The place with this code ('' is none), named from a name table."""
    text = str(code)
    return Place(text, names.get(text, "")) if text else None


def _unit_grids(unit: _LayerIndex | None, xy: NDArray[np.float64]) -> tuple[Codes, Codes]:
    """Unit grid code and its community code for each point ('' where no grid)."""
    grid = np.full(len(xy), "", dtype="U15")
    community = np.full(len(xy), "", dtype="U12")
    if unit is None or unit.locator.size == 0:
        return grid, community
    found = unit.cells_of(xy)
    hit = found >= 0
    grid[hit] = unit.codes[found[hit]]
    community[hit] = unit.communities[found[hit]]
    return grid, community


def _fill(
    known: Codes, divisions: _Divisions, level: DivisionLevel, xy: NDArray[np.float64]
) -> Codes:
    """Codes of one division level: the known ones, the rest located in the boundaries."""
    codes, locator = divisions.levels[level]
    result = known.copy()
    missing = np.flatnonzero(result == "")
    if missing.size and locator.size:
        found = locator.locate(xy[missing])
        hit = found >= 0
        result[missing[hit]] = codes[found[hit]]
    return result


def _prefix(codes: Codes, length: int) -> Codes:
    """The first ``length`` characters of each code ('' stays '')."""
    return codes.astype(f"U{length}")


def _layer_codes(layer: _LayerIndex, xy: NDArray[np.float64]) -> LayerCodes:
    """The code of the layer's cell holding each point ('' where none)."""
    result = np.full(len(xy), "", dtype="U32")
    if layer.locator.size:
        found = layer.cells_of(xy)
        hit = found >= 0
        result[hit] = layer.codes[found[hit]]
    return LayerCodes(layer.code, layer.kind, result, _names(layer.names, (result,)))


def _names(known: dict[str, str], answers: tuple[Codes, ...]) -> dict[str, str]:
    """Names of the codes that occur in the answers."""
    return {
        code: known.get(code, "") for codes in answers for code in np.unique(codes).tolist() if code
    }
