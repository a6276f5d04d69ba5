"""In-process index of component anchors for the map: tiles, clusters and the nearest ones.

Pure numpy (decision 0011). Every component's anchor point gets a Morton code at Web-Mercator
zoom ``INDEX_ZOOM`` (the quadkey of its z26 tile, 52 bits; ``component_tiling.py`` computes
it and turns database rows into columns); the rows are kept sorted by that
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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcity.adapters.component_tiling import (
    F64,
    I64,
    INDEX_ZOOM,
    STATE_CODE,
    STATES,
    Columns,
    Mask,
    Rows,
    Tables,
    encode,
    tile_span,
    tile_units,
    unpack_digits,
)
from gridcity.domain.access import Scope

TOP_CLASSES = 3  # classes named per cluster
_MAX_CLASS_BINS = 1 << 20  # cells × classes above this: no class breakdown (memory, time)
_M_PER_DEG = 111_320.0

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


def _run_counts(values: NDArray[Any], runs: list[tuple[int, int]], size: int) -> I64:
    """How often each value 0…size-1 occurs in each run [a, b) of ``values`` (one row a run)."""
    if len(runs) <= 64:  # few runs: one bincount each over its own stretch
        return np.array([np.bincount(values[a:b], minlength=size) for a, b in runs])
    run = np.repeat(np.arange(len(runs)), [b - a for a, b in runs])
    start = runs[0][0]
    table = np.bincount(run * size + values[start : runs[-1][1]], minlength=len(runs) * size)
    counts: I64 = table.reshape(len(runs), size)
    return counts


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
        cls,
        rows: Rows,
        seq: int,
        class_codes: Mapping[int, str],
        display: Callable[[F64], F64] | None = None,
    ) -> ComponentIndex:
        """An index of ``rows``, read when the inventory's counter was ``seq``."""
        data, tables = encode(rows, Tables(), class_codes, display)
        return cls(data, tables, seq)

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
        self,
        rows: Rows,
        seq: int,
        class_codes: Mapping[int, str],
        display: Callable[[F64], F64] | None = None,
    ) -> ComponentIndex:
        """A new index where ``rows`` (written since this one was built, read when the counter
        was ``seq``) replace the entries of their ids."""
        if len(rows) == 0:
            return ComponentIndex(self.data, self.tables, seq)
        new, tables = encode(rows, self.tables, class_codes, display)
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
        )
        return ComponentIndex(merged, tables, seq)

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
            identifiers=unpack_digits(d.identifiers[positions]),
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
        # Rows are in Morton order and a cell of the tile's grid is a Morton range too, so each
        # cell's rows are one run of the slice: two binary searches per cell find it, and the
        # sums are reductions over runs (no scattered writes; bincount with weights is 20×
        # slower on a million rows).
        d = self.data
        bits = max(0, min(cell_bits, INDEX_ZOOM - z))
        cells = 1 << (2 * bits)
        first, _end = tile_span(z, x, y)
        step = np.uint64(1 << (2 * (INDEX_ZOOM - z - bits)))
        edges = np.uint64(first) + np.arange(cells + 1, dtype=np.uint64) * step
        bounds = np.searchsorted(d.codes[lo:hi], edges)
        sizes = np.diff(bounds)
        occupied = np.flatnonzero(sizes)
        starts = bounds[occupied]
        xs, ys = d.x[lo:hi], d.y[lo:hi]
        nstates, ncls = len(STATES), len(self.tables.class_codes)
        if mask is None:
            count = sizes[occupied].astype(np.int64)
            state, cls = d.state[lo:hi], d.cls[lo:hi]
        else:
            count = np.add.reduceat(mask.view(np.int8), starts, dtype=np.int64)
            xs, ys = np.where(mask, xs, 0.0), np.where(mask, ys, 0.0)
            # Rows filtered out count in an extra state and class, dropped below.
            state = np.where(mask, d.state[lo:hi], np.uint8(nstates))
            cls = np.where(mask, d.cls[lo:hi], np.uint16(ncls))
        if len(occupied) == 0:
            empty = np.empty(0, dtype=np.int64)
            no_states = np.empty((0, nstates), dtype=np.int64)
            return Clusters(empty, np.empty(0), np.empty(0), empty, no_states, [])
        sum_x = np.add.reduceat(xs, starts)
        sum_y = np.add.reduceat(ys, starts)
        runs = list(zip(starts.tolist(), (starts + sizes[occupied]).tolist(), strict=True))
        by_state = _run_counts(state, runs, nstates + 1)[:, :nstates]
        keep = count > 0
        by_class = (
            _run_counts(cls, runs, ncls + 1)[keep, :ncls]
            if ncls and len(runs) * (ncls + 1) <= _MAX_CLASS_BINS
            else None
        )
        return Clusters(
            count=count[keep],
            x=sum_x[keep] / count[keep],
            y=sum_y[keep] / count[keep],
            cell=occupied[keep].astype(np.int64),
            states=by_state[keep].astype(np.int64),
            classes=self._top_classes(by_class, int(keep.sum())),
        )

    def _top_classes(self, by_class: I64 | None, n: int) -> list[list[tuple[str, int]]]:
        """The most frequent classes of each cluster, with their counts."""
        if by_class is None:
            return [[] for _ in range(n)]
        top = np.argsort(-by_class, axis=1, kind="stable")[:, :TOP_CLASSES]
        codes = self.tables.class_codes
        out: list[list[tuple[str, int]]] = []
        for row, picks in zip(by_class.tolist(), top.tolist(), strict=True):
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
        # Seconds the last full build of each index took (rows read, encoded, sorted).
        self.build_seconds: dict[str, float] = {}

    def get(self, key: str) -> ComponentIndex | None:
        """The index for ``key``, as last built (possibly stale: compare its ``seq``)."""
        return self._items.get(key)

    def put(self, key: str, index: ComponentIndex) -> None:
        """Replace the index for ``key`` (readers holding the old one keep it)."""
        self._items[key] = index

    def clear(self) -> None:
        """Forget every index (the next request builds afresh)."""
        self._items.clear()
        self.build_seconds.clear()
