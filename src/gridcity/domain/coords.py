"""WGS-84 ↔ GCJ-02 ("Mars coordinates") ↔ BD-09 (Baidu), for basemaps and for input from
Chinese map apps.

Our geometries are stored in CGCS2000 (EPSG:4490), which agrees with WGS-84 to a few
centimetres, so the WGS-84 formulas apply to them unchanged: "cgcs2000" and "wgs84" are the
same system at map precision. The GCJ-02 formula is the widely published one (Krasovsky
ellipsoid constants, polynomial + sine series); BD-09 is GCJ-02 with a further published
polar-coordinate twist and offset. Neither has a closed-form inverse: both are inverted by
fixed-point iteration to about 0.1 mm. Points outside the rectangle that the published
formula uses for mainland China are returned unchanged by every conversion (the oracles
``coord_convert`` and ``prcoords`` apply the BD-09 twist everywhere; we leave foreign points
alone so that every conversion stays invertible and a foreign point never moves).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from gridcity.domain.errors import InvalidInput

_A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid, as the formula uses it
_EE = 0.00669342162296594323  # its first eccentricity squared
# Longitude/latitude rectangle within which the shift is applied (west, south, east, north).
CHINA_RECT = (73.66, 3.86, 135.05, 53.55)
# Iteration stops when a step moves the point less than this (degrees, ≈ 0.1 mm).
_INVERSE_STEP = 1e-9
_INVERSE_MAX_ROUNDS = 30
# The BD-09 twist: radius and angle perturbations at this angular frequency, then an offset.
_BD_X_PI = math.pi * 3000.0 / 180.0
_BD_D_LON = 0.0065
_BD_D_LAT = 0.006

FloatArray = NDArray[np.float64]
Conversion = Callable[[FloatArray], FloatArray]


class Crs(StrEnum):
    """The lon/lat coordinate systems the domain converts between."""

    WGS84 = "wgs84"
    CGCS2000 = "cgcs2000"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def crs_named(name: str) -> Crs | None:
    """The system called ``name`` (case, '-' and '_' ignored: "GCJ-02" is gcj02), else None."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    return Crs(key) if key in Crs.__members__.values() else None


def parse_crs(name: str) -> Crs:
    """The system called ``name``, or a refusal naming the systems we know."""
    crs = crs_named(name)
    if crs is None:
        raise InvalidInput(
            "crs_unknown",
            "Unknown coordinate system %(crs)s: use wgs84, cgcs2000, gcj02 or bd09",
            crs=name,
        )
    return crs


def check_lonlat(xy: FloatArray) -> None:
    """Refuse the first point that is not a finite longitude (±180°) and latitude (±90°)."""
    points = _points(xy)
    good = (np.abs(points[:, 0]) <= 180.0) & (np.abs(points[:, 1]) <= 90.0)
    if not np.all(good):
        index = int(np.argmin(good))
        raise InvalidInput(
            "coordinate_out_of_range",
            "Point %(index)s (%(lon)s, %(lat)s) is not a longitude/latitude: longitude must lie within ±180° and latitude within ±90°",
            index=index,
            lon=float(points[index, 0]),
            lat=float(points[index, 1]),
        )


def _offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 shift (degrees of longitude, latitude) at WGS-84 points."""
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    waves = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += waves
    d_lat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += waves
    d_lon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def _inside(lon: FloatArray, lat: FloatArray) -> NDArray[np.bool_]:
    """True where a point lies in the rectangle in which GCJ-02 differs from WGS-84."""
    west, south, east, north = CHINA_RECT
    return (lon > west) & (lon < east) & (lat > south) & (lat < north)


def _points(xy: FloatArray) -> FloatArray:
    """The input as a float (n, 2) array."""
    return np.asarray(xy, dtype=np.float64).reshape(-1, 2)


def _invert(forward: Conversion, xy: FloatArray, first_guess: FloatArray) -> FloatArray:
    """The points that ``forward`` maps onto ``xy``, by fixed-point iteration."""
    target = _points(xy)
    guess = first_guess
    for _ in range(_INVERSE_MAX_ROUNDS):
        step = forward(guess) - target
        guess = guess - step
        if not np.any(np.abs(step) >= _INVERSE_STEP):
            break
    # A point whose answer lies outside the rectangle was never shifted.
    return np.where(_inside(guess[:, 0], guess[:, 1])[:, None], guess, target)


def wgs84_to_gcj02_array(xy: FloatArray) -> FloatArray:
    """GCJ-02 coordinates of an (n, 2) array of WGS-84 lon/lat; outside China unchanged."""
    points = _points(xy)
    lon, lat = points[:, 0], points[:, 1]
    d_lon, d_lat = _offset(lon, lat)
    inside = _inside(lon, lat)
    return np.column_stack((np.where(inside, lon + d_lon, lon), np.where(inside, lat + d_lat, lat)))


def gcj02_to_wgs84_array(xy: FloatArray) -> FloatArray:
    """WGS-84 coordinates of an (n, 2) array of GCJ-02 lon/lat, by fixed-point iteration."""
    return _invert(wgs84_to_gcj02_array, xy, _points(xy).copy())


def gcj02_to_bd09_array(xy: FloatArray) -> FloatArray:
    """BD-09 coordinates of an (n, 2) array of GCJ-02 lon/lat; outside China unchanged."""
    points = _points(xy)
    lon, lat = points[:, 0], points[:, 1]
    radius = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    inside = _inside(lon, lat)
    return np.column_stack(
        (
            np.where(inside, radius * np.cos(theta) + _BD_D_LON, lon),
            np.where(inside, radius * np.sin(theta) + _BD_D_LAT, lat),
        )
    )


def _bd09_to_gcj02_rough(xy: FloatArray) -> FloatArray:
    """The published one-step BD-09 → GCJ-02 formula (decimetres off): the iteration's start."""
    points = _points(xy)
    lon, lat = points[:, 0] - _BD_D_LON, points[:, 1] - _BD_D_LAT
    radius = np.sqrt(lon * lon + lat * lat) - 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) - 0.000003 * np.cos(lon * _BD_X_PI)
    return np.column_stack((radius * np.cos(theta), radius * np.sin(theta)))


def bd09_to_gcj02_array(xy: FloatArray) -> FloatArray:
    """GCJ-02 coordinates of an (n, 2) array of BD-09 lon/lat, by fixed-point iteration."""
    return _invert(gcj02_to_bd09_array, xy, _bd09_to_gcj02_rough(xy))


def wgs84_to_bd09_array(xy: FloatArray) -> FloatArray:
    """BD-09 coordinates of an (n, 2) array of WGS-84 lon/lat (through GCJ-02)."""
    return gcj02_to_bd09_array(wgs84_to_gcj02_array(xy))


def bd09_to_wgs84_array(xy: FloatArray) -> FloatArray:
    """WGS-84 coordinates of an (n, 2) array of BD-09 lon/lat (through GCJ-02)."""
    return gcj02_to_wgs84_array(bd09_to_gcj02_array(xy))


def _same(xy: FloatArray) -> FloatArray:
    """A copy: CGCS2000 and WGS-84 lon/lat are the same at map precision."""
    return _points(xy).copy()


# The two names of the stored lon/lat: no conversion between them.
_DATUM_TWINS = frozenset({Crs.WGS84, Crs.CGCS2000})
_TO_WGS84: dict[Crs, Conversion] = {
    Crs.WGS84: _same,
    Crs.CGCS2000: _same,
    Crs.GCJ02: gcj02_to_wgs84_array,
    Crs.BD09: bd09_to_wgs84_array,
}
_FROM_WGS84: dict[Crs, Conversion] = {
    Crs.WGS84: _same,
    Crs.CGCS2000: _same,
    Crs.GCJ02: wgs84_to_gcj02_array,
    Crs.BD09: wgs84_to_bd09_array,
}


def to_wgs84_array(xy: FloatArray, crs: str) -> FloatArray:
    """WGS-84 (= CGCS2000 at map precision) lon/lat of an (n, 2) array given in ``crs``."""
    return _TO_WGS84[parse_crs(crs)](xy)


def from_wgs84_array(xy: FloatArray, crs: str) -> FloatArray:
    """An (n, 2) array of WGS-84 (= CGCS2000) lon/lat expressed in ``crs``."""
    return _FROM_WGS84[parse_crs(crs)](xy)


def convert_array(xy: FloatArray, source: str, target: str) -> FloatArray:
    """An (n, 2) lon/lat array from one named system into another (exact copy when equal)."""
    src, dst = parse_crs(source), parse_crs(target)
    if src is dst or {src, dst} <= _DATUM_TWINS:
        return _same(xy)
    return _FROM_WGS84[dst](_TO_WGS84[src](xy))


def _scalar(convert: Conversion, lon: float, lat: float) -> tuple[float, float]:
    """Apply an array conversion to one point."""
    out = convert(np.array([[lon, lat]], dtype=np.float64))
    return float(out[0, 0]), float(out[0, 1])


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 lon/lat of a WGS-84 (or CGCS2000) point; outside China unchanged."""
    return _scalar(wgs84_to_gcj02_array, lon, lat)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 lon/lat of a GCJ-02 point, accurate to well under a centimetre."""
    return _scalar(gcj02_to_wgs84_array, lon, lat)


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 lon/lat of a GCJ-02 point; outside China unchanged."""
    return _scalar(gcj02_to_bd09_array, lon, lat)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 lon/lat of a BD-09 point, accurate to well under a centimetre."""
    return _scalar(bd09_to_gcj02_array, lon, lat)


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 lon/lat of a WGS-84 (or CGCS2000) point; outside China unchanged."""
    return _scalar(wgs84_to_bd09_array, lon, lat)


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 lon/lat of a BD-09 point, accurate to well under a centimetre."""
    return _scalar(bd09_to_wgs84_array, lon, lat)
