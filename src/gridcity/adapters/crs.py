"""Coordinate reference systems for geometries: the stored CRS (CGCS2000 lon/lat, EPSG:4490),
CGCS2000 3-degree Gauss-Krüger zones for metric work (areas, target sizes), and the systems
that input and display use: the named lon/lat systems of ``domain.coords`` (wgs84, cgcs2000,
gcj02, bd09) and any geographic or projected "EPSG:nnnn" known to PROJ."""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from gridcity.domain import coords
from gridcity.domain.coords import Crs, FloatArray
from gridcity.domain.errors import InvalidInput

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


# --- Named systems and EPSG codes, for importers, the locate service, the API and the CLI ---

# A system as parsed: a named lon/lat system of the domain, or an EPSG code.
SystemId = Crs | int
_EPSG = re.compile(r"^\s*epsg\s*:\s*([0-9]{4,6})\s*$", re.IGNORECASE)


def parse_system(name: str) -> SystemId:
    """The system called ``name``: wgs84, cgcs2000, gcj02, bd09 or EPSG:nnnn; else a refusal."""
    named = coords.crs_named(name)
    if named is not None:
        return named
    match = _EPSG.match(name)
    if match is None:
        raise InvalidInput(
            "crs_unknown",
            "Unknown coordinate system %(crs)s: use wgs84, cgcs2000, gcj02, bd09 or EPSG:nnnn",
            crs=name,
        )
    return _checked_epsg(int(match[1]))


@cache
def _epsg_crs(code: int) -> CRS | None:
    """The PROJ definition of an EPSG code, or None when PROJ does not know it."""
    try:
        return CRS.from_epsg(code)
    except CRSError:
        return None


def _checked_epsg(code: int) -> int:
    """The code, when PROJ knows it as a geographic or projected 2D system."""
    crs = _epsg_crs(code)
    if crs is None:
        raise InvalidInput(
            "crs_unknown", "EPSG:%(code)s is not a coordinate system known to PROJ", code=code
        )
    if not (crs.is_geographic or crs.is_projected):
        raise InvalidInput(
            "crs_unsupported",
            "EPSG:%(code)s (%(name)s) is neither a geographic nor a projected coordinate system",
            code=code,
            name=crs.name,
        )
    return code


def system_label(system: SystemId) -> str:
    """The canonical name of a parsed system: "gcj02", "EPSG:4548"."""
    return f"EPSG:{system}" if isinstance(system, int) else system.value


def is_projected(system: SystemId) -> bool:
    """True when coordinates in the system are metres (x, y), not degrees."""
    if isinstance(system, Crs):
        return False
    crs = _epsg_crs(system)
    return crs is not None and crs.is_projected


def _pyproj(xy: FloatArray, source_epsg: int, target_epsg: int) -> FloatArray:
    """An (n, 2) array through a cached pyproj transformer."""
    x, y = transformer(source_epsg, target_epsg).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y]).astype(np.float64)


def _check_input(xy: FloatArray, system: SystemId) -> None:
    """Refuse non-finite values, and lon/lat out of range in a geographic system."""
    if not is_projected(system):
        coords.check_lonlat(xy)
    elif not np.all(np.isfinite(xy)):
        index = int(np.argmin(np.isfinite(xy).all(axis=1)))
        raise InvalidInput(
            "coordinate_not_finite",
            "Point %(index)s has a coordinate that is not a finite number",
            index=index,
        )


def _check_output(xy: FloatArray, source: SystemId, target: SystemId) -> FloatArray:
    """The converted points, or a refusal naming the first point PROJ could not convert."""
    finite = np.isfinite(xy).all(axis=1)
    if not np.all(finite):
        raise InvalidInput(
            "coordinate_not_convertible",
            "Point %(index)s cannot be converted from %(source)s to %(target)s",
            index=int(np.argmin(finite)),
            source=system_label(source),
            target=system_label(target),
        )
    return xy


def _stored(xy: FloatArray, system: SystemId) -> FloatArray:
    """Checked points in the stored CRS (CGCS2000 lon/lat, = WGS-84 at map precision)."""
    if isinstance(system, Crs):
        return coords.to_wgs84_array(xy, system)
    return xy.copy() if system == STORED_EPSG else _pyproj(xy, system, STORED_EPSG)


def _unstored(xy: FloatArray, system: SystemId) -> FloatArray:
    """Stored-CRS points expressed in another system."""
    if isinstance(system, Crs):
        return coords.from_wgs84_array(xy, system)
    return xy.copy() if system == STORED_EPSG else _pyproj(xy, STORED_EPSG, system)


def convert_points(xy: FloatArray, source: str, target: str) -> FloatArray:
    """An (n, 2) array from one system (named or EPSG:nnnn) into another, checked both ways."""
    src, dst = parse_system(source), parse_system(target)
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    _check_input(points, src)
    if isinstance(src, Crs) and isinstance(dst, Crs):
        return coords.convert_array(points, src, dst)
    if src == dst:
        return points.copy()
    return _check_output(_unstored(_check_output(_stored(points, src), src, dst), dst), src, dst)


def to_stored_geometry(geom: BaseGeometry, crs: str) -> BaseGeometry:
    """A geometry given in ``crs`` (named or EPSG:nnnn) in the stored CRS (EPSG:4490)."""
    return _convert_geometry(geom, crs, f"EPSG:{STORED_EPSG}")


def from_stored_geometry(geom: BaseGeometry, crs: str) -> BaseGeometry:
    """A stored-CRS geometry expressed in ``crs`` (named or EPSG:nnnn)."""
    return _convert_geometry(geom, f"EPSG:{STORED_EPSG}", crs)


def _convert_geometry(geom: BaseGeometry, source: str, target: str) -> BaseGeometry:
    """Every coordinate of a geometry converted at once (2D)."""
    # Refuse a bad name even when the geometry is empty and ``apply`` never runs.
    parse_system(source)
    parse_system(target)

    def apply(xy: np.ndarray) -> np.ndarray:
        return convert_points(xy, source, target)

    return shapely.transform(geom, apply)
