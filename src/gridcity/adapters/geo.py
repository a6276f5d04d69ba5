"""Geodesy on the CGCS2000 ellipsoid (numerically GRS80) and GeoJSON conversion."""

from __future__ import annotations

import json
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from gridcity.domain.errors import InvalidInput

_GEOD = Geod(ellps="GRS80")


def area_m2(geom: BaseGeometry) -> float:
    """Geodesic area in square metres of a lon/lat geometry."""
    area, _perimeter = _GEOD.geometry_area_perimeter(_counter_clockwise(geom))
    return abs(float(area))


def _counter_clockwise(geom: BaseGeometry) -> BaseGeometry:
    # pyproj sums signed ring areas: a hole wound like its shell would be added, not subtracted,
    # and parts wound in opposite directions would cancel. Real files come wound either way.
    if isinstance(geom, Polygon):
        return orient(geom, sign=1.0)
    if isinstance(geom, MultiPolygon):
        return MultiPolygon([orient(part, sign=1.0) for part in geom.geoms])
    return geom


def from_geojson(data: str | dict[str, Any]) -> BaseGeometry:
    """A shapely geometry from GeoJSON text or dict (a Feature or a bare geometry)."""
    try:
        obj = json.loads(data) if isinstance(data, str) else data
        if obj.get("type") == "FeatureCollection":
            features = obj.get("features") or []
            if len(features) != 1:
                raise InvalidInput(
                    "geojson_feature_count",
                    "Expected one feature in the FeatureCollection, got %(n)s",
                    n=len(features),
                )
            obj = features[0]
        if obj.get("type") == "Feature":
            obj = obj.get("geometry") or {}
        return shape(obj)
    except InvalidInput:
        raise
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException) as exc:
        raise InvalidInput("geojson_invalid", "Not valid GeoJSON: %(why)s", why=str(exc)) from None


def to_geojson(geom: BaseGeometry, precision: int = 7) -> dict[str, Any]:
    """GeoJSON geometry dict with coordinates rounded to ``precision`` decimals (~1 cm)."""
    return dict(mapping(shapely.set_precision(geom, 10**-precision)))
