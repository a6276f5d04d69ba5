"""The bucket-raster point locator answers exactly what a brute-force covers-test answers, and
its cache rebuilds when the version counter moves."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from gridcity.adapters.spatial_index import PolygonLocator, SpatialCache


def brute_force(polygons: list[shapely.Geometry] | np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Lowest index of the polygons covering each point (edges included), -1 where none."""
    polys = np.asarray(polygons, dtype=object)
    answer = np.full(len(xy), -1, dtype=np.int64)
    points = shapely.points(xy)
    for index in range(len(polys) - 1, -1, -1):
        answer[shapely.intersects(polys[index], points)] = index
    return answer


def voronoi_cells(count: int, seed: int, origin: tuple[float, float] = (116.3, 39.8)) -> np.ndarray:
    """An irregular tiling of a lon/lat square into about ``count`` cells of ~100 m."""
    rng = np.random.default_rng(seed)
    side = np.sqrt(count) * 0.0012
    x0, y0 = origin
    seeds = np.column_stack((x0 + rng.random(count) * side, y0 + rng.random(count) * side))
    frame = box(x0, y0, x0 + side, y0 + side)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame))
    return shapely.intersection(cells, frame)


def test_random_points_in_an_irregular_tiling_match_the_brute_force_answer() -> None:
    cells = voronoi_cells(400, seed=3)
    x0, y0, x1, y1 = shapely.total_bounds(cells)
    rng = np.random.default_rng(4)
    # A margin around the tiling, so that some points fall outside every cell.
    xy = np.column_stack(
        (rng.uniform(x0 - 0.002, x1 + 0.002, 20_000), rng.uniform(y0 - 0.002, y1 + 0.002, 20_000))
    )

    found = PolygonLocator(cells).locate(xy)

    assert np.array_equal(found, brute_force(cells, xy))
    assert (found == -1).any() and (found >= 0).mean() > 0.6


def test_points_on_cell_vertices_and_edges_go_to_the_lowest_index_every_time() -> None:
    cells = voronoi_cells(60, seed=5)
    vertices = shapely.get_coordinates(cells)
    rings = shapely.get_coordinates(shapely.boundary(cells))
    midpoints = (rings[:-1] + rings[1:]) / 2.0
    xy = np.vstack((vertices, midpoints))
    locator = PolygonLocator(cells)

    found = locator.locate(xy)
    again = locator.locate(xy[::-1])[::-1]

    assert np.array_equal(found, brute_force(cells, xy))
    assert np.array_equal(found, again)


@pytest.mark.parametrize("cell", [1.0, 0.001, 0.1 / 3])
def test_edges_that_fall_exactly_on_bucket_lines_are_still_exact(cell: float) -> None:
    # A regular 10 × 10 grid, whose edges can coincide with the raster's own bucket lines,
    # probed on a lattice four times finer: every edge, vertex and interior position.
    corners = np.arange(10) * cell
    xmin, ymin = np.repeat(corners, 10), np.tile(corners, 10)
    cells = shapely.box(xmin, ymin, xmin + cell, ymin + cell)[
        np.random.default_rng(1).permutation(100)
    ]
    lattice = np.arange(-2, 43) * cell / 4
    xy = np.column_stack((np.repeat(lattice, lattice.size), np.tile(lattice, lattice.size)))

    assert np.array_equal(PolygonLocator(cells).locate(xy), brute_force(cells, xy))


def test_holes_multipolygons_and_overlaps_are_answered_exactly() -> None:
    ring = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(3, 3), (7, 3), (7, 7), (3, 7)]])
    islands = MultiPolygon([box(20, 0, 22, 2), box(24, 0, 26, 2)])
    inner = box(4, 4, 6, 6)  # sits inside the hole of ``ring``
    overlapping = box(8, 8, 21, 9)  # overlaps ``ring`` and lies between the islands
    polygons = [ring, islands, inner, overlapping]
    xy = np.array(
        [[1, 1], [3.5, 3.5], [5, 5], [21, 1], [23, 1], [25, 1], [9, 8.5], [15, 8.5], [30, 30]],
        dtype=float,
    )

    found = PolygonLocator(polygons).locate(xy)

    assert found.tolist() == [0, -1, 2, 1, -1, 1, 0, 3, -1]
    assert np.array_equal(found, brute_force(polygons, xy))


def test_most_buckets_are_answered_without_a_geometric_test() -> None:
    locator = PolygonLocator(voronoi_cells(2_000, seed=7))

    labels = locator._labels  # the raster: polygon index, -1 outside, -2 needs the exact test

    assert (labels == -2).mean() < 0.5
    assert (labels >= 0).mean() > 0.5


def test_no_polygons_and_no_points_give_empty_answers() -> None:
    assert PolygonLocator([]).locate(np.array([[116.4, 39.9]])).tolist() == [-1]
    assert PolygonLocator(voronoi_cells(10, seed=1)).locate(np.zeros((0, 2))).tolist() == []


@settings(max_examples=40, deadline=None)
@given(
    columns=st.integers(1, 6),
    rows=st.integers(1, 6),
    jitter=st.floats(0.0, 0.3),
    seed=st.integers(0, 2**16),
)
def test_a_jittered_quad_mesh_matches_brute_force_on_its_own_edges(
    columns: int, rows: int, jitter: float, seed: int
) -> None:
    # Quadrilaterals of a jittered lattice (irregular, sharing every edge), probed at their
    # vertices, on their edges and inside.
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(columns + 1.0), np.arange(rows + 1.0), indexing="ij")
    gx += rng.uniform(-jitter, jitter, gx.shape) * ((gx > 0) & (gx < columns))
    gy += rng.uniform(-jitter, jitter, gy.shape) * ((gy > 0) & (gy < rows))
    quads = [
        Polygon(
            [
                (gx[i, j], gy[i, j]),
                (gx[i + 1, j], gy[i + 1, j]),
                (gx[i + 1, j + 1], gy[i + 1, j + 1]),
                (gx[i, j + 1], gy[i, j + 1]),
            ]
        )
        for i in range(columns)
        for j in range(rows)
    ]
    edges = shapely.get_coordinates(shapely.boundary(quads))
    t = rng.random((len(edges) - 1, 1))
    on_edges = edges[:-1] + t * (edges[1:] - edges[:-1])
    inside = np.column_stack((rng.uniform(-1, columns + 1, 300), rng.uniform(-1, rows + 1, 300)))
    xy = np.vstack((edges, on_edges, inside))

    assert np.array_equal(PolygonLocator(quads).locate(xy), brute_force(quads, xy))


# --- the per-process cache ----------------------------------------------------------------


def test_the_cache_builds_once_per_version_and_rebuilds_when_it_moves() -> None:
    cache = SpatialCache()
    builds: list[int] = []

    def build() -> int:
        builds.append(1)
        return len(builds)

    assert cache.get("grids", 3, build) == 1
    assert cache.get("grids", 3, build) == 1
    assert cache.get("grids", 4, build) == 2
    assert len(builds) == 2


def test_the_cache_forgets_the_least_recently_used_entry_beyond_its_capacity() -> None:
    cache = SpatialCache(capacity=2)
    cache.get("a", 0, lambda: "a1")
    cache.get("b", 0, lambda: "b1")
    cache.get("a", 0, lambda: "a2")  # touches a
    cache.get("c", 0, lambda: "c1")  # evicts b

    assert cache.get("a", 0, lambda: "a3") == "a1"
    assert cache.get("b", 0, lambda: "b2") == "b2"
