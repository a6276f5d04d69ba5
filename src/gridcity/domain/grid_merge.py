"""Merging cells that are too small into a neighbour (unit grid generation, ``gridgen``).

Works on a coverage: polygons that share edges with identical vertices, as one polygonize
call makes them. Only arrays and a union-find over shared edge lengths; the geometry of a
merged cell is built once, at the end.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from gridcity.domain.tiling import Area

Geoms: TypeAlias = NDArray[np.object_]


def polygons(geoms: Geoms) -> Geoms:
    """Only the non-empty polygons with an area (lines and points of overlays dropped)."""
    keep = (shapely.get_type_id(geoms) == 3) & (shapely.area(geoms) > 0)
    return np.asarray(geoms[keep], dtype=object)


@dataclass(frozen=True)
class Merged:
    """Cells after merging, and the indices of those that grew beyond the maximum."""

    cells: list[Area]
    oversized: frozenset[int]


def merge_small(
    polys: Geoms, min_area: float, max_area: float, groups: NDArray[np.intp] | None = None
) -> Merged:
    """Join every polygon under ``min_area`` to the neighbour it shares the longest edge with.

    Polygons must form a coverage (shared edges with identical vertices, as polygonize makes
    them). Preferred, in turn: a neighbour of the same group (piece between lines) that stays
    under ``max_area``, one of another group that does, then the same group, then any. A
    polygon with no edge neighbour (a separate part) stays as it is.
    """
    areas = shapely.area(polys)
    small = np.flatnonzero(areas < min_area)
    if len(polys) < 2 or not small.size:
        return Merged(list(polys), frozenset(np.flatnonzero(areas > max_area).tolist()))
    adjacency = _shared_edges(polys, small)
    parent = list(range(len(polys)))
    total = areas.tolist()
    group_of = (groups if groups is not None else np.zeros(len(polys), dtype=np.intp)).tolist()

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    queue = [(total[i], int(i)) for i in small]
    heapq.heapify(queue)
    while queue:
        _, group = heapq.heappop(queue)
        if parent[group] != group or total[group] >= min_area:
            continue
        neighbours = _neighbours_of(group, adjacency, find)
        if not neighbours:
            continue
        into = _best_neighbour(neighbours, total, group_of, group, max_area)
        parent[group] = into
        total[into] += total[group]
        joined = adjacency.setdefault(into, {})
        for other, length in adjacency.pop(group, {}).items():
            joined[other] = joined.get(other, 0.0) + length
        if total[into] < min_area:
            heapq.heappush(queue, (total[into], into))
    return _unite(polys, [find(i) for i in range(len(polys))], total, max_area)


def _shared_edges(polys: Geoms, small: NDArray[np.intp]) -> dict[int, dict[int, float]]:
    """Length of boundary each small polygon shares with each of its neighbours (both ways)."""
    tree = shapely.STRtree(polys)
    left, right = tree.query(polys[small], predicate="intersects")
    a, b = small[left], right
    keep = a != b
    a, b = a[keep], b[keep]
    boundaries = shapely.boundary(polys)
    lengths = shapely.length(shapely.intersection(boundaries[a], boundaries[b]))
    adjacency: dict[int, dict[int, float]] = {}
    for i, j, length in zip(a.tolist(), b.tolist(), lengths.tolist(), strict=True):
        if length > 0:
            adjacency.setdefault(i, {})[j] = length
            adjacency.setdefault(j, {})[i] = length
    return adjacency


def _neighbours_of(
    group: int, adjacency: dict[int, dict[int, float]], find: Callable[[int], int]
) -> dict[int, float]:
    """Shared edge length of a group with each neighbouring group (by root)."""
    found: dict[int, float] = {}
    for other, length in adjacency.get(group, {}).items():
        root = find(other)
        if root != group:
            found[root] = found.get(root, 0.0) + length
    return found


def _best_neighbour(
    neighbours: dict[int, float],
    total: list[float],
    group_of: list[int],
    small: int,
    max_area: float,
) -> int:
    """The neighbour to join: same piece and under the maximum first, longest shared edge."""

    def rank(k: int) -> tuple[bool, bool, float, int]:
        fits = total[k] + total[small] <= max_area
        return (fits, group_of[k] == group_of[small], neighbours[k], -k)

    return max(neighbours, key=rank)


def _unite(polys: Geoms, roots: list[int], total: list[float], max_area: float) -> Merged:
    """One polygon per group (members united), in the order of their first member."""
    members: dict[int, list[int]] = {}
    for index, root in enumerate(roots):
        members.setdefault(root, []).append(index)
    cells: list[Area] = []
    oversized: set[int] = set()
    for root, group in members.items():
        if len(group) == 1:
            cells.append(polys[group[0]])
        else:
            cells.append(_as_area(shapely.union_all(polys[group])))
        if total[root] > max_area:
            oversized.add(len(cells) - 1)
    return Merged(cells, frozenset(oversized))


def _as_area(geom: BaseGeometry) -> Area:
    """The polygonal part of a union (a Polygon when it is in one piece)."""
    parts = polygons(shapely.get_parts(geom))
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(list(parts))
