"""In-process index of component anchors for the map: tiles, clusters and the nearest ones.

Pure numpy (decision 0011). Every component's anchor point gets a Morton code at Web-Mercator
zoom ``INDEX_ZOOM`` (the quadkey of its z26 tile, 52 bits); the rows are kept sorted by that
code, so every tile at any zoom z ≤ 26 is one contiguous slice, found with two binary
searches. A request then works on that slice only: the filters are table look-ups turned into
boolean masks, and the slice either comes back as points (few enough) or as counts per cell of
a ``2^k × 2^k`` grid inside the tile, whose cell number is a shift of the same code.

Class, state, competent department and "place" (the community code, or the district of the
identifier when a component lies in no community) are small integer codes into tables that only
grow, so a filter is a boolean array over a table (a few hundred entries), evaluated once per
request and gathered per row.

``ComponentIndex`` never changes once built: :meth:`ComponentIndex.patched` returns a new index
with changed rows replaced (old entries of their ids dropped, new ones merged in code order),
so readers in other threads keep a consistent snapshot without locks.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcity.domain.access import Scope
from gridcity.domain.components import ComponentState

INDEX_ZOOM = 26  # z26 tiles are ~0.6 m wide at the equator, ~0.45 m at 40°N
MAX_LAT = 85.05112878  # Web Mercator's limit
STATES: tuple[str, ...] = tuple(s.value for s in ComponentState)
STATE_CODE = {name: i for i, name in enumerate(STATES)}
TOP_CLASSES = 3  # classes named per cluster
_MAX_CLASS_BINS = 1 << 20  # cells × classes above this: no class breakdown (memory, time)
_M_PER_DEG = 111_320.0

U64 = NDArray[np.uint64]
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Mask = NDArray[np.bool_]

# A row as the service reads it: id, identifier, class code, state, competent department id,
# community code (or None), x, y, change_seq.
Row = tuple[int, str, str, str, int, str | None, float, float, int]


# --- Web Mercator tiles and Morton codes ----------------------------------------------------


def tile_units(lon: F64, lat: F64, zoom: int) -> tuple[F64, F64]:
    """Positions in tile units at ``zoom`` (tile i spans [i, i + 1)), y growing southwards."""
    n = float(1 << zoom)
    x = (np.asarray(lon, dtype=np.float64) + 180.0) / 360.0 * n
    phi = np.radians(np.clip(np.asarray(lat, dtype=np.float64), -MAX_LAT, MAX_LAT))
    y = (1.0 - np.arcsinh(np.tan(phi)) / math.pi) / 2.0 * n
    return x, y


def lonlat_of(x: F64, y: F64, zoom: int) -> tuple[F64, F64]:
    """Inverse of :func:`tile_units`: lon/lat of positions in tile units."""
    n = float(1 << zoom)
    lon = np.asarray(x, dtype=np.float64) / n * 360.0 - 180.0
    lat = np.degrees(
        np.arctan(np.sinh(math.pi * (1.0 - 2.0 * np.asarray(y, dtype=np.float64) / n)))
    )
    return lon, lat


def _spread(values: NDArray[Any]) -> U64:
    """The bits of 32-bit integers moved to the even bit positions of 64-bit ones."""
    v = np.asarray(values, dtype=np.uint64) & np.uint64(0xFFFFFFFF)
    for shift, mask in (
        (16, 0x0000FFFF0000FFFF),
        (8, 0x00FF00FF00FF00FF),
        (4, 0x0F0F0F0F0F0F0F0F),
        (2, 0x3333333333333333),
        (1, 0x5555555555555555),
    ):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def interleave(tx: NDArray[Any], ty: NDArray[Any]) -> U64:
    """Morton code of tile numbers: x bits even, y bits odd (a quadkey read as a number)."""
    return _spread(tx) | (_spread(ty) << np.uint64(1))


def morton_codes(lon: F64, lat: F64) -> U64:
    """The Morton code of each point's z``INDEX_ZOOM`` tile."""
    top = (1 << INDEX_ZOOM) - 1
    x, y = tile_units(lon, lat, INDEX_ZOOM)
    tx = np.clip(np.floor(x), 0, top).astype(np.uint64)
    ty = np.clip(np.floor(y), 0, top).astype(np.uint64)
    return interleave(tx, ty)


def tile_span(z: int, x: int, y: int) -> tuple[int, int]:
    """The codes [first, end) of the points inside tile (z, x, y)."""
    shift = 2 * (INDEX_ZOOM - z)
    base = int(interleave(np.array([x]), np.array([y]))[0]) << shift
    return base, base + (1 << shift)


def check_tile(z: int, x: int, y: int, max_zoom: int = INDEX_ZOOM) -> bool:
    """True when (z, x, y) names a tile of the Web-Mercator pyramid up to ``max_zoom``."""
    return 0 <= z <= max_zoom and 0 <= x < (1 << z) and 0 <= y < (1 << z)


# --- rows → columns ---------------------------------------------------------------------------


class _Table(dict[Any, int]):
    """Values → small integers, numbered in order of first sight."""

    def __missing__(self, key: Any) -> int:
        number = self[key] = len(self)
        return number

    def values_in_order(self) -> list[Any]:
        """The values, by number."""
        return list(self)  # dicts keep insertion order, which is the numbering


@dataclass(frozen=True)
class Tables:
    """The value tables the small integer columns refer to (they only grow)."""

    class_codes: tuple[str, ...] = ()
    department_ids: tuple[int, ...] = ()
    places: tuple[str, ...] = ()


@dataclass(frozen=True)
class Columns:
    """Rows as columns, sorted by Morton code; ``seq`` is the highest change_seq among them."""

    codes: U64
    x: F64
    y: F64
    ids: NDArray[np.int32]
    identifiers: NDArray[np.bytes_]
    cls: NDArray[np.uint16]
    state: NDArray[np.uint8]
    dept: NDArray[np.uint16]
    place: NDArray[np.uint32]
    seq: int

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, index: NDArray[Any]) -> Columns:
        """The rows at ``index`` (positions or a mask), in that order."""
        return Columns(
            codes=self.codes[index],
            x=self.x[index],
            y=self.y[index],
            ids=self.ids[index],
            identifiers=self.identifiers[index],
            cls=self.cls[index],
            state=self.state[index],
            dept=self.dept[index],
            place=self.place[index],
            seq=self.seq,
        )


def encode(
    rows: Sequence[Row],
    tables: Tables,
    display: Callable[[F64], F64] | None = None,
) -> tuple[Columns, Tables]:
    """Rows read from the database as sorted columns, and the tables grown by their values.

    ``display`` moves the stored lon/lat into the map's coordinates (GCJ-02 basemaps); the
    index then works in those, like the tiles the browser asks for.
    """
    n = len(rows)
    if n == 0:
        return _empty_columns(), tables
    ids, identifiers, classes, states, depts, communities, xs, ys, seqs = zip(*rows, strict=True)
    class_table = _Table({v: i for i, v in enumerate(tables.class_codes)})
    dept_table = _Table({v: i for i, v in enumerate(tables.department_ids)})
    place_table = _Table({v: i for i, v in enumerate(tables.places)})
    xy = np.column_stack((np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)))
    if display is not None:
        xy = display(xy)
    places = [
        place_table[community or identifier[:6]]
        for community, identifier in zip(communities, identifiers, strict=True)
    ]
    columns = Columns(
        codes=morton_codes(xy[:, 0], xy[:, 1]),
        x=np.ascontiguousarray(xy[:, 0]),
        y=np.ascontiguousarray(xy[:, 1]),
        ids=np.asarray(ids, dtype=np.int32),
        identifiers=np.asarray(identifiers, dtype="S17"),
        cls=np.asarray([class_table[c] for c in classes], dtype=np.uint16),
        state=np.asarray([STATE_CODE[s] for s in states], dtype=np.uint8),
        dept=np.asarray([dept_table[int(d)] for d in depts], dtype=np.uint16),
        place=np.asarray(places, dtype=np.uint32),
        seq=int(max(seqs)),
    )
    grown = Tables(
        class_codes=tuple(class_table.values_in_order()),
        department_ids=tuple(dept_table.values_in_order()),
        places=tuple(place_table.values_in_order()),
    )
    order = np.argsort(columns.codes, kind="stable")
    return columns.take(order), grown


def _empty_columns() -> Columns:
    return Columns(
        codes=np.empty(0, dtype=np.uint64),
        x=np.empty(0, dtype=np.float64),
        y=np.empty(0, dtype=np.float64),
        ids=np.empty(0, dtype=np.int32),
        identifiers=np.empty(0, dtype="S17"),
        cls=np.empty(0, dtype=np.uint16),
        state=np.empty(0, dtype=np.uint8),
        dept=np.empty(0, dtype=np.uint16),
        place=np.empty(0, dtype=np.uint32),
        seq=0,
    )


# --- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """Which rows a request sees: one boolean array per table, None where every value passes.

    ``place_ok | scope_dept_ok`` is the data scope (community in scope, or competent department
    in scope); the other arrays are the request's filters.
    """

    class_ok: Mask | None = None
    state_ok: Mask | None = None
    dept_ok: Mask | None = None
    place_ok: Mask | None = None
    scope_dept_ok: Mask | None = None
    nothing: bool = False

    def mask(self, data: Columns, lo: int, hi: int) -> Mask | None:
        """The rows of [lo, hi) that pass, or None when all of them do."""
        if self.nothing:
            return np.zeros(hi - lo, dtype=bool)
        result: Mask | None = None
        for table_ok, column in (
            (self.class_ok, data.cls),
            (self.state_ok, data.state),
            (self.dept_ok, data.dept),
        ):
            if table_ok is not None:
                part = table_ok[column[lo:hi]]
                result = part if result is None else result & part
        if self.place_ok is not None:
            scoped = self.place_ok[data.place[lo:hi]]
            if self.scope_dept_ok is not None:
                scoped |= self.scope_dept_ok[data.dept[lo:hi]]
            result = scoped if result is None else result & scoped
        return result


def _needed(ok: Mask | None, present: Mask) -> Mask | None:
    """The table mask, or None when every value that occurs passes (no per-row work)."""
    return None if ok is None or bool(ok[present].all()) else ok


def _rejects_all(ok: Mask | None, present: Mask) -> bool:
    """True when a filter lets none of the values that occur through."""
    return ok is not None and not bool(ok[present].any())


def _flags(values: Iterable[bool]) -> Mask:
    """A boolean array (1-D even when empty)."""
    return np.fromiter(values, dtype=bool)


# --- answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Points:
    """Components of a tile (or near a point), each with its position and codes."""

    identifiers: list[str]
    ids: list[int]
    x: F64
    y: F64
    class_codes: list[str]
    states: list[str]
    distance_m: F64 | None = None


@dataclass(frozen=True)
class Clusters:
    """Counts per non-empty cell of a tile's grid, with the mean position of their members.

    ``states`` has one column per state (``STATES`` order); ``classes`` names the most frequent
    classes of each cluster with their counts (empty when the breakdown was too costly).
    """

    count: I64
    x: F64
    y: F64
    cell: I64
    states: I64
    classes: list[list[tuple[str, int]]]


@dataclass(frozen=True)
class Tile:
    """The components of a tile that pass the filters: as points, or as clusters."""

    z: int
    x: int
    y: int
    total: int
    points: Points | None = None
    clusters: Clusters | None = None


# --- the index -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ComponentIndex:
    """Every component's anchor, class, state, department and place, sorted by Morton code."""

    data: Columns
    tables: Tables
    seq: int
    _scope_masks: dict[Any, tuple[Mask, Mask | None]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def build(
        cls, rows: Sequence[Row], seq: int, display: Callable[[F64], F64] | None = None
    ) -> ComponentIndex:
        """An index of ``rows`` at counter ``seq`` (or higher, when a row carries a later one)."""
        data, tables = encode(rows, Tables(), display)
        return cls(data, tables, max(seq, data.seq))

    def __len__(self) -> int:
        return len(self.data)

    @property
    def nbytes(self) -> int:
        """Memory of the columns (the tables are a few kB)."""
        d = self.data
        return sum(
            a.nbytes
            for a in (d.codes, d.x, d.y, d.ids, d.identifiers, d.cls, d.state, d.dept, d.place)
        )

    def patched(
        self, rows: Sequence[Row], seq: int, display: Callable[[F64], F64] | None = None
    ) -> ComponentIndex:
        """A new index where ``rows`` (changed since this one was built) replace their ids."""
        if not rows:
            return ComponentIndex(self.data, self.tables, max(seq, self.seq))
        new, tables = encode(rows, self.tables, display)
        old = self.data
        stale = np.isin(old.ids, new.ids, kind="table") if len(old) else np.zeros(0, dtype=bool)
        kept = old.take(~stale) if stale.any() else old
        at = np.searchsorted(kept.codes, new.codes, side="right")
        merged = Columns(
            codes=np.insert(kept.codes, at, new.codes),
            x=np.insert(kept.x, at, new.x),
            y=np.insert(kept.y, at, new.y),
            ids=np.insert(kept.ids, at, new.ids),
            identifiers=np.insert(kept.identifiers, at, new.identifiers),
            cls=np.insert(kept.cls, at, new.cls),
            state=np.insert(kept.state, at, new.state),
            dept=np.insert(kept.dept, at, new.dept),
            place=np.insert(kept.place, at, new.place),
            seq=max(old.seq, new.seq),
        )
        return ComponentIndex(merged, tables, max(seq, merged.seq, self.seq))

    # --- what occurs, for skipping masks that pass everything ------------------------------

    @cached_property
    def _present(self) -> tuple[Mask, Mask, Mask, Mask]:
        d, t = self.data, self.tables
        return (
            np.bincount(d.cls, minlength=len(t.class_codes)) > 0,
            np.bincount(d.state, minlength=len(STATES)) > 0,
            np.bincount(d.dept, minlength=len(t.department_ids)) > 0,
            np.bincount(d.place, minlength=len(t.places)) > 0,
        )

    def extent(self) -> tuple[float, float, float, float] | None:
        """Bounding box of the anchors (in the index's coordinates), None when empty."""
        if not len(self):
            return None
        d = self.data
        return float(d.x.min()), float(d.y.min()), float(d.x.max()), float(d.y.max())

    def where(
        self,
        *,
        class_codes: Iterable[str] = (),
        states: Iterable[str] = (),
        department_ids: Iterable[int] = (),
        scope: Scope | None = None,
    ) -> Where:
        """The masks for a request. Empty class and department filters pass everything; a class
        code of two digits stands for its whole major class. ``states`` lists the states shown
        (the caller decides whether removed components are among them)."""
        present_cls, present_state, present_dept, present_place = self._present
        t = self.tables
        class_ok: Mask | None = None
        wanted = tuple(class_codes)
        if wanted:
            majors = tuple(c for c in wanted if len(c) == 2)
            exact = set(wanted)
            class_ok = _flags(c in exact or c.startswith(majors) for c in t.class_codes)
        state_ok = np.zeros(len(STATES), dtype=bool)
        state_ok[[STATE_CODE[s] for s in states]] = True
        dept_ok: Mask | None = None
        chosen = set(department_ids)
        if chosen:
            dept_ok = _flags(d in chosen for d in t.department_ids)
        nothing = (
            _rejects_all(class_ok, present_cls)
            or _rejects_all(state_ok, present_state)
            or _rejects_all(dept_ok, present_dept)
        )
        place_ok: Mask | None = None
        scope_dept: Mask | None = None
        if scope is not None and not scope.everything:
            place_ok, scope_dept = self._scope_mask(scope)
            if scope_dept is not None and not bool(scope_dept[present_dept].any()):
                scope_dept = None  # no department of the scope occurs: the places decide
            if scope_dept is None and _rejects_all(place_ok, present_place):
                nothing = True
            if bool(place_ok[present_place].all()):
                place_ok, scope_dept = None, None  # every place is in scope
        return Where(
            class_ok=_needed(class_ok, present_cls),
            state_ok=_needed(state_ok, present_state),
            dept_ok=_needed(dept_ok, present_dept),
            place_ok=place_ok,
            scope_dept_ok=scope_dept,
            nothing=nothing,
        )

    def _scope_mask(self, scope: Scope) -> tuple[Mask, Mask | None]:
        """Places covered by the scope's divisions, and departments in it (cached per scope)."""
        key = (scope.divisions, scope.departments)
        hit = self._scope_masks.get(key)
        if hit is not None:
            return hit
        prefixes = tuple(scope.divisions)
        place_ok = _flags(bool(prefixes) and p.startswith(prefixes) for p in self.tables.places)
        dept_ok: Mask | None = None
        if scope.departments:
            dept_ok = _flags(d in scope.departments for d in self.tables.department_ids)
        if len(self._scope_masks) > 256:
            self._scope_masks.clear()
        self._scope_masks[key] = (place_ok, dept_ok)
        return place_ok, dept_ok

    # --- queries -------------------------------------------------------------------------------

    def span(self, z: int, x: int, y: int) -> tuple[int, int]:
        """Positions [lo, hi) of the rows inside tile (z, x, y)."""
        first, end = tile_span(z, x, y)
        codes = self.data.codes
        lo = int(np.searchsorted(codes, np.uint64(first), side="left"))
        hi = int(np.searchsorted(codes, np.uint64(end), side="left"))
        return lo, hi

    def tile(
        self,
        z: int,
        x: int,
        y: int,
        where: Where,
        *,
        max_points: int = 2000,
        cell_bits: int = 2,
    ) -> Tile:
        """The tile's components that pass ``where``: points when there are at most
        ``max_points`` of them, else clusters on a ``2^cell_bits``-square grid of the tile."""
        lo, hi = self.span(z, x, y)
        mask = where.mask(self.data, lo, hi)
        total = (hi - lo) if mask is None else int(np.count_nonzero(mask))
        if total <= max_points:
            picked = np.arange(lo, hi) if mask is None else lo + np.flatnonzero(mask)
            return Tile(z, x, y, total, points=self._points(picked))
        return Tile(z, x, y, total, clusters=self._clusters(z, x, y, lo, hi, mask, cell_bits))

    def _points(self, positions: NDArray[Any], distance: F64 | None = None) -> Points:
        d, t = self.data, self.tables
        return Points(
            identifiers=[b.decode() for b in d.identifiers[positions].tolist()],
            ids=d.ids[positions].tolist(),
            x=d.x[positions],
            y=d.y[positions],
            class_codes=[t.class_codes[i] for i in d.cls[positions].tolist()],
            states=[STATES[i] for i in d.state[positions].tolist()],
            distance_m=distance,
        )

    def _clusters(
        self, z: int, x: int, y: int, lo: int, hi: int, mask: Mask | None, cell_bits: int
    ) -> Clusters:
        d = self.data
        bits = max(0, min(cell_bits, INDEX_ZOOM - z))
        cells = 1 << (2 * bits)
        first, _end = tile_span(z, x, y)
        shift = np.uint64(2 * (INDEX_ZOOM - z - bits))
        cell = ((d.codes[lo:hi] - np.uint64(first)) >> shift).astype(np.intp)
        if mask is not None:
            cell = np.where(mask, cell, cells)  # rows filtered out land in an extra bin
        bins = cells + 1
        count = np.bincount(cell, minlength=bins)[:cells]
        sum_x = np.bincount(cell, weights=d.x[lo:hi], minlength=bins)[:cells]
        sum_y = np.bincount(cell, weights=d.y[lo:hi], minlength=bins)[:cells]
        nstates = len(STATES)
        by_state = np.bincount(cell * nstates + d.state[lo:hi], minlength=bins * nstates)
        filled = np.flatnonzero(count)
        states = by_state.reshape(bins, nstates)[filled]
        return Clusters(
            count=count[filled].astype(np.int64),
            x=sum_x[filled] / count[filled],
            y=sum_y[filled] / count[filled],
            cell=filled.astype(np.int64),
            states=states.astype(np.int64),
            classes=self._top_classes(cell, lo, hi, bins, filled),
        )

    def _top_classes(
        self, cell: NDArray[np.intp], lo: int, hi: int, bins: int, filled: NDArray[np.intp]
    ) -> list[list[tuple[str, int]]]:
        ncls = len(self.tables.class_codes)
        if ncls == 0 or bins * ncls > _MAX_CLASS_BINS:
            return [[] for _ in filled]
        table = np.bincount(cell * ncls + self.data.cls[lo:hi], minlength=bins * ncls)
        per_cell = table.reshape(bins, ncls)[filled]
        top = np.argsort(-per_cell, axis=1, kind="stable")[:, :TOP_CLASSES]
        codes = self.tables.class_codes
        out: list[list[tuple[str, int]]] = []
        for row, picks in zip(per_cell.tolist(), top.tolist(), strict=True):
            out.append([(codes[k], row[k]) for k in picks if row[k] > 0])
        return out

    def near(
        self, lon: float, lat: float, radius_m: float, where: Where, *, limit: int = 10
    ) -> Points:
        """The components within ``radius_m`` of a point that pass ``where``, nearest first."""
        cos_lat = max(math.cos(math.radians(lat)), 1e-6)
        dlon = radius_m / (_M_PER_DEG * cos_lat)
        dlat = radius_m / _M_PER_DEG
        # The zoom whose tiles are at least as wide as the circle: it overlaps at most 3×3 tiles.
        z = int(np.clip(math.floor(math.log2(360.0 / max(2 * dlon, 1e-12))), 0, INDEX_ZOOM))
        tx, ty = tile_units(
            np.array([lon - dlon, lon + dlon]), np.array([lat + dlat, lat - dlat]), z
        )
        top = (1 << z) - 1
        x0, x1 = (int(np.clip(np.floor(v), 0, top)) for v in tx)
        y0, y1 = (int(np.clip(np.floor(v), 0, top)) for v in ty)
        found: list[NDArray[Any]] = []
        d = self.data
        for tile_y in range(y0, y1 + 1):
            for tile_x in range(x0, x1 + 1):
                lo, hi = self.span(z, tile_x, tile_y)
                if hi == lo:
                    continue
                mask = where.mask(d, lo, hi)
                picked = np.arange(lo, hi) if mask is None else lo + np.flatnonzero(mask)
                found.append(picked)
        if not found:
            return self._points(np.empty(0, dtype=np.intp), np.empty(0))
        candidates = np.concatenate(found)
        dx = (d.x[candidates] - lon) * _M_PER_DEG * cos_lat
        dy = (d.y[candidates] - lat) * _M_PER_DEG
        distance = np.hypot(dx, dy)
        inside = distance <= radius_m
        candidates, distance = candidates[inside], distance[inside]
        order = np.lexsort((d.ids[candidates], distance))[:limit]
        return self._points(candidates[order], distance[order])


class ComponentMaps:
    """This process's component indexes, one per display coordinate system."""

    def __init__(self) -> None:
        self._items: dict[str, ComponentIndex] = {}
        self.lock = threading.Lock()  # held while building or patching, so only one does

    def get(self, key: str) -> ComponentIndex | None:
        """The index for ``key``, as last built (possibly stale: compare its ``seq``)."""
        return self._items.get(key)

    def put(self, key: str, index: ComponentIndex) -> None:
        """Replace the index for ``key`` (readers holding the old one keep it)."""
        self._items[key] = index

    def clear(self) -> None:
        """Forget every index (the next request builds afresh)."""
        self._items.clear()
