"""Tilings of areas in projected metres: a synthetic outline, and exact Voronoi partitions.

Used to draw synthetic boundaries (the demo city; later, unit grids inside communities).
Cells are Voronoi cells of seed points clipped to their parent and relaxed a few rounds
towards their centroids (Lloyd), so they come out of similar size. Neighbouring cells share
the very same vertices, so the cells tile the parent with no gap and no overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import shapely
from numpy.random import Generator
from numpy.typing import NDArray
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

Area: TypeAlias = Polygon | MultiPolygon


def district_outline(
    rng: Generator, centre: tuple[float, float], area_m2: float, aspect: float = 1.0
) -> Polygon:
    """A smooth, irregular, star-shaped polygon of exactly ``area_m2`` around a projected centre."""
    theta = np.linspace(0.0, 2.0 * np.pi, 240, endpoint=False)
    # Radius of an ellipse (1 wide, ``aspect`` tall), wobbled by a few low-frequency waves.
    radius = aspect / np.sqrt((aspect * np.cos(theta)) ** 2 + np.sin(theta) ** 2)
    wobble = np.zeros_like(theta)
    for k in range(2, 9):
        phase = rng.uniform(0.0, 2.0 * np.pi)
        wobble += rng.uniform(0.02, 0.12) / k**0.6 * np.cos(k * theta + phase)
    radius = radius * np.exp(wobble)
    shape = Polygon(np.column_stack((radius * np.cos(theta), radius * np.sin(theta))))
    scale = float(np.sqrt(area_m2 / shape.area))
    xy = np.asarray(shape.exterior.coords)[:-1] * scale + np.asarray(centre)
    return Polygon(xy)


def random_points(parent: Area, count: int, rng: Generator) -> NDArray[np.float64]:
    """``count`` uniformly random points inside a polygon (rejection sampling)."""
    min_x, min_y, max_x, max_y = parent.bounds
    found: list[tuple[float, float]] = []
    while len(found) < count:
        x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if parent.contains(Point(x, y)):
            found.append((x, y))
    return np.asarray(found, dtype=np.float64)


def partition(parent: Area, seeds: NDArray[np.float64], *, relax: int = 3) -> list[Area]:
    """Split a polygon into one cell per seed that tiles it exactly (clipped, relaxed Voronoi)."""
    points = seeds
    for _ in range(relax):
        points = np.asarray([_inner_centre(c) for c in _clipped_voronoi(parent, points)])
    return whole_cells(_clipped_voronoi(parent, points))


def _clipped_voronoi(parent: Area, points: NDArray[np.float64]) -> list[BaseGeometry]:
    """Voronoi cells of the points (in their order), each cut to the parent."""
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=parent, ordered=True)
    return [shapely.intersection(cell, parent) for cell in shapely.get_parts(cells)]


def _inner_centre(cell: BaseGeometry) -> tuple[float, float]:
    """The centroid of a cell, or a point on its surface when the centroid falls outside."""
    centre = cell.centroid
    if not cell.contains(centre):
        centre = cell.representative_point()
    return centre.x, centre.y


def _polygons_of(geom: BaseGeometry) -> list[Polygon]:
    """The polygon parts of a clipping result, largest first (lines and points dropped)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and p.area > 0]
    return sorted(parts, key=lambda p: p.area, reverse=True)


def whole_cells(cells: Sequence[BaseGeometry]) -> list[Area]:
    """One area per cell: stray pieces of a cell join the neighbour they share most border with."""
    mains: list[Area] = [_polygons_of(c)[0] for c in cells]
    strays = [piece for c in cells for piece in _polygons_of(c)[1:]]
    for piece in strays:
        target = max(
            range(len(mains)),
            key=lambda i: (
                piece.boundary.intersection(mains[i].boundary).length,
                -piece.distance(mains[i]),
            ),
        )
        merged = _polygons_of(shapely.union(mains[target], piece))
        mains[target] = merged[0] if len(merged) == 1 else MultiPolygon(merged)
    return mains


def reading_order(cells: Sequence[Area], band_m: float = 600.0) -> list[int]:
    """Indices of cells sorted north to south in bands, then west to east (for code numbering)."""
    centres = [c.representative_point() for c in cells]
    return sorted(range(len(cells)), key=lambda i: (-round(centres[i].y / band_m), centres[i].x))
