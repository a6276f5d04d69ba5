"""In-process point → polygon location, vectorised, and the version counters that tell each
process when its index is stale.

``PolygonLocator`` lays a uniform raster of buckets over the polygons. At build time every
bucket that a polygon edge passes through is marked as a *boundary* bucket (exact supercover
of each edge: its end points, every crossing with a bucket line and the midpoints between
them); each run of other buckets along a raster row lies inside one region without any edge,
so one point-in-polygon test of the run's first bucket centre labels the whole run with a
polygon or with "outside". At query time a point's bucket is one array lookup; only points in
boundary buckets are tested exactly with shapely's STRtree. A point covered by several
polygons (a shared edge or vertex, or overlapping input) gets the lowest polygon index, in the
fast path and the exact path alike, so the answer is deterministic.

The counters live in the ``spatial_state`` table (one row per data set). Every write that
changes geometries bumps its counter in the same transaction; ``SpatialCache`` keeps built
indexes tagged with the counter they were built at and rebuilds when a reader sees another
value, so several worker processes stay correct with one cheap query per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import shapely
import sqlalchemy as sa
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import SpatialState

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
T = TypeVar("T")

# Raster density: buckets per polygon. More buckets → fewer points need the exact test, at the
# price of memory (4 bytes a bucket) and build time. 64 puts ~70 % of random points on the
# fast path for ~10,000 m² Voronoi-like cells.
BUCKETS_PER_POLYGON = 64
MAX_BUCKETS = 8_000_000
OUTSIDE = -1
_BOUNDARY = -2


@dataclass(frozen=True)
class _Raster:
    """Origin, bucket size and shape of the bucket raster."""

    x0: float
    y0: float
    inv_size: float
    nx: int
    ny: int

    @classmethod
    def around(cls, bounds: tuple[float, float, float, float], polygons: int) -> _Raster:
        """A raster over ``bounds`` with about ``BUCKETS_PER_POLYGON`` buckets per polygon."""
        x0, y0, x1, y1 = bounds
        width, height = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
        target = min(max(polygons * BUCKETS_PER_POLYGON, 1), MAX_BUCKETS)
        size = float(np.sqrt(width * height / target))
        size = max(size, width / 4096, height / 4096)  # keep a thin strip from exploding
        # floor(extent / size) + 1 so that the top and right edges fall inside the raster.
        nx = int(np.floor(width / size)) + 1
        ny = int(np.floor(height / size)) + 1
        return cls(x0=x0, y0=y0, inv_size=1.0 / size, nx=nx, ny=ny)

    def grid_xy(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Coordinates in bucket units (bucket i spans [i, i + 1))."""
        return (x - self.x0) * self.inv_size, (y - self.y0) * self.inv_size

    def bucket_of(self, x: FloatArray, y: FloatArray) -> IntArray:
        """Flat bucket index of each point, or -1 outside the raster."""
        gx, gy = self.grid_xy(x, y)
        ix = np.floor(gx)
        iy = np.floor(gy)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        flat = iy * self.nx + ix
        return np.where(inside, flat, -1).astype(np.int64)

    def centres(self, flat: IntArray) -> tuple[FloatArray, FloatArray]:
        """Centre coordinates of buckets given by flat index."""
        size = 1.0 / self.inv_size
        iy, ix = np.divmod(flat, self.nx)
        return self.x0 + (ix + 0.5) * size, self.y0 + (iy + 0.5) * size


class PolygonLocator:
    """Finds, for many points at once, the index of the polygon that covers each point."""

    def __init__(self, polygons: Sequence[BaseGeometry] | NDArray[np.object_]) -> None:
        self.polygons: NDArray[np.object_] = np.asarray(polygons, dtype=object)
        self.size = len(self.polygons)
        self._tree = shapely.STRtree(self.polygons)
        if self.size == 0:
            self._raster = _Raster(0.0, 0.0, 1.0, 1, 1)
            self._labels = np.full(1, OUTSIDE, dtype=np.int32)
            return
        x0, y0, x1, y1 = (float(b) for b in shapely.total_bounds(self.polygons))
        self._raster = _Raster.around((x0, y0, x1, y1), self.size)
        self._labels = self._label_buckets()

    # --- build ---------------------------------------------------------------------------

    def _label_buckets(self) -> NDArray[np.int32]:
        """Polygon index, ``OUTSIDE`` or ``_BOUNDARY`` for every bucket of the raster."""
        raster = self._raster
        labels = np.full(raster.nx * raster.ny, OUTSIDE, dtype=np.int32)
        touched = raster.bucket_of(*_edge_samples(self.polygons, raster))
        boundary = np.zeros(labels.size, dtype=bool)
        boundary[touched[touched >= 0]] = True
        labels[boundary] = _BOUNDARY
        free = ~boundary
        # A run starts at a free bucket whose left neighbour is a boundary bucket or the row edge.
        column = np.arange(labels.size) % raster.nx
        previous_free = np.concatenate(([False], free[:-1])) & (column != 0)
        starts = np.flatnonzero(free & ~previous_free)
        if starts.size == 0:
            return labels
        run_of = np.cumsum(free & ~previous_free) - 1
        owner = self._lowest_covering(*raster.centres(starts))
        labels[free] = owner[run_of[free]]
        return labels

    # --- query ---------------------------------------------------------------------------

    def locate(self, xy: FloatArray) -> IntArray:
        """Polygon index for each row of an (n, 2) lon/lat array; ``OUTSIDE`` (-1) where none."""
        points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        x, y = points[:, 0], points[:, 1]
        bucket = self._raster.bucket_of(x, y)
        found = np.full(len(points), OUTSIDE, dtype=np.int64)
        inside = bucket >= 0
        found[inside] = self._labels[bucket[inside]]
        exact = np.flatnonzero(found == _BOUNDARY)
        if exact.size:
            found[exact] = self._lowest_covering(x[exact], y[exact])
        return found

    def _lowest_covering(self, x: FloatArray, y: FloatArray) -> IntArray:
        """Lowest index of the polygons covering each point (edges included), or ``OUTSIDE``."""
        result = np.full(len(x), self.size, dtype=np.int64)
        if self.size and len(x):
            point_idx, poly_idx = self._tree.query(shapely.points(x, y), predicate="intersects")
            np.minimum.at(result, point_idx, poly_idx)
        result[result == self.size] = OUTSIDE
        return result


def _edge_samples(polygons: NDArray[np.object_], raster: _Raster) -> tuple[FloatArray, FloatArray]:
    """Points along every polygon edge, at least one in each bucket that the edge passes through."""
    # The vertices, each crossing with a bucket line, and the midpoints between crossings: a
    # midpoint lies strictly inside the bucket between two crossings, so none is skipped.
    parts = shapely.get_parts(polygons)
    rings = shapely.get_rings(parts)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[:-1] == ring[1:]
    start, end = coords[:-1][same], coords[1:][same]
    gx0, gy0 = raster.grid_xy(start[:, 0], start[:, 1])
    gx1, gy1 = raster.grid_xy(end[:, 0], end[:, 1])
    seg_x, t_x = _line_crossings(gx0, gx1)
    seg_y, t_y = _line_crossings(gy0, gy1)
    count = len(start)
    segment = np.concatenate((seg_x, seg_y, np.arange(count), np.arange(count)))
    t = np.concatenate((t_x, t_y, np.zeros(count), np.ones(count)))
    order = np.lexsort((t, segment))
    segment, t = segment[order], t[order]
    pair = segment[:-1] == segment[1:]
    mid_segment = segment[:-1][pair]
    mid_t = (t[:-1][pair] + t[1:][pair]) / 2.0
    crossing = np.concatenate((seg_x, seg_y))
    crossing_t = np.concatenate((t_x, t_y))
    sample_segment = np.concatenate((crossing, mid_segment))
    sample_t = np.concatenate((crossing_t, mid_t))
    delta = end - start
    sx = start[sample_segment, 0] + sample_t * delta[sample_segment, 0]
    sy = start[sample_segment, 1] + sample_t * delta[sample_segment, 1]
    # The vertices themselves, exactly as stored (no interpolation error).
    return np.concatenate((sx, coords[:, 0])), np.concatenate((sy, coords[:, 1]))


def _line_crossings(g0: FloatArray, g1: FloatArray) -> tuple[IntArray, FloatArray]:
    """Segment index and parameter t of every crossing of a segment g0→g1 with an integer line."""
    f0, f1 = np.floor(g0), np.floor(g1)
    counts = np.abs(f1 - f0).astype(np.int64)
    segment = np.repeat(np.arange(len(g0)), counts)
    if segment.size == 0:
        return segment, np.zeros(0)
    first = np.cumsum(counts) - counts
    step = np.arange(segment.size) - np.repeat(first, counts)
    line = np.repeat(np.minimum(f0, f1), counts) + 1 + step
    t = (line - g0[segment]) / (g1 - g0)[segment]
    return segment, t


# --- version counters -------------------------------------------------------------------


def read_versions(session: Session) -> dict[str, int]:
    """Every spatial data set's counter (a missing row counts as 0)."""
    rows = session.execute(sa.select(SpatialState.name, SpatialState.version)).all()
    return {str(name): int(version) for name, version in rows}


def bump_version(session: Session, name: str, at: datetime) -> None:
    """Add one to a data set's counter inside the caller's transaction (row made if missing)."""
    updated = session.execute(
        sa.update(SpatialState)
        .where(SpatialState.name == name)
        .values(version=SpatialState.version + 1, changed_at=at)
    )
    if getattr(updated, "rowcount", 0) == 0:
        session.add(SpatialState(name=name, version=1, changed_at=at))


class SpatialCache:
    """Built indexes of this process, each tagged with the counter value it was built at."""

    # Each active layer needs one entry per validity period asked about; 8 layers × a few
    # periods must fit, or dated look-ups would rebuild on every request.
    def __init__(self, capacity: int = 64) -> None:
        self._capacity = capacity
        self._items: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: int, build: Callable[[], T]) -> T:
        """The value for ``key`` built at ``version``, building it (once) when missing or stale."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] == version:
                self._items.move_to_end(key)
                value: T = hit[1]
                return value
            # Building under the lock: concurrent requests wait for one build, not start several.
            value = build()
            self._items[key] = (version, value)
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
            return value

    def clear(self) -> None:
        """Forget every built index."""
        with self._lock:
            self._items.clear()
