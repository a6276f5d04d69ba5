"""Unit grid codes: community (12 digits) + sequence (3 digits)."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from gridcity.adapters.crs import gk_zone_epsg, to_projected, to_stored
from gridcity.domain.errors import InvalidInput
from gridcity.domain.grids import community_of, grid_code, validate_grid_code


def test_a_grid_code_is_its_community_code_and_a_three_digit_sequence() -> None:
    assert grid_code("320582107234", 1) == "320582107234001"
    assert community_of("320582107234001") == "320582107234"
    assert validate_grid_code("320582107234001") == "320582107234001"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("32058210723400", "grid_code_format"),
        ("32058210723400A", "grid_code_format"),
        ("320582107234000", "grid_code_sequence"),
        ("320582107000001", "division_code_zero_segment"),
        ("990582107234001", "division_code_province"),
    ],
)
def test_malformed_grid_codes_are_refused(code: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_grid_code(code)
    assert refused.value.code == reason


@pytest.mark.parametrize("sequence", [0, 1000])
def test_a_community_holds_grids_one_to_999(sequence: int) -> None:
    with pytest.raises(InvalidInput):
        grid_code("110101001001", sequence)


def test_the_gauss_kruger_zone_follows_the_nearest_central_meridian() -> None:
    assert gk_zone_epsg(116.4) == 4548  # Beijing: CM 117E
    assert gk_zone_epsg(114.3) == 4547  # Wuhan: CM 114E
    assert gk_zone_epsg(70.0) == 4534  # clamped to the first zone


def test_projecting_and_back_keeps_the_geometry() -> None:
    cell = box(116.40, 39.90, 116.41, 39.91)
    metric, zone = to_projected(cell)
    assert zone == 4548
    assert metric.area == pytest.approx(949_500, rel=1e-3)
    assert to_stored(metric, zone).equals_exact(cell, 1e-9)
