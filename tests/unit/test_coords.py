"""WGS-84 ↔ GCJ-02, checked against the independent ``coord_convert`` package."""

from __future__ import annotations

import math

import numpy as np
import pytest
from coord_convert.transform import gcj2wgs, wgs2gcj
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcity.domain.coords import (
    gcj02_to_wgs84,
    gcj02_to_wgs84_array,
    wgs84_to_gcj02,
    wgs84_to_gcj02_array,
)

# Well inside the rectangle where both implementations apply the shift.
china_lon = st.floats(min_value=75.0, max_value=134.0)
china_lat = st.floats(min_value=5.0, max_value=53.0)


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Approximate ground distance between two nearby lon/lat points."""
    dy = (a[1] - b[1]) * 111_320.0
    dx = (a[0] - b[0]) * 111_320.0 * math.cos(math.radians(a[1]))
    return math.hypot(dx, dy)


@settings(max_examples=300)
@given(china_lon, china_lat)
def test_forward_shift_matches_the_oracle(lon: float, lat: float) -> None:
    assert wgs84_to_gcj02(lon, lat) == pytest.approx(wgs2gcj(lon, lat), abs=1e-10)


@settings(max_examples=300)
@given(china_lon, china_lat)
def test_inverse_undoes_the_shift_to_within_a_centimetre(lon: float, lat: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres_between(back, (lon, lat)) < 0.01


@settings(max_examples=100)
@given(china_lon, china_lat)
def test_inverse_agrees_with_the_oracle(lon: float, lat: float) -> None:
    assert metres_between(gcj02_to_wgs84(lon, lat), gcj2wgs(lon, lat)) < 0.01


def test_the_shift_in_beijing_is_hundreds_of_metres() -> None:
    tiananmen = (116.3975, 39.9087)
    assert 300 < metres_between(wgs84_to_gcj02(*tiananmen), tiananmen) < 800


@pytest.mark.parametrize(
    "point",
    [(139.6917, 35.6895), (-0.1276, 51.5072), (151.2093, -33.8688), (100.5018, 1.0)],
    ids=["tokyo", "london", "sydney", "south-of-the-rectangle"],
)
def test_points_outside_china_are_left_alone(point: tuple[float, float]) -> None:
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point


def test_array_forms_agree_with_the_point_forms() -> None:
    points = np.array([[116.416, 39.928], [121.4737, 31.2304], [139.6917, 35.6895]])
    shifted = wgs84_to_gcj02_array(points)
    for (lon, lat), row in zip(points, shifted, strict=True):
        assert tuple(row) == wgs84_to_gcj02(lon, lat)
    np.testing.assert_allclose(gcj02_to_wgs84_array(shifted), points, atol=1e-9)
