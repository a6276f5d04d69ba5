"""Validation of a grid layer: every planted problem is found, a generated layer is clean."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.crs import transform
from gridcity.adapters.geojson_files import read_features, write_features
from gridcity.domain.errors import InvalidInput
from gridcity.domain.grid_validation import Finding, FindingKind, validate_grids
from gridcity.domain.gridgen import generate_grids
from tests.unit.test_gridgen import CODE, X0, Y0, communities

COMMUNITY = box(X0, Y0, X0 + 400, Y0 + 300)  # 12 hectares, numbered 001–012 like text


def layer(area: BaseGeometry = COMMUNITY) -> list[tuple[str, BaseGeometry | None]]:
    """A clean generated layer of one community."""
    return [(c.code, c.geometry) for c in generate_grids(CODE, area, rotate=False)]


def kinds(findings: list[Finding]) -> list[str]:
    """The kinds found, in order."""
    return [f.kind.value for f in findings]


def test_a_generated_layer_is_clean_with_and_without_its_community() -> None:
    grids = layer()

    assert validate_grids(grids) == []
    assert validate_grids(grids, [(CODE, COMMUNITY)]) == []


@settings(max_examples=40, deadline=None)
@given(communities())
def test_every_generated_random_layer_is_clean(community: BaseGeometry) -> None:
    grids = [(c.code, c.geometry) for c in generate_grids(CODE, community)]

    assert validate_grids(grids, [(CODE, community)]) == []


def test_a_missing_grid_is_a_gap_of_its_area() -> None:
    grids = layer()
    removed = grids.pop(5)  # an inner hectare: a hole even without the community

    with_community = validate_grids(grids, [(CODE, COMMUNITY)])
    alone = validate_grids(grids)

    for findings in (with_community, alone):
        assert kinds(findings) == ["gap"]
        assert findings[0].amount_m2 == pytest.approx(removed[1].area)
        assert findings[0].code == CODE
        assert findings[0].index is None
    assert "10000.00 m² of community 110101001001" in with_community[0].text


def test_a_missing_grid_on_the_edge_is_a_gap_only_against_the_community() -> None:
    grids = layer()
    grids.pop(0)

    assert validate_grids(grids) == []  # nothing says the corner should be covered
    assert kinds(validate_grids(grids, [(CODE, COMMUNITY)])) == ["gap"]


def test_a_grown_grid_overlaps_its_neighbours_and_crosses_its_community() -> None:
    grids = layer()
    code, geom = grids[0]
    assert geom is not None
    grids[0] = (code, geom.buffer(2, join_style="mitre"))

    findings = validate_grids(grids, [(CODE, COMMUNITY)])

    assert sorted(set(kinds(findings))) == ["crosses_community", "overlap"]
    overlaps = [f for f in findings if f.kind is FindingKind.OVERLAP]
    assert {f.params["other"] for f in overlaps} == {1, 4, 5}  # east, south, south-east
    assert sum(f.amount_m2 for f in overlaps) == pytest.approx(2 * 100 + 2 * 100 + 4, rel=1e-6)
    (crossing,) = [f for f in findings if f.kind is FindingKind.CROSSES_COMMUNITY]
    assert crossing.index == 0
    assert crossing.amount_m2 == pytest.approx(104 * 2 + 104 * 2 - 2 * 2, rel=1e-6)


def test_a_grid_moved_into_another_community_crosses_it() -> None:
    east = translate(COMMUNITY, 400)
    grids = layer() + [
        (c.code, c.geometry) for c in generate_grids("110101001002", east, rotate=False)
    ]
    code, geom = grids[3]  # the north-east hectare of the west community
    assert geom is not None
    grids[3] = (code, translate(geom, 50))

    findings = validate_grids(grids, [(CODE, COMMUNITY), ("110101001002", east)])

    assert sorted(kinds(findings)) == ["crosses_community", "gap", "overlap"]
    (crossing,) = [f for f in findings if f.kind is FindingKind.CROSSES_COMMUNITY]
    assert crossing.amount_m2 == pytest.approx(5_000)


def test_floating_point_noise_is_not_a_finding() -> None:
    grids = layer()
    code, geom = grids[0]
    grids[0] = (code, shapely.transform(geom, lambda xy: xy + 1e-7))

    assert validate_grids(grids, [(CODE, COMMUNITY)]) == []


def test_duplicate_and_malformed_codes_are_findings() -> None:
    grids = layer()
    grids[4] = (grids[3][0], grids[4][1])
    grids[6] = ("110101001001000", grids[6][1])
    grids[7] = ("abc", grids[7][1])

    findings = validate_grids(grids)

    assert kinds(findings) == ["duplicate_code", "invalid_code", "invalid_code"]
    assert findings[0].index == 4 and findings[0].params["first"] == 3
    assert [f.index for f in findings[1:]] == [6, 7]


def test_invalid_or_missing_geometries_are_findings_and_skipped_otherwise() -> None:
    grids = layer()
    bowtie = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    grids[0] = (grids[0][0], bowtie)
    grids[1] = (grids[1][0], None)
    grids[2] = (grids[2][0], shapely.Point(X0, Y0))

    findings = validate_grids(grids)

    assert kinds(findings) == ["invalid_geometry"] * 3
    assert "Self-intersection" in findings[0].text
    assert [f.index for f in findings] == [0, 1, 2]


def test_grids_of_a_community_not_in_the_list_are_findings() -> None:
    grids = layer()
    grids[0] = ("110101001009001", grids[0][1])

    findings = validate_grids(grids, [(CODE, COMMUNITY)])

    assert sorted(kinds(findings)) == ["gap", "unknown_community"]
    unknown = next(f for f in findings if f.kind is FindingKind.UNKNOWN_COMMUNITY)
    assert unknown.params["community"] == "110101001009"


def test_too_small_and_too_large_grids_are_area_outliers() -> None:
    grids = layer()
    first, second = grids[0][1], grids[1][1]
    assert first is not None and second is not None
    sliver = box(X0, Y0 + 290, X0 + 100, Y0 + 300)  # 1,000 m² at the top of the first
    grids[0] = (grids[0][0], first.difference(sliver))
    grids.append(("110101001001013", sliver))

    findings = validate_grids(grids, target_area_m2=2_500)

    outliers = [f for f in findings if f.kind is FindingKind.AREA_OUTLIER]
    assert len(outliers) == 12  # every hectare is over 3 × 2,500; the sliver is not under 750
    assert kinds(validate_grids(grids)) == ["area_outlier"]  # the 1,000 m² sliver
    assert validate_grids(grids)[0].index == 12
    merged = shapely.union_all([first, second])
    assert kinds(validate_grids([(CODE + "001", merged)], target_area_m2=5_000)) == ["area_outlier"]


def test_a_small_separate_part_of_a_community_is_not_an_outlier() -> None:
    islet = box(X0 + 1000, Y0, X0 + 1040, Y0 + 40)
    community = MultiPolygon([COMMUNITY, islet])

    grids = layer(community)

    assert any(g is not None and g.equals(islet) for _, g in grids)
    assert validate_grids(grids, [(CODE, community)]) == []


def test_an_empty_layer_against_a_community_is_one_gap() -> None:
    findings = validate_grids([], [(CODE, COMMUNITY)])

    assert kinds(findings) == ["gap"]
    assert findings[0].amount_m2 == pytest.approx(120_000)


@pytest.mark.parametrize("target", [0.0, -1.0, math.nan])
def test_the_target_area_must_be_positive(target: float) -> None:
    with pytest.raises(InvalidInput):
        validate_grids(layer(), target_area_m2=target)


# --- the GeoJSON round trip keeps exact cover (lon/lat rounding) -------------------------------


@settings(max_examples=15, deadline=None)
@given(communities())
def test_grids_written_as_lon_lat_geojson_still_tile_their_community(
    community: BaseGeometry,
) -> None:
    # The strategy draws near x=500 km, y=4,420 km: Beijing in CGCS2000 / GK zone 39 (EPSG:4548).
    cells = generate_grids(CODE, community)
    lonlat_community = transform(community, 4548, 4490)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "grids.geojson"
        write_features(
            path, [(transform(c.geometry, 4548, 4490), {"grid_code": c.code}) for c in cells]
        )
        read = read_features(path)
        # Vertices shared with the community come from it: they must survive the round trip.
        comm_path = Path(folder) / "community.geojson"
        write_features(comm_path, [(lonlat_community, {"code": CODE})])
        (community_back,) = [f.geometry for f in read_features(comm_path).features]

    grids = [(f.properties["grid_code"], transform(f.geometry, 4490, 4548)) for f in read.features]
    assert read.crs == "EPSG:4490"
    assert validate_grids(grids, [(CODE, transform(community_back, 4490, 4548))]) == []
    assert np.allclose(
        [g.area for _, g in grids], [c.geometry.area for c in cells], rtol=0, atol=0.01
    )
