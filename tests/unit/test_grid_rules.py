"""One rule set, two presentations: the write path refuses exactly the blocking findings."""

from __future__ import annotations

import pytest
from shapely.affinity import translate
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from gridcity.domain.errors import InvalidInput
from gridcity.domain.grid_cover import check_cell_shape, check_cover
from gridcity.domain.grid_validation import FindingKind, validate_grids
from gridcity.domain.gridgen import generate_grids
from tests.unit.test_gridgen import CODE, X0, Y0

COMMUNITY = box(X0, Y0, X0 + 400, Y0 + 300)
EAST = "110101001002"


def layer() -> list[tuple[str, BaseGeometry]]:
    """A clean generated layer of one community (12 hectares)."""
    return [(c.code, c.geometry) for c in generate_grids(CODE, COMMUNITY, rotate=False)]


def refusal(grids: list[tuple[str, BaseGeometry]], community: BaseGeometry = COMMUNITY) -> str:
    """The write path's refusal code for these grids, or "" when it accepts them."""
    try:
        check_cover(CODE, community, [c for c, _ in grids], [g for _, g in grids], m2_per_unit=1.0)
    except InvalidInput as exc:
        return exc.code
    return ""


def blocking(
    grids: list[tuple[str, BaseGeometry]], community: BaseGeometry = COMMUNITY
) -> list[str]:
    """The kinds of the blocking findings of ``grid validate``."""
    return [f.kind.value for f in validate_grids(grids, [(CODE, community)]) if f.blocking]


def test_a_grid_within_the_outside_allowance_is_reported_but_not_refused() -> None:
    grids = layer()
    code, geom = grids[0]  # the north-west hectare; 5 m² past the west edge is 0.05 %
    grids[0] = (code, geom.union(box(X0 - 0.05, Y0 + 200, X0, Y0 + 300)))

    (crossing,) = validate_grids(grids, [(CODE, COMMUNITY)])

    assert crossing.kind is FindingKind.CROSSES_COMMUNITY and not crossing.blocking
    assert refusal(grids) == ""


def test_a_grid_past_the_outside_allowance_is_blocking_and_refused() -> None:
    grids = layer()
    code, geom = grids[0]  # 20 m² past the west edge is 0.2 % of the hectare
    grids[0] = (code, geom.union(box(X0 - 0.2, Y0 + 200, X0, Y0 + 300)))

    assert blocking(grids) == ["crosses_community"]
    assert refusal(grids) == "grid_outside_community"


def test_slivers_of_floating_point_noise_never_add_up_to_a_refused_gap() -> None:
    # A 4 m × 4 m community: its 0.01 % gap allowance (0.0016 m²) is below the noise floor.
    tiny = box(X0, Y0, X0 + 4, Y0 + 4)
    grids = [(CODE + "001", box(X0, Y0, X0 + 4, Y0 + 3.999))]  # leaves 0.004 m², noise

    assert validate_grids(grids, [(CODE, tiny)]) == []
    assert refusal(grids, tiny) == ""  # refused before the merge (0.025 % uncovered)


def test_a_real_gap_is_blocking_and_refused_with_its_share() -> None:
    grids = layer()
    grids.pop(5)

    assert blocking(grids) == ["gap"]
    with pytest.raises(InvalidInput) as refused:
        check_cover(CODE, COMMUNITY, [c for c, _ in grids], [g for _, g in grids], m2_per_unit=1.0)
    assert refused.value.code == "grid_gap"
    assert refused.value.params["pct"] == pytest.approx(100 / 12, abs=0.001)


def test_overlaps_block_within_a_community_but_not_between_neighbours() -> None:
    east = translate(COMMUNITY, 400)
    west_grids = layer()
    east_grids = [(c.code, c.geometry) for c in generate_grids(EAST, east, rotate=False)]
    code, geom = west_grids[3]  # the north-east hectare of the west community: 3 m² into east
    west_grids[3] = (code, geom.union(box(X0 + 400, Y0 + 200, X0 + 400.03, Y0 + 300)))

    findings = validate_grids(west_grids + east_grids, [(CODE, COMMUNITY), (EAST, east)])

    assert sorted(f.kind.value for f in findings) == ["crosses_community", "overlap"]
    assert not any(f.blocking for f in findings)
    assert refusal(west_grids) == ""


def test_an_overlap_within_a_community_is_refused_naming_both_grids() -> None:
    grids = layer()
    code, geom = grids[0]
    grids[0] = (code, geom.union(box(X0 + 100, Y0 + 250, X0 + 110, Y0 + 300)))

    assert blocking(grids) == ["overlap"]
    with pytest.raises(InvalidInput) as refused:
        check_cover(CODE, COMMUNITY, [c for c, _ in grids], [g for _, g in grids], m2_per_unit=1.0)
    assert refused.value.code == "grid_overlap"
    assert (refused.value.params["a"], refused.value.params["b"]) == (CODE + "001", CODE + "002")
    assert refused.value.params["m2"] == pytest.approx(500)


def test_sizes_are_reported_but_never_block_a_write() -> None:
    findings = validate_grids(layer(), [(CODE, COMMUNITY)], target_area_m2=2_500)

    assert {f.kind for f in findings} == {FindingKind.AREA_OUTLIER}
    assert not any(f.blocking for f in findings)


def test_the_write_path_refuses_exactly_when_validation_finds_something_blocking() -> None:
    base = layer()
    for i in range(len(base)):
        for dx in (0.01, 0.5, 30.0):
            grids = list(base)
            grids[i] = (base[i][0], translate(base[i][1], dx))
            assert (refusal(grids) != "") == bool(blocking(grids)), (i, dx)


def test_an_empty_polygon_is_refused_as_empty() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_cell_shape(CODE + "001", Polygon())

    assert refused.value.code == "grid_geometry_invalid"
    assert refused.value.params["why"] == "empty"  # was GEOS's "Valid Geometry"
