"""Coordinate reference systems for geometries: the stored CRS (CGCS2000 lon/lat, EPSG:4490)
and CGCS2000 3-degree Gauss-Krüger zones for metric work (areas, target sizes)."""

from __future__ import annotations

from functools import cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

STORED_EPSG = 4490
# CGCS2000 / 3-degree Gauss-Kruger CM 75E … CM 135E are EPSG:4534 … EPSG:4554.
_GK_FIRST_EPSG, _GK_FIRST_CM, _GK_LAST_CM = 4534, 75, 135


def gk_zone_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (no false-easting zone prefix)
    whose central meridian is nearest to ``lon``."""
    cm = min(max(round(lon / 3) * 3, _GK_FIRST_CM), _GK_LAST_CM)
    return _GK_FIRST_EPSG + (cm - _GK_FIRST_CM) // 3


def zone_for(geom: BaseGeometry) -> int:
    """The Gauss-Krüger zone suited to a lon/lat geometry (by its centroid)."""
    return gk_zone_epsg(geom.centroid.x)


@cache
def transformer(source_epsg: int, target_epsg: int) -> Transformer:
    """A cached lon/lat-ordered pyproj transformer."""
    return Transformer.from_crs(source_epsg, target_epsg, always_xy=True)


def transform(geom: BaseGeometry, source_epsg: int, target_epsg: int) -> BaseGeometry:
    """The geometry in another CRS (vectorised over all its coordinates)."""
    if source_epsg == target_epsg:
        return geom
    fn = transformer(source_epsg, target_epsg)

    def apply(xy: np.ndarray) -> np.ndarray:
        x, y = fn.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, apply)


def to_projected(geom: BaseGeometry, epsg: int | None = None) -> tuple[BaseGeometry, int]:
    """A stored-CRS geometry in metres, in the given or the best-suited Gauss-Krüger zone."""
    zone = epsg or zone_for(geom)
    return transform(geom, STORED_EPSG, zone), zone


def to_stored(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    """A geometry from any EPSG CRS into the stored CRS (CGCS2000 lon/lat)."""
    return transform(geom, epsg, STORED_EPSG)
