"""Boundary rules: valid polygons in lon/lat inside China, inside their parent."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import LineString, MultiPolygon, Polygon, box

from gridcity.adapters.geo import area_m2, from_geojson
from gridcity.domain.boundaries import as_multipolygon, check_inside_parent
from gridcity.domain.errors import InvalidInput


def _refusal(fn, *args) -> str:
    with pytest.raises(InvalidInput) as refused:
        fn(*args)
    return refused.value.code


def test_a_polygon_becomes_a_multipolygon() -> None:
    assert isinstance(as_multipolygon(box(116.4, 39.9, 116.41, 39.91)), MultiPolygon)


def test_bad_boundaries_are_refused_with_the_reason() -> None:
    bowtie = Polygon([(116.40, 39.90), (116.41, 39.91), (116.41, 39.90), (116.40, 39.91)])
    assert _refusal(as_multipolygon, Polygon()) == "boundary_empty"
    assert _refusal(as_multipolygon, LineString([(116.4, 39.9), (116.5, 39.9)])) == "boundary_type"
    assert _refusal(as_multipolygon, bowtie) == "boundary_invalid"
    assert (
        _refusal(as_multipolygon, box(500000, 4400000, 501000, 4401000)) == "boundary_outside_china"
    )


def test_a_child_may_not_reach_outside_its_parent() -> None:
    parent = box(116.40, 39.90, 116.42, 39.92)
    check_inside_parent(box(116.40, 39.90, 116.41, 39.91), parent)
    assert _refusal(check_inside_parent, box(116.41, 39.91, 116.43, 39.93), parent) == (
        "boundary_outside_parent"
    )


def test_geojson_is_read_from_a_geometry_a_feature_or_a_one_feature_collection() -> None:
    geometry = {
        "type": "Polygon",
        "coordinates": [[[116.4, 39.9], [116.5, 39.9], [116.5, 40.0], [116.4, 39.9]]],
    }
    feature = {"type": "Feature", "geometry": geometry, "properties": {}}
    for data in (geometry, feature, {"type": "FeatureCollection", "features": [feature]}):
        assert from_geojson(data).geom_type == "Polygon"
    assert (
        _refusal(from_geojson, {"type": "FeatureCollection", "features": []})
        == "geojson_feature_count"
    )
    assert _refusal(from_geojson, "{not json") == "geojson_invalid"
    assert _refusal(from_geojson, {"type": "Polygon", "coordinates": "x"}) == "geojson_invalid"


def test_a_small_cell_measures_as_the_textbook_degree_lengths_predict() -> None:
    phi = math.radians(39.905)
    per_degree_lat = 111132.954 - 559.822 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
    per_degree_lon = (
        111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi) + 0.118 * math.cos(5 * phi)
    )
    expected = (0.01 * per_degree_lat) * (0.01 * per_degree_lon)
    assert area_m2(box(116.40, 39.90, 116.41, 39.91)) == pytest.approx(expected, rel=5e-4)
