"""WGS-84 ↔ GCJ-02 ↔ BD-09 and EPSG systems, checked against the independent ``coord_convert``
and ``prcoords`` packages and against pyproj's geodesics."""

from __future__ import annotations

import numpy as np
import prcoords
import pytest
import shapely
from coord_convert.transform import bd2gcj, gcj2bd, gcj2wgs, wgs2bd, wgs2gcj
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.polygon import orient

from gridcity.adapters.crs import (
    convert_points,
    from_stored_geometry,
    is_projected,
    parse_system,
    system_label,
    to_stored_geometry,
)
from gridcity.domain.coords import (
    Crs,
    bd09_to_gcj02,
    bd09_to_gcj02_array,
    bd09_to_wgs84,
    bd09_to_wgs84_array,
    check_lonlat,
    convert_array,
    from_wgs84_array,
    gcj02_to_bd09,
    gcj02_to_bd09_array,
    gcj02_to_wgs84,
    gcj02_to_wgs84_array,
    parse_crs,
    to_wgs84_array,
    wgs84_to_bd09,
    wgs84_to_bd09_array,
    wgs84_to_gcj02,
    wgs84_to_gcj02_array,
)
from gridcity.domain.errors import InvalidInput

# Well inside the rectangle where every implementation applies the shift.
china_lon = st.floats(min_value=75.0, max_value=134.0)
china_lat = st.floats(min_value=5.0, max_value=53.0)
GEOD = Geod(ellps="WGS84")
TIANANMEN = (116.391275, 39.906217)
ONE_CENTIMETRE = 0.01


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance between two lon/lat points."""
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def metres_array(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic distances between two (n, 2) lon/lat arrays, row by row."""
    return np.asarray(GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2])


def random_china(n: int, seed: int = 7) -> np.ndarray:
    """``n`` random points in the rectangle where the shifts apply."""
    rng = np.random.default_rng(seed)
    return np.column_stack((rng.uniform(75.0, 134.0, n), rng.uniform(5.0, 53.0, n)))


def pr(convert, lon: float, lat: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """A prcoords conversion (lat, lon order, warnings off) in our lon, lat order."""
    out = convert((lat, lon), False)
    return out.lon, out.lat


# --- forward formulas agree with both oracles -------------------------------------------


@settings(max_examples=300)
@given(china_lon, china_lat)
def test_forward_shift_matches_the_oracle(lon: float, lat: float) -> None:
    assert wgs84_to_gcj02(lon, lat) == pytest.approx(wgs2gcj(lon, lat), abs=1e-10)


@settings(max_examples=300)
@given(china_lon, china_lat)
def test_forward_gcj02_matches_prcoords(lon: float, lat: float) -> None:
    assert wgs84_to_gcj02(lon, lat) == pytest.approx(pr(prcoords.wgs_gcj, lon, lat), abs=1e-9)


@settings(max_examples=300)
@given(china_lon, china_lat)
def test_forward_bd09_matches_both_oracles(lon: float, lat: float) -> None:
    assert gcj02_to_bd09(lon, lat) == pytest.approx(gcj2bd(lon, lat), abs=1e-9)
    assert gcj02_to_bd09(lon, lat) == pytest.approx(pr(prcoords.gcj_bd, lon, lat), abs=1e-9)
    assert wgs84_to_bd09(lon, lat) == pytest.approx(wgs2bd(lon, lat), abs=1e-9)
    assert wgs84_to_bd09(lon, lat) == pytest.approx(pr(prcoords.wgs_bd, lon, lat), abs=1e-9)


def test_the_published_sample_point_in_beijing() -> None:
    # The sample all converters quote (ecosystem.md): Tiananmen, WGS-84 → GCJ-02 → BD-09.
    assert wgs84_to_gcj02(*TIANANMEN) == pytest.approx((116.397516, 39.907618), abs=1e-6)
    assert wgs84_to_bd09(*TIANANMEN) == pytest.approx((116.403890, 39.913962), abs=1e-6)


def test_the_shift_in_beijing_is_hundreds_of_metres() -> None:
    assert 300 < metres(wgs84_to_gcj02(*TIANANMEN), TIANANMEN) < 800
    assert 900 < metres(wgs84_to_bd09(*TIANANMEN), TIANANMEN) < 1500


# --- inverses ---------------------------------------------------------------------------


@settings(max_examples=300)
@given(china_lon, china_lat)
def test_inverse_undoes_the_shift_to_within_a_centimetre(lon: float, lat: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(back, (lon, lat)) < ONE_CENTIMETRE


@settings(max_examples=300)
@given(china_lon, china_lat)
def test_bd09_inverse_undoes_both_shifts_to_within_a_centimetre(lon: float, lat: float) -> None:
    assert metres(bd09_to_wgs84(*wgs84_to_bd09(lon, lat)), (lon, lat)) < ONE_CENTIMETRE
    assert metres(bd09_to_gcj02(*gcj02_to_bd09(lon, lat)), (lon, lat)) < ONE_CENTIMETRE


@settings(max_examples=100)
@given(china_lon, china_lat)
def test_inverse_agrees_with_the_oracle(lon: float, lat: float) -> None:
    assert metres(gcj02_to_wgs84(lon, lat), gcj2wgs(lon, lat)) < ONE_CENTIMETRE


@settings(max_examples=100)
@given(china_lon, china_lat)
def test_the_oracles_forward_formulas_map_our_inverses_back(lon: float, lat: float) -> None:
    assert wgs2gcj(*gcj02_to_wgs84(lon, lat)) == pytest.approx((lon, lat), abs=1e-8)
    assert gcj2bd(*bd09_to_gcj02(lon, lat)) == pytest.approx((lon, lat), abs=1e-8)
    assert wgs2bd(*bd09_to_wgs84(lon, lat)) == pytest.approx((lon, lat), abs=1e-8)


@settings(max_examples=100)
@given(china_lon, china_lat)
def test_inverses_agree_with_prcoords_iterative_ones(lon: float, lat: float) -> None:
    # prcoords' "bored" inverses stop at 1e-5 of a degree-sized step: millimetres to centimetres.
    assert metres(gcj02_to_wgs84(lon, lat), pr(prcoords.gcj_wgs_bored, lon, lat)) < 0.05
    assert metres(bd09_to_wgs84(lon, lat), pr(prcoords.bd_wgs_bored, lon, lat)) < 0.05


def test_the_bd09_inverse_beats_the_published_one_step_formula() -> None:
    points = random_china(2_000)
    bd = gcj02_to_bd09_array(points)
    one_step = np.array([bd2gcj(lon, lat) for lon, lat in bd])
    assert metres_array(one_step, points).max() > 0.1  # decimetres off
    assert metres_array(bd09_to_gcj02_array(bd), points).max() < 0.001


def test_round_trips_over_many_points_stay_under_a_millimetre() -> None:
    points = random_china(50_000)
    gcj_back = gcj02_to_wgs84_array(wgs84_to_gcj02_array(points))
    bd_back = bd09_to_wgs84_array(wgs84_to_bd09_array(points))
    assert metres_array(gcj_back, points).max() < 0.001
    assert metres_array(bd_back, points).max() < 0.001


# --- outside China, and array = point forms ---------------------------------------------

OUTSIDE = [(139.6917, 35.6895), (-0.1276, 51.5072), (151.2093, -33.8688), (100.5018, 1.0)]
SCALARS = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
]
ARRAYS = [
    wgs84_to_gcj02_array,
    gcj02_to_wgs84_array,
    gcj02_to_bd09_array,
    bd09_to_gcj02_array,
    wgs84_to_bd09_array,
    bd09_to_wgs84_array,
]


@pytest.mark.parametrize("point", OUTSIDE, ids=["tokyo", "london", "sydney", "south-of-rect"])
@pytest.mark.parametrize("convert", SCALARS, ids=lambda f: f.__name__)
def test_points_outside_china_are_left_alone(point: tuple[float, float], convert) -> None:  # type: ignore[no-untyped-def]
    assert convert(*point) == point


@pytest.mark.parametrize(
    ("array", "scalar"), list(zip(ARRAYS, SCALARS, strict=True)), ids=lambda f: f.__name__
)
def test_array_forms_agree_with_the_point_forms(array, scalar) -> None:  # type: ignore[no-untyped-def]
    points = np.vstack([random_china(20), np.array(OUTSIDE)])
    converted = array(points)
    assert converted.shape == points.shape
    point_by_point = np.array([scalar(lon, lat) for lon, lat in points])
    # An inverse iterates until every point of the array has settled: a few more rounds than
    # one point alone may take, so the last digits may differ (1e-10° ≈ 0.01 mm).
    np.testing.assert_allclose(converted, point_by_point, rtol=0, atol=1e-10)


@pytest.mark.parametrize("array", ARRAYS, ids=lambda f: f.__name__)
def test_an_empty_array_converts_to_an_empty_array(array) -> None:  # type: ignore[no-untyped-def]
    assert array(np.empty((0, 2))).shape == (0, 2)


# --- named systems ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crs", "forward"),
    [("gcj02", wgs84_to_gcj02_array), ("bd09", wgs84_to_bd09_array)],
)
def test_to_and_from_wgs84_by_name(crs: str, forward) -> None:  # type: ignore[no-untyped-def]
    points = random_china(100)
    np.testing.assert_array_equal(from_wgs84_array(points, crs), forward(points))
    np.testing.assert_allclose(to_wgs84_array(forward(points), crs), points, atol=1e-9)


@pytest.mark.parametrize("crs", ["wgs84", "cgcs2000"])
def test_wgs84_and_cgcs2000_are_the_stored_lon_lat_unchanged(crs: str) -> None:
    points = random_china(10)
    np.testing.assert_array_equal(to_wgs84_array(points, crs), points)
    np.testing.assert_array_equal(from_wgs84_array(points, crs), points)
    np.testing.assert_array_equal(convert_array(points, "wgs84", "cgcs2000"), points)


def test_converting_into_the_same_system_is_exact() -> None:
    points = random_china(10)
    np.testing.assert_array_equal(convert_array(points, "bd09", "bd09"), points)


def test_gcj02_to_bd09_by_name_goes_straight_through() -> None:
    points = random_china(10)
    np.testing.assert_allclose(convert_array(points, "gcj02", "bd09"), gcj02_to_bd09_array(points))


@pytest.mark.parametrize(
    ("name", "crs"),
    [
        ("GCJ-02", Crs.GCJ02),
        (" bd_09 ", Crs.BD09),
        ("WGS84", Crs.WGS84),
        ("cgcs2000", Crs.CGCS2000),
    ],
)
def test_system_names_ignore_case_and_separators(name: str, crs: Crs) -> None:
    assert parse_crs(name) is crs


@pytest.mark.parametrize("name", ["mars", "", "EPSG:4326", "gcj"])
def test_an_unknown_system_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        to_wgs84_array(np.array([[116.0, 39.0]]), name)
    assert refused.value.code == "crs_unknown"


@pytest.mark.parametrize("point", [(116.0, 95.0), (181.0, 39.0), (float("nan"), 39.0)])
def test_a_point_that_is_not_a_lon_lat_is_refused(point: tuple[float, float]) -> None:
    points = np.array([[116.0, 39.0], point])
    with pytest.raises(InvalidInput) as refused:
        check_lonlat(points)
    assert refused.value.code == "coordinate_out_of_range"
    assert refused.value.params["index"] == 1


# --- EPSG systems and geometries (adapters/crs.py) --------------------------------------


@pytest.mark.parametrize(
    ("name", "label", "projected"),
    [
        ("gcj02", "gcj02", False),
        ("EPSG:4326", "EPSG:4326", False),
        ("epsg:4490", "EPSG:4490", False),
        ("EPSG:4547", "EPSG:4547", True),
        ("EPSG:4548", "EPSG:4548", True),
    ],
)
def test_systems_are_named_or_epsg_codes(name: str, label: str, projected: bool) -> None:
    system = parse_system(name)
    assert system_label(system) == label
    assert is_projected(system) is projected


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("mars", "crs_unknown"),
        ("EPSG:", "crs_unknown"),
        ("EPSG:99999", "crs_unknown"),
        ("EPSG:4978", "crs_unsupported"),  # geocentric
        ("EPSG:5773", "crs_unsupported"),  # heights
    ],
)
def test_unknown_or_unusable_systems_are_refused(name: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        to_stored_geometry(Point(116.0, 39.0), name)
    assert refused.value.code == code


def test_gauss_kruger_metres_measure_true_distances() -> None:
    a, b = TIANANMEN, (116.40, 39.92)
    xy = convert_points(np.array([a, b]), "cgcs2000", "EPSG:4548")
    assert xy[0, 0] == pytest.approx(447_947.406, abs=0.01)  # CM 117°E: 500 km false easting
    # Scale error of a 3° zone ~60 km from its meridian: under 1e-4.
    assert np.hypot(*(xy[1] - xy[0])) == pytest.approx(metres(a, b), rel=1e-4)


def test_a_projected_point_that_proj_cannot_convert_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        convert_points(np.array([[1e30, 1e30]]), "EPSG:4548", "wgs84")
    assert refused.value.code == "coordinate_not_convertible"


def test_a_lon_lat_out_of_range_is_refused_in_an_epsg_system_too() -> None:
    with pytest.raises(InvalidInput) as refused:
        convert_points(np.array([[116.0, 91.0]]), "EPSG:4326", "gcj02")
    assert refused.value.code == "coordinate_out_of_range"


BLOCK = Polygon(
    [(116.40, 39.90), (116.41, 39.90), (116.41, 39.91), (116.40, 39.91)],
    holes=[[(116.403, 39.903), (116.404, 39.903), (116.404, 39.904)]],
)


@pytest.mark.parametrize(
    "crs",
    ["wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:4326", "EPSG:4490", "EPSG:4547", "EPSG:4548"],
)
def test_geometries_survive_a_round_trip_through_any_system(crs: str) -> None:
    back = to_stored_geometry(from_stored_geometry(BLOCK, crs), crs)
    assert back.geom_type == "Polygon" and len(back.interiors) == 1
    np.testing.assert_allclose(
        shapely.get_coordinates(back), shapely.get_coordinates(BLOCK), atol=1e-9
    )


def test_a_bd09_geometry_is_stored_as_its_points_converted() -> None:
    road = LineString([(116.404, 39.915), (116.41, 39.92)])
    stored = to_stored_geometry(road, "bd09")
    expected = bd09_to_wgs84_array(shapely.get_coordinates(road))
    np.testing.assert_array_equal(shapely.get_coordinates(stored), expected)


def test_a_stored_geometry_in_gauss_kruger_keeps_its_area_in_square_metres() -> None:
    projected = from_stored_geometry(BLOCK, "EPSG:4548")
    # pyproj subtracts a hole only when it winds against the shell: orient the rings first.
    geodesic_area = GEOD.geometry_area_perimeter(orient(BLOCK))[0]
    assert projected.area == pytest.approx(geodesic_area, rel=1e-3)


def test_an_empty_geometry_stays_empty_but_a_bad_name_is_still_refused() -> None:
    assert to_stored_geometry(Polygon(), "gcj02").is_empty
    with pytest.raises(InvalidInput):
        to_stored_geometry(Polygon(), "mars")
