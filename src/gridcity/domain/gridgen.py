"""Unit grid generation (单元网格划分): cut a community into cells of about a target area.

Everything is in projected metres. Road/river lines first cut the community into pieces; each
piece gets a lattice of ~target cells aligned to its minimum rotated rectangle and stretched to
fill it. The community boundary, the lines and every piece's lattice lines are noded and
polygonized in one GEOS call, so neighbouring cells share the very same vertices (no gap, no
overlap, across lines too). Cells smaller than ``MIN_SHARE`` × target merge into a neighbour
(``grid_merge``), keeping under ``MAX_SHARE`` × target. Cells are numbered west→east within a
row and rows north→south (standards §1.1); see ``reading_order`` for how rows are found.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NoReturn

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gridcity.domain.divisions import DivisionLevel, validate_code
from gridcity.domain.errors import InvalidInput
from gridcity.domain.grid_merge import Geoms, merge_small, polygons
from gridcity.domain.grids import MAX_SEQUENCE, grid_code
from gridcity.domain.tiling import Area

DEFAULT_TARGET_AREA_M2 = 10_000.0
MIN_SHARE = 0.3  # a cell smaller than this share of the target merges into a neighbour
MAX_SHARE = 3.0  # ... but never grows beyond this share, unless no neighbour can take it
_REGRID_DEPTH = 2  # an oversized cell is gridded again at most this many times
_STUB_M = 0.01  # how far cut lattice lines are pushed past their piece's boundary
_ASPECT_WEIGHT = 0.5  # lattice choice: how much squareness counts against area fit


@dataclass(frozen=True)
class GridCell:
    """One generated unit grid: its 15-digit code, sequence and geometry in metres."""

    code: str
    sequence: int
    geometry: Area

    @property
    def community_code(self) -> str:
        """The 12-digit community the grid belongs to."""
        return self.code[:12]

    @property
    def area_m2(self) -> float:
        """Planar area in the projected CRS, in m²."""
        return float(self.geometry.area)


def generate_grids(
    community_code: str,
    area: BaseGeometry,
    *,
    target_area_m2: float = DEFAULT_TARGET_AREA_M2,
    lines: BaseGeometry | None = None,
    rotate: bool = True,
) -> list[GridCell]:
    """The unit grids of one community (projected metres), numbered west→east, north→south."""
    validate_code(community_code, DivisionLevel.COMMUNITY)
    target = checked_target(target_area_m2)
    community = _checked_community(community_code, area)
    if community.area > MAX_SEQUENCE * MAX_SHARE * target:
        _refuse_too_many(community_code, math.ceil(community.area / (MAX_SHARE * target)))
    cells = divide(community, target, lines, rotate=rotate)
    if len(cells) > MAX_SEQUENCE:
        _refuse_too_many(community_code, len(cells))
    order = reading_order(cells, row_height=math.sqrt(target))
    return [
        GridCell(grid_code(community_code, number), number, cells[index])
        for number, index in enumerate(order, 1)
    ]


def generate_all(
    communities: Sequence[tuple[str, BaseGeometry]],
    *,
    target_area_m2: float = DEFAULT_TARGET_AREA_M2,
    lines: BaseGeometry | None = None,
    advance: Callable[[int], None] | None = None,
) -> list[GridCell]:
    """The unit grids of many communities; each community only sees the lines that reach it."""
    line_parts = _linework(lines)
    tree = shapely.STRtree(line_parts)
    cells: list[GridCell] = []
    for code, area in communities:
        near = line_parts[tree.query(area)] if len(line_parts) else line_parts
        nearby = shapely.geometrycollections(near) if len(near) else None
        cells.extend(generate_grids(code, area, target_area_m2=target_area_m2, lines=nearby))
        if advance is not None:
            advance(1)
    return cells


def checked_target(target_area_m2: float) -> float:
    """The target area when it is a positive, finite number of m², else a refusal."""
    if not (math.isfinite(target_area_m2) and target_area_m2 > 0):
        raise InvalidInput(
            "grid_target_area",
            "The target area must be a positive number of square metres, got %(value)s",
            value=target_area_m2,
        )
    return float(target_area_m2)


def _checked_community(code: str, area: BaseGeometry) -> Area:
    """The community boundary when it is a valid, non-empty (Multi)Polygon, else a refusal."""
    if not isinstance(area, Polygon | MultiPolygon) or area.is_empty:
        raise InvalidInput(
            "grid_community_geometry",
            "The boundary of community %(code)s must be a non-empty Polygon or MultiPolygon, got %(t)s",
            code=code,
            t=area.geom_type,
        )
    if not area.is_valid:
        raise InvalidInput(
            "grid_community_invalid",
            "The boundary of community %(code)s is not a valid polygon: %(why)s",
            code=code,
            why=shapely.is_valid_reason(area),
        )
    return area


def _refuse_too_many(code: str, count: int) -> NoReturn:
    """Refuse a division that needs more sequence numbers than a code can hold."""
    raise InvalidInput(
        "grid_too_many",
        "Community %(code)s would need %(n)s unit grids, more than %(max)s: choose a larger target area",
        code=code,
        n=count,
        max=MAX_SEQUENCE,
    )


# --- pieces: the community split by lines ---------------------------------------------------


def _linework(lines: BaseGeometry | None) -> Geoms:
    """The line parts of a geometry (polygons count by their boundary), as an array."""
    if lines is None or lines.is_empty:
        return np.empty(0, dtype=object)
    parts = _explode(np.asarray([lines], dtype=object))
    polygonal = shapely.get_type_id(parts) == 3
    parts[polygonal] = shapely.boundary(parts[polygonal])
    parts = _explode(parts)
    keep = np.isin(shapely.get_type_id(parts), (1, 2)) & ~shapely.is_empty(parts)
    return np.asarray(parts[keep], dtype=object)


def _explode(geoms: Geoms) -> Geoms:
    """Single-part geometries: multi-parts and collections taken apart, however nested."""
    while np.isin(shapely.get_type_id(geoms), (4, 5, 6, 7)).any():
        geoms = shapely.get_parts(geoms)
    return np.asarray(geoms, dtype=object)


def _crossing_lines(area: Area, lines: BaseGeometry | None) -> list[BaseGeometry]:
    """The line parts that reach the area, cut to a little more than its bounding box."""
    line_parts = _linework(lines)
    if not len(line_parts):
        return []
    min_x, min_y, max_x, max_y = area.bounds
    clipped = shapely.clip_by_rect(line_parts, min_x - 1, min_y - 1, max_x + 1, max_y + 1)
    return list(clipped[shapely.intersects(clipped, area)])


def _faces_inside(area: BaseGeometry, linework: Sequence[BaseGeometry]) -> Geoms:
    """The faces of the noded linework that lie inside the area (holes and outside dropped)."""
    noded = shapely.union_all(np.asarray(linework, dtype=object))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = polygons(faces)
    if not len(faces):
        return faces
    shapely.prepare(area)
    inner = shapely.point_on_surface(faces)
    keep = shapely.contains_xy(area, shapely.get_x(inner), shapely.get_y(inner))
    return np.asarray(faces[keep], dtype=object)


# --- cells: a lattice over each piece --------------------------------------------------------


def divide(
    area: Area,
    target: float,
    lines: BaseGeometry | None = None,
    *,
    rotate: bool = True,
    depth: int = 0,
) -> list[Area]:
    """Cells of about ``target`` m² that tile the area exactly, with the lines as edges.

    The lines cut the area into pieces; each piece large enough for two cells gets its own
    lattice, cut to the piece. Boundary, lines and lattices are noded and polygonized together,
    so every cell shares identical vertices with its neighbours, across lines too.
    """
    roads = _crossing_lines(area, lines)
    boundary = shapely.boundary(area)
    pieces = _faces_inside(area, [boundary, *roads]) if roads else polygons(shapely.get_parts(area))
    lattice = [
        segment
        for piece in pieces
        if piece.area >= 2 * MIN_SHARE * target
        for segment in _lattice_in(piece, target, rotate=rotate)
    ]
    faces = _faces_inside(area, [boundary, *roads, *lattice]) if lattice else pieces
    merged = merge_small(faces, MIN_SHARE * target, MAX_SHARE * target, _piece_of(faces, pieces))
    cells: list[Area] = []
    for index, cell in enumerate(merged.cells):
        if index in merged.oversized and depth < _REGRID_DEPTH:
            cells.extend(divide(cell, target, lines, rotate=rotate, depth=depth + 1))
        else:
            cells.append(cell)
    return cells


def _lattice_in(piece: Area, target: float, *, rotate: bool) -> list[BaseGeometry]:
    """The piece's lattice lines cut to the piece, each end pushed 1 cm past its boundary.

    The cut ends lie within rounding of the boundary, not on it; pushed through, they node with
    it for sure. The stubs left outside the piece are dangles, which polygonize ignores.
    """
    lattice = np.asarray(lattice_lines(piece, target, rotate=rotate), dtype=object)
    if not len(lattice):
        return []
    segments = _explode(shapely.intersection(lattice, piece))
    segments = segments[shapely.get_type_id(segments) == 1]
    return list(_extended(segments, _STUB_M)) if len(segments) else []


def _extended(lines: Geoms, by: float) -> Geoms:
    """Line strings made longer by ``by`` metres at both ends (along their end segments)."""
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    first = np.concatenate([[0], np.flatnonzero(np.diff(owner)) + 1])
    last = np.concatenate([first[1:] - 1, [len(owner) - 1]])
    for end, inner in ((first, first + 1), (last, last - 1)):
        outward = xy[end] - xy[inner]
        length = np.maximum(np.hypot(outward[:, 0], outward[:, 1]), 1e-12)
        xy[end] += outward / length[:, None] * by
    return np.asarray(shapely.linestrings(xy, indices=owner), dtype=object)


def _piece_of(faces: Geoms, pieces: Geoms) -> NDArray[np.intp]:
    """For each face, the index of the piece that holds it (-1 if none)."""
    found = np.full(len(faces), -1, dtype=np.intp)
    if len(faces) and len(pieces):
        tree = shapely.STRtree(pieces)
        face, piece = tree.query(shapely.point_on_surface(faces), predicate="within")
        found[face] = piece
    return found


def lattice_lines(piece: Area, target: float, *, rotate: bool = True) -> list[LineString]:
    """The interior lines of a lattice of ~target cells over the piece's (rotated) bounding box."""
    angle = _lattice_angle(piece) if rotate else 0.0
    cos, sin = math.cos(angle), math.sin(angle)
    origin = shapely.centroid(piece)
    ox, oy = origin.x, origin.y
    xy = shapely.get_coordinates(piece)
    u = (xy[:, 0] - ox) * cos + (xy[:, 1] - oy) * sin
    v = -(xy[:, 0] - ox) * sin + (xy[:, 1] - oy) * cos
    u0, u1, v0, v1 = u.min(), u.max(), v.min(), v.max()
    nx, ny = lattice_counts(u1 - u0, v1 - v0, target)
    margin = 1.0 + 0.01 * max(u1 - u0, v1 - v0)
    us = u0 + (u1 - u0) * np.arange(1, nx) / nx
    vs = v0 + (v1 - v0) * np.arange(1, ny) / ny
    # Segments in (u, v): vertical ones at each us, horizontal ones at each vs.
    starts = np.concatenate(
        [
            np.column_stack([us, np.full(us.size, v0 - margin)]),
            np.column_stack([np.full(vs.size, u0 - margin), vs]),
        ]
    )
    ends = np.concatenate(
        [
            np.column_stack([us, np.full(us.size, v1 + margin)]),
            np.column_stack([np.full(vs.size, u1 + margin), vs]),
        ]
    )

    def to_xy(uv: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack(
            [ox + uv[:, 0] * cos - uv[:, 1] * sin, oy + uv[:, 0] * sin + uv[:, 1] * cos]
        )

    segments = np.stack([to_xy(starts), to_xy(ends)], axis=1)
    return list(shapely.linestrings(segments))


def lattice_counts(width: float, height: float, target: float) -> tuple[int, int]:
    """Columns and rows whose cells come closest to ``target`` m² and to a square."""
    side = math.sqrt(target)
    nx = np.arange(1, max(2, math.ceil(width / side) + 2))
    ny = np.arange(1, max(2, math.ceil(height / side) + 2))
    cw, ch = width / nx[:, None], height / ny[None, :]
    cost = np.abs(np.log(cw * ch / target)) + _ASPECT_WEIGHT * np.abs(np.log(cw / ch))
    i, j = np.unravel_index(int(np.argmin(cost)), cost.shape)
    return int(nx[i]), int(ny[j])


def _lattice_angle(piece: Area) -> float:
    """The angle (radians, within ±45°) of the piece's minimum rotated rectangle, taken from
    the piece's own hull edge along it when there is one (the envelope is computed inexactly)."""
    envelope = shapely.oriented_envelope(piece)
    if not isinstance(envelope, Polygon):
        return 0.0
    (x0, y0), (x1, y1) = envelope.exterior.coords[:2]
    angle = _within_45(math.atan2(y1 - y0, x1 - x0))
    hull = shapely.get_coordinates(shapely.convex_hull(piece))
    dx, dy = np.diff(hull[:, 0]), np.diff(hull[:, 1])
    if not dx.size:
        return angle
    edges = np.array([_within_45(a) for a in np.arctan2(dy, dx).tolist()])
    close = np.abs(edges - angle) < math.radians(0.1)
    if not close.any():
        return angle
    longest = np.argmax(np.where(close, np.hypot(dx, dy), -1.0))
    return float(edges[longest])


def _within_45(angle: float) -> float:
    """The same lattice direction as ``angle``, expressed within ±45°."""
    quarter = math.pi / 2
    return angle - quarter * round(angle / quarter)


# --- numbering ------------------------------------------------------------------------------


def reading_order(cells: Iterable[Area], *, row_height: float) -> list[int]:
    """Indices of cells in reading order: rows north→south, west→east within a row.

    Cells are taken by their representative point, northernmost first; a row starts at the
    first cell not yet placed and holds every cell less than ``row_height``/2 south of it, so
    each row lies wholly south of the rows before it. Within a row, cells go west→east (the
    northern one first when two share an x).
    """
    points = shapely.point_on_surface(np.asarray(list(cells), dtype=object))
    x, y = shapely.get_x(points), shapely.get_y(points)
    by_latitude = np.lexsort((x, -y))
    rows = np.empty(len(by_latitude), dtype=np.int64)
    row, anchor = -1, math.inf
    for rank, index in enumerate(by_latitude.tolist()):
        if y[index] <= anchor - row_height / 2:
            row, anchor = row + 1, float(y[index])
        rows[rank] = row
    return [int(by_latitude[k]) for k in np.lexsort((x[by_latitude], rows))]
