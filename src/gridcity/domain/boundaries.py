"""Rules for administrative boundaries (shapely geometries in CGCS2000 lon/lat)."""

from __future__ import annotations

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gridcity.domain.errors import InvalidInput

# Longitude/latitude envelope of China and its waters, generous on purpose.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)
# A child may stick out of its parent by this share of its own area (survey noise, snapping).
OUTSIDE_PARENT_TOLERANCE = 0.001


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """A valid MultiPolygon in lon/lat inside China, or a refusal naming the problem."""
    if geom.is_empty:
        raise InvalidInput("boundary_empty", "The boundary is empty")
    if not isinstance(geom, Polygon | MultiPolygon):
        raise InvalidInput(
            "boundary_type",
            "The boundary must be a Polygon or MultiPolygon, got %(t)s",
            t=geom.geom_type,
        )
    if not geom.is_valid:
        raise InvalidInput(
            "boundary_invalid",
            "The boundary is not a valid polygon: %(why)s",
            why=shapely.is_valid_reason(geom),
        )
    min_x, min_y, max_x, max_y = geom.bounds
    west, south, east, north = CHINA_BOUNDS
    if min_x < west or max_x > east or min_y < south or max_y > north:
        raise InvalidInput(
            "boundary_outside_china",
            "The boundary lies outside China; coordinates must be longitude/latitude (CGCS2000)",
        )
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def check_inside_parent(child: BaseGeometry, parent: BaseGeometry | None) -> None:
    """Refuse a boundary that reaches noticeably outside its parent's boundary."""
    if parent is None or parent.is_empty or child.area == 0:
        return
    outside = child.difference(parent).area / child.area
    if outside > OUTSIDE_PARENT_TOLERANCE:
        raise InvalidInput(
            "boundary_outside_parent",
            "%(pct)s%% of the boundary lies outside the parent division",
            pct=f"{outside * 100:.1f}",
        )
