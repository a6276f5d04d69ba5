"""Unit grid generation: exact cover, no crossing, size bounds, codes in reading order, lines."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import split

from gridcity.domain.errors import InvalidInput
from gridcity.domain.grid_merge import merge_small
from gridcity.domain.gridgen import (
    GridCell,
    generate_all,
    generate_grids,
    lattice_counts,
)
from gridcity.domain.grids import grid_code, validate_grid_code

CODE = "110101001001"
TARGET = 10_000.0
NOISE_M2 = 0.01
Area = Polygon | MultiPolygon
# Gauss-Krüger metres around Beijing: realistic magnitudes for floating-point behaviour.
X0, Y0 = 500_000.0, 4_420_000.0


# --- random communities --------------------------------------------------------------------


@st.composite
def communities(draw: st.DrawFn) -> BaseGeometry:
    """A random community of 0.05–1 km²: blobs (concave), maybe holes, maybe a separate part."""
    centre = st.tuples(st.floats(0, 700), st.floats(0, 700))
    blobs = draw(st.lists(st.tuples(centre, st.floats(60, 260)), min_size=1, max_size=5))
    area: BaseGeometry = shapely.union_all(
        [Point(X0 + x, Y0 + y).buffer(r, quad_segs=draw(st.integers(2, 6))) for (x, y), r in blobs]
    )
    for (x, y), r in draw(st.lists(st.tuples(centre, st.floats(8, 60)), max_size=3)):
        area = area.difference(Point(X0 + x, Y0 + y).buffer(r, quad_segs=3))
    if draw(st.booleans()):  # a separate part east of the rest, small or not
        side = draw(st.floats(25, 150))
        area = area.union(box(X0 + 1500, Y0, X0 + 1500 + side, Y0 + side * 1.3))
    assume(5e4 <= area.area <= 1e6 and area.is_valid)
    return area


@st.composite
def straight_lines(draw: st.DrawFn) -> MultiLineString:
    """One to three long straight roads across the area where communities are drawn."""
    count = draw(st.integers(1, 3))
    lines = []
    for _ in range(count):
        x, y = draw(st.floats(0, 700)), draw(st.floats(0, 700))
        angle = draw(st.floats(0, math.pi))
        dx, dy = 3000 * math.cos(angle), 3000 * math.sin(angle)
        lines.append(LineString([(X0 + x - dx, Y0 + y - dy), (X0 + x + dx, Y0 + y + dy)]))
    return MultiLineString(lines)


# --- what every generated division must satisfy ---------------------------------------------


def assert_exact_cover(community: BaseGeometry, cells: list[GridCell]) -> None:
    """The cells tile the community: same union, no overlap, nothing outside."""
    geoms = [c.geometry for c in cells]
    union = shapely.union_all(geoms)
    assert union.symmetric_difference(community).area <= NOISE_M2
    assert sum(g.area for g in geoms) - union.area <= NOISE_M2  # overlaps add area twice
    for cell in cells:
        assert cell.geometry.is_valid
        assert isinstance(cell.geometry, Polygon | MultiPolygon)
        assert cell.geometry.difference(community).area <= NOISE_M2


def assert_sizes(community: BaseGeometry, cells: list[GridCell], target: float = TARGET) -> None:
    """Every cell within 0.3–3 × target, unless it is a whole separate part under 0.3 × target."""
    small_parts = [p for p in shapely.get_parts(community) if p.area < 0.3 * target]
    for cell in cells:
        if cell.area_m2 < 0.3 * target:
            assert any(
                cell.geometry.symmetric_difference(p).area <= NOISE_M2 for p in small_parts
            ), (cell.code, cell.area_m2)
        else:
            assert cell.area_m2 <= 3 * target, (cell.code, cell.area_m2)


def expected_order(cells: list[Area], row_height: float) -> list[int]:
    """The documented numbering rule, written the slow way: take the northernmost remaining
    cell, its row is every remaining cell less than half a row south of it, west to east."""
    points = [c.point_on_surface() for c in cells]
    remaining = set(range(len(cells)))
    order: list[int] = []
    while remaining:
        north = max(remaining, key=lambda i: (points[i].y, -points[i].x))
        row = [i for i in remaining if points[i].y > points[north].y - row_height / 2]
        order += sorted(row, key=lambda i: (points[i].x, -points[i].y))
        remaining -= set(row)
    return order


def assert_codes_in_reading_order(cells: list[GridCell], row_height: float) -> None:
    """Codes 001, 002, … in order; west→east within a row, each new row south of all before."""
    assert [c.code for c in cells] == [grid_code(CODE, n) for n in range(1, len(cells) + 1)]
    assert all(validate_grid_code(c.code) for c in cells)
    geoms = [c.geometry for c in cells]
    assert expected_order(geoms, row_height) == list(range(len(cells)))
    points = [g.point_on_surface() for g in geoms]
    for k in range(1, len(points)):
        east = points[k].x >= points[k - 1].x  # equal x: north first
        south_of_all = points[k].y < min(p.y for p in points[:k])
        assert east or south_of_all, k


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(communities())
def test_random_communities_are_tiled_exactly_by_well_sized_cells_in_reading_order(
    community: BaseGeometry,
) -> None:
    cells = generate_grids(CODE, community)

    assert_exact_cover(community, cells)
    assert_sizes(community, cells)
    assert_codes_in_reading_order(cells, math.sqrt(TARGET))


@settings(max_examples=25, deadline=None)
@given(communities(), st.sampled_from([2_500.0, 10_000.0, 40_000.0]))
def test_other_target_areas_keep_the_same_guarantees(
    community: BaseGeometry, target: float
) -> None:
    cells = generate_grids(CODE, community, target_area_m2=target)

    assert_exact_cover(community, cells)
    assert_sizes(community, cells, target)
    assert 0.3 * community.area / target <= len(cells) <= 3 * community.area / target + 10


def _pieces(community: BaseGeometry, lines: MultiLineString) -> list[BaseGeometry]:
    """The community cut by each line in turn (shapely's own split, independent of ours)."""
    pieces = list(shapely.get_parts(community))
    for line in lines.geoms:
        pieces = [part for piece in pieces for part in split(piece, line).geoms]
    return pieces


@settings(max_examples=40, deadline=None)
@given(communities(), straight_lines())
def test_lines_become_cell_edges(community: BaseGeometry, lines: MultiLineString) -> None:
    cells = generate_grids(CODE, community, lines=lines)

    assert_exact_cover(community, cells)
    assert_sizes(community, cells)
    # A piece cut off by lines that is too small for a cell joins its neighbour across the line
    # (even a sliver below the noise threshold, where a line grazes a corner of the community).
    tiny = [p for p in _pieces(community, lines) if p.area < 0.3 * TARGET]
    for cell in cells:
        if any(cell.geometry.intersection(p).area > 0.0 for p in tiny):
            continue
        inside = shapely.buffer(cell.geometry, -0.01).intersection(lines)
        assert inside.length == pytest.approx(0, abs=1e-6), cell.code


@settings(max_examples=20, deadline=None)
@given(communities())
def test_a_lattice_without_rotation_keeps_the_guarantees(community: BaseGeometry) -> None:
    cells = generate_grids(CODE, community, rotate=False)

    assert_exact_cover(community, cells)
    assert_sizes(community, cells)


# --- examples ---------------------------------------------------------------------------------


def test_a_300_by_200_m_rectangle_gives_six_hectares_numbered_like_text() -> None:
    cells = generate_grids(CODE, box(X0, Y0, X0 + 300, Y0 + 200), rotate=False)

    centres = [
        (round(c.geometry.centroid.x - X0), round(c.geometry.centroid.y - Y0)) for c in cells
    ]
    assert [c.code for c in cells] == [f"{CODE}{n:03d}" for n in range(1, 7)]
    assert centres == [(50, 150), (150, 150), (250, 150), (50, 50), (150, 50), (250, 50)]
    assert [round(c.area_m2) for c in cells] == [10_000] * 6
    assert all(c.community_code == CODE for c in cells)


def test_a_tilted_rectangle_gets_a_lattice_along_its_sides() -> None:
    tilted = shapely.affinity.rotate(box(X0, Y0, X0 + 400, Y0 + 200), 30, origin="centroid")

    cells = generate_grids(CODE, tilted)

    assert len(cells) == 8
    assert all(c.area_m2 == pytest.approx(10_000, rel=1e-6) for c in cells)


def test_a_community_smaller_than_the_minimum_is_one_grid() -> None:
    small = box(X0, Y0, X0 + 50, Y0 + 50)

    (cell,) = generate_grids(CODE, small)

    assert cell.code == f"{CODE}001"
    assert cell.geometry.equals(small)


def test_a_small_separate_part_stays_its_own_grid() -> None:
    main = box(X0, Y0, X0 + 300, Y0 + 300)
    islet = box(X0 + 1000, Y0, X0 + 1040, Y0 + 40)

    cells = generate_grids(CODE, MultiPolygon([main, islet]))

    assert [c.geometry.equals(islet) for c in cells].count(True) == 1
    assert_exact_cover(MultiPolygon([main, islet]), cells)


def test_a_piece_cut_off_by_a_line_too_small_for_a_grid_joins_its_neighbour() -> None:
    community = box(X0, Y0, X0 + 300, Y0 + 200)
    corner = LineString([(X0 - 10, Y0 + 40), (X0 + 40, Y0 - 10)])  # a ~450 m² corner triangle

    cells = generate_grids(CODE, community, lines=corner)

    assert min(c.area_m2 for c in cells) >= 0.3 * TARGET
    assert_exact_cover(community, cells)


def test_a_road_across_a_rectangle_splits_it_into_two_rows_of_grids() -> None:
    community = box(X0, Y0, X0 + 400, Y0 + 200)
    road = LineString([(X0 - 50, Y0 + 100), (X0 + 450, Y0 + 100)])

    cells = generate_grids(CODE, community, lines=road, rotate=False)

    for cell in cells:
        _, min_y, _, max_y = cell.geometry.bounds
        assert max_y <= Y0 + 100 + 1e-6 or min_y >= Y0 + 100 - 1e-6


def test_a_dead_end_line_cuts_the_cells_it_runs_through_and_stops_where_it_stops() -> None:
    community = box(X0, Y0, X0 + 300, Y0 + 200)
    dead_end = LineString([(X0 - 10, Y0 + 150), (X0 + 150, Y0 + 150)])

    cells = generate_grids(CODE, community, lines=dead_end, rotate=False)

    # The western hectare is cut in two; the next one holds the last 50 m as a dangle.
    assert sorted(round(c.area_m2) for c in cells) == [5_000, 5_000] + [10_000] * 5
    inside = sum(shapely.buffer(c.geometry, -0.01).intersection(dead_end).length for c in cells)
    assert inside == pytest.approx(50, abs=0.1)
    assert_exact_cover(community, cells)


def test_many_communities_each_see_only_their_own_lines() -> None:
    west = box(X0, Y0, X0 + 300, Y0 + 200)
    east = box(X0 + 300, Y0, X0 + 600, Y0 + 200)
    road = LineString([(X0 + 150, Y0 - 50), (X0 + 150, Y0 + 250)])  # crosses the west one only
    calls: list[int] = []

    cells = generate_all(
        [("110101001001", west), ("110101001002", east)], lines=road, advance=calls.append
    )

    assert calls == [1, 1]
    assert [c.community_code for c in cells].count("110101001002") == 6
    for cell in cells:
        inside = shapely.buffer(cell.geometry, -0.01).intersection(road)
        assert inside.length == pytest.approx(0, abs=1e-6)


def test_more_than_999_grids_are_refused_naming_the_community() -> None:
    community = box(X0, Y0, X0 + 1000, Y0 + 1000)

    with pytest.raises(InvalidInput) as refused:
        generate_grids(CODE, community, target_area_m2=900)
    with pytest.raises(InvalidInput) as early:
        generate_grids(CODE, community, target_area_m2=100)

    for error in (refused.value, early.value):
        assert error.code == "grid_too_many"
        assert CODE in str(error)


@pytest.mark.parametrize(
    ("area", "reason"),
    [
        (
            Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)]),
            "grid_community_invalid",
        ),
        (Point(X0, Y0), "grid_community_geometry"),
        (Polygon(), "grid_community_geometry"),
    ],
)
def test_a_bad_boundary_is_refused_naming_the_community(area: BaseGeometry, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        generate_grids(CODE, area)
    assert refused.value.code == reason
    assert CODE in str(refused.value)


@pytest.mark.parametrize("target", [0.0, -5.0, math.nan, math.inf])
def test_a_target_area_must_be_a_positive_number(target: float) -> None:
    with pytest.raises(InvalidInput) as refused:
        generate_grids(CODE, box(X0, Y0, X0 + 100, Y0 + 100), target_area_m2=target)
    assert refused.value.code == "grid_target_area"


def test_a_community_code_must_be_well_formed() -> None:
    with pytest.raises(InvalidInput):
        generate_grids("11010100100", box(X0, Y0, X0 + 100, Y0 + 100))


# --- building blocks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [(300, 200, (3, 2)), (100, 100, (1, 1)), (30, 1000, (1, 3)), (145, 145, (1, 2))],
)
def test_lattice_counts_fit_the_target_area(
    width: float, height: float, expected: tuple[int, int]
) -> None:
    assert lattice_counts(width, height, TARGET) == expected


def test_a_sliver_joins_the_longest_edge_neighbour_that_stays_under_the_maximum() -> None:
    big = box(0, 0, 290, 100)  # 2.9 × target: taking the sliver would pass 3 ×
    sliver = box(290, 0, 310, 100)  # shares 100 m with big, 50 m with other
    other = box(310, 50, 410, 100)
    below = box(310, 0, 410, 50)

    merged = merge_small(np.array([big, sliver, other, below], dtype=object), 3_000, 30_000)

    assert len(merged.cells) == 3
    assert any(c.equals(shapely.union_all([sliver, other])) for c in merged.cells)
    assert not merged.oversized


def test_a_sliver_with_only_a_full_neighbour_still_joins_it_and_is_flagged() -> None:
    big = box(0, 0, 290, 100)
    sliver = box(290, 0, 310, 100)

    merged = merge_small(np.array([big, sliver], dtype=object), 3_000, 30_000)

    assert len(merged.cells) == 1
    assert merged.cells[0].area == pytest.approx(31_000)
    assert merged.oversized == frozenset({0})
